"""The demo generator: deterministic, realistic, labelled, role-checked."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from app.domain.errors import NotAllowed, ValidationError
from app.domain.names import fold
from app.domain.nominal import validate_nominal
from app.services import demo
from app.services.demo import DemoService, demo_truth, generate_demo
from app.services.nominals import NominalService
from app.store import nominals as repo
from tests.services.test_nominals_support import as_user

TODAY = date(2026, 6, 1)


@pytest.fixture
def nominals_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "STEPS", [s for s in demo.STEPS if s[0] == "nominals"])


def _all(vault) -> list:  # type: ignore[no-untyped-def]
    with vault.read() as s:
        return repo.load_many(s, list(range(1, repo.next_id(s))))


def test_same_seed_same_data(tmp_path: Path, store, nominals_only) -> None:  # type: ignore[no-untyped-def]
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    made = []
    for name in ("a", "b"):
        v, _ = create_vault(tmp_path / f"{name}.cwv", "alice", PASSPHRASE,
                            bind_to_terminal=False, secret_store=store)
        summary = generate_demo(v, 300, seed=3, today=TODAY)
        made.append(([(n.surname, n.forenames, n.dob, n.pnc, n.aliases, n.identifiers,
                       n.status) for n in _all(v)], summary.planted_duplicates))
        v.lock()
    assert made[0] == made[1]


def test_realistic_and_labelled(vault, nominals_only) -> None:  # type: ignore[no-untyped-def]
    summary = generate_demo(vault, 1000, seed=9, today=TODAY)
    records = _all(vault)
    assert len(records) == 1000 == NominalService(vault).count()
    assert len(summary.planted_duplicates) == 20
    assert len(summary.planted_faults) == 20  # some are duplicates without a dob
    assert {k for *_x, k in summary.planted_duplicates} == set(demo.DUPLICATE_KINDS)
    faulty = {ref for ref, _rule in summary.planted_faults}
    for record in records:
        if record.ref in faulty:
            continue
        errors = [p for p in validate_nominal(record, TODAY) if p.severity.value == "error"]
        assert errors == [], (record.ref, errors)
    # Many origins, with diacritics kept for display.
    assert any(fold(r.surname) != r.surname.lower() for r in records)
    assert len(Counter(r.force for r in records)) >= 5
    assert len(Counter(r.nominal_manager for r in records)) >= 8
    assert sum(1 for r in records if r.aliases) > 50
    statuses = Counter(r.status.value for r in records if r.status)
    assert statuses["custody"] > 200 and statuses["community"] > 300
    truth = demo_truth(vault)
    assert truth is not None and len(truth["duplicates"]) == 20


def test_one_audit_row_per_batch(vault, nominals_only) -> None:  # type: ignore[no-untyped-def]
    from app.services.audit import AuditService

    generate_demo(vault, 12_000 // 10, seed=1, today=TODAY)
    rows = [r for r in AuditService(vault).page() if r.action == "demo.nominals"]
    assert len(rows) == 1
    assert rows[0].category == "collection"
    assert rows[0].detail["first_ref"] == "NM-000001"
    assert rows[0].detail["last_ref"] == "NM-001200"


def test_demo_is_for_admins(vault, vault_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    coordinator = as_user(vault, vault_path, store, "carol", "coordinator")
    try:
        with pytest.raises(NotAllowed):
            DemoService(coordinator).generate(10, 1)
    finally:
        coordinator.lock()
    with pytest.raises(ValidationError):
        DemoService(vault).generate(-1, 1)

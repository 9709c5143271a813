"""The Prevent demo step: deterministic, seasonal, education the largest source, reviews due."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from app.domain.roles import Role
from app.services.demo_prevent import generate_prevent
from app.services.patterns import PatternService
from app.services.referrals import ReferralService, due_items
from app.services.vault import Vault
from tests.conftest import PASSPHRASE
from tests.services.test_referrals import as_role


def test_generated_referrals_look_like_a_region(vault: Vault) -> None:
    made = generate_prevent(vault, random.Random(11), 1200, today=date(2025, 6, 30))
    assert made.referrals == 1200 and made.institutions > 20 and made.intelligence == 300
    analyst = as_role(vault, Role.ANALYST)
    dash = PatternService(analyst).dashboard()
    sectors = {b.key: b.count for b in dash.breakdowns["source_sector"]}
    assert max(sectors, key=sectors.__getitem__) == "education"
    by_month: dict[int, int] = {}
    for bar in dash.breakdowns["month"]:
        by_month[int(bar.key[5:7])] = by_month.get(int(bar.key[5:7]), 0) + bar.count
    assert by_month[8] < 0.6 * by_month[10]  # the summer dip against the autumn term
    assert sum(by_month.values()) == 1200
    refs = ReferralService(analyst)
    assert refs.count() == 1200
    first = refs.show("PR-000001", today=date(2025, 6, 30))
    assert first.stage == "closed" and len(first.reviews) == 2
    assert [d.kind for d in first.decisions] == ["gateway", "outcome"]
    with analyst.read() as s:
        assert list(due_items(s, date(2025, 7, 1), date(2025, 12, 31)))
        # Outstanding reviews are recent, as a region that chases its reviews would have them.
        overdue = list(due_items(s, date(2015, 1, 1), date(2025, 6, 29)))
    assert 0 < len(overdue) < 60  # 8% of the reviews due in the last 120 days
    assert min(item.date for item in overdue) >= date(2025, 3, 2)  # at most 120 days late


def test_same_seed_same_referrals(vault: Vault, tmp_path: Path, store: object) -> None:
    from app.services.vault import create_vault

    other, _ = create_vault(tmp_path / "other.cwv", "alice", PASSPHRASE,
                            bind_to_terminal=False, secret_store=store)
    try:
        rows = []
        for v, seed in ((vault, 5), (other, 5)):
            generate_prevent(v, random.Random(seed), 60, today=date(2025, 6, 30))
            rows.append([(r.ref, r.received_at, r.subject, r.concern_type, r.stage)
                         for r in ReferralService(as_role(v, Role.ANALYST)).queue(limit=None)])
        assert rows[0] == rows[1] and len(rows[0]) == 60
    finally:
        other.lock()

"""Data-quality rules: the demo's planted faults are found, and each rule is checkable alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.domain.nominal import LicenceDates, Severity, Status
from app.services import demo
from app.services.duplicates import DuplicateService
from app.services.nominals import NominalService
from app.services.quality import RULES, QualityService, Rule, register_rule, rule_by_id
from app.store import nominals as repo
from app.store.models import utcnow
from tests.services.test_nominals_support import as_user, person


@pytest.fixture(scope="module")
def demo_vault(tmp_path_factory):  # type: ignore[no-untyped-def]
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    store = MemorySecretStore()
    path = tmp_path_factory.mktemp("quality") / "q.cwv"
    admin, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=store)
    saved = list(demo.STEPS)
    demo.STEPS[:] = [s for s in saved if s[0] == "nominals"]
    try:
        summary = demo.generate_demo(admin, 500, seed=5)
    finally:
        demo.STEPS[:] = saved
    yield admin, summary
    admin.lock()


def test_every_planted_fault_is_found_by_its_rule(demo_vault) -> None:  # type: ignore[no-untyped-def]
    vault, summary = demo_vault
    service = QualityService(vault)
    assert summary.planted_faults
    for ref, rule_id in summary.planted_faults:
        faults = {f.rule_id for f in service.faults_for(ref)}
        assert rule_id in faults, (ref, rule_id)
    counts = {c.rule.id: c.count for c in service.summary()}
    planted: dict[str, int] = {}
    for _ref, rule_id in summary.planted_faults:
        planted[rule_id] = planted.get(rule_id, 0) + 1
    for rule_id, n in planted.items():
        # Only planted faults trip a rule: generated records are otherwise clean.
        assert counts[rule_id] == n, rule_id
    refs = {r.ref for r in service.records_for("no_nominal_manager", 0, 1000)}
    assert refs == {ref for ref, rule in summary.planted_faults if rule == "no_nominal_manager"}


def test_duplicates_open_counts_records_in_unresolved_pairs(demo_vault) -> None:  # type: ignore[no-untyped-def]
    vault, summary = demo_vault
    service = QualityService(vault)
    assert {c.rule.id: c.count for c in service.summary()}["duplicates_open"] == 0
    DuplicateService(vault).scan()
    count = {c.rule.id: c.count for c in service.summary()}["duplicates_open"]
    assert count >= len(summary.planted_duplicates) * 2 * 0.9
    a, _b, _kind = summary.planted_duplicates[0]
    assert "duplicates_open" in {f.rule_id for f in service.faults_for(a)}


@pytest.fixture
def coord(vault, vault_path: Path, store):  # type: ignore[no-untyped-def]
    v = as_user(vault, vault_path, store, "carol", "coordinator")
    yield v
    v.lock()


def test_each_rule_on_hand_made_records(coord) -> None:  # type: ignore[no-untyped-def]
    today = date(2026, 6, 1)
    nominals = NominalService(coord)
    clean = nominals.add(person()).ref
    late = nominals.add(person(status=Status.CUSTODY, establishment="HMP Garth",
                               release_date=today - timedelta(days=10))).ref
    # Validation refuses inconsistent dates, so this one arrives as legacy data would.
    with coord.write() as s:
        odd = repo.insert_nominal(s, repo.next_id(s), person(dates=LicenceDates(
            crd=date(2020, 1, 1), led=date(2019, 1, 1))), "import", utcnow())
    bad_pnc = nominals.add(person(pnc="2009/0123456Z")).ref
    nobody = nominals.add(person(nominal_manager=None, force=None)).ref
    service = QualityService(coord, today=lambda: today)
    assert service.faults_for(clean) == []
    assert [f.rule_id for f in service.faults_for(late)] == ["status_not_current"]
    assert [f.rule_id for f in service.faults_for(odd)] == ["dates_inconsistent"]
    assert [f.rule_id for f in service.faults_for(bad_pnc)] == ["pnc_check_letter"]
    assert {f.rule_id for f in service.faults_for(nobody)} == {"mandatory_missing",
                                                              "no_nominal_manager"}
    # Fixing the record clears the fault.
    nominals.update(odd, replace(nominals.get(odd), dates=LicenceDates()))
    assert service.faults_for(odd) == []
    assert service.records_for("dates_inconsistent") == []
    assert service.faults_for(odd) == []


def test_rules_are_registered_in_one_place() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert {"duplicates_open", "mandatory_missing", "dates_inconsistent", "pnc_check_letter",
            "status_not_current", "no_nominal_manager"} <= set(ids)
    with pytest.raises(ValueError):
        Rule("x", "x", "x", Severity.ERROR)
    extra = Rule("test_always", "Always", "for the test", Severity.WARNING,
                 sql=lambda ctx: __import__("sqlalchemy").true())
    register_rule(extra)
    try:
        assert rule_by_id("test_always") is extra
    finally:
        RULES.remove(extra)


def test_pnc_rule_in_sql_agrees_with_the_domain_check(coord) -> None:  # type: ignore[no-untyped-def]
    from app.domain.pnc import CHECK_LETTERS, make_pnc, parse_pnc

    written: list[str] = []
    for year, serial in ((2009, 123456), (1999, 7), (2000, 9999999), (2026, 4242), (1985, 1)):
        good = make_pnc(year, serial)
        wrong = good[:-1] + CHECK_LETTERS[(CHECK_LETTERS.index(good[-1]) + 5) % 23]
        written += [good, wrong, f"{year % 100:02d}/{serial}{good[-1]}",
                    f"{year % 100:02d}/{serial}{wrong[-1]}"]
    written += ["not a pnc", "2009/12A", ""]
    refs: dict[str, str] = {}
    # Inserted as legacy data would arrive: validation would refuse the unparseable ones.
    with coord.write() as s:
        for pnc in written:
            refs[repo.insert_nominal(s, repo.next_id(s), person(pnc=pnc), "import",
                                     utcnow())] = pnc
    expected = {ref for ref, pnc in refs.items()
                if (parsed := parse_pnc(pnc)) is None or not parsed.check_ok}
    assert 0 < len(expected) < len(refs)
    service = QualityService(coord, today=lambda: date(2026, 6, 1))
    found = {r.ref for r in service.records_for("pnc_check_letter", 0, 1000)}
    assert found == expected
    counts = {c.rule.id: c.count for c in service.summary()}
    assert counts["pnc_check_letter"] == len(expected)
    for ref in refs:
        faults = {f.rule_id for f in service.faults_for(ref)}
        assert ("pnc_check_letter" in faults) == (ref in expected), refs[ref]


def test_summary_is_one_pass_and_agrees_with_each_rules_records(demo_vault) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    vault, _summary = demo_vault
    service = QualityService(vault)
    with vault.read() as s:
        engine = s.get_bind()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        counts = service.summary()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    python_rules = [r for r in RULES if r.python is not None]
    reading_nominal = [st for st in statements if "FROM nominal" in st]
    assert len(reading_nominal) <= 1 + len(python_rules), statements
    assert any(c.count for c in counts)
    for c in counts:
        assert c.count == len(service.records_for(c.rule.id, 0, 100_000)), c.rule.id

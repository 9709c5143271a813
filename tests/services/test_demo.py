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


# --- the bulk load: stored rows, schema, search -------------------------------------------------

_STORED = (
    # Every stored column but the load's clock (created_at, updated_at, revision.at), with the
    # storage class of the typed ones, so that a change of representation shows too.
    "SELECT n.*, typeof(n.dob), typeof(n.erased), typeof(n.created_at), length(n.created_at) "
    "FROM nominal n ORDER BY id",
    "SELECT * FROM nominal_alias ORDER BY id",
    "SELECT * FROM nominal_identifier ORDER BY id",
    "SELECT * FROM nominal_address ORDER BY id",
    "SELECT entity, record_id, user, action, reason, changes FROM revision ORDER BY id",
    "SELECT rowid, keys FROM nominal_search ORDER BY rowid",
    f"SELECT value FROM setting WHERE key = '{demo.TRUTH_SETTING}'",
)
_CLOCK = {"created_at", "updated_at"}


def _stored_digest(vault) -> str:  # type: ignore[no-untyped-def]
    import hashlib

    digest = hashlib.sha256()
    with vault.read() as s:
        conn = s.connection()
        for sql in _STORED:
            result = conn.exec_driver_sql(sql)
            keep = [i for i, name in enumerate(result.keys()) if name not in _CLOCK]
            rows = [tuple(row[i] for i in keep) for row in result]
            assert rows, sql
            digest.update(repr(rows).encode())
    return digest.hexdigest()


def _schema(vault) -> set[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    with vault.read() as s:
        return {tuple(r) for r in s.connection().exec_driver_sql(  # type: ignore[misc]
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite_stat%'")}


def test_same_seed_same_stored_rows(tmp_path: Path, store, nominals_only) -> None:  # type: ignore[no-untyped-def]
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    digests, summaries = [], []
    for name in ("a", "b", "c"):
        v, _ = create_vault(tmp_path / f"{name}.cwv", "alice", PASSPHRASE,
                            bind_to_terminal=False, secret_store=store)
        summaries.append(generate_demo(v, 300, seed=7 if name != "c" else 8, today=TODAY))
        digests.append(_stored_digest(v))
        v.lock()
    assert digests[0] == digests[1]
    assert digests[2] != digests[0]  # the digest does see the data
    first = summaries[0]
    assert first.planted_duplicates == summaries[1].planted_duplicates
    assert first.planted_faults == summaries[1].planted_faults
    # About 2% each, of every kind.
    assert len(first.planted_duplicates) == 6 and len(first.planted_faults) == 6
    assert {k for *_x, k in first.planted_duplicates} == set(demo.DUPLICATE_KINDS)


def test_schema_after_a_load_is_a_fresh_vaults(tmp_path: Path, store, nominals_only) -> None:  # type: ignore[no-untyped-def]
    """The load drops the secondary indexes and builds them again: none lost or changed."""
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    fresh, _ = create_vault(tmp_path / "fresh.cwv", "alice", PASSPHRASE,
                            bind_to_terminal=False, secret_store=store)
    loaded, _ = create_vault(tmp_path / "loaded.cwv", "alice", PASSPHRASE,
                             bind_to_terminal=False, secret_store=store)
    try:
        expected = _schema(fresh)
        indexes = {row for row in expected if row[0] == "index" and row[2] == "nominal"}
        assert len(indexes) == 26  # 25 declared and the UNIQUE ref's
        generate_demo(loaded, 300, seed=7, today=TODAY)
        assert _schema(loaded) == expected
        # A second, smaller load into the same vault keeps the indexes in place.
        generate_demo(loaded, 100, seed=8, today=TODAY)
        assert _schema(loaded) == expected
        with loaded.read() as s:
            assert s.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert repo.next_id(s) == 401
    finally:
        fresh.lock()
        loaded.lock()


def test_deferred_indexes(vault) -> None:  # type: ignore[no-untyped-def]
    from tests.services.test_nominals_support import person

    def names(s) -> set[str]:  # type: ignore[no-untyped-def]
        return {r[0] for r in s.connection().exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'nominal'")}

    with vault.read() as s:
        before = names(s)
    with vault.write() as s, repo.deferred_indexes(s, 10) as deferred:
        assert "ix_nominal_live_sort_name" in deferred and "ix_nominal_dead" in deferred
        assert "sqlite_autoindex_nominal_1" not in deferred  # a constraint's: stays
        assert names(s) == {"sqlite_autoindex_nominal_1"}
    with vault.read() as s:
        assert names(s) == before
    # An error inside: the transaction rolls back, and the DROPs with it.
    with pytest.raises(RuntimeError), vault.write() as s, repo.deferred_indexes(s, 10):
        raise RuntimeError("boom")
    with vault.read() as s:
        assert names(s) == before
    # A table holding more rows than are arriving keeps its indexes.
    with vault.write() as s:
        for i in range(1, 4):
            repo.insert_nominal(s, i, person(), "alice", demo.utcnow())
    with vault.write() as s, repo.deferred_indexes(s, 2) as deferred:
        assert not set(deferred) & before
        assert names(s) == before


def test_bulk_insert_stores_what_the_orm_stores(vault) -> None:  # type: ignore[no-untyped-def]
    """Tuples through the driver: the same stored text and types as an ORM insert."""
    from datetime import datetime

    from sqlalchemy import insert

    from app.store.models import Nominal as NominalRow
    from tests.services.test_nominals_support import person

    record = person(dob=date(1984, 2, 29), notes="n", mappa_level=None)
    now = datetime(2026, 6, 1, 9, 30, 0, 120)
    rows = []
    for nominal_id in (1, 2):
        values = repo.column_values(record)
        values.update(id=nominal_id, ref=f"NM-{nominal_id:06d}", created_at=now,
                      created_by="alice", updated_at=now, updated_by="alice",
                      merged_into_id=None, merged_at=None)
        rows.append(values)
    columns = [c.name for c in NominalRow.__table__.c]
    with vault.write() as s:
        s.execute(insert(NominalRow), [rows[0]])
        repo.BulkInsert(s, NominalRow, tuple(rows[1])).execute(s, [rows[1]])
        probe = ", ".join(f"{c}, typeof({c})" for c in columns if c not in ("id", "ref"))
        orm, bulk = (tuple(s.connection().exec_driver_sql(
            f"SELECT {probe} FROM nominal WHERE id = ?", (i,)).one()) for i in (1, 2))
    assert orm == bulk
    assert "2026-06-01 09:30:00.000120" in bulk and "1984-02-29" in bulk
    with vault.write() as s, pytest.raises(ValueError):
        repo.BulkInsert(s, NominalRow, ("id", "ref", "surname"))  # leaves out defaults


def test_every_loaded_record_is_found(vault, nominals_only) -> None:  # type: ignore[no-untyped-def]
    """The search index holds each record's keys, as an edit would write them."""
    summary = generate_demo(vault, 2000, seed=7, today=TODAY)
    records = _all(vault)
    with vault.read() as s:
        stored = dict(s.connection().exec_driver_sql("SELECT rowid, keys FROM nominal_search")
                      .all())
    assert len(stored) == len(records) == 2000
    for record in records:
        number = int(record.ref[3:])
        assert stored[number] == repo.search_text(record.ref, record), record.ref
    service = NominalService(vault)
    with_alias = [r for r in records if r.aliases and r.dob is not None]
    for record in records[::97] + with_alias[:10]:
        assert [row.ref for row in service.search(record.ref)] == [record.ref]
        if record.pnc_normalised:
            assert record.ref in {row.ref for row in service.search(record.pnc_normalised)}
        if record.dob is not None and record.forenames:
            query = f"{record.forenames} {record.surname} {record.dob.isoformat()}"
            assert record.ref in {row.ref for row in service.search(query)}, record.ref
    for record in with_alias[:10]:
        alias = record.aliases[0]
        assert record.dob is not None
        query = f"{alias.surname} {alias.forenames} {record.dob.isoformat()}"
        assert record.ref in {row.ref for row in service.search(query)}, record.ref
    # Planted copies are in the list and found by their own ref.
    for _original, copy, _kind in summary.planted_duplicates:
        assert [row.ref for row in service.search(copy)] == [copy]


def test_overdue_notifications_are_recent_and_institutions_distinct(vault) -> None:  # type: ignore[no-untyped-def]
    """Real coordinators chase a missed re-notification and close an ended requirement: the
    demo's Today view shows only recent, few overdue notification items. The institutions
    register names each institution once, told apart by part of town, never by a number."""
    from sqlalchemy import select

    from app.services.calendar import CalendarService
    from app.store.models import Institution

    today = date(2026, 11, 25)
    generate_demo(vault, 1500, seed=7, today=today)
    expiring = CalendarService(vault).today_summary(today=today, limit=200).expiring
    overdue = [i for i in expiring.items
               if i.date < today and i.kind in ("notification_due", "order_expiry")]
    assert expiring.complete
    assert len(overdue) <= 10, overdue
    assert all((today - i.date).days <= 120 for i in overdue), overdue
    with vault.read() as s:
        names = list(s.scalars(select(Institution.name)))
    assert len(names) > 20
    assert len(set(names)) == len(names)
    assert len({fold(n) for n in names}) == len(names)
    assert not [n for n in names if "(" in n]

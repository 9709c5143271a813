"""The list's paging: keyset (``after``) pages agree with offset pages in every order, and the
count and page queries are answered from an index (no table scan, no sort)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event

from app.domain.errors import ValidationError
from app.domain.nominal import NominalFilter, RiskLevel, SortKey, Status
from app.services.nominals import NominalService
from tests.services.test_nominals_support import as_user, person

SURNAMES = ("Okafor", "Pritchard", "Nowak", "okafor", "Lindqvist", "Ó Súilleabháin")
MANAGERS = ("DC Imogen Thursby", None, "DS Osian Trevelyan")
STATUSES = (Status.CUSTODY, Status.COMMUNITY, None)
RISKS = (RiskLevel.HIGH, None, RiskLevel.LOW, RiskLevel.MEDIUM)


@pytest.fixture(scope="module")
def listing(tmp_path_factory):  # type: ignore[no-untyped-def]
    """40 synthetic records with ties and NULLs in every sortable column."""
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    store = MemorySecretStore()
    path = tmp_path_factory.mktemp("paging") / "paging.cwv"
    admin, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=store)
    coordinator = as_user(admin, path, store, "carol", "coordinator")
    admin.lock()
    service = NominalService(coordinator)
    records = []
    for i in range(40):
        status = STATUSES[i % 3]
        records.append(person(
            SURNAMES[i % len(SURNAMES)], "Gethin" if i % 4 else "Aled",
            dob=None if i % 7 == 0 else date(1980 + i % 5, 1 + i % 12, 1),
            pnc=None,
            status=status,
            release_date=None if i % 5 == 0 or status is not Status.CUSTODY
            else date(2031, 1 + i % 3, 1),
            risk_level=RISKS[i % 4],
            nominal_manager=MANAGERS[i % 3],
            force=None if i % 6 == 0 else "Thames Valley Police",
        ))
    service.add_many(records)
    yield service
    coordinator.lock()


def _walk(service: NominalService, flt: NominalFilter, key: SortKey, descending: bool,
          size: int) -> list[str]:
    refs: list[str] = []
    after: str | None = None
    while True:
        rows = service.page(flt, key, descending, limit=size, after=after)
        refs.extend(r.ref for r in rows)
        if len(rows) < size:
            return refs
        after = rows[-1].ref


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("key", list(SortKey))
def test_keyset_pages_walk_the_same_order_as_offset_pages(listing: NominalService,
                                                          key: SortKey,
                                                          descending: bool) -> None:
    for flt in (NominalFilter(), NominalFilter(status="custody")):
        whole = [r.ref for r in listing.page(flt, key, descending, limit=1000)]
        assert len(whole) == listing.count(flt) > 0
        assert len(set(whole)) == len(whole)
        for size in (1, 7):
            assert _walk(listing, flt, key, descending, size) == whole, (flt, size)
        by_offset = [r.ref for offset in range(0, len(whole), 7)
                     for r in listing.page(flt, key, descending, offset=offset, limit=7)]
        assert by_offset == whole


def test_after_the_last_row_is_an_empty_page(listing: NominalService) -> None:
    last = listing.page(sort_key=SortKey.NAME, limit=1000)[-1]
    assert listing.page(sort_key=SortKey.NAME, after=last.ref) == []


def test_an_unknown_cursor_is_refused_by_name(listing: NominalService) -> None:
    for bad in ("NM-999999", "not a ref"):
        with pytest.raises(ValidationError) as caught:
            listing.page(after=bad)
        assert caught.value.field == "after"


@contextmanager
def _statements(service: NominalService) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    with service.vault.read() as s:
        engine = s.get_bind()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plans(service: NominalService, call: Callable[[], object]) -> list[str]:
    with _statements(service) as seen:
        call()
    assert seen
    out = []
    with service.vault.read() as s:
        conn = s.connection()
        for statement, parameters in seen:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            out.append(" | ".join(str(r[3]) for r in rows))
    return out


@pytest.mark.parametrize("flt", [NominalFilter(), NominalFilter(status="custody"),
                                 NominalFilter(force="Thames Valley Police"),
                                 NominalFilter(nominal_manager="DS Osian Trevelyan"),
                                 NominalFilter(risk_level="high")])
def test_counts_read_a_covering_index_only(listing: NominalService,
                                           flt: NominalFilter) -> None:
    (plan,) = _plans(listing, lambda: listing.count(flt))
    assert "COVERING INDEX" in plan, plan
    assert "SCAN nominal" not in plan.replace("USING COVERING INDEX", ""), plan


@pytest.mark.parametrize("key", list(SortKey))
def test_a_deep_page_skips_index_entries_not_table_rows(listing: NominalService,
                                                        key: SortKey) -> None:
    plans = _plans(listing, lambda: listing.page(sort_key=key, offset=20, limit=5))
    # The ids come from the sort column's index alone, already in order; then 5 rows by id.
    assert "COVERING INDEX" in plans[0] and "TEMP B-TREE" not in plans[0], plans[0]
    assert all("SCAN" not in p for p in plans[1:]), plans


def test_keyset_page_seeks_its_index_without_sorting(listing: NominalService) -> None:
    after = listing.page(offset=20, limit=1)[0].ref
    plans = _plans(listing, lambda: listing.page(after=after, limit=5))
    assert any("COVERING INDEX ix_nominal_live_sort_name" in p and "TEMP B-TREE" not in p
               for p in plans), plans


def test_offset_paging_still_serves_existing_callers(listing: NominalService) -> None:
    whole = [r.ref for r in listing.page(sort_key=SortKey.DOB, limit=1000)]
    assert [r.ref for r in listing.page(sort_key=SortKey.DOB, offset=10, limit=5)] == \
        whole[10:15]
    assert listing.page(sort_key=SortKey.DOB, offset=len(whole), limit=5) == []

"""The calendar's bulk path and keyset pages: ``items()`` (built column by column) and the
agenda's pages (per-source keyset queries, merged) give exactly the items a plain row-by-row
reading of every source gives, in the same order, on a demo vault and on hand-made ties."""

from __future__ import annotations

import gc
import pickle
from collections.abc import Iterable
from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import ValidationError
from app.domain.nominal import LicenceDates, format_ref
from app.domain.rules import DueItem
from app.services.calendar import (
    SOURCES,
    CalendarCursor,
    CalendarFilters,
    CalendarService,
    _items_from,
    _resolve,
    calendar_source,
)
from app.services.demo import generate_demo
from app.services.engagement import EngagementService
from app.services.vault import Vault
from app.store.models import ContactPlan, Nominal
from tests.services.test_engagement import add_nominal, coord, users  # noqa: F401

TODAY = date(2026, 11, 25)


def reference_items(
    v: Vault, start: date, end: date, filters: CalendarFilters, sources: Iterable[str] = SOURCES
) -> list[DueItem]:
    """The straightforward reading: every source function called on its own (row by row,
    validating constructor), the kinds asked for kept, sorted on the calendar's full key."""
    with v.read() as s:
        items = [
            item
            for path in sources
            for item in _resolve(path)(s, start, end, filters)
            if filters.wants(item.kind)
        ]
    return sorted(items, key=lambda i: (i.date, i.kind, i.ref, i.title))


def keyset_pages(cal: CalendarService, start: date, end: date, limit: int,
                 **filters: Any) -> list[DueItem]:
    """Every page of a range, each fetched with the previous page's cursor."""
    page = cal.items_page(start, end, limit=limit, **filters)
    got = list(page.items)
    while page.next is not None:
        assert page.next.offset == len(got)
        page = cal.items_page(start, end, limit=limit, after=page.next, **filters)
        assert page.offset == len(got) - 0 and len(page.items) <= limit
        got.extend(page.items)
    assert page.total == len(got)
    return got


def test_items_built_in_bulk_are_ordinary_items() -> None:
    day = date(2026, 1, 5)
    built = _items_from(2, [day, day], "contact_due", ["NM-000001", "NM-000002"], ["a", "b"])
    plain = [DueItem(day, "contact_due", "NM-000001", "a"),
             DueItem(day, "contact_due", "NM-000002", "b")]
    assert built == plain
    assert [hash(i) for i in built] == [hash(i) for i in plain]
    assert [repr(i) for i in built] == [repr(i) for i in plain]
    assert type(built[0]) is DueItem
    assert pickle.loads(pickle.dumps(built)) == plain
    with pytest.raises(FrozenInstanceError):
        built[0].title = "changed"  # type: ignore[misc]
    with pytest.raises(ValueError):
        _items_from(1, [day], "birthday", ["NM-000001"], ["x"])


def test_refs_made_in_bulk_match_format_ref() -> None:
    from app.services.calendar import _REF_FORMAT

    for number in (1, 9, 10, 123, 99_999, 100_000, 999_999):
        assert _REF_FORMAT % number == format_ref(number)


def test_demo_vault_items_match_the_reference_and_the_pages(vault: Vault) -> None:
    generate_demo(vault, 250, seed=5, today=TODAY)
    cal = CalendarService(vault)
    ranges = [
        (TODAY, TODAY + timedelta(days=89)),
        (TODAY - timedelta(days=400), TODAY - timedelta(days=1)),
        (TODAY, TODAY),
    ]
    some_manager = cal.filter_choices()[0][0]
    filter_sets: list[dict[str, Any]] = [
        {},
        {"kinds": ["licence_date", "notification_due"]},
        {"manager": some_manager},
    ]
    seen_kinds: set[str] = set()
    for start, end in ranges:
        for filters in filter_sets:
            items = cal.items(start, end, **filters)
            wanted = CalendarService._filters(
                filters.get("kinds"), filters.get("manager"), None, open_only=False)
            assert items == reference_items(vault, start, end, wanted), (start, filters)
            seen_kinds |= {i.kind for i in items}
            for limit in ((1, 3) if len(items) < 40 else (37, 500)):
                assert keyset_pages(cal, start, end, limit, **filters) == items, limit
            # Offset pages (through the day counts) agree too.
            if items:
                middle = len(items) // 2
                page = cal.items_page(start, end, offset=middle, limit=25, **filters)
                assert list(page.items) == items[middle:middle + 25]
    assert len(items := cal.items(*ranges[0])) > 200
    assert {"contact_due", "licence_date", "notification_due"} <= seen_kinds
    # An independent reading of one kind: plans of live nominals due in the range.
    start, end = ranges[0]
    with vault.read() as s:
        rows = s.execute(
            select(ContactPlan.next_due, Nominal.ref, ContactPlan.frequency_days)
            .join(Nominal, Nominal.id == ContactPlan.nominal_id)
            .where(ContactPlan.next_due >= start, ContactPlan.next_due <= end,
                   Nominal.merged_into_id.is_(None), Nominal.erased.is_(False))
        ).all()
    expected = sorted((d, ref, f"Contact due (every {days} days)") for d, ref, days in rows)
    assert [(i.date, i.ref, i.title) for i in items if i.kind == "contact_due"] == expected


@calendar_source("action_due")
def twin_actions(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Two identical items and a third on the same day: a page edge may fall between them."""
    day = date(2025, 6, 10)
    if start <= day <= end and filters.wants("action_due"):
        yield DueItem(day, "action_due", "ACT-000001", "Chase probation")
        yield DueItem(day, "action_due", "ACT-000001", "Chase probation")
        yield DueItem(day, "action_due", "ACT-000002", "Book room")


def test_pages_split_ties_and_identical_items_correctly(coord: Vault) -> None:  # noqa: F811
    eng = EngagementService(coord)
    day = date(2025, 6, 10)
    for n in range(3):
        # LED and SED on the same day: two items with the same date, kind and ref.
        ref = add_nominal(coord, dates=LicenceDates(led=day, sed=day))
        eng.log_contact(ref, datetime(2025, 5, 27, 9, n), "phone", "DC Example", "made")
        eng.add_order(ref, "TPIM", date(2024, 6, 11 + n))
        # Several open notifications of one nominal due on one day, two of them identical:
        # one arm's rows share (date, nominal), so a page edge may fall inside them.
        req = eng.add_notification(ref, date(2025, 1, 2), sentence_months=30)
        for kind in ("change", "release", "change"):
            eng.add_notification_event(req.id, kind, date(2025, 7, 1))
    sources = [*SOURCES, "tests.services.test_calendar_bulk:twin_actions"]
    cal = CalendarService(coord, sources=sources)
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    items = cal.items(start, end)
    assert items == reference_items(coord, start, end, CalendarFilters(), sources)
    assert items.count(DueItem(day, "action_due", "ACT-000001", "Chase probation")) == 2
    titles = [i.title for i in items if i.kind == "licence_date"]
    assert titles == ["LED (licence end date)", "SED (sentence end date)"] * 3
    notified = [i for i in items if i.kind == "notification_due" and "(3 days)" in i.title
                and i.date > date(2025, 7, 1)]
    assert len(notified) == 9 and len(set(notified)) == 6
    for limit in (1, 2, 3, 4, 5, 8):
        assert keyset_pages(cal, start, end, limit) == items, limit


def test_a_cursor_must_come_from_a_page(coord: Vault) -> None:  # noqa: F811
    cal = CalendarService(coord)
    with pytest.raises(ValidationError):
        cal.items_page(date(2025, 1, 1), date(2025, 2, 1), after=("2025-01-01", 3))  # type: ignore[arg-type]
    # A cursor past everything gives an empty last page.
    late = CalendarCursor((date(2025, 3, 1), "zzz", "", ""), 0, 10)
    page = cal.items_page(date(2025, 1, 1), date(2025, 2, 1), after=late)
    assert page.items == () and page.next is None and page.offset == 10


def test_the_garbage_collector_is_left_as_it_was(coord: Vault) -> None:  # noqa: F811
    ref = add_nominal(coord)
    EngagementService(coord).log_contact(ref, datetime(2025, 1, 2, 10, 0), "phone", "DC Example",
                                         "made")
    cal = CalendarService(coord)
    assert gc.isenabled()
    assert cal.items(date(2025, 1, 1), date(2025, 12, 31))
    assert gc.isenabled()
    gc.disable()
    try:
        cal.items(date(2025, 1, 1), date(2025, 12, 31))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_refs_joined_by_the_database_split_into_formatted_refs() -> None:
    from app.services.calendar import _REF_OFFSET, _refs_of_offset_ids

    numbers = [1, 9, 10, 123, 99_999, 100_000, 999_999]
    joined = ",".join(str(n + _REF_OFFSET) for n in numbers)
    assert _refs_of_offset_ids(joined) == [format_ref(n) for n in numbers]
    assert _refs_of_offset_ids(str(5 + _REF_OFFSET)) == ["NM-000005"]


def test_contacts_due_of_seven_digit_ids_keep_their_refs_and_order(
    coord: Vault,  # noqa: F811
) -> None:
    """Ids past 999,999 make seven-digit refs ("NM-1000000"), which sort before "NM-999999"
    as text: the grouped read must format them one by one and put the day in ref order."""
    from sqlalchemy import text

    first = add_nominal(coord)
    with coord.write() as s:
        columns = [row[1] for row in s.execute(text("PRAGMA table_info(nominal)"))]
        values = ", ".join(
            {"id": "999997", "ref": "'NM-999997'"}.get(c, c) for c in columns)
        s.execute(text(f"INSERT INTO nominal ({', '.join(columns)}) "
                       f"SELECT {values} FROM nominal WHERE ref = :ref"), {"ref": first})
    refs = [add_nominal(coord) for _ in range(4)]
    assert refs == ["NM-999998", "NM-999999", "NM-1000000", "NM-1000001"]
    eng = EngagementService(coord)
    for ref in [first, *refs]:
        eng.log_contact(ref, datetime(2025, 3, 3, 10, 0), "phone", "DC Example", "made")
    cal = CalendarService(coord)
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    items = cal.items(start, end, kinds=["contact_due"])
    assert items == reference_items(coord, start, end, CalendarFilters(frozenset({"contact_due"})))
    due = [i.ref for i in items]
    assert sorted(due) == due and set(due) == {first, *refs}
    assert len({i.date for i in items}) == 1


def test_runs_interleave_by_day_as_a_stable_sort_on_the_date() -> None:
    import random

    from app.services.calendar import _interleave_by_day

    rng = random.Random(7)
    kinds = ["action_due", "contact_due", "licence_date", "notification_due"]
    base = date(2026, 1, 1)
    for trial in range(50):
        runs = []
        for kind in kinds:
            n = rng.choice([0, 1, 5, 300]) if trial % 2 else rng.randint(0, 40)
            run = sorted((DueItem(base + timedelta(days=rng.randint(0, 30)), kind,  # type: ignore[arg-type]
                                  format_ref(rng.randint(1, 500)), rng.choice("ab"))
                          for _ in range(n)), key=lambda i: (i.date, i.kind, i.ref, i.title))
            runs.append(run)
        expected = sorted((i for run in runs for i in run), key=lambda i: i.date)
        assert _interleave_by_day(runs) == expected, trial

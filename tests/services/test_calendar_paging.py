"""The calendar at scale: per-day counts in SQL, pages of the agenda, the Today lists' first N
items with their counts and "show all" pages, and the indexed shape of every built-in query."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from app.domain.errors import ValidationError
from app.domain.nominal import LicenceDates
from app.services.calendar import CalendarFilters, CalendarService, _ranged
from app.services.engagement import EngagementService
from app.services.vault import Vault
from tests.services.test_engagement import add_nominal, coord, users  # noqa: F401

RANGE = (date(2025, 1, 1), date(2025, 12, 31))


def _fill(v: Vault) -> list[str]:
    """Nominals with contacts, notifications, orders and licence dates across 2025."""
    eng = EngagementService(v)
    refs = []
    for n in range(6):
        ref = add_nominal(
            v, nominal_manager="DC Alpha" if n % 2 else "DC Beta",
            force="North Force" if n < 3 else "South Force",
            dates=LicenceDates(led=date(2025, 9, 30 - n)),
        )
        eng.log_contact(ref, datetime(2025, 2, 1 + n, 10, 0), "phone", "DC Example", "made")
        if n % 3 == 0:
            eng.add_notification(ref, date(2025, 3, 1 + n), sentence_months=30)
            eng.add_order(ref, "TPIM", date(2025, 1, 10 + n))
            eng.add_order(ref, "FTRO", date(2025, 1, 15 + n))  # ends in July
        refs.append(ref)
    return refs


def test_day_counts_agree_with_the_items(coord: Vault) -> None:  # noqa: F811
    _fill(coord)
    cal = CalendarService(coord)
    for filters in ({}, {"kinds": ["contact_due", "licence_date"]}, {"manager": "DC Alpha"},
                    {"force": "South Force"}, {"manager": "DC Beta", "force": "North Force"}):
        items = cal.items(*RANGE, **filters)
        expected = Counter((i.date, i.kind) for i in items)
        counts = cal.day_counts(*RANGE, **filters)
        got = {(d, k): n for d, kinds in counts.items() for k, n in kinds.items()}
        assert got == dict(expected), filters
        assert list(counts) == sorted(counts)
    assert len({i.kind for i in cal.items(*RANGE)}) >= 5


def test_pages_of_the_agenda_add_up_to_the_items(coord: Vault) -> None:  # noqa: F811
    _fill(coord)
    cal = CalendarService(coord)
    everything = cal.items(*RANGE)
    assert len(everything) > 20
    pages = []
    offset = 0
    while True:
        page = cal.items_page(*RANGE, offset=offset, limit=7)
        assert page.total == len(everything) and page.offset == offset
        if not page.items:
            break
        pages.extend(page.items)
        offset += len(page.items)
    assert pages == everything
    only = cal.items_page(*RANGE, kinds=["licence_date"], offset=2, limit=3)
    assert list(only.items) == cal.items(*RANGE, kinds=["licence_date"])[2:5]
    with pytest.raises(ValidationError):
        cal.items_page(*RANGE, offset=-1)
    with pytest.raises(ValidationError):
        cal.items_page(*RANGE, limit=0)


def test_today_lists_carry_counts_and_the_first_items(coord: Vault) -> None:  # noqa: F811
    eng = EngagementService(coord)
    refs = [add_nominal(coord) for _ in range(5)]
    for n, ref in enumerate(refs):
        eng.log_contact(ref, datetime(2025, 1, 2 + n, 10, 0), "home_visit", "DC Example", "made")
    cal = CalendarService(coord)
    today = date(2025, 3, 1)
    full = cal.today_summary(today)
    assert full.overdue_contacts.count == 5 and full.overdue_contacts.complete
    short = cal.today_summary(today, limit=2)
    assert short.overdue_contacts.count == 5
    assert short.overdue_contacts.items == full.overdue_contacts.items[:2]
    assert not short.overdue_contacts.complete
    rest = cal.today_page("overdue_contacts", 2, 10, today=today)
    assert rest.total == 5
    assert short.overdue_contacts.items + rest.items == full.overdue_contacts.items
    assert [i.ref for i in full.overdue_contacts.items] == refs  # oldest due first
    with pytest.raises(ValidationError):
        cal.today_page("birthdays", 0, today=today)


def test_built_in_queries_read_dates_through_indexes(coord: Vault) -> None:  # noqa: F811
    """A full scan comparing these NUMERIC-affinity date columns with bound dates costs an
    allocation per comparison (an mlock/munlock pair under SQLCipher's memory security): every
    built-in query must be an index range scan instead."""
    _fill(coord)
    cal = CalendarService(coord)
    filters = CalendarFilters()
    with coord.read() as s:
        arms, _plain = cal._arms(s, filters)
        assert len(arms) >= 15
        dialect = s.get_bind().dialect
        for arm in arms:
            compiled = _ranged(arm, *RANGE, filters).compile(
                dialect=dialect, compile_kwargs={"render_postcompile": True})
            params = compiled.construct_params()
            values = tuple(
                params[k].isoformat() if isinstance(params[k], date) else params[k]
                for k in compiled.positiontup or ()
            )
            steps = [str(r[3]) for r in s.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled), values)]
            assert "INDEX" in steps[0], (arm.kind, str(arm.dated), steps)
            # The only scan allowed is of the tiny partial index of dead nominals.
            scans = [x for x in steps if x.startswith("SCAN") and "ix_nominal_dead" not in x]
            assert scans == [], (arm.kind, str(arm.dated), steps)


def test_filter_choices_list_managers_and_forces(coord: Vault) -> None:  # noqa: F811
    _fill(coord)
    managers, forces = CalendarService(coord).filter_choices()
    assert managers == ["DC Alpha", "DC Beta"]
    assert forces == ["North Force", "South Force"]


def test_lead_time_and_ranges_are_checked(coord: Vault) -> None:  # noqa: F811
    cal = CalendarService(coord)
    with pytest.raises(ValidationError):
        cal.day_counts(date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(ValidationError):
        cal.day_counts(date(2020, 1, 1), date(2020, 1, 1) + timedelta(days=366 * 5 + 1))
    with pytest.raises(ValidationError):
        cal.today_summary(date(2025, 1, 1), lead_days=-3)

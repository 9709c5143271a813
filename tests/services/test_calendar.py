"""The calendar service: items of every kind, filters, sort order, pluggable sources, and the
Today view's lists (an overdue contact leaves the list once a contact is logged)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.domain.errors import ValidationError
from app.domain.nominal import LicenceDates, RiskLevel, Status
from app.domain.rules import DueItem
from app.services.calendar import SOURCES, CalendarFilters, CalendarService, calendar_source
from app.services.engagement import EngagementService
from app.services.vault import Vault
from tests.services.test_engagement import add_nominal, coord, users  # noqa: F401

RANGE = (date(2025, 1, 1), date(2025, 12, 31))


@calendar_source("action_due", "referral_review")
def fake_other_sources(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Stands in for the meetings and Prevent capabilities' sources."""
    for d, kind, title in [
        (date(2025, 3, 1), "action_due", "Action: chase probation"),
        (date(2025, 3, 3), "referral_review", "6-month review"),
    ]:
        if start <= d <= end and filters.wants(kind):
            yield DueItem(d, kind, "NM-000001", title)  # type: ignore[arg-type]


def test_items_of_every_built_in_kind(coord: Vault) -> None:  # noqa: F811
    eng = EngagementService(coord)
    ref = add_nominal(coord, dates=LicenceDates(led=date(2025, 9, 30), crd=date(2024, 3, 1)))
    eng.log_contact(ref, datetime(2025, 1, 10, 10, 0), "home_visit", "DC Example", "made")
    eng.add_notification(ref, date(2025, 2, 1), sentence_months=30)
    eng.add_order(ref, "TPIM", date(2025, 1, 31))
    items = CalendarService(coord).items(*RANGE)
    got = {(i.date, i.kind, i.title) for i in items}
    assert (date(2025, 1, 24), "contact_due", "Contact due (every 14 days)") in got
    assert (date(2025, 2, 3), "notification_due", "Initial notification due (3 days)") in got
    assert (date(2025, 4, 30), "order_review", "TPIM notice review") in got
    assert (date(2025, 9, 30), "licence_date", "LED (licence end date)") in got
    assert all(i.ref == ref for i in items)
    # A CRD outside the range and the TPIM end (30 Jan 2026) are not in 2025.
    assert not any(i.kind == "order_expiry" for i in items)
    later = CalendarService(coord).items(date(2026, 1, 1), date(2026, 1, 31))
    assert [(i.date, i.kind) for i in later] == [(date(2026, 1, 30), "order_expiry")]
    assert later[0].title == "TPIM notice ends"
    assert items == sorted(items, key=lambda i: (i.date, i.kind, i.ref))


def test_filters_by_kind_manager_and_force(coord: Vault) -> None:  # noqa: F811
    eng = EngagementService(coord)
    a = add_nominal(coord, nominal_manager="DC Alpha", force="North Force")
    b = add_nominal(coord, nominal_manager="DC Beta", force="South Force")
    for ref in (a, b):
        eng.log_contact(ref, datetime(2025, 6, 2, 10, 0), "phone", "DC Example", "made")
        eng.add_order(ref, "FTRO", date(2025, 1, 15))
    cal = CalendarService(coord)
    assert {i.kind for i in cal.items(*RANGE, kinds=["contact_due"])} == {"contact_due"}
    assert {i.ref for i in cal.items(*RANGE, manager="DC Alpha")} == {a}
    assert {i.ref for i in cal.items(*RANGE, force="South Force")} == {b}
    assert cal.items(*RANGE, manager="DC Alpha", force="South Force") == []
    expiries = cal.items(*RANGE, kinds=["order_expiry"])
    assert [(i.date, i.ref) for i in expiries] == [(date(2025, 7, 14), a), (date(2025, 7, 14), b)]
    with pytest.raises(ValidationError):
        cal.items(*RANGE, kinds=["birthday"])
    with pytest.raises(ValidationError):
        cal.items(date(2025, 2, 1), date(2025, 1, 1))


def test_done_tasks_leave_the_calendar(coord: Vault) -> None:  # noqa: F811
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    info = eng.add_notification(ref, date(2025, 2, 1), sentence_months=30)
    cal = CalendarService(coord)
    assert [i.kind for i in cal.items(*RANGE, kinds=["notification_due"])] == [
        "notification_due"
    ]
    eng.mark_notified(info.events[0].id, date(2025, 2, 2))
    after = cal.items(date(2025, 1, 1), date(2026, 12, 31), kinds=["notification_due"])
    assert [(i.date, i.title) for i in after] == [
        (date(2026, 2, 2), "Yearly re-notification due")
    ]


def test_merged_and_other_nominals_are_kept_apart(coord: Vault) -> None:  # noqa: F811
    eng = EngagementService(coord)
    refs = [add_nominal(coord) for _ in range(3)]
    for n, ref in enumerate(refs):
        eng.log_contact(ref, datetime(2025, 3, 1 + n, 10, 0), "phone", "DC Example", "made")
    items = CalendarService(coord).items(*RANGE, kinds=["contact_due"])
    assert [(i.date, i.ref) for i in items] == [
        (date(2025, 3, 15), refs[0]),
        (date(2025, 3, 16), refs[1]),
        (date(2025, 3, 17), refs[2]),
    ]


def test_pluggable_sources_feed_the_calendar_and_today(coord: Vault) -> None:  # noqa: F811
    add_nominal(coord)
    sources = [*SOURCES, "tests.services.test_calendar:fake_other_sources"]
    cal = CalendarService(coord, sources=sources)
    kinds = [i.kind for i in cal.items(date(2025, 3, 1), date(2025, 3, 31))]
    assert "action_due" in kinds and "referral_review" in kinds
    only = cal.items(date(2025, 3, 1), date(2025, 3, 31), kinds=["referral_review"])
    assert [i.title for i in only] == ["6-month review"]
    today = cal.today_summary(date(2025, 3, 10))
    assert today.overdue_actions.count == 1
    assert today.overdue_referrals.items[0].title == "6-month review"
    # The default source list is untouched by a service built with its own.
    assert "tests.services.test_calendar:fake_other_sources" not in SOURCES


def test_today_overdue_contact_leaves_the_list_once_logged(coord: Vault) -> None:  # noqa: F811
    eng = EngagementService(coord)
    late = add_nominal(coord)
    fine = add_nominal(coord)
    eng.log_contact(late, datetime(2025, 1, 2, 10, 0), "home_visit", "DC Example", "made")
    eng.log_contact(fine, datetime(2025, 1, 15, 10, 0), "home_visit", "DC Example", "made")
    cal = CalendarService(coord)
    today = date(2025, 1, 25)
    summary = cal.today_summary(today)
    assert [i.ref for i in summary.overdue_contacts.items] == [late]
    assert summary.overdue_contacts.count == 1
    assert [(i.ref, i.date) for i in summary.due_this_week.items] == [(fine, date(2025, 1, 29))]
    eng.log_contact(late, datetime(2025, 1, 25, 9, 0), "phone", "DC Example", "made")
    after = cal.today_summary(today)
    assert after.overdue_contacts.count == 0 and after.overdue_contacts.items == ()
    assert [i.ref for i in after.due_this_week.items] == [fine]  # late is now due 8 Feb
    assert [lst.key for lst in after.lists()] == [
        "overdue_contacts",
        "due_this_week",
        "expiring",
        "overdue_actions",
        "overdue_referrals",
    ]


def test_today_expiring_respects_the_lead_time(coord: Vault) -> None:  # noqa: F811
    eng = EngagementService(coord)
    ref = add_nominal(coord, status=Status.COMMUNITY, risk_level=RiskLevel.LOW)
    order = eng.add_order(ref, "FTRO", date(2025, 1, 15))  # ends 14 Jul 2025
    cal = CalendarService(coord)
    day = order.end_date - timedelta(days=10)
    assert [i.kind for i in cal.today_summary(day).expiring.items] == ["order_expiry"]
    assert cal.today_summary(day, lead_days=5).expiring.count == 0
    # Past its end and still recorded as active: it stays on the list until dealt with.
    assert cal.today_summary(order.end_date + timedelta(days=3)).expiring.count == 1
    eng.update_order(order.id, "expired", status="expired")
    assert cal.today_summary(order.end_date + timedelta(days=3)).expiring.count == 0
    with pytest.raises(ValidationError):
        cal.today_summary(day, lead_days=-1)


def test_every_role_that_reads_nominals_reads_the_calendar(
    users: dict[str, Vault],  # noqa: F811
) -> None:
    ref = add_nominal(users["coordinator"])
    EngagementService(users["coordinator"]).log_contact(
        ref, datetime(2025, 1, 2, 10, 0), "phone", "DC Example", "made"
    )
    for role in ("admin", "coordinator", "viewer"):
        items = CalendarService(users[role]).items(*RANGE)
        assert [i.ref for i in items] == [ref]
        assert CalendarService(users[role]).today_summary(date(2025, 2, 1)).overdue_contacts.count

"""The calendar and the Today view: every dated item, gathered from pluggable sources.

Each source is a function ``(session, start, end, filters) -> Iterable[DueItem]`` named in
``SOURCES`` as ``"module:function"`` and imported only when the calendar is first asked for
items, so a capability adds its dates (referral reviews, meetings, action due dates...) by
appending one string. Sources read indexed date columns in SQL: a 90-day range is a range scan.

Kinds that are tasks (contact_due, notification_due, order_review, action_due, referral_review,
retention_review) appear only while still to be done, so a past one is overdue; facts
(licence_date, order_expiry, meeting) are simply dated.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session

from app.domain.errors import ValidationError
from app.domain.roles import Perm
from app.domain.rules import DUE_KINDS, DueItem
from app.services.base import Service, requires
from app.store.models import (
    CivilOrder,
    CivilOrderReview,
    ContactPlan,
    Nominal,
    NotificationEvent,
    NotificationRequirement,
)

__all__ = [
    "EARLIEST",
    "SOURCES",
    "CalendarFilters",
    "CalendarService",
    "TodayList",
    "TodaySummary",
    "calendar_source",
]

# Other capabilities append "module:function" strings here (see the module docstring).
SOURCES: list[str] = [
    "app.services.calendar:contact_due_items",
    "app.services.calendar:notification_items",
    "app.services.calendar:order_items",
    "app.services.calendar:licence_items",
    "app.services.referrals:due_items",
    "app.services.meetings:meeting_items",
    "app.services.meetings:action_items",
    "app.services.correspondence:reply_due_items",
]

# The start of "everything overdue": no record in the vault predates it.
EARLIEST = date(1900, 1, 1)
MAX_RANGE_DAYS = 366 * 5
DEFAULT_LEAD_DAYS = 14


@dataclass(frozen=True)
class CalendarFilters:
    """What the caller asked for; sources apply what concerns them.

    ``open_only`` asks for items still to be acted on (an active order's expiry, not a revoked
    one's); task kinds are open by construction.
    """

    kinds: frozenset[str] | None = None
    manager: str | None = None
    force: str | None = None
    open_only: bool = False

    def wants(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


SourceFn = Callable[[Session, date, date, CalendarFilters], Iterable[DueItem]]
F = TypeVar("F", bound=Callable[..., Any])
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def calendar_source(*kinds: str) -> Callable[[F], F]:
    """Mark a source with the kinds it yields so that it is skipped when none is wanted."""
    for kind in kinds:
        if kind not in DUE_KINDS:
            raise ValueError(f"unknown calendar kind {kind!r}")

    def mark(fn: F) -> F:
        fn.calendar_kinds = frozenset(kinds)  # type: ignore[attr-defined]
        return fn

    return mark


def _resolve(path: str) -> SourceFn:
    module, _, name = path.partition(":")
    fn: SourceFn = getattr(importlib.import_module(module), name)
    return fn


def _live(query: Q, filters: CalendarFilters) -> Q:
    """Only live nominals (not merged away, not erased), narrowed by manager and force."""
    # coalesce() keeps the planner from driving the query from the nominal table through an
    # index on merged_into_id (which every live row matches): the date range should lead.
    query = query.where(func.coalesce(Nominal.merged_into_id, 0) == 0, Nominal.erased.is_(False))
    if filters.manager is not None:
        query = query.where(Nominal.nominal_manager == filters.manager)
    if filters.force is not None:
        query = query.where(Nominal.force == filters.force)
    return query


def _date_literal(d: date) -> Any:
    """A date written into the SQL rather than bound, for full scans of the nominal table.

    Measured on SQLCipher: a re-executed prepared scan of ``nominal`` with bound date
    parameters stalls for ~100 ms even at 1,000 rows, the same SQL with literal dates does
    not. ``isoformat()`` of a ``date`` is digits and hyphens only, so nothing can be injected.
    """
    if type(d) is not date:
        raise TypeError("a calendar bound must be a date")
    return literal_column(f"'{d.isoformat()}'")


def _rows(session: Session, query: Any) -> Any:
    # Core execution on the session's connection: these are plain tuples, so the ORM's
    # result machinery would only add cost per row (tens of thousands of rows at 100k).
    return session.connection().execute(query)


def _uk(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


# --- built-in sources -----------------------------------------------------------------------


@calendar_source("contact_due")
def contact_due_items(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Each nominal's next required contact (the plan's denormalised next_due)."""
    query = _live(
        select(ContactPlan.next_due, Nominal.ref, ContactPlan.frequency_days)
        .join(Nominal, Nominal.id == ContactPlan.nominal_id)
        .where(ContactPlan.next_due >= start, ContactPlan.next_due <= end),
        filters,
    )
    titles: dict[int | None, str] = {}
    for due, ref, days in _rows(session, query):
        title = titles.get(days)
        if title is None:
            title = titles[days] = f"Contact due (every {days} days)"
        yield DueItem(due, "contact_due", ref, title)


_EVENT_TITLES = {
    "initial": "Initial notification due (3 days)",
    "release": "Notification due after release (3 days)",
    "change": "Change notification due (3 days)",
    "renotification": "Yearly re-notification due",
}


@calendar_source("notification_due", "order_expiry")
def notification_items(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Notifications still to be given, and the end of each set of requirements."""
    if filters.wants("notification_due"):
        yearly = _live(
            select(NotificationRequirement.next_due, Nominal.ref)
            .join(Nominal, Nominal.id == NotificationRequirement.nominal_id)
            .where(
                NotificationRequirement.status == "active",
                NotificationRequirement.next_due >= start,
                NotificationRequirement.next_due <= end,
            ),
            filters,
        )
        for due, ref in _rows(session, yearly):
            yield DueItem(due, "notification_due", ref, "Yearly re-notification due")
        events = _live(
            select(
                NotificationEvent.due_date,
                Nominal.ref,
                NotificationEvent.kind,
                NotificationEvent.departure_date,
            )
            .join(Nominal, Nominal.id == NotificationEvent.nominal_id)
            .join(
                NotificationRequirement,
                NotificationRequirement.id == NotificationEvent.requirement_id,
            )
            .where(
                NotificationEvent.notified_on.is_(None),
                NotificationEvent.due_date >= start,
                NotificationEvent.due_date <= end,
                NotificationRequirement.status == "active",
            ),
            filters,
        )
        for due, ref, kind, departure in _rows(session, events):
            if kind == "foreign_travel" and departure is not None:
                title = f"Foreign travel notice due (leaves {_uk(departure)})"
            else:
                title = _EVENT_TITLES.get(kind, "Notification due")
            yield DueItem(due, "notification_due", ref, title)
    if filters.wants("order_expiry"):
        ends = _live(
            select(NotificationRequirement.end_date, Nominal.ref, NotificationRequirement.rule_text)
            .join(Nominal, Nominal.id == NotificationRequirement.nominal_id)
            .where(
                NotificationRequirement.end_date >= start,
                NotificationRequirement.end_date <= end,
                NotificationRequirement.status != "suspended",
            ),
            filters,
        )
        if filters.open_only:
            ends = ends.where(NotificationRequirement.status == "active")
        for due, ref, _rule in _rows(session, ends):
            yield DueItem(due, "order_expiry", ref, "Notification requirements end")
        # A nominal whose record carries a notification end but has no requirement recorded.
        recorded = exists().where(NotificationRequirement.nominal_id == Nominal.id)
        bare = _live(
            select(Nominal.notification_end, Nominal.ref).where(
                Nominal.notification_end >= _date_literal(start),
                Nominal.notification_end <= _date_literal(end),
                ~recorded,
            ),
            filters,
        )
        for due, ref in _rows(session, bare):
            yield DueItem(due, "order_expiry", ref, "Notification requirements end (record)")


@calendar_source("order_expiry", "order_review")
def order_items(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Civil orders ending, and reviews not yet done."""
    from app.domain.rules import parse_civil_orders
    from app.services.reference import stored_current

    data = stored_current(session, "civil_orders")
    labels: dict[str, str] = {}
    if data is not None:
        labels = {code: o.label for code, o in parse_civil_orders(data).orders.items()}
    if filters.wants("order_expiry"):
        query = _live(
            select(CivilOrder.end_date, Nominal.ref, CivilOrder.order_type)
            .join(Nominal, Nominal.id == CivilOrder.nominal_id)
            .where(
                CivilOrder.end_date >= start,
                CivilOrder.end_date <= end,
                CivilOrder.status.in_(["active"] if filters.open_only else ["active", "expired"]),
            ),
            filters,
        )
        for due, ref, code in _rows(session, query):
            yield DueItem(due, "order_expiry", ref, f"{labels.get(code, code)} ends")
    if filters.wants("order_review"):
        query = _live(
            select(CivilOrderReview.due_date, Nominal.ref, CivilOrder.order_type)
            .join(CivilOrder, CivilOrder.id == CivilOrderReview.order_id)
            .join(Nominal, Nominal.id == CivilOrderReview.nominal_id)
            .where(
                CivilOrderReview.done_on.is_(None),
                CivilOrderReview.due_date >= start,
                CivilOrderReview.due_date <= end,
                CivilOrder.status == "active",
            ),
            filters,
        )
        for due, ref, code in _rows(session, query):
            yield DueItem(due, "order_review", ref, f"{labels.get(code, code)} review")


# The nominal's sentence and licence dates that are events (sentence_date is history).
LICENCE_DATE_TITLES: dict[str, str] = {
    "release_date": "Release date",
    "crd": "CRD (conditional release date)",
    "ard": "ARD (automatic release date)",
    "ped": "PED (parole eligibility date)",
    "npd": "NPD (non-parole date)",
    "hdced": "HDCED (home detention curfew eligibility)",
    "prrd": "PRRD (post-recall release date)",
    "led": "LED (licence end date)",
    "sed": "SED (sentence end date)",
    "tused": "TUSED (top-up supervision end date)",
}


@calendar_source("licence_date")
def licence_items(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Sentence and licence dates from the nominal record, one item per date in range."""
    names = list(LICENCE_DATE_TITLES)
    columns = [getattr(Nominal, n) for n in names]
    lo, hi = _date_literal(start), _date_literal(end)
    query = _live(
        select(Nominal.ref, *columns).where(or_(*(and_(c >= lo, c <= hi) for c in columns))),
        filters,
    )
    for row in _rows(session, query):
        ref = row[0]
        for name, value in zip(names, row[1:], strict=True):
            if value is not None and start <= value <= end:
                yield DueItem(value, "licence_date", ref, LICENCE_DATE_TITLES[name])


# --- the service ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TodayList:
    """One list of the Today view: its items (date order) and how many there are."""

    key: str
    title: str
    items: tuple[DueItem, ...]
    count: int


@dataclass(frozen=True)
class TodaySummary:
    today: date
    lead_days: int
    overdue_contacts: TodayList
    due_this_week: TodayList
    expiring: TodayList
    overdue_actions: TodayList
    overdue_referrals: TodayList

    def lists(self) -> tuple[TodayList, ...]:
        return (
            self.overdue_contacts,
            self.due_this_week,
            self.expiring,
            self.overdue_actions,
            self.overdue_referrals,
        )


def _sort_key(item: DueItem) -> tuple[date, str, str]:
    return (item.date, item.kind, item.ref)


class CalendarService(Service):
    """Everything due between two dates, and the Today view's lists."""

    def __init__(self, vault: Any, sources: Sequence[str] | None = None) -> None:
        super().__init__(vault)
        self._source_names = list(SOURCES if sources is None else sources)
        self._sources: list[SourceFn] | None = None

    def _resolved(self) -> list[SourceFn]:
        if self._sources is None:
            self._sources = [_resolve(p) for p in self._source_names]
        return self._sources

    def _collect(
        self, session: Session, start: date, end: date, filters: CalendarFilters
    ) -> list[DueItem]:
        items: list[DueItem] = []
        for source in self._resolved():
            kinds: frozenset[str] | None = getattr(source, "calendar_kinds", None)
            if filters.kinds is not None and kinds is not None and not (kinds & filters.kinds):
                continue
            items.extend(
                item for item in source(session, start, end, filters) if filters.wants(item.kind)
            )
        items.sort(key=_sort_key)
        return items

    @staticmethod
    def _filters(
        kinds: Iterable[str] | None, manager: str | None, force: str | None, open_only: bool
    ) -> CalendarFilters:
        wanted = None
        if kinds is not None:
            wanted = frozenset(kinds)
            unknown = wanted - set(DUE_KINDS)
            if unknown:
                raise ValidationError("kind", f"must be one of {', '.join(DUE_KINDS)}")
        return CalendarFilters(wanted, manager or None, force or None, open_only)

    @requires(Perm.NOMINAL_READ)
    def items(
        self,
        start: date,
        end: date,
        kinds: Iterable[str] | None = None,
        manager: str | None = None,
        force: str | None = None,
    ) -> list[DueItem]:
        """Every item dated ``start``..``end`` inclusive, sorted by date, kind, ref."""
        if end < start:
            raise ValidationError("to", "must not be before the start date")
        if (end - start).days > MAX_RANGE_DAYS:
            raise ValidationError("to", "a calendar range covers at most five years")
        filters = self._filters(kinds, manager, force, open_only=False)
        with self.vault.read() as s:
            return self._collect(s, start, end, filters)

    @requires(Perm.NOMINAL_READ)
    def today_summary(
        self,
        today: date | None = None,
        lead_days: int = DEFAULT_LEAD_DAYS,
        manager: str | None = None,
        force: str | None = None,
    ) -> TodaySummary:
        """The Today view: overdue contacts, the next seven days, orders and notifications
        expiring within ``lead_days`` (or overdue), overdue actions and referral reviews."""
        if isinstance(lead_days, bool) or not isinstance(lead_days, int) or lead_days < 0:
            raise ValidationError("lead_days", "must be a whole number of days, 0 or more")
        today = today or date.today()
        yesterday = today - timedelta(days=1)
        horizon = max(today + timedelta(days=lead_days), today + timedelta(days=6))

        def make(key: str, title: str, items: list[DueItem]) -> TodayList:
            return TodayList(key, title, tuple(items), len(items))

        with self.vault.read() as s:
            # One pass over the past (open items) and one over the coming weeks.
            # Facts in the past (licence dates, meetings) are history, not work: leave them out.
            past_kinds = (
                "contact_due",
                "notification_due",
                "order_expiry",
                "order_review",
                "action_due",
                "referral_review",
            )
            past = self._collect(
                s, EARLIEST, yesterday, self._filters(past_kinds, manager, force, open_only=True)
            )
            coming = self._collect(
                s, today, horizon, self._filters(None, manager, force, open_only=True)
            )
        week_end = today + timedelta(days=6)
        lead_end = today + timedelta(days=lead_days)
        expiring_kinds = {"order_expiry", "notification_due", "order_review"}
        return TodaySummary(
            today=today,
            lead_days=lead_days,
            overdue_contacts=make(
                "overdue_contacts",
                "Overdue contacts",
                [i for i in past if i.kind == "contact_due"],
            ),
            due_this_week=make(
                "due_this_week",
                "Due in the next 7 days",
                [i for i in coming if i.date <= week_end],
            ),
            expiring=make(
                "expiring",
                "Orders and notifications due or expiring",
                [i for i in past if i.kind in expiring_kinds]
                + [i for i in coming if i.kind in expiring_kinds and i.date <= lead_end],
            ),
            overdue_actions=make(
                "overdue_actions", "Overdue actions", [i for i in past if i.kind == "action_due"]
            ),
            overdue_referrals=make(
                "overdue_referrals",
                "Overdue referral reviews",
                [i for i in past if i.kind == "referral_review"],
            ),
        )

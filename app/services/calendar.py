"""The calendar and the Today view: every dated item, gathered from pluggable sources.

Each source is a function ``(session, start, end, filters) -> Iterable[DueItem]`` named in
``SOURCES`` as ``"module:function"`` and imported only when the calendar is first asked for
items, so a capability adds its dates (referral reviews, meetings, action due dates...) by
appending one string.

The built-in sources are also described as *arms* (``calendar_arms``): one Core select per kind
of dated row, reading an indexed date column. From an arm the service builds the items of a
range, the number of items per day (``GROUP BY`` in SQL, for the month and week grids) and the
first N items of a list (``ORDER BY ... LIMIT``), so that a view of 100,000 contacts never
loads 100,000 objects. Sources without arms (other capabilities' few items) are counted in
Python.

Kinds that are tasks (contact_due, notification_due, order_review, action_due, referral_review,
retention_review) appear only while still to be done, so a past one is overdue; facts
(licence_date, order_expiry, meeting) are simply dated.

Bound dates, not literals. SQLite gives a ``DATE`` column NUMERIC affinity; the dates are stored
as ISO text. In a *full scan* every row's ``col >= ?`` applies numeric affinity to the bound text
and SQLite allocates a scratch copy of it per comparison; under SQLCipher with
``cipher_memory_security`` each allocation is an ``mlock``/``munlock`` system-call pair (measured:
~65,000 pairs, 2-5 s, for one 10,000-row scan; literals are compiled once and allocate nothing).
Index range scans apply the affinity once, to the seek key. So every arm reads its date through
an index (partial indexes on the nominal's dated columns, a covering index on the contact plan's
next due date) and binds its dates like any other query.
"""

from __future__ import annotations

import bisect
import importlib
import operator
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from typing import Any, TypeVar, cast

from sqlalchemy import Select, String, exists, func, select, text
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from app.domain.bulk import collector_paused
from app.domain.errors import ValidationError
from app.domain.nominal import REF_PREFIX, format_ref, parse_ref
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
from app.store.models.nominal import DEAD_NOMINAL_SQL

__all__ = [
    "EARLIEST",
    "SOURCES",
    "TODAY_LIST_LIMIT",
    "Arm",
    "CalendarCursor",
    "CalendarFilters",
    "CalendarPage",
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
    "app.services.retention:due_items",
]

# The start of "everything overdue": no record in the vault predates it.
EARLIEST = date(1900, 1, 1)
MAX_RANGE_DAYS = 366 * 5
DEFAULT_LEAD_DAYS = 14
# How many items each Today list carries; the rest are paged with ``today_page``.
TODAY_LIST_LIMIT = 200
MAX_PAGE = 5000


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
Row = Sequence[Any]


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


# --- arms -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    """One kind of dated row: ``query`` selects (date, nominal id, *extras) with its fixed
    conditions; ``dated`` is the (indexed) date column the range applies to; ``title(*extras)``
    makes an item's title (called once per distinct extras, so it may be slow-ish).
    ``on_nominal``: the row is the nominal itself."""

    kind: str
    dated: Any
    nominal_id: Any
    query: Any  # a Core Select of (date, nominal id, *extras)
    title: Callable[..., str]
    on_nominal: bool = False
    one_per_nominal: bool = False  # at most one row per nominal (implied by on_nominal)
    # Read a whole range grouped by day (ids and the one extra joined into a string per day):
    # for a large, unique arm whose one extra is a number.
    grouped: bool = False

    @property
    def unique(self) -> bool:
        return self.on_nominal or self.one_per_nominal


def _live(query: Select[Any], arm: Arm, filters: CalendarFilters) -> Select[Any]:
    """Only live nominals (not merged away, not erased), narrowed by manager and force."""
    if arm.on_nominal:
        # coalesce() keeps the planner from driving from the merged_into_id indexes (every
        # live row matches them): the date's own index should lead.
        query = query.where(
            func.coalesce(Nominal.merged_into_id, 0) == 0, Nominal.erased.is_(False)
        )
    elif filters.manager is None and filters.force is None:
        # The few dead nominals come from a tiny partial index, once per query; the arm's
        # rows are not joined to the (wide) nominal table at all.
        # SQLite may prefer scanning a wider covering index; name the partial one (SQLite only).
        dead = (
            select(Nominal.id)
            .where(text(DEAD_NOMINAL_SQL))
            .with_hint(Nominal, "INDEXED BY ix_nominal_dead", "sqlite")
        )
        return query.where(arm.nominal_id.not_in(dead))
    else:
        # A manager's or force's nominals: let the nominal indexes lead.
        query = query.join(Nominal, Nominal.id == arm.nominal_id).where(
            Nominal.merged_into_id.is_(None), Nominal.erased.is_(False)
        )
    if filters.manager is not None:
        query = query.where(Nominal.nominal_manager == filters.manager)
    if filters.force is not None:
        query = query.where(Nominal.force == filters.force)
    return query


def _ranged(arm: Arm, start: date, end: date, filters: CalendarFilters) -> Select[Any]:
    return _live(arm.query.where(arm.dated >= start, arm.dated <= end), arm, filters)


def _rows(session: Session, query: Any) -> Any:
    # Core execution on the session's connection: plain tuples, no ORM identity map.
    return session.connection().execute(query)


def _arm_items(session: Session, arm: Arm, query: Select[Any]) -> Iterator[DueItem]:
    """The plain, row-at-a-time form (what a source function yields on its own); the service
    builds the same items in bulk with ``_fetch`` and ``_batch``."""
    kind, title = arm.kind, arm.title
    for row in _rows(session, query):
        yield DueItem(row[0], kind, format_ref(row[1]), title(*row[2:]))  # type: ignore[arg-type]


# --- rows to items in bulk ----------------------------------------------------------------------
#
# A 90-day range at 100,000 nominals holds ~100,000 items (80,000 contacts due). Through
# SQLAlchemy's Row objects, per-row Python and the validating DueItem constructor they cost
# 3-4x the bare SQL; here each step runs over a whole column in C (``map``/``zip``), dates and
# titles are made once per distinct value, and the items' slots are filled directly.

# "NM-%06d": the same text as ``format_ref`` (a test holds them equal), applied by ``map``.
_REF_FORMAT = REF_PREFIX.replace("%", "%%") + "%06d"
_new_object = object.__new__
_SLOT_SETTERS = tuple(DueItem.__dict__[name].__set__ for name in ("date", "kind", "ref", "title"))


def _fetch(session: Session, query: Any) -> list[Row]:
    """A Core select's rows as the driver's own tuples: no Row objects and no per-column
    result processors (dates come as the driver gives them: ISO text from SQLite)."""
    result = session.connection().execute(query)
    try:
        return cast(list[Row], result.cursor.fetchall())
    finally:
        result.close()


class _Days(dict[Any, date]):
    """Raw date values (ISO text from SQLite, dates from other drivers) to dates, once each."""

    def __missing__(self, raw: Any) -> date:
        day = raw if isinstance(raw, date) else date.fromisoformat(raw)
        self[raw] = day
        return day


class _Titles(dict[Any, str]):
    """A title per distinct extras value (or tuple of values), made once."""

    def __init__(self, make: Callable[[Any], str]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: Any) -> str:
        title = self[key] = self._make(key)
        return title


def _items_from(
    count: int, dates: Iterable[date], kind: str, refs: Iterable[str], titles: Iterable[str]
) -> list[DueItem]:
    """``count`` DueItems from columns, built without a Python call per item.

    DueItem is a frozen slotted dataclass whose ``__post_init__`` checks the kind: the kind
    is checked here once for the batch, and the slots are filled through their descriptors
    (as unpickling does), column by column."""
    if kind not in DUE_KINDS:
        raise ValueError(f"unknown calendar kind {kind!r}")
    items: list[DueItem] = list(map(_new_object, repeat(DueItem, count)))
    for setter, values in zip(_SLOT_SETTERS, (dates, repeat(kind, count), refs, titles),
                              strict=True):
        deque(map(setter, items, values), maxlen=0)
    return items


def _batch(arm: Arm, rows: Sequence[Row], days: _Days) -> list[DueItem]:
    """The items of an arm's raw rows (date, nominal id, *extras), in the rows' order."""
    if not rows:
        return []
    columns = list(zip(*rows, strict=True))
    extras = columns[2:]
    titles: Iterable[str]
    if not extras:
        titles = repeat(arm.title(), len(rows))
    elif len(extras) == 1:
        titles = map(_Titles(arm.title).__getitem__, extras[0])
    else:
        make = arm.title
        titles = map(_Titles(lambda key: make(*key)).__getitem__, zip(*extras, strict=True))
    return _items_from(len(rows), map(days.__getitem__, columns[0]), arm.kind,
                       map(_REF_FORMAT.__mod__, columns[1]), titles)


# Refs of a grouped day, made by the database and two string operations: the ids are joined
# as ``id + _REF_OFFSET`` ("1000123,1000456": each a "1" and six digits while ids stay below
# the offset), and ``_refs_of_offset_ids`` turns the string into "NM-000123,NM-000456" at
# once, with no Python call per id (formatting 80,000 refs one by one costs ~12 ms).
_REF_OFFSET = _SIX_DIGITS = 1_000_000  # ids below it have refs of six digits


def _refs_of_offset_ids(joined: str) -> list[str]:
    """"1000123,1000456" -> ["NM-000123", "NM-000456"] (every id below ``_REF_OFFSET``)."""
    return (REF_PREFIX + joined[1:].replace(",1", "," + REF_PREFIX)).split(",")


def _grouped_items(session: Session, arm: Arm, ranged: Select[Any], days: _Days) -> list[DueItem]:
    """A large arm's items in (date, ref) order, read as one row per day.

    Fetching a row costs the driver a tuple and an object per column (~0.6 us a row); a day's
    ids and extras joined by the database into two strings and split by ``str.split`` cost a
    third of that. The arm must be unique per nominal and have at most one extra, a number."""
    sub = ranged.subquery()
    day, number = sub.c[0], sub.c[1]
    columns = [day, func.count(), func.max(number),
               func.aggregate_strings(sql_cast(number + _REF_OFFSET, String), ",")]
    if len(sub.c) > 2:
        columns.append(func.aggregate_strings(func.coalesce(sql_cast(sub.c[2], String), ""), ","))
    refs: list[str] = []
    extras: list[str] = []
    counts: list[int] = []
    dates: list[date] = []
    for raw_day, count, top, numbers, extra in (
        (*row, None) if len(row) == 4 else row
        for row in _fetch(session, select(*columns).group_by(day).order_by(day))
    ):
        if top < _REF_OFFSET:
            day_refs = _refs_of_offset_ids(numbers)
        else:  # ids of seven digits or more: one at a time
            day_refs = [format_ref(int(n) - _REF_OFFSET) for n in numbers.split(",")]
        day_extras = extra.split(",") if extra is not None else [""] * count
        if len(day_refs) != count or len(day_extras) != count:
            raise RuntimeError("calendar: a grouped day did not split into its rows")
        if any(map(operator.gt, day_refs, day_refs[1:])):  # not in ref order: put it in order
            pairs = sorted(zip(day_refs, day_extras, strict=True))
            day_refs, day_extras = [p[0] for p in pairs], [p[1] for p in pairs]
        refs.extend(day_refs)
        extras.extend(day_extras)
        counts.append(count)
        dates.append(days[raw_day])
    make = arm.title

    def title(text_: str) -> str:
        if len(sub.c) == 2:
            return make()
        return make(int(text_) if text_ else None)

    return _items_from(
        len(refs), chain.from_iterable(map(repeat, dates, counts)), arm.kind, refs,
        map(_Titles(title).__getitem__, extras))


def _uk(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _const(text_: str) -> Callable[[], str]:
    return lambda: text_


def _contact_title(days: int | None) -> str:
    return f"Contact due (every {days} days)"


_EVENT_TITLES = {
    "initial": "Initial notification due (3 days)",
    "release": "Notification due after release (3 days)",
    "change": "Change notification due (3 days)",
    "renotification": "Yearly re-notification due",
}


def _event_title(kind: str, departure: Any) -> str:
    if kind == "foreign_travel" and departure is not None:
        leaves = departure if isinstance(departure, date) else date.fromisoformat(departure)
        return f"Foreign travel notice due (leaves {_uk(leaves)})"
    return _EVENT_TITLES.get(kind, "Notification due")


def _order_labels(session: Session) -> dict[str, str]:
    from app.domain.rules import parse_civil_orders
    from app.services.reference import stored_current

    data = stored_current(session, "civil_orders")
    if data is None:
        return {}
    return {code: o.label for code, o in parse_civil_orders(data).orders.items()}


def contact_due_arms(session: Session, filters: CalendarFilters) -> list[Arm]:
    if not filters.wants("contact_due"):
        return []
    query = select(ContactPlan.next_due, ContactPlan.nominal_id, ContactPlan.frequency_days)
    return [Arm("contact_due", ContactPlan.next_due, ContactPlan.nominal_id, query,
                _contact_title, one_per_nominal=True, grouped=True)]


def notification_arms(session: Session, filters: CalendarFilters) -> list[Arm]:
    arms: list[Arm] = []
    req, event = NotificationRequirement, NotificationEvent
    if filters.wants("notification_due"):
        arms.append(Arm(
            "notification_due", req.next_due, req.nominal_id,
            select(req.next_due, req.nominal_id).where(req.status == "active"),
            _const("Yearly re-notification due"),
        ))
        arms.append(Arm(
            "notification_due", event.due_date, event.nominal_id,
            select(event.due_date, event.nominal_id, event.kind, event.departure_date)
            .join(req, req.id == event.requirement_id)
            .where(event.notified_on.is_(None), req.status == "active"),
            _event_title,
        ))
    if filters.wants("order_expiry"):
        ends = select(req.end_date, req.nominal_id).where(req.status != "suspended")
        if filters.open_only:
            ends = ends.where(req.status == "active")
        arms.append(Arm("order_expiry", req.end_date, req.nominal_id, ends,
                        _const("Notification requirements end")))
        # A nominal whose record carries a notification end but has no requirement recorded.
        recorded = exists().where(req.nominal_id == Nominal.id)
        arms.append(Arm(
            "order_expiry", Nominal.notification_end, Nominal.id,
            select(Nominal.notification_end, Nominal.id).where(~recorded),
            _const("Notification requirements end (record)"), on_nominal=True,
        ))
    return arms


def order_arms(session: Session, filters: CalendarFilters) -> list[Arm]:
    arms: list[Arm] = []
    if not (filters.wants("order_expiry") or filters.wants("order_review")):
        return arms
    cache: dict[str, dict[str, str]] = {}

    def label(code: str) -> str:
        # Read the reference list only when a title is made (counts need none).
        if "labels" not in cache:
            cache["labels"] = _order_labels(session)
        return cache["labels"].get(code, code)

    if filters.wants("order_expiry"):
        statuses = ["active"] if filters.open_only else ["active", "expired"]
        arms.append(Arm(
            "order_expiry", CivilOrder.end_date, CivilOrder.nominal_id,
            select(CivilOrder.end_date, CivilOrder.nominal_id, CivilOrder.order_type)
            .where(CivilOrder.status.in_(statuses)),
            lambda code: f"{label(code)} ends",
        ))
    if filters.wants("order_review"):
        review = CivilOrderReview
        arms.append(Arm(
            "order_review", review.due_date, review.nominal_id,
            select(review.due_date, review.nominal_id, CivilOrder.order_type)
            .join(CivilOrder, CivilOrder.id == review.order_id)
            .where(review.done_on.is_(None), CivilOrder.status == "active"),
            lambda code: f"{label(code)} review",
        ))
    return arms


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


def licence_arms(session: Session, filters: CalendarFilters) -> list[Arm]:
    if not filters.wants("licence_date"):
        return []
    arms = []
    for name, title in LICENCE_DATE_TITLES.items():
        column = getattr(Nominal, name)
        arms.append(Arm("licence_date", column, Nominal.id, select(column, Nominal.id),
                        _const(title), on_nominal=True))
    return arms


def _arm_source(
    arms: Callable[[Session, CalendarFilters], list[Arm]], *kinds: str
) -> Callable[[SourceFn], SourceFn]:
    def wrap(fn: SourceFn) -> SourceFn:
        fn.calendar_arms = arms  # type: ignore[attr-defined]
        return calendar_source(*kinds)(fn)

    return wrap


def _items_of(
    arms: Callable[[Session, CalendarFilters], list[Arm]],
    session: Session, start: date, end: date, filters: CalendarFilters,
) -> Iterator[DueItem]:
    for arm in arms(session, filters):
        yield from _arm_items(session, arm, _ranged(arm, start, end, filters))


# --- built-in sources (item functions; the service prefers their arms) -----------------------


@_arm_source(contact_due_arms, "contact_due")
def contact_due_items(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Each nominal's next required contact (the plan's denormalised next_due)."""
    return _items_of(contact_due_arms, session, start, end, filters)


@_arm_source(notification_arms, "notification_due", "order_expiry")
def notification_items(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Notifications still to be given, and the end of each set of requirements."""
    return _items_of(notification_arms, session, start, end, filters)


@_arm_source(order_arms, "order_expiry", "order_review")
def order_items(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Civil orders ending, and reviews not yet done."""
    return _items_of(order_arms, session, start, end, filters)


@_arm_source(licence_arms, "licence_date")
def licence_items(
    session: Session, start: date, end: date, filters: CalendarFilters
) -> Iterable[DueItem]:
    """Sentence and licence dates from the nominal record, one item per date in range."""
    return _items_of(licence_arms, session, start, end, filters)


# --- what the service returns ---------------------------------------------------------------


@dataclass(frozen=True)
class TodayList:
    """One list of the Today view: its first items (date order) and how many there are.

    ``items`` holds at most ``TODAY_LIST_LIMIT`` items; ``complete`` says whether that is all
    of them (the rest are paged with ``CalendarService.today_page``)."""

    key: str
    title: str
    items: tuple[DueItem, ...]
    count: int

    @property
    def complete(self) -> bool:
        return len(self.items) >= self.count


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


ItemKey = tuple[date, str, str, str]


@dataclass(frozen=True)
class CalendarCursor:
    """Where the next page of a range starts (opaque to callers: pass ``CalendarPage.next``
    back as ``after``). ``key`` is the last item's sort key, ``seen`` how many items with
    exactly that key were already given (identical items are possible), ``offset`` how many
    items were given in all."""

    key: ItemKey
    seen: int
    offset: int


@dataclass(frozen=True)
class CalendarPage:
    """Items ``offset`` .. ``offset + len(items)`` of ``total``, in ``items()`` order; ``next``
    fetches the page that follows (``None`` once the range is exhausted)."""

    items: tuple[DueItem, ...]
    offset: int
    total: int
    next: CalendarCursor | None = None


@dataclass(frozen=True)
class _Segment:
    """A date range with its filters: a Today list is one or two of these, in date order."""

    start: date
    end: date
    filters: CalendarFilters


@dataclass
class _DayCounts:
    by_day: dict[date, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, day: date, kind: str, n: int) -> None:
        slot = self.by_day[day]
        slot[kind] = slot.get(kind, 0) + n

    def plain(self) -> dict[date, dict[str, int]]:
        return {d: dict(k) for d, k in sorted(self.by_day.items())}


# The calendar's order: date, kind, ref, then title (a nominal may have two licence dates on a
# day). Arms read rows in (date, nominal id) order, which is ref order: refs are NM- and six
# digits.
_sort_key: Callable[[DueItem], ItemKey] = attrgetter("date", "kind", "ref", "title")


_date_of: Callable[[DueItem], date] = attrgetter("date")


def _interleave_by_day(runs: list[list[DueItem]]) -> list[DueItem]:
    """Runs each in item order (one per kind, in kind order) laid out day by day: what a
    stable sort of their concatenation on the date gives, without a key per item.

    Each run's stretch of one day is found by bisection (the biggest run's days too), so the
    cost follows the number of days and runs, not the ~100,000 items."""
    runs = [run for run in runs if run]
    if len(runs) <= 1:
        return runs[0] if runs else []
    big = max(runs, key=len)
    days: set[date] = set()
    for run in runs:
        if run is not big:
            days.update(map(_date_of, run))
    i = 0
    while i < len(big):
        day = big[i].date
        days.add(day)
        i = bisect.bisect_right(big, day, lo=i, key=_date_of)
    out: list[DueItem] = []
    at = [0] * len(runs)
    for day in sorted(days):
        for k, run in enumerate(runs):
            lo = at[k]
            if lo < len(run) and run[lo].date == day:
                hi = bisect.bisect_right(run, day, lo=lo, key=_date_of)
                out += run[lo:hi]
                at[k] = hi
    return out


def _refs_sort_as_ids(rows: Sequence[Row]) -> bool:
    """Whether rows in nominal id order are in ref order too (refs of six digits)."""
    return not rows or max(map(itemgetter(1), rows)) < _SIX_DIGITS


def _beyond(items: list[DueItem], after: CalendarCursor | None) -> list[DueItem]:
    """The items (sorted) that follow the cursor: later keys, and copies of the cursor's own
    key beyond the ``seen`` already given."""
    if after is None:
        return items
    first = bisect.bisect_left(items, after.key, key=_sort_key)
    same = bisect.bisect_right(items, after.key, lo=first, key=_sort_key) - first
    return items[first + min(same, after.seen):]


def _cursor(
    page: Sequence[DueItem], after: CalendarCursor | None, offset: int, total: int
) -> CalendarCursor | None:
    if not page or offset + len(page) >= total:
        return None
    key = _sort_key(page[-1])
    seen = 0
    for item in reversed(page):
        if _sort_key(item) != key:
            break
        seen += 1
    else:  # the whole page repeats one key: count the copies given before it too
        if after is not None and after.key == key:
            seen += after.seen
    return CalendarCursor(key, seen, offset + len(page))


_PAST_KINDS = frozenset({
    "contact_due", "notification_due", "order_expiry", "order_review", "action_due",
    "referral_review",
})
_EXPIRING_KINDS = frozenset({"order_expiry", "notification_due", "order_review"})
TODAY_TITLES = {
    "overdue_contacts": "Overdue contacts",
    "due_this_week": "Due in the next 7 days",
    "expiring": "Orders and notifications due or expiring",
    "overdue_actions": "Overdue actions",
    "overdue_referrals": "Overdue referral reviews",
}


class CalendarService(Service):
    """Everything due between two dates, per-day counts, pages, and the Today view's lists."""

    def __init__(self, vault: Any, sources: Sequence[str] | None = None) -> None:
        super().__init__(vault)
        self._source_names = list(SOURCES if sources is None else sources)
        self._sources: list[SourceFn] | None = None

    def _resolved(self) -> list[SourceFn]:
        if self._sources is None:
            self._sources = [_resolve(p) for p in self._source_names]
        return self._sources

    def _wanted(self, filters: CalendarFilters) -> Iterator[SourceFn]:
        for source in self._resolved():
            kinds: frozenset[str] | None = getattr(source, "calendar_kinds", None)
            if filters.kinds is not None and kinds is not None and not (kinds & filters.kinds):
                continue
            yield source

    def _arms(self, session: Session, filters: CalendarFilters) -> tuple[list[Arm], list[SourceFn]]:
        """The arms of every wanted built-in source, and the wanted sources without arms."""
        arms: list[Arm] = []
        plain: list[SourceFn] = []
        for source in self._wanted(filters):
            make = getattr(source, "calendar_arms", None)
            if make is None:
                plain.append(source)
            else:
                arms.extend(a for a in make(session, filters) if filters.wants(a.kind))
        return arms, plain

    def _collect(
        self, session: Session, start: date, end: date, filters: CalendarFilters
    ) -> list[DueItem]:
        """Every item of the range in order, built in bulk.

        Sorting ~100,000 items on a (date, kind, ref, title) tuple each costs a tuple per item;
        instead each kind's items are put in order first (a kind read by one arm with one row
        per nominal comes in order from its index; the other kinds are small and sorted on the
        full key), the kinds are laid end to end in order, and a stable sort on the date alone
        interleaves them."""
        days = _Days()
        arms, plain = self._arms(session, filters)
        arms_of_kind = Counter(arm.kind for arm in arms)
        by_kind: dict[str, list[list[DueItem]]] = defaultdict(list)
        in_order: set[str] = set()
        with collector_paused():
            for arm in arms:
                query = _ranged(arm, start, end, filters)
                ordered = arms_of_kind[arm.kind] == 1 and arm.unique
                if ordered and arm.grouped:
                    by_kind[arm.kind].append(_grouped_items(session, arm, query, days))
                    in_order.add(arm.kind)
                    continue
                if ordered:
                    query = query.order_by(arm.dated, arm.nominal_id)
                rows = _fetch(session, query)
                if ordered and _refs_sort_as_ids(rows):
                    in_order.add(arm.kind)
                by_kind[arm.kind].append(_batch(arm, rows, days))
                del rows
            for source in plain:
                for item in source(session, start, end, filters):
                    if filters.wants(item.kind):
                        by_kind[item.kind].append([item])
            runs: list[list[DueItem]] = []
            for kind in sorted(by_kind):
                lists = by_kind[kind]
                if len(lists) == 1 and kind in in_order:
                    runs.append(lists[0])
                else:
                    group = [item for part in lists for item in part]
                    group.sort(key=_sort_key)
                    runs.append(group)
            return _interleave_by_day(runs)

    def _counts(
        self, session: Session, start: date, end: date, filters: CalendarFilters
    ) -> _DayCounts:
        counts = _DayCounts()
        arms, plain = self._arms(session, filters)
        for arm in arms:
            sub = _ranged(arm, start, end, filters).subquery()
            day = sub.c[0]
            for d, n in _rows(session, select(day, func.count()).group_by(day)):
                counts.add(d, arm.kind, n)
        for source in plain:
            for item in source(session, start, end, filters):
                if filters.wants(item.kind):
                    counts.add(item.date, item.kind, 1)
        return counts

    @staticmethod
    def _arm_rows(
        session: Session, arm: Arm, ranged: Select[Any], after: CalendarCursor | None, n: int
    ) -> list[Row]:
        """The arm's first ``n`` rows (date, nominal id order) from the cursor on (a few
        before it may come too: the exact cut is made on the items)."""
        ordered = (arm.dated, arm.nominal_id)
        if after is None:
            return _fetch(session, ranged.order_by(*ordered).limit(n))
        day, kind, ref = after.key[:3]
        number = parse_ref(ref) if arm.kind == kind else None
        if number is None or format_ref(number) != ref:
            # Kinds before the cursor's start the next day; later kinds (and, to be safe, a
            # ref that is not a nominal's) the same day.
            later = arm.dated > day if arm.kind < kind else arm.dated >= day
            return _fetch(session, ranged.where(later).order_by(*ordered).limit(n))
        # The cursor's own kind: the rest of its day from its nominal on, then later days.
        # Two range seeks rather than one OR, which would compare every row's date with a
        # bound value outside the index (see the module docstring).
        rows = _fetch(session, ranged.where(arm.dated == day, arm.nominal_id >= number)
                      .order_by(arm.nominal_id).limit(n))
        if len(rows) < n:
            rows += _fetch(session, ranged.where(arm.dated > day).order_by(*ordered)
                           .limit(n - len(rows)))
        return rows

    def _arm_head(
        self, session: Session, arm: Arm, ranged: Select[Any], after: CalendarCursor | None,
        limit: int, days: _Days,
    ) -> tuple[list[DueItem], tuple[date, str, str] | None]:
        """At least ``limit`` items of the arm past the cursor (or all there are), and, when
        the arm holds more, the (date, kind, ref) from which its items are not all read."""
        n = limit + 1 + (after.seen if after is not None else 0)
        while True:
            rows = self._arm_rows(session, arm, ranged, after, n)
            if len(rows) < n:
                return _batch(arm, rows, days), None
            # More rows follow: the last row's nominal may have more on that day (another
            # title), so its rows are left for the next page and mark the edge.
            last = tuple(rows[-1][:2])
            keep = len(rows) - 1
            while keep and tuple(rows[keep - 1][:2]) == last:
                keep -= 1
            items = _batch(arm, rows[:keep], days)
            edge = (days[last[0]], arm.kind, _REF_FORMAT % last[1])
            usable = len(items) if after is None else sum(
                1 for i in items if _sort_key(i) > after.key)
            if usable >= limit:
                return items, edge
            n *= 2

    def _first(
        self, session: Session, start: date, end: date, filters: CalendarFilters,
        limit: int, after: CalendarCursor | None = None,
    ) -> tuple[int, list[DueItem]]:
        """How many items the range holds, and the first ``limit`` of them after the cursor:
        a keyset page. Each arm reads only its first rows past the cursor (index order); the
        arms' items are merged, and only those before the nearest arm's unread edge count."""
        total = 0
        candidates: list[DueItem] = []
        horizon: tuple[date, str, str] | None = None
        days = _Days()
        arms, plain = self._arms(session, filters)
        for arm in arms:
            ranged = _ranged(arm, start, end, filters)
            items, edge = self._arm_head(session, arm, ranged, after, limit, days)
            candidates.extend(items)
            if edge is not None:
                horizon = edge if horizon is None else min(horizon, edge)
            if edge is None and after is None:
                total += len(items)  # all of them: no need to count
            else:
                total += int(session.connection().execute(
                    select(func.count()).select_from(ranged.subquery())
                ).scalar_one())
        for source in plain:
            found = [i for i in source(session, start, end, filters) if filters.wants(i.kind)]
            total += len(found)
            candidates.extend(found)
        candidates.sort(key=_sort_key)
        merged = _beyond(candidates, after)
        if horizon is not None:
            bound = horizon
            merged = merged[:bisect.bisect_left(
                merged, bound, key=lambda i: (i.date, i.kind, i.ref))]
        return total, merged[:limit]

    def _page(
        self, session: Session, segments: Sequence[_Segment], offset: int, limit: int
    ) -> CalendarPage:
        """Items offset..offset+limit across segments (in date order): the per-day counts say
        which days hold them, and only those days' items are loaded."""
        days: list[tuple[date, int, _Segment]] = []
        for seg in segments:
            counts = self._counts(session, seg.start, seg.end, seg.filters)
            for d, by_kind in sorted(counts.by_day.items()):
                days.append((d, sum(by_kind.values()), seg))
        total = sum(n for _, n, _ in days)
        if offset >= total or limit <= 0:
            return CalendarPage((), offset, total)
        before = [0]
        for _, n, _ in days:
            before.append(before[-1] + n)
        first = bisect.bisect_right(before, offset) - 1
        last = bisect.bisect_left(before, offset + limit) - 1
        items: list[DueItem] = []
        i = first
        while i <= min(last, len(days) - 1):
            seg = days[i][2]
            j = i
            while j + 1 <= min(last, len(days) - 1) and days[j + 1][2] is seg:
                j += 1
            items.extend(self._collect(session, days[i][0], days[j][0], seg.filters))
            i = j + 1
        skip = offset - before[first]
        page = items[skip:skip + limit]
        return CalendarPage(tuple(page), offset, total, _cursor(page, None, offset, total))

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

    @staticmethod
    def _check_range(start: date, end: date) -> None:
        if end < start:
            raise ValidationError("to", "must not be before the start date")
        if (end - start).days > MAX_RANGE_DAYS:
            raise ValidationError("to", "a calendar range covers at most five years")

    @staticmethod
    def _check_page(offset: int, limit: int) -> None:
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValidationError("offset", "must be a whole number, 0 or more")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise ValidationError("limit", f"must be a whole number from 1 to {MAX_PAGE}")

    # -- the calendar ---------------------------------------------------------------------------

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
        self._check_range(start, end)
        filters = self._filters(kinds, manager, force, open_only=False)
        with self.vault.read() as s:
            return self._collect(s, start, end, filters)

    @requires(Perm.NOMINAL_READ)
    def day_counts(
        self,
        start: date,
        end: date,
        kinds: Iterable[str] | None = None,
        manager: str | None = None,
        force: str | None = None,
    ) -> dict[date, dict[str, int]]:
        """How many items of each kind fall on each day ``start``..``end`` (days with none are
        left out): what a month or week grid draws. Counted in SQL (``GROUP BY`` date)."""
        self._check_range(start, end)
        filters = self._filters(kinds, manager, force, open_only=False)
        with self.vault.read() as s:
            return self._counts(s, start, end, filters).plain()

    @requires(Perm.NOMINAL_READ)
    def items_page(
        self,
        start: date,
        end: date,
        kinds: Iterable[str] | None = None,
        manager: str | None = None,
        force: str | None = None,
        offset: int = 0,
        limit: int = 200,
        after: CalendarCursor | None = None,
    ) -> CalendarPage:
        """Items ``offset``..``offset + limit`` of the range, in ``items()`` order, with the
        range's total (the agenda's infinite scroll).

        Pass the previous page's ``next`` as ``after`` for the page that follows it (then
        ``offset`` is ignored): each source reads only its first rows past that point, so
        every page costs about what the first does. Without ``after``, a page at ``offset``
        is found through the per-day counts."""
        self._check_range(start, end)
        self._check_page(offset, limit)
        if after is not None and not isinstance(after, CalendarCursor):
            raise ValidationError("after", "must be the next cursor of a previous page")
        filters = self._filters(kinds, manager, force, open_only=False)
        with self.vault.read() as s:
            if after is None and offset > 0:
                return self._page(s, [_Segment(start, end, filters)], offset, limit)
            total, items = self._first(s, start, end, filters, limit, after)
        offset = after.offset if after is not None else 0
        return CalendarPage(tuple(items), offset, total, _cursor(items, after, offset, total))

    # -- the Today view -------------------------------------------------------------------------

    def _today_segments(
        self, key: str, today: date, lead_days: int, manager: str | None, force: str | None
    ) -> list[_Segment]:
        yesterday = today - timedelta(days=1)

        def seg(start: date, end: date, kinds: Iterable[str] | None) -> _Segment:
            return _Segment(start, end, self._filters(kinds, manager, force, open_only=True))

        # Facts in the past (licence dates, meetings) are history, not work: never overdue.
        if key == "overdue_contacts":
            return [seg(EARLIEST, yesterday, ["contact_due"])]
        if key == "due_this_week":
            return [seg(today, today + timedelta(days=6), None)]
        if key == "expiring":
            return [
                seg(EARLIEST, yesterday, sorted(_EXPIRING_KINDS)),
                seg(today, today + timedelta(days=lead_days), sorted(_EXPIRING_KINDS)),
            ]
        if key == "overdue_actions":
            return [seg(EARLIEST, yesterday, ["action_due"])]
        if key == "overdue_referrals":
            return [seg(EARLIEST, yesterday, ["referral_review"])]
        raise ValidationError("list", f"must be one of {', '.join(TODAY_TITLES)}")

    @staticmethod
    def _check_lead(lead_days: int) -> None:
        if isinstance(lead_days, bool) or not isinstance(lead_days, int) or lead_days < 0:
            raise ValidationError("lead_days", "must be a whole number of days, 0 or more")

    @requires(Perm.NOMINAL_READ)
    def today_summary(
        self,
        today: date | None = None,
        lead_days: int = DEFAULT_LEAD_DAYS,
        manager: str | None = None,
        force: str | None = None,
        limit: int = TODAY_LIST_LIMIT,
    ) -> TodaySummary:
        """The Today view: overdue contacts, the next seven days, orders and notifications
        expiring within ``lead_days`` (or overdue), overdue actions and referral reviews.

        Each list carries its full count and its first ``limit`` items (date order); page
        through the rest with ``today_page``."""
        self._check_lead(lead_days)
        self._check_page(0, limit)
        today = today or date.today()
        lists: dict[str, TodayList] = {}
        with self.vault.read() as s:
            for key, title in TODAY_TITLES.items():
                count = 0
                head: list[DueItem] = []
                for seg in self._today_segments(key, today, lead_days, manager, force):
                    n, first = self._first(s, seg.start, seg.end, seg.filters, limit)
                    count += n
                    head.extend(first)
                lists[key] = TodayList(key, title, tuple(head[:limit]), count)
        return TodaySummary(today=today, lead_days=lead_days, **lists)

    @requires(Perm.NOMINAL_READ)
    def today_page(
        self,
        key: str,
        offset: int,
        limit: int = TODAY_LIST_LIMIT,
        today: date | None = None,
        lead_days: int = DEFAULT_LEAD_DAYS,
        manager: str | None = None,
        force: str | None = None,
    ) -> CalendarPage:
        """Items ``offset``..``offset + limit`` of one Today list (``key`` as in
        ``TodayList.key``): the "show all" of a long list."""
        self._check_lead(lead_days)
        self._check_page(offset, limit)
        today = today or date.today()
        segments = self._today_segments(key, today, lead_days, manager, force)
        with self.vault.read() as s:
            return self._page(s, segments, offset, limit)

    @requires(Perm.NOMINAL_READ)
    def filter_choices(self) -> tuple[list[str], list[str]]:
        """The managers and forces of live nominals (for the calendar's filters), sorted."""
        out: list[list[str]] = []
        with self.vault.read() as s:
            for column in (Nominal.nominal_manager, Nominal.force):
                rows = _rows(s, select(column).where(
                    Nominal.merged_into_id.is_(None), column.is_not(None)
                ).distinct())
                out.append(sorted({r[0] for r in rows if r[0]}, key=str.casefold))
        return out[0], out[1]

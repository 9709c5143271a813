"""Statutory and scheduling date rules: pure functions over versioned reference tables."""

from __future__ import annotations

import bisect
import json
import re
from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

from app.domain.errors import ValidationError

__all__ = [
    "DUE_KINDS",
    "BankHoliday",
    "BankHolidayTable",
    "CivilOrderTable",
    "ContactFrequencyTable",
    "DueItem",
    "due_items_as_dicts",
    "DueKind",
    "DueStatus",
    "MopiRetentionTable",
    "NotificationPeriod",
    "OrderSchedule",
    "OrderType",
    "RetentionGroup",
    "RetentionReview",
    "WorkingCalendar",
    "add_months",
    "add_years",
    "change_notification_due",
    "closure_reviews",
    "contact_frequency_days",
    "due_status",
    "foreign_travel_notice_due",
    "initial_notification_due",
    "load_reference",
    "next_contact_due",
    "notification_end",
    "notification_period",
    "order_schedule",
    "parse_bank_holidays",
    "parse_civil_orders",
    "parse_contact_frequency",
    "parse_mopi_retention",
    "period_last_day",
    "reference_dir",
    "referral_target_due",
    "renotification_dates",
    "renotification_due",
    "retention_next_review",
]


# --- reference data -------------------------------------------------------------------------

_REFERENCE_NAME = re.compile(r"^[a-z0-9_]+$")


def reference_dir() -> Path:
    """Folder of the shipped reference files (the one place to change for a frozen app)."""
    return Path(__file__).resolve().parents[2] / "resources" / "reference"


def load_reference(name: str) -> dict[str, Any]:
    """Read ``resources/reference/NAME.json`` (on each call; nothing is read at import).

    A missing file raises ``FileNotFoundError``: the files ship with the app, so that is a
    packaging bug rather than the user's fault.
    """
    # The name becomes part of a path, so refuse anything that could leave the folder.
    if not _REFERENCE_NAME.match(name):
        raise ValidationError("name", "a reference name is lower-case letters, digits and _")
    path = reference_dir() / f"{name}.json"
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            name, f"the reference file is not valid JSON (line {exc.lineno})"
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(name, "the reference file must hold a JSON object")
    return data


def _get(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ValidationError(f"{where}.{key}", "is missing")
    return data[key]


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(where, "must be text")
    return value


def _int(value: Any, where: str, *, minimum: int = 0) -> int:
    # bool is an int subclass; a stray true/false in an edited table is a mistake, not 1/0.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(where, f"must be a whole number of at least {minimum}")
    return value


def _opt_int(value: Any, where: str, *, minimum: int = 1) -> int | None:
    return None if value is None else _int(value, where, minimum=minimum)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(where, "must be true or false")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(where, "must be an object")
    return value


def _iso_date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(_str(value, where))
    except ValueError:
        raise ValidationError(where, "must be a date written YYYY-MM-DD") from None


@dataclass(frozen=True, slots=True)
class BankHoliday:
    """One bank holiday; ``computed`` when the year had not been announced officially."""

    date: date
    title: str
    notes: str
    computed: bool


@dataclass(frozen=True, slots=True)
class BankHolidayTable:
    """The England and Wales bank holidays for the years the file covers."""

    version: str
    source: str
    first_year: int
    last_year: int
    last_announced_year: int
    holidays: tuple[BankHoliday, ...]

    def dates(self) -> frozenset[date]:
        return frozenset(h.date for h in self.holidays)


def parse_bank_holidays(data: Mapping[str, Any]) -> BankHolidayTable:
    """Check and type the ``bank_holidays_ew`` reference data."""
    where = "bank_holidays_ew"
    events = _get(data, "events", where)
    if not isinstance(events, list):
        raise ValidationError(f"{where}.events", "must be a list")
    holidays: list[BankHoliday] = []
    for i, raw in enumerate(events):
        at = f"{where}.events[{i}]"
        event = _mapping(raw, at)
        status = _str(_get(event, "status", at), f"{at}.status")
        if status not in ("announced", "computed"):
            raise ValidationError(f"{at}.status", "must be 'announced' or 'computed'")
        holidays.append(
            BankHoliday(
                date=_iso_date(_get(event, "date", at), f"{at}.date"),
                title=_str(_get(event, "title", at), f"{at}.title"),
                notes=_str(event.get("notes", ""), f"{at}.notes"),
                computed=status == "computed",
            )
        )
    holidays.sort(key=lambda h: h.date)
    first_year = _int(_get(data, "first_year", where), f"{where}.first_year", minimum=1)
    last_year = _int(_get(data, "last_year", where), f"{where}.last_year", minimum=first_year)
    return BankHolidayTable(
        version=_str(_get(data, "version", where), f"{where}.version"),
        source=_str(_get(data, "source", where), f"{where}.source"),
        first_year=first_year,
        last_year=last_year,
        last_announced_year=_int(
            _get(data, "last_announced_year", where), f"{where}.last_announced_year"
        ),
        holidays=tuple(holidays),
    )


@dataclass(frozen=True, slots=True)
class ContactFrequencyTable:
    """Required contact frequency in days by status and risk; ``None`` means no contact."""

    version: str
    unverified: bool
    risk_levels: tuple[str, ...]
    days: Mapping[str, Mapping[str, int] | None]


def parse_contact_frequency(data: Mapping[str, Any]) -> ContactFrequencyTable:
    """Check and type the ``contact_frequency`` reference data."""
    where = "contact_frequency"
    raw_levels = _get(data, "risk_levels", where)
    if not isinstance(raw_levels, list) or not raw_levels:
        raise ValidationError(f"{where}.risk_levels", "must be a non-empty list")
    levels = tuple(_str(v, f"{where}.risk_levels").lower() for v in raw_levels)
    statuses = _mapping(_get(data, "statuses", where), f"{where}.statuses")
    days: dict[str, Mapping[str, int] | None] = {}
    for status, raw in statuses.items():
        at = f"{where}.statuses.{status}"
        by_risk = _get(_mapping(raw, at), "days", at)
        if by_risk is None:
            days[status.lower()] = None
            continue
        by_risk = _mapping(by_risk, f"{at}.days")
        row: dict[str, int] = {}
        for level in levels:
            row[level] = _int(_get(by_risk, level, f"{at}.days"), f"{at}.days.{level}", minimum=1)
        days[status.lower()] = row
    return ContactFrequencyTable(
        version=_str(_get(data, "version", where), f"{where}.version"),
        unverified=_bool(data.get("unverified", False), f"{where}.unverified"),
        risk_levels=levels,
        days=days,
    )


@dataclass(frozen=True, slots=True)
class OrderType:
    """The rules for one kind of civil order; durations in months."""

    code: str
    label: str
    aliases: tuple[str, ...]
    legislation: str
    default_months: int | None
    max_months: int | None
    renewable: bool
    extendable: bool
    review_interval_months: int | None
    notes: str


@dataclass(frozen=True, slots=True)
class CivilOrderTable:
    """Every kind of civil order, by code."""

    version: str
    orders: Mapping[str, OrderType]

    def lookup(self, name: str) -> OrderType:
        """The order type whose code, label or alias is ``name`` (any case)."""
        wanted = name.strip().casefold()
        for order in self.orders.values():
            names = (order.code, order.label, *order.aliases)
            if any(wanted == n.casefold() for n in names):
                return order
        raise ValidationError("order_type", "is not a known kind of civil order")


def parse_civil_orders(data: Mapping[str, Any]) -> CivilOrderTable:
    """Check and type the ``civil_orders`` reference data."""
    where = "civil_orders"
    orders: dict[str, OrderType] = {}
    for code, raw in _mapping(_get(data, "orders", where), f"{where}.orders").items():
        at = f"{where}.orders.{code}"
        entry = _mapping(raw, at)
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list):
            raise ValidationError(f"{at}.aliases", "must be a list")
        default_months = _opt_int(entry.get("default_months"), f"{at}.default_months")
        max_months = _opt_int(entry.get("max_months"), f"{at}.max_months")
        if default_months is not None and max_months is not None and default_months > max_months:
            raise ValidationError(f"{at}.default_months", "must not exceed max_months")
        orders[code] = OrderType(
            code=code,
            label=_str(_get(entry, "label", at), f"{at}.label"),
            aliases=tuple(_str(a, f"{at}.aliases") for a in aliases),
            legislation=_str(entry.get("legislation", ""), f"{at}.legislation"),
            default_months=default_months,
            max_months=max_months,
            renewable=_bool(entry.get("renewable", False), f"{at}.renewable"),
            extendable=_bool(entry.get("extendable", False), f"{at}.extendable"),
            review_interval_months=_opt_int(
                entry.get("review_interval_months"), f"{at}.review_interval_months"
            ),
            notes=_str(entry.get("notes", ""), f"{at}.notes"),
        )
    return CivilOrderTable(
        version=_str(_get(data, "version", where), f"{where}.version"), orders=orders
    )


@dataclass(frozen=True, slots=True)
class RetentionGroup:
    """One MOPI group: its review interval and any age until which records are kept."""

    group: int
    label: str
    review_interval_years: int
    retain_until_age: int | None


@dataclass(frozen=True, slots=True)
class MopiRetentionTable:
    """The MOPI retention groups, by number."""

    version: str
    unverified: bool
    groups: Mapping[int, RetentionGroup]


def parse_mopi_retention(data: Mapping[str, Any]) -> MopiRetentionTable:
    """Check and type the ``mopi_retention`` reference data."""
    where = "mopi_retention"
    groups: dict[int, RetentionGroup] = {}
    for key, raw in _mapping(_get(data, "groups", where), f"{where}.groups").items():
        at = f"{where}.groups.{key}"
        if not str(key).isdigit():
            raise ValidationError(at, "a group is named by its number")
        entry = _mapping(raw, at)
        number = int(key)
        groups[number] = RetentionGroup(
            group=number,
            label=_str(_get(entry, "label", at), f"{at}.label"),
            review_interval_years=_int(
                _get(entry, "review_interval_years", at), f"{at}.review_interval_years", minimum=1
            ),
            retain_until_age=_opt_int(entry.get("retain_until_age"), f"{at}.retain_until_age"),
        )
    return MopiRetentionTable(
        version=_str(_get(data, "version", where), f"{where}.version"),
        unverified=_bool(data.get("unverified", False), f"{where}.unverified"),
        groups=groups,
    )


# --- calendar arithmetic --------------------------------------------------------------------


def _day(d: date) -> date:
    # A datetime is a date subclass; the rules are about days, so drop the time of day.
    return d.date() if isinstance(d, datetime) else d


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` months; a day the target month lacks becomes its last day.

    31 Jan + 1 month is 28 Feb (29 Feb in a leap year); 31 Mar - 1 month is 28/29 Feb.
    """
    d = _day(d)
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValidationError("date", "is out of the supported range")
    last = monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def add_years(d: date, n: int) -> date:
    """``d`` moved by ``n`` years; 29 Feb becomes 28 Feb in a year that is not leap.

    28 Feb (not 1 Mar) is chosen because it never puts a due date later than the anniversary
    would be in a leap year: a review or deadline falls early rather than late.
    """
    return add_months(d, 12 * n)


def period_last_day(start: date, months: int) -> date:
    """The last day of a period of ``months`` months *beginning with* ``start``.

    That is the day before the corresponding date: 15 Jan 2025 + 12 months ends 14 Jan 2026.
    When the target month has no corresponding date (a period beginning 31 Jan, or 29 Feb in a
    leap year), the corresponding date falls at the start of the next month, so the period ends
    on the last day of the target month: 1 month beginning 31 Jan ends 28 Feb; 10 years
    beginning 29 Feb 2028 end 28 Feb 2038.
    """
    start = _day(start)
    if months < 1:
        raise ValidationError("months", "a period must be at least one month")
    target = add_months(start, months)
    if target.day < start.day:
        return target
    return target - timedelta(days=1)


class WorkingCalendar:
    """Working days in England and Wales: Monday to Friday, less bank holidays."""

    def __init__(
        self, bank_holidays: Iterable[date], *, covered_years: tuple[int, int] | None = None
    ) -> None:
        self._holidays = tuple(sorted({_day(d) for d in bank_holidays if d.weekday() < 5}))
        self._holiday_set = frozenset(self._holidays)
        self._covered_years = covered_years

    @classmethod
    def from_table(cls, table: BankHolidayTable) -> WorkingCalendar:
        return cls(table.dates(), covered_years=(table.first_year, table.last_year))

    def covers(self, d: date) -> bool:
        """False when ``d`` lies in a year the bank holiday data does not list (warn the user)."""
        if self._covered_years is None:
            return True
        return self._covered_years[0] <= d.year <= self._covered_years[1]

    def is_working_day(self, d: date) -> bool:
        d = _day(d)
        return d.weekday() < 5 and d not in self._holiday_set

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (before it when ``n`` is negative).

        ``start`` itself is day 0 and need not be a working day: 5 working days from a
        Saturday is the following Friday. ``n == 0`` returns ``start`` unchanged.
        """
        current = _day(start)
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; negative when ``b`` is earlier.

        The inverse of ``add_working_days``: ``working_days_between(a, add_working_days(a, n))``
        is ``n`` whenever ``n > 0``.
        """
        a, b = _day(a), _day(b)
        if b < a:
            return -self.working_days_between(b, a)
        weekdays = _weekdays_through(b) - _weekdays_through(a)
        lo = bisect.bisect_right(self._holidays, a)
        hi = bisect.bisect_right(self._holidays, b)
        return weekdays - (hi - lo)


def _weekdays_through(d: date) -> int:
    # Ordinal 1 (1 Jan 0001) is a Monday, so each block of 7 ordinals is Monday..Sunday.
    weeks, rest = divmod(d.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


# --- due items ------------------------------------------------------------------------------

DueKind = Literal[
    "contact_due",
    "notification_due",
    "order_expiry",
    "order_review",
    "licence_date",
    "referral_review",
    "retention_review",
    "meeting",
    "action_due",
]
DUE_KINDS: tuple[DueKind, ...] = get_args(DueKind)

DueStatus = Literal["overdue", "due_soon", "later"]


@dataclass(frozen=True, slots=True)
class DueItem:
    """One dated item for the calendar and the Today view (the ``calendar`` CLI contract)."""

    date: date
    kind: DueKind
    ref: str
    title: str

    def __post_init__(self) -> None:
        if self.kind not in DUE_KINDS:
            raise ValidationError("kind", "is not a calendar item kind")

    def as_dict(self) -> dict[str, str]:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
        }


def due_items_as_dicts(items: Iterable[DueItem]) -> list[dict[str, str]]:
    """``[i.as_dict() for i in items]``, with each distinct date written once (a 90-day range
    holds ~100,000 items on 90 dates)."""
    days: dict[date, str] = {}
    out: list[dict[str, str]] = []
    for item in items:
        day = days.get(item.date)
        if day is None:
            day = days[item.date] = item.date.isoformat()
        out.append({"date": day, "kind": item.kind, "ref": item.ref, "title": item.title})
    return out


def due_status(due: date, today: date, lead_days: int = 14) -> DueStatus:
    """``overdue`` once the day has passed; ``due_soon`` from ``lead_days`` before, through it.

    An item due today is ``due_soon``, not overdue: it can still be done on time.
    """
    if lead_days < 0:
        raise ValidationError("lead_days", "must not be negative")
    due, today = _day(due), _day(today)
    if due < today:
        return "overdue"
    if due <= today + timedelta(days=lead_days):
        return "due_soon"
    return "later"


# --- notification requirements (Counter-Terrorism Act 2008 Part 4) --------------------------


@dataclass(frozen=True, slots=True)
class NotificationPeriod:
    """How long the notification requirements last, with the rule that gave it."""

    years: int
    rule_text: str


# (minimum sentence in months, period in years, rule): CTA 2008 s53, most severe band first.
_NOTIFICATION_BANDS: tuple[tuple[int, int, str], ...] = (
    (120, 30, "30 years: sentence of 10 years or more"),
    (60, 15, "15 years: sentence of 5 years to under 10"),
    (0, 10, "10 years: sentence under 5 years"),
)


def notification_period(
    sentence_months: int | None = None, *, sentence_days: int | None = None, life: bool = False
) -> NotificationPeriod:
    """The notification period for a sentence given in months, in days, or as life.

    Give exactly one. A term in days reaches N years at ``floor(365.25 * N)`` days (1826 for
    5 years, 3652 for 10): courts state long terms in years and months, so days matter only for
    a term converted from another unit. A life sentence takes the longest band.
    """
    given = (sentence_months is not None) + (sentence_days is not None) + bool(life)
    if given != 1:
        raise ValidationError("sentence", "give the sentence in months, in days, or as life")
    if life:
        return NotificationPeriod(30, "30 years: sentence of 10 years or more (life)")
    for minimum_months, years, rule in _NOTIFICATION_BANDS:
        if sentence_months is not None:
            reached = _int(sentence_months, "sentence_months") >= minimum_months
        else:
            days = _int(sentence_days, "sentence_days")
            reached = days >= minimum_months * 36525 // 1200
        if reached:
            return NotificationPeriod(years, rule)
    raise AssertionError("the last band has no minimum")  # pragma: no cover


def notification_end(start: date, period: NotificationPeriod) -> date:
    """The last day on which the requirements apply: the period runs *beginning with* ``start``.

    ``start`` is the day the person was dealt with (CTA 2008 s53). Time in custody is not
    taken off here; record a changed end date if a court or the law says otherwise.
    """
    return period_last_day(start, 12 * period.years)


_THREE_DAYS_BEGINNING_WITH = timedelta(days=2)


def initial_notification_due(event_date: date) -> date:
    """Last day for the initial notification: 3 days *beginning with* the event (CTA 2008 s47).

    The event is the day of sentence, or of release when the person went into custody (time in
    custody does not count, s47(4)). "3 days" are calendar days: the Act makes no allowance for
    weekends or bank holidays, and the event day is day 1, so sentence on Monday means notify by
    the end of Wednesday.
    """
    return _day(event_date) + _THREE_DAYS_BEGINNING_WITH


def change_notification_due(change_date: date) -> date:
    """Last day to notify a change: 3 calendar days beginning with the change (CTA 2008 s48)."""
    return _day(change_date) + _THREE_DAYS_BEGINNING_WITH


def renotification_due(last_notification: date) -> date:
    """Last day for the yearly re-notification: one year after the last notification (s49).

    Any notification (initial, change, yearly, return from abroad) restarts the year.
    """
    return add_years(_day(last_notification), 1)


def renotification_dates(start: date, end: date) -> list[date]:
    """Yearly re-notification dates from ``start`` up to and including ``end``.

    Counted from ``start`` each time rather than chained, so a 29 Feb start stays on 28 Feb only
    in years without a 29 Feb. These assume no notification in between: after one, recompute
    with ``renotification_due``.
    """
    start, end = _day(start), _day(end)
    dates: list[date] = []
    k = 1
    while (due := add_years(start, k)) <= end:
        dates.append(due)
        k += 1
    return dates


def foreign_travel_notice_due(departure: date, notice_days: int = 7) -> date:
    """Last day to give notice of foreign travel: ``notice_days`` before leaving the UK.

    Seven days is our reading (unverified) of the Counter-Terrorism Act 2008 (Foreign Travel
    Notification Requirements) Regulations 2009; a shorter notice is allowed where the person
    did not know of the travel in time, so callers may pass a smaller ``notice_days``.
    """
    _int(notice_days, "notice_days")
    return _day(departure) - timedelta(days=notice_days)


# --- civil orders ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderSchedule:
    """An order's last day in force and its review dates, with the rule that gave them."""

    order_type: str
    start: date
    end: date
    review_dates: tuple[date, ...]
    rule_text: str


def _months_text(months: int) -> str:
    if months % 12 == 0:
        years = months // 12
        return f"{years} year" if years == 1 else f"{years} years"
    return f"{months} month" if months == 1 else f"{months} months"


def order_schedule(
    order_type: str, start: date, end: date | None = None, *, table: CivilOrderTable
) -> OrderSchedule:
    """When an order ends and when it is reviewed.

    Without ``end``, the order runs for its default duration *beginning with* ``start`` (a TPIM
    notice from 15 Jan 2025 is in force through 14 Jan 2026). An ``end`` given (the date a court
    set, or after extension) must not pass the maximum. Reviews fall every interval counted from
    ``start`` (not chained, so month ends do not drift) and strictly before the end.
    """
    order = table.lookup(order_type)
    start = _day(start)
    latest = period_last_day(start, order.max_months) if order.max_months else None
    end_given = end is not None
    if end is None:
        if order.default_months is None:
            raise ValidationError("end", f"a {order.label} has no default length: give its end")
        end = period_last_day(start, order.default_months)
        length = f"{_months_text(order.default_months)} beginning with the start"
    else:
        end = _day(end)
        if end < start:
            raise ValidationError("end", "must not be before the start")
        if latest is not None and end > latest:
            raise ValidationError(
                "end", f"a {order.label} lasts at most {_months_text(order.max_months or 0)}"
            )
        length = "end as entered"
    if order.max_months and order.max_months != order.default_months and order.extendable:
        length += f" (extendable to {_months_text(order.max_months)} in all)"
    elif order.max_months and end_given:
        length += f" (at most {_months_text(order.max_months)})"
    if order.renewable:
        length += "; renewable by a further order"
    reviews: list[date] = []
    interval = order.review_interval_months
    if interval:
        k = 1
        while (review := add_months(start, k * interval)) < end:
            reviews.append(review)
            k += 1
        length += f"; reviewed every {_months_text(interval)}"
    return OrderSchedule(
        order_type=order.code,
        start=start,
        end=end,
        review_dates=tuple(reviews),
        rule_text=f"{order.label}: {length}",
    )


# --- contact plan ---------------------------------------------------------------------------


def contact_frequency_days(
    status: str, risk: str | None, table: ContactFrequencyTable, override: int | None = None
) -> int | None:
    """Days between required contacts, or ``None`` when no contact is planned.

    A per-nominal ``override`` wins wherever the status plans contact at all; it is ignored for a
    status with none (deceased, closed), where a visit would make no sense.
    """
    row_key = status.strip().lower()
    if row_key not in table.days:
        raise ValidationError("status", "is not a known nominal status")
    row = table.days[row_key]
    if row is None:
        return None
    if override is not None:
        return _int(override, "override", minimum=1)
    if risk is None:
        raise ValidationError("risk", "a risk level is needed to plan contact")
    level = risk.strip().lower()
    if level not in row:
        raise ValidationError("risk", "is not a known risk level")
    return row[level]


def next_contact_due(
    last_contact: date | None, frequency_days: int | None, start_if_none: date
) -> date | None:
    """When the next contact is due: ``frequency_days`` after the last one.

    With no contact yet, the clock runs from ``start_if_none`` (the plan start, release or
    adoption date) as though that were the last contact. ``None`` when no contact is planned.
    """
    if frequency_days is None:
        return None
    days = _int(frequency_days, "frequency_days", minimum=1)
    base = _day(last_contact) if last_contact is not None else _day(start_if_none)
    return base + timedelta(days=days)


# --- Prevent --------------------------------------------------------------------------------


def referral_target_due(
    received: date, working_days: int = 5, *, calendar: WorkingCalendar
) -> date:
    """The day by which a referral's gateway assessment should be decided.

    The day of receipt is day 0 whatever the time of day; a referral received at a weekend or
    on a bank holiday starts counting from the next working day.
    """
    return calendar.add_working_days(received, _int(working_days, "working_days", minimum=1))


def closure_reviews(closed_on: date, months: Iterable[int] = (6, 12)) -> tuple[date, ...]:
    """Review dates after a Prevent case closes (6 and 12 months by default).

    Each is counted from the closure (31 Aug 2025 gives 28 Feb 2026 and 31 Aug 2026).
    """
    closed_on = _day(closed_on)
    return tuple(add_months(closed_on, _int(m, "months", minimum=1)) for m in months)


# --- MOPI retention -------------------------------------------------------------------------


class RetentionReview(NamedTuple):
    """The next retention review date and the rule that gave it."""

    due: date
    rule_text: str


def retention_next_review(
    group: int | str, dob: date | None, last_review_or_created: date, table: MopiRetentionTable
) -> RetentionReview:
    """The next MOPI review: the group's interval after the last review (or creation).

    For a group kept until an age (group 1, age 100) the review comes sooner if that birthday
    comes first; there the question is disposal. Once the person is past that age (a record
    retained on review), the periodic interval applies again. A 29 Feb birthday counts as 28 Feb
    in a year that is not leap (see ``add_years``).
    """
    if isinstance(group, str):
        if not group.strip().isdigit():
            raise ValidationError("group", "is not a MOPI group number")
        group = int(group.strip())
    if group not in table.groups:
        raise ValidationError("group", "is not a MOPI group")
    rule = table.groups[group]
    base = _day(last_review_or_created)
    interval = rule.review_interval_years
    periodic = add_years(base, interval)
    text = f"Group {group}: review every {_months_text(12 * interval)} from the last review"
    if rule.retain_until_age is None:
        return RetentionReview(periodic, text)
    age = rule.retain_until_age
    if dob is None:
        return RetentionReview(
            periodic, f"{text} (date of birth unknown: the age {age} limit cannot be applied)"
        )
    dob = _day(dob)
    if dob > base:
        raise ValidationError("dob", "is after the record was created or reviewed")
    limit = add_years(dob, age)
    if base < limit < periodic:
        return RetentionReview(
            limit, f"Group {group}: retained until age {age}; disposal review at age {age}"
        )
    return RetentionReview(periodic, f"{text}; retained until age {age}")

"""Meetings, actions, correspondence and performance targets: types, parsing and pure rules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from app.domain.errors import ValidationError
from app.domain.text import clean_text as _clean_text

__all__ = [
    "ACTION_REF_PREFIX",
    "CORRESPONDENCE_REF_PREFIX",
    "ISA_REF_PREFIX",
    "MEETING_REF_PREFIX",
    "ActionInput",
    "ActionStatus",
    "AttendeeInput",
    "CorrespondenceInput",
    "Direction",
    "Figure",
    "IsaInput",
    "MeetingInput",
    "MeetingLists",
    "MeetingStatus",
    "NominalPick",
    "Period",
    "TargetDef",
    "clean_text",
    "format_ref",
    "is_overdue",
    "last_months",
    "parse_meeting_json",
    "parse_meeting_lists",
    "parse_period",
    "parse_ref",
    "parse_targets",
    "ratio_figure",
]

MEETING_REF_PREFIX = "MTG-"
ACTION_REF_PREFIX = "ACT-"
CORRESPONDENCE_REF_PREFIX = "COR-"
ISA_REF_PREFIX = "ISA-"


def clean_text(value: Any, field_name: str, max_len: int, *, required: bool = False,
               multiline: bool = False) -> str:
    """Trimmed text with control characters refused; '' when empty and not required (the
    shared check, ``app.domain.text.clean_text``)."""
    return _clean_text(value, field_name, max_len, required=required, multiline=multiline)


def format_ref(prefix: str, number: int) -> str:
    return f"{prefix}{number:06d}"


def parse_ref(prefix: str, text: str | int) -> int | None:
    """The number of ``MTG-000012``, ``mtg-12`` or ``12`` (None if it is not one)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if text > 0 else None
    if not isinstance(text, str):
        return None
    raw = text.strip().upper()
    if raw.startswith(prefix):
        raw = raw[len(prefix):]
    if not raw.isdigit() or len(raw) > 9 or int(raw) == 0:
        return None
    return int(raw)


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


def is_overdue(due: date | None, status: str, today: date) -> bool:
    """An open action is overdue once its due day has passed (due today is still on time)."""
    return status == ActionStatus.OPEN and due is not None and due < today


# --- reference lists ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingTypeDef:
    code: str
    label: str
    standing_items: tuple[str, ...]


@dataclass(frozen=True)
class MeetingLists:
    """The ``meeting_types`` reference list: meeting types, correspondence types, agencies."""

    version: str
    meeting_types: Mapping[str, MeetingTypeDef]
    correspondence_types: Mapping[str, str]
    partner_agencies: tuple[str, ...]

    def meeting_type(self, code: str, field_name: str = "type") -> MeetingTypeDef:
        key = (code or "").strip().lower()
        found = self.meeting_types.get(key)
        if found is None:
            for item in self.meeting_types.values():
                if item.label.casefold() == (code or "").strip().casefold():
                    return item
            raise ValidationError(
                field_name, f"must be one of {', '.join(sorted(self.meeting_types))}")
        return found

    def correspondence_type(self, code: str, field_name: str = "type") -> str:
        key = (code or "").strip().lower()
        if key not in self.correspondence_types:
            raise ValidationError(
                field_name, f"must be one of {', '.join(sorted(self.correspondence_types))}")
        return key

    def label(self, code: str) -> str:
        item = self.meeting_types.get(code)
        return item.label if item else code


def parse_meeting_lists(data: Mapping[str, Any]) -> MeetingLists:
    where = "meeting_types"
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise ValidationError(f"{where}.version", "is missing")
    raw_types = data.get("meeting_types")
    if not isinstance(raw_types, Mapping) or not raw_types:
        raise ValidationError(f"{where}.meeting_types", "must be a non-empty object")
    types: dict[str, MeetingTypeDef] = {}
    for code, raw in raw_types.items():
        at = f"{where}.meeting_types.{code}"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("label"), str):
            raise ValidationError(at, "must be an object with a label")
        items = raw.get("standing_items", [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValidationError(f"{at}.standing_items", "must be a list of texts")
        types[str(code)] = MeetingTypeDef(str(code), raw["label"], tuple(items))
    raw_corr = data.get("correspondence_types")
    if not isinstance(raw_corr, Mapping) or not all(
            isinstance(v, str) for v in raw_corr.values()):
        raise ValidationError(f"{where}.correspondence_types", "must map codes to labels")
    agencies = data.get("partner_agencies", [])
    if not isinstance(agencies, list) or not all(isinstance(a, str) for a in agencies):
        raise ValidationError(f"{where}.partner_agencies", "must be a list of texts")
    return MeetingLists(version, types, {str(k): v for k, v in raw_corr.items()},
                        tuple(agencies))


# --- meeting input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendeeInput:
    name: str
    agency: str = ""
    role: str = ""


@dataclass(frozen=True)
class NominalPick:
    """A nominal chosen for discussion and why (the reason prints in the agenda)."""

    ref: str
    reason: str = ""


@dataclass(frozen=True)
class ActionInput:
    text: str
    owner: str
    due: date
    nominal_ref: str | None = None
    meeting_id: int | None = None


@dataclass(frozen=True)
class MeetingInput:
    meeting_type: str
    starts_at: datetime
    chair: str
    location: str = ""
    attendees: tuple[AttendeeInput, ...] = ()
    # None: the type's standing items from the reference list; () for none at all.
    standing_items: tuple[str, ...] | None = None
    nominals: tuple[NominalPick, ...] = ()
    actions: tuple[ActionInput, ...] = ()
    notes: str = ""


MEETING_KEYS = frozenset({"type", "date", "time", "chair", "location", "attendees",
                          "standing_items", "nominals", "actions", "notes"})
ATTENDEE_KEYS = frozenset({"name", "agency", "role"})
PICK_KEYS = frozenset({"ref", "reason"})
ACTION_KEYS = frozenset({"text", "owner", "due", "nominal"})


def _unknown(obj: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ValidationError(f"{where}{key}", "is not a known field")


def _iso(value: Any, field_name: str) -> date:
    if not isinstance(value, str):
        raise ValidationError(field_name, "must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(field_name, "must be a date written YYYY-MM-DD") from None


def _clock(value: Any, field_name: str) -> time:
    if value is None or value == "":
        return time(10, 0)
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        raise ValidationError(field_name, "must be a time written HH:MM")
    hours, minutes = (int(p) for p in value.strip().split(":"))
    if hours > 23 or minutes > 59:
        raise ValidationError(field_name, "must be a time written HH:MM")
    return time(hours, minutes)


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f"{where}{key}", "must be a list")
    return value


def parse_meeting_json(obj: Any, where: str = "") -> MeetingInput:
    """One meeting object of ``meeting add --from``; unknown keys and bad values raise
    ValidationError naming the key (``[2].attendees[0].agency``)."""
    if not isinstance(obj, Mapping):
        raise ValidationError(where.rstrip(".") or "meeting", "must be a JSON object")
    _unknown(obj, MEETING_KEYS, where)
    when = _iso(obj.get("date"), f"{where}date")
    starts = datetime.combine(when, _clock(obj.get("time"), f"{where}time"))
    attendees: list[AttendeeInput] = []
    for i, raw in enumerate(_list(obj, "attendees", where)):
        at = f"{where}attendees[{i}]"
        if isinstance(raw, str):
            attendees.append(AttendeeInput(clean_text(raw, at, 200, required=True)))
        elif isinstance(raw, Mapping):
            _unknown(raw, ATTENDEE_KEYS, f"{at}.")
            attendees.append(AttendeeInput(
                clean_text(raw.get("name"), f"{at}.name", 200, required=True),
                clean_text(raw.get("agency"), f"{at}.agency", 200),
                clean_text(raw.get("role"), f"{at}.role", 200)))
        else:
            raise ValidationError(at, "must be a name or {name, agency, role}")
    standing: tuple[str, ...] | None = None
    if obj.get("standing_items") is not None:
        standing = tuple(clean_text(t, f"{where}standing_items[{i}]", 300, required=True)
                         for i, t in enumerate(_list(obj, "standing_items", where)))
    picks: list[NominalPick] = []
    for i, raw in enumerate(_list(obj, "nominals", where)):
        at = f"{where}nominals[{i}]"
        if isinstance(raw, str):
            picks.append(NominalPick(clean_text(raw, at, 20, required=True)))
        elif isinstance(raw, Mapping):
            _unknown(raw, PICK_KEYS, f"{at}.")
            picks.append(NominalPick(clean_text(raw.get("ref"), f"{at}.ref", 20, required=True),
                                     clean_text(raw.get("reason"), f"{at}.reason", 500)))
        else:
            raise ValidationError(at, "must be a nominal ref or {ref, reason}")
    actions: list[ActionInput] = []
    for i, raw in enumerate(_list(obj, "actions", where)):
        at = f"{where}actions[{i}]"
        if not isinstance(raw, Mapping):
            raise ValidationError(at, "must be an object {text, owner, due, nominal}")
        _unknown(raw, ACTION_KEYS, f"{at}.")
        nominal = raw.get("nominal")
        actions.append(ActionInput(
            clean_text(raw.get("text"), f"{at}.text", 2000, required=True, multiline=True),
            clean_text(raw.get("owner"), f"{at}.owner", 200, required=True),
            _iso(raw.get("due"), f"{at}.due"),
            clean_text(nominal, f"{at}.nominal", 20) or None))
    return MeetingInput(
        meeting_type=clean_text(obj.get("type"), f"{where}type", 100, required=True),
        starts_at=starts,
        chair=clean_text(obj.get("chair"), f"{where}chair", 200, required=True),
        location=clean_text(obj.get("location"), f"{where}location", 300),
        attendees=tuple(attendees),
        standing_items=standing,
        nominals=tuple(picks),
        actions=tuple(actions),
        notes=clean_text(obj.get("notes"), f"{where}notes", 10_000, multiline=True),
    )


# --- correspondence -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IsaInput:
    title: str
    parties: tuple[str, ...]
    purpose: str
    review_date: date
    start_date: date | None = None
    reference: str = ""
    legal_basis: str = ""


@dataclass(frozen=True)
class CorrespondenceInput:
    agency: str
    direction: Direction
    sent_on: date
    subject: str
    corr_type: str = "general"
    isa_id: int | None = None
    nominal_refs: tuple[str, ...] = ()
    reply_by: date | None = None
    summary: str = ""
    # Why an outgoing item was disclosed (the audit's justification); the ISA's purpose if empty.
    justification: str = ""
    # The item this one answers (ref or id): it must go the other way (in answers out).
    reply_to: str | int | None = None


# --- performance --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A month or a quarter: first and last day, a key (2025-03, 2025-Q1) and a label."""

    start: date
    end: date
    key: str
    label: str

    @property
    def is_month(self) -> bool:
        return "Q" not in self.key

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end


def _month_end(d: date) -> date:
    first_next = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    return Period(start, _month_end(start), f"{year:04d}-{month:02d}", start.strftime("%b %Y"))


def parse_period(text: str, field_name: str = "period") -> Period:
    """``2025-03`` (a month) or ``2025-Q1`` (January to March)."""
    raw = (text or "").strip().upper()
    m = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if m and 1 <= int(m.group(2)) <= 12:
        return month_period(int(m.group(1)), int(m.group(2)))
    q = re.fullmatch(r"(\d{4})-?Q([1-4])", raw)
    if q:
        year, quarter = int(q.group(1)), int(q.group(2))
        start = date(year, 3 * quarter - 2, 1)
        end = _month_end(date(year, 3 * quarter, 1))
        return Period(start, end, f"{year:04d}-Q{quarter}", f"Q{quarter} {year}")
    raise ValidationError(field_name, "must be a month YYYY-MM or a quarter YYYY-Qn")


def last_months(end_month: date, count: int = 12) -> list[Period]:
    """The ``count`` months ending with the month of ``end_month``, oldest first."""
    year, month = end_month.year, end_month.month
    out: list[Period] = []
    for _ in range(count):
        out.append(month_period(year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


@dataclass(frozen=True)
class TargetDef:
    code: str
    label: str
    unit: str  # percent | count
    direction: str  # at_least | at_most
    target: float
    description: str = ""

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value >= self.target if self.direction == "at_least" else value <= self.target


TARGET_CODES = ("contacts_on_time", "records_clean", "duplicates_open", "actions_on_time",
                "referrals_triaged", "reviews_on_time")


def parse_targets(data: Mapping[str, Any]) -> tuple[str, list[TargetDef]]:
    """Check the ``targets`` reference list: (version, targets in the listed order)."""
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise ValidationError("targets.version", "is missing")
    raw = data.get("targets")
    if not isinstance(raw, list) or not raw:
        raise ValidationError("targets.targets", "must be a non-empty list")
    out: list[TargetDef] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        at = f"targets.targets[{i}]"
        if not isinstance(item, Mapping):
            raise ValidationError(at, "must be an object")
        code = item.get("code")
        if code not in TARGET_CODES:
            raise ValidationError(f"{at}.code", f"must be one of {', '.join(TARGET_CODES)}")
        if code in seen:
            raise ValidationError(f"{at}.code", "appears twice")
        seen.add(code)
        unit = item.get("unit")
        if unit not in ("percent", "count"):
            raise ValidationError(f"{at}.unit", "must be percent or count")
        direction = item.get("direction")
        if direction not in ("at_least", "at_most"):
            raise ValidationError(f"{at}.direction", "must be at_least or at_most")
        target = item.get("target")
        if isinstance(target, bool) or not isinstance(target, int | float) or target < 0 or (
                unit == "percent" and target > 100):
            raise ValidationError(f"{at}.target", "must be a number (0-100 for a percentage)")
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            raise ValidationError(f"{at}.label", "is missing")
        description = item.get("description", "")
        out.append(TargetDef(str(code), label, str(unit), str(direction), float(target),
                             description if isinstance(description, str) else ""))
    return version, out


@dataclass(frozen=True)
class Figure:
    """One measure for one period: the actual against its target, or "no data" with why.

    ``value`` is None when there is nothing to measure (no source table, or nothing fell due);
    ``numerator``/``denominator`` are the counts a percentage was made from."""

    code: str
    label: str
    unit: str
    target: float
    direction: str
    value: float | None
    numerator: int | None = None
    denominator: int | None = None
    note: str = ""
    source: str = "live"  # live | snapshot | none
    met: bool | None = field(default=None)

    @property
    def value_text(self) -> str:
        if self.value is None:
            return "no data"
        if self.unit == "percent":
            return f"{self.value:.1f}%"
        return f"{self.value:g}"

    @property
    def target_text(self) -> str:
        sign = "≥" if self.direction == "at_least" else "≤"
        unit = "%" if self.unit == "percent" else ""
        return f"{sign} {self.target:g}{unit}"

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "unit": self.unit,
                "target": self.target, "direction": self.direction, "value": self.value,
                "numerator": self.numerator, "denominator": self.denominator,
                "met": self.met, "note": self.note, "source": self.source}


def ratio_figure(t: TargetDef, numerator: int, denominator: int, *, note: str = "",
                 empty_note: str = "nothing fell due in the period") -> Figure:
    """A percentage figure; "no data" (None) when the denominator is zero."""
    value = None if denominator == 0 else round(100.0 * numerator / denominator, 1)
    return Figure(t.code, t.label, t.unit, t.target, t.direction, value, numerator,
                  denominator, note if value is not None else (note or empty_note),
                  "live" if value is not None else "none", t.met(value))


def no_data(t: TargetDef, note: str) -> Figure:
    return Figure(t.code, t.label, t.unit, t.target, t.direction, None, None, None, note,
                  "none", None)


def count_figure(t: TargetDef, count: int, source: str = "live", note: str = "") -> Figure:
    return Figure(t.code, t.label, t.unit, t.target, t.direction, float(count), count, None,
                  note, source, t.met(float(count)))


def unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))

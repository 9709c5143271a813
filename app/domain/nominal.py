"""The nominal record: dataclasses, enumerations, JSON parsing and validation (every problem)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from app.domain.errors import ValidationError
from app.domain.pnc import parse_pnc
from app.domain.text import text_problem, tidy_text

__all__ = [
    "CONTRACT_KEYS",
    "DATE_FIELDS",
    "DATE_LABELS",
    "DATE_ORDER_RULES",
    "MANDATORY_FIELDS",
    "Address",
    "Alias",
    "DateOrderRule",
    "Gender",
    "Identifier",
    "IdentifierType",
    "LicenceDates",
    "Nominal",
    "NominalFilter",
    "NominalInvalid",
    "NominalRow",
    "Problem",
    "RiskLevel",
    "Rosh",
    "Severity",
    "SortKey",
    "Status",
    "default_retention_group",
    "diff_for_history",
    "flatten_for_history",
    "format_ref",
    "nominal_to_json",
    "parse_nominal_json",
    "parse_nominals_json",
    "parse_ref",
    "validate_nominal",
]


class Gender(StrEnum):
    M = "M"
    F = "F"
    X = "X"
    U = "U"


class Status(StrEnum):
    CUSTODY = "custody"
    COMMUNITY = "community"
    ABROAD = "abroad"
    DECEASED = "deceased"
    CLOSED = "closed"


class RiskLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Rosh(StrEnum):
    """Risk of serious harm."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very high"


class IdentifierType(StrEnum):
    """Kinds of identifier; the values are the kinds app.services.matching compares."""

    PNC = "pnc"
    CRO = "cro"
    PASSPORT = "passport"
    PRISON_NUMBER = "prison_number"
    NOMIS = "nomis"

    @property
    def label(self) -> str:
        return _IDENTIFIER_LABELS[self]


_IDENTIFIER_LABELS = {
    IdentifierType.PNC: "PNC",
    IdentifierType.CRO: "CRO",
    IdentifierType.PASSPORT: "passport",
    IdentifierType.PRISON_NUMBER: "prison number",
    IdentifierType.NOMIS: "NOMIS ID",
}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding: the field it belongs to (JSON path), a message, a severity."""

    field: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Alias:
    surname: str = ""
    forenames: str = ""
    dob: date | None = None


@dataclass(frozen=True, slots=True)
class Identifier:
    type: IdentifierType
    value: str


@dataclass(frozen=True, slots=True)
class Address:
    text: str
    postcode: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class LicenceDates:
    """Sentence and licence dates (statutory dates that drive the calendar)."""

    sentence_date: date | None = None
    sed: date | None = None  # sentence end
    led: date | None = None  # licence end
    crd: date | None = None  # conditional release
    ard: date | None = None  # automatic release
    ped: date | None = None  # parole eligibility
    npd: date | None = None  # non-parole
    tused: date | None = None  # top-up supervision end
    hdced: date | None = None  # home detention curfew eligibility
    prrd: date | None = None  # post-recall release
    notification_start: date | None = None


DATE_LABELS: dict[str, str] = {
    "dob": "date of birth",
    "release_date": "release date",
    "notification_end": "notification end",
    "sentence_date": "sentence date",
    "sed": "SED",
    "led": "LED",
    "crd": "CRD",
    "ard": "ARD",
    "ped": "PED",
    "npd": "NPD",
    "tused": "TUSED",
    "hdced": "HDCED",
    "prrd": "PRRD",
    "notification_start": "notification start",
}

DATE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(LicenceDates))


@dataclass(frozen=True, slots=True)
class Nominal:
    """A nominal as entered. Display keeps what was typed; matching uses folded keys."""

    surname: str
    forenames: str = ""
    ref: str | None = None
    dob: date | None = None
    gender: Gender | None = None
    pnc: str | None = None
    cro: str | None = None
    aliases: tuple[Alias, ...] = ()
    status: Status | None = None
    establishment: str | None = None
    release_date: date | None = None
    risk_level: RiskLevel | None = None
    mappa_category: int | None = None
    mappa_level: int | None = None
    nominal_manager: str | None = None
    force: str | None = None
    offence: str | None = None
    notification_end: date | None = None
    notes: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    addresses: tuple[Address, ...] = ()
    dates: LicenceDates = field(default_factory=LicenceDates)
    rosh: Rosh | None = None
    retention_group: int | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    merged_into: str | None = None
    merged_at: datetime | None = None
    erased: bool = False

    @property
    def pnc_normalised(self) -> str | None:
        parsed = parse_pnc(self.pnc) if self.pnc else None
        return parsed.normalised if parsed else None

    @property
    def display_name(self) -> str:
        return f"{self.surname.upper()}, {self.forenames}".rstrip(", ")

    def date_value(self, name: str) -> date | None:
        """Any date of the record by flat name (dob, release_date, led, ...)."""
        if name in DATE_FIELDS:
            value: date | None = getattr(self.dates, name)
            return value
        value = getattr(self, name)
        return value

    def with_changes(self, **changes: Any) -> Nominal:
        return replace(self, **changes)


# --- references -------------------------------------------------------------------------------

REF_PREFIX = "NM-"
_REF = re.compile(r"^\s*(?:nm)?[\s\-_/]*0*(\d{1,9})\s*$", re.IGNORECASE)


def format_ref(number: int) -> str:
    return f"{REF_PREFIX}{number:06d}"


def parse_ref(text: str) -> int | None:
    """The number of a reference written NM-000123, NM-123, nm123 or 123; None otherwise."""
    match = _REF.match(text or "")
    if not match:
        return None
    number = int(match.group(1))
    return number if number > 0 else None


# --- retention ----------------------------------------------------------------------------------

# MOPI group 1 covers public-protection matters, which every terrorism offence is; group 2 other
# sexual or violent offences; group 3 the rest. Keyword reading of a free-text offence: only a
# default, which the coordinator may change on the record.
_GROUP_1_WORDS = ("terror", "tact", "explosive", "proscribed", "ta 2000", "ta 2006", "cta 2008")
_GROUP_2_WORDS = ("sexual", "rape", "murder", "manslaughter", "violen", "wounding", "assault",
                  "grievous", "firearm", "weapon", "arson", "kidnap", "robbery")


def default_retention_group(offence: str | None) -> int:
    text = (offence or "").lower()
    if any(word in text for word in _GROUP_1_WORDS):
        return 1
    if any(word in text for word in _GROUP_2_WORDS):
        return 2
    return 3


# --- validation ---------------------------------------------------------------------------------

EARLIEST_DOB = date(1900, 1, 1)
EARLIEST_EVENT = date(1950, 1, 1)
MAX_YEARS_AHEAD = 100  # notification can run 30 years beyond a long licence
MIN_AGE_AT_SENTENCE = 10  # age of criminal responsibility in England and Wales
MAX_TEXT = {"surname": 100, "forenames": 150, "pnc": 40, "cro": 40, "establishment": 200,
            "nominal_manager": 200, "force": 200, "offence": 500, "notes": 20000}
# Free text that keeps its line breaks (and right-to-left controls); every other text field of a
# nominal (names, references, places) is one line.
MULTILINE_FIELDS = frozenset({"offence", "notes"})

MANDATORY_FIELDS: tuple[str, ...] = (
    "surname", "forenames", "dob", "status", "force", "nominal_manager"
)


@dataclass(frozen=True, slots=True)
class DateOrderRule:
    """``earlier`` must not fall after ``later`` (or must fall strictly before, if strict)."""

    earlier: str
    later: str
    message: str
    strict: bool = False


# One list for the form, the import and the data-quality rule (which turns it into SQL).
DATE_ORDER_RULES: tuple[DateOrderRule, ...] = (
    DateOrderRule("dob", "sentence_date", "is before the date of birth", strict=True),
    DateOrderRule("dob", "release_date", "is before the date of birth", strict=True),
    DateOrderRule("sentence_date", "release_date", "is before the sentence date"),
    DateOrderRule("sentence_date", "crd", "is before the sentence date"),
    DateOrderRule("sentence_date", "ard", "is before the sentence date"),
    DateOrderRule("sentence_date", "ped", "is before the sentence date"),
    DateOrderRule("sentence_date", "npd", "is before the sentence date"),
    DateOrderRule("sentence_date", "hdced", "is before the sentence date"),
    DateOrderRule("sentence_date", "sed", "is before the sentence date"),
    DateOrderRule("sentence_date", "led", "is before the sentence date"),
    DateOrderRule("crd", "led", "is before CRD"),
    DateOrderRule("hdced", "crd", "is before HDCED"),
    DateOrderRule("led", "tused", "is before LED"),
    DateOrderRule("sed", "tused", "is before SED"),
    DateOrderRule("sentence_date", "notification_end", "is not after the sentence date",
                  strict=True),
    DateOrderRule("notification_start", "notification_end",
                  "is not after the notification start", strict=True),
)


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


SHOWN_KEY_CHARS = 40


def shown_key(key: object) -> str:
    """A key from an untrusted file as an error message names it: every character that is not
    printable (escape sequences, newlines, bidi overrides) and the backslash escaped as repr()
    would, and cut to SHOWN_KEY_CHARS characters, so the message cannot drive a terminal or
    forge a line of output."""
    text = str(key)
    head = text[:SHOWN_KEY_CHARS]
    shown = "".join(ch if ch.isprintable() and ch != "\\" else repr(ch)[1:-1] for ch in head)
    return shown + ("…" if len(text) > SHOWN_KEY_CHARS else "")


def _date_path(prefix: str, name: str) -> str:
    return _path(prefix, f"dates.{name}" if name in DATE_FIELDS else name)


def validate_nominal(n: Nominal, today: date, prefix: str = "") -> list[Problem]:
    """Every problem with a record: errors block saving, warnings are shown and allowed."""
    out: list[Problem] = []

    def add(name: str, message: str, severity: Severity = Severity.ERROR) -> None:
        out.append(Problem(_path(prefix, name), message, severity))

    if not n.surname.strip():
        add("surname", "is required")
    for name in MANDATORY_FIELDS[1:]:
        value = getattr(n, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            add(name, "is missing (a mandatory field for the national list)", Severity.WARNING)
    for name, limit in MAX_TEXT.items():
        value = getattr(n, name)
        if isinstance(value, str) and len(value) > limit:
            add(name, f"is longer than {limit} characters")
        if isinstance(value, str) and (
            problem := text_problem(value, multiline=name in MULTILINE_FIELDS)
        ):
            add(name, problem)
    if n.mappa_category is not None and not 1 <= n.mappa_category <= 4:
        add("mappa_category", "must be 1, 2, 3 or 4")
    if n.mappa_level is not None and not 1 <= n.mappa_level <= 3:
        add("mappa_level", "must be 1, 2 or 3")
    if (n.mappa_level is None) != (n.mappa_category is None):
        missing = "mappa_level" if n.mappa_level is None else "mappa_category"
        add(missing, "is missing while the other MAPPA field is set", Severity.WARNING)
    if n.retention_group is not None and n.retention_group not in (1, 2, 3):
        add("retention_group", "must be MOPI group 1, 2 or 3")
    out.extend(_pnc_problems(n.pnc, _path(prefix, "pnc")))
    out.extend(_date_problems(n, today, prefix))
    for i, alias in enumerate(n.aliases):
        where = _path(prefix, f"aliases[{i}]")
        if not alias.surname.strip() and not alias.forenames.strip():
            out.append(Problem(f"{where}.surname", "an alias needs a surname or forenames"))
        for part in ("surname", "forenames"):
            if problem := text_problem(getattr(alias, part)):
                out.append(Problem(f"{where}.{part}", problem))
        if alias.dob is not None:
            out.extend(_dob_problems(alias.dob, today, f"{where}.dob"))
    for i, ident in enumerate(n.identifiers):
        where = _path(prefix, f"identifiers[{i}]")
        if problem := text_problem(ident.value):
            out.append(Problem(f"{where}.value", problem))
        elif not ident.value.strip():
            out.append(Problem(f"{where}.value", "is empty"))
        elif ident.type is IdentifierType.PNC:
            out.extend(_pnc_problems(ident.value, f"{where}.value"))
    for i, address in enumerate(n.addresses):
        where = _path(prefix, f"addresses[{i}]")
        if problem := text_problem(address.text, multiline=True):
            out.append(Problem(f"{where}.text", problem))
        elif not address.text.strip():
            out.append(Problem(f"{where}.text", "is empty"))
        if problem := text_problem(address.postcode):
            out.append(Problem(f"{where}.postcode", problem))
        if address.date_from and address.date_to and address.date_to < address.date_from:
            out.append(Problem(f"{where}.date_to", "is before the date the address starts"))
    if n.status is Status.CUSTODY and n.release_date and n.release_date < today:
        add("status", "is custody but the release date has passed", Severity.WARNING)
    if n.status is Status.CUSTODY and not (n.establishment or "").strip():
        add("establishment", "is missing for a nominal in custody", Severity.WARNING)
    return out


def _pnc_problems(text: str | None, where: str) -> list[Problem]:
    if text is None or not text.strip():
        return []
    parsed = parse_pnc(text)
    if parsed is None:
        return [Problem(where, "is not a PNC ID (write it YYYY/NNNNNNNL)")]
    if not parsed.check_ok:
        return [Problem(where, "check letter does not match the year and serial",
                        Severity.WARNING)]
    return []


def _dob_problems(dob: date, today: date, where: str) -> list[Problem]:
    if dob > today:
        return [Problem(where, "is in the future")]
    if dob < EARLIEST_DOB:
        return [Problem(where, f"is before {EARLIEST_DOB.year}")]
    return []


def _date_problems(n: Nominal, today: date, prefix: str) -> list[Problem]:
    out: list[Problem] = []
    if n.dob is not None:
        out.extend(_dob_problems(n.dob, today, _path(prefix, "dob")))
    latest = date(min(today.year + MAX_YEARS_AHEAD, 9999), 12, 31)
    names = ("release_date", "notification_end", *DATE_FIELDS)
    for name in names:
        value = n.date_value(name)
        if value is None:
            continue
        where = _date_path(prefix, name)
        if value < EARLIEST_EVENT:
            out.append(Problem(where, f"is before {EARLIEST_EVENT.year}"))
        elif value > latest:
            out.append(Problem(where, "is implausibly far in the future"))
    sentence = n.dates.sentence_date
    if sentence is not None and sentence > today:
        out.append(Problem(_date_path(prefix, "sentence_date"), "is in the future"))
    if sentence is not None and n.dob is not None and n.dob < sentence:
        age = sentence.year - n.dob.year - ((sentence.month, sentence.day) < (n.dob.month,
                                                                               n.dob.day))
        if age < MIN_AGE_AT_SENTENCE:
            out.append(Problem(_path(prefix, "dob"),
                               f"makes the nominal under {MIN_AGE_AT_SENTENCE} at sentence",
                               Severity.WARNING))
    for rule in DATE_ORDER_RULES:
        early, late = n.date_value(rule.earlier), n.date_value(rule.later)
        if early is None or late is None:
            continue
        if late < early or (rule.strict and late == early):
            out.append(Problem(_date_path(prefix, rule.later), rule.message))
    return out


# --- JSON (the command-line contract) -----------------------------------------------------------

CONTRACT_KEYS: tuple[str, ...] = (
    "ref", "surname", "forenames", "dob", "gender", "pnc", "cro", "aliases", "status",
    "establishment", "release_date", "risk_level", "mappa_category", "mappa_level",
    "nominal_manager", "force", "offence", "notification_end", "notes",
)
_ALIAS_KEYS = ("surname", "forenames", "dob")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def nominal_to_json(n: Nominal) -> dict[str, Any]:
    """The contract's nominal object, exactly its keys, in its order; missing values are null."""
    return {
        "ref": n.ref,
        "surname": n.surname,
        "forenames": n.forenames or None,
        "dob": _iso(n.dob),
        "gender": n.gender.value if n.gender else None,
        "pnc": n.pnc,
        "cro": n.cro,
        "aliases": [
            {"surname": a.surname or None, "forenames": a.forenames or None, "dob": _iso(a.dob)}
            for a in n.aliases
        ],
        "status": n.status.value if n.status else None,
        "establishment": n.establishment,
        "release_date": _iso(n.release_date),
        "risk_level": n.risk_level.value if n.risk_level else None,
        "mappa_category": n.mappa_category,
        "mappa_level": n.mappa_level,
        "nominal_manager": n.nominal_manager,
        "force": n.force,
        "offence": n.offence,
        "notification_end": _iso(n.notification_end),
        "notes": n.notes,
    }


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))


def _text(raw: Mapping[str, Any], key: str, where: str, c: _Collector) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        c.error(where, "must be text")
        return None
    field_name = where.rsplit(".", 1)[-1]
    problem = text_problem(value, multiline=field_name in MULTILINE_FIELDS)
    if problem is not None:
        c.error(where, problem)
        return None
    return tidy_text(value, multiline=field_name in MULTILINE_FIELDS) or None


def _date(raw: Mapping[str, Any], key: str, where: str, c: _Collector) -> date | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE_RE.match(value):
        c.error(where, "must be a date written YYYY-MM-DD")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        c.error(where, "not a real date")
        return None


def _enum(raw: Mapping[str, Any], key: str, where: str, enum: type[StrEnum],
          c: _Collector) -> Any:
    value = raw.get(key)
    if value is None:
        return None
    choices = [e.value for e in enum]
    if isinstance(value, str):
        for e in enum:
            if e.value == value.strip() or e.value.lower() == value.strip().lower():
                return e
    c.error(where, "must be one of " + ", ".join(choices))
    return None


def _small_int(raw: Mapping[str, Any], key: str, where: str, low: int, high: int,
               c: _Collector) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        c.error(where, f"must be a whole number from {low} to {high}")
        return None
    return value


def parse_nominal_json(raw: Any, prefix: str = "") -> tuple[Nominal | None, list[Problem]]:
    """One nominal from the contract's JSON: unknown keys and bad values are errors.

    Returns the record (None if it could not be built) and every problem found, including the
    warnings of ``validate_nominal`` — the caller decides with ``today``-free checks here and
    calls ``validate_nominal`` itself for the date rules."""
    c = _Collector()
    where = prefix or "nominal"
    if not isinstance(raw, Mapping):
        return None, [Problem(where, "must be a JSON object")]
    for key in raw:
        if key not in CONTRACT_KEYS:
            c.error(_path(prefix, shown_key(key)), "is not a field of a nominal")
    if raw.get("ref") is not None:
        c.error(_path(prefix, "ref"), "is assigned by Caseward; leave it out")
    surname = _text(raw, "surname", _path(prefix, "surname"), c)
    forenames = _text(raw, "forenames", _path(prefix, "forenames"), c)
    aliases: list[Alias] = []
    raw_aliases = raw.get("aliases")
    if raw_aliases is not None and not isinstance(raw_aliases, list):
        c.error(_path(prefix, "aliases"), "must be a list")
    for i, item in enumerate(raw_aliases if isinstance(raw_aliases, list) else []):
        at = _path(prefix, f"aliases[{i}]")
        if not isinstance(item, Mapping):
            c.error(at, "must be an object with surname, forenames and dob")
            continue
        for key in item:
            if key not in _ALIAS_KEYS:
                c.error(f"{at}.{shown_key(key)}", "is not a field of an alias")
        aliases.append(
            Alias(
                surname=_text(item, "surname", f"{at}.surname", c) or "",
                forenames=_text(item, "forenames", f"{at}.forenames", c) or "",
                dob=_date(item, "dob", f"{at}.dob", c),
            )
        )
    nominal = Nominal(
        surname=surname or "",
        forenames=forenames or "",
        dob=_date(raw, "dob", _path(prefix, "dob"), c),
        gender=_enum(raw, "gender", _path(prefix, "gender"), Gender, c),
        pnc=_text(raw, "pnc", _path(prefix, "pnc"), c),
        cro=_text(raw, "cro", _path(prefix, "cro"), c),
        aliases=tuple(aliases),
        status=_enum(raw, "status", _path(prefix, "status"), Status, c),
        establishment=_text(raw, "establishment", _path(prefix, "establishment"), c),
        release_date=_date(raw, "release_date", _path(prefix, "release_date"), c),
        risk_level=_enum(raw, "risk_level", _path(prefix, "risk_level"), RiskLevel, c),
        mappa_category=_small_int(raw, "mappa_category", _path(prefix, "mappa_category"), 1, 4,
                                  c),
        mappa_level=_small_int(raw, "mappa_level", _path(prefix, "mappa_level"), 1, 3, c),
        nominal_manager=_text(raw, "nominal_manager", _path(prefix, "nominal_manager"), c),
        force=_text(raw, "force", _path(prefix, "force"), c),
        offence=_text(raw, "offence", _path(prefix, "offence"), c),
        notification_end=_date(raw, "notification_end", _path(prefix, "notification_end"), c),
        notes=_text(raw, "notes", _path(prefix, "notes"), c),
    )
    if c.problems:
        return None, c.problems
    return nominal, []


def parse_nominals_json(raw: Any, today: date) -> tuple[list[Nominal], list[Problem]]:
    """One object or a list of them; problems carry ``nominals[i].`` paths for a list."""
    items: Sequence[Any]
    if isinstance(raw, list):
        items, is_list = raw, True
    else:
        items, is_list = [raw], False
    if not items:
        return [], [Problem("nominals", "the list is empty")]
    out: list[Nominal] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        prefix = f"nominals[{i}]" if is_list else ""
        nominal, found = parse_nominal_json(item, prefix)
        problems.extend(found)
        if nominal is not None:
            problems.extend(validate_nominal(nominal, today, prefix))
            out.append(nominal)
    return out, problems


# --- the list (light rows for a paged table model) ------------------------------------------------


class SortKey(StrEnum):
    """Columns the Nominals list can be sorted by (each backed by an index)."""

    REF = "ref"
    NAME = "name"  # surname, then forenames (folded: case and accents ignored)
    DOB = "dob"
    PNC = "pnc"
    STATUS = "status"
    RISK = "risk"
    MANAGER = "manager"
    FORCE = "force"
    ESTABLISHMENT = "establishment"
    RELEASE_DATE = "release_date"
    UPDATED = "updated"


@dataclass(frozen=True, slots=True)
class NominalFilter:
    """What the list shows: each set field narrows it; ``text`` is the search box."""

    status: Status | str | None = None
    nominal_manager: str | None = None
    risk_level: RiskLevel | str | None = None
    force: str | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class NominalRow:
    """One line of the Nominals list: enough to show and sort, without aliases or notes."""

    ref: str
    surname: str
    forenames: str
    dob: date | None
    pnc: str | None
    status: Status | None
    risk_level: RiskLevel | None
    nominal_manager: str | None
    force: str | None
    establishment: str | None
    release_date: date | None
    updated_at: datetime


class NominalInvalid(ValidationError):
    """One or more records failed validation; ``problems`` holds every error (and warning)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        errors = [p for p in problems if p.severity is Severity.ERROR]
        first = errors[0] if errors else problems[0]
        super().__init__(first.field, first.message)
        more = len(errors) - 1
        if more > 0:
            self.args = (f"{first.field}: {first.message} (and {more} more problem"
                         f"{'s' if more > 1 else ''})",)
        self.problems = list(problems)


def flatten_for_history(n: Nominal) -> dict[str, Any]:
    """Field -> JSON-able value, with the paths validation uses (dob, dates.led, aliases...)."""
    out: dict[str, Any] = {}
    for key in CONTRACT_KEYS:
        if key in ("ref", "aliases"):
            continue
        value = getattr(n, key)
        out[key] = value.value if isinstance(value, StrEnum) else _jsonable(value)
    out["aliases"] = [[a.surname, a.forenames, _iso(a.dob)] for a in n.aliases]
    out["identifiers"] = [[i.type.value, i.value] for i in n.identifiers]
    out["addresses"] = [[a.text, a.postcode, _iso(a.date_from), _iso(a.date_to)]
                        for a in n.addresses]
    for name in DATE_FIELDS:
        out[f"dates.{name}"] = _iso(getattr(n.dates, name))
    out["rosh"] = n.rosh.value if n.rosh else None
    out["retention_group"] = n.retention_group
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


def diff_for_history(old: Nominal | None, new: Nominal) -> dict[str, tuple[Any, Any]]:
    """The fields that differ, as (old, new); every non-empty field when there is no old."""
    after = flatten_for_history(new)
    before = flatten_for_history(old) if old is not None else {}
    out: dict[str, tuple[Any, Any]] = {}
    for key, value in after.items():
        previous = before.get(key)
        if old is None and value in (None, [], ""):
            continue
        if previous != value:
            out[key] = (previous, value)
    return out

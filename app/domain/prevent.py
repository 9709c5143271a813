"""Prevent vocabulary and rules: stages, gradings, VAF template, NDM records, and input checks.

Codes are stable (they are stored on records); lists and labels are versioned reference data
(resources/reference/prevent_lists.json and vaf_template.json, editable by an admin), so the
enums here name the shipped codes that code needs to reason about, and validation checks input
against the loaded lists rather than the enums.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from app.domain.errors import ValidationError
from app.domain.text import clean_text

__all__ = [
    "AGE_BANDS",
    "NDM_FIELDS",
    "CheckMade",
    "ConcernType",
    "CtRisk",
    "FactorRating",
    "GatewayInput",
    "Grading",
    "Handling",
    "InstitutionInput",
    "IntelAssessment",
    "IntelInput",
    "Level",
    "NdmInput",
    "Outcome",
    "PreventLists",
    "ReferralInput",
    "SourceEvaluation",
    "SourceSector",
    "Stage",
    "SubjectInput",
    "VafDimension",
    "VafFactor",
    "VafInput",
    "VafTemplate",
    "age_band",
    "age_on",
    "most_restrictive_handling",
    "parse_grading",
    "parse_prevent_lists",
    "parse_vaf_template",
    "require_text",
    "validate_gateway",
    "validate_intel",
    "validate_ndm",
    "validate_referral",
    "validate_subject",
    "validate_vaf",
]

MAX_SHORT = 200
MAX_TEXT = 20_000


class Stage(StrEnum):
    """Where a referral is in triage. The clock runs until the gateway decision is recorded."""

    NEW = "new"
    GATEWAY = "gateway"
    DECISION = "decision"
    OUTCOME = "outcome"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]

    @property
    def clock_running(self) -> bool:
        return self in (Stage.NEW, Stage.GATEWAY)


_STAGE_LABELS = {
    Stage.NEW: "New",
    Stage.GATEWAY: "Gateway assessment",
    Stage.DECISION: "Decision",
    Stage.OUTCOME: "Outcome",
    Stage.CLOSED: "Closed",
}
STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class SourceSector(StrEnum):
    EDUCATION = "education"
    HEALTH = "health"
    LOCAL_AUTHORITY = "local_authority"
    POLICE = "police"
    COMMUNITY = "community"
    FAMILY = "family"
    PRISON = "prison"
    PROBATION = "probation"
    OTHER = "other"


class ConcernType(StrEnum):
    ISLAMIST = "islamist"
    EXTREME_RIGHT_WING = "extreme_right_wing"
    MIXED_UNCLEAR_UNSTABLE = "mixed_unclear_unstable"
    CONFLICTED = "conflicted"
    INCEL = "incel"
    SCHOOL_MASSACRE = "school_massacre"
    LEFT_WING_ANARCHIST_SINGLE_ISSUE = "left_wing_anarchist_single_issue"
    OTHER = "other"


class Outcome(StrEnum):
    IMMEDIATE_RISK = "immediate_risk"
    NOT_APPROPRIATE = "not_appropriate"
    NO_FURTHER_ACTION = "no_further_action"
    SIGNPOSTED = "signposted"
    POLICE_LED_PARTNERSHIP = "police_led_partnership"
    CHANNEL_ADOPTED = "channel_adopted"
    CHANNEL_NOT_ADOPTED = "channel_not_adopted"


class CtRisk(StrEnum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


class Level(StrEnum):
    """Threat, risk and vulnerability are each rated low, medium or high."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FactorRating(StrEnum):
    NOT_PRESENT = "not_present"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    NOT_KNOWN = "not_known"


# --- intelligence grading 3x5x2 ------------------------------------------------------------


class SourceEvaluation(StrEnum):
    RELIABLE = "1"
    UNTESTED = "2"
    NOT_RELIABLE = "3"


class IntelAssessment(StrEnum):
    KNOWN_DIRECTLY = "A"
    KNOWN_INDIRECTLY_CORROBORATED = "B"
    KNOWN_INDIRECTLY = "C"
    NOT_KNOWN = "D"
    SUSPECTED_FALSE = "E"


class Handling(StrEnum):
    """P: lawful sharing permitted; C: sharing under written conditions (more restrictive)."""

    P = "P"
    C = "C"


SOURCE_LABELS = {
    SourceEvaluation.RELIABLE: "Reliable",
    SourceEvaluation.UNTESTED: "Untested",
    SourceEvaluation.NOT_RELIABLE: "Not reliable",
}
ASSESSMENT_LABELS = {
    IntelAssessment.KNOWN_DIRECTLY: "Known directly",
    IntelAssessment.KNOWN_INDIRECTLY_CORROBORATED: "Known indirectly but corroborated",
    IntelAssessment.KNOWN_INDIRECTLY: "Known indirectly",
    IntelAssessment.NOT_KNOWN: "Not known",
    IntelAssessment.SUSPECTED_FALSE: "Suspected to be false",
}
HANDLING_LABELS = {
    Handling.P: "Lawful sharing permitted",
    Handling.C: "Sharing under conditions",
}


@dataclass(frozen=True, slots=True)
class Grading:
    source: SourceEvaluation
    intelligence: IntelAssessment
    handling: Handling
    conditions: str = ""

    def __post_init__(self) -> None:
        if self.handling is Handling.C and not self.conditions.strip():
            raise ValidationError(
                "conditions", "handling code C needs its conditions written down"
            )

    @property
    def code(self) -> str:
        """As lists show it: ``2/B/C``."""
        return f"{self.source.value}/{self.intelligence.value}/{self.handling.value}"


def parse_grading(
    source: str, intelligence: str, handling: str, conditions: str = ""
) -> Grading:
    """A grading from its three parts (any case, surrounding space ignored)."""
    try:
        s = SourceEvaluation(str(source).strip())
    except ValueError:
        raise ValidationError("source_evaluation", "must be 1, 2 or 3") from None
    try:
        i = IntelAssessment(str(intelligence).strip().upper())
    except ValueError:
        raise ValidationError("intelligence_assessment", "must be one of A, B, C, D, E") from None
    try:
        h = Handling(str(handling).strip().upper())
    except ValueError:
        raise ValidationError("handling", "must be P or C") from None
    return Grading(s, i, h, optional_text("conditions", conditions))


def most_restrictive_handling(codes: Iterable[Handling | str]) -> Handling | None:
    """C if anything is C, else P if there is anything, else None (nothing graded)."""
    seen: Handling | None = None
    for code in codes:
        value = Handling(str(code).upper())
        if value is Handling.C:
            return Handling.C
        seen = value
    return seen


# --- ages ------------------------------------------------------------------------------------

# (label, youngest, oldest) in whole years at the referral date; the last band is open.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("Under 12", 0, 11),
    ("12-15", 12, 15),
    ("16-17", 16, 17),
    ("18-24", 18, 24),
    ("25-39", 25, 39),
    ("40+", 40, None),
)
AGE_UNKNOWN = "Not known"


def age_on(dob: date, day: date) -> int:
    """Age in whole years on ``day`` (a 29 Feb birthday comes on 1 Mar in other years)."""
    if isinstance(day, datetime):
        day = day.date()
    years = day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
    return max(years, 0)


def age_band(age: int | None) -> str:
    if age is None:
        return AGE_UNKNOWN
    for label, lo, hi in AGE_BANDS:
        if age >= lo and (hi is None or age <= hi):
            return label
    return AGE_UNKNOWN  # pragma: no cover - the bands cover every age from 0


# --- reference data --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class PreventLists:
    """The versioned Prevent lists (sectors, concerns, outcomes, signposting, ...)."""

    version: str
    target_working_days: int
    warning_working_days: int
    closure_review_months: tuple[int, ...]
    source_sectors: tuple[Choice, ...]
    concern_types: tuple[Choice, ...]
    outcomes: tuple[Choice, ...]
    outcomes_needing_signposting: frozenset[str]
    signposting: tuple[Choice, ...]
    institution_types: tuple[Choice, ...]
    gateway_systems: tuple[str, ...]
    ndm_stages: tuple[Choice, ...]

    def label(self, list_name: str, code: str | None) -> str:
        if code is None:
            return ""
        items: tuple[Choice, ...] = getattr(self, list_name)
        for item in items:
            if item.code == code:
                return item.label
        return code

    def check(self, list_name: str, field_name: str, code: str | None) -> str:
        """The code, trimmed and lower-cased, if the list has it; else ValidationError."""
        items: tuple[Choice, ...] = getattr(self, list_name)
        value = (code or "").strip().lower()
        codes = [c.code for c in items]
        if value not in codes:
            raise ValidationError(field_name, "must be one of " + ", ".join(codes))
        return value


def _choices(data: Mapping[str, Any], key: str) -> tuple[Choice, ...]:
    raw = data.get(key)
    if not isinstance(raw, list) or not raw:
        raise ValidationError(f"prevent_lists.{key}", "must be a non-empty list")
    out: list[Choice] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or not isinstance(item.get("code"), str):
            raise ValidationError(f"prevent_lists.{key}[{i}]", "needs a code and a label")
        out.append(Choice(item["code"], str(item.get("label", item["code"]))))
    return tuple(out)


def _positive(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"prevent_lists.{key}", "must be a whole number")
    return value


def parse_prevent_lists(data: Mapping[str, Any]) -> PreventLists:
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise ValidationError("prevent_lists.version", "is missing")
    outcomes_raw = data.get("outcomes") or []
    months = data.get("closure_review_months", [6, 12])
    if not isinstance(months, list) or not all(isinstance(m, int) and m > 0 for m in months):
        raise ValidationError("prevent_lists.closure_review_months", "must list whole months")
    systems = data.get("gateway_systems", [])
    return PreventLists(
        version=version,
        target_working_days=max(_positive(data, "target_working_days", 5), 1),
        warning_working_days=_positive(data, "warning_working_days", 1),
        closure_review_months=tuple(months),
        source_sectors=_choices(data, "source_sectors"),
        concern_types=_choices(data, "concern_types"),
        outcomes=_choices(data, "outcomes"),
        outcomes_needing_signposting=frozenset(
            o["code"] for o in outcomes_raw if isinstance(o, Mapping) and o.get("needs_signposting")
        ),
        signposting=_choices(data, "signposting"),
        institution_types=_choices(data, "institution_types"),
        gateway_systems=tuple(str(s) for s in systems) if isinstance(systems, list) else (),
        ndm_stages=_choices(data, "ndm_stages"),
    )


@dataclass(frozen=True, slots=True)
class VafFactor:
    code: str
    number: int
    label: str
    guidance: str
    dimension: str


@dataclass(frozen=True, slots=True)
class VafDimension:
    code: str
    label: str
    factors: tuple[VafFactor, ...]


@dataclass(frozen=True, slots=True)
class VafTemplate:
    version: str
    dimensions: tuple[VafDimension, ...]
    factor_ratings: tuple[Choice, ...]

    @property
    def factors(self) -> tuple[VafFactor, ...]:
        return tuple(f for d in self.dimensions for f in d.factors)

    def factor(self, code: str) -> VafFactor:
        for f in self.factors:
            if f.code == code:
                return f
        raise ValidationError("factor", "is not a factor of this VAF template")


def parse_vaf_template(data: Mapping[str, Any]) -> VafTemplate:
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise ValidationError("vaf_template.version", "is missing")
    dims_raw = data.get("dimensions")
    if not isinstance(dims_raw, list) or not dims_raw:
        raise ValidationError("vaf_template.dimensions", "must be a non-empty list")
    dims: list[VafDimension] = []
    seen: set[str] = set()
    for i, d in enumerate(dims_raw):
        where = f"vaf_template.dimensions[{i}]"
        if not isinstance(d, Mapping) or not isinstance(d.get("code"), str):
            raise ValidationError(where, "needs a code, a label and factors")
        factors: list[VafFactor] = []
        for j, f in enumerate(d.get("factors") or []):
            if not isinstance(f, Mapping) or not isinstance(f.get("code"), str):
                raise ValidationError(f"{where}.factors[{j}]", "needs a code and a label")
            if f["code"] in seen:
                raise ValidationError(f"{where}.factors[{j}]", "repeats a factor code")
            seen.add(f["code"])
            factors.append(
                VafFactor(
                    code=f["code"],
                    number=int(f.get("number", len(seen))),
                    label=str(f.get("label", f["code"])),
                    guidance=str(f.get("guidance", "")),
                    dimension=d["code"],
                )
            )
        if not factors:
            raise ValidationError(f"{where}.factors", "must list at least one factor")
        dims.append(VafDimension(d["code"], str(d.get("label", d["code"])), tuple(factors)))
    ratings = tuple(
        Choice(str(r["code"]), str(r.get("label", r["code"])))
        for r in data.get("factor_ratings") or []
        if isinstance(r, Mapping) and "code" in r
    ) or tuple(Choice(r.value, r.value.replace("_", " ").capitalize()) for r in FactorRating)
    return VafTemplate(version, tuple(dims), ratings)


# --- inputs and their checks -------------------------------------------------------------


def require_text(field_name: str, value: object, *, max_len: int = MAX_TEXT,
                 multiline: bool | None = None) -> str:
    """Cleaned text that must not be empty (the message names the field, never the value).

    ``multiline`` defaults to whether the limit is longer than a short field's: names, titles
    and references (MAX_SHORT) are one line, free text keeps its line breaks."""
    return clean_text(value, field_name, max_len, required=True,
                      multiline=max_len > MAX_SHORT if multiline is None else multiline)


def optional_text(field_name: str, value: object, *, max_len: int = MAX_TEXT,
                  multiline: bool | None = None) -> str:
    """Cleaned text, '' when absent; single-line or not as for ``require_text``."""
    return clean_text(value, field_name, max_len,
                      multiline=max_len > MAX_SHORT if multiline is None else multiline)


@dataclass(frozen=True)
class SubjectInput:
    """The person a referral is about: an existing person / nominal, or a new person."""

    surname: str = ""
    forenames: str = ""
    dob: date | None = None
    person_id: int | None = None  # an existing referral subject
    nominal_id: int | None = None  # a known nominal this person is


def validate_subject(s: SubjectInput, today: date) -> SubjectInput:
    if s.person_id is not None:
        return s
    surname = require_text("subject.surname", s.surname, max_len=MAX_SHORT)
    forenames = optional_text("subject.forenames", s.forenames, max_len=MAX_SHORT)
    if s.dob is not None and s.dob > today:
        raise ValidationError("subject.dob", "must not be in the future")
    return SubjectInput(surname, forenames, s.dob, None, s.nominal_id)


@dataclass(frozen=True)
class ReferralInput:
    received: datetime
    source_sector: str
    concern_type: str
    subject: SubjectInput
    summary: str
    referrer_name: str = ""
    referrer_organisation: str = ""
    institution_ids: Sequence[int] = ()
    immediate_risk: bool = False
    area: str = ""
    notes: Sequence[tuple[str, str]] = ()  # attachments as (title, text)


def validate_referral(r: ReferralInput, lists: PreventLists, now: datetime) -> ReferralInput:
    if not isinstance(r.received, datetime):
        raise ValidationError("received", "must be a date and time")
    if r.received > now:
        raise ValidationError("received", "must not be in the future")
    notes: list[tuple[str, str]] = []
    for i, (title, text) in enumerate(r.notes):
        notes.append(
            (
                optional_text(f"notes[{i}].title", title, max_len=MAX_SHORT) or "Note",
                require_text(f"notes[{i}].text", text),
            )
        )
    return ReferralInput(
        received=r.received,
        source_sector=lists.check("source_sectors", "source_sector", r.source_sector),
        concern_type=lists.check("concern_types", "concern_type", r.concern_type),
        subject=validate_subject(r.subject, now.date()),
        summary=require_text("summary", r.summary),
        referrer_name=optional_text("referrer.name", r.referrer_name, max_len=MAX_SHORT),
        referrer_organisation=optional_text(
            "referrer.organisation", r.referrer_organisation, max_len=MAX_SHORT
        ),
        institution_ids=tuple(dict.fromkeys(int(i) for i in r.institution_ids)),
        immediate_risk=bool(r.immediate_risk),
        area=optional_text("area", r.area, max_len=MAX_SHORT),
        notes=tuple(notes),
    )


NDM_FIELDS: tuple[tuple[str, str], ...] = (
    ("information", "Stage 1: information and intelligence"),
    ("assessment", "Stage 2: threat and risk assessment and working strategy"),
    ("powers", "Stage 3: powers and policy"),
    ("options", "Stage 4: options and contingencies"),
    ("action", "Stage 5: action and review"),
    ("code_of_ethics", "Code of Ethics"),
    ("decision", "Decision"),
    ("rationale", "Rationale"),
    ("necessity", "Necessity (HRA)"),
    ("proportionality", "Proportionality (HRA)"),
)


@dataclass(frozen=True)
class NdmInput:
    """A National Decision Model decision record: all of it is required."""

    information: str
    assessment: str
    powers: str
    options: str
    action: str
    code_of_ethics: str
    decision: str
    rationale: str
    necessity: str
    proportionality: str
    decision_maker: str
    decided_on: date | None


def validate_ndm(d: NdmInput, today: date) -> NdmInput:
    values = {name: require_text(f"ndm.{name}", getattr(d, name)) for name, _ in NDM_FIELDS}
    maker = require_text("ndm.decision_maker", d.decision_maker, max_len=MAX_SHORT)
    if not isinstance(d.decided_on, date):
        raise ValidationError("ndm.decided_on", "is required")
    if d.decided_on > today:
        raise ValidationError("ndm.decided_on", "must not be in the future")
    return NdmInput(**values, decision_maker=maker, decided_on=d.decided_on)


@dataclass(frozen=True)
class CheckMade:
    system: str
    searched_on: date
    result: str


@dataclass(frozen=True)
class GatewayInput:
    checks: Sequence[CheckMade]
    ct_risk: str
    immediate_risk: bool
    criminality: bool
    refer_to_pursue: bool = False
    notes: str = ""


def validate_gateway(g: GatewayInput, today: date) -> GatewayInput:
    if not g.checks:
        raise ValidationError("checks", "record at least one check made")
    checks: list[CheckMade] = []
    for i, c in enumerate(g.checks):
        if not isinstance(c.searched_on, date):
            raise ValidationError(f"checks[{i}].searched_on", "is required")
        if c.searched_on > today:
            raise ValidationError(f"checks[{i}].searched_on", "must not be in the future")
        checks.append(
            CheckMade(
                require_text(f"checks[{i}].system", c.system, max_len=MAX_SHORT),
                c.searched_on,
                require_text(f"checks[{i}].result", c.result),
            )
        )
    try:
        risk = CtRisk((g.ct_risk or "").strip().lower())
    except ValueError:
        raise ValidationError("ct_risk", "must be yes, no or unclear") from None
    return GatewayInput(
        checks=tuple(checks),
        ct_risk=risk.value,
        immediate_risk=bool(g.immediate_risk),
        criminality=bool(g.criminality),
        # Criminality is a matter for Pursue: the referral says so whatever was ticked.
        refer_to_pursue=bool(g.refer_to_pursue or g.criminality),
        notes=optional_text("notes", g.notes),
    )


@dataclass(frozen=True)
class VafInput:
    """One version of a vulnerability assessment: every factor rated, with a rationale."""

    factors: Mapping[str, tuple[str, str]]  # factor code -> (rating, rationale)
    threat: str
    threat_rationale: str
    risk: str
    risk_rationale: str
    vulnerability: str
    vulnerability_rationale: str
    assessed_on: date
    change_reason: str = ""  # why this version differs from the last (required from v2)


def validate_vaf(v: VafInput, template: VafTemplate, today: date, *, first: bool) -> VafInput:
    codes = {f.code for f in template.factors}
    unknown = sorted(set(v.factors) - codes)
    if unknown:
        raise ValidationError(f"factors.{unknown[0]}", "is not a factor of this VAF template")
    ratings = {r.code for r in template.factor_ratings}
    factors: dict[str, tuple[str, str]] = {}
    for f in template.factors:
        if f.code not in v.factors:
            raise ValidationError(f"factors.{f.code}", "needs a rating and a rationale")
        rating, rationale = v.factors[f.code]
        rating = (rating or "").strip().lower()
        if rating not in ratings:
            raise ValidationError(
                f"factors.{f.code}.rating", "must be one of " + ", ".join(sorted(ratings))
            )
        factors[f.code] = (rating, require_text(f"factors.{f.code}.rationale", rationale))
    levels: dict[str, str] = {}
    for name in ("threat", "risk", "vulnerability"):
        try:
            levels[name] = Level((getattr(v, name) or "").strip().lower()).value
        except ValueError:
            raise ValidationError(name, "must be low, medium or high") from None
        levels[f"{name}_rationale"] = require_text(
            f"{name}_rationale", getattr(v, f"{name}_rationale")
        )
    if not isinstance(v.assessed_on, date) or v.assessed_on > today:
        raise ValidationError("assessed_on", "must be a date not in the future")
    reason = optional_text("change_reason", v.change_reason)
    if not first and not reason:
        raise ValidationError("change_reason", "say why this assessment changed")
    return VafInput(
        factors=factors,
        assessed_on=v.assessed_on,
        change_reason=reason,
        **levels,
    )


@dataclass(frozen=True)
class InstitutionInput:
    name: str
    type: str
    area: str = ""


@dataclass(frozen=True)
class IntelInput:
    summary: str
    source_evaluation: str
    intelligence_assessment: str
    handling: str
    conditions: str = ""
    received_on: date | None = None
    source_reference: str = ""  # e.g. a RIPA authority reference: never the product itself
    referral_ids: Sequence[int] = ()
    person_ids: Sequence[int] = ()
    institution_ids: Sequence[int] = ()


def validate_intel(i: IntelInput, today: date) -> tuple[IntelInput, Grading]:
    summary = require_text("summary", i.summary)
    grading = parse_grading(
        i.source_evaluation, i.intelligence_assessment, i.handling, i.conditions
    )
    if i.received_on is not None and i.received_on > today:
        raise ValidationError("received_on", "must not be in the future")
    return (
        IntelInput(
            summary=summary,
            source_evaluation=grading.source.value,
            intelligence_assessment=grading.intelligence.value,
            handling=grading.handling.value,
            conditions=grading.conditions if grading.handling is Handling.C else "",
            received_on=i.received_on or today,
            source_reference=optional_text("source_reference", i.source_reference,
                                           max_len=MAX_SHORT),
            referral_ids=tuple(dict.fromkeys(int(x) for x in i.referral_ids)),
            person_ids=tuple(dict.fromkeys(int(x) for x in i.person_ids)),
            institution_ids=tuple(dict.fromkeys(int(x) for x in i.institution_ids)),
        ),
        grading,
    )

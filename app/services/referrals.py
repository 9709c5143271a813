"""Prevent referrals: intake with a subject duplicate check, the triage queue and its clock,
outcomes, closure with reviews, and the due items and return data other screens build on."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.domain.errors import NotAllowed, NotFound, ValidationError
from app.domain.names import canonical_tokens, fold, phonetic_key
from app.domain.prevent import (
    NDM_FIELDS,
    NdmInput,
    Outcome,
    PreventLists,
    ReferralInput,
    Stage,
    SubjectInput,
    age_on,
    optional_text,
    parse_prevent_lists,
    validate_ndm,
    validate_referral,
)
from app.domain.roles import Perm, allowed
from app.domain.rules import (
    DueItem,
    WorkingCalendar,
    closure_reviews,
    parse_bank_holidays,
    referral_target_due,
)
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.matching import PersonKey, score_pair
from app.services.reference import current_in
from app.services.vault import Vault
from app.store.models import (
    Institution,
    NdmDecision,
    Nominal,
    NominalAlias,
    Person,
    Referral,
    ReferralInstitution,
    ReferralNote,
    ReferralReview,
    Setting,
    utcnow,
)

__all__ = [
    "DecisionRecord",
    "QueueRow",
    "ReferralDetail",
    "ReferralFilter",
    "ReferralService",
    "ReviewRow",
    "SubjectMatch",
    "calendar_for",
    "due_items",
    "lists_for",
    "overdue_referrals",
    "referral_ref",
]

TARGET_SETTING = "prevent.target_working_days"
SUBJECT_MATCH_THRESHOLD = 0.6
_CANDIDATE_LIMIT = 400


def referral_ref(referral_id: int) -> str:
    return f"PR-{referral_id:06d}"


def parse_referral_ref(text: str | int) -> int:
    """PR-000123, pr123 or 123 -> 123."""
    value = str(text).strip().upper()
    if value.startswith("PR-"):
        value = value[3:]
    elif value.startswith("PR"):
        value = value[2:]
    if not value.isdigit() or int(value) <= 0:
        raise ValidationError("referral", "is not a referral reference (PR-000123)")
    return int(value)


# --- reference data and the working calendar --------------------------------------------------


def lists_for(session: Session, vault: Vault) -> PreventLists:
    """The vault's current Prevent lists (the shipped file, loaded into the vault on first use)."""
    return parse_prevent_lists(current_in(session, vault, "prevent_lists"))


def calendar_for(session: Session, vault: Vault) -> WorkingCalendar:
    return WorkingCalendar.from_table(
        parse_bank_holidays(current_in(session, vault, "bank_holidays_ew"))
    )


def _target_days(session: Session, lists: PreventLists) -> int:
    row = session.get(Setting, TARGET_SETTING)
    if row is not None:
        try:
            value = json.loads(row.value)
        except ValueError:
            value = None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return lists.target_working_days


# --- result types -------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectMatch:
    """A possible existing record for the subject being typed: a nominal or an earlier subject."""

    kind: str  # "nominal" | "person"
    id: int
    ref: str  # NM-000123, or the person's latest referral ref
    surname: str
    forenames: str
    dob: date | None
    score: float
    reasons: list[str]
    nominal_id: int | None = None
    referral_count: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReferralFilter:
    stages: Sequence[str] = ()
    overdue_only: bool = False
    open_only: bool = False  # not yet closed
    concern_type: str | None = None
    source_sector: str | None = None
    institution_id: int | None = None
    received_from: date | None = None
    received_to: date | None = None
    immediate_only: bool = False
    text: str = ""  # ref or subject surname
    ids: Sequence[int] | None = None


@dataclass(frozen=True)
class QueueRow:
    """One line of any referral list; ``status`` is the clock: ok, warning, overdue, met, late."""

    id: int
    ref: str
    received_at: datetime
    subject: str
    subject_dob: date | None
    source_sector: str
    concern_type: str
    stage: str
    immediate_risk: bool
    target_due: date
    working_days_elapsed: int
    working_days_remaining: int
    status: str
    outcome: str | None
    closed_on: date | None

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["received_at"] = self.received_at.isoformat(timespec="minutes")
        return d


@dataclass(frozen=True)
class DecisionRecord:
    id: int
    kind: str
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
    decided_on: date
    recorded_at: datetime
    recorded_by: str

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["recorded_at"] = self.recorded_at.isoformat(timespec="seconds")
        return d


@dataclass(frozen=True)
class ReviewRow:
    id: int
    months: int
    due_on: date
    done_on: date | None
    done_by: str
    note: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReferralDetail:
    id: int
    ref: str
    received_at: datetime
    referrer_name: str
    referrer_organisation: str
    source_sector: str
    concern_type: str
    person_id: int
    surname: str
    forenames: str
    dob: date | None
    nominal_id: int | None
    nominal_ref: str | None
    age_at_referral: int | None
    area: str
    summary: str
    immediate_risk: bool
    stage: str
    target_due: date
    target_working_days: int
    decided_on: date | None
    outcome: str | None
    signposted_to: str | None
    outcome_on: date | None
    closed_on: date | None
    institutions: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    decisions: list[DecisionRecord]
    reviews: list[ReviewRow]
    created_by: str
    clock: QueueRow | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ref": self.ref,
            "received": self.received_at.isoformat(timespec="minutes"),
            "referrer": {"name": self.referrer_name, "organisation": self.referrer_organisation},
            "source_sector": self.source_sector,
            "concern_type": self.concern_type,
            "subject": {
                "person_id": self.person_id,
                "surname": self.surname,
                "forenames": self.forenames,
                "dob": self.dob.isoformat() if self.dob else None,
                "nominal": self.nominal_ref,
                "age_at_referral": self.age_at_referral,
            },
            "area": self.area,
            "summary": self.summary,
            "immediate_risk": self.immediate_risk,
            "stage": self.stage,
            "target_due": self.target_due.isoformat(),
            "decided_on": self.decided_on.isoformat() if self.decided_on else None,
            "outcome": self.outcome,
            "signposted_to": self.signposted_to,
            "outcome_on": self.outcome_on.isoformat() if self.outcome_on else None,
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "institutions": self.institutions,
            "notes": self.notes,
            "decisions": [d.as_json() for d in self.decisions],
            "reviews": [r.as_json() for r in self.reviews],
            "clock": self.clock.status if self.clock else None,
        }


# --- the clock ----------------------------------------------------------------------------


def clock_status(
    cal: WorkingCalendar,
    received_on: date,
    target_due: date,
    stage: str,
    decided_on: date | None,
    today: date,
    warning_days: int = 1,
) -> tuple[int, int, str]:
    """(working days elapsed, working days remaining, status) for one referral.

    While the gateway decision is awaited: ``overdue`` after the target day, ``warning`` with
    ``warning_days`` or fewer left (the target day itself included), else ``ok``. Once decided
    the clock stops: ``met`` or ``late``.
    """
    end = decided_on if decided_on is not None else today
    elapsed = max(cal.working_days_between(received_on, end), 0)
    remaining = cal.working_days_between(end, target_due)
    if decided_on is not None or not Stage(stage).clock_running:
        if decided_on is None:
            return elapsed, remaining, "met"
        return elapsed, remaining, "met" if decided_on <= target_due else "late"
    if today > target_due:
        return elapsed, remaining, "overdue"
    if remaining <= warning_days:
        return elapsed, remaining, "warning"
    return elapsed, remaining, "ok"


_ROW_COLUMNS = (
    Referral.id,
    Referral.ref,
    Referral.received_at,
    Referral.received_on,
    Person.surname,
    Person.forenames,
    Person.dob,
    Referral.source_sector,
    Referral.concern_type,
    Referral.stage,
    Referral.immediate_risk,
    Referral.target_due,
    Referral.decided_on,
    Referral.outcome,
    Referral.closed_on,
)


def _filtered(flt: ReferralFilter, today: date) -> Any:
    stmt = select(*_ROW_COLUMNS).join(Person, Person.id == Referral.person_id)
    conds: list[Any] = []
    if flt.stages:
        conds.append(Referral.stage.in_([Stage(s).value for s in flt.stages]))
    if flt.overdue_only:
        conds.append(Referral.stage.in_([Stage.NEW.value, Stage.GATEWAY.value]))
        conds.append(Referral.target_due < today)
    if flt.open_only:
        conds.append(Referral.closed_on.is_(None))
    if flt.concern_type:
        conds.append(Referral.concern_type == flt.concern_type)
    if flt.source_sector:
        conds.append(Referral.source_sector == flt.source_sector)
    if flt.received_from:
        conds.append(Referral.received_on >= flt.received_from)
    if flt.received_to:
        conds.append(Referral.received_on <= flt.received_to)
    if flt.immediate_only:
        conds.append(Referral.immediate_risk.is_(True))
    if flt.institution_id is not None:
        conds.append(
            Referral.id.in_(
                select(ReferralInstitution.referral_id).where(
                    ReferralInstitution.institution_id == flt.institution_id
                )
            )
        )
    if flt.ids is not None:
        conds.append(Referral.id.in_(list(flt.ids)))
    text = flt.text.strip()
    if text:
        like = fold(text).replace("%", "").replace("_", "") + "%"
        ref_like = text.upper().replace("%", "").replace("_", "") + "%"
        conds.append(
            or_(
                Referral.ref.like(ref_like),
                func.lower(Person.surname).like(like),
                func.lower(Person.forenames).like(like),
            )
        )
    if conds:
        stmt = stmt.where(and_(*conds))
    # Immediate risk first in every list, then the nearest target, then the oldest.
    return stmt.order_by(
        Referral.immediate_risk.desc(), Referral.target_due, Referral.received_at, Referral.id
    )


def _queue_row(r: Any, cal: WorkingCalendar, today: date, warning: int) -> QueueRow:
    elapsed, remaining, status = clock_status(
        cal, r.received_on, r.target_due, r.stage, r.decided_on, today, warning
    )
    name = r.surname.upper() + (f", {r.forenames}" if r.forenames else "")
    return QueueRow(
        id=r.id,
        ref=r.ref,
        received_at=r.received_at,
        subject=name,
        subject_dob=r.dob,
        source_sector=r.source_sector,
        concern_type=r.concern_type,
        stage=r.stage,
        immediate_risk=bool(r.immediate_risk),
        target_due=r.target_due,
        working_days_elapsed=elapsed,
        working_days_remaining=remaining,
        status=status,
        outcome=r.outcome,
        closed_on=r.closed_on,
    )


def overdue_referrals(session: Session, vault: Vault, today: date | None = None) -> list[QueueRow]:
    """Referrals past their gateway target and still undecided (the Today view), most urgent
    first. The caller checks REFERRAL_READ (or uses ``ReferralService.overdue``)."""
    today = today or date.today()
    lists = lists_for(session, vault)
    cal = calendar_for(session, vault)
    rows = session.execute(_filtered(ReferralFilter(overdue_only=True), today)).all()
    return [_queue_row(r, cal, today, lists.warning_working_days) for r in rows]


def due_items(
    session: Session,
    start: date,
    end: date,
    filters: Any = None,
) -> Iterator[DueItem]:
    """Closure reviews not yet done, due from ``start`` to ``end`` inclusive (kind
    ``referral_review``), for the calendar.

    ``filters`` is the calendar's CalendarFilters (``wants(kind)``; a manager or force filter
    is about nominals, so it yields nothing here) or a mapping with ``include_done`` and
    ``refs``."""
    if filters is not None and not isinstance(filters, Mapping):
        if not filters.wants("referral_review"):
            return
        if getattr(filters, "manager", None) is not None or getattr(filters, "force", None):
            return
        options: Mapping[str, Any] = {}
    else:
        options = filters or {}
    stmt = (
        select(ReferralReview.due_on, ReferralReview.months, Referral.ref)
        .join(Referral, Referral.id == ReferralReview.referral_id)
        .where(ReferralReview.due_on >= start, ReferralReview.due_on <= end)
        .order_by(ReferralReview.due_on, Referral.ref)
    )
    if not options.get("include_done"):
        stmt = stmt.where(ReferralReview.done_on.is_(None))
    refs = options.get("refs")
    if refs:
        stmt = stmt.where(Referral.ref.in_(list(refs)))
    # Core rows on the session's connection (no ORM result machinery); a title per distinct
    # number of months.
    titles: dict[int, str] = {}
    for due_on, months, ref in session.connection().execute(stmt):
        title = titles.get(months)
        if title is None:
            title = titles[months] = f"Prevent referral review ({months} months after closure)"
        yield DueItem(date=due_on, kind="referral_review", ref=ref, title=title)


# Lets the calendar skip this source when referral reviews are not wanted.
due_items.calendar_kinds = frozenset({"referral_review"})  # type: ignore[attr-defined]


# --- subject matching ---------------------------------------------------------------------


def _first_key(text: str) -> str:
    tokens = canonical_tokens(text)
    return phonetic_key(tokens[0]) if tokens else ""


def subject_keys(surname: str, forenames: str) -> tuple[str, str]:
    return _first_key(surname), _first_key(forenames)


def _like_prefix(text: str) -> str | None:
    folded = fold(text).split()
    if not folded or len(folded[0]) < 2:
        return None
    return folded[0].replace("%", "").replace("_", "") + "%"


def find_subject_matches(
    session: Session,
    surname: str,
    forenames: str,
    dob: date | None,
    *,
    threshold: float = SUBJECT_MATCH_THRESHOLD,
    limit: int = 10,
) -> list[SubjectMatch]:
    """Nominals and earlier referral subjects that may be this person, best first."""
    surname, forenames = (surname or "").strip(), (forenames or "").strip()
    if not surname and not forenames:
        return []
    typed = PersonKey(ref="~typed", surname=surname, forenames=forenames, dob=dob)
    typed_forenames = fold(forenames)

    def score(ref: str, c_surname: str, c_forenames: str, c_dob: date | None,
              aliases: Sequence[tuple[str, str, date | None]] = ()) -> tuple[float, list[str]]:
        key = typed
        note: list[str] = []
        # As the user types, a forename still being typed ("Dan" for "Daniel") is not a
        # different forename: score as if it were complete.
        if typed_forenames and fold(c_forenames).startswith(typed_forenames) \
                and fold(c_forenames) != typed_forenames:
            key = PersonKey(ref="~typed", surname=surname, forenames=c_forenames, dob=dob)
            note = ["forenames typed so far match"]
        m = score_pair(key, PersonKey(ref=ref, surname=c_surname, forenames=c_forenames,
                                      dob=c_dob, aliases=aliases))
        reasons = [r for r in m.reasons if not (note and r == "same forenames")]
        return m.score, note + reasons
    s_key, f_key = subject_keys(surname, forenames)
    keys = [k for k in (s_key, f_key) if k]
    found: list[SubjectMatch] = []

    # Earlier subjects: blocking on the phonetic keys (either order, for swapped names) or the
    # date of birth.
    conds: list[Any] = []
    if keys:
        conds += [Person.surname_key.in_(keys), Person.forename_key.in_(keys)]
    if dob is not None:
        conds.append(Person.dob == dob)
    if conds:
        people = session.execute(
            select(Person.id, Person.surname, Person.forenames, Person.dob, Person.nominal_id)
            .where(or_(*conds))
            .limit(_CANDIDATE_LIMIT)
        ).all()
        scored: list[tuple[float, list[str], Any]] = []
        for p in people:
            value, reasons = score(f"P{p.id}", p.surname, p.forenames, p.dob)
            if value >= threshold:
                scored.append((value, reasons, p))
        ids = [p.id for _, _, p in scored]
        latest: dict[int, tuple[str, int]] = {}
        if ids:
            for pid, ref, count in session.execute(
                select(Referral.person_id, func.max(Referral.ref), func.count(Referral.id))
                .where(Referral.person_id.in_(ids))
                .group_by(Referral.person_id)
            ):
                latest[pid] = (ref, count)
        for value, reasons, p in scored:
            ref, count = latest.get(p.id, (f"person {p.id}", 0))
            found.append(SubjectMatch("person", p.id, ref, p.surname, p.forenames, p.dob,
                                      value, reasons, p.nominal_id, count))

    # Nominals: the folded sort name starts with the surname (or, swapped, the forename), or
    # the same date of birth; aliases by exact folded surname.
    nconds: list[Any] = []
    for text in (surname, forenames):
        prefix = _like_prefix(text)
        if prefix:
            nconds.append(Nominal.sort_name.like(prefix))
    if dob is not None:
        nconds.append(Nominal.dob == dob)
    if nconds:
        live = and_(Nominal.merged_into_id.is_(None), Nominal.erased.is_(False))
        nominals = session.execute(
            select(Nominal.id, Nominal.ref, Nominal.surname, Nominal.forenames, Nominal.dob,
                   Nominal.pnc)
            .where(live, or_(*nconds))
            .limit(_CANDIDATE_LIMIT)
        ).all()
        alias_ids = [n.id for n in nominals]
        aliases: dict[int, list[tuple[str, str, date | None]]] = {}
        if alias_ids:
            for a in session.execute(
                select(NominalAlias.nominal_id, NominalAlias.surname, NominalAlias.forenames,
                       NominalAlias.dob).where(NominalAlias.nominal_id.in_(alias_ids))
            ):
                aliases.setdefault(a.nominal_id, []).append((a.surname, a.forenames, a.dob))
        for n in nominals:
            value, reasons = score(n.ref, n.surname, n.forenames, n.dob, aliases.get(n.id, ()))
            if value >= threshold:
                found.append(SubjectMatch("nominal", n.id, n.ref, n.surname, n.forenames, n.dob,
                                          value, reasons, n.id, 0))
    found.sort(key=lambda x: (-x.score, x.kind != "nominal", x.ref))
    return found[:limit]


# --- the service ----------------------------------------------------------------------------


def decision_record(d: NdmDecision) -> DecisionRecord:
    return DecisionRecord(
        id=d.id, kind=d.kind, information=d.information, assessment=d.assessment,
        powers=d.powers, options=d.options, action=d.action, code_of_ethics=d.code_of_ethics,
        decision=d.decision, rationale=d.rationale, necessity=d.necessity,
        proportionality=d.proportionality, decision_maker=d.decision_maker,
        decided_on=d.decided_on, recorded_at=d.recorded_at, recorded_by=d.recorded_by,
    )


def add_decision(
    session: Session, vault: Vault, referral: Referral, kind: str, ndm: NdmInput, today: date
) -> NdmDecision:
    """Validate and store an NDM decision record for ``referral`` (in the caller's session)."""
    clean = validate_ndm(ndm, today)
    if clean.decided_on is not None and clean.decided_on < referral.received_on:
        raise ValidationError("ndm.decided_on", "must not be before the referral was received")
    row = NdmDecision(
        referral_id=referral.id,
        kind=kind,
        **{name: getattr(clean, name) for name, _ in NDM_FIELDS},
        decision_maker=clean.decision_maker,
        decided_on=clean.decided_on,
        recorded_at=utcnow(),
        recorded_by=vault.actor.user,
    )
    session.add(row)
    session.flush()
    vault.audit(session, Category.COLLECTION, "ndm.add", entity="referral", ref=referral.ref,
                detail={"kind": kind, "decision_id": row.id})
    return row


def get_referral(session: Session, referral: int | str) -> Referral:
    rid = referral if isinstance(referral, int) else parse_referral_ref(referral)
    row = session.get(Referral, rid)
    if row is None:
        raise NotFound("There is no referral with that reference.")
    return row


class ReferralService(Service):
    """Intake, triage and closure of Prevent referrals. Analysts write; others read."""

    # -- reference -----------------------------------------------------------------------
    @requires(Perm.REFERRAL_READ)
    def lists(self) -> PreventLists:
        with self.vault.write() as s:  # may load the shipped list into the vault on first use
            return lists_for(s, self.vault)

    @requires(Perm.REFERRAL_READ)
    def target_working_days(self) -> int:
        with self.vault.write() as s:
            return _target_days(s, lists_for(s, self.vault))

    @requires(Perm.VAULT_ADMIN)
    def set_target_working_days(self, days: int, reason: str = "") -> None:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
            raise ValidationError("target_working_days", "must be a whole number from 1 to 60")
        with self.vault.write() as s:
            row = s.get(Setting, TARGET_SETTING)
            old = json.loads(row.value) if row else None
            if row is None:
                s.add(Setting(key=TARGET_SETTING, value=json.dumps(days),
                              updated_by=self.vault.actor.user))
            else:
                row.value, row.updated_at = json.dumps(days), utcnow()
                row.updated_by = self.vault.actor.user
            self.vault.audit(s, Category.ALTERATION, "setting.change", entity="setting",
                             ref=TARGET_SETTING, reason=reason,
                             detail={"old": old, "new": days})

    # -- subjects ------------------------------------------------------------------------
    @requires(Perm.REFERRAL_READ)
    def possible_subject_matches(
        self, surname: str, forenames: str, dob: date | None, limit: int = 10
    ) -> list[SubjectMatch]:
        """As the user types: nominals and earlier subjects that may be the same person."""
        with self.vault.read() as s:
            return find_subject_matches(s, surname, forenames, dob, limit=limit)

    # -- intake --------------------------------------------------------------------------
    @requires(Perm.REFERRAL_WRITE)
    def add(self, data: ReferralInput, *, now: datetime | None = None) -> str:
        """Record a new referral; returns its ref (PR-000123)."""
        return self.add_many([data], now=now)[0]

    @requires(Perm.REFERRAL_WRITE)
    def add_many(self, items: Sequence[ReferralInput], *, now: datetime | None = None) -> list[str]:
        """Several referrals in one transaction: all are added or none."""
        now = now or datetime.now()
        refs: list[str] = []
        with self.vault.write() as s:
            lists = lists_for(s, self.vault)
            cal = calendar_for(s, self.vault)
            days = _target_days(s, lists)
            for index, raw in enumerate(items):
                try:
                    refs.append(self._add_one(s, raw, lists, cal, days, now))
                except ValidationError as exc:
                    if len(items) == 1:
                        raise
                    raise ValidationError(f"[{index}].{exc.field}", exc.message) from None
        return refs

    def _add_one(self, s: Session, raw: ReferralInput, lists: PreventLists,
                 cal: WorkingCalendar, days: int, now: datetime) -> str:
        data = validate_referral(raw, lists, now)
        person = self._subject(s, data.subject)
        institutions = []
        for i, iid in enumerate(data.institution_ids):
            inst = s.get(Institution, iid)
            if inst is None:
                raise ValidationError(f"institutions[{i}]", "is not in the institutions register")
            institutions.append(inst)
        received_on = data.received.date()
        area = data.area or next((i.area for i in institutions if i.area), "")
        row = Referral(
            ref="",
            received_at=data.received,
            received_on=received_on,
            received_month=received_on.strftime("%Y-%m"),
            referrer_name=data.referrer_name,
            referrer_organisation=data.referrer_organisation,
            source_sector=data.source_sector,
            concern_type=data.concern_type,
            person_id=person.id,
            age_at_referral=age_on(person.dob, received_on) if person.dob else None,
            area=area,
            summary=data.summary,
            immediate_risk=data.immediate_risk,
            stage=Stage.NEW.value,
            target_due=referral_target_due(received_on, days, calendar=cal),
            target_working_days=days,
            created_at=utcnow(),
            created_by=self.vault.actor.user,
            updated_at=utcnow(),
            updated_by=self.vault.actor.user,
        )
        s.add(row)
        s.flush()
        row.ref = referral_ref(row.id)
        for inst in institutions:
            s.add(ReferralInstitution(referral_id=row.id, institution_id=inst.id))
        for title, text in data.notes:
            s.add(ReferralNote(referral_id=row.id, title=title, text=text,
                               added_by=self.vault.actor.user, added_at=utcnow()))
        self.vault.audit(
            s, Category.COLLECTION, "referral.add", entity="referral", ref=row.ref,
            detail={"person_id": person.id, "immediate_risk": row.immediate_risk,
                    "institutions": [i.id for i in institutions]},
        )
        return row.ref

    def _subject(self, s: Session, subject: SubjectInput) -> Person:
        if subject.nominal_id is not None:
            nominal = s.get(Nominal, subject.nominal_id)
            if nominal is None or nominal.merged_into_id is not None:
                raise ValidationError("subject.nominal_id", "is not a current nominal")
        if subject.person_id is not None:
            person = s.get(Person, subject.person_id)
            if person is None:
                raise ValidationError("subject.person_id", "is not a known referral subject")
            if subject.nominal_id is not None and person.nominal_id != subject.nominal_id:
                self.vault.revision(s, "person", person.id, "update",
                                    {"nominal_id": (person.nominal_id, subject.nominal_id)})
                person.nominal_id = subject.nominal_id
            return person
        s_key, f_key = subject_keys(subject.surname, subject.forenames)
        person = Person(
            surname=subject.surname,
            forenames=subject.forenames,
            dob=subject.dob,
            nominal_id=subject.nominal_id,
            surname_key=s_key,
            forename_key=f_key,
            created_at=utcnow(),
            created_by=self.vault.actor.user,
        )
        s.add(person)
        s.flush()
        self.vault.audit(s, Category.COLLECTION, "person.add", entity="person",
                         ref=str(person.id), detail={"nominal_id": subject.nominal_id})
        return person

    @requires(Perm.REFERRAL_WRITE)
    def add_note(self, referral: int | str, title: str, text: str) -> int:
        from app.domain.prevent import require_text

        clean = require_text("text", text)
        heading = optional_text("title", title, multiline=False) or "Note"
        with self.vault.write() as s:
            row = get_referral(s, referral)
            note = ReferralNote(referral_id=row.id, title=heading,
                                text=clean, added_by=self.vault.actor.user, added_at=utcnow())
            s.add(note)
            s.flush()
            self.vault.audit(s, Category.COLLECTION, "referral.note", entity="referral",
                             ref=row.ref, detail={"note_id": note.id})
            return note.id

    @requires(Perm.REFERRAL_WRITE)
    def set_immediate_risk(self, referral: int | str, flag: bool, reason: str) -> None:
        reason = optional_text("reason", reason, max_len=2000)
        if not reason:
            raise ValidationError("reason", "say why the immediate-risk flag changes")
        with self.vault.write() as s:
            row = get_referral(s, referral)
            if row.immediate_risk == bool(flag):
                return
            self.vault.revision(s, "referral", row.id, "update",
                                {"immediate_risk": (row.immediate_risk, bool(flag))}, reason)
            row.immediate_risk = bool(flag)
            self._touch(row)
            self.vault.audit(s, Category.ALTERATION, "referral.update", entity="referral",
                             ref=row.ref, reason=reason, detail={"fields": ["immediate_risk"]})

    def _touch(self, row: Referral) -> None:
        row.updated_at = utcnow()
        row.updated_by = self.vault.actor.user

    def _move(self, s: Session, row: Referral, stage: Stage, reason: str = "") -> None:
        old = row.stage
        if old == stage.value:
            return
        self.vault.revision(s, "referral", row.id, "update", {"stage": (old, stage.value)},
                            reason)
        row.stage = stage.value
        self._touch(row)

    # -- triage --------------------------------------------------------------------------
    @requires(Perm.REFERRAL_WRITE)
    def start_gateway(self, referral: int | str) -> None:
        """New -> Gateway assessment (someone is working on it)."""
        with self.vault.write() as s:
            row = get_referral(s, referral)
            if row.stage != Stage.NEW.value:
                raise ValidationError("stage", "only a new referral can start its gateway "
                                      "assessment")
            self._move(s, row, Stage.GATEWAY)
            self.vault.audit(s, Category.ALTERATION, "referral.stage", entity="referral",
                             ref=row.ref, detail={"stage": row.stage})

    @requires(Perm.REFERRAL_WRITE)
    def record_outcome(
        self,
        referral: int | str,
        outcome: str,
        decision: NdmInput,
        *,
        signposted_to: str | None = None,
        today: date | None = None,
    ) -> int:
        """The outcome (DOMAIN.md list), with its NDM decision record. Returns the decision id."""
        today = today or date.today()
        with self.vault.write() as s:
            lists = lists_for(s, self.vault)
            code = lists.check("outcomes", "outcome", outcome)
            signpost: str | None = None
            if code in lists.outcomes_needing_signposting:
                signpost = lists.check("signposting", "signposted_to", signposted_to)
            elif signposted_to:
                raise ValidationError("signposted_to", "only a signposted outcome names a service")
            row = get_referral(s, referral)
            # Immediate risk may skip straight to an outcome: it cannot wait for triage.
            if (row.stage not in (Stage.DECISION.value, Stage.OUTCOME.value)
                    and code != Outcome.IMMEDIATE_RISK.value):
                raise ValidationError("stage", "record the gateway assessment first")
            if row.closed_on is not None:
                raise ValidationError("stage", "the referral is closed")
            rec = add_decision(s, self.vault, row, "outcome", decision, today)
            changes = {"outcome": (row.outcome, code), "signposted_to": (row.signposted_to,
                                                                         signpost),
                       "outcome_on": (row.outcome_on, rec.decided_on)}
            if row.decided_on is None:
                changes["decided_on"] = (None, rec.decided_on)
                row.decided_on = rec.decided_on
            self.vault.revision(s, "referral", row.id, "update", changes)
            row.outcome, row.signposted_to, row.outcome_on = code, signpost, rec.decided_on
            self._move(s, row, Stage.OUTCOME)
            self.vault.audit(s, Category.ALTERATION, "referral.outcome", entity="referral",
                             ref=row.ref, detail={"outcome": code, "decision_id": rec.id})
            return rec.id

    @requires(Perm.REFERRAL_WRITE)
    def close(
        self,
        referral: int | str,
        closed_on: date,
        reason: str,
        *,
        today: date | None = None,
    ) -> list[ReviewRow]:
        """Close a referral that has an outcome; schedules the reviews (6 and 12 months)."""
        today = today or date.today()
        reason = optional_text("reason", reason)
        if not reason:
            raise ValidationError("reason", "say why the referral is closed")
        if not isinstance(closed_on, date) or closed_on > today:
            raise ValidationError("closed_on", "must be a date not in the future")
        with self.vault.write() as s:
            lists = lists_for(s, self.vault)
            row = get_referral(s, referral)
            if row.outcome is None:
                raise ValidationError("outcome", "record an outcome before closing")
            if row.closed_on is not None:
                raise ValidationError("closed_on", "the referral is already closed")
            if row.outcome_on and closed_on < row.outcome_on:
                raise ValidationError("closed_on", "must not be before the outcome")
            self.vault.revision(s, "referral", row.id, "update", {"closed_on": (None, closed_on)},
                                reason)
            row.closed_on = closed_on
            self._move(s, row, Stage.CLOSED, reason)
            months = lists.closure_review_months
            reviews = []
            for m, due in zip(months, closure_reviews(closed_on, months), strict=True):
                rv = ReferralReview(referral_id=row.id, months=m, due_on=due)
                s.add(rv)
                reviews.append(rv)
            s.flush()
            self.vault.audit(s, Category.ALTERATION, "referral.close", entity="referral",
                             ref=row.ref, reason=reason,
                             detail={"reviews": [r.due_on.isoformat() for r in reviews]})
            return [ReviewRow(r.id, r.months, r.due_on, None, "", "") for r in reviews]

    @requires(Perm.REFERRAL_WRITE)
    def complete_review(self, review_id: int, done_on: date, note: str) -> None:
        note = optional_text("note", note)
        if not note:
            raise ValidationError("note", "record what the review found")
        with self.vault.write() as s:
            rv = s.get(ReferralReview, review_id)
            if rv is None:
                raise NotFound("There is no such review.")
            if rv.done_on is not None:
                raise ValidationError("review", "is already done")
            ref = referral_ref(rv.referral_id)
            self.vault.revision(s, "referral_review", rv.id, "update",
                                {"done_on": (None, done_on)})
            rv.done_on, rv.done_by, rv.note = done_on, self.vault.actor.user, note
            self.vault.audit(s, Category.ALTERATION, "referral.review", entity="referral",
                             ref=ref, detail={"review_id": rv.id, "months": rv.months})

    # -- reading -------------------------------------------------------------------------
    @requires(Perm.REFERRAL_READ)
    def queue(
        self,
        flt: ReferralFilter = ReferralFilter(),
        *,
        today: date | None = None,
        offset: int = 0,
        limit: int | None = 500,
    ) -> list[QueueRow]:
        """Referral rows with the clock, immediate risk first; the view is audited."""
        today = today or date.today()
        with self.vault.write() as s:
            lists = lists_for(s, self.vault)
            cal = calendar_for(s, self.vault)
            stmt = _filtered(flt, today).offset(offset)
            if limit is not None:
                stmt = stmt.limit(limit)
            rows = [_queue_row(r, cal, today, lists.warning_working_days)
                    for r in s.execute(stmt).all()]
            self.vault.audit(s, Category.CONSULTATION, "referral.list", entity="referral",
                             detail={"rows": len(rows), "offset": offset})
            return rows

    @requires(Perm.REFERRAL_READ)
    def triage_queue(self, *, today: date | None = None) -> list[QueueRow]:
        """Referrals awaiting the gateway decision (New and Gateway assessment)."""
        return self.queue(ReferralFilter(stages=(Stage.NEW, Stage.GATEWAY)), today=today,
                          limit=None)

    @requires(Perm.REFERRAL_READ)
    def count(self, flt: ReferralFilter = ReferralFilter(), *, today: date | None = None) -> int:
        today = today or date.today()
        with self.vault.read() as s:
            sub = _filtered(flt, today).order_by(None).subquery()
            return int(s.scalar(select(func.count()).select_from(sub)) or 0)

    @requires(Perm.REFERRAL_READ)
    def overdue(self, *, today: date | None = None) -> list[QueueRow]:
        """Undecided referrals past their target, for the overdue list and the Today view."""
        with self.vault.write() as s:
            rows = overdue_referrals(s, self.vault, today)
            self.vault.audit(s, Category.CONSULTATION, "referral.list", entity="referral",
                             detail={"rows": len(rows), "overdue": True})
            return rows

    @requires(Perm.REFERRAL_READ)
    def show(self, referral: int | str, *, today: date | None = None,
             reason: str = "") -> ReferralDetail:
        """One referral in full; audited as a consultation."""
        today = today or date.today()
        with self.vault.write() as s:
            row = get_referral(s, referral)
            person = s.get(Person, row.person_id)
            assert person is not None
            lists = lists_for(s, self.vault)
            cal = calendar_for(s, self.vault)
            nominal_ref = None
            if person.nominal_id is not None:
                nominal_ref = s.scalar(select(Nominal.ref).where(Nominal.id == person.nominal_id))
            insts = s.execute(
                select(Institution.id, Institution.name, Institution.type, Institution.area)
                .join(ReferralInstitution, ReferralInstitution.institution_id == Institution.id)
                .where(ReferralInstitution.referral_id == row.id)
                .order_by(Institution.name)
            ).all()
            notes = s.scalars(select(ReferralNote).where(ReferralNote.referral_id == row.id)
                              .order_by(ReferralNote.id)).all()
            decisions = s.scalars(select(NdmDecision).where(NdmDecision.referral_id == row.id)
                                  .order_by(NdmDecision.decided_on, NdmDecision.id)).all()
            reviews = s.scalars(select(ReferralReview).where(ReferralReview.referral_id == row.id)
                                .order_by(ReferralReview.due_on)).all()
            clock_row = s.execute(_filtered(ReferralFilter(ids=[row.id]), today)).first()
            self.vault.audit(s, Category.CONSULTATION, "referral.view", entity="referral",
                             ref=row.ref, reason=reason)
            return ReferralDetail(
                id=row.id, ref=row.ref, received_at=row.received_at,
                referrer_name=row.referrer_name, referrer_organisation=row.referrer_organisation,
                source_sector=row.source_sector, concern_type=row.concern_type,
                person_id=person.id, surname=person.surname, forenames=person.forenames,
                dob=person.dob, nominal_id=person.nominal_id, nominal_ref=nominal_ref,
                age_at_referral=row.age_at_referral, area=row.area, summary=row.summary,
                immediate_risk=row.immediate_risk, stage=row.stage, target_due=row.target_due,
                target_working_days=row.target_working_days, decided_on=row.decided_on,
                outcome=row.outcome, signposted_to=row.signposted_to, outcome_on=row.outcome_on,
                closed_on=row.closed_on,
                institutions=[{"id": i.id, "name": i.name, "type": i.type, "area": i.area}
                              for i in insts],
                notes=[{"id": n.id, "title": n.title, "text": n.text,
                        "added_at": n.added_at.isoformat(timespec="minutes"),
                        "added_by": n.added_by} for n in notes],
                decisions=[decision_record(d) for d in decisions],
                reviews=[ReviewRow(r.id, r.months, r.due_on, r.done_on, r.done_by, r.note)
                         for r in reviews],
                created_by=row.created_by,
                clock=_queue_row(clock_row, cal, today, lists.warning_working_days)
                if clock_row else None,
            )

    @requires(Perm.REFERRAL_READ)
    def due(self, start: date, end: date) -> list[DueItem]:
        with self.vault.read() as s:
            return list(due_items(s, start, end))

    @requires(Perm.EXPORT)
    def export_return(self, out: Any, start: date, end: date, *, recipient: str,
                      justification: str, progress: Any = None) -> Any:
        """The referrals return as a marked xlsx, written atomically; audited as a disclosure.
        Returns the ExportResult (path, sha256, size)."""
        if not allowed(self.vault.actor.role, Perm.REFERRAL_READ):  # pragma: no cover
            raise NotAllowed("Your role may not read referrals.")
        return export_referrals_return(self.vault, out, start, end, recipient=recipient,
                                       justification=justification, progress=progress)

    @requires(Perm.REFERRAL_READ)
    def return_data(self, start: date, end: date) -> ReferralsReturn:
        """Counts by concern, sector, outcome and month, with timeliness against target."""
        with self.vault.write() as s:
            lists = lists_for(s, self.vault)
            return referrals_return(s, lists, start, end)


# --- the referrals return -----------------------------------------------------------------


@dataclass(frozen=True)
class ReturnRow:
    key: str
    label: str
    referrals: int
    decided: int
    on_time: int
    late: int
    awaiting: int  # undecided (still on the clock, or overdue)

    @property
    def on_time_pct(self) -> float | None:
        return round(100.0 * self.on_time / self.decided, 1) if self.decided else None


@dataclass(frozen=True)
class ReferralsReturn:
    start: date
    end: date
    target_note: str
    total: ReturnRow
    by_concern: list[ReturnRow]
    by_sector: list[ReturnRow]
    by_outcome: list[ReturnRow]
    by_month: list[ReturnRow]
    lists_version: str

    def as_json(self) -> dict[str, Any]:
        def rows(items: list[ReturnRow]) -> list[dict[str, Any]]:
            return [dict(asdict(r), on_time_pct=r.on_time_pct) for r in items]

        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "total": rows([self.total])[0],
            "by_concern": rows(self.by_concern),
            "by_sector": rows(self.by_sector),
            "by_outcome": rows(self.by_outcome),
            "by_month": rows(self.by_month),
        }


def referrals_return(session: Session, lists: PreventLists, start: date,
                     end: date) -> ReferralsReturn:
    if end < start:
        raise ValidationError("end", "must not be before the start")
    decided = case((Referral.decided_on.is_not(None), 1), else_=0)
    on_time = case((Referral.decided_on <= Referral.target_due, 1), else_=0)
    late = case((Referral.decided_on > Referral.target_due, 1), else_=0)
    awaiting = case((Referral.decided_on.is_(None), 1), else_=0)
    window = and_(Referral.received_on >= start, Referral.received_on <= end)

    def grouped(col: Any) -> dict[str, tuple[int, int, int, int, int]]:
        stmt = (
            select(col, func.count(), func.sum(decided), func.sum(on_time), func.sum(late),
                   func.sum(awaiting))
            .where(window)
            .group_by(col)
        )
        return {
            (k if k is not None else ""): (int(n), int(d or 0), int(o or 0), int(lt or 0),
                                           int(a or 0))
            for k, n, d, o, lt, a in session.execute(stmt)
        }

    def rows(counts: dict[str, tuple[int, int, int, int, int]], list_name: str | None,
             keys: Iterable[str]) -> list[ReturnRow]:
        out = []
        for k in keys:
            n, d, o, lt, a = counts.get(k, (0, 0, 0, 0, 0))
            label = lists.label(list_name, k) if list_name else k
            out.append(ReturnRow(k, label or "No outcome yet", n, d, o, lt, a))
        return out

    concern = grouped(Referral.concern_type)
    sector = grouped(Referral.source_sector)
    outcome = grouped(Referral.outcome)
    month = grouped(Referral.received_month)
    months: list[str] = []
    cur = date(start.year, start.month, 1)
    while cur <= end:
        months.append(cur.strftime("%Y-%m"))
        cur = (cur.replace(day=28) + timedelta(days=4)).replace(day=1)
    concern_keys = [c.code for c in lists.concern_types] + sorted(
        set(concern) - {c.code for c in lists.concern_types})
    sector_keys = [c.code for c in lists.source_sectors] + sorted(
        set(sector) - {c.code for c in lists.source_sectors})
    outcome_keys = [c.code for c in lists.outcomes] + sorted(
        set(outcome) - {c.code for c in lists.outcomes} - {""}) + [""]
    totals = [sum(v[i] for v in concern.values()) for i in range(5)]
    return ReferralsReturn(
        start=start,
        end=end,
        target_note="Gateway decision within the target working days of receipt "
        "(bank holidays excluded)",
        total=ReturnRow("total", "All referrals", *totals),
        by_concern=rows(concern, "concern_types", concern_keys),
        by_sector=rows(sector, "source_sectors", sector_keys),
        by_outcome=rows(outcome, "outcomes", outcome_keys),
        by_month=rows(month, None, months),
        lists_version=lists.version,
    )


def export_referrals_return(
    vault: Vault,
    out: Any,
    start: date,
    end: date,
    *,
    recipient: str,
    justification: str,
    progress: Any = None,
) -> Any:
    """Write the referrals return (xlsx) atomically and audit it as a disclosure.

    The caller checks Perm.EXPORT (``ReferralService.export_return`` does)."""
    from app.io.marking import DocumentInfo
    from app.io.safe_write import atomic_export
    from app.io.xlsx import Column, SheetSpec, write_return

    recipient = optional_text("recipient", recipient, max_len=500, multiline=False)
    justification = optional_text("justification", justification, max_len=2000)
    if not recipient:
        raise ValidationError("recipient", "say who will receive the return")
    if not justification:
        raise ValidationError("justification", "say why it is being disclosed")
    with vault.write() as s:
        data = referrals_return(s, lists_for(s, vault), start, end)
    columns = [
        Column("Referrals", "int", 11),
        Column("Decided", "int", 10),
        Column("Decided within target", "int", 12),
        Column("Decided late", "int", 10),
        Column("Awaiting decision", "int", 11),
        Column("Within target (% of decided)", "float", 14),
    ]

    def counts(r: ReturnRow) -> tuple[object, ...]:
        return (r.referrals, r.decided, r.on_time, r.late, r.awaiting, r.on_time_pct)

    sheets = [
        SheetSpec(title, [Column(first, "text", 40), *columns],
                  [(r.label, *counts(r)) for r in rows], expected_rows=len(rows))
        for title, first, rows in (
            ("By concern", "Concern type", data.by_concern),
            ("By sector", "Source sector", data.by_sector),
            ("By outcome", "Outcome", data.by_outcome),
        )
    ]
    sheets.append(SheetSpec(
        "By month", [Column("Month", "date", 12), *columns],
        [(date(int(r.key[:4]), int(r.key[5:7]), 1), *counts(r)) for r in data.by_month],
        expected_rows=len(data.by_month)))
    sheets.insert(0, SheetSpec(
        "Summary", [Column("Measure", "text", 44), Column("Value", "text", 40)],
        [("Referrals received", str(data.total.referrals)),
         ("Gateway decisions made", str(data.total.decided)),
         ("Decided within target", str(data.total.on_time)),
         ("Decided late", str(data.total.late)),
         ("Awaiting decision", str(data.total.awaiting)),
         ("Within target (% of decided)",
          "" if data.total.on_time_pct is None else f"{data.total.on_time_pct:.1f}"),
         ("Target", data.target_note),
         ("Reference lists version", data.lists_version)],
        expected_rows=8))
    info = DocumentInfo(
        title="Prevent referrals return",
        author=vault.actor.user,
        generated_at=datetime.now(),
        period=f"{start:%d/%m/%Y} to {end:%d/%m/%Y}",
    )

    def write(stream: Any, sink: Any) -> None:
        write_return(stream, info, sheets, sink)

    result = atomic_export(out, write, progress=progress)
    with vault.write() as s:
        vault.audit(
            s, Category.DISCLOSURE, "export.referrals", entity="return", ref="referrals",
            reason=justification, recipient=recipient,
            detail={"file": result.path.name, "sha256": result.sha256,
                    "referrals": data.total.referrals, "period_start": start,
                    "period_end": end},
        )
    return result

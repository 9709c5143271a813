"""Engagement: contact plans and the contact log, notification requirements, civil orders,
reoffending pathways, and the engagement return's data.

Date arithmetic lives in app.domain.rules; this module stores its results on indexed columns
(a plan's next contact due, a requirement's next re-notification, each order review) so that
the calendar reads ranges instead of recomputing every nominal.
"""

from __future__ import annotations

import calendar as _calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.roles import Perm
from app.domain.rules import (
    CivilOrderTable,
    ContactFrequencyTable,
    NotificationPeriod,
    change_notification_due,
    contact_frequency_days,
    foreign_travel_notice_due,
    initial_notification_due,
    next_contact_due,
    notification_end,
    notification_period,
    order_schedule,
    parse_civil_orders,
    parse_contact_frequency,
    renotification_dates,
    renotification_due,
)
from app.domain.text import clean_text
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.reference import current_in
from app.services.vault import Vault
from app.store.models import (
    CivilOrder,
    CivilOrderReview,
    Contact,
    ContactPlan,
    Nominal,
    NominalPathway,
    NotificationEvent,
    NotificationRequirement,
    utcnow,
)

__all__ = [
    "ContactPlanInfo",
    "ContactRecord",
    "ContactVocab",
    "EngagementReturnRow",
    "EngagementService",
    "NotificationEventInfo",
    "NotificationInfo",
    "OrderInfo",
    "OrderReviewInfo",
    "PathwayMapRow",
    "PathwayRecord",
    "PathwayTable",
    "parse_contact_vocab",
    "parse_pathways",
    "reassign_nominal",
    "refresh_plans_in",
    "sync_plan_in",
]

MAX_NOTES = 20_000
MAX_ONE_LINE = 500  # the longest field that is one line (an export's recipient)
ORDER_STATUSES = ("active", "expired", "revoked", "replaced")
NOTIFICATION_STATUSES = ("active", "ended", "suspended")
# Event kinds, and whether giving that notification restarts the yearly clock (CTA 2008 s49:
# the year runs from the last notification under s47, s48 or s49; a travel notice does not).
EVENT_KINDS: dict[str, bool] = {
    "initial": True,
    "release": True,
    "change": True,
    "renotification": True,
    "foreign_travel": False,
}


# --- reference lists owned here -------------------------------------------------------------


@dataclass(frozen=True)
class ContactVocab:
    """Contact types and outcomes; ``counting`` outcomes satisfy the contact plan."""

    version: str
    types: Mapping[str, str]
    outcomes: Mapping[str, str]
    counting: frozenset[str]


def _labelled(data: Mapping[str, Any], key: str, where: str) -> dict[str, Mapping[str, Any]]:
    raw = data.get(key)
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError(f"{where}.{key}", "must be a non-empty object")
    out: dict[str, Mapping[str, Any]] = {}
    for code, entry in raw.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("label"), str):
            raise ValidationError(f"{where}.{key}.{code}", "needs a label")
        out[str(code)] = entry
    return out


def _version(data: Mapping[str, Any], where: str) -> str:
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise ValidationError(f"{where}.version", "is missing")
    return version


def parse_contact_vocab(data: Mapping[str, Any]) -> ContactVocab:
    """Check and type the ``contact_vocab`` reference list."""
    where = "contact_vocab"
    types = _labelled(data, "types", where)
    outcomes = _labelled(data, "outcomes", where)
    counting = frozenset(c for c, e in outcomes.items() if e.get("counts_as_contact") is True)
    if not counting:
        raise ValidationError(f"{where}.outcomes", "at least one outcome must count as contact")
    return ContactVocab(
        version=_version(data, where),
        types={c: str(e["label"]) for c, e in types.items()},
        outcomes={c: str(e["label"]) for c, e in outcomes.items()},
        counting=counting,
    )


@dataclass(frozen=True)
class PathwayTable:
    """The reoffending pathways, need levels and statuses (``open`` statuses are current)."""

    version: str
    pathways: Mapping[str, str]
    providers: Mapping[str, tuple[str, ...]]
    need_levels: tuple[str, ...]
    statuses: Mapping[str, str]
    open_statuses: frozenset[str]


def parse_pathways(data: Mapping[str, Any]) -> PathwayTable:
    """Check and type the ``pathways`` reference list."""
    where = "pathways"
    pathways = _labelled(data, "pathways", where)
    statuses = _labelled(data, "statuses", where)
    levels = data.get("need_levels")
    if not isinstance(levels, list) or not levels or not all(isinstance(x, str) for x in levels):
        raise ValidationError(f"{where}.need_levels", "must be a non-empty list of text")
    providers: dict[str, tuple[str, ...]] = {}
    for code, entry in pathways.items():
        raw = entry.get("providers", [])
        if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
            raise ValidationError(f"{where}.pathways.{code}.providers", "must be a list of text")
        providers[code] = tuple(raw)
    return PathwayTable(
        version=_version(data, where),
        pathways={c: str(e["label"]) for c, e in pathways.items()},
        providers=providers,
        need_levels=tuple(levels),
        statuses={c: str(e["label"]) for c, e in statuses.items()},
        open_statuses=frozenset(c for c, e in statuses.items() if e.get("open") is True),
    )


# --- what the service returns ---------------------------------------------------------------


@dataclass(frozen=True)
class ContactPlanInfo:
    ref: str
    status: str | None
    risk_level: str | None
    table_days: int | None
    table_version: str
    override_days: int | None
    override_reason: str
    frequency_days: int | None
    start_date: date
    last_contact_at: datetime | None
    next_planned: date | None
    next_due: date | None

    @property
    def rule_text(self) -> str:
        if self.frequency_days is None:
            return f"No planned contact ({self.status or 'no status'})"
        if self.override_days is not None:
            return f"Every {self.frequency_days} days (override: {self.override_reason})"
        return (
            f"Every {self.frequency_days} days ({self.status}, {self.risk_level} risk; "
            f"table {self.table_version})"
        )


@dataclass(frozen=True)
class ContactRecord:
    id: int
    ref: str
    at: datetime
    contact_type: str
    officer: str
    outcome: str
    notes: str
    next_planned: date | None
    counts: bool
    created_by: str


@dataclass(frozen=True)
class NotificationEventInfo:
    id: int
    kind: str
    event_date: date
    departure_date: date | None
    due_date: date
    notified_on: date | None
    detail: str


@dataclass(frozen=True)
class NotificationInfo:
    id: int
    ref: str
    start_date: date
    sentence_months: int | None
    life: bool
    period_years: int
    rule_text: str
    end_date: date
    last_notified: date | None
    next_due: date | None
    status: str
    notes: str
    renotification_dates: tuple[date, ...]
    events: tuple[NotificationEventInfo, ...]


@dataclass(frozen=True)
class OrderReviewInfo:
    id: int
    due_date: date
    done_on: date | None
    outcome: str


@dataclass(frozen=True)
class OrderInfo:
    id: int
    ref: str
    order_type: str
    label: str
    start_date: date
    end_date: date
    conditions: str
    status: str
    rule_text: str
    reference: str
    reviews: tuple[OrderReviewInfo, ...]


@dataclass(frozen=True)
class PathwayRecord:
    id: int
    ref: str
    pathway: str
    label: str
    need_level: str
    interventions: str
    providers: str
    status: str
    start_date: date | None
    end_date: date | None
    notes: str
    reference_version: str


@dataclass(frozen=True)
class PathwayMapRow:
    """Who is on one pathway: counts by need level and the refs, best-first by need."""

    pathway: str
    label: str
    count: int
    by_need: Mapping[str, int]
    refs: tuple[str, ...]


@dataclass(frozen=True)
class EngagementReturnRow:
    """Contacts made against plan for one manager in one month.

    ``required`` is the number of contacts the plans called for in the month (days in the
    month over each nominal's frequency); ``late`` counts contacts made after the previous one
    had fallen due; ``overdue`` counts nominals overdue at the month's end (or today, for the
    current month).
    """

    manager: str
    month: date
    nominals: int
    required: float
    made: int
    attempted: int
    late: int
    overdue: int

    @property
    def on_time_pct(self) -> float | None:
        return None if self.made == 0 else round(100.0 * (self.made - self.late) / self.made, 1)


# --- shared helpers (also used by other services inside their own sessions) -----------------


def _ref_number(ref: str) -> int:
    from app.domain.nominal import parse_ref

    number = parse_ref(ref)
    if number is None:
        raise ValidationError("ref", "is not a nominal reference (NM-000123)")
    return number


def _live_nominal(session: Session, ref: str) -> Nominal:
    row = session.get(Nominal, _ref_number(ref))
    if row is None or row.erased:
        raise NotFound("No nominal has that reference.")
    if row.merged_into_id is not None:
        raise ValidationError(
            "ref", "that nominal was merged into another record; use the kept one"
        )
    return row


def _clean_text(value: str, field_name: str, limit: int = MAX_NOTES) -> str:
    """The shared text check: short fields (an officer, a reference) are one line."""
    return clean_text(value, field_name, limit, multiline=limit > MAX_ONE_LINE)


def _frequency_table(session: Session, vault: Vault) -> ContactFrequencyTable:
    return parse_contact_frequency(current_in(session, vault, "contact_frequency"))


def _order_table(session: Session, vault: Vault) -> CivilOrderTable:
    return parse_civil_orders(current_in(session, vault, "civil_orders"))


def _vocab(session: Session, vault: Vault) -> ContactVocab:
    return parse_contact_vocab(current_in(session, vault, "contact_vocab"))


def _pathway_table(session: Session, vault: Vault) -> PathwayTable:
    return parse_pathways(current_in(session, vault, "pathways"))


def _table_days(status: str | None, risk: str | None, table: ContactFrequencyTable) -> int | None:
    """The table's frequency, or None where no contact is planned or the record lacks the data.

    A nominal with no status or no risk level gets no plan (a data-quality fault the nominal
    checks report), rather than a guess.
    """
    if not status or status.strip().lower() not in table.days:
        return None
    try:
        return contact_frequency_days(status, risk, table)
    except ValidationError:
        return None


def _effective(
    status: str | None, table_days: int | None, override: int | None, table: ContactFrequencyTable
) -> int | None:
    if override is None:
        return table_days
    # An override applies wherever the status plans contact at all (rules.contact_frequency_days).
    if status and table.days.get(status.strip().lower()) is not None:
        return override
    return None


def _recompute_plan(session: Session, plan: ContactPlan, counting: Iterable[str]) -> None:
    """Last contact, next planned and next due from the log (called after every change)."""
    last = session.scalar(
        select(func.max(Contact.at)).where(
            Contact.nominal_id == plan.nominal_id, Contact.outcome.in_(list(counting))
        )
    )
    latest = session.execute(
        select(Contact.next_planned)
        .where(Contact.nominal_id == plan.nominal_id)
        .order_by(Contact.at.desc(), Contact.id.desc())
        .limit(1)
    ).first()
    plan.last_contact_at = last
    plan.next_planned = latest[0] if latest else None
    plan.next_due = next_contact_due(
        last.date() if last is not None else None, plan.frequency_days, plan.start_date
    )
    plan.updated_at = utcnow()


def sync_plan_in(
    session: Session, vault: Vault, nominal_id: int, today: date | None = None
) -> None:
    """Create or re-plan one nominal's contact plan after the nominal changed.

    For the nominal service to call inside its write session when a nominal is added or its
    status or risk level changes; ``refresh_plans_in`` does the same for every nominal.
    """
    nominal = session.get(Nominal, nominal_id)
    if nominal is None:
        return
    table = _frequency_table(session, vault)
    vocab = _vocab(session, vault)
    plan = session.scalars(select(ContactPlan).where(ContactPlan.nominal_id == nominal_id)).first()
    if plan is None:
        plan = ContactPlan(nominal_id=nominal_id, start_date=today or date.today())
        session.add(plan)
    plan.basis_status, plan.basis_risk = nominal.status, nominal.risk_level
    plan.table_version = table.version
    plan.table_days = _table_days(nominal.status, nominal.risk_level, table)
    plan.frequency_days = _effective(nominal.status, plan.table_days, plan.override_days, table)
    session.flush()
    _recompute_plan(session, plan, vocab.counting)


def refresh_plans_in(session: Session, vault: Vault, today: date | None = None) -> int:
    """Bring every live nominal's plan up to date with its status, risk and the table version.

    Set-based: reads (id, status, risk) of every nominal and the plans' basis once, and touches
    only the plans that are missing or stale. Returns how many plans were created or changed.
    """
    table = _frequency_table(session, vault)
    start = today or date.today()
    plans = {
        row.nominal_id: row
        for row in session.execute(
            select(
                ContactPlan.nominal_id,
                ContactPlan.basis_status,
                ContactPlan.basis_risk,
                ContactPlan.table_version,
            )
        )
    }
    nominals = session.execute(
        select(Nominal.id, Nominal.status, Nominal.risk_level).where(
            Nominal.merged_into_id.is_(None), Nominal.erased.is_(False)
        )
    ).all()
    new_rows: list[dict[str, Any]] = []
    stale: list[int] = []
    for nid, status, risk in nominals:
        plan = plans.get(nid)
        if plan is None:
            days = _table_days(status, risk, table)
            new_rows.append(
                {
                    "nominal_id": nid,
                    "basis_status": status,
                    "basis_risk": risk,
                    "table_version": table.version,
                    "table_days": days,
                    "override_days": None,
                    "override_reason": "",
                    "frequency_days": days,
                    "start_date": start,
                    "next_due": next_contact_due(None, days, start),
                    "updated_at": utcnow(),
                }
            )
        elif (plan.basis_status, plan.basis_risk, plan.table_version) != (
            status,
            risk,
            table.version,
        ):
            stale.append(nid)
    if new_rows:
        session.execute(insert(ContactPlan), new_rows)
    for nid in stale:
        sync_plan_in(session, vault, nid, start)
    return len(new_rows) + len(stale)


def reassign_nominal(session: Session, drop_id: int, keep_id: int) -> None:
    """Move every engagement record of a merged-away nominal to the kept one.

    For the nominal service's merge, inside its write session. The dropped nominal's contact
    plan is removed; the kept one should then be re-planned with ``sync_plan_in``.
    """
    for model in (
        Contact,
        NotificationRequirement,
        NotificationEvent,
        CivilOrder,
        CivilOrderReview,
        NominalPathway,
    ):
        session.execute(
            update(model).where(model.nominal_id == drop_id).values(nominal_id=keep_id)
        )
    session.execute(delete(ContactPlan).where(ContactPlan.nominal_id == drop_id))


def _plan_info(nominal: Nominal, plan: ContactPlan) -> ContactPlanInfo:
    return ContactPlanInfo(
        ref=nominal.ref,
        status=nominal.status,
        risk_level=nominal.risk_level,
        table_days=plan.table_days,
        table_version=plan.table_version,
        override_days=plan.override_days,
        override_reason=plan.override_reason,
        frequency_days=plan.frequency_days,
        start_date=plan.start_date,
        last_contact_at=plan.last_contact_at,
        next_planned=plan.next_planned,
        next_due=plan.next_due,
    )


def _contact_record(ref: str, row: Contact, counting: frozenset[str]) -> ContactRecord:
    return ContactRecord(
        id=row.id,
        ref=ref,
        at=row.at,
        contact_type=row.contact_type,
        officer=row.officer,
        outcome=row.outcome,
        notes=row.notes,
        next_planned=row.next_planned,
        counts=row.outcome in counting,
        created_by=row.created_by,
    )


def _period_for(
    sentence_months: int | None, sentence_days: int | None, life: bool
) -> NotificationPeriod:
    return notification_period(sentence_months, sentence_days=sentence_days, life=life)


@dataclass
class _NominalMonths:
    """Per-nominal accumulator for the engagement return."""

    frequency: int
    start: date
    before: date | None  # the last counting contact before the period
    previous: date | None  # advanced while the period's contacts stream past
    made: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    late: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    attempted: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    counting_dates: list[date] = field(default_factory=list)


def _month_starts(start: date, end: date) -> list[date]:
    months: list[date] = []
    current = date(start.year, start.month, 1)
    while current <= end:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def _month_end(month: date) -> date:
    return month.replace(day=_calendar.monthrange(month.year, month.month)[1])


class EngagementService(Service):
    """Contact plans and log, notification requirements, civil orders, pathways."""

    # -- contact plans ----------------------------------------------------------------------

    @requires(Perm.ENGAGEMENT_READ)
    def plan(self, ref: str) -> ContactPlanInfo:
        """A nominal's contact plan (made from the frequency table if it has none yet)."""
        with self.vault.read() as s:
            nominal = _live_nominal(s, ref)
            plan = s.scalars(
                select(ContactPlan).where(ContactPlan.nominal_id == nominal.id)
            ).first()
            if plan is not None and (plan.basis_status, plan.basis_risk) == (
                nominal.status,
                nominal.risk_level,
            ):
                return _plan_info(nominal, plan)
        with self.vault.write() as s:
            nominal = _live_nominal(s, ref)
            sync_plan_in(s, self.vault, nominal.id)
            plan = s.scalars(select(ContactPlan).where(ContactPlan.nominal_id == nominal.id)).one()
            return _plan_info(nominal, plan)

    @requires(Perm.ENGAGEMENT_READ)
    def refresh_plans(self, today: date | None = None) -> int:
        """Create missing plans and re-plan stale ones (status, risk or table changed).

        Cheap when nothing changed; the window calls it after unlock, the demo after loading.
        """
        with self.vault.write() as s:
            return refresh_plans_in(s, self.vault, today)

    @requires(Perm.ENGAGEMENT_WRITE)
    def set_override(self, ref: str, days: int | None, reason: str) -> ContactPlanInfo:
        """Set (or with ``days=None`` clear) a nominal's own contact frequency, with a reason."""
        reason = _clean_text(reason, "reason", 2000)
        if not reason:
            raise ValidationError("reason", "say why this nominal's frequency differs")
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366
        ):
            raise ValidationError("days", "must be a whole number of days from 1 to 366")
        with self.vault.write() as s:
            nominal = _live_nominal(s, ref)
            sync_plan_in(s, self.vault, nominal.id)
            plan = s.scalars(select(ContactPlan).where(ContactPlan.nominal_id == nominal.id)).one()
            table = _frequency_table(s, self.vault)
            if days is not None and table.days.get((nominal.status or "").lower()) is None:
                raise ValidationError(
                    "days", "no contact is planned for a nominal with this status"
                )
            old = (plan.override_days, plan.override_reason, plan.frequency_days, plan.next_due)
            plan.override_days = days
            plan.override_reason = reason if days is not None else ""
            plan.frequency_days = _effective(nominal.status, plan.table_days, days, table)
            _recompute_plan(s, plan, _vocab(s, self.vault).counting)
            self.vault.revision(
                s,
                "contact_plan",
                plan.id,
                "update",
                {
                    "override_days": (old[0], plan.override_days),
                    "override_reason": (old[1], plan.override_reason),
                    "frequency_days": (old[2], plan.frequency_days),
                    "next_due": (old[3], plan.next_due),
                },
                reason=reason,
            )
            self.vault.audit(
                s,
                Category.ALTERATION,
                "contact_plan.override" if days is not None else "contact_plan.override_cleared",
                entity="nominal",
                ref=nominal.ref,
                reason=reason,
                detail={"old_days": old[2], "new_days": plan.frequency_days},
            )
            return _plan_info(nominal, plan)

    @requires(Perm.ENGAGEMENT_WRITE)
    def set_plan_start(self, ref: str, start: date, reason: str = "") -> ContactPlanInfo:
        """Restart the clock for a nominal never contacted (release, adoption onto the list)."""
        with self.vault.write() as s:
            nominal = _live_nominal(s, ref)
            sync_plan_in(s, self.vault, nominal.id)
            plan = s.scalars(select(ContactPlan).where(ContactPlan.nominal_id == nominal.id)).one()
            old = (plan.start_date, plan.next_due)
            plan.start_date = start
            _recompute_plan(s, plan, _vocab(s, self.vault).counting)
            self.vault.revision(
                s,
                "contact_plan",
                plan.id,
                "update",
                {"start_date": (old[0], start), "next_due": (old[1], plan.next_due)},
                reason=reason,
            )
            self.vault.audit(
                s,
                Category.ALTERATION,
                "contact_plan.start",
                entity="nominal",
                ref=nominal.ref,
                reason=reason,
            )
            return _plan_info(nominal, plan)

    # -- contact log ------------------------------------------------------------------------

    @requires(Perm.ENGAGEMENT_READ)
    def contact_vocab(self) -> ContactVocab:
        with self.vault.write() as s:
            return _vocab(s, self.vault)

    def _check_contact(
        self,
        vocab: ContactVocab,
        when: datetime,
        contact_type: str,
        outcome: str,
        next_planned: date | None,
    ) -> None:
        if not isinstance(when, datetime):
            raise ValidationError("when", "give the date and time of the contact")
        if when.date() > date.today():
            raise ValidationError("when", "a contact cannot be logged in the future")
        if contact_type not in vocab.types:
            raise ValidationError("type", "is not a contact type in the list")
        if outcome not in vocab.outcomes:
            raise ValidationError("outcome", "is not a contact outcome in the list")
        if next_planned is not None and next_planned < when.date():
            raise ValidationError("next_planned", "must not be before the contact")

    @requires(Perm.ENGAGEMENT_WRITE)
    def log_contact(
        self,
        ref: str,
        when: datetime,
        contact_type: str,
        officer: str,
        outcome: str,
        notes: str = "",
        next_planned: date | None = None,
    ) -> ContactRecord:
        """Record a contact (or an attempt); the plan's next due date moves if it counts."""
        officer = _clean_text(officer, "officer", 128)
        if not officer:
            raise ValidationError("officer", "say who made the contact")
        notes = _clean_text(notes, "notes")
        with self.vault.write() as s:
            vocab = _vocab(s, self.vault)
            self._check_contact(vocab, when, contact_type, outcome, next_planned)
            nominal = _live_nominal(s, ref)
            row = Contact(
                nominal_id=nominal.id,
                at=when.replace(tzinfo=None, microsecond=0),
                contact_type=contact_type,
                officer=officer,
                outcome=outcome,
                notes=notes,
                next_planned=next_planned,
                created_at=utcnow(),
                created_by=self.vault.actor.user,
            )
            s.add(row)
            s.flush()
            sync_plan_in(s, self.vault, nominal.id)
            self.vault.record_created(
                s, "contact", row.id, {
                    "at": row.at,
                    "contact_type": contact_type,
                    "officer": officer,
                    "outcome": outcome,
                    "notes": notes,
                    "next_planned": next_planned,
                },
                action="contact.add", ref=nominal.ref,
                detail={"contact_id": row.id, "type": contact_type, "outcome": outcome},
            )
            return _contact_record(nominal.ref, row, vocab.counting)

    @requires(Perm.ENGAGEMENT_WRITE)
    def edit_contact(self, contact_id: int, reason: str, **changes: Any) -> ContactRecord:
        """Correct a logged contact (fields: when, contact_type, officer, outcome, notes,
        next_planned); the old values are kept as a revision."""
        allowed = {"when", "contact_type", "officer", "outcome", "notes", "next_planned"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(sorted(unknown)[0], "cannot be changed on a contact")
        reason = _clean_text(reason, "reason", 2000)
        if not reason:
            raise ValidationError("reason", "say why the contact is being corrected")
        with self.vault.write() as s:
            row = s.get(Contact, contact_id)
            if row is None:
                raise NotFound("No contact has that number.")
            nominal = s.get(Nominal, row.nominal_id)
            assert nominal is not None
            vocab = _vocab(s, self.vault)
            when = changes.get("when", row.at)
            ctype = changes.get("contact_type", row.contact_type)
            outcome = changes.get("outcome", row.outcome)
            planned = changes.get("next_planned", row.next_planned)
            self._check_contact(vocab, when, ctype, outcome, planned)
            new = {
                "at": when.replace(tzinfo=None, microsecond=0),
                "contact_type": ctype,
                "officer": _clean_text(changes.get("officer", row.officer), "officer", 128),
                "outcome": outcome,
                "notes": _clean_text(changes.get("notes", row.notes), "notes"),
                "next_planned": planned,
            }
            diff = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
            for key, value in new.items():
                setattr(row, key, value)
            s.flush()
            sync_plan_in(s, self.vault, row.nominal_id)
            if diff:
                self.vault.revision(s, "contact", row.id, "update", diff, reason=reason)
                self.vault.audit(
                    s,
                    Category.ALTERATION,
                    "contact.edit",
                    entity="nominal",
                    ref=nominal.ref,
                    reason=reason,
                    detail={"contact_id": row.id, "fields": sorted(diff)},
                )
            return _contact_record(nominal.ref, row, vocab.counting)

    @requires(Perm.ENGAGEMENT_READ)
    def contacts(self, ref: str, limit: int = 500, offset: int = 0) -> list[ContactRecord]:
        """A nominal's contact log, newest first."""
        with self.vault.write() as s:
            counting = _vocab(s, self.vault).counting
        with self.vault.read() as s:
            nominal = _live_nominal(s, ref)
            rows = s.scalars(
                select(Contact)
                .where(Contact.nominal_id == nominal.id)
                .order_by(Contact.at.desc(), Contact.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            return [_contact_record(nominal.ref, r, counting) for r in rows]

    # -- notification requirements ----------------------------------------------------------

    @requires(Perm.ENGAGEMENT_WRITE)
    def add_notification(
        self,
        ref: str,
        start: date,
        *,
        sentence_months: int | None = None,
        sentence_days: int | None = None,
        life: bool = False,
        end: date | None = None,
        end_reason: str = "",
        event_date: date | None = None,
        notes: str = "",
    ) -> NotificationInfo:
        """Record that a nominal is subject to notification requirements.

        ``start`` is the day they were dealt with; the period comes from the sentence
        (``notification_period``) and ends ``notification_end`` unless a different ``end`` is
        given with ``end_reason``. An initial-notification event is due 3 days beginning with
        ``event_date`` (release, or sentence when not taken into custody; default ``start``).
        """
        period = _period_for(sentence_months, sentence_days, life)
        computed_end = notification_end(start, period)
        if end is not None and end != computed_end:
            if end < start:
                raise ValidationError("end", "must not be before the start")
            if not end_reason.strip():
                raise ValidationError("end_reason", "say why the end differs from the rule")
        with self.vault.write() as s:
            nominal = _live_nominal(s, ref)
            req = NotificationRequirement(
                nominal_id=nominal.id,
                start_date=start,
                sentence_months=sentence_months if sentence_days is None else None,
                life=1 if life else 0,
                period_years=period.years,
                rule_text=period.rule_text
                + ("" if end is None or end == computed_end else f"; end changed: {end_reason}"),
                end_date=end or computed_end,
                status="active",
                notes=_clean_text(notes, "notes"),
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            s.add(req)
            s.flush()
            first = event_date or start
            s.add(
                NotificationEvent(
                    requirement_id=req.id,
                    nominal_id=nominal.id,
                    kind="initial",
                    event_date=first,
                    due_date=initial_notification_due(first),
                )
            )
            self.vault.record_created(
                s, "notification_requirement", req.id, {
                    "start_date": start,
                    "end_date": req.end_date,
                    "period_years": period.years,
                },
                action="notification.add", ref=nominal.ref,
                detail={"requirement_id": req.id, "period_years": period.years}, reason=end_reason,
            )
            s.flush()
            return self._notification_info(s, nominal.ref, req)

    @requires(Perm.ENGAGEMENT_WRITE)
    def add_notification_event(
        self,
        requirement_id: int,
        kind: str,
        event_date: date,
        *,
        departure: date | None = None,
        notice_days: int = 7,
        detail: str = "",
    ) -> NotificationEventInfo:
        """A release or change (notify within 3 days) or planned foreign travel (notice due
        ``notice_days`` before ``departure``)."""
        if kind not in ("release", "change", "foreign_travel"):
            raise ValidationError("kind", "must be release, change or foreign_travel")
        if kind == "foreign_travel":
            if departure is None:
                raise ValidationError("departure", "give the planned date of leaving the UK")
            due = foreign_travel_notice_due(departure, notice_days)
        elif kind == "release":
            due = initial_notification_due(event_date)
        else:
            due = change_notification_due(event_date)
        with self.vault.write() as s:
            req = self._requirement(s, requirement_id)
            nominal = s.get(Nominal, req.nominal_id)
            assert nominal is not None
            event = NotificationEvent(
                requirement_id=req.id,
                nominal_id=req.nominal_id,
                kind=kind,
                event_date=event_date,
                departure_date=departure,
                due_date=due,
                detail=_clean_text(detail, "detail", 2000),
            )
            s.add(event)
            s.flush()
            self.vault.audit(
                s,
                Category.COLLECTION,
                "notification.event",
                entity="nominal",
                ref=nominal.ref,
                detail={"requirement_id": req.id, "event_id": event.id, "kind": kind},
            )
            return _event_info(event)

    @requires(Perm.ENGAGEMENT_WRITE)
    def mark_notified(self, event_id: int, on: date) -> NotificationInfo:
        """Record that the notification an event called for was given on ``on``."""
        with self.vault.write() as s:
            event = s.get(NotificationEvent, event_id)
            if event is None:
                raise NotFound("No notification event has that number.")
            req = self._requirement(s, event.requirement_id)
            old = event.notified_on
            event.notified_on = on
            self._after_notification(s, req)
            nominal = s.get(Nominal, req.nominal_id)
            assert nominal is not None
            self.vault.revision(
                s, "notification_event", event.id, "update", {"notified_on": (old, on)}
            )
            self.vault.audit(
                s,
                Category.ALTERATION,
                "notification.notified",
                entity="nominal",
                ref=nominal.ref,
                detail={"event_id": event.id, "kind": event.kind},
            )
            return self._notification_info(s, nominal.ref, req)

    @requires(Perm.ENGAGEMENT_WRITE)
    def record_renotification(self, requirement_id: int, on: date) -> NotificationInfo:
        """The yearly re-notification was given on ``on``; the next falls a year later."""
        with self.vault.write() as s:
            req = self._requirement(s, requirement_id)
            s.add(
                NotificationEvent(
                    requirement_id=req.id,
                    nominal_id=req.nominal_id,
                    kind="renotification",
                    event_date=on,
                    due_date=req.next_due or on,
                    notified_on=on,
                )
            )
            s.flush()
            self._after_notification(s, req)
            nominal = s.get(Nominal, req.nominal_id)
            assert nominal is not None
            self.vault.audit(
                s,
                Category.COLLECTION,
                "notification.renotified",
                entity="nominal",
                ref=nominal.ref,
                detail={"requirement_id": req.id},
            )
            return self._notification_info(s, nominal.ref, req)

    @requires(Perm.ENGAGEMENT_WRITE)
    def set_notification_status(
        self, requirement_id: int, status: str, reason: str
    ) -> NotificationInfo:
        if status not in NOTIFICATION_STATUSES:
            raise ValidationError("status", "must be active, ended or suspended")
        if not reason.strip():
            raise ValidationError("reason", "say why the status changes")
        with self.vault.write() as s:
            req = self._requirement(s, requirement_id)
            old = req.status
            req.status = status
            req.updated_at = utcnow()
            nominal = s.get(Nominal, req.nominal_id)
            assert nominal is not None
            self.vault.revision(
                s,
                "notification_requirement",
                req.id,
                "update",
                {"status": (old, status)},
                reason=reason,
            )
            self.vault.audit(
                s,
                Category.ALTERATION,
                "notification.status",
                entity="nominal",
                ref=nominal.ref,
                reason=reason,
                detail={"old": old, "new": status},
            )
            return self._notification_info(s, nominal.ref, req)

    @requires(Perm.ENGAGEMENT_READ)
    def notifications(self, ref: str) -> list[NotificationInfo]:
        with self.vault.read() as s:
            nominal = _live_nominal(s, ref)
            reqs = s.scalars(
                select(NotificationRequirement)
                .where(NotificationRequirement.nominal_id == nominal.id)
                .order_by(NotificationRequirement.start_date.desc())
            ).all()
            return [self._notification_info(s, nominal.ref, r) for r in reqs]

    def _requirement(self, s: Session, requirement_id: int) -> NotificationRequirement:
        req = s.get(NotificationRequirement, requirement_id)
        if req is None:
            raise NotFound("No notification requirement has that number.")
        return req

    def _after_notification(self, s: Session, req: NotificationRequirement) -> None:
        restarting = [k for k, restarts in EVENT_KINDS.items() if restarts]
        last = s.scalar(
            select(func.max(NotificationEvent.notified_on)).where(
                NotificationEvent.requirement_id == req.id,
                NotificationEvent.kind.in_(restarting),
            )
        )
        req.last_notified = last
        due = renotification_due(last) if last is not None else None
        req.next_due = due if due is not None and due <= req.end_date else None
        req.updated_at = utcnow()

    def _notification_info(
        self, s: Session, ref: str, req: NotificationRequirement
    ) -> NotificationInfo:
        events = s.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.requirement_id == req.id)
            .order_by(NotificationEvent.due_date, NotificationEvent.id)
        ).all()
        base = req.last_notified or req.start_date
        return NotificationInfo(
            id=req.id,
            ref=ref,
            start_date=req.start_date,
            sentence_months=req.sentence_months,
            life=bool(req.life),
            period_years=req.period_years,
            rule_text=req.rule_text,
            end_date=req.end_date,
            last_notified=req.last_notified,
            next_due=req.next_due,
            status=req.status,
            notes=req.notes,
            renotification_dates=tuple(renotification_dates(base, req.end_date)),
            events=tuple(_event_info(e) for e in events),
        )

    # -- civil orders -----------------------------------------------------------------------

    @requires(Perm.ENGAGEMENT_WRITE)
    def add_order(
        self,
        ref: str,
        order_type: str,
        start: date,
        end: date | None = None,
        *,
        conditions: str = "",
        reference: str = "",
    ) -> OrderInfo:
        """Record a civil order; its end (by default) and review dates follow the rules table."""
        with self.vault.write() as s:
            nominal = _live_nominal(s, ref)
            table = _order_table(s, self.vault)
            schedule = order_schedule(order_type, start, end, table=table)
            order = CivilOrder(
                nominal_id=nominal.id,
                order_type=schedule.order_type,
                start_date=schedule.start,
                end_date=schedule.end,
                conditions=_clean_text(conditions, "conditions"),
                status="active",
                rule_text=schedule.rule_text,
                reference=_clean_text(reference, "reference", 64),
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            s.add(order)
            s.flush()
            for due in schedule.review_dates:
                s.add(CivilOrderReview(order_id=order.id, nominal_id=nominal.id, due_date=due))
            self.vault.record_created(
                s, "civil_order", order.id, {
                    "order_type": order.order_type,
                    "start_date": order.start_date,
                    "end_date": order.end_date,
                    "conditions": order.conditions,
                },
                action="order.add", ref=nominal.ref,
                detail={"order_id": order.id, "order_type": order.order_type},
            )
            s.flush()
            return self._order_info(s, nominal.ref, order, table)

    @requires(Perm.ENGAGEMENT_WRITE)
    def update_order(
        self,
        order_id: int,
        reason: str,
        *,
        end: date | None = None,
        status: str | None = None,
        conditions: str | None = None,
        reference: str | None = None,
    ) -> OrderInfo:
        """Extend, revoke, expire or amend an order; reviews not yet done are re-scheduled."""
        reason = _clean_text(reason, "reason", 2000)
        if not reason:
            raise ValidationError("reason", "say why the order changes")
        if status is not None and status not in ORDER_STATUSES:
            raise ValidationError("status", "must be active, expired, revoked or replaced")
        with self.vault.write() as s:
            order = s.get(CivilOrder, order_id)
            if order is None:
                raise NotFound("No civil order has that number.")
            nominal = s.get(Nominal, order.nominal_id)
            assert nominal is not None
            table = _order_table(s, self.vault)
            before = {
                "end_date": order.end_date,
                "status": order.status,
                "conditions": order.conditions,
                "reference": order.reference,
            }
            if end is not None and end != order.end_date:
                schedule = order_schedule(order.order_type, order.start_date, end, table=table)
                order.end_date = schedule.end
                order.rule_text = schedule.rule_text
                done = {
                    r.due_date
                    for r in s.scalars(
                        select(CivilOrderReview).where(
                            CivilOrderReview.order_id == order.id,
                            CivilOrderReview.done_on.is_not(None),
                        )
                    )
                }
                s.execute(
                    delete(CivilOrderReview).where(
                        CivilOrderReview.order_id == order.id,
                        CivilOrderReview.done_on.is_(None),
                    )
                )
                for due in schedule.review_dates:
                    if due not in done:
                        s.add(
                            CivilOrderReview(
                                order_id=order.id, nominal_id=order.nominal_id, due_date=due
                            )
                        )
            if status is not None:
                order.status = status
            if conditions is not None:
                order.conditions = _clean_text(conditions, "conditions")
            if reference is not None:
                order.reference = _clean_text(reference, "reference", 64)
            order.updated_at = utcnow()
            after = {
                "end_date": order.end_date,
                "status": order.status,
                "conditions": order.conditions,
                "reference": order.reference,
            }
            diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            if diff:
                self.vault.revision(s, "civil_order", order.id, "update", diff, reason=reason)
                self.vault.audit(
                    s,
                    Category.ALTERATION,
                    "order.update",
                    entity="nominal",
                    ref=nominal.ref,
                    reason=reason,
                    detail={"order_id": order.id, "fields": sorted(diff)},
                )
            s.flush()
            return self._order_info(s, nominal.ref, order, table)

    @requires(Perm.ENGAGEMENT_WRITE)
    def record_order_review(self, review_id: int, done_on: date, outcome: str = "") -> None:
        with self.vault.write() as s:
            review = s.get(CivilOrderReview, review_id)
            if review is None:
                raise NotFound("No order review has that number.")
            nominal = s.get(Nominal, review.nominal_id)
            assert nominal is not None
            old = (review.done_on, review.outcome)
            review.done_on = done_on
            review.outcome = _clean_text(outcome, "outcome")
            self.vault.revision(
                s,
                "civil_order_review",
                review.id,
                "update",
                {"done_on": (old[0], done_on), "outcome": (old[1], review.outcome)},
            )
            self.vault.audit(
                s,
                Category.ALTERATION,
                "order.review",
                entity="nominal",
                ref=nominal.ref,
                detail={"review_id": review.id},
            )

    @requires(Perm.ENGAGEMENT_READ)
    def orders(self, ref: str) -> list[OrderInfo]:
        with self.vault.write() as s:
            table = _order_table(s, self.vault)
        with self.vault.read() as s:
            nominal = _live_nominal(s, ref)
            rows = s.scalars(
                select(CivilOrder)
                .where(CivilOrder.nominal_id == nominal.id)
                .order_by(CivilOrder.start_date.desc())
            ).all()
            return [self._order_info(s, nominal.ref, o, table) for o in rows]

    def _order_info(
        self, s: Session, ref: str, order: CivilOrder, table: CivilOrderTable
    ) -> OrderInfo:
        reviews = s.scalars(
            select(CivilOrderReview)
            .where(CivilOrderReview.order_id == order.id)
            .order_by(CivilOrderReview.due_date)
        ).all()
        label = (
            table.orders[order.order_type].label
            if order.order_type in table.orders
            else (order.order_type)
        )
        return OrderInfo(
            id=order.id,
            ref=ref,
            order_type=order.order_type,
            label=label,
            start_date=order.start_date,
            end_date=order.end_date,
            conditions=order.conditions,
            status=order.status,
            rule_text=order.rule_text,
            reference=order.reference,
            reviews=tuple(OrderReviewInfo(r.id, r.due_date, r.done_on, r.outcome) for r in reviews),
        )

    # -- pathways ---------------------------------------------------------------------------

    @requires(Perm.ENGAGEMENT_READ)
    def pathway_catalogue(self) -> PathwayTable:
        with self.vault.write() as s:
            return _pathway_table(s, self.vault)

    def _check_pathway(
        self,
        table: PathwayTable,
        pathway: str,
        need_level: str,
        status: str,
        start: date | None,
        end: date | None,
    ) -> None:
        if pathway not in table.pathways:
            raise ValidationError("pathway", "is not a pathway in the list")
        if need_level not in table.need_levels:
            raise ValidationError("need_level", "is not a need level in the list")
        if status not in table.statuses:
            raise ValidationError("status", "is not a pathway status in the list")
        if start is not None and end is not None and end < start:
            raise ValidationError("end_date", "must not be before the start")

    @requires(Perm.ENGAGEMENT_WRITE)
    def add_pathway(
        self,
        ref: str,
        pathway: str,
        need_level: str,
        status: str,
        *,
        interventions: str = "",
        providers: str = "",
        start: date | None = None,
        end: date | None = None,
        notes: str = "",
    ) -> PathwayRecord:
        with self.vault.write() as s:
            table = _pathway_table(s, self.vault)
            self._check_pathway(table, pathway, need_level, status, start, end)
            nominal = _live_nominal(s, ref)
            row = NominalPathway(
                nominal_id=nominal.id,
                pathway=pathway,
                need_level=need_level,
                status=status,
                interventions=_clean_text(interventions, "interventions"),
                providers=_clean_text(providers, "providers"),
                start_date=start,
                end_date=end,
                notes=_clean_text(notes, "notes"),
                reference_version=table.version,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            s.add(row)
            s.flush()
            self.vault.record_created(
                s, "nominal_pathway", row.id, {
                    "pathway": pathway,
                    "need_level": need_level,
                    "status": status,
                },
                action="pathway.add", ref=nominal.ref,
                detail={"pathway_id": row.id, "pathway": pathway},
            )
            return _pathway_record(nominal.ref, row, table)

    @requires(Perm.ENGAGEMENT_WRITE)
    def update_pathway(self, pathway_id: int, reason: str = "", **changes: Any) -> PathwayRecord:
        """Change need_level, status, interventions, providers, start, end or notes."""
        allowed = {"need_level", "status", "interventions", "providers", "start", "end", "notes"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(sorted(unknown)[0], "cannot be changed on a pathway")
        with self.vault.write() as s:
            row = s.get(NominalPathway, pathway_id)
            if row is None:
                raise NotFound("No pathway record has that number.")
            nominal = s.get(Nominal, row.nominal_id)
            assert nominal is not None
            table = _pathway_table(s, self.vault)
            new = {
                "need_level": changes.get("need_level", row.need_level),
                "status": changes.get("status", row.status),
                "interventions": _clean_text(
                    changes.get("interventions", row.interventions), "interventions"
                ),
                "providers": _clean_text(changes.get("providers", row.providers), "providers"),
                "start_date": changes.get("start", row.start_date),
                "end_date": changes.get("end", row.end_date),
                "notes": _clean_text(changes.get("notes", row.notes), "notes"),
            }
            self._check_pathway(
                table,
                row.pathway,
                new["need_level"],
                new["status"],
                new["start_date"],
                new["end_date"],
            )
            diff = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
            for key, value in new.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            if diff:
                self.vault.revision(s, "nominal_pathway", row.id, "update", diff, reason=reason)
                self.vault.audit(
                    s,
                    Category.ALTERATION,
                    "pathway.update",
                    entity="nominal",
                    ref=nominal.ref,
                    reason=reason,
                    detail={"pathway_id": row.id, "fields": sorted(diff)},
                )
            return _pathway_record(nominal.ref, row, table)

    @requires(Perm.ENGAGEMENT_READ)
    def pathways(self, ref: str) -> list[PathwayRecord]:
        table = self.pathway_catalogue()
        with self.vault.read() as s:
            nominal = _live_nominal(s, ref)
            rows = s.scalars(
                select(NominalPathway)
                .where(NominalPathway.nominal_id == nominal.id)
                .order_by(NominalPathway.pathway, NominalPathway.id)
            ).all()
            return [_pathway_record(nominal.ref, r, table) for r in rows]

    @requires(Perm.ENGAGEMENT_READ)
    def pathway_map(
        self, *, open_only: bool = True, manager: str | None = None
    ) -> list[PathwayMapRow]:
        """Who is on which pathway: per pathway in list order, counts by need and the refs
        (highest need first, then ref). Closed records are left out unless ``open_only`` is
        False. A nominal counts once per pathway."""
        table = self.pathway_catalogue()
        need_rank = {lvl: i for i, lvl in enumerate(table.need_levels)}
        query = (
            select(NominalPathway.pathway, NominalPathway.need_level, Nominal.ref)
            .join(Nominal, Nominal.id == NominalPathway.nominal_id)
            .where(Nominal.merged_into_id.is_(None), Nominal.erased.is_(False))
        )
        if open_only:
            query = query.where(NominalPathway.status.in_(sorted(table.open_statuses)))
        if manager is not None:
            query = query.where(Nominal.nominal_manager == manager)
        best: dict[str, dict[str, str]] = defaultdict(dict)
        with self.vault.read() as s:
            for pathway, need, ref in s.execute(query):
                current = best[pathway].get(ref)
                if current is None or need_rank.get(need, -1) > need_rank.get(current, -1):
                    best[pathway][ref] = need
        rows: list[PathwayMapRow] = []
        for code, label in table.pathways.items():
            members = best.get(code, {})
            by_need = {lvl: 0 for lvl in table.need_levels}
            for need in members.values():
                by_need[need] = by_need.get(need, 0) + 1
            refs = sorted(members, key=lambda r: (-need_rank.get(members[r], -1), r))
            rows.append(PathwayMapRow(code, label, len(members), by_need, tuple(refs)))
        return rows

    # -- engagement return ------------------------------------------------------------------

    @requires(Perm.ENGAGEMENT_READ)
    def engagement_return(
        self, period_start: date, period_end: date, today: date | None = None
    ) -> list[EngagementReturnRow]:
        """Contacts made against plan per manager and month (see EngagementReturnRow).

        Uses each nominal's current manager and current frequency: the vault does not keep
        who managed a nominal in past months. Rows sorted by manager then month.
        """
        if period_end < period_start:
            raise ValidationError("period_end", "must not be before the start")
        if (period_end - period_start).days > 366 * 10:
            raise ValidationError("period_end", "a return covers at most ten years")
        today = today or date.today()
        months = _month_starts(period_start, period_end)
        with self.vault.write() as s:
            counting = _vocab(s, self.vault).counting
        lo = datetime.combine(period_start, datetime.min.time())
        hi = datetime.combine(period_end + timedelta(days=1), datetime.min.time())
        managers: dict[int, str] = {}
        acc: dict[int, _NominalMonths] = {}
        with self.vault.read() as s:
            for nid, manager, freq, start, before in s.execute(
                select(
                    Nominal.id,
                    Nominal.nominal_manager,
                    ContactPlan.frequency_days,
                    ContactPlan.start_date,
                    select(func.max(Contact.at))
                    .where(
                        Contact.nominal_id == Nominal.id,
                        Contact.at < lo,
                        Contact.outcome.in_(sorted(counting)),
                    )
                    .correlate(Nominal)
                    .scalar_subquery(),
                )
                .join(ContactPlan, ContactPlan.nominal_id == Nominal.id)
                .where(
                    Nominal.merged_into_id.is_(None),
                    Nominal.erased.is_(False),
                    ContactPlan.frequency_days.is_not(None),
                )
            ):
                managers[nid] = manager or "(no manager)"
                previous = before.date() if before is not None else None
                acc[nid] = _NominalMonths(int(freq or 0), start, previous, previous)
            for nid, at, outcome in s.execute(
                select(Contact.nominal_id, Contact.at, Contact.outcome)
                .where(Contact.at >= lo, Contact.at < hi)
                .order_by(Contact.nominal_id, Contact.at)
            ):
                a = acc.get(nid)
                if a is None:
                    continue
                month = date(at.year, at.month, 1)
                day = at.date()
                if outcome in counting:
                    a.made[month] += 1
                    due = next_contact_due(a.previous, a.frequency, a.start)
                    if due is not None and day > due:
                        a.late[month] += 1
                    a.previous = day
                    a.counting_dates.append(day)
                else:
                    a.attempted[month] += 1
        totals: dict[tuple[str, date], list[float]] = defaultdict(lambda: [0, 0.0, 0, 0, 0, 0])
        for nid, a in acc.items():
            manager = managers[nid]
            dates = a.counting_dates
            index = 0
            last = a.before
            for month in months:
                t = totals[(manager, month)]
                days_in_month = (_month_end(month) - month).days + 1
                horizon = min(_month_end(month), period_end, today)
                while index < len(dates) and dates[index] <= horizon:
                    last = dates[index]
                    index += 1
                t[0] += 1
                t[1] += days_in_month / a.frequency
                t[2] += a.made.get(month, 0)
                t[3] += a.attempted.get(month, 0)
                t[4] += a.late.get(month, 0)
                if month <= today:
                    due = next_contact_due(last, a.frequency, a.start)
                    if due is not None and due < horizon:
                        t[5] += 1
        return [
            EngagementReturnRow(
                manager=manager,
                month=month,
                nominals=int(t[0]),
                required=round(t[1], 1),
                made=int(t[2]),
                attempted=int(t[3]),
                late=int(t[4]),
                overdue=int(t[5]),
            )
            for (manager, month), t in sorted(totals.items())
        ]

    @requires(Perm.EXPORT)
    def export_engagement_return(
        self,
        out: Path,
        period_start: date,
        period_end: date,
        *,
        recipient: str,
        justification: str,
        progress: Any = None,
    ) -> Any:
        """Write the engagement return (xlsx) atomically and audit the disclosure."""
        from app.io.marking import DocumentInfo
        from app.io.safe_write import atomic_export
        from app.io.xlsx import Column, SheetSpec, write_return

        recipient = _clean_text(recipient, "recipient", 500)
        justification = _clean_text(justification, "justification", 2000)
        if not recipient:
            raise ValidationError("recipient", "say who will receive the return")
        if not justification:
            raise ValidationError("justification", "say why it is being disclosed")
        rows = self.engagement_return(period_start, period_end)
        info = DocumentInfo(
            title="Engagement return: contacts made against plan",
            author=self.vault.actor.user,
            generated_at=datetime.now(),
            period=f"{period_start:%d/%m/%Y} to {period_end:%d/%m/%Y}",
        )
        sheet = SheetSpec(
            name="Engagement",
            columns=[
                Column("Nominal manager", "text", 28),
                Column("Month", "date", 12),
                Column("Nominals with a plan", "int", 12),
                Column("Contacts required", "float", 12),
                Column("Contacts made", "int", 12),
                Column("Attempts (not made)", "int", 12),
                Column("Made late", "int", 10),
                Column("Overdue at month end", "int", 12),
                Column("Made on time (%)", "float", 12),
            ],
            rows=[
                (
                    r.manager,
                    r.month,
                    r.nominals,
                    r.required,
                    r.made,
                    r.attempted,
                    r.late,
                    r.overdue,
                    r.on_time_pct,
                )
                for r in rows
            ],
            expected_rows=len(rows),
        )

        def write(stream: Any, sink: Any) -> None:
            write_return(stream, info, [sheet], sink)

        result = atomic_export(out, write, progress=progress)
        with self.vault.write() as s:
            self.vault.audit(
                s,
                Category.DISCLOSURE,
                "export.engagement",
                entity="return",
                ref="engagement",
                reason=justification,
                recipient=recipient,
                detail={
                    "file": result.path.name,
                    "sha256": result.sha256,
                    "rows": len(rows),
                    "period_start": period_start,
                    "period_end": period_end,
                },
            )
        return result


def _event_info(e: NotificationEvent) -> NotificationEventInfo:
    return NotificationEventInfo(
        id=e.id,
        kind=e.kind,
        event_date=e.event_date,
        departure_date=e.departure_date,
        due_date=e.due_date,
        notified_on=e.notified_on,
        detail=e.detail,
    )


def _pathway_record(ref: str, row: NominalPathway, table: PathwayTable) -> PathwayRecord:
    return PathwayRecord(
        id=row.id,
        ref=ref,
        pathway=row.pathway,
        label=table.pathways.get(row.pathway, row.pathway),
        need_level=row.need_level,
        interventions=row.interventions,
        providers=row.providers,
        status=row.status,
        start_date=row.start_date,
        end_date=row.end_date,
        notes=row.notes,
        reference_version=row.reference_version,
    )

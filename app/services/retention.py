"""MOPI retention review: what is due, the review screen's data, retain/erase decisions, erasure.

Groups and periods come from the versioned ``mopi_retention`` reference list. A nominal's group
is on its record; a referral's is in ``referral_retention`` (group 3 until an admin sets one).
The next review runs from the last retain decision (its chosen date) or, never reviewed, from
the record's creation, by ``app.domain.rules.retention_next_review``.

Erasure removes the record's content and everything only it owns, in one transaction, through
``ERASURE_HOOKS`` (one function per family of tables, ``(session, ctx) -> {kind: rows}``). The
record's own row stays as an emptied placeholder naming ``ER-000012`` so that links from other
records (agenda items, actions, correspondence, intelligence, referral subjects) never break and
its number is never issued again. Afterwards the FTS index is optimised (deleted entries stay in
FTS5's segments until a merge) and the WAL is checkpointed with TRUNCATE; ``secure_delete`` (set
on every connection) zeroes what SQLite frees.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.nominal import format_ref, parse_ref
from app.domain.prevent import Stage
from app.domain.roles import Perm
from app.domain.rules import (
    DueItem,
    MopiRetentionTable,
    RetentionReview,
    add_years,
    parse_mopi_retention,
    retention_next_review,
)
from app.domain.text import clean_text
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.reference import current_in, stored_current
from app.services.referrals import lists_for, parse_referral_ref
from app.store.engine import raw_connection
from app.store.models import (
    Action,
    AgendaItem,
    AuditEntry,
    CivilOrder,
    CivilOrderReview,
    Contact,
    ContactPlan,
    CorrespondenceNominal,
    DuplicateDismissal,
    DuplicatePair,
    ErasedRecord,
    GatewayAssessment,
    IntelPerson,
    IntelReferral,
    NdmDecision,
    Nominal,
    NominalAddress,
    NominalAlias,
    NominalIdentifier,
    NominalPathway,
    NotificationEvent,
    NotificationRequirement,
    Person,
    ReconciliationItem,
    Referral,
    ReferralInstitution,
    ReferralNote,
    ReferralRetention,
    ReferralReview,
    RetentionDecision,
    Revision,
    VafAssessment,
    utcnow,
)

__all__ = [
    "DEFAULT_REFERRAL_GROUP",
    "DUE_WINDOW_DAYS",
    "ERASURE_HOOKS",
    "Decision",
    "DueRecord",
    "ErasureContext",
    "ErasureResult",
    "QueueFilter",
    "RecordType",
    "RetentionService",
    "ReviewDetail",
    "due_items",
    "placeholder_text",
]

RecordType = Literal["nominal", "referral"]
RECORD_TYPES: tuple[RecordType, ...] = ("nominal", "referral")
TABLE = "mopi_retention"
# A Prevent referral is "other information" until an admin says otherwise (MOPI group 3).
DEFAULT_REFERRAL_GROUP = 3
# The queue shows what is overdue and what falls due within this many days.
DUE_WINDOW_DAYS = 30
MAX_REASON = 2000
PAGE_MAX = 1000
ERASED_TITLE = "Erased record"
CHECKPOINT_TRIES = 20

# "module:function" of every erasure hook, run in order inside the erasure's transaction; each
# takes (session, ErasureContext) and returns {kind: rows} of what it removed or re-labelled.
# A capability that adds tables pointing at a nominal or a referral appends its hook here.
ERASURE_HOOKS: list[str] = [
    "app.services.retention:erase_nominal_core",
    "app.services.retention:erase_nominal_engagement",
    "app.services.retention:label_nominal_links",
    "app.services.retention:erase_referral_own",
    "app.services.retention:label_referral_links",
]


def placeholder_text(placeholder_ref: str) -> str:
    """What a screen shows where an erased record was linked: 'Erased record ER-000012'."""
    return f"{ERASED_TITLE} {placeholder_ref}"


def _erased_ref(number: int) -> str:
    return f"ER-{number:06d}"


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """The review queue's filters; ``force`` narrows nominals (referrals have no force)."""

    record_type: RecordType | None = None
    group: int | None = None
    overdue_only: bool = False
    force: str | None = None


@dataclass(frozen=True, slots=True)
class DueRecord:
    """One queue row: a record whose retention review is due (or overdue)."""

    record_type: RecordType
    ref: str
    title: str
    group: int
    due: date
    rule_text: str
    overdue: bool
    last_review: date | None
    force: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "type": self.record_type,
            "group": self.group,
            "due": self.due.isoformat(),
            "status": "overdue" if self.overdue else "due",
            "rule": self.rule_text,
            "last_review": self.last_review.isoformat() if self.last_review else None,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """A recorded decision (the history on the review screen)."""

    decision: str
    decided_on: date
    decided_by: str
    reason: str
    next_review: date | None


@dataclass(frozen=True, slots=True)
class ReviewDetail:
    """What the review screen shows for one record."""

    record_type: RecordType
    ref: str
    title: str
    summary: tuple[tuple[str, str], ...]
    group: int
    group_label: str
    due: date
    rule_text: str
    overdue: bool
    last_activity: date | None
    last_activity_what: str
    linked: tuple[tuple[str, int], ...]
    decisions: tuple[Decision, ...]
    default_until: date
    latest_until: date
    table_version: str


@dataclass(frozen=True, slots=True)
class ErasureResult:
    ref: str
    placeholder: str
    removed: dict[str, int]
    placeholders: dict[str, int]
    wal_cleared: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "decision": "erase",
            "placeholder": self.placeholder,
            "removed": self.removed,
            "kept_as_placeholders": self.placeholders,
            "wal_cleared": self.wal_cleared,
        }


@dataclass
class ErasureContext:
    """What an erasure hook is told: which record, its placeholder, who, and when."""

    record_type: RecordType
    record_id: int
    placeholder_ref: str
    user: str
    at: datetime
    # Hooks may note kinds they re-labelled (links kept as placeholders) here.
    placeholders: dict[str, int] = field(default_factory=dict)


# --- the rule -----------------------------------------------------------------------------------


def _table(session: Session) -> MopiRetentionTable | None:
    data = stored_current(session, TABLE)
    return parse_mopi_retention(data) if data is not None else None


def _review(group: int, dob: date | None, base: date,
            table: MopiRetentionTable) -> RetentionReview:
    if dob is not None and dob > base:
        dob = None  # a date of birth after the record was made is a data-quality fault
    return retention_next_review(group, dob, base, table)


@dataclass(frozen=True, slots=True)
class _Latest:
    decided_on: date
    decided_by: str
    next_review: date | None


def _latest_decisions(session: Session, record_type: str,
                      ids: Iterable[int] | None = None) -> dict[int, _Latest]:
    """The latest retain decision of each record (of the given ids, or all)."""
    latest = (
        select(RetentionDecision.record_id, func.max(RetentionDecision.id).label("last"))
        .where(RetentionDecision.record_type == record_type,
               RetentionDecision.decision == "retain")
        .group_by(RetentionDecision.record_id)
    )
    if ids is not None:
        latest = latest.where(RetentionDecision.record_id.in_(list(ids)))
    sub = latest.subquery()
    rows = session.execute(
        select(RetentionDecision.record_id, RetentionDecision.decided_on,
               RetentionDecision.decided_by, RetentionDecision.next_review)
        .join(sub, sub.c.last == RetentionDecision.id)
    )
    return {int(r[0]): _Latest(r[1], r[2], r[3]) for r in rows}


def _due_for(group: int, dob: date | None, created: date, latest: _Latest | None,
             table: MopiRetentionTable) -> tuple[date, str]:
    if latest is not None and latest.next_review is not None:
        rule = table.groups.get(group)
        label = f"Group {group}" if rule is None else rule.label.split(":")[0]
        return latest.next_review, (
            f"{label}: retained on review {latest.decided_on.isoformat()} by "
            f"{latest.decided_by}; next review set then"
        )
    review = _review(group, dob, created, table)
    return review.due, review.rule_text + " (never reviewed: from the record's creation)"


def _bounds(table: MopiRetentionTable, horizon: date) -> tuple[date, date | None]:
    """Records created on or before the first date, or born on or before the second, may be
    due by ``horizon`` (a cheap SQL pre-filter; the rule decides)."""
    shortest = min(g.review_interval_years for g in table.groups.values())
    ages = [g.retain_until_age for g in table.groups.values() if g.retain_until_age]
    created = add_years(horizon, -shortest)
    born = add_years(horizon, -min(ages)) if ages else None
    return created, born


def _nominal_rows(session: Session, table: MopiRetentionTable, horizon: date,
                  flt: QueueFilter) -> Iterator[DueRecord]:
    if flt.record_type not in (None, "nominal"):
        return
    created_bound, born_bound = _bounds(table, horizon)
    live = and_(Nominal.merged_into_id.is_(None), Nominal.erased.is_(False))
    latest = _latest_decisions(session, "nominal")
    decided_due = [i for i, d in latest.items()
                   if d.next_review is not None and d.next_review <= horizon]
    maybe = or_(
        Nominal.created_at <= datetime.combine(created_bound, datetime.max.time()),
        *([Nominal.dob <= born_bound] if born_bound else []),
        *([Nominal.id.in_(decided_due)] if decided_due else []),
    )
    query = select(Nominal.id, Nominal.ref, Nominal.surname, Nominal.forenames, Nominal.dob,
                   Nominal.retention_group, Nominal.created_at, Nominal.force).where(live, maybe)
    if flt.group is not None:
        query = query.where(Nominal.retention_group == flt.group)
    if flt.force:
        query = query.where(Nominal.force == flt.force)
    for nid, ref, surname, forenames, dob, group, created, force in session.execute(query):
        group = int(group or 3)
        if group not in table.groups:
            group = max(table.groups)
        last = latest.get(int(nid))
        due, rule = _due_for(group, dob, created.date(), last, table)
        if due <= horizon:
            title = f"{surname.upper()}, {forenames}".rstrip(", ")
            yield DueRecord("nominal", ref, title, group, due, rule, False,
                            last.decided_on if last else None, force)


def _referral_groups(session: Session, ids: Iterable[int] | None = None) -> dict[int, int]:
    query = select(ReferralRetention.referral_id, ReferralRetention.group_no)
    if ids is not None:
        query = query.where(ReferralRetention.referral_id.in_(list(ids)))
    return {int(r[0]): int(r[1]) for r in session.execute(query)}


def _erased_referral_ids(session: Session) -> set[int]:
    return set(session.scalars(
        select(RetentionDecision.record_id).where(RetentionDecision.record_type == "referral",
                                                  RetentionDecision.decision == "erase")))


def _referral_rows(session: Session, table: MopiRetentionTable, horizon: date,
                   flt: QueueFilter) -> Iterator[DueRecord]:
    if flt.record_type not in (None, "referral") or flt.force:
        return
    created_bound, born_bound = _bounds(table, horizon)
    latest = _latest_decisions(session, "referral")
    groups = _referral_groups(session)
    erased = _erased_referral_ids(session)
    decided_due = [i for i, d in latest.items()
                   if d.next_review is not None and d.next_review <= horizon]
    maybe = or_(
        Referral.created_at <= datetime.combine(created_bound, datetime.max.time()),
        *([Person.dob <= born_bound] if born_bound else []),
        *([Referral.id.in_(decided_due)] if decided_due else []),
    )
    query = (select(Referral.id, Referral.ref, Person.surname, Person.forenames, Person.dob,
                    Referral.created_at)
             .join(Person, Person.id == Referral.person_id).where(maybe))
    for rid, ref, surname, forenames, dob, created in session.execute(query):
        if int(rid) in erased:
            continue
        group = groups.get(int(rid), DEFAULT_REFERRAL_GROUP)
        if flt.group is not None and group != flt.group:
            continue
        if group not in table.groups:
            group = max(table.groups)
        last = latest.get(int(rid))
        due, rule = _due_for(group, dob, created.date(), last, table)
        if due <= horizon:
            title = f"Referral: {surname.upper()}, {forenames}".rstrip(", ")
            yield DueRecord("referral", ref, title, group, due, rule, False,
                            last.decided_on if last else None, None)


def due_records(session: Session, table: MopiRetentionTable, horizon: date, today: date,
                flt: QueueFilter = QueueFilter()) -> list[DueRecord]:
    """Every record whose review falls on or before ``horizon``, earliest first."""
    rows = [*_nominal_rows(session, table, horizon, flt),
            *_referral_rows(session, table, horizon, flt)]
    out = [DueRecord(r.record_type, r.ref, r.title, r.group, r.due, r.rule_text, r.due < today,
                     r.last_review, r.force) for r in rows]
    if flt.overdue_only:
        out = [r for r in out if r.overdue]
    out.sort(key=lambda r: (r.due, r.record_type, r.ref))
    return out


def due_items(session: Session, start: date, end: date, filters: Any = None) -> Iterator[DueItem]:
    """Calendar source (kind ``retention_review``): reviews due from ``start`` to ``end``."""
    flt = QueueFilter()
    if filters is not None:
        if not filters.wants("retention_review"):
            return
        if getattr(filters, "manager", None) is not None:
            return  # a nominal manager's calendar is about contacts, not retention
        force = getattr(filters, "force", None)
        if force is not None:
            flt = QueueFilter(force=force)
    table = _table(session)
    if table is None:
        return  # the list was never loaded: nothing in this vault has been reviewed yet
    for r in due_records(session, table, end, end, flt):
        if r.due >= start:
            kind = "Nominal" if r.record_type == "nominal" else "Referral"
            yield DueItem(r.due, "retention_review", r.ref,
                          f"{kind} retention review (MOPI group {r.group})")


# --- erasure hooks --------------------------------------------------------------------------------


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _purge_revisions(session: Session, entity: str, ids: Iterable[int]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    removed = 0
    for start in range(0, len(ids), 500):
        removed += _count(session.execute(delete(Revision).where(
            Revision.entity == entity, Revision.record_id.in_(ids[start:start + 500]))))
    return removed


def _ids(session: Session, column: Any, where: Any) -> list[int]:
    return [int(i) for i in session.scalars(select(column).where(where))]


def erase_nominal_core(session: Session, ctx: ErasureContext) -> dict[str, int]:
    """The record's aliases, identifiers, addresses, search keys, history and duplicate pairs."""
    if ctx.record_type != "nominal":
        return {}
    nid = ctx.record_id
    out: dict[str, int] = {}
    for name, table in (("aliases", NominalAlias), ("identifiers", NominalIdentifier),
                        ("addresses", NominalAddress)):
        out[name] = _count(session.execute(delete(table).where(table.nominal_id == nid)))
    out["duplicate_pairs"] = _count(session.execute(delete(DuplicatePair).where(
        or_(DuplicatePair.a_id == nid, DuplicatePair.b_id == nid))))
    out["duplicate_dismissals"] = _count(session.execute(delete(DuplicateDismissal).where(
        or_(DuplicateDismissal.a_id == nid, DuplicateDismissal.b_id == nid))))
    out["search_entries"] = _count(session.connection().execute(
        text("DELETE FROM nominal_search WHERE rowid = :id"), {"id": nid}))
    out["revisions"] = _purge_revisions(session, "nominal", [nid])
    return out


def erase_nominal_engagement(session: Session, ctx: ErasureContext) -> dict[str, int]:
    """Contacts, the contact plan, notification requirements and events, civil orders and their
    reviews, reoffending pathways: each with its own revisions."""
    if ctx.record_type != "nominal":
        return {}
    nid = ctx.record_id
    out: dict[str, int] = {}
    families: list[tuple[str, Any, str]] = [
        ("contacts", Contact, "contact"),
        ("contact_plans", ContactPlan, "contact_plan"),
        ("notification_events", NotificationEvent, "notification_event"),
        ("civil_order_reviews", CivilOrderReview, "civil_order_review"),
        ("civil_orders", CivilOrder, "civil_order"),
        ("notification_requirements", NotificationRequirement, "notification_requirement"),
        ("pathways", NominalPathway, "nominal_pathway"),
    ]
    revisions = 0
    for name, table, entity in families:
        ids = _ids(session, table.id, table.nominal_id == nid)
        revisions += _purge_revisions(session, entity, ids)
        out[name] = _count(session.execute(delete(table).where(table.nominal_id == nid)))
    out["engagement_revisions"] = revisions
    return out


def label_nominal_links(session: Session, ctx: ErasureContext) -> dict[str, int]:
    """Links from other records stay, pointing at the placeholder row. Agenda items carry the
    name in their title (made when the nominal was added): it becomes the placeholder's text,
    and any history of that title goes with it."""
    if ctx.record_type != "nominal":
        return {}
    nid = ctx.record_id
    items = _ids(session, AgendaItem.id, AgendaItem.nominal_id == nid)
    if items:
        session.execute(update(AgendaItem).where(AgendaItem.id.in_(items))
                        .values(title=placeholder_text(ctx.placeholder_ref)))
        titled = [
            r.id for r in session.scalars(select(Revision).where(
                Revision.entity == "agenda_item", Revision.record_id.in_(items)))
            if '"title"' in (r.changes or "")
        ]
        if titled:
            session.execute(delete(Revision).where(Revision.id.in_(titled)))
    counted = {
        "agenda_items": len(items),
        "actions": session.scalar(select(func.count()).select_from(Action)
                                  .where(Action.nominal_id == nid)) or 0,
        "correspondence": session.scalar(select(func.count()).select_from(CorrespondenceNominal)
                                         .where(CorrespondenceNominal.nominal_id == nid)) or 0,
        "referral_subjects": session.scalar(select(func.count()).select_from(Person)
                                            .where(Person.nominal_id == nid)) or 0,
        "reconciliation_items": session.scalar(
            select(func.count()).select_from(ReconciliationItem)
            .where(ReconciliationItem.nominal_id == nid)) or 0,
    }
    ctx.placeholders.update({k: int(v) for k, v in counted.items() if v})
    return {}


def erase_referral_own(session: Session, ctx: ErasureContext) -> dict[str, int]:
    """The referral's notes, gateway assessments, NDM decisions, VAF versions, closure reviews,
    institution links and history; its subject too when no other record uses that person."""
    if ctx.record_type != "referral":
        return {}
    rid = ctx.record_id
    out: dict[str, int] = {}
    out["notes"] = _count(session.execute(delete(ReferralNote).where(
        ReferralNote.referral_id == rid)))
    out["gateway_assessments"] = _count(session.execute(delete(GatewayAssessment).where(
        GatewayAssessment.referral_id == rid)))
    out["ndm_decisions"] = _count(session.execute(delete(NdmDecision).where(
        NdmDecision.referral_id == rid)))
    out["vaf_versions"] = _count(session.execute(delete(VafAssessment).where(
        VafAssessment.referral_id == rid)))
    reviews = _ids(session, ReferralReview.id, ReferralReview.referral_id == rid)
    revisions = _purge_revisions(session, "referral_review", reviews)
    out["reviews"] = _count(session.execute(delete(ReferralReview).where(
        ReferralReview.referral_id == rid)))
    out["institution_links"] = _count(session.execute(delete(ReferralInstitution).where(
        ReferralInstitution.referral_id == rid)))
    revisions += _purge_revisions(session, "referral", [rid])
    out["retention_group"] = _count(session.execute(delete(ReferralRetention).where(
        ReferralRetention.referral_id == rid)))
    person_id = session.scalar(select(Referral.person_id).where(Referral.id == rid))
    shared = person_id is None or bool(
        session.scalar(select(func.count()).select_from(Referral).where(
            Referral.person_id == person_id, Referral.id != rid))
        or session.scalar(select(func.count()).select_from(IntelPerson).where(
            IntelPerson.person_id == person_id)))
    if shared:
        ctx.placeholders["shared_subject"] = 1
        out["subjects"] = 0
    else:
        assert person_id is not None
        session.execute(update(Person).where(Person.id == person_id).values(
            surname=ERASED_TITLE, forenames=ctx.placeholder_ref, dob=None, nominal_id=None,
            surname_key="", forename_key=""))
        revisions += _purge_revisions(session, "person", [person_id])
        out["subjects"] = 1
    out["revisions"] = revisions
    return out


def label_referral_links(session: Session, ctx: ErasureContext) -> dict[str, int]:
    """Intelligence entries linked to the referral keep the link, to the placeholder."""
    if ctx.record_type != "referral":
        return {}
    linked = session.scalar(select(func.count()).select_from(IntelReferral).where(
        IntelReferral.referral_id == ctx.record_id)) or 0
    if linked:
        ctx.placeholders["intelligence_links"] = int(linked)
    return {}


def _hooks() -> list[Callable[[Session, ErasureContext], Mapping[str, int]]]:
    out = []
    for spec in ERASURE_HOOKS:
        module, _, name = spec.partition(":")
        out.append(getattr(importlib.import_module(module), name))
    return out


# --- the service ----------------------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    return clean_text(reason, "reason", MAX_REASON, required=True, multiline=True,
                      required_message="say why (it is recorded with the decision)")


@dataclass(frozen=True, slots=True)
class _Target:
    record_type: RecordType
    record_id: int
    ref: str


def _target(session: Session, ref: str) -> _Target:
    """A nominal (NM-000123) or a referral (PR-000123) that can still be reviewed."""
    raw = (ref or "").strip()
    if raw.upper().startswith("PR"):
        rid = parse_referral_ref(raw)
        row = session.get(Referral, rid)
        if row is None:
            raise NotFound("There is no referral with that reference.")
        if session.scalar(select(RetentionDecision.id).where(
                RetentionDecision.record_type == "referral", RetentionDecision.record_id == rid,
                RetentionDecision.decision == "erase").limit(1)) is not None:
            raise ValidationError("ref", "that record has been erased")
        return _Target("referral", rid, row.ref)
    if raw.upper().startswith("ER"):
        raise ValidationError("ref", "that is an erased record's placeholder")
    number = parse_ref(raw)
    if number is None:
        raise ValidationError("ref", "is not a nominal (NM-000123) or referral (PR-000123) "
                                     "reference")
    nominal = session.get(Nominal, number)
    if nominal is None:
        raise NotFound("There is no nominal with that reference.")
    if nominal.erased:
        raise ValidationError("ref", "that record has been erased")
    if nominal.merged_into_id is not None:
        raise ValidationError("ref", f"was merged into {format_ref(nominal.merged_into_id)}; "
                                     "review that record")
    return _Target("nominal", number, nominal.ref)


def _count_where(table: Any, where: Any) -> Any:
    """SELECT count(*) FROM table WHERE where (a record's linked rows, for the review)."""
    return select(func.count()).select_from(table).where(where)


class RetentionService(Service):
    """The retention review (admins): the queue, the review screen, decisions and erasure."""

    # -- the rule -------------------------------------------------------------------------------
    def _table_in(self, session: Session) -> tuple[MopiRetentionTable, str]:
        data = current_in(session, self.vault, TABLE)
        table = parse_mopi_retention(data)
        return table, table.version

    @requires(Perm.RETENTION)
    def table(self) -> MopiRetentionTable:
        """The current MOPI groups (loads the shipped list into the vault on first use)."""
        with self.vault.write() as s:
            return self._table_in(s)[0]

    @requires(Perm.NOMINAL_READ)
    def next_review(self, ref: str) -> RetentionReview:
        """A record's next review date and the rule that gave it (shown beside the group)."""
        with self.vault.read() as s:
            table = _table(s)
        if table is None:
            table = self._shipped_table()
        with self.vault.read() as s:
            target = _target(s, ref)
            group, dob, created = self._basis(s, target)
            latest = _latest_decisions(s, target.record_type, [target.record_id])
            due, rule = _due_for(group, dob, created, latest.get(target.record_id), table)
        return RetentionReview(due, rule)

    def _shipped_table(self) -> MopiRetentionTable:
        from app.domain.rules import load_reference

        return parse_mopi_retention(load_reference(TABLE))

    @staticmethod
    def _basis(s: Session, target: _Target) -> tuple[int, date | None, date]:
        if target.record_type == "nominal":
            row = s.get(Nominal, target.record_id)
            assert row is not None
            return int(row.retention_group or 3), row.dob, row.created_at.date()
        ref_row = s.get(Referral, target.record_id)
        assert ref_row is not None
        person = s.get(Person, ref_row.person_id)
        group = _referral_groups(s, [target.record_id]).get(target.record_id,
                                                            DEFAULT_REFERRAL_GROUP)
        return group, person.dob if person else None, ref_row.created_at.date()

    @requires(Perm.RETENTION)
    def set_group(self, ref: str, group: int, reason: str) -> None:
        """Put a record in another MOPI group (kept with a revision and an audit row)."""
        reason = _clean_reason(reason)
        with self.vault.write() as s:
            table, _version = self._table_in(s)
            if group not in table.groups:
                raise ValidationError("group", "is not a MOPI group")
            target = _target(s, ref)
            old, _dob, _created = self._basis(s, target)
            if old == group:
                return
            if target.record_type == "nominal":
                s.execute(update(Nominal).where(Nominal.id == target.record_id)
                          .values(retention_group=group, updated_at=utcnow(),
                                  updated_by=self.vault.actor.user))
            else:
                row = s.get(ReferralRetention, target.record_id)
                if row is None:
                    s.add(ReferralRetention(referral_id=target.record_id, group_no=group,
                                            set_by=self.vault.actor.user))
                else:
                    row.group_no, row.set_at = group, utcnow()
                    row.set_by = self.vault.actor.user
            self.vault.revision(s, target.record_type, target.record_id, "update",
                                {"retention_group": (old, group)}, reason)
            self.vault.audit(s, Category.ALTERATION, "retention.group", entity=target.record_type,
                             ref=target.ref, reason=reason, detail={"old": old, "new": group})

    # -- the queue --------------------------------------------------------------------------------
    def _due(self, flt: QueueFilter, today: date | None) -> list[DueRecord]:
        today = today or date.today()
        with self.vault.write() as s:  # may load the shipped list on first use
            table, _ = self._table_in(s)
            horizon = date.fromordinal(today.toordinal() + DUE_WINDOW_DAYS)
            return due_records(s, table, horizon, today, flt)

    @requires(Perm.RETENTION)
    def due(self, flt: QueueFilter = QueueFilter(), *, today: date | None = None
            ) -> list[DueRecord]:
        """Everything overdue or due within DUE_WINDOW_DAYS, earliest first."""
        return self._due(flt, today)

    @requires(Perm.RETENTION)
    def count(self, flt: QueueFilter = QueueFilter(), *, today: date | None = None) -> int:
        return len(self._due(flt, today))

    @requires(Perm.RETENTION)
    def page(self, flt: QueueFilter = QueueFilter(), offset: int = 0, limit: int = 200, *,
             today: date | None = None) -> list[DueRecord]:
        """One page of the queue (for a paged table model)."""
        offset, limit = max(offset, 0), min(max(limit, 0), PAGE_MAX)
        return self._due(flt, today)[offset:offset + limit]

    @requires(Perm.RETENTION)
    def forces(self) -> list[str]:
        """Forces in use (the queue's force filter)."""
        with self.vault.read() as s:
            return [str(v) for v in s.scalars(
                select(Nominal.force).where(Nominal.force.is_not(None), Nominal.erased.is_(False))
                .distinct().order_by(Nominal.force))]

    # -- the review screen ------------------------------------------------------------------------
    @requires(Perm.RETENTION)
    def review(self, ref: str, *, today: date | None = None) -> ReviewDetail:
        """Everything the review screen shows; opening it is audited as a consultation."""
        today = today or date.today()
        with self.vault.write() as s:
            table, version = self._table_in(s)
            target = _target(s, ref)
            group, dob, created = self._basis(s, target)
            latest = _latest_decisions(s, target.record_type, [target.record_id])
            due, rule = _due_for(group, dob, created, latest.get(target.record_id), table)
            if target.record_type == "nominal":
                title, summary = self._nominal_summary(s, target.record_id)
                linked = self._nominal_links(s, target.record_id)
            else:
                title, summary = self._referral_summary(s, target.record_id)
                linked = self._referral_links(s, target.record_id)
            last, what = self._last_activity(s, target)
            decisions = tuple(
                Decision(d.decision, d.decided_on, d.decided_by, d.reason, d.next_review)
                for d in s.scalars(select(RetentionDecision).where(
                    RetentionDecision.record_type == target.record_type,
                    RetentionDecision.record_id == target.record_id)
                    .order_by(RetentionDecision.id.desc()))
            )
            default_until = _review(group, dob, today, table).due
            latest_until = add_years(today, table.groups[group].review_interval_years
                                     if group in table.groups else 6)
            self.vault.audit(s, Category.CONSULTATION, "retention.review",
                             entity=target.record_type, ref=target.ref,
                             reason="retention review")
        label = table.groups[group].label if group in table.groups else f"Group {group}"
        return ReviewDetail(
            record_type=target.record_type, ref=target.ref, title=title, summary=summary,
            group=group, group_label=label, due=due, rule_text=rule, overdue=due < today,
            last_activity=last, last_activity_what=what, linked=linked, decisions=decisions,
            default_until=default_until, latest_until=latest_until, table_version=version,
        )

    @staticmethod
    def _nominal_summary(s: Session, nid: int) -> tuple[str, tuple[tuple[str, str], ...]]:
        n = s.get(Nominal, nid)
        assert n is not None

        def d(value: date | None) -> str:
            return f"{value.day} {value:%b %Y}" if value else "—"

        title = f"{n.surname.upper()}, {n.forenames}".rstrip(", ")
        return title, (
            ("Reference", n.ref),
            ("Name", title),
            ("Date of birth", d(n.dob)),
            ("PNC", n.pnc or "—"),
            ("Status", (n.status or "—").capitalize()),
            ("Offence", n.offence or "—"),
            ("Force", n.force or "—"),
            ("Nominal manager", n.nominal_manager or "—"),
            ("Created", f"{d(n.created_at.date())} by {n.created_by or '—'}"),
        )

    def _referral_summary(self, s: Session, rid: int) -> tuple[str, tuple[tuple[str, str], ...]]:
        r = s.get(Referral, rid)
        assert r is not None
        p = s.get(Person, r.person_id)
        # Codes are shown by their labels in the reference lists (as the referral screens do).
        lists = lists_for(s, self.vault)

        def stage(code: str) -> str:
            try:
                return Stage(code).label
            except ValueError:
                return code.capitalize()

        def d(value: date | None) -> str:
            return f"{value.day} {value:%b %Y}" if value else "—"

        name = f"{p.surname.upper()}, {p.forenames}".rstrip(", ") if p else "—"
        return f"Referral: {name}", (
            ("Reference", r.ref),
            ("Subject", name),
            ("Subject's date of birth", d(p.dob if p else None)),
            ("Received", d(r.received_on)),
            ("Concern", lists.label("concern_types", r.concern_type)),
            ("Source", lists.label("source_sectors", r.source_sector)),
            ("Stage", stage(r.stage)),
            ("Outcome", lists.label("outcomes", r.outcome) or "—"),
            ("Closed", d(r.closed_on)),
        )

    @staticmethod
    def _counts(s: Session, pairs: Iterable[tuple[str, Any]]) -> tuple[tuple[str, int], ...]:
        out = []
        for label, stmt in pairs:
            n = int(s.scalar(stmt) or 0)
            if n:
                out.append((label, n))
        return tuple(out)

    def _nominal_links(self, s: Session, nid: int) -> tuple[tuple[str, int], ...]:
        n = _count_where
        return self._counts(s, [
            ("Aliases", n(NominalAlias, NominalAlias.nominal_id == nid)),
            ("Identifiers", n(NominalIdentifier, NominalIdentifier.nominal_id == nid)),
            ("Addresses", n(NominalAddress, NominalAddress.nominal_id == nid)),
            ("Contacts", n(Contact, Contact.nominal_id == nid)),
            ("Notification requirements", n(NotificationRequirement,
                                            NotificationRequirement.nominal_id == nid)),
            ("Civil orders", n(CivilOrder, CivilOrder.nominal_id == nid)),
            ("Pathways", n(NominalPathway, NominalPathway.nominal_id == nid)),
            ("Changes in history", n(Revision, and_(Revision.entity == "nominal",
                                                    Revision.record_id == nid))),
            ("Meeting agenda items (kept)", n(AgendaItem, AgendaItem.nominal_id == nid)),
            ("Actions (kept)", n(Action, Action.nominal_id == nid)),
            ("Correspondence (kept)", n(CorrespondenceNominal,
                                        CorrespondenceNominal.nominal_id == nid)),
            ("Referral subjects (kept)", n(Person, Person.nominal_id == nid)),
        ])

    def _referral_links(self, s: Session, rid: int) -> tuple[tuple[str, int], ...]:
        n = _count_where
        return self._counts(s, [
            ("Notes", n(ReferralNote, ReferralNote.referral_id == rid)),
            ("Gateway assessments", n(GatewayAssessment, GatewayAssessment.referral_id == rid)),
            ("Decision records", n(NdmDecision, NdmDecision.referral_id == rid)),
            ("Vulnerability assessments", n(VafAssessment, VafAssessment.referral_id == rid)),
            ("Closure reviews", n(ReferralReview, ReferralReview.referral_id == rid)),
            ("Institutions", n(ReferralInstitution, ReferralInstitution.referral_id == rid)),
            ("Intelligence entries (kept)", n(IntelReferral, IntelReferral.referral_id == rid)),
        ])

    @staticmethod
    def _last_activity(s: Session, target: _Target) -> tuple[date | None, str]:
        candidates: list[tuple[datetime | None, str]] = [
            (s.scalar(select(func.max(Revision.at)).where(
                Revision.entity == target.record_type,
                Revision.record_id == target.record_id)), "a change to the record"),
            (s.scalar(select(func.max(AuditEntry.at)).where(
                AuditEntry.entity == target.record_type, AuditEntry.ref == target.ref,
                AuditEntry.category == Category.CONSULTATION.value,
                AuditEntry.action != "retention.review")), "the record was opened"),
        ]
        if target.record_type == "nominal":
            candidates.append((s.scalar(select(func.max(Contact.at)).where(
                Contact.nominal_id == target.record_id)), "a contact"))
        else:
            candidates.append((s.scalar(select(func.max(ReferralNote.added_at)).where(
                ReferralNote.referral_id == target.record_id)), "a note was added"))
            candidates.append((s.scalar(select(Referral.updated_at).where(
                Referral.id == target.record_id)), "the referral was updated"))
        found = [(at, what) for at, what in candidates if at is not None]
        if not found:
            return None, ""
        at, what = max(found, key=lambda c: c[0])
        assert at is not None
        return at.date(), what

    # -- decisions --------------------------------------------------------------------------------
    @requires(Perm.RETENTION)
    def retain(self, ref: str, until: date, reason: str, *, today: date | None = None) -> date:
        """Keep the record until ``until`` (its next review), within the group's interval."""
        today = today or date.today()
        reason = _clean_reason(reason)
        if not isinstance(until, date):
            raise ValidationError("until", "must be a date")
        if until <= today:
            raise ValidationError("until", "must be after today")
        with self.vault.write() as s:
            table, version = self._table_in(s)
            target = _target(s, ref)
            group, _dob, _created = self._basis(s, target)
            interval = table.groups[group].review_interval_years if group in table.groups else 6
            if until > add_years(today, interval):
                raise ValidationError(
                    "until", f"must be within {interval} years (MOPI group {group} is reviewed "
                             f"every {interval} years)")
            rule = (f"MOPI group {group} (list {version}): retained on review, next review "
                    f"{until.isoformat()}")
            s.add(RetentionDecision(
                record_type=target.record_type, record_id=target.record_id, decision="retain",
                decided_on=today, decided_at=utcnow(), decided_by=self.vault.actor.user,
                reason=reason, next_review=until, group_no=group, rule_text=rule,
                table_version=version,
            ))
            self.vault.audit(s, Category.ALTERATION, "retention.retain",
                             entity=target.record_type, ref=target.ref, reason=reason,
                             detail={"next_review": until.isoformat(), "group": group,
                                     "table_version": version})
        return until

    @requires(Perm.RETENTION)
    def erase(self, ref: str, reason: str, *, today: date | None = None) -> ErasureResult:
        """Erase a record: its content and everything only it owns; links from other records
        are kept, pointing at a placeholder. Audited without the record's reference or content."""
        today = today or date.today()
        reason = _clean_reason(reason)
        with self.vault.write() as s:
            table, version = self._table_in(s)
            target = _target(s, ref)
            group, _dob, _created = self._basis(s, target)
            placeholder = ErasedRecord(ref="", record_type=target.record_type,
                                       erased_at=utcnow(), erased_by=self.vault.actor.user)
            s.add(placeholder)
            s.flush()
            placeholder.ref = _erased_ref(placeholder.id)
            ctx = ErasureContext(target.record_type, target.record_id, placeholder.ref,
                                 self.vault.actor.user, utcnow())
            removed: dict[str, int] = {}
            for hook in _hooks():
                for kind, rows in hook(s, ctx).items():
                    removed[kind] = removed.get(kind, 0) + int(rows)
            if target.record_type == "nominal":
                self._empty_nominal(s, target.record_id, placeholder.ref)
                s.connection().execute(
                    text("INSERT INTO nominal_search(nominal_search) VALUES ('optimize')"))
            else:
                self._empty_referral(s, target.record_id, placeholder.ref, today)
            s.add(RetentionDecision(
                record_type=target.record_type, record_id=target.record_id, decision="erase",
                decided_on=today, decided_at=utcnow(), decided_by=self.vault.actor.user,
                reason=reason, next_review=None, group_no=group,
                rule_text=f"MOPI group {group} (list {version}): erased on review",
                table_version=version, erased_record_id=placeholder.id,
            ))
            self.vault.revision(s, target.record_type, target.record_id, "erase-placeholder",
                                {"placeholder": (None, placeholder.ref)})
            removed = {k: v for k, v in removed.items() if v}
            self.vault.audit(
                s, Category.ERASURE, "retention.erase", entity="erased_record",
                ref=placeholder.ref, reason=reason,
                detail={"record_type": target.record_type, "group": group,
                        "table_version": version, "removed": removed,
                        "kept_as_placeholders": dict(ctx.placeholders)},
            )
        cleared = self._checkpoint()
        return ErasureResult(target.ref, placeholder.ref, removed, dict(ctx.placeholders),
                             cleared)

    def _empty_nominal(self, s: Session, nid: int, placeholder_ref: str) -> None:
        keep = {"id", "ref", "retention_group", "created_at", "merged_into_id", "merged_at"}
        values: dict[str, Any] = {
            c.name: None for c in Nominal.__table__.columns if c.nullable and c.name not in keep
        }
        values.update(surname=ERASED_TITLE, forenames=placeholder_ref,
                      sort_name=f"erased record {placeholder_ref.lower()}", erased=True,
                      created_by="", updated_at=utcnow(), updated_by=self.vault.actor.user)
        s.execute(update(Nominal).where(Nominal.id == nid).values(**values))

    def _empty_referral(self, s: Session, rid: int, placeholder_ref: str, today: date) -> None:
        row = s.get(Referral, rid)
        assert row is not None
        # Kept: when it came, the kind of concern and source, and how it went — the counts of
        # past returns and patterns are unchanged. Gone: every word about the person.
        row.referrer_name = ""
        row.referrer_organisation = ""
        row.summary = placeholder_text(placeholder_ref)
        row.area = ""
        row.age_at_referral = None
        row.immediate_risk = False
        if row.stage != "closed":
            row.stage = "closed"
            row.closed_on = row.closed_on or today
        row.updated_at = utcnow()
        row.updated_by = self.vault.actor.user

    def _checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it, so that the erased content's old
        page images do not stay in the -wal file. Retries while a reader holds a snapshot."""
        conn = raw_connection(self.vault.path, self.vault.data_key)
        try:
            for _ in range(CHECKPOINT_TRIES):
                busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if int(busy) == 0:
                    return True
                time.sleep(0.05)
            return False
        finally:
            conn.close()

    # -- for other screens ----------------------------------------------------------------------
    @requires(Perm.NOMINAL_READ)
    def placeholder_for(self, ref: str) -> str | None:
        """The placeholder text of an erased nominal or referral, or None if it is not erased."""
        with self.vault.read() as s:
            raw = (ref or "").strip()
            if raw.upper().startswith("PR"):
                rid = parse_referral_ref(raw)
                rtype = "referral"
            else:
                number = parse_ref(raw)
                if number is None:
                    return None
                rid, rtype = number, "nominal"
            found = s.scalar(
                select(ErasedRecord.ref).join(
                    RetentionDecision, RetentionDecision.erased_record_id == ErasedRecord.id)
                .where(RetentionDecision.record_type == rtype, RetentionDecision.record_id == rid)
            )
            return placeholder_text(found) if found else None


def referral_is_erased(session: Session, referral_id: int) -> bool:
    return referral_id in _erased_referral_ids(session)


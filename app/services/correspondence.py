"""Partner correspondence and the register of information-sharing agreements (ISAs).

Each item is logged with the ISA it relies on and the nominals it concerns. A reply-by date
feeds the calendar (kind ``action_due``, titled "Reply due: …") until the reply is recorded. An
outgoing item is a disclosure: it is audited with the agency as recipient and the justification
(or the ISA's purpose) as the reason."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.meetings import (
    CORRESPONDENCE_REF_PREFIX,
    ISA_REF_PREFIX,
    CorrespondenceInput,
    Direction,
    IsaInput,
    clean_text,
    format_ref,
    parse_ref,
)
from app.domain.nominal import format_ref as nominal_ref
from app.domain.roles import Perm
from app.domain.rules import DueItem
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.meetings import meeting_lists
from app.services.vault import Vault
from app.store import nominals as nominal_repo
from app.store.models import (
    Correspondence,
    CorrespondenceNominal,
    InformationSharingAgreement,
    Nominal,
)

__all__ = [
    "CorrespondenceFilter",
    "CorrespondenceInfo",
    "CorrespondenceService",
    "IsaInfo",
    "reply_due_items",
]


@dataclass(frozen=True)
class IsaInfo:
    id: int
    ref: str
    title: str
    reference: str
    parties: tuple[str, ...]
    purpose: str
    start_date: date | None
    review_date: date
    status: str

    def review_overdue(self, today: date) -> bool:
        return self.status == "active" and self.review_date < today

    def as_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "title": self.title, "reference": self.reference,
                "parties": list(self.parties), "purpose": self.purpose,
                "start_date": self.start_date, "review_date": self.review_date,
                "status": self.status}


@dataclass(frozen=True)
class CorrespondenceInfo:
    id: int
    ref: str
    agency: str
    direction: str
    sent_on: date
    corr_type: str
    type_label: str
    subject: str
    summary: str
    isa_ref: str | None
    isa_title: str | None
    nominal_refs: tuple[str, ...]
    reply_by: date | None
    replied_on: date | None
    created_by: str

    def reply_overdue(self, today: date) -> bool:
        return self.reply_by is not None and self.replied_on is None and self.reply_by < today

    def as_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "agency": self.agency, "direction": self.direction,
                "date": self.sent_on, "type": self.corr_type, "subject": self.subject,
                "summary": self.summary, "isa": self.isa_ref,
                "nominals": list(self.nominal_refs), "reply_by": self.reply_by,
                "replied_on": self.replied_on}


@dataclass(frozen=True)
class CorrespondenceFilter:
    agency: str | None = None
    direction: str | None = None
    corr_type: str | None = None
    nominal: str | None = None
    awaiting_reply: bool = False
    date_from: date | None = None
    date_to: date | None = None


def _isa(row: InformationSharingAgreement) -> IsaInfo:
    try:
        parties = json.loads(row.parties)
    except ValueError:
        parties = []
    return IsaInfo(row.id, row.ref, row.title, row.reference,
                   tuple(str(p) for p in parties) if isinstance(parties, list) else (),
                   row.purpose, row.start_date, row.review_date, row.status)


def _isa_row(s: Session, key: int | str) -> InformationSharingAgreement:
    number = parse_ref(ISA_REF_PREFIX, key)
    row = s.get(InformationSharingAgreement, number) if number is not None else None
    if row is None:
        raise NotFound("There is no information-sharing agreement with that reference.")
    return row


def _infos(s: Session, rows: Sequence[Correspondence]) -> list[CorrespondenceInfo]:
    labels = meeting_lists(s).correspondence_types
    ids = [r.id for r in rows]
    nominals: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for cid, nid in s.execute(
                select(CorrespondenceNominal.correspondence_id, CorrespondenceNominal.nominal_id)
                .where(CorrespondenceNominal.correspondence_id.in_(ids[start:start + 500]))
                .order_by(CorrespondenceNominal.nominal_id)):
            nominals[cid].append(nominal_ref(nid))
    isa_ids = sorted({r.isa_id for r in rows if r.isa_id is not None})
    isas = {i.id: (i.ref, i.title) for i in s.scalars(
        select(InformationSharingAgreement).where(InformationSharingAgreement.id.in_(isa_ids)))}
    return [CorrespondenceInfo(
        r.id, r.ref, r.agency, r.direction, r.sent_on, r.corr_type,
        labels.get(r.corr_type, r.corr_type), r.subject, r.summary,
        isas.get(r.isa_id or 0, (None, None))[0], isas.get(r.isa_id or 0, (None, None))[1],
        tuple(nominals[r.id]), r.reply_by, r.replied_on, r.created_by) for r in rows]


def reply_due_items(session: Session, start: date, end: date,
                    filters: Any) -> Iterator[DueItem]:
    """Replies still owed by their reply-by date (kind ``action_due``, "Reply due: …")."""
    if filters is not None and not filters.wants("action_due"):
        return
    stmt = (select(Correspondence.reply_by, Correspondence.ref, Correspondence.agency,
                   Correspondence.corr_type, Correspondence.direction)
            .where(Correspondence.replied_on.is_(None), Correspondence.reply_by >= start,
                   Correspondence.reply_by <= end)
            .order_by(Correspondence.reply_by, Correspondence.id))
    manager = getattr(filters, "manager", None) if filters is not None else None
    force = getattr(filters, "force", None) if filters is not None else None
    if manager or force:
        linked = select(CorrespondenceNominal.correspondence_id).join(
            Nominal, Nominal.id == CorrespondenceNominal.nominal_id)
        if manager:
            linked = linked.where(Nominal.nominal_manager == manager)
        if force:
            linked = linked.where(Nominal.force == force)
        stmt = stmt.where(Correspondence.id.in_(linked))
    labels = meeting_lists(session).correspondence_types
    for due, ref, agency, kind, direction in session.execute(stmt):
        if due is None:
            continue
        way = "from" if direction == Direction.IN.value else "awaited from"
        yield DueItem(due, "action_due", ref,
                      f"Reply due: {labels.get(kind, kind)} {way} {agency}")


reply_due_items.calendar_kinds = frozenset({"action_due"})  # type: ignore[attr-defined]


class CorrespondenceService(Service):
    """The correspondence log and the ISA register."""

    def __init__(self, vault: Vault, today: Any = date.today) -> None:
        super().__init__(vault)
        self._today = today

    # -- ISA register -----------------------------------------------------------------------
    @requires(Perm.MEETING_WRITE)
    def add_isa(self, isa: IsaInput) -> IsaInfo:
        title = clean_text(isa.title, "title", 300, required=True)
        purpose = clean_text(isa.purpose, "purpose", 5000, required=True, multiline=True)
        parties = [clean_text(p, f"parties[{i}]", 200, required=True)
                   for i, p in enumerate(isa.parties)]
        if len(parties) < 2:
            raise ValidationError("parties", "an agreement has at least two parties")
        if not isinstance(isa.review_date, date):
            raise ValidationError("review_date", "must be a date")
        if isa.start_date is not None and isa.review_date < isa.start_date:
            raise ValidationError("review_date", "must not be before the start date")
        with self.vault.write() as s:
            row = InformationSharingAgreement(
                ref="", title=title, reference=clean_text(isa.reference, "reference", 100),
                parties=json.dumps(parties, ensure_ascii=False), purpose=purpose,
                start_date=isa.start_date, review_date=isa.review_date, status="active",
                created_by=self.vault.actor.user)
            s.add(row)
            s.flush()
            row.ref = format_ref(ISA_REF_PREFIX, row.id)
            self.vault.audit(s, Category.COLLECTION, "isa.add", entity="isa", ref=row.ref)
            return _isa(row)

    @requires(Perm.MEETING_READ)
    def isas(self, include_ended: bool = False) -> list[IsaInfo]:
        """The ISA register, soonest review first."""
        stmt = select(InformationSharingAgreement)
        if not include_ended:
            stmt = stmt.where(InformationSharingAgreement.status == "active")
        with self.vault.read() as s:
            return [_isa(r) for r in s.scalars(stmt.order_by(
                InformationSharingAgreement.review_date, InformationSharingAgreement.id))]

    @requires(Perm.MEETING_WRITE)
    def review_isa(self, key: int | str, next_review: date | None, *, end: bool = False,
                   reason: str = "") -> IsaInfo:
        """Record a review: a new review date, or the agreement ended."""
        with self.vault.write() as s:
            row = _isa_row(s, key)
            changes: dict[str, tuple[Any, Any]] = {}
            if end:
                changes["status"] = (row.status, "ended")
                row.status = "ended"
            if next_review is not None:
                if not isinstance(next_review, date):
                    raise ValidationError("review_date", "must be a date")
                changes["review_date"] = (row.review_date, next_review)
                row.review_date = next_review
            if not changes:
                raise ValidationError("review_date", "give the next review date or end it")
            self.vault.revision(s, "isa", row.id, "update", changes, reason)
            self.vault.audit(s, Category.ALTERATION, "isa.review", entity="isa", ref=row.ref,
                             reason=reason, detail={"fields": sorted(changes)})
            return _isa(row)

    # -- correspondence -------------------------------------------------------------------
    @requires(Perm.MEETING_WRITE)
    def add(self, c: CorrespondenceInput) -> CorrespondenceInfo:
        """Log one item. Outgoing: audited as a disclosure to the agency."""
        agency = clean_text(c.agency, "agency", 200, required=True)
        subject = clean_text(c.subject, "subject", 500, required=True)
        summary = clean_text(c.summary, "summary", 20_000, multiline=True)
        justification = clean_text(c.justification, "justification", 2000, multiline=True)
        try:
            direction = Direction(c.direction).value
        except ValueError:
            raise ValidationError("direction", "must be in or out") from None
        if not isinstance(c.sent_on, date):
            raise ValidationError("date", "must be a date")
        if c.reply_by is not None and c.reply_by < c.sent_on:
            raise ValidationError("reply_by", "must not be before the date of the item")
        with self.vault.write() as s:
            kind = meeting_lists(s, self.vault).correspondence_type(c.corr_type)
            isa = _isa_row(s, c.isa_id) if c.isa_id is not None else None
            if direction == Direction.OUT.value and isa is None and not justification:
                raise ValidationError(
                    "isa", "an outgoing item needs the agreement it relies on or a "
                    "justification for the disclosure")
            ids: list[int] = []
            for i, ref in enumerate(c.nominal_refs):
                nid = nominal_repo.id_for_ref(s, ref)
                if nid is None:
                    raise ValidationError(f"nominals[{i}]", "is not a known nominal")
                if nid not in ids:
                    ids.append(nid)
            row = Correspondence(
                ref="", agency=agency, direction=direction, sent_on=c.sent_on,
                corr_type=kind, subject=subject, summary=summary,
                isa_id=isa.id if isa is not None else None, reply_by=c.reply_by,
                created_by=self.vault.actor.user)
            s.add(row)
            s.flush()
            row.ref = format_ref(CORRESPONDENCE_REF_PREFIX, row.id)
            for nid in ids:
                s.add(CorrespondenceNominal(correspondence_id=row.id, nominal_id=nid))
            refs = [nominal_ref(n) for n in ids]
            self.vault.audit(s, Category.COLLECTION, "correspondence.add",
                             entity="correspondence", ref=row.ref,
                             detail={"direction": direction, "type": kind,
                                     "isa": isa.ref if isa else None, "nominals": refs})
            if direction == Direction.OUT.value:
                reason = justification or (
                    f"Under {isa.ref} ({isa.title}): {isa.purpose}" if isa else "")
                self.vault.audit(s, Category.DISCLOSURE, "correspondence.out",
                                 entity="correspondence", ref=row.ref, reason=reason[:2000],
                                 recipient=agency,
                                 detail={"isa": isa.ref if isa else None, "nominals": refs,
                                         "type": kind, "date": c.sent_on})
            s.flush()
            return _infos(s, [row])[0]

    @requires(Perm.MEETING_WRITE)
    def record_reply(self, key: int | str, replied_on: date) -> CorrespondenceInfo:
        """The reply came (or was sent): the item leaves the calendar."""
        with self.vault.write() as s:
            number = parse_ref(CORRESPONDENCE_REF_PREFIX, key)
            row = s.get(Correspondence, number) if number is not None else None
            if row is None:
                raise NotFound("There is no correspondence with that reference.")
            if replied_on < row.sent_on:
                raise ValidationError("replied_on", "must not be before the item's date")
            self.vault.revision(s, "correspondence", row.id, "update",
                                {"replied_on": (row.replied_on, replied_on)})
            row.replied_on = replied_on
            self.vault.audit(s, Category.ALTERATION, "correspondence.reply",
                             entity="correspondence", ref=row.ref)
            return _infos(s, [row])[0]

    @requires(Perm.MEETING_READ)
    def log(self, flt: CorrespondenceFilter = CorrespondenceFilter(),
            limit: int = 1000, today: date | None = None) -> list[CorrespondenceInfo]:
        """The log, newest first, filtered."""
        if limit < 1:
            raise ValidationError("limit", "must be at least 1")
        today = today or self._today()
        stmt = select(Correspondence)
        if flt.agency:
            stmt = stmt.where(Correspondence.agency == flt.agency)
        if flt.direction:
            stmt = stmt.where(Correspondence.direction == flt.direction)
        if flt.corr_type:
            stmt = stmt.where(Correspondence.corr_type == flt.corr_type)
        if flt.awaiting_reply:
            stmt = stmt.where(Correspondence.reply_by.is_not(None),
                              Correspondence.replied_on.is_(None))
        if flt.date_from:
            stmt = stmt.where(Correspondence.sent_on >= flt.date_from)
        if flt.date_to:
            stmt = stmt.where(Correspondence.sent_on <= flt.date_to)
        with self.vault.read() as s:
            if flt.nominal:
                nid = nominal_repo.id_for_ref(s, flt.nominal)
                if nid is None:
                    raise ValidationError("nominal", "is not a known nominal")
                stmt = stmt.where(Correspondence.id.in_(
                    select(CorrespondenceNominal.correspondence_id)
                    .where(CorrespondenceNominal.nominal_id == nid)))
            rows = list(s.scalars(stmt.order_by(Correspondence.sent_on.desc(),
                                                Correspondence.id.desc()).limit(limit)))
            return _infos(s, rows)

    @requires(Perm.MEETING_READ)
    def agencies(self) -> list[str]:
        """Partner agencies: the reference list, then any others already used."""
        with self.vault.read() as s:
            known = list(meeting_lists(s).partner_agencies)
            used = [a for (a,) in s.execute(select(Correspondence.agency).distinct()
                                            .order_by(Correspondence.agency))]
        return list(dict.fromkeys(known + used))

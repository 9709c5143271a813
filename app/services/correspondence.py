"""Partner correspondence and the register of information-sharing agreements (ISAs).

Each item is logged with the ISA it relies on and the nominals it concerns. A reply-by date
feeds the calendar (kind ``action_due``, titled "Reply due: …") until the reply is recorded. An
outgoing item is a disclosure: it is audited with the agency as recipient and the justification
(or the ISA's purpose) as the reason.

A reply is logged as an item of its own linked to the one it answers (an incoming reply to an
outgoing item, or the other way); logging it sets the original's ``replied_on``, which takes the
original's reply-by date off the calendar and Today. An ISA that any item relied on is never
deleted: it is retired, so the log still says what each disclosure relied on."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
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
    "ThreadItem",
    "isa_problems",
    "reply_due_items",
]

# How far ahead an agreement's review shows as "due soon".
REVIEW_SOON_DAYS = 30
# A thread deeper than this is cut short (replies to replies of ... a runaway chain).
MAX_THREAD_DEPTH = 50


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
    legal_basis: str = ""
    ended_on: date | None = None
    used_by: int = 0  # correspondence items that relied on it

    @property
    def active(self) -> bool:
        return self.status == "active"

    def review_overdue(self, today: date) -> bool:
        return self.active and self.review_date < today

    def state(self, today: date) -> str:
        """"Retired", "Review overdue", "Review due soon" or "Active"."""
        if not self.active:
            return "Retired"
        if self.review_date < today:
            return "Review overdue"
        if (self.review_date - today).days <= REVIEW_SOON_DAYS:
            return "Review due soon"
        return "Active"

    def as_input(self) -> IsaInput:
        return IsaInput(self.title, self.parties, self.purpose, self.review_date,
                        self.start_date, self.reference, self.legal_basis)

    def as_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "title": self.title, "reference": self.reference,
                "parties": list(self.parties), "purpose": self.purpose,
                "legal_basis": self.legal_basis, "start_date": self.start_date,
                "review_date": self.review_date, "status": self.status,
                "ended_on": self.ended_on}


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
    isa_id: int | None = None
    reply_to_ref: str | None = None  # the item this one answers
    reply_refs: tuple[str, ...] = ()  # the items that answer this one

    def reply_overdue(self, today: date) -> bool:
        return self.reply_by is not None and self.replied_on is None and self.reply_by < today

    def reply_state(self, today: date) -> str:
        """"Reply overdue", "Awaiting reply", "Replied" or "" (no reply was asked for)."""
        if self.replied_on is not None or self.reply_refs:
            return "Replied"
        if self.reply_by is None:
            return ""
        return "Reply overdue" if self.reply_by < today else "Awaiting reply"

    def as_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "agency": self.agency, "direction": self.direction,
                "date": self.sent_on, "type": self.corr_type, "subject": self.subject,
                "summary": self.summary, "isa": self.isa_ref,
                "nominals": list(self.nominal_refs), "reply_by": self.reply_by,
                "replied_on": self.replied_on, "reply_to": self.reply_to_ref,
                "replies": list(self.reply_refs)}


@dataclass(frozen=True)
class ThreadItem:
    """One item of a thread and how deep it sits (0: the item that began it)."""

    depth: int
    item: CorrespondenceInfo


@dataclass(frozen=True)
class CorrespondenceFilter:
    agency: str | None = None
    direction: str | None = None
    corr_type: str | None = None
    nominal: str | None = None
    awaiting_reply: bool = False
    date_from: date | None = None
    date_to: date | None = None


def isa_problems(isa: IsaInput) -> dict[str, str]:
    """Every problem with an agreement as entered, field -> message ({} when it is fine).

    Pure: the register form calls it as the user types; the service refuses the first."""
    problems: dict[str, str] = {}

    def text(value: Any, name: str, limit: int, *, required: bool = False,
             multiline: bool = False) -> None:
        try:
            clean_text(value, name, limit, required=required, multiline=multiline)
        except ValidationError as exc:
            problems.setdefault(name, exc.message)

    text(isa.title, "title", 300, required=True)
    text(isa.reference, "reference", 100)
    parties = [p for p in isa.parties if isinstance(p, str) and p.strip()]
    for i, p in enumerate(isa.parties):
        text(p, "parties", 200)
        if "parties" in problems:
            problems["parties"] = f"party {i + 1} {problems['parties']}"
            break
    if "parties" not in problems:
        if len(parties) < 2:
            problems["parties"] = "an agreement has at least two parties"
        elif len({p.strip().casefold() for p in parties}) < len(parties):
            problems["parties"] = "a party is named twice"
    text(isa.purpose, "purpose", 5000, required=True, multiline=True)
    text(isa.legal_basis, "legal_basis", 2000, multiline=True)
    if not isinstance(isa.review_date, date):
        problems["review_date"] = "must be a date"
    elif isa.start_date is not None and isa.review_date < isa.start_date:
        problems["review_date"] = "must not be before the start date"
    if isa.start_date is not None and not isinstance(isa.start_date, date):
        problems["start_date"] = "must be a date"
    return problems


def _check_isa(isa: IsaInput) -> None:
    problems = isa_problems(isa)
    if problems:
        name, message = next(iter(problems.items()))
        raise ValidationError(name, message)


def _isa(row: InformationSharingAgreement, used_by: int = 0) -> IsaInfo:
    try:
        parties = json.loads(row.parties)
    except ValueError:
        parties = []
    return IsaInfo(row.id, row.ref, row.title, row.reference,
                   tuple(str(p) for p in parties) if isinstance(parties, list) else (),
                   row.purpose, row.start_date, row.review_date, row.status,
                   row.legal_basis or "", row.ended_on, used_by)


def _isa_use(s: Session, isa_ids: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for start in range(0, len(isa_ids), 500):
        out.update({i: n for i, n in s.execute(
            select(Correspondence.isa_id, func.count())
            .where(Correspondence.isa_id.in_(isa_ids[start:start + 500]))
            .group_by(Correspondence.isa_id)) if i is not None})
    return out


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
    replies: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for cid, nid in s.execute(
                select(CorrespondenceNominal.correspondence_id, CorrespondenceNominal.nominal_id)
                .where(CorrespondenceNominal.correspondence_id.in_(chunk))
                .order_by(CorrespondenceNominal.nominal_id)):
            nominals[cid].append(nominal_ref(nid))
        for parent, ref in s.execute(
                select(Correspondence.reply_to_id, Correspondence.ref)
                .where(Correspondence.reply_to_id.in_(chunk))
                .order_by(Correspondence.sent_on, Correspondence.id)):
            if parent is not None:
                replies[parent].append(ref)
    parent_ids = sorted({r.reply_to_id for r in rows if r.reply_to_id is not None})
    parents: dict[int, str] = {i: ref for i, ref in s.execute(
        select(Correspondence.id, Correspondence.ref)
        .where(Correspondence.id.in_(parent_ids)))} if parent_ids else {}
    isa_ids = sorted({r.isa_id for r in rows if r.isa_id is not None})
    isas = {i.id: (i.ref, i.title) for i in s.scalars(
        select(InformationSharingAgreement).where(InformationSharingAgreement.id.in_(isa_ids)))}
    return [CorrespondenceInfo(
        r.id, r.ref, r.agency, r.direction, r.sent_on, r.corr_type,
        labels.get(r.corr_type, r.corr_type), r.subject, r.summary,
        isas.get(r.isa_id or 0, (None, None))[0], isas.get(r.isa_id or 0, (None, None))[1],
        tuple(nominals[r.id]), r.reply_by, r.replied_on, r.created_by, r.isa_id,
        parents.get(r.reply_to_id) if r.reply_to_id is not None else None,
        tuple(replies[r.id])) for r in rows]


_ISA_FIELDS = ("title", "reference", "parties", "purpose", "legal_basis", "start_date",
               "review_date")


def _fill_isa(row: InformationSharingAgreement, isa: IsaInput) -> None:
    """Copy a checked input onto the row, cleaned as stored."""
    parties = [clean_text(p, "parties", 200) for p in isa.parties]
    row.title = clean_text(isa.title, "title", 300, required=True)
    row.reference = clean_text(isa.reference, "reference", 100)
    row.parties = json.dumps([p for p in parties if p], ensure_ascii=False)
    row.purpose = clean_text(isa.purpose, "purpose", 5000, required=True, multiline=True)
    row.legal_basis = clean_text(isa.legal_basis, "legal_basis", 2000, multiline=True)
    row.start_date = isa.start_date
    row.review_date = isa.review_date


def _check_reply(original: Correspondence, direction: str, sent_on: date) -> None:
    if original.direction == direction:
        raise ValidationError(
            "reply_to", "a reply goes the other way: an incoming item answers an outgoing "
            "one, and an outgoing item answers an incoming one")
    if sent_on < original.sent_on:
        raise ValidationError("date", "a reply cannot be dated before the item it answers")


def _corr_row(s: Session, key: int | str) -> Correspondence:
    number = parse_ref(CORRESPONDENCE_REF_PREFIX, key)
    row = s.get(Correspondence, number) if number is not None else None
    if row is None:
        raise NotFound("There is no correspondence with that reference.")
    return row


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
        _check_isa(isa)
        with self.vault.write() as s:
            row = InformationSharingAgreement(ref="", status="active",
                                              created_by=self.vault.actor.user)
            _fill_isa(row, isa)
            s.add(row)
            s.flush()
            row.ref = format_ref(ISA_REF_PREFIX, row.id)
            self.vault.audit(s, Category.COLLECTION, "isa.add", entity="isa", ref=row.ref)
            return _isa(row)

    @requires(Perm.MEETING_READ)
    def isas(self, include_ended: bool = False) -> list[IsaInfo]:
        """The ISA register, soonest review first (retired ones last, when asked for)."""
        stmt = select(InformationSharingAgreement)
        if not include_ended:
            stmt = stmt.where(InformationSharingAgreement.status == "active")
        with self.vault.read() as s:
            rows = list(s.scalars(stmt.order_by(
                (InformationSharingAgreement.status != "active"),
                InformationSharingAgreement.review_date, InformationSharingAgreement.id)))
            use = _isa_use(s, [r.id for r in rows])
            return [_isa(r, use.get(r.id, 0)) for r in rows]

    @requires(Perm.MEETING_READ)
    def isa(self, key: int | str) -> IsaInfo:
        with self.vault.read() as s:
            row = _isa_row(s, key)
            return _isa(row, _isa_use(s, [row.id]).get(row.id, 0))

    @requires(Perm.MEETING_WRITE)
    def update_isa(self, key: int | str, isa: IsaInput, reason: str = "") -> IsaInfo:
        """Change an active agreement's details (a revision keeps the old values)."""
        _check_isa(isa)
        reason = clean_text(reason, "reason", 2000, multiline=True)
        with self.vault.write() as s:
            row = _isa_row(s, key)
            if row.status != "active":
                raise ValidationError("status", "a retired agreement cannot be changed")
            before = {f: getattr(row, f) for f in _ISA_FIELDS}
            _fill_isa(row, isa)
            changes = {f: (before[f], getattr(row, f)) for f in _ISA_FIELDS
                       if before[f] != getattr(row, f)}
            if changes:
                self.vault.revision(s, "isa", row.id, "update", changes, reason)
                self.vault.audit(s, Category.ALTERATION, "isa.update", entity="isa",
                                 ref=row.ref, reason=reason,
                                 detail={"fields": sorted(changes)})
            return _isa(row, _isa_use(s, [row.id]).get(row.id, 0))

    @requires(Perm.MEETING_WRITE)
    def review_isa(self, key: int | str, next_review: date | None, *, end: bool = False,
                   reason: str = "") -> IsaInfo:
        """Record a review: a new review date, or the agreement ended."""
        with self.vault.write() as s:
            row = _isa_row(s, key)
            changes: dict[str, tuple[Any, Any]] = {}
            if end:
                changes["status"] = (row.status, "ended")
                changes["ended_on"] = (row.ended_on, self._today())
                row.status = "ended"
                row.ended_on = self._today()
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

    @requires(Perm.MEETING_WRITE)
    def retire_isa(self, key: int | str, reason: str, ended_on: date | None = None) -> IsaInfo:
        """End an agreement: it stays in the register (and on the items that relied on it)
        but can no longer be chosen for new correspondence."""
        reason = clean_text(reason, "reason", 2000, required=True, multiline=True)
        ended = ended_on or self._today()
        if not isinstance(ended, date):
            raise ValidationError("ended_on", "must be a date")
        with self.vault.write() as s:
            row = _isa_row(s, key)
            if row.status != "active":
                raise ValidationError("status", "the agreement is already retired")
            if row.start_date is not None and ended < row.start_date:
                raise ValidationError("ended_on", "must not be before the start date")
            self.vault.revision(s, "isa", row.id, "update",
                                {"status": (row.status, "ended"),
                                 "ended_on": (row.ended_on, ended)}, reason)
            row.status, row.ended_on = "ended", ended
            used = _isa_use(s, [row.id]).get(row.id, 0)
            self.vault.audit(s, Category.ALTERATION, "isa.retire", entity="isa", ref=row.ref,
                             reason=reason, detail={"ended_on": ended, "used_by": used})
            return _isa(row, used)

    @requires(Perm.MEETING_WRITE)
    def remove_isa(self, key: int | str, reason: str) -> str:
        """Delete an agreement entered in error; refused once any item has relied on it
        (retire it instead). Returns its ref."""
        reason = clean_text(reason, "reason", 2000, required=True, multiline=True)
        with self.vault.write() as s:
            row = _isa_row(s, key)
            used = _isa_use(s, [row.id]).get(row.id, 0)
            if used:
                raise ValidationError(
                    "isa", f"{used} correspondence item(s) relied on it: retire it instead, "
                    "so the log keeps what each item relied on")
            ref = row.ref
            self.vault.revision(s, "isa", row.id, "delete",
                                {f: (getattr(row, f), None) for f in _ISA_FIELDS}, reason)
            s.delete(row)
            self.vault.audit(s, Category.ERASURE, "isa.remove", entity="isa", ref=ref,
                             reason=reason)
            return ref

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
            if isa is not None and isa.status != "active" and (
                    isa.ended_on is None or c.sent_on > isa.ended_on):
                raise ValidationError("isa", "was retired before that date; choose an "
                                      "agreement in force")
            original = None
            if c.reply_to is not None:
                try:
                    original = _corr_row(s, c.reply_to)
                except NotFound:
                    raise ValidationError("reply_to", "is not a known correspondence item"
                                          ) from None
                _check_reply(original, direction, c.sent_on)
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
                reply_to_id=original.id if original is not None else None,
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
                                     "isa": isa.ref if isa else None, "nominals": refs,
                                     "reply_to": original.ref if original else None})
            if original is not None:
                self._answered(s, original, row)
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
            row = _corr_row(s, key)
            if replied_on < row.sent_on:
                raise ValidationError("replied_on", "must not be before the item's date")
            self.vault.revision(s, "correspondence", row.id, "update",
                                {"replied_on": (row.replied_on, replied_on)})
            row.replied_on = replied_on
            self.vault.audit(s, Category.ALTERATION, "correspondence.reply",
                             entity="correspondence", ref=row.ref)
            return _infos(s, [row])[0]

    @requires(Perm.MEETING_WRITE)
    def link_reply(self, reply_key: int | str, original_key: int | str) -> CorrespondenceInfo:
        """Link an item already logged as the reply to an earlier one (the other way round:
        in answers out, out answers in). Returns the original, now replied."""
        with self.vault.write() as s:
            reply = _corr_row(s, reply_key)
            original = _corr_row(s, original_key)
            if reply.id == original.id:
                raise ValidationError("reply_to", "an item cannot answer itself")
            if reply.reply_to_id is not None:
                raise ValidationError("reply_to", "that item is already linked as a reply")
            _check_reply(original, reply.direction, reply.sent_on)
            # Refuse a loop: the original must not itself sit below the reply.
            up, depth = original, 0
            while up.reply_to_id is not None and depth < MAX_THREAD_DEPTH:
                if up.reply_to_id == reply.id:
                    raise ValidationError("reply_to", "the original already answers that item")
                up = s.get(Correspondence, up.reply_to_id) or up
                depth += 1
            self.vault.revision(s, "correspondence", reply.id, "update",
                                {"reply_to": (None, original.ref)})
            reply.reply_to_id = original.id
            self.vault.audit(s, Category.ALTERATION, "correspondence.link",
                             entity="correspondence", ref=reply.ref,
                             detail={"reply_to": original.ref})
            self._answered(s, original, reply)
            s.flush()
            return _infos(s, [original])[0]

    def _answered(self, s: Session, original: Correspondence, reply: Correspondence) -> None:
        """The original has its answer: set its replied_on (the earliest reply counts), which
        takes its reply-by date off the calendar."""
        if original.replied_on is not None and original.replied_on <= reply.sent_on:
            return
        self.vault.revision(s, "correspondence", original.id, "update",
                            {"replied_on": (original.replied_on, reply.sent_on)})
        original.replied_on = reply.sent_on
        self.vault.audit(s, Category.ALTERATION, "correspondence.reply",
                         entity="correspondence", ref=original.ref,
                         detail={"reply": reply.ref})

    @requires(Perm.MEETING_READ)
    def get(self, key: int | str) -> CorrespondenceInfo:
        with self.vault.read() as s:
            return _infos(s, [_corr_row(s, key)])[0]

    @requires(Perm.MEETING_READ)
    def thread(self, key: int | str) -> list[ThreadItem]:
        """The thread an item belongs to: the item that began it, then each reply under the
        item it answers, oldest first."""
        with self.vault.read() as s:
            row = _corr_row(s, key)
            for _ in range(MAX_THREAD_DEPTH):
                if row.reply_to_id is None:
                    break
                parent = s.get(Correspondence, row.reply_to_id)
                if parent is None:
                    break
                row = parent
            rows: dict[int, Correspondence] = {row.id: row}
            children: dict[int, list[int]] = defaultdict(list)
            level = [row.id]
            for _ in range(MAX_THREAD_DEPTH):
                if not level:
                    break
                found = list(s.scalars(select(Correspondence)
                                       .where(Correspondence.reply_to_id.in_(level))
                                       .order_by(Correspondence.sent_on, Correspondence.id)))
                level = []
                for r in found:
                    if r.id in rows:
                        continue
                    rows[r.id] = r
                    children[r.reply_to_id or 0].append(r.id)
                    level.append(r.id)
            infos = {i.id: i for i in _infos(s, list(rows.values()))}
        out: list[ThreadItem] = []

        def walk(cid: int, depth: int) -> None:
            out.append(ThreadItem(depth, infos[cid]))
            for child in children.get(cid, []):
                walk(child, depth + 1)

        walk(row.id, 0)
        return out

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

"""Nominal Management meetings and their actions: agendas (standing items, nominals for
discussion, actions carried from earlier meetings), minutes and decisions, and the action log.

Overdue actions carry forward: when a meeting is created or opened by someone who may edit it,
every open action past its due date that was raised at an earlier meeting of the same type is
put on its agenda, marked as carried and from which meeting, provided this is the first meeting
of that type still to be held after the one that raised it. An action that stays overdue is
carried again to the meeting after that, so the chair sees it until it is closed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.meetings import (
    ACTION_REF_PREFIX,
    MEETING_REF_PREFIX,
    ActionInput,
    ActionStatus,
    AttendeeInput,
    MeetingInput,
    MeetingLists,
    MeetingStatus,
    NominalPick,
    clean_text,
    format_ref,
    is_overdue,
    parse_meeting_lists,
    parse_ref,
)
from app.domain.nominal import format_ref as nominal_ref
from app.domain.roles import Perm, allowed
from app.domain.rules import DueItem, load_reference
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.reference import current_in, stored_current
from app.services.vault import Vault
from app.store import nominals as nominal_repo
from app.store.models import (
    Action,
    ActionUpdate,
    AgendaItem,
    CivilOrder,
    ContactPlan,
    Meeting,
    MeetingAttendee,
    Nominal,
    NotificationRequirement,
    utcnow,
)

__all__ = [
    "ActionFilter",
    "ActionInfo",
    "ActionUpdateInfo",
    "AgendaItemInfo",
    "MeetingDetail",
    "MeetingRow",
    "MeetingService",
    "Suggestion",
    "action_items",
    "meeting_lists",
    "meeting_items",
]

ENTITY = "meeting"
# Agenda order: standing items, then carried actions, then nominals, then anything added later.
_BAND = {"standing": 1000, "carried": 2000, "nominal": 3000, "other": 4000}
SUGGEST_LOOKAHEAD_DAYS = 60
SUGGEST_NEW_DAYS = 30
SUGGEST_PER_REASON = 500


# --- value objects --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendeeInfo:
    name: str
    agency: str
    role: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "agency": self.agency, "role": self.role}


@dataclass(frozen=True)
class AgendaItemInfo:
    id: int
    position: int
    kind: str  # standing | nominal | carried | other
    title: str
    nominal_ref: str | None
    nominal_name: str | None
    reason: str
    action_ref: str | None
    carried_from_ref: str | None
    carried_from_date: date | None
    minutes: str
    decisions: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "title": self.title,
            "nominal": self.nominal_ref, "reason": self.reason, "action": self.action_ref,
            "carried_from": self.carried_from_ref, "minutes": self.minutes,
            "decisions": self.decisions,
        }


@dataclass(frozen=True)
class ActionInfo:
    id: int
    ref: str
    text: str
    owner: str
    due: date
    status: str
    closed_on: date | None
    meeting_id: int | None
    meeting_ref: str | None
    meeting_date: date | None
    nominal_ref: str | None
    overdue: bool
    created_at: datetime
    last_update: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref, "text": self.text, "owner": self.owner, "due": self.due,
            "status": self.status, "closed_on": self.closed_on, "meeting": self.meeting_ref,
            "nominal": self.nominal_ref, "overdue": self.overdue,
            "last_update": self.last_update,
        }


@dataclass(frozen=True)
class ActionUpdateInfo:
    at: datetime
    user: str
    text: str
    old_status: str | None
    new_status: str | None

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(timespec="seconds") + "Z", "user": self.user,
                "text": self.text, "old_status": self.old_status,
                "new_status": self.new_status}


@dataclass(frozen=True)
class MeetingRow:
    id: int
    ref: str
    meeting_type: str
    type_label: str
    starts_at: datetime
    chair: str
    location: str
    status: str
    nominals: int
    open_actions: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "ref": self.ref, "type": self.meeting_type,
            "type_label": self.type_label, "date": self.starts_at.date(),
            "time": self.starts_at.strftime("%H:%M"), "chair": self.chair,
            "location": self.location, "status": self.status, "nominals": self.nominals,
            "open_actions": self.open_actions,
        }


@dataclass(frozen=True)
class MeetingDetail:
    row: MeetingRow
    attendees: tuple[AttendeeInfo, ...]
    agenda: tuple[AgendaItemInfo, ...]
    actions: tuple[ActionInfo, ...]  # raised at this meeting
    notes: str
    carried_now: int = 0  # actions carried onto the agenda by this open

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def ref(self) -> str:
        return self.row.ref

    def items(self, kind: str) -> list[AgendaItemInfo]:
        return [i for i in self.agenda if i.kind == kind]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.row.as_json(),
            "attendees": [a.as_json() for a in self.attendees],
            "agenda": [i.as_json() for i in self.agenda],
            "actions": [a.as_json() for a in self.actions],
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Suggestion:
    """A nominal worth discussing, with every reason found."""

    ref: str
    name: str
    reasons: tuple[str, ...]

    @property
    def reason_text(self) -> str:
        return "; ".join(self.reasons)

    def as_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "name": self.name, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class ActionFilter:
    owner: str | None = None
    status: str | None = None  # open | done | cancelled
    meeting: int | str | None = None
    nominal: str | None = None
    overdue: bool = False
    due_from: date | None = None
    due_to: date | None = None


# --- helpers --------------------------------------------------------------------------------------


def meeting_lists(session: Session, vault: Vault | None = None) -> MeetingLists:
    """The vault's meeting types (loaded into the vault on first write use), or the shipped list
    for a read-only caller before anyone has loaded it."""
    data = (current_in(session, vault, "meeting_types") if vault is not None
            else stored_current(session, "meeting_types"))
    return parse_meeting_lists(data if data is not None else load_reference("meeting_types"))


def _uk(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _meeting_id(session: Session, key: int | str) -> int:
    number = parse_ref(MEETING_REF_PREFIX, key)
    if number is None or session.get(Meeting, number) is None:
        raise NotFound("There is no meeting with that id.")
    return number


def _action_row(session: Session, key: int | str) -> Action:
    number = parse_ref(ACTION_REF_PREFIX, key)
    row = session.get(Action, number) if number is not None else None
    if row is None:
        raise NotFound("There is no action with that reference.")
    return row


def _nominal_ids(session: Session, refs: Iterable[str], field_name: str) -> list[int]:
    out: list[int] = []
    for i, ref in enumerate(refs):
        nid = nominal_repo.id_for_ref(session, ref)
        if nid is None:
            raise ValidationError(f"{field_name}[{i}]", "is not a known nominal")
        out.append(nid)
    return out


def _check_action(a: ActionInput, where: str) -> ActionInput:
    return ActionInput(
        text=clean_text(a.text, f"{where}text", 2000, required=True, multiline=True),
        owner=clean_text(a.owner, f"{where}owner", 200, required=True),
        due=a.due, nominal_ref=a.nominal_ref, meeting_id=a.meeting_id)


def _insert_action(s: Session, vault: Vault, a: ActionInput, meeting_id: int | None,
                   nominal_id: int | None, when: datetime | None = None) -> Action:
    if not isinstance(a.due, date):
        raise ValidationError("due", "must be a date")
    row = Action(ref="", meeting_id=meeting_id, nominal_id=nominal_id, text=a.text,
                 owner=a.owner, due_date=a.due, status=ActionStatus.OPEN.value,
                 created_at=when or utcnow(), created_by=vault.actor.user,
                 updated_at=when or utcnow(), updated_by=vault.actor.user)
    s.add(row)
    s.flush()
    row.ref = format_ref(ACTION_REF_PREFIX, row.id)
    s.add(ActionUpdate(action_id=row.id, at=when or utcnow(), user=vault.actor.user,
                       text="Action raised", old_status=None, new_status=row.status))
    return row


def _carry_into(s: Session, meeting: Meeting, today: date) -> int:
    """Put overdue open actions from earlier meetings of the same type on this agenda."""
    if meeting.status != MeetingStatus.PLANNED.value or meeting.meeting_date < today:
        return 0
    origin = Meeting.__table__.alias("origin")
    on_agenda = select(AgendaItem.action_id).where(
        AgendaItem.meeting_id == meeting.id, AgendaItem.action_id.is_not(None))
    candidates = s.execute(
        select(Action.id, Action.ref, Action.text, Action.owner, Action.due_date,
               Action.nominal_id, origin.c.id, origin.c.meeting_date)
        .join(origin, origin.c.id == Action.meeting_id)
        .where(
            Action.status == ActionStatus.OPEN.value,
            Action.due_date < today,
            origin.c.meeting_type == meeting.meeting_type,
            origin.c.meeting_date <= meeting.meeting_date,
            origin.c.id != meeting.id,
            Action.id.not_in(on_agenda),
        )
        .order_by(Action.due_date, Action.id)
    ).all()
    if not candidates:
        return 0
    # Each action goes to the first meeting of the type still to be held after the one that
    # raised it (dated today or later): a second planned meeting does not take it too.
    upcoming = s.execute(
        select(Meeting.id, Meeting.meeting_date, Meeting.starts_at)
        .where(Meeting.meeting_type == meeting.meeting_type,
               Meeting.status == MeetingStatus.PLANNED.value,
               Meeting.meeting_date >= today)
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    position = int(s.scalar(select(func.count()).select_from(AgendaItem).where(
        AgendaItem.meeting_id == meeting.id, AgendaItem.kind == "carried")) or 0)
    carried = 0
    for aid, _ref, text, owner, due, nominal_id, origin_id, origin_date in candidates:
        first = next((m for m in upcoming if m.meeting_date >= origin_date
                      and m.id != origin_id), None)
        if first is None or first.id != meeting.id:
            continue
        short = text if len(text) <= 200 else text[:199] + "…"
        s.add(AgendaItem(
            meeting_id=meeting.id, position=_BAND["carried"] + position, kind="carried",
            title=short, nominal_id=nominal_id, action_id=aid,
            carried_from_meeting_id=origin_id,
            reason=f"Overdue since {_uk(due)}; owner {owner}"))
        position += 1
        carried += 1
    return carried


def _rows(s: Session, meetings: Sequence[Meeting], lists: MeetingLists) -> list[MeetingRow]:
    ids = [m.id for m in meetings]
    nominals: dict[int, int] = defaultdict(int)
    open_actions: dict[int, int] = defaultdict(int)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for mid, n in s.execute(
            select(AgendaItem.meeting_id, func.count()).where(
                AgendaItem.meeting_id.in_(chunk), AgendaItem.kind == "nominal")
            .group_by(AgendaItem.meeting_id)):
            nominals[mid] = int(n)
        for amid, n in s.execute(
            select(Action.meeting_id, func.count()).where(
                Action.meeting_id.in_(chunk), Action.status == ActionStatus.OPEN.value)
            .group_by(Action.meeting_id)):
            open_actions[int(amid or 0)] = int(n)
    return [MeetingRow(m.id, m.ref, m.meeting_type, lists.label(m.meeting_type), m.starts_at,
                       m.chair, m.location, m.status, nominals[m.id], open_actions[m.id])
            for m in meetings]


def _action_infos(s: Session, rows: Sequence[Action], today: date) -> list[ActionInfo]:
    meeting_ids = {r.meeting_id for r in rows if r.meeting_id is not None}
    meetings: dict[int, tuple[str, date]] = {}
    ids = sorted(meeting_ids)
    for start in range(0, len(ids), 500):
        for mid, ref, d in s.execute(select(Meeting.id, Meeting.ref, Meeting.meeting_date)
                                     .where(Meeting.id.in_(ids[start:start + 500]))):
            meetings[mid] = (ref, d)
    action_ids = [r.id for r in rows]
    last: dict[int, str] = {}
    for start in range(0, len(action_ids), 500):
        chunk = action_ids[start:start + 500]
        newest = (select(ActionUpdate.action_id, func.max(ActionUpdate.id).label("mx"))
                  .where(ActionUpdate.action_id.in_(chunk)).group_by(ActionUpdate.action_id)
                  .subquery())
        for aid, text in s.execute(select(ActionUpdate.action_id, ActionUpdate.text)
                                   .join(newest, newest.c.mx == ActionUpdate.id)):
            last[aid] = text
    out = []
    for r in rows:
        mref, mdate = meetings.get(r.meeting_id or 0, (None, None))
        out.append(ActionInfo(
            id=r.id, ref=r.ref, text=r.text, owner=r.owner, due=r.due_date, status=r.status,
            closed_on=r.closed_on, meeting_id=r.meeting_id, meeting_ref=mref,
            meeting_date=mdate,
            nominal_ref=nominal_ref(r.nominal_id) if r.nominal_id is not None else None,
            overdue=is_overdue(r.due_date, r.status, today), created_at=r.created_at,
            last_update=last.get(r.id, "")))
    return out


def _detail(s: Session, meeting: Meeting, lists: MeetingLists, today: date,
            carried_now: int = 0) -> MeetingDetail:
    row = _rows(s, [meeting], lists)[0]
    attendees = tuple(AttendeeInfo(a.name, a.agency, a.role) for a in s.scalars(
        select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id)
        .order_by(MeetingAttendee.position, MeetingAttendee.id)))
    items = list(s.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
                           .order_by(AgendaItem.position, AgendaItem.id)))
    nominal_ids = sorted({i.nominal_id for i in items if i.nominal_id is not None})
    names: dict[int, str] = {}
    for start in range(0, len(nominal_ids), 500):
        for nid, surname, forenames in s.execute(
                select(Nominal.id, Nominal.surname, Nominal.forenames)
                .where(Nominal.id.in_(nominal_ids[start:start + 500]))):
            names[nid] = f"{surname.upper()}, {forenames}".rstrip(", ")
    action_refs: dict[int, str] = {}
    source_ids = sorted({i.action_id for i in items if i.action_id is not None})
    for start in range(0, len(source_ids), 500):
        for aid, ref in s.execute(select(Action.id, Action.ref)
                                  .where(Action.id.in_(source_ids[start:start + 500]))):
            action_refs[aid] = ref
    origins: dict[int, tuple[str, date]] = {}
    origin_ids = sorted({i.carried_from_meeting_id for i in items
                         if i.carried_from_meeting_id is not None})
    if origin_ids:
        for mid, ref, d in s.execute(select(Meeting.id, Meeting.ref, Meeting.meeting_date)
                                     .where(Meeting.id.in_(origin_ids))):
            origins[mid] = (ref, d)
    agenda = tuple(
        AgendaItemInfo(
            id=i.id, position=i.position, kind=i.kind, title=i.title,
            nominal_ref=nominal_ref(i.nominal_id) if i.nominal_id is not None else None,
            nominal_name=names.get(i.nominal_id or 0), reason=i.reason,
            action_ref=action_refs.get(i.action_id or 0),
            carried_from_ref=origins.get(i.carried_from_meeting_id or 0, (None, None))[0],
            carried_from_date=origins.get(i.carried_from_meeting_id or 0, (None, None))[1],
            minutes=i.minutes, decisions=i.decisions)
        for i in items)
    actions = _action_infos(s, list(s.scalars(
        select(Action).where(Action.meeting_id == meeting.id).order_by(Action.id))), today)
    return MeetingDetail(row, attendees, agenda, tuple(actions), meeting.notes, carried_now)


def _add_nominal_items(s: Session, meeting_id: int, picks: Sequence[NominalPick],
                       field_name: str) -> list[str]:
    ids = _nominal_ids(s, [p.ref for p in picks], field_name)
    existing = set(s.scalars(select(AgendaItem.nominal_id).where(
        AgendaItem.meeting_id == meeting_id, AgendaItem.kind == "nominal")))
    position = len(existing)
    added: list[str] = []
    names = {nid: (sn, fn) for nid, sn, fn in s.execute(
        select(Nominal.id, Nominal.surname, Nominal.forenames).where(Nominal.id.in_(ids)))}
    for i, (pick, nid) in enumerate(zip(picks, ids, strict=True)):
        if nid in existing:
            continue
        surname, forenames = names[nid]
        s.add(AgendaItem(
            meeting_id=meeting_id, position=_BAND["nominal"] + position, kind="nominal",
            title=f"{nominal_ref(nid)} {surname.upper()}, {forenames}".rstrip(", "),
            nominal_id=nid,
            reason=clean_text(pick.reason, f"{field_name}[{i}].reason", 500)))
        existing.add(nid)
        position += 1
        added.append(nominal_ref(nid))
    return added


# --- calendar sources -----------------------------------------------------------------------


def meeting_items(session: Session, start: date, end: date, filters: Any) -> Iterator[DueItem]:
    """Meetings dated in the range (kind ``meeting``); not cancelled ones."""
    if filters is not None and not filters.wants("meeting"):
        return
    if filters is not None and (getattr(filters, "manager", None) or
                                getattr(filters, "force", None)):
        return  # meetings are not about one manager's or force's nominals
    lists = meeting_lists(session)
    for d, ref, kind, starts in session.execute(
        select(Meeting.meeting_date, Meeting.ref, Meeting.meeting_type, Meeting.starts_at)
        .where(Meeting.meeting_date >= start, Meeting.meeting_date <= end,
               Meeting.status != MeetingStatus.CANCELLED.value)
        .order_by(Meeting.meeting_date, Meeting.id)):
        yield DueItem(d, "meeting", ref, f"{lists.label(kind)} at {starts:%H:%M}")


meeting_items.calendar_kinds = frozenset({"meeting"})  # type: ignore[attr-defined]


def action_items(session: Session, start: date, end: date, filters: Any) -> Iterator[DueItem]:
    """Open actions due in the range (kind ``action_due``); a past one is overdue."""
    if filters is not None and not filters.wants("action_due"):
        return
    stmt = (select(Action.due_date, Action.ref, Action.owner, Action.text)
            .where(Action.status == ActionStatus.OPEN.value, Action.due_date >= start,
                   Action.due_date <= end)
            .order_by(Action.due_date, Action.id))
    manager = getattr(filters, "manager", None) if filters is not None else None
    force = getattr(filters, "force", None) if filters is not None else None
    if manager or force:
        stmt = stmt.join(Nominal, Nominal.id == Action.nominal_id)
        if manager:
            stmt = stmt.where(Nominal.nominal_manager == manager)
        if force:
            stmt = stmt.where(Nominal.force == force)
    for due, ref, owner, text in session.execute(stmt):
        short = " ".join(text.split())
        short = short if len(short) <= 60 else short[:59] + "…"
        yield DueItem(due, "action_due", ref, f"Action due ({owner}): {short}")


action_items.calendar_kinds = frozenset({"action_due"})  # type: ignore[attr-defined]


# --- the service ---------------------------------------------------------------------------------


class MeetingService(Service):
    """Meetings, agendas, minutes and the action log."""

    def __init__(self, vault: Vault, today: Any = date.today) -> None:
        super().__init__(vault)
        self._today = today

    def _now_date(self, today: date | None) -> date:
        return today if today is not None else self._today()

    # -- reference ------------------------------------------------------------------------
    @requires(Perm.MEETING_READ)
    def lists(self) -> MeetingLists:
        """Meeting types (with standing items), correspondence types and partner agencies."""
        with self.vault.read() as s:
            return meeting_lists(s)

    # -- meetings -------------------------------------------------------------------------
    @requires(Perm.MEETING_WRITE)
    def add(self, m: MeetingInput, today: date | None = None, reason: str = "") -> MeetingDetail:
        """Create a meeting with its attendees, agenda and any actions; overdue actions of
        earlier meetings of the same type are carried onto its agenda."""
        return self.add_many([m], today, reason)[0]

    @requires(Perm.MEETING_WRITE)
    def add_many(self, items: Sequence[MeetingInput], today: date | None = None,
                 reason: str = "") -> list[MeetingDetail]:
        """Several meetings in one transaction (all or none), in date order for carrying."""
        today = self._now_date(today)
        details: list[MeetingDetail] = []
        with self.vault.write() as s:
            lists = meeting_lists(s, self.vault)
            order = sorted(range(len(items)), key=lambda k: items[k].starts_at)
            made: dict[int, Meeting] = {}
            carried: dict[int, int] = {}
            for k in order:
                where = f"[{k}]." if len(items) > 1 else ""
                meeting, count = self._insert(s, items[k], lists, today, where, reason)
                made[k], carried[k] = meeting, count
            for k in range(len(items)):
                details.append(_detail(s, made[k], lists, today, carried[k]))
        return details

    def _insert(self, s: Session, m: MeetingInput, lists: MeetingLists, today: date,
                where: str, reason: str) -> tuple[Meeting, int]:
        kind = lists.meeting_type(m.meeting_type, f"{where}type")
        if not isinstance(m.starts_at, datetime):
            raise ValidationError(f"{where}date", "must be a date and time")
        chair = clean_text(m.chair, f"{where}chair", 200, required=True)
        user = self.vault.actor.user
        meeting = Meeting(
            ref="", meeting_type=kind.code, starts_at=m.starts_at.replace(second=0,
                                                                          microsecond=0),
            meeting_date=m.starts_at.date(), chair=chair,
            location=clean_text(m.location, f"{where}location", 300),
            status=MeetingStatus.PLANNED.value,
            notes=clean_text(m.notes, f"{where}notes", 10_000, multiline=True),
            created_by=user, updated_by=user)
        s.add(meeting)
        s.flush()
        meeting.ref = format_ref(MEETING_REF_PREFIX, meeting.id)
        for i, a in enumerate(m.attendees):
            s.add(MeetingAttendee(
                meeting_id=meeting.id, position=i,
                name=clean_text(a.name, f"{where}attendees[{i}].name", 200, required=True),
                agency=clean_text(a.agency, f"{where}attendees[{i}].agency", 200),
                role=clean_text(a.role, f"{where}attendees[{i}].role", 200)))
        standing = kind.standing_items if m.standing_items is None else m.standing_items
        for i, title in enumerate(standing):
            s.add(AgendaItem(meeting_id=meeting.id, position=_BAND["standing"] + i,
                             kind="standing",
                             title=clean_text(title, f"{where}standing_items[{i}]", 500,
                                              required=True)))
        refs = _add_nominal_items(s, meeting.id, m.nominals, f"{where}nominals")
        action_refs: list[str] = []
        for i, act in enumerate(m.actions):
            at = f"{where}actions[{i}]."
            checked = _check_action(act, at)
            nid = None
            if checked.nominal_ref:
                nid = nominal_repo.id_for_ref(s, checked.nominal_ref)
                if nid is None:
                    raise ValidationError(f"{at}nominal", "is not a known nominal")
            action_refs.append(_insert_action(s, self.vault, checked, meeting.id, nid).ref)
        s.flush()
        count = _carry_into(s, meeting, today)
        self.vault.audit(
            s, Category.COLLECTION, "meeting.add", entity=ENTITY, ref=meeting.ref,
            reason=reason,
            detail={"type": kind.code, "nominals": refs, "actions": action_refs,
                    "carried": count})
        return meeting, count

    @requires(Perm.MEETING_READ)
    def meetings(self, *, meeting_type: str | None = None, date_from: date | None = None,
             date_to: date | None = None, status: str | None = None,
             limit: int = 500, newest_first: bool = True) -> list[MeetingRow]:
        """Meetings, newest first by default, narrowed by type, dates and status."""
        if limit < 1:
            raise ValidationError("limit", "must be at least 1")
        stmt = select(Meeting)
        if meeting_type:
            stmt = stmt.where(Meeting.meeting_type == meeting_type)
        if date_from:
            stmt = stmt.where(Meeting.meeting_date >= date_from)
        if date_to:
            stmt = stmt.where(Meeting.meeting_date <= date_to)
        if status:
            stmt = stmt.where(Meeting.status == status)
        order = (Meeting.starts_at.desc(), Meeting.id.desc()) if newest_first else (
            Meeting.starts_at, Meeting.id)
        with self.vault.read() as s:
            meetings = list(s.scalars(stmt.order_by(*order).limit(limit)))
            return _rows(s, meetings, meeting_lists(s))

    @requires(Perm.MEETING_READ)
    def show(self, key: int | str, today: date | None = None,
             purpose: str = "view") -> MeetingDetail:
        """Open a meeting (audited as consultation: its agenda names nominals). Opened by
        someone who may edit it, overdue actions of earlier meetings are carried first."""
        today = self._now_date(today)
        with self.vault.write() as s:
            mid = _meeting_id(s, key)
            meeting = s.get(Meeting, mid)
            assert meeting is not None
            carried = 0
            if allowed(self.vault.actor.role, Perm.MEETING_WRITE):
                carried = _carry_into(s, meeting, today)
                if carried:
                    s.flush()
                    self.vault.audit(s, Category.ALTERATION, "meeting.carry", entity=ENTITY,
                                     ref=meeting.ref, detail={"carried": carried})
            detail = _detail(s, meeting, meeting_lists(s), today, carried)
            self.vault.audit(s, Category.CONSULTATION, "meeting.view", entity=ENTITY,
                             ref=meeting.ref, reason=purpose,
                             detail={"nominals": [i.nominal_ref for i in detail.agenda
                                                  if i.nominal_ref][:1000]})
        return detail

    @requires(Perm.MEETING_WRITE)
    def update(self, key: int | str, *, chair: str | None = None, location: str | None = None,
               starts_at: datetime | None = None, status: str | None = None,
               notes: str | None = None, attendees: Sequence[AttendeeInput] | None = None,
               reason: str = "") -> MeetingDetail:
        """Change a meeting's facts (each change kept as a revision)."""
        with self.vault.write() as s:
            meeting = s.get(Meeting, _meeting_id(s, key))
            assert meeting is not None
            changes: dict[str, tuple[Any, Any]] = {}

            def put(name: str, value: Any) -> None:
                old = getattr(meeting, name)
                if old != value:
                    changes[name] = (old, value)
                    setattr(meeting, name, value)

            if chair is not None:
                put("chair", clean_text(chair, "chair", 200, required=True))
            if location is not None:
                put("location", clean_text(location, "location", 300))
            if notes is not None:
                put("notes", clean_text(notes, "notes", 10_000, multiline=True))
            if starts_at is not None:
                put("starts_at", starts_at.replace(second=0, microsecond=0))
                put("meeting_date", starts_at.date())
            if status is not None:
                try:
                    put("status", MeetingStatus(status).value)
                except ValueError:
                    raise ValidationError("status", "must be planned, held or cancelled") from None
            if attendees is not None:
                old = [a.name for a in s.scalars(select(MeetingAttendee).where(
                    MeetingAttendee.meeting_id == meeting.id))]
                for row in s.scalars(select(MeetingAttendee).where(
                        MeetingAttendee.meeting_id == meeting.id)):
                    s.delete(row)
                for i, a in enumerate(attendees):
                    s.add(MeetingAttendee(
                        meeting_id=meeting.id, position=i,
                        name=clean_text(a.name, f"attendees[{i}].name", 200, required=True),
                        agency=clean_text(a.agency, f"attendees[{i}].agency", 200),
                        role=clean_text(a.role, f"attendees[{i}].role", 200)))
                changes["attendees"] = (old, [a.name for a in attendees])
            if changes:
                meeting.updated_at = utcnow()
                meeting.updated_by = self.vault.actor.user
                self.vault.revision(s, ENTITY, meeting.id, "update", changes, reason)
                self.vault.audit(s, Category.ALTERATION, "meeting.update", entity=ENTITY,
                                 ref=meeting.ref, reason=reason,
                                 detail={"fields": sorted(changes)})
            return _detail(s, meeting, meeting_lists(s), self._today())

    @requires(Perm.MEETING_WRITE)
    def add_nominals(self, key: int | str, picks: Sequence[NominalPick],
                     reason: str = "") -> list[str]:
        """Put nominals on the agenda for discussion (one already there is skipped)."""
        with self.vault.write() as s:
            meeting = s.get(Meeting, _meeting_id(s, key))
            assert meeting is not None
            added = _add_nominal_items(s, meeting.id, picks, "nominals")
            if added:
                self.vault.audit(s, Category.ALTERATION, "meeting.agenda", entity=ENTITY,
                                 ref=meeting.ref, reason=reason, detail={"added": added})
            return added

    @requires(Perm.MEETING_WRITE)
    def add_item(self, key: int | str, title: str) -> int:
        """Add an item of other business to the end of the agenda; returns its id."""
        with self.vault.write() as s:
            meeting = s.get(Meeting, _meeting_id(s, key))
            assert meeting is not None
            count = int(s.scalar(select(func.count()).select_from(AgendaItem).where(
                AgendaItem.meeting_id == meeting.id, AgendaItem.kind == "other")) or 0)
            item = AgendaItem(meeting_id=meeting.id, position=_BAND["other"] + count,
                              kind="other", title=clean_text(title, "title", 500, required=True))
            s.add(item)
            s.flush()
            self.vault.audit(s, Category.ALTERATION, "meeting.agenda", entity=ENTITY,
                             ref=meeting.ref, detail={"item": item.id})
            return item.id

    @requires(Perm.MEETING_WRITE)
    def remove_item(self, item_id: int, reason: str = "") -> None:
        """Take an item off the agenda (its minutes go with it; the revision keeps them)."""
        with self.vault.write() as s:
            item = s.get(AgendaItem, item_id)
            if item is None:
                raise NotFound("There is no agenda item with that id.")
            meeting = s.get(Meeting, item.meeting_id)
            assert meeting is not None
            self.vault.revision(s, "agenda_item", item.id, "delete",
                                {"title": (item.title, None), "minutes": (item.minutes, None),
                                 "decisions": (item.decisions, None)}, reason)
            s.delete(item)
            self.vault.audit(s, Category.ALTERATION, "meeting.agenda", entity=ENTITY,
                             ref=meeting.ref, reason=reason, detail={"removed": item_id})

    @requires(Perm.MEETING_WRITE)
    def record_minutes(self, item_id: int, minutes: str, decisions: str = "") -> None:
        """The minutes and decisions of one agenda item (the old text kept as a revision)."""
        minutes = clean_text(minutes, "minutes", 50_000, multiline=True)
        decisions = clean_text(decisions, "decisions", 20_000, multiline=True)
        with self.vault.write() as s:
            item = s.get(AgendaItem, item_id)
            if item is None:
                raise NotFound("There is no agenda item with that id.")
            meeting = s.get(Meeting, item.meeting_id)
            assert meeting is not None
            changes: dict[str, tuple[Any, Any]] = {}
            if item.minutes != minutes:
                changes["minutes"] = (item.minutes, minutes)
            if item.decisions != decisions:
                changes["decisions"] = (item.decisions, decisions)
            if not changes:
                return
            item.minutes, item.decisions = minutes, decisions
            self.vault.revision(s, "agenda_item", item.id, "update", changes)
            self.vault.audit(s, Category.ALTERATION, "meeting.minutes", entity=ENTITY,
                             ref=meeting.ref, detail={"item": item.id,
                                                      "fields": sorted(changes)})

    @requires(Perm.MEETING_READ)
    def suggest_nominals(self, key: int | str, today: date | None = None,
                         limit: int = 50) -> list[Suggestion]:
        """Nominals worth discussing at this meeting, each with its reasons: contacts
        overdue, orders or notification requirements ending before the meeting plus
        SUGGEST_LOOKAHEAD_DAYS, nominals new since the last meeting of the type (or in the
        last SUGGEST_NEW_DAYS), and data-quality faults. Those already on the agenda are left
        out; most reasons first."""
        from app.services.quality import RULES, RuleContext

        today = self._now_date(today)
        if limit < 1:
            raise ValidationError("limit", "must be at least 1")
        with self.vault.read() as s:
            meeting = s.get(Meeting, _meeting_id(s, key))
            assert meeting is not None
            horizon = max(meeting.meeting_date, today) + timedelta(days=SUGGEST_LOOKAHEAD_DAYS)
            reasons: dict[int, list[str]] = defaultdict(list)
            live = and_(Nominal.merged_into_id.is_(None), Nominal.erased.is_(False))
            for nid, due in s.execute(
                select(ContactPlan.nominal_id, ContactPlan.next_due)
                .join(Nominal, Nominal.id == ContactPlan.nominal_id)
                .where(ContactPlan.next_due < today, live)
                .order_by(ContactPlan.next_due).limit(SUGGEST_PER_REASON)):
                if due is not None:
                    reasons[nid].append(f"Contact overdue since {_uk(due)}")
            order_labels = {"tpim": "TPIM notice", "teo": "TEO", "scpo": "SCPO",
                            "ftro": "FTRO", "part4": "Part 4 notification order"}
            for nid, kind, end in s.execute(
                select(CivilOrder.nominal_id, CivilOrder.order_type, CivilOrder.end_date)
                .join(Nominal, Nominal.id == CivilOrder.nominal_id)
                .where(CivilOrder.status == "active", CivilOrder.end_date >= today,
                       CivilOrder.end_date <= horizon, live)
                .order_by(CivilOrder.end_date).limit(SUGGEST_PER_REASON)):
                reasons[nid].append(f"{order_labels.get(kind, kind.upper())} ends {_uk(end)}")
            for nid, end in s.execute(
                select(NotificationRequirement.nominal_id, NotificationRequirement.end_date)
                .join(Nominal, Nominal.id == NotificationRequirement.nominal_id)
                .where(NotificationRequirement.status == "active",
                       NotificationRequirement.end_date >= today,
                       NotificationRequirement.end_date <= horizon, live)
                .limit(SUGGEST_PER_REASON)):
                reasons[nid].append(f"Notification requirements end {_uk(end)}")
            previous = s.scalar(
                select(func.max(Meeting.meeting_date)).where(
                    Meeting.meeting_type == meeting.meeting_type,
                    Meeting.meeting_date < meeting.meeting_date,
                    Meeting.status != MeetingStatus.CANCELLED.value))
            since = previous or (min(meeting.meeting_date, today)
                                 - timedelta(days=SUGGEST_NEW_DAYS))
            for nid, created in s.execute(
                select(Nominal.id, Nominal.created_at)
                .where(live, Nominal.created_at >= datetime.combine(since, datetime.min.time()))
                .order_by(Nominal.created_at.desc()).limit(SUGGEST_PER_REASON)):
                reasons[nid].append(f"New to the list (added {_uk(created.date())})")
            ctx = RuleContext(today)
            for rule in RULES:
                if rule.sql is not None:
                    ids = [int(i) for (i,) in s.execute(
                        select(Nominal.id).where(live, rule.sql(ctx))
                        .order_by(Nominal.id).limit(SUGGEST_PER_REASON))]
                else:
                    assert rule.python is not None
                    ids = sorted(rule.python(s, ctx, None))[:SUGGEST_PER_REASON]
                for nid in ids:
                    reasons[nid].append(f"Data quality: {rule.title}")
            on_agenda = set(s.scalars(select(AgendaItem.nominal_id).where(
                AgendaItem.meeting_id == meeting.id, AgendaItem.nominal_id.is_not(None))))
            ranked = sorted((nid for nid in reasons if nid not in on_agenda),
                            key=lambda n: (-len(reasons[n]), n))
            chosen = ranked[: limit * 2]
            rows = {nid: (sn, fn, merged, erased) for nid, sn, fn, merged, erased in s.execute(
                select(Nominal.id, Nominal.surname, Nominal.forenames, Nominal.merged_into_id,
                       Nominal.erased).where(Nominal.id.in_(chosen)))}
            out: list[Suggestion] = []
            for nid in chosen:
                found = rows.get(nid)
                if found is None or found[2] is not None or found[3]:
                    continue
                out.append(Suggestion(nominal_ref(nid), f"{found[0].upper()}, {found[1]}"
                                      .rstrip(", "), tuple(dict.fromkeys(reasons[nid]))))
                if len(out) >= limit:
                    break
            return out

    # -- actions ---------------------------------------------------------------------------
    @requires(Perm.MEETING_WRITE)
    def add_action(self, a: ActionInput) -> ActionInfo:
        """Raise an action (at a meeting when ``meeting_id`` is set, about a nominal when
        ``nominal_ref`` is)."""
        checked = _check_action(a, "")
        with self.vault.write() as s:
            mid = _meeting_id(s, a.meeting_id) if a.meeting_id is not None else None
            nid = None
            if checked.nominal_ref:
                nid = nominal_repo.id_for_ref(s, checked.nominal_ref)
                if nid is None:
                    raise ValidationError("nominal", "is not a known nominal")
            row = _insert_action(s, self.vault, checked, mid, nid)
            self.vault.audit(s, Category.COLLECTION, "action.add", entity="action",
                             ref=row.ref, detail={
                                 "meeting": format_ref(MEETING_REF_PREFIX, mid) if mid else None,
                                 "nominal": nominal_ref(nid) if nid else None})
            return _action_infos(s, [row], self._today())[0]

    @requires(Perm.MEETING_WRITE)
    def update_action(self, key: int | str, note: str, *, status: str | None = None,
                      due: date | None = None, owner: str | None = None,
                      today: date | None = None) -> ActionInfo:
        """Add an update note (who, when, what), optionally changing status, due date or
        owner. Closing it as done records the day it was closed."""
        today = self._now_date(today)
        note = clean_text(note, "note", 5000, multiline=True)
        new_status = None
        if status is not None:
            try:
                new_status = ActionStatus(status).value
            except ValueError:
                raise ValidationError("status", "must be open, done or cancelled") from None
        with self.vault.write() as s:
            row = _action_row(s, key)
            changes: dict[str, tuple[Any, Any]] = {}
            old_status = row.status
            if new_status is not None and new_status != row.status:
                changes["status"] = (row.status, new_status)
                row.status = new_status
                closed = today if new_status != ActionStatus.OPEN.value else None
                changes["closed_on"] = (row.closed_on, closed)
                row.closed_on = closed
            if due is not None and due != row.due_date:
                changes["due_date"] = (row.due_date, due)
                row.due_date = due
            if owner is not None:
                owner = clean_text(owner, "owner", 200, required=True)
                if owner != row.owner:
                    changes["owner"] = (row.owner, owner)
                    row.owner = owner
            if not note and not changes:
                raise ValidationError("note", "write an update or change something")
            extra = []
            if "due_date" in changes:
                extra.append(f"due date moved to {_uk(row.due_date)}")
            if "owner" in changes:
                extra.append(f"owner now {row.owner}")
            joined = "; ".join(extra)
            text = note or joined[:1].upper() + joined[1:]
            if note and extra:
                text = f"{note} ({'; '.join(extra)})"
            s.add(ActionUpdate(action_id=row.id, at=utcnow(), user=self.vault.actor.user,
                               text=text, old_status=old_status if "status" in changes else None,
                               new_status=row.status if "status" in changes else None))
            row.updated_at = utcnow()
            row.updated_by = self.vault.actor.user
            if changes:
                self.vault.revision(s, "action", row.id, "update", changes)
            self.vault.audit(s, Category.ALTERATION, "action.update", entity="action",
                             ref=row.ref, detail={"fields": sorted(changes), "note": bool(note)})
            s.flush()
            return _action_infos(s, [row], today)[0]

    @requires(Perm.MEETING_READ)
    def action_history(self, key: int | str) -> list[ActionUpdateInfo]:
        """Every update of one action, oldest first."""
        with self.vault.read() as s:
            row = _action_row(s, key)
            return [ActionUpdateInfo(u.at, u.user, u.text, u.old_status, u.new_status)
                    for u in s.scalars(select(ActionUpdate).where(
                        ActionUpdate.action_id == row.id).order_by(ActionUpdate.at,
                                                                   ActionUpdate.id))]

    @requires(Perm.MEETING_READ)
    def actions(self, flt: ActionFilter = ActionFilter(), today: date | None = None,
                limit: int = 5000) -> list[ActionInfo]:
        """The action log, filtered (owner, status, meeting, nominal, overdue, due range);
        overdue first, then by due date."""
        today = self._now_date(today)
        if limit < 1:
            raise ValidationError("limit", "must be at least 1")
        stmt = select(Action)
        if flt.owner:
            stmt = stmt.where(func.lower(Action.owner) == flt.owner.strip().lower())
        if flt.status:
            try:
                stmt = stmt.where(Action.status == ActionStatus(flt.status).value)
            except ValueError:
                raise ValidationError("status", "must be open, done or cancelled") from None
        if flt.overdue:
            stmt = stmt.where(Action.status == ActionStatus.OPEN.value, Action.due_date < today)
        if flt.due_from:
            stmt = stmt.where(Action.due_date >= flt.due_from)
        if flt.due_to:
            stmt = stmt.where(Action.due_date <= flt.due_to)
        with self.vault.read() as s:
            if flt.meeting is not None:
                mid = _meeting_id(s, flt.meeting)
                carried = select(AgendaItem.action_id).where(
                    AgendaItem.meeting_id == mid, AgendaItem.action_id.is_not(None))
                stmt = stmt.where(or_(Action.meeting_id == mid, Action.id.in_(carried)))
            if flt.nominal:
                nid = nominal_repo.id_for_ref(s, flt.nominal)
                if nid is None:
                    raise ValidationError("nominal", "is not a known nominal")
                stmt = stmt.where(Action.nominal_id == nid)
            rows = list(s.scalars(stmt.order_by(Action.due_date, Action.id).limit(limit)))
            infos = _action_infos(s, rows, today)
        infos.sort(key=lambda a: (not a.overdue, a.status != "open", a.due, a.id))
        return infos

    @requires(Perm.MEETING_READ)
    def owners(self) -> list[str]:
        """Everyone who owns an action (for the filter)."""
        with self.vault.read() as s:
            return [o for (o,) in s.execute(select(Action.owner).distinct()
                                            .order_by(Action.owner))]

    @requires(Perm.EXPORT)
    def export_actions(self, out: Any, start: date | None, end: date | None, *,
                       recipient: str, justification: str, today: date | None = None,
                       progress: Any = None) -> Any:
        """The chair's report / action log (xlsx): every action due from ``start`` to
        ``end`` (by default every open action and those due in the last twelve months), and a
        summary per owner; written atomically (+ .sha256) and audited as a disclosure."""
        from app.io.marking import DocumentInfo
        from app.io.safe_write import atomic_export
        from app.io.xlsx import Column, SheetSpec, write_return

        recipient = clean_text(recipient, "recipient", 500, required=True)
        justification = clean_text(justification, "justification", 2000, required=True,
                                   multiline=True)
        today = self._now_date(today)
        if start is not None and end is not None and end < start:
            raise ValidationError("to", "must not be before the start date")
        if start is None and end is None:
            since = today - timedelta(days=365)
            rows = [a for a in self.actions(ActionFilter(), today, limit=1_000_000)
                    if a.status == ActionStatus.OPEN.value or a.due >= since]
            period = f"Open actions and those due since {since:%d/%m/%Y}"
        else:
            rows = self.actions(ActionFilter(due_from=start, due_to=end), today,
                                limit=1_000_000)
            period = (f"Due {start:%d/%m/%Y} to " if start else "Due up to ") + (
                f"{end:%d/%m/%Y}" if end else "any date")
        rows.sort(key=lambda a: (a.meeting_date or date.min, a.ref))
        info = DocumentInfo(title="Chair's report: action log", author=self.vault.actor.user,
                            generated_at=datetime.now(), period=period)

        def late_days(a: ActionInfo) -> int | None:
            if a.status == ActionStatus.DONE.value and a.closed_on is not None:
                return max((a.closed_on - a.due).days, 0)
            if a.overdue:
                return (today - a.due).days
            return None

        log = SheetSpec(
            name="Action log",
            columns=[Column("Ref", "text", 12), Column("Meeting", "text", 12),
                     Column("Meeting date", "date", 12), Column("Action", "text", 60),
                     Column("Owner", "text", 24), Column("Due", "date", 12),
                     Column("Status", "text", 10), Column("Overdue", "text", 9),
                     Column("Closed on", "date", 12), Column("Days late", "int", 9),
                     Column("Nominal", "text", 12), Column("Last update", "text", 50)],
            rows=[(a.ref, a.meeting_ref, a.meeting_date, a.text, a.owner, a.due, a.status,
                   "Yes" if a.overdue else "No", a.closed_on, late_days(a), a.nominal_ref,
                   a.last_update) for a in rows],
            expected_rows=len(rows))
        owners: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for a in rows:
            t = owners[a.owner]
            if a.status == ActionStatus.OPEN.value:
                t[0] += 1
                t[1] += int(a.overdue)
            elif a.status == ActionStatus.DONE.value:
                on_time = a.closed_on is not None and a.closed_on <= a.due
                t[2 if on_time else 3] += 1
            else:
                t[4] += 1

        def pct(t: list[int]) -> float | None:
            counted = t[1] + t[2] + t[3]
            return None if counted == 0 else round(100.0 * t[2] / counted, 1)

        summary = SheetSpec(
            name="Chair's report",
            columns=[Column("Owner", "text", 28), Column("Open", "int", 8),
                     Column("Open and overdue", "int", 10), Column("Done on time", "int", 10),
                     Column("Done late", "int", 10), Column("Cancelled", "int", 10),
                     Column("Closed by due date (%)", "float", 12)],
            rows=[(o, *t, pct(t)) for o, t in sorted(owners.items(),
                                                      key=lambda kv: (-kv[1][1], kv[0]))],
            expected_rows=len(owners))

        def write(stream: Any, sink: Any) -> None:
            write_return(stream, info, [summary, log], sink)

        result = atomic_export(out, write, progress=progress)
        with self.vault.write() as s:
            self.vault.audit(
                s, Category.DISCLOSURE, "export.actions", entity="return", ref="actions",
                reason=justification, recipient=recipient,
                detail={"file": result.path.name, "sha256": result.sha256, "rows": len(rows),
                        "period_start": start, "period_end": end,
                        "nominals": sorted({a.nominal_ref for a in rows if a.nominal_ref})[:5000]})
        return result

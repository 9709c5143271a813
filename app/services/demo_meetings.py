"""Synthetic meetings for the demo vault: three years of Nominal Management meetings with
agendas, minutes and actions (most closed, some late, some still open and overdue), the ISA
register and partner correspondence (all invented).

Meetings are replayed in date order through the real carry-forward rule, so the overdue
actions a demo user sees on the next agenda got there the way they would in use."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.domain.meetings import (
    ACTION_REF_PREFIX,
    CORRESPONDENCE_REF_PREFIX,
    ISA_REF_PREFIX,
    MEETING_REF_PREFIX,
    format_ref,
)
from app.domain.rules import add_months
from app.security.audit import Category
from app.services.meetings import _BAND, _carry_into, meeting_lists
from app.store.models import (
    Action,
    ActionUpdate,
    AgendaItem,
    Correspondence,
    CorrespondenceNominal,
    InformationSharingAgreement,
    Meeting,
    MeetingAttendee,
    Nominal,
)

if TYPE_CHECKING:
    from app.services.demo import DemoContext

CHAIRS = ["DI Marguerite Ellingham", "DCI Anselm Courtauld", "DI Petra Vandeleur"]
COORDINATOR = ("Rosalind Quennell", "CTP North East", "Nominal Management Coordinator")
ATTENDEES = [
    ("Gideon Thwaite", "HMPPS Probation Service", "Senior Probation Officer"),
    ("Orla Fennimore", "HM Prison Service", "Prison CT lead"),
    ("Sabine Okorafor", "Local authority", "Prevent coordinator"),
    ("Dr Ewan Castellane", "Health", "Forensic psychologist"),
    ("Farida Mbatha-Lowe", "Home Office Immigration Enforcement", "Liaison officer"),
    ("DS Hollis Varga", "Counter Terrorism Policing", "Nominal manager"),
    ("DC Imogen Thursby", "Counter Terrorism Policing", "Nominal manager"),
    ("DS Nell Farrowdale", "Counter Terrorism Policing", "Nominal manager"),
]
OWNERS = ["DS Hollis Varga", "DC Imogen Thursby", "DS Nell Farrowdale", "Gideon Thwaite",
          "Orla Fennimore", "Sabine Okorafor", "Rosalind Quennell"]
REASONS = ["Contact overdue", "Release in the next two months", "Civil order review due",
           "New to the list", "Change of address reported", "Licence breach reported",
           "Data-quality fault to resolve", "Notification requirements ending",
           "Risk level review"]
ACTION_TEXTS = [
    "Arrange a joint home visit with probation and report back.",
    "Confirm the release address with the prison offender manager.",
    "Update the risk assessment after the licence recall.",
    "Request the latest MAPPA minutes from probation.",
    "Review the contact frequency with the nominal manager.",
    "Check the notification record against the national list.",
    "Refer to the Desistance and Disengagement Programme.",
    "Correct the PNC ID on the regional record.",
    "Brief the local neighbourhood team on licence conditions.",
    "Obtain the sentence calculation from the establishment.",
]
MINUTES = [
    "Update given by the nominal manager; no new concerns raised.",
    "Probation confirmed compliance with licence conditions to date.",
    "Discussion of the release plan; accommodation still to be confirmed.",
    "Agreed that the risk level remains unchanged pending the next review.",
    "Partners to share any change of circumstances before the next meeting.",
]
DECISIONS = ["Risk level unchanged.", "Contact frequency to be increased.",
             "Refer to the case conference.", "No further action at this stage.", ""]
ISAS = [
    ("Regional CT nominal management information-sharing agreement",
     ["Counter Terrorism Policing", "HMPPS Probation Service", "HM Prison Service"],
     "Sharing of information needed to manage terrorist and terrorism-connected offenders in "
     "custody and in the community, including MAPPA category 4 cases.",
     "DPA 2018 Part 3 (s.35, s.36); Criminal Justice Act 2003 s.325 (MAPPA duty to "
     "co-operate)."),
    ("Prevent partnership ISA (local authorities)",
     ["Counter Terrorism Policing", "Local authority", "Education"],
     "Sharing of Prevent referral information for gateway assessment and Channel panels.",
     "Counter-Terrorism and Security Act 2015 s.26 and s.38; DPA 2018 Part 3."),
    ("Health and CT policing protocol",
     ["Counter Terrorism Policing", "Health"],
     "Sharing of health information where necessary to manage a risk of serious harm.",
     "DPA 2018 Part 3 s.35; common-law duty of confidence (public interest)."),
    ("Immigration enforcement liaison agreement",
     ["Counter Terrorism Policing", "Home Office Immigration Enforcement"],
     "Sharing of immigration status and travel information for nominals subject to orders.",
     "DPA 2018 Part 3; Immigration and Asylum Act 1999 s.20."),
    ("Former regional offender liaison protocol (superseded)",
     ["Counter Terrorism Policing", "HMPPS Probation Service"],
     "Exchange of case updates on released TACT offenders; replaced by the regional ISA.",
     "DPA 2018 Part 3 s.35."),
]
SUBJECTS = {
    "mac_enquiry": ["MAC enquiry: address history", "MAC enquiry: associates check"],
    "pathfinder_community": ["Community Pathfinder: resettlement plan",
                             "Community Pathfinder: mentoring referral"],
    "pathfinder_prison": ["Prison Pathfinder: custody behaviour update",
                          "Prison Pathfinder: pre-release planning"],
    "mappa": ["MAPPA level review", "MAPPA meeting minutes"],
    "information_request": ["Request for licence conditions", "Request for release address"],
    "disclosure": ["Disclosure of notification record", "Disclosure of risk summary"],
    "notification": ["Change of address notified", "Foreign travel notification"],
    "general": ["Case update", "Meeting arrangements"],
}
AGENCY_FOR = {
    "mac_enquiry": "Multi-agency centre (MAC)", "pathfinder_community": "HMPPS Probation Service",
    "pathfinder_prison": "HM Prison Service", "mappa": "HMPPS Probation Service",
    "information_request": "HM Prison Service", "disclosure": "HMPPS Probation Service",
    "notification": "Other police force", "general": "Local authority",
}
# (type, months between meetings, hour)
SCHEDULE = [("ttcg", 1, 10), ("consistency", 3, 14), ("mappa", 2, 11), ("channel", 2, 13),
            ("pathfinder_prison", 3, 10)]
YEARS = 3


@dataclass
class _Fate:
    action_id: int
    closed_on: date | None
    status: str


def meetings_step(ctx: DemoContext) -> int:
    """Meetings, actions, ISAs and correspondence; returns how many meetings were made."""
    s = ctx.session
    rng = random.Random(ctx.seed * 7919 + 7)
    ids: list[int] = list(ctx.made.get("nominal_ids", []))
    live = set(s.scalars(select(Nominal.id).where(Nominal.merged_into_id.is_(None))))
    ids = [i for i in ids if i in live]
    lists = meeting_lists(s, ctx.vault)
    user = ctx.vault.actor.user
    today = ctx.today
    start = date(today.year - YEARS, today.month, 1)
    dates: list[tuple[datetime, str]] = []
    for kind, every, hour in SCHEDULE:
        d = add_months(start, rng.randrange(every)) + timedelta(days=rng.randrange(3, 20))
        while d <= today + timedelta(days=40):
            while d.weekday() >= 5:
                d += timedelta(days=1)
            dates.append((datetime.combine(d, time(hour, 0)), kind))
            d = add_months(d, every)
    dates.sort()
    fates: list[_Fate] = []
    made = actions_made = 0

    def settle(upto: date) -> None:
        for fate in list(fates):
            if fate.closed_on is not None and fate.closed_on <= upto:
                row = s.get(Action, fate.action_id)
                assert row is not None
                row.status, row.closed_on = fate.status, fate.closed_on
                s.add(ActionUpdate(
                    action_id=row.id, at=datetime.combine(fate.closed_on, time(16, 0)),
                    user=user, text="Completed and reported back." if fate.status == "done"
                    else "No longer needed.", old_status="open", new_status=fate.status))
                fates.remove(fate)

    for when, kind in dates:
        day = when.date()
        settle(day)
        held = day < today
        meeting = Meeting(ref="", meeting_type=kind, starts_at=when, meeting_date=day,
                          chair=rng.choice(CHAIRS), location=rng.choice(
                              ["Regional CTU, conference room 2", "Video conference",
                               "HMPPS area office, meeting room 1"]),
                          status="planned", created_by=user, updated_by=user,
                          created_at=datetime.combine(day - timedelta(days=14), time(9)))
        s.add(meeting)
        s.flush()
        meeting.ref = format_ref(MEETING_REF_PREFIX, meeting.id)
        people = [COORDINATOR, *rng.sample(ATTENDEES, rng.randint(3, 6))]
        for i, (name, agency, role) in enumerate(people):
            s.add(MeetingAttendee(meeting_id=meeting.id, name=name, agency=agency, role=role,
                                  position=i))
        for i, title in enumerate(lists.meeting_type(kind).standing_items):
            s.add(AgendaItem(meeting_id=meeting.id, position=_BAND["standing"] + i,
                             kind="standing", title=title,
                             minutes="Noted." if held and rng.random() < 0.5 else ""))
        chosen = rng.sample(ids, min(len(ids), rng.randint(3, 8))) if ids else []
        names = {nid: (sn, fn) for nid, sn, fn in s.execute(
            select(Nominal.id, Nominal.surname, Nominal.forenames).where(Nominal.id.in_(chosen)))}
        for i, nid in enumerate(chosen):
            surname, forenames = names[nid]
            s.add(AgendaItem(
                meeting_id=meeting.id, position=_BAND["nominal"] + i, kind="nominal",
                title=f"NM-{nid:06d} {surname.upper()}, {forenames}".rstrip(", "),
                nominal_id=nid, reason=rng.choice(REASONS),
                minutes=rng.choice(MINUTES) if held else "",
                decisions=rng.choice(DECISIONS) if held else ""))
        s.flush()
        _carry_into(s, meeting, day)
        if held:
            meeting.status = "held"
            for _ in range(rng.randint(2, 5)):
                due = day + timedelta(days=rng.choice([14, 21, 28, 42]))
                about = rng.choice(chosen) if chosen and rng.random() < 0.7 else None
                action = Action(ref="", meeting_id=meeting.id, nominal_id=about,
                                text=rng.choice(ACTION_TEXTS), owner=rng.choice(OWNERS),
                                due_date=due, status="open", created_by=user,
                                updated_by=user, created_at=datetime.combine(day, time(17)))
                s.add(action)
                s.flush()
                action.ref = format_ref(ACTION_REF_PREFIX, action.id)
                s.add(ActionUpdate(action_id=action.id, at=datetime.combine(day, time(17)),
                                   user=user, text="Action raised", new_status="open"))
                roll = rng.random()
                if roll < 0.70:
                    closed = due - timedelta(days=rng.randint(0, 10))
                    fates.append(_Fate(action.id, max(closed, day), "done"))
                elif roll < 0.82:
                    fates.append(_Fate(action.id, due + timedelta(days=rng.randint(1, 30)),
                                       "done"))
                elif roll < 0.86:
                    fates.append(_Fate(action.id, due - timedelta(days=2), "cancelled"))
                elif day < today - timedelta(days=120):  # old ones were closed in the end
                    fates.append(_Fate(action.id, due + timedelta(days=rng.randint(30, 90)),
                                       "done"))
                # else: still open (overdue once its due date has passed)
                actions_made += 1
        made += 1
    settle(today)
    # Carry today's overdue actions onto the next meeting of each type still to be held.
    for meeting in s.scalars(select(Meeting).where(Meeting.status == "planned",
                                                   Meeting.meeting_date >= today)):
        _carry_into(s, meeting, today)

    isa_ids: list[int] = []
    retired = len(ISAS) - 1  # the superseded protocol: retired a year ago, kept in the register
    for i, (title, parties, purpose, basis) in enumerate(ISAS):
        began = date(today.year - 4 + i % 2, 4, 1)
        review = add_months(today, rng.randint(2, 14)) if i != 3 else today - timedelta(days=20)
        ended = today - timedelta(days=365) if i == retired else None
        row = InformationSharingAgreement(
            ref="", title=title, reference=f"ISA/{began.year}/{i + 1:03d}",
            parties=json.dumps(parties), purpose=purpose, legal_basis=basis,
            start_date=began, review_date=ended or review,
            status="ended" if ended else "active", ended_on=ended, created_by=user)
        s.add(row)
        s.flush()
        row.ref = format_ref(ISA_REF_PREFIX, row.id)
        if ended is None:
            isa_ids.append(row.id)
    correspondence = 0
    types = list(SUBJECTS)
    for k in range(60 if ids else 0):
        kind = rng.choice(types)
        sent = today - timedelta(days=rng.randint(0, 720))
        direction = "out" if rng.random() < 0.45 else "in"
        reply_by = sent + timedelta(days=rng.choice([7, 14, 28])) if rng.random() < 0.5 else None
        replied = None
        if reply_by is not None and (reply_by < today - timedelta(days=10) or rng.random() < 0.5):
            replied = min(today, sent + timedelta(days=rng.randint(2, 30)))
        if k < 3:  # a few awaiting a reply, one overdue
            sent = today - timedelta(days=5 + 10 * k)
            reply_by, replied = sent + timedelta(days=14), None
        corr = Correspondence(
            ref="", agency=AGENCY_FOR[kind], direction=direction, sent_on=sent, corr_type=kind,
            subject=rng.choice(SUBJECTS[kind]), summary="Synthetic demo correspondence.",
            isa_id=rng.choice(isa_ids) if direction == "out" or rng.random() < 0.5 else None,
            reply_by=reply_by, replied_on=replied, created_by=user)
        s.add(corr)
        s.flush()
        corr.ref = format_ref(CORRESPONDENCE_REF_PREFIX, corr.id)
        linked = rng.sample(ids, min(len(ids), rng.randint(1, 2)))
        for nid in linked:
            s.add(CorrespondenceNominal(correspondence_id=corr.id, nominal_id=nid))
        correspondence += 1
        if replied is not None and rng.random() < 0.7:
            # Most replies are logged as items of their own, linked to what they answer.
            back = "in" if direction == "out" else "out"
            reply = Correspondence(
                ref="", agency=corr.agency, direction=back, sent_on=replied, corr_type=kind,
                subject=f"Re: {corr.subject}", summary="Synthetic demo reply.",
                isa_id=corr.isa_id if corr.isa_id is not None or back == "in"
                else rng.choice(isa_ids),
                reply_to_id=corr.id, created_by=user)
            s.add(reply)
            s.flush()
            reply.ref = format_ref(CORRESPONDENCE_REF_PREFIX, reply.id)
            for nid in linked:
                s.add(CorrespondenceNominal(correspondence_id=reply.id, nominal_id=nid))
            correspondence += 1
    ctx.vault.audit(s, Category.COLLECTION, "demo.meetings", entity="meeting",
                    reason="synthetic demo data",
                    detail={"meetings": made, "actions": actions_made, "isas": len(isa_ids),
                            "correspondence": correspondence,
                            "note": "one row for the whole generated set"})
    ctx.made["meeting_count"] = made
    ctx.report("meetings", made, made)
    return made

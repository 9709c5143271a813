"""Synthetic Prevent data for the demo: institutions, referrals with realistic seasonality and
sector mix, gateway assessments with NDM decisions, VAF versions, outcomes, closures with
reviews, and graded intelligence. Every name and place is invented."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.domain.names import fold
from app.domain.prevent import age_on, parse_prevent_lists, parse_vaf_template
from app.domain.rules import WorkingCalendar, closure_reviews, parse_bank_holidays
from app.security.audit import Category
from app.services.reference import current_in
from app.services.referrals import referral_ref, subject_keys
from app.services.vault import Vault
from app.store.models import (
    GatewayAssessment,
    Institution,
    IntelEntry,
    IntelInstitution,
    IntelPerson,
    IntelReferral,
    NdmDecision,
    Nominal,
    Person,
    Referral,
    ReferralInstitution,
    ReferralNote,
    ReferralReview,
    VafAssessment,
    utcnow,
)

if TYPE_CHECKING:
    from app.services.demo import DemoContext

__all__ = ["PreventDemoSummary", "default_referrals", "generate_prevent", "prevent_step"]

# Relative referral volume by month: peaks in the autumn and spring terms, a dip over Easter
# and Christmas, and a deep summer-holiday trough (schools are the largest source).
MONTH_WEIGHT = {1: 1.0, 2: 1.0, 3: 1.15, 4: 0.8, 5: 1.1, 6: 1.1, 7: 0.8, 8: 0.4, 9: 1.1,
                10: 1.25, 11: 1.3, 12: 0.75}
SECTOR_WEIGHT = {"education": 34, "police": 15, "local_authority": 12, "health": 10,
                 "community": 8, "family": 6, "prison": 5, "probation": 5, "other": 5}
CONCERN_WEIGHT = {"mixed_unclear_unstable": 35, "extreme_right_wing": 23, "islamist": 14,
                  "other": 9, "conflicted": 6, "school_massacre": 5, "incel": 5,
                  "left_wing_anarchist_single_issue": 3}
OUTCOME_WEIGHT = {"not_appropriate": 22, "no_further_action": 30, "signposted": 24,
                  "police_led_partnership": 9, "channel_adopted": 7, "channel_not_adopted": 6,
                  "immediate_risk": 2}
AREAS = ["Ashbrook", "Kelmsford", "Northvale", "Southmere", "Westcombe", "Eastholt",
         "Harrowdene", "Millbridge", "Oakhurst", "Riverton", "Stonecross", "Thornleigh"]
# Parts of a town, to tell apart a town's second college, youth centre or gym.
LOCALITIES = ["Northfield", "Brookside", "Kingsway", "Fairfield", "Hillside", "Meadowbank",
              "Elmwood", "Castlegate", "Riverside", "Westgate", "Highfield", "Moorside",
              "Church End", "Parkside", "Greenacres", "Station Road"]
SCHOOL_KINDS = ["Academy", "High School", "Community School", "Primary School",
                "Church of England School", "Free School"]
SYSTEMS = ["PNC", "PND", "Local intelligence system", "Custody records",
           "Children's social care", "Command and control"]
SIGNPOSTS = ["mash", "early_help", "mental_health", "other"]


@dataclass
class PreventDemoSummary:
    institutions: int = 0
    referrals: int = 0
    people: int = 0
    intelligence: int = 0
    vaf_assessments: int = 0
    closed: int = 0


def default_referrals(nominals: int) -> int:
    """Referrals for a demo of ``nominals``: several thousand at demo scale, few for tests."""
    return min(5000, max(40, nominals // 2))


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _institutions(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """``count`` institutions with distinct names, as a region's register would hold them: a
    second college or youth centre in a town is named by its part of town ("Ashbrook College,
    Northfield campus"), never by a number."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    saints = ["Aidan", "Bede", "Cuthbert", "Hilda", "Wilfrid", "Chad", "Oswald", "Ninian"]
    while len(out) < count:
        area = rng.choice(AREAS)
        part = rng.choice(LOCALITIES)
        roll = rng.random()
        # (name, the name told apart by part of town, kind); None: the town has only one.
        local: str | None
        if roll < 0.55:
            school = rng.choice(SCHOOL_KINDS)
            name = (f"St {rng.choice(saints)}'s {school}, {area}" if rng.random() < 0.25
                    else f"{area} {rng.choice(['North', 'South', 'Park', 'Vale', 'Hill', 'Green'])}"
                         f" {school}")
            local, kind = f"{part} {school}, {area}", "school"
        elif roll < 0.7:
            college = rng.choice(["College", "Sixth Form College"])
            name, kind = f"{area} {college}", "college"
            local = f"{name}, {part} campus"
        elif roll < 0.75:
            name, kind = f"University of {area}", "university"
            local = f"{name}, {part} campus"
        elif roll < 0.85:
            faith = rng.choice(["Mosque", "Church", "Gurdwara", "Temple"])
            name = f"{area} {rng.choice(['Central', 'Road', 'Community'])} {faith}"
            local, kind = f"{part} {faith}, {area}", "place_of_worship"
        elif roll < 0.93:
            gym = rng.choice(["Boxing Club", "Fitness Centre", "Martial Arts Gym"])
            name, kind = f"{area} {gym}", "gym"
            local = f"{part} {gym}, {area}"
        elif roll < 0.96:
            name, kind, local = f"HMP {area}", "prison", None
        else:
            name, kind = f"{area} Youth Centre", "youth_club"
            local = f"{part} Youth Centre, {area}"
        key = fold(name)
        if key in seen:
            if local is None or fold(local) in seen:
                continue  # the town has one already: draw another institution
            name, key = local, fold(local)
        seen.add(key)
        out.append({"name": name, "name_key": key, "type": kind, "area": area})
    return out


def _received(rng: random.Random, start: date, end: date) -> datetime:
    span = (end - start).days
    while True:
        d = start + timedelta(days=rng.randrange(span + 1))
        weight = MONTH_WEIGHT[d.month] * (0.12 if d.weekday() >= 5 else 1.0)
        # Christmas and the first days of January are quiet.
        if (d.month == 12 and d.day >= 22) or (d.month == 1 and d.day <= 3):
            weight *= 0.25
        if rng.random() * 1.3 < weight:
            minutes = rng.randint(8 * 60, 18 * 60)
            return datetime.combine(d, time(minutes // 60, minutes % 60))


def _text(rng: random.Random, options: list[str]) -> str:
    return rng.choice(options)


_SUMMARIES = {
    "education": ["Pupil repeatedly shared extremist imagery on a class group chat.",
                  "Student made statements in a lesson supporting violence against a group.",
                  "Staff noticed drawings with extremist symbols in exercise books.",
                  "Pupil searching for attack material on school computers."],
    "health": ["Patient disclosed interest in extremist forums during an appointment.",
               "Mental health team concerned about fixation on a previous attack."],
    "police": ["Officers found extremist material during an unrelated call-out.",
               "Online referral: user posting threats alongside extremist slogans."],
    "local_authority": ["Social worker concerned about a young person's online contacts.",
                        "Housing officer reported extremist flags and literature at address."],
    "community": ["Community member worried about a young man's change in views.",
                  "Youth worker heard repeated support for a banned group."],
    "family": ["Parent worried about a child's online contacts and new views.",
               "Sibling reported hostile statements and weapon searches."],
    "prison": ["Prisoner expressing support for an extremist cause on the wing."],
    "probation": ["Person on licence sharing extremist material with peers."],
    "other": ["Employer concerned about statements made at work."],
}


def _ndm(rng: random.Random, decision: str, maker: str, on: date) -> dict[str, Any]:
    return {
        "information": "Police and partner systems searched; referrer spoken to; "
                       "no previous Prevent contact found.",
        "assessment": _text(rng, ["No CT risk identified; vulnerability factors present.",
                                  "Low threat; some vulnerability from isolation.",
                                  "Concerning ideological interest; moderate vulnerability."]),
        "powers": "Prevent duty guidance; information sharing under the agreed protocol.",
        "options": "No further action; signpost; police-led partnership; Channel panel.",
        "action": f"{decision}. Review if new information is received.",
        "code_of_ethics": "Decision is fair, proportionate and respects privacy.",
        "decision": decision,
        "rationale": _text(rng, ["Concerns are not ideologically driven.",
                                 "Needs are best met by partner services.",
                                 "Ideological concerns warrant multi-agency support."]),
        "necessity": "Necessary to safeguard the person and prevent harm.",
        "proportionality": "The least intrusive option that meets the need.",
        "decision_maker": maker,
        "decided_on": on,
    }


def generate_prevent(
    vault_or_session: Vault | Session,
    rng: random.Random,
    referrals: int = 3000,
    *,
    vault: Vault | None = None,
    today: date | None = None,
    years: int = 3,
    institutions: int | None = None,
    nominal_ids: list[int] | None = None,
) -> PreventDemoSummary:
    """Generate ``referrals`` synthetic referrals over the last ``years`` years.

    Pass a Vault (a write transaction is opened) or a Session inside one with ``vault=``."""
    if isinstance(vault_or_session, Vault):
        with vault_or_session.write() as s:
            return generate_prevent(s, rng, referrals, vault=vault_or_session, today=today,
                                    years=years, institutions=institutions,
                                    nominal_ids=nominal_ids)
    s = vault_or_session
    if vault is None:
        raise ValueError("generate_prevent needs the vault with a session")
    today = today or date.today()
    user = vault.actor.user
    lists = parse_prevent_lists(current_in(s, vault, "prevent_lists"))
    template = parse_vaf_template(current_in(s, vault, "vaf_template"))
    cal = WorkingCalendar.from_table(parse_bank_holidays(current_in(s, vault,
                                                                     "bank_holidays_ew")))
    from app.services.demo import ORIGINS

    summary = PreventDemoSummary()
    now = utcnow()
    start = date(today.year - years, today.month, 1)

    # Institutions, once each.
    first_inst = int(s.scalar(select(func.max(Institution.id))) or 0) + 1
    inst_rows = _institutions(rng, institutions or max(20, min(400, referrals // 12)))
    existing = set(s.scalars(select(Institution.name_key)))
    inst_rows = [r for r in inst_rows if r["name_key"] not in existing]
    for i, r in enumerate(inst_rows):
        r.update(id=first_inst + i, created_at=now, created_by=user)
    if inst_rows:
        _bulk(s, Institution, inst_rows)
    summary.institutions = len(inst_rows)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in inst_rows:
        by_type.setdefault(r["type"], []).append(r)

    # Nominals that a referral may be about (a known person re-appearing).
    if nominal_ids is None:
        nominal_ids = []
    nominal_people = []
    if nominal_ids:
        sample = rng.sample(nominal_ids, min(len(nominal_ids), max(1, referrals // 50)))
        nominal_people = list(s.execute(select(Nominal.id, Nominal.surname, Nominal.forenames,
                                               Nominal.dob).where(Nominal.id.in_(sample))))

    origins = list(ORIGINS.values())
    pid = int(s.scalar(select(func.max(Person.id))) or 0)
    rid = int(s.scalar(select(func.max(Referral.id))) or 0)
    did = int(s.scalar(select(func.max(NdmDecision.id))) or 0)
    first_rid = rid + 1
    people: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    gateways: list[dict[str, Any]] = []
    vafs: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    makers = ["DS Harland", "DI Okoye", "DS Pemberton", "DI Castell"]
    received_all = sorted(_received(rng, start, today) for _ in range(referrals))
    for received in received_all:
        rid += 1
        day = received.date()
        in_term = day.month not in (8,) and not (day.month == 7 and day.day > 20)
        weights = dict(SECTOR_WEIGHT)
        if not in_term:
            weights["education"] = 6
        sector = _pick(rng, weights)
        concern = _pick(rng, CONCERN_WEIGHT)
        # The subject: a repeat referral of an earlier subject, a known nominal, or someone new.
        roll = rng.random()
        if people and roll < 0.05:
            person = rng.choice(people)
        else:
            pid += 1
            if nominal_people and roll < 0.08:
                n = rng.choice(nominal_people)
                surname, forenames, dob, nominal_id = n.surname, n.forenames, n.dob, n.id
            else:
                male, female, surnames = rng.choice(origins)
                forenames = rng.choice(male if rng.random() < 0.86 else female)
                surname = rng.choice(surnames)
                if sector == "education":
                    age = rng.choices([rng.randint(9, 11), rng.randint(12, 15),
                                       rng.randint(16, 17), rng.randint(18, 22)],
                                      weights=[12, 55, 25, 8])[0]
                else:
                    age = rng.choices([rng.randint(10, 15), rng.randint(16, 17),
                                       rng.randint(18, 24), rng.randint(25, 39),
                                       rng.randint(40, 70)], weights=[12, 10, 28, 32, 18])[0]
                dob = day - timedelta(days=int(age * 365.25) + rng.randint(0, 364))
                if rng.random() < 0.06:
                    dob = None
                nominal_id = None
            s_key, f_key = subject_keys(surname, forenames)
            person = {"id": pid, "surname": surname, "forenames": forenames, "dob": dob,
                      "nominal_id": nominal_id, "surname_key": s_key, "forename_key": f_key,
                      "created_at": now, "created_by": user}
            people.append(person)
        inst_choice: list[dict[str, Any]] = []
        if sector == "education" and by_type.get("school"):
            pool = by_type["school"] + by_type.get("college", [])
            inst_choice = [rng.choice(pool)]
        elif sector == "prison" and by_type.get("prison"):
            inst_choice = [rng.choice(by_type["prison"])]
        elif inst_rows and rng.random() < 0.2:
            inst_choice = [rng.choice(inst_rows)]
        area = inst_choice[0]["area"] if inst_choice else rng.choice(AREAS)
        target = cal.add_working_days(day, lists.target_working_days)
        age_years = age_on(person["dob"], day) if person["dob"] else None
        row: dict[str, Any] = {
            "id": rid, "ref": referral_ref(rid), "received_at": received, "received_on": day,
            "received_month": day.strftime("%Y-%m"),
            "referrer_name": rng.choice(["Safeguarding lead", "Duty officer", "Case worker",
                                         "Designated lead", "Family member"]),
            "referrer_organisation": inst_choice[0]["name"] if inst_choice else
            lists.label("source_sectors", sector),
            "source_sector": sector, "concern_type": concern, "person_id": person["id"],
            "age_at_referral": age_years, "area": area,
            "summary": rng.choice(_SUMMARIES[sector]) + " (synthetic)",
            "immediate_risk": rng.random() < 0.015, "stage": "new", "target_due": target,
            "target_working_days": lists.target_working_days, "decided_on": None,
            "outcome": None, "signposted_to": None, "outcome_on": None, "closed_on": None,
            "created_at": now, "created_by": user, "updated_at": now, "updated_by": user,
        }
        for inst in inst_choice:
            links.append({"referral_id": rid, "institution_id": inst["id"]})
        if rng.random() < 0.3:
            notes.append({"referral_id": rid, "title": "Referral form",
                          "text": "Text of the partner's referral form (synthetic).",
                          "added_at": now, "added_by": user})
        # Triage: most decided within target; the recent ones still on the clock.
        delay = rng.choices([1, 2, 3, 4, 5, 6, 7, 9], weights=[14, 22, 22, 16, 12, 6, 5, 3])[0]
        decided = cal.add_working_days(day, delay)
        if decided <= today:
            maker = rng.choice(makers)
            did += 1
            decisions.append({"id": did, "referral_id": rid, "kind": "gateway",
                              **_ndm(rng, "Proceed to decision", maker, decided),
                              "recorded_at": now, "recorded_by": user})
            gateways.append({
                "referral_id": rid, "decision_id": did,
                "checks": json.dumps([{"system": sysname, "searched_on": decided.isoformat(),
                                       "result": rng.choice(["No trace", "Trace: not relevant",
                                                             "Previous contact noted"])}
                                      for sysname in rng.sample(SYSTEMS, 3)]),
                "ct_risk": rng.choices(["no", "unclear", "yes"], weights=[60, 30, 10])[0],
                "immediate_risk": row["immediate_risk"], "criminality": rng.random() < 0.04,
                "refer_to_pursue": False, "notes": "", "recorded_at": now,
                "recorded_by": user,
            })
            gateways[-1]["refer_to_pursue"] = gateways[-1]["criminality"]
            row.update(stage="decision", decided_on=decided)
            outcome_on = cal.add_working_days(decided, rng.randint(1, 25))
            if outcome_on <= today:
                outcome = _pick(rng, OUTCOME_WEIGHT)
                did += 1
                decisions.append({"id": did, "referral_id": rid, "kind": "outcome",
                                  **_ndm(rng, lists.label("outcomes", outcome), maker,
                                         outcome_on),
                                  "recorded_at": now, "recorded_by": user})
                row.update(stage="outcome", outcome=outcome, outcome_on=outcome_on,
                           signposted_to=rng.choice(SIGNPOSTS) if outcome == "signposted"
                           else None)
                if outcome in ("channel_adopted", "channel_not_adopted",
                               "police_led_partnership"):
                    versions = 1 + (rng.random() < 0.5)
                    for v in range(1, versions + 1):
                        assessed = decided + timedelta(days=7 * v)
                        if assessed > today:
                            break
                        level = ["low", "medium", "high"]
                        factors = {f.code: {"rating": rng.choice(["not_present", "low", "medium",
                                                                   "high", "not_known"]),
                                            "rationale": "Assessed from partner information "
                                                         "(synthetic)."}
                                   for f in template.factors}
                        vafs.append({
                            "referral_id": rid, "version": v,
                            "template_version": template.version,
                            "factors": json.dumps(factors), "threat": rng.choice(level),
                            "threat_rationale": "Threat assessed from stated intent.",
                            "risk": rng.choice(level), "risk_rationale": "Risk from context.",
                            "vulnerability": rng.choice(level),
                            "vulnerability_rationale": "Age, isolation and online exposure.",
                            "change_reason": "" if v == 1 else "Update after the panel.",
                            "assessed_on": assessed, "recorded_at": now, "recorded_by": user,
                        })
                closed = outcome_on + timedelta(days=rng.randint(0, 120)
                                                if outcome.startswith("channel") else
                                                rng.randint(0, 14))
                if closed <= today:
                    row.update(stage="closed", closed_on=closed)
                    summary.closed += 1
                    for months, due in zip(lists.closure_review_months,
                                           closure_reviews(closed, lists.closure_review_months),
                                           strict=True):
                        done = due + timedelta(days=rng.randint(-7, 20))
                        # A few recent reviews are left outstanding; older ones a
                        # coordinator would have chased and recorded long since.
                        finished = done < today and (
                            rng.random() < 0.92 or due < today - timedelta(days=120))
                        reviews.append({"referral_id": rid, "months": months, "due_on": due,
                                        "done_on": done if finished else None,
                                        "done_by": user if finished else "",
                                        "note": "No further concerns (synthetic)."
                                        if finished else ""})
        elif day >= today - timedelta(days=3) and rng.random() < 0.5:
            row["stage"] = "gateway"
        refs.append(row)

    if people:  # a repeat referral reuses its subject's dict, so each person is here once
        _bulk(s, Person, people)
    if refs:
        _bulk(s, Referral, refs)
    for model, rows in ((ReferralInstitution, links), (ReferralNote, notes),
                        (NdmDecision, decisions), (GatewayAssessment, gateways),
                        (VafAssessment, vafs), (ReferralReview, reviews)):
        if rows:
            _bulk(s, model, rows)

    # Graded intelligence, linked to referrals, subjects and institutions.
    eid = int(s.scalar(select(func.max(IntelEntry.id))) or 0)
    intel: list[dict[str, Any]] = []
    i_refs: list[dict[str, Any]] = []
    i_people: list[dict[str, Any]] = []
    i_insts: list[dict[str, Any]] = []
    for r in rng.sample(refs, k=len(refs) // 4):
        eid += 1
        handling = "C" if rng.random() < 0.3 else "P"
        intel.append({
            "id": eid, "ref": f"IN-{eid:06d}",
            "received_on": min(r["received_on"] + timedelta(days=rng.randint(0, 60)), today),
            "summary": rng.choice(["Subject seen with known extremist associates (synthetic).",
                                   "Online account linked to subject shares propaganda "
                                   "(synthetic).",
                                   "Partner reports subject attending unregulated meetings "
                                   "(synthetic)."]),
            "source_evaluation": rng.choices(["1", "2", "3"], weights=[30, 55, 15])[0],
            "intelligence_assessment": rng.choices("ABCDE", weights=[15, 30, 35, 15, 5])[0],
            "handling": handling,
            "conditions": "Not to be shared outside policing without the originator's consent."
            if handling == "C" else "",
            "source_reference": "", "recorded_at": now, "recorded_by": user,
        })
        i_refs.append({"intel_id": eid, "referral_id": r["id"]})
        i_people.append({"intel_id": eid, "person_id": r["person_id"]})
    inst_of = {link["referral_id"]: link["institution_id"] for link in links}
    for entry, link in zip(intel, i_refs, strict=True):
        if link["referral_id"] in inst_of:
            i_insts.append({"intel_id": entry["id"],
                            "institution_id": inst_of[link["referral_id"]]})
    intel_tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (IntelEntry, intel), (IntelReferral, i_refs), (IntelPerson, i_people),
        (IntelInstitution, i_insts)]
    for table, rows in intel_tables:
        if rows:
            _bulk(s, table, rows)

    summary.referrals = len(refs)
    summary.people = len(people)
    summary.intelligence = len(intel)
    summary.vaf_assessments = len(vafs)
    vault.audit(
        s, Category.COLLECTION, "demo.prevent", entity="referral",
        reason="synthetic demo data",
        detail={"first_ref": referral_ref(first_rid) if refs else None,
                "last_ref": referral_ref(rid) if refs else None, "referrals": len(refs),
                "intelligence": len(intel), "institutions": len(inst_rows),
                "note": "one row for the whole generated batch"},
    )
    return summary


def _bulk(s: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core executemany: one prepared statement for the whole list (the ORM bulk path splits
    rows by which values are None, which made thousands of tiny batches)."""
    s.connection().execute(insert(model.__table__), rows)


def prevent_step(ctx: DemoContext) -> int:
    """The demo generator's step (``app.services.demo.STEPS``): returns referrals made."""
    # A separate seeded stream, so adding this step does not change the records other steps
    # make from the same seed.
    rng = random.Random(f"{ctx.seed}:prevent")
    result = generate_prevent(
        ctx.session, rng, default_referrals(ctx.nominals), vault=ctx.vault, today=ctx.today,
        nominal_ids=list(ctx.made.get("nominal_ids", [])),
    )
    ctx.made["referral_count"] = result.referrals
    return result.referrals

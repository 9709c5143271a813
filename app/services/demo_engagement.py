"""Synthetic engagement for the demo vault: years of contacts, notification records, civil
orders and pathways for nominals the nominal step made (all invented).

Contacts follow each nominal's plan (custody frequency before release, community after) with
realistic slippage, missed attempts and retries, so that a few percent are overdue today.
Rows go in through executemany in batches: at 100,000 nominals this is millions of contacts.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.domain.rules import (
    add_years,
    contact_frequency_days,
    initial_notification_due,
    next_contact_due,
    notification_end,
    notification_period,
    order_schedule,
    parse_civil_orders,
    parse_contact_frequency,
    renotification_due,
)
from app.security.audit import Category
from app.services.engagement import parse_pathways
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
)

if TYPE_CHECKING:
    from app.services.demo import DemoContext

Progress = Callable[[str, int, int], None]
BATCH = 20_000
# A yearly re-notification missed longer ago than this was chased and recorded (late) by a
# coordinator, as in real data; only misses this recent are still overdue in the demo.
RECENT_MISS_DAYS = 90

_OUTCOMES = (
    ("made", 86),
    ("attempted_no_answer", 7),
    ("did_not_attend", 3),
    ("refused", 2),
    ("cancelled", 2),
)
_COMMUNITY_TYPES = (("home_visit", 50), ("office", 20), ("phone", 20), ("joint_probation", 10))
_CUSTODY_TYPES = (("prison_visit", 80), ("phone", 20))
_NOTES = (
    "",
    "",
    "",
    "Engaged well.",
    "Brief contact; no concerns raised.",
    "Discussed licence conditions.",
    "Reluctant to engage; will revisit.",
    "Address confirmed.",
    "Employment discussed.",
)
_ORDER_WEIGHTS = (("tpim", 3), ("teo", 1), ("scpo", 3), ("ftro", 3))
_CONDITIONS = {
    "tpim": "Overnight residence measure; reporting daily; no contact with named associates.",
    "teo": "Return to the UK only through a permit to return; notify address.",
    "scpo": "No use of encrypted messaging; notify devices; no travel outside the UK.",
    "ftro": "Prohibited from travelling outside the UK; passport surrendered.",
}


@lru_cache(maxsize=16)
def _cumulative(weighted: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [w[0] for w in weighted], list(accumulate(w[1] for w in weighted))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    # choices(weights=w) accumulates w and then does exactly this: same draws, less work
    # (it runs for each of millions of demo contacts).
    keys, cumulative = _cumulative(weighted)
    return rng.choices(keys, cum_weights=cumulative)[0]


def _at(d: date, rng: random.Random) -> datetime:
    return datetime(d.year, d.month, d.day, rng.randint(8, 18), rng.choice((0, 15, 30, 45)))


def generate_engagement(
    session: Session,
    vault: Vault,
    nominal_ids: Sequence[int],
    rng: random.Random,
    today: date,
    years: int = 10,
    progress: Progress | None = None,
) -> int:
    """Contacts, plans, notification requirements, civil orders and pathways; returns rows made."""
    freq_table = parse_contact_frequency(current_in(session, vault, "contact_frequency"))
    orders_table = parse_civil_orders(current_in(session, vault, "civil_orders"))
    pathways = parse_pathways(current_in(session, vault, "pathways"))
    current_in(session, vault, "contact_vocab")
    if not nominal_ids:
        return 0
    lo, hi = min(nominal_ids), max(nominal_ids)
    wanted = set(nominal_ids)
    rows = session.execute(
        select(
            Nominal.id,
            Nominal.status,
            Nominal.risk_level,
            Nominal.release_date,
            Nominal.sentence_date,
            Nominal.sed,
            Nominal.nominal_manager,
        ).where(Nominal.id >= lo, Nominal.id <= hi)
    ).all()
    horizon = add_years(today, -years)
    conn = session.connection()
    contacts: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []
    made = 0
    total = len(rows)

    def flush(force: bool = False) -> None:
        nonlocal contacts, plans
        if contacts and (force or len(contacts) >= BATCH):
            conn.execute(insert(Contact), contacts)
            contacts = []
        if plans and (force or len(plans) >= BATCH):
            conn.execute(insert(ContactPlan), plans)
            plans = []

    def freq(status: str, risk: str | None) -> int | None:
        try:
            return contact_frequency_days(status, risk, freq_table)
        except Exception:  # a planted data-quality fault (no status or risk): no plan
            return None

    for done, (nid, status, risk, release, sentence, _sed, manager) in enumerate(rows, 1):
        if nid not in wanted:
            continue
        officer = manager or "Duty officer"
        # Nominals joined the list at different times over the years the demo covers.
        joined = today - timedelta(days=rng.randint(30, max(31, (today - horizon).days)))
        start = max(horizon, sentence or horizon, joined)
        end = today
        if status in ("closed", "deceased"):
            end = today - timedelta(days=rng.randint(30, 1500))
        last_made: date | None = None
        last_planned: date | None = None
        t = start + timedelta(days=rng.randint(0, 30))
        while t < end:
            in_custody = status == "custody" or (release is not None and t < release)
            f = (
                freq(
                    "custody" if in_custody else ("abroad" if status == "abroad" else "community"),
                    risk,
                )
                or 56
            )
            outcome = _pick(rng, _OUTCOMES)
            ctype = _pick(rng, _CUSTODY_TYPES if in_custody else _COMMUNITY_TYPES)
            planned = t + timedelta(days=f)
            contacts.append(
                {
                    "nominal_id": nid,
                    "at": _at(t, rng),
                    "contact_type": ctype,
                    "officer": officer,
                    "outcome": outcome,
                    "notes": rng.choice(_NOTES),
                    "next_planned": planned,
                    "created_at": _at(t, rng),
                    "created_by": officer[:64],
                }
            )
            made += 1
            last_planned = planned
            if outcome == "made":
                last_made = t
                slip = rng.random()
                factor = rng.uniform(0.55, 1.0) if slip < 0.9 else rng.uniform(1.05, 1.6)
                t += timedelta(days=max(1, round(f * factor)))
            else:
                t += timedelta(days=rng.randint(2, 7))  # a retry soon after a missed contact
        days = freq(status or "", risk) if status else None
        plans.append(
            {
                "nominal_id": nid,
                "basis_status": status,
                "basis_risk": risk,
                "table_version": freq_table.version,
                "table_days": days,
                "override_days": None,
                "override_reason": "",
                "frequency_days": days,
                "start_date": start,
                "last_contact_at": _at(last_made, random.Random(nid)) if last_made else None,
                "next_planned": last_planned,
                "next_due": next_contact_due(last_made, days, start),
                "updated_at": datetime.combine(today, datetime.min.time()),
            }
        )
        made += 1
        flush()
        if progress is not None and done % 5000 == 0:
            progress("engagement", done, total)
    flush(force=True)
    made += _notifications(session, rows, wanted, rng, today)
    made += _ended_notifications(session, wanted, today)
    made += _orders(session, rows, wanted, rng, today, orders_table)
    made += _pathways(session, rows, wanted, rng, today, pathways)
    vault.audit(
        session,
        Category.COLLECTION,
        "demo.engagement",
        entity="nominal",
        reason="demo data",
        detail={"rows": made, "nominals": len(wanted), "years": years},
    )
    if progress is not None:
        progress("engagement", total, total)
    return made


def _notifications(
    session: Session, rows: Sequence[Any], wanted: set[int], rng: random.Random, today: date
) -> int:
    made = 0
    next_id = (session.scalar(select(func.max(NotificationRequirement.id))) or 0) + 1
    reqs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for nid, status, _risk, release, sentence, sed, _manager in rows:
        if nid not in wanted or release is None or sentence is None or rng.random() > 0.7:
            continue
        if status in ("closed", "deceased") or release > today + timedelta(days=365):
            continue
        months = max(1, ((sed or release) - sentence).days * 12 // 365)
        period = notification_period(months)
        end = notification_end(release, period)
        req_id = next_id
        next_id += 1
        first_due = initial_notification_due(release)
        last: date | None = None
        if release <= today:
            notified: date | None = release + timedelta(days=rng.choice((0, 0, 1, 1, 2, 2, 4)))
            if notified is not None and notified > today:
                notified = None
            events.append(
                {
                    "requirement_id": req_id,
                    "nominal_id": nid,
                    "kind": "initial",
                    "event_date": release,
                    "due_date": first_due,
                    "notified_on": notified,
                    "detail": "",
                }
            )
            last = notified
            while last is not None:
                due = renotification_due(last)
                if due > today or due > end:
                    break
                done = due - timedelta(days=rng.randint(0, 10))
                if rng.random() < 0.02:  # a missed yearly re-notification
                    if (today - due).days <= RECENT_MISS_DAYS:
                        break  # overdue now, and recently: the coordinator has yet to chase it
                    # An older miss was chased: the nominal re-notified late, after a reminder.
                    done = due + timedelta(days=rng.randint(7, 45))
                events.append(
                    {
                        "requirement_id": req_id,
                        "nominal_id": nid,
                        "kind": "renotification",
                        "event_date": done,
                        "due_date": due,
                        "notified_on": done,
                        "detail": "",
                    }
                )
                last = done
            if rng.random() < 0.02:
                departure = today + timedelta(days=rng.randint(3, 60))
                events.append(
                    {
                        "requirement_id": req_id,
                        "nominal_id": nid,
                        "kind": "foreign_travel",
                        "event_date": today,
                        "departure_date": departure,
                        "due_date": departure - timedelta(days=7),
                        "notified_on": None,
                        "detail": "",
                    }
                )
        else:
            events.append(
                {
                    "requirement_id": req_id,
                    "nominal_id": nid,
                    "kind": "initial",
                    "event_date": release,
                    "due_date": first_due,
                    "notified_on": None,
                    "detail": "",
                }
            )
        next_yearly = renotification_due(last) if last is not None else None
        reqs.append(
            {
                "id": req_id,
                "nominal_id": nid,
                "start_date": release,
                "sentence_months": months,
                "life": 0,
                "period_years": period.years,
                "rule_text": period.rule_text,
                "end_date": end,
                "last_notified": last,
                "next_due": next_yearly if next_yearly is not None and next_yearly <= end else None,
                "status": "active" if end >= today else "ended",
                "notes": "",
            }
        )
    for e in events:
        e.setdefault("departure_date", None)
    for i in range(0, len(reqs), BATCH):
        session.execute(insert(NotificationRequirement), reqs[i : i + BATCH])
    for i in range(0, len(events), BATCH):
        session.execute(insert(NotificationEvent), events[i : i + BATCH])
    return made + len(reqs) + len(events)


def _ended_notifications(session: Session, wanted: set[int], today: date) -> int:
    """Requirements that ended a while ago on a record with none recorded: a coordinator closes
    these (an ended requirement) rather than leave them on the Today view for years. Those
    ending within RECENT_MISS_DAYS are left for the demo to show as just ended."""
    req = NotificationRequirement
    cutoff = today - timedelta(days=RECENT_MISS_DAYS)
    found = session.execute(
        select(Nominal.id, Nominal.release_date, Nominal.notification_end).where(
            Nominal.notification_end.is_not(None),
            Nominal.notification_end < cutoff,
            ~select(req.id).where(req.nominal_id == Nominal.id).exists(),
        ).order_by(Nominal.id)
    ).all()
    next_id = (session.scalar(select(func.max(req.id))) or 0) + 1
    reqs: list[dict[str, Any]] = []
    for nid, release, end in found:
        if nid not in wanted or end is None:
            continue
        start = release if release is not None and release <= end else end
        reqs.append({
            "id": next_id + len(reqs), "nominal_id": nid, "start_date": start,
            "sentence_months": None, "life": 0,
            "period_years": max(1, round((end - start).days / 365.25)),
            "rule_text": "Recorded when the notification period ended", "end_date": end,
            "last_notified": None, "next_due": None, "status": "ended", "notes": "",
        })
    for i in range(0, len(reqs), BATCH):
        session.execute(insert(req), reqs[i : i + BATCH])
    return len(reqs)


def _orders(
    session: Session,
    rows: Sequence[Any],
    wanted: set[int],
    rng: random.Random,
    today: date,
    table: Any,
) -> int:
    made = 0
    next_id = (session.scalar(select(func.max(CivilOrder.id))) or 0) + 1
    orders: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    for nid, status, *_rest in rows:
        if nid not in wanted or status not in ("community", "abroad") or rng.random() > 0.03:
            continue
        code = _pick(rng, _ORDER_WEIGHTS)
        start = today - timedelta(days=rng.randint(0, 900))
        end = None
        if code == "scpo":
            end = start + timedelta(days=rng.randint(365, 1700))
        schedule = order_schedule(code, start, end, table=table)
        order_id = next_id
        next_id += 1
        orders.append(
            {
                "id": order_id,
                "nominal_id": nid,
                "order_type": schedule.order_type,
                "start_date": schedule.start,
                "end_date": schedule.end,
                "conditions": _CONDITIONS[code],
                "status": "active" if schedule.end >= today else "expired",
                "rule_text": schedule.rule_text,
                "reference": f"DEMO-{code.upper()}-{nid}",
            }
        )
        reviews.extend(
            {
                "order_id": order_id,
                "nominal_id": nid,
                "due_date": d,
                "done_on": d if d < today and rng.random() < 0.95 else None,
                "outcome": "",
            }
            for d in schedule.review_dates
        )
    if orders:
        session.execute(insert(CivilOrder), orders)
    if reviews:
        session.execute(insert(CivilOrderReview), reviews)
    return made + len(orders) + len(reviews)


def _pathways(
    session: Session,
    rows: Sequence[Any],
    wanted: set[int],
    rng: random.Random,
    today: date,
    table: Any,
) -> int:
    out: list[dict[str, Any]] = []
    codes = list(table.pathways)
    statuses = list(table.statuses)
    for nid, status, *_rest in rows:
        if nid not in wanted or status in ("deceased", "closed") or rng.random() > 0.4:
            continue
        for code in rng.sample(codes, rng.randint(1, 3)):
            start = today - timedelta(days=rng.randint(0, 1500))
            st = rng.choice(statuses)
            providers = table.providers.get(code, ())
            out.append(
                {
                    "nominal_id": nid,
                    "pathway": code,
                    "need_level": rng.choice(table.need_levels[1:]),
                    "interventions": "",
                    "providers": rng.choice(providers) if providers else "",
                    "status": st,
                    "start_date": start,
                    "end_date": start + timedelta(days=rng.randint(30, 400))
                    if st not in table.open_statuses
                    else None,
                    "notes": "",
                    "reference_version": table.version,
                }
            )
    for i in range(0, len(out), BATCH):
        session.execute(insert(NominalPathway), out[i : i + BATCH])
    return len(out)


def engagement_step(ctx: DemoContext) -> int:
    """The demo generator's step (``app.services.demo.STEPS``)."""
    ids: list[int] = ctx.made.get("nominal_ids", [])
    return generate_engagement(
        ctx.session, ctx.vault, ids, ctx.rng, ctx.today, progress=ctx.progress
    )

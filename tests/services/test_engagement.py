"""Engagement services: contact plans, the contact log, notification requirements, civil
orders, pathways and the engagement return, with worked statutory examples."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.errors import NotAllowed, ValidationError
from app.domain.nominal import Nominal, RiskLevel, Status
from app.services.engagement import EngagementService
from app.services.nominals import NominalService
from app.services.reference import ReferenceService
from app.services.vault import Vault
from app.store.models import AuditEntry, Revision
from tests.support import vault_users

# The coordinator and viewer sessions (tests/support/vault_users.py) that test_meetings.py
# shares; other test modules import them from here.
users = vault_users.users
coord = vault_users.coord


def add_nominal(v: Vault, **values: Any) -> str:
    fields: dict[str, Any] = {
        "surname": "TESTCASE",
        "forenames": "Synthetic",
        "status": Status.COMMUNITY,
        "risk_level": RiskLevel.HIGH,
        "nominal_manager": "DC Example",
        "force": "Test Force",
    }
    fields.update(values)
    return NominalService(v).add(Nominal(**fields)).ref


def audit_rows(v: Vault, action: str) -> list[AuditEntry]:
    with v.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- contact plans --------------------------------------------------------------------------


def test_plan_frequency_comes_from_the_table_by_status_and_risk(coord: Vault) -> None:
    eng = EngagementService(coord)
    high = add_nominal(coord)
    low_custody = add_nominal(coord, status=Status.CUSTODY, risk_level=RiskLevel.LOW)
    closed = add_nominal(coord, status=Status.CLOSED)
    assert eng.plan(high).frequency_days == 14
    assert eng.plan(low_custody).frequency_days == 84
    plan = eng.plan(closed)
    assert plan.frequency_days is None and plan.next_due is None
    assert "No planned contact" in plan.rule_text


def test_next_due_runs_from_the_last_contact_made_not_from_attempts(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    eng.set_plan_start(ref, date(2025, 1, 1), "released")
    assert eng.plan(ref).next_due == date(2025, 1, 15)
    eng.log_contact(ref, datetime(2025, 1, 10, 11, 0), "home_visit", "DC Example", "made")
    assert eng.plan(ref).next_due == date(2025, 1, 24)
    # An attempt that did not reach the nominal does not satisfy the plan.
    eng.log_contact(ref, datetime(2025, 1, 20, 9, 30), "home_visit", "DC Example",
                    "attempted_no_answer", next_planned=date(2025, 1, 22))
    plan = eng.plan(ref)
    assert plan.next_due == date(2025, 1, 24)
    assert plan.next_planned == date(2025, 1, 22)
    assert plan.last_contact_at == datetime(2025, 1, 10, 11, 0)


def test_next_due_across_a_month_end_and_a_leap_day(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord, risk_level=RiskLevel.MEDIUM)  # community medium: 28 days
    eng.log_contact(ref, datetime(2024, 2, 1, 10, 0), "office", "DC Example", "made")
    assert eng.plan(ref).next_due == date(2024, 2, 29)
    eng.log_contact(ref, datetime(2024, 2, 29, 10, 0), "office", "DC Example", "made")
    assert eng.plan(ref).next_due == date(2024, 3, 28)


def test_override_needs_a_reason_is_audited_and_keeps_a_revision(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    eng.log_contact(ref, datetime(2025, 3, 1, 10, 0), "phone", "DC Example", "made")
    with pytest.raises(ValidationError) as err:
        eng.set_override(ref, 7, "  ")
    assert err.value.field == "reason"
    plan = eng.set_override(ref, 7, "MAPPA level 3 panel asked for weekly contact")
    assert plan.frequency_days == 7 and plan.table_days == 14
    assert plan.next_due == date(2025, 3, 8)
    assert "override" in plan.rule_text
    rows = audit_rows(coord, "contact_plan.override")
    assert len(rows) == 1 and rows[0].reason.startswith("MAPPA level 3")
    assert rows[0].ref == ref
    with coord.read() as s:
        revs = list(s.scalars(select(Revision).where(Revision.entity == "contact_plan")))
    changes = json.loads(revs[-1].changes)
    assert changes["frequency_days"] == [14, 7]
    cleared = eng.set_override(ref, None, "panel review: back to standard")
    assert cleared.frequency_days == 14 and cleared.next_due == date(2025, 3, 15)
    assert len(audit_rows(coord, "contact_plan.override_cleared")) == 1


def test_override_is_refused_where_no_contact_is_planned(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord, status=Status.DECEASED)
    with pytest.raises(ValidationError):
        eng.set_override(ref, 7, "should not apply")


def test_a_status_change_re_plans_the_frequency(coord: Vault) -> None:
    eng = EngagementService(coord)
    nominals = NominalService(coord)
    ref = add_nominal(coord)
    assert eng.plan(ref).frequency_days == 14
    record = nominals.get(ref)
    nominals.update(ref, record.with_changes(status=Status.CUSTODY, establishment="HMP Test"))
    assert eng.refresh_plans() >= 1
    assert eng.plan(ref).frequency_days == 28


def test_contact_validation(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    when = datetime(2025, 1, 10, 10, 0)
    with pytest.raises(ValidationError, match="type"):
        eng.log_contact(ref, when, "carrier_pigeon", "DC Example", "made")
    with pytest.raises(ValidationError, match="outcome"):
        eng.log_contact(ref, when, "phone", "DC Example", "maybe")
    with pytest.raises(ValidationError, match="future"):
        eng.log_contact(ref, datetime(2999, 1, 1), "phone", "DC Example", "made")
    with pytest.raises(ValidationError, match="next_planned"):
        eng.log_contact(ref, when, "phone", "DC Example", "made", next_planned=date(2025, 1, 1))
    with pytest.raises(ValidationError, match="officer"):
        eng.log_contact(ref, when, "phone", " ", "made")


def test_edit_contact_keeps_old_values_and_moves_the_plan(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    c = eng.log_contact(ref, datetime(2025, 5, 1, 10, 0), "phone", "DC Example", "made",
                        notes="Spoke briefly.")
    assert eng.plan(ref).next_due == date(2025, 5, 15)
    with pytest.raises(ValidationError):
        eng.edit_contact(c.id, "", outcome="refused")
    edited = eng.edit_contact(c.id, "entered as made in error", outcome="refused")
    assert edited.outcome == "refused" and not edited.counts
    listed = eng.contacts(ref)
    assert [x.id for x in listed] == [c.id] and listed[0].notes == "Spoke briefly."
    with coord.read() as s:
        rev = s.scalars(
            select(Revision).where(Revision.entity == "contact", Revision.action == "update")
        ).one()
    assert json.loads(rev.changes) == {"outcome": ["made", "refused"]}
    assert len(audit_rows(coord, "contact.edit")) == 1
    assert len(audit_rows(coord, "contact.add")) == 1


def test_viewer_reads_but_cannot_log_contacts(users: dict[str, Vault]) -> None:
    ref = add_nominal(users["coordinator"])
    viewer = EngagementService(users["viewer"])
    assert viewer.plan(ref).frequency_days == 14
    with pytest.raises(NotAllowed):
        viewer.log_contact(ref, datetime(2025, 1, 1, 9, 0), "phone", "DC X", "made")
    with pytest.raises(NotAllowed):
        viewer.set_override(ref, 7, "no")
    with pytest.raises(NotAllowed):
        EngagementService(users["admin"]).add_order(ref, "TPIM", date(2025, 1, 1))


# --- notification requirements --------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "years", "rule"),
    [
        (59, 10, "10 years: sentence under 5 years"),
        (60, 15, "15 years: sentence of 5 years to under 10"),
        (119, 15, "15 years: sentence of 5 years to under 10"),
        (120, 30, "30 years: sentence of 10 years or more"),
    ],
)
def test_notification_period_by_sentence_length(
    coord: Vault, months: int, years: int, rule: str
) -> None:
    ref = add_nominal(coord)
    info = EngagementService(coord).add_notification(ref, date(2025, 1, 15),
                                                     sentence_months=months)
    assert (info.period_years, info.rule_text) == (years, rule)
    # The period runs *beginning with* the start: it ends the day before the anniversary.
    assert info.end_date == date(2025 + years, 1, 14)


def test_notification_from_a_leap_day_and_yearly_renotification(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    info = eng.add_notification(ref, date(2024, 2, 29), sentence_months=130)
    assert info.end_date == date(2054, 2, 28)
    assert info.rule_text == "30 years: sentence of 10 years or more"
    initial = info.events[0]
    assert (initial.kind, initial.due_date) == ("initial", date(2024, 3, 2))
    assert info.next_due is None  # nothing notified yet: the initial notification is due
    after = eng.mark_notified(initial.id, date(2024, 2, 29))
    # 29 Feb + 1 year falls on 28 Feb in a year without 29 Feb.
    assert after.last_notified == date(2024, 2, 29) and after.next_due == date(2025, 2, 28)
    again = eng.record_renotification(info.id, date(2025, 2, 20))
    assert again.next_due == date(2026, 2, 20)
    assert len(audit_rows(coord, "notification.renotified")) == 1


def test_three_day_windows_ignore_weekends_and_bank_holidays(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    info = eng.add_notification(ref, date(2025, 12, 24), sentence_months=24)
    # Released Wednesday 24 Dec 2025: day 1 is the release, so notify by Friday 26 Dec
    # (Boxing Day, a bank holiday): the Act counts calendar days.
    assert info.events[0].due_date == date(2025, 12, 26)
    change = eng.add_notification_event(info.id, "change", date(2026, 4, 3))  # Good Friday
    assert change.due_date == date(2026, 4, 5)
    travel = eng.add_notification_event(info.id, "foreign_travel", date(2026, 5, 1),
                                        departure=date(2026, 6, 10))
    assert travel.due_date == date(2026, 6, 3)
    with pytest.raises(ValidationError):
        eng.add_notification_event(info.id, "foreign_travel", date(2026, 5, 1))
    # A travel notice does not restart the yearly clock (s49); a change notification does.
    eng.mark_notified(info.events[0].id, date(2025, 12, 24))
    eng.mark_notified(travel.id, date(2026, 5, 2))
    assert eng.notifications(ref)[0].next_due == date(2026, 12, 24)
    eng.mark_notified(change.id, date(2026, 4, 4))
    assert eng.notifications(ref)[0].next_due == date(2027, 4, 4)


def test_a_different_notification_end_needs_a_reason(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    with pytest.raises(ValidationError) as err:
        eng.add_notification(ref, date(2025, 1, 1), sentence_months=24, end=date(2030, 1, 1))
    assert err.value.field == "end_reason"
    info = eng.add_notification(ref, date(2025, 1, 1), sentence_months=24,
                                end=date(2030, 1, 1), end_reason="court order varied the period")
    assert info.end_date == date(2030, 1, 1) and "court order" in info.rule_text


# --- civil orders ---------------------------------------------------------------------------


def test_tpim_runs_a_year_with_quarterly_reviews_from_a_month_end(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    order = eng.add_order(ref, "TPIM", date(2025, 1, 31), conditions="Overnight residence")
    assert order.order_type == "tpim" and order.label == "TPIM notice"
    assert order.end_date == date(2026, 1, 30)
    assert [r.due_date for r in order.reviews] == [
        date(2025, 4, 30),
        date(2025, 7, 31),
        date(2025, 10, 31),
    ]
    assert "reviewed every 3 months" in order.rule_text
    eng.record_order_review(order.reviews[0].id, date(2025, 4, 29), "conditions maintained")
    extended = eng.update_order(order.id, "extended by the Home Secretary", end=date(2027, 1, 30))
    dues = [(r.due_date, r.done_on) for r in extended.reviews]
    assert dues[0] == (date(2025, 4, 30), date(2025, 4, 29))
    assert dues[-1][0] == date(2026, 10, 31) and len(dues) == 7
    assert len(audit_rows(coord, "order.update")) == 1


def test_order_limits_and_types(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord)
    ftro = eng.add_order(ref, "FTRO", date(2024, 8, 31))
    assert ftro.end_date == date(2025, 2, 28) and ftro.reviews == ()
    with pytest.raises(ValidationError):
        eng.add_order(ref, "SCPO", date(2025, 1, 1), date(2030, 1, 1))  # over 5 years
    with pytest.raises(ValidationError):
        eng.add_order(ref, "notification_order", date(2025, 1, 1))  # no default: needs an end
    with pytest.raises(ValidationError):
        eng.add_order(ref, "ASBO", date(2025, 1, 1))
    revoked = eng.update_order(ftro.id, "revoked on appeal", status="revoked")
    assert revoked.status == "revoked"
    assert [o.id for o in eng.orders(ref)] == [ftro.id]


# --- pathways -------------------------------------------------------------------------------


def test_pathways_and_the_pathway_map(coord: Vault) -> None:
    eng = EngagementService(coord)
    a, b, c = add_nominal(coord), add_nominal(coord), add_nominal(coord)
    catalogue = eng.pathway_catalogue()
    assert "ideology" in catalogue.pathways and "accommodation" in catalogue.pathways
    eng.add_pathway(a, "ideology", "high", "active", providers="DDP", start=date(2025, 1, 1))
    eng.add_pathway(b, "ideology", "medium", "referred")
    eng.add_pathway(b, "accommodation", "low", "active")
    done = eng.add_pathway(c, "ideology", "low", "completed", start=date(2024, 1, 1),
                           end=date(2024, 6, 1))
    with pytest.raises(ValidationError):
        eng.add_pathway(a, "astrology", "high", "active")
    with pytest.raises(ValidationError):
        eng.add_pathway(a, "health", "high", "active", start=date(2025, 2, 1),
                        end=date(2025, 1, 1))
    rows = {r.pathway: r for r in eng.pathway_map()}
    assert rows["ideology"].count == 2 and rows["ideology"].refs == (a, b)
    assert rows["ideology"].by_need["high"] == 1 and rows["ideology"].by_need["medium"] == 1
    assert rows["accommodation"].refs == (b,)
    assert rows["health"].count == 0
    everyone = {r.pathway: r for r in eng.pathway_map(open_only=False)}
    assert everyone["ideology"].count == 3
    updated = eng.update_pathway(done.id, "re-referred", status="active", end=None)
    assert updated.status == "active"
    assert {r.pathway: r for r in eng.pathway_map()}["ideology"].count == 3


# --- reference data -------------------------------------------------------------------------


def test_admin_replaces_the_frequency_table_and_plans_follow(users: dict[str, Vault]) -> None:
    coord = users["coordinator"]
    ref = add_nominal(coord)
    eng = EngagementService(coord)
    assert eng.plan(ref).frequency_days == 14
    admin_refs = ReferenceService(users["admin"])
    table = admin_refs.current("contact_frequency")
    data = json.loads(json.dumps(table.data))
    data["version"] = "2026.1"
    data["statuses"]["community"]["days"]["high"] = 10
    with pytest.raises(NotAllowed):
        ReferenceService(coord).replace("contact_frequency", data, "forces asked")
    with pytest.raises(ValidationError):
        admin_refs.replace("contact_frequency", data, "")
    bad = json.loads(json.dumps(data))
    bad["statuses"]["community"]["days"]["high"] = 0
    with pytest.raises(ValidationError):
        admin_refs.replace("contact_frequency", bad, "typo")
    new = admin_refs.replace("contact_frequency", data, "regional standard revised")
    assert new.version == "2026.1"
    assert [v.version for v in admin_refs.versions("contact_frequency")] == ["2026.1", "2025.1"]
    with pytest.raises(ValidationError):
        admin_refs.replace("contact_frequency", data, "same version again")
    assert eng.refresh_plans() >= 1
    plan = eng.plan(ref)
    assert plan.frequency_days == 10 and plan.table_version == "2026.1"
    rows = audit_rows(users["admin"], "reference.replace")
    assert len(rows) == 1 and rows[0].reason == "regional standard revised"


# --- the engagement return ------------------------------------------------------------------


def test_engagement_return_counts_made_late_and_overdue(coord: Vault) -> None:
    eng = EngagementService(coord)
    ref = add_nominal(coord, nominal_manager="DC Alpha")
    eng.set_plan_start(ref, date(2025, 1, 1), "released")
    for day, outcome in [
        (date(2025, 1, 10), "made"),  # due 15 Jan: on time
        (date(2025, 1, 30), "made"),  # due 24 Jan: late
        (date(2025, 2, 5), "attempted_no_answer"),
        (date(2025, 2, 10), "made"),  # due 13 Feb: on time; next due 24 Feb, then nothing
    ]:
        eng.log_contact(ref, datetime.combine(day, datetime.min.time()), "home_visit",
                        "DC Alpha", outcome)
    rows = eng.engagement_return(date(2025, 1, 1), date(2025, 3, 31), today=date(2025, 6, 1))
    by_month = {r.month: r for r in rows if r.manager == "DC Alpha"}
    jan, feb, mar = (by_month[date(2025, m, 1)] for m in (1, 2, 3))
    assert (jan.made, jan.late, jan.attempted, jan.overdue) == (2, 1, 0, 0)
    assert (feb.made, feb.late, feb.attempted, feb.overdue) == (1, 0, 1, 1)
    assert (mar.made, mar.overdue) == (0, 1)
    assert jan.required == pytest.approx(31 / 14, abs=0.05)
    assert jan.on_time_pct == 50.0 and mar.on_time_pct is None

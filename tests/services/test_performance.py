"""Performance against targets: every figure checked against values worked out by hand on a
small fixture, "no data" where nothing can be measured, snapshots, the trend and the return."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.errors import NotAllowed, ValidationError
from app.domain.meetings import parse_period, parse_targets
from app.domain.nominal import Nominal, RiskLevel, Status
from app.domain.roles import Role
from app.domain.rules import load_reference
from app.services.nominals import NominalService
from app.services.performance import PerformanceService
from app.services.reference import ReferenceService
from app.services.vault import Actor, Vault
from app.store.models import (
    Action,
    AuditEntry,
    CivilOrder,
    CivilOrderReview,
    Contact,
    ContactPlan,
    DuplicatePair,
    Person,
    Referral,
    ReferralReview,
)

TODAY = date(2026, 4, 15)


def _as(vault: Vault, role: Role) -> Vault:
    vault.actor = Actor(vault.actor.user, role)
    return vault


@pytest.fixture
def fixture_vault(vault: Vault) -> Vault:
    """Three nominals (two paired as likely duplicates), one contact plan with four contacts,
    six actions, four referrals and five reviews."""
    _as(vault, Role.COORDINATOR)
    svc = NominalService(vault)
    common = {"forenames": "Synthetic", "dob": date(1990, 1, 1), "status": Status.COMMUNITY,
              "risk_level": RiskLevel.HIGH, "force": "Test Force"}
    n1 = svc.add(Nominal(surname="COMPLETE", nominal_manager="DC Example", **common)).ref
    n2 = svc.add(Nominal(surname="NOMANAGER", **common)).ref  # fails "no nominal manager"
    svc.add(Nominal(surname="CLEAN", nominal_manager="DC Example", **common))
    id1, id2 = int(n1[3:]), int(n2[3:])

    def d(month: int, day: int) -> date:
        return date(2026, month, day)

    with vault.write() as s:
        s.add(ContactPlan(nominal_id=id1, frequency_days=30, start_date=d(1, 1),
                          next_due=d(4, 24)))
        for when, outcome in ((d(1, 20), "made"), (d(3, 10), "made"), (d(3, 25), "made"),
                              (d(3, 26), "attempted_no_answer")):
            s.add(Contact(nominal_id=id1, at=datetime.combine(when, time(10)),
                          contact_type="home_visit", outcome=outcome))
        for k, (due, status, closed) in enumerate([
            (d(3, 5), "done", d(3, 4)),       # on time
            (d(3, 10), "done", d(3, 12)),     # late
            (d(3, 20), "open", None),         # overdue: counted, late
            (d(3, 25), "cancelled", d(3, 1)),  # not counted
            (d(4, 20), "open", None),         # not in March
            (d(3, 31), "done", d(3, 31)),     # on time (on the day)
        ], 1):
            s.add(Action(ref=f"ACT-{k:06d}", text="x", owner="o", due_date=due, status=status,
                         closed_on=closed))
        person = Person(surname="SUBJECT", forenames="Test")
        s.add(person)
        s.flush()
        for k, (received, target, decided) in enumerate([
            (d(3, 2), d(3, 9), d(3, 6)),      # on time
            (d(3, 10), d(3, 17), d(3, 20)),   # late
            (d(3, 30), d(4, 6), None),        # undecided past target: counted, late
            (d(2, 27), d(3, 6), d(3, 1)),     # received in February
        ], 1):
            s.add(Referral(ref=f"PR-{k:06d}", received_at=datetime.combine(received, time(9)),
                           received_on=received, received_month=f"{received:%Y-%m}",
                           source_sector="education", concern_type="other",
                           person_id=person.id, summary="x", target_due=target,
                           decided_on=decided))
        active = CivilOrder(nominal_id=id1, order_type="tpim", start_date=d(1, 1),
                            end_date=d(12, 31), status="active")
        revoked = CivilOrder(nominal_id=id1, order_type="ftro", start_date=d(1, 1),
                             end_date=d(6, 30), status="revoked")
        s.add_all([active, revoked])
        s.flush()
        s.add_all([
            CivilOrderReview(order_id=active.id, nominal_id=id1, due_date=d(3, 3),
                             done_on=d(3, 3)),                                 # on time
            CivilOrderReview(order_id=active.id, nominal_id=id1, due_date=d(3, 15)),  # late
            CivilOrderReview(order_id=revoked.id, nominal_id=id1, due_date=d(3, 20)),  # out
        ])
        s.add_all([
            ReferralReview(referral_id=1, months=6, due_on=d(3, 28), done_on=d(4, 2)),  # late
            ReferralReview(referral_id=2, months=6, due_on=d(3, 10), done_on=d(3, 1)),  # ok
        ])
        s.add(DuplicatePair(a_id=id1, b_id=id2, score=0.9, reasons="[]"))
    return vault


def test_march_figures_match_hand_computation(fixture_vault: Vault) -> None:
    report = PerformanceService(fixture_vault).figures(parse_period("2026-03"), TODAY)
    f = {x.code: x for x in report.figures}
    # Contacts in March: 10 Mar came after 19 Feb (20 Jan + 30 days): late; 25 Mar on time.
    assert (f["contacts_on_time"].numerator, f["contacts_on_time"].denominator) == (1, 2)
    assert f["contacts_on_time"].value == 50.0 and f["contacts_on_time"].met is False
    assert (f["actions_on_time"].numerator, f["actions_on_time"].denominator) == (2, 4)
    assert f["actions_on_time"].value == 50.0
    assert (f["referrals_triaged"].numerator, f["referrals_triaged"].denominator) == (1, 3)
    assert f["referrals_triaged"].value == 33.3
    assert (f["reviews_on_time"].numerator, f["reviews_on_time"].denominator) == (2, 4)
    # Point-in-time measures for a past month with no snapshot: no data, not a made-up number.
    for code in ("records_clean", "duplicates_open"):
        assert f[code].value is None and f[code].source == "none" and f[code].met is None
        assert "not measured" in f[code].note


def test_current_month_point_in_time_and_snapshot(fixture_vault: Vault) -> None:
    svc = PerformanceService(fixture_vault)
    april = {x.code: x for x in svc.figures(parse_period("2026-04"), TODAY).figures}
    # NM-1 and NM-2 are an open duplicate pair (a fault for both), NM-2 has no manager: 1 of 3.
    assert (april["records_clean"].numerator, april["records_clean"].denominator) == (1, 3)
    assert april["records_clean"].value == 33.3 and april["records_clean"].met is False
    assert april["duplicates_open"].value == 1 and april["duplicates_open"].met is False
    # Nothing made or due in April yet: "no data" rather than 0% or 100%.
    assert april["contacts_on_time"].value is None
    assert april["actions_on_time"].value is None  # the April action is not due until 20th
    # Later (in May), April's point-in-time figures come from the snapshot taken then.
    later = {x.code: x for x in svc.figures(parse_period("2026-04"), date(2026, 5, 3)).figures}
    assert later["records_clean"].value == 33.3 and later["records_clean"].source == "snapshot"
    assert later["actions_on_time"].value == 0.0  # 20 Apr passed with the action still open


def test_quarter_and_trend(fixture_vault: Vault) -> None:
    svc = PerformanceService(fixture_vault)
    q1 = {x.code: x for x in svc.figures(parse_period("2026-Q1"), TODAY).figures}
    # January's contact (first after the plan start, due 31 Jan) was on time: 2 of 3.
    assert (q1["contacts_on_time"].numerator, q1["contacts_on_time"].denominator) == (2, 3)
    assert (q1["referrals_triaged"].numerator, q1["referrals_triaged"].denominator) == (2, 4)
    trend = svc.trend(TODAY, 12, TODAY)
    assert [r.period.key for r in trend][0] == "2025-05" and trend[-1].period.key == "2026-04"
    march = trend[-2]
    assert march.figure("actions_on_time").value == 50.0
    assert trend[0].figure("contacts_on_time").value is None


def test_targets_are_reference_data(fixture_vault: Vault) -> None:
    version, targets = PerformanceService(fixture_vault).targets()
    assert version == "2025.1" and [t.code for t in targets][:3] == [
        "contacts_on_time", "records_clean", "duplicates_open"]
    data = load_reference("targets")
    data["version"] = "2026.1"
    data["targets"][0]["target"] = 40
    _as(fixture_vault, Role.ADMIN)
    ReferenceService(fixture_vault).replace("targets", data, "regional target lowered")
    _as(fixture_vault, Role.COORDINATOR)
    report = PerformanceService(fixture_vault).figures(parse_period("2026-03"), TODAY)
    assert report.targets_version == "2026.1"
    assert report.figure("contacts_on_time").met is True  # 50% against 40%
    bad = json.loads(json.dumps(data))
    bad["targets"][0]["target"] = 140
    with pytest.raises(ValidationError):
        parse_targets(bad)


def test_performance_return_is_audited(fixture_vault: Vault, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    svc = PerformanceService(fixture_vault)
    out = tmp_path / "perf.xlsx"
    svc.export_return(out, parse_period("2026-03"), recipient="Regional board",
                      justification="Monthly return", today=TODAY)
    wb = load_workbook(out)
    rows = [[c.value for c in r] for r in wb["Performance"].iter_rows()]
    actions = next(r for r in rows if r[0] == "Actions closed by due date")
    assert actions[2] == 50.0 and actions[4:6] == [2, 4]
    dq = next(r for r in rows if r[0] == "Records with no data-quality fault")
    assert dq[2] is None and str(dq[7]).startswith("No data")
    with fixture_vault.read() as s:
        row = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "export.performance")).one()
    assert row.category == "disclosure" and row.recipient == "Regional board"
    assert json.loads(row.detail)["period"] == "2026-03"
    _as(fixture_vault, Role.VIEWER)
    with pytest.raises(NotAllowed):
        svc.export_return(tmp_path / "x.xlsx", parse_period("2026-03"), recipient="r",
                          justification="j")
    assert svc.figures(parse_period("2026-03"), TODAY).figure("actions_on_time").value == 50.0

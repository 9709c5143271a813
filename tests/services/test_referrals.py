"""Referral intake to closure: gateway, NDM decision, VAF versions, outcome, reviews, clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from app.domain.errors import NotAllowed, ValidationError
from app.domain.prevent import (
    CheckMade,
    GatewayInput,
    InstitutionInput,
    NdmInput,
    ReferralInput,
    SubjectInput,
    VafInput,
)
from app.domain.roles import Role
from app.services.assessments import AssessmentService
from app.services.institutions import InstitutionService
from app.services.referrals import ReferralFilter, ReferralService, due_items
from app.services.vault import Actor, Vault


def as_role(vault: Vault, role: Role, user: str = "") -> Vault:
    """The same vault acting as another role (the role matrix is what is under test)."""
    vault.actor = Actor(user or role.value, role)
    return vault


@pytest.fixture
def analyst(vault: Vault) -> Iterator[Vault]:
    yield as_role(vault, Role.ANALYST, "ana")


def ndm(decided_on: date | None = None, **overrides: object) -> NdmInput:
    values: dict[str, object] = {
        "information": "PNC, PND and local systems searched; school safeguarding lead spoken to.",
        "assessment": "Low threat; vulnerability from isolation and online content.",
        "powers": "Prevent duty guidance; no police powers needed.",
        "options": "NFA, signpost to early help, or Channel panel.",
        "action": "Refer to Channel panel; review in one month.",
        "code_of_ethics": "Fair, proportionate, and respects the young person's privacy.",
        "decision": "Proceed to Channel panel.",
        "rationale": "Concerns are ideological and persistent, not criminal.",
        "necessity": "Necessary to safeguard a vulnerable person from radicalisation.",
        "proportionality": "Least intrusive option that addresses the risk.",
        "decision_maker": "DS Example",
        "decided_on": decided_on,
    }
    values.update(overrides)
    return NdmInput(**values)  # type: ignore[arg-type]


def referral_input(received: datetime | None = None, **overrides: object) -> ReferralInput:
    values: dict[str, object] = {
        "received": received,
        "source_sector": "education",
        "concern_type": "extreme_right_wing",
        "subject": SubjectInput("Testperson", "Alex", date(2010, 5, 1)),
        "summary": "Pupil sharing extremist memes in class (synthetic).",
        "referrer_name": "A. Teacher",
        "referrer_organisation": "Example Academy",
    }
    values.update(overrides)
    return ReferralInput(**values)  # type: ignore[arg-type]


def vaf_input(template_factors: list[str], assessed_on: date, rating: str = "low",
              change_reason: str = "", threat: str = "low") -> VafInput:
    return VafInput(
        factors={code: (rating, f"Rationale for {code}") for code in template_factors},
        threat=threat, threat_rationale="No stated intent.",
        risk="medium", risk_rationale="Online exposure continues.",
        vulnerability="high", vulnerability_rationale="Age and isolation.",
        assessed_on=assessed_on, change_reason=change_reason,
    )


def test_intake_to_closure_with_reviews(analyst: Vault) -> None:
    refs = ReferralService(analyst)
    school = InstitutionService(analyst).add(
        InstitutionInput("Example Academy", "school", "Northtown"))
    received = datetime(2025, 3, 3, 9, 30)  # a Monday
    ref = refs.add(referral_input(received, institution_ids=[school.id],
                                  notes=[("Form", "Referral form text")]),
                   now=datetime(2025, 3, 3, 10, 0))
    assert ref == "PR-000001"
    detail = refs.show(ref, today=date(2025, 3, 3))
    assert detail.stage == "new"
    assert detail.target_due == date(2025, 3, 10)
    assert detail.area == "Northtown"  # from the institution
    assert detail.age_at_referral == 14
    assert detail.institutions[0]["name"] == "Example Academy"
    assert detail.notes[0]["text"] == "Referral form text"

    refs.start_gateway(ref)
    assessments = AssessmentService(analyst)
    gw = assessments.record_gateway(
        ref,
        GatewayInput(checks=[CheckMade("PNC", date(2025, 3, 4), "No trace")], ct_risk="unclear",
                     immediate_risk=False, criminality=False),
        ndm(date(2025, 3, 5)),
        today=date(2025, 3, 5),
    )
    assert gw.decision.decision == "Proceed to Channel panel."
    detail = refs.show(ref, today=date(2025, 3, 5))
    assert detail.stage == "decision"
    assert detail.decided_on == date(2025, 3, 5)
    assert detail.clock is not None and detail.clock.status == "met"

    template = assessments.vaf_template()
    codes = [f.code for f in template.factors]
    assert len(codes) == 22
    v1 = assessments.add_vaf(ref, vaf_input(codes, date(2025, 3, 6)), today=date(2025, 3, 6))
    with pytest.raises(ValidationError) as err:
        assessments.add_vaf(ref, vaf_input(codes, date(2025, 4, 6), rating="medium"),
                            today=date(2025, 4, 6))
    assert err.value.field == "change_reason"
    v2_input = vaf_input(codes, date(2025, 4, 6), threat="medium",
                         change_reason="New online activity reported by the school.")
    factors = dict(v2_input.factors)
    factors["grievance"] = ("high", "Now voices strong grievance about local housing.")
    v2 = assessments.add_vaf(ref, VafInput(**{**v2_input.__dict__, "factors": factors}),
                             today=date(2025, 4, 6))
    assert (v1.version, v2.version) == (1, 2)
    versions = assessments.vaf_versions(ref)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].factors["grievance"][0] == "low"  # v1 never overwritten
    assert versions[0].template_version == template.version

    cmp = assessments.compare(v1.id, v2.id)
    assert cmp.change_reason == "New online activity reported by the school."
    changed = {c.field: c for c in cmp.changes}
    assert set(changed) == {"threat", "factors.grievance"}
    assert changed["factors.grievance"].old == "low"
    assert changed["factors.grievance"].new == "high"
    assert changed["factors.grievance"].new_rationale.startswith("Now voices")
    assert changed["threat"].label == "Threat"

    refs.record_outcome(ref, "channel_adopted", ndm(date(2025, 4, 10), decision="Adopt."),
                        today=date(2025, 4, 10))
    assert refs.show(ref, today=date(2025, 4, 10)).outcome == "channel_adopted"
    reviews = refs.close(ref, date(2025, 8, 31), "Channel support completed",
                         today=date(2025, 9, 1))
    assert [r.due_on for r in reviews] == [date(2026, 2, 28), date(2026, 8, 31)]
    detail = refs.show(ref, today=date(2025, 9, 1))
    assert detail.stage == "closed"
    assert [d.kind for d in detail.decisions] == ["gateway", "outcome"]

    with analyst.read() as s:
        items = list(due_items(s, date(2026, 1, 1), date(2026, 12, 31)))
    assert [(i.date, i.kind, i.ref) for i in items] == [
        (date(2026, 2, 28), "referral_review", ref),
        (date(2026, 8, 31), "referral_review", ref),
    ]
    refs.complete_review(reviews[0].id, date(2026, 3, 1), "No further concerns.")
    with analyst.read() as s:
        items = list(due_items(s, date(2026, 1, 1), date(2026, 12, 31)))
    assert [i.date for i in items] == [date(2026, 8, 31)]


def test_reviews_reach_the_calendar(analyst: Vault) -> None:
    calendar = pytest.importorskip("app.services.calendar")
    assert "app.services.referrals:due_items" in calendar.SOURCES
    refs = ReferralService(analyst)
    ref = refs.add(referral_input(datetime(2025, 1, 6, 9)), now=datetime(2025, 1, 6, 10))
    refs.record_outcome(ref, "immediate_risk", ndm(date(2025, 1, 6)), today=date(2025, 1, 6))
    refs.close(ref, date(2025, 1, 7), "Passed to Pursue", today=date(2025, 1, 7))
    with analyst.read() as s:
        items = list(due_items(s, date(2025, 7, 1), date(2025, 7, 31),
                               calendar.CalendarFilters()))
        none = list(due_items(s, date(2025, 7, 1), date(2025, 7, 31),
                              calendar.CalendarFilters(kinds=frozenset({"meeting"}))))
    assert [i.date for i in items] == [date(2025, 7, 7)]
    assert none == []


def test_clock_counts_working_days_over_easter(analyst: Vault) -> None:
    refs = ReferralService(analyst)
    # Thursday 17 April 2025: Good Friday 18th and Easter Monday 21st are bank holidays, so the
    # five working days are Tue 22, Wed 23, Thu 24, Fri 25, Mon 28.
    ref = refs.add(referral_input(datetime(2025, 4, 17, 16, 45)),
                   now=datetime(2025, 4, 17, 17, 0))
    rows = {d: refs.queue(ReferralFilter(), today=d)[0] for d in
            (date(2025, 4, 22), date(2025, 4, 25), date(2025, 4, 28), date(2025, 4, 29))}
    assert rows[date(2025, 4, 22)].target_due == date(2025, 4, 28)
    assert (rows[date(2025, 4, 22)].working_days_elapsed,
            rows[date(2025, 4, 22)].working_days_remaining,
            rows[date(2025, 4, 22)].status) == (1, 4, "ok")
    assert rows[date(2025, 4, 25)].status == "warning"  # one working day left
    assert rows[date(2025, 4, 28)].status == "warning"  # the target day itself
    assert rows[date(2025, 4, 29)].status == "overdue"
    assert [r.ref for r in refs.overdue(today=date(2025, 4, 29))] == [ref]
    assert refs.overdue(today=date(2025, 4, 28)) == []


def test_target_is_configurable(vault: Vault) -> None:
    ReferralService(vault).set_target_working_days(3, "regional policy")
    analyst = as_role(vault, Role.ANALYST)
    refs = ReferralService(analyst)
    ref = refs.add(referral_input(datetime(2025, 3, 3, 9)), now=datetime(2025, 3, 3, 10))
    assert refs.show(ref, today=date(2025, 3, 3)).target_due == date(2025, 3, 6)
    with pytest.raises(NotAllowed):
        refs.set_target_working_days(4)


def test_immediate_risk_sorts_first(analyst: Vault) -> None:
    refs = ReferralService(analyst)
    now = datetime(2025, 6, 20, 12)
    first = refs.add(referral_input(datetime(2025, 6, 2, 9)), now=now)
    urgent = refs.add(referral_input(datetime(2025, 6, 19, 9), immediate_risk=True,
                                     subject=SubjectInput("Other", "Sam", None)), now=now)
    middle = refs.add(referral_input(datetime(2025, 6, 10, 9)), now=now)
    assert [r.ref for r in refs.queue(today=date(2025, 6, 20))] == [urgent, first, middle]
    refs.set_immediate_risk(first, True, "new information")
    assert [r.ref for r in refs.queue(today=date(2025, 6, 20))][:2] == [first, urgent]


def test_validation_names_the_field(analyst: Vault) -> None:
    refs = ReferralService(analyst)
    now = datetime(2025, 3, 3, 10)
    cases = {
        "source_sector": {"source_sector": "astrology"},
        "concern_type": {"concern_type": ""},
        "summary": {"summary": "   "},
        "subject.surname": {"subject": SubjectInput("", "Alex", None)},
        "subject.dob": {"subject": SubjectInput("Person", "A", date(2030, 1, 1))},
        "received": {"received": datetime(2025, 3, 4)},
        "institutions[0]": {"institution_ids": [999]},
    }
    for field, change in cases.items():
        with pytest.raises(ValidationError) as err:
            refs.add(referral_input(**{"received": datetime(2025, 3, 3, 9), **change}), now=now)
        assert err.value.field == field
        assert "Person" not in str(err.value)  # never the record's data
    ref = refs.add(referral_input(datetime(2025, 3, 3, 9)), now=now)
    gateway = GatewayInput([CheckMade("PNC", date(2025, 3, 3), "No trace")], "no", False, False)
    for name in ("information", "assessment", "powers", "options", "action", "code_of_ethics",
                 "decision", "rationale", "necessity", "proportionality", "decision_maker"):
        with pytest.raises(ValidationError) as err:
            AssessmentService(analyst).record_gateway(ref, gateway, ndm(date(2025, 3, 3),
                                                                        **{name: " "}),
                                                      today=date(2025, 3, 3))
        assert err.value.field == f"ndm.{name}"
    with pytest.raises(ValidationError) as err:
        AssessmentService(analyst).record_gateway(ref, gateway,
                                                  ndm(decided_on=None),
                                                  today=date(2025, 3, 3))
    assert err.value.field == "ndm.decided_on"
    with pytest.raises(ValidationError) as err:
        AssessmentService(analyst).record_gateway(
            ref, GatewayInput([], "no", False, False), ndm(date(2025, 3, 3)),
            today=date(2025, 3, 3))
    assert err.value.field == "checks"
    with pytest.raises(ValidationError) as err:
        AssessmentService(analyst).record_gateway(
            ref, GatewayInput([CheckMade("PNC", date(2025, 3, 3), "x")], "maybe", False, False),
            ndm(date(2025, 3, 3)), today=date(2025, 3, 3))
    assert err.value.field == "ct_risk"
    with pytest.raises(ValidationError) as err:
        refs.record_outcome(ref, "channel_adopted", ndm(date(2025, 3, 3)), today=date(2025, 3, 3))
    assert err.value.field == "stage"  # no gateway decision yet
    with pytest.raises(ValidationError) as err:
        refs.close(ref, date(2025, 3, 3), "done", today=date(2025, 3, 3))
    assert err.value.field == "outcome"


def test_signposted_outcome_needs_a_service(analyst: Vault) -> None:
    refs = ReferralService(analyst)
    ref = refs.add(referral_input(datetime(2025, 3, 3, 9)), now=datetime(2025, 3, 3, 10))
    AssessmentService(analyst).record_gateway(
        ref, GatewayInput([CheckMade("PNC", date(2025, 3, 3), "x")], "no", False, True),
        ndm(date(2025, 3, 4)), today=date(2025, 3, 4))
    gw = AssessmentService(analyst).gateway(ref)
    assert gw is not None and gw.refer_to_pursue  # criminality goes to Pursue
    with pytest.raises(ValidationError) as err:
        refs.record_outcome(ref, "signposted", ndm(date(2025, 3, 4)), today=date(2025, 3, 4))
    assert err.value.field == "signposted_to"
    refs.record_outcome(ref, "signposted", ndm(date(2025, 3, 4)), signposted_to="early_help",
                        today=date(2025, 3, 4))
    assert refs.show(ref).signposted_to == "early_help"


def test_roles(vault: Vault) -> None:
    analyst = as_role(vault, Role.ANALYST)
    ref = ReferralService(analyst).add(referral_input(datetime(2025, 3, 3, 9)),
                                       now=datetime(2025, 3, 3, 10))
    for role in (Role.COORDINATOR, Role.VIEWER, Role.ADMIN):
        as_role(vault, role)
        refs = ReferralService(vault)
        assert refs.show(ref).ref == ref
        assert len(refs.queue()) == 1
        with pytest.raises(NotAllowed):
            refs.add(referral_input(datetime(2025, 3, 3, 9)), now=datetime(2025, 3, 3, 10))
        with pytest.raises(NotAllowed):
            refs.start_gateway(ref)
        with pytest.raises(NotAllowed):
            AssessmentService(vault).add_vaf(ref, vaf_input([], date(2025, 3, 3)))


def test_every_view_is_audited_as_consultation(analyst: Vault) -> None:
    from app.services.audit import AuditFilter, AuditService

    refs = ReferralService(analyst)
    ref = refs.add(referral_input(datetime(2025, 3, 3, 9)), now=datetime(2025, 3, 3, 10))
    refs.show(ref)
    as_role(analyst, Role.VIEWER, "vic")
    refs.show(ref)
    as_role(analyst, Role.ADMIN, "alice")
    views = [r for r in AuditService(analyst).page(AuditFilter(category="consultation"))
             if r.action == "referral.view"]
    assert sorted((r.user, r.ref) for r in views) == [("ana", ref), ("vic", ref)]


def test_possible_subject_matches(analyst: Vault) -> None:
    refs = ReferralService(analyst)
    now = datetime(2025, 3, 3, 10)
    ref = refs.add(referral_input(datetime(2025, 3, 3, 9),
                                  subject=SubjectInput("Rahman", "Mohammed", date(2008, 2, 3))),
                   now=now)
    refs.add(referral_input(datetime(2025, 3, 3, 9),
                            subject=SubjectInput("Jones", "Peter", date(1980, 1, 1))), now=now)
    # Transliteration variant, no date of birth yet: still offered.
    found = refs.possible_subject_matches("Rahman", "Muhammad", None)
    assert [m.ref for m in found] == [ref]
    assert found[0].kind == "person" and found[0].referral_count == 1
    # Swapped names with the date of birth score higher.
    swapped = refs.possible_subject_matches("Mohamed", "Rahman", date(2008, 2, 3))
    assert swapped and swapped[0].ref == ref and swapped[0].score > 0.8
    assert refs.possible_subject_matches("Zzyzx", "Quentin", None) == []
    # Linking a new referral to the existing person adds no second person.
    ref2 = refs.add(referral_input(datetime(2025, 3, 3, 9),
                                   subject=SubjectInput(person_id=found[0].id)), now=now)
    assert refs.show(ref2).person_id == found[0].id


def test_possible_subject_matches_finds_nominals(analyst: Vault) -> None:
    from app.store.models import Nominal

    with analyst.write() as s:
        s.add(Nominal(id=7, ref="NM-000007", surname="Okafor", forenames="Daniel",
                      sort_name="okafor daniel", dob=date(1999, 9, 9)))
    found = ReferralService(analyst).possible_subject_matches("Okafor", "Daniel", None)
    assert found and found[0].kind == "nominal" and found[0].ref == "NM-000007"
    # A forename still being typed is not a different forename.
    typing = ReferralService(analyst).possible_subject_matches("Okafor", "Dan", date(1999, 9, 9))
    assert typing and typing[0].ref == "NM-000007" and typing[0].score > 0.9
    assert ReferralService(analyst).possible_subject_matches("Okafor", "Peter",
                                                             date(1970, 1, 1)) == []
    ref = ReferralService(analyst).add(
        referral_input(datetime(2025, 3, 3, 9),
                       subject=SubjectInput("Okafor", "Daniel", date(1999, 9, 9), nominal_id=7)),
        now=datetime(2025, 3, 3, 10))
    assert ReferralService(analyst).show(ref).nominal_ref == "NM-000007"


def test_return_data_timeliness(analyst: Vault) -> None:
    refs = ReferralService(analyst)
    gateway = GatewayInput([CheckMade("PNC", date(2025, 3, 3), "x")], "no", False, False)
    now = datetime(2025, 5, 1, 12)
    on_time = refs.add(referral_input(datetime(2025, 3, 3, 9)), now=now)
    late = refs.add(referral_input(datetime(2025, 3, 3, 9), concern_type="islamist",
                                   source_sector="health"), now=now)
    refs.add(referral_input(datetime(2025, 4, 1, 9)), now=now)  # awaiting
    AssessmentService(analyst).record_gateway(on_time, gateway, ndm(date(2025, 3, 7)),
                                              today=date(2025, 5, 1))
    AssessmentService(analyst).record_gateway(late, gateway, ndm(date(2025, 3, 20)),
                                              today=date(2025, 5, 1))
    data = refs.return_data(date(2025, 3, 1), date(2025, 4, 30))
    assert (data.total.referrals, data.total.decided, data.total.on_time, data.total.late,
            data.total.awaiting) == (3, 2, 1, 1, 1)
    by_concern = {r.key: r for r in data.by_concern}
    assert by_concern["islamist"].late == 1
    assert by_concern["extreme_right_wing"].referrals == 2
    assert [(r.key, r.referrals) for r in data.by_month] == [("2025-03", 2), ("2025-04", 1)]
    assert data.total.on_time_pct == 50.0
    by_outcome = {r.key: r.referrals for r in data.by_outcome}
    assert by_outcome[""] == 3


def test_add_many_is_all_or_nothing(analyst: Vault) -> None:
    refs = ReferralService(analyst)
    good = referral_input(datetime(2025, 3, 3, 9))
    bad = referral_input(datetime(2025, 3, 3, 9), summary="")
    with pytest.raises(ValidationError) as err:
        refs.add_many([good, bad], now=datetime(2025, 3, 3, 10))
    assert err.value.field == "[1].summary"
    assert refs.count() == 0
    assert refs.add_many([good, good], now=datetime(2025, 3, 3, 10) + timedelta(0)) == [
        "PR-000001", "PR-000002"]

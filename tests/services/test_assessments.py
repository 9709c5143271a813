"""VAF template, versioned assessments and their comparison; gateway and NDM records."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.domain.errors import ValidationError
from app.domain.prevent import CheckMade, GatewayInput, parse_vaf_template
from app.domain.roles import Role
from app.domain.rules import load_reference
from app.services.assessments import AssessmentService, compare_versions
from app.services.referrals import ReferralService
from app.services.vault import Vault
from tests.services.test_referrals import as_role, ndm, referral_input, vaf_input


def test_shipped_template_has_three_dimensions_and_22_factors() -> None:
    t = parse_vaf_template(load_reference("vaf_template"))
    assert [(d.code, len(d.factors)) for d in t.dimensions] == [
        ("engagement", 13), ("intent", 6), ("capability", 3)]
    assert [f.number for f in t.factors] == list(range(1, 23))
    assert t.version


def test_vaf_validation_and_versions(vault: Vault) -> None:
    analyst = as_role(vault, Role.ANALYST)
    ref = ReferralService(analyst).add(referral_input(datetime(2025, 3, 3, 9)),
                                       now=datetime(2025, 3, 3, 10))
    other = ReferralService(analyst).add(referral_input(datetime(2025, 3, 3, 9)),
                                         now=datetime(2025, 3, 3, 10))
    svc = AssessmentService(analyst)
    codes = [f.code for f in svc.vaf_template().factors]
    with pytest.raises(ValidationError) as err:
        svc.add_vaf(ref, vaf_input(codes[:-1], date(2025, 3, 4)), today=date(2025, 3, 4))
    assert err.value.field == f"factors.{codes[-1]}"
    bad = vaf_input(codes, date(2025, 3, 4))
    with pytest.raises(ValidationError) as err:
        svc.add_vaf(ref, type(bad)(**{**bad.__dict__, "factors": {**bad.factors,
                                                                 "telepathy": ("low", "x")}}),
                    today=date(2025, 3, 4))
    assert err.value.field == "factors.telepathy"
    with pytest.raises(ValidationError) as err:
        svc.add_vaf(ref, type(bad)(**{**bad.__dict__, "threat": "severe"}),
                    today=date(2025, 3, 4))
    assert err.value.field == "threat"
    with pytest.raises(ValidationError) as err:
        svc.add_vaf(ref, type(bad)(**{**bad.__dict__, "risk_rationale": ""}),
                    today=date(2025, 3, 4))
    assert err.value.field == "risk_rationale"
    with pytest.raises(ValidationError) as err:
        svc.add_vaf(ref, vaf_input(codes, date(2025, 3, 1)), today=date(2025, 3, 4))
    assert err.value.field == "assessed_on"  # before the referral arrived
    v1 = svc.add_vaf(ref, bad, today=date(2025, 3, 4))
    v2 = svc.add_vaf(ref, vaf_input(codes, date(2025, 3, 20), rating="medium",
                                     change_reason="Escalating online activity."),
                     today=date(2025, 3, 20))
    o1 = svc.add_vaf(other, bad, today=date(2025, 3, 4))
    with pytest.raises(ValidationError):
        svc.compare(v1.id, o1.id)
    forward, backward = svc.compare(v1, v2), svc.compare(v2.id, v1.id)
    assert forward == backward  # order of the arguments does not matter
    assert (forward.older, forward.newer) == (1, 2)
    assert len(forward.changes) == 22  # every factor went from low to medium
    assert all(c.old == "low" and c.new == "medium" for c in forward.changes)
    assert forward.changes[0].label.startswith("1. ")
    assert not forward.template_changed
    assert compare_versions(v1, v1).changes == []


def test_rationale_only_changes_come_after_rating_changes(vault: Vault) -> None:
    analyst = as_role(vault, Role.ANALYST)
    ref = ReferralService(analyst).add(referral_input(datetime(2025, 3, 3, 9)),
                                       now=datetime(2025, 3, 3, 10))
    svc = AssessmentService(analyst)
    codes = [f.code for f in svc.vaf_template().factors]
    base = vaf_input(codes, date(2025, 3, 4))
    v1 = svc.add_vaf(ref, base, today=date(2025, 3, 4))
    factors = dict(base.factors)
    factors["access"] = ("low", "Reworded: no access to funds or equipment found.")
    v2 = svc.add_vaf(ref, type(base)(**{**base.__dict__, "factors": factors,
                                        "vulnerability": "medium",
                                        "change_reason": "Panel review."}),
                     today=date(2025, 3, 5))
    cmp = svc.compare(v1, v2)
    assert [c.field for c in cmp.changes] == ["vulnerability", "factors.access"]
    assert cmp.changes[1].old == cmp.changes[1].new == "low"
    assert cmp.changes[1].rationale_changed


def test_gateway_is_once_and_immediate_risk_flags_the_referral(vault: Vault) -> None:
    analyst = as_role(vault, Role.ANALYST)
    refs = ReferralService(analyst)
    ref = refs.add(referral_input(datetime(2025, 3, 3, 9)), now=datetime(2025, 3, 3, 10))
    svc = AssessmentService(analyst)
    gateway = GatewayInput([CheckMade("PNC", date(2025, 3, 3), "Trace")], "yes", True, False)
    rec = svc.record_gateway(ref, gateway, ndm(date(2025, 3, 3)), today=date(2025, 3, 3))
    assert rec.ct_risk == "yes" and rec.checks[0].system == "PNC"
    assert refs.show(ref).immediate_risk
    with pytest.raises(ValidationError) as err:
        svc.record_gateway(ref, gateway, ndm(date(2025, 3, 3)), today=date(2025, 3, 3))
    assert err.value.field == "stage"
    extra = svc.record_decision(ref, ndm(date(2025, 3, 4), decision="Review plan"),
                                kind="review", today=date(2025, 3, 4))
    assert [d.kind for d in svc.decisions(ref)] == ["gateway", "review"]
    assert extra.necessity and extra.proportionality
    with pytest.raises(ValidationError) as err:
        svc.record_decision(ref, ndm(date(2025, 3, 1)), today=date(2025, 3, 4))
    assert err.value.field == "ndm.decided_on"

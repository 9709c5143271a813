"""The intelligence log: 3x5x2 grading, handling C conditions, links, list codes, roles."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.domain.errors import NotAllowed, ValidationError
from app.domain.prevent import (
    Handling,
    InstitutionInput,
    IntelInput,
    most_restrictive_handling,
    parse_grading,
)
from app.domain.roles import Role
from app.services.institutions import InstitutionService
from app.services.intelligence import IntelFilter, IntelligenceService
from app.services.referrals import ReferralService
from app.services.vault import Vault
from tests.services.test_referrals import as_role, referral_input


def test_grading_rules() -> None:
    assert parse_grading("2", "b", "c", "Not beyond CT policing").code == "2/B/C"
    assert parse_grading(" 1 ", "A", "p").code == "1/A/P"
    for args, field in ((("4", "A", "P"), "source_evaluation"),
                        (("1", "F", "P"), "intelligence_assessment"),
                        (("1", "A", "X"), "handling"),
                        (("1", "A", "C", "  "), "conditions")):
        with pytest.raises(ValidationError) as err:
            parse_grading(*args)
        assert err.value.field == field
    assert most_restrictive_handling(["P", "P"]) is Handling.P
    assert most_restrictive_handling(["P", "c", "P"]) is Handling.C
    assert most_restrictive_handling([]) is None


def test_log_links_and_list_codes(vault: Vault) -> None:
    analyst = as_role(vault, Role.ANALYST)
    ref = ReferralService(analyst).add(referral_input(datetime(2025, 3, 3, 9)),
                                       now=datetime(2025, 3, 3, 10))
    rid = ReferralService(analyst).show(ref).id
    person = ReferralService(analyst).show(ref).person_id
    gym = InstitutionService(analyst).add(InstitutionInput("Northvale Boxing Club", "gym", "N"))
    log = IntelligenceService(analyst)
    first = log.add(IntelInput("Seen with associates (synthetic).", "2", "B", "P",
                               referral_ids=[rid], person_ids=[person],
                               institution_ids=[gym.id], received_on=date(2025, 3, 4)),
                    today=date(2025, 3, 5))
    assert first.ref == "IN-000001" and first.grading_code == "2/B/P"
    with pytest.raises(ValidationError) as err:
        log.add(IntelInput("x", "1", "A", "C"), today=date(2025, 3, 5))
    assert err.value.field == "conditions"
    with pytest.raises(ValidationError) as err:
        log.add(IntelInput("x", "1", "A", "P", referral_ids=[999]), today=date(2025, 3, 5))
    assert err.value.field == "referrals[0]"
    second = log.add(IntelInput("Account shares propaganda (synthetic).", "3", "D", "C",
                                conditions="Not to be shared outside policing.",
                                referral_ids=[rid], received_on=date(2025, 3, 5)),
                     today=date(2025, 3, 5))
    rows = log.rows(IntelFilter(referral_id=rid))
    assert [(r.ref, r.grading) for r in rows] == [(second.ref, "3/D/C"), (first.ref, "2/B/P")]
    assert rows[0].referral_refs == [ref]
    assert log.export_handling([first.id]) is Handling.P
    assert log.export_handling([first.id, second.ref]) is Handling.C
    assert [r.ref for r in log.rows(IntelFilter(institution_id=gym.id))] == [first.ref]
    assert [r.ref for r in log.rows(IntelFilter(person_id=person))] == [first.ref]
    profile = InstitutionService(analyst).institution_profile(gym.id)
    assert [i["ref"] for i in profile.intelligence] == [first.ref]
    regraded = log.regrade(first.ref, "1", "B", "P", "", "source since tested")
    assert regraded.grading_code == "1/B/P"
    shown = log.show(second.ref)
    assert shown.grading.conditions == "Not to be shared outside policing."
    assert shown.referrals == [{"id": rid, "ref": ref}]


def test_only_analysts_touch_the_log(vault: Vault) -> None:
    analyst = as_role(vault, Role.ANALYST)
    IntelligenceService(analyst).add(IntelInput("x (synthetic)", "1", "A", "P"),
                                     today=date(2025, 3, 5))
    for role in (Role.COORDINATOR, Role.VIEWER, Role.ADMIN):
        as_role(vault, role)
        with pytest.raises(NotAllowed):
            IntelligenceService(vault).rows()
        with pytest.raises(NotAllowed):
            IntelligenceService(vault).add(IntelInput("x", "1", "A", "P"))

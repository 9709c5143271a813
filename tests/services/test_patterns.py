"""Pattern counts against a hand-built fixture, filters, and drill-down to referral ids."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.domain.errors import ValidationError
from app.domain.prevent import InstitutionInput, SubjectInput, age_band
from app.domain.roles import Role
from app.services.institutions import InstitutionService
from app.services.patterns import PatternFilter, PatternService
from app.services.referrals import ReferralService
from app.services.vault import Vault
from tests.services.test_referrals import as_role, referral_input


@pytest.fixture
def fixture_vault(vault: Vault) -> tuple[Vault, dict[str, int]]:
    analyst = as_role(vault, Role.ANALYST)
    inst = InstitutionService(analyst)
    school = inst.add(InstitutionInput("Ashbrook Park Academy", "school", "Ashbrook")).id
    gym = inst.add(InstitutionInput("Riverton Boxing Club", "gym", "Riverton")).id
    refs = ReferralService(analyst)
    now = datetime(2025, 6, 30, 12)
    # (received, sector, concern, dob, institutions)
    rows = [
        (datetime(2025, 1, 6, 9), "education", "extreme_right_wing", date(2011, 3, 1), [school]),
        (datetime(2025, 1, 20, 9), "education", "extreme_right_wing", date(2009, 1, 21), [school]),
        (datetime(2025, 2, 3, 9), "education", "islamist", date(2008, 2, 4), [school, gym]),
        (datetime(2025, 2, 10, 9), "health", "mixed_unclear_unstable", date(1990, 5, 5), []),
        (datetime(2025, 4, 1, 9), "police", "incel", date(2001, 4, 2), [gym]),
        (datetime(2025, 4, 2, 9), "police", "extreme_right_wing", None, []),
    ]
    ids = {}
    for n, (received, sector, concern, dob, insts) in enumerate(rows):
        ref = refs.add(referral_input(received, source_sector=sector, concern_type=concern,
                                      subject=SubjectInput(f"Person{n}", "Test", dob),
                                      institution_ids=insts), now=now)
        ids[f"r{n}"] = refs.show(ref).id
    ids["school"], ids["gym"] = school, gym
    return analyst, ids


def counts(bars: list) -> dict[str, int]:  # type: ignore[type-arg]
    return {b.key: b.count for b in bars if b.count}


def test_breakdowns(fixture_vault: tuple[Vault, dict[str, int]]) -> None:
    vault, ids = fixture_vault
    dash = PatternService(vault).dashboard()
    assert dash.total == 6
    b = dash.breakdowns
    assert counts(b["concern_type"]) == {"extreme_right_wing": 3, "islamist": 1,
                                         "mixed_unclear_unstable": 1, "incel": 1}
    assert counts(b["source_sector"]) == {"education": 3, "health": 1, "police": 2}
    assert counts(b["institution"]) == {str(ids["school"]): 3, str(ids["gym"]): 2}
    assert b["institution"][0].label == "Ashbrook Park Academy"
    # Area comes from the first institution when none is given; the rest are "Not recorded".
    assert {x.label: x.count for x in b["area"]} == {"Ashbrook": 3, "Riverton": 1,
                                                     "Not recorded": 2}
    # Ages at the referral date: 13, 15 (a day short of 16), 16 (a day short of 17), 34, 23.
    assert counts(b["age_band"]) == {"12-15": 2, "16-17": 1, "25-39": 1, "18-24": 1,
                                     "Not known": 1}
    assert [(x.key, x.count) for x in b["month"]] == [("2025-01", 2), ("2025-02", 2),
                                                     ("2025-03", 0), ("2025-04", 2)]
    assert b["month"][0].label == "Jan 2025"
    assert age_band(11) == "Under 12" and age_band(40) == "40+"


def test_filters_and_drill_down(fixture_vault: tuple[Vault, dict[str, int]]) -> None:
    vault, ids = fixture_vault
    ps = PatternService(vault)
    feb_on = PatternFilter(start=date(2025, 2, 1), end=date(2025, 4, 30))
    dash = ps.dashboard(feb_on)
    assert dash.total == 4
    assert [x.key for x in dash.breakdowns["month"]] == ["2025-02", "2025-03", "2025-04"]
    assert counts(dash.breakdowns["source_sector"]) == {"education": 1, "health": 1, "police": 2}
    police = PatternFilter(source_sector="police")
    assert counts(ps.breakdown("concern_type", police)) == {"incel": 1, "extreme_right_wing": 1}
    assert sorted(ps.drill_down("concern_type", "extreme_right_wing")) == sorted(
        [ids["r0"], ids["r1"], ids["r5"]])
    assert ps.drill_down("concern_type", "extreme_right_wing", feb_on) == [ids["r5"]]
    assert sorted(ps.drill_down("institution", str(ids["gym"]))) == sorted([ids["r2"],
                                                                            ids["r4"]])
    assert ps.drill_down("age_band", "Not known") == [ids["r5"]]
    assert ps.drill_down("month", "2025-03") == []
    assert ps.drill_down("area", "") == [ids["r5"], ids["r3"]]  # newest first
    with pytest.raises(ValidationError):
        ps.breakdown("colour")
    with pytest.raises(ValidationError):
        PatternFilter(start=date(2025, 2, 1), end=date(2025, 1, 1))

"""Every Qt model of the Prevent window passes pytest-qt's model tester, and reads right."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any

import pytest

from app.domain.prevent import InstitutionInput, IntelInput, SubjectInput, VafInput
from app.domain.roles import Role
from app.services.assessments import AssessmentService
from app.services.institutions import InstitutionService
from app.services.intelligence import IntelFilter, IntelligenceService
from app.services.referrals import ReferralFilter, ReferralService
from app.services.vault import Vault
from tests.services.test_referrals import as_role, referral_input


@pytest.fixture
def analyst(vault: Vault) -> Vault:
    return as_role(vault, Role.ANALYST, "ana")


def test_referral_table_model_pages_and_puts_immediate_risk_first(
    analyst: Vault, qtmodeltester: Any
) -> None:
    from PySide6.QtCore import Qt

    from ui.prevent.models import RECORD_ROLE, SORT_ROLE, ReferralTableModel

    refs = ReferralService(analyst)
    now = datetime(2025, 6, 30, 12)
    for n in range(7):
        refs.add(referral_input(datetime(2025, 6, 2 + n, 9),
                                subject=SubjectInput(f"Person{n}", "Test", None),
                                immediate_risk=n == 5), now=now)
    today = date(2025, 6, 30)
    model = ReferralTableModel(
        refs.lists(), lambda f, o, n: refs.queue(f, offset=o, limit=n, today=today),
        page_size=3)
    flt = ReferralFilter()
    model.reset_with(flt, refs.count(flt), refs.queue(flt, limit=3, today=today))
    assert model.rowCount() == 3 and model.canFetchMore()
    qtmodeltester.check(model, force_py=True)
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 7  # the tester, still attached, checked every insert
    first = model.data(model.index(0, 0), RECORD_ROLE)
    assert first.immediate_risk and model.index(0, 0).data().endswith("!")
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    # The oldest undecided referral is overdue by 30 June: red status, shown as "over".
    statuses = [model.index(r, 8).data() for r in range(7)]
    assert "Overdue" in statuses
    overdue = statuses.index("Overdue", 1)  # row 0 is the immediate-risk one: red anyway
    assert "over" in model.index(overdue, 6).data()
    assert model.index(overdue, 8).data(Qt.ItemDataRole.ForegroundRole).color().name() \
        == "#b3261e"
    assert model.index(overdue, 7).data(SORT_ROLE) < date(2025, 6, 30)
    assert model.index(1, 2).data().count("/") == 2  # dd/mm/yyyy hh:mm
    model.clear()
    assert model.rowCount() == 0 and not model.canFetchMore()


def test_intel_institution_and_match_models(analyst: Vault, qtmodeltester: Any) -> None:
    from ui.prevent.models import (
        RECORD_ROLE,
        InstitutionTableModel,
        IntelTableModel,
        SubjectMatchTableModel,
    )

    refs = ReferralService(analyst)
    inst = InstitutionService(analyst).add(InstitutionInput("Riverton Boxing Club", "gym",
                                                            "Riverton"))
    ref = refs.add(referral_input(datetime(2025, 6, 2, 9), institution_ids=[inst.id],
                                  subject=SubjectInput("Harkness", "Wilf", date(2009, 1, 2))),
                   now=datetime(2025, 6, 30))
    intel = IntelligenceService(analyst)
    for n, handling in enumerate("PCP"):
        intel.add(IntelInput(f"Entry {n}", "2", "B", handling,
                             conditions="Not to leave CTP" if handling == "C" else "",
                             referral_ids=[refs.show(ref).id]), today=date(2025, 6, 30))
    model = IntelTableModel(lambda f, o, n: intel.rows(f, offset=o, limit=n), page_size=2)
    model.reset_with(IntelFilter(), intel.rows(limit=2))
    assert model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 3
    qtmodeltester.check(model, force_py=True)
    codes = {model.index(r, 2).data() for r in range(3)}
    assert codes == {"2/B/P", "2/B/C"}
    assert model.index(0, 5).data() == ref

    lists = refs.lists()
    imodel = InstitutionTableModel(lists)
    imodel.set_rows(InstitutionService(analyst).search())
    qtmodeltester.check(imodel, force_py=True)
    assert imodel.index(0, 1).data() == "Gym or sports club"
    assert imodel.index(0, 3).data() == "1"

    mmodel = SubjectMatchTableModel()
    matches = refs.possible_subject_matches("Harknes", "Wilf", date(2009, 1, 2))
    mmodel.set_rows(matches)
    qtmodeltester.check(mmodel, force_py=True)
    assert mmodel.rowCount() >= 1 and mmodel.index(0, 0).data().startswith("Earlier subject")
    assert mmodel.index(0, 2).data() == "02/01/2009"
    assert mmodel.data(mmodel.index(0, 0), RECORD_ROLE).kind == "person"
    assert mmodel.index(0, 4).data()  # the reasons are shown


def test_check_table_model_edits_in_place(qtmodeltester: Any) -> None:
    from PySide6.QtCore import Qt

    from ui.prevent.models import CheckTableModel

    model = CheckTableModel()
    qtmodeltester.check(model, force_py=True)
    row = model.add_check("PNC", date(2025, 6, 3))
    assert model.setData(model.index(row, 2), "  No trace  ")
    assert model.setData(model.index(row, 0), "PND")
    assert not model.setData(model.index(row, 1), "not a date")
    assert model.setData(model.index(row, 1), date(2025, 6, 4))
    assert model.flags(model.index(row, 2)) & Qt.ItemFlag.ItemIsEditable
    c = model.checks()[0]
    assert (c.system, c.searched_on, c.result) == ("PND", date(2025, 6, 4), "No trace")
    assert model.index(0, 1).data() == "04/06/2025"
    model.remove_check(0)
    assert model.rowCount() == 0


def test_vaf_comparison_model_highlights_what_changed(analyst: Vault,
                                                      qtmodeltester: Any) -> None:
    from PySide6.QtCore import Qt

    from ui.prevent.models import VafComparisonTableModel

    refs = ReferralService(analyst)
    ref = refs.add(referral_input(datetime(2025, 6, 2, 9)), now=datetime(2025, 6, 30))
    assess = AssessmentService(analyst)
    template = assess.vaf_template()
    codes = [f.code for f in template.factors]

    def vaf(reason: str = "", threat: str = "low", why: str = "No stated intent.",
            first: tuple[str, str] = ("low", "Some grievance.")) -> VafInput:
        factors = {c: ("low", f"Rationale {n}") for n, c in enumerate(codes)}
        factors[codes[0]] = first
        return VafInput(factors=factors, threat=threat, threat_rationale=why,
                        risk="medium", risk_rationale="Online exposure.",
                        vulnerability="high", vulnerability_rationale="Age and isolation.",
                        assessed_on=date(2025, 6, 20), change_reason=reason)

    v1 = assess.add_vaf(ref, vaf(), today=date(2025, 6, 30))
    v2 = assess.add_vaf(ref, vaf("New information from the school.", "medium",
                                 "Now talks of acting.", ("high", "Grievance voiced daily.")),
                        today=date(2025, 6, 30))
    result = assess.compare(v1.id, v2.id)
    model = VafComparisonTableModel({r.code: r.label for r in template.factor_ratings})
    model.set_comparison(result)
    qtmodeltester.check(model, force_py=True)
    rows = {model.index(r, 0).data(): r for r in range(model.rowCount())}
    threat = rows["Threat"]
    assert model.index(threat, 2).data() == "Medium"
    assert model.index(threat, 2).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(threat, 4).data() == "Now talks of acting."
    factor_row = next(r for label, r in rows.items() if label.startswith("1. "))
    assert model.index(factor_row, 2).data() == "High"
    assert model.index(factor_row, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    model.set_comparison(None)
    assert model.rowCount() == 0


def test_models_survive_a_large_demo_page(analyst: Vault, qtmodeltester: Any) -> None:
    from app.services.demo_prevent import generate_prevent
    from ui.prevent.models import ReferralTableModel

    generate_prevent(analyst, random.Random(2), 300, today=date(2025, 6, 30))
    refs = ReferralService(analyst)
    flt = ReferralFilter()
    model = ReferralTableModel(refs.lists(),
                               lambda f, o, n: refs.queue(f, offset=o, limit=n), page_size=100)
    model.reset_with(flt, refs.count(flt), refs.queue(flt, limit=100))
    qtmodeltester.check(model, force_py=True)
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 300
    ids = [model.record(r).id for r in range(300)]
    assert len(set(ids)) == 300

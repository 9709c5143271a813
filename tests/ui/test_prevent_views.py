"""The Prevent views on a real vault: live duplicate check and linking, intelligence grading
rules as typed, VAF versions and their comparison, the dashboard and its drill-down, and the
research summary export."""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.domain.prevent import SubjectInput
from app.domain.roles import Role
from app.services.vault import Vault
from tests.services.test_referrals import referral_input
from tests.support.ui_services import services_as
from tests.ui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def services(vault: Vault, qapp: Any, runner: Any, fake_dialogs: Any, settings: Any) -> Any:
    return services_as(vault, Role.ANALYST, "ana", qapp=qapp, runner=runner,
                       dialogs=fake_dialogs, settings=settings)


def test_intake_duplicate_check_offers_a_known_subject_to_link(services: Any,
                                                               qtbot: Any) -> None:
    from app.services.referrals import ReferralService
    from ui.prevent.intake import ReferralIntakeForm

    refs = services.get(ReferralService)
    first = refs.add(referral_input(datetime(2025, 5, 1, 9), subject=SubjectInput(
        "Abdulrahman", "Yusuf", date(2008, 4, 1))), now=datetime(2025, 6, 1))
    form = ReferralIntakeForm(services, refs.lists())
    qtbot.addWidget(form)
    form.show()
    qtbot.keyClicks(form.surname, "Abdul Rahman")  # the same name, written apart
    qtbot.keyClicks(form.forenames, "Yusef")
    assert form._timer.isActive()  # debounced: nothing asked yet
    qtbot.waitUntil(lambda: not form._timer.isActive() and not form.checking)
    assert form.match_model.rowCount() == 1 and form.matches.isVisible()
    assert "possible match" in form.match_status.text()
    form.matches.setFocus()
    qtbot.keyClick(form.matches, Qt.Key.Key_Return)  # Enter links the selected one
    assert form.linked is not None and form.linked.ref == first
    assert form.linked_label.isVisible() and first in form.linked_label.text()
    subject = form.subject()
    assert subject.person_id == form.linked.id
    form.concern.setCurrentIndex(1)
    form.sector.setCurrentIndex(1)
    qtbot.keyClicks(form.summary, "Second referral about the same young person.")
    form.save()
    detail = refs.show(refs.queue(limit=None)[-1].id)
    assert detail.person_id == refs.show(first).person_id  # one person, two referrals
    assert detail.ref != first


def test_intelligence_conditions_are_required_as_typed_for_handling_c(
    services: Any, qtbot: Any
) -> None:
    from app.services.intelligence import IntelligenceService
    from app.services.referrals import ReferralService
    from ui.prevent.intel import AddIntelDialog, IntelLogView

    lists = services.get(ReferralService).lists()
    dialog = AddIntelDialog(services, lists)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.conditions.isEnabled()
    dialog.handling.setCurrentIndex(dialog.handling.findData("C"))
    assert dialog.conditions.isEnabled() and dialog.code.text() == "1/A/C"
    qtbot.keyClicks(dialog.summary, "Seen with a proscribed group's flag at a rally.")
    dialog.submit()
    error = dialog.errors._fields["conditions"][1]
    assert error.isVisible() and "conditions" in error.text()
    qtbot.keyClicks(dialog.conditions, "Not to be shared outside CTP without the SIO.")
    assert not error.isVisible()  # fixed as typed
    dialog.submit()
    assert dialog.created is not None and dialog.created.grading_code == "1/A/C"
    rows = services.get(IntelligenceService).rows()
    assert [r.grading for r in rows] == ["1/A/C"]

    view = IntelLogView(services, lists)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.loading)
    assert view.model.index(0, 2).data() == "1/A/C"
    assert "Conditions: Not to be shared" in view.detail.text()


def test_vaf_new_versions_and_comparison(services: Any, qtbot: Any) -> None:
    from app.services.assessments import AssessmentService
    from app.services.referrals import ReferralService
    from ui.prevent.workspace import ReferralWorkspace

    refs = services.get(ReferralService)
    ref = refs.add(referral_input(datetime(2025, 5, 1, 9)), now=datetime(2025, 6, 1))
    ws = ReferralWorkspace(services, refs.lists(), ref)
    qtbot.addWidget(ws)
    ws.show()
    ws.show_tab("Vulnerability (VAF)")
    form = ws.vaf_form
    form.save()  # nothing rated: messages beside the rows, nothing saved
    first_code = next(iter(form.ratings))
    assert "Rate factor 1" in form.errors._fields[f"factors.{first_code}.rating"][1].text()
    assert services.get(AssessmentService).vaf_versions(ref) == []
    for code, combo in form.ratings.items():
        combo.setCurrentIndex(combo.findData("low"))
        form.rationales[code].setText(f"Seen in school, {code}.")
    for name, combo in form.levels.items():
        combo.setCurrentIndex(combo.findData("low"))
        form.level_rationales[name].setText(f"{name} low for now.")
    form.save()
    assert [v.version for v in services.get(AssessmentService).vaf_versions(ref)] == [1]

    form = ws.vaf_form  # rebuilt from version 1
    assert form.ratings[first_code].currentData() == "low"
    form.ratings[first_code].setCurrentIndex(form.ratings[first_code].findData("high"))
    form.rationales[first_code].setText("Grievance now voiced every day.")
    form.levels["threat"].setCurrentIndex(form.levels["threat"].findData("medium"))
    form.save()  # version 2 needs its reason
    assert form.errors._fields["change_reason"][1].isVisible()
    form.reason.setText("The school reported new remarks.")
    form.save()
    assert len(services.get(AssessmentService).vaf_versions(ref)) == 2

    ws.show_tab("Compare versions")
    view = ws.compare_view
    assert view.model.rowCount() == 2  # threat and factor 1 changed
    labels = [view.model.index(r, 0).data() for r in range(2)]
    assert labels[0] == "Threat" and labels[1].startswith("1. ")
    assert "The school reported new remarks." in view.reason.text()
    assert view.model.index(1, 4).data() == "Grievance now voiced every day."
    view.newer.setCurrentIndex(0)
    assert view.model.rowCount() == 0 and "two different" in view.reason.text()


def test_dashboard_draws_real_charts_and_drills_down(services: Any, qtbot: Any) -> None:
    from app.services.demo_prevent import generate_prevent
    from ui.prevent.patterns import PatternsDashboard

    generate_prevent(services._vault, random.Random(4), 800, today=date.today())
    dash = PatternsDashboard(services)
    qtbot.addWidget(dash)
    dash.resize(1156, 700)
    dash.show()
    qtbot.waitUntil(lambda: not dash.loading, timeout=15_000)
    assert dash.dashboard is not None and dash.dashboard.total > 0
    concern = dash.charts["concern_type"]
    assert concern.bar_set is not None
    assert sum(concern.bar_set.at(i) for i in range(concern.bar_set.count())) \
        == dash.dashboard.total
    assert dash.last_ms["total"] < 2000 and dash.last_ms["draw"] < 200
    # One bar per month, even when months share a label (QtCharts merges equal names).
    months = dash.charts["month"]
    assert len(months.bars) == len(dash.dashboard.breakdowns["month"]) >= 12
    assert months.bar_set is not None and months.bar_set.count() == len(months.bars)
    axis = next(a for a in months.chart_.axes() if hasattr(a, "categories"))
    assert len(axis.categories()) == len(months.bars)
    # A filter change redraws.
    before = dash.dashboard.total
    with qtbot.waitSignal(dash.drawn, timeout=15_000):
        dash.sector.setCurrentIndex(dash.sector.findData("education"))
    assert 0 < dash.dashboard.total < before
    # Keyboard drill-down: pick the top bar with an arrow key, Enter lists its referrals.
    sector = dash.charts["source_sector"]
    sector.setFocus()
    qtbot.keyClick(sector, Qt.Key.Key_Up)
    assert sector.picked == len(sector.bars) - 1
    picked = sector.bars[sector.picked]
    qtbot.keyClick(sector, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: getattr(dash, "last_drill", None) is not None, timeout=10_000)
    drill = dash.last_drill
    assert drill.model.total == picked.count == drill.model.rowCount() or \
        drill.model.total == picked.count
    assert all(r.source_sector == "education" for r in drill.model.records())
    drill.close()


def test_research_summary_exports_a_marked_pdf(services: Any, qtbot: Any,
                                               tmp_path: Path) -> None:
    from app.services.referrals import ReferralService
    from ui.prevent.research import ExportDialog, ResearchView

    refs = services.get(ReferralService)
    ref = refs.add(referral_input(datetime(2025, 5, 1, 9)), now=datetime(2025, 6, 1))
    view = ResearchView(services)
    qtbot.addWidget(view)
    qtbot.keyClicks(view.ref_picker.edit, ref)
    qtbot.keyClick(view.ref_picker.edit, Qt.Key.Key_Return)
    assert view.ref_picker.ids() == [refs.show(ref).id]
    qtbot.keyClicks(view.people_picker.edit, ref)
    qtbot.keyClick(view.people_picker.edit, Qt.Key.Key_Return)
    assert len(view.people_picker.ids()) == 1
    view.narrative.setPlainText("Three referrals from one school in a month.\n\nMore.")
    dialog = ExportDialog(services, "Export", "x.pdf")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.submit()
    assert not dialog.result() and dialog.errors._fields["recipient"][1].isVisible()
    out = tmp_path / "summary.pdf"
    view.run_export(view.ref_picker.ids(), [], view.people_picker.ids(),
                    "Regional Prevent lead", "Pattern review requested by the panel.", out)
    qtbot.waitUntil(lambda: not view.exporting, timeout=20_000)
    assert view.last_result is not None and out.exists()
    assert out.read_bytes().startswith(b"%PDF")
    assert Path(str(out) + ".sha256").exists()
    assert not view.result.isHidden() and "audit log" in view.result.text()


def test_queue_and_intelligence_tables_copy_rows_and_open_on_enter(services: Any,
                                                                   qtbot: Any) -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from app.domain.prevent import IntelInput
    from app.services.intelligence import IntelligenceService
    from app.services.referrals import ReferralService
    from ui.prevent.intel import IntelLogView
    from ui.prevent.queue import TriageQueueView

    refs = services.get(ReferralService)
    ref = refs.add(referral_input(datetime(2025, 5, 1, 9)), now=datetime(2025, 6, 1))
    services.get(IntelligenceService).add(
        IntelInput("Seen with associates (synthetic).", "2", "B", "P",
                   received_on=date.today()), today=date.today())
    board = QGuiApplication.clipboard()
    board.clear()
    try:
        queue = TriageQueueView(services, refs.lists())
        qtbot.addWidget(queue)
        queue.show()
        queue.activateWindow()  # shortcuts only reach the active window
        qtbot.waitUntil(lambda: QApplication.activeWindow() is queue)
        qtbot.waitUntil(lambda: not queue.loading and queue.model.rowCount() == 1)
        queue.table.setFocus()
        qtbot.keyClick(queue.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        assert board.text().startswith(f"{ref}\t")
        opened: list[int] = []
        queue.open_requested.connect(opened.append)
        qtbot.keyClick(queue.table, Qt.Key.Key_Return)
        assert len(opened) == 1

        log = IntelLogView(services)
        qtbot.addWidget(log)
        log.show()
        log.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is log)
        qtbot.waitUntil(lambda: not log.loading and log.model.rowCount() == 1)
        log.table.setFocus()
        log.table.selectRow(0)
        qtbot.keyClick(log.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        assert board.text().startswith("IN-") and "\t2/B/P\t" in board.text()
    finally:
        board.clear()

"""The meetings window's models and views: every model through qtmodeltester; the actions view's
filters and updates with history; the correspondence log form; the performance figures and
trend chart; the areas registered in the main window."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.domain.meetings import ActionInput, CorrespondenceInput, Direction, IsaInput, MeetingInput
from app.domain.roles import Role
from app.services.correspondence import CorrespondenceService
from app.services.meetings import MeetingService
from app.services.vault import Vault
from app.store.models import AuditEntry
from tests.services.test_meetings import add_nominal
from tests.services.test_referrals import as_role
from tests.ui import test_meetings_end_to_end as e2e
from tests.ui.conftest import OFFSCREEN_NOISE
from tests.ui.test_meetings_end_to_end import TODAY, Clock

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

services = e2e.services  # the same fixture: a coordinator's Services on a fresh vault


def seed(vault: Vault) -> dict[str, Any]:
    """Two TTCG meetings with three actions: one overdue, one open, one done."""
    nominal = add_nominal(vault, "ALPHA")
    svc = MeetingService(vault)
    m1 = svc.add(MeetingInput("ttcg", datetime(2026, 2, 3, 10), "DI Chair"), today=TODAY)
    m2 = svc.add(MeetingInput("ttcg", datetime(2026, 3, 3, 10), "DI Chair"), today=TODAY)
    late = svc.add_action(ActionInput("Chase probation", "P. Officer", date(2026, 2, 20),
                                      nominal, m1.id))
    soon = svc.add_action(ActionInput("Book review", "A. Officer", date(2026, 4, 1),
                                      None, m2.id))
    done = svc.add_action(ActionInput("Send minutes", "A. Officer", date(2026, 3, 5),
                                      None, m2.id))
    svc.update_action(done.ref, "Sent", status="done", today=TODAY)
    return {"nominal": nominal, "m1": m1, "m2": m2, "late": late, "soon": soon, "done": done}


def test_every_model_passes_the_model_tester(services: Any, vault: Vault, qtmodeltester: Any
                                             ) -> None:
    from app.services.performance import PerformanceService
    from ui.meetings.models import (
        ActionsTableModel,
        AgendaTableModel,
        CorrespondenceTableModel,
        MeetingsTableModel,
        ObjectRole,
        PerformanceTableModel,
        SortRole,
    )

    s = seed(vault)
    svc = MeetingService(vault)
    detail = svc.show(s["m2"].id, today=TODAY)
    CorrespondenceService(vault).add(CorrespondenceInput(
        "Probation", Direction.IN, TODAY, "Address update", reply_by=TODAY))
    figures = PerformanceService(vault, lambda: TODAY).figures(
        __import__("app.domain.meetings", fromlist=["month_period"]).month_period(2026, 3))
    models = [MeetingsTableModel(svc.meetings()), AgendaTableModel(detail.agenda),
              ActionsTableModel(svc.actions(today=TODAY)),
              CorrespondenceTableModel(CorrespondenceService(vault).log()),
              PerformanceTableModel(figures.figures)]
    for model in models:
        assert model.rowCount() > 0
        qtmodeltester.check(model)
        first = model.index(0, 0)
        assert first.data(ObjectRole) is model.record(0)
        assert first.data(SortRole) is not None
    actions = models[2]
    assert actions.record(0).ref == s["late"].ref  # overdue first
    due = actions.index(0, 3)
    assert due.data() == "20/02/2026  (overdue)"
    assert due.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert actions.index(1, 3).data(Qt.ItemDataRole.ForegroundRole) is None


def test_actions_view_filters_and_records_an_update_with_history(services: Any, qtbot: Any,
                                                                vault: Vault) -> None:
    from ui.meetings.actions import ActionsView

    s = seed(vault)
    view = ActionsView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    view.show()
    refs = [a.ref for a in view.model.rows()]
    assert refs == [s["late"].ref, s["soon"].ref]  # open by default, overdue first
    assert view.count.text() == "2 action(s), 1 overdue"

    view.status.setCurrentIndex(view.status.findData(""))
    assert len(view.model.rows()) == 3
    view.owner.setCurrentIndex(view.owner.findData("A. Officer"))
    assert {a.ref for a in view.model.rows()} == {s["soon"].ref, s["done"].ref}
    view.owner.setCurrentIndex(0)
    view.meeting.setCurrentIndex(view.meeting.findData(s["m1"].id))
    assert [a.ref for a in view.model.rows()] == [s["late"].ref]
    view.meeting.setCurrentIndex(0)
    view.overdue.setChecked(True)
    assert [a.ref for a in view.model.rows()] == [s["late"].ref]

    assert view.select(s["late"].ref)
    before = view.history.count()  # carrying the action to the next meeting is noted
    assert "overdue" in view.detail.text()
    view.new_status.setCurrentIndex(view.new_status.findData("done"))
    view.note.setPlainText("Probation confirmed the address.")
    qtbot.mouseClick(view.update_button, Qt.MouseButton.LeftButton)
    assert view.model.rows() == []  # no longer overdue
    view.overdue.setChecked(False)
    assert view.select(s["late"].ref)
    assert view.history.count() == before + 1
    text = view.history.item(before).text()
    assert "[open → done]" in text and "Probation confirmed the address." in text
    assert view.current() is not None and view.current().status == "done"  # type: ignore[union-attr]

    # An empty update is refused, plainly.
    view.note.clear()
    assert view.record_update() is None
    assert "note" in view.problem.text()


def test_actions_view_adds_an_action_to_the_filtered_meeting(services: Any, qtbot: Any,
                                                            vault: Vault) -> None:
    from ui.meetings.actions import ActionsView

    s = seed(vault)
    view = ActionsView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    view.meeting.setCurrentIndex(view.meeting.findData(s["m2"].id))
    dialog = view.open_new()
    dialog.text.setPlainText("Write to the school")
    dialog.owner.setCurrentText("C. Officer")
    dialog._check()
    made = view.current()
    assert made is not None and made.owner == "C. Officer" and made.meeting_ref == s["m2"].ref
    assert view.owner.findData("C. Officer") >= 0


def test_correspondence_log_adds_an_outgoing_item_under_an_isa(services: Any, qtbot: Any,
                                                               vault: Vault) -> None:
    from ui.meetings.correspondence import CorrespondenceView

    nominal = add_nominal(vault, "ALPHA")
    isa = CorrespondenceService(vault).add_isa(IsaInput(
        "Regional CT partners ISA", ("CTP", "Probation"), "Managing risk", date(2027, 1, 1)))
    view = CorrespondenceView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    assert view.model.rowCount() == 0
    assert view.isa.findData(isa.id) > 0

    # Out, without an ISA or a justification: refused next to the form.
    view.agency.setCurrentText("Probation")
    qtbot.keyClicks(view.subject, "Request for address check")
    assert view.add() is None and not view.problem.isHidden()
    assert "agreement" in view.problem.text()

    view.isa.setCurrentIndex(view.isa.findData(isa.id))
    view.kind.setCurrentIndex(max(view.kind.findData("mac"), 0))
    view.nominals.setText(nominal.lower())
    view.sent_on.setDate(view.sent_on.date().fromString("2026-03-02", "yyyy-MM-dd"))
    view.wants_reply.setChecked(True)
    view.reply_by.setDate(view.reply_by.date().fromString("2026-03-09", "yyyy-MM-dd"))
    made = view.add()
    assert made is not None, view.problem.text()
    assert made.isa_ref == isa.ref and made.nominal_refs == (nominal,)
    assert made.reply_by == date(2026, 3, 9)
    assert view.model.rowCount() == 1 and view.count.text() == "1 item(s); 1 reply overdue"
    assert view.subject.text() == "" and not view.wants_reply.isChecked()
    with vault.read() as s:
        disclosures = [e for e in s.scalars(select(AuditEntry))
                       if e.category == "disclosure" and e.ref == made.ref]
    assert len(disclosures) == 1 and disclosures[0].recipient == "Probation"

    view.awaiting.setChecked(True)
    assert view.model.rowCount() == 1
    view.agency_filter.setCurrentIndex(view.agency_filter.findData("Probation"))
    assert view.model.rowCount() == 1


def test_performance_view_shows_figures_and_the_trend(services: Any, qtbot: Any,
                                                      vault: Vault) -> None:
    from ui.meetings.performance import PerformanceView, period_choices

    s = seed(vault)
    MeetingService(vault).update_action(s["soon"].ref, "Done early", status="done",
                                        today=TODAY)
    choices = [p.key for p in period_choices(TODAY)]
    assert choices[0] == "2026-03" and choices[11] == "2025-04"
    assert choices[12:] == ["2026-Q1", "2025-Q4", "2025-Q3", "2025-Q2"]
    view = PerformanceView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitUntil(lambda: view.loading == 0 and view.report is not None, timeout=20_000)
    codes = [f.code for f in view.model.rows()]
    assert "actions_on_time" in codes
    assert len(view.trend) == 12 and view.trend[-1].period.key == "2026-03"
    assert view.current() is not None
    # Pick the actions target: its chart has 12 points of the trend and a target line.
    row = codes.index("actions_on_time")
    view.view.selectRow(row)
    figure = view.current()
    assert figure is not None and figure.code == "actions_on_time"
    series = view.chart.series()
    assert [x.name() for x in series][0] == "Actual"
    assert series[1].count() == 12
    assert view.chart.title().startswith(figure.label)
    points = view.trend_points("actions_on_time")
    assert len(points) == 12 and points[-1][0] == "Mar 26"
    assert points[-1][1] == view.trend[-1].figure("actions_on_time").value
    # March 2026: "Send minutes" (due 5 March) closed on 10 March, late; "Book review" done
    # early but not due in March: on time = 0 of 1.
    march = view.report.figure("actions_on_time") if view.report else None  # type: ignore[union-attr]
    assert march is not None and (march.numerator, march.denominator) == (0, 1)

    view.period.setCurrentIndex(view.period.findData("2026-Q1"))
    qtbot.waitUntil(lambda: view.loading == 0 and view.report is not None
                    and view.report.period.key == "2026-Q1", timeout=20_000)
    assert "Q1 2026" in view.status.text()
    assert view.current() is not None and view.current().code == "actions_on_time"  # type: ignore[union-attr]


def test_areas_are_registered_for_the_right_roles(qapp: Any, tmp_path: Any) -> None:
    from PySide6.QtCore import QSettings

    from tests.ui.conftest import dispose
    from ui.areas import install_standard_areas
    from ui.main_window import MainWindow
    from ui.preferences import Preferences

    window = MainWindow(Preferences(QSettings(str(tmp_path / "s.ini"),
                                              QSettings.Format.IniFormat)))
    try:
        install_standard_areas(window)
        keys = {a.key: a for a in window.areas()}
        for key in ("meetings", "correspondence", "performance"):
            assert key in keys
        assert keys["meetings"].position == 400 and keys["correspondence"].position == 500
        assert "actions" not in keys  # a tab of the meetings area
    finally:
        dispose(window)


def test_workspace_rereads_the_action_log_when_its_tab_is_shown(services: Any, qtbot: Any,
                                                                vault: Vault) -> None:
    from ui.meetings.workspace import MeetingsWorkspace

    work = MeetingsWorkspace(services, today=Clock(TODAY))
    qtbot.addWidget(work)
    assert work.action_log.model.rowCount() == 0
    s = seed(vault)  # actions raised after the area was built
    work.tabs.setCurrentWidget(work.action_log)
    assert {a.ref for a in work.action_log.model.rows()} == {s["late"].ref, s["soon"].ref}
    assert work.action_log.meeting.findData(s["m1"].id) > 0


def test_viewer_cannot_log_correspondence(services: Any, qtbot: Any, vault: Vault) -> None:
    from ui.meetings.correspondence import CorrespondenceView

    as_role(vault, Role.VIEWER, "vic")
    view = CorrespondenceView(services, today=Clock(TODAY - timedelta(days=1)))
    qtbot.addWidget(view)
    assert not view.add_button.isEnabled()


def test_partner_agency_shows_the_start_of_a_long_name(services: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication

    from ui.meetings.correspondence import CorrespondenceView

    view = CorrespondenceView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    view.resize(1280, 700)
    view.show()
    qtbot.waitExposed(view)
    view.show_form(True)
    view.activateWindow()  # focus moves within the active window only
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    line = view.agency.lineEdit()
    assert line is not None
    long_name = "Northshire and Westvale Joint Probation and Youth Offending Partnership Board"
    # Set by the program (a reply, or the choices reloaded) while not focused: the start shows.
    view.agency.setCurrentText(long_name)
    assert line.text() == long_name and line.cursorPosition() == 0
    view.load_choices()
    assert line.text() == long_name and line.cursorPosition() == 0
    # Typed: the cursor follows the typing, then goes back to the start when focus leaves.
    view.agency.setCurrentText("")
    line.setFocus()
    qtbot.waitUntil(line.hasFocus)
    qtbot.keyClicks(line, long_name)
    assert line.cursorPosition() == len(long_name)
    view.subject.setFocus()
    qtbot.waitUntil(view.subject.hasFocus)
    assert line.text() == long_name and line.cursorPosition() == 0
    # What is painted is the start of the name (a left-aligned line edit scrolled to 0).
    assert line.cursorRect().left() < line.width() // 4


def test_meeting_tables_are_record_tables(services: Any, qtbot: Any, vault: Vault) -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QAbstractItemView

    from ui.meetings.meetings import MeetingsArea

    seed(vault)
    view = MeetingsArea(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    table = view.view
    assert table.selectionMode() == QAbstractItemView.SelectionMode.SingleSelection
    assert table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    assert table.isSortingEnabled() and not table.tabKeyNavigation()
    assert table.horizontalHeader().sortIndicatorSection() == 1  # newest first
    assert table.model().rowCount() == 2
    # The agenda and the actions raised keep their own order (no header sort).
    assert not view.editor.agenda.isSortingEnabled()
    assert not view.editor.actions_table.isSortingEnabled()
    # Ctrl+C (the table's copy action) puts the selected row, visible columns only, on the
    # clipboard.
    board = QGuiApplication.clipboard()
    board.clear()
    table.selectRow(0)
    copy = next(a for a in table.actions() if a.objectName() == "copySelection")
    copy.trigger()
    shown = [c for c in range(table.model().columnCount()) if not table.isColumnHidden(c)]
    assert board.text() == "\t".join(str(table.model().index(0, c).data() or "")
                                     for c in shown)
    assert board.text().count("\t") == len(shown) - 1 >= 2
    board.clear()

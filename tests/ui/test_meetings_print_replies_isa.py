"""The meetings window's remaining pieces, as a coordinator uses them: print the meeting pack
from the editor (in memory, every page, audited as a disclosure), export the action log and
performance returns from their views through the export dialog, log a reply from the
correspondence thread, and keep the ISA register (add with checks as you type, edit, retire,
delete only when unused)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.meetings import (
    ActionInput,
    CorrespondenceInput,
    Direction,
    IsaInput,
    MeetingInput,
    NominalPick,
)
from app.domain.roles import Role
from app.services.calendar import CalendarService
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

services = e2e.services  # a coordinator's Services on a fresh vault
AGENCY = "HMPPS Probation Service"


def _entries(vault: Vault, action: str) -> list[AuditEntry]:
    with vault.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _page_count(path: Path) -> int:
    from PySide6.QtPdf import QPdfDocument

    doc = QPdfDocument()
    doc.load(str(path))
    count = doc.pageCount()
    doc.close()
    return count


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """The print dialog, accepted by a pretend user, with the printer aimed at a PDF file.

    Only this test writes the printout to a file (to count its pages): the window itself never
    offers printing to a file."""
    from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
    from PySide6.QtWidgets import QDialog

    seen: dict[str, Any] = {"out": tmp_path / "printout.pdf", "accept": True, "shown": 0}

    def fake_exec(dialog: QPrintDialog) -> int:
        seen["shown"] += 1
        seen["print_to_file"] = dialog.testOption(
            QAbstractPrintDialog.PrintDialogOption.PrintToFile)
        printer = dialog.printer()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(seen["out"]))
        return int(QDialog.DialogCode.Accepted if seen["accept"]
                   else QDialog.DialogCode.Rejected)

    monkeypatch.setattr(QPrintDialog, "exec", fake_exec)
    return seen


def _meeting_with_nominals(vault: Vault) -> Any:
    refs = [add_nominal(vault, f"PRINTUI{i}") for i in range(2)]
    svc = MeetingService(vault)
    svc.add_action(ActionInput("Chase probation", "P. Officer", date(2026, 2, 20), refs[0]))
    return svc.add(MeetingInput("ttcg", datetime(2026, 3, 17, 10), "DI Chair",
                                nominals=tuple(NominalPick(r, "Review") for r in refs)),
                   today=TODAY)


def test_print_pack_from_the_editor(services: Any, qtbot: Any, vault: Vault,
                                    printed: dict[str, Any]) -> None:
    from ui.meetings.meetings import MeetingsArea

    meeting = _meeting_with_nominals(vault)
    area = MeetingsArea(services, today=Clock(TODAY))
    qtbot.addWidget(area)
    assert not area.editor.print_button.isEnabled()  # nothing chosen yet
    area.open_meeting(meeting.id)
    assert area.editor.print_button.isEnabled()
    dialog = area.editor.print_pack()
    assert dialog is not None and dialog.printing
    dialog.show()
    # No destination and no file name: printing writes no file.
    assert not dialog.folder.isVisible() and not dialog.name.isVisible()
    assert dialog.start() is None and "recipient" in dialog.problem.text()
    dialog.recipient.setCurrentText("Regional TTCG members")
    assert dialog.start() is None and "justification" in dialog.problem.text()
    dialog.justification.setPlainText("Pack for members at the meeting, under the ISA.")
    assert dialog.start() is not None
    qtbot.waitUntil(lambda: dialog.pages_printed > 0 or dialog.problem.isVisible(),
                    timeout=60_000)
    assert not dialog.problem.isVisible(), dialog.problem.text()
    assert printed["shown"] == 1 and printed["print_to_file"] is False

    (row,) = _entries(vault, "print.pack")
    detail = json.loads(row.detail or "{}")
    assert row.category == "disclosure" and row.ref == meeting.ref and row.user == "carol"
    assert row.recipient == "Regional TTCG members"
    assert row.reason == "Pack for members at the meeting, under the ISA."
    assert detail["kind"] == "print" and detail["pages"] == dialog.pages_printed
    assert detail["sha256"] == dialog.sha256 and len(detail["nominals"]) == 2
    # Every page of the pack reached the printer.
    assert _page_count(printed["out"]) == dialog.pages_printed >= 5
    assert f"Printed {dialog.pages_printed} page(s)" in dialog.outcome.text()
    assert _entries(vault, "export.pack") == []  # printing is not an export


def test_cancelled_print_records_nothing(services: Any, qtbot: Any, vault: Vault,
                                         printed: dict[str, Any]) -> None:
    from ui.meetings.meetings import MeetingsArea

    meeting = _meeting_with_nominals(vault)
    printed["accept"] = False
    area = MeetingsArea(services, today=Clock(TODAY))
    qtbot.addWidget(area)
    area.open_meeting(meeting.id)
    dialog = area.editor.print_pack()
    assert dialog is not None
    dialog.recipient.setCurrentText("Members")
    dialog.justification.setPlainText("Meeting")
    dialog.start()
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=60_000)
    assert "cancelled" in dialog.problem.text() and printed["shown"] == 1
    assert _entries(vault, "print.pack") == [] and not printed["out"].exists()
    assert dialog.build_button.isEnabled()  # can try again


def _export(qtbot: Any, dialog: Any, folder: Path, name: str) -> Path:
    dialog.folder.setEditText(str(folder))
    dialog.name.setText(name)
    dialog.recipient.setCurrentText("Regional TTCG chair")
    dialog.justification.setPlainText("Chair's report for the meeting")
    dialog.start_export()
    qtbot.waitUntil(lambda: dialog.disclosure is not None or dialog.problem.isVisible(),
                    timeout=60_000)
    assert not dialog.problem.isVisible(), dialog.problem.text()
    return folder / name


def test_actions_view_exports_the_action_log_return(services: Any, qtbot: Any, vault: Vault,
                                                    tmp_path: Path) -> None:
    from ui.meetings.actions import ActionsView

    _meeting_with_nominals(vault)
    view = ActionsView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    assert view.export_button.isEnabled()
    # Not registered with qtbot: a child of the view, it goes when the view does (closing it
    # again after the view was deleted would fail the teardown).
    dialog = view.open_export()
    assert dialog.choice.key == "actions" and dialog.period_row.isEnabled()
    assert dialog.start.date().toString("yyyy-MM-dd") == "2025-03-10"
    out = _export(qtbot, dialog, tmp_path, "actions.xlsx")
    assert out.exists() and (tmp_path / "actions.xlsx.sha256").exists()
    (row,) = _entries(vault, "export.actions")
    assert row.category == "disclosure" and row.recipient == "Regional TTCG chair"
    assert row.reason == "Chair's report for the meeting"


def test_performance_view_exports_the_chosen_period(services: Any, qtbot: Any, vault: Vault,
                                                    tmp_path: Path) -> None:
    from ui.meetings.performance import PerformanceView

    view = PerformanceView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.loading == 0, timeout=20_000)
    view.period.setCurrentIndex(view.period.findData("2026-Q1"))
    qtbot.waitUntil(lambda: view.loading == 0, timeout=20_000)
    # Not registered with qtbot: a child of the view, it goes when the view does (closing it
    # again after the view was deleted would fail the teardown).
    dialog = view.open_export()
    assert dialog.choice.key == "performance"
    assert (dialog.start.date().toString("yyyy-MM-dd"),
            dialog.end.date().toString("yyyy-MM-dd")) == ("2026-01-01", "2026-03-31")
    out = _export(qtbot, dialog, tmp_path, "performance.xlsx")
    assert out.exists()
    (row,) = _entries(vault, "export.performance")
    assert row.category == "disclosure" and row.recipient == "Regional TTCG chair"


def test_viewer_has_no_export_or_print(services: Any, qtbot: Any, vault: Vault) -> None:
    from ui.meetings.actions import ActionsView
    from ui.meetings.meetings import MeetingsArea

    meeting = _meeting_with_nominals(vault)
    as_role(vault, Role.VIEWER, "vic")
    view = ActionsView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    assert not view.export_button.isEnabled()
    area = MeetingsArea(services, today=Clock(TODAY))
    qtbot.addWidget(area)
    area.open_meeting(meeting.id)
    assert not area.editor.print_button.isEnabled()


def test_reply_logged_from_the_thread(services: Any, qtbot: Any, vault: Vault) -> None:
    from ui.meetings.correspondence import CorrespondenceView

    svc = CorrespondenceService(vault)
    nominal = add_nominal(vault, "THREAD")
    isa = svc.add_isa(IsaInput("Regional ISA", ("CTP", AGENCY), "Managing risk",
                               date(2027, 1, 1)))
    asked = svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 2),
                                        "Request for licence conditions", "information_request",
                                        isa_id=isa.id, nominal_refs=(nominal,),
                                        reply_by=date(2026, 3, 9)))
    view = CorrespondenceView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    assert view.count.text() == "1 item(s); 1 reply overdue"
    reply_col = view.model.columns.index(next(c for c in view.model.columns
                                              if c.title == "Reply"))
    assert view.model.index(0, reply_col).data() == "Overdue 09/03/2026"
    assert not view.reply_button.isEnabled()
    assert view.select(asked.ref)
    assert view.thread_tree.topLevelItemCount() == 1
    assert "no reply linked yet (reply overdue)" in view.thread_title.text()

    assert view.reply_button.isEnabled()
    view.reply_button.click()
    assert not view.banner_box.isHidden() and asked.ref in view.reply_banner.text()
    assert view.direction.currentData() == "in" and view.agency.currentText() == AGENCY
    assert view.subject.text() == "Re: Request for licence conditions"
    assert view.isa.currentData() == isa.id and view.nominals.text() == nominal
    made = view.add()
    assert made is not None, view.problem.text()
    assert made.reply_to_ref == asked.ref and view.banner_box.isHidden()
    assert view.count.text() == "2 item(s); 0 reply overdue"
    assert view.current() is not None and view.current().ref == made.ref  # type: ignore[union-attr]
    top = view.thread_tree.topLevelItem(0)
    assert top.text(0) == asked.ref and top.childCount() == 1
    assert top.child(0).text(0) == made.ref and top.text(5) == "Replied 10/03/2026"
    row = next(r for r in range(view.model.rowCount())
               if view.model.record(r).ref == asked.ref)
    assert view.model.index(row, reply_col).data() == "Replied 10/03/2026"
    assert "the item and 1 reply" in view.thread_title.text()
    assert CalendarService(vault).items(date(2026, 3, 1), date(2026, 3, 31),
                                        kinds=["action_due"]) == []

    # An incoming item logged on its own, then linked to what it answers.
    view.select(asked.ref)
    later = svc.add(CorrespondenceInput(AGENCY, Direction.IN, date(2026, 3, 10),
                                        "Further conditions"))
    view.refresh()
    assert view.select(later.ref)
    assert view.link_button.isEnabled()
    services.dialogs.answers["choose"] = [f"{asked.ref}  02/03/2026  "
                                          "Request for licence conditions"]
    linked = view.link_selected()
    assert linked is not None and linked.reply_refs == (made.ref, later.ref)
    assert view.thread_tree.topLevelItem(0).childCount() == 2


def test_isa_register_add_edit_retire_delete(services: Any, qtbot: Any, vault: Vault) -> None:
    from PySide6.QtCore import Qt

    from ui.meetings.correspondence import CorrespondenceWorkspace

    work = CorrespondenceWorkspace(services, today=Clock(TODAY))
    qtbot.addWidget(work)
    work.resize(1300, 800)
    reg = work.register
    work.tabs.setCurrentWidget(reg)
    work.show()
    assert reg.stack.currentWidget() is reg.empty  # says what to do
    assert work.log_view.isa.count() == 1  # "None (give a justification)" only

    dialog = reg.open_new()
    dialog.show()
    qtbot.keyClicks(dialog.title_edit, "Regional CT nominal management ISA")
    qtbot.keyClicks(dialog.parties, "Counter Terrorism Policing")
    parties_error = dialog.errors["parties"][1]
    assert parties_error.isVisible() and "at least two parties" in parties_error.text()
    qtbot.keyClick(dialog.parties, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.parties, "HMPPS Probation Service")
    assert not parties_error.isVisible()  # fixed as typed
    assert not dialog.errors["purpose"][1].isVisible()  # untouched: no nagging yet
    dialog.ok_button.click()  # refused: the purpose is missing
    assert dialog.isVisible() and dialog.errors["purpose"][1].isVisible()
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.purpose, "Managing TACT offenders in the community")
    assert dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.legal_basis, "DPA 2018 Part 3 s.35")
    dialog.review.setDate(dialog.review.date().fromString("2026-02-01", "yyyy-MM-dd"))
    dialog.ok_button.click()
    assert not dialog.isVisible()
    assert reg.model.rowCount() == 1 and reg.stack.currentIndex() == 1
    isa = reg.model.rows()[0]
    assert isa.legal_basis == "DPA 2018 Part 3 s.35" and isa.review_overdue(TODAY)
    # The overdue review stands out, and the log can now pick the agreement.
    state_col = [c.title for c in reg.model.columns].index("State")
    cell = reg.model.index(0, state_col)
    assert cell.data() == "Review overdue"
    assert cell.data(Qt.ItemDataRole.ForegroundRole).color().name() == "#b3261e"
    assert "1 review(s) overdue" in reg.count.text()
    assert work.log_view.isa.findData(isa.id) > 0
    assert "(review overdue)" in work.log_view.isa.itemText(work.log_view.isa.findData(isa.id))

    # Edit: the review is done, next one in a year.
    assert reg.select(isa.ref)
    edit = reg.open_edit()
    assert edit is not None and edit.title_edit.text() == isa.title
    edit.review.setDate(edit.review.date().fromString("2027-02-01", "yyyy-MM-dd"))
    edit.ok_button.click()
    assert reg.current() is not None and reg.current().review_date == date(2027, 2, 1)  # type: ignore[union-attr]
    assert [e.ref for e in _entries(vault, "isa.update")] == [isa.ref]

    # Once relied on, it cannot be deleted, only retired.
    CorrespondenceService(vault).add(CorrespondenceInput(AGENCY, Direction.OUT, TODAY, "Update",
                                                         isa_id=isa.id))
    reg.refresh()
    assert reg.current() is not None and reg.current().used_by == 1  # type: ignore[union-attr]
    assert not reg.delete_button.isEnabled() and reg.retire_button.isEnabled()
    services.dialogs.answers["ask_text"] = ["Superseded by the 2026 agreement"]
    retired = reg.retire()
    assert retired is not None and retired.status == "ended"
    assert reg.model.rowCount() == 0 and reg.stack.currentWidget() is reg.empty
    reg.show_retired.setChecked(True)
    assert reg.model.rowCount() == 1 and reg.stack.currentIndex() == 1
    assert reg.model.index(0, state_col).data() == "Retired 10/03/2026"
    assert work.log_view.isa.findData(isa.id) < 0  # no longer offered for new items
    assert [e.reason for e in _entries(vault, "isa.retire")] == [
        "Superseded by the 2026 agreement"]

    # One entered in error and never used can be deleted.
    spare = CorrespondenceService(vault).add_isa(IsaInput(
        "Entered twice", ("CTP", AGENCY), "Duplicate", date(2027, 1, 1)))
    reg.refresh()
    assert reg.select(spare.ref) and reg.delete_button.isEnabled()
    services.dialogs.answers["ask_text"] = ["Duplicate entry"]
    assert reg.delete() == spare.ref
    assert spare.ref not in {i.ref for i in reg.model.rows()}


def test_models_pass_the_model_tester(services: Any, vault: Vault, qtmodeltester: Any) -> None:
    from ui.meetings.isa import IsaTableModel
    from ui.meetings.models import CorrespondenceTableModel

    svc = CorrespondenceService(vault)
    isa = svc.add_isa(IsaInput("Regional ISA", ("CTP", AGENCY), "Managing risk",
                               date(2026, 1, 1), legal_basis="DPA 2018 Part 3"))
    out = svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 2), "Ask",
                                      isa_id=isa.id, reply_by=date(2026, 3, 9)))
    svc.add(CorrespondenceInput(AGENCY, Direction.IN, date(2026, 3, 4), "Answer",
                                reply_to=out.ref))
    isas = IsaTableModel(Clock(TODAY))
    isas.set_rows(svc.isas())
    qtmodeltester.check(isas)
    log = CorrespondenceTableModel(today=Clock(TODAY))
    log.set_rows(svc.log())
    qtmodeltester.check(log)


def test_viewer_sees_the_register_but_cannot_change_it(services: Any, qtbot: Any,
                                                       vault: Vault) -> None:
    from ui.meetings.isa import IsaRegisterView

    isa = CorrespondenceService(vault).add_isa(IsaInput(
        "Regional ISA", ("CTP", AGENCY), "Managing risk", date(2027, 1, 1)))
    as_role(vault, Role.VIEWER, "vic")
    reg = IsaRegisterView(services, today=Clock(TODAY))
    qtbot.addWidget(reg)
    assert reg.select(isa.ref)
    assert not any(b.isEnabled() for b in (reg.new_button, reg.edit_button,
                                           reg.retire_button, reg.delete_button))
    assert reg.open_edit() is None

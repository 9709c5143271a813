"""Screenshots of the meetings window on a small demo vault, saved as PNGs (1366x768) to
/tmp/caseward-shots/: the meeting editor (with carried actions), the suggestions, the pack dialog
and the print-pack dialog, the actions view and its export dialog, the correspondence log with a
thread and a reply being logged, the ISA register (empty, filled, and its form with a check
failing) and the performance view.

Usage: .venv/bin/python scripts/screenshots_meetings.py [OUT_DIR]
Uses a throw-away home folder, an in-memory keyring and synthetic data only."""

from __future__ import annotations

import sys

import _shots  # first (sorts first too): a throw-away home and offscreen Qt before the app
from _shots import HOME, SIZE, over_backdrop, settle, wait_until
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.domain.roles import Role
from app.services.meetings import MeetingService
from app.services.vault import Actor
from ui.ops import OpRunner
from ui.widgets import MarkingBanner


def framed(view: QWidget) -> QWidget:
    """The view under the protective-marking banner, as the main window shows it."""
    frame = QWidget()
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(MarkingBanner())
    layout.addWidget(view, 1)
    frame.resize(*SIZE)
    frame.show()
    return frame


def main() -> None:
    out = _shots.out_dir(sys.argv[1] if len(sys.argv) > 1 else None)
    app = _shots.qt_app()
    vault = _shots.demo_vault(HOME / "demo.cwv", 200, seed=1)
    vault.actor = Actor("j.hale", Role.COORDINATOR)
    ops = OpRunner()
    services = _shots.services_for(vault, ops)
    from app.services.correspondence import CorrespondenceService
    from ui.meetings.actions import ActionsView
    from ui.meetings.correspondence import CorrespondenceWorkspace
    from ui.meetings.isa import IsaRegisterView
    from ui.meetings.meetings import MeetingsArea
    from ui.meetings.performance import PerformanceView

    # The meeting editor: the latest meeting with carried actions (else the latest).
    area = MeetingsArea(services)
    frame = framed(area)
    rows = services.get(MeetingService).meetings(limit=60)
    chosen = rows[0]
    for row in rows:
        detail = services.get(MeetingService).show(row.id)
        if detail.items("carried") and detail.items("nominal"):
            chosen = row
            break
    area.open_meeting(chosen.id)
    editor = area.editor
    carried = editor.detail.items("carried") if editor.detail else []
    pick = carried[0] if carried else None
    if pick is not None:
        editor.select_item(pick.id)
    settle(app)
    frame.grab().save(str(out / "meetings-editor.png"))
    backdrop = frame.grab().toImage()
    suggest = editor.open_suggestions()
    if suggest is not None:
        if suggest.list.count():
            suggest.list.item(0).setCheckState(suggest.list.item(0).checkState().Checked)
        settle(app)
        over_backdrop(backdrop, suggest).save(str(out / "meetings-suggest.png"))
        suggest.reject()
    pack = editor.open_pack()
    if pack is not None:
        pack.recipient.setCurrentText("Regional TTCG members")
        pack.justification.setPlainText("Meeting pack for members (ISA-000001).")
        pack.folder.setCurrentText(str(HOME))
        pack.start()
        wait_until(app, lambda: pack.result_path is not None or pack.problem.isVisible())
        settle(app)
        over_backdrop(backdrop, pack).save(str(out / "meetings-pack.png"))
        print("pack:", pack.result_path, pack.problem.text())
        pack.accept()
    printing = editor.print_pack()
    if printing is not None:
        printing.recipient.setCurrentText("Regional TTCG members")
        printing.justification.setPlainText("Printed pack for members at the meeting.")
        settle(app)
        over_backdrop(backdrop, printing).save(str(out / "meetings-print-pack.png"))
        printing.reject()
    frame.close()

    actions = ActionsView(services)
    frame = framed(actions)
    actions.status.setCurrentIndex(actions.status.findData(""))
    if actions.model.rowCount():
        actions.view.selectRow(0)
    settle(app)
    frame.grab().save(str(out / "meetings-actions.png"))
    backdrop = frame.grab().toImage()
    export = actions.open_export()
    export.recipient.setCurrentText("Regional TTCG chair")
    export.justification.setPlainText("Chair's report for the monthly TTCG.")
    settle(app)
    over_backdrop(backdrop, export).save(str(out / "meetings-actions-export.png"))
    export.reject()
    frame.close()

    work = CorrespondenceWorkspace(services)
    frame = framed(work)
    corr = work.log_view
    threaded = next((r for r in corr.model.rows() if r.reply_refs), None)
    if threaded is not None:
        corr.select(threaded.ref)
    settle(app)
    frame.grab().save(str(out / "meetings-correspondence.png"))
    awaited = next((r for r in corr.model.rows()
                    if r.reply_state(corr.today()) in ("Reply overdue", "Awaiting reply")), None)
    if awaited is not None:
        corr.select(awaited.ref)
        corr.start_reply(awaited)
        settle(app)
        frame.grab().save(str(out / "meetings-correspondence-reply.png"))
        corr.cancel_reply()
    work.tabs.setCurrentWidget(work.register)
    register = work.register
    # The row with the overdue review is left unselected so that its tint shows; the one
    # below it is chosen to show the details line.
    others = [i for i in register.model.rows() if not i.review_overdue(register.today())]
    if others:
        register.select(others[0].ref)
    settle(app)
    frame.grab().save(str(out / "meetings-isa-register.png"))
    backdrop = frame.grab().toImage()
    form = register.open_new()
    form.title_edit.setText("Youth offending service liaison agreement")
    form.parties.setPlainText("Counter Terrorism Policing")
    form.purpose.setPlainText("Sharing of case information on young people managed by both "
                              "agencies.")
    settle(app)
    over_backdrop(backdrop, form).save(str(out / "meetings-isa-dialog.png"))
    form.reject()
    frame.close()

    from ui.dialogs import RecordingDialogs
    from ui.services import Services

    empty_vault = _shots.new_vault(HOME / "empty.cwv")
    empty_vault.actor = Actor("j.hale", Role.COORDINATOR)
    empty_services = Services(empty_vault, ops=ops, dialogs=RecordingDialogs(),
                              prefs=services.prefs)
    assert not empty_services.get(CorrespondenceService).isas()
    empty = IsaRegisterView(empty_services)
    frame = framed(empty)
    settle(app)
    frame.grab().save(str(out / "meetings-isa-empty.png"))
    frame.close()
    empty_vault.lock()

    perf = PerformanceView(services)
    frame = framed(perf)
    wait_until(app, lambda: perf.loading == 0 and perf.report is not None)
    codes = [f.code for f in perf.model.rows()]
    if "actions_on_time" in codes:
        perf.view.selectRow(codes.index("actions_on_time"))
    settle(app)
    frame.grab().save(str(out / "meetings-performance.png"))
    frame.close()
    ops.wait()
    vault.lock()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()

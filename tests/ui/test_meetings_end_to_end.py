"""The meetings window end to end, as a coordinator would use it: create a meeting, put nominals
on its agenda (picked and suggested), minute an item, raise an action that goes overdue, create
the next meeting of the type and see the action carried, then build the pack through its dialog
and find the file, its checksum and the disclosure in the audit log."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDateTime, Qt, QTime
from sqlalchemy import select

from app.domain.roles import Role
from app.services.meetings import ActionFilter, MeetingService
from app.services.vault import Vault
from app.store.models import AuditEntry
from tests.services.test_meetings import add_nominal
from tests.services.test_referrals import as_role
from tests.support.ui_services import services_as
from tests.ui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

TODAY = date(2026, 3, 10)


class Clock:
    """An injected `today` the test can move on."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


@pytest.fixture
def services(vault: Vault, qapp: Any, runner: Any, fake_dialogs: Any, settings: Any) -> Any:
    return services_as(vault, Role.COORDINATOR, "carol", qapp=qapp, runner=runner,
                       dialogs=fake_dialogs, settings=settings)


def set_when(editor: Any, at: datetime) -> None:
    from ui.prevent.common import qdate

    editor.when.setDateTime(QDateTime(qdate(at.date()), QTime(at.hour, at.minute)))


def test_meeting_to_carried_action_to_audited_pack(services: Any, qtbot: Any,
                                                   tmp_path: Path, vault: Vault) -> None:
    from ui.meetings.meetings import MeetingsArea
    from ui.meetings.models import ObjectRole

    alpha = add_nominal(vault, "ALPHA")
    bravo = add_nominal(vault, "BRAVO")
    clock = Clock(TODAY)
    area = MeetingsArea(services, today=clock)
    qtbot.addWidget(area)
    area.show()
    editor = area.editor

    # 1. A new TTCG meeting, typed in.
    area.new_meeting()
    editor.kind.setCurrentIndex(editor.kind.findData("ttcg"))
    set_when(editor, datetime(2026, 3, 12, 10, 0))
    qtbot.keyClicks(editor.chair, "DI Chair")
    qtbot.keyClicks(editor.location, "Room 2")
    editor.attendees.setPlainText("A. Officer; CTP; NM\nP. Officer; Probation")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    first = editor.detail
    assert first is not None and first.row.chair == "DI Chair"
    assert [a.agency for a in first.attendees] == ["CTP", "Probation"]
    assert area.model.rowCount() == 1
    assert editor.agenda_model.rowCount() == len(first.items("standing")) > 0

    # 2. A nominal picked by reference, another from the suggestions (with its reasons).
    services.dialogs.answers["ask_text"] = [alpha]
    qtbot.mouseClick(editor.add_nominal_button, Qt.MouseButton.LeftButton)
    suggest = editor.open_suggestions()
    assert suggest is not None
    shown = [suggest.list.item(i).data(ObjectRole).ref for i in range(suggest.list.count())]
    assert bravo in shown and alpha not in shown  # already on the agenda
    row = shown.index(bravo)
    assert suggest.list.item(row).text().split("\n")[1].strip()  # its reasons are listed
    suggest.list.item(row).setCheckState(Qt.CheckState.Checked)
    suggest.accept()
    on_agenda = [i.nominal_ref for i in editor.agenda_model.rows() if i.kind == "nominal"]
    assert on_agenda == [alpha, bravo]

    # 3. Minutes of the first nominal item.
    item = next(i for i in editor.agenda_model.rows() if i.nominal_ref == alpha)
    assert editor.select_item(item.id)
    editor.minutes.setPlainText("Discussed; contact plan agreed.")
    editor.decisions.setPlainText("Keep at high risk.")
    assert editor.save_minutes()
    saved = next(i for i in editor.agenda_model.rows() if i.id == item.id)
    assert saved.minutes == "Discussed; contact plan agreed."
    assert saved.decisions == "Keep at high risk."

    # 4. An action due the day after the meeting, about ALPHA.
    dialog = editor.open_action()
    assert dialog is not None
    dialog.text.setPlainText("Confirm address with probation")
    dialog.owner.setCurrentText("P. Officer")
    dialog.due.setDate(dialog.due.date().fromString("2026-03-13", "yyyy-MM-dd"))
    dialog.nominal.setCurrentText(alpha)
    dialog._check()
    assert editor.actions_model.rowCount() == 1
    action = editor.actions_model.record(0)
    assert action.owner == "P. Officer" and action.nominal_ref == alpha
    assert action.due == date(2026, 3, 13) and not action.overdue

    # 5. A month on the action is overdue; the next TTCG meeting carries it.
    clock.day = date(2026, 4, 10)
    area.new_meeting()
    editor.kind.setCurrentIndex(editor.kind.findData("ttcg"))
    set_when(editor, datetime(2026, 4, 14, 10, 0))
    qtbot.keyClicks(editor.chair, "DI Chair")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    second = editor.detail
    assert second is not None and second.id != first.id
    carried = [i for i in editor.agenda_model.rows() if i.kind == "carried"]
    assert [i.action_ref for i in carried] == [action.ref]
    assert carried[0].carried_from_ref == first.ref
    index = editor.agenda_model.index(editor.agenda_model.rows().index(carried[0]), 3)
    assert index.data() == f"carried from {first.ref} (12/03/2026)"
    assert area.model.rowCount() == 2
    overdue = services.get(MeetingService).actions(ActionFilter(overdue=True),
                                                   today=clock.day)
    assert [a.ref for a in overdue] == [action.ref]

    # 6. The pack of the second meeting, through the dialog, off the UI thread.
    pack = editor.open_pack()
    assert pack is not None
    pack.recipient.setCurrentText("Regional TTCG members")
    pack.justification.setPlainText("Meeting pack for members under the ISA.")
    pack.folder.setCurrentText(str(tmp_path))
    pack.name.setText("pack.pdf")
    assert pack.start() is not None
    qtbot.waitUntil(lambda: pack.result_path is not None or pack.problem.isVisible(),
                    timeout=30_000)
    assert not pack.problem.isVisible(), pack.problem.text()
    out = tmp_path / "pack.pdf"
    assert pack.result_path == out and out.read_bytes().startswith(b"%PDF")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert pack.sha256 == digest and digest in pack.outcome.text()
    assert (tmp_path / "pack.pdf.sha256").read_text().split()[0] == digest
    with vault.read() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "export.pack")))
    assert len(entries) == 1
    assert entries[0].ref == second.ref and entries[0].user == "carol"
    assert digest in (entries[0].detail or "")
    assert action.ref in (entries[0].detail or "")


def test_pack_dialog_requires_recipient_and_justification(services: Any, qtbot: Any,
                                                          tmp_path: Path, vault: Vault) -> None:
    from ui.meetings.meetings import MeetingsArea

    area = MeetingsArea(services, today=Clock(TODAY))
    qtbot.addWidget(area)
    area.editor.chair.setText("DI Chair")
    assert area.editor.save() is not None
    pack = area.editor.open_pack()
    assert pack is not None
    pack.folder.setCurrentText(str(tmp_path))
    assert pack.start() is None and "recipient" in pack.problem.text()
    pack.recipient.setCurrentText("Members")
    assert pack.start() is None and "justification" in pack.problem.text()
    assert not list(tmp_path.glob("*.pdf"))


def test_new_meeting_needs_a_chair(services: Any, qtbot: Any) -> None:
    from ui.meetings.meetings import MeetingsArea

    area = MeetingsArea(services, today=Clock(TODAY))
    qtbot.addWidget(area)
    assert area.editor.save() is None
    assert area.editor.problem.text() == "Chair is required."
    assert area.model.rowCount() == 0
    assert not area.editor.add_nominal_button.isEnabled()


def test_viewer_sees_meetings_but_cannot_change_them(services: Any, qtbot: Any,
                                                     vault: Vault) -> None:
    from app.domain.meetings import MeetingInput
    from ui.meetings.meetings import MeetingsArea

    services.get(MeetingService).add(MeetingInput("ttcg", datetime(2026, 3, 1, 10), "DI Chair"),
                                     today=TODAY)
    as_role(vault, Role.VIEWER, "vic")
    area = MeetingsArea(services, today=Clock(TODAY + timedelta(days=1)))
    qtbot.addWidget(area)
    assert area.model.rowCount() == 1 and not area.new_button.isEnabled()
    area.view.selectRow(0)
    assert area.editor.detail is not None
    assert not area.editor.save_minutes_button.isEnabled()
    assert not area.editor.pack_button.isEnabled()

"""Walk-through regressions of the Meetings and Correspondence areas: the agenda buttons keep
their text at the window's minimum width, Attendees is not squeezed, a read-only role is told
why everything is greyed out, and the correspondence log keeps its columns readable."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

from app.domain.meetings import MeetingInput
from app.domain.roles import Role
from app.services.meetings import MeetingService
from app.services.vault import Vault
from tests.services.test_referrals import as_role
from tests.ui import test_meetings_end_to_end as e2e
from tests.ui.conftest import OFFSCREEN_NOISE
from tests.ui.test_meetings_end_to_end import TODAY, Clock

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

services = e2e.services  # a coordinator's Services on a fresh vault

# The area's share of the main window at its minimum width (960 px less the navigation).
NARROW = (750, 660)
WIDE = (1070, 660)  # ... and at 1280 px


def a_meeting(services: Any) -> int:
    detail = services.get(MeetingService).add(
        MeetingInput("ttcg", datetime(2026, 3, 1, 10), "DI Chair"), today=TODAY)
    return int(detail.id)


def inside(widget: QWidget, outer: QWidget) -> bool:
    """Whether ``widget`` lies wholly within ``outer`` (nothing cut off at its edges)."""
    top_left = widget.mapTo(outer, widget.rect().topLeft())
    bottom_right = widget.mapTo(outer, widget.rect().bottomRight())
    return outer.rect().contains(top_left) and outer.rect().contains(bottom_right)


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["1280px", "960px"])
def test_meeting_buttons_keep_their_text(services: Any, qtbot: Any, qapp: Any,
                                         size: tuple[int, int]) -> None:
    from ui import theme
    from ui.meetings.meetings import MeetingsArea

    theme.apply(qapp)  # the style sheet's padding is what squeezed the text
    key = a_meeting(services)
    area = MeetingsArea(services, today=Clock(TODAY))
    qtbot.addWidget(area)
    area.resize(*size)
    area.show()
    qtbot.waitExposed(area)
    area.open_meeting(key)
    qtbot.wait(20)
    # The window cannot grow past the screen: the area must fit the room it is given, or a
    # layout squeezes its buttons below their text.
    assert area.minimumSizeHint().width() <= size[0]
    assert area.width() == size[0]
    editor = area.editor
    buttons = editor.findChildren(QPushButton)
    assert {b.text() for b in buttons} >= {"Add &nominal…", "Su&ggest…", "Other &business…",
                                           "&Remove item", "Save &minutes", "&Save meeting"}
    for b in buttons:
        if b.isVisibleTo(area):
            # Never squeezed below its text ("dd nominal.", "ner busines", "lemove iten").
            assert b.width() >= b.sizeHint().width(), b.text()
            assert inside(b, area), b.text()
    # Attendees is a real column, not a sliver beside the fields.
    assert editor.attendees.width() >= 150
    assert editor.attendees.width() >= editor.chair.width() // 2


def test_a_role_that_may_only_read_is_told_why_meetings_are_greyed_out(
        services: Any, qtbot: Any, vault: Vault) -> None:
    from ui.meetings.meetings import NO_EXPORT, READ_ONLY, MeetingsArea

    key = a_meeting(services)
    as_role(vault, Role.ADMIN, "s.super")
    area = MeetingsArea(services, today=Clock(TODAY + timedelta(days=1)))
    qtbot.addWidget(area)
    editor = area.editor
    assert editor.read_only_note.isVisibleTo(area)
    assert editor.read_only_note.text() == READ_ONLY
    assert not area.new_button.isEnabled() and area.new_button.toolTip() == READ_ONLY
    assert not editor.save_button.isEnabled() and editor.save_button.toolTip() == READ_ONLY
    area.open_meeting(key)
    for b in (editor.add_nominal_button, editor.suggest_button, editor.add_item_button,
              editor.add_action_button, editor.remove_item_button,
              editor.save_minutes_button):
        assert not b.isEnabled() and b.toolTip() == READ_ONLY, b.text()
    for b in (editor.pack_button, editor.print_button):
        assert not b.isEnabled() and b.toolTip() == NO_EXPORT
    assert editor.chair.isReadOnly() and editor.minutes.isReadOnly()


def test_a_writer_sees_no_read_only_note_and_item_buttons_wait_for_an_item(
        services: Any, qtbot: Any) -> None:
    from ui.meetings.meetings import MeetingsArea

    key = a_meeting(services)
    area = MeetingsArea(services, today=Clock(TODAY))
    qtbot.addWidget(area)
    editor = area.editor
    assert not editor.read_only_note.isVisibleTo(area)
    assert not editor.remove_item_button.isEnabled()  # nothing chosen yet, even before a load
    area.open_meeting(key)
    assert editor.add_nominal_button.isEnabled() and editor.pack_button.isEnabled()
    assert not editor.remove_item_button.isEnabled()
    assert "agenda item" in editor.remove_item_button.toolTip()
    editor.agenda.selectRow(0)
    assert editor.remove_item_button.isEnabled() and editor.save_minutes_button.isEnabled()
    area.new_meeting()
    assert not editor.remove_item_button.isEnabled()


def test_correspondence_log_keeps_its_columns_readable(services: Any, qtbot: Any) -> None:
    from ui.meetings.correspondence import SUBJECT, SUBJECT_MIN, CorrespondenceView

    view = CorrespondenceView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    view.resize(1070, 660)  # the area at a 1280 px window
    view.show()
    qtbot.waitExposed(view)
    header = view.view.horizontalHeader()
    fm = view.view.fontMetrics()
    # The form sits beside the log and the log fits: no sideways scroll, Reply in sight.
    assert view.form_box.isVisible()
    qtbot.waitUntil(lambda: header.length() <= view.view.viewport().width())
    assert not view.view.isColumnHidden(8)
    # Fixed-format columns show their values whole; Subject is never reduced to "…".
    for col, sample in ((0, "COR-000000"), (1, "00/00/0000"), (8, "Overdue 00/00/0000")):
        assert header.sectionSize(col) > fm.horizontalAdvance(sample), col
    assert header.sectionSize(SUBJECT) >= SUBJECT_MIN
    assert view.view.textElideMode() == Qt.TextElideMode.ElideRight
    # The form is never cut (its labels show in full) and gives the room to the log.
    side = view.form_scroll.widget()
    assert side is not None and side.width() >= side.minimumSizeHint().width()
    assert view.form_box.width() <= 360
    assert view.view.width() >= 2 * view.form_box.width()
    # Columns hidden for want of width are read in Subject's tooltip.
    hidden = view.hidden_columns()
    assert set(hidden) <= {"Nominals", "ISA", "Type"}
    # Subject takes up the slack when the window widens, and hidden columns come back.
    before = header.sectionSize(SUBJECT)
    view.resize(1500, 660)
    qtbot.waitUntil(lambda: header.sectionSize(SUBJECT) > before)
    assert view.hidden_columns() == []
    assert header.length() <= view.view.viewport().width()


def test_correspondence_log_at_the_minimum_window_width(services: Any, qtbot: Any,
                                                       vault: Vault) -> None:
    from app.domain.meetings import CorrespondenceInput, Direction
    from app.services.correspondence import CorrespondenceService
    from ui.meetings.correspondence import SUBJECT, CorrespondenceView

    CorrespondenceService(vault).add(CorrespondenceInput(
        "HM Prison and Probation Service", Direction.OUT, TODAY,
        "Request for the release address and licence conditions", "information_request",
        justification="Managing risk on release", reply_by=TODAY))
    view = CorrespondenceView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    view.resize(750, 660)  # the area at the 960 px minimum window
    view.show()
    qtbot.waitExposed(view)
    header = view.view.horizontalHeader()
    # Too narrow for the form beside the log: the form waits, the log fits.
    qtbot.waitUntil(lambda: view.form_box.isHidden())
    qtbot.waitUntil(lambda: header.length() <= view.view.viewport().width())
    for col in (0, 1, 2, 3, SUBJECT, 8):
        assert not view.view.isColumnHidden(col), col
    subject_tip = view.proxy.index(0, SUBJECT).data(Qt.ItemDataRole.ToolTipRole)
    assert "Request for the release address" in subject_tip
    assert "Type: " in subject_tip and "ISA: none" in subject_tip
    # Log reply… brings the form back; the user's choice then stands whatever the width.
    assert view.select(view.model.record(0).ref)
    view.reply_button.click()
    assert view.form_box.isVisible() and view.form_toggle.text() == "&Hide form"
    view.resize(740, 660)
    assert view.form_box.isVisible()
    view.form_toggle.click()
    assert view.form_box.isHidden() and view.form_toggle.text() == "S&how form"
    view.resize(1400, 660)
    qtbot.wait(10)
    assert view.form_box.isHidden()


def test_fit_widths_shares_the_room_subject_first() -> None:
    from ui.meetings.correspondence import SUBJECT, fit_widths

    least = {3: 70, SUBJECT: 160, 7: 60}
    wanted = {3: 130, SUBJECT: 320, 7: 90}
    assert fit_widths(100, least, wanted) == least  # too narrow: the least, then a scroll
    assert fit_widths(290, least, wanted) == least
    assert fit_widths(390, least, wanted) == {3: 70, SUBJECT: 260, 7: 60}  # Subject first
    # Past Subject's wanted width the others grow in proportion, then Subject takes the rest.
    assert fit_widths(495, least, wanted) == {3: 100, SUBJECT: 320, 7: 75}
    widths = fit_widths(1000, least, wanted)
    assert widths[3] == 130 and widths[7] == 90 and sum(widths.values()) == 1000


def test_correspondence_tells_a_reader_why_the_form_is_greyed_out(
        services: Any, qtbot: Any, vault: Vault) -> None:
    from ui.meetings.correspondence import CorrespondenceView

    as_role(vault, Role.ADMIN, "s.super")
    view = CorrespondenceView(services, today=Clock(TODAY))
    qtbot.addWidget(view)
    assert not view.add_button.isEnabled()
    assert view.read_only_note.isVisibleTo(view)
    assert "read correspondence but not log it" in view.read_only_note.text()

"""Regressions for what a walk through the window as each role found: names and hostile text
that reordered their line, errors that did not sit by their field or did not read as English,
buttons offered for what the service refuses, labels and headings cut short, empty screens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

from app.domain.errors import ValidationError
from app.domain.prevent import MAX_SHORT, SubjectInput
from app.domain.roles import Role
from app.services.vault import Vault
from tests.conftest import PASSPHRASE
from tests.services.test_referrals import referral_input
from tests.support.ui_services import services_as
from tests.ui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

LRI_FSI, PDI = "\u2068", "\u2069"
# resources/style.qss: header sections have 8 px padding either side and a 1 px border.
HEADER_PADDING = 17


@pytest.fixture
def analyst(vault: Vault, qapp: Any, runner: Any, fake_dialogs: Any, settings: Any) -> Any:
    return services_as(vault, Role.ANALYST, "ana", qapp=qapp, runner=runner,
                       dialogs=fake_dialogs, settings=settings)


def _bold_width(widget: Any, text: str) -> int:
    font = QFont(widget.font())
    font.setBold(True)
    return QFontMetrics(font).horizontalAdvance(text)


# -- messages ----------------------------------------------------------------------------------
def test_field_message_reads_as_a_sentence_either_way() -> None:
    from ui.widgets import field_message

    assert field_message("The area", "must be at most 200 characters") == \
        "The area must be at most 200 characters."
    assert field_message("The surname", "is required") == "The surname is required."
    # A clause of its own is not glued to the field's name ("The user name an account ...").
    assert field_message("The user name", "an account with that name already exists") == \
        "An account with that name already exists."
    assert field_message("The role", "you cannot remove your own admin role.") == \
        "You cannot remove your own admin role."


def test_isolate_keeps_a_direction_override_inside_its_own_text() -> None:
    from ui.widgets import isolate

    assert isolate("N\u202eote") == f"{LRI_FSI}N\u202eote{PDI}"


# -- referral intake ---------------------------------------------------------------------------
def test_intake_area_error_sits_by_the_area_field_and_long_text_is_cut_as_typed(
    analyst: Any, qtbot: Any
) -> None:
    from app.services.referrals import ReferralService
    from ui.prevent.intake import ReferralIntakeForm

    form = ReferralIntakeForm(analyst, analyst.get(ReferralService).lists())
    qtbot.addWidget(form)
    form.show()
    # Pasting 3,000 characters keeps the service's limit, instead of a refusal at Save.
    for field in (form.area, form.referrer, form.organisation, form.surname, form.forenames,
                  form.note_title):
        field.setText("A" * 3000)
        assert len(field.text()) == MAX_SHORT
    # The service's message about the area lands under the Area field, not in the top box.
    form.errors.show(ValidationError("area", "must be at most 200 characters"))
    error = form.errors._fields["area"][1]
    assert error.isVisible() and error.text() == "The area must be at most 200 characters."
    assert not form.general.isVisible()


def test_intake_note_list_isolates_hostile_titles(analyst: Any, qtbot: Any) -> None:
    from app.services.referrals import ReferralService
    from ui.prevent.intake import ReferralIntakeForm

    form = ReferralIntakeForm(analyst, analyst.get(ReferralService).lists())
    qtbot.addWidget(form)
    form.note_title.setText("N\u202eote")  # a right-to-left override in the title
    form.note_text.setPlainText("School log extract")
    form.add_note()
    text = form.note_list.item(0).text()
    # Each part is isolated, so the override cannot run on into ": School log extract".
    assert text == f"{LRI_FSI}N\u202eote{PDI}: {LRI_FSI}School log extract{PDI}"


def test_workspace_header_isolates_a_right_to_left_name(analyst: Any, qtbot: Any) -> None:
    from app.services.referrals import ReferralService
    from ui.prevent.workspace import ReferralWorkspace

    refs = analyst.get(ReferralService)
    ref = refs.add(referral_input(datetime(2026, 11, 20, 9), subject=SubjectInput(
        "O'Brien \"Bob\" *<b>x</b>", "محمد عبد الرحمن", date(2009, 2, 1))),
        now=datetime(2026, 11, 21))
    ws = ReferralWorkspace(analyst, refs.lists(), ref)
    qtbot.addWidget(ws)
    title = ws.title.text()
    assert f"{LRI_FSI}O'BRIEN \"BOB\" *<B>X</B>{PDI}, {LRI_FSI}محمد عبد الرحمن{PDI}" in title
    assert ws.title.textFormat() != Qt.TextFormat.RichText


# -- referral lists and charts -----------------------------------------------------------------
def test_referral_table_columns_fit_their_headings_and_dates(analyst: Any, qtbot: Any) -> None:
    from app.services.referrals import ReferralService
    from ui.prevent.models import ReferralTableModel
    from ui.prevent.queue import referral_table

    lists = analyst.get(ReferralService).lists()
    table = referral_table(ReferralTableModel(lists, lambda f, o, n: []))
    qtbot.addWidget(table)
    for col, title in enumerate(ReferralTableModel.COLUMNS):
        if col in (3, 4):  # subject and concern share the rest of the width
            continue
        assert table.columnWidth(col) >= _bold_width(table.horizontalHeader(), title) \
            + HEADER_PADDING, title
    # "19/11/2026 15:58" was cut to "19/11/2026 15:…".
    assert table.columnWidth(2) > table.fontMetrics().horizontalAdvance("00/00/0000 00:00")
    # At the queue's width in a 1280 px window the subject was squeezed to "IQBAL, …".
    table.resize(1014, 300)
    table.show()
    qtbot.waitExposed(table)
    assert table.columnWidth(3) >= table.fontMetrics().horizontalAdvance("RASHID, Shahid")


def test_age_bands_are_drawn_on_two_lines_not_elided() -> None:
    from ui.prevent.patterns import age_label

    assert age_label("12-15") == "12-<br>15"
    assert age_label("25-39") == "25-<br>39"
    assert age_label("Under 12") == "0-11"  # short enough for one line
    assert age_label("40+") == "40+"
    assert age_label("Not known") == "n/k"


def test_horizontal_charts_leave_room_for_their_first_letter(analyst: Any, qtbot: Any) -> None:
    from app.services.patterns import Bar
    from ui.prevent.patterns import BarChartView

    chart = BarChartView("institution")
    qtbot.addWidget(chart)
    chart.resize(316, 230)
    chart.set_bars([Bar(key=str(i), label=f"Kelmsford Green High School {i}", count=i + 1)
                    for i in range(5)])
    assert chart.chart_.margins().left() > 0
    months = BarChartView("month")
    qtbot.addWidget(months)
    months.set_bars([Bar(key="2026-01", label="Jan 2026", count=3)])
    assert months.chart_.margins().left() == 0  # every pixel for the month initials


def test_research_pickers_show_their_whole_hint(analyst: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QFormLayout

    from ui.prevent.research import ResearchView

    view = ResearchView(analyst)
    qtbot.addWidget(view)
    view.resize(1050, 640)
    view.show()
    edit = view.ref_picker.edit
    assert edit.toolTip() == edit.placeholderText()
    form = view.ref_picker.parentWidget().layout()
    assert isinstance(form, QFormLayout)
    assert form.rowWrapPolicy() == QFormLayout.RowWrapPolicy.WrapAllRows
    qtbot.waitExposed(view)
    assert edit.width() > edit.fontMetrics().horizontalAdvance(edit.placeholderText())


# -- admin, audit, retention, reconcile --------------------------------------------------------
def test_admin_cannot_start_what_the_service_refuses_for_their_own_account(
    unlocked: Any, qtbot: Any, fake_dialogs: Any
) -> None:
    ctl = unlocked
    ctl.services.users.add_user("c.mirza", "viewer", PASSPHRASE)
    view = ctl.window.show_area("admin")
    view.reload(select="alice")
    assert not view.role_button.isEnabled() and not view.remove_button.isEnabled()
    assert "your own role" in view.role_button.toolTip()
    assert "your own account" in view.remove_button.toolTip()
    assert view.reset_button.isEnabled()  # changing your own passphrase is allowed
    # A double-click on your own row explains instead of offering a role list.
    view.change_role()
    assert "choose" not in fake_dialogs.kinds()
    assert "your own role" in view.message.text()
    view.reload(select="c.mirza")
    assert view.role_button.isEnabled() and view.remove_button.isEnabled()


def test_audit_category_filter_shows_its_whole_text(unlocked: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    view = unlocked.window.show_area("audit")
    qtbot.waitExposed(view)
    combo = view.category_combo
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    # The text drawn beside the arrow was "All categorie".
    assert field.width() >= combo.fontMetrics().horizontalAdvance("All categories")


def test_retention_with_nothing_due_says_so_instead_of_empty_cards(
    vault: Vault, runner: Any, fake_dialogs: Any, settings: Any, qtbot: Any
) -> None:
    from tests.ui.test_retention_view import make_view

    view = make_view(vault, runner, fake_dialogs, settings, qtbot)
    panel = view.panel
    assert view.model.total == 0
    assert panel.empty.isVisible()
    assert not panel.decide_card.isVisible() and not panel.body.isVisible()
    assert not panel.title.isVisible()  # no dummy "01/01/2000" date or blank cards either
    header = view.table.horizontalHeader()
    assert header.minimumSectionSize() >= _bold_width(header, "Record") + HEADER_PADDING


def test_retention_review_fits_a_narrow_panel(vault: Vault, runner: Any, fake_dialogs: Any,
                                              settings: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QFormLayout

    from tests.services.test_retention_support import linked_nominal
    from tests.ui.test_retention_view import make_view

    linked_nominal(vault, "Exampleperson", created=date(2015, 1, 1))
    view = make_view(vault, runner, fake_dialogs, settings, qtbot)
    view.resize(1050, 690)  # the area's size in a 1280 x 760 window
    qtbot.waitUntil(lambda: view.current_ref() is not None)
    panel = view.panel
    assert panel.empty.isHidden() and panel.decide_card.isVisible()
    assert panel.summary.rowWrapPolicy() == QFormLayout.RowWrapPolicy.WrapLongRows
    qtbot.wait(50)
    # The cards fit beside each other: no horizontal scroll bar hiding the side cards.
    assert not panel.body.horizontalScrollBar().isVisible()


def test_reconcile_headings_are_not_cut(qtbot: Any, vault: Vault, qapp: Any, runner: Any,
                                        fake_dialogs: Any, settings: Any) -> None:
    from ui.reconcile.view import ReconcileView

    services = services_as(vault, Role.COORDINATOR, "carol", qapp=qapp, runner=runner,
                           dialogs=fake_dialogs, settings=settings)
    view = ReconcileView(services)
    qtbot.addWidget(view)
    tables = [*view.tables.values(), view.lines, view.candidates]
    for table in tables:
        model, header = table.model(), table.horizontalHeader()
        for col in range(model.columnCount()):
            title = str(model.headerData(col, Qt.Orientation.Horizontal))
            assert table.columnWidth(col) >= _bold_width(header, title) + HEADER_PADDING, title


def test_research_summary_says_up_front_when_the_role_may_not_export(
    vault: Vault, qapp: Any, runner: Any, fake_dialogs: Any, settings: Any, qtbot: Any
) -> None:
    from ui.prevent.research import ResearchView

    viewer = services_as(vault, Role.VIEWER, "vic", qapp=qapp, runner=runner,
                         dialogs=fake_dialogs, settings=settings)
    view = ResearchView(viewer)
    qtbot.addWidget(view)
    view.show()
    assert not view.export_button.isEnabled()
    note = view.no_export_note
    assert note is not None and note.isVisible() and "may not export" in note.text()
    analyst = services_as(vault, Role.ANALYST, "ana", qapp=qapp, runner=runner,
                          dialogs=fake_dialogs, settings=settings)
    allowed = ResearchView(analyst)
    qtbot.addWidget(allowed)
    assert allowed.no_export_note is None and allowed.export_button.isEnabled()


def test_unlock_backoff_is_said_once_by_the_countdown_not_twice(
    make_app: Any, existing_vault: Any, qtbot: Any
) -> None:
    from tests.ui.conftest import unlock_with

    ctl = make_app(vault_path=existing_vault)
    ctl.start()
    dialog = ctl.unlock_dialog
    for _ in range(3):
        qtbot.waitUntil(lambda: not dialog.waiting, timeout=10_000)
        unlock_with(qtbot, ctl, "alice", "wrong wrong wrong")
    assert dialog.countdown.isVisible() and "Try again in" in dialog.countdown.text()
    # The error names the cause; the wait is the countdown's alone (it went stale at 0 s).
    assert "failed attempt 3" in dialog.error.text()
    assert "before the next try" not in dialog.error.text()

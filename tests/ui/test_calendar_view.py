"""The calendar window: month counts per kind, keyboard navigation, filters, the agenda's pages,
opening records, quick-add contact from a contact-due item, and every model's contract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from app.services.engagement import EngagementService
from app.services.vault import Vault
from tests.services.test_engagement import add_nominal, coord, users  # noqa: F401

TODAY = date.today()


def make_services(vault: Vault, runner: Any, dialogs: Any, settings: Any) -> Any:
    from ui.preferences import Preferences
    from ui.services import Services

    return Services(vault, ops=runner, dialogs=dialogs, prefs=Preferences(settings))


@pytest.fixture
def services(coord: Vault, runner: Any, fake_dialogs: Any, settings: Any) -> Any:  # noqa: F811
    return make_services(coord, runner, fake_dialogs, settings)


@pytest.fixture
def view(services: Any, qtbot: Any) -> Iterator[Any]:
    from ui.calendar.view import CalendarView

    widget = CalendarView(services)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitUntil(lambda: not widget.busy, timeout=20_000)
    yield widget
    services.ops.wait(10_000)


def contact_due_on(v: Vault, due: date, **values: Any) -> str:
    """A nominal (high risk, community: every 14 days) whose next contact falls due on ``due``."""
    ref = add_nominal(v, **values)
    when = due - timedelta(days=14)
    EngagementService(v).log_contact(ref, datetime(when.year, when.month, when.day, 10, 0),
                                     "phone", "DC Example", "made")
    return ref


def wait_loaded(qtbot: Any, view: Any) -> None:
    qtbot.waitUntil(lambda: not view.busy, timeout=20_000)


def test_month_view_shows_counts_per_kind_and_loads_the_day(
    coord: Vault, qtbot: Any, runner: Any, fake_dialogs: Any, settings: Any,  # noqa: F811
) -> None:
    from ui.calendar.view import CalendarView

    day = TODAY - timedelta(days=2)  # overdue by two days
    refs = [contact_due_on(coord, day) for _ in range(3)]
    view = CalendarView(make_services(coord, runner, fake_dialogs, settings))
    qtbot.addWidget(view)
    view.show()
    wait_loaded(qtbot, view)
    grid = view.month_grid
    if day.month == TODAY.month or day >= grid.first_day():
        assert grid.counts_for(day) == {"contact_due": 3}
        summary = grid.cell_summary(day)
        assert "Contacts 3" in summary and "overdue" in summary
        assert grid.overdue(day)
    assert "today" in grid.cell_summary(TODAY)
    assert view.period.text() == TODAY.strftime("%B %Y")
    view.select_day(day)
    wait_loaded(qtbot, view)
    assert sorted(i.ref for i in view.day_model.items()) == sorted(refs)
    assert view.day_model.index(0, 2).data() == "Overdue"
    assert view.day_title.text().endswith(day.strftime("%B %Y"))
    assert "3 items" in view.day_count.text()
    # A grid draws counts only: its picture is made without any item.
    assert not view.month_grid.grab().isNull()
    runner.wait(10_000)


def test_keyboard_moves_the_day_month_and_opens(view: Any, qtbot: Any, coord: Vault) -> None:  # noqa: F811
    from PySide6.QtCore import Qt

    grid = view.month_grid
    grid.setFocus()
    start = view.selected
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert view.selected == start + timedelta(days=1)
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert view.selected == start + timedelta(days=8)
    qtbot.keyClick(grid, Qt.Key.Key_Up)
    qtbot.keyClick(grid, Qt.Key.Key_Left)
    assert view.selected == start
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    wait_loaded(qtbot, view)
    nxt = view.selected
    assert (nxt.year * 12 + nxt.month) == (start.year * 12 + start.month + 1)
    assert view.period.text() == nxt.strftime("%B %Y")
    qtbot.keyClick(grid, Qt.Key.Key_PageUp)
    qtbot.keyClick(grid, Qt.Key.Key_PageUp)
    prev = view.selected
    assert (prev.year * 12 + prev.month) == (start.year * 12 + start.month - 1)
    qtbot.keyClick(grid, Qt.Key.Key_T)
    assert view.selected == TODAY
    wait_loaded(qtbot, view)

    # Enter on a day with items lists them; Enter on an item opens its record.
    ref = contact_due_on(coord, TODAY)
    view.reload()
    wait_loaded(qtbot, view)
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert view.day_table.hasFocus() or view.day_table.currentIndex().isValid()
    assert view.current_item() is not None and view.current_item().ref == ref
    with qtbot.waitSignal(view.open_record_requested, timeout=2000) as signal:
        qtbot.keyClick(view.day_table, Qt.Key.Key_Return)
    assert signal.args == ["contact_due", ref]
    # Escape goes back to the grid.
    qtbot.keyClick(view.day_table, Qt.Key.Key_Escape)
    assert view.selected == TODAY


def test_week_view_starts_monday_and_pages_by_week(view: Any, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    view.set_mode("week")
    wait_loaded(qtbot, view)
    monday = TODAY - timedelta(days=TODAY.weekday())
    assert view.week_grid.days()[0] == monday and view.week_grid.days()[0].weekday() == 0
    assert view.visible_range() == (monday, monday + timedelta(days=6))
    view.week_grid.setFocus()
    qtbot.keyClick(view.week_grid, Qt.Key.Key_PageDown)
    assert view.selected == TODAY + timedelta(days=7)
    assert view.week_grid.monday == monday + timedelta(days=7)
    wait_loaded(qtbot, view)


def test_filters_by_kind_manager_and_force(
    coord: Vault, qtbot: Any, runner: Any, fake_dialogs: Any, settings: Any,  # noqa: F811
) -> None:
    from ui.calendar.view import CalendarView

    due = TODAY + timedelta(days=3)
    contact_due_on(coord, due, nominal_manager="DC Alpha", force="North Force")
    contact_due_on(coord, due, nominal_manager="DC Beta", force="South Force")
    contact_due_on(coord, due, nominal_manager="DC Beta", force="North Force")
    view = CalendarView(make_services(coord, runner, fake_dialogs, settings))
    qtbot.addWidget(view)
    view.show()
    wait_loaded(qtbot, view)
    view.set_mode("week")
    view.select_day(due)
    wait_loaded(qtbot, view)
    assert view.week_grid.counts_for(due) == {"contact_due": 3}
    assert [view.manager.itemText(i) for i in range(view.manager.count())] == [
        "All managers", "DC Alpha", "DC Beta"]
    view.manager.setCurrentIndex(view.manager.findData("DC Beta"))
    wait_loaded(qtbot, view)
    assert view.week_grid.counts_for(due) == {"contact_due": 2}
    assert len(view.day_model.items()) == 2
    view.force.setCurrentIndex(view.force.findData("South Force"))
    wait_loaded(qtbot, view)
    assert view.week_grid.counts_for(due) == {"contact_due": 1}
    view.legend.set_shown("contact_due", False)
    wait_loaded(qtbot, view)
    assert view.week_grid.counts_for(due) == {}
    assert view.day_model.rowCount() == 0
    assert "filters" in view.day_empty.text()
    runner.wait(10_000)


def test_agenda_pages_as_it_scrolls(
    coord: Vault, qtbot: Any, runner: Any, fake_dialogs: Any, settings: Any,  # noqa: F811
    monkeypatch: Any,
) -> None:
    import ui.calendar.view as module

    monkeypatch.setattr(module, "PAGE", 2)
    for n in range(5):
        contact_due_on(coord, TODAY + timedelta(days=n))
    view = module.CalendarView(make_services(coord, runner, fake_dialogs, settings))
    qtbot.addWidget(view)
    # Not shown: a visible view asks for more rows by itself while its viewport has room,
    # which would race the first-page check below.
    view.set_mode("agenda")
    wait_loaded(qtbot, view)
    model = view.agenda_model
    assert model.total == 5 and model.rowCount() == 2
    while model.canFetchMore():
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.pending, timeout=20_000)
    assert model.rowCount() == 5 and model.next is None and not model.canFetchMore()
    dates = [model.item(r).date for r in range(5)]
    assert dates == sorted(dates) and dates[0] == TODAY
    # The pages, fetched with each page's cursor, are the range's items in order.
    start, end = view.visible_range()
    assert [model.item(r) for r in range(5)] == view.calendar.items(start, end)
    assert model.index(0, 0).data() == TODAY.strftime("%d/%m/%Y")
    runner.wait(10_000)


def test_log_contact_from_a_contact_due_item(
    coord: Vault, qtbot: Any, runner: Any, fake_dialogs: Any, settings: Any,  # noqa: F811
) -> None:
    from ui.calendar.view import CalendarView

    ref = contact_due_on(coord, TODAY - timedelta(days=1))
    view = CalendarView(make_services(coord, runner, fake_dialogs, settings))
    qtbot.addWidget(view)
    view.show()
    view.select_day(TODAY - timedelta(days=1))
    wait_loaded(qtbot, view)
    view.day_table.selectRow(0)
    assert view.log_button.isEnabled()
    dialog = view.log_contact_current()
    assert dialog is not None and dialog.ref == ref
    with qtbot.waitSignal(view.contact_logged, timeout=5000):
        dialog.save_button.click()
    wait_loaded(qtbot, view)
    assert view.day_model.rowCount() == 0  # no longer due on that day
    assert EngagementService(coord).plan(ref).next_due == TODAY + timedelta(days=14)
    runner.wait(10_000)


def test_models_pass_the_model_tester(view: Any, qtmodeltester: Any, coord: Vault,  # noqa: F811
                                      qtbot: Any) -> None:
    from app.domain.rules import DueItem
    from ui.calendar.common import DueItemTableModel

    model = DueItemTableModel(today=TODAY)
    model.set_items([
        DueItem(TODAY - timedelta(days=3), "contact_due", "NM-000001", "Contact due"),
        DueItem(TODAY, "meeting", "MTG-000001", "TTCG at 10:00"),
        DueItem(TODAY + timedelta(days=5), "order_expiry", "NM-000002", "FTRO ends"),
        DueItem(TODAY - timedelta(days=3), "licence_date", "NM-000003", "LED"),
    ])
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, 4).data() == "Overdue"
    assert model.index(2, 4).data() == "Due soon"
    assert model.index(3, 4).data() == ""  # a past fact is history, not overdue
    contact_due_on(coord, TODAY)
    view.set_mode("agenda")
    wait_loaded(qtbot, view)
    qtmodeltester.check(view.agenda_model, force_py=True)
    view.set_mode("month")
    wait_loaded(qtbot, view)
    qtmodeltester.check(view.day_model, force_py=True)


def test_open_record_routes_to_the_nominal_area(
    make_app: Any, existing_vault: Any, qtbot: Any,
) -> None:
    from app.security.secrets import MemorySecretStore
    from app.services.users import UserService
    from app.services.vault import unlock_vault
    from tests.conftest import PASSPHRASE
    from tests.ui.conftest import unlock_with

    admin = unlock_vault(existing_vault, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    UserService(admin).add_user("carol", "coordinator", PASSPHRASE)
    admin.lock()
    carol = unlock_vault(existing_vault, "carol", PASSPHRASE, secret_store=MemorySecretStore())
    ref = add_nominal(carol, surname="ROUTE")
    carol.lock()
    ctl = make_app(vault_path=existing_vault)
    ctl.start()
    unlock_with(qtbot, ctl, "carol", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=15_000)
    window = ctl.window
    cal = window.show_area("calendar")
    qtbot.waitUntil(lambda: not cal.busy, timeout=20_000)
    cal.open_record_requested.emit("contact_due", ref)
    assert window.current_area() == "nominals"
    page = window.area_widget("nominals").record
    assert page is not None and page.ref == ref
    # A kind whose area does not exist says so instead of failing.
    assert window.open_record("meeting", "MTG-000001") is False
    assert ctl.dialogs.calls[-1][1] == "Open record"


def _due_items(n: int, long_every: int = 0) -> list[Any]:
    from app.domain.rules import DueItem

    return [DueItem(TODAY + timedelta(days=i % 30), "contact_due", f"NM-{i + 1:06d}",
                    "Action due (A. Officer): confirm the release address with the prison "
                    "offender manager" if long_every and i % long_every == 0
                    else f"Contact due (every {14 * (1 + i % 4)} days)") for i in range(n)]


def test_what_gets_the_room_and_wraps_only_when_cut(qtbot: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QHeaderView

    from ui.calendar.common import DueColumns, DueItemTableModel
    from ui.widgets import record_table

    model = DueItemTableModel(columns=("Date", "Ref", "What", "Status"))
    table = record_table(model, "Items", row_height=24)
    fit = DueColumns(table, model, wrap=True)
    qtbot.addWidget(table)
    model.set_items(_due_items(100_000), TODAY)  # the 100k case: nothing is measured per row
    table.resize(700, 300)
    table.show()
    qtbot.waitExposed(table)
    header = table.horizontalHeader()
    fm = table.fontMetrics()
    # Date, Ref and Status hold their longest value; What stretches over the rest.
    assert header.sectionSize(0) > fm.horizontalAdvance("00/00/0000")
    assert header.sectionSize(1) > fm.horizontalAdvance("NM-100000")
    assert header.sectionSize(3) > fm.horizontalAdvance("Due today")
    assert header.sectionResizeMode(2) == QHeaderView.ResizeMode.Stretch
    assert fit.lines == 1 and not table.wordWrap()
    # Narrow: the titles would be cut, so every row is two lines high and titles wrap.
    table.resize(330, 300)
    qtbot.waitUntil(lambda: fit.lines == 2)
    assert table.wordWrap()
    rows = table.verticalHeader()
    assert rows.defaultSectionSize() == 24 + fm.lineSpacing()
    assert {rows.sectionSize(r) for r in (0, 1, 50_000, 99_999)} == {rows.defaultSectionSize()}
    # Wide again: one line.
    table.resize(800, 300)
    qtbot.waitUntil(lambda: fit.lines == 1)
    assert rows.sectionSize(99_999) == 24
    # The full text stays in the tooltip.
    assert "Contact due (every" in model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)


def test_one_long_title_among_short_ones_does_not_double_every_row(qtbot: Any) -> None:
    from ui.calendar.common import DueColumns, DueItemTableModel
    from ui.widgets import record_table

    model = DueItemTableModel(columns=("Date", "Ref", "What"))
    table = record_table(model, "Items", row_height=24)
    fit = DueColumns(table, model, wrap=True)
    qtbot.addWidget(table)
    table.resize(520, 300)
    table.show()
    model.set_items(_due_items(40, long_every=10), TODAY)  # 4 long titles in 40
    qtbot.waitExposed(table)
    assert fit.title_room() < max(fit._title_widths)  # the long ones are cut...
    assert fit.lines == 1  # ...but they are a tenth: they elide, with the tooltip
    model.set_items(_due_items(40, long_every=2), TODAY)  # half of them long
    qtbot.waitUntil(lambda: fit.lines == 2)


def test_agenda_title_moves_the_filters_to_their_own_row(view: Any, qtbot: Any) -> None:
    view.resize(1600, 700)
    view.set_mode("month")
    wait_loaded(qtbot, view)
    assert view.bar.indexOf(view.bar_filters) >= 0  # a month's title: one row is enough
    view.resize(1070, 700)  # the area at a 1280 px window
    view.set_mode("agenda")  # "28 Nov 2026 – 25 Feb 2027" leaves no room beside it
    wait_loaded(qtbot, view)
    assert view.bar2.indexOf(view.bar_filters) >= 0  # was left squeezed over each other
    view.resize(1600, 700)
    view.set_mode("month")
    wait_loaded(qtbot, view)
    assert view.bar.indexOf(view.bar_filters) >= 0

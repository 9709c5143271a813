"""Small pieces: strength estimate, caps-lock guess, the area API, About, read-only record
tables (record_table)."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.roles import Perm
from tests.ui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.mark.parametrize(
    ("passphrase", "low", "high"),
    [
        ("", 0, 0),
        ("short", 0, 0),
        ("passwordpassword", 1, 1),
        ("aaaaaaaaaaaaaaa", 1, 1),
        ("abcdefghijklmno", 1, 1),
        ("Summer2024!!abc", 1, 2),
        ("correct horse battery staple", 3, 4),
        ("kettle-orbit-plum-harbour-9", 4, 4),
    ],
)
def test_strength_estimate(passphrase: str, low: int, high: int) -> None:
    from ui.strength import estimate

    s = estimate(passphrase)
    assert low <= s.score <= high, s
    assert s.hint


def test_caps_lock_guess(qapp: Any) -> None:
    from PySide6.QtWidgets import QLineEdit

    from ui.widgets import CapsLockWatcher

    field = QLineEdit()
    watcher = CapsLockWatcher(field)
    changes: list[bool] = []
    watcher.changed.connect(changes.append)
    for text, shift in (("a", False), ("A", False), ("Q", False), ("7", False), ("é", True),
                        ("E", True)):
        watcher.feed(text, shift)
    assert changes == [True, False]  # "A" without Shift: on; "é" with Shift: off; no repeats


def test_add_area_api(unlocked: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QLabel

    win = unlocked.window
    made: list[Any] = []

    def factory(services: Any) -> QLabel:
        made.append(services)
        return QLabel(f"Nominals for {services.user}")

    win.add_area("t-early", "Early", "today", factory, Perm.NOMINAL_READ, position=11)
    win.add_area("t-secret", "Hidden", "today", factory, Perm.INTEL_READ, position=12)
    win.add_area("t-last", "Last", "today", factory, None, position=10_000)
    areas = win.visible_areas()
    assert areas[:2] == ["today", "t-early"] and areas[-1] == "t-last"
    assert "t-secret" not in areas  # an admin has no INTEL_READ
    assert areas.index("audit") < areas.index("admin")
    assert made == []  # built on first visit only
    widget = win.show_area("t-early")
    assert widget.text() == "Nominals for alice" and made == [unlocked.services]
    assert win.show_area("t-early") is widget
    with pytest.raises(ValueError):
        win.add_area("t-early", "Again", "today", factory)
    with pytest.raises(KeyError):
        win.show_area("t-secret")
    unlocked.lock()
    assert win.area_widget("t-early") is None


def test_about_names_the_versions(unlocked: Any, fake_dialogs: Any) -> None:
    from app import __version__

    unlocked.window.about_requested.emit()
    kind, title, text = fake_dialogs.calls[-1]
    assert (kind, title) == ("info", "About Caseward")
    assert f"Caseward {__version__}" in text
    assert "SQLCipher 4." in text


def test_services_hand_out_one_instance_per_class(unlocked: Any) -> None:
    from app.services.audit import AuditService

    services = unlocked.services
    assert services.get(AuditService) is services.audit
    assert services.can(None) and services.can(Perm.USERS_MANAGE)
    assert not services.can(Perm.INTEL_READ)


def _people_model() -> Any:
    from PySide6.QtGui import QStandardItem, QStandardItemModel

    model = QStandardItemModel(0, 3)
    model.setHorizontalHeaderLabels(["Ref", "Name", "Note"])
    for ref, name, note in (("NM-1", "ALPHA, Ann", "first"), ("NM-2", "BRAVO, Bo", "second\tline"),
                            ("NM-3", "CHARLIE, Cy", "third")):
        model.appendRow([QStandardItem(ref), QStandardItem(name), QStandardItem(note)])
    return model


def test_record_table_is_read_only_row_selecting_and_copies(qtbot: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QKeySequence
    from PySide6.QtWidgets import (
        QAbstractItemView,
        QApplication,
        QHeaderView,
        QLineEdit,
        QVBoxLayout,
        QWidget,
    )

    from ui.widgets import install_copy, record_table

    model = _people_model()
    host = QWidget()
    qtbot.addWidget(host)
    table = record_table(model, "People", widths=(70, 160), stretch=(1,))
    after = QLineEdit()
    col = QVBoxLayout(host)
    col.addWidget(table)
    col.addWidget(after)
    host.show()
    host.activateWindow()  # shortcuts only reach the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is host)

    assert table.accessibleName() == "People"
    assert table.selectionBehavior() == QAbstractItemView.SelectionBehavior.SelectRows
    assert table.selectionMode() == QAbstractItemView.SelectionMode.SingleSelection
    assert table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    assert table.alternatingRowColors() and not table.wordWrap()
    rows = table.verticalHeader()
    assert not rows.isVisible() and rows.defaultSectionSize() == 26
    assert rows.sectionResizeMode(0) == QHeaderView.ResizeMode.Fixed
    header = table.horizontalHeader()
    assert table.columnWidth(0) == 70
    assert header.sectionResizeMode(1) == QHeaderView.ResizeMode.Stretch
    assert header.sectionResizeMode(2) == QHeaderView.ResizeMode.Interactive
    assert not header.stretchLastSection() and not table.isSortingEnabled()

    # Ctrl+C copies the selected row as tab-separated text (a tab inside a cell is a space);
    # the right-click menu offers the same Copy; installing it again adds no second shortcut.
    assert install_copy(table) is install_copy(table)
    copies = [a for a in table.actions() if a.shortcut().matches(
        QKeySequence(QKeySequence.StandardKey.Copy)) == QKeySequence.SequenceMatch.ExactMatch]
    assert len(copies) == 1
    assert table.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    board = QGuiApplication.clipboard()
    board.clear()
    table.setFocus()
    table.selectRow(1)
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert board.text() == "NM-2\tBRAVO, Bo\tsecond line"
    board.clear()

    # Enter opens (activated); Tab leaves the table rather than walking its cells.
    opened: list[int] = []
    table.activated.connect(lambda index: opened.append(index.row()))
    qtbot.keyClick(table, Qt.Key.Key_Down)
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert opened == [2]
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert after.hasFocus()


def test_record_table_options(qtbot: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView

    from ui.widgets import record_table

    model = _people_model()
    table = record_table(model, "People", row_height=None, widths={1: 90}, stretch_last=True,
                         multi=True, alternating=False, wrap=True, sort_column=1, copy=False)
    qtbot.addWidget(table)
    assert table.selectionMode() == QAbstractItemView.SelectionMode.ExtendedSelection
    assert not table.alternatingRowColors() and table.wordWrap()
    assert table.verticalHeader().sectionResizeMode(0) != QHeaderView.ResizeMode.Fixed
    assert table.columnWidth(1) == 90 and table.horizontalHeader().stretchLastSection()
    assert table.isSortingEnabled()
    assert table.horizontalHeader().sortIndicatorSection() == 1
    assert table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert [model.index(r, 1).data() for r in range(3)] == ["ALPHA, Ann", "BRAVO, Bo",
                                                             "CHARLIE, Cy"]
    table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert model.index(0, 1).data() == "CHARLIE, Cy"
    assert not table.actions()  # copy=False: no Ctrl+C


def test_fit_headings_widens_only_columns_narrower_than_their_heading(qtbot: Any) -> None:
    from ui.widgets import fit_headings, record_table

    model = _people_model()
    model.setHorizontalHeaderLabels(["Ref", "A much longer heading", "Note"])
    table = record_table(model, "People", widths=(300, 20, 300))
    qtbot.addWidget(table)
    fit_headings(table)
    assert table.columnWidth(0) == 300 and table.columnWidth(2) == 300
    assert table.columnWidth(1) > 120

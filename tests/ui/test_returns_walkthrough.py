"""Walk-through regressions of the Returns area and the export dialog: a page title and an
empty state, Ctrl+N for a new export, the recipient's error under its field as it is typed, and
after an export no overlapping text and Close (not Browse…) as the default button."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from tests.ui import test_exports_ui as exports_ui
from tests.ui.test_exports_ui import TODAY

carol = exports_ui.carol  # the fixtures: a coordinator's Services on a vault of 25 nominals
services = exports_ui.services


def below(upper: QWidget, lower: QWidget, within: QWidget) -> bool:
    """Whether ``lower`` starts at or below the bottom of ``upper`` (no overlap)."""
    return (lower.mapTo(within, lower.rect().topLeft()).y()
            >= upper.mapTo(within, upper.rect().bottomLeft()).y())


def test_returns_has_a_page_title_an_empty_state_and_ctrl_n(qtbot: Any, services: Any,
                                                            tmp_path: Path) -> None:
    from ui.views.exports import ExportDialog, ReturnsView

    view = ReturnsView(services)
    qtbot.addWidget(view)
    view.resize(1070, 660)
    view.show()
    qtbot.waitExposed(view)
    titles = [w.text() for w in view.findChildren(QLabel) if w.objectName() == "PageTitle"]
    assert titles == ["Returns and disclosures"]  # the heading every other area uses
    assert view.model.rowCount() == 0
    assert view.stack.currentWidget() is view.empty and view.empty.isVisible()
    assert not view.table.isVisible()
    assert "Ctrl+N" in view.new_button.toolTip()
    assert view.new_button.text().startswith("&")  # Alt+N as well

    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(view.findChildren(ExportDialog)))
    dialog = view.findChildren(ExportDialog)[0]
    dialog.reject()


def test_recipient_error_sits_under_the_field_and_follows_typing(qtbot: Any,
                                                                 services: Any,
                                                                 tmp_path: Path) -> None:
    from ui.views.exports import ExportDialog

    media = tmp_path / "USBSTICK"
    media.mkdir()
    dialog = ExportDialog(services, today=TODAY, media=[media])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.recipient_error.isVisible()  # untouched: no nagging yet
    dialog.recipient.setEditText("Hub")
    dialog.recipient.setEditText("")
    assert dialog.recipient_error.isVisible()  # emptied as typed: said at once
    assert "recipient is required" in dialog.recipient_error.text()
    assert below(dialog.recipient, dialog.recipient_error, dialog)
    assert below(dialog.recipient_error, dialog.justification, dialog)
    assert dialog.recipient.property("invalid") is True
    dialog.recipient.setEditText("National CT hub")
    assert not dialog.recipient_error.isVisible()  # fixed as typed

    dialog.export_button.click()  # the justification is still missing: said under it
    assert dialog.justification_error.isVisible() and dialog.problem.isHidden()
    assert "justification is required" in dialog.justification_error.text()
    assert list(media.iterdir()) == []
    dialog.justification.setPlainText("Monthly return")
    assert not dialog.justification_error.isVisible()


def test_after_an_export_nothing_overlaps_and_close_is_the_default(qtbot: Any,
                                                                   services: Any,
                                                                   tmp_path: Path) -> None:
    from ui.views.exports import ExportDialog

    media = tmp_path / "USBSTICK"
    media.mkdir()
    dialog = ExportDialog(services, today=TODAY, media=[media])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.export_button.isDefault()
    assert not dialog.browse_button.autoDefault()
    dialog.recipient.setEditText("National CT hub")
    dialog.justification.setPlainText("Monthly headcount return")
    dialog.browse_button.setFocus()  # where the focus was when Browse… became the default
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.disclosure is not None or not dialog.problem.isHidden(),
                    timeout=60_000)
    assert dialog.disclosure is not None, dialog.problem.text()
    qtbot.waitUntil(lambda: dialog.close_button.isVisible())
    qtbot.wait(20)
    assert dialog.close_button.isDefault() and not dialog.browse_button.isDefault()
    assert not dialog.browse_button.isEnabled()
    hint = next(w for w in dialog.findChildren(QLabel) if w.text().startswith("Marked "))
    assert below(dialog.justification, hint, dialog)  # the hint no longer covers the box
    assert below(hint, dialog.outcome, dialog)
    assert dialog.justification.height() == 72
    assert dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width())

"""Text copied from Caseward leaves the clipboard after the configured delay, on lock and on quit;
a later copy from another program is never wiped; Ctrl+C on tables copies tab-separated rows."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication

from tests.conftest import PASSPHRASE
from tests.ui.conftest import OFFSCREEN_NOISE, unlock_with
from tests.ui.test_nominals_support import go_to, open_vault

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

SHORT_MS = 50


@pytest.fixture
def clipboard(qapp: Any) -> Any:
    board = QGuiApplication.clipboard()
    board.clear()
    yield board
    board.clear()


@pytest.fixture
def coordinator(make_app: Any, existing_vault: Any, qtbot: Any) -> Any:
    """The window signed in as coordinator cora (who may add nominals) on an empty vault."""
    from app.services.users import UserService

    vault = open_vault(existing_vault, "alice")
    try:
        UserService(vault).add_user("cora", "coordinator", PASSPHRASE)
    finally:
        vault.lock()
    ctl = make_app(vault_path=existing_vault)
    ctl.start()
    unlock_with(qtbot, ctl, "cora", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None and ctl.window.isVisible(), timeout=15_000)
    return ctl


def wait_list(qtbot: Any, area: Any) -> None:
    qtbot.waitUntil(lambda: not area.list.loading and not area.list._timer.isActive(),
                    timeout=10_000)


def new_record_pnc(qtbot: Any, ctl: Any) -> Any:
    """The PNC field of a new nominal record, reached as a user does (Go, then Ctrl+N)."""
    area = go_to(qtbot, ctl, "nominals")
    wait_list(qtbot, area)
    qtbot.keyClick(area.list.search, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    page = area.record
    assert page is not None
    return page.view.pnc


def copy_field(qtbot: Any, field: Any, text: str) -> None:
    field.setFocus()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)


def test_offscreen_clipboard_works_within_the_process(clipboard: Any) -> None:
    # The other tests rely on it; the offscreen plugin never reports ownership, hence the
    # guard's process-local rule (ui.clipboard._PROCESS_LOCAL).
    assert QGuiApplication.platformName() == "offscreen"
    clipboard.setText("made-up text 1")
    assert clipboard.text() == "made-up text 1"
    assert clipboard.ownsClipboard() is False


def test_copied_pnc_is_cleared_after_the_delay(coordinator: Any, qtbot: Any,
                                               clipboard: Any) -> None:
    ctl = coordinator
    assert ctl.clipboard.delay_ms == 30_000  # the default
    ctl.clipboard.set_delay_ms(SHORT_MS)
    field = new_record_pnc(qtbot, ctl)
    copy_field(qtbot, field, "09/123456Z")
    assert clipboard.text() == "09/123456Z"
    assert ctl.clipboard.pending
    assert ctl.window.statusBar().currentMessage().startswith(
        "Copied — the clipboard will be cleared in")
    with qtbot.waitSignal(ctl.clipboard.cleared, timeout=2000):
        pass
    assert clipboard.text() == ""
    assert not ctl.clipboard.pending


def test_status_message_names_the_configured_delay(unlocked: Any, qtbot: Any,
                                                   clipboard: Any) -> None:
    ctl = unlocked
    area = go_to(qtbot, ctl, "nominals")
    copy_field(qtbot, area.list.search, "made-up search")
    assert ctl.window.statusBar().currentMessage() == (
        "Copied — the clipboard will be cleared in 30 s")
    assert clipboard.text() == "made-up search"


def test_another_programs_later_copy_is_not_cleared(unlocked: Any, qtbot: Any,
                                                    clipboard: Any) -> None:
    ctl = unlocked
    ctl.clipboard.set_delay_ms(SHORT_MS)
    area = go_to(qtbot, ctl, "nominals")
    copy_field(qtbot, area.list.search, "made-up name")
    assert ctl.clipboard.pending
    # Another program copies: the platform says we no longer own the clipboard.
    ctl.clipboard.owns = lambda: False
    clipboard.setText("someone else's text")
    assert not ctl.clipboard.pending
    qtbot.wait(SHORT_MS * 4)
    assert clipboard.text() == "someone else's text"


def test_a_change_we_did_not_see_is_not_cleared(unlocked: Any, qtbot: Any,
                                                clipboard: Any) -> None:
    # Even when no change signal arrives, the content is compared before clearing.
    ctl = unlocked
    ctl.clipboard.set_delay_ms(SHORT_MS)
    area = go_to(qtbot, ctl, "nominals")
    copy_field(qtbot, area.list.search, "made-up name")
    assert ctl.clipboard.pending
    clipboard.blockSignals(True)
    try:
        clipboard.setText("other text")
    finally:
        clipboard.blockSignals(False)
    qtbot.waitUntil(lambda: not ctl.clipboard.pending, timeout=2000)
    assert clipboard.text() == "other text"


def test_lock_clears_the_clipboard(coordinator: Any, qtbot: Any, clipboard: Any) -> None:
    ctl = coordinator
    assert ctl.clipboard.delay_ms == 30_000  # so only the lock can clear it here
    field = new_record_pnc(qtbot, ctl)
    copy_field(qtbot, field, "09/654321A")
    assert clipboard.text() == "09/654321A"
    qtbot.keyClick(ctl.window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: ctl.is_locked, timeout=5000)
    assert clipboard.text() == ""


def test_idle_lock_clears_the_clipboard(unlocked: Any, qtbot: Any, clipboard: Any) -> None:
    ctl = unlocked
    area = go_to(qtbot, ctl, "nominals")
    copy_field(qtbot, area.list.search, "made-up name")
    assert clipboard.text() == "made-up name"
    ctl.set_idle_timeout_ms(100)
    qtbot.waitUntil(lambda: ctl.is_locked, timeout=5000)
    assert clipboard.text() == ""


def test_quit_clears_the_clipboard_but_not_another_programs(unlocked: Any, qtbot: Any,
                                                            clipboard: Any) -> None:
    ctl = unlocked
    area = go_to(qtbot, ctl, "nominals")
    copy_field(qtbot, area.list.search, "made-up name")
    ctl.shutdown()
    assert clipboard.text() == ""
    # Nothing of ours pending: a second shutdown leaves another program's copy alone.
    ctl.clipboard.owns = lambda: False
    clipboard.setText("someone else's text")
    ctl.shutdown()
    assert clipboard.text() == "someone else's text"


def test_audit_table_ctrl_c_copies_the_row_as_tab_separated_text(
        unlocked: Any, qtbot: Any, clipboard: Any) -> None:
    ctl = unlocked
    ctl.clipboard.set_delay_ms(SHORT_MS)
    view = ctl.window.show_area("audit")
    table = view.table
    qtbot.waitUntil(lambda: table.model().rowCount() > 0, timeout=10_000)
    table.setFocus()
    table.selectRow(0)
    model = table.model()
    expected = "\t".join(
        " ".join(str(model.index(0, c).data() or "").replace("\t", " ").splitlines())
        for c in range(model.columnCount()) if not table.isColumnHidden(c))
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == expected
    assert clipboard.text().count("\t") == model.columnCount() - 1
    assert ctl.clipboard.pending
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=2000)


def test_setting_persists_applies_and_refuses_out_of_range(unlocked: Any, qtbot: Any,
                                                           settings: Any) -> None:
    ctl = unlocked
    view = ctl.window.show_area("admin")
    field = view.clipboard_seconds
    assert field.text() == "30"
    for bad in ("0", "4", "601", ""):
        field.clear()
        qtbot.keyClicks(field, bad)
        assert view.clipboard_error.isVisible(), bad
        assert "from 5 to 600" in view.clipboard_error.text()
        assert not view.save_settings_button.isEnabled()
    field.clear()
    qtbot.keyClicks(field, "abc")  # the validator lets no letters in
    assert field.text() == ""
    qtbot.keyClicks(field, "45")
    assert not view.clipboard_error.isVisible()
    assert view.save_settings_button.isEnabled()
    view.save_settings()
    assert ctl.clipboard.delay_ms == 45_000
    assert "clears copied text after 45 seconds" in view.message.text()
    settings.sync()
    reread = QSettings(settings.fileName(), QSettings.Format.IniFormat)
    assert int(str(reread.value("security/clipboard_clear_seconds"))) == 45
    assert ctl.prefs.clipboard_seconds() == 45
    for bad in (0, 4, 601, -1):
        with pytest.raises(ValueError):
            ctl.prefs.set_clipboard_seconds(bad)
    assert ctl.prefs.clipboard_seconds() == 45
    # A hand-edited file cannot switch clearing off either.
    settings.setValue("security/clipboard_clear_seconds", 0)
    assert ctl.prefs.clipboard_seconds() == 5

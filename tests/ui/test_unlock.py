"""The unlock dialog: clear messages by cause, the back-off countdown, caps lock, other vaults."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.conftest import PASSPHRASE
from tests.ui.conftest import OFFSCREEN_NOISE, unlock_with

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def _started(make_app: Any, vault: Path, **kwargs: Any) -> Any:
    ctl = make_app(vault_path=vault, **kwargs)
    ctl.start()
    assert ctl.wizard is None
    assert ctl.unlock_dialog is not None and ctl.unlock_dialog.isVisible()
    return ctl


def test_wrong_passphrase_says_so_and_clears_the_field(
    make_app: Any, existing_vault: Path, qtbot: Any
) -> None:
    ctl = _started(make_app, existing_vault)
    dialog = ctl.unlock_dialog
    unlock_with(qtbot, ctl, "alice", "not the right passphrase")
    assert ctl.is_locked
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("Wrong passphrase for 'alice' (failed attempt 1)")
    assert dialog.passphrase.text() == ""
    assert not dialog.countdown.isVisible()
    unlock_with(qtbot, ctl, "alice", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)
    assert ctl.prefs.last_user() == "alice"


def test_unknown_user_and_damaged_file_get_their_own_messages(
    make_app: Any, existing_vault: Path, qtbot: Any
) -> None:
    ctl = _started(make_app, existing_vault)
    dialog = ctl.unlock_dialog
    unlock_with(qtbot, ctl, "nobody", PASSPHRASE)
    assert dialog.error.text().startswith("Unknown user. There is no account named 'nobody'")

    keys = Path(str(existing_vault) + ".keys")
    keys.write_bytes(b"{ this is not a key file")
    unlock_with(qtbot, ctl, "alice", PASSPHRASE)
    text = dialog.error.text()
    assert "Wrong passphrase" not in text
    assert "damaged" in text.lower() or "key file" in text.lower(), text


def test_backoff_countdown_disables_unlock_until_it_ends(
    make_app: Any, existing_vault: Path, qtbot: Any
) -> None:
    ctl = _started(make_app, existing_vault)
    dialog = ctl.unlock_dialog
    for _ in range(3):
        qtbot.waitUntil(lambda: not dialog.waiting, timeout=10_000)
        unlock_with(qtbot, ctl, "alice", "wrong wrong wrong")
    # The third failure asks for a wait (2 s): the countdown shows and Unlock is disabled,
    # even with a passphrase typed in.
    assert dialog.countdown.isVisible()
    assert "Try again in 2 seconds" in dialog.countdown.text()
    qtbot.keyClicks(dialog.passphrase, PASSPHRASE)
    assert not dialog.unlock_button.isEnabled()
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    assert not dialog._busy  # Enter does nothing while waiting

    # A new dialog (as after a restart) hears LockedOut from the core and counts down too.
    ctl.unlock_dialog.hide()
    fresh = ctl.show_unlock()
    fresh._deadline = 0.0
    fresh.user.setText("alice")
    fresh.passphrase.setText(PASSPHRASE)
    fresh.try_unlock()
    qtbot.waitUntil(lambda: not fresh._busy, timeout=10_000)
    assert fresh.error.text().startswith("Too many failed attempts for 'alice'")
    assert fresh.countdown.isVisible() and not fresh.unlock_button.isEnabled()

    started = time.monotonic()
    qtbot.waitUntil(lambda: not fresh.countdown.isVisible(), timeout=6_000)
    assert time.monotonic() - started > 0.5
    assert not fresh.unlock_button.isEnabled()  # the field was cleared: nothing to try yet
    qtbot.keyClicks(fresh.passphrase, PASSPHRASE)
    assert fresh.unlock_button.isEnabled()
    qtbot.mouseClick(fresh.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)


def test_caps_lock_warning_follows_what_is_typed(
    make_app: Any, existing_vault: Path, qtbot: Any
) -> None:
    ctl = _started(make_app, existing_vault)
    dialog = ctl.unlock_dialog
    assert not dialog.caps.isVisible()
    none, shift = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier
    _type(dialog.passphrase, Qt.Key.Key_A, none, "A")  # a capital without Shift
    assert dialog.caps.isVisible()
    _type(dialog.passphrase, Qt.Key.Key_B, shift, "B")
    assert not dialog.caps.isVisible()
    _type(dialog.passphrase, Qt.Key.Key_C, shift, "c")  # Shift gives lower case: caps on
    assert dialog.caps.isVisible()
    _type(dialog.passphrase, Qt.Key.Key_1, none, "1")  # not a letter: no change
    assert dialog.caps.isVisible()
    _type(dialog.passphrase, Qt.Key.Key_D, none, "d")
    assert not dialog.caps.isVisible()
    assert dialog.passphrase.text() == "ABc1d"


def _type(widget: Any, key: Qt.Key, modifiers: Qt.KeyboardModifier, text: str) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyPress, key, modifiers, text))
    QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyRelease, key, modifiers, text))


def test_choose_another_vault_and_remembered_user(
    make_app: Any, existing_vault: Path, qtbot: Any, tmp_path: Path, fake_dialogs: Any
) -> None:
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault

    other = tmp_path / "other" / "second.cwv"
    other.parent.mkdir()
    vault, _ = create_vault(other, "bob", PASSPHRASE, bind_to_terminal=False,
                            secret_store=MemorySecretStore())
    vault.lock()
    ctl = _started(make_app, existing_vault)
    dialog = ctl.unlock_dialog
    fake_dialogs.answers["open_file"] = [str(other)]
    qtbot.mouseClick(dialog.choose_button, Qt.MouseButton.LeftButton)
    assert dialog.vault_label.text() == "second.cwv"
    unlock_with(qtbot, ctl, "bob", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)
    assert ctl.services.vault_name == "second.cwv"
    assert ctl.prefs.last_vault() == str(other)

    ctl.lock()
    assert ctl.unlock_dialog.user.text() == "bob"
    assert ctl.unlock_dialog.vault_label.text() == "second.cwv"
    assert ctl.unlock_dialog.passphrase.text() == ""


def test_vault_bound_to_another_terminal_is_explained(
    make_app: Any, tmp_path: Path, qtbot: Any
) -> None:
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault

    path = tmp_path / "bound.cwv"
    vault, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=True,
                            secret_store=MemorySecretStore())
    vault.lock()
    ctl = _started(make_app, path, store=MemorySecretStore())  # a different keyring
    unlock_with(qtbot, ctl, "alice", PASSPHRASE)
    assert ctl.is_locked
    assert ctl.unlock_dialog.error.text().startswith("Bound to another terminal.")


def test_keyboard_only_unlock(make_app: Any, existing_vault: Path, qtbot: Any) -> None:
    ctl = _started(make_app, existing_vault)
    dialog = ctl.unlock_dialog
    dialog.user.setText("")
    dialog.user.setFocus()
    qtbot.keyClicks(dialog.user, "alice")
    qtbot.keyClick(dialog.user, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.focusWidget(), PASSPHRASE)
    assert dialog.passphrase.text() == PASSPHRASE
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)

"""Through the real window: wizard → main window → idle lock → unlock → Audit → Verify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWizard,
)

from tests.conftest import PASSPHRASE
from tests.ui.conftest import OFFSCREEN_NOISE, unlock_with

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def _click(qtbot: Any, button: Any) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _visible_texts() -> str:
    """Every piece of text any widget in the application currently holds."""
    texts = []
    for w in QApplication.allWidgets():
        if isinstance(w, QLabel | QLineEdit):
            texts.append(w.text())
        elif isinstance(w, QPlainTextEdit):
            texts.append(w.toPlainText())
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            model = w.model()
            for row in range(model.rowCount(QModelIndex())):
                col = 0
                while (index := model.index(row, col)).isValid():
                    texts.append(str(index.data() or ""))
                    col += 1
    return "\n".join(texts)


def test_wizard_to_verified_audit_with_an_idle_lock_between(
    make_app: Any, qtbot: Any, tmp_path: Path, settings: Any
) -> None:
    path = tmp_path / "new.cwv"
    ctl = make_app(vault_path=path, idle_timeout_ms=500)
    ctl.start()
    wiz = ctl.wizard
    assert wiz is not None and wiz.isVisible()
    assert ctl.unlock_dialog is None

    # Location: the suggested path is the one the controller was given.
    assert wiz.location.chosen_path() == path
    _click(qtbot, wiz.button(QWizard.WizardButton.NextButton))
    assert wiz.currentPage() is wiz.admin

    # Administrator: Next stays disabled until both passphrases match and are long enough.
    qtbot.keyClicks(wiz.admin.user, "r.admin")
    qtbot.keyClicks(wiz.admin.passphrase.first, PASSPHRASE)
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.keyClicks(wiz.admin.passphrase.second, PASSPHRASE)
    assert wiz.admin.passphrase.meter.score >= 2
    _click(qtbot, wiz.button(QWizard.WizardButton.NextButton))
    assert wiz.currentPage() is wiz.binding

    # Binding: a secure keyring offers binding, checked by default.
    assert wiz.binding.bind.isChecked()
    _click(qtbot, wiz.button(QWizard.WizardButton.CommitButton))
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.recovery, timeout=15_000)
    assert path.exists()

    # Recovery key: shown grouped; Next only once the user says it is stored; no way back.
    key_text = wiz.recovery.key_label.text()
    assert key_text.replace("  ", "-").replace("\n", "-") == wiz.recovery_key
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    assert not wiz.button(QWizard.WizardButton.BackButton).isEnabled()
    wiz.reject()  # Escape after creation is refused
    assert wiz.isVisible()
    wiz.recovery.stored.setChecked(True)
    _click(qtbot, wiz.button(QWizard.WizardButton.NextButton))
    assert wiz.currentPage() is wiz.finish
    _click(qtbot, wiz.button(QWizard.WizardButton.FinishButton))

    qtbot.waitUntil(lambda: ctl.services is not None and ctl.window.isVisible(), timeout=10_000)
    win = ctl.window
    assert _core_areas(win) == ["today", "audit", "admin"]
    assert "r.admin" in win.status_user.text()
    assert "Supervisor" in win.status_role.text()
    assert win.status_vault.text() == "Vault: new.cwv"
    assert win.status_marking.text() == "OFFICIAL-SENSITIVE"

    # Idle: no input for 500 ms locks the vault and wipes the window.
    audit = win.show_area("audit")
    qtbot.waitUntil(lambda: not audit.loading, timeout=5_000)
    model = audit.model
    assert model.rowCount() > 0
    qtbot.waitUntil(lambda: ctl.is_locked, timeout=5_000)
    assert win.area_widget("audit") is None
    assert win.visible_areas() == []
    dialog = ctl.unlock_dialog
    assert dialog is not None and dialog.isVisible()
    assert "without activity" in dialog.notice.text()
    qtbot.waitUntil(lambda: not any(type(w).__name__ == "AuditView"
                                    for w in QApplication.allWidgets()), timeout=5_000)
    assert not _alive(audit) and not _alive(model)  # the view and its rows are gone
    assert "vault.create" not in _visible_texts()

    # Unlock again; keep the idle lock out of the way for the rest of the test.
    ctl.set_idle_timeout_ms(60_000)
    unlock_with(qtbot, ctl, "r.admin", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)
    assert _core_areas(win) == ["today", "audit", "admin"]

    audit = win.show_area("audit")
    qtbot.waitUntil(lambda: not audit.loading, timeout=5_000)
    actions = {audit.model.record(r).action for r in range(audit.model.rowCount())}
    assert {"vault.create", "unlock"} <= actions
    _click(qtbot, audit.verify_button)
    qtbot.waitUntil(lambda: not audit.verifying, timeout=15_000)
    assert audit.banner_kind == "OkBanner"
    assert audit.banner_text.startswith("Chain intact:")
    assert f"{audit.model.total} rows" in audit.banner_text

    # Settings never hold record data: only the keys we chose to keep.
    settings.sync()
    keys = set(settings.allKeys())
    assert keys <= {"vault/last_path", "vault/last_user", "geometry/main",
                    "security/idle_lock_minutes"}, keys


def _core_areas(win: Any) -> list[str]:
    """The areas this part of the window provides, in navigation order (others may be added)."""
    return [k for k in win.visible_areas() if k in {"today", "audit", "admin"}]


def _alive(widget: Any) -> bool:
    try:
        widget.objectName()
    except RuntimeError:
        return False
    return True


def test_lock_shortcut_wipes_every_window_and_closes_dialogs(unlocked: Any, qtbot: Any) -> None:
    ctl = unlocked
    win = ctl.window
    admin = win.show_area("admin")
    admin.add_user()
    dialog = admin.add_dialog
    assert dialog.isVisible()
    ctl.services.users.add_user("b.hale", "viewer", PASSPHRASE, display_name="Bea Hale")
    admin.reload()
    assert "Bea Hale" in _visible_texts()

    win.lock_action.trigger()
    assert ctl.is_locked
    assert not dialog.isVisible()
    assert ctl.services is None
    qtbot.waitUntil(lambda: "Bea Hale" not in _visible_texts(), timeout=5_000)
    assert "b.hale" not in _visible_texts()
    assert win.stack.currentWidget() is win.locked_page
    assert not win.lock_action.isEnabled()

    unlock_with(qtbot, ctl, "alice", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)
    assert win.current_area() == "today"
    assert win.lock_action.isEnabled()


def test_quitting_at_the_unlock_dialog_locks_and_exits(unlocked: Any, qtbot: Any) -> None:
    ctl = unlocked
    codes: list[int] = []
    ctl.exit_requested.connect(codes.append)
    vault = ctl.vault
    ctl.lock()
    assert vault.locked
    _click(qtbot, ctl.unlock_dialog.quit_button)
    assert codes == [0]

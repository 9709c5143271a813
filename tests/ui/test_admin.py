"""The Admin view: users through UserService, validation next to fields, idle-lock setting."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.domain.roles import Role
from tests.conftest import PASSPHRASE
from tests.ui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def _names(view: Any) -> list[str]:
    return [view.model.user(r).name for r in range(view.model.rowCount())]


def test_add_a_user_through_the_dialog(unlocked: Any, qtbot: Any) -> None:
    view = unlocked.window.show_area("admin")
    assert _names(view) == ["alice"]
    qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    dialog = view.add_dialog
    assert dialog.isVisible()

    # Validation messages sit next to their fields; nothing is created.
    qtbot.keyClicks(dialog.name, "9bad name")
    qtbot.keyClicks(dialog.passphrase.first, "short")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.name_error.text().startswith("The user name must start with a letter")
    assert dialog.passphrase.first_error.text() == (
        "The passphrase must be at least 12 characters."
    )
    dialog.name.setText("b.hale")
    dialog.display.setText("Bea Hale")
    dialog.role.setCurrentIndex(dialog.role.findData(Role.COORDINATOR.value))
    dialog.passphrase.first.setText(PASSPHRASE)
    dialog.passphrase.second.setText(PASSPHRASE + "x")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.passphrase.second_error.text() == "The two entries differ."
    dialog.passphrase.second.setText(PASSPHRASE)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)

    assert _names(view) == ["alice", "b.hale"]
    row = view.model.row_of("b.hale")
    cells = [view.model.index(row, c).data() for c in range(view.model.columnCount())]
    assert cells[:3] == ["b.hale", "Bea Hale", "Nominal Management Coordinator"]
    assert cells[4] == "Never" and cells[5] == "Present"
    assert view.selected().name == "b.hale"
    assert "Added b.hale" in view.message.text()


def test_a_duplicate_name_is_reported_on_the_field(unlocked: Any, qtbot: Any) -> None:
    view = unlocked.window.show_area("admin")
    view.add_user()
    dialog = view.add_dialog
    dialog.name.setText("alice")
    dialog.passphrase.first.setText(PASSPHRASE)
    dialog.passphrase.second.setText(PASSPHRASE)
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=10_000)
    assert dialog.isVisible()
    assert dialog.name_error.text() == "An account with that name already exists."


def admin_with_a_viewer_selected(ctl: Any) -> Any:
    """The Admin area with a new viewer, c.mirza, selected."""
    ctl.services.users.add_user("c.mirza", "viewer", PASSPHRASE)
    view = ctl.window.show_area("admin")
    view.reload(select="c.mirza")
    return view


def test_change_role_reset_passphrase_and_remove(unlocked: Any, qtbot: Any,
                                                 fake_dialogs: Any) -> None:
    ctl = unlocked
    view = admin_with_a_viewer_selected(ctl)

    fake_dialogs.answers["choose"] = ["Intelligence Management Officer (Prevent)"]
    qtbot.mouseClick(view.role_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.selected() is not None
                    and view.selected().role is Role.ANALYST, timeout=10_000)

    view.reset_passphrase()
    dialog = view.reset_dialog
    new = "a brand new passphrase"
    dialog.passphrase.first.setText(new)
    dialog.passphrase.second.setText(new)
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert "Passphrase set for c.mirza" in view.message.text()

    # Removing asks why, then asks to confirm; declining changes nothing.
    fake_dialogs.answers["ask_text"] = ["left the unit"]
    fake_dialogs.answers["confirm"] = [False]
    view.remove_user()
    assert "c.mirza" in _names(view)
    fake_dialogs.answers["ask_text"] = ["left the unit"]
    fake_dialogs.answers["confirm"] = [True]
    view.remove_user()
    qtbot.waitUntil(lambda: "c.mirza" not in _names(view), timeout=10_000)
    removals = [r for r in ctl.services.audit.page() if r.action == "user.remove"]
    assert removals[0].ref == "c.mirza" and removals[0].reason == "left the unit"

    # The service's own refusals are shown plainly.
    view.reload(select="alice")
    fake_dialogs.answers["ask_text"] = ["testing"]
    fake_dialogs.answers["confirm"] = [True]
    view.remove_user()
    qtbot.waitUntil(lambda: fake_dialogs.kinds()[-1] == "error", timeout=10_000)
    assert "you cannot remove your own account" in fake_dialogs.calls[-1][2]


def test_idle_lock_setting_is_saved_and_applied(unlocked: Any, settings: Any) -> None:
    ctl = unlocked
    ctl.set_idle_timeout_ms(None)  # follow the stored preference, as the real app does
    view = ctl.window.show_area("admin")
    assert view.idle_minutes.value() == 10
    assert ctl.idle.timeout_ms == 10 * 60_000
    view.idle_minutes.setValue(3)
    view.save_settings()
    assert ctl.idle.timeout_ms == 3 * 60_000
    settings.sync()
    assert int(settings.value("security/idle_lock_minutes")) == 3


def test_admin_and_audit_areas_are_hidden_from_other_roles(
    make_app: Any, existing_vault: Any, qtbot: Any
) -> None:
    from app.security.secrets import MemorySecretStore
    from app.services.users import UserService
    from app.services.vault import unlock_vault
    from tests.ui.conftest import unlock_with

    vault = unlock_vault(existing_vault, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    UserService(vault).add_user("d.evans", "viewer", PASSPHRASE)
    vault.lock()
    ctl = make_app(vault_path=existing_vault)
    ctl.start()
    unlock_with(qtbot, ctl, "d.evans", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)
    areas = ctl.window.visible_areas()
    assert areas[0] == "today"
    assert "audit" not in areas and "admin" not in areas
    assert "Viewer" in ctl.window.status_role.text()


def test_enter_on_a_user_opens_change_role_as_a_double_click_does(unlocked: Any, qtbot: Any,
                                                                   fake_dialogs: Any) -> None:
    ctl = unlocked
    view = admin_with_a_viewer_selected(ctl)
    fake_dialogs.answers["choose"] = ["Intelligence Management Officer (Prevent)"]
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert ("choose", "Change role") in [c[:2] for c in fake_dialogs.calls]
    qtbot.waitUntil(lambda: view.selected() is not None
                    and view.selected().role is Role.ANALYST, timeout=10_000)

"""Drive the real window offscreen and save PNGs of every screen to /tmp/caseward-shots/.

Usage: .venv/bin/python scripts/screenshots.py [OUT_DIR]
Uses a throw-away home folder, an in-memory keyring and synthetic user names only."""

from __future__ import annotations

import sys

import _shots  # first (sorts first too): a throw-away home and offscreen Qt before the app
from _shots import HOME, PASSPHRASE, SIZES, over_backdrop, settle, wait_until
from PySide6.QtWidgets import QWizard

from app.security.secrets import MemorySecretStore
from ui.app import CasewardApp
from ui.dialogs import RecordingDialogs
from ui.wizard import FirstRunWizard


def main() -> int:
    out = _shots.out_dir(sys.argv[1] if len(sys.argv) > 1 else None)
    app = _shots.qt_app()
    settings = _shots.settings()
    shots = _shots.Shots(out)
    save = shots.save

    # -- the wizard ---------------------------------------------------------------------------
    ctl = CasewardApp(MemorySecretStore(secure=True, name="Secret Service (GNOME Keyring)"),
                      settings=settings, dialogs=RecordingDialogs())
    ctl.start()
    wiz = ctl.wizard
    assert wiz is not None
    settle(app)
    save(wiz, "01-wizard-location")
    wiz.next()
    settle(app)
    save(wiz, "02-wizard-admin-empty")
    wiz.admin.user.setText("a.okafor")
    wiz.admin.passphrase.first.setText(PASSPHRASE)
    wiz.admin.passphrase.second.setText(PASSPHRASE)
    settle(app)
    save(wiz, "03-wizard-admin-filled")
    wiz.admin.passphrase.first.setText("Summer2024")
    wiz.admin.passphrase.second.setText("Summer20")
    wiz.admin.passphrase.validate()
    settle(app)
    save(wiz, "04-wizard-admin-errors")
    wiz.admin.passphrase.first.setText(PASSPHRASE)
    wiz.admin.passphrase.second.setText(PASSPHRASE)
    wiz.next()
    settle(app)
    save(wiz, "05-wizard-binding-secure")
    wiz.button(QWizard.WizardButton.CommitButton).click()
    settle(app)
    save(wiz, "06-wizard-creating")
    wait_until(app, lambda: wiz.currentPage() is wiz.recovery)
    save(wiz, "07-wizard-recovery")
    wiz.recovery.stored.setChecked(True)
    wiz.next()
    settle(app)
    save(wiz, "08-wizard-finish")

    insecure = FirstRunWizard(MemorySecretStore(secure=False, name="keyring.backends.fail.Keyring"),
                              ctl.ops, RecordingDialogs(), HOME / "other.cwv")
    insecure.show()
    insecure.next()
    insecure.admin.user.setText("a.okafor")
    insecure.admin.passphrase.first.setText(PASSPHRASE)
    insecure.admin.passphrase.second.setText(PASSPHRASE)
    insecure.next()
    settle(app)
    save(insecure, "09-wizard-binding-no-keyring")
    insecure.close()

    wiz.button(QWizard.WizardButton.FinishButton).click()
    wait_until(app, lambda: ctl.services is not None and ctl.window.isVisible())
    services = ctl.services
    assert services is not None
    for name, role, display in (("b.hale", "coordinator", "Bea Hale"),
                                ("c.mirza", "analyst", "Cal Mirza"),
                                ("d.evans", "viewer", "Dee Evans")):
        services.users.add_user(name, role, PASSPHRASE, display_name=display)

    win = ctl.window
    for w, h in SIZES:
        tag = f"{w}x{h}"
        win.resize(w, h)
        settle(app)
        win.show_area("today")
        settle(app)
        save(win, f"10-main-today-{tag}")
        audit = win.show_area("audit")
        wait_until(app, lambda a=audit: not a.loading)  # type: ignore[attr-defined]
        audit.verify()  # type: ignore[attr-defined]
        wait_until(app, lambda a=audit: not a.verifying)  # type: ignore[attr-defined]
        audit.table.selectRow(0)  # type: ignore[attr-defined]
        settle(app)
        save(win, f"11-audit-verified-{tag}")
        admin = win.show_area("admin")
        admin.table.selectRow(1)  # type: ignore[attr-defined]
        settle(app)
        save(win, f"12-admin-{tag}")
        from ui.views.admin import AddUserDialog

        dialog = AddUserDialog(services, win)
        dialog.name.setText("e.ng")
        dialog.passphrase.first.setText("short")
        dialog.show()
        dialog.submit()
        settle(app)
        save(over_backdrop(win.grab().toImage(), dialog), f"13-admin-add-user-{tag}")
        dialog.close()

    # -- lock and unlock ---------------------------------------------------------------------------
    win.resize(1366, 768)
    ctl.lock("Locked after 10 minutes without activity.")
    unlock = ctl.unlock_dialog
    assert unlock is not None
    settle(app)
    for w, h in SIZES:
        win.resize(w, h)
        settle(app)
        save(over_backdrop(win.grab().toImage(), unlock), f"14-unlock-locked-{w}x{h}")
    unlock.passphrase.setText("not the passphrase")
    unlock.try_unlock()
    wait_until(app, lambda: not unlock._busy)
    save(unlock, "15-unlock-wrong-passphrase")
    for _ in range(2):
        unlock._stop_countdown()
        unlock.passphrase.setText("still not it")
        unlock.try_unlock()
        wait_until(app, lambda: not unlock._busy)
    settle(app)
    save(unlock, "16-unlock-backoff")
    win.resize(1366, 768)
    save(win, "17-main-locked-1366x768")
    ctl.shutdown()
    print("\n".join(str(p) for p in shots.saved))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Screenshots of the calendar (month, week, agenda), Today, the quick-add contact dialog,
the engagement tabs and the Pathways map, on a demo vault, offscreen, at 1366x768.

Usage: .venv/bin/python scripts/screenshots_calendar.py VAULT [OUT_DIR] [--user alice]
The passphrase comes from CASEWARD_PASSPHRASE (default: the benchmark vaults' passphrase).
Build a vault with `caseward demo` or `python -m bench.bench_calendar --make V --nominals N`.
Uses a throw-away home folder and an in-memory keyring; every record is synthetic."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import _shots  # first (sorts first too): a throw-away home and offscreen Qt before the app
from _shots import SIZE, over_backdrop, wait_until


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vault", type=Path)
    parser.add_argument("out", type=Path, nargs="?", default=_shots.DEFAULT_OUT)
    parser.add_argument("--user", default="alice")
    args = parser.parse_args()
    _shots.out_dir(args.out)

    from app.security.secrets import MemorySecretStore
    from app.services.vault import unlock_vault
    from ui.areas import install_standard_areas
    from ui.main_window import MainWindow
    from ui.ops import OpRunner

    app = _shots.qt_app()
    passphrase = os.environ.get("CASEWARD_PASSPHRASE", "correct horse battery staple")
    vault = unlock_vault(args.vault, args.user, passphrase, secret_store=MemorySecretStore())
    ops = OpRunner()
    services = _shots.services_for(vault, ops, "settings.ini")
    window = MainWindow(services.prefs)
    install_standard_areas(window)
    window.resize(*SIZE)
    window.show()
    window.attach(services)
    shots = _shots.Shots(args.out)
    save = shots.save

    try:
        today: Any = window.show_area("today")
        took = wait_until(app, lambda: today.summary is not None and not today.busy)
        print(f"Today loaded in {took * 1000:.0f} ms (window, background load)")
        save(window, "calendar-today")

        cal: Any = window.show_area("calendar")
        for mode in ("month", "week", "agenda"):
            cal.set_mode(mode)
            took = wait_until(app, lambda: not cal.busy)
            print(f"{mode} view loaded in {took * 1000:.0f} ms")
            if mode == "month":
                cal.day_table.selectRow(0)
            save(window, f"calendar-{mode}")
        cal.set_mode("month")
        wait_until(app, lambda: not cal.busy)
        for kind in ("licence_date", "referral_review", "order_review"):
            cal.legend.set_shown(kind, False)
        wait_until(app, lambda: not cal.busy)
        save(window, "calendar-month-filtered")
        for kind in ("licence_date", "referral_review", "order_review"):
            cal.legend.set_shown(kind, True)
        wait_until(app, lambda: not cal.busy)

        window.show_area("today")
        wait_until(app, lambda: not today.busy)
        card = today.cards["overdue_contacts"]
        if card.model.rowCount():
            card.table.selectRow(0)
            dialog = today.log_contact_current()
            app.processEvents()
            if dialog is None:  # e.g. an admin: the role may read contacts, not log them
                print("log-contact dialog skipped: this user's role may not log contacts")
            else:
                save(over_backdrop(window.grab().toImage(), dialog), "calendar-log-contact")
                dialog.reject()

        from ui.engagement import NominalEngagementTabs

        ref = card.model.item(0).ref if card.model.rowCount() else "NM-000001"
        tabs = NominalEngagementTabs(services, ref)
        tabs.setStyleSheet("QTabWidget { background: #f4f6f8; }")
        tabs.resize(1100, 420)
        tabs.show()
        for i in range(tabs.count()):
            tabs.setCurrentIndex(i)
            app.processEvents()
            save(tabs, f"engagement-tab-{i + 1}")
        tabs.deleteLater()

        window.show_area("pathways")
        app.processEvents()
        save(window, "engagement-pathways")
    finally:
        window.detach()
        ops.cancel_all()
        ops.wait(10_000)
        vault.lock()
    print("saved:", ", ".join(p.name for p in shots.saved), "in", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

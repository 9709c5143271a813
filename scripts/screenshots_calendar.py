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
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOME = Path(tempfile.mkdtemp(prefix="caseward-shots-home-"))
os.environ["CASEWARD_HOME"] = str(HOME)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

SIZE = (1366, 768)


def wait_until(app: QApplication, cond: Callable[[], bool], timeout: float = 60.0) -> float:
    started = time.monotonic()
    while not cond():
        if time.monotonic() - started > timeout:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()
    return time.monotonic() - started


def over_backdrop(backdrop: QImage, dialog: QWidget) -> QImage:
    shot = dialog.grab().toImage()
    out = QImage(backdrop)
    p = QPainter(out)
    p.fillRect(out.rect(), QColor(20, 30, 40, 90))
    p.drawImage((out.width() - shot.width()) // 2, (out.height() - shot.height()) // 2, shot)
    p.end()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vault", type=Path)
    parser.add_argument("out", type=Path, nargs="?", default=Path("/tmp/caseward-shots"))
    parser.add_argument("--user", default="alice")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from app.security.secrets import MemorySecretStore
    from app.services.vault import unlock_vault
    from ui import theme
    from ui.areas import install_standard_areas
    from ui.dialogs import RecordingDialogs
    from ui.main_window import MainWindow
    from ui.ops import OpRunner
    from ui.preferences import Preferences
    from ui.services import Services

    app = QApplication(sys.argv[:1])
    theme.apply(app)
    passphrase = os.environ.get("CASEWARD_PASSPHRASE", "correct horse battery staple")
    vault = unlock_vault(args.vault, args.user, passphrase, secret_store=MemorySecretStore())
    prefs = Preferences(QSettings(str(HOME / "settings.ini"), QSettings.Format.IniFormat))
    ops = OpRunner()
    services = Services(vault, ops=ops, dialogs=RecordingDialogs(), prefs=prefs)
    window = MainWindow(prefs)
    install_standard_areas(window)
    window.resize(*SIZE)
    window.show()
    window.attach(services)
    saved: list[str] = []

    def save(image: QImage | QWidget, name: str) -> None:
        img = image if isinstance(image, QImage) else image.grab().toImage()
        path = args.out / f"{name}.png"
        img.save(str(path))
        saved.append(f"{path.name}")

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
    print("saved:", ", ".join(saved), "in", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

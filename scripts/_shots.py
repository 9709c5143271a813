"""What the screenshot scripts (scripts/screenshots*.py) share: a throw-away home folder, the
offscreen Qt application, an in-memory keyring, demo vaults, waiting for the window, and saving
PNGs.

Import it before PySide6 or anything of the app: importing it points CASEWARD_HOME at a new
temporary folder, selects the offscreen platform and fast (insecure, test-only) key slots, so that
nothing a script does reaches the real home directory or keyring."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HOME = Path(tempfile.mkdtemp(prefix="caseward-shots-home-"))
os.environ["CASEWARD_HOME"] = str(HOME)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# New key slots only (the vaults the scripts create); unlocking an existing vault is unaffected.
os.environ.setdefault("CASEWARD_INSECURE_FAST_KDF", "1")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

PASSPHRASE = "kettle orbit plum harbour"  # the vaults the scripts create (synthetic users)
SIZE = (1366, 768)
SIZES = ((1366, 768), (1920, 1080))
DEFAULT_OUT = Path("/tmp/caseward-shots")


def qt_app() -> QApplication:
    """The application, named and themed as the real one is."""
    from ui import theme

    app = QApplication(sys.argv[:1])
    app.setOrganizationName("Caseward")
    app.setApplicationName("Caseward")
    theme.apply(app)
    return app


def out_dir(arg: str | Path | None) -> Path:
    """The folder for the PNGs (created): ``arg``, else /tmp/caseward-shots."""
    out = Path(arg) if arg else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    return out


def settings(name: str = "settings.ini") -> QSettings:
    """Window settings in the throw-away home, never the user's."""
    return QSettings(str(HOME / name), QSettings.Format.IniFormat)


def wait_until(app: QApplication, cond: Callable[[], bool], timeout: float = 60.0) -> float:
    """Process events until ``cond()`` holds; the seconds it took."""
    started = time.monotonic()
    while not cond():
        if time.monotonic() - started > timeout:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()
    return time.monotonic() - started


def settle(app: QApplication, rounds: int = 10) -> None:
    """Let queued paints and layouts run before a grab."""
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.01)


def over_backdrop(backdrop: QImage, dialog: QWidget) -> QImage:
    """The dialog centred over a dimmed window, as a user would see it."""
    shot = dialog.grab().toImage()
    out = QImage(backdrop)
    p = QPainter(out)
    p.fillRect(out.rect(), QColor(20, 30, 40, 90))
    p.drawImage((out.width() - shot.width()) // 2, (out.height() - shot.height()) // 2, shot)
    p.end()
    return out


class Shots:
    """Saves grabs as OUT/PREFIX+NAME.png and remembers what it saved."""

    def __init__(self, out: Path, prefix: str = "") -> None:
        self.out = out
        self.prefix = prefix
        self.saved: list[Path] = []

    def save(self, image: QImage | QWidget, name: str) -> Path:
        img = image if isinstance(image, QImage) else image.grab().toImage()
        path = self.out / f"{self.prefix}{name}.png"
        img.save(str(path))
        self.saved.append(path)
        return path


def demo_vault(path: Path, nominals: int, seed: int, *, admin: str = "a.okafor") -> Any:
    """A new unbound vault at ``path`` (admin ``admin``, PASSPHRASE) filled with synthetic demo
    data; returned unlocked."""
    from app.services.demo import generate_demo

    vault = new_vault(path, admin)
    started = time.perf_counter()
    summary = generate_demo(vault, nominals, seed=seed)
    print(f"demo vault: {summary.steps} in {time.perf_counter() - started:.1f} s")
    return vault


def new_vault(path: Path, admin: str = "a.okafor") -> Any:
    """A new, empty, unbound vault with an in-memory keyring; returned unlocked."""
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault

    vault, _recovery = create_vault(path, admin, PASSPHRASE, bind_to_terminal=False,
                                    secret_store=MemorySecretStore())
    return vault


def services_for(vault: Any, ops: Any, ini: str = "s.ini") -> Any:
    """What a view is given in the window: services on ``vault`` with recording dialogs."""
    from ui.dialogs import RecordingDialogs
    from ui.preferences import Preferences
    from ui.services import Services

    return Services(vault, ops=ops, dialogs=RecordingDialogs(), prefs=Preferences(settings(ini)))


def window_app(vault_path: Path, **options: Any) -> Any:
    """The real controller (window, unlock dialog) on ``vault_path``, in-memory keyring."""
    from app.security.secrets import MemorySecretStore
    from ui.app import CasewardApp
    from ui.dialogs import RecordingDialogs

    return CasewardApp(MemorySecretStore(), vault_path=vault_path, settings=settings(),
                       dialogs=RecordingDialogs(), **options)


def unlock(app: QApplication, ctl: Any, user: str, passphrase: str,
           timeout: float = 60.0) -> None:
    """Start the controller, sign in through its unlock dialog, wait for the main window."""
    ctl.start()
    dialog = ctl.unlock_dialog
    assert dialog is not None
    dialog.user.setText(user)
    dialog.passphrase.setText(passphrase)
    dialog.try_unlock()
    wait_until(app, lambda: ctl.services is not None and ctl.window.isVisible(), timeout)

"""Fixtures for the window tests: a controller on a temporary vault with an in-memory keyring."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE

# The offscreen platform cannot pass size hints to a window manager; Qt says so on every wizard
# page change. It is not a fault of ours.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def fake_dialogs() -> Any:
    from ui.dialogs import RecordingDialogs

    return RecordingDialogs()


@pytest.fixture
def make_app(qtbot: Any, qapp: Any, tmp_path: Path, settings: Any, fake_dialogs: Any
             ) -> Iterator[Callable[..., Any]]:
    """Build a CasewardApp; every one made is shut down after the test."""
    from PySide6.QtCore import QEvent

    from app.security.secrets import MemorySecretStore
    from ui import theme
    from ui.app import CasewardApp

    theme.apply(qapp)
    made: list[Any] = []

    def make(*, store: Any = None, vault_path: Path | None = None,
             idle_timeout_ms: int | None = 60_000) -> Any:
        ctl = CasewardApp(
            store if store is not None else MemorySecretStore(),
            vault_path=vault_path or tmp_path / "vault.cwv",
            settings=settings,
            dialogs=fake_dialogs,
            idle_timeout_ms=idle_timeout_ms,
        )
        made.append(ctl)
        return ctl

    yield make
    for ctl in made:
        ctl.shutdown()
        assert ctl.ops.wait(10_000)
        ctl.window.deleteLater()
        ctl.deleteLater()
    made.clear()
    # Delete Qt objects here, in the UI thread, rather than whenever the garbage collector
    # happens to run (possibly on a worker thread of a later test).
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    qapp.processEvents()


@pytest.fixture
def existing_vault(tmp_path: Path) -> Path:
    """An unbound vault with admin 'alice' (made through the core, not the window)."""
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault

    path = tmp_path / "vault.cwv"
    vault, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=MemorySecretStore())
    vault.lock()
    return path


def unlock_with(qtbot: Any, ctl: Any, user: str, passphrase: str) -> None:
    """Type into the unlock dialog and press Unlock, as a user would; wait for the result."""
    from PySide6.QtCore import Qt

    dialog = ctl.unlock_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.user.setText(user)
    dialog.passphrase.clear()
    qtbot.keyClicks(dialog.passphrase, passphrase)
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog._busy, timeout=15_000)


@pytest.fixture
def unlocked(make_app: Callable[..., Any], existing_vault: Path, qtbot: Any) -> Any:
    """A controller signed in as alice, main window showing."""
    ctl = make_app(vault_path=existing_vault)
    ctl.start()
    unlock_with(qtbot, ctl, "alice", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None and ctl.window.isVisible(), timeout=15_000)
    return ctl

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
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for ctl in made:
        dispose(ctl.window)
        dispose(ctl)
    made.clear()
    gc.collect()


def dispose(obj: Any) -> None:
    """Delete a Python-owned Qt object now, in the UI thread.

    Left to Python, reference cycles through signal connections are broken by the garbage
    collector, which may run on a worker thread of a later test: deleting a UI-thread object
    there crashes."""
    import shiboken6

    if shiboken6.isValid(obj):
        shiboken6.delete(obj)


@pytest.fixture
def runner(qapp: Any) -> Iterator[Any]:
    from PySide6.QtCore import QEvent

    from ui.ops import OpRunner

    ops = OpRunner()
    yield ops
    assert ops.wait(10_000)
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    dispose(ops)
    gc.collect()


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

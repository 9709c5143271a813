"""Shared fixtures for the nominal window tests: a small demo vault (built once, copied per test)
with admin alice and coordinator cora, and a window signed in as cora."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE
from tests.ui.conftest import unlock_with

DEMO_NOMINALS = 300
DEMO_SEED = 11


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vault with 300 demo nominals (the nominal step only: contacts, referrals and meetings
    are other windows' business and slow to make)."""
    from app.security.secrets import MemorySecretStore
    from app.services import demo
    from app.services.users import UserService
    from app.services.vault import create_vault

    path = tmp_path_factory.mktemp("nominal-demo") / "demo.cwv"
    vault, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=MemorySecretStore())
    UserService(vault).add_user("cora", "coordinator", PASSPHRASE)
    UserService(vault).add_user("vic", "viewer", PASSPHRASE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "STEPS", [s for s in demo.STEPS if s[0] == "nominals"])
        demo.generate_demo(vault, DEMO_NOMINALS, DEMO_SEED)
    vault.lock()
    return path


@pytest.fixture
def demo_vault(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo vault for one test."""
    target = tmp_path / "vault.cwv"
    for source in demo_template.parent.iterdir():
        if source.name.startswith(demo_template.name):
            shutil.copy2(source, tmp_path / source.name.replace(demo_template.name,
                                                                 target.name))
    return target


def open_vault(path: Path, user: str = "cora") -> Any:
    """The vault unlocked through the core (to set up or check what the window did)."""
    from app.security.secrets import MemorySecretStore
    from app.services.vault import unlock_vault

    return unlock_vault(path, user, PASSPHRASE, secret_store=MemorySecretStore())


@pytest.fixture
def signed_in(make_app: Callable[..., Any], demo_vault: Path, qtbot: Any) -> Any:
    """The window signed in as coordinator cora on the demo vault."""
    ctl = make_app(vault_path=demo_vault)
    ctl.start()
    unlock_with(qtbot, ctl, "cora", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None and ctl.window.isVisible(), timeout=15_000)
    return ctl


def go_to(qtbot: Any, ctl: Any, key: str) -> Any:
    """Open an area from the Go menu's shortcut (Ctrl+N for the N-th area), as a user would."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    window = ctl.window
    position = window.visible_areas().index(key) + 1
    assert position <= 9
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, getattr(Qt.Key, f"Key_{position}"),
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.current_area() == key)
    widget = window.area_widget(key)
    assert widget is not None
    return widget

"""Small pieces: strength estimate, caps-lock guess, the area API, About."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.roles import Perm
from tests.ui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.mark.parametrize(
    ("passphrase", "low", "high"),
    [
        ("", 0, 0),
        ("short", 0, 0),
        ("passwordpassword", 1, 1),
        ("aaaaaaaaaaaaaaa", 1, 1),
        ("abcdefghijklmno", 1, 1),
        ("Summer2024!!abc", 1, 2),
        ("correct horse battery staple", 3, 4),
        ("kettle-orbit-plum-harbour-9", 4, 4),
    ],
)
def test_strength_estimate(passphrase: str, low: int, high: int) -> None:
    from ui.strength import estimate

    s = estimate(passphrase)
    assert low <= s.score <= high, s
    assert s.hint


def test_caps_lock_guess(qapp: Any) -> None:
    from PySide6.QtWidgets import QLineEdit

    from ui.widgets import CapsLockWatcher

    field = QLineEdit()
    watcher = CapsLockWatcher(field)
    changes: list[bool] = []
    watcher.changed.connect(changes.append)
    for text, shift in (("a", False), ("A", False), ("Q", False), ("7", False), ("é", True),
                        ("E", True)):
        watcher.feed(text, shift)
    assert changes == [True, False]  # "A" without Shift: on; "é" with Shift: off; no repeats


def test_add_area_api(unlocked: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QLabel

    win = unlocked.window
    made: list[Any] = []

    def factory(services: Any) -> QLabel:
        made.append(services)
        return QLabel(f"Nominals for {services.user}")

    win.add_area("t-early", "Early", "today", factory, Perm.NOMINAL_READ, position=11)
    win.add_area("t-secret", "Hidden", "today", factory, Perm.INTEL_READ, position=12)
    win.add_area("t-last", "Last", "today", factory, None, position=10_000)
    areas = win.visible_areas()
    assert areas[:2] == ["today", "t-early"] and areas[-1] == "t-last"
    assert "t-secret" not in areas  # an admin has no INTEL_READ
    assert areas.index("audit") < areas.index("admin")
    assert made == []  # built on first visit only
    widget = win.show_area("t-early")
    assert widget.text() == "Nominals for alice" and made == [unlocked.services]
    assert win.show_area("t-early") is widget
    with pytest.raises(ValueError):
        win.add_area("t-early", "Again", "today", factory)
    with pytest.raises(KeyError):
        win.show_area("t-secret")
    unlocked.lock()
    assert win.area_widget("t-early") is None


def test_about_names_the_versions(unlocked: Any, fake_dialogs: Any) -> None:
    from app import __version__

    unlocked.window.about_requested.emit()
    kind, title, text = fake_dialogs.calls[-1]
    assert (kind, title) == ("info", "About Caseward")
    assert f"Caseward {__version__}" in text
    assert "SQLCipher 4." in text


def test_services_hand_out_one_instance_per_class(unlocked: Any) -> None:
    from app.services.audit import AuditService

    services = unlocked.services
    assert services.get(AuditService) is services.audit
    assert services.can(None) and services.can(Perm.USERS_MANAGE)
    assert not services.can(Perm.INTEL_READ)

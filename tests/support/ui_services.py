"""Services for widget tests, as the window gives them to a view: on a test vault, acting as
one role, themed like the window, with the `runner`, `fake_dialogs` and `settings` fixtures of
tests/ui/conftest.py (the runner fixture waits for and disposes of the operations)."""

from __future__ import annotations

from typing import Any

from app.domain.roles import Role
from app.services.vault import Actor, Vault


def services_as(vault: Vault, role: Role, user: str, *, qapp: Any, runner: Any, dialogs: Any,
                settings: Any) -> Any:
    """`ui.services.Services` on ``vault`` acting as ``user`` with ``role``."""
    from ui import theme
    from ui.preferences import Preferences
    from ui.services import Services

    theme.apply(qapp)
    vault.actor = Actor(user, role)
    return Services(vault, ops=runner, dialogs=dialogs, prefs=Preferences(settings))

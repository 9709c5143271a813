"""What a widget gets instead of the vault: the signed-in user and ready-made services.

Built by the application from an unlocked `Vault`; widgets receive it in their constructor and
never see a session or the vault itself. Core services are attributes; any other `Service`
subclass is made (once per unlock) by `services.get(SomeService)`."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from app.domain.roles import ROLE_LABELS, Perm, Role, allowed
from app.services.audit import AuditService
from app.services.base import Service
from app.services.users import UserService
from app.services.vault import Vault
from ui.dialogs import Dialogs
from ui.ops import OpRunner
from ui.preferences import Preferences
from ui.theme import MARKING

S = TypeVar("S", bound=Service)


class Services:
    """Per-unlock container; dropped (with every widget holding it) when the vault locks."""

    def __init__(
        self, vault: Vault, *, ops: OpRunner, dialogs: Dialogs, prefs: Preferences,
        marking: str = MARKING,
    ) -> None:
        self._vault = vault
        self._cache: dict[type[Service], Service] = {}
        self.ops = ops
        self.dialogs = dialogs
        self.prefs = prefs
        self.marking = marking
        self.users = self.get(UserService)
        self.audit = self.get(AuditService)

    # -- who is signed in ----------------------------------------------------------------------
    @property
    def user(self) -> str:
        return self._vault.actor.user

    @property
    def role(self) -> Role:
        return self._vault.actor.role

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def vault_name(self) -> str:
        return Path(self._vault.path).name

    @property
    def vault_path(self) -> Path:
        return Path(self._vault.path)

    @property
    def terminal_bound(self) -> bool:
        return bool(self._vault.keyfile.terminal_bound)

    def can(self, perm: Perm | None) -> bool:
        return perm is None or allowed(self.role, perm)

    # -- services ------------------------------------------------------------------------------
    def get(self, cls: type[S]) -> S:
        """The one instance of `cls` for this unlock (services are cheap and stateless)."""
        found = self._cache.get(cls)
        if found is None:
            found = cls(self._vault)
            self._cache[cls] = found
        assert isinstance(found, cls)
        return found

    def close(self) -> None:
        """Forget every service (called on lock)."""
        self._cache.clear()

"""What every service shares: the unlocked vault, and the role check on each public method."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from app.domain.errors import NotAllowed
from app.domain.roles import Perm, allowed
from app.services.vault import Vault

P = ParamSpec("P")
R = TypeVar("R")


def requires(perm: Perm) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Check the caller's role before anything else runs (the role-matrix test relies on it)."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            service = args[0]
            vault: Vault = service.vault  # type: ignore[attr-defined]
            actor = vault.actor
            if not allowed(actor.role, perm):
                raise NotAllowed(
                    f"Your role ({actor.role.value}) may not do this ({perm.value})."
                )
            return method(*args, **kwargs)

        wrapper.__requires__ = perm  # type: ignore[attr-defined]
        return wrapper

    return decorate


class Service:
    """Base for services: holds the unlocked vault it works on."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault


def required_permission(method: Any) -> Perm | None:
    return getattr(method, "__requires__", None)

"""Fixtures for service tests that act as more than one role: the admin vault plus a
coordinator ('carol') and a viewer ('vic') signed in to the same file.

Import them into a test module (`from tests.support.vault_users import coord, users`); they
build on the `vault`, `vault_path` and `store` fixtures of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.services.users import UserService
from app.services.vault import Vault, unlock_vault
from tests.conftest import PASSPHRASE


@pytest.fixture
def users(vault: Vault, vault_path: Path, store: Any) -> Iterator[dict[str, Vault]]:
    """The admin vault plus a coordinator ('carol') and a viewer ('vic') signed in."""
    UserService(vault).add_user("carol", "coordinator", PASSPHRASE)
    UserService(vault).add_user("vic", "viewer", PASSPHRASE)
    carol = unlock_vault(vault_path, "carol", PASSPHRASE, secret_store=store)
    vic = unlock_vault(vault_path, "vic", PASSPHRASE, secret_store=store)
    yield {"admin": vault, "coordinator": carol, "viewer": vic}
    carol.lock()
    vic.lock()


@pytest.fixture
def coord(users: dict[str, Vault]) -> Vault:
    """The coordinator's session."""
    return users["coordinator"]

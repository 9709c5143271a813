"""A template vault for security tests, copied per test (creating one costs a schema build)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.paths import keyfile_path
from tests.conftest import PASSPHRASE

BOB_PASS = "bobs own long passphrase"


@dataclass
class SecVault:
    path: Path
    recovery_key: str
    env: dict[str, str]

    def as_user(self, user: str, passphrase: str) -> dict[str, str]:
        return {**self.env, "CASEWARD_USER": user, "CASEWARD_PASSPHRASE": passphrase}


@pytest.fixture(scope="session")
def sec_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """alice (admin) and bob (viewer), ten audit rows, locked."""
    from app.security.audit import Category
    from app.security.secrets import MemorySecretStore
    from app.services.users import UserService
    from app.services.vault import create_vault

    path = tmp_path_factory.mktemp("sec") / "s.cwv"
    vault, recovery = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                                   secret_store=MemorySecretStore())
    UserService(vault).add_user("bob", "viewer", BOB_PASS)
    for i in range(7):
        with vault.write() as s:
            vault.audit(s, Category.CONSULTATION, "test.view", entity="test", ref=f"T-{i}")
    vault.lock()
    return path, recovery


@pytest.fixture
def sv(sec_template: tuple[Path, str], tmp_path: Path) -> SecVault:
    template, recovery = sec_template
    path = tmp_path / template.name
    shutil.copy(template, path)
    shutil.copy(keyfile_path(template), keyfile_path(path))
    env = {"CASEWARD_VAULT": str(path), "CASEWARD_USER": "alice",
           "CASEWARD_PASSPHRASE": PASSPHRASE}
    return SecVault(path, recovery, env)

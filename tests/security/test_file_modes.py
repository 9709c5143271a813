"""Vault files are owner-only: a new vault, its -wal and -shm, its key file and a backup are
created 0600 whatever the umask lets through (SQLite alone would make them 0644)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.paths import keyfile_path
from app.services.users import UserService
from app.services.vault import create_vault
from tests.conftest import PASSPHRASE


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The commonest desktop umask: without our care SQLite's files would be world-readable."""
    saved = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(saved)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_vault_wal_shm_keyfile_and_backup_are_0600(
        tmp_path: Path, store: Any, open_umask: None) -> None:
    path = tmp_path / "modes.cwv"
    vault, _recovery = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                                    secret_store=store)
    try:
        UserService(vault).add_user("carol", "coordinator", PASSPHRASE)  # a write: WAL in use
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        assert wal.exists() and shm.exists()
        for made in (path, wal, shm, keyfile_path(path)):
            assert mode(made) == 0o600, f"{made.name} is {oct(mode(made))}"
        out = tmp_path / "copy.cwv"
        vault.backup(out)
        for made in (out, keyfile_path(out)):
            assert mode(made) == 0o600, f"{made.name} is {oct(mode(made))}"
    finally:
        vault.lock()


def test_an_existing_file_keeps_its_mode(tmp_path: Path, store: Any, open_umask: None) -> None:
    """Only creation is ours to decide: a vault someone made 0640 on purpose stays 0640."""
    from app.store.engine import raw_connection

    path = tmp_path / "shared.cwv"
    vault, _recovery = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                                    secret_store=store)
    key = bytes(vault.data_key)
    vault.lock()
    os.chmod(path, 0o640)
    conn = raw_connection(path, key)
    conn.close()
    assert mode(path) == 0o640

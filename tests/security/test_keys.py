"""Key slots, role MACs, terminal binding, KDF parameter bounds and locking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.errors import VaultDamaged, VaultLocked, WrongPassphraseOrDamaged
from app.paths import keyfile_path
from app.security.secrets import MemorySecretStore
from app.services.users import UserService
from app.services.vault import create_vault, unlock_vault
from tests.conftest import PASSPHRASE
from tests.security.conftest import BOB_PASS, SecVault
from tests.security.support import assert_failure, cw, tamper_audit


def test_role_edited_in_the_database_is_caught_at_unlock(sv: SecVault) -> None:
    tamper_audit(sv.path, sv.recovery_key,
                 "UPDATE user_account SET role = 'admin' WHERE name = 'bob'")
    run = cw("user", "list", env=sv.as_user("bob", BOB_PASS))
    assert_failure(run, 6, "integrity", "audit verify")
    assert cw("user", "list", env=sv.env).rc == 0  # alice's own row is intact


def test_role_mac_copied_from_another_user_is_caught(sv: SecVault) -> None:
    tamper_audit(sv.path, sv.recovery_key,
                 "UPDATE user_account SET role = 'admin', role_mac = "
                 "(SELECT role_mac FROM user_account WHERE name = 'alice') WHERE name = 'bob'")
    assert_failure(cw("user", "list", env=sv.as_user("bob", BOB_PASS)), 6, "integrity")


def test_removed_user_restored_in_the_database_cannot_sign_in(sv: SecVault) -> None:
    assert cw("user", "remove", "bob", env=sv.env).rc == 0
    tamper_audit(sv.path, sv.recovery_key,
                 "UPDATE user_account SET removed_at = NULL WHERE name = 'bob'")
    # Bob's slot was deleted, so there is no way in for him at all.
    assert_failure(cw("user", "list", env=sv.as_user("bob", BOB_PASS)), 3, "no account")


def test_one_users_slot_does_not_open_with_anothers_passphrase(sv: SecVault) -> None:
    assert_failure(cw("user", "list", env=sv.as_user("bob", PASSPHRASE)), 3, "wrong passphrase")
    assert_failure(cw("user", "list", env=sv.as_user("alice", BOB_PASS)), 3, "wrong passphrase")
    kf = json.loads(keyfile_path(sv.path).read_text())
    assert kf["slots"]["alice"]["salt"] != kf["slots"]["bob"]["salt"]
    assert kf["slots"]["alice"]["wrapped"] != kf["slots"]["bob"]["wrapped"]


def test_terminal_bound_vault_refuses_another_terminal_secret(tmp_path: Path) -> None:
    home = MemorySecretStore()
    path = tmp_path / "b.cwv"
    vault, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=True, secret_store=home)
    vault.lock()
    (name,) = list(home._items)
    impostor = MemorySecretStore()
    impostor.put(name, bytes(32))
    with pytest.raises(WrongPassphraseOrDamaged):
        unlock_vault(path, "alice", PASSPHRASE, secret_store=impostor)
    unlock_vault(path, "alice", PASSPHRASE, secret_store=home).lock()
    # Through the command line, with the file-backed fake keyring of another terminal.
    ring = tmp_path / "other-terminal.json"
    ring.write_text(json.dumps({f"caseward-terminal/{name}": "11" * 32}))
    env = {"CASEWARD_VAULT": str(path), "CASEWARD_USER": "alice",
           "CASEWARD_PASSPHRASE": PASSPHRASE, "CASEWARD_TEST_KEYRING_FILE": str(ring)}
    assert_failure(cw("user", "list", env=env), 3, "wrong passphrase")


@pytest.mark.parametrize(
    "kdf",
    [{"t": 0}, {"m": 1024}, {"p": 0}, {"m": 64 * 1024 * 1024}, {"t": 10_000}],
    ids=["t0", "tiny-memory", "p0", "huge-memory", "huge-time"],
)
def test_kdf_parameters_out_of_bounds_are_refused_as_damage(
    sv: SecVault, kdf: dict[str, int]
) -> None:
    kpath = keyfile_path(sv.path)
    data = json.loads(kpath.read_text())
    data["slots"]["alice"]["kdf"].update(kdf)
    kpath.write_text(json.dumps(data))
    run = cw("user", "list", env=sv.env)
    assert_failure(run, 3, "key file was altered")
    with pytest.raises(VaultDamaged):
        unlock_vault(sv.path, "alice", PASSPHRASE, secret_store=MemorySecretStore())


def test_lock_drops_the_engines_and_the_key(sv: SecVault) -> None:
    vault = unlock_vault(sv.path, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    key_buffer = vault._key
    assert key_buffer is not None and any(key_buffer)
    engines = (vault._read_engine, vault._write_engine)
    assert all(e is not None for e in engines)
    with vault.read() as s:
        s.connection()  # a pooled connection is checked out and returned
    called: list[str] = []
    vault.on_lock.append(lambda: called.append("locked"))
    vault.lock()
    assert vault.locked and called == ["locked"]
    assert bytes(key_buffer) == bytes(len(key_buffer))  # the key's buffer was wiped
    assert vault._read_engine is None and vault._write_engine is None
    assert vault._integrity_key is None
    for engine in engines:
        assert engine is not None and engine.pool.checkedin() == 0
    with pytest.raises(VaultLocked):
        _ = vault.data_key
    with pytest.raises(VaultLocked), vault.read():
        pass
    with pytest.raises(VaultLocked), vault.write():
        pass
    with pytest.raises(VaultLocked):
        UserService(vault).list_users()
    vault.lock()  # idempotent

"""Creating, unlocking and locking a vault, as the core sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.errors import (
    LockedOut,
    UnknownUser,
    ValidationError,
    VaultDamaged,
    VaultLocked,
    WrongPassphraseOrDamaged,
)
from app.domain.roles import Role
from app.services.audit import AuditService
from app.services.users import UserService
from app.services.vault import create_vault, unlock_vault
from tests.conftest import PASSPHRASE


def test_create_then_unlock_as_admin(vault, vault_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    vault.lock()
    again = unlock_vault(vault_path, "alice", PASSPHRASE, secret_store=store)
    try:
        assert again.actor.role is Role.ADMIN
        actions = [r.action for r in AuditService(again).page(newest_first=False)]
        assert actions[:2] == ["vault.create", "user.add"]
        assert actions[-1] == "unlock"
    finally:
        again.lock()


def test_wrong_passphrase_is_not_called_damage(vault, vault_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    vault.lock()
    with pytest.raises(WrongPassphraseOrDamaged, match="Wrong passphrase"):
        unlock_vault(vault_path, "alice", "not the passphrase", secret_store=store)


def test_unknown_user(vault, vault_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownUser):
        unlock_vault(vault_path, "mallory", PASSPHRASE, secret_store=store)


def test_locked_vault_refuses_work(vault) -> None:  # type: ignore[no-untyped-def]
    vault.lock()
    with pytest.raises(VaultLocked):
        UserService(vault).list_users()
    with pytest.raises(VaultLocked):
        _ = vault.data_key


def test_backoff_grows_and_is_audited(vault, vault_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    vault.lock()
    clock = [1_000_000.0]
    for _ in range(3):
        with pytest.raises(WrongPassphraseOrDamaged):
            unlock_vault(vault_path, "alice", "bad guess 123", secret_store=store,
                         now=lambda: clock[0])
    # After the third failure the right passphrase must wait (2 s), then works.
    with pytest.raises(LockedOut) as info:
        unlock_vault(vault_path, "alice", PASSPHRASE, secret_store=store, now=lambda: clock[0])
    assert info.value.retry_after == pytest.approx(2.0)
    clock[0] += 2.5
    v = unlock_vault(vault_path, "alice", PASSPHRASE, secret_store=store, now=lambda: clock[0])
    try:
        failed = [r for r in AuditService(v).page() if r.action == "unlock.failed"]
        assert failed and failed[0].detail == {"failed_attempts": 3}
        assert v.keyfile.failure_count("alice") == 0
    finally:
        v.lock()


def test_one_users_slot_does_not_open_with_anothers_passphrase(vault, vault_path, store) -> None:  # type: ignore[no-untyped-def]
    UserService(vault).add_user("bob", "viewer", "bobs own long passphrase")
    vault.lock()
    with pytest.raises(WrongPassphraseOrDamaged):
        unlock_vault(vault_path, "bob", PASSPHRASE, secret_store=store)
    with pytest.raises(WrongPassphraseOrDamaged):
        unlock_vault(vault_path, "alice", "bobs own long passphrase", secret_store=store)
    bob = unlock_vault(vault_path, "bob", "bobs own long passphrase", secret_store=store)
    assert bob.actor.role is Role.VIEWER
    bob.lock()


def test_swapped_slots_do_not_open(vault, vault_path, store) -> None:  # type: ignore[no-untyped-def]
    """A slot copied under another user's name fails: the user name is bound into the slot."""
    from app.paths import keyfile_path
    from app.security import keyfile

    UserService(vault).add_user("bob", "viewer", "bobs own long passphrase")
    vault.lock()
    kf = keyfile.load(keyfile_path(vault_path))
    kf.slots["bob"] = kf.slots["alice"]
    keyfile.save(keyfile_path(vault_path), kf)
    with pytest.raises(WrongPassphraseOrDamaged):
        unlock_vault(vault_path, "bob", PASSPHRASE, secret_store=store)


@pytest.mark.parametrize("where", ["header", "middle", "truncate"])
def test_damaged_file_is_reported_as_damage(vault, vault_path: Path, store, where: str) -> None:  # type: ignore[no-untyped-def]
    vault.lock()
    data = bytearray(vault_path.read_bytes())
    if where == "header":
        data[5] ^= 0xFF
    elif where == "middle":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) // 3 + 7]
    vault_path.write_bytes(bytes(data))
    try:
        v = unlock_vault(vault_path, "alice", PASSPHRASE, secret_store=store)
    except VaultDamaged as exc:
        assert "damaged" in str(exc)
        return
    # A flipped byte in a page that unlocking did not read shows in the full integrity check.
    try:
        assert v.integrity_check() != []
    finally:
        v.lock()


def test_new_passphrase_rules(tmp_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="passphrase"):
        create_vault(tmp_path / "v.cwv", "alice", "short", bind_to_terminal=False,
                     secret_store=store)
    assert not (tmp_path / "v.cwv").exists()


def test_bound_vault_needs_a_secure_keyring(tmp_path: Path) -> None:
    from app.security.secrets import MemorySecretStore

    insecure = MemorySecretStore(secure=False, name="keyring.backends.fail.Keyring")
    with pytest.raises(ValidationError, match="terminal binding"):
        create_vault(tmp_path / "v.cwv", "alice", PASSPHRASE, bind_to_terminal=True,
                     secret_store=insecure)
    assert list(tmp_path.iterdir()) == []


def test_bound_vault_refuses_another_terminal(tmp_path: Path) -> None:
    from app.domain.errors import VaultOpenError
    from app.security.secrets import MemorySecretStore

    home = MemorySecretStore()
    v, recovery = create_vault(tmp_path / "v.cwv", "alice", PASSPHRASE, bind_to_terminal=True,
                               secret_store=home)
    v.lock()
    with pytest.raises(VaultOpenError, match="bound to another terminal"):
        unlock_vault(tmp_path / "v.cwv", "alice", PASSPHRASE, secret_store=MemorySecretStore())
    # A different terminal secret under the right name does not open it either.
    other = MemorySecretStore()
    for key in home._items:
        other.put(key, b"\x01" * 32)
    with pytest.raises(WrongPassphraseOrDamaged):
        unlock_vault(tmp_path / "v.cwv", "alice", PASSPHRASE, secret_store=other)
    unlock_vault(tmp_path / "v.cwv", "alice", PASSPHRASE, secret_store=home).lock()

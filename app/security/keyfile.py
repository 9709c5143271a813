"""The key-slot sidecar beside a vault: slots, audit checkpoint and failed-unlock counters.

Each user's slot holds the vault's data key wrapped (AES-GCM) under a key derived with Argon2id
from that user's passphrase, mixed with the terminal secret when the vault is bound. The file is
JSON and always replaced atomically (temp file, fsync, rename, fsync folder)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.domain.errors import VaultDamaged
from app.security import crypto

FORMAT = "caseward-keys"
VERSION = 1


@dataclass
class Slot:
    salt: bytes
    kdf: crypto.KdfParams
    nonce: bytes
    wrapped: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "salt": crypto.b64(self.salt),
            "kdf": self.kdf.as_dict(),
            "nonce": crypto.b64(self.nonce),
            "wrapped": crypto.b64(self.wrapped),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Slot:
        slot = cls(
            salt=crypto.unb64(d["salt"]),
            kdf=crypto.KdfParams.from_dict(d["kdf"]),
            nonce=crypto.unb64(d["nonce"]),
            wrapped=crypto.unb64(d["wrapped"]),
        )
        # Sizes are fixed by the format: anything else is damage, not a wrong passphrase.
        wrapped_len = crypto.KEY_BYTES + 16  # the key and its GCM tag
        if len(slot.salt) < 16 or len(slot.nonce) != 12 or len(slot.wrapped) != wrapped_len:
            raise ValueError("slot has the wrong shape")
        return slot


@dataclass
class KeyFile:
    vault_id: str
    terminal_bound: bool
    slots: dict[str, Slot] = field(default_factory=dict)
    audit_count: int = 0
    audit_head: str = ""
    mac: str = ""
    # Advisory and unauthenticated: written when a passphrase fails, before any key is known.
    failures: dict[str, dict[str, float]] = field(default_factory=dict)

    # -- integrity ------------------------------------------------------------------------
    def _signed_part(self) -> bytes:
        body = {
            "vault_id": self.vault_id,
            "terminal_bound": self.terminal_bound,
            "slots": {name: slot.to_json() for name, slot in sorted(self.slots.items())},
            "audit": {"count": self.audit_count, "head": self.audit_head},
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def sign(self, data_key: bytes) -> None:
        self.mac = crypto.mac(crypto.hkdf(data_key, "caseward keyfile mac v1"), self._signed_part())

    def verify(self, data_key: bytes) -> bool:
        key = crypto.hkdf(data_key, "caseward keyfile mac v1")
        return bool(self.mac) and crypto.mac_ok(key, self._signed_part(), self.mac)

    # -- slots ----------------------------------------------------------------------------
    @staticmethod
    def _slot_aad(vault_id: str, user: str) -> bytes:
        return f"caseward-slot-v1|{vault_id}|{user}".encode()

    @staticmethod
    def _kek(passphrase: str, slot_salt: bytes, kdf: crypto.KdfParams, terminal: bytes) -> bytes:
        stretched = crypto.argon2id(passphrase.encode("utf-8"), slot_salt, kdf)
        return crypto.hkdf(stretched + terminal, "caseward slot kek v1")

    def set_slot(
        self,
        user: str,
        passphrase: str,
        data_key: bytes,
        terminal_secret: bytes,
        kdf: crypto.KdfParams | None = None,
    ) -> None:
        params = kdf or crypto.calibrate()
        salt = secrets.token_bytes(16)
        kek = self._kek(passphrase, salt, params, terminal_secret)
        nonce, wrapped = crypto.wrap(kek, data_key, self._slot_aad(self.vault_id, user))
        self.slots[user] = Slot(salt=salt, kdf=params, nonce=nonce, wrapped=wrapped)

    def open_slot(self, user: str, passphrase: str, terminal_secret: bytes) -> bytes | None:
        """The data key, or None if the passphrase (or terminal secret) is wrong."""
        slot = self.slots[user]
        kek = self._kek(passphrase, slot.salt, slot.kdf, terminal_secret)
        return crypto.unwrap(kek, slot.nonce, slot.wrapped, self._slot_aad(self.vault_id, user))

    # -- failed unlocks -------------------------------------------------------------------
    def failure_count(self, user: str) -> int:
        return int(self.failures.get(user, {}).get("count", 0))

    def retry_after(self, user: str, now: float | None = None) -> float:
        """Seconds to wait before the next attempt: grows with each failure, capped at 5 min."""
        count = self.failure_count(user)
        if count < 3:
            return 0.0
        delay = min(2.0 ** (count - 2), 300.0)
        last = float(self.failures.get(user, {}).get("last", 0.0))
        remaining = last + delay - (time.time() if now is None else now)
        return max(0.0, remaining)

    def record_failure(self, user: str, now: float | None = None) -> int:
        entry = self.failures.setdefault(user, {"count": 0, "last": 0.0})
        entry["count"] = int(entry.get("count", 0)) + 1
        entry["last"] = time.time() if now is None else now
        return int(entry["count"])

    # -- serialisation --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "vault_id": self.vault_id,
            "terminal_bound": self.terminal_bound,
            "slots": {name: slot.to_json() for name, slot in sorted(self.slots.items())},
            "audit": {"count": self.audit_count, "head": self.audit_head},
            "mac": self.mac,
            "failures": self.failures,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> KeyFile:
        if d.get("format") != FORMAT:
            raise ValueError("not a key file")
        if int(d.get("version", 0)) > VERSION:
            raise ValueError("key file from a newer version")
        audit = d.get("audit", {})
        return cls(
            vault_id=str(d["vault_id"]),
            terminal_bound=bool(d["terminal_bound"]),
            slots={str(k): Slot.from_json(v) for k, v in d["slots"].items()},
            audit_count=int(audit.get("count", 0)),
            audit_head=str(audit.get("head", "")),
            mac=str(d.get("mac", "")),
            failures={str(k): dict(v) for k, v in d.get("failures", {}).items()},
        )

    @classmethod
    def new(cls, terminal_bound: bool) -> KeyFile:
        return cls(vault_id=secrets.token_hex(16), terminal_bound=terminal_bound)


def load(path: Path) -> KeyFile:
    if not path.exists():
        raise VaultDamaged(
            f"The key file {path.name} is missing beside the vault. "
            "Restore it from a backup, or open the vault with its recovery key."
        )
    try:
        raw = path.read_bytes()
        if len(raw) > 4 * 1024 * 1024:
            raise ValueError("too large")
        return KeyFile.from_json(json.loads(raw.decode("utf-8")))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise VaultDamaged(
            f"The key file {path.name} is damaged and cannot be read. "
            "Restore it from a backup, or open the vault with its recovery key."
        ) from exc


def save(path: Path, keyfile: KeyFile) -> None:
    """Replace the key file atomically: a crash leaves either the old file or the new one."""
    data = json.dumps(keyfile.to_json(), indent=1, sort_keys=True).encode("utf-8")
    write_atomic(path, data)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the key file's lock (an empty `.lock` file beside it) while reading, changing and
    replacing it, so that two processes on one vault never lose each other's slot changes.
    Not re-entrant."""
    try:
        import fcntl
    except ImportError:  # not POSIX: writes stay atomic, only the read-modify-write is unguarded
        yield
        return
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_atomic(path: Path, data: bytes) -> None:
    folder = path.parent
    # Named after the target, so that a temp file left by a crash can be found and removed by
    # whoever next holds that file's lock (see remove_stale_temp_files).
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def remove_stale_temp_files(path: Path) -> int:
    """Remove temp files a killed writer of `path` left behind. Call with `locked(path)` held:
    every writer of a key file holds its lock, so none of these is in use."""
    removed = 0
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed += 1
    return removed


def fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)

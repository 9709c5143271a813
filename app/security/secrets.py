"""The one interface through which terminal secrets pass: OS keyring, or an in-memory fake."""

from __future__ import annotations

import contextlib
import secrets as _secrets
from dataclasses import dataclass
from typing import Protocol

SERVICE = "caseward-terminal"

# Backends that store nothing or store in plaintext: never trusted with the terminal secret.
_INSECURE_BACKENDS = (
    "keyring.backends.fail",
    "keyring.backends.null",
    "keyrings.alt.file.PlaintextKeyring",
    "keyrings.alt",
    "keyring.backends.chainer",  # chainer with nothing behind it behaves as fail
)


@dataclass(frozen=True)
class BackendInfo:
    name: str
    secure: bool


class SecretStore(Protocol):
    def info(self) -> BackendInfo: ...

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


class KeyringSecretStore:
    """The OS keyring through the `keyring` package (Secret Service, KWallet, macOS, Windows)."""

    def _backend(self) -> object:
        import keyring

        return keyring.get_keyring()

    def info(self) -> BackendInfo:
        backend = self._backend()
        cls = type(backend)
        name = f"{cls.__module__}.{cls.__qualname__}"
        secure = not any(name.startswith(bad) for bad in _INSECURE_BACKENDS)
        if name.startswith("keyring.backends.chainer"):
            secure = bool(getattr(backend, "backends", []))
        priority = getattr(backend, "priority", 1)
        try:
            if float(priority) <= 0:
                secure = False
        except (TypeError, ValueError):
            secure = False
        return BackendInfo(name=name, secure=secure)

    def get(self, key: str) -> bytes | None:
        import keyring

        value = keyring.get_password(SERVICE, key)
        return bytes.fromhex(value) if value else None

    def put(self, key: str, value: bytes) -> None:
        import keyring

        keyring.set_password(SERVICE, key, value.hex())

    def delete(self, key: str) -> None:
        import keyring
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(SERVICE, key)


class MemorySecretStore:
    """In-memory fake for tests: never touches the real keyring."""

    def __init__(self, secure: bool = True, name: str = "memory") -> None:
        self._items: dict[str, bytes] = {}
        self._secure = secure
        self._name = name

    def info(self) -> BackendInfo:
        return BackendInfo(name=self._name, secure=self._secure)

    def get(self, key: str) -> bytes | None:
        return self._items.get(key)

    def put(self, key: str, value: bytes) -> None:
        self._items[key] = bytes(value)

    def delete(self, key: str) -> None:
        self._items.pop(key, None)


def new_terminal_secret() -> bytes:
    return _secrets.token_bytes(32)

"""The role matrix: every public method of every service checks the caller's role first.

Services are discovered (every module of app.services is imported), so a service or method
added later is covered without touching this file. For each method and each role the method is
called with dummy arguments on a vault whose actor has that role: NotAllowed must be raised
exactly when app.domain.roles.allowed(role, perm) is False, and then before the method's body
runs or any session opens. When the role is allowed, any other error from dummy arguments is
fine."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, TracebackType
from typing import Any

import pytest

import app.services
from app.domain.errors import NotAllowed
from app.domain.roles import Perm, Role, allowed
from app.services.base import Service, required_permission
from app.services.vault import Actor, Vault

# Public callables on services that are deliberately not role-checked, with the reason.
EXEMPT: dict[str, str] = {
    "NominalService.validate": "pure validation of a record the caller already holds; it "
    "reads nothing from the vault (its docstring says so, and forms call it as the user types)",
    "QualityService.rules": "returns the static catalogue of data-quality rules (RULES), no "
    "vault data; the counts and findings that read records are checked",
}


def _services() -> list[type[Service]]:
    for info in pkgutil.iter_modules(app.services.__path__, "app.services."):
        importlib.import_module(info.name)
    found: dict[str, type[Service]] = {}
    pending = list(Service.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("app.services."):
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found)]


def _public_members(cls: type[Service]) -> Iterator[tuple[str, Any]]:
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next(k for k in cls.__mro__ if name in vars(k))
        if owner is Service or owner is object:
            continue
        raw = inspect.getattr_static(cls, name)
        if isinstance(raw, staticmethod | classmethod | property) or inspect.isfunction(raw):
            yield name, raw


SERVICES = _services()
METHODS = [
    (cls, name)
    for cls in SERVICES
    for name, raw in _public_members(cls)
    if inspect.isfunction(raw) and f"{cls.__name__}.{name}" not in EXEMPT
]


def test_discovery_found_the_foundation_services() -> None:
    names = {cls.__name__ for cls in SERVICES}
    assert {"UserService", "AuditService"} <= names
    assert any(cls.__name__ == "UserService" and n == "add_user" for cls, n in METHODS)


def test_every_public_method_declares_a_permission() -> None:
    missing = []
    for cls in SERVICES:
        for name, raw in _public_members(cls):
            key = f"{cls.__name__}.{name}"
            if key in EXEMPT:
                continue
            if isinstance(raw, staticmethod | classmethod):
                # No `self`, so no vault: it cannot reach records. Still listed so it is seen.
                continue
            if isinstance(raw, property) or required_permission(raw) is None:
                missing.append(f"{cls.__module__}.{key}")
    assert missing == [], "add @requires(Perm.X) (or an entry in EXEMPT with a reason)"
    assert set(EXEMPT) <= {f"{c.__name__}.{n}" for c in SERVICES for n, _ in _public_members(c)}


@pytest.fixture(scope="module")
def matrix_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    path = tmp_path_factory.mktemp("matrix") / "m.cwv"
    vault, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=MemorySecretStore())
    yield vault
    vault.lock()


def _dummy_args(method: Callable[..., Any]) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    params = list(inspect.signature(inspect.unwrap(method)).parameters.values())[1:]
    for p in params:
        if p.default is not inspect.Parameter.empty:
            continue
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(None)
        elif p.kind is p.KEYWORD_ONLY:
            kwargs[p.name] = None
    return args, kwargs


def _codes_in(tb: TracebackType | None) -> set[CodeType]:
    codes = set()
    while tb is not None:
        codes.add(tb.tb_frame.f_code)
        tb = tb.tb_next
    return codes


@contextmanager
def _spied(vault: Vault) -> Iterator[list[str]]:
    """Record every session or audit the call opens (instance attributes shadow the methods)."""
    seen: list[str] = []
    originals = {name: getattr(vault, name) for name in ("read", "write", "audit", "revision")}

    def spy(name: str) -> Callable[..., Any]:
        def call(*a: Any, **k: Any) -> Any:
            seen.append(name)
            return originals[name](*a, **k)

        return call

    for name in originals:
        setattr(vault, name, spy(name))
    try:
        yield seen
    finally:
        for name in originals:
            delattr(vault, name)


@pytest.mark.parametrize(
    ("cls", "name"), METHODS, ids=[f"{c.__name__}.{n}" for c, n in METHODS]
)
def test_role_matrix(matrix_vault: Vault, cls: type[Service], name: str) -> None:
    method = getattr(cls, name)
    perm = required_permission(method)
    assert isinstance(perm, Perm), f"{cls.__name__}.{name} has no @requires"
    body = inspect.unwrap(method).__code__
    args, kwargs = _dummy_args(method)
    try:
        for role in Role:
            matrix_vault.actor = Actor("alice", role)
            service = cls(matrix_vault)
            with _spied(matrix_vault) as seen:
                try:
                    getattr(service, name)(*args, **kwargs)
                except NotAllowed as exc:
                    refused_by_check = body not in _codes_in(exc.__traceback__)
                    if allowed(role, perm):
                        assert not refused_by_check, (
                            f"{role} holds {perm} but the role check refused {name}")
                    else:
                        assert refused_by_check and seen == [], (
                            f"{name}: the body ran for {role} before NotAllowed ({seen})")
                    continue
                except Exception:
                    pass  # dummy arguments: any other error is fine once the check passed
                assert allowed(role, perm), f"{cls.__name__}.{name} ran for {role} ({perm})"
    finally:
        matrix_vault.actor = Actor("alice", Role.ADMIN)


def test_the_matrix_test_would_catch_a_missing_check(matrix_vault: Vault) -> None:
    """Control: a method whose body refuses by itself is not mistaken for the role check."""
    from app.services.base import requires

    class LeakyService(Service):
        @requires(Perm.SELF)
        def fine(self) -> None:
            raise NotAllowed("inner refusal")

    leaky = LeakyService(matrix_vault)
    with pytest.raises(NotAllowed) as info:
        leaky.fine()
    assert inspect.unwrap(LeakyService.fine).__code__ in _codes_in(info.value.__traceback__)
    matrix_vault.actor = Actor("alice", Role.VIEWER)
    try:
        with _spied(matrix_vault) as seen, pytest.raises(NotAllowed):
            from app.services.users import UserService

            UserService(matrix_vault).list_users()
        assert seen == []
    finally:
        matrix_vault.actor = Actor("alice", Role.ADMIN)
    assert Path(matrix_vault.path).exists()

"""Test-wide safety: a private home, offscreen Qt, fast KDF, and never the real keyring."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="caseward-test-home-"))

# Set before anything imports the app: nothing in a test may reach the real home or keyring.
os.environ["CASEWARD_HOME"] = str(_SESSION_HOME)
os.environ["HOME"] = str(_SESSION_HOME)
os.environ["XDG_CONFIG_HOME"] = str(_SESSION_HOME / "config")
os.environ["XDG_DATA_HOME"] = str(_SESSION_HOME / "data")
os.environ["XDG_CACHE_HOME"] = str(_SESSION_HOME / "cache")
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["CASEWARD_INSECURE_FAST_KDF"] = "1"
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.fake_keyring.FileKeyring"
os.environ["CASEWARD_TEST_KEYRING_FILE"] = str(_SESSION_HOME / "keyring.json")
os.environ.pop("CASEWARD_PASSPHRASE", None)
os.environ.pop("CASEWARD_VAULT", None)
os.environ.pop("CASEWARD_USER", None)
os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")

PASSPHRASE = "correct horse battery staple"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


# Under pytest-xdist (scripts/test.sh runs `-n auto --dist loadgroup`) every test is handed out on
# its own, except that the tests of a module that defines a module- or class-scoped fixture (a
# built bundle, a template vault) stay together on one worker, so the fixture is made once, as in a
# plain run. (xdist's own loadgroup marks do not work with pytest 9.2, which no longer reads the
# node id xdist rewrites; hence this scheduler.) The longest modules are collected first so that
# they overlap the rest instead of ending the run alone. Each worker imports this file by itself:
# its own CASEWARD_HOME, keyring file and temp folders.
_START_FIRST = (
    "tests/packaging/test_bundle.py",  # bundle build + offline install: minutes, one worker
    "tests/reliability/test_kill9.py",
    "tests/ui/test_retention_view.py",
    "tests/reliability/test_fuzz_nominal_add.py",
    "tests/cli/test_retention_cli.py",
)
_SHARED_SCOPE = re.compile(r"""scope\s*=\s*["'](?:module|class|package)["']""")


@functools.cache
def _module_shares_a_fixture(module: str) -> bool:
    path = ROOT / module
    return path.is_file() and _SHARED_SCOPE.search(path.read_text(encoding="utf-8")) is not None


def _work_unit(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return module if _module_shares_a_fixture(module) else nodeid


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return

    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return _START_FIRST.index(module) if module in _START_FIRST else len(_START_FIRST)

    items.sort(key=rank)  # stable: the order within each module is kept


try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # pragma: no cover - xdist is a dev dependency; plain pytest still works
    LoadScopeScheduling = None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if LoadScopeScheduling is None or config.getvalue("dist") != "loadgroup":
        return None

    class ModuleFixtureScheduling(LoadScopeScheduling):  # type: ignore[misc, valid-type]
        def _split_scope(self, nodeid: str) -> str:
            return _work_unit(nodeid)

    return ModuleFixtureScheduling(config, log)


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    from app.security.secrets import MemorySecretStore

    return MemorySecretStore()


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "test.cwv"


@pytest.fixture
def vault(vault_path: Path, store):  # type: ignore[no-untyped-def]
    """A fresh, unbound vault unlocked as admin 'alice'."""
    from app.services.vault import create_vault

    v, _recovery = create_vault(
        vault_path, "alice", PASSPHRASE, bind_to_terminal=False, secret_store=store
    )
    yield v
    v.lock()


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `caseward` in a child process, exactly as a user or script would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ui.entry", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=str(ROOT),
        input=input,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


@pytest.fixture
def cli_vault(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A vault made through `caseward init`; yields the environment to reach it."""
    path = tmp_path / "cli.cwv"
    env = {
        "CASEWARD_VAULT": str(path),
        "CASEWARD_USER": "alice",
        "CASEWARD_PASSPHRASE": PASSPHRASE,
    }
    proc = run_cli("init", "--no-terminal-binding", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    yield env

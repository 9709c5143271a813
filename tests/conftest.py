"""Test-wide safety: a private home, offscreen Qt, fast KDF, and never the real keyring."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

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

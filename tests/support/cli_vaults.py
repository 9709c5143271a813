"""Vaults for command-line tests: one template made through `caseward init` and `user add` per
module, a private copy of it per test (creating a vault per test would dominate run time), the
environment each user reaches it with, and JSON input files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from app.paths import keyfile_path
from tests.conftest import PASSPHRASE
from tests.security.support import cw

# (name, role, passphrase) of each user added to a template after admin "alice".
UserSpec = tuple[str, str, str]


def make_template(folder: Path, users: Iterable[UserSpec]) -> Path:
    """A vault in ``folder`` with admin "alice" (PASSPHRASE) and ``users``, made through the
    real command line."""
    path = folder / "v.cwv"
    env = {"CASEWARD_VAULT": str(path), "CASEWARD_USER": "alice",
           "CASEWARD_PASSPHRASE": PASSPHRASE}
    run = cw("init", "--no-terminal-binding", "--json", env=env)
    assert run.rc == 0, run.err
    for name, role, passphrase in users:
        run = cw("user", "add", name, "--role", role,
                 env={**env, "CASEWARD_NEW_PASSPHRASE": passphrase})
        assert run.rc == 0, run.err
    return path


def copy_vault(template: Path, folder: Path) -> Path:
    """A private copy of ``template`` (the database and its key file) in ``folder``."""
    path = folder / template.name
    shutil.copy(template, path)
    shutil.copy(keyfile_path(template), keyfile_path(path))
    return path


def user_envs(path: Path, users: Iterable[UserSpec]) -> dict[str, dict[str, str]]:
    """The environment with which each of ``users`` reaches the vault at ``path``."""
    return {name: {"CASEWARD_VAULT": str(path), "CASEWARD_USER": name,
                   "CASEWARD_PASSPHRASE": passphrase}
            for name, _role, passphrase in users}


def write_json(folder: Path, data: object, name: str = "in.json") -> str:
    """``data`` as a JSON file in ``folder``; its path, as given to `--from`."""
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)

"""`caseward retention due | decide`: the JSON output, decisions, roles (exit 4), bad input (5)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from app.security.secrets import MemorySecretStore
from app.services.users import UserService
from app.services.vault import unlock_vault
from tests.conftest import PASSPHRASE, run_cli
from tests.services.test_retention_support import add_nominal


@pytest.fixture
def filled(cli_vault: dict[str, str]) -> dict[str, object]:
    path = Path(cli_vault["CASEWARD_VAULT"])
    admin = unlock_vault(path, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    try:
        UserService(admin).add_user("carol", "coordinator", PASSPHRASE)
        old = add_nominal(admin, "OLDRECORD", created=date(2015, 1, 1), group=3)
        other = add_nominal(admin, "OTHERRECORD", created=date(2016, 1, 1), group=3)
        add_nominal(admin, "NEWRECORD", created=date.today(), group=3)
    finally:
        admin.lock()
    return {"env": cli_vault, "old": old, "other": other}


def test_due_decide_retain_and_erase(filled: dict[str, object]) -> None:
    env: dict[str, str] = filled["env"]  # type: ignore[assignment]
    old, other = filled["old"], filled["other"]
    proc = run_cli("retention", "due", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)
    assert [(i["ref"], i["type"], i["group"], i["due"], i["status"]) for i in items] == [
        (old, "nominal", 3, "2021-01-01", "overdue"),
        (other, "nominal", 3, "2022-01-01", "overdue"),
    ]
    assert "review every 6 years" in items[0]["rule"]
    until = date(date.today().year + 5, 1, 1).isoformat()
    proc = run_cli("retention", "decide", str(old), "--retain", "--until", until,
                   "--reason", "Still relevant", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"ref": old, "decision": "retain", "next_review": until}
    proc = run_cli("retention", "decide", str(other), "--erase", "--reason", "Not needed",
                   "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["decision"] == "erase" and out["placeholder"] == "ER-000001"
    assert out["wal_cleared"] is True
    proc = run_cli("retention", "due", "--json", env=env)
    assert json.loads(proc.stdout) == []
    proc = run_cli("audit", "verify", "--json", env=env)
    assert proc.returncode == 0 and json.loads(proc.stdout)["ok"] is True
    proc = run_cli("retention", "due", env=env)
    assert proc.stdout.strip() == "No retention reviews are due."


def test_only_admins(filled: dict[str, object]) -> None:
    env = dict(filled["env"])  # type: ignore[call-overload]
    env["CASEWARD_USER"] = "carol"
    assert run_cli("retention", "due", env=env).returncode == 4
    proc = run_cli("retention", "decide", str(filled["old"]), "--erase", "--reason", "x",
                   env=env)
    assert proc.returncode == 4 and "retention" in proc.stderr
    # Even with bad input the role is checked first.
    assert run_cli("retention", "decide", "NM-1", "--erase", env=env).returncode == 4


BAD_INPUT = [
    (["--retain", "--until", "2031-13-01", "--reason", "r"], "--until"),
    (["--retain", "--reason", "r"], "--until"),
    (["--retain", "--until", "2020-01-01", "--reason", "r"], "--until"),
    (["--erase"], "--reason"),
    (["--erase", "--reason", "  "], "--reason"),
    (["--retain", "--erase", "--reason", "r"], "--retain/--erase"),
    ([], "--retain/--erase"),
    (["--erase", "--until", "2031-01-01", "--reason", "r"], "--until"),
]


def test_bad_input_names_the_option(filled: dict[str, object]) -> None:
    env: dict[str, str] = filled["env"]  # type: ignore[assignment]
    for args, option in BAD_INPUT:
        proc = run_cli("retention", "decide", str(filled["old"]), *args, env=env)
        assert proc.returncode == 5, (args, proc.stderr)
        assert proc.stderr.startswith(f"caseward: {option}:"), (args, proc.stderr)
    proc = run_cli("retention", "due", "--json", env=env)
    assert len(json.loads(proc.stdout)) == 2  # nothing was changed


def test_unknown_record_is_bad_input(filled: dict[str, object]) -> None:
    env: dict[str, str] = filled["env"]  # type: ignore[assignment]
    proc = run_cli("retention", "decide", "NM-999999", "--erase", "--reason", "r", env=env)
    assert proc.returncode == 5 and "no nominal" in proc.stderr
    proc = run_cli("retention", "due", "--type", "person", env=env)
    assert proc.returncode == 5 and "--type" in proc.stderr

"""`caseward export RETURN` and `caseward brief --nominal REF`: the command-line contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, run_cli


@pytest.fixture
def coord(cli_vault: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    env = dict(cli_vault)
    add = run_cli("user", "add", "carol", "--role", "coordinator",
                  env={**env, "CASEWARD_NEW_PASSPHRASE": PASSPHRASE})
    assert add.returncode == 0, add.stderr
    env["CASEWARD_USER"] = "carol"
    source = tmp_path / "n.json"
    source.write_text(json.dumps([
        {"surname": "=cmd|' /C calc'!A0", "forenames": "Test", "dob": "1990-04-01",
         "status": "custody", "force": "Gwent", "risk_level": "high"},
        {"surname": "Llŵyd", "forenames": "<b>Siân</b>", "status": "community"},
    ]), encoding="utf-8")
    added = run_cli("nominal", "add", "--from", str(source), env=env)
    assert added.returncode == 0, added.stderr
    yield env


def test_export_headcount_and_brief(coord: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = run_cli("export", "headcount", "--out", str(out / "headcount.xlsx"), "--recipient",
                   "National hub", "--justification", "Monthly return", "--json", env=coord)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["records"] == 2 and data["what"] == "headcount"
    assert (out / "headcount.xlsx.sha256").read_text().split()[0] == data["sha256"]

    proc = run_cli("brief", "--nominal", "NM-000001", "--out", str(out / "b.pdf"),
                   "--recipient", "Probation", "--justification", "MAPPA", "--json", env=coord)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["what"] == "briefing"

    again = run_cli("export", "headcount", "--out", str(out / "headcount.xlsx"),
                    "--recipient", "x", "--justification", "y", env=coord)
    assert again.returncode == 5 and "already exists" in again.stderr  # never overwritten

    log = run_cli("audit", "list", "--json", env={**coord, "CASEWARD_USER": "alice"})
    rows = [e for e in json.loads(log.stdout) if e["category"] == "disclosure"]
    assert {e["action"] for e in rows} == {"export.headcount", "export.briefing"}
    assert all(e["recipient"] and e["reason"] for e in rows)


def test_usage_errors(coord: dict[str, str], tmp_path: Path) -> None:
    out = str(tmp_path / "x.xlsx")
    cases = [
        ("export", "headcount", "--out", out, "--justification", "y"),  # no recipient
        ("export", "headcount", "--out", out, "--recipient", "x"),  # no justification
        ("export", "headcount", "--recipient", "x", "--justification", "y"),  # no --out
        ("brief", "--out", out, "--recipient", "x", "--justification", "y"),  # no --nominal
        ("export", "nonsense", "--out", out, "--recipient", "x", "--justification", "y"),
    ]
    for args in cases:
        proc = run_cli(*args, env=coord)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert "headcount" in proc.stderr and "engagement" in proc.stderr  # known returns listed
    assert not Path(out).exists()


def test_bad_input_and_roles(coord: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    blank = run_cli("brief", "--nominal", "NM-000001", "--out", str(out), "--recipient", " ",
                    "--justification", "y", env=coord)
    assert blank.returncode == 5 and "recipient" in blank.stderr
    missing = run_cli("brief", "--nominal", "NM-999999", "--out", str(out), "--recipient", "x",
                      "--justification", "y", env=coord)
    assert missing.returncode == 5
    admin = run_cli("export", "headcount", "--out", str(tmp_path / "h.xlsx"), "--recipient",
                    "x", "--justification", "y", env={**coord, "CASEWARD_USER": "alice"})
    assert admin.returncode == 4  # admins manage the terminal; they do not disclose
    assert not out.exists() and not (tmp_path / "h.xlsx").exists()

"""`caseward calendar`: the JSON contract, sorting, kinds, role checks and bad input."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from app.domain.nominal import LicenceDates, Nominal, RiskLevel, Status
from app.security.secrets import MemorySecretStore
from app.services.engagement import EngagementService
from app.services.nominals import NominalService
from app.services.users import UserService
from app.services.vault import unlock_vault
from tests.conftest import PASSPHRASE, run_cli


@pytest.fixture
def filled(cli_vault: dict[str, str]) -> dict[str, object]:
    """Two nominals with contacts, an order and a licence date; a viewer account."""
    path = Path(cli_vault["CASEWARD_VAULT"])
    store = MemorySecretStore()
    admin = unlock_vault(path, "alice", PASSPHRASE, secret_store=store)
    UserService(admin).add_user("carol", "coordinator", PASSPHRASE)
    UserService(admin).add_user("vic", "viewer", PASSPHRASE)
    admin.lock()
    carol = unlock_vault(path, "carol", PASSPHRASE, secret_store=store)
    try:
        nominals = NominalService(carol)
        eng = EngagementService(carol)
        refs = []
        for manager in ("DC Alpha", "DC Beta"):
            refs.append(nominals.add(Nominal(
                surname="CLITEST", forenames="Synthetic", status=Status.COMMUNITY,
                risk_level=RiskLevel.HIGH, nominal_manager=manager, force="Test Force",
                dates=LicenceDates(led=date(2025, 3, 17)),
            )).ref)
        eng.log_contact(refs[1], datetime(2025, 3, 1, 10, 0), "phone", "DC Beta", "made")
        eng.log_contact(refs[0], datetime(2025, 3, 3, 10, 0), "phone", "DC Alpha", "made")
        eng.add_order(refs[0], "TPIM", date(2024, 12, 17))
    finally:
        carol.lock()
    return {"env": cli_vault, "refs": refs}


def test_calendar_json_contract_and_order(filled: dict[str, object]) -> None:
    env = filled["env"]
    a, b = filled["refs"]  # type: ignore[misc]
    proc = run_cli("calendar", "--from", "2025-03-01", "--to", "2025-03-31", "--json",
                   env=env)  # type: ignore[arg-type]
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)
    assert all(set(i) == {"date", "kind", "ref", "title"} for i in items)
    assert [(i["date"], i["kind"], i["ref"]) for i in items] == [
        ("2025-03-15", "contact_due", b),
        ("2025-03-17", "contact_due", a),
        ("2025-03-17", "licence_date", a),
        ("2025-03-17", "licence_date", b),
        ("2025-03-17", "order_review", a),
    ]
    only = run_cli("calendar", "--from", "2025-03-01", "--to", "2025-03-31", "--json",
                   "--kind", "licence_date", "--kind", "order_review",
                   env=env)  # type: ignore[arg-type]
    assert {i["kind"] for i in json.loads(only.stdout)} == {"licence_date", "order_review"}
    mine = run_cli("calendar", "--from", "2025-03-01", "--to", "2025-03-31", "--json",
                   "--manager", "DC Beta", env=env)  # type: ignore[arg-type]
    assert {i["ref"] for i in json.loads(mine.stdout)} == {b}


def test_calendar_text_and_every_reading_role(filled: dict[str, object]) -> None:
    env = dict(filled["env"])  # type: ignore[call-overload]
    for user in ("alice", "carol", "vic"):
        env["CASEWARD_USER"] = user
        proc = run_cli("calendar", "--from", "2025-03-01", "--to", "2025-03-31", env=env)
        assert proc.returncode == 0, proc.stderr
        assert "17 Mar 2025" in proc.stdout and "LED (licence end date)" in proc.stdout
    empty = run_cli("calendar", "--from", "2030-01-01", "--to", "2030-01-31", "--json", env=env)
    assert empty.returncode == 0 and json.loads(empty.stdout) == []


def test_calendar_bad_input(filled: dict[str, object]) -> None:
    env = filled["env"]
    bad_date = run_cli("calendar", "--from", "01/03/2025", "--to", "2025-03-31",
                       env=env)  # type: ignore[arg-type]
    assert bad_date.returncode == 5 and "from" in bad_date.stderr
    backwards = run_cli("calendar", "--from", "2025-03-31", "--to", "2025-03-01",
                        env=env)  # type: ignore[arg-type]
    assert backwards.returncode == 5
    unknown = run_cli("calendar", "--from", "2025-03-01", "--to", "2025-03-31", "--kind",
                      "birthday", env=env)  # type: ignore[arg-type]
    assert unknown.returncode == 2
    assert "Traceback" not in bad_date.stderr + backwards.stderr + unknown.stderr


def test_export_engagement_writes_a_return_and_audits_it(
    filled: dict[str, object], tmp_path: Path
) -> None:
    env = dict(filled["env"])  # type: ignore[call-overload]
    out = tmp_path / "engagement.xlsx"
    args = ("export", "engagement", "--out", str(out), "--recipient", "National hub",
            "--justification", "Quarterly return", "--from", "2025-01-01", "--to",
            "2025-03-31", "--json")
    env["CASEWARD_USER"] = "vic"
    denied = run_cli(*args, env=env)
    assert denied.returncode == 4 and not out.exists()
    env["CASEWARD_USER"] = "carol"
    proc = run_cli(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and (tmp_path / "engagement.xlsx.sha256").exists()
    from openpyxl import load_workbook

    wb = load_workbook(out, read_only=True)
    sheet = wb["Engagement"]
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[0] in ("DC Alpha", "DC Beta")]
    wb.close()
    assert len(rows) == 6  # two managers, three months
    env["CASEWARD_USER"] = "alice"
    log = run_cli("audit", "list", "--json", env=env)
    entries = [e for e in json.loads(log.stdout) if e["action"] == "export.engagement"]
    assert entries and entries[0]["recipient"] == "National hub"

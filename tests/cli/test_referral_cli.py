"""`caseward referral add|list|show` and `export referrals`: JSON shapes, exit codes, roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, run_cli
from tests.security.support import cw
from tests.support.cli_vaults import copy_vault, make_template, user_envs, write_json

ANA_PASS = "analyst long passphrase"
VIC_PASS = "viewer long passphrase"

REFERRAL = {
    "received": "2025-03-03T09:30",
    "source_sector": "education",
    "concern_type": "extreme_right_wing",
    "subject": {"surname": "Testperson", "forenames": "Alex", "dob": "2010-05-01"},
    "summary": "Pupil sharing extremist memes (synthetic).",
    "institutions": ["Ashbrook Park Academy", {"name": "Riverton Boxing Club", "type": "gym",
                                                 "area": "Riverton"}],
    "referrer": {"name": "A. Teacher", "organisation": "Ashbrook Park Academy"},
    "immediate_risk": False,
}


USERS = (("ana", "analyst", ANA_PASS), ("vic", "viewer", VIC_PASS),
         ("cody", "coordinator", VIC_PASS))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("tpl"), USERS)


@pytest.fixture
def env(template: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    return user_envs(copy_vault(template, tmp_path),
                     (*USERS, ("alice", "admin", PASSPHRASE)))


def test_add_list_show(env: dict[str, dict[str, str]], tmp_path: Path) -> None:
    run = cw("referral", "add", "--from", write_json(tmp_path, REFERRAL), "--json", env=env["ana"])
    assert run.rc == 0, run.err
    assert run.json() == {"added": ["PR-000001"],
                          "institutions_created": ["Ashbrook Park Academy",
                                                   "Riverton Boxing Club"]}
    urgent = {**REFERRAL, "immediate_risk": True, "institutions": ["Ashbrook Park Academy"],
              "subject": {"surname": "Other", "forenames": "Sam"}}
    run = cw("referral", "add", "--from", write_json(tmp_path, [urgent, REFERRAL]), "--json",
             env=env["ana"])
    assert run.rc == 0, run.err
    assert run.json() == {"added": ["PR-000002", "PR-000003"], "institutions_created": []}

    run = cw("referral", "list", "--json", env=env["vic"])
    assert run.rc == 0, run.err
    rows = run.json()
    assert isinstance(rows, list)
    assert [r["ref"] for r in rows][0] == "PR-000002"  # immediate risk first
    assert set(rows[0]) >= {"ref", "received_at", "subject", "stage", "status", "target_due",
                            "working_days_remaining", "immediate_risk"}
    assert cw("referral", "list", "--stage", "closed", "--json", env=env["vic"]).json() == []
    overdue = cw("referral", "list", "--overdue", "--json", env=env["vic"]).json()
    assert isinstance(overdue, list) and {r["ref"] for r in overdue} == {
        "PR-000001", "PR-000002", "PR-000003"}  # received in 2025, never triaged

    run = cw("referral", "show", "PR-000001", "--json", env=env["cody"])
    assert run.rc == 0, run.err
    shown = run.json()
    assert isinstance(shown, dict)
    assert shown["subject"]["surname"] == "Testperson"
    assert shown["subject"]["dob"] == "2010-05-01"
    assert [i["name"] for i in shown["institutions"]] == ["Ashbrook Park Academy",
                                                          "Riverton Boxing Club"]
    assert shown["referrer"] == {"name": "A. Teacher", "organisation": "Ashbrook Park Academy"}
    text = cw("referral", "show", "1", env=env["cody"])
    assert text.rc == 0 and "PR-000001" in text.out and "TESTPERSON" in text.out

    audit = cw("audit", "list", "--json", env=env["alice"]).json()
    assert isinstance(audit, list)
    views = [(a["user"], a["ref"]) for a in audit if a["action"] == "referral.view"]
    assert ("cody", "PR-000001") in views and len(views) == 2


def test_bad_input_exits_5_naming_the_field(env: dict[str, dict[str, str]],
                                            tmp_path: Path) -> None:
    cases = [
        ({**REFERRAL, "colour": "red"}, "colour"),
        ({**REFERRAL, "subject": {**REFERRAL["subject"], "eyes": "x"}},  # type: ignore[dict-item]
         "subject.eyes"),
        ({**REFERRAL, "source_sector": "astrology"}, "source_sector"),
        ({**REFERRAL, "received": "03/03/2025"}, "received"),
        ({**REFERRAL, "subject": {"surname": "A", "dob": "1.1.2000"}}, "subject.dob"),
        ({k: v for k, v in REFERRAL.items() if k != "summary"}, "summary"),
        ({**REFERRAL, "immediate_risk": "yes"}, "immediate_risk"),
    ]
    for data, field in cases:
        run = cw("referral", "add", "--from", write_json(tmp_path, data), env=env["ana"])
        assert run.rc == 5, (field, run.err)
        assert field in run.err, run.err
        assert "Traceback" not in run.err
    run = cw("referral", "add", "--from", write_json(tmp_path, [REFERRAL, {**REFERRAL, "x": 1}]),
             env=env["ana"])
    assert run.rc == 5 and "[1].x" in run.err
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    run = cw("referral", "add", "--from", str(tmp_path / "broken.json"), env=env["ana"])
    assert run.rc == 5 and "broken.json" in run.err
    assert cw("referral", "list", "--json", env=env["ana"]).json() == []  # nothing added
    assert cw("referral", "show", "PR-000099", env=env["ana"]).rc == 5
    assert cw("referral", "show", "banana", env=env["ana"]).rc == 5
    assert cw("referral", "list", "--stage", "bogus", env=env["ana"]).rc == 2


def test_roles(env: dict[str, dict[str, str]], tmp_path: Path) -> None:
    source = write_json(tmp_path, REFERRAL)
    for user in ("vic", "cody", "alice"):
        run = cw("referral", "add", "--from", source, env=env[user])
        assert run.rc == 4, run.err
    assert cw("referral", "add", "--from", source, env=env["ana"]).rc == 0
    for user in ("vic", "cody", "alice", "ana"):
        assert cw("referral", "list", env=env[user]).rc == 0


def test_export_referrals(env: dict[str, dict[str, str]], tmp_path: Path) -> None:
    assert cw("referral", "add", "--from", write_json(tmp_path, REFERRAL), env=env["ana"]).rc == 0
    out = tmp_path / "ref.xlsx"
    run = cw("export", "referrals", "--out", str(out), "--recipient", "Home Office",
             "--justification", "Quarterly return", "--from", "2025-01-01", "--to",
             "2025-12-31", "--json", env=env["ana"])
    assert run.rc == 0, run.err
    result = run.json()
    assert isinstance(result, dict) and result["out"] == str(out) and out.exists()
    assert Path(f"{out}.sha256").read_text().split()[0] == result["sha256"]
    run = cw("export", "referrals", "--out", str(tmp_path / "v.xlsx"), "--recipient", "x",
             "--justification", "y", env=env["vic"])
    assert run.rc == 4 and not (tmp_path / "v.xlsx").exists()
    disclosures = [a for a in cw("audit", "list", "--json", env=env["alice"]).json()  # type: ignore[union-attr]
                   if a["action"] == "export.referrals"]
    assert disclosures[0]["recipient"] == "Home Office"


def test_real_process(env: dict[str, dict[str, str]], tmp_path: Path) -> None:
    proc = run_cli("referral", "add", "--from", write_json(tmp_path, REFERRAL), "--json",
                   env=env["ana"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["added"] == ["PR-000001"]

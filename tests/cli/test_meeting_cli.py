"""`caseward meeting add|list|show|actions`, `pack`, `export actions|performance`: JSON shapes,
exit codes and role checks."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.security.support import cw
from tests.support.cli_vaults import copy_vault, make_template, user_envs, write_json

OTHER_PASS = "another long passphrase"


USERS = (("cody", "coordinator", OTHER_PASS), ("vic", "viewer", OTHER_PASS))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("tpl"), USERS)


@pytest.fixture
def env(template: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    return user_envs(copy_vault(template, tmp_path), USERS)


def test_meeting_add_list_show_actions_pack_exports(env: dict[str, dict[str, str]],
                                                    tmp_path: Path) -> None:
    cody = env["cody"]
    added = cw("nominal", "add", "--from", write_json(tmp_path, [
        {"surname": "CLITEST", "forenames": "One", "status": "community"},
        {"surname": "CLITEST", "forenames": "Two", "status": "custody"}], "n.json"),
        "--json", env=cody)
    assert added.rc == 0, added.err
    refs = added.json()["added"]  # type: ignore[index]
    past = date.today() - timedelta(days=30)
    soon = date.today() + timedelta(days=7)
    first = {"type": "ttcg", "date": past.isoformat(), "time": "10:00", "chair": "DI Chair",
             "attendees": ["A. Person", {"name": "B. Person", "agency": "Probation"}],
             "nominals": [refs[0], {"ref": refs[1], "reason": "Release due"}],
             "actions": [{"text": "Chase the address", "owner": "DS Owner",
                          "due": (past + timedelta(days=7)).isoformat(), "nominal": refs[0]}]}
    run = cw("meeting", "add", "--from", write_json(tmp_path, first), "--json", env=cody)
    assert run.rc == 0, run.err
    assert run.json() == {"added": ["MTG-000001"], "carried": {"MTG-000001": 0}}
    nxt = {"type": "ttcg", "date": soon.isoformat(), "chair": "DI Chair"}
    run = cw("meeting", "add", "--from", write_json(tmp_path, [nxt]), "--json", env=cody)
    assert run.json() == {"added": ["MTG-000002"], "carried": {"MTG-000002": 1}}

    listed = cw("meeting", "list", "--json", env=env["vic"])
    assert listed.rc == 0
    rows = listed.json()
    assert [r["ref"] for r in rows] == ["MTG-000002", "MTG-000001"]  # type: ignore[index]
    assert rows[1]["nominals"] == 2 and rows[1]["open_actions"] == 1  # type: ignore[index]
    shown = cw("meeting", "show", "2", "--json", env=env["vic"])
    assert shown.rc == 0, shown.err
    carried = [i for i in shown.json()["agenda"] if i["kind"] == "carried"]  # type: ignore[index]
    assert carried == [{"id": carried[0]["id"], "kind": "carried", "title": "Chase the address",
                        "nominal": refs[0], "reason": carried[0]["reason"],
                        "action": "ACT-000001", "carried_from": "MTG-000001",
                        "minutes": "", "decisions": ""}]
    overdue = cw("meeting", "actions", "--overdue", "--json", env=env["vic"]).json()
    assert [a["ref"] for a in overdue] == ["ACT-000001"]  # type: ignore[index]
    assert overdue[0]["overdue"] is True and overdue[0]["meeting"] == "MTG-000001"  # type: ignore[index]

    pdf = tmp_path / "pack.pdf"
    run = cw("pack", "--meeting", "MTG-000001", "--out", str(pdf), "--recipient", "Members",
             "--justification", "Meeting", "--json", env=cody)
    assert run.rc == 0, run.err
    assert set(run.json()) == {"out", "sha256"} and pdf.exists()  # type: ignore[arg-type]
    for name in ("actions", "performance"):
        out = tmp_path / f"{name}.xlsx"
        run = cw("export", name, "--out", str(out), "--recipient", "Chair",
                 "--justification", "Report", "--json", env=cody)
        assert run.rc == 0, run.err
        assert out.exists() and Path(str(out) + ".sha256").exists()
    audit = cw("audit", "list", "--json", env={**cody, "CASEWARD_USER": "alice",
                                                "CASEWARD_PASSPHRASE": PASSPHRASE})
    disclosures = [r for r in audit.json() if r["category"] == "disclosure"]  # type: ignore[union-attr]
    assert {r["action"] for r in disclosures} == {"export.pack", "export.actions",
                                                  "export.performance"}
    assert all(r["recipient"] and r["reason"] for r in disclosures)


def test_exit_codes_and_roles(env: dict[str, dict[str, str]], tmp_path: Path) -> None:
    bad = cw("meeting", "add", "--from", write_json(tmp_path, {"type": "ttcg", "date": "2026-01-01",
                                                          "chair": "X", "colour": "red"}),
             env=env["cody"])
    assert bad.rc == 5 and "colour" in bad.err
    bad = cw("meeting", "add", "--from", write_json(tmp_path, {"type": "ttcg", "date": "01/01/2026",
                                                          "chair": "X"}), env=env["cody"])
    assert bad.rc == 5 and "date" in bad.err
    assert cw("meeting", "add", "--from", str(tmp_path / "missing.json"),
              env=env["cody"]).rc == 5
    good = write_json(tmp_path, {"type": "consistency", "date": "2026-01-01", "chair": "X"})
    denied = cw("meeting", "add", "--from", good, env=env["vic"])
    assert denied.rc == 4 and "Traceback" not in denied.err
    assert cw("meeting", "add", "--from", good, env=env["cody"]).rc == 0
    assert cw("meeting", "show", "MTG-000099", env=env["vic"]).rc == 5
    assert cw("pack", "--meeting", "1", "--out", str(tmp_path / "p.pdf"), "--recipient", "R",
              "--justification", "J", env=env["vic"]).rc == 4
    assert not (tmp_path / "p.pdf").exists()
    assert cw("pack", "--meeting", "1", "--out", str(tmp_path / "p.pdf"),
              env=env["cody"]).rc == 2  # --recipient and --justification are required
    q1 = cw("export", "performance", "--out", str(tmp_path / "q1.xlsx"), "--recipient", "R",
            "--justification", "J", "--from", "2026-01-01", "--to", "2026-03-31", "--json",
            env=env["cody"])
    assert q1.rc == 0, q1.err
    audit = cw("audit", "list", "--json", env={**env["cody"], "CASEWARD_USER": "alice",
                                                "CASEWARD_PASSPHRASE": PASSPHRASE}).json()
    perf_rows = [r for r in audit if r["action"] == "export.performance"]  # type: ignore[union-attr]
    assert perf_rows[-1]["detail"]["period"] == "2026-Q1"  # a calendar quarter exactly
    perf = cw("performance", "--period", "2026-Q1", "--json", env=env["vic"])
    assert perf.rc == 0 and perf.json()["period"] == "2026-Q1"  # type: ignore[index]

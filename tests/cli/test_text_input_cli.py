"""Control and bidi characters in a file given to `nominal|referral|meeting add --from`: the
real command (a child process) refuses it with exit 5, names the field and never echoes the
value; the same file without them is accepted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.support.cli_vaults import copy_vault, make_template, user_envs, write_json

OTHER_PASS = "another long passphrase"
USERS = (("ana", "analyst", OTHER_PASS), ("cody", "coordinator", OTHER_PASS))
HOSTILE = "Ref\x00er\x07\x1b[31m"
MARK = "\x1b[31m"

NOMINAL = {"surname": "Textcheck", "forenames": "Alex", "status": "community",
           "notes": "Line one\nLine two\twith a tab"}
REFERRAL = {
    "received": "2025-03-03T09:30", "source_sector": "education",
    "concern_type": "extreme_right_wing",
    "subject": {"surname": "Textcheck", "forenames": "Alex", "dob": "2010-05-01"},
    "summary": "Pupil sharing extremist memes (synthetic).\nSecond line.",
    "referrer": {"name": "A. Teacher", "organisation": "Ashbrook Park Academy"},
}
MEETING = {"type": "ttcg", "date": "2026-01-05", "chair": "DI Chair",
           "notes": "Agenda agreed.\nMinutes to follow."}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("tpl"), USERS)


@pytest.fixture
def env(template: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    return user_envs(copy_vault(template, tmp_path), USERS)


def _refused(env: dict[str, str], tmp_path: Path, command: str, data: Any, field: str) -> None:
    proc = run_cli(command, "add", "--from", write_json(tmp_path, data, "bad.json"), "--json",
                   env=env)
    assert proc.returncode == 5, (proc.returncode, proc.stderr[-400:])
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert field in proc.stderr, proc.stderr
    assert "control" in proc.stderr or "one line" in proc.stderr or "right-to-left" \
        in proc.stderr, proc.stderr
    # The value never reaches the terminal (the escape sequence would colour it red).
    assert MARK not in proc.stderr and "\x00" not in proc.stderr and "\u202e" not in proc.stderr


def _accepted(env: dict[str, str], tmp_path: Path, command: str, data: Any) -> dict[str, Any]:
    proc = run_cli(command, "add", "--from", write_json(tmp_path, data, "good.json"), "--json",
                   env=env)
    assert proc.returncode == 0, proc.stderr[-400:]
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def test_nominal_add_refuses_control_characters(env: dict[str, dict[str, str]],
                                                tmp_path: Path) -> None:
    cody = env["cody"]
    _refused(cody, tmp_path, "nominal", {**NOMINAL, "surname": HOSTILE}, "surname")
    _refused(cody, tmp_path, "nominal", {**NOMINAL, "forenames": "Al\nex"}, "forenames")
    _refused(cody, tmp_path, "nominal", {**NOMINAL, "notes": "ok\x1b[2J"}, "notes")
    _refused(cody, tmp_path, "nominal",
             {**NOMINAL, "aliases": [{"surname": "Ifans\u202egnp", "forenames": "B"}]},
             "aliases[0].surname")
    assert _accepted(cody, tmp_path, "nominal", NOMINAL)["added"] == ["NM-000001"]


def test_referral_add_refuses_control_characters(env: dict[str, dict[str, str]],
                                                 tmp_path: Path) -> None:
    ana = env["ana"]
    _refused(ana, tmp_path, "referral",
             {**REFERRAL, "subject": {**REFERRAL["subject"], "surname": HOSTILE}},
             "subject.surname")
    _refused(ana, tmp_path, "referral", {**REFERRAL, "summary": HOSTILE}, "summary")
    _refused(ana, tmp_path, "referral",
             {**REFERRAL, "referrer": {"name": "A. \u202eTeacher", "organisation": "X"}},
             "referrer.name")
    assert _accepted(ana, tmp_path, "referral", REFERRAL)["added"] == ["PR-000001"]


def test_meeting_add_refuses_control_characters(env: dict[str, dict[str, str]],
                                                tmp_path: Path) -> None:
    cody = env["cody"]
    _refused(cody, tmp_path, "meeting", {**MEETING, "chair": HOSTILE}, "chair")
    _refused(cody, tmp_path, "meeting", {**MEETING, "notes": "a\x00b"}, "notes")
    _refused(cody, tmp_path, "meeting",
             {**MEETING, "attendees": [{"name": "B. Person\u2066", "agency": "Probation"}]},
             "attendees[0].name")
    assert _accepted(cody, tmp_path, "meeting", MEETING)["added"] == ["MTG-000001"]

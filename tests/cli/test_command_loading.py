"""Only the module of the command given is registered and imported (app/commands/__init__.py),
so that `caseward nominal search` pays for no other command's imports; help and usage errors
still see every command."""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, common_options, main
from app.commands import COMMANDS, MODULE_NAMES, command_of, load, modules_for
from tests.conftest import ROOT

# Loaded by `nominal search` only if something drags in another command's machinery.
UNRELATED = (
    "app.io", "app.services.duplicates", "app.services.demo", "app.services.exports",
    "app.services.reconcile", "app.services.engagement", "app.services.meetings",
    "app.services.referrals", "app.services.retention", "app.services.users",
    "app.services.audit", "app.domain.rules", "openpyxl", "reportlab", "rapidfuzz", "alembic",
    "defusedxml", "keyring", "PySide6", "ui.app",
)


def _registered_by_module() -> dict[str, str]:
    """Register every module in order, noting which command each one added."""
    common = common_options()
    sub = argparse.ArgumentParser().add_subparsers(dest="command")
    owner: dict[str, str] = {}
    for name in MODULE_NAMES:
        before = set(sub.choices)
        load(name).register(sub, common)
        owner.update(dict.fromkeys(set(sub.choices) - before, name))
    return owner


def test_the_table_names_every_command_and_the_module_that_registers_it() -> None:
    assert _registered_by_module() == COMMANDS


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_registers_its_own_module_alone(command: str) -> None:
    modules = modules_for([command, "--help"], common_options())
    assert [m.__name__ for m in modules] == [f"app.commands.{COMMANDS[command]}"]
    parser = build_parser([command])
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert command in choices
    assert not {"nominal", "meeting", "referral"} - {command} <= set(choices)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["nominal", "search", "x", "--json"], "nominal"),
        (["--json", "calendar", "--from", "2026-01-01"], "calendar"),
        (["--user", "audit", "nominal", "search", "x"], "nominal"),  # a value, not a command
        (["--vault=/tmp/v.cwv", "--user=alice", "merge", "A", "B"], "merge"),
        (["--vau", "/tmp/v.cwv", "reconcile"], "reconcile"),  # abbreviation, as argparse allows
        ([], None),
        (["--help"], None),
        (["-h", "nominal"], None),
        (["--user"], None),  # missing value: the full parser reports it
        (["bogus", "nominal"], None),
        (["--unknown", "nominal"], None),
    ],
)
def test_command_of_reads_the_command_as_the_full_parser_would(
    argv: list[str], expected: str | None
) -> None:
    assert command_of(argv, common_options()) == expected


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_help_still_lists_every_command_with_its_help(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per command: help text is not wrapped
    code, out, _ = _run("--help")
    assert code == 0
    full = build_parser()
    actions = full._subparsers._group_actions[0]._choices_actions  # type: ignore[union-attr]
    assert {a.dest for a in actions} == set(COMMANDS)
    for action in actions:
        assert action.help
        assert re.search(rf"^\s+{re.escape(action.dest)}\s+{re.escape(action.help)}\s*$", out,
                         re.MULTILINE), action.dest


def test_an_option_value_that_names_a_command_is_not_taken_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parsed as user "audit" running `nominal search`: the vault is missing (3), not usage (2).
    monkeypatch.setenv("CASEWARD_PASSPHRASE", "not needed: there is no vault")
    code, _, err = _run("--user", "audit", "--vault", str(tmp_path / "none.cwv"),
                        "nominal", "search", "x")
    assert code == 3, err
    assert "No vault at" in err


def test_common_options_before_the_command_are_kept() -> None:
    parser = build_parser(["--user", "ann", "--json", "nominal", "search", "x"])
    args = parser.parse_args(["--user", "ann", "--json", "nominal", "search", "x"])
    assert (args.user, args.json, args.vault) == ("ann", True, None)
    args = parser.parse_args(["--user", "ann", "nominal", "search", "x", "--user", "bob"])
    assert args.user == "bob"  # the later one wins, as with any repeated option


def test_usage_errors_still_see_every_command() -> None:
    code, _, err = _run("bogus")
    assert code == 2
    assert "invalid choice" in err and "'nominal'" in err and "'retention'" in err
    code, _, err = _run("nominal")
    assert code == 2
    assert "ACTION" in err


def test_nominal_search_imports_no_unrelated_service(cli_vault: dict[str, str]) -> None:
    """A real process: after `nominal search`, which modules did it load?"""
    code = (
        "import json, sys; from app.cli import main; "
        "rc = main(['nominal', 'search', 'Evans', '--json']); "
        "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules)}))"
    )
    env = {**__import__("os").environ, **cli_vault}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert json.loads(lines[0]) == []  # the search ran and found nothing in a new vault
    report = json.loads(lines[-1])
    assert report["rc"] == 0
    modules = set(report["modules"])
    assert "app.services.nominals" in modules  # it did search through the service
    assert {m for m in modules if m.startswith("app.commands.")} == {"app.commands.nominals"}
    assert {m for m in modules if m.startswith("app.services.")} <= {
        "app.services.base", "app.services.nominals", "app.services.vault",
    }
    dragged = sorted(m for m in modules for u in UNRELATED if m == u or m.startswith(u + "."))
    assert dragged == []

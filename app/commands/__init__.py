"""Sub-command modules of `caseward`; each has `register(subparsers, common)`.

Only the module of the command given is imported and registered (`modules_for`), so that a
command pays for no other command's imports; `--help`, no command or an unknown one register
them all, in the order below."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

# Every module, in registration order: exports registers `export` before engagement, whose
# fallback `export` then stands aside.
MODULE_NAMES: tuple[str, ...] = (
    "foundation", "nominals", "exports", "engagement", "prevent", "meetings", "reconcile",
    "retention",
)

# Top-level command -> the module that registers it. A test registers every module and checks
# that this table names each command it finds, and the right module for it.
COMMANDS: dict[str, str] = {
    **dict.fromkeys(
        ("init", "user", "rekey", "backup", "recover", "audit", "selfcheck"), "foundation"
    ),
    **dict.fromkeys(("nominal", "duplicates", "merge", "demo"), "nominals"),
    **dict.fromkeys(("export", "brief"), "exports"),
    "calendar": "engagement",
    "referral": "prevent",
    **dict.fromkeys(("meeting", "pack", "performance"), "meetings"),
    "reconcile": "reconcile",
    "retention": "retention",
}


def load(name: str) -> ModuleType:
    return importlib.import_module(f"app.commands.{name}")


def all_modules() -> list[ModuleType]:
    return [load(name) for name in MODULE_NAMES]


class _NoExit(Exception):
    pass


class _QuietParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NoExit(message)


def command_of(argv: Sequence[str], common: argparse.ArgumentParser) -> str | None:
    """The sub-command named in `argv` (after any common options), or None."""
    # The common options are parsed as the full parser will (`--vault PATH`, `--user=NAME`,
    # abbreviations), so an option's value is never taken for the command.
    probe = _QuietParser(add_help=False, parents=[common])
    try:
        _known, rest = probe.parse_known_args(list(argv))
    except _NoExit:
        return None
    first = next((token for token in rest if not token.startswith("-")), None)
    if first is None or first not in COMMANDS:
        return None
    # An option before the command that the common parser does not know (`-h`, a typo) may
    # take a value: let the full parser judge such a line.
    if rest.index(first) != 0:
        return None
    return first


def modules_for(argv: Sequence[str], common: argparse.ArgumentParser) -> list[ModuleType]:
    """The module of the command in `argv` alone; every module when there is none (help, usage
    errors), so that the full parser can list or judge every command."""
    command = command_of(argv, common)
    if command is None:
        return all_modules()
    return [load(COMMANDS[command])]

"""The `caseward` command line: common options, passphrase sources, exit codes, error reporting.

Sub-commands live in app/commands/*; each module registers its parsers, and only the module of
the command given is imported. Imports are kept lazy so that a command starts quickly (tests
compare `search` with `--version`)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TextIO

from app import __version__
from app.domain.errors import BadInput, CasewardError, ValidationError

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USAGE = 2


class UsageError(CasewardError):
    exit_code = EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


Handler = Callable[["Cli", argparse.Namespace], int]


class Cli:
    """What a command handler needs: arguments, output, the vault, the secret store."""

    def __init__(
        self,
        args: argparse.Namespace,
        stdout: TextIO,
        stderr: TextIO,
        secret_store: Any = None,
    ) -> None:
        self.args = args
        self.stdout = stdout
        self.stderr = stderr
        self._secret_store = secret_store
        self._vault: Any = None

    # -- output ---------------------------------------------------------------------------
    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def emit(self, data: Any, text: str | None = None) -> None:
        """JSON on stdout with --json; otherwise the human text."""
        if self.json:
            self.stdout.write(json.dumps(data, ensure_ascii=False, default=_json_default))
            self.stdout.write("\n")
        elif text is not None:
            self.stdout.write(text.rstrip("\n") + "\n")

    def note(self, text: str) -> None:
        """Progress and advice: stderr, so that --json output stays clean."""
        self.stderr.write(text.rstrip("\n") + "\n")

    # -- inputs ---------------------------------------------------------------------------
    def vault_path(self) -> Path:
        value = getattr(self.args, "vault", None) or os.environ.get("CASEWARD_VAULT")
        if not value:
            raise UsageError("no vault given: use --vault PATH or set CASEWARD_VAULT")
        return Path(value).expanduser()

    def user(self) -> str:
        value = getattr(self.args, "user", None) or os.environ.get("CASEWARD_USER")
        if not value:
            raise UsageError("no user given: use --user NAME or set CASEWARD_USER")
        return str(value)

    def passphrase(self, prompt: str = "Passphrase: ") -> str:
        path = getattr(self.args, "passphrase_file", None)
        if path:
            return _read_secret_file(Path(path), "--passphrase-file")
        env = os.environ.get("CASEWARD_PASSPHRASE")
        if env is not None:
            return env
        return _prompt(prompt, "--passphrase-file or CASEWARD_PASSPHRASE")

    def new_passphrase(self, prompt: str = "New passphrase: ") -> str:
        path = getattr(self.args, "new_passphrase_file", None)
        if path:
            return _read_secret_file(Path(path), "--new-passphrase-file")
        env = os.environ.get("CASEWARD_NEW_PASSPHRASE")
        if env is not None:
            return env
        first = _prompt(prompt, "--new-passphrase-file or CASEWARD_NEW_PASSPHRASE")
        second = _prompt("Repeat it: ", "--new-passphrase-file")
        if first != second:
            raise ValidationError("new passphrase", "the two entries differ")
        return first

    def secret_store(self) -> Any:
        if self._secret_store is None:
            from app.security.secrets import KeyringSecretStore

            self._secret_store = KeyringSecretStore()
        return self._secret_store

    def open_vault(self) -> Any:
        """Unlock the vault as --user with the passphrase from file, environment or prompt."""
        if self._vault is None:
            from app.services.vault import unlock_vault

            path, user = self.vault_path(), self.user()
            self._vault = unlock_vault(
                path, user, self.passphrase(), secret_store=self.secret_store()
            )
        return self._vault

    def close(self) -> None:
        if self._vault is not None:
            self._vault.lock()
            self._vault = None


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "as_json"):
        return value.as_json()
    raise TypeError(type(value).__name__)


def _read_secret_file(path: Path, option: str) -> str:
    try:
        data = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{option}: cannot read {path.name} ({exc.strerror})") from None
    return data.splitlines()[0] if data else ""


def _prompt(prompt: str, alternatives: str) -> str:
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"no passphrase given and no terminal to ask on: use {alternatives}")
    return getpass.getpass(prompt)


def parse_date(text: str, field: str = "date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(field, "must be a date written YYYY-MM-DD") from None


def common_options(*, keep_earlier: bool = False) -> argparse.ArgumentParser:
    """The options every command takes. `keep_earlier=True` gives the copy for sub-commands:
    an option not repeated after the command leaves the value given before it (argparse would
    otherwise reset it to the default, losing `caseward --user NAME nominal ...`)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    unset: dict[str, Any] = {"default": argparse.SUPPRESS} if keep_earlier else {}
    group.add_argument("--vault", metavar="PATH", help="vault file (or CASEWARD_VAULT)", **unset)
    group.add_argument("--user", metavar="NAME", help="your user name (or CASEWARD_USER)",
                       **unset)
    group.add_argument("--json", action="store_true", help="machine-readable output on stdout",
                       **unset)
    group.add_argument(
        "--passphrase-file", metavar="FILE", help="read the passphrase from FILE's first line",
        **unset,
    )
    return common


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given `argv`, with only the sub-command it names registered (a command then
    imports nothing of the others), and with every sub-command for help and usage errors."""
    from app.commands import all_modules, modules_for

    common = common_options()
    parser = _Parser(
        prog="caseward",
        description="Caseward: offline CT nominal management and Prevent case intake. "
        "With no command, opens the window.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"caseward {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for_commands = common_options(keep_earlier=True)
    for module in all_modules() if argv is None else modules_for(argv, common):
        module.register(sub, for_commands)
    return parser


def _as_damage(exc: BaseException) -> CasewardError | None:
    """A database error that means the file is damaged is the environment's fault, not a bug."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "malformed" in text or "not a database" in text or "disk i/o error" in text:
        from app.domain.errors import VaultDamaged

        return VaultDamaged(
            "The vault file is damaged (a page failed its integrity check). Restore it from "
            "a backup; nothing was changed."
        )
    return None


def _log_bug(exc: BaseException, command: str) -> Path | None:
    """Write the bug's type and stack (file, line, function) — never messages, args or locals,
    which could hold record data."""
    try:
        from datetime import datetime

        from app.paths import log_dir

        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "caseward.log"
        frames = traceback.extract_tb(exc.__traceback__)
        lines = [
            f"{datetime.now().isoformat(timespec='seconds')} caseward {__version__} "
            f"command={command} error={type(exc).__module__}.{type(exc).__qualname__}"
        ]
        lines += [f"  at {f.filename}:{f.lineno} in {f.name}" for f in frames]
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        return path
    except OSError:
        return None


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    secret_store: Any = None,
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        # Answered before the sub-commands register (registering imports their services):
        # this is the bare start that command timings are compared with.
        out.write(f"caseward {__version__}\n")
        return EXIT_OK
    command = "?"
    cli: Cli | None = None
    try:
        parser = build_parser(argv)
        # argparse writes usage, --help and --version to sys.stdout/stderr: send them to ours.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
            command = str(getattr(args, "command", None) or "")
            handler: Handler | None = getattr(args, "handler", None)
            if handler is None:
                if command:
                    parser.parse_args([command, "--help"])
                parser.print_help(out)
                return EXIT_USAGE
        cli = Cli(args, out, err, secret_store)
        return handler(cli, args)
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except CasewardError as exc:
        err.write(f"caseward: {exc}\n")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        err.write("caseward: interrupted; nothing further was changed.\n")
        return 130
    except Exception as exc:  # a bug: say where the details are, never print a traceback
        damaged = _as_damage(exc)
        if damaged is not None:
            err.write(f"caseward: {damaged}\n")
            return int(damaged.exit_code)
        path = _log_bug(exc, command)
        where = f" Details: {path}" if path else ""
        err.write(f"caseward: unexpected error ({type(exc).__name__}); this is a bug.{where}\n")
        return EXIT_BUG
    finally:
        if cli is not None:
            cli.close()


if __name__ == "__main__":
    sys.exit(main())

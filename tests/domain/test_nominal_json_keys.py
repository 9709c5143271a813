"""An unknown key in `nominal add --from` is named in the error, escaped and cut short: a key
from an untrusted file must not reach a terminal or a log as raw control characters."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.domain.nominal import SHOWN_KEY_CHARS, parse_nominal_json, parse_nominals_json, shown_key
from app.services.users import UserService
from app.services.vault import Vault
from tests.conftest import PASSPHRASE

HOSTILE = "colour\x1b[31mRED\nnominals[0].surname: x"  # 37 characters
GOOD = {"surname": "Quayle", "forenames": "Ivo", "dob": "1981-03-04", "gender": "M",
        "status": "community"}


def test_shown_key_escapes_control_characters_and_caps_length() -> None:
    assert shown_key("colour\x1b[31m\n") == "colour\\x1b[31m\\n"
    assert shown_key("a\\x1b") == "a\\\\x1b"  # a literal backslash cannot fake an escape
    assert shown_key("\u202egnp.exe") == "\\u202egnp.exe"  # bidi override
    assert shown_key("Łukasz") == "Łukasz"  # printable text is kept as it is
    long = shown_key("k" * 500)
    assert long == "k" * SHOWN_KEY_CHARS + "…"
    # escaping happens after the cut: the shown text stays bounded even for control characters
    assert len(shown_key("\x00" * 500)) == SHOWN_KEY_CHARS * 4 + 1


def test_unknown_key_error_names_an_escaped_key() -> None:
    nominal, problems = parse_nominal_json({**GOOD, HOSTILE: 1})
    assert nominal is None
    [problem] = problems
    assert "\x1b" not in problem.field and "\n" not in problem.field
    assert problem.field == "colour\\x1b[31mRED\\nnominals[0].surname: x"
    assert problem.message == "is not a field of a nominal"


def test_unknown_alias_key_and_list_prefix_are_escaped() -> None:
    raw = [{**GOOD, "aliases": [{"surname": "Q", "\x1b[2J": "x"}]}, {**GOOD, "x" * 100: 1}]
    _, problems = parse_nominals_json(raw, today=date(2026, 11, 25))
    fields = sorted(p.field for p in problems)
    assert fields == ["nominals[0].aliases[0].\\x1b[2J",
                      "nominals[1]." + "x" * SHOWN_KEY_CHARS + "…"]


def test_cli_prints_the_escaped_key(vault: Vault, vault_path: Path, store: Any,
                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    UserService(vault).add_user("carol", "coordinator", PASSPHRASE)
    vault.lock()
    monkeypatch.setenv("CASEWARD_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("CASEWARD_VAULT", str(vault_path))
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps({**GOOD, HOSTILE: "x"}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(["nominal", "add", "--from", str(source), "--user", "carol"], stdout=out,
                stderr=err, secret_store=store)
    assert code == 5, err.getvalue()
    text = out.getvalue() + err.getvalue()
    assert "\x1b" not in text
    assert "colour\\x1b[31mRED\\nnominals[0].surname: x" in text
    # the key's newline did not start a line of its own that looks like another error
    assert not any(line.startswith("nominals[0].surname") for line in text.splitlines())

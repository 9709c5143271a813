"""`caseward nominal add|show|list|search`, `duplicates`, `merge`, `demo`: contract shapes and
exit codes. Most calls run app.cli.main in-process (fast); a few run the real command."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.domain.nominal import CONTRACT_KEYS
from app.services.users import UserService
from tests.conftest import PASSPHRASE, run_cli

GOOD = {"surname": "Evans", "forenames": "Bethan", "dob": "1988-02-03", "gender": "F",
        "pnc": "09/123456" + "ZABCDEFGHJKLMNPQRTUVWXY"[int("090123456") % 23],
        "status": "community", "force": "South Wales Police",
        "nominal_manager": "DC Eleri Cadwgan", "risk_level": "medium", "mappa_category": 4,
        "mappa_level": 2, "aliases": [{"surname": "Ifans", "forenames": "Beth", "dob": None}]}


@pytest.fixture
def env(vault, vault_path: Path, store, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, role in (("carol", "coordinator"), ("vic", "viewer")):
        UserService(vault).add_user(name, role, PASSPHRASE)
    vault.lock()
    monkeypatch.setenv("CASEWARD_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("CASEWARD_VAULT", str(vault_path))
    return store


def cli(store: Any, user: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*args, "--user", user], stdout=out, stderr=err, secret_store=store)
    return code, out.getvalue(), err.getvalue()


def _write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_add_show_list_search(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(env, "carol", "nominal", "add", "--from",
                         _write(tmp_path, [GOOD, {**GOOD, "surname": "Pryce", "aliases": []}]),
                         "--json")
    assert code == 0, err
    assert json.loads(out) == {"added": ["NM-000001", "NM-000002"]}
    code, out, _ = cli(env, "vic", "nominal", "show", "NM-1", "--json")
    assert code == 0
    shown = json.loads(out)
    assert list(shown) == list(CONTRACT_KEYS)
    assert shown["ref"] == "NM-000001" and shown["dob"] == "1988-02-03"
    assert shown["establishment"] is None and shown["notes"] is None
    assert shown["aliases"] == [{"surname": "Ifans", "forenames": "Beth", "dob": None}]
    code, out, _ = cli(env, "vic", "nominal", "list", "--status", "community", "--json")
    listed = json.loads(out)
    assert code == 0 and [n["ref"] for n in listed] == ["NM-000001", "NM-000002"]
    assert all(list(n) == list(CONTRACT_KEYS) for n in listed)
    code, out, _ = cli(env, "vic", "nominal", "list", "--risk", "high", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = cli(env, "vic", "nominal", "search", "beth ifans", "--json")
    assert code == 0 and [n["ref"] for n in json.loads(out)] == ["NM-000001"]
    code, out, _ = cli(env, "vic", "nominal", "search", 'NEAR(" *', "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = cli(env, "vic", "nominal", "list")
    assert code == 0 and "EVANS" in out and "(2 of 2 shown)" in out


def test_bad_input_names_the_field_and_adds_nothing(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = [GOOD, GOOD, GOOD, {**GOOD, "dob": "1990-02-30"}, {**GOOD, "hair": "red"}]
    code, out, err = cli(env, "carol", "nominal", "add", "--from", _write(tmp_path, items),
                         "--json")
    assert code == 5
    assert out == ""
    assert "nominals[3].dob: not a real date" in err
    assert "nominals[4].hair" in err
    assert "Traceback" not in err
    code, out, _ = cli(env, "carol", "nominal", "list", "--json")
    assert json.loads(out) == []
    code, _out, err = cli(env, "carol", "nominal", "add", "--from", _write(tmp_path, {
        **GOOD, "ref": "NM-000009"}))
    assert code == 5 and "ref" in err
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    code, _out, err = cli(env, "carol", "nominal", "add", "--from", str(tmp_path / "broken.json"))
    assert code == 5 and "line 1" in err


def test_roles_and_exit_codes(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = cli(env, "vic", "nominal", "add", "--from", _write(tmp_path, GOOD))
    assert code == 4, err
    code, _out, _err = cli(env, "carol", "demo", "--nominals", "5", "--seed", "1")
    assert code == 4
    code, _out, err = cli(env, "carol", "nominal", "show", "NM-404")
    assert code == 5
    code, _out, _err = cli(env, "carol", "nominal", "list", "--status", "jailed")
    assert code == 2
    code, _out, _err = cli(env, "carol", "merge", "NM-1", "NM-1")
    assert code == 5


def test_duplicates_then_merge(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    twin = {**GOOD, "surname": "Bethan", "forenames": "Evans", "pnc": None, "aliases": [],
            "notes": "second record"}
    cli(env, "carol", "nominal", "add", "--from",
        _write(tmp_path, [GOOD, twin, {**GOOD, "surname": "Khan", "forenames": "Imran",
                                       "dob": "1975-09-09", "pnc": None, "aliases": []}]))
    code, out, _err = cli(env, "vic", "duplicates", "--json")
    assert code == 0
    pairs = json.loads(out)
    assert [(p["a"], p["b"]) for p in pairs] == [("NM-000001", "NM-000002")]
    assert set(pairs[0]) == {"a", "b", "score", "reasons"}
    assert 0.0 <= pairs[0]["score"] <= 1.0
    assert "forename and surname swapped" in pairs[0]["reasons"]
    code, _out, _err = cli(env, "vic", "merge", "NM-1", "NM-2")
    assert code == 4
    code, out, err = cli(env, "carol", "merge", "NM-1", "NM-2", "--reason", "same person",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["kept"] == "NM-000001"
    code, out, _err = cli(env, "carol", "nominal", "show", "NM-1", "--json")
    assert json.loads(out)["notes"] == "second record"  # keep's was empty
    code, out, _err = cli(env, "carol", "nominal", "show", "NM-2")
    assert "MERGED into NM-000001" in out
    code, out, err = cli(env, "carol", "nominal", "show", "NM-2", "--json")
    assert list(json.loads(out)) == list(CONTRACT_KEYS)
    assert "merged into NM-000001" in err
    code, out, _err = cli(env, "vic", "duplicates", "--json")
    assert json.loads(out) == []
    code, _out, err = cli(env, "carol", "merge", "NM-3", "NM-2")
    assert code == 5 and "already merged" in err


def test_real_command_end_to_end(cli_vault: dict[str, str], tmp_path: Path) -> None:
    source = _write(tmp_path, [GOOD])
    added = run_cli("nominal", "add", "--from", source, "--json", env=cli_vault)
    assert added.returncode == 4  # alice is the admin: admins read, coordinators write
    demo = run_cli("demo", "--nominals", "40", "--seed", "3", "--json", env=cli_vault)
    assert demo.returncode == 0, demo.stderr
    assert json.loads(demo.stdout)["nominals"] == 40
    found = run_cli("nominal", "search", "NM-7", "--json", env=cli_vault)
    assert found.returncode == 0, found.stderr
    assert [n["ref"] for n in json.loads(found.stdout)] == ["NM-000007"]

"""`caseward reconcile --national FILE --out corrections.xlsx [--json]`: the contract's JSON,
exit codes, the audit rows it leaves, and nothing else changed."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from app.cli import main
from app.security.secrets import MemorySecretStore
from app.services.users import UserService
from app.services.vault import unlock_vault
from app.store.models import AuditEntry
from tests.conftest import PASSPHRASE, run_cli
from tests.services.test_reconcile_support import (
    Planted,
    make_regional_vault,
    plant_national_list,
    vault_fingerprint,
)
from tests.support.cli_vaults import copy_vault

CONTRACT = {"national_rows", "matched", "field_differences", "only_national", "only_regional",
            "possible_matches", "rejected_rows"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, Planted]]:
    folder = tmp_path_factory.mktemp("reconcile-cli")
    store = MemorySecretStore()
    carol = make_regional_vault(folder, 400, seed=5, store=store)
    planted = plant_national_list(carol, folder / "national.xlsx", seed=8, omissions=6,
                                  extras=4, differences=9, lookalikes=6, title_rows=2)
    admin = unlock_vault(carol.path, "alice", PASSPHRASE, secret_store=store)
    UserService(admin).add_user("vic", "viewer", PASSPHRASE)
    admin.lock()
    carol.lock()
    yield carol.path, store, planted


@pytest.fixture
def env(template: tuple[Path, Any, Planted], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Any, Planted]:
    path, store, planted = template
    copy = copy_vault(path, tmp_path)
    monkeypatch.setenv("CASEWARD_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("CASEWARD_VAULT", str(copy))
    return copy, store, planted


def cli(store: Any, user: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*args, "--user", user], stdout=out, stderr=err, secret_store=store)
    return code, out.getvalue(), err.getvalue()


def _state(path: Path, store: Any) -> tuple[tuple[int, str], list[tuple[str, str]]]:
    vault = unlock_vault(path, "carol", PASSPHRASE, secret_store=store)
    try:
        with vault.read() as s:
            actions = [(a.category, a.action) for a in s.scalars(
                select(AuditEntry).order_by(AuditEntry.id))]
        return vault_fingerprint(vault), actions
    finally:
        vault.lock()


def test_reconcile_prints_the_contract_and_writes_the_return(env: Any, tmp_path: Path) -> None:
    path, store, planted = env
    before_print, before = _state(path, store)
    out = tmp_path / "corrections.xlsx"
    code, stdout, err = cli(store, "carol", "reconcile", "--national",
                            str(planted.listed.path), "--out", str(out), "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert set(data) == CONTRACT
    assert data["national_rows"] == len(planted.listed.record_rows)
    assert data["matched"] == planted.matched  # matched with no differences
    assert data["field_differences"] == len(planted.differences)  # matched, with differences
    assert data["only_national"] == planted.extras
    assert data["only_regional"] == len(planted.omitted)
    assert data["possible_matches"] == len(planted.lookalikes)
    assert sorted({r["row"] for r in data["rejected_rows"]}) == planted.listed.junk_rows
    assert all(set(r) == {"row", "column", "error"} for r in data["rejected_rows"])
    assert out.exists() and out.with_name(out.name + ".sha256").exists()

    # No record changed; the audit gained the combination and the disclosure, nothing else.
    after_print, after = _state(path, store)
    assert after_print[1] == before_print[1]
    added = [a for a in after[len(before):] if a[0] != "security"]  # sign-ins aside
    assert added == [("combination", "reconcile.run"), ("disclosure", "export.corrections")]
    vault = unlock_vault(path, "carol", PASSPHRASE, secret_store=store)
    with vault.read() as s:
        disclosure = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "export.corrections")).first()
    vault.lock()
    assert disclosure is not None and disclosure.recipient == "National hub"
    assert disclosure.reason == "Reconciliation corrections return"

    book = openpyxl.load_workbook(out, read_only=True)
    rows = list(book["Corrections"].iter_rows(min_row=3, values_only=True))
    assert len(rows) == sum(len(f) for f in planted.differences.values())
    assert {r[5] for r in rows} == {"Not yet reviewed by the region"}
    book.close()

    # Twice on the same input: the same answer (to a new file: a return is never replaced).
    code, again, err = cli(store, "carol", "reconcile", "--national",
                           str(planted.listed.path), "--out", str(tmp_path / "c2.xlsx"),
                           "--json")
    assert code == 0, err
    assert json.loads(again) == data


def test_human_output_names_the_counts(env: Any, tmp_path: Path) -> None:
    path, store, planted = env
    code, stdout, err = cli(store, "carol", "reconcile", "--national",
                            str(planted.listed.path), "--out", str(tmp_path / "c.xlsx"),
                            "--recipient", "Hub", "--justification", "Monthly check")
    assert code == 0, err
    assert f"matched:               {planted.matched:,}" in stdout
    assert "not read: row" in stdout and "Wrote" in stdout


def test_a_hostile_file_is_exit_5_and_changes_nothing(env: Any, tmp_path: Path) -> None:
    from tests.io.test_national_import import _BILLION_LAUGHS, _hand_xlsx

    path, store, _planted = env
    before = _state(path, store)
    bomb = _hand_xlsx(tmp_path / "bomb.xlsx", _BILLION_LAUGHS)
    fake = tmp_path / "list.xlsx"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200))
    for bad in (bomb, fake, tmp_path / "missing.csv"):
        out = tmp_path / f"out-{bad.stem}.xlsx"
        code, stdout, err = cli(store, "carol", "reconcile", "--national", str(bad), "--out",
                                str(out), "--json")
        assert code == 5, err
        assert stdout == "" and bad.name in err and "Traceback" not in err
        assert not out.exists()
    after = _state(path, store)
    assert after[0][1] == before[0][1]
    # Only the unlock that took this very measurement: the refused runs never opened the vault.
    assert after[1][len(before[1]):] == [("security", "unlock")]


def test_roles_and_usage(env: Any, tmp_path: Path) -> None:
    path, store, planted = env
    code, _out, err = cli(store, "vic", "reconcile", "--national", str(planted.listed.path),
                          "--out", str(tmp_path / "c.xlsx"))
    assert code == 4, err
    code, _out, err = cli(store, "carol", "reconcile", "--out", str(tmp_path / "c.xlsx"))
    assert code == 2
    code, _out, err = cli(store, "carol", "reconcile", "--national", str(planted.listed.path),
                          "--out", str(tmp_path / "c.xlsx"), "--recipient", " ")
    assert code == 5 and "recipient" in err
    assert not (tmp_path / "c.xlsx").exists()


def test_the_real_command(env: Any, tmp_path: Path) -> None:
    path, store, planted = env
    # The vault is not bound to the terminal, so a child process opens it with the passphrase.
    proc = run_cli("reconcile", "--national", str(planted.listed.path), "--out",
                   str(tmp_path / "c.xlsx"), "--json",
                   env={"CASEWARD_VAULT": str(path), "CASEWARD_USER": "carol",
                        "CASEWARD_PASSPHRASE": PASSPHRASE})
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)) == CONTRACT


def test_command_defaults_match_the_service_and_parsing_stays_light() -> None:
    """The parser repeats the service's defaults so that building it imports no service."""
    import subprocess
    import sys

    from app.commands import reconcile as command
    from app.services import reconcile as service

    assert command.DEFAULT_RECIPIENT == service.DEFAULT_RECIPIENT
    assert command.DEFAULT_JUSTIFICATION == service.DEFAULT_JUSTIFICATION
    code = (
        "import sys; from app.cli import build_parser; build_parser(); "
        "print('app.services.reconcile' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

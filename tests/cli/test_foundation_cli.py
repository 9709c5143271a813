"""The foundation's command-line contract: JSON shapes, exit codes, and errors without tracebacks.

Most cases run `app.cli.main` in-process (fast); the ones that depend on the process boundary
(the console script, the keyring backend chosen by environment, --version/--help, a backup taken
while another process holds the vault open) run `caseward` as a real child process."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from app import __version__
from app.paths import keyfile_path
from app.security.crypto import decode_recovery_key
from tests.conftest import PASSPHRASE, run_cli
from tests.security.support import Run, assert_failure, cw, open_raw, tamper_audit
from tests.support.cli_vaults import copy_vault

BOB_PASS = "bobs own long passphrase"


@dataclass
class CliVault:
    path: Path
    env: dict[str, str]
    recovery_key: str

    def as_user(self, user: str, passphrase: str) -> dict[str, str]:
        return {**self.env, "CASEWARD_USER": user, "CASEWARD_PASSPHRASE": passphrase}


@pytest.fixture(scope="module")
def cv_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An unbound vault made with `init --json` in-process, with bob (viewer) added."""
    path = tmp_path_factory.mktemp("template") / "v.cwv"
    env = {
        "CASEWARD_VAULT": str(path),
        "CASEWARD_USER": "alice",
        "CASEWARD_PASSPHRASE": PASSPHRASE,
    }
    run = cw("init", "--no-terminal-binding", "--json", env=env)
    assert run.rc == 0, run.err
    recovery = run.json()["recovery_key"]  # type: ignore[index]
    run = cw("user", "add", "bob", "--role", "viewer", env={**env,
             "CASEWARD_NEW_PASSPHRASE": BOB_PASS})
    assert run.rc == 0, run.err
    return path, recovery


@pytest.fixture
def cv(cv_template: tuple[Path, str], tmp_path: Path) -> CliVault:
    """A private copy of the template vault (creating one per test would dominate run time)."""
    template, recovery = cv_template
    path = copy_vault(template, tmp_path)
    env = {
        "CASEWARD_VAULT": str(path),
        "CASEWARD_USER": "alice",
        "CASEWARD_PASSPHRASE": PASSPHRASE,
    }
    return CliVault(path, env, recovery)


# -- process-level behaviour ---------------------------------------------------------------


def test_version_and_help_as_a_real_command() -> None:
    version = run_cli("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"caseward {__version__}"
    helped = run_cli("--help")
    assert helped.returncode == 0
    for command in ("init", "user", "rekey", "backup", "recover", "audit", "selfcheck"):
        assert command in helped.stdout
    assert helped.stderr == ""
    sub = run_cli("user", "--help")
    assert sub.returncode == 0 and "passwd" in sub.stdout


def test_init_json_shape_and_the_recovery_key_opens_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new.cwv"
    proc = run_cli("init", "--no-terminal-binding", "--json",
                   env={"CASEWARD_VAULT": str(path), "CASEWARD_USER": "alice",
                        "CASEWARD_PASSPHRASE": PASSPHRASE})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # nothing but JSON on stdout
    assert set(data) == {"vault", "user", "recovery_key", "terminal_bound"}
    assert data["vault"] == str(path) and data["user"] == "alice"
    assert data["terminal_bound"] is False
    assert "Traceback" not in proc.stderr
    conn = open_raw(path, data["recovery_key"])
    try:
        users = conn.execute("SELECT name, role FROM user_account").fetchall()
    finally:
        conn.close()
    assert users == [("alice", "admin")]


def test_init_with_an_insecure_keyring_needs_an_explicit_choice(tmp_path: Path) -> None:
    path = tmp_path / "new.cwv"
    env = {"CASEWARD_VAULT": str(path), "CASEWARD_USER": "alice",
           "CASEWARD_PASSPHRASE": PASSPHRASE,
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = run_cli("init", "--json", env=env)
    assert proc.returncode == 2
    assert "--no-terminal-binding" in proc.stderr and "keyring" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing was created
    proc = run_cli("init", "--json", "--no-terminal-binding", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["terminal_bound"] is False


def test_init_with_the_secure_fake_keyring_binds_the_vault(tmp_path: Path) -> None:
    path = tmp_path / "bound.cwv"
    ring = tmp_path / "ring.json"
    env = {"CASEWARD_VAULT": str(path), "CASEWARD_USER": "alice",
           "CASEWARD_PASSPHRASE": PASSPHRASE, "CASEWARD_TEST_KEYRING_FILE": str(ring)}
    proc = run_cli("init", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["terminal_bound"] is True
    assert json.loads(keyfile_path(path).read_text())["terminal_bound"] is True
    assert len(json.loads(ring.read_text())) == 1  # the terminal secret went to the keyring
    assert cw("user", "list", "--json", env=env).rc == 0
    # Another terminal: an empty keyring.
    other = cw("user", "list", env={**env, "CASEWARD_TEST_KEYRING_FILE": str(tmp_path / "x")})
    assert_failure(other, 3, "bound to another terminal", "recovery key")


@pytest.mark.parametrize(
    ("args", "extra", "code", "words"),
    [
        (("user", "list", "--bogus"), {}, 2, ("unrecognized",)),
        (("user", "list"), {"CASEWARD_VAULT": ""}, 2, ("--vault",)),
        (("user", "list"), {"CASEWARD_PASSPHRASE": "not the passphrase"}, 3, ("wrong passphrase",)),
        (("user", "add", "carol", "--role", "viewer"),
         {"CASEWARD_USER": "bob", "CASEWARD_PASSPHRASE": BOB_PASS,
          "CASEWARD_NEW_PASSPHRASE": "carols long passphrase"}, 4, ("viewer",)),
        (("user", "add", "carol", "--role", "viewer"),
         {"CASEWARD_NEW_PASSPHRASE": "short"}, 5, ("passphrase",)),
    ],
)
def test_exit_codes_through_the_real_command(
    cv: CliVault, args: tuple[str, ...], extra: dict[str, str], code: int, words: tuple[str, ...]
) -> None:
    proc = run_cli(*args, "--json", env={**cv.env, **extra})
    assert_failure(Run(proc.returncode, proc.stdout, proc.stderr), code, *words, json_mode=True)


def test_integrity_failure_through_the_real_command(cv: CliVault) -> None:
    tamper_audit(cv.path, cv.recovery_key, "UPDATE audit_entry SET reason = 'x' WHERE id = 2")
    proc = run_cli("audit", "verify", "--json", env=cv.env)
    assert proc.returncode == 6, proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout) == {"ok": False, "rows": 2, "first_bad": 2}


# -- exit codes in-process ------------------------------------------------------------------


def test_usage_errors(cv: CliVault) -> None:
    assert_failure(cw("user", "list", "--bogus", env=cv.env), 2, "unrecognized")
    assert_failure(cw("frobnicate", env=cv.env), 2, "invalid choice")
    assert_failure(cw("user", env=cv.env), 2, "required")
    assert_failure(cw("user", "add", "carol", env=cv.env), 2, "--role")
    assert_failure(cw("user", "list", env={**cv.env, "CASEWARD_VAULT": ""}), 2, "--vault")
    assert_failure(cw("user", "list", env={**cv.env, "CASEWARD_USER": ""}), 2, "--user")
    no_command = cw()
    assert no_command.rc == 2 and "init" in no_command.out


def test_vault_will_not_open(cv: CliVault, tmp_path: Path) -> None:
    assert_failure(cw("user", "list", env={**cv.env, "CASEWARD_PASSPHRASE": "wrong one here"}),
                   3, "wrong passphrase")
    assert_failure(cw("user", "list", env={**cv.env, "CASEWARD_USER": "mallory"}), 3,
                   "no account")
    assert_failure(cw("user", "list", "--vault", str(tmp_path / "none.cwv"), env=cv.env), 3,
                   "no vault")
    # Locked out: after three failures the right passphrase must wait.
    for _ in range(2):
        assert cw("user", "list", env={**cv.env, "CASEWARD_PASSPHRASE": "wrong one here"}).rc == 3
    assert_failure(cw("user", "list", env=cv.env), 3, "too many failed attempts", "try again")


def test_a_damaged_vault_file_exits_3_with_advice(cv: CliVault) -> None:
    data = bytearray(cv.path.read_bytes())
    data[100] ^= 0x01
    cv.path.write_bytes(bytes(data))
    assert_failure(cw("audit", "verify", "--json", env=cv.env), 3, "damaged", "backup",
                   json_mode=True)


def test_viewer_doing_admin_things_exits_4(cv: CliVault, tmp_path: Path) -> None:
    bob = cv.as_user("bob", BOB_PASS)
    for args in (
        ("user", "list"),
        ("user", "add", "carol", "--role", "admin"),
        ("user", "remove", "alice"),
        ("user", "passwd", "alice"),
        ("user", "role", "bob", "--role", "admin"),
        ("rekey",),
        ("backup", "--out", str(tmp_path / "b.cwv")),
        ("audit", "verify"),
        ("audit", "list"),
    ):
        run = cw(*args, "--json",
                 env={**bob, "CASEWARD_NEW_PASSPHRASE": "another long passphrase"})
        assert_failure(run, 4, "viewer", json_mode=True)
    assert not (tmp_path / "b.cwv").exists()
    # A viewer may change their own passphrase.
    run = cw("user", "passwd", "bob", env={**bob, "CASEWARD_NEW_PASSPHRASE": "bobs new phrase!"})
    assert run.rc == 0, run.err
    assert cw("audit", "verify", env=cv.as_user("bob", "bobs new phrase!")).rc == 4


def test_bad_input_names_the_field(cv: CliVault, tmp_path: Path) -> None:
    short = cw("user", "add", "carol", "--role", "viewer",
               env={**cv.env, "CASEWARD_NEW_PASSPHRASE": "short"})
    assert_failure(short, 5, "passphrase", "12 characters")
    bad_name = cw("user", "add", "9lives", "--role", "viewer",
                  env={**cv.env, "CASEWARD_NEW_PASSPHRASE": "carols long passphrase"})
    assert_failure(bad_name, 5, "user:")
    bad_date = cw("audit", "list", "--since", "2026-13-01", env=cv.env)
    assert_failure(bad_date, 5, "--since", "YYYY-MM-DD")
    init_short = cw("init", "--no-terminal-binding", "--vault", str(tmp_path / "n.cwv"),
                    env={**cv.env, "CASEWARD_PASSPHRASE": "short"})
    assert_failure(init_short, 5, "passphrase")
    assert not (tmp_path / "n.cwv").exists()
    missing_file = cw("user", "list", "--passphrase-file", str(tmp_path / "nope"), env=cv.env)
    assert_failure(missing_file, 5, "--passphrase-file")


def test_audit_tamper_exits_6(cv: CliVault) -> None:
    tamper_audit(cv.path, cv.recovery_key, "DELETE FROM audit_entry WHERE id = 3")
    run = cw("audit", "verify", env=cv.env)
    assert run.rc == 6
    assert "AUDIT CHAIN FAILED at row 4" in run.out and "missing" in run.out
    assert "Traceback" not in run.out + run.err


# -- the commands' behaviour ----------------------------------------------------------------


def test_user_add_list_remove_passwd(cv: CliVault) -> None:
    listed = cw("user", "list", "--json", env=cv.env)
    assert listed.rc == 0
    rows = listed.json()
    assert [(u["user"], u["role"], u["has_key_slot"]) for u in rows] == [  # type: ignore[union-attr,index]
        ("alice", "admin", True), ("bob", "viewer", True)]
    assert set(rows[0]) == {  # type: ignore[index]
        "user", "role", "display_name", "created", "last_login", "has_key_slot"}
    # Duplicate names are refused as bad input.
    dup = cw("user", "add", "bob", "--role", "admin",
             env={**cv.env, "CASEWARD_NEW_PASSPHRASE": "some long passphrase"})
    assert_failure(dup, 5, "already exists")
    # passwd: bob's old passphrase stops working, the new one works.
    changed = cw("user", "passwd", "bob", "--json",
                 env={**cv.env, "CASEWARD_NEW_PASSPHRASE": "bobs second phrase"})
    assert changed.rc == 0 and changed.json() == {"user": "bob", "changed": True}
    assert cw("user", "passwd", "bob", env=cv.as_user("bob", BOB_PASS)).rc == 3
    assert cw("user", "passwd", "bob", env={**cv.as_user("bob", "bobs second phrase"),
                                            "CASEWARD_NEW_PASSPHRASE": "bobs third phrase"}).rc == 0
    # remove: the slot goes, and bob can no longer open the vault.
    removed = cw("user", "remove", "bob", "--reason", "left the team", "--json", env=cv.env)
    assert removed.rc == 0 and removed.json() == {"removed": "bob"}
    assert "bob" not in json.loads(keyfile_path(cv.path).read_text())["slots"]
    assert_failure(cw("user", "list", env=cv.as_user("bob", "bobs third phrase")), 3,
                   "no account")
    names = [u["user"] for u in cw("user", "list", "--json", env=cv.env).json()]  # type: ignore[union-attr,index]
    assert names == ["alice"]
    assert_failure(cw("user", "remove", "alice", env=cv.env), 5, "your own account")
    assert_failure(cw("user", "remove", "nobody", env=cv.env), 5, "no active account")
    actions = [r["action"] for r in cw("audit", "list", "--json", env=cv.env).json()]  # type: ignore[union-attr,index]
    assert actions.count("user.passphrase") == 2 and actions.count("user.remove") == 1


def test_rekey_retires_old_key_files_and_recovery_keys(cv: CliVault, tmp_path: Path) -> None:
    old_keys = tmp_path / "old.keys"
    shutil.copy(keyfile_path(cv.path), old_keys)
    run = cw("rekey", "--json", env=cv.env)
    assert run.rc == 0, run.err
    data = run.json()
    assert set(data) == {"rekeyed", "recovery_key", "users_needing_passphrase"}  # type: ignore[arg-type]
    assert data["users_needing_passphrase"] == ["bob"]  # type: ignore[index]
    new_recovery = data["recovery_key"]  # type: ignore[index]
    assert decode_recovery_key(new_recovery) != decode_recovery_key(cv.recovery_key)
    assert cw("audit", "verify", env=cv.env).rc == 0
    assert_failure(cw("user", "list", env=cv.as_user("bob", BOB_PASS)), 3, "no account")
    # A copy of the old key file no longer opens the vault.
    current = keyfile_path(cv.path).read_bytes()
    shutil.copy(old_keys, keyfile_path(cv.path))
    assert_failure(cw("user", "list", env=cv.env), 3, "old copy", "recovery key")
    keyfile_path(cv.path).write_bytes(current)
    assert cw("user", "list", env=cv.env).rc == 0
    # The old recovery key no longer works; the new one does.
    key_file = tmp_path / "recovery.txt"
    key_file.write_text(cv.recovery_key + "\n")
    env = {**cv.env, "CASEWARD_NEW_PASSPHRASE": "recovered passphrase"}
    old = cw("recover", "--recovery-key-file", str(key_file), "--no-terminal-binding", env=env)
    assert_failure(old, 3, "recovery key does not open")
    key_file.write_text(new_recovery + "\n")
    new = cw("recover", "--recovery-key-file", str(key_file), "--no-terminal-binding", env=env)
    assert new.rc == 0, new.err
    assert cw("user", "list", env=cv.as_user("alice", "recovered passphrase")).rc == 0


def test_backup_while_the_vault_is_in_use(cv: CliVault, tmp_path: Path) -> None:
    from app.services.users import UserService
    from app.services.vault import unlock_vault
    from app.store.models import User

    in_use = unlock_vault(cv.path, "alice", PASSPHRASE, secret_store=_store())
    try:
        UserService(in_use).add_user("carol", "analyst", "carols long passphrase")
        with in_use.read() as s:
            s.query(User).all()  # a read transaction stays open during the backup
            out = tmp_path / "copy.cwv"
            proc = run_cli("backup", "--out", str(out), "--json", env=cv.env)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == {"backup": str(out), "keyfile": f"{out}.keys"}
    finally:
        in_use.lock()
    assert keyfile_path(out).exists()
    assert not list(tmp_path.glob(".*part*"))
    src, dst = open_raw(cv.path, cv.recovery_key), open_raw(out, cv.recovery_key)
    try:
        for table in ("user_account", "audit_entry", "vault_meta"):
            copied = dst.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            original = src.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            assert copied == original[: len(copied)] and copied
        assert [r[0] for r in dst.execute("SELECT name FROM user_account ORDER BY name")] == [
            "alice", "bob", "carol"]
    finally:
        src.close()
        dst.close()
    # The copy opens with its own key file and proves its own audit chain.
    backup_env = {**cv.env, "CASEWARD_VAULT": str(out)}
    verified = cw("audit", "verify", "--json", env=backup_env)
    assert verified.rc == 0 and verified.json()["ok"] is True, verified.out  # type: ignore[index]
    assert_failure(cw("backup", "--out", str(out), env=cv.env), 5, "already exists")


def test_recover_after_losing_the_key_file(cv: CliVault, tmp_path: Path) -> None:
    keyfile_path(cv.path).unlink()
    assert_failure(cw("user", "list", env=cv.env), 3, "key file", "recovery key")
    key_file = tmp_path / "rk.txt"
    key_file.write_text(cv.recovery_key.lower().replace("-", " ") + "\n")  # as typed
    env = {**cv.env, "CASEWARD_NEW_PASSPHRASE": "a brand new passphrase"}
    assert_failure(cw("recover", "--recovery-key-file", str(key_file), "--no-terminal-binding",
                      env={**env, "CASEWARD_USER": "bob"}), 3, "admin")
    run = cw("recover", "--recovery-key-file", str(key_file), "--no-terminal-binding", "--json",
             env=env)
    assert run.rc == 0, run.err
    assert run.json() == {"recovered": True, "user": "alice"}
    assert_failure(cw("user", "list", env=cv.env), 3, "wrong passphrase")
    alice = cv.as_user("alice", "a brand new passphrase")
    users = cw("user", "list", "--json", env=alice).json()
    assert {u["user"]: u["has_key_slot"] for u in users} == {"alice": True, "bob": False}  # type: ignore[union-attr,index]
    assert cw("audit", "verify", env=alice).rc == 0
    key_file.write_text("0000-1111\n")
    assert_failure(cw("recover", "--recovery-key-file", str(key_file), "--no-terminal-binding",
                      env=env), 5, "recovery key")


def test_audit_verify_and_list(cv: CliVault) -> None:
    run = cw("audit", "verify", "--json", env=cv.env)
    assert run.rc == 0
    data = run.json()
    assert set(data) == {"ok", "rows", "first_bad"}  # type: ignore[arg-type]
    assert data["ok"] is True and data["first_bad"] is None and data["rows"] >= 4  # type: ignore[index]
    text = cw("audit", "verify", env=cv.env)
    assert text.rc == 0 and "intact" in text.out
    today = date.today()
    rows = cw("audit", "list", "--since", (today - timedelta(days=1)).isoformat(), "--json",
              env=cv.env).json()
    assert isinstance(rows, list) and [r["action"] for r in rows][:2] == [
        "vault.create", "user.add"]
    assert {"id", "at", "user", "category", "action", "reason", "recipient", "detail"} <= set(
        rows[0])
    later = cw("audit", "list", "--since", (today + timedelta(days=2)).isoformat(), "--json",
               env=cv.env)
    assert later.rc == 0 and later.json() == []
    human = cw("audit", "list", env=cv.env)
    assert human.rc == 0 and "vault.create" in human.out


def test_json_output_is_only_json(cv: CliVault, tmp_path: Path) -> None:
    for args in (("user", "list"), ("audit", "verify"), ("audit", "list"),
                 ("backup", "--out", str(tmp_path / "j.cwv")), ("selfcheck",)):
        run = cw(*args, "--json", env=cv.env)
        assert run.rc in (0, 6), run.err  # selfcheck flags the test-only fast KDF
        json.loads(run.out)
        assert run.out.count("\n") == 1


def _store() -> object:
    from app.security.secrets import KeyringSecretStore

    return KeyringSecretStore()


def test_a_damaged_vault_through_the_real_command_says_one_thing(cv: CliVault) -> None:
    """Only our message reaches stderr: not SQLCipher's own log lines, not a traceback."""
    data = bytearray(cv.path.read_bytes())
    data[7] ^= 0x5A  # the file's salt: page 1 no longer decrypts
    cv.path.write_bytes(bytes(data))
    proc = run_cli("user", "list", "--json", env=cv.env)
    assert proc.returncode == 3
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("caseward: "), proc.stderr
    assert "damaged" in lines[0] and "backup" in lines[0]

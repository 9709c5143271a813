"""A marker planted in the vault never appears in plaintext in any file Caseward writes: the
database, its -wal and -shm, the key file, a backup, the logs, or temporary files."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from app.paths import keyfile_path
from app.security.audit import Category
from app.security.secrets import MemorySecretStore
from app.services.users import UserService
from app.services.vault import unlock_vault
from tests.conftest import PASSPHRASE, run_cli
from tests.security.support import cw, files_under, plaintext_hits

MARKER = "Zebedee-Quarrington-7731"  # synthetic; never a real person


def _system_temp_entries() -> set[str]:
    # Only names SQLite or Caseward would use: other processes share the system temp folder.
    folder = Path(tempfile.gettempdir())
    return {p.name for p in folder.iterdir()
            if p.name.startswith(("etilqs_", "sqlite_", ".caseward-"))}


def test_the_scanner_finds_plaintext(tmp_path: Path) -> None:
    """Control: the same scan does find the marker in an unencrypted SQLite file."""
    conn = sqlite3.connect(tmp_path / "plain.db")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (?)", (MARKER,))
    conn.commit()
    conn.close()
    (tmp_path / "u16.txt").write_bytes(MARKER.encode("utf-16-le"))
    assert len(plaintext_hits(MARKER, files_under(tmp_path))) == 2


def test_no_plaintext_marker_on_disk(tmp_path: Path) -> None:
    home = tmp_path / "home"
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    path = tmp_path / "vault" / "m.cwv"
    path.parent.mkdir()
    env = {
        "CASEWARD_HOME": str(home),
        "CASEWARD_VAULT": str(path),
        "CASEWARD_USER": "alice",
        "CASEWARD_PASSPHRASE": PASSPHRASE,
        "CASEWARD_NEW_PASSPHRASE": "carols long passphrase",
        # Child processes get a temp folder of their own, which must stay empty.
        "TMPDIR": str(private_tmp),
        "SQLITE_TMPDIR": str(private_tmp),
    }
    system_before = _system_temp_entries()
    assert run_cli("init", "--no-terminal-binding", env=env).returncode == 0
    proc = run_cli("user", "add", "carol", "--role", "analyst", "--display-name",
                   f"Carol {MARKER}", env=env)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("user", "remove", "carol", "--reason", f"left: {MARKER}", env=env)
    assert proc.returncode == 0, proc.stderr

    # Now in this process, with the vault open and a write still in the WAL.
    with_env = {k: v for k, v in env.items() if k not in ("TMPDIR", "SQLITE_TMPDIR")}
    vault = unlock_vault(path, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    try:
        UserService(vault).add_user("dave", "viewer", "daves long passphrase",
                                    display_name=f"Dave {MARKER}")
        with vault.write() as s:
            vault.audit(s, Category.DISCLOSURE, "test.export", ref="NM-000001",
                        reason=f"because {MARKER}", recipient=f"{MARKER} Agency",
                        detail={"note": MARKER * 20})
            vault.revision(s, "test", 1, "update", {"notes": ("", MARKER * 50)})
        wal = Path(f"{path}-wal")
        assert wal.exists() and wal.stat().st_size > 0  # the scan below covers a live WAL
        assert Path(f"{path}-shm").exists()
        live = files_under(tmp_path)
        assert plaintext_hits(MARKER, live) == []
        backup = tmp_path / "vault" / "copy.cwv"
        proc = run_cli("backup", "--out", str(backup), env=env)
        assert proc.returncode == 0, proc.stderr
    finally:
        vault.lock()
    # The marker's rows are really in there (read back through the key)...
    listed = cw("audit", "list", "--json", env=with_env)
    assert MARKER in listed.out
    # ...and a failing command's message and log do not carry it.
    assert cw("user", "remove", MARKER, env=with_env).rc == 5

    files = files_under(tmp_path, home, Path(os.environ["CASEWARD_HOME"]))
    names = {p.name for p in files}
    assert {"m.cwv", "m.cwv.keys", "copy.cwv", "copy.cwv.keys"} <= names
    assert keyfile_path(path) in files
    assert plaintext_hits(MARKER, files) == []
    assert list(private_tmp.iterdir()) == []  # nothing was written to the temp folder
    assert _system_temp_entries() - system_before == set()

"""Schema versioning: the Alembic scripts, the models and the vault agree; a newer vault is
refused; an older one is backed up (encrypted) before it is upgraded."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.domain.errors import VaultTooNew
from app.paths import keyfile_path
from app.security.secrets import MemorySecretStore
from app.services.vault import _backup_before_migration, create_vault, unlock_vault
from app.store import schema
from app.store.engine import make_engine
from app.store.models import EXTRA_DDL, Base
from tests.conftest import PASSPHRASE
from tests.security.support import assert_failure, cw, files_under, open_raw, plaintext_hits

MARKER = "Ottoline-Marchbanks-5521"  # synthetic


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("mig") / "m.cwv"
    vault, recovery = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                                   secret_store=MemorySecretStore())
    vault.lock()
    return path, recovery


@pytest.fixture
def copy(fresh: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / fresh[0].name
    shutil.copy(fresh[0], path)
    shutil.copy(keyfile_path(fresh[0]), keyfile_path(path))
    return path, fresh[1]


def test_known_revisions_match_the_alembic_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(schema.MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(cfg)
    assert len(scripts.get_heads()) == 1, "the migrations have branched"
    chain = [rev.revision for rev in scripts.walk_revisions()][::-1]  # oldest first
    assert tuple(chain) == schema.KNOWN_REVISIONS
    assert scripts.get_current_head() == schema.SCHEMA_HEAD


def _virtual_tables() -> set[str]:
    names = set()
    for ddl in EXTRA_DDL:
        match = re.search(r"CREATE\s+VIRTUAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", ddl, re.I)
        if match:
            names.add(match.group(1))
    return names


def test_a_fresh_vault_matches_the_models_exactly(fresh: tuple[Path, str]) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.security.crypto import decode_recovery_key

    virtual = _virtual_tables()

    def include_name(name: str | None, type_: str, _parent: object) -> bool:
        if type_ == "table" and name is not None:
            # FTS tables and their shadow tables come from EXTRA_DDL, not from the models.
            return not any(name == v or name.startswith(f"{v}_") for v in virtual)
        return True

    engine = make_engine(fresh[0], decode_recovery_key(fresh[1]))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"include_name": include_name, "compare_type": True}
            )
            diff = compare_metadata(ctx, Base.metadata)
            tables = {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        engine.dispose()
    assert diff == [], "run scripts/regen_baseline.py: the baseline no longer matches the models"
    assert set(Base.metadata.tables) <= tables
    assert virtual <= tables  # the EXTRA_DDL was replayed too


def test_a_newer_vault_is_refused(copy: tuple[Path, str]) -> None:
    path, recovery = copy
    conn = open_raw(path, recovery)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(VaultTooNew, match="newer version of Caseward"):
        unlock_vault(path, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    run = cw("user", "list", env={"CASEWARD_VAULT": str(path), "CASEWARD_USER": "alice",
                                  "CASEWARD_PASSPHRASE": PASSPHRASE})
    assert_failure(run, 3, "newer version", "9999_from_the_future")
    assert path.read_bytes() == before  # refused before anything was written
    assert not list(path.parent.glob("*.bak"))


def test_a_vault_with_no_schema_is_damage(copy: tuple[Path, str]) -> None:
    path, recovery = copy
    conn = open_raw(path, recovery)
    conn.execute("DROP TABLE alembic_version")
    conn.commit()
    conn.close()
    run = cw("user", "list", env={"CASEWARD_VAULT": str(path), "CASEWARD_USER": "alice",
                                  "CASEWARD_PASSPHRASE": PASSPHRASE})
    assert_failure(run, 3, "no schema")


def test_the_pre_migration_backup_is_encrypted_and_complete(copy: tuple[Path, str]) -> None:
    from app.security.audit import Category
    from app.security.crypto import decode_recovery_key

    path, recovery = copy
    vault = unlock_vault(path, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    with vault.write() as s:
        vault.audit(s, Category.SECURITY, "test.mark", reason=MARKER)
    vault.lock()
    _backup_before_migration(path, decode_recovery_key(recovery), "0001")
    (bak,) = path.parent.glob("m.cwv.pre-0001-*.bak")
    assert plaintext_hits(MARKER, files_under(path.parent)) == []
    conn = open_raw(bak, recovery)
    try:
        reasons = [r[0] for r in conn.execute("SELECT reason FROM audit_entry")]
        assert MARKER in reasons
    finally:
        conn.close()
    import sqlite3

    with pytest.raises(sqlite3.DatabaseError):  # not readable without the key
        sqlite3.connect(bak).execute("SELECT count(*) FROM sqlite_master").fetchone()


def test_an_older_vault_is_backed_up_before_the_upgrade_runs(
    copy: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """There is no released older schema yet, so the upgrade itself is a spy: what this
    proves is the order (backup first) and that the upgrade runs on unlock."""
    path, _ = copy
    seen: list[list[str]] = []
    monkeypatch.setattr(schema, "needs_upgrade", lambda revision: True)
    monkeypatch.setattr(
        schema, "upgrade", lambda conn: seen.append(sorted(p.name for p in path.parent.iterdir()))
    )
    unlock_vault(path, "alice", PASSPHRASE, secret_store=MemorySecretStore()).lock()
    assert len(seen) == 1
    assert any(name.startswith("m.cwv.pre-0001-") and name.endswith(".bak") for name in seen[0])


def _master(conn: object) -> list[tuple[str, str, str, str | None]]:
    return [tuple(r) for r in conn.exec_driver_sql(  # type: ignore[attr-defined]
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")]


def test_a_new_vault_replays_exactly_the_schema_the_migrations_make(
    fresh: tuple[Path, str], tmp_path: Path
) -> None:
    """create_vault replays the migrations' DDL instead of running them: the result must be the
    same database schema as running them on an empty keyed file, object for object (tables,
    indexes, the FTS table and its shadow tables, SQLite's own), at the same revision."""
    import secrets

    from app.security.crypto import decode_recovery_key

    migrated = make_engine(tmp_path / "migrated.db", secrets.token_bytes(32), immediate=True)
    replayed = make_engine(fresh[0], decode_recovery_key(fresh[1]))
    try:
        with migrated.begin() as conn:
            schema.upgrade(conn)
        with migrated.connect() as a, replayed.connect() as b:
            expected, got = _master(a), _master(b)
            assert schema.current_revision(b) == schema.current_revision(a) == schema.SCHEMA_HEAD
        assert len(expected) > 150
        assert got == expected
        assert any(name == "nominal_search_data" for _t, name, _n, _s in got)  # FTS shadow
    finally:
        migrated.dispose()
        replayed.dispose()


def test_the_replay_refuses_a_database_that_is_not_empty(copy: tuple[Path, str]) -> None:
    from app.security.crypto import decode_recovery_key

    engine = make_engine(copy[0], decode_recovery_key(copy[1]), immediate=True)
    before = copy[0].read_bytes()
    try:
        with pytest.raises(RuntimeError, match="empty"), engine.begin() as conn:
            schema.create_fresh(conn)
    finally:
        engine.dispose()
    assert copy[0].read_bytes() == before

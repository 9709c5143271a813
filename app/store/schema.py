"""Schema versioning: which revision a vault is at, upgrading it, refusing a newer one."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import StaticPool

from app.domain.errors import VaultTooNew

# Every revision this build knows, oldest first; the last is the head. A test checks that this
# list agrees with the Alembic scripts, so it cannot drift.
KNOWN_REVISIONS: tuple[str, ...] = ("0001",)
SCHEMA_HEAD = KNOWN_REVISIONS[-1]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    has_table = conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'")
    ).first()
    if not has_table:
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def needs_upgrade(revision: str | None) -> bool:
    """True if the vault is older than this build; raises VaultTooNew if it is newer."""
    if revision == SCHEMA_HEAD:
        return False
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise VaultTooNew(
            "This vault was written by a newer version of Caseward (schema "
            f"{revision}); this version knows up to {SCHEMA_HEAD}. Use the newer version."
        )
    return True


def alembic_config(conn: Connection) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(conn: Connection) -> None:
    """Bring the schema to SCHEMA_HEAD (the caller takes a backup first)."""
    from alembic import command

    command.upgrade(alembic_config(conn), SCHEMA_HEAD)  # type: ignore[arg-type]


# --- a new vault's schema -----------------------------------------------------------------------
#
# Running the migrations costs ~0.4 s of CPU (Alembic steps through ~750 operations); a new vault
# instead replays the DDL those migrations leave behind, read once per process from a private
# in-memory database (schema only: no record data exists there). A test holds a replayed vault's
# schema equal, statement for statement, to one made by the migrations.

_fresh_ddl: tuple[str, ...] | None = None
_fresh_lock = threading.Lock()


def _shadow_tables(rows: list[tuple[str, str, str]]) -> set[str]:
    """Tables SQLite makes for a virtual table by itself (FTS5's _data, _idx, _config...)."""
    virtual = [name for _type, name, sql in rows
               if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    return {name for _type, name, _sql in rows
            if any(name.startswith(f"{v}_") for v in virtual)}


def schema_ddl(conn: Connection) -> tuple[str, ...]:
    """The statements that rebuild ``conn``'s schema, in the order SQLite recorded them: what
    ``sqlite_master`` holds, less SQLite's own objects and virtual tables' shadow tables."""
    rows = [(str(t), str(n), str(q)) for t, n, q in conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    shadow = _shadow_tables(rows)
    return tuple(sql for _type, name, sql in rows
                 if not name.startswith("sqlite_") and name not in shadow)


def _head_ddl() -> tuple[str, ...]:
    global _fresh_ddl
    with _fresh_lock:
        if _fresh_ddl is None:
            import sqlcipher3.dbapi2 as driver

            engine = create_engine("sqlite+pysqlite://", creator=lambda: driver.connect(":memory:"),
                                   poolclass=StaticPool)
            try:
                with engine.begin() as conn:
                    upgrade(conn)
                    _fresh_ddl = schema_ddl(conn)
            finally:
                engine.dispose()
        return _fresh_ddl


def create_fresh(conn: Connection) -> None:
    """Give an empty database the schema at SCHEMA_HEAD (a new vault): the migrations' DDL,
    replayed, and the Alembic version row, so that later migrations apply as usual."""
    if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar():
        raise RuntimeError("create_fresh needs an empty database")
    for statement in _head_ddl():
        conn.exec_driver_sql(statement)
    conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                 {"head": SCHEMA_HEAD})

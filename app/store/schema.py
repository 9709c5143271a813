"""Schema versioning: which revision a vault is at, upgrading it, refusing a newer one."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

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

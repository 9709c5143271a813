"""SQLCipher engines for a vault: raw key, hardened pragmas, fail closed without the cipher."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from app.domain.errors import VaultDamaged

BUSY_TIMEOUT_MS = 30_000
# With cipher_memory_security ON, SQLCipher mlock()s and munlock()s every allocation that SQLite
# does not serve from the connection's lookaside slab. Each prepared statement kept in the
# driver's statement cache pins some of that slab; with the driver's default (128 statements)
# the slab runs out and every row written or read pays two system calls per allocation
# (measured: 14 per inserted row, 350 us/row of CPU instead of 20-30). A small cache keeps the
# slab free; re-preparing a statement costs a few microseconds.
STATEMENT_CACHE = 8
# The write engine's page cache, in KiB. The bundled SQLite's default (8,000 KiB) is smaller
# than what a bulk write touches (200,000 nominal rows with five indexes: ~80 MB of pages);
# each page spilled from the cache mid-transaction and read back costs SQLCipher an
# encryption, an HMAC and a decryption that plain SQLite does not pay (measured at 200k rows:
# 1.66x plain SQLite's CPU with the default cache, 1.05x with this one; bench_foundation).
# A write connection hands its pages back to the heap when it returns to the pool (see
# make_engine), so caches do not pile up between writes.
WRITE_CACHE_KIB = 65_536
# Every other connection's page cache, in KiB. The default 8,000 KiB is smaller than what one
# 90-day calendar query reads at 100,000 nominals (the contact-plan index, the dated nominal
# indexes, the referral rows): each call then reads and decrypts again the pages the last call
# dropped (measured: 216 ms with the default, 189 ms with 16 MiB, 191 ms with 32 MiB, 188 ms
# with 64 MiB). The cache fills only with pages actually read (the window's peak RSS grew by
# ~50 MB with 32 MiB, whose pages bought nothing more), and a read connection is dropped when
# the vault locks.
READ_CACHE_KIB = 16_384
# Every connection's pragmas after the key (cipher_memory_security is set before them); the
# benchmark's plain-SQLite baseline uses this very list.
PRAGMAS: tuple[str, ...] = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA secure_delete = ON",
    "PRAGMA foreign_keys = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    f"PRAGMA cache_size = -{READ_CACHE_KIB}",
)


def write_pragmas() -> tuple[str, ...]:
    """The pragmas of a write-engine connection: PRAGMAS and the larger page cache (the later
    ``cache_size`` wins)."""
    return (*PRAGMAS, f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")


class CipherNotActive(RuntimeError):
    """The SQLite library in use is not SQLCipher: refuse rather than write plaintext."""


def _create_private(path: Path) -> None:
    """Create a new database file empty and owner-only (0600) before SQLite opens it.

    SQLite would create it 0644 (less the umask), and it gives the -wal and -shm files the
    database file's own mode, so this one call keeps all three private. An existing file is
    left as it is; any other failure is left for SQLite to report as it always has."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return
    os.close(fd)


def _connect(path: Path, hex_key: str, pragmas: tuple[str, ...] = PRAGMAS) -> Any:
    import sqlcipher3.dbapi2 as sqlcipher

    _create_private(path)
    conn = sqlcipher.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                             cached_statements=STATEMENT_CACHE)
    try:
        # SQLCipher logs decryption failures to stderr by itself; a damaged file is reported to
        # the user through VaultDamaged instead (the setting is process-wide and needs no key).
        conn.execute("PRAGMA cipher_log_level = NONE").fetchall()
        # The key must be the first statement that touches the database.
        conn.execute(f"PRAGMA key = \"x'{hex_key}'\"")
        row = conn.execute("PRAGMA cipher_version").fetchone()
        if not row or not row[0]:
            raise CipherNotActive("SQLCipher is not active; refusing to open an unencrypted store")
        conn.execute("PRAGMA cipher_memory_security = ON")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError as exc:
            raise VaultDamaged(
                "The vault file is damaged or is not a Caseward vault: it could not be read with "
                "its key. Restore it from a backup; nothing was changed."
            ) from exc
        for pragma in pragmas:
            conn.execute(pragma).fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


def _render_sqlite_table_hints() -> None:
    """SQLAlchemy's SQLite compiler drops `with_hint(..., dialect_name="sqlite")` table hints;
    render them (`nominal INDEXED BY ix_...`) so the few index choices we pin take effect."""
    from sqlalchemy.dialects.sqlite.base import SQLiteCompiler

    def get_from_hint_text(self: SQLiteCompiler, table: Any, text: str) -> str:
        return text

    SQLiteCompiler.get_from_hint_text = get_from_hint_text  # type: ignore[method-assign,assignment]


def make_engine(path: Path, data_key: bytes, *, immediate: bool = False) -> Engine:
    """An engine whose every connection is keyed with `data_key`.

    `immediate=True` makes every transaction BEGIN IMMEDIATE: writers take the write lock at
    the start, so read-then-write sequences (the audit chain's previous hash) cannot interleave."""
    _render_sqlite_table_hints()
    hex_key = data_key.hex()
    pragmas = write_pragmas() if immediate else PRAGMAS

    def creator() -> Any:
        return _connect(path, hex_key, pragmas)

    engine = create_engine(
        "sqlite+pysqlite://",
        creator=creator,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
        # Hand out the connection used last: its page cache holds the pages just read, where a
        # FIFO pool would rotate through connections whose caches are cold (each page then read
        # again and decrypted again).
        pool_use_lifo=True,
        hide_parameters=True,  # never let record data reach an exception message or a log
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's own BEGIN below decide transaction boundaries.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    if immediate:
        @event.listens_for(engine, "checkin")
        def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
            # The large cache serves a transaction, not the connection's life in the pool:
            # back in the pool, a write connection returns its cached pages to the heap.
            if dbapi_connection is not None:
                with contextlib.suppress(Exception):  # a broken connection fails its next use
                    dbapi_connection.execute("PRAGMA shrink_memory").fetchall()

    return engine


def raw_connection(path: Path, data_key: bytes) -> Any:
    """A keyed DB-API connection (for backup, rekey and checkpoints)."""
    return _connect(path, data_key.hex())

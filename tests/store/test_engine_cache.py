"""The write engine's larger page cache (bulk writes under SQLCipher) and the read engine's
own (a 90-day calendar query's pages); a write connection hands its pages back when it returns
to the pool."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import text

from app.store.engine import (
    PRAGMAS,
    READ_CACHE_KIB,
    WRITE_CACHE_KIB,
    make_engine,
    raw_connection,
    write_pragmas,
)


def test_write_engine_has_the_large_cache_and_read_engine_its_own(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    path = tmp_path / "cache.db"
    writer, reader = make_engine(path, key, immediate=True), make_engine(path, key)
    try:
        with writer.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -WRITE_CACHE_KIB
            # every pragma the design requires is still there on the write connections
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert str(conn.exec_driver_sql("PRAGMA cipher_memory_security").scalar()) == "1"
        with reader.connect() as conn:
            # larger than the library's default (8,000 KiB), smaller than a writer's
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -READ_CACHE_KIB
            assert 8_000 < READ_CACHE_KIB < WRITE_CACHE_KIB
        raw = raw_connection(path, key)
        try:
            assert raw.execute("PRAGMA cache_size").fetchone()[0] == -READ_CACHE_KIB
        finally:
            raw.close()
        assert set(PRAGMAS) < set(write_pragmas())
    finally:
        writer.dispose()
        reader.dispose()


def test_writes_after_the_cache_is_handed_back(tmp_path: Path) -> None:
    """Checkin runs PRAGMA shrink_memory: the next transaction on the same pooled connection
    reads its pages again and sees every committed row."""
    key = secrets.token_bytes(32)
    engine = make_engine(tmp_path / "shrink.db", key, immediate=True)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            conn.exec_driver_sql("CREATE INDEX ix_t_v ON t (v)")
        for batch in range(3):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t (v) VALUES (:v)"),
                             [{"v": f"value {batch}-{i}"} for i in range(2000)])
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 6000
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()

"""Helpers for security tests: reach a vault's database directly, as an attacker with the key
would, and scan files for a plaintext marker."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from app.cli import main
from app.security.crypto import decode_recovery_key


def open_raw(path: Path, recovery_key: str) -> Any:
    """A sqlcipher3 connection keyed with the vault's data key (from its recovery key)."""
    import sqlcipher3.dbapi2 as sqlcipher

    key = decode_recovery_key(recovery_key)
    conn = sqlcipher.connect(str(path))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def tamper_audit(path: Path, recovery_key: str, *statements: str) -> None:
    """Run SQL against the vault outside Caseward and commit it."""
    conn = open_raw(path, recovery_key)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def files_under(*roots: Path) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found += [p for p in root.rglob("*") if p.is_file()]
    return sorted(found)


def encodings(marker: str) -> list[bytes]:
    """The ways a string can sit in a file as plaintext."""
    return [marker.encode("utf-8"), marker.encode("utf-16-le"), marker.encode("utf-16-be"),
            marker.upper().encode("utf-8"), marker.lower().encode("utf-8")]


def plaintext_hits(marker: str, files: list[Path]) -> list[str]:
    hits = []
    needles = encodings(marker)
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if any(n in data for n in needles):
            hits.append(str(path))
    return hits


@dataclass
class Run:
    rc: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


def cw(*args: str, env: dict[str, str] | None = None) -> Run:
    """`caseward ARGS` in-process, with extra environment."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}):
        rc = main(list(args), stdout=out, stderr=err)
    return Run(rc, out.getvalue(), err.getvalue())


def assert_failure(run: Run, code: int, *words: str, json_mode: bool = False) -> None:
    """A failure: the right code, a message on stderr, never a traceback, stdout clean."""
    assert run.rc == code, (run.rc, run.err)
    assert "Traceback" not in run.err and "Traceback" not in run.out
    assert run.err.startswith("caseward: ") or run.err.startswith("usage: "), run.err
    for word in words:
        assert word.lower() in run.err.lower(), (word, run.err)
    if json_mode and run.out.strip():
        json.loads(run.out)  # with --json, stdout holds JSON or nothing
    elif not json_mode:
        assert "Traceback" not in run.out

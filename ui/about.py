"""Help > About: versions of Caseward, SQLCipher, Qt and Python."""

from __future__ import annotations

import platform
from functools import cache

import PySide6
from PySide6.QtCore import qVersion

from app import __version__


@cache
def sqlcipher_version() -> str:
    """Ask the bundled SQLCipher for its version (an in-memory database; no vault touched)."""
    try:
        import sqlcipher3.dbapi2 as sqlcipher

        conn = sqlcipher.connect(":memory:")
        try:
            conn.execute("PRAGMA key = \"x'" + "00" * 32 + "'\"")
            row = conn.execute("PRAGMA cipher_version").fetchone()
        finally:
            conn.close()
        return str(row[0]) if row and row[0] else "not active"
    except Exception:  # a diagnostic: report rather than fail
        return "unavailable"


def about_text() -> str:
    return (
        f"Caseward {__version__}\n"
        "Offline workbench for counter-terrorism nominal management and Prevent case intake.\n\n"
        f"SQLCipher {sqlcipher_version()}\n"
        f"Qt {qVersion()} (PySide6 {PySide6.__version__})\n"
        f"Python {platform.python_version()}\n\n"
        "Every record is kept in one encrypted vault on this terminal."
    )

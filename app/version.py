"""The app's version and the git commit a packaged build was made from (stamped at build time)."""

from __future__ import annotations

import importlib

from app import __version__

UNKNOWN = "unknown"


def build_commit() -> str:
    """The commit recorded by packaging/build-offline-bundle in app/_build_info.py, or "unknown"
    when running from a source tree (that module is generated into the build's copy only)."""
    try:
        info = importlib.import_module("app._build_info")
    except ImportError:
        return UNKNOWN
    commit = getattr(info, "COMMIT", None)
    return commit if isinstance(commit, str) and commit else UNKNOWN


def version_text() -> str:
    """`0.1.0` from a source tree, `0.1.0 (commit 1a2b3c4d5e6f)` from a packaged build (with
    `, modified` when it was built from a working tree with uncommitted changes)."""
    commit = build_commit()
    if commit == UNKNOWN:
        return __version__
    dirty = commit.endswith("-dirty")
    return f"{__version__} (commit {commit[:12]}{', modified' if dirty else ''})"

"""Where Caseward keeps its files: one module, one test override (CASEWARD_HOME)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def home() -> Path:
    """The per-user folder for settings, logs and the default vault location.

    CASEWARD_HOME overrides it (tests point it at a temporary folder so that they never touch the
    real home directory)."""
    override = os.environ.get("CASEWARD_HOME")
    if override:
        return Path(override)
    import platformdirs  # imported late: start-up time matters for the command line

    return Path(platformdirs.user_data_dir("caseward", appauthor=False))


def log_dir() -> Path:
    return home() / "logs"


def default_vault_path() -> Path:
    return home() / "vault.cwv"


def resources_dir() -> Path:
    """Shipped resources (fonts, reference data, stylesheet): beside app/ in the source tree and
    in site-packages (the wheel installs resources/ there), or in a PyInstaller bundle's folder."""
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else Path(__file__).resolve().parents[1]
    return base / "resources"


def keyfile_path(vault: Path) -> Path:
    """The key-slot sidecar that sits beside a vault file."""
    return vault.with_name(vault.name + ".keys")

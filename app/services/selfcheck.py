"""Environment checks for `caseward selfcheck`: cipher, Qt plugin, fonts, keyring, folders."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from app import __version__
from app.paths import default_vault_path, resources_dir
from app.security.secrets import SecretStore


def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail}


def run_selfcheck(vault: Path | None, store: SecretStore) -> dict[str, Any]:
    checks = []
    # SQLCipher: open an in-memory keyed database and ask its version.
    try:
        import sqlcipher3.dbapi2 as sqlcipher

        conn = sqlcipher.connect(":memory:")
        conn.execute("PRAGMA key = \"x'" + "00" * 32 + "'\"")
        version = conn.execute("PRAGMA cipher_version").fetchone()
        conn.close()
        ok = bool(version and version[0])
        checks.append(_check("sqlcipher", ok, f"SQLCipher {version[0]}" if ok else "not active"))
    except Exception as exc:  # report, never crash: this is a diagnostic
        checks.append(_check("sqlcipher", False, type(exc).__name__))
    # Qt: load the platform plugin in a child process (a broken plugin can abort the process).
    platform = os.environ.get("QT_QPA_PLATFORM") or (
        "xcb" if os.environ.get("DISPLAY") else "offscreen"
    )
    code = (
        "import sys;from PySide6.QtGui import QGuiApplication;"
        "a=QGuiApplication(sys.argv[:1]);print(a.platformName())"
    )
    try:
        env = dict(os.environ, QT_QPA_PLATFORM=platform)
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
        )
        ok = proc.returncode == 0
        checks.append(
            _check(
                "qt_platform_plugin",
                ok,
                f"{proc.stdout.strip()} loaded" if ok else f"{platform} failed to load",
            )
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        checks.append(_check("qt_platform_plugin", False, type(exc).__name__))
    fonts = sorted(p.name for p in (resources_dir() / "fonts").glob("DejaVuSans*.ttf"))
    checks.append(
        _check("fonts", "DejaVuSans.ttf" in fonts, ", ".join(fonts) or "DejaVu Sans missing")
    )
    try:
        info = store.info()
        verdict = "secure" if info.secure else "NOT secure: vaults must be unbound"
        checks.append(_check("keyring", True, f"{info.name} ({verdict})"))
    except Exception as exc:
        checks.append(_check("keyring", False, type(exc).__name__))
    folder = (vault.parent if vault else default_vault_path().parent).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        checks.append(_check("vault_folder", True, f"{folder} is writable"))
    except OSError as exc:
        checks.append(_check("vault_folder", False, f"{folder}: {exc.strerror}"))
    from app.security.crypto import fast_kdf_for_tests

    if fast_kdf_for_tests():
        checks.append(
            _check("kdf", False, "CASEWARD_INSECURE_FAST_KDF is set: new key slots are weak")
        )
    return {
        "ok": all(c["ok"] for c in checks),
        "version": __version__,
        "python": sys.version.split()[0],
        "checks": checks,
    }

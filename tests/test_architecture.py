"""The layering rules of DESIGN.md, checked by scanning imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no files found under {package}"
    return files


def test_core_never_imports_qt_or_ui() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _files("app")
        for name in _imports(path)
        if name.split(".")[0] in {"PySide6", "shiboken6", "ui"}
    ]
    assert offenders == []


def test_ui_never_reaches_the_store() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _files("ui")
        for name in _imports(path)
        if name == "app.store" or name.startswith("app.store.") or name.startswith("sqlalchemy")
    ]
    assert offenders == []


def test_domain_imports_nothing_of_ours_but_domain() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _files("app/domain")
        for name in _imports(path)
        if name.startswith("app.") and not name.startswith("app.domain")
        or name.split(".")[0] == "ui"
    ]
    assert offenders == []


def test_store_and_io_do_not_import_services() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for package in ("app/store", "app/io")
        for path in _files(package)
        for name in _imports(path)
        if name.startswith("app.services") or name == "app.cli"
    ]
    assert offenders == []


def test_the_architecture_check_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtWidgets import QWidget\nimport app.store.engine\n")
    assert {"PySide6.QtWidgets", "app.store.engine"} <= _imports(bad)

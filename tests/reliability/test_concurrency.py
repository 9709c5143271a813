"""Background operations (export, import, duplicate scan) alongside editing on one terminal.

The window runs long operations on worker threads while the user keeps editing. Both share one
vault: these tests run an export, a national-list import (read, match, save) and a duplicate
scan on threads while another thread saves edits, and check that no "database is locked"
(or any other error) reaches the caller, that every edit is kept and that the audit verifies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.domain.roles import Role
from app.services.audit import AuditService
from app.services.demo import generate_demo
from app.services.duplicates import DuplicateService
from app.services.exports import ExportService
from app.services.nominals import NominalService
from app.services.reconcile import ReconcileService
from app.services.vault import Actor, Vault
from tests.services.test_reconcile_support import plant_national_list

TODAY = date(2026, 11, 25)
EDIT_SECONDS = 6.0


class Worker(threading.Thread):
    """Runs `action` once (or repeatedly for `seconds`) and keeps what went wrong."""

    def __init__(self, name: str, action: Callable[[], Any], seconds: float = 0.0) -> None:
        super().__init__(name=name, daemon=True)
        self.action = action
        self.seconds = seconds
        self.errors: list[BaseException] = []
        self.runs = 0

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while True:
            try:
                self.action()
                self.runs += 1
            except BaseException as exc:  # noqa: BLE001 - the test reports every failure
                self.errors.append(exc)
                return
            if time.monotonic() >= deadline:
                return


@pytest.fixture
def busy_vault(vault: Vault) -> Vault:
    generate_demo(vault, 400, seed=5, today=TODAY)
    vault.actor = Actor("coordinator", Role.COORDINATOR)  # the role that edits and exports
    return vault


def _editor(vault: Vault, refs: list[str], done: list[str]) -> Callable[[], None]:
    service = NominalService(vault)
    counter = iter(range(1_000_000))

    def edit() -> None:
        n = next(counter)
        ref = refs[n % len(refs)]
        record = service.get(ref, purpose="edit")
        service.update(ref, replace(record, notes=f"concurrency edit {n}"), reason="test")
        done.append(f"{ref}:{n}")

    return edit


def _locked(errors: list[BaseException]) -> list[str]:
    return [f"{type(e).__name__}: {e}" for e in errors if "locked" in str(e).lower()]


def test_background_operations_while_editing(busy_vault: Vault, tmp_path: Path) -> None:
    vault = busy_vault
    refs = [r.ref for r in NominalService(vault).page(limit=40)]
    national = tmp_path / "national.csv"
    plant_national_list(vault, national, seed=2, encoding="utf-8")
    edits: list[str] = []
    exports = iter(range(1000))

    def export() -> None:
        ExportService(vault).export_return(
            "headcount", tmp_path / f"headcount-{next(exports)}.xlsx", recipient="Test hub",
            justification="Concurrency test", today=TODAY)

    def reconcile() -> None:
        service = ReconcileService(vault)
        service.save(service.run(national, today=TODAY))

    def scan() -> None:
        DuplicateService(vault).scan()

    editor = Worker("editor", _editor(vault, refs, edits), seconds=EDIT_SECONDS)
    background = [Worker("export", export, seconds=EDIT_SECONDS),
                  Worker("import", reconcile, seconds=EDIT_SECONDS),
                  Worker("duplicates", scan, seconds=EDIT_SECONDS)]
    for w in [editor, *background]:
        w.start()
    for w in [editor, *background]:
        w.join(timeout=120)
        assert not w.is_alive(), f"{w.name} did not finish"
    everything = [e for w in [editor, *background] for e in w.errors]
    assert not _locked(everything), _locked(everything)
    assert not everything, [f"{type(e).__name__}: {e}" for e in everything]
    assert editor.runs >= 3 and all(w.runs >= 1 for w in background), (
        editor.runs, [(w.name, w.runs) for w in background])
    # Every edit that returned is kept: the last note written to each record is there.
    last: dict[str, int] = {}
    for item in edits:
        ref, n = item.split(":")
        last[ref] = int(n)
    service = NominalService(vault)
    for ref, n in last.items():
        assert service.get(ref, purpose="check").notes == f"concurrency edit {n}"
    vault.actor = Actor("alice", Role.ADMIN)
    assert AuditService(vault).verify().ok


def test_two_writers_never_see_locked(busy_vault: Vault) -> None:
    """Two editing threads on the same records: writers queue for the lock, none fails."""
    vault = busy_vault
    refs = [r.ref for r in NominalService(vault).page(limit=10)]
    edits: list[str] = []
    workers = [Worker(f"editor-{i}", _editor(vault, refs, edits), seconds=3.0)
               for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    errors = [e for w in workers for e in w.errors]
    assert not errors, [f"{type(e).__name__}: {e}" for e in errors]
    assert len(edits) == sum(w.runs for w in workers) >= 4
    vault.actor = Actor("alice", Role.ADMIN)
    assert AuditService(vault).verify().ok

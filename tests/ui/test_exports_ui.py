"""The export dialog and the Returns area, driven as a user would, with a fake dialog service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.domain.nominal import Nominal, RiskLevel, Status
from app.services.nominals import NominalService
from app.services.users import UserService
from app.services.vault import Vault, unlock_vault
from tests.conftest import PASSPHRASE

TODAY = date(2026, 11, 25)


@pytest.fixture
def carol(vault: Vault, vault_path: Path, store: Any) -> Iterator[Vault]:
    UserService(vault).add_user("carol", "coordinator", PASSPHRASE)
    v = unlock_vault(vault_path, "carol", PASSPHRASE, secret_store=store)
    for i in range(25):
        NominalService(v).add(Nominal(surname=["Nowak", "=1+1", "Llŵyd"][i % 3],
                                      forenames="Test", dob=date(1980, 1, 1 + i),
                                      status=Status.CUSTODY, risk_level=RiskLevel.LOW,
                                      force="Gwent"))
    yield v
    v.lock()


@pytest.fixture
def services(carol: Vault, qapp: Any, settings: Any, fake_dialogs: Any) -> Iterator[Any]:
    from ui.ops import OpRunner
    from ui.preferences import Preferences
    from ui.services import Services

    ops = OpRunner()
    s = Services(carol, ops=ops, dialogs=fake_dialogs, prefs=Preferences(settings))
    yield s
    ops.cancel_all()
    assert ops.wait(10_000)


def test_export_headcount_from_the_dialog(qtbot: Any, services: Any, tmp_path: Path,
                                          fake_dialogs: Any) -> None:
    from ui.views.exports import ExportDialog, ReturnsView, recent_recipients

    media = tmp_path / "USBSTICK"
    media.mkdir()
    dialog = ExportDialog(services, today=TODAY, media=[media])
    qtbot.addWidget(dialog)
    assert dialog.folder.itemText(0).startswith(str(media))  # removable media first
    assert dialog.what.currentData() == "headcount"
    assert dialog.name.text() == "headcount-2026-11-25.xlsx"
    assert not dialog.period_row.isEnabled()  # a headcount is a snapshot

    dialog.start_export()  # no recipient yet: refused, nothing written
    assert "recipient" in dialog.recipient_error.text()
    dialog.recipient.setCurrentText("National CT hub")
    dialog.start_export()
    assert "justification" in dialog.justification_error.text()
    assert list(media.iterdir()) == []

    dialog.justification.setPlainText("Monthly headcount return")
    dialog.start_export()
    qtbot.waitUntil(lambda: dialog.disclosure is not None or not dialog.problem.isHidden(),
                    timeout=60_000)
    assert dialog.disclosure is not None, dialog.problem.text()
    assert sorted(p.name for p in media.iterdir()) == [
        "headcount-2026-11-25.xlsx", "headcount-2026-11-25.xlsx.sha256"]
    assert dialog.disclosure.sha256 in dialog.outcome.text()
    assert dialog.open_folder.isVisibleTo(dialog)
    assert recent_recipients(services.prefs.settings) == ["National CT hub"]
    dialog.grab().save(str(tmp_path / "export-dialog.png"))

    # Again to the same name: the user is asked, and saying no leaves the first file alone.
    again = ExportDialog(services, today=TODAY, media=[media])
    qtbot.addWidget(again)
    assert again.recipient.itemText(0) == "National CT hub"  # remembered
    again.recipient.setCurrentText("National CT hub")
    again.justification.setPlainText("Again")
    again.start_export()
    assert fake_dialogs.kinds()[-1] == "confirm"
    assert again.op is None and again.disclosure is None

    view = ReturnsView(services)
    qtbot.addWidget(view)
    assert view.model.rowCount() == 1
    row = [view.model.index(0, c).data() for c in range(view.model.columnCount())]
    assert row[2] == "Exported headcount" and row[4] == "National CT hub"
    assert row[6] == "headcount-2026-11-25.xlsx" and row[7] == dialog.disclosure.sha256
    # A read-only record table: several rows may be chosen, and Copy (Ctrl+C, or the
    # right-click menu) puts them on the clipboard as tab-separated text.
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QAbstractItemView

    table = view.table
    assert table.selectionMode() == QAbstractItemView.SelectionMode.ExtendedSelection
    assert table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    assert table.columnWidth(0) == 130 and table.horizontalHeader().stretchLastSection()
    board = QGuiApplication.clipboard()
    board.clear()
    table.selectRow(0)
    next(a for a in table.actions() if a.objectName() == "copySelection").trigger()
    assert board.text() == "\t".join(str(v) for v in row)
    board.clear()


def test_cancelled_export_leaves_nothing(qtbot: Any, services: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.exports as exports
    from ui.views.exports import ExportDialog

    real = exports.headcount_return
    started = []

    def slow(vault: Any, request: Any) -> Any:
        plan = real(vault, request)
        rows = plan.sheets[1].rows

        def dawdle() -> Iterator[Any]:
            import time

            for row in rows:
                started.append(1)
                time.sleep(0.05)
                yield row

        plan.sheets[1].rows = dawdle()
        return plan

    monkeypatch.setattr(exports, "headcount_return", slow)
    dialog = ExportDialog(services, today=TODAY, media=[tmp_path])
    qtbot.addWidget(dialog)
    dialog.recipient.setCurrentText("Hub")
    dialog.justification.setPlainText("Test")
    dialog.start_export()
    qtbot.waitUntil(lambda: bool(started), timeout=30_000)
    dialog._cancel()
    assert "cancelled" in dialog.problem.text()
    assert services.ops.wait(30_000)
    assert [p.name for p in tmp_path.iterdir() if p.suffix in (".xlsx", ".part", ".sha256")
            or p.name.startswith(".caseward-")] == []
    assert services.audit.disclosures() == []


def test_removable_media_lists_writable_mount_points(tmp_path: Path) -> None:
    from ui.views.exports import removable_media

    (tmp_path / "media" / "KINGSTON").mkdir(parents=True)
    (tmp_path / "mnt" / "backup").mkdir(parents=True)
    found = removable_media("u", [tmp_path / "media", tmp_path / "nothing", tmp_path / "mnt"])
    assert found == [tmp_path / "media" / "KINGSTON", tmp_path / "mnt" / "backup"]

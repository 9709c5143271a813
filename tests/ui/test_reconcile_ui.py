"""The Reconcile area driven as a user would: choose a list, watch it read and match in the
background, resolve a difference with "update ours", confirm a possible match, export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.security.secrets import MemorySecretStore
from app.services.reconcile import DIFFERENCES, KINDS, MATCHED, POSSIBLE, ReconcileService
from app.services.vault import Vault
from app.store.models import AuditEntry
from app.store.models import Nominal as NominalTable
from tests.services.test_reconcile_support import (
    Planted,
    make_regional_vault,
    plant_national_list,
)


@pytest.fixture(scope="module")
def regional_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    folder = tmp_path_factory.mktemp("reconcile-ui")
    store = MemorySecretStore()
    vault = make_regional_vault(folder, 300, seed=3, store=store)
    vault.lock()
    yield vault.path, store


@pytest.fixture
def carol(regional_template: tuple[Path, Any], tmp_path: Path) -> Iterator[Vault]:
    import shutil

    from app.paths import keyfile_path
    from app.services.vault import unlock_vault
    from tests.conftest import PASSPHRASE

    path, store = regional_template
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    shutil.copy(keyfile_path(path), keyfile_path(copy))
    vault = unlock_vault(copy, "carol", PASSPHRASE, secret_store=store)
    yield vault
    vault.lock()


@pytest.fixture
def services(carol: Vault, qapp: Any, settings: Any, fake_dialogs: Any) -> Iterator[Any]:
    from ui.ops import OpRunner
    from ui.preferences import Preferences
    from ui.services import Services

    ops = OpRunner()
    s = Services(carol, ops=ops, dialogs=fake_dialogs, prefs=Preferences(settings))
    yield s
    ops.cancel_all()
    assert ops.wait(20_000)


@pytest.fixture
def planted(carol: Vault, tmp_path: Path) -> Planted:
    return plant_national_list(carol, tmp_path / "national.xlsx", seed=12, omissions=5,
                               extras=4, differences=10, lookalikes=6, title_rows=2)


def _view(qtbot: Any, services: Any) -> Any:
    from ui.reconcile.view import ReconcileView

    view = ReconcileView(services)
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    return view


def _load(qtbot: Any, view: Any, fake_dialogs: Any, path: Path) -> None:
    fake_dialogs.answers["open_file"] = [str(path)]
    view.choose_file()
    assert view.busy_row.isVisibleTo(view) and view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: view.run_id is not None, timeout=60_000)


def test_update_ours_changes_the_record_and_audits_it(qtbot: Any, services: Any, carol: Vault,
                                                     planted: Planted,
                                                     fake_dialogs: Any) -> None:
    view = _view(qtbot, services)
    _load(qtbot, view, fake_dialogs, planted.listed.path)
    assert not view.busy_row.isVisibleTo(view)
    labels = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert f"Differences ({len(planted.differences)})" in labels
    assert f"Possible ({len(planted.lookalikes)})" in labels
    assert f"Matched ({planted.matched})" in labels
    assert labels[-1].startswith("Not read (")

    # Choose a row whose difference the record can take (force, status, risk...).
    model = view.models[DIFFERENCES]
    row = next(i for i in range(model.rowCount())
               if {"force", "status", "risk_level", "nominal_manager"}
               & planted.differences[model.record(i).ref])
    item = model.record(row)
    view.select(DIFFERENCES, row)
    assert view.detail is not None and view.detail.id == item.id
    differing = [i for i in range(view.lines_model.rowCount())
                 if view.lines_model.record(i).differs]
    assert differing and all(
        view.lines_model.data(view.lines_model.index(i, 2), Qt.ItemDataRole.BackgroundRole)
        is not None for i in differing)
    field_row = next(i for i in differing if view.lines_model.record(i).field
                     in ("force", "status", "risk_level", "nominal_manager"))
    line = view.lines_model.record(field_row)
    view.lines.selectRow(field_row)
    assert view.update_button.isEnabled()

    with carol.read() as s:
        before = s.scalar(select(getattr(NominalTable, line.field)).where(
            NominalTable.ref == item.ref))
        last_audit = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    fake_dialogs.answers["confirm"] = [True]
    qtbot.mouseClick(view.update_button, Qt.MouseButton.LeftButton)
    assert ("confirm", "Update the regional record?") in [c[:2] for c in fake_dialogs.calls]

    with carol.read() as s:
        after = s.scalar(select(getattr(NominalTable, line.field)).where(
            NominalTable.ref == item.ref))
        audit = s.scalars(select(AuditEntry).where(AuditEntry.id > last_audit)).all()
    assert after != before
    alteration = [a for a in audit if a.category == "alteration"]
    assert len(alteration) == 1 and alteration[0].ref == item.ref
    assert line.field in json.loads(alteration[0].detail)["fields"]
    assert "Reconciliation with national list national.xlsx" in alteration[0].reason
    # The line now agrees, shows the decision, and the row says what is left to decide.
    updated = next(x for x in view.detail.lines if x.field == line.field)
    assert not updated.differs and updated.decision == "update_ours"
    assert "Update ours" in [view.lines_model.data(view.lines_model.index(i, 4))
                             for i in range(view.lines_model.rowCount())]
    assert view.models[DIFFERENCES].record(row).decided == 1


def test_confirm_a_possible_match_and_resume(qtbot: Any, services: Any, carol: Vault,
                                            planted: Planted, fake_dialogs: Any) -> None:
    view = _view(qtbot, services)
    _load(qtbot, view, fake_dialogs, planted.listed.path)
    run_id = view.run_id
    possible = view.models[POSSIBLE]
    item = possible.record(0)
    view.select(POSSIBLE, 0)
    assert view.candidate_box.isVisibleTo(view) and view.candidates_model.rowCount() >= 1
    reasons = view.candidates_model.data(view.candidates_model.index(0, 3))
    assert reasons and "same" in reasons
    truth = planted.ref_by_row[item.national_row]
    row = next(i for i in range(view.candidates_model.rowCount())
               if view.candidates_model.record(i).ref == truth)
    view.candidates.selectRow(row)
    qtbot.mouseClick(view.confirm_button, Qt.MouseButton.LeftButton)
    assert view.detail is not None and view.detail.kind in (MATCHED, DIFFERENCES)
    assert view.tabs.tabText(KINDS.index(POSSIBLE)) == \
        f"Possible ({len(planted.lookalikes) - 1})"

    # A fresh screen resumes the saved reconciliation with the decision kept.
    again = _view(qtbot, services)
    assert again.runs.count() == 1 and again.runs.currentData() == run_id
    qtbot.mouseClick(again.resume_button, Qt.MouseButton.LeftButton)
    assert again.run_id == run_id
    assert again.models[POSSIBLE].total() == len(planted.lookalikes) - 1


def test_cancel_stops_reading_and_saves_nothing(qtbot: Any, services: Any, carol: Vault,
                                               planted: Planted) -> None:
    view = _view(qtbot, services)
    op = view.start(planted.listed.path)
    view.cancel()
    assert not view.busy_row.isVisibleTo(view) and "Cancelled" in view.problem.text()
    qtbot.waitUntil(lambda: op.done or op.was_cancelled, timeout=30_000)
    assert services.ops.wait(30_000)
    assert view.run_id is None
    assert ReconcileService(carol).runs() == []


def test_a_hostile_file_is_shown_plainly(qtbot: Any, services: Any, tmp_path: Path,
                                         fake_dialogs: Any) -> None:
    bad = tmp_path / "list.xlsx"
    bad.write_bytes(b"%PDF-1.4 not a list")
    view = _view(qtbot, services)
    fake_dialogs.answers["open_file"] = [str(bad)]
    view.choose_file()
    qtbot.waitUntil(lambda: view.problem.isVisibleTo(view), timeout=30_000)
    assert "list.xlsx: the file is a PDF" in view.problem.text()
    assert view.run_id is None


def test_export_the_corrections_return(qtbot: Any, services: Any, planted: Planted,
                                       tmp_path: Path, fake_dialogs: Any) -> None:
    view = _view(qtbot, services)
    _load(qtbot, view, fake_dialogs, planted.listed.path)
    dialog = view.export_corrections()
    assert dialog is not None
    out = tmp_path / "out" / "corrections.xlsx"
    out.parent.mkdir()
    dialog.target.setText(str(out))
    dialog.recipient.setCurrentText("National CT hub")
    dialog.start_export()
    qtbot.waitUntil(lambda: dialog.disclosure is not None, timeout=60_000)
    assert out.exists() and dialog.close_button.isVisibleTo(dialog)
    assert "National CT hub" in [d.recipient for d in services.audit.disclosures()]


def test_the_models_pass_the_model_tester(qtmodeltester: Any, services: Any, carol: Vault,
                                          planted: Planted) -> None:
    from ui.reconcile.models import (
        CandidatesTableModel,
        FieldLinesTableModel,
        ReconcileItemsTableModel,
        RejectedRowsTableModel,
    )

    service = ReconcileService(carol)
    run_id = service.save(service.run(planted.listed.path))
    for kind in KINDS:
        model = ReconcileItemsTableModel(kind)
        model.reset(lambda o, n, k=kind: service.items(run_id, k, o, n),
                    service.count(run_id, kind))
        qtmodeltester.check(model, force_py=True)
    item = service.items(run_id, POSSIBLE, 0, 1)[0]
    detail = service.item(item.id)
    lines = FieldLinesTableModel()
    lines.set_rows(list(detail.candidates[0].lines))
    qtmodeltester.check(lines, force_py=True)
    candidates = CandidatesTableModel()
    candidates.set_rows(list(detail.candidates))
    qtmodeltester.check(candidates, force_py=True)
    rejected = RejectedRowsTableModel()
    rejected.set_rows(service.rejected(run_id))
    assert rejected.rowCount() == len(planted.listed.junk_rows)
    qtmodeltester.check(rejected, force_py=True)


def test_ctrl_c_copies_the_selected_row_of_a_category_and_of_the_side_by_side(
        qtbot: Any, services: Any, planted: Planted, fake_dialogs: Any) -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    view = _view(qtbot, services)
    view.activateWindow()  # shortcuts only reach the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    _load(qtbot, view, fake_dialogs, planted.listed.path)
    board = QGuiApplication.clipboard()
    board.clear()
    try:
        view.select(DIFFERENCES, 0)
        table, model = view.tables[DIFFERENCES], view.models[DIFFERENCES]
        qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        cells = board.text().split("\t")
        assert len(cells) == model.columnCount()
        assert cells[:3] == [str(model.index(0, c).data()) for c in range(3)]
        view.lines.setFocus()
        view.lines.selectRow(1)
        qtbot.keyClick(view.lines, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        assert board.text().split("\t")[0] == view.lines_model.index(1, 0).data()
    finally:
        board.clear()

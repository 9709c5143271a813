"""The duplicates review through the real window: scan off the UI thread, pick a pair, compare
side by side, dismiss with a reason (the pair leaves the list and stays dismissed), merge."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.services.duplicates import DuplicateService
from app.services.nominals import NominalService
from tests.ui import test_nominals_support as support
from tests.ui.conftest import OFFSCREEN_NOISE
from tests.ui.test_nominals_support import go_to

demo_template = support.demo_template
demo_vault = support.demo_vault
signed_in = support.signed_in

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def scanned(qtbot: Any, ctl: Any) -> Any:
    view = go_to(qtbot, ctl, "duplicates")
    qtbot.waitUntil(lambda: not view.loading, timeout=10_000)
    qtbot.mouseClick(view.scan_button, Qt.MouseButton.LeftButton)
    assert view.progress.isVisible() and view.cancel_button.isVisible()
    qtbot.waitUntil(lambda: view.scan_op is None, timeout=60_000)
    qtbot.waitUntil(lambda: not view.loading and view.model.rowCount() > 0, timeout=10_000)
    assert not view.progress.isVisible()
    return view


def test_scan_pick_and_dismiss_with_reason(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    view = scanned(qtbot, ctl)
    service = DuplicateService(ctl.vault)
    assert view.model.rowCount() == min(service.count(), 500)
    assert view.status.text().startswith(f"{service.count():,} pair")
    assert "last scan:" in view.status.text()

    view.table.setFocus()
    view.table.selectRow(1)
    pair = view.selected()
    assert pair is not None and view.current == pair
    panel = view.panel
    assert panel.left_ref == pair.a and panel.right_ref == pair.b
    assert panel.reasons.text().startswith("Why: ")
    differing = [r for r in panel.rows if not r.same]
    assert differing, "a candidate pair differs somewhere"
    assert all(panel.groups[r.field].button(0).isEnabled() for r in differing)
    same = [r for r in panel.rows if r.same]
    assert all(not panel.groups[r.field].button(0).isEnabled() for r in same)

    # No reason: nothing is recorded and the user is told.
    ctl.dialogs.answers["ask_text"] = ["  "]
    qtbot.mouseClick(view.dismiss_button, Qt.MouseButton.LeftButton)
    assert ctl.dialogs.calls[-1][0] == "error" and "reason is required" in \
        ctl.dialogs.calls[-1][2]
    assert view.model.rowCount() == min(service.count(), 500)

    before = view.model.rowCount()
    ctl.dialogs.answers["ask_text"] = ["Twins: different forenames and PNC"]
    qtbot.mouseClick(view.dismiss_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.busy, timeout=10_000)
    assert view.model.rowCount() == before - 1
    assert all({r.a, r.b} != {pair.a, pair.b} for r in view.model.records())
    dismissed = service.dismissed()
    assert any({d[0], d[1]} == {pair.a, pair.b} and d[2].startswith("Twins") for d in dismissed)
    # The next pair is selected, ready for the next decision.
    assert view.selected() is not None and view.current == view.selected()

    # A new scan does not bring the dismissed pair back.
    qtbot.mouseClick(view.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.scan_op is None, timeout=60_000)
    qtbot.waitUntil(lambda: not view.loading, timeout=10_000)
    assert all({r.a, r.b} != {pair.a, pair.b} for r in view.model.records())


def test_merge_from_the_review_screen(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    view = scanned(qtbot, ctl)
    view.table.selectRow(0)
    pair = view.current
    assert pair is not None
    panel = view.panel
    differing = [r for r in panel.rows if not r.same and r.field != "surname"
                 and r.drop_value is not None]
    take = differing[0] if differing else None
    if take is not None:
        panel.choose(take.field, "drop")
    # Declining the confirmation changes nothing.
    ctl.dialogs.answers["confirm"] = [False]
    qtbot.mouseClick(view.merge_button, Qt.MouseButton.LeftButton)
    assert not view.busy and NominalService(ctl.vault).get(pair.b).merged_into is None

    ctl.dialogs.answers["confirm"] = [True]
    ctl.dialogs.answers["ask_text"] = ["Same person: planted duplicate"]
    qtbot.mouseClick(view.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.busy and not view.loading, timeout=20_000)
    service = NominalService(ctl.vault)
    dropped = service.get(pair.b)
    kept = service.get(pair.a)
    assert dropped.merged_into == pair.a
    if take is not None:  # the value chosen from the right-hand record was taken
        name = take.field
        value = (getattr(kept.dates, name[6:]) if name.startswith("dates.")
                 else getattr(kept, name))
        assert value == take.drop_value
    assert all(pair.b not in (r.a, r.b) for r in view.model.records())
    assert view.status.text().startswith(f"Merged {pair.b} into {pair.a}. ")
    history = service.history(pair.a)
    assert any(h.action == "merge" and h.reason == "Same person: planted duplicate"
               for h in history)


def test_swap_sides_keeps_the_other_record(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    view = scanned(qtbot, ctl)
    view.table.selectRow(0)
    pair = view.current
    qtbot.mouseClick(view.panel.swap_button, Qt.MouseButton.LeftButton)
    assert (view.panel.left_ref, view.panel.right_ref) == (pair.b, pair.a)
    assert view.merge_button.text().replace("&", "") == f"Merge {pair.a} into {pair.b}…"

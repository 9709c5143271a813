"""Regressions from the walk-through at 1280 x 800 and at the window's minimum width (960 px):
the calendar's kind chips are never elided and read as on/off, the day list's What column reads
in full, Today's cards keep their titles and What room, the Nominals filters wrap instead of
overlapping, a data-quality check with no failing record says so, and the first-run demo data
shows its step and progress and can be cancelled without leaving half a demo behind."""

from __future__ import annotations

import importlib.machinery
import sys
import types
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtWidgets import QWizard

from app.services.vault import Vault
from tests.services.test_engagement import add_nominal, coord, users  # noqa: F401
from tests.ui import test_nominals_support as support
from tests.ui.conftest import OFFSCREEN_NOISE
from tests.ui.test_calendar_view import contact_due_on, make_services, wait_loaded
from tests.ui.test_nominals_support import go_to
from tests.ui.test_today_view import overdue_nominal
from tests.ui.test_wizard import _to_binding

demo_template = support.demo_template
demo_vault = support.demo_vault
signed_in = support.signed_in

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

TODAY = date.today()
SIDEBAR = 210  # the main window's navigation column, for the views' width at 1280 / 960


@pytest.fixture
def services(coord: Vault, runner: Any, fake_dialogs: Any, settings: Any) -> Any:  # noqa: F811
    return make_services(coord, runner, fake_dialogs, settings)


def not_elided(widget: Any) -> bool:
    return widget.sizeHint().width() <= widget.width()


# -- 1. calendar ---------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [1280 - SIDEBAR, 960 - SIDEBAR])
def test_calendar_chips_are_never_elided_and_what_reads_in_full(
    coord: Vault, services: Any, qtbot: Any, width: int,  # noqa: F811
) -> None:
    from ui.calendar.view import CalendarView

    ref = contact_due_on(coord, TODAY, surname="Chipley")
    view = CalendarView(services, today=TODAY)
    qtbot.addWidget(view)
    view.resize(width, 700)
    view.show()
    wait_loaded(qtbot, view)
    qtbot.wait(50)
    legend = view.legend
    for kind, chip in legend.buttons.items():
        assert chip.isVisible()
        assert not_elided(chip), (kind, chip.sizeHint().width(), chip.width())
        assert chip.geometry().right() <= legend.width(), kind  # nothing hangs off the edge
    # Nine chips do not fit on one row at either width: they wrap rather than shrink.
    assert legend.flow.rows() == 2
    # The manager / force / warn filters never overlap the navigation.
    assert not view.bar_filters.geometry().intersects(view.period.geometry()) or \
        view.bar_filters.y() != view.period.y()
    for w in (view.manager, view.force, view.lead):
        assert w.width() >= w.minimumSizeHint().width()

    # The day list: What stretches; at 1280 it shows a contact's title in full.
    header = view.day_table.horizontalHeader()
    assert header.sectionResizeMode(1) == header.ResizeMode.Stretch
    assert view.day_model.rowCount() == 1 and view.day_model.item(0).ref == ref
    title = view.day_model.item(0).title
    if width == 1280 - SIDEBAR:
        needed = view.day_table.fontMetrics().horizontalAdvance(title) + 12 + 16
        assert header.sectionSize(1) >= needed, (title, header.sectionSize(1), needed)
    assert header.sectionSize(1) > header.sectionSize(0)  # What is the widest column


def test_calendar_chips_show_on_and_off_clearly(services: Any, qtbot: Any) -> None:
    from PySide6.QtGui import QIcon

    from ui.calendar.common import VIEW_QSS, KindLegend

    legend = KindLegend()
    legend.setStyleSheet(VIEW_QSS)  # as in the calendar view
    qtbot.addWidget(legend)
    legend.resize(1000, 80)
    legend.show()
    chip = legend.buttons["contact_due"]
    on = chip.icon().pixmap(12, 12, QIcon.Mode.Normal, QIcon.State.On).toImage()
    off = chip.icon().pixmap(12, 12, QIcon.Mode.Normal, QIcon.State.Off).toImage()
    # Shown: a filled swatch; hidden: an outline only (its centre is transparent).
    assert on.pixelColor(3, 6).alpha() == 255
    assert off.pixelColor(6, 6).alpha() == 0
    assert "shown" in chip.toolTip() and "Click to hide" in chip.toolTip()
    on_shot = chip.grab().toImage()
    chip.setChecked(False)
    assert legend.kinds() is not None and "contact_due" not in legend.kinds()
    assert "hidden" in chip.toolTip() and "Click to show" in chip.toolTip()
    off_shot = chip.grab().toImage()
    # A shown chip has a white face (not a greyed, pressed look); a hidden one does not.
    face = on_shot.pixelColor(on_shot.width() - 6, on_shot.height() // 2)
    assert face.lightness() >= 250, face.name()
    assert off_shot != on_shot


# -- 2. Today --------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [1280 - SIDEBAR, 960 - SIDEBAR])
def test_today_cards_keep_their_titles_and_what_room(
    coord: Vault, services: Any, qtbot: Any, width: int,  # noqa: F811
) -> None:
    from ui.views.today import TodayView

    overdue_nominal(coord, surname="Cardwell")
    view = TodayView(services, today=TODAY)
    qtbot.addWidget(view)
    view.resize(width, 720)
    view.show()
    qtbot.waitUntil(lambda: not view.busy, timeout=20_000)
    qtbot.wait(50)
    for key, card in view.cards.items():
        for label in (card.title, card.show_all):
            assert not_elided(label) or not label.isVisible(), (key, label.text())
        # The title, its badge and Show all sit side by side without overlapping.
        assert card.title.geometry().right() < card.badge.geometry().left(), key
        header = card.table.horizontalHeader()
        titles = [card.model.headerData(c, header.orientation()) for c in
                  range(card.model.columnCount())]
        what = titles.index("What")
        assert header.sectionResizeMode(what) == header.ResizeMode.Stretch
        # What is the widest column; at 1280 it has room for a typical title in full.
        assert header.sectionSize(what) == max(header.sectionSize(c)
                                               for c in range(len(titles))), key
        if width == 1280 - SIDEBAR:
            typical = card.table.fontMetrics().horizontalAdvance("Yearly re-notification due")
            assert header.sectionSize(what) >= typical + 20, (key, header.sectionSize(what))
    assert view.arrangement == ("narrow" if width < 1360 else "wide")


# -- 3. Nominals and data quality -----------------------------------------------------------
def test_nominal_filters_wrap_at_the_minimum_width(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    window = ctl.window
    area = go_to(qtbot, ctl, "nominals")
    view = getattr(area, "list_view", None) or getattr(area, "front", None) or area
    view = next(w for w in (view, *area.findChildren(type(view))) if hasattr(w, "filter_row"))
    qtbot.waitUntil(lambda: view.manager.count() > 1 and view.force.count() > 1)
    combos = (view.status, view.risk, view.manager, view.force)

    def settled() -> bool:
        # Layout requests are posted events: on a loaded machine the boxes take their widths
        # a little after the resize. Wait for that, then check everything below.
        return all(c.width() >= c.sizeHint().width() for c in combos)

    for width in (1280, window.minimumWidth()):
        window.resize(width, 800)
        qtbot.waitUntil(lambda w=width: window.width() == w)
        qtbot.waitUntil(settled, timeout=5000)
        pairs = [c.parentWidget() for c in combos]
        boxes = [*pairs, view.clear_button]
        for box in boxes:
            assert box.geometry().right() <= view.filter_row.width(), box.objectName()
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                assert not boxes[a].geometry().intersects(boxes[b].geometry()), (a, b)
        for combo in (view.status, view.risk, view.manager, view.force):
            assert combo.width() >= combo.sizeHint().width(), combo.accessibleName()
    assert window.minimumWidth() == 960
    assert view.filter_row.layout().rows() == 2  # at 960 the filters take two rows


def test_a_check_with_no_failing_record_says_so(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    area = go_to(qtbot, ctl, "quality")
    panel = area.panel
    qtbot.waitUntil(lambda: not panel.loading, timeout=20_000)
    rows = [panel.rules.record(r) for r in range(panel.rules.rowCount())]
    empty = next(i for i, c in enumerate(rows) if c.count == 0)
    full = next(i for i, c in enumerate(rows) if c.count > 0)
    panel.rule_table.selectRow(empty)
    assert panel.record_stack.currentWidget() is panel.records_empty
    assert panel.records_empty.isVisible() and not panel.record_table.isVisible()
    assert panel.empty_title.text() == "No record fails this check"
    assert rows[empty].rule.title in panel.empty_text.text()
    panel.rule_table.selectRow(full)
    assert panel.record_stack.currentWidget() is panel.record_table
    assert panel.records.rowCount() == rows[full].count


# -- 4. the first-run demo data ----------------------------------------------------------------
@pytest.fixture
def fake_demo(monkeypatch: Any) -> Iterator[dict[str, Any]]:
    """A demo generator that reports two steps and waits to be let through between them."""
    import threading

    state: dict[str, Any] = {"gate": threading.Event(), "written": [], "rolled_back": False}

    def generate_demo(vault: Any, *, nominals: int, seed: int, progress: Any = None) -> None:
        progress("nominals", 0, 0)
        state["written"].append("nominals")
        progress("nominals", nominals, nominals)
        state["gate"].wait(10)
        try:
            progress("engagement", 0, 0)  # raises once Cancel is pressed
        except BaseException:
            state["written"].clear()  # what the real generator's transaction does
            state["rolled_back"] = True
            raise
        state["written"].append("engagement")

    fake = types.ModuleType("app.services.demo")
    fake.__spec__ = importlib.machinery.ModuleSpec("app.services.demo", None)
    fake.generate_demo = generate_demo  # type: ignore[attr-defined]
    fake.STEPS = [("nominals", None), ("engagement", None)]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.services.demo", fake)
    yield state
    state["gate"].set()


def _finish_wizard(ctl: Any, qtbot: Any, nominals: int) -> None:
    wiz = ctl.wizard
    _to_binding(wiz)
    wiz.button(QWizard.WizardButton.CommitButton).click()
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.recovery, timeout=15_000)
    wiz.recovery.stored.setChecked(True)
    wiz.next()
    wiz.finish.demo.setChecked(True)
    wiz.finish.demo_count.setValue(nominals)
    wiz.button(QWizard.WizardButton.FinishButton).click()


def test_demo_progress_names_the_step_moves_and_finishes(
    make_app: Any, tmp_path: Path, qtbot: Any, fake_demo: dict[str, Any],
) -> None:
    ctl = make_app(vault_path=tmp_path / "demo.cwv")
    ctl.start()
    _finish_wizard(ctl, qtbot, 2000)
    qtbot.waitUntil(lambda: ctl.demo_dialog is not None and ctl.demo_dialog.bar.value() > 0,
                    timeout=10_000)
    dialog = ctl.demo_dialog
    assert dialog.isVisible()
    assert dialog.width() >= 480 and not_elided(dialog.cancel_button)
    assert dialog.cancel_button.isEnabled() and dialog.cancel_button.text() == "Cancel"
    assert dialog.step_label.text().startswith("Step 1 of 3: Nominals")
    assert "2,000" in dialog.headline.text()
    assert 0 < dialog.bar.value() < dialog.bar.maximum()
    fake_demo["gate"].set()
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)
    assert ctl.demo_dialog is None and not (shiboken6.isValid(dialog) and dialog.isVisible())
    assert fake_demo["written"] == ["nominals", "engagement"]
    assert not any(c[0] in ("error", "info") for c in ctl.dialogs.calls), ctl.dialogs.calls


def test_cancelling_the_demo_keeps_nothing_and_says_so(
    make_app: Any, tmp_path: Path, qtbot: Any, fake_demo: dict[str, Any],
) -> None:
    ctl = make_app(vault_path=tmp_path / "demo.cwv")
    ctl.start()
    _finish_wizard(ctl, qtbot, 500)
    qtbot.waitUntil(lambda: ctl.demo_dialog is not None and ctl.demo_dialog.bar.value() > 0,
                    timeout=10_000)
    dialog = ctl.demo_dialog
    dialog.cancel_button.click()
    assert not dialog.cancel_button.isEnabled()
    assert dialog.cancel_button.text() == "Cancelling…"
    assert dialog.isVisible()  # stays up until the rollback is done
    fake_demo["gate"].set()
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)
    assert fake_demo["rolled_back"] and fake_demo["written"] == []
    infos = [c for c in ctl.dialogs.calls if c[0] == "info"]
    assert infos and "nothing was added" in str(infos[-1])
    assert not (shiboken6.isValid(dialog) and dialog.isVisible())


def test_the_real_generator_rolls_back_a_cancelled_demo(vault: Vault) -> None:
    """generate_demo writes in one transaction: a progress callback that raises (what Cancel
    does) leaves no nominal, no contact and no demo audit row behind."""
    from app.services import demo
    from app.services.nominals import NominalService
    from ui.ops import Cancelled

    seen: list[str] = []

    def progress(step: str, done: int, total: int) -> None:
        seen.append(step)
        if step == "prevent":
            raise Cancelled()

    before = vault_audit_count(vault)
    with pytest.raises(Cancelled):
        demo.generate_demo(vault, nominals=30, seed=3, progress=progress)
    assert seen[:1] == ["nominals"] and "engagement" in seen
    assert NominalService(vault).count() == 0
    assert demo.demo_truth(vault) is None
    assert vault_audit_count(vault) == before


def vault_audit_count(vault: Vault) -> int:
    from app.services.audit import AuditService

    return int(AuditService(vault).count())

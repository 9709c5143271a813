"""The Nominals list and record form through the real window, as a coordinator uses them:
search with a different spelling, open with Enter, edit, Ctrl+S with a reason, see the change in
History; a bad date is flagged beside the field as it is typed and Save is disabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.domain.names import canonical_token, fold, variant_table
from app.domain.nominal import NominalFilter
from app.domain.pnc import pnc_check_letter
from app.security.audit import Category
from app.services.audit import AuditFilter, AuditService
from app.services.nominals import NominalService
from tests.ui import test_nominals_support as support
from tests.ui.conftest import OFFSCREEN_NOISE
from tests.ui.test_nominals_support import go_to, open_vault

# The shared fixtures, made visible to this module.
demo_template = support.demo_template
demo_vault = support.demo_vault
signed_in = support.signed_in

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def variant_target(vault: Any) -> tuple[str, str, str]:
    """(ref, what to type, stored surname) of a record whose surname has another spelling in
    the transliteration table: the user types that other spelling."""
    table = variant_table()
    service = NominalService(vault)
    rows = service.page(NominalFilter(), "ref", False, 0, 1000)
    for row in rows:
        key = canonical_token(row.surname)
        family = table.families.get(key, ())
        others = [v for v in family if fold(v) != fold(row.surname) and " " not in v]
        if others and row.forenames:
            typed = f"{others[0].capitalize()} {row.forenames.split()[0]}"
            return row.ref, typed, row.surname
    raise AssertionError("the demo data has no transliterated surname")


def wait_list(qtbot: Any, area: Any) -> None:
    qtbot.waitUntil(lambda: not area.list.loading and not area.list._timer.isActive(),
                    timeout=10_000)


def test_search_open_edit_save_and_history(signed_in: Any, demo_vault: Path,
                                           qtbot: Any) -> None:
    ctl = signed_in
    core = ctl.vault
    ref, typed, stored = variant_target(core)
    area = go_to(qtbot, ctl, "nominals")
    wait_list(qtbot, area)
    lst = area.list
    total = NominalService(core).count()
    assert lst.count_label.text() == f"{total:,} nominals"
    assert lst.model.rowCount() == total
    assert lst.model.cached_rows() <= 200  # a page, not the whole list

    # Ctrl+F, type another spelling: results replace the list without pressing anything.
    qtbot.keyClick(lst.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert lst.search.hasFocus()
    qtbot.keyClicks(lst.search, typed)
    wait_list(qtbot, area)
    assert lst.count_label.text().endswith(("match", "matches"))
    refs = [lst.model.record(r).ref for r in range(lst.model.rowCount())]
    assert ref in refs, f"searching a variant of {stored!r} did not find {ref}"
    assert lst.model.rowCount() < total

    # Down moves from the search box into the results; Enter opens the selected record.
    qtbot.keyClick(lst.search, Qt.Key.Key_Down)
    assert lst.table.hasFocus()
    for _ in range(refs.index(ref)):
        qtbot.keyClick(lst.table, Qt.Key.Key_Down)
    assert lst.selected() is not None and lst.selected().ref == ref
    qtbot.keyClick(lst.table, Qt.Key.Key_Return)
    page = area.record
    assert page is not None and area.currentWidget() is page and page.ref == ref
    auditor = open_vault(demo_vault, "alice")
    audit = AuditService(auditor).page(AuditFilter(text=ref, user="cora"))
    auditor.lock()
    assert any(r.category == Category.CONSULTATION.value and r.ref == ref
               and r.action == "nominal.view" for r in audit)

    # Edit a field; Save is offered; Ctrl+S asks for a reason and saves in the background.
    view = page.view
    assert not view.save_button.isEnabled()  # nothing changed yet
    view.establishment.setFocus()
    view.establishment.selectAll()
    qtbot.keyClicks(view.establishment, "HMP Ashworth Vale")
    assert view.save_button.isEnabled() and "unsaved changes" in view.summary.text()
    ctl.dialogs.answers["ask_text"] = ["Moved establishment"]
    qtbot.keyClick(view.establishment, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not page.saving, timeout=10_000)
    assert ("ask_text", "Save changes", "Reason for the changes (optional):") in \
        ctl.dialogs.calls
    assert not page.controller.dirty()
    assert NominalService(core).get(ref).establishment == "HMP Ashworth Vale"

    # The History tab shows who changed what, from what to what, and why.
    view.tabs.setCurrentIndex(5)
    model = view.history_model
    newest = [model.index(0, c).data() for c in range(model.columnCount())]
    assert newest[1] == "cora" and newest[2] == "Changed"
    assert newest[3] == "Establishment" and newest[5] == "HMP Ashworth Vale"
    assert newest[6] == "Moved establishment"
    assert any(model.index(r, 2).data() == "Created" for r in range(model.rowCount()))

    # Escape goes back to the list (nothing unsaved: no question), which shows the record.
    qtbot.keyClick(view.tabs, Qt.Key.Key_Escape)
    assert area.currentWidget() is lst


def test_bad_date_flagged_as_typed_and_save_disabled(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    area = go_to(qtbot, ctl, "nominals")
    wait_list(qtbot, area)
    lst = area.list
    first = lst.model.record(0)
    assert first is not None
    lst.table.setFocus()
    lst.table.selectRow(0)
    qtbot.keyClick(lst.table, Qt.Key.Key_Return)
    page = area.record
    view = page.view
    view.tabs.setCurrentIndex(2)  # Sentence and licence
    led = view.dates["dates.led"]
    message = view.messages["dates.led"]
    led.line.setFocus()
    led.line.clear()
    qtbot.keyClicks(led.line, "31/02/2020")
    assert message.isVisible() and "not a real date" in message.text()
    assert message.severity == "error"
    assert led.line.property("invalid") is True
    assert not view.save_button.isEnabled()
    assert view.tabs.tabToolTip(2) == "Something here must be corrected"
    # A date before the sentence date: a consistency error, also beside the field.
    view.dates["dates.sentence_date"].set_date(__import__("datetime").date(2015, 6, 1))
    led.line.clear()
    qtbot.keyClicks(led.line, "01/06/2014")
    assert "LED is before the sentence date." in message.text()
    assert not view.save_button.isEnabled()
    # Empty is allowed: the message goes and Save comes back.
    led.line.clear()
    assert not message.isVisible()
    assert view.save_button.isEnabled() == (not page.controller.errors)
    # Ctrl+S does nothing while errors exist; Escape with changes asks before discarding.
    qtbot.keyClicks(led.line, "99/99/9999")
    qtbot.keyClick(led.line, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not page.saving and "ask_text" not in ctl.dialogs.kinds()
    ctl.dialogs.answers["confirm"] = [False]
    qtbot.keyClick(led.line, Qt.Key.Key_Escape)
    assert area.currentWidget() is page
    ctl.dialogs.answers["confirm"] = [True]
    qtbot.keyClick(led.line, Qt.Key.Key_Escape)
    assert area.currentWidget() is lst
    assert ctl.dialogs.kinds().count("confirm") == 2


def test_pnc_normalised_as_typed_with_check_letter_warning(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    area = go_to(qtbot, ctl, "nominals")
    wait_list(qtbot, area)
    qtbot.keyClick(area.list.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    page = area.record
    assert page is not None and area.currentWidget() is page and page.ref is None
    view = page.view
    assert view.surname.hasFocus()
    assert not view.save_button.isEnabled()  # the surname is required
    assert "Surname is required." in view.messages["surname"].text()
    qtbot.keyClicks(view.surname, "Llewellyn-Prydderch")
    assert not view.messages["surname"].isVisible()
    qtbot.keyClicks(view.forenames, "Eirlys")
    view.pnc.setFocus()
    right = pnc_check_letter(2009, 123456)
    wrong = "A" if right != "A" else "B"
    qtbot.keyClicks(view.pnc, f"09/123456{wrong}")
    assert view.pnc_normalised.text().startswith(f"→ 2009/0123456{wrong}")
    assert "check letter wrong" in view.pnc_normalised.text()
    pnc_message = view.messages["pnc"]
    assert pnc_message.severity == "warning" and "check letter" in pnc_message.text()
    assert view.save_button.isEnabled()  # a warning does not block
    view.pnc.clear()
    qtbot.keyClicks(view.pnc, f"09/123456{right}")
    assert "check letter correct" in view.pnc_normalised.text()
    assert not pnc_message.isVisible()
    qtbot.keyClicks(view.dob.line, "1.4.1991")
    view.dob.line.editingFinished.emit()
    assert view.dob.text() == "01/04/1991"
    qtbot.keyClick(view.pnc, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not page.saving and page.ref is not None, timeout=10_000)
    stored = NominalService(ctl.vault).get(page.ref)
    assert stored.surname == "Llewellyn-Prydderch" and stored.pnc == f"09/123456{right}"
    assert stored.pnc_normalised == f"2009/0123456{right}"
    assert "ask_text" not in ctl.dialogs.kinds()  # no reason asked for a new record
    qtbot.waitUntil(lambda: not area.list.loading, timeout=10_000)
    assert area.list.model.total == NominalService(ctl.vault).count()


def test_header_click_sorts_in_sql_and_filters_narrow(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    area = go_to(qtbot, ctl, "nominals")
    wait_list(qtbot, area)
    lst = area.list
    header = lst.table.horizontalHeader()
    fetches = lst.model.fetches
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.rect().topLeft() + __import__("PySide6.QtCore").QtCore.QPoint(
                         header.sectionViewportPosition(2) + 10, 10))
    dobs = [lst.model.record(r).dob for r in range(20)]
    assert lst.model.fetches > fetches  # the new order came from the service
    assert lst.model.sort_key == "dob"
    expected = NominalService(ctl.vault).page(NominalFilter(), "dob", lst.model.descending, 0,
                                              20)
    assert dobs == [r.dob for r in expected]
    # Filter by status: the count says "matches" and every row has that status.
    combo = lst.status
    combo.setCurrentIndex(combo.findData("custody"))
    wait_list(qtbot, area)
    n = NominalService(ctl.vault).count(NominalFilter(status="custody"))
    assert lst.count_label.text() == f"{n:,} match{'es' if n != 1 else ''}"
    assert all(lst.model.record(r).status == "custody" for r in range(min(n, 50)))
    # Nothing matches: the empty state says so.
    lst.search.setText("Zzyzxqv Quuxbaz")
    wait_list(qtbot, area)
    assert lst.stack.currentWidget() is lst.empty_match
    assert lst.count_label.text() == "0 matches"
    lst.clear_filters()
    wait_list(qtbot, area)
    assert lst.stack.currentWidget() is lst.table


def test_viewer_reads_but_cannot_edit(make_app: Any, demo_vault: Path, qtbot: Any) -> None:
    from tests.conftest import PASSPHRASE
    from tests.ui.conftest import unlock_with

    ctl = make_app(vault_path=demo_vault)
    ctl.start()
    unlock_with(qtbot, ctl, "vic", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=15_000)
    area = go_to(qtbot, ctl, "nominals")
    wait_list(qtbot, area)
    assert not area.list.new_button.isVisible()
    area.list.table.selectRow(0)
    qtbot.keyClick(area.list.table, Qt.Key.Key_Return)
    page = area.record
    assert page.view.surname.isReadOnly() and not page.view.save_button.isVisible()
    assert "cannot change" in page.view.banner.text()
    qtbot.keyClick(page.view.tabs, Qt.Key.Key_Escape)
    assert area.currentWidget() is area.list
    assert QApplication.activeModalWidget() is None

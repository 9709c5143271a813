"""The data-quality panel through the real window: every rule with its count; choosing a rule
lists its records; Enter opens one with its faults at the top of the form."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.services.quality import QualityService
from tests.ui import test_nominals_support as support
from tests.ui.conftest import OFFSCREEN_NOISE
from tests.ui.test_nominals_support import go_to

demo_template = support.demo_template
demo_vault = support.demo_vault
signed_in = support.signed_in

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def test_rule_counts_records_and_faults_on_the_form(signed_in: Any, qtbot: Any) -> None:
    ctl = signed_in
    area = go_to(qtbot, ctl, "quality")
    panel = area.panel
    qtbot.waitUntil(lambda: not panel.loading, timeout=20_000)
    summary = QualityService(ctl.vault).summary()
    shown = {panel.rules.record(r).rule.id: panel.rules.index(r, 1).data()
             for r in range(panel.rules.rowCount())}
    assert shown == {c.rule.id: f"{c.count:,}" for c in summary}

    # Choose a rule with faults (the demo plants them): its records appear.
    row = next(i for i, c in enumerate(summary) if c.count and c.rule.id != "duplicates_open")
    rule = summary[row]
    panel.rule_table.setFocus()
    panel.rule_table.selectRow(row)
    assert panel.selected_rule() is not None and panel.selected_rule().rule.id == rule.rule.id
    assert panel.records.rowCount() == rule.count
    assert panel.rule_title.text().startswith(rule.rule.title)
    expected = QualityService(ctl.vault).records_for(rule.rule.id, 0, 5)
    assert [panel.records.record(r).ref for r in range(min(5, rule.count))] == \
        [r.ref for r in expected]

    # Enter on the rule moves to its records; Enter on a record opens it, faults on top.
    qtbot.keyClick(panel.rule_table, Qt.Key.Key_Return)
    assert panel.record_table.hasFocus()
    panel.record_table.selectRow(0)
    qtbot.keyClick(panel.record_table, Qt.Key.Key_Return)
    page = area.record
    assert page is not None and area.currentWidget() is page
    assert page.ref == expected[0].ref
    assert page.view.faults.isVisible()
    assert rule.rule.title in page.view.faults.text()
    qtbot.keyClick(page.view.tabs, Qt.Key.Key_Escape)
    assert area.currentWidget() is panel

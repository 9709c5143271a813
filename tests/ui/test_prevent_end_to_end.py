"""Through the real window, from the keyboard only: a referral from intake to a closed outcome
with its 6- and 12-month reviews scheduled. Services are used only to set up the register and to
check the result."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from tests.conftest import PASSPHRASE
from tests.ui.conftest import OFFSCREEN_NOISE, unlock_with

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def analyst_vault(tmp_path: Path) -> Path:
    """A vault with admin alice, analyst ana, and one institution in the register."""
    from app.domain.prevent import InstitutionInput
    from app.domain.roles import Role
    from app.security.secrets import MemorySecretStore
    from app.services.institutions import InstitutionService
    from app.services.users import UserService
    from app.services.vault import Actor, create_vault

    path = tmp_path / "vault.cwv"
    vault, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=MemorySecretStore())
    UserService(vault).add_user("ana", "analyst", PASSPHRASE)
    vault.actor = Actor("ana", Role.ANALYST)
    InstitutionService(vault).add(InstitutionInput("Ashbrook Park Academy", "school", "Ashbrook"))
    vault.lock()
    return path


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def name_of(widget: QWidget) -> str:
    if widget.accessibleName():
        return widget.accessibleName()
    if isinstance(widget, QAbstractButton):
        return widget.text().replace("&", "")
    return ""


def tab_to(qtbot: Any, name: str, limit: int = 40) -> QWidget:
    """Press Tab until the named field has the focus (as a user would)."""
    for _ in range(limit):
        if name_of(focused()) == name:
            return focused()
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {name!r}; stuck on {name_of(focused())!r}")


def type_into(qtbot: Any, name: str, text: str) -> None:
    qtbot.keyClicks(tab_to(qtbot, name), text)


def press(qtbot: Any, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
          ) -> None:
    qtbot.keyClick(focused(), key, modifier)


NDM_TEXT = {
    "1. Information and intelligence": "PNC and PND searched; school lead spoken to.",
    "2. Threat and risk; working strategy": "Low threat; vulnerable through isolation.",
    "3. Powers and policy": "Prevent duty guidance applies; no police powers needed.",
    "4. Options and contingencies": "NFA, early help, or Channel panel considered.",
    "5. Action and review": "Proceed as decided; review at closure.",
    "Code of Ethics": "Fair and proportionate; respects privacy.",
    "Decision": "As recorded.",
    "Rationale": "Concerns are not criminal and are being addressed.",
    "Necessity (HRA)": "Necessary to safeguard a young person.",
    "Proportionality (HRA)": "The least intrusive option that meets the need.",
}


def fill_ndm(qtbot: Any, decision: str) -> None:
    for name, text in NDM_TEXT.items():
        type_into(qtbot, name, decision if name == "Decision" else text)


def test_referral_intake_to_closure_from_the_keyboard(
    make_app: Any, qtbot: Any, analyst_vault: Path
) -> None:
    ctl = make_app(vault_path=analyst_vault)
    ctl.start()
    unlock_with(qtbot, ctl, "ana", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None and ctl.window.isVisible(), timeout=15_000)
    window = ctl.window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    # Go ▸ Prevent referrals: Ctrl+N, N its place in the navigation.
    place = window.visible_areas().index("referrals") + 1
    assert place <= 9
    qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0.value + place),
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.current_area() == "referrals")
    area = window.area_widget("referrals")
    assert area is not None
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.waitUntil(lambda: not area.queue.loading and area.queue.table.hasFocus())
    assert area.queue.model.total == 0

    # Ctrl+N: the intake form, focus on the received time.
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = area.intake
    assert form is not None and area.currentWidget() is form
    assert name_of(focused()) == "Received date and time"

    # Saving an empty form shows messages beside the fields and saves nothing.
    press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert area.currentWidget() is form
    assert "required" in form.errors._fields["summary"][1].text()
    assert name_of(focused()) == "Source sector"  # the first bad field has the focus

    type_into(qtbot, "Referrer name", "Ms R. Teacher")
    type_into(qtbot, "Referrer organisation", "Ashbrook Park Academy")
    type_into(qtbot, "Source sector", "Education")
    assert form.sector.currentData() == "education"
    assert not form.errors._fields["source_sector"][1].isVisible()  # cleared as fixed
    type_into(qtbot, "Subject surname", "Quillfeather")
    type_into(qtbot, "Subject forenames", "Tobin")
    type_into(qtbot, "Subject date of birth", "31/02/2010")
    assert "dd/mm/yyyy" in form.errors._fields["subject.dob"][1].text()  # as typed
    for _ in range(10):
        press(qtbot, Qt.Key.Key_Backspace)
    qtbot.keyClicks(focused(), "03/02/2010")
    assert not form.errors._fields["subject.dob"][1].isVisible()
    qtbot.waitUntil(lambda: not form.checking and not form._timer.isActive())
    assert form.match_model.rowCount() == 0  # nobody known yet
    type_into(qtbot, "Concern type", "Extreme")
    assert form.concern.currentData() == "extreme_right_wing"
    type_into(qtbot, "Search institutions", "Ashbrook")
    press(qtbot, Qt.Key.Key_Return)
    assert form.institutions.ids() and form.institutions.chosen.count() == 1
    type_into(qtbot, "Summary", "Year 10 pupil sharing extreme right-wing material in class.")
    type_into(qtbot, "Note title", "School log extract")
    type_into(qtbot, "Note text", "Two incidents logged by the form tutor.")
    tab_to(qtbot, "Add note")
    press(qtbot, Qt.Key.Key_Space)
    assert form.notes == [("School log extract", "Two incidents logged by the form tutor.")]
    tab_to(qtbot, "Immediate risk")
    press(qtbot, Qt.Key.Key_Space)
    assert form.immediate.isChecked() and form.risk_note.isVisible()
    press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    # Saved: the workspace opens; the queue shows it first, in red.
    qtbot.waitUntil(lambda: area.workspace is not None and area.currentWidget() is area.workspace)
    ws = area.workspace
    assert ws is not None
    ref = ws.detail.ref
    assert ws.risk_banner.isVisible()
    qtbot.waitUntil(lambda: not area.queue.loading)
    first = area.queue.model.record(0)
    assert first.ref == ref and first.immediate_risk

    # Alt+2: the gateway assessment. Add a check (Space on "Add check"), fill the result.
    press(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert ws.tabs.tabText(ws.tabs.currentIndex()) == "Gateway assessment"
    assert name_of(focused()) == "Add check"
    press(qtbot, Qt.Key.Key_Space)
    table = ws.gateway_form.table
    assert focused() is table and ws.gateway_form.checks.rowCount() == 1
    press(qtbot, Qt.Key.Key_Right)
    press(qtbot, Qt.Key.Key_Right)
    press(qtbot, Qt.Key.Key_F2)
    qtbot.keyClicks(focused(), "No trace on PNC")
    press(qtbot, Qt.Key.Key_Return)  # the view commits the edit on its next turn
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState)
    assert ws.gateway_form.checks.checks()[0].result == "No trace on PNC"
    assert ws.gateway_form.checks.checks()[0].system == "PNC"
    press(qtbot, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)  # the CT risk (mnemonic)
    assert name_of(focused()) == "CT risk"
    qtbot.keyClicks(focused(), "No")
    assert ws.gateway_form.ct_risk.currentData() == "no"
    fill_ndm(qtbot, "No CT risk: not for Pursue; proceed to an outcome.")
    tab_to(qtbot, "Record gateway decision")
    press(qtbot, Qt.Key.Key_Space)

    # The outcome tab opens with the outcome chosen by typing.
    qtbot.waitUntil(lambda: ws.tabs.tabText(ws.tabs.currentIndex()) == "Outcome")
    assert ws.detail.stage == "decision" and ws.detail.decided_on == date.today()
    assert name_of(focused()) == "Outcome"
    qtbot.keyClicks(focused(), "Signposted")
    assert ws.outcome.currentData() == "signposted" and ws.signpost.isEnabled()
    tab_to(qtbot, "Signposted to")
    qtbot.keyClicks(focused(), "Early")
    fill_ndm(qtbot, "Signpost to early help.")
    tab_to(qtbot, "Record outcome")
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.detail.outcome == "signposted")
    assert ws.detail.signposted_to == "early_help"

    # Close: the reviews at 6 and 12 months are previewed, then scheduled.
    assert name_of(focused()) == "Closed on"
    assert "6 months" in ws.review_preview.text()
    type_into(qtbot, "Reason for closing", "Signposted to early help; nothing further for Prevent.")
    tab_to(qtbot, "Close referral and schedule reviews")
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.detail.closed_on is not None)

    # The result, checked through the core.
    from app.domain.rules import closure_reviews
    from app.services.referrals import ReferralService

    services = ctl.services
    detail = services.get(ReferralService).show(ref)
    assert detail.stage == "closed" and detail.closed_on == date.today()
    assert detail.surname == "Quillfeather" and detail.dob == date(2010, 2, 3)
    assert detail.immediate_risk and [i["name"] for i in detail.institutions] == [
        "Ashbrook Park Academy"]
    assert [n["title"] for n in detail.notes] == ["School log extract"]
    assert [d.kind for d in detail.decisions] == ["gateway", "outcome"]
    assert detail.decisions[0].decision_maker == "ana"
    expected = closure_reviews(date.today(), (6, 12))
    assert [(r.months, r.due_on) for r in detail.reviews] == list(zip((6, 12), expected,
                                                                      strict=True))
    # ...and shown as due dates in the window.
    shown = ws.reviews_box.findChildren(type(ws.title))
    texts = " ".join(label.text() for label in shown)
    assert "6-month review:" in texts and "12-month review:" in texts
    assert f"{expected[1].day} {expected[1].strftime('%b %Y')} (due)" in texts

    # Escape goes back to the queue, where the referral has left the triage list.
    press(qtbot, Qt.Key.Key_Escape)
    assert area.currentWidget() is area.queue
    qtbot.waitUntil(lambda: not area.queue.loading)
    assert area.queue.model.total == 0

"""The Today view: the end-to-end "log a contact and it leaves the overdue list" through the
real window, counts and empty states, "show all" paging, and the engagement tabs and dialogs
the nominal record embeds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.security.secrets import MemorySecretStore
from app.services.engagement import EngagementService
from app.services.users import UserService
from app.services.vault import Vault, unlock_vault
from tests.conftest import PASSPHRASE
from tests.services.test_engagement import add_nominal, coord, users  # noqa: F401
from tests.ui.conftest import unlock_with
from tests.ui.test_calendar_view import make_services

TODAY = date.today()


def overdue_nominal(v: Vault, days_late: int = 10, **values: Any) -> str:
    """A high-risk community nominal (every 14 days) last seen 14 + days_late days ago."""
    ref = add_nominal(v, **values)
    when = TODAY - timedelta(days=14 + days_late)
    EngagementService(v).log_contact(ref, datetime(when.year, when.month, when.day, 9, 30),
                                     "home_visit", "DC Example", "made")
    return ref


def test_log_contact_from_today_and_it_leaves_the_overdue_list(
    make_app: Any, existing_vault: Path, qtbot: Any,
) -> None:
    """The issue's "Done when": through the real window, as a coordinator would."""
    from PySide6.QtCore import Qt

    admin = unlock_vault(existing_vault, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    UserService(admin).add_user("carol", "coordinator", PASSPHRASE)
    admin.lock()
    carol = unlock_vault(existing_vault, "carol", PASSPHRASE, secret_store=MemorySecretStore())
    late = overdue_nominal(carol, 10)
    also_late = overdue_nominal(carol, 3)
    carol.lock()

    ctl = make_app(vault_path=existing_vault)
    ctl.start()
    unlock_with(qtbot, ctl, "carol", PASSPHRASE)
    qtbot.waitUntil(lambda: ctl.services is not None and ctl.window.isVisible(), timeout=15_000)
    assert ctl.window.current_area() == "today"  # the home screen after unlock
    today = ctl.window.area_widget("today")
    qtbot.waitUntil(lambda: today.summary is not None and not today.busy, timeout=20_000)
    card = today.cards["overdue_contacts"]
    assert card.refs() == [late, also_late]  # the longest overdue first
    assert card.badge.text() == "2"
    assert not today.log_button.isEnabled()

    card.table.setFocus()
    card.table.selectRow(0)
    assert today.log_button.isEnabled()
    qtbot.mouseClick(today.log_button, Qt.MouseButton.LeftButton)
    from ui.engagement.dialogs import LogContactDialog

    dialog = today.findChildren(LogContactDialog)[0]
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert dialog.ref == late
    dialog.set_values(contact_type="phone", notes="Synthetic test contact.",
                      next_planned=TODAY + timedelta(days=7))
    dialog.officer.clear()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.officer_error.isVisible()  # officer is required
    qtbot.keyClicks(dialog.officer, "DC Example")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: card.refs() == [also_late] and not today.busy, timeout=20_000)
    assert card.badge.text() == "1"
    week = today.cards["due_this_week"].refs()
    assert late not in week  # next due in 14 days: beyond this week
    logged = EngagementService(ctl.vault).contacts(late)
    assert logged[0].contact_type == "phone" and logged[0].officer == "DC Example"


def test_today_counts_empty_states_and_show_all(
    coord: Vault, qtbot: Any, runner: Any, fake_dialogs: Any, settings: Any,  # noqa: F811
    monkeypatch: Any,
) -> None:
    import ui.views.today as module

    monkeypatch.setattr(module, "PAGE", 2)
    refs = [overdue_nominal(coord, 20 - n) for n in range(5)]
    services = make_services(coord, runner, fake_dialogs, settings)
    view = module.TodayView(services)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.summary is not None and not view.busy, timeout=20_000)
    card = view.cards["overdue_contacts"]
    assert card.refs() == refs and card.badge.property("level") == "bad"
    actions = view.cards["overdue_actions"]
    assert actions.badge.text() == "0" and actions.body.currentWidget() is actions.empty
    assert "No overdue actions" in actions.empty.text()
    assert not actions.show_all.isVisible()

    dialog = view.show_all("overdue_contacts")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.model.total == 5 and not dialog.model.pending,
                    timeout=20_000)
    assert dialog.model.rowCount() >= 2  # pages of 2; the table asks for more to fill itself
    while dialog.model.canFetchMore():
        dialog.model.fetchMore()
        qtbot.waitUntil(lambda: not dialog.model.pending, timeout=20_000)
    assert [i.ref for i in dialog.model.items()] == refs
    with qtbot.waitSignal(view.open_record_requested, timeout=2000) as signal:
        dialog.table.doubleClicked.emit(dialog.model.index(1, 0))
    assert signal.args == ["contact_due", refs[1]]
    dialog.reject()
    runner.wait(10_000)


def test_engagement_tabs_and_plan_dialog(
    coord: Vault, qtbot: Any, runner: Any, fake_dialogs: Any, settings: Any,  # noqa: F811
    qtmodeltester: Any, request: Any,
) -> None:
    from ui.engagement import NominalEngagementTabs

    ref = overdue_nominal(coord, 2)
    eng = EngagementService(coord)
    eng.add_notification(ref, TODAY - timedelta(days=30), sentence_months=130)
    eng.add_order(ref, "TPIM", TODAY - timedelta(days=20))
    table = eng.pathway_catalogue()
    eng.add_pathway(ref, next(iter(table.pathways)), table.need_levels[0],
                    next(iter(table.statuses)), interventions="Synthetic mentoring")
    services = make_services(coord, runner, fake_dialogs, settings)
    tabs = NominalEngagementTabs(services, ref)
    qtbot.addWidget(tabs)
    request.node.keep_alive = tabs  # the model tester disconnects from its model at teardown
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "Contacts", "Notification", "Civil orders", "Pathways"]
    contacts = tabs.contacts
    assert contacts.model.rowCount() == 1
    assert "Every 14 days" in contacts.plan_text.text()
    assert "(overdue)" in contacts.plan_text.text()
    rule = tabs.notifications.model.index(0, 1).data()
    assert rule.startswith("30 years") and "10 years or more" in rule
    assert tabs.orders.model.index(0, 0).data().startswith("TPIM")
    assert tabs.orders.model.index(0, 3).data()  # the next quarterly review date
    assert tabs.pathways.model.rowCount() == 1
    for model in (contacts.model, tabs.notifications.model, tabs.orders.model,
                  tabs.pathways.model):
        qtmodeltester.check(model, force_py=True)

    dialog = contacts.edit_plan()
    dialog.override.setChecked(True)
    dialog.days.setValue(7)
    dialog.save()
    assert dialog.reason_error.isVisible()  # a reason is required
    dialog.reason.setText("Synthetic: recent escalation")
    with qtbot.waitSignal(contacts.changed, timeout=2000):
        dialog.save()
    assert "Every 7 days (override: Synthetic: recent escalation)" in contacts.plan_text.text()

    log = contacts.log_contact()
    log.set_values(contact_type="phone", outcome="made")
    with qtbot.waitSignal(contacts.changed, timeout=2000):
        log.save()
    assert contacts.model.rowCount() == 2
    assert "(overdue)" not in contacts.plan_text.text()


def test_pathway_map_lists_who_is_on_each_pathway(
    coord: Vault, qtbot: Any, runner: Any, fake_dialogs: Any, settings: Any,  # noqa: F811
    qtmodeltester: Any,
) -> None:
    from ui.engagement import PathwayMapView

    eng = EngagementService(coord)
    table = eng.pathway_catalogue()
    first = next(iter(table.pathways))
    status = next(iter(s for s in table.statuses if s in table.open_statuses))
    refs = [add_nominal(coord) for _ in range(2)]
    for ref in refs:
        eng.add_pathway(ref, first, table.need_levels[-1], status)
    view = PathwayMapView(make_services(coord, runner, fake_dialogs, settings))
    qtbot.addWidget(view)
    assert view.model.index(0, 0).data() == table.pathways[first]
    assert view.model.index(0, 1).data() == "2"
    qtmodeltester.check(view.model, force_py=True)
    assert [view.members.item(i).text() for i in range(view.members.count())] == refs
    with qtbot.waitSignal(view.open_record_requested, timeout=2000) as signal:
        view.members.itemActivated.emit(view.members.item(0))
    assert signal.args == ["nominal", refs[0]]

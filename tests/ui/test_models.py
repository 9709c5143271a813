"""Every Qt model the window uses passes pytest-qt's model tester; the audit model pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.services.audit import AuditFilter, AuditService
from app.services.users import UserService
from tests.conftest import PASSPHRASE


def test_audit_table_model(vault: Any, qtmodeltester: Any) -> None:
    from PySide6.QtCore import Qt

    from ui.views.audit import AuditTableModel

    users = UserService(vault)
    for i in range(12):
        users.add_user(f"user{i:02d}", "viewer", PASSPHRASE)
    service = AuditService(vault)
    model = AuditTableModel(service, page_size=5)
    model.load(AuditFilter())
    total = service.count()
    assert model.total == total and model.rowCount() == 5
    qtmodeltester.check(model, force_py=True)
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == total
    ids = [model.record(r).id for r in range(model.rowCount())]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == total
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, 0).data().count("/") == 2  # dd/mm/yyyy
    assert model.headerData(0, Qt.Orientation.Horizontal) == "When"


def test_audit_model_filters_and_skips_rows_added_while_paging(vault: Any) -> None:
    from ui.views.audit import AuditTableModel

    users = UserService(vault)
    for i in range(6):
        users.add_user(f"user{i:02d}", "viewer", PASSPHRASE)
    service = AuditService(vault)
    model = AuditTableModel(service, page_size=3)
    model.load(AuditFilter(text="user.add"))
    first = model.total
    assert first == 7  # six added users plus the admin
    users.add_user("late", "viewer", PASSPHRASE)  # shifts every offset by one
    while model.canFetchMore():
        model.fetchMore()
    ids = [model.record(r).id for r in range(model.rowCount())]
    assert len(ids) == len(set(ids)) == first
    model.load(AuditFilter(since=date(2000, 1, 1), until=date(2000, 1, 2)))
    assert model.rowCount() == 0 and not model.canFetchMore()
    model.clear()
    assert model.rowCount() == 0


def test_users_table_model(vault: Any, qtmodeltester: Any) -> None:
    from PySide6.QtCore import Qt

    from ui.views.admin import UsersTableModel

    users = UserService(vault)
    users.add_user("b.hale", "coordinator", PASSPHRASE, display_name="Bea Hale")
    model = UsersTableModel()
    model.set_users(users.list_users())
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2
    assert model.index(1, 1).data() == "Bea Hale"
    assert model.index(1, 0).data(UsersTableModel.RecordRole).name == "b.hale"
    assert model.index(1, 2).data(UsersTableModel.SortRole) == "coordinator"
    assert model.index(0, 5).data(Qt.ItemDataRole.DecorationRole) is not None

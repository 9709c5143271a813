"""The audit log pages by key: a page continues past the last row shown, in either order."""

from __future__ import annotations

from typing import Any

from app.services.audit import AuditFilter, AuditService
from app.services.users import UserService
from tests.conftest import PASSPHRASE


def _walk(service: AuditService, flt: AuditFilter, newest_first: bool) -> list[int]:
    ids: list[int] = []
    while True:
        page = service.page(flt, limit=4, newest_first=newest_first,
                            after_id=ids[-1] if ids else None)
        if not page:
            return ids
        ids.extend(r.id for r in page)


def test_keyset_pages_cover_the_log_once_in_both_orders(vault: Any) -> None:
    users = UserService(vault)
    for i in range(9):
        users.add_user(f"user{i:02d}", "viewer", PASSPHRASE)
    service = AuditService(vault)
    every = [r.id for r in service.page(limit=10_000)]
    newest = _walk(service, AuditFilter(), newest_first=True)
    oldest = _walk(service, AuditFilter(), newest_first=False)
    assert newest == every and oldest == list(reversed(every))
    assert len(every) == service.count() > 9


def test_keyset_page_keeps_the_filter_and_ignores_rows_written_meanwhile(vault: Any) -> None:
    users = UserService(vault)
    for i in range(5):
        users.add_user(f"user{i:02d}", "viewer", PASSPHRASE)
    service = AuditService(vault)
    flt = AuditFilter(text="user.add")
    first = service.page(flt, limit=2)
    users.add_user("late", "viewer", PASSPHRASE)  # newer than every row already shown
    rest = service.page(flt, limit=100, after_id=first[-1].id)
    seen = [r.id for r in first + rest]
    assert len(seen) == len(set(seen)) == 6  # five added users plus the admin, "late" not
    assert all(r.action == "user.add" for r in first + rest)

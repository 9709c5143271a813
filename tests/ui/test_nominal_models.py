"""Every Qt model of the nominal windows passes pytest-qt's model tester; the list model holds
a window of pages and sorts through the service; UK dates parse strictly."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest

from app.domain.nominal import NominalFilter, SortKey
from app.services.duplicates import DuplicateCandidate
from app.services.nominals import HistoryEntry, NominalService
from app.services.quality import QualityService
from tests.services.test_nominals_support import as_user, person


@pytest.fixture
def coordinator(vault: Any, vault_path: Any, store: Any) -> Any:
    return as_user(vault, vault_path, store, "cora", "coordinator")


def test_nominal_table_model_pages_and_sorts_in_sql(coordinator: Any,
                                                    qtmodeltester: Any) -> None:
    from PySide6.QtCore import Qt

    from ui.nominals.common import RECORD_ROLE, SORT_ROLE
    from ui.nominals.models import NominalTableModel

    service = NominalService(coordinator)
    names = ["Pritchard", "Ó Súilleabháin", "Nowak", "Wiśniewski", "al-Hashimi", "Evans",
             "Jones", "Brzęczyszczykiewicz", "Davies", "Okafor", "Haddad", "Lewis"]
    for i, surname in enumerate(names):
        service.add(person(surname, f"Test{i}", dob=date(1980 + i, 1 + i % 12, 1 + i)))
    calls: list[tuple[Any, ...]] = []

    def fetch(flt: NominalFilter, key: SortKey, desc: bool, offset: int, limit: int) -> Any:
        calls.append((key, desc, offset, limit))
        return service.page(flt, key, desc, offset, limit)

    model = NominalTableModel(fetch, page_size=5, max_pages=2)
    total = service.count()
    model.load(NominalFilter(), total, service.page(NominalFilter(), SortKey.NAME, False, 0, 5))
    assert model.rowCount() == total == 12 and model.cached_rows() == 5
    qtmodeltester.check(model, force_py=True)
    # Reading every row never holds more than the window of pages.
    refs = [model.index(r, 0).data() for r in range(total)]
    assert len(set(refs)) == total and model.cached_rows() <= 10
    assert model.index(0, 1).data(SORT_ROLE) == ("al-hashimi", "test4")
    assert model.index(0, 0).data(RECORD_ROLE).surname == "al-Hashimi"
    # A header click asks the service for the new order; nothing is sorted here.
    calls.clear()
    model.sort(2, Qt.SortOrder.DescendingOrder)
    dobs = [model.index(r, 2).data(SORT_ROLE) for r in range(total)]
    assert dobs == sorted(dobs, reverse=True)
    assert calls and all(c[0] == SortKey.DOB for c in calls)  # (far pages read backwards)
    assert model.index(0, 2).data() == "12/12/1991"  # dd/mm/yyyy
    model.clear()  # (the tester, still attached, checks the resets)
    assert model.rowCount() == 0


def test_small_models(coordinator: Any, qtmodeltester: Any) -> None:
    from ui.nominals.models import (
        DuplicatePairTableModel,
        EditableRowsTableModel,
        EditColumn,
        HistoryTableModel,
        RuleTableModel,
    )

    history = HistoryTableModel()
    history.set_entries([
        HistoryEntry(datetime(2024, 1, 2, 3, 4), "cora", "create", "", "surname", None, "Evans"),
        HistoryEntry(datetime(2024, 2, 2, 3, 4), "cora", "update", "Moved", "dates.led",
                     "2030-01-01", "2031-02-03"),
        HistoryEntry(datetime(2024, 2, 2, 3, 4), "cora", "update", "Moved", "aliases", [],
                     [["Evens", "Dai", None]]),
    ])
    qtmodeltester.check(history, force_py=True)
    assert history.index(0, 3).data() == "Aliases"
    assert history.index(0, 5).data() == "Evens · Dai"
    assert [history.index(1, c).data() for c in (3, 4, 5)] == ["LED", "01/01/2030",
                                                               "03/02/2031"]
    assert history.index(2, 2).data() == "Created"

    pairs = DuplicatePairTableModel()
    now = datetime(2024, 1, 1)
    pairs.set_rows([DuplicateCandidate("NM-000001", "NM-000002", 0.97, ("same PNC",), now),
                    DuplicateCandidate("NM-000003", "NM-000004", 0.81, ("same dob",), now)])
    qtmodeltester.check(pairs, force_py=True)
    assert pairs.index(0, 0).data() == "97%"
    pairs.remove("NM-000002", "NM-000001")
    assert pairs.rowCount() == 1 and pairs.record(0).a == "NM-000003"
    pairs.remove_ref("NM-000004")
    assert pairs.rowCount() == 0

    rules = RuleTableModel()
    rules.set_rows(QualityService(coordinator).summary())
    qtmodeltester.check(rules, force_py=True)
    assert rules.rowCount() == len(QualityService(coordinator).rules())

    rows = EditableRowsTableModel([EditColumn("Type", choices=(("pnc", "PNC"), ("cro", "CRO"))),
                                   EditColumn("Value")])
    rows.add_row()
    rows.add_row(["cro", "12345/99X"])
    qtmodeltester.check(rows, force_py=True)
    assert rows.index(0, 0).data() == "PNC" and rows.rows()[0] == ["pnc", ""]
    assert rows.setData(rows.index(0, 1), "2009/0123456P")
    assert rows.rows() == [["pnc", "2009/0123456P"], ["cro", "12345/99X"]]
    rows.read_only = True
    assert not rows.setData(rows.index(0, 1), "x")
    rows.remove_row(0)
    assert rows.rows() == [["cro", "12345/99X"]]


@pytest.mark.parametrize(("text", "expected"), [
    ("", None), ("  ", None), ("01/04/1990", date(1990, 4, 1)), ("1/4/1990", date(1990, 4, 1)),
    ("1.4.1990", date(1990, 4, 1)), ("01-04-1990", date(1990, 4, 1)),
    ("01041990", date(1990, 4, 1)), ("1990-04-01", date(1990, 4, 1)),
    ("29/02/2024", date(2024, 2, 29)),
])
def test_uk_dates_parse(text: str, expected: date | None) -> None:
    from ui.nominals.common import parse_uk_date

    assert parse_uk_date(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("31/02/2020", "is not a real date"), ("29/02/2023", "is not a real date"),
    ("1/4/90", "needs the year in full (four digits)"), ("April 1990", "is not a date"),
    ("01/13/1990", "is not a real date"), ("1990/04/01", "is not a date"),
])
def test_uk_dates_refused_with_a_reason(text: str, message: str) -> None:
    from ui.nominals.common import DateTextError, parse_uk_date

    with pytest.raises(DateTextError, match=re.escape(message)):
        parse_uk_date(text)


def test_far_pages_read_from_the_end_and_in_the_background(coordinator: Any,
                                                           qtmodeltester: Any) -> None:
    from ui.nominals.models import PLACEHOLDER, NominalTableModel

    service = NominalService(coordinator)
    for i in range(23):
        service.add(person(f"Surname{i:02d}", "Test", dob=date(1970 + i, 1, 1)))
    calls: list[tuple[Any, ...]] = []
    queued: list[tuple[Any, Any]] = []

    def fetch(flt: NominalFilter, key: SortKey, desc: bool, offset: int, limit: int) -> Any:
        calls.append((desc, offset, limit))
        return service.page(flt, key, desc, offset, limit)

    model = NominalTableModel(fetch, page_size=5, max_pages=3,
                              async_fetch=lambda read, done: queued.append((read, done)))
    qtmodeltester.check(model, force_py=True)
    model.load(NominalFilter(), 23, service.page(NominalFilter(), SortKey.NAME, False, 0, 5))
    expected = [r.ref for r in service.page(NominalFilter(), SortKey.NAME, False, 0, 100)]
    # A row not held yet shows a placeholder and asks for its page in the background.
    assert model.index(21, 1).data() == PLACEHOLDER and len(queued) == 1
    assert model.index(22, 1).data() == PLACEHOLDER and len(queued) == 1  # asked once
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles: changed.append((a.row(), b.row())))
    read, done = queued.pop()
    done(read())
    assert changed == [(20, 22)]
    # Rows 20-22 came from the far end, in the opposite order, and read the right way round.
    assert calls[-1] == (True, 0, 3)
    assert [model.index(r, 0).data() for r in range(20, 23)] == expected[20:23]
    # A page that arrives after the order changed is dropped.
    model.index(12, 1).data()
    read, done = queued.pop()
    model.sort(2)
    done(read())
    assert not changed[1:]
    # Everything reads back in the service's order (synchronously through record()).
    model.sort(1)
    assert [model.record(r).ref for r in range(23)] == expected
    # The count arriving after the first page grows the list.
    model.load(NominalFilter(), 5, service.page(NominalFilter(), SortKey.NAME, False, 0, 5))
    model.set_total(23)
    assert model.rowCount() == 23
    model.set_total(10)
    assert model.rowCount() == 10

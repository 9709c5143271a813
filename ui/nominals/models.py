"""Qt table models of the nominal windows: the Nominals list (a window of pages over 100,000
rows, sorted in SQL), a record's history, duplicate pairs, data-quality rules, and the small
editable tables of a record (aliases, identifiers, addresses)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.domain.nominal import NominalFilter, NominalRow, Severity, SortKey
from ui.nominals.common import (
    RECORD_ROLE,
    RISK_LABELS,
    SORT_ROLE,
    STATUS_LABELS,
    field_label,
    local_datetime,
    uk_date,
)
from ui.tablemodel import RowTableModel

if TYPE_CHECKING:  # annotations only: the Nominals list must not wait for matching's imports
    from app.services.duplicates import DuplicateCandidate
    from app.services.nominals import HistoryEntry
    from app.services.quality import RuleCount

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
DISPLAY = Qt.ItemDataRole.DisplayRole
EDIT = Qt.ItemDataRole.EditRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
PAGE_SIZE = 200
MAX_PAGES = 12  # pages kept in memory: a few thousand rows whatever the vault's size

PageFetch = Callable[[NominalFilter, SortKey, bool, int, int], list[NominalRow]]
# Runs a fetch off the UI thread and hands its rows back to a callback in the UI thread.
AsyncRunner = Callable[[Callable[[], list[NominalRow]], Callable[[list[NominalRow]], None]], None]
PLACEHOLDER = "…"

RISK_COLOURS = {"high": QColor("#b3261e"), "medium": QColor("#9a6700"),
                "low": QColor("#1e7a46")}
ERROR_COLOUR = QColor("#b3261e")
WARNING_COLOUR = QColor("#8a5a00")


# -- the Nominals list ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    title: str
    sort: SortKey | None
    width: int


NOMINAL_COLUMNS: tuple[Column, ...] = (
    Column("Ref", SortKey.REF, 96),
    Column("Name", SortKey.NAME, 250),
    Column("Date of birth", SortKey.DOB, 110),
    Column("PNC ID", SortKey.PNC, 140),
    Column("Status", SortKey.STATUS, 100),
    Column("Risk", SortKey.RISK, 76),
    Column("Nominal manager", SortKey.MANAGER, 190),
    Column("Force", SortKey.FORCE, 180),
    Column("Establishment", SortKey.ESTABLISHMENT, 170),
    Column("Release date", SortKey.RELEASE_DATE, 110),
)


def _display(r: NominalRow, col: int) -> str:
    if col == 0:
        return r.ref
    if col == 1:
        return f"{r.surname.upper()}, {r.forenames}".rstrip(", ")
    if col == 2:
        return uk_date(r.dob)
    if col == 3:
        return r.pnc or ""
    if col == 4:
        return STATUS_LABELS.get(r.status, "") if r.status else ""
    if col == 5:
        return RISK_LABELS.get(r.risk_level, "") if r.risk_level else ""
    if col == 6:
        return r.nominal_manager or ""
    if col == 7:
        return r.force or ""
    if col == 8:
        return r.establishment or ""
    return uk_date(r.release_date)


def _raw(r: NominalRow, col: int) -> Any:
    values = (r.ref, (r.surname.casefold(), r.forenames.casefold()), r.dob, r.pnc,
              r.status.value if r.status else None,
              r.risk_level.value if r.risk_level else None, r.nominal_manager, r.force,
              r.establishment, r.release_date)
    return values[col]


class NominalTableModel(QAbstractTableModel):
    """The Nominals list: ``rowCount`` is the filter's full count, but only a window of pages
    is held; a page is fetched when a row in it is first shown and the least recently used
    page is dropped. Sorting asks the service for a new order (SQL), never sorts here.

    With an ``async_fetch`` runner, a page the view asks for is fetched off the UI thread
    (its rows show "…" meanwhile), so dragging the scroll bar never freezes the window. A page
    past the middle is read in the opposite order from the far end, which SQL's OFFSET makes
    much cheaper than counting up from the start.

    ``load(filter, total, first_page)`` takes a count and first page fetched off the UI thread.
    A ``fetch`` that ignores filter and sort (a data-quality rule's records) works as well;
    pass ``sortable=False`` then."""

    COLUMNS = NOMINAL_COLUMNS

    def __init__(self, fetch: PageFetch, *, page_size: int = PAGE_SIZE,
                 max_pages: int = MAX_PAGES, sortable: bool = True,
                 async_fetch: AsyncRunner | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._async = async_fetch
        self._pending: set[int] = set()
        self._generation = 0
        self._page_size = page_size
        self._max_pages = max(max_pages, 2)
        self._pages: OrderedDict[int, list[NominalRow]] = OrderedDict()
        self.sortable = sortable
        self.filter = NominalFilter()
        self.sort_key = SortKey.NAME
        self.descending = False
        self.total = 0
        self.fetches = 0  # pages fetched (tests and the window's timing note)

    # -- loading ----------------------------------------------------------------------------
    def load(self, flt: NominalFilter, total: int, first_page: Sequence[NominalRow]) -> None:
        self.beginResetModel()
        self.filter = flt
        self.total = max(total, len(first_page))
        self._forget_pages()
        if first_page:
            self._pages[0] = list(first_page[:self._page_size])
        self.endResetModel()

    def clear(self) -> None:
        self.load(NominalFilter(), 0, [])

    def set_total(self, total: int) -> None:
        """The count arrived after the first page: grow (or shrink) the list to it."""
        if total > self.total:
            self.beginInsertRows(QModelIndex(), self.total, total - 1)
            self.total = total
            self.endInsertRows()
        elif total < self.total:
            self.beginRemoveRows(QModelIndex(), total, self.total - 1)
            self.total = total
            self.endRemoveRows()

    def _forget_pages(self) -> None:
        self._pages.clear()
        self._pending.clear()
        self._generation += 1  # pages on their way for the old order or filter are dropped

    def set_sort(self, key: SortKey, descending: bool) -> None:
        """Remember an order without fetching (before the first load)."""
        self.sort_key, self.descending = key, descending

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not self.sortable or not 0 <= column < len(self.COLUMNS):
            return
        key = self.COLUMNS[column].sort
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self.sort_key, self.descending):
            return
        # Rows are fetched again, in the new order, as the view asks for them.
        self.beginResetModel()
        self.sort_key, self.descending = key, descending
        self._forget_pages()
        self.endResetModel()

    def sort_column(self) -> int:
        for i, column in enumerate(self.COLUMNS):
            if column.sort == self.sort_key:
                return i
        return -1

    def _reader(self, number: int) -> Callable[[], list[NominalRow]]:
        """A function that fetches page ``number`` (safe to run on another thread)."""
        fetch, flt, key, desc = self._fetch, self.filter, self.sort_key, self.descending
        start, total, size = number * self._page_size, self.total, self._page_size
        if self.sortable and total and start > total // 2:
            end = min(start + size, total)

            def from_the_end() -> list[NominalRow]:
                rows = fetch(flt, key, not desc, total - end, end - start)
                rows.reverse()
                return rows

            return from_the_end
        return lambda: fetch(flt, key, desc, start, size)

    def _keep(self, number: int, page: list[NominalRow]) -> None:
        self.fetches += 1
        self._pages[number] = page
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)

    def _page(self, number: int) -> list[NominalRow]:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        page = self._reader(number)()
        self._pending.discard(number)
        self._keep(number, page)
        return page

    def _request(self, number: int) -> None:
        """Fetch a page in the background; its rows are announced when it arrives."""
        assert self._async is not None
        if number in self._pending:
            return
        self._pending.add(number)
        generation = self._generation

        def arrived(page: list[NominalRow]) -> None:
            if generation != self._generation or number not in self._pending:
                return
            self._pending.discard(number)
            self._keep(number, page)
            first = number * self._page_size
            last = min(first + self._page_size, self.total) - 1
            if last >= first:
                self.dataChanged.emit(self.index(first, 0),
                                      self.index(last, len(self.COLUMNS) - 1))

        self._async(self._reader(number), arrived)

    def record(self, row: int) -> NominalRow | None:
        if not 0 <= row < self.total:
            return None
        page = self._page(row // self._page_size)
        offset = row % self._page_size
        return page[offset] if offset < len(page) else None

    def cached_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def row_of(self, ref: str) -> int:
        """The row of a ref among the pages held (-1 if not held)."""
        for number, page in self._pages.items():
            for i, r in enumerate(page):
                if r.ref == ref:
                    return number * self._page_size + i
        return -1

    # -- Qt --------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == DISPLAY:
            return self.COLUMNS[section].title
        if role == TOOLTIP and self.sortable and self.COLUMNS[section].sort is not None:
            return f"Sort by {self.COLUMNS[section].title.lower()}"
        return None

    def data(self, index: AnyIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.column() < len(self.COLUMNS):
            return None
        if role not in (DISPLAY, TOOLTIP, RECORD_ROLE, SORT_ROLE,
                        Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        if not 0 <= index.row() < self.total:
            return None
        number = index.row() // self._page_size
        if (self._async is not None and number not in self._pages
                and role in (DISPLAY, Qt.ItemDataRole.ForegroundRole)):
            self._request(number)
            return PLACEHOLDER if role == DISPLAY and index.column() == 1 else None
        r = self.record(index.row())
        if r is None:
            return None
        col = index.column()
        if role == RECORD_ROLE:
            return r
        if role == SORT_ROLE:
            return _raw(r, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 5 and r.risk_level is not None:
                return QBrush(RISK_COLOURS.get(r.risk_level.value, QColor("#1f2933")))
            return None
        if role == TOOLTIP and col != 1:
            return None
        return _display(r, col)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


# -- simple lists -----------------------------------------------------------------------------


def history_value(value: Any) -> str:
    """A history value as a person reads it: dates dd/mm/yyyy, lists one item per line."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, list):
                items.append(" · ".join(history_value(v) for v in item if v not in (None, "")))
            else:
                items.append(history_value(item))
        return "\n".join(items) if items else "—"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return uk_date(date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


ACTION_LABELS = {"create": "Created", "update": "Changed", "merge": "Merged"}


class HistoryTableModel(RowTableModel):
    """A record's revisions, newest first: when, who, what changed from what to what, why."""

    COLUMNS = ("When", "Who", "Action", "Field", "Old value", "New value", "Reason")

    def set_entries(self, entries: Sequence[HistoryEntry]) -> None:
        self.set_rows(list(reversed(entries)))

    def cell(self, r: HistoryEntry, col: int, role: int) -> Any:
        if role in (DISPLAY, TOOLTIP):
            values = (local_datetime(r.at), r.user, ACTION_LABELS.get(r.action, r.action),
                      field_label(r.field) if r.field else "(whole record)",
                      history_value(r.old),
                      history_value(r.new), r.reason)
            return values[col]
        if role == SORT_ROLE:
            return (r.at, r.user, r.action, r.field, str(r.old), str(r.new), r.reason)[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 4:
            return QBrush(QColor("#6b7785"))
        return None


class DuplicatePairTableModel(RowTableModel):
    """Candidate pairs from the last scan, best first."""

    COLUMNS = ("Score", "Records", "Reasons")

    def remove(self, a: str, b: str) -> None:
        for i, r in enumerate(self._rows):
            if {r.a, r.b} == {a, b}:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
                return

    def remove_ref(self, ref: str) -> None:
        """Drop every pair naming ``ref`` (a record merged away)."""
        for i in reversed(range(len(self._rows))):
            if ref in (self._rows[i].a, self._rows[i].b):
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()

    def cell(self, r: DuplicateCandidate, col: int, role: int) -> Any:
        if role == DISPLAY:
            return (f"{r.score:.0%}", f"{r.a} ↔ {r.b}", "; ".join(r.reasons))[col]
        if role == TOOLTIP:
            return "\n".join(r.reasons) if col == 2 else None
        if role == SORT_ROLE:
            return (r.score, (r.a, r.b), "; ".join(r.reasons))[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class RuleTableModel(RowTableModel):
    """Data-quality rules with their counts of faulty records."""

    COLUMNS = ("Check", "Records", "Severity")

    def cell(self, r: RuleCount, col: int, role: int) -> Any:
        if role == DISPLAY:
            severity = "Error" if r.rule.severity is Severity.ERROR else "Warning"
            return (r.rule.title, f"{r.count:,}", severity)[col]
        if role == TOOLTIP:
            return r.rule.description
        if role == SORT_ROLE:
            return (r.rule.title, r.count, r.rule.severity.value)[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            if r.count == 0:
                return QBrush(QColor("#1e7a46"))
            return QBrush(ERROR_COLOUR if r.rule.severity is Severity.ERROR
                          else WARNING_COLOUR)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


# -- a record's small editable tables -----------------------------------------------------------


@dataclass(frozen=True)
class EditColumn:
    title: str
    width: int = 160
    choices: tuple[tuple[str, str], ...] = ()  # (value, label): edited with a combo
    hint: str = ""


class EditableRowsTableModel(QAbstractTableModel):
    """Rows of text cells (what the user typed); the form turns them into aliases, identifiers
    or addresses and says beside the table what is wrong. Choice cells hold the value and show
    the label."""

    def __init__(self, columns: Sequence[EditColumn], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: list[list[str]] = []
        self.read_only = False
        self.problem_rows: dict[int, str] = {}  # row -> "error" | "warning"

    def rows(self) -> list[list[str]]:
        return [list(r) for r in self._rows]

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        self.beginResetModel()
        self._rows = [[str(v) for v in r] + [""] * (len(self.columns) - len(r)) for r in rows]
        self.problem_rows = {}
        self.endResetModel()

    def add_row(self, values: Sequence[str] = ()) -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        first = [str(v) for v in values] + [""] * (len(self.columns) - len(values))
        for i, column in enumerate(self.columns):
            if column.choices and not first[i]:
                first[i] = column.choices[0][0]
        self._rows.append(first)
        self.endInsertRows()
        return row

    def remove_row(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def mark(self, problems: dict[int, str]) -> None:
        if problems == self.problem_rows:
            return
        self.problem_rows = dict(problems)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._rows) - 1, len(self.columns) - 1),
                                  [Qt.ItemDataRole.BackgroundRole])

    def label_for(self, col: int, value: str) -> str:
        for code, label in self.columns[col].choices:
            if code == value:
                return label
        return value

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == DISPLAY:
                return self.columns[section].title
            if role == TOOLTIP and self.columns[section].hint:
                return self.columns[section].hint
        return None

    def data(self, index: AnyIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        value = self._rows[index.row()][index.column()]
        if role == DISPLAY:
            return self.label_for(index.column(), value)
        if role in (EDIT, SORT_ROLE):
            return value
        if role == RECORD_ROLE:
            return list(self._rows[index.row()])
        if role == Qt.ItemDataRole.BackgroundRole:
            state = self.problem_rows.get(index.row())
            if state == "error":
                return QBrush(QColor("#fdecea"))
            if state == "warning":
                return QBrush(QColor("#fff4d6"))
        return None

    def setData(self, index: AnyIndex, value: Any, role: int = EDIT) -> bool:
        if role != EDIT or not index.isValid() or self.read_only:
            return False
        if not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < len(self.columns):
            return False
        text = "" if value is None else str(value)
        if self._rows[index.row()][index.column()] == text:
            return True
        self._rows[index.row()][index.column()] = text
        self.dataChanged.emit(index, index, [DISPLAY, EDIT])
        return True

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

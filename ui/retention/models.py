"""The review queue as a paged table model: rows come a page at a time from RetentionService."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.services.retention import DueRecord

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
DISPLAY = Qt.ItemDataRole.DisplayRole
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE_SIZE = 100
OVERDUE = QColor("#b3261e")

CountFn = Callable[[], int]
PageFn = Callable[[int, int], list[DueRecord]]


def uk_date(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


class RetentionQueueTableModel(QAbstractTableModel):
    """Records due or overdue for review, earliest first (the order the service gives)."""

    # The type is in the reference (NM- nominal, PR- referral) and in the Type filter.
    COLUMNS = ("Due", "Status", "Reference", "Group", "Record", "Last review")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[DueRecord] = []
        self._total = 0
        self._page: PageFn | None = None

    # -- loading -----------------------------------------------------------------------------
    def load(self, count: CountFn, page: PageFn) -> None:
        """Start again from the first page."""
        total = count()
        first = page(0, PAGE_SIZE) if total else []
        # Reset to empty, then insert the first page: nothing is fetchable while the reset is
        # in flight (views and the model tester fetch more on a reset).
        self.beginResetModel()
        self._page, self._rows, self._total = page, [], 0
        self.endResetModel()
        if first:
            self.beginInsertRows(ROOT, 0, len(first) - 1)
            self._rows = list(first)
            self.endInsertRows()
        self._total = max(total, len(first))

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._total, self._page = [], 0, None
        self.endResetModel()

    @property
    def total(self) -> int:
        return self._total

    def canFetchMore(self, parent: AnyIndex = ROOT) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: AnyIndex = ROOT) -> None:
        if parent.isValid() or self._page is None:
            return
        more = self._page(len(self._rows), PAGE_SIZE)
        more = more[: self._total - len(self._rows)]
        if not more:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(ROOT, first, first + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()

    # -- reading -------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if (role == DISPLAY and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.COLUMNS)):
            return self.COLUMNS[section]
        return None

    def record(self, row: int) -> DueRecord | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, ref: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.ref == ref), -1)

    def data(self, index: AnyIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        column = index.column()
        if not 0 <= column < len(self.COLUMNS):
            return None
        if role == RECORD_ROLE:
            return r
        if role == DISPLAY:
            return (
                uk_date(r.due),
                "Overdue" if r.overdue else "Due",
                r.ref,
                f"Group {r.group}",
                r.title,
                uk_date(r.last_review) or "Never",
            )[column]
        if role == SORT_ROLE:
            return (r.due.toordinal(), int(r.overdue), r.ref, r.group, r.title,
                    r.last_review.toordinal() if r.last_review else 0)[column]
        if role == Qt.ItemDataRole.ForegroundRole and column in (0, 1) and r.overdue:
            return OVERDUE
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.rule_text
        return None

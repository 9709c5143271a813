"""Qt models of the reconciliation review: a category's rows (paged from the service), the
side-by-side lines of one row, a possible match's candidates, and the rows not read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.io.national_import import RejectedRow
from app.services.reconcile import (
    CHOICES,
    ONLY_REGIONAL,
    POSSIBLE,
    CandidateView,
    FieldLine,
    ItemSummary,
)
from ui.tablemodel import RowTableModel

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
DISPLAY = Qt.ItemDataRole.DisplayRole
PAGE = 200

DIFFERS = QColor("#fbe3c8")  # a field the two lists disagree on
DECIDED = QColor("#dcefdc")  # ... on which a decision has been taken


def _date(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


class ReconcileItemsTableModel(RowTableModel):
    """One category of a saved reconciliation, fetched a page at a time."""

    def __init__(self, kind: str, fetch: Callable[[int, int], list[ItemSummary]] | None = None,
                 total: int = 0, parent: Any = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._fetch = fetch
        self._total = total
        regional = kind == ONLY_REGIONAL
        self.COLUMNS = (
            ("Regional ref", "Name", "Date of birth") if regional else
            ("Row", "Name", "Date of birth",
             "Candidates" if kind == POSSIBLE else "Regional ref",
             "Best score" if kind == POSSIBLE else "Fields that differ", "Open"))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if (role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal
                and section == 0 and self.kind != ONLY_REGIONAL):
            return "The row number on the national list"
        return super().headerData(section, orientation, role)

    def reset(self, fetch: Callable[[int, int], list[ItemSummary]], total: int) -> None:
        self.beginResetModel()
        self._fetch, self._total, self._rows = fetch, total, []
        self.endResetModel()
        if self.canFetchMore(ROOT):
            self.fetchMore(ROOT)

    def total(self) -> int:
        return self._total

    def canFetchMore(self, parent: AnyIndex = ROOT) -> bool:
        return not parent.isValid() and self._fetch is not None and len(self._rows) < self._total

    def fetchMore(self, parent: AnyIndex = ROOT) -> None:
        if parent.isValid() or self._fetch is None:
            return
        page = self._fetch(len(self._rows), PAGE)
        if not page:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(ROOT, first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def replace(self, item: ItemSummary) -> None:
        """Show a row again after a decision (same id), in place."""
        for i, r in enumerate(self._rows):
            if r.id == item.id:
                self._rows[i] = item
                self.dataChanged.emit(self.index(i, 0), self.index(i, self.columnCount() - 1))
                return

    def row_of(self, item_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == item_id), -1)

    def cell(self, r: ItemSummary, col: int, role: int) -> Any:
        if self.kind == ONLY_REGIONAL:
            values: tuple[Any, ...] = (r.ref or "", r.name, _date(r.dob))
            raw: tuple[Any, ...] = (r.ref or "", r.name, r.dob.isoformat() if r.dob else "")
        else:
            fourth = ", ".join(r.fields) if self.kind == POSSIBLE else (r.ref or "")
            fifth = (f"{r.best_score:.2f}" if r.best_score is not None else "") \
                if self.kind == POSSIBLE else ", ".join(r.fields)
            open_text = "" if not (r.open or r.decided) else (
                f"{r.open} to decide" if r.open else "done")
            values = (str(r.national_row or ""), r.name, _date(r.dob), fourth, fifth, open_text)
            raw = (r.national_row or 0, r.name, r.dob.isoformat() if r.dob else "", fourth,
                   r.best_score or 0.0, r.open)
        if role == DISPLAY:
            return values[col]
        if role == self.SortRole:
            return raw[col]
        if role == Qt.ItemDataRole.ToolTipRole and col in (3, 4) and self.kind != ONLY_REGIONAL:
            return values[col] or None
        return None


class FieldLinesTableModel(RowTableModel):
    """The national row and the regional record side by side; differing fields highlighted."""

    COLUMNS = ("Field", "National column", "National list", "Regional record", "Decision")

    def cell(self, r: FieldLine, col: int, role: int) -> Any:
        if role == DISPLAY:
            decision = CHOICES.get(r.decision, r.decision) if r.decision else ""
            return (r.label, r.heading or "(not on the list)", r.national, r.regional,
                    decision)[col]
        if role == Qt.ItemDataRole.BackgroundRole and (r.differs or r.decision):
            return QBrush(DECIDED if r.decision else DIFFERS)
        if role == Qt.ItemDataRole.FontRole and r.differs and col in (2, 3):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.AccessibleDescriptionRole and r.differs:
            return "differs"
        if role == self.SortRole:
            return (r.label, r.heading, r.national, r.regional, r.decision or "")[col]
        return None


class CandidatesTableModel(RowTableModel):
    """A possible match's candidates, best first, with why each may be the person."""

    COLUMNS = ("Regional ref", "Score", "Decision", "Why it may be the same person")

    def cell(self, r: CandidateView, col: int, role: int) -> Any:
        if role in (DISPLAY, Qt.ItemDataRole.ToolTipRole):
            decision = CHOICES.get(r.decision, r.decision) if r.decision else "Not decided"
            return (r.ref, f"{r.score:.2f}", decision, "; ".join(r.reasons))[col]
        if role == self.SortRole:
            return (r.ref, r.score, r.decision or "", "; ".join(r.reasons))[col]
        return None


class RejectedRowsTableModel(RowTableModel):
    """Rows and values of the national list that could not be read."""

    COLUMNS = ("National row", "Column", "Problem", "Row left out")

    def cell(self, r: RejectedRow, col: int, role: int) -> Any:
        if role == DISPLAY:
            return (str(r.row), r.column or "(whole row)", r.error,
                    "yes" if r.dropped else "no")[col]
        if role == self.SortRole:
            return (r.row, r.column, r.error, r.dropped)[col]
        return None

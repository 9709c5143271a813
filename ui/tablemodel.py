"""One base for the window's short, fully-held tables.

Every area had its own copy of the same QAbstractTableModel plumbing (row and column counts,
horizontal headers, reset on new rows, the record behind a row). `RowTableModel` holds it once;
a subclass names its COLUMNS and says how one cell reads in `cell()`. Paged models (the nominal
list, referrals, the audit log) fetch more rows themselves but still keep their rows here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
DISPLAY = Qt.ItemDataRole.DisplayRole
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2


class RowTableModel(QAbstractTableModel):
    """Rows of one record type with fixed column headings; subclasses say how a cell reads."""

    COLUMNS: tuple[str, ...] = ()
    RecordRole = RECORD_ROLE
    SortRole = SORT_ROLE

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    # -- Qt ------------------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if (role == DISPLAY and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.COLUMNS)):
            return self.COLUMNS[section]
        return None

    def data(self, index: AnyIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.COLUMNS):
            return None
        r = self._rows[index.row()]
        if role == RECORD_ROLE:
            return r
        return self.cell(r, index.column(), role)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- ours ----------------------------------------------------------------------------------

    def cell(self, r: Any, col: int, role: int) -> Any:
        """What column `col` of row `r` shows for `role`; None for nothing."""
        return None

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def clear(self) -> None:
        self.set_rows([])

    def record(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def records(self) -> list[Any]:
        return list(self._rows)

"""Qt table models of the Prevent window: referrals (paged), intelligence (paged), institutions,
possible subject matches, gateway checks (editable) and a VAF version comparison."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from app.domain.prevent import CheckMade, PreventLists, Stage
from app.services.assessments import FieldChange, VafComparison
from app.services.institutions import InstitutionRow
from app.services.intelligence import IntelFilter, IntelRow
from app.services.referrals import QueueRow, ReferralFilter, SubjectMatch
from ui.prevent.common import (
    CHANGED_BACKGROUND,
    RISK_BACKGROUND,
    RISK_FOREGROUND,
    STATUS_COLOURS,
    STATUS_LABELS,
    uk_date,
    uk_datetime,
)
from ui.tablemodel import RowTableModel

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
DISPLAY = Qt.ItemDataRole.DisplayRole
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE_SIZE = 200


# -- referrals ------------------------------------------------------------------------------


class ReferralTableModel(RowTableModel):
    """Referral rows (immediate risk first, in red), a page at a time from ReferralService."""

    COLUMNS = ("Ref", "Stage", "Received", "Subject", "Concern", "Sector", "Working days",
               "Due", "Status")
    STATUS_COLUMN = 8

    def __init__(self, lists: PreventLists,
                 fetch: Callable[[ReferralFilter, int, int], list[QueueRow]] | None = None,
                 page_size: int = PAGE_SIZE, parent: Any = None) -> None:
        super().__init__(parent)
        self.lists = lists
        self._fetch = fetch
        self._page_size = page_size
        self.filter = ReferralFilter()
        self.total = 0

    def reset_with(self, flt: ReferralFilter, total: int, rows: Sequence[QueueRow]) -> None:
        """A filter's count and first page, fetched elsewhere (off the UI thread)."""
        self.beginResetModel()
        self.filter = flt
        self._rows = list(rows)
        self.total = max(total, len(rows))
        self.endResetModel()

    def clear(self) -> None:
        self.reset_with(ReferralFilter(), 0, [])

    def canFetchMore(self, parent: AnyIndex = ROOT) -> bool:
        return (not parent.isValid() and self._fetch is not None
                and len(self._rows) < self.total)

    def fetchMore(self, parent: AnyIndex = ROOT) -> None:
        if not self.canFetchMore(parent):
            return
        assert self._fetch is not None
        have = {r.id for r in self._rows}
        page = [r for r in self._fetch(self.filter, len(self._rows), self._page_size)
                if r.id not in have]
        if not page:
            self.total = len(self._rows)  # nothing more to be had: stop asking
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def row_of(self, referral_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == referral_id), -1)

    def cell(self, r: QueueRow, col: int, role: int) -> Any:
        if role in (DISPLAY, Qt.ItemDataRole.ToolTipRole):
            if role == Qt.ItemDataRole.ToolTipRole and r.immediate_risk:
                return "Immediate risk: deal with this referral first."
            values = (
                r.ref + (" !" if r.immediate_risk else ""),
                stage_label(r.stage),
                uk_datetime(r.received_at),
                r.subject,
                self.lists.label("concern_types", r.concern_type),
                self.lists.label("source_sectors", r.source_sector),
                working_days(r),
                uk_date(r.target_due),
                STATUS_LABELS.get(r.status, r.status),
            )
            return values[col]
        if role == SORT_ROLE:
            raw = (r.ref, r.stage, r.received_at, r.subject, r.concern_type, r.source_sector,
                   r.working_days_remaining, r.target_due, r.status)
            return raw[col]
        if role == Qt.ItemDataRole.BackgroundRole and r.immediate_risk:
            return QBrush(RISK_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.immediate_risk:
                return QBrush(RISK_FOREGROUND)
            if col == self.STATUS_COLUMN and r.status in STATUS_COLOURS:
                return QBrush(STATUS_COLOURS[r.status])
        # Bold only where it cannot push text out of its cell: the ref and the status.
        if role == Qt.ItemDataRole.FontRole and ((r.immediate_risk and col == 0) or
                                                 (col == self.STATUS_COLUMN
                                                 and r.status == "overdue")):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.AccessibleTextRole and col == 0 and r.immediate_risk:
            return f"{r.ref}, immediate risk"
        return None


def working_days(r: QueueRow) -> str:
    """``2 used, 3 left`` / ``7 used, 2 over`` while the clock runs; ``4 to decide`` after."""
    if r.status in ("ok", "warning", "overdue"):
        left = r.working_days_remaining
        return (f"{r.working_days_elapsed} used, {left} left" if left >= 0 else
                f"{r.working_days_elapsed} used, {-left} over")
    return f"{r.working_days_elapsed} to decide"


def stage_label(code: str) -> str:
    try:
        return Stage(code).label
    except ValueError:
        return code


# -- intelligence ---------------------------------------------------------------------------


class IntelTableModel(RowTableModel):
    """The intelligence log, newest first; the grading (``2/B/C``) always shown."""

    COLUMNS = ("Ref", "Received", "Grading", "Handling", "Summary", "Referrals")

    def __init__(self, fetch: Callable[[IntelFilter, int, int], list[IntelRow]] | None = None,
                 page_size: int = PAGE_SIZE, parent: Any = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._page_size = page_size
        self.filter = IntelFilter()
        self._more = False

    def reset_with(self, flt: IntelFilter, rows: Sequence[IntelRow]) -> None:
        self.beginResetModel()
        self.filter = flt
        self._rows = list(rows)
        self._more = len(rows) >= self._page_size
        self.endResetModel()

    def clear(self) -> None:
        self.reset_with(IntelFilter(), [])

    def canFetchMore(self, parent: AnyIndex = ROOT) -> bool:
        return not parent.isValid() and self._fetch is not None and self._more

    def fetchMore(self, parent: AnyIndex = ROOT) -> None:
        if not self.canFetchMore(parent):
            return
        assert self._fetch is not None
        have = {r.id for r in self._rows}
        page = self._fetch(self.filter, len(self._rows), self._page_size)
        self._more = len(page) >= self._page_size
        fresh = [r for r in page if r.id not in have]
        if not fresh:
            self._more = False
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        self.endInsertRows()

    def cell(self, r: IntelRow, col: int, role: int) -> Any:
        if role in (DISPLAY, Qt.ItemDataRole.ToolTipRole):
            handling = ("C: conditions apply" if r.handling == "C" else "P: may be shared")
            summary = r.summary if role != DISPLAY else " ".join(r.summary.split())
            values = (r.ref, uk_date(r.received_on), r.grading, handling, summary,
                      ", ".join(r.referral_refs))
            return values[col]
        if role == SORT_ROLE:
            return (r.ref, r.received_on, r.grading, r.handling, r.summary,
                    ",".join(r.referral_refs))[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 3 and r.handling == "C":
            return QBrush(RISK_FOREGROUND)
        if role == Qt.ItemDataRole.FontRole and col == 2:
            font = QFont()
            font.setBold(True)
            return font
        return None


# -- institutions ---------------------------------------------------------------------------


class InstitutionTableModel(RowTableModel):
    COLUMNS = ("Name", "Type", "Area", "Referrals", "Intelligence")

    def __init__(self, lists: PreventLists, parent: Any = None) -> None:
        super().__init__(parent)
        self.lists = lists

    def cell(self, r: InstitutionRow, col: int, role: int) -> Any:
        if role == DISPLAY:
            return (r.name, self.lists.label("institution_types", r.type), r.area,
                    str(r.referrals), str(r.intelligence))[col]
        if role == SORT_ROLE:
            return (r.name.casefold(), r.type, r.area, r.referrals, r.intelligence)[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


# -- possible subject matches ---------------------------------------------------------------


class SubjectMatchTableModel(RowTableModel):
    """Records that may be the person being typed into the intake form, best first."""

    COLUMNS = ("Record", "Name", "Date of birth", "Likeness", "Why")

    def cell(self, m: SubjectMatch, col: int, role: int) -> Any:
        if role in (DISPLAY, Qt.ItemDataRole.ToolTipRole):
            kind = "Nominal" if m.kind == "nominal" else "Earlier subject"
            record = f"{kind} {m.ref}" + (f" ({m.referral_count} referrals)"
                                          if m.referral_count > 1 else "")
            name = m.surname.upper() + (f", {m.forenames}" if m.forenames else "")
            return (record, name, uk_date(m.dob) or "not known", f"{round(m.score * 100)}%",
                    "; ".join(m.reasons))[col]
        if role == SORT_ROLE:
            return (m.ref, m.surname, m.dob or date.min, m.score, "")[col]
        return None


# -- gateway checks (editable) --------------------------------------------------------------


class CheckTableModel(RowTableModel):
    """Checks made at the gateway: system, searched on, result. Edited in place."""

    COLUMNS = ("System searched", "Searched on", "Result")

    def add_check(self, system: str, on: date) -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(CheckMade(system, on, ""))
        self.endInsertRows()
        return row

    def remove_check(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def checks(self) -> list[CheckMade]:
        return list(self._rows)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base
        return base | Qt.ItemFlag.ItemIsEditable

    def cell(self, c: CheckMade, col: int, role: int) -> Any:
        if role in (DISPLAY, Qt.ItemDataRole.ToolTipRole):
            return (c.system, uk_date(c.searched_on), c.result)[col]
        if role == Qt.ItemDataRole.EditRole:
            return (c.system, c.searched_on, c.result)[col]
        if role == SORT_ROLE:
            return (c.system, c.searched_on, c.result)[col]
        return None

    def setData(self, index: AnyIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (role != Qt.ItemDataRole.EditRole or not index.isValid()
                or not 0 <= index.row() < len(self._rows)):
            return False
        c = self._rows[index.row()]
        col = index.column()
        if col == 0:
            c = replace(c, system=str(value or "").strip())
        elif col == 1:
            if not isinstance(value, date):
                return False
            c = replace(c, searched_on=value)
        elif col == 2:
            c = replace(c, result=str(value or "").strip())
        else:
            return False
        self._rows[index.row()] = c
        self.dataChanged.emit(index, index, [DISPLAY, Qt.ItemDataRole.EditRole])
        return True


# -- VAF comparison -------------------------------------------------------------------------


class VafComparisonTableModel(RowTableModel):
    """What changed between two VAF versions: old and new ratings and rationales."""

    COLUMNS = ("Factor or rating", "Was", "Now", "Rationale then", "Rationale now (why)")

    def __init__(self, rating_labels: dict[str, str] | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.rating_labels = rating_labels or {}
        self.comparison: VafComparison | None = None

    def set_comparison(self, comparison: VafComparison | None) -> None:
        self.comparison = comparison
        self.set_rows(comparison.changes if comparison else [])

    def _label(self, code: str | None) -> str:
        if code is None:
            return "(not in this version)"
        return self.rating_labels.get(code, code.replace("_", " ").capitalize())

    def cell(self, c: FieldChange, col: int, role: int) -> Any:
        if role in (DISPLAY, Qt.ItemDataRole.ToolTipRole):
            return (c.label, self._label(c.old), self._label(c.new), c.old_rationale,
                    c.new_rationale)[col]
        if role == SORT_ROLE:
            return (c.field, c.old or "", c.new or "", c.old_rationale, c.new_rationale)[col]
        if role == Qt.ItemDataRole.BackgroundRole:
            rating_changed = c.old != c.new
            if (col in (1, 2) and rating_changed) or (col in (3, 4) and c.rationale_changed):
                return QBrush(CHANGED_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole and col == 2 and c.old != c.new:
            font = QFont()
            font.setBold(True)
            return font
        return None

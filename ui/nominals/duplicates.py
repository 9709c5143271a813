"""Duplicates review: candidate pairs (score and reasons), a scan off the UI thread with a Cancel,
the two records side by side field by field, Merge and "Not the same person"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import Enum
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.roles import Perm
from app.services.duplicates import (
    DuplicateCandidate,
    DuplicateService,
    FieldComparison,
    MergeResult,
    ScanResult,
)
from ui.nominals.common import (
    FORM_QSS,
    GENDER_LABELS,
    MAPPA_CATEGORY_LABELS,
    MAPPA_LEVEL_LABELS,
    RECORD_ROLE,
    RETENTION_LABELS,
    RISK_LABELS,
    ROSH_LABELS,
    STATUS_LABELS,
    field_label,
    run,
    uk_date,
)
from ui.nominals.models import DuplicatePairTableModel
from ui.ops import OpContext, Operation
from ui.services import Services
from ui.theme import repolish
from ui.widgets import EmptyState, heading, message_label, record_table

PAIRS_SHOWN = 500
_LABELS: dict[str, dict[Any, str]] = {
    "gender": dict(GENDER_LABELS), "status": dict(STATUS_LABELS),
    "risk_level": dict(RISK_LABELS), "rosh": dict(ROSH_LABELS),
    "mappa_category": dict(MAPPA_CATEGORY_LABELS), "mappa_level": dict(MAPPA_LEVEL_LABELS),
    "retention_group": dict(RETENTION_LABELS),
}


def show_value(field: str, value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "—"
    labels = _LABELS.get(field)
    if labels is not None and value in labels:
        return labels[value]
    if isinstance(value, date):
        return uk_date(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


class ComparisonPanel(QWidget):
    """Two records side by side; each differing field has "keep left" / "take right"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(FORM_QSS)
        self.left_ref = ""
        self.right_ref = ""
        self.rows: list[FieldComparison] = []
        self.groups: dict[str, QButtonGroup] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        head = QHBoxLayout()
        self.left_title = QLabel()
        self.left_title.setObjectName("CardTitle")
        self.left_title.setTextFormat(Qt.TextFormat.PlainText)
        self.right_title = QLabel()
        self.right_title.setObjectName("CardTitle")
        self.right_title.setTextFormat(Qt.TextFormat.PlainText)
        for title in (self.left_title, self.right_title):
            title.setWordWrap(True)
            title.setMinimumWidth(120)
        self.swap_button = QPushButton("S&wap sides")
        self.swap_button.setToolTip("Keep the right-hand record instead")
        head.addWidget(self.left_title, 1)
        head.addWidget(self.swap_button)
        head.addWidget(self.right_title, 1)
        layout.addLayout(head)
        self.reasons = message_label("InfoBox")
        self.reasons.setAccessibleName("Reasons")
        layout.addWidget(self.reasons)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(4, 4, 4, 4)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(4)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(4, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        layout.addWidget(scroll, 1)
        self.legend = QLabel("Fields that differ are highlighted; choose for each which value "
                             "the kept record takes. The right-hand record's names and "
                             "identifiers become aliases of the kept record, and it stays, "
                             "marked as merged, with its history.")
        self.legend.setObjectName("Hint")
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)

    def show_pair(self, left: str, right: str, reasons: Sequence[str],
                  rows: Sequence[FieldComparison]) -> None:
        self.left_ref, self.right_ref = left, right
        self.rows = list(rows)
        self.reasons.setText("Why: " + "; ".join(reasons) + "." if reasons else "")
        self.reasons.setVisible(bool(reasons))
        values = {r.field: r for r in rows}

        def name(use_keep: bool) -> str:
            s = values.get("surname")
            f = values.get("forenames")
            surname = (s.keep_value if use_keep else s.drop_value) if s else ""
            forenames = (f.keep_value if use_keep else f.drop_value) if f else ""
            return f"{(surname or '').upper()}, {forenames or ''}".strip(", ")

        self.left_title.setText(f"Keep: {left}  {name(True)}")
        self.right_title.setText(f"Merge in: {right}  {name(False)}")
        self._build_grid()

    def _build_grid(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.groups.clear()
        for col, text in enumerate(("Field", self.left_ref, "Keep left", "Take right",
                                    self.right_ref)):
            label = QLabel(text)
            label.setStyleSheet("font-weight: bold; color: #3c4a59;")
            self.grid.addWidget(label, 0, col)
        for i, row in enumerate(self.rows, start=1):
            name = QLabel(field_label(row.field))
            left = QLabel(show_value(row.field, row.keep_value))
            right = QLabel(show_value(row.field, row.drop_value))
            for value in (left, right):
                value.setObjectName("ValuePanel")
                value.setTextFormat(Qt.TextFormat.PlainText)
                value.setWordWrap(True)
                value.setProperty("differs", not row.same)
                repolish(value)
            keep = QRadioButton()
            take = QRadioButton()
            keep.setAccessibleName(f"{field_label(row.field)}: keep left")
            take.setAccessibleName(f"{field_label(row.field)}: take right")
            group = QButtonGroup(self.grid_host)
            group.addButton(keep, 0)
            group.addButton(take, 1)
            (take if row.default == "drop" else keep).setChecked(True)
            keep.setEnabled(not row.same)
            take.setEnabled(not row.same)
            self.groups[row.field] = group
            self.grid.addWidget(name, i, 0)
            self.grid.addWidget(left, i, 1)
            self.grid.addWidget(keep, i, 2, Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(take, i, 3, Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(right, i, 4)
        self.grid.setRowStretch(len(self.rows) + 1, 1)

    def choices(self) -> dict[str, str]:
        """Field -> "keep" or "drop" for every field that differs."""
        out: dict[str, str] = {}
        for row in self.rows:
            if row.same:
                continue
            group = self.groups.get(row.field)
            if group is not None:
                out[row.field] = "drop" if group.checkedId() == 1 else "keep"
        return out

    def choose(self, field: str, side: str) -> None:
        """Pick a side for one field (tests and keyboard shortcuts)."""
        group = self.groups[field]
        button = group.button(1 if side == "drop" else 0)
        button.setChecked(True)


class DuplicatesView(QWidget):
    """The duplicates review screen."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.get(DuplicateService)
        self.can_write = services.can(Perm.NOMINAL_WRITE)
        self.loading = False
        self.busy = False
        self.scan_op: Operation | None = None
        self.last_scan: ScanResult | None = None
        self.total = 0
        self.note = ""  # what the last decision did, shown before the counts
        self._seq = 0
        self.model = DuplicatePairTableModel(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        layout.addWidget(heading(
            "Duplicates",
            "Pairs of records that may be the same person, best first, with the reasons. "
            "Review each side by side, then merge them or record that they are different "
            "people (a dismissed pair is never offered again)."))
        bar = QHBoxLayout()
        self.scan_button = QPushButton("&Scan for duplicates")
        self.scan_button.setProperty("primary", True)
        self.scan_button.clicked.connect(self.scan)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Scan progress")
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.cancel_button.hide()
        self.status = QLabel()
        self.status.setObjectName("Hint")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        bar.addWidget(self.scan_button)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.status, 1)
        layout.addLayout(bar)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = record_table(self.model, "Duplicate pairs", row_height=28,
                                  widths=(64, 190), stretch_last=True)
        self.table.setMinimumWidth(430)
        self.table.selectionModel().selectionChanged.connect(self._selected)

        self.right = QStackedWidget()
        self.empty = EmptyState(
            "ok", "No pairs to review",
            "The last scan found no likely duplicates that are not already dismissed. Scan "
            "again after records are added or imported.")
        self.pick = EmptyState("info", "Choose a pair",
                               "Select a pair on the left to compare the two records.")
        panel_host = QWidget()
        panel_col = QVBoxLayout(panel_host)
        panel_col.setContentsMargins(12, 0, 0, 0)
        self.panel = ComparisonPanel()
        self.panel.swap_button.clicked.connect(self.swap)
        panel_col.addWidget(self.panel, 1)
        actions = QHBoxLayout()
        self.dismiss_button = QPushButton("&Not the same person…")
        self.dismiss_button.setToolTip("Record that these are different people, with a reason")
        self.dismiss_button.clicked.connect(self.dismiss)
        self.merge_button = QPushButton("&Merge into left…")
        self.merge_button.setProperty("primary", True)
        self.merge_button.setToolTip("Merge the right-hand record into the left-hand one")
        self.merge_button.clicked.connect(self.merge)
        actions.addStretch(1)
        actions.addWidget(self.dismiss_button)
        actions.addWidget(self.merge_button)
        if not self.can_write:
            for button in (self.dismiss_button, self.merge_button, self.panel.swap_button):
                button.hide()
        panel_col.addLayout(actions)
        self.right.addWidget(self.pick)
        self.right.addWidget(self.empty)
        self.right.addWidget(panel_host)
        self.panel_host = panel_host
        split.addWidget(self.table)
        split.addWidget(self.right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([430, 900])
        layout.addWidget(split, 1)
        self.current: DuplicateCandidate | None = None
        self.swapped = False
        self.reload()

    # -- the list --------------------------------------------------------------------------
    def reload(self, keep_row: int = 0) -> None:
        self._seq += 1
        seq = self._seq
        self.loading = True

        def work() -> tuple[int, list[DuplicateCandidate]]:
            return self.service.count(), self.service.pairs(0, PAIRS_SHOWN)

        def done(result: Any) -> None:
            if seq != self._seq:
                return
            self.total, pairs = result
            self.model.set_rows(pairs)
            self.loading = False
            self._show_status()
            if pairs:
                self.table.selectRow(min(keep_row, len(pairs) - 1))
            else:
                self.current = None
                self.right.setCurrentWidget(self.empty)

        def failed(exc: CasewardError) -> None:
            self.loading = False
            self.services.dialogs.error(self, "Duplicates", str(exc))

        run(self.services, "duplicates.pairs", work, done, self, failed,
            lambda _t: setattr(self, "loading", False))

    def _show_status(self) -> None:
        n = self.total
        text = f"{n:,} pair{'s' if n != 1 else ''} to review"
        if n > self.model.rowCount():
            text += f" (the best {self.model.rowCount():,} shown)"
        if self.last_scan is not None:
            s = self.last_scan
            text += (f" · last scan: {s.people:,} records, {s.comparisons:,} comparisons, "
                     f"{s.seconds:.1f} s")
        self.status.setText(f"{self.note} {text}" if self.note else text)

    def selected(self) -> DuplicateCandidate | None:
        indexes = self.table.selectionModel().selectedRows()
        if not indexes:
            return None
        pair = indexes[0].data(RECORD_ROLE)
        return pair if isinstance(pair, DuplicateCandidate) else None

    def _selected(self, _new: QItemSelection, _old: QItemSelection) -> None:
        pair = self.selected()
        if pair is None:
            return
        self.current = pair
        self.swapped = False
        self._compare()

    def _compare(self) -> None:
        pair = self.current
        if pair is None:
            return
        left, right = (pair.b, pair.a) if self.swapped else (pair.a, pair.b)
        try:
            rows = self.service.compare(left, right)
        except CasewardError as exc:
            self.services.dialogs.error(self, "Duplicates", str(exc))
            return
        self.panel.show_pair(left, right, pair.reasons, rows)
        self.merge_button.setText(f"&Merge {right} into {left}…")
        self.right.setCurrentWidget(self.panel_host)

    def swap(self) -> None:
        self.swapped = not self.swapped
        self._compare()

    # -- scan ------------------------------------------------------------------------------
    def scan(self) -> None:
        if self.scan_op is not None:
            return
        self.scan_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.status.setText("Scanning every record for likely duplicates…")

        def work(ctx: OpContext) -> ScanResult:
            return self.service.scan(progress=ctx.progress, cancelled=lambda: ctx.cancelled)

        def step(done: int, total: int) -> None:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

        def finished_scan(result: Any) -> None:
            self._scan_over()
            self.note = ""
            if isinstance(result, ScanResult) and not result.cancelled:
                self.last_scan = result
            self.reload()

        def failed(exc: CasewardError) -> None:
            self._scan_over()
            self.services.dialogs.error(self, "Duplicates", str(exc))

        def bug(text: str) -> None:
            self._scan_over()
            self.services.dialogs.error(self, "Duplicates", text)

        self.scan_op = self.services.ops.start(
            "duplicates.scan", work, on_result=finished_scan, on_error=failed, on_bug=bug,
            on_progress=step)

    def cancel_scan(self) -> None:
        if self.scan_op is not None:
            self.scan_op.cancel()
        self._scan_over()
        self.status.setText("Scan cancelled; the pairs of the previous scan are shown.")
        QTimer.singleShot(2500, self._show_status)

    def _scan_over(self) -> None:
        self.scan_op = None
        self.scan_button.setEnabled(True)
        self.progress.hide()
        self.cancel_button.hide()

    # -- decisions -------------------------------------------------------------------------
    def _row_of_current(self) -> int:
        indexes = self.table.selectionModel().selectedRows()
        return indexes[0].row() if indexes else 0

    def dismiss(self) -> None:
        pair = self.current
        if pair is None or self.busy:
            return
        reason = self.services.dialogs.ask_text(
            self, "Not the same person",
            f"Why are {pair.a} and {pair.b} different people? (required; kept in the audit log)")
        if reason is None:
            return
        if not reason.strip():
            self.services.dialogs.error(self, "Not the same person",
                                        "Nothing was recorded: a reason is required.")
            return
        row = self._row_of_current()
        self.busy = True

        def done(_result: Any) -> None:
            self.busy = False
            self.note = f"Recorded: {pair.a} and {pair.b} are different people."
            self.model.remove(pair.a, pair.b)
            self.total = max(self.total - 1, 0)
            self._after_change(row)

        def failed(exc: CasewardError) -> None:
            self.busy = False
            self.services.dialogs.error(self, "Not the same person", str(exc))

        run(self.services, "duplicates.dismiss",
            lambda: self.service.dismiss(pair.a, pair.b, reason.strip()), done, self, failed,
            lambda _t: setattr(self, "busy", False))

    def merge(self) -> None:
        pair = self.current
        if pair is None or self.busy:
            return
        keep, drop = self.panel.left_ref, self.panel.right_ref
        choices = self.panel.choices()
        taken = [field_label(f) for f, side in choices.items() if side == "drop"]
        detail = (f" The kept record takes from {drop}: {', '.join(taken)}." if taken else "")
        if not self.services.dialogs.confirm(
                self, "Merge records",
                f"Merge {drop} into {keep}?{detail} {drop}'s names and identifiers become "
                f"aliases of {keep}, its linked records move to {keep}, and {drop} is kept, "
                "marked as merged, with its history. The merge is recorded in the audit log.",
                "Merge"):
            return
        reason = self.services.dialogs.ask_text(
            self, "Merge records", "Reason for the merge:", "Same person: duplicate record")
        if reason is None:
            return
        reason = reason.strip() or "Same person: duplicate record"
        row = self._row_of_current()
        self.busy = True

        def done(result: Any) -> None:
            self.busy = False
            assert isinstance(result, MergeResult)
            self.note = f"Merged {result.drop} into {result.keep}."
            self.reload(keep_row=row)

        def failed(exc: CasewardError) -> None:
            self.busy = False
            self.services.dialogs.error(self, "Merge records", str(exc))

        run(self.services, "duplicates.merge",
            lambda: self.service.merge(keep, drop, choices, reason), done, self, failed,
            lambda _t: setattr(self, "busy", False))

    def _after_change(self, row: int) -> None:
        self._show_status()
        if self.model.rowCount():
            self.table.selectRow(min(row, self.model.rowCount() - 1))
            self.table.setFocus()
        else:
            self.current = None
            self.right.setCurrentWidget(self.empty)

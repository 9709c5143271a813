"""The data-quality panel: each rule with its count of faulty records; a rule's records; a
record opened from here shows its faults at the top of the form."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.nominal import NominalFilter, NominalRow, SortKey
from app.services.quality import QualityService, RuleCount
from ui.nominals.area import RecordStack
from ui.nominals.common import RECORD_ROLE, run
from ui.nominals.list_view import nominal_table
from ui.nominals.models import NominalTableModel, RuleTableModel
from ui.services import Services
from ui.theme import icon
from ui.widgets import heading, record_table


class QualityPanel(QWidget):
    """Rules on the left (with counts), the selected rule's records on the right."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.get(QualityService)
        self.loading = False
        self.rule_id: str | None = None
        self._seq = 0
        self.rules = RuleTableModel(self)
        self.records = NominalTableModel(self._fetch, sortable=False, parent=self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        top = QHBoxLayout()
        top.addWidget(heading(
            "Data quality",
            "The national audit checks, run over every live record. Choose a check to see "
            "the records that fail it; Enter opens a record, with its faults at the top."), 1)
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.clicked.connect(self.reload)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(top)
        self.status = QLabel()
        self.status.setObjectName("Hint")
        layout.addWidget(self.status)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.rule_table = record_table(self.rules, "Data-quality checks", row_height=30,
                                       widths=(240, 80), stretch_last=True)
        self.rule_table.setMinimumWidth(410)
        self.rule_table.selectionModel().selectionChanged.connect(self._rule_selected)
        split.addWidget(self.rule_table)

        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(12, 0, 0, 0)
        self.rule_title = QLabel()
        self.rule_title.setObjectName("SectionTitle")
        self.rule_text = QLabel()
        self.rule_text.setObjectName("Hint")
        self.rule_text.setWordWrap(True)
        col.addWidget(self.rule_title)
        col.addWidget(self.rule_text)
        self.record_table = nominal_table(self.records, "Records failing the check")
        self.rule_table.activated.connect(lambda _i: self.record_table.setFocus())
        # A check no record fails: say so, rather than show an empty table.
        self.records_empty = QWidget()
        self.records_empty.setObjectName("RecordsEmpty")
        empty_col = QVBoxLayout(self.records_empty)
        empty_col.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_col.setSpacing(8)
        pic = QLabel()
        pic.setPixmap(icon("empty").pixmap(48, 48))
        pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_title = QLabel("No record fails this check")
        self.empty_title.setObjectName("EmptyTitle")
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_title.setWordWrap(True)
        self.empty_text = QLabel()
        self.empty_text.setObjectName("EmptyText")
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text.setWordWrap(True)
        empty_col.addWidget(pic)
        empty_col.addWidget(self.empty_title)
        empty_col.addWidget(self.empty_text)
        self.record_stack = QStackedWidget()
        self.record_stack.addWidget(self.record_table)
        self.record_stack.addWidget(self.records_empty)
        col.addWidget(self.record_stack, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([430, 900])
        layout.addWidget(split, 1)
        self.reload()

    def _fetch(self, _flt: NominalFilter, _key: SortKey, _desc: bool, offset: int,
               limit: int) -> list[NominalRow]:
        if self.rule_id is None:
            return []
        try:
            return self.service.records_for(self.rule_id, offset, limit)
        except CasewardError:
            return []

    def reload(self) -> None:
        """Every rule's count, off the UI thread (a full pass over the records)."""
        self._seq += 1
        seq = self._seq
        self.loading = True
        self.status.setText("Checking every record…")
        keep = self.rule_id

        def done(result: Any) -> None:
            if seq != self._seq:
                return
            counts: list[RuleCount] = result
            self.rules.set_rows(counts)
            self.loading = False
            faulty = sum(c.count for c in counts)
            self.status.setText(f"{len(counts)} checks · {faulty:,} faults in all "
                                "(a record can fail several checks)")
            row = next((i for i, c in enumerate(counts) if c.rule.id == keep), 0)
            if counts:
                self.rule_table.selectRow(row)

        def failed(exc: CasewardError) -> None:
            self.loading = False
            self.status.setText("")
            self.services.dialogs.error(self, "Data quality", str(exc))

        run(self.services, "quality.summary", self.service.summary, done, self, failed,
            lambda _t: setattr(self, "loading", False))

    def selected_rule(self) -> RuleCount | None:
        indexes = self.rule_table.selectionModel().selectedRows()
        if not indexes:
            return None
        value = indexes[0].data(RECORD_ROLE)
        return value if isinstance(value, RuleCount) else None

    def _rule_selected(self, _new: QItemSelection, _old: QItemSelection) -> None:
        rule = self.selected_rule()
        if rule is None:
            return
        self.show_rule(rule)

    def show_rule(self, rule: RuleCount) -> None:
        self.rule_id = rule.rule.id
        self.rule_title.setText(f"{rule.rule.title} — {rule.count:,} "
                                f"record{'s' if rule.count != 1 else ''}")
        self.rule_text.setText(rule.rule.description)
        first = self._fetch(NominalFilter(), SortKey.REF, False, 0, 200) if rule.count else []
        self.records.load(NominalFilter(), rule.count, first)
        if first:
            self.record_table.selectRow(0)
        self.empty_text.setText(
            f"Every live record passes “{rule.rule.title}”. Choose another check on the "
            "left, or Refresh after records change.")
        self.record_stack.setCurrentWidget(self.record_table if rule.count
                                           else self.records_empty)

    def selected_record(self) -> NominalRow | None:
        indexes = self.record_table.selectionModel().selectedRows()
        if not indexes:
            return None
        value = indexes[0].data(RECORD_ROLE)
        return value if isinstance(value, NominalRow) else None


class QualityArea(RecordStack):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        front = QualityPanel(services)
        super().__init__(services, front, parent)
        self.panel = front
        front.record_table.activated.connect(self._open_index)

    def _open_index(self, index: QModelIndex) -> None:
        row = index.data(RECORD_ROLE)
        if isinstance(row, NominalRow):
            self.open_record(row.ref)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.currentWidget() is self.panel:
            QTimer.singleShot(0, self.focus_front)

    def focus_front(self) -> None:
        self.panel.rule_table.setFocus()

    def on_saved(self, ref: str) -> None:
        self.panel.reload()

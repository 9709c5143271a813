"""The Nominals list: filters, instant search, a paged table sorted in SQL, a count, an empty state.

Enter opens the selected record, Ctrl+N starts a new one, Ctrl+F goes to the search box."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.nominal import NominalFilter, NominalRow, RiskLevel, SortKey, Status
from app.domain.roles import Perm
from app.services.nominals import NominalService
from ui.flow import FlowLayout
from ui.nominals.common import RECORD_ROLE, RISK_LABELS, STATUS_LABELS, run
from ui.nominals.models import NominalTableModel
from ui.services import Services
from ui.widgets import EmptyState, heading, record_table

SEARCH_DELAY_MS = 150
FIRST_PAGE = 200


def nominal_table(model: NominalTableModel, name: str = "Nominals", *,
                  sortable: bool = False) -> QTableView:
    """A read-only, row-selecting table with fixed column widths (nothing measured per row);
    ``sortable``: a header click re-sorts in SQL (model.sort), from the model's current order."""
    return record_table(model, name, row_height=28,
                        widths=[column.width for column in model.COLUMNS], stretch_last=True,
                        sort_column=model.sort_column() if sortable else None)


class NominalListView(QWidget):
    """The list of nominals. Emits ``open_requested(ref)`` and ``new_requested``."""

    open_requested = Signal(str)
    new_requested = Signal()
    loaded = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.get(NominalService)
        self.loading = False
        self.first_page_ms = 0.0  # the last first page, measured in the worker
        self.count_ms = 0.0  # the last count, measured in the worker
        self._seq = 0
        self._select_after: str | None = None
        self.model = NominalTableModel(self._fetch, async_fetch=self._fetch_later, parent=self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        top = QHBoxLayout()
        top.addWidget(heading(
            "Nominals",
            "The regional list. Type in the search box for names (any spelling or order), "
            "aliases, PNC ID, reference or date of birth. Enter opens the selected record."), 1)
        self.new_button = QPushButton("&New nominal")
        self.new_button.setProperty("primary", True)
        self.new_button.setToolTip("Add a nominal (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        if not services.can(Perm.NOMINAL_WRITE):
            self.new_button.hide()  # (never setVisible(True) before it has a parent)
        top.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(top)

        search_row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search: name, alias, PNC, NM- reference or dd/mm/yyyy")
        self.search.setAccessibleName("Search nominals")
        self.search.setClearButtonEnabled(True)
        search_label = QLabel("&Search:")
        search_label.setBuddy(self.search)
        search_row.addWidget(search_label)
        search_row.addWidget(self.search, 1)
        self.count_label = QLabel()
        self.count_label.setObjectName("CountLabel")
        self.count_label.setStyleSheet("QLabel#CountLabel { font-weight: bold; color: #2d3a47; "
                                       "padding-left: 10px; }")
        self.count_label.setAccessibleName("Number shown")
        self.count_label.setMinimumWidth(170)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
        search_row.addWidget(self.count_label)
        layout.addLayout(search_row)

        # The filters flow onto a second row at narrow widths (each label stays with its box).
        self.filter_row = QWidget()
        self.filter_row.setObjectName("NominalFilters")
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.filter_row.setSizePolicy(policy)
        filters = FlowLayout(self.filter_row, h_spacing=14, v_spacing=6)
        self.status = self._combo("Status", "S&tatus:", "Any status", filters)
        for status in Status:
            self.status.addItem(STATUS_LABELS[status], status.value)
        self.risk = self._combo("Risk", "&Risk:", "Any risk", filters)
        for risk in RiskLevel:
            self.risk.addItem(RISK_LABELS[risk], risk.value)
        self.manager = self._combo("Nominal manager", "&Manager:", "Any manager", filters)
        self.force = self._combo("Force", "F&orce:", "Any force", filters)
        self.manager.setMinimumWidth(190)
        self.force.setMinimumWidth(190)
        self.clear_button = QPushButton("C&lear filters")
        self.clear_button.setProperty("flat", True)
        self.clear_button.clicked.connect(self.clear_filters)
        filters.addWidget(self.clear_button)
        layout.addWidget(self.filter_row)

        self.stack = QStackedWidget()
        self.table = nominal_table(self.model, sortable=True)
        self.table.activated.connect(self._activated)
        self.stack.addWidget(self.table)
        self.empty_all = EmptyState(
            "empty", "No nominals yet",
            "The regional list is empty. Add a nominal with New nominal (Ctrl+N), or import "
            "the national list.")
        self.empty_match = EmptyState(
            "empty", "Nothing matches",
            "No nominal matches the search and filters. Check the spelling, try part of a "
            "name, or clear the filters (Clear filters).")
        self.stack.addWidget(self.empty_all)
        self.stack.addWidget(self.empty_match)
        layout.addWidget(self.stack, 1)

        if services.can(Perm.NOMINAL_WRITE):
            QShortcut(QKeySequence("Ctrl+N"), self, self.new_requested.emit,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Ctrl+F"), self, self.focus_search,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.search.returnPressed.connect(self._search_enter)
        self.search.installEventFilter(self)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        for combo in (self.status, self.risk, self.manager, self.force):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        # The first page before the filter choices: the thread pool has two threads and,
        # just after an unlock, Today's load holds one, so whichever starts first runs first.
        self.reload()
        self._fill_choices()

    def _combo(self, name: str, label: str, any_text: str, row: FlowLayout) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.addItem(any_text, None)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        text = QLabel(label)
        text.setBuddy(combo)
        pair = QWidget()
        pair.setObjectName(f"{name} filter")
        box = QHBoxLayout(pair)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        box.addWidget(text)
        box.addWidget(combo)
        row.addWidget(pair)
        return combo

    def _fill_choices(self) -> None:
        """Managers and forces in use, for their combos (off the UI thread)."""

        def work() -> tuple[list[str], list[str]]:
            return (self.service.distinct_values("nominal_manager"),
                    self.service.distinct_values("force"))

        def done(result: Any) -> None:
            managers, forces = result
            for combo, values in ((self.manager, managers), (self.force, forces)):
                combo.blockSignals(True)
                current = combo.currentData()
                while combo.count() > 1:
                    combo.removeItem(1)
                for value in values:
                    combo.addItem(value, value)
                index = combo.findData(current)
                combo.setCurrentIndex(max(index, 0))
                combo.blockSignals(False)

        run(self.services, "nominals.choices", work, done, self)

    # -- loading ----------------------------------------------------------------------------
    def current_filter(self) -> NominalFilter:
        return NominalFilter(
            status=self.status.currentData() or None,
            nominal_manager=self.manager.currentData() or None,
            risk_level=self.risk.currentData() or None,
            force=self.force.currentData() or None,
            text=self.search.text().strip(),
        )

    def _fetch(self, flt: NominalFilter, key: SortKey, descending: bool, offset: int,
               limit: int) -> list[NominalRow]:
        try:
            return self.service.page(flt, key, descending, offset, limit)
        except CasewardError:
            return []  # e.g. locked while scrolling: the window is being cleared anyway

    def _fetch_later(self, read: Any, arrived: Any) -> None:
        self.services.ops.start("nominals.page", lambda _ctx: read(), on_result=arrived)

    def reload(self, select_ref: str | None = None) -> None:
        """First page, then (only when there may be more) the count, off the UI thread; the
        results replace the table's contents. A newer request drops an older one's results."""
        self._timer.stop()
        flt = self.current_filter()
        key, descending = self.model.sort_key, self.model.descending
        self._seq += 1
        seq = self._seq
        self.loading = True
        self._select_after = select_ref
        self.count_label.setText("Searching…" if flt.text else "Loading…")

        def work() -> tuple[list[NominalRow], float]:
            started = time.perf_counter()
            rows = self.service.page(flt, key, descending, 0, FIRST_PAGE)
            return rows, (time.perf_counter() - started) * 1000

        def counted(result: Any) -> None:
            if seq != self._seq:
                return
            total, ms = result
            self.count_ms = ms
            self.model.set_total(total)
            self._show_count(flt, self.model.total)
            self.loading = False
            self.loaded.emit()

        def count() -> tuple[int, float]:
            started = time.perf_counter()
            return self.service.count(flt), (time.perf_counter() - started) * 1000

        def done(result: Any) -> None:
            if seq != self._seq:
                return
            rows, ms = result
            total = len(rows)
            self.first_page_ms = ms
            self.model.set_sort(key, descending)
            self.model.load(flt, total, rows)
            if total < FIRST_PAGE:  # all there is: no need to count
                self._show_count(flt, total)
                self.loading = False
            else:
                self.count_label.setText(f"{total:,}+ · counting…")
                run(self.services, "nominals.count", count, counted, self, failed, bug)
            if total:
                self.stack.setCurrentWidget(self.table)
                row = self.model.row_of(self._select_after) if self._select_after else 0
                self.table.selectRow(max(row, 0))
                self.table.scrollTo(self.model.index(max(row, 0), 0))
            else:
                filtered = any((flt.text, flt.status, flt.nominal_manager, flt.risk_level,
                                flt.force))
                self.stack.setCurrentWidget(self.empty_match if filtered else self.empty_all)
            if not self.loading:
                self.loaded.emit()

        def failed(exc: CasewardError) -> None:
            if seq == self._seq:
                self.loading = False
                self.count_label.setText("")
                self.services.dialogs.error(self, "Nominals", str(exc))

        def bug(_text: str) -> None:
            if seq == self._seq:
                self.loading = False
                self.count_label.setText("")

        run(self.services, "nominals.list", work, done, self, failed, bug)

    def _show_count(self, flt: NominalFilter, total: int) -> None:
        filtered = any((flt.text, flt.status, flt.nominal_manager, flt.risk_level, flt.force))
        if filtered:
            text = f"{total:,} match{'es' if total != 1 else ''}"
        else:
            text = f"{total:,} nominal{'s' if total != 1 else ''}"
        self.count_label.setText(text)

    def clear_filters(self) -> None:
        for combo in (self.status, self.risk, self.manager, self.force):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.reload()

    def refresh_choices(self) -> None:
        self._fill_choices()

    # -- keyboard ---------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def focus_table(self) -> None:
        self.table.setFocus()

    def _search_enter(self) -> None:
        """Enter in the search box: open the top result once the search has caught up."""
        if self._timer.isActive():
            self.reload()
        if self.loading:
            self.loaded.connect(self._open_first_once)
            return
        self._open_first()

    def _open_first_once(self) -> None:
        self.loaded.disconnect(self._open_first_once)
        self._open_first()

    def _open_first(self) -> None:
        if self.model.rowCount() == 1:
            row = self.model.data(self.model.index(0, 0), RECORD_ROLE)
            if row is not None:
                self.open_requested.emit(row.ref)
                return
        if self.model.rowCount():
            self.table.setFocus()

    def eventFilter(self, watched: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent

        if (watched is self.search and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Down and self.model.rowCount()):
            self.table.setFocus()
            if not self.table.selectionModel().hasSelection():
                self.table.selectRow(0)
            return True
        return super().eventFilter(watched, event)

    def selected(self) -> NominalRow | None:
        """The selected row, read through the record role."""
        indexes = self.table.selectionModel().selectedRows()
        if not indexes:
            return None
        row = indexes[0].data(RECORD_ROLE)
        return row if isinstance(row, NominalRow) else None

    def _activated(self, index: QModelIndex) -> None:
        row = index.data(RECORD_ROLE)
        if isinstance(row, NominalRow):
            self.open_requested.emit(row.ref)

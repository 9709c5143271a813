"""The Audit view: the hash-chained log, paged from the service, filterable, with Verify."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QStyleOptionComboBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.services.audit import AuditFilter, AuditRecord, AuditService, AuditVerification
from ui.ops import OpContext, Operation
from ui.services import Services
from ui.theme import mono_font, repolish
from ui.widgets import heading, message_label, record_table

PAGE_SIZE = 200
ANY_DATE = QDate(2000, 1, 1)
UK_DATE = "dd/MM/yyyy"

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invalid index: "no parent"


def local_time(at: datetime) -> str:
    """Stored times are UTC; show them in the terminal's local time, UK style."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone().strftime("%d/%m/%Y %H:%M:%S")


def record_text(r: AuditRecord) -> str:
    return f"{r.entity} {r.ref}".strip()


class AuditTableModel(QAbstractTableModel):
    """Audit rows newest first, fetched a page at a time (fetchMore) for the current filter."""

    RecordRole = Qt.ItemDataRole.UserRole + 1
    COLUMNS = ("When", "User", "Category", "Action", "Record", "Reason", "Recipient")

    def __init__(self, service: AuditService, page_size: int = PAGE_SIZE,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._page_size = page_size
        self._filter = AuditFilter()
        self._rows: list[AuditRecord] = []
        self._total = 0

    # -- loading -------------------------------------------------------------------------------
    @property
    def filter(self) -> AuditFilter:
        return self._filter

    @property
    def total(self) -> int:
        """Rows matching the filter when it was applied (more may be added since)."""
        return self._total

    def load(self, flt: AuditFilter) -> None:
        """Apply a filter synchronously (count + first page)."""
        total = self._service.count(flt)
        rows = self._service.page(flt, offset=0, limit=self._page_size)
        self.reset_with(flt, total, rows)

    def reset_with(self, flt: AuditFilter, total: int, rows: list[AuditRecord]) -> None:
        """Show a filter's count and first page fetched elsewhere (off the UI thread)."""
        self.beginResetModel()
        self._filter = flt
        self._total = max(total, len(rows))
        self._rows = list(rows)
        self.endResetModel()

    def clear(self) -> None:
        """Drop every row (the view calls this on lock)."""
        self.beginResetModel()
        self._rows = []
        self._total = 0
        self.endResetModel()

    def canFetchMore(self, parent: AnyIndex = ROOT) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: AnyIndex = ROOT) -> None:
        if parent.isValid() or not self.canFetchMore(parent):
            return
        # Keyset paging: continue below the last row shown, so deep pages of a million-row log
        # cost what the first does and rows written since the filter was applied shift nothing.
        last_id = self._rows[-1].id if self._rows else None
        fresh = self._service.page(self._filter, limit=self._page_size, after_id=last_id)
        if not fresh:
            self._total = len(self._rows)  # nothing more to be had: stop asking
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        self.endInsertRows()

    def record(self, row: int) -> AuditRecord | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # -- Qt model ------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.COLUMNS)):
            return self.COLUMNS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == self.RecordRole:
            return r
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            values = (local_time(r.at), r.user, r.category.capitalize(), r.action,
                      record_text(r), r.reason, r.recipient)
            return values[col] if 0 <= col < len(values) else None
        return None


def _fit_combo(combo: QComboBox) -> None:
    """Make the text field of ``combo`` as wide as its longest item, arrow and padding apart."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    option.rect = QRect(0, 0, 300, 30)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    longest = max(combo.fontMetrics().horizontalAdvance(combo.itemText(i))
                  for i in range(combo.count()))
    combo.setMinimumWidth(longest + option.rect.width() - field.width() + 6)


class AuditView(QWidget):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.model = AuditTableModel(services.audit, parent=self)
        self._load_op: Operation | None = None
        self._verify_op: Operation | None = None
        self._load_seq = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(12)

        top = QHBoxLayout()
        top.addWidget(heading(
            "Audit log",
            "Every collection, alteration, consultation, disclosure, combination and erasure, "
            "with who, when and why. The log is hash-chained: Verify proves nothing was "
            "changed or removed.",
        ), 1)
        self.verify_button = QPushButton("&Verify chain")
        self.verify_button.setProperty("primary", True)
        self.verify_button.clicked.connect(self.verify)
        top.addWidget(self.verify_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(top)

        self.result_banner = message_label("OkBanner")
        layout.addWidget(self.result_banner)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("Verifying… %p%")
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.clicked.connect(self.cancel_verify)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_box.hide()
        layout.addWidget(self.progress_box)

        layout.addLayout(self._filters())

        # The reason (column 5) takes the width left over.
        self.table = record_table(self.model, "Audit entries", row_height=30,
                                  widths=(150, 90, 100, 120, 130, 140, 120), stretch=(5,))
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self._detail_pane())
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([800, 300])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        self.count_label = QLabel()
        self.count_label.setObjectName("Hint")
        layout.addWidget(self.count_label)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self.refresh)
        self.refresh()

    # -- layout pieces -------------------------------------------------------------------------
    def _filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.date_from = self._date_edit("From date")
        self.date_to = self._date_edit("To date")
        self.user_combo = QComboBox()
        self.user_combo.setAccessibleName("User")
        self.user_combo.addItem("All users", "")
        for combo in (self.user_combo,):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(9)
        self.category_combo = QComboBox()
        self.category_combo.setAccessibleName("Category")
        self.category_combo.addItem("All categories", "")
        for cat in AuditService.CATEGORIES:
            self.category_combo.addItem(cat.capitalize(), cat)
        # A fixed list: as wide as its longest entry. Qt's own sizing leaves out the style
        # sheet's padding, which cut "All categories" to "All categorie".
        _fit_combo(self.category_combo)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Search action, record, reason, recipient")
        self.text.setClearButtonEnabled(True)
        self.text.setAccessibleName("Search")
        self.text.setMinimumWidth(110)  # the filter row must fit the area at 1280 px
        self.clear_button = QPushButton("C&lear")
        self.clear_button.setToolTip("Clear every filter")
        self.clear_button.clicked.connect(self.clear_filters)
        for label_text, widget in (("&From", self.date_from), ("&To", self.date_to),
                                   ("&User", self.user_combo), ("Cate&gory", self.category_combo),
                                   ("&Search", self.text)):
            label = QLabel(label_text)
            label.setBuddy(widget)
            label.setContentsMargins(6 if row.count() else 0, 0, 2, 0)
            row.addWidget(label)
            row.addWidget(widget, 2 if widget is self.text else 0)
        row.addWidget(self.clear_button)
        for widget in (self.date_from, self.date_to):
            widget.dateChanged.connect(self.refresh)
        self.user_combo.currentIndexChanged.connect(self.refresh)
        self.category_combo.currentIndexChanged.connect(self.refresh)
        self.text.textChanged.connect(lambda: self._debounce.start())
        self._load_users()
        return row

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setDisplayFormat(UK_DATE)
        edit.setCalendarPopup(True)
        edit.setMinimumDate(ANY_DATE)
        edit.setSpecialValueText("Any")
        edit.setDate(ANY_DATE)
        edit.setAccessibleName(name)
        edit.setFixedWidth(122)
        return edit

    def _detail_pane(self) -> QWidget:
        pane = QFrame()
        pane.setObjectName("Card")
        pane.setMinimumWidth(280)
        pane.setMaximumWidth(420)
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        title = QLabel("Entry details")
        title.setObjectName("CardTitle")
        layout.addWidget(title)
        form = QFormLayout()
        form.setVerticalSpacing(6)
        form.setHorizontalSpacing(12)
        self.detail_labels: dict[str, QLabel] = {}
        for key in ("Entry", "When", "User", "Category", "Action", "Record", "Reason", "Recipient"):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.detail_labels[key] = value
            form.addRow(f"{key}:", value)
        layout.addLayout(form)
        detail_title = QLabel("Detail")
        detail_title.setObjectName("CardTitle")
        layout.addWidget(detail_title)
        self.detail_text = QPlainTextEdit()
        self.detail_text.setReadOnly(True)
        self.detail_text.setFont(mono_font(9))
        self.detail_text.setAccessibleName("Entry detail")
        layout.addWidget(self.detail_text, 1)
        self.detail_empty = QLabel("Select an entry to see its details.")
        self.detail_empty.setObjectName("Hint")
        layout.addWidget(self.detail_empty)
        self._show_detail(None)
        return pane

    # -- loading -------------------------------------------------------------------------------
    def _load_users(self) -> None:
        try:
            users = self.services.audit.users()
        except CasewardError:
            return
        current = self.user_combo.currentData()
        self.user_combo.blockSignals(True)
        while self.user_combo.count() > 1:
            self.user_combo.removeItem(1)
        for name in users:
            self.user_combo.addItem(name, name)
        index = self.user_combo.findData(current)
        self.user_combo.setCurrentIndex(max(index, 0))
        self.user_combo.blockSignals(False)

    def current_filter(self) -> AuditFilter:
        def day(edit: QDateEdit) -> date | None:
            d = edit.date()
            return None if d == ANY_DATE else date(d.year(), d.month(), d.day())

        return AuditFilter(
            since=day(self.date_from),
            until=day(self.date_to),
            user=str(self.user_combo.currentData() or ""),
            category=str(self.category_combo.currentData() or ""),
            text=self.text.text().strip(),
        )

    def clear_filters(self) -> None:
        for w in (self.date_from, self.date_to, self.user_combo, self.category_combo, self.text):
            w.blockSignals(True)
        self.date_from.setDate(ANY_DATE)
        self.date_to.setDate(ANY_DATE)
        self.user_combo.setCurrentIndex(0)
        self.category_combo.setCurrentIndex(0)
        self.text.clear()
        for w in (self.date_from, self.date_to, self.user_combo, self.category_combo, self.text):
            w.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Count and first page for the current filter, off the UI thread."""
        self._debounce.stop()
        flt = self.current_filter()
        service = self.services.audit
        if self._load_op is not None:
            self._load_op.cancel()
        self._load_seq += 1
        seq = self._load_seq
        self.count_label.setText("Loading…")

        def work(ctx: OpContext) -> tuple[AuditFilter, int, list[AuditRecord]]:
            total = service.count(flt)
            ctx.check()
            return flt, total, service.page(flt, offset=0, limit=PAGE_SIZE)

        self._load_op = self.services.ops.start(
            "audit.load", work,
            on_result=lambda result: self._loaded(seq, result),
            on_error=self._load_failed,
            on_bug=self._load_failed_bug,
        )

    def _loaded(self, seq: int, result: tuple[AuditFilter, int, list[AuditRecord]]) -> None:
        if seq != self._load_seq:
            return
        self._load_op = None
        flt, total, rows = result
        self.model.reset_with(flt, total, rows)
        self._show_detail(None)
        self._update_count()

    def _load_failed(self, exc: CasewardError) -> None:
        self._load_op = None
        self.count_label.setText("")
        self.services.dialogs.error(self, "Audit log", str(exc))

    def _load_failed_bug(self, message: str) -> None:
        self._load_op = None
        self.count_label.setText("")
        self.services.dialogs.error(self, "Audit log", message)

    @property
    def loading(self) -> bool:
        return self._load_op is not None

    def _update_count(self) -> None:
        total = self.model.total
        flt = self.model.filter
        filtered = flt != AuditFilter()
        noun = "entry" if total == 1 else "entries"
        self.count_label.setText(
            f"{total:,} {noun}{' match the filters' if filtered else ' in the log'}, "
            "newest first. More load as you scroll."
            if total > PAGE_SIZE else
            f"{total:,} {noun}{' match the filters' if filtered else ' in the log'}, newest first."
        )

    # -- details -------------------------------------------------------------------------------
    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        record = rows[0].data(AuditTableModel.RecordRole) if rows else None
        self._show_detail(record if isinstance(record, AuditRecord) else None)

    def _show_detail(self, r: AuditRecord | None) -> None:
        values = {
            "Entry": f"#{r.id}" if r else "",
            "When": local_time(r.at) if r else "",
            "User": r.user if r else "",
            "Category": r.category.capitalize() if r else "",
            "Action": r.action if r else "",
            "Record": record_text(r) if r else "",
            "Reason": (r.reason or "—") if r else "",
            "Recipient": (r.recipient or "—") if r else "",
        }
        for key, value in values.items():
            self.detail_labels[key].setText(value)
        self.detail_text.setPlainText(
            json.dumps(r.detail, indent=2, ensure_ascii=False, sort_keys=True) if r else ""
        )
        self.detail_empty.setVisible(r is None)

    # -- verification --------------------------------------------------------------------------
    def verify(self) -> None:
        if self._verify_op is not None:
            return
        service = self.services.audit
        self.result_banner.hide()
        self.progress.setRange(0, 0)
        self.progress_box.show()
        self.verify_button.setEnabled(False)
        self.cancel_button.setFocus()

        def work(ctx: OpContext) -> AuditVerification:
            return service.verify(progress=ctx.progress)

        self._verify_op = self.services.ops.start(
            "audit.verify", work,
            on_progress=self._verify_progress,
            on_result=self._verified,
            on_error=self._verify_failed,
            on_bug=self._verify_bug,
        )

    @property
    def verifying(self) -> bool:
        return self._verify_op is not None

    def _verify_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def cancel_verify(self) -> None:
        if self._verify_op is not None:
            self._verify_op.cancel()
        self._verify_done()
        self._show_banner("InfoBox", "Verification cancelled: nothing was checked to the end.")

    def _verify_done(self) -> None:
        self._verify_op = None
        self.progress_box.hide()
        self.verify_button.setEnabled(True)

    def _verified(self, result: AuditVerification) -> None:
        self._verify_done()
        stamp = datetime.now().strftime("%H:%M")
        if result.ok:
            self._show_banner(
                "OkBanner", f"Chain intact: {result.rows:,} rows verified at {stamp}."
            )
        elif result.first_bad is not None:
            self._show_banner("BadBanner",
                              f"Chain broken at row {result.first_bad}: {result.problem}.")
        else:
            self._show_banner("BadBanner", f"Integrity check failed: {result.problem}.")
        self.verify_button.setFocus()

    def _verify_failed(self, exc: CasewardError) -> None:
        self._verify_done()
        self._show_banner("BadBanner", f"Verification could not finish: {exc}")

    def _verify_bug(self, message: str) -> None:
        self._verify_done()
        self._show_banner("BadBanner", message)

    def _show_banner(self, kind: str, text: str) -> None:
        self.result_banner.setObjectName(kind)
        self.result_banner.setText(text)
        repolish(self.result_banner)  # the stylesheet selects on the object name
        self.result_banner.show()

    @property
    def banner_text(self) -> str:
        return "" if self.result_banner.isHidden() else self.result_banner.text()

    @property
    def banner_kind(self) -> str:
        return self.result_banner.objectName()

"""The retention review: the queue (left) and the review screen of the current record (right).

Keyboard: Alt+R retains the current record until the date shown (the rule's next review by
default) with the reason typed (kept for the session); Alt+E erases it after asking why and
for confirmation. Either way the next record in the queue becomes current."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError, ValidationError
from app.services.retention import QueueFilter, RetentionService, ReviewDetail
from ui.retention.models import RetentionQueueTableModel, uk_date
from ui.services import Services
from ui.widgets import (
    EmptyState,
    FieldError,
    card,
    heading,
    message_label,
    record_table,
    with_error,
)


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def _long(d: date | None) -> str:
    return f"{d.day} {d:%b %Y}" if d else "—"


class ReviewPanel(QWidget):
    """The review screen of one record: summary, rule, activity, links, history, decision."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(8)
        self.title = QLabel("Choose a record in the queue")
        self.title.setObjectName("PageTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.title)
        self.rule = message_label("InfoBox")
        outer.addWidget(self.rule)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        cols = QHBoxLayout(body)
        cols.setContentsMargins(0, 0, 0, 0)
        cols.setSpacing(10)
        summary_card, summary_layout = card("Record")
        self.summary = QFormLayout()
        self.summary.setHorizontalSpacing(12)
        self.summary.setVerticalSpacing(4)
        # In a narrow panel a long value goes under its label, instead of pushing the side
        # cards out of view behind a horizontal scroll bar.
        self.summary.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        summary_layout.addLayout(self.summary)
        summary_layout.addStretch(1)
        left = QVBoxLayout()
        left.setSpacing(10)
        left.addWidget(summary_card, 1)
        history_card, history_layout = card("Earlier decisions")
        self.history = QLabel()
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.TextFormat.PlainText)
        history_layout.addWidget(self.history)
        left.addWidget(history_card)
        cols.addLayout(left, 3)
        side = QVBoxLayout()
        side.setSpacing(10)
        activity_card, activity_layout = card("Last activity")
        self.activity = QLabel()
        self.activity.setWordWrap(True)
        self.activity.setTextFormat(Qt.TextFormat.PlainText)
        activity_layout.addWidget(self.activity)
        side.addWidget(activity_card)
        links_card, links_layout = card("Linked records")
        self.links = QLabel()  # one short line per kind: no wrapping, so never squeezed
        self.links.setTextFormat(Qt.TextFormat.PlainText)
        links_layout.addWidget(self.links)
        side.addWidget(links_card)
        side.addStretch(1)
        cols.addLayout(side, 2)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self.body = scroll
        self.empty = EmptyState(
            "verify", "Nothing to review",
            "No record in this list is due or overdue for its MOPI review. Records come back "
            "here on their next review date; change the filters above to see others.")
        self.empty.hide()
        outer.addWidget(self.empty, 1)

        decide_card, decide_layout = card("Decision")
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        self.until = QDateEdit()
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("dd/MM/yyyy")
        self.until.setAccessibleName("Next review date")
        until_label = QLabel("&Next review:")
        until_label.setBuddy(self.until)
        self.until_hint = QLabel()
        self.until_hint.setObjectName("Hint")
        row = QHBoxLayout()
        row.addWidget(self.until)
        row.addWidget(self.until_hint, 1)
        form.addRow(until_label, row)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why the record is kept (recorded with the decision)")
        self.reason.setAccessibleName("Reason")
        self.reason_error = FieldError()
        reason_label = QLabel("Rea&son:")
        reason_label.setBuddy(self.reason)
        form.addRow(reason_label, with_error(self.reason, self.reason_error))
        decide_layout.addLayout(form)
        buttons = QHBoxLayout()
        self.retain_button = QPushButton("Retain until date  (Alt+R)")
        self.retain_button.setProperty("primary", True)
        self.erase_button = QPushButton("Erase record…  (Alt+E)")
        buttons.addWidget(self.retain_button)
        buttons.addWidget(self.erase_button)
        buttons.addStretch(1)
        self.status = QLabel()
        self.status.setObjectName("Hint")
        buttons.addWidget(self.status)
        decide_layout.addLayout(buttons)
        outer.addWidget(decide_card)
        self.decide_card = decide_card
        self.show_detail(None)

    def show_detail(self, detail: ReviewDetail | None, today: date | None = None) -> None:
        while self.summary.rowCount():
            self.summary.removeRow(0)
        enabled = detail is not None
        for w in (self.until, self.reason, self.retain_button, self.erase_button):
            w.setEnabled(enabled)
        # With nothing to review, say so instead of showing empty cards and a dummy date.
        self.body.setVisible(enabled)
        self.decide_card.setVisible(enabled)
        self.empty.setVisible(not enabled)
        self.title.setVisible(enabled)
        if detail is None:
            self.title.setText("Nothing to review")
            self.rule.setVisible(False)
            self.activity.setText("")
            self.links.setText("")
            self.history.setText("")
            self.until_hint.setText("")
            return
        today = today or date.today()
        state = "overdue since" if detail.overdue else "due"
        self.title.setText(f"{detail.ref}  {detail.title}")
        self.rule.setText(f"{detail.group_label}. Review {state} {_long(detail.due)}.\n"
                          f"Rule: {detail.rule_text} (MOPI list {detail.table_version}).")
        self.rule.setVisible(True)
        for label, value in detail.summary:
            text = QLabel(value)
            text.setTextFormat(Qt.TextFormat.PlainText)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.summary.addRow(f"{label}:", text)
        self.activity.setText(
            f"{_long(detail.last_activity)}: {detail.last_activity_what}"
            if detail.last_activity else "No recorded activity.")
        self.links.setText("\n".join(f"{label}: {n}" for label, n in detail.linked)
                           or "None.")
        self.history.setText("\n".join(
            f"{_long(d.decided_on)} {d.decision} by {d.decided_by}"
            + (f", next review {_long(d.next_review)}" if d.next_review else "")
            + f": {d.reason}" for d in detail.decisions) or "Never reviewed.")
        self.until.setMinimumDate(_qdate(date.fromordinal(today.toordinal() + 1)))
        self.until.setMaximumDate(_qdate(detail.latest_until))
        self.until.setDate(_qdate(detail.default_until))
        self.until_hint.setText(f"The rule gives {uk_date(detail.default_until)}")


class RetentionView(QWidget):
    """The Retention area."""

    decided = Signal(str, str)  # ref, "retain" | "erase"

    def __init__(self, services: Services, parent: QWidget | None = None,
                 today: date | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.get(RetentionService)
        self.today = today or date.today()
        self.busy = False
        self.decisions = 0
        self._erase_reason = ""
        self._detail: ReviewDetail | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.setSpacing(8)
        layout.addWidget(heading(
            "Retention review",
            "Records due or overdue for their MOPI review. Retain each with its next review "
            "date, or erase it: every decision is recorded with who, when and why."))
        bar = QHBoxLayout()
        self.type_combo = QComboBox()
        for text, value in (("All records", None), ("Nominals", "nominal"),
                            ("Referrals", "referral")):
            self.type_combo.addItem(text, value)
        self.group_combo = QComboBox()
        self.group_combo.addItem("All groups", None)
        for number, group in sorted(self.service.table().groups.items()):
            self.group_combo.addItem(f"Group {number}", number)
            self.group_combo.setItemData(self.group_combo.count() - 1, group.label,
                                         Qt.ItemDataRole.ToolTipRole)
        self.force_combo = QComboBox()
        self.force_combo.addItem("All forces", None)
        for force in self.service.forces():
            self.force_combo.addItem(force, force)
        self.overdue_box = QCheckBox("&Overdue only")
        for label, combo in (("&Type:", self.type_combo), ("&Group:", self.group_combo),
                             ("&Force:", self.force_combo)):
            caption = QLabel(label)
            caption.setBuddy(combo)
            bar.addWidget(caption)
            bar.addWidget(combo)
            bar.addSpacing(6)
        bar.addWidget(self.overdue_box)
        bar.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setObjectName("Hint")
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        self.error = message_label("ErrorBox")
        layout.addWidget(self.error)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.model = RetentionQueueTableModel(self)
        self.table = record_table(self.model, "Review queue", row_height=30, stretch=(4,))
        header = self.table.horizontalHeader()
        # Widths from the font, not from the rows (no resize-to-contents on a paged table).
        # Headings are bold (style sheet), which the header's own font does not say.
        heading_font = QFont(header.font())
        heading_font.setBold(True)
        fm, bold = self.table.fontMetrics(), QFontMetrics(heading_font)
        samples = ("00/00/0000", "Overdue", "NM-000000", "Group 0", "", "Never")
        for column, sample in enumerate(samples):
            width = max(bold.horizontalAdvance(RetentionQueueTableModel.COLUMNS[column]) + 20,
                        fm.horizontalAdvance(sample) + 18)
            self.table.setColumnWidth(column, width)
        # The stretched "Record" column may be squeezed, but never below its heading.
        header.setMinimumSectionSize(
            bold.horizontalAdvance(RetentionQueueTableModel.COLUMNS[4]) + 20)
        split.addWidget(self.table)
        self.panel = ReviewPanel()
        split.addWidget(self.panel)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 6)
        # A little more to the queue than before, so that its columns fit beside a review
        # screen whose long values now wrap.
        split.setSizes([700, 630])
        layout.addWidget(split, 1)

        self.panel.retain_button.clicked.connect(self.retain_current)
        self.panel.erase_button.clicked.connect(self.erase_current)
        for keys, slot in (("Alt+R", self.retain_current), ("Alt+E", self.erase_current)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.panel.reason.returnPressed.connect(self.retain_current)
        for combo in (self.type_combo, self.group_combo, self.force_combo):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.overdue_box.toggled.connect(lambda _on: self.reload())
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._show_row(current.row()))
        self.reload()

    # -- the queue -------------------------------------------------------------------------------
    def filter(self) -> QueueFilter:
        return QueueFilter(
            record_type=self.type_combo.currentData(),
            group=self.group_combo.currentData(),
            overdue_only=self.overdue_box.isChecked(),
            force=self.force_combo.currentData(),
        )

    def reload(self, row: int = 0) -> None:
        """Reload the queue and make ``row`` (clamped) the current record."""
        flt = self.filter()
        try:
            # One computation of the queue per reload; the model pages through it.
            due = self.service.due(flt, today=self.today)
        except CasewardError as exc:
            self._fail(exc)
            return
        self.model.load(lambda: len(due), lambda offset, limit: due[offset:offset + limit])
        total = self.model.total
        overdue = sum(1 for r in due if r.overdue)
        self.count_label.setText(f"{total} due" + (f", {overdue} overdue" if overdue else ""))
        if total == 0:
            self._show_row(-1)
            return
        row = max(0, min(row, self.model.rowCount() - 1))
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self._show_row(row)

    def current_ref(self) -> str | None:
        return self._detail.ref if self._detail else None

    def _show_row(self, row: int) -> None:
        record = self.model.record(row)
        if record is None:
            self._detail = None
            self.panel.show_detail(None)
            return
        if self._detail is not None and self._detail.ref == record.ref:
            return
        try:
            self._detail = self.service.review(record.ref, today=self.today)
        except CasewardError as exc:
            self._fail(exc)
            return
        self.panel.show_detail(self._detail, self.today)

    def _fail(self, exc: CasewardError) -> None:
        self.error.setText(str(exc))
        self.error.setVisible(True)

    # -- decisions -------------------------------------------------------------------------------
    def retain_current(self) -> None:
        detail = self._detail
        if detail is None or self.busy:
            return
        reason = self.panel.reason.text().strip()
        if not reason:
            self.panel.reason_error.show_error("Say why the record is kept.", self.panel.reason)
            self.panel.reason.setFocus()
            return
        self.panel.reason_error.clear_error(self.panel.reason)
        until = _pydate(self.panel.until.date())
        self._run(detail.ref, "retain",
                  lambda _ctx: self.service.retain(detail.ref, until, reason, today=self.today))

    def erase_current(self) -> None:
        detail = self._detail
        if detail is None or self.busy:
            return
        dialogs = self.services.dialogs
        reason = dialogs.ask_text(
            self, "Erase record",
            f"Why is {detail.ref} being erased? The reason is recorded in the audit log.",
            self._erase_reason)
        if reason is None:
            return
        reason = reason.strip()
        if not reason:
            dialogs.error(self, "Erase record", "Give a reason: nothing was erased.")
            return
        self._erase_reason = reason
        if not dialogs.confirm(
                self, f"Erase {detail.ref}?",
                f"{detail.ref} and everything only it holds (history, contacts, notes, "
                "orders, search entries) will be removed for good. Other records' links to it "
                "will show 'Erased record'. This cannot be undone.", "Erase"):
            return
        self._run(detail.ref, "erase",
                  lambda _ctx: self.service.erase(detail.ref, reason, today=self.today))

    def _run(self, ref: str, kind: str, work: Any) -> None:
        self.busy = True
        row = max(self.table.currentIndex().row(), 0)
        self.panel.status.setText("Erasing…" if kind == "erase" else "Saving…")
        for w in (self.panel.retain_button, self.panel.erase_button):
            w.setEnabled(False)

        def done(_result: Any) -> None:
            self.busy = False
            self.decisions += 1
            self.error.setVisible(False)
            self.panel.status.setText(
                f"{ref} {'retained' if kind == 'retain' else 'erased'}.")
            self._detail = None
            self.reload(row)
            self.table.setFocus()
            self.decided.emit(ref, kind)

        def failed(exc: CasewardError) -> None:
            self.busy = False
            self.panel.status.setText("")
            self.panel.show_detail(self._detail, self.today)
            if isinstance(exc, ValidationError) and exc.field in ("reason", "until"):
                field = self.panel.reason if exc.field == "reason" else self.panel.until
                self.panel.reason_error.show_error(exc.message, field)
            else:
                self._fail(exc)

        def bug(message: str) -> None:
            self.busy = False
            self.panel.status.setText("")
            self.services.dialogs.error(self, "Retention review", message)

        self.services.ops.start(f"retention.{kind}", work, on_result=done, on_error=failed,
                                on_bug=bug)

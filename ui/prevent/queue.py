"""The Prevent referrals area: the triage queue (paged, filterable, immediate risk first in red),
the intake form, and the workspace of one referral, one page at a time."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.prevent import PreventLists, Stage
from app.domain.roles import Perm
from app.services.referrals import QueueRow, ReferralFilter, ReferralService
from ui.prevent.common import combo_code, run
from ui.prevent.intake import ReferralIntakeForm
from ui.prevent.models import RECORD_ROLE, ReferralTableModel
from ui.prevent.workspace import ReferralWorkspace
from ui.services import Services
from ui.widgets import heading, record_table

FIRST_PAGE = 200
# (code, label) of the stage filter; "triage" is the default: what awaits the gateway decision.
STAGE_FILTERS = (
    ("triage", "Awaiting triage (New, Gateway assessment)"),
    ("open", "All open referrals"),
    ("new", "New"),
    ("gateway", "Gateway assessment"),
    ("decision", "Decision"),
    ("outcome", "Outcome"),
    ("closed", "Closed"),
    ("all", "All referrals"),
)


def stage_filter(code: str, *, overdue: bool = False, text: str = "") -> ReferralFilter:
    if code == "triage":
        return ReferralFilter(stages=(Stage.NEW, Stage.GATEWAY), overdue_only=overdue,
                              text=text)
    if code == "open":
        return ReferralFilter(open_only=True, overdue_only=overdue, text=text)
    if code == "all" or not code:
        return ReferralFilter(overdue_only=overdue, text=text)
    return ReferralFilter(stages=(Stage(code),), overdue_only=overdue, text=text)


def referral_table(model: ReferralTableModel) -> QTableView:
    # Subject and concern share what is left, so a name is not cut to "IQBAL, …" at 1280 px.
    table = record_table(model, "Referrals", row_height=28, stretch=(3, 4))
    # Widths from the fonts (headings are bold in the style sheet), not from the rows.
    bold = QFont(table.horizontalHeader().font())
    bold.setBold(True)
    heads, cells = QFontMetrics(bold), table.fontMetrics()
    samples = ("PR-000000", "Gateway assessment", "00/00/0000 00:00", "", "",
               "Family or friends", "0 used, 0 left", "00/00/0000", "Decided late")
    for col, sample in enumerate(samples):
        title = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
        table.setColumnWidth(col, max(heads.horizontalAdvance(title) + 20,
                                      cells.horizontalAdvance(sample) + 14))
    return table


class TriageQueueView(QWidget):
    """Referrals with the gateway clock: Enter opens one; Ctrl+N starts a new referral."""

    open_requested = Signal(int)
    new_requested = Signal()

    def __init__(self, services: Services, lists: PreventLists,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.lists = lists
        self.service = services.get(ReferralService)
        self.loading = False
        self._seq = 0
        self.model = ReferralTableModel(
            lists, lambda f, o, n: self.service.queue(f, offset=o, limit=n), parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        top = QHBoxLayout()
        target = self.service.target_working_days()
        top.addWidget(heading(
            "Prevent referrals",
            f"The gateway decision is due within {target} working days of receipt (bank "
            "holidays excluded). Immediate-risk referrals are always first, in red. "
            "Enter opens the selected referral."), 1)
        self.new_button = QPushButton("&New referral")
        self.new_button.setProperty("primary", True)
        self.new_button.setToolTip("Record a new referral (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.new_button.setVisible(services.can(Perm.REFERRAL_WRITE))
        top.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(top)
        if services.can(Perm.REFERRAL_WRITE):
            QShortcut(QKeySequence("Ctrl+N"), self, self.new_requested.emit,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        filters = QHBoxLayout()
        self.stage = QComboBox()
        self.stage.setAccessibleName("Stage")
        for code, label in STAGE_FILTERS:
            self.stage.addItem(label, code)
        stage_label = QLabel("S&tage:")
        stage_label.setBuddy(self.stage)
        self.overdue = QCheckBox("&Overdue only")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Ref (PR-…) or subject's name")
        self.search.setAccessibleName("Search referrals")
        self.search.setClearButtonEnabled(True)
        search_label = QLabel("&Search:")
        search_label.setBuddy(self.search)
        filters.addWidget(stage_label)
        filters.addWidget(self.stage)
        filters.addSpacing(8)
        filters.addWidget(self.overdue)
        filters.addSpacing(8)
        filters.addWidget(search_label)
        filters.addWidget(self.search, 1)
        self.count_label = QLabel()
        self.count_label.setObjectName("Hint")
        filters.addWidget(self.count_label)
        layout.addLayout(filters)

        self.table = referral_table(self.model)
        self.table.activated.connect(self._activated)
        layout.addWidget(self.table, 1)
        legend = QLabel("Status: On track · Due soon (amber, within the warning days) · Overdue "
                        "(red) · Decided in time / Decided late once the gateway decision is "
                        "recorded. Elapsed and remaining are working days.")
        legend.setObjectName("Hint")
        legend.setWordWrap(True)
        layout.addWidget(legend)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.stage.currentIndexChanged.connect(lambda _i: self.reload())
        self.overdue.toggled.connect(lambda _b: self.reload())
        self.reload()

    def current_filter(self) -> ReferralFilter:
        return stage_filter(combo_code(self.stage), overdue=self.overdue.isChecked(),
                            text=self.search.text().strip())

    def reload(self, select_ref: str | None = None) -> None:
        """Count and first page off the UI thread; later pages as the user scrolls."""
        flt = self.current_filter()
        self._seq += 1
        seq = self._seq
        self.loading = True
        self.count_label.setText("Loading…")

        def work() -> tuple[int, list[QueueRow]]:
            return (self.service.count(flt),
                    self.service.queue(flt, offset=0, limit=FIRST_PAGE))

        def done(result: Any) -> None:
            if seq != self._seq:
                return
            total, rows = result
            self.model.reset_with(flt, total, rows)
            overdue = sum(1 for r in rows if r.status == "overdue")
            risk = sum(1 for r in rows if r.immediate_risk)
            bits = [f"{total:,} referral{'s' if total != 1 else ''}"]
            if risk:
                bits.append(f"{risk} immediate risk")
            if overdue and not flt.overdue_only:
                bits.append(f"{overdue}{'+' if total > len(rows) else ''} overdue")
            self.count_label.setText(" · ".join(bits))
            self.loading = False
            row = self.model.row_of(_ref_id(select_ref)) if select_ref else 0
            if self.model.rowCount():
                self.table.selectRow(max(row, 0))

        def failed(exc: Any) -> None:
            self.loading = False
            self.count_label.setText("")
            self.services.dialogs.error(self, "Referrals", str(exc))

        run(self.services, "prevent.queue", work, done, self, failed)

    def _activated(self, index: QModelIndex) -> None:
        row = self.model.data(index, RECORD_ROLE)
        if row is not None:
            self.open_requested.emit(row.id)

    def focus_table(self) -> None:
        self.table.setFocus()


def _ref_id(ref: str | None) -> int:
    from app.services.referrals import parse_referral_ref

    return parse_referral_ref(ref) if ref else -1


class ReferralsArea(QStackedWidget):
    """Queue ↔ intake ↔ workspace: one page at a time, Escape goes back to the queue."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.lists = services.get(ReferralService).lists()
        self.queue = TriageQueueView(services, self.lists)
        self.queue.open_requested.connect(self.open_referral)
        self.queue.new_requested.connect(self.new_referral)
        self.addWidget(self.queue)
        self.intake: ReferralIntakeForm | None = None
        self.workspace: ReferralWorkspace | None = None

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.currentWidget() is self.queue:
            QTimer.singleShot(0, self.queue.focus_table)

    def _drop(self, widget: QWidget | None) -> None:
        if widget is not None:
            self.removeWidget(widget)
            widget.deleteLater()

    def new_referral(self) -> ReferralIntakeForm:
        self._drop(self.intake)
        self.intake = ReferralIntakeForm(self.services, self.lists)
        self.intake.saved.connect(self._saved)
        self.intake.cancelled.connect(self.show_queue)
        self.addWidget(self.intake)
        self.setCurrentWidget(self.intake)
        self.intake.focus_first()
        return self.intake

    def _saved(self, ref: str) -> None:
        self._drop(self.intake)
        self.intake = None
        self.queue.reload(select_ref=ref)
        self.open_referral(ref)

    def open_referral(self, ref: int | str) -> ReferralWorkspace | None:
        self._drop(self.workspace)
        self.workspace = None
        try:
            ws = ReferralWorkspace(self.services, self.lists, ref)
        except Exception as exc:  # a CasewardError: say so plainly; anything else is a bug
            from app.domain.errors import CasewardError

            if not isinstance(exc, CasewardError):
                raise
            self.services.dialogs.error(self, "Referral", str(exc))
            return None
        ws.back_requested.connect(self.show_queue)
        ws.changed.connect(lambda r: self.queue.reload(select_ref=r))
        self.workspace = ws
        self.addWidget(ws)
        self.setCurrentWidget(ws)
        ws.tabs.setFocus()
        return ws

    def show_queue(self) -> None:
        self.setCurrentWidget(self.queue)
        self._drop(self.intake)
        self.intake = None
        self.queue.focus_table()

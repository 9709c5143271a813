"""Engagement panels for the nominal record: contact plan and log, notification requirements,
civil orders, pathways; and the Pathways map area (who is on which pathway).

Each panel loads its nominal's rows from ``EngagementService`` (a few dozen rows: read on the
UI thread when the tab is built) and keeps them in a ``RowsTableModel``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.roles import Perm
from app.services.engagement import (
    ContactPlanInfo,
    ContactRecord,
    EngagementService,
    NotificationInfo,
    OrderInfo,
    PathwayMapRow,
    PathwayRecord,
)
from ui.calendar.common import DUE_SOON, OVERDUE, uk_date
from ui.services import Services
from ui.widgets import heading, message_label, record_table

T = TypeVar("T")
AnyIndex = Any
ROOT = QModelIndex()
DISPLAY = Qt.ItemDataRole.DisplayRole
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class Column(Generic[T]):
    title: str
    text: Callable[[T], str]
    sort: Callable[[T], Any] | None = None
    colour: Callable[[T], Any] | None = None
    numeric: bool = False


class RowsTableModel(QAbstractTableModel, Generic[T]):
    """Read-only rows of one record type, described by ``Column``s."""

    def __init__(self, columns: Sequence[Column[T]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[T] = []

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, n: int) -> T:
        return self._rows[n]

    def rows(self) -> list[T]:
        return list(self._rows)

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if (role == DISPLAY and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.columns)):
            return self.columns[section].title
        return None

    def data(self, index: AnyIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == DISPLAY:
            return column.text(row)
        if role == SORT_ROLE:
            return (column.sort or column.text)(row)
        if role == RECORD_ROLE:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column.colour is not None:
            colour = column.colour(row)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            text = column.text(row)
            return text if len(text) > 30 else None
        return None


def _table(model: QAbstractTableModel, name: str, stretch: int = -1) -> QTableView:
    view = record_table(model, name)
    header = view.horizontalHeader()
    columns = model.columnCount()
    last = columns - 1 if stretch < 0 else stretch
    for col in range(columns):
        header.setSectionResizeMode(
            col, QHeaderView.ResizeMode.Stretch if col == last
            else QHeaderView.ResizeMode.ResizeToContents)
    return view


def _when(at: datetime | None) -> str:
    return at.strftime("%d/%m/%Y %H:%M") if at else ""


def _due_colour(day: date | None, lead: int = 14) -> Any:
    if day is None:
        return None
    today = date.today()
    if day < today:
        return OVERDUE
    if day <= today + timedelta(days=lead):
        return DUE_SOON
    return None


def _empty(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("Hint")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


class _Panel(QWidget):
    """A panel with an error line; subclasses implement ``reload``."""

    def __init__(self, services: Services, ref: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ref = ref
        self.engagement = services.get(EngagementService)
        self.can_write = services.can(Perm.ENGAGEMENT_WRITE)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(12, 10, 12, 10)
        self.layout_.setSpacing(8)
        self.error = message_label("ErrorBox")
        self.layout_.addWidget(self.error)

    def guarded(self, fn: Callable[[], None]) -> None:
        self.error.setVisible(False)
        try:
            fn()
        except CasewardError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)


class ContactsPanel(_Panel):
    """The contact plan (frequency, rule, next due, override) above the contact log."""

    changed = Signal()

    def __init__(self, services: Services, ref: str, parent: QWidget | None = None) -> None:
        super().__init__(services, ref, parent)
        plan_row = QHBoxLayout()
        self.plan_text = QLabel()
        self.plan_text.setObjectName("PlanSummary")
        self.plan_text.setWordWrap(True)
        self.plan_text.setTextFormat(Qt.TextFormat.PlainText)
        plan_row.addWidget(self.plan_text, 1)
        self.plan_button = QPushButton("Contact &plan…")
        self.plan_button.setToolTip("Change this nominal's contact frequency, with a reason")
        self.plan_button.clicked.connect(self.edit_plan)
        self.log_button = QPushButton("&Log contact…")
        self.log_button.setProperty("primary", True)
        self.log_button.clicked.connect(self.log_contact)
        for b in (self.plan_button, self.log_button):
            b.setVisible(self.can_write)
            plan_row.addWidget(b, 0, Qt.AlignmentFlag.AlignTop)
        self.layout_.addLayout(plan_row)
        self.model: RowsTableModel[ContactRecord] = RowsTableModel([
            Column("When", lambda c: _when(c.at), lambda c: c.at.isoformat()),
            Column("Type", lambda c: self._types.get(c.contact_type, c.contact_type)),
            Column("Officer", lambda c: c.officer),
            Column("Outcome", lambda c: self._outcomes.get(c.outcome, c.outcome),
                   colour=lambda c: None if c.counts else DUE_SOON),
            Column("Next planned", lambda c: uk_date(c.next_planned)),
            Column("Notes", lambda c: " ".join(c.notes.split())),
        ], self)
        self.table = _table(self.model, "Contact log")
        self.empty = _empty("No contacts logged yet. Use Log contact to record the first.")
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.empty, 1)
        self._types: dict[str, str] = {}
        self._outcomes: dict[str, str] = {}
        self.plan: ContactPlanInfo | None = None
        self.reload()

    def reload(self) -> None:
        def load() -> None:
            vocab = self.engagement.contact_vocab()
            self._types, self._outcomes = dict(vocab.types), dict(vocab.outcomes)
            self.plan = self.engagement.plan(self.ref)
            self.model.set_rows(self.engagement.contacts(self.ref))

        self.guarded(load)
        plan = self.plan
        if plan is not None:
            due = plan.next_due
            late = due is not None and due < date.today()
            when = f"next contact due {uk_date(due)}" if due else "no contact due"
            if late:
                when += " (overdue)"
            last = f"last contact {_when(plan.last_contact_at)}" if plan.last_contact_at \
                else "no contact yet"
            self.plan_text.setText(f"{plan.rule_text}\n{last}; {when}.")
            self.plan_text.setProperty("late", late)
            self.plan_text.setStyleSheet("color: #b3261e;" if late else "")
        has = self.model.rowCount() > 0
        self.table.setVisible(has)
        self.empty.setVisible(not has)

    def _saved(self, _record: object) -> None:
        self.reload()
        self.changed.emit()

    def log_contact(self) -> Any:
        from ui.engagement.dialogs import LogContactDialog

        dialog = LogContactDialog(self.services, self.ref, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog

    def edit_plan(self) -> Any:
        from ui.engagement.dialogs import ContactPlanDialog

        try:
            dialog = ContactPlanDialog(self.services, self.ref, self)
        except CasewardError as exc:
            self.services.dialogs.error(self, "Contact plan", str(exc))
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog


class NotificationsPanel(_Panel):
    """Notification requirements: the rule applied, the period, and what is due next."""

    def __init__(self, services: Services, ref: str, parent: QWidget | None = None) -> None:
        super().__init__(services, ref, parent)
        self.model: RowsTableModel[NotificationInfo] = RowsTableModel([
            Column("Start", lambda n: uk_date(n.start_date), lambda n: n.start_date.isoformat()),
            Column("Rule", lambda n: n.rule_text),
            Column("Ends", lambda n: uk_date(n.end_date), lambda n: n.end_date.isoformat()),
            Column("Next re-notification", lambda n: uk_date(n.next_due),
                   colour=lambda n: _due_colour(n.next_due) if n.status == "active" else None),
            Column("Notifications owed", lambda n: self._owed(n)),
            Column("Status", lambda n: n.status.title()),
        ], self)
        self.table = _table(self.model, "Notification requirements", stretch=1)
        self.empty = _empty("No notification requirements recorded for this nominal.")
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.empty, 1)
        self.reload()

    @staticmethod
    def _owed(n: NotificationInfo) -> str:
        owed = [e for e in n.events if e.notified_on is None]
        if not owed:
            return "None"
        first = min(owed, key=lambda e: e.due_date)
        more = f" (+{len(owed) - 1} more)" if len(owed) > 1 else ""
        return f"{first.kind.replace('_', ' ')} by {uk_date(first.due_date)}{more}"

    def reload(self) -> None:
        self.guarded(lambda: self.model.set_rows(self.engagement.notifications(self.ref)))
        has = self.model.rowCount() > 0
        self.table.setVisible(has)
        self.empty.setVisible(not has)


class OrdersPanel(_Panel):
    """Civil orders with their end and next review (TPIM reviews are quarterly)."""

    def __init__(self, services: Services, ref: str, parent: QWidget | None = None) -> None:
        super().__init__(services, ref, parent)
        self.model: RowsTableModel[OrderInfo] = RowsTableModel([
            Column("Order", lambda o: o.label),
            Column("Start", lambda o: uk_date(o.start_date), lambda o: o.start_date.isoformat()),
            Column("Ends", lambda o: uk_date(o.end_date), lambda o: o.end_date.isoformat(),
                   colour=lambda o: _due_colour(o.end_date) if o.status == "active" else None),
            Column("Next review", lambda o: uk_date(self._next_review(o)),
                   colour=lambda o: _due_colour(self._next_review(o))),
            Column("Reviews done", lambda o: f"{sum(r.done_on is not None for r in o.reviews)}"
                                             f" of {len(o.reviews)}"),
            Column("Status", lambda o: o.status.title()),
            Column("Rule", lambda o: o.rule_text),
        ], self)
        self.table = _table(self.model, "Civil orders")
        self.empty = _empty("No civil orders recorded for this nominal.")
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.empty, 1)
        self.reload()

    @staticmethod
    def _next_review(o: OrderInfo) -> date | None:
        if o.status != "active":
            return None
        pending = [r.due_date for r in o.reviews if r.done_on is None]
        return min(pending) if pending else None

    def reload(self) -> None:
        self.guarded(lambda: self.model.set_rows(self.engagement.orders(self.ref)))
        has = self.model.rowCount() > 0
        self.table.setVisible(has)
        self.empty.setVisible(not has)


class PathwaysPanel(_Panel):
    """The nominal's needs per reoffending pathway, with interventions and providers."""

    def __init__(self, services: Services, ref: str, parent: QWidget | None = None) -> None:
        super().__init__(services, ref, parent)
        self.model: RowsTableModel[PathwayRecord] = RowsTableModel([
            Column("Pathway", lambda p: p.label),
            Column("Need", lambda p: p.need_level.title()),
            Column("Status", lambda p: p.status.replace("_", " ").title()),
            Column("Interventions", lambda p: " ".join(p.interventions.split())),
            Column("Providers", lambda p: p.providers),
            Column("From", lambda p: uk_date(p.start_date)),
            Column("To", lambda p: uk_date(p.end_date)),
        ], self)
        self.table = _table(self.model, "Pathways", stretch=3)
        self.empty = _empty("No pathway needs recorded for this nominal.")
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.empty, 1)
        self.reload()

    def reload(self) -> None:
        self.guarded(lambda: self.model.set_rows(self.engagement.pathways(self.ref)))
        has = self.model.rowCount() > 0
        self.table.setVisible(has)
        self.empty.setVisible(not has)


class NominalEngagementTabs(QTabWidget):
    """The engagement tabs of a nominal's record form: Contacts, Notification, Civil orders,
    Pathways (the form takes the pages over with their titles)."""

    def __init__(self, services: Services, ref: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.contacts = ContactsPanel(services, ref)
        self.notifications = NotificationsPanel(services, ref)
        self.orders = OrdersPanel(services, ref)
        self.pathways = PathwaysPanel(services, ref)
        self.addTab(self.contacts, "Contacts")
        self.addTab(self.notifications, "Notification")
        self.addTab(self.orders, "Civil orders")
        self.addTab(self.pathways, "Pathways")


def _need_column(level: str) -> Column[PathwayMapRow]:
    def count(row: PathwayMapRow) -> int:
        return int(row.by_need.get(level, 0))

    return Column(level.title(), lambda r: f"{count(r):,}", count, numeric=True)


class PathwayMapView(QWidget):
    """Who is on which pathway: counts by need level per pathway; the refs of the one chosen.
    ``open_record_requested(kind, ref)`` asks the window to open a nominal."""

    open_record_requested = Signal(str, str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.engagement = services.get(EngagementService)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(10)
        top = QHBoxLayout()
        top.addWidget(heading("Pathways", "Who is on which reoffending pathway, by need level."),
                      1)
        self.open_only = QCheckBox("&Current records only")
        self.open_only.setChecked(True)
        self.open_only.toggled.connect(lambda _on: self.reload())
        top.addWidget(self.open_only, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(top)
        self.error = message_label("ErrorBox")
        layout.addWidget(self.error)
        self.levels: tuple[str, ...] = ()
        self.model: RowsTableModel[PathwayMapRow] = RowsTableModel([], self)
        split = QSplitter(Qt.Orientation.Horizontal)
        # Rebuilt columns on each reload (one per need level): the view is set up once here.
        self.table = record_table(self.model, "Pathways", row_height=30)
        split.addWidget(self.table)
        side = QWidget()
        col = QVBoxLayout(side)
        col.setContentsMargins(10, 0, 0, 0)
        self.members_title = QLabel("Select a pathway")
        self.members_title.setObjectName("SectionTitle")
        col.addWidget(self.members_title)
        self.members = QListWidget()
        self.members.setAccessibleName("Nominals on the pathway")
        self.members.itemActivated.connect(
            lambda item: self.open_record_requested.emit("nominal", item.data(RECORD_ROLE)))
        col.addWidget(self.members, 1)
        hint = QLabel("Double-click or Enter opens the record.")
        hint.setObjectName("Hint")
        col.addWidget(hint)
        split.addWidget(side)
        split.setSizes([720, 320])
        layout.addWidget(split, 1)
        self.reload()

    def reload(self) -> None:
        self.error.setVisible(False)
        try:
            table = self.engagement.pathway_catalogue()
            rows = self.engagement.pathway_map(open_only=self.open_only.isChecked())
        except CasewardError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)
            return
        self.levels = table.need_levels
        columns: list[Column[PathwayMapRow]] = [
            Column("Pathway", lambda r: r.label),
            Column("Nominals", lambda r: f"{r.count:,}", lambda r: r.count, numeric=True),
        ]
        for level in reversed(self.levels):
            columns.append(_need_column(level))
        self.model = RowsTableModel(columns, self)
        self.model.set_rows(rows)
        old = self.table.selectionModel()
        self.table.setModel(self.model)
        if old is not None:
            old.deleteLater()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, self.model.columnCount()):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _p: self._show(cur))
        if rows:
            self.table.selectRow(0)

    def _show(self, index: QModelIndex) -> None:
        self.members.clear()
        if not index.isValid():
            return
        row = self.model.row(index.row())
        shown = row.refs[:2000]
        more = f" (first {len(shown):,} shown)" if len(row.refs) > len(shown) else ""
        self.members_title.setText(f"{row.label}: {row.count:,} nominals{more}")
        for ref in shown:
            item = QListWidgetItem(ref)
            item.setData(RECORD_ROLE, ref)
            self.members.addItem(item)

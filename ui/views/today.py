"""The home area after unlock: what is overdue and what falls due, as five lists with counts.

Each card shows its count (a badge), the first items (``today_summary`` carries at most 200 per
list) and "Show all" for the rest (paged with ``today_page``). From an overdue contact, "Log
contact…" opens the quick-add dialog; once saved the lists reload and the nominal leaves the
overdue list. Double-click or Enter opens the record."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.roles import Perm
from app.domain.rules import DueItem
from app.services.calendar import CalendarPage, CalendarService, TodayList, TodaySummary
from ui.calendar.common import RECORD_ROLE, VIEW_QSS, DueColumns, DueItemTableModel, Loader
from ui.services import Services
from ui.theme import repolish
from ui.widgets import heading, message_label, record_table

PAGE = 200

EMPTY_TEXT = {
    "overdue_contacts": "No overdue contacts: every nominal has been seen within their plan.",
    "due_this_week": "Nothing falls due in the next seven days.",
    "expiring": "No civil orders or notification requirements end or fall due within the "
                "lead time.",
    "overdue_actions": "No overdue actions. Meeting actions and replies owed appear here "
                       "once they pass their due date.",
    "overdue_referrals": "No referral reviews are overdue.",
}

# (row, column, row span, column span) of each card. Three small cards side by side need
# about 420 px each for "Date, Ref, What" without cutting What ("Yearly re-notification due").
WIDE_LAYOUT = {"overdue_contacts": (0, 0, 1, 3), "due_this_week": (0, 3, 1, 3),
               "expiring": (1, 0, 1, 2), "overdue_actions": (1, 2, 1, 2),
               "overdue_referrals": (1, 4, 1, 2)}
NARROW_LAYOUT = {"overdue_contacts": (0, 0, 1, 1), "due_this_week": (0, 1, 1, 1),
                 "expiring": (1, 0, 1, 1), "overdue_referrals": (1, 1, 1, 1),
                 "overdue_actions": (2, 0, 1, 2)}
WIDE_FROM = 1360  # the view's width from which the wide layout is used


def uk_long_date(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def _table(model: DueItemTableModel, name: str) -> QTableView:
    """Date and Ref as wide as their format, What the rest; titles wrap onto a second line
    when a narrow card cuts them (``DueColumns``)."""
    view = record_table(model, name, row_height=24)
    view.setShowGrid(False)
    DueColumns(view, model, wrap=True)
    return view


class TodayCard(QFrame):
    """One list: title, count badge, the items (or a helpful empty state), Show all."""

    open_requested = Signal(object)  # DueItem
    show_all_requested = Signal(str)
    selection_changed = Signal()

    def __init__(self, key: str, title: str, columns: tuple[str, ...],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("Card")
        self.count = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)  # 2 x 12: What's room in a narrow card
        layout.setSpacing(6)
        top = QHBoxLayout()
        self.title = QLabel(title)
        self.title.setObjectName("CardTitle")
        self.badge = QLabel("0")
        self.badge.setObjectName("CountBadge")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        top.addWidget(self.title)
        top.addWidget(self.badge)
        top.addStretch(1)
        self.show_all = QPushButton("Show all")
        self.show_all.setProperty("flat", True)
        self.show_all.clicked.connect(lambda: self.show_all_requested.emit(self.key))
        top.addWidget(self.show_all)
        layout.addLayout(top)
        self.model = DueItemTableModel(columns=columns)
        self.table = _table(self.model, title)
        self.table.doubleClicked.connect(self._open_row)
        self.table.selectionModel().currentRowChanged.connect(
            lambda *_: self.selection_changed.emit())
        self.table.installEventFilter(self)
        self.empty = QLabel()
        self.empty.setObjectName("CardEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QStackedWidget()
        self.body.addWidget(self.table)
        self.body.addWidget(self.empty)
        layout.addWidget(self.body, 1)
        self.footer = QHBoxLayout()
        layout.addLayout(self.footer)

    def load(self, lst: TodayList, today: date, lead_days: int) -> None:
        self.count = lst.count
        self.model.lead_days = lead_days
        self.model.set_items(lst.items, today)
        self.badge.setText(f"{lst.count:,}")
        level = "ok" if not lst.count else "bad" if self.key.startswith("overdue") else (
            "warn" if self.key == "expiring" else "")
        self.badge.setProperty("level", level)
        repolish(self.badge)
        self.badge.setAccessibleName(f"{lst.count} items")
        self.show_all.setVisible(lst.count > 0)
        self.show_all.setToolTip(f"List all {lst.count:,}, a page at a time")
        self.empty.setText(EMPTY_TEXT.get(self.key, "Nothing here."))
        self.body.setCurrentWidget(self.table if lst.count else self.empty)

    def current_item(self) -> DueItem | None:
        index = self.table.currentIndex()
        item = index.siblingAtColumn(0).data(RECORD_ROLE) if index.isValid() else None
        return item if isinstance(item, DueItem) else None

    def refs(self) -> list[str]:
        return [i.ref for i in self.model.items()]

    def _open_row(self, index: Any) -> None:
        item = index.siblingAtColumn(0).data(RECORD_ROLE)
        if isinstance(item, DueItem):
            self.open_requested.emit(item)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.table and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            item = self.current_item()
            if item is not None:
                self.open_requested.emit(item)
            return True
        return super().eventFilter(watched, event)


class TodayListDialog(QDialog):
    """Every item of one Today list, a page at a time as it scrolls."""

    open_requested = Signal(object)

    def __init__(self, services: Services, key: str, title: str, summary: TodaySummary,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(820, 560)
        self.calendar = services.get(CalendarService)
        self.summary = summary
        self.key = key
        self.loader = Loader(services, f"today.{key}", self)
        layout = QVBoxLayout(self)
        self.info = QLabel()
        self.info.setObjectName("Hint")
        layout.addWidget(self.info)
        self.model = _PagedModel(self._fetch, self)
        self.model.lead_days = summary.lead_days
        self.table = _table(self.model, title)
        self.table.doubleClicked.connect(
            lambda idx: self.open_requested.emit(idx.siblingAtColumn(0).data(RECORD_ROLE)))
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.model.pending = True
        self._fetch(0, PAGE, self._first)

    def _fetch(self, offset: int, limit: int, callback: Any) -> None:
        s = self.summary
        self.loader.start(lambda: self.calendar.today_page(
            self.key, offset, limit, today=s.today, lead_days=s.lead_days), callback)

    def _first(self, page: CalendarPage) -> None:
        self.model.total = page.total
        self.model.pending = False
        self.model.set_items(page.items, self.summary.today)
        self.info.setText(f"{page.total:,} items; more load as you scroll.")


class _PagedModel(DueItemTableModel):
    def __init__(self, fetch: Any, parent: QObject | None = None) -> None:
        super().__init__(parent=parent)
        self._fetch = fetch
        self.total = 0
        self.pending = False

    def canFetchMore(self, parent: Any = None) -> bool:
        if parent is not None and parent.isValid():
            return False
        return not self.pending and self.rowCount() < self.total

    def fetchMore(self, parent: Any = None) -> None:
        if self.canFetchMore(parent):
            self.pending = True
            self._fetch(self.rowCount(), PAGE, self._arrived)

    def _arrived(self, page: CalendarPage) -> None:
        self.pending = False
        if page.offset == self.rowCount():
            self.append(page.items)


class TodayView(QWidget):
    """The Today area. ``open_record_requested(kind, ref)`` asks the window to open a record."""

    open_record_requested = Signal(str, str)

    def __init__(self, services: Services, parent: QWidget | None = None,
                 *, today: date | None = None, lead_days: int = 14) -> None:
        super().__init__(parent)
        self.services = services
        self.calendar = services.get(CalendarService)
        self._fixed_today = today
        self.lead_days = lead_days
        self.summary: TodaySummary | None = None
        self.loader = Loader(services, "today", self)
        self.loader.failed.connect(self._failed)
        self.can_log = services.can(Perm.ENGAGEMENT_WRITE)
        self.can_read = services.can(Perm.NOMINAL_READ)

        self.setStyleSheet(VIEW_QSS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(12)
        top = QHBoxLayout()
        self.heading = heading("Today", uk_long_date(self.today))
        top.addWidget(self.heading, 1)
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.clicked.connect(self.reload)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.error = message_label("ErrorBox")
        layout.addWidget(self.error)

        self.cards: dict[str, TodayCard] = {}
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(14)
        titles = {
            "overdue_contacts": ("Overdue contacts", ("Date", "Ref", "What")),
            # No Kind column: the colour swatch and the text of What say the kind already.
            "due_this_week": ("Due in the next 7 days", ("Date", "Ref", "What")),
            "expiring": ("Orders & notifications", ("Date", "Ref", "What")),
            "overdue_actions": ("Overdue actions", ("Date", "Ref", "What")),
            "overdue_referrals": ("Overdue referral reviews", ("Date", "Ref", "What")),
        }
        for key, (title, columns) in titles.items():
            card = TodayCard(key, title, columns)
            card.open_requested.connect(self._open_item)
            card.show_all_requested.connect(self.show_all)
            self.cards[key] = card
        self.arrangement = ""
        self._arrange(WIDE_LAYOUT if self.width() >= WIDE_FROM else NARROW_LAYOUT)
        layout.addLayout(self.grid, 1)

        contacts = self.cards["overdue_contacts"]
        self.log_button = QPushButton("&Log contact…")
        self.log_button.setProperty("primary", True)
        self.log_button.setToolTip("Record a contact with the selected nominal")
        self.log_button.setVisible(self.can_log)
        self.log_button.setEnabled(False)
        self.log_button.clicked.connect(self.log_contact_current)
        contacts.footer.addStretch(1)
        contacts.footer.addWidget(self.log_button)
        contacts.selection_changed.connect(self._update_buttons)
        self.status = QLabel()
        self.status.setObjectName("Hint")
        self.status.setWordWrap(True)  # at 960 px the hint would be cut at the right edge
        layout.addWidget(self.status)
        self.reload()

    def _arrange(self, places: dict[str, tuple[int, int, int, int]]) -> None:
        """Place the cards: three across the bottom when there is room for their What column,
        else two columns with the (usually short) overdue actions across the bottom."""
        name = "wide" if places is WIDE_LAYOUT else "narrow"
        if name == self.arrangement:
            return
        self.arrangement = name
        for card in self.cards.values():
            self.grid.removeWidget(card)
        for key, place in places.items():
            self.grid.addWidget(self.cards[key], *place)
        columns = 1 + max(c + w - 1 for _r, c, _h, w in places.values())
        rows = 1 + max(r + h - 1 for r, _c, h, _w in places.values())
        for col in range(6):
            self.grid.setColumnStretch(col, 1 if col < columns else 0)
        stretches = (3, 2) if name == "wide" else (3, 2, 2)
        for row in range(3):
            self.grid.setRowStretch(row, stretches[row] if row < rows else 0)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's spelling
        super().resizeEvent(event)
        self._arrange(WIDE_LAYOUT if self.width() >= WIDE_FROM else NARROW_LAYOUT)

    @property
    def today(self) -> date:
        return self._fixed_today or date.today()

    @property
    def busy(self) -> bool:
        return self.loader.busy

    def reload(self) -> None:
        self.error.setVisible(False)
        self.status.setText("Loading…")
        today, lead = self.today, self.lead_days
        self.loader.start(lambda: self.calendar.today_summary(today, lead), self._loaded)

    def _loaded(self, summary: TodaySummary) -> None:
        self.summary = summary
        for lst in summary.lists():
            self.cards[lst.key].load(lst, summary.today, summary.lead_days)
        total = sum(lst.count for lst in summary.lists())
        self.status.setText(
            "Double-click an item (or select it and press Enter) to open its record. "
            f"Lead time for expiry warnings: {summary.lead_days} days."
            if total else "Nothing is overdue or due soon.")
        self._update_buttons()

    def _failed(self, text: str) -> None:
        self.status.setText("")
        self.error.setText(text)
        self.error.setVisible(True)

    def _update_buttons(self) -> None:
        self.log_button.setEnabled(self.cards["overdue_contacts"].current_item() is not None)

    def _open_item(self, item: DueItem) -> None:
        self.open_record_requested.emit(item.kind, item.ref)

    def _open_any(self, item: object) -> None:
        if isinstance(item, DueItem):
            self._open_item(item)

    def log_contact_current(self) -> Any:
        """Open the quick-add contact dialog for the selected overdue contact."""
        item = self.cards["overdue_contacts"].current_item()
        if item is None or not self.can_log:
            return None
        from ui.engagement.dialogs import LogContactDialog

        dialog = LogContactDialog(self.services, item.ref, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda _record: self.reload())
        dialog.open()
        return dialog

    def show_all(self, key: str) -> TodayListDialog | None:
        if self.summary is None:
            return None
        card = self.cards[key]
        dialog = TodayListDialog(self.services, key, card.title.text(), self.summary, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open_requested.connect(self._open_any)
        dialog.open()
        return dialog

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        # Coming back to Today after work elsewhere: show the lists as they are now.
        if self.summary is not None and not self.busy:
            self.reload()

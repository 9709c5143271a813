"""The Calendar area: month, week and agenda modes over every dated item.

Month and week grids draw per-day counts per kind (``day_counts``); the selected day's items
load on demand into the list beside the grid; the agenda pages items as it scrolls
(``items_page``). Conventions of Outlook and Thunderbird: weeks start on Monday, today is
marked, arrow keys move the day, Page Up / Page Down the month, T goes to today and Enter opens.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.roles import Perm
from app.domain.rules import DueItem
from app.services.calendar import CalendarCursor, CalendarPage, CalendarService
from ui.calendar.common import (
    RECORD_ROLE,
    VIEW_QSS,
    DueColumns,
    DueItemTableModel,
    KindLegend,
    Loader,
    add_months,
    day_heading,
    grid_start,
    long_date,
    monday_of,
    month_title,
)
from ui.calendar.grids import MonthGrid, WeekGrid
from ui.services import Services
from ui.widgets import message_label, record_table

MODES = ("month", "week", "agenda")
AGENDA_DAYS = 90
PAGE = 200
ANY = "__any__"


class AgendaTableModel(DueItemTableModel):
    """The agenda: items from a start day on, fetched a page at a time as the view scrolls.

    Each page carries the cursor of the next (``CalendarPage.next``): the service reads only
    the rows past it, so the hundredth page costs what the first does."""

    def __init__(self, fetch: Any, parent: QObject | None = None) -> None:
        super().__init__(parent=parent)
        self._fetch = fetch  # (cursor, limit, callback) -> None, asynchronous
        self.total = 0
        self.pending = False
        self.next: CalendarCursor | None = None

    def reset_with(self, page: CalendarPage, today: date) -> None:
        self.total = page.total
        self.next = page.next
        self.pending = False
        self.set_items(page.items, today)

    def canFetchMore(self, parent: Any = None) -> bool:
        if parent is not None and parent.isValid():
            return False
        return not self.pending and self.next is not None

    def fetchMore(self, parent: Any = None) -> None:
        if not self.canFetchMore(parent):
            return
        self.pending = True
        self._fetch(self.next, PAGE, self._arrived)

    def _arrived(self, page: CalendarPage) -> None:
        self.pending = False
        if page.offset == self.rowCount():  # not a stale answer for an earlier state
            self.total = page.total
            self.next = page.next
            self.append(page.items)


def _table(model: DueItemTableModel, name: str) -> QTableView:
    """A list of dated items whose What column gets the room (``DueColumns``)."""
    view = record_table(model, name)
    DueColumns(view, model, wrap=True)
    return view


class CalendarView(QWidget):
    """The calendar. ``open_record_requested(kind, ref)`` asks the window to open a record."""

    open_record_requested = Signal(str, str)
    contact_logged = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None,
                 *, today: date | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.calendar = services.get(CalendarService)
        self._fixed_today = today
        self.selected = self.today
        self.mode = "month"
        self.lead_days = 14
        self.can_log = services.can(Perm.ENGAGEMENT_WRITE)
        self.counts_loader = Loader(services, "calendar.counts", self)
        self.day_loader = Loader(services, "calendar.day", self)
        self.agenda_loader = Loader(services, "calendar.agenda", self)
        self.choices_loader = Loader(services, "calendar.filters", self)
        for loader in (self.counts_loader, self.day_loader, self.agenda_loader,
                       self.choices_loader):
            loader.failed.connect(self._failed)
        self._loaded_range: tuple[date, date, Any] | None = None
        self._build()
        self._apply_mode()
        self.choices_loader.start(self.calendar.filter_choices, self._set_choices)
        self.reload()

    @property
    def today(self) -> date:
        return self._fixed_today or date.today()

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 14, 20, 12)
        outer.setSpacing(8)

        self.setStyleSheet(VIEW_QSS)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        segments = QHBoxLayout()
        segments.setSpacing(0)
        self.mode_group = QButtonGroup(self)
        self.mode_group.setExclusive(True)
        self.mode_buttons: dict[str, QPushButton] = {}
        for i, (mode, text) in enumerate((("month", "&Month"), ("week", "&Week"),
                                           ("agenda", "&Agenda"))):
            button = QPushButton(text)
            button.setCheckable(True)
            button.setObjectName("Segment")
            button.setProperty("position", ("first", "middle", "last")[i])
            button.setAccessibleName(f"{mode.title()} view")
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            segments.addWidget(button)
        bar.addLayout(segments)
        self.mode_buttons["month"].setChecked(True)
        bar.addSpacing(12)
        self.today_button = QPushButton("T&oday")
        self.today_button.setToolTip("Go to today (T)")
        self.today_button.clicked.connect(self.go_today)
        self.prev_button = QPushButton("‹")
        self.prev_button.setAccessibleName("Previous")
        self.prev_button.setToolTip("Previous month or week (Page Up)")
        self.prev_button.setFixedWidth(34)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QPushButton("›")
        self.next_button.setAccessibleName("Next")
        self.next_button.setToolTip("Next month or week (Page Down)")
        self.next_button.setFixedWidth(34)
        self.next_button.clicked.connect(lambda: self.step(1))
        for b in (self.today_button, self.prev_button, self.next_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            bar.addWidget(b)
        self.period = QLabel()
        self.period.setObjectName("PeriodTitle")
        bar.addSpacing(8)
        bar.addWidget(self.period)
        bar.addStretch(1)
        self.manager = QComboBox()
        self.manager.setAccessibleName("Manager")
        self.manager.setMinimumWidth(140)
        self.manager.setMaximumWidth(190)
        self.manager.addItem("All managers", ANY)
        self.force = QComboBox()
        self.force.setAccessibleName("Force")
        self.force.setMinimumWidth(140)
        self.force.setMaximumWidth(190)
        self.force.addItem("All forces", ANY)
        self.manager.currentIndexChanged.connect(lambda _i: self._filters_changed())
        self.force.currentIndexChanged.connect(lambda _i: self._filters_changed())
        lead_label = QLabel("&Warn")
        self.lead = QSpinBox()
        self.lead.setRange(0, 120)
        self.lead.setValue(self.lead_days)
        self.lead.setSuffix(" days")
        self.lead.setAccessibleName("Lead time in days")
        self.lead.setToolTip("Items due within this many days are shaded amber")
        lead_label.setBuddy(self.lead)
        self.lead.valueChanged.connect(self._lead_changed)
        # The filters sit at the right of the bar, or on a row of their own when the bar
        # would not fit (at the window's minimum width): never squeezed over each other.
        self.bar_filters = QWidget()
        row = QHBoxLayout(self.bar_filters)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        for w in (self.manager, self.force, lead_label, self.lead):
            row.addWidget(w)
        self.bar = bar
        bar.addWidget(self.bar_filters)
        outer.addLayout(bar)
        self.bar2 = QHBoxLayout()
        self.bar2.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.bar2)

        self.legend = KindLegend()
        self.legend.changed.connect(self._filters_changed)
        outer.addWidget(self.legend)
        self.error = message_label("ErrorBox")
        outer.addWidget(self.error)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setChildrenCollapsible(False)
        self.stack = QStackedWidget()
        self.month_grid = MonthGrid()
        self.week_grid = WeekGrid()
        for grid in (self.month_grid, self.week_grid):
            grid.day_clicked.connect(self.select_day)
            grid.day_activated.connect(self._activate_day)
            grid.installEventFilter(self)
        self.agenda_model = AgendaTableModel(self._fetch_agenda, self)
        self.agenda = _table(self.agenda_model, "Agenda")
        self.agenda.doubleClicked.connect(lambda idx: self._open_index(self.agenda, idx.row()))
        self.agenda.installEventFilter(self)
        self.agenda.selectionModel().currentRowChanged.connect(
            lambda *_: self._update_buttons())
        self.stack.addWidget(self.month_grid)
        self.stack.addWidget(self.week_grid)
        self.stack.addWidget(self.agenda)
        self.split.addWidget(self.stack)

        panel = QWidget()
        panel.setObjectName("DayPanel")
        col = QVBoxLayout(panel)
        col.setContentsMargins(10, 0, 0, 0)
        col.setSpacing(6)
        self.day_title = QLabel()
        self.day_title.setObjectName("SectionTitle")
        self.day_count = QLabel()
        self.day_count.setObjectName("Hint")
        col.addWidget(self.day_title)
        col.addWidget(self.day_count)
        self.day_model = DueItemTableModel(columns=("Ref", "What", "Status"))
        self.day_table = _table(self.day_model, "Items of the selected day")
        self.day_table.doubleClicked.connect(
            lambda idx: self._open_index(self.day_table, idx.row()))
        self.day_table.installEventFilter(self)
        self.day_table.selectionModel().currentRowChanged.connect(
            lambda *_: self._update_buttons())
        col.addWidget(self.day_table, 1)
        self.day_empty = QLabel()
        self.day_empty.setObjectName("Hint")
        self.day_empty.setWordWrap(True)
        self.day_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(self.day_empty, 1)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("&Open record")
        self.open_button.clicked.connect(self.open_current)
        self.log_button = QPushButton("&Log contact…")
        self.log_button.setProperty("primary", True)
        self.log_button.setVisible(self.can_log)
        self.log_button.clicked.connect(self.log_contact_current)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.log_button)
        col.addLayout(buttons)
        self.day_panel = panel
        self.split.addWidget(panel)
        # The day list gets nearly half: its What column ("Contact due (every 28 days)") must
        # read in full at 1280 px; the month grid stays legible down to about 52 px a day.
        self.stack.setMinimumWidth(7 * 52)
        panel.setMinimumWidth(300)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([540, 480])
        outer.addWidget(self.split, 1)
        self.status = QLabel()
        self.status.setObjectName("Hint")
        self.status.setWordWrap(True)  # the key hints run past 960 px
        outer.addWidget(self.status)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's spelling
        super().resizeEvent(event)
        self._place_filters()

    def _place_filters(self) -> None:
        room = self.width() - 40  # the view's side margins (20 + 20)
        self.bar.invalidate()  # its size hint is cached until the next layout pass
        own_row = self.bar2.indexOf(self.bar_filters) >= 0
        needed = self.bar.sizeHint().width() + (
            self.bar_filters.sizeHint().width() + self.bar.spacing() if own_row else 0)
        wrap = needed > room
        if wrap and not own_row:
            self.bar.removeWidget(self.bar_filters)
            self.bar2.addWidget(self.bar_filters)
            self.bar2.addStretch(1)
        elif not wrap and own_row:
            self.bar2.removeWidget(self.bar_filters)
            while self.bar2.count():
                self.bar2.takeAt(0)
            self.bar.addWidget(self.bar_filters)

    # -- state ---------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return any(loader.busy for loader in (self.counts_loader, self.day_loader,
                                               self.agenda_loader))

    def filters(self) -> dict[str, Any]:
        manager = self.manager.currentData()
        force = self.force.currentData()
        return {
            "kinds": self.legend.kinds(),
            "manager": None if manager in (None, ANY) else manager,
            "force": None if force in (None, ANY) else force,
        }

    def visible_range(self) -> tuple[date, date]:
        if self.mode == "month":
            first = grid_start(self.selected)
            return first, first + timedelta(days=41)
        if self.mode == "week":
            monday = monday_of(self.selected)
            return monday, monday + timedelta(days=6)
        return self.selected, self.selected + timedelta(days=AGENDA_DAYS - 1)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        self._apply_mode()
        self.reload()

    def _apply_mode(self) -> None:
        self.stack.setCurrentIndex(MODES.index(self.mode))
        self.day_panel.setVisible(self.mode != "agenda")
        self.prev_button.setToolTip("Previous month (Page Up)" if self.mode != "week"
                                    else "Previous week")
        self.next_button.setToolTip("Next month (Page Down)" if self.mode != "week"
                                    else "Next week")
        self._update_period()

    def _update_period(self) -> None:
        if self.mode == "month":
            self.period.setText(month_title(self.selected.replace(day=1)))
        elif self.mode == "week":
            monday = monday_of(self.selected)
            sunday = monday + timedelta(days=6)
            first = (f"{monday.day}" if monday.month == sunday.month
                     else f"{monday.day} {monday:%b}" if monday.year == sunday.year
                     else long_date(monday))
            self.period.setText(f"{first} – {long_date(sunday)}")
        else:
            start, end = self.visible_range()
            self.period.setText(f"{long_date(start)} – {long_date(end)}")
        # The agenda's title is longer than a month's: the filters may need their own row.
        self._place_filters()

    # -- navigation ----------------------------------------------------------------------------
    def select_day(self, day: date) -> None:
        previous = self.visible_range()
        self.selected = day
        self.month_grid.set_month(day)
        self.month_grid.set_selected(day)
        self.week_grid.set_week(day)
        self.week_grid.set_selected(day)
        self._update_period()
        if self.visible_range() != previous or self.mode == "agenda":
            self.reload()
        else:
            self._load_day()

    def go_today(self) -> None:
        self.select_day(self.today)

    def step(self, direction: int) -> None:
        if self.mode == "week":
            self.select_day(self.selected + timedelta(days=7 * direction))
        else:
            self.select_day(add_months(self.selected, direction))

    def _activate_day(self, day: date) -> None:
        self.select_day(day)
        self.focus_day_list()

    def focus_day_list(self) -> None:
        if self.day_model.rowCount():
            self.day_table.setFocus()
            if not self.day_table.currentIndex().isValid():
                self.day_table.selectRow(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if watched in (self.month_grid, self.week_grid):
                return self._grid_key(event)
            if watched in (self.day_table, self.agenda):
                key = event.key()
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self.open_current()
                    return True
                if key == Qt.Key.Key_Escape and watched is self.day_table:
                    self.current_grid().setFocus()
                    return True
                if key == Qt.Key.Key_T and not event.modifiers():
                    self.go_today()
                    return True
        return super().eventFilter(watched, event)

    def _grid_key(self, event: QKeyEvent) -> bool:
        key = Qt.Key(event.key())
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -7,
                 Qt.Key.Key_Down: 7}
        if key in moves and not event.modifiers() & Qt.KeyboardModifier.AltModifier:
            self.select_day(self.selected + timedelta(days=moves[key]))
            return True
        if key == Qt.Key.Key_PageUp:
            self.step(-1)
            return True
        if key == Qt.Key.Key_PageDown:
            self.step(1)
            return True
        if key == Qt.Key.Key_Home:
            self.select_day(monday_of(self.selected))
            return True
        if key == Qt.Key.Key_End:
            self.select_day(monday_of(self.selected) + timedelta(days=6))
            return True
        if key == Qt.Key.Key_T and not event.modifiers():
            self.go_today()
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.focus_day_list()
            return True
        return False

    def current_grid(self) -> QWidget:
        return {"month": self.month_grid, "week": self.week_grid}.get(self.mode, self.agenda)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, lambda: self.current_grid().setFocus())

    # -- loading -------------------------------------------------------------------------------
    def reload(self) -> None:
        """Counts for the visible range (grids) or the agenda's first page, then the day."""
        self.error.setVisible(False)
        for grid in (self.month_grid, self.week_grid):
            grid.today = self.today
            grid.lead_days = self.lead_days
        start, end = self.visible_range()
        f = self.filters()
        if self.mode == "agenda":
            self.agenda_model.pending = True
            self.agenda_loader.start(
                lambda: self.calendar.items_page(start, end, offset=0, limit=PAGE, **f),
                self._agenda_loaded)
            self.status.setText("Loading…")
            return
        self.counts_loader.start(lambda: self.calendar.day_counts(start, end, **f),
                                 self._counts_loaded)
        self._load_day()

    def _load_day(self) -> None:
        day = self.selected
        f = self.filters()
        self.day_title.setText(day_heading(day))
        self.day_count.setText("Loading…")
        self.day_loader.start(lambda: self.calendar.items(day, day, **f), self._day_loaded)

    def _counts_loaded(self, counts: dict[date, dict[str, int]]) -> None:
        grid = self.month_grid if self.mode == "month" else self.week_grid
        grid.set_counts(counts)
        total = sum(sum(k.values()) for k in counts.values())
        start, end = self.visible_range()
        self.status.setText(
            f"{total:,} item{'s' if total != 1 else ''} from {long_date(start)} to "
            f"{long_date(end)}. Arrow keys move the day, Page Up/Down the "
            f"{'week' if self.mode == 'week' else 'month'}, T today, Enter lists the day.")

    def _day_loaded(self, items: list[DueItem]) -> None:
        self.day_model.lead_days = self.lead_days
        self.day_model.set_items(items, self.today)
        n = len(items)
        self.day_count.setText(f"{n:,} item{'s' if n != 1 else ''}" if n else "")
        self.day_table.setVisible(bool(n))
        self.day_empty.setVisible(not n)
        if not n:
            hidden = self.legend.kinds() is not None or any(
                v for k, v in self.filters().items() if k != "kinds")
            self.day_empty.setText(
                "Nothing due on this day" + (" with the current filters." if hidden else ".")
                + "\n\nPick another day with the arrow keys or the mouse.")
        self._update_buttons()

    def _agenda_loaded(self, page: CalendarPage) -> None:
        self.agenda_model.lead_days = self.lead_days
        self.agenda_model.reset_with(page, self.today)
        start, end = self.visible_range()
        self.status.setText(
            f"{page.total:,} item{'s' if page.total != 1 else ''} from {long_date(start)} to "
            f"{long_date(end)}; more load as you scroll. Enter opens the record.")
        self._update_buttons()

    def _fetch_agenda(self, after: CalendarCursor, limit: int, callback: Any) -> None:
        start, end = self.visible_range()
        f = self.filters()
        self.agenda_loader.start(
            lambda: self.calendar.items_page(start, end, limit=limit, after=after, **f),
            callback)

    def _set_choices(self, choices: tuple[list[str], list[str]]) -> None:
        managers, forces = choices
        for combo, values in ((self.manager, managers), (self.force, forces)):
            combo.blockSignals(True)
            for value in values:
                combo.addItem(value, value)
            combo.blockSignals(False)

    def _filters_changed(self) -> None:
        kinds = self.legend.kinds()
        for grid in (self.month_grid, self.week_grid):
            grid.kinds = None if kinds is None else set(kinds)
        self.reload()

    def _lead_changed(self, value: int) -> None:
        self.lead_days = value
        self.reload()

    def _failed(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)

    # -- items ---------------------------------------------------------------------------------
    def current_item(self) -> DueItem | None:
        view = self.agenda if self.mode == "agenda" else self.day_table
        index = view.currentIndex()
        if not index.isValid():
            return None
        item = index.siblingAtColumn(0).data(RECORD_ROLE)
        return item if isinstance(item, DueItem) else None

    def _update_buttons(self) -> None:
        item = self.current_item()
        self.open_button.setEnabled(item is not None)
        self.log_button.setEnabled(item is not None and item.kind == "contact_due")

    def _open_index(self, view: QTableView, row: int) -> None:
        item = view.model().index(row, 0).data(RECORD_ROLE)
        if isinstance(item, DueItem):
            self.open_record_requested.emit(item.kind, item.ref)

    def open_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.open_record_requested.emit(item.kind, item.ref)

    def log_contact_current(self) -> Any:
        """Open the quick-add contact dialog for the selected contact-due item."""
        item = self.current_item()
        if item is None or item.kind != "contact_due" or not self.can_log:
            return None
        from ui.engagement.dialogs import LogContactDialog

        dialog = LogContactDialog(self.services, item.ref, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda _rec: self._contact_saved(item.ref))
        dialog.open()
        return dialog

    def _contact_saved(self, ref: str) -> None:
        self.contact_logged.emit(ref)
        self.reload()

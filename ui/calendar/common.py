"""Shared pieces of the calendar and Today views: kind colours and labels, UK dates, the
checkable legend, the table model of dated items, and background loading with stale results
dropped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableView,
    QToolButton,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.rules import DUE_KINDS, DueItem
from ui.flow import FlowLayout
from ui.services import Services
from ui.widgets import CELL_PAD, HEADER_PAD, heading_metrics

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
DISPLAY = Qt.ItemDataRole.DisplayRole
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2

KIND_LABELS: dict[str, str] = {
    "contact_due": "Contact due",
    "notification_due": "Notification due",
    "order_expiry": "Order / notification ends",
    "order_review": "Order review",
    "licence_date": "Licence date",
    "referral_review": "Referral review",
    "retention_review": "Retention review",
    "meeting": "Meeting",
    "action_due": "Action due",
}
SHORT_LABELS: dict[str, str] = {
    "contact_due": "Contacts",
    "notification_due": "Notifications",
    "order_expiry": "Orders ending",
    "order_review": "Order reviews",
    "licence_date": "Licence dates",
    "referral_review": "Referral reviews",
    "retention_review": "Retention",
    "meeting": "Meetings",
    "action_due": "Actions",
}
# One colour per kind, none of them the overdue red or the due-soon amber.
KIND_COLOURS: dict[str, QColor] = {
    "contact_due": QColor("#1f5f8b"),
    "notification_due": QColor("#7b3fa0"),
    "order_expiry": QColor("#a35200"),
    "order_review": QColor("#0f7b6c"),
    "licence_date": QColor("#5b6775"),
    "referral_review": QColor("#2e7d32"),
    "retention_review": QColor("#795548"),
    "meeting": QColor("#3949ab"),
    "action_due": QColor("#ad1457"),
}
# Kinds that are work to do: once past, they are overdue (facts are simply history).
TASK_KINDS = frozenset({
    "contact_due", "notification_due", "order_review", "action_due", "referral_review",
    "retention_review",
})
OVERDUE = QColor("#b3261e")
OVERDUE_BACKGROUND = QColor("#fdecea")
DUE_SOON_BACKGROUND = QColor("#fff4d6")
DUE_SOON = QColor("#8a5a00")
TODAY_ACCENT = QColor("#1f5f8b")
NOMINAL_KINDS = frozenset({
    "contact_due", "notification_due", "order_expiry", "order_review", "licence_date",
    "retention_review",
})

assert set(KIND_LABELS) == set(DUE_KINDS)

# Styles of the calendar and Today widgets (set on the views, so the shared sheet stays as is).
VIEW_QSS = """
QPushButton#Segment { border-radius: 0; padding: 6px 14px; margin: 0; }
QPushButton#Segment[position="first"] {
    border-top-left-radius: 5px; border-bottom-left-radius: 5px; }
QPushButton#Segment[position="last"] {
    border-top-right-radius: 5px; border-bottom-right-radius: 5px; }
QPushButton#Segment:checked { background: #1f5f8b; color: #ffffff; border-color: #184c70; }
QToolButton#LegendChip {
    border: 1px solid #b8c2cc; border-radius: 11px; padding: 2px 9px 2px 7px;
    background: #ffffff; color: #1f2933; }
QToolButton#LegendChip:checked { background: #ffffff; color: #1f2933; border-color: #8d99a6; }
QToolButton#LegendChip:!checked {
    background: transparent; color: #5b6775; border: 1px dashed #b8c2cc; }
QToolButton#LegendChip:hover { background: #eef4f9; }
QToolButton#LegendChip:focus { border: 1px solid #1f5f8b; }
QLabel#CountBadge {
    border-radius: 9px; padding: 1px 9px; background: #e1e6eb; color: #2d3a47;
    font-weight: bold; }
QLabel#CountBadge[level="bad"] { background: #b3261e; color: #ffffff; }
QLabel#CountBadge[level="warn"] { background: #f0b429; color: #2b1d00; }
QLabel#CountBadge[level="ok"] { background: #dcefe3; color: #1e7a46; }
QLabel#CardEmpty { color: #5b6775; padding: 12px; }
QLabel#PeriodTitle { font-size: 12pt; font-weight: bold; color: #1f2933; }
"""


def uk_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def day_heading(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def month_title(first: date) -> str:
    return first.strftime("%B %Y")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = (nxt - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def grid_start(day: date) -> date:
    """The Monday that a month grid showing ``day``'s month starts on."""
    return monday_of(day.replace(day=1))


def status_of(item: DueItem, today: date, lead_days: int) -> str:
    """"overdue", "due_soon", "today" or "" for an item (facts are never overdue)."""
    if item.date < today:
        return "overdue" if item.kind in TASK_KINDS else ""
    if item.date == today:
        return "today"
    if item.date <= today + timedelta(days=lead_days):
        return "due_soon"
    return ""


STATUS_TEXT = {"overdue": "Overdue", "due_soon": "Due soon", "today": "Due today", "": ""}


def swatch(colour: QColor, size: int = 12) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(colour)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), 3, 3)
    p.end()
    return QIcon(pix)


def is_nominal_ref(ref: str) -> bool:
    return ref.startswith("NM-")


class Loader(QObject):
    """Runs one kind of load in the background; a newer request makes older results stale, so
    a slow answer for last month never overwrites this month's."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, services: Services, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.name = name
        self._generation = 0
        self.busy = False

    def start(self, work: Callable[[], Any], on_result: Callable[[Any], None]) -> None:
        self._generation += 1
        generation = self._generation
        self.busy = True

        def done(value: Any) -> None:
            if generation == self._generation:
                self.busy = False
                on_result(value)
                self.loaded.emit(value)

        def error(exc: CasewardError) -> None:
            if generation == self._generation:
                self.busy = False
                self.failed.emit(str(exc))

        def bug(text: str) -> None:
            if generation == self._generation:
                self.busy = False
                self.failed.emit(text)

        self.services.ops.start(self.name, lambda _ctx: work(), on_result=done,
                                on_error=error, on_bug=bug)


def chip_icon(colour: QColor, size: int = 12) -> QIcon:
    """A legend chip's icon: the kind's colour filled with a tick when shown, an empty outline
    of it when hidden (as a calendar list's check boxes in Outlook or Thunderbird)."""
    icon = QIcon()
    for state, on in ((QIcon.State.On, True), (QIcon.State.Off, False)):
        pix = QPixmap(size, size)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(1, 1, size - 2, size - 2)
        if on:
            p.setBrush(colour)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(box, 2.5, 2.5)
            pen = QPen(QColor("#ffffff"), 1.6)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawPolyline([QPointF(size * 0.26, size * 0.52), QPointF(size * 0.44, size * 0.70),
                            QPointF(size * 0.76, size * 0.32)])
        else:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(colour, 1.4))
            p.drawRoundedRect(box, 2.5, 2.5)
        p.end()
        for mode in (QIcon.Mode.Normal, QIcon.Mode.Active, QIcon.Mode.Selected):
            icon.addPixmap(pix, mode, state)
    return icon


class KindLegend(QWidget):
    """The legend: one checkable chip per kind (its colour and name); unchecking hides it.

    The chips flow onto a second row when the width runs out, so their names are never
    elided; the tooltip gives the full name and whether the kind is shown."""

    changed = Signal()

    def __init__(self, kinds: Sequence[str] = DUE_KINDS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("KindLegend")
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.flow = FlowLayout(self, h_spacing=6, v_spacing=6)
        label = QLabel("Show:")
        label.setObjectName("Hint")
        label.setMinimumHeight(24)
        self.flow.addWidget(label)
        self.buttons: dict[str, QToolButton] = {}
        for kind in kinds:
            button = QToolButton()
            button.setObjectName("LegendChip")
            button.setCheckable(True)
            button.setChecked(True)
            button.setText(SHORT_LABELS[kind])
            button.setIcon(chip_icon(KIND_COLOURS[kind]))
            button.setIconSize(QSize(12, 12))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAccessibleName(f"Show {KIND_LABELS[kind]}")
            button.toggled.connect(lambda _on, k=kind: self._toggled(k))
            self.buttons[kind] = button
            self._tip(kind)
            self.flow.addWidget(button)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's spelling
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self.flow.heightForWidth(width)

    def _tip(self, kind: str) -> None:
        shown = self.buttons[kind].isChecked()
        self.buttons[kind].setToolTip(
            f"{KIND_LABELS[kind]}: {'shown' if shown else 'hidden'}. "
            f"Click to {'hide' if shown else 'show'} them.")

    def _toggled(self, kind: str) -> None:
        self._tip(kind)
        self.changed.emit()

    def kinds(self) -> list[str] | None:
        """The kinds shown (None: all of them)."""
        chosen = [k for k, b in self.buttons.items() if b.isChecked()]
        return None if len(chosen) == len(self.buttons) else chosen

    def set_shown(self, kind: str, shown: bool) -> None:
        self.buttons[kind].setChecked(shown)


class DueItemTableModel(QAbstractTableModel):
    """Dated items (date, kind, ref, what, status); overdue red, due soon amber. Rows may be
    appended page by page (``append``) for the agenda and the "show all" lists."""

    COLUMNS = ("Date", "Kind", "Ref", "What", "Status")

    def __init__(self, today: date | None = None, lead_days: int = 14,
                 columns: Sequence[str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[DueItem] = []
        self.today = today or date.today()
        self.lead_days = lead_days
        self._columns = tuple(columns or self.COLUMNS)
        self._bold = QFont()
        self._bold.setBold(True)

    # -- contents ------------------------------------------------------------------------------
    def set_items(self, items: Sequence[DueItem], today: date | None = None) -> None:
        self.beginResetModel()
        self._items = list(items)
        if today is not None:
            self.today = today
        self.endResetModel()

    def append(self, items: Sequence[DueItem]) -> None:
        if not items:
            return
        first = len(self._items)
        self.beginInsertRows(ROOT, first, first + len(items) - 1)
        self._items.extend(items)
        self.endInsertRows()

    def item(self, row: int) -> DueItem:
        return self._items[row]

    def items(self) -> list[DueItem]:
        return list(self._items)

    # -- Qt ------------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = DISPLAY) -> Any:
        if (role == DISPLAY and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self._columns)):
            return self._columns[section]
        return None

    def data(self, index: AnyIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        if not 0 <= index.column() < len(self._columns):
            return None
        item = self._items[index.row()]
        column = self._columns[index.column()]
        status = status_of(item, self.today, self.lead_days)
        if role == DISPLAY:
            return {
                "Date": uk_date(item.date),
                "Kind": KIND_LABELS.get(item.kind, item.kind),
                "Ref": item.ref,
                "What": item.title,
                "Status": STATUS_TEXT[status],
            }[column]
        if role == SORT_ROLE:
            return {"Date": item.date.toordinal(), "Kind": item.kind, "Ref": item.ref,
                    "What": item.title, "Status": status}[column]
        if role == RECORD_ROLE:
            return item
        if role == Qt.ItemDataRole.DecorationRole and (
                column == "Kind" or (column == "What" and "Kind" not in self._columns)):
            return swatch(KIND_COLOURS.get(item.kind, QColor("#888888")))
        if role == Qt.ItemDataRole.ForegroundRole:
            if status == "overdue" and column in ("Date", "Status"):
                return QBrush(OVERDUE)
            if status == "due_soon" and column == "Status":
                return QBrush(DUE_SOON)
        if role == Qt.ItemDataRole.BackgroundRole and status == "due_soon":
            return QBrush(DUE_SOON_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole and status == "overdue" and column == "Status":
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            label = KIND_LABELS.get(item.kind, item.kind)
            return f"{label} · {long_date(item.date)} · {item.title}"
        return None


# --- column widths of the tables of dated items ---------------------------------------------------
ICON_ROOM = 22  # the kind's swatch (12 px) and its spacing, in Kind (or What without Kind)
SHORTEST_REF = "NM-000000"  # Ref is never narrower than a nominal's reference
MEASURE_ROWS = 1000  # refs and titles measured: the first rows only, whatever the total


class DueColumns(QObject):
    """Column widths for a table of a ``DueItemTableModel`` that give What the room.

    Date, Kind and Status are as wide as their longest possible text (font metrics of the
    date format and of the labels, never a scan of the rows); Ref is as wide as the longest
    reference among the first rows (at least a nominal's); What takes the rest. With ``wrap``,
    when What would cut a quarter or more of the titles shown (one long title among short ones
    is not enough), every row becomes two lines high and titles wrap: one row height for all
    rows (no resizeRowsToContents), so 100,000 rows cost what ten do. The full text stays in
    the tooltip."""

    def __init__(self, view: QTableView, model: DueItemTableModel, *, wrap: bool = False) -> None:
        super().__init__(view)
        self.view = view
        self.model = model
        self.wrap = wrap
        self.columns = [str(model.headerData(c, Qt.Orientation.Horizontal))
                        for c in range(model.columnCount())]
        self.what = self.columns.index("What") if "What" in self.columns else -1
        self.ref = self.columns.index("Ref") if "Ref" in self.columns else -1
        self.one_line = view.verticalHeader().defaultSectionSize()
        self.lines = 1
        self._measured = 0
        self._title_widths: list[int] = []
        self._ref_width = 0
        header = view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(24)
        for col, width in self.fixed_widths().items():
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        if self.what >= 0:
            header.setSectionResizeMode(self.what, QHeaderView.ResizeMode.Stretch)
            header.sectionResized.connect(self._section_resized)
        model.modelReset.connect(self._reset)
        model.rowsInserted.connect(lambda *_: self._measure())
        self._measure()

    def fixed_widths(self) -> dict[int, int]:
        """The width of each column but What: its widest possible text, or its title."""
        fm = self.view.fontMetrics()
        samples = {
            "Date": [uk_date(date(2000, 12, 28))],
            "Kind": list(KIND_LABELS.values()),
            "Ref": [SHORTEST_REF],
            "Status": [t for t in STATUS_TEXT.values() if t],
        }
        headings = heading_metrics(self.view)
        widths: dict[int, int] = {}
        for col, title in enumerate(self.columns):
            if col == self.what:
                continue
            text = max((fm.horizontalAdvance(s) for s in samples.get(title, [])), default=0)
            text += CELL_PAD + (ICON_ROOM if title == "Kind" else 0)
            widths[col] = max(text, headings.horizontalAdvance(title) + HEADER_PAD)
        return widths

    def title_room(self, what_width: int | None = None) -> int:
        """The width the text of What has in its column (less the swatch when it has one)."""
        icon = ICON_ROOM if "Kind" not in self.columns else 0
        if what_width is None:
            what_width = self.view.horizontalHeader().sectionSize(self.what)
        return what_width - CELL_PAD - icon

    def _reset(self) -> None:
        self._measured = 0
        self._title_widths = []
        self._ref_width = 0
        self._measure()

    def _measure(self) -> None:
        """Widest ref and title among the first MEASURE_ROWS rows (only rows not yet
        measured), then the Ref width and the row height that follow."""
        fm = self.view.fontMetrics()
        upto = min(self.model.rowCount(), MEASURE_ROWS)
        for row in range(self._measured, upto):
            item = self.model.item(row)
            self._title_widths.append(fm.horizontalAdvance(item.title))
            self._ref_width = max(self._ref_width, fm.horizontalAdvance(item.ref))
        self._measured = max(self._measured, upto)
        if self.ref >= 0:
            width = max(self._ref_width + CELL_PAD, self.fixed_widths()[self.ref])
            header = self.view.horizontalHeader()
            if header.sectionSize(self.ref) != width:
                header.resizeSection(self.ref, width)
        self._fit_rows()

    def _section_resized(self, col: int, _old: int, new: int) -> None:
        # A stretched section reports its new size here before sectionSize() returns it.
        if col == self.what:
            self._fit_rows(new)

    def _fit_rows(self, what_width: int | None = None) -> None:
        if not self.wrap or self.what < 0:
            return
        room = self.title_room(what_width)
        cut = sum(1 for w in self._title_widths if w > room)
        lines = 2 if room > 0 and cut and cut * 4 >= len(self._title_widths) else 1
        if lines == self.lines:
            return
        self.lines = lines
        self.view.setWordWrap(lines > 1)
        self.view.verticalHeader().setDefaultSectionSize(
            self.one_line + (lines - 1) * self.view.fontMetrics().lineSpacing())

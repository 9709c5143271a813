"""The month and week grids: painted cells that show, per day, a coloured count chip per kind.

A grid never holds items, only counts (``CalendarService.day_counts``), so a month of 100,000
contacts costs the same to draw as a quiet one. Today is marked with a filled circle, the
selected day with an accent border; past days with work left undone carry a red bar, and days
within the lead time are shaded amber. Keyboard handling lives in the calendar view."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ui.calendar.common import (
    DUE_SOON_BACKGROUND,
    KIND_COLOURS,
    KIND_LABELS,
    OVERDUE,
    SHORT_LABELS,
    TASK_KINDS,
    TODAY_ACCENT,
    grid_start,
    long_date,
    monday_of,
)

DayCounts = dict[date, dict[str, int]]
ORDER = list(KIND_COLOURS)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GRID_LINE = QColor("#d5dbe1")
OTHER_MONTH = QColor("#f1f3f5")
MUTED = QColor("#98a3ae")
TEXT = QColor("#1f2933")


def compact(n: int) -> str:
    """1234 -> "1.2k" so that a chip stays small; exact numbers are in the tooltip."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n // 1000}k"


def day_tooltip(day: date, counts: dict[str, int], today: date) -> str:
    if not counts:
        return f"{long_date(day)}: nothing due"
    lines = [f"<b>{long_date(day)}</b>"]
    for kind in ORDER:
        n = counts.get(kind)
        if n:
            late = " (overdue)" if day < today and kind in TASK_KINDS else ""
            lines.append(f"{KIND_LABELS[kind]}: {n:,}{late}")
    return "<br>".join(lines)


class _DayGrid(QWidget):
    """What the month and week grids share: the days shown, counts, selection, painting helpers."""

    day_clicked = Signal(object)
    day_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.counts: DayCounts = {}
        self._cell_background = QColor("#ffffff")
        self.selected = date.today()
        self.today = date.today()
        self.lead_days = 14
        self.kinds: set[str] | None = None
        self.chip_font = QFont(self.font())
        self.chip_font.setPointSizeF(8)
        self.chip_font.setBold(True)
        self.day_font = QFont(self.font())
        self.day_font.setPointSizeF(9.5)

    # -- state -------------------------------------------------------------------------------
    def days(self) -> list[date]:  # pragma: no cover - overridden
        raise NotImplementedError

    def set_counts(self, counts: DayCounts) -> None:
        self.counts = counts
        self.update()

    def set_selected(self, day: date) -> None:
        self.selected = day
        self.update()

    def counts_for(self, day: date) -> dict[str, int]:
        found = self.counts.get(day, {})
        if self.kinds is None:
            return found
        return {k: n for k, n in found.items() if k in self.kinds}

    def overdue(self, day: date) -> bool:
        return day < self.today and any(k in TASK_KINDS for k in self.counts_for(day))

    def due_soon(self, day: date) -> bool:
        return (self.today <= day <= self.today + timedelta(days=self.lead_days)
                and bool(self.counts_for(day)))

    def cell_summary(self, day: date) -> str:
        """The cell's content as text (for tests and screen readers)."""
        counts = self.counts_for(day)
        parts = [f"{SHORT_LABELS[k]} {counts[k]}" for k in ORDER if counts.get(k)]
        flags = (["today"] if day == self.today else []) + (
            ["overdue"] if self.overdue(day) else ["due soon"] if self.due_soon(day) else [])
        return f"{long_date(day)}: " + (", ".join(parts) or "nothing due") + (
            f" ({', '.join(flags)})" if flags else "")

    # -- geometry ----------------------------------------------------------------------------
    def cell_rect(self, day: date) -> QRect:  # pragma: no cover - overridden
        raise NotImplementedError

    def day_at(self, pos: QPoint) -> date | None:
        for day in self.days():
            if self.cell_rect(day).contains(pos):
                return day
        return None

    # -- events ------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        day = self.day_at(event.position().toPoint())
        if day is not None:
            self.setFocus()
            self.day_clicked.emit(day)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        day = self.day_at(event.position().toPoint())
        if day is not None:
            self.day_activated.emit(day)

    def event(self, e: Any) -> bool:
        if e.type() == e.Type.ToolTip:
            day = self.day_at(e.pos())
            if day is not None:
                QToolTip.showText(e.globalPos(), day_tooltip(day, self.counts_for(day),
                                                             self.today), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)

    # -- painting helpers --------------------------------------------------------------------
    def paint_day_number(self, p: QPainter, rect: QRect, day: date, muted: bool,
                         text: str | None = None) -> None:
        p.setFont(self.day_font)
        label = text or str(day.day)
        fm = QFontMetrics(self.day_font)
        if day == self.today:
            w = max(fm.horizontalAdvance(label) + 12, 22)
            badge = QRectF(rect.left() + 4, rect.top() + 3, w, 20)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(TODAY_ACCENT)
            p.drawRoundedRect(badge, 10, 10)
            p.setPen(QColor("#ffffff"))
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        else:
            p.setPen(MUTED if muted else TEXT)
            p.drawText(QRect(rect.left() + 8, rect.top() + 4, rect.width() - 12, 18),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)

    def paint_chips(self, p: QPainter, area: QRect, counts: dict[str, int],
                    labelled: bool = False) -> None:
        """Count chips in kind order, wrapping; a last "+n" when they do not all fit.
        ``labelled``: one kind a line, the chip then the kind's name (the week view)."""
        p.setFont(self.chip_font)
        fm = QFontMetrics(self.chip_font)
        h = fm.height() + 4
        x, y = area.left(), area.top()
        kinds = [k for k in ORDER if counts.get(k)]
        placed: list[QRectF] = []
        for i, kind in enumerate(kinds):
            text = compact(counts[kind])
            w = fm.horizontalAdvance(text) + 12
            if labelled:
                x = area.left()
            elif x + w > area.right() + 1 and x > area.left():
                x, y = area.left(), y + h + 3
            if y + h > area.bottom() + 1:
                # No room: the last chip drawn gives way to a grey "+n" (see the tooltip).
                if placed:
                    last = placed[-1]
                    p.fillRect(last.adjusted(-1, -1, 1, 1), self._cell_background)
                    p.setPen(Qt.PenStyle.NoPen)
                    p.setBrush(QColor("#e1e6eb"))
                    p.drawRoundedRect(last, 4, 4)
                    p.setPen(QColor("#3c4a59"))
                    p.drawText(last, Qt.AlignmentFlag.AlignCenter, f"+{len(kinds) - i + 1}")
                return
            chip = QRectF(x, y, min(w, area.width()), h)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(KIND_COLOURS[kind])
            p.drawRoundedRect(chip, 4, 4)
            p.setPen(QColor("#ffffff"))
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
            placed.append(chip)
            if labelled:
                label_rect = QRect(int(chip.right()) + 6, y, area.right() - int(chip.right()) - 6,
                                   h)
                p.setFont(self.font())
                p.setPen(TEXT)
                p.drawText(label_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                           QFontMetrics(self.font()).elidedText(
                               SHORT_LABELS[kind], Qt.TextElideMode.ElideRight,
                               label_rect.width()))
                p.setFont(self.chip_font)
                y += h + 5
            else:
                x += w + 4

    def paint_cell_frame(self, p: QPainter, rect: QRect, day: date, muted: bool) -> None:
        background = OTHER_MONTH if muted else QColor("#ffffff")
        if self.due_soon(day) and day != self.today:
            background = DUE_SOON_BACKGROUND
        self._cell_background = background
        p.fillRect(rect, background)
        if self.overdue(day):
            p.fillRect(QRect(rect.left(), rect.top(), 4, rect.height()), OVERDUE)
        p.setPen(QPen(GRID_LINE, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect.adjusted(0, 0, -1, -1))
        if day == self.selected:
            pen = QPen(TODAY_ACCENT, 2)
            p.setPen(pen)
            p.drawRect(QRectF(rect).adjusted(1, 1, -2, -2))


class MonthGrid(_DayGrid):
    """Six weeks from the Monday on or before the 1st; days of other months are muted."""

    HEADER = 26

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Month")
        self.month = date.today().replace(day=1)

    def sizeHint(self) -> QSize:
        return QSize(700, 480)

    def minimumSizeHint(self) -> QSize:
        return QSize(420, 300)

    def set_month(self, day: date) -> None:
        self.month = day.replace(day=1)
        self.update()

    def first_day(self) -> date:
        return grid_start(self.month)

    def days(self) -> list[date]:
        first = self.first_day()
        return [first + timedelta(days=i) for i in range(42)]

    def cell_rect(self, day: date) -> QRect:
        index = (day - self.first_day()).days
        if not 0 <= index < 42:
            return QRect()
        row, col = divmod(index, 7)
        w = self.width() / 7
        h = (self.height() - self.HEADER) / 6
        x0, x1 = round(col * w), round((col + 1) * w)
        y0 = round(self.HEADER + row * h)
        y1 = round(self.HEADER + (row + 1) * h)
        return QRect(x0, y0, x1 - x0, y1 - y0)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width() / 7
        header_font = QFont(self.font())
        header_font.setBold(True)
        p.setFont(header_font)
        for i, name in enumerate(WEEKDAYS):
            p.setPen(QColor("#5b6775") if i < 5 else MUTED)
            p.drawText(QRect(round(i * w), 0, round(w), self.HEADER),
                       Qt.AlignmentFlag.AlignCenter, name)
        for day in self.days():
            rect = self.cell_rect(day)
            muted = day.month != self.month.month
            self.paint_cell_frame(p, rect, day, muted)
            label = f"{day.day} {day:%b}" if day.day == 1 else None
            self.paint_day_number(p, rect, day, muted, label)
            area = rect.adjusted(6, 27, -5, -5)
            self.paint_chips(p, area, self.counts_for(day))
        if self.hasFocus():
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(TODAY_ACCENT.lighter(150), 1, Qt.PenStyle.DotLine))
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()


class WeekGrid(_DayGrid):
    """Seven day columns (Monday first), each listing its kinds with their counts."""

    HEADER = 34

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Week")
        self.monday = monday_of(date.today())

    def sizeHint(self) -> QSize:
        return QSize(700, 420)

    def set_week(self, day: date) -> None:
        self.monday = monday_of(day)
        self.update()

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def cell_rect(self, day: date) -> QRect:
        index = (day - self.monday).days
        if not 0 <= index < 7:
            return QRect()
        w = self.width() / 7
        x0, x1 = round(index * w), round((index + 1) * w)
        return QRect(x0, 0, x1 - x0, self.height())

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for i, day in enumerate(self.days()):
            rect = self.cell_rect(day)
            self.paint_cell_frame(p, rect, day, muted=False)
            self.paint_day_number(p, rect, day, muted=False,
                                  text=f"{WEEKDAYS[i]} {day.day} {day:%b}")
            counts = self.counts_for(day)
            total = sum(counts.values())
            p.setFont(self.font())
            p.setPen(MUTED)
            p.drawText(QRect(rect.left() + 8, rect.top() + 24, rect.width() - 14, 18),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       f"{total:,} item{'s' if total != 1 else ''}" if total else "Nothing due")
            self.paint_chips(p, rect.adjusted(6, self.HEADER + 12, -6, -8), counts,
                             labelled=True)
        p.end()

"""The patterns dashboard: referrals by concern, sector, institution, area, age band and month,
drawn with QtCharts, filterable by dates, concern and sector. A click on a bar (or Enter on the
bar picked with the arrow keys) lists the referrals behind it.

Why QtCharts: it ships inside PySide6 (Addons), which is already a dependency, so the offline
bundle grows by nothing; its bar sets report clicks per bar, which is the drill-down; charts are
retained scene items, so a filter change only swaps six small series. matplotlib would add
matplotlib + numpy to the offline bundle and redraw whole figures through Agg; custom QPainter
bars would mean writing axes, labels, hover and hit-testing ourselves."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.prevent import PreventLists
from app.services.patterns import (
    DIMENSION_LABELS,
    Bar,
    Dashboard,
    PatternFilter,
    PatternService,
)
from app.services.referrals import ReferralFilter, ReferralService
from ui.prevent.common import choices, code_combo, combo_code, date_edit, py_date, qdate, run
from ui.prevent.models import RECORD_ROLE, ReferralTableModel
from ui.services import Services
from ui.widgets import heading

ACCENT = QColor("#1f5f8b")
PICKED = QColor("#f0b429")
HORIZONTAL = ("concern_type", "source_sector", "institution", "area")
LAYOUT = (("concern_type", 0, 0), ("source_sector", 0, 1), ("age_band", 0, 2),
          ("month", 1, 0), ("institution", 1, 1), ("area", 1, 2))


ROW_PX = 25.5  # QtCharts elides every category label once a row is shorter than this
SHORT_AGE = {"Under 12": "0-11", "Not known": "n/k"}  # labels are rich text: no "<"


def age_label(label: str) -> str:
    """An age band's axis label. A range goes on two lines ("12-" over "15"): on one line
    QtCharts elides five characters in a bar's width to "12-…", which hides the band."""
    short = SHORT_AGE.get(label, label)
    low, dash, high = short.partition("-")
    return f"{low}-<br>{high}" if dash and len(short) > 4 else short


def rows_that_fit(height: int) -> int:
    return max(3, int((height - 24) / ROW_PX))


def top_bars(bars: list[Bar], limit: int) -> list[Bar]:
    """The ``limit`` biggest bars, kept in their original order."""
    if len(bars) <= limit:
        return list(bars)
    keep = {id(b) for b in sorted(bars, key=lambda b: -b.count)[:limit]}
    return [b for b in bars if id(b) in keep]


def month_labels(bars: list[Bar]) -> list[str]:
    """The month's initial under each bar (the title gives the range; hovering, the month):
    three-letter names are elided by QtCharts below ~30 px a bar. Only every n-th when there
    are many; QtCharts wants distinct category names, so the skipped ones are distinct
    blanks."""
    step = max(1, (len(bars) + 17) // 18)
    out = []
    for i, b in enumerate(bars):
        text = date(int(b.key[:4]), int(b.key[5:7]), 1).strftime("%b")[0]
        out.append(text if i % step == 0 else "")
    return distinct(out)


def distinct(labels: list[str]) -> list[str]:
    """QtCharts merges categories with the same name (two "J" months would become one bar):
    a repeated name gets trailing spaces, one more each time, which change nothing seen."""
    seen: set[str] = set()
    out = []
    for text in labels:
        while text in seen:
            text += " "
        seen.add(text)
        out.append(text)
    return out


class BarChartView(QChartView):
    """One breakdown. ``bar_activated(dimension, key, label)`` on a click, or on Enter after
    picking a bar with the arrow keys."""

    bar_activated = Signal(str, str, str)

    def __init__(self, dimension: str, parent: QWidget | None = None) -> None:
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.dimension = dimension
        self.bars: list[Bar] = []  # as drawn (horizontal charts: the top that fit, reversed)
        self.all_bars: list[Bar] = []
        self.title_label: QLabel | None = None
        self.picked = -1
        self.bar_set: QBarSet | None = None
        self.chart_.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart_.legend().hide()
        self.chart_.setMargins(QMargins(0, 0, 0, 0))
        self.chart_.layout().setContentsMargins(0, 0, 0, 0)
        self.chart_.setBackgroundVisible(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet("background: transparent;")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"Referrals by {DIMENSION_LABELS[dimension].lower()}")
        self.setToolTip("Click a bar, or pick one with the arrow keys and press Enter, to "
                        "list the referrals behind it.")
        self.setMinimumHeight(210)

    def set_bars(self, bars: list[Bar]) -> None:
        self.all_bars = list(bars)
        self._render()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.dimension in HORIZONTAL and self.all_bars and \
                min(rows_that_fit(self.height()), len(self.all_bars)) != len(self.bars):
            self._render()

    def _render(self) -> None:
        chart = self.chart_
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        horizontal = self.dimension in HORIZONTAL
        # Horizontal charts get a little room on the left: QtCharts places elided category
        # labels a few pixels past the chart's edge, which cut the first letter off
        # ("elmsford Green…"). Vertical ones keep every pixel for the month initials.
        chart.setMargins(QMargins(6, 0, 4, 0) if horizontal else QMargins(0, 0, 0, 0))
        bars = self.all_bars
        if horizontal:
            bars = list(reversed(top_bars(bars, rows_that_fit(self.height()))))
        self.bars = bars
        self.picked = -1
        if self.title_label is not None:
            shown = len(bars)
            extra = (f" — top {shown} of {len(self.all_bars)}"
                     if shown < len(self.all_bars) else "")
            if self.dimension == "month" and bars:
                extra = f" — {bars[0].label} to {bars[-1].label}"
            self.title_label.setText(DIMENSION_LABELS[self.dimension] + extra)
        series = QHorizontalBarSeries() if horizontal else QBarSeries()
        series.setBarWidth(0.75)
        bar_set = QBarSet(DIMENSION_LABELS[self.dimension])
        bar_set.setColor(ACCENT)
        bar_set.setBorderColor(ACCENT)
        bar_set.setSelectedColor(PICKED)
        bar_set.append([float(b.count) for b in bars])
        bar_set.clicked.connect(self._clicked)
        bar_set.hovered.connect(self._hovered)
        series.append(bar_set)
        self.bar_set = bar_set
        chart.addSeries(series)
        categories = QBarCategoryAxis()
        if self.dimension == "month":
            labels = month_labels(bars)
        elif self.dimension == "age_band":
            labels = [age_label(b.label) for b in bars]
        else:
            labels = [b.label if len(b.label) <= 30 else b.label[:28] + "…" for b in bars]
        labels = distinct(labels)
        categories.append(labels or [""])
        small = QFont()
        small.setPointSizeF(8)
        tiny = QFont()
        tiny.setPointSizeF(7)
        categories.setLabelsFont(tiny if self.dimension in ("month", "age_band") else small)
        categories.setGridLineVisible(False)
        values = QValueAxis()
        values.setLabelFormat("%d")
        values.setLabelsFont(small)
        top = max([b.count for b in bars] or [0])
        values.setRange(0, max(top * 1.08, 4))
        values.setTickCount(5)
        if horizontal:
            chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)
            chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        else:
            chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
            chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(categories)
        series.attachAxis(values)

    def _clicked(self, index: int) -> None:
        self.activate(index)

    def _hovered(self, status: bool, index: int) -> None:
        if status and 0 <= index < len(self.bars):
            b = self.bars[index]
            self.setToolTip(f"{b.label}: {b.count:,} referrals — click to list them")

    def activate(self, index: int) -> None:
        if 0 <= index < len(self.bars):
            b = self.bars[index]
            self.bar_activated.emit(self.dimension, b.key, b.label)

    def pick(self, index: int) -> None:
        if self.bar_set is None or not self.bars:
            return
        index = max(0, min(index, len(self.bars) - 1))
        if self.picked >= 0:
            self.bar_set.deselectBar(self.picked)
        self.picked = index
        self.bar_set.selectBar(index)
        b = self.bars[index]
        self.setAccessibleDescription(f"{b.label}: {b.count} referrals")
        self.setToolTip(f"{b.label}: {b.count:,} referrals — Enter lists them")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        horizontal = self.dimension in HORIZONTAL
        forward = (Qt.Key.Key_Up,) if horizontal else (Qt.Key.Key_Right,)
        back = (Qt.Key.Key_Down,) if horizontal else (Qt.Key.Key_Left,)
        if key in forward + back:
            step = 1 if key in forward else -1
            self.pick(self.picked + step if self.picked >= 0 else
                      (len(self.bars) - 1 if horizontal else 0))
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.picked >= 0:
            self.activate(self.picked)
            return
        super().keyPressEvent(event)


class DrillDownDialog(QDialog):
    """The referrals behind one bar; Enter opens one in its own window."""

    def __init__(self, services: Services, lists: PreventLists, title: str, ids: list[int],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from ui.prevent.queue import referral_table

        self.services = services
        self.lists = lists
        self.setWindowTitle(title)
        self.resize(1100, 560)
        service = services.get(ReferralService)
        flt = ReferralFilter(ids=ids)
        self.model = ReferralTableModel(
            lists, lambda f, o, n: service.queue(f, offset=o, limit=n), parent=self)
        layout = QVBoxLayout(self)
        label = QLabel(f"{title}: {len(ids):,} referrals. Enter opens the selected one.")
        label.setObjectName("SectionTitle")
        label.setWordWrap(True)
        layout.addWidget(label)
        self.table = referral_table(self.model)
        self.table.activated.connect(self._open)
        layout.addWidget(self.table, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.model.reset_with(flt, len(ids), service.queue(flt, offset=0, limit=200))
        if self.model.rowCount():
            self.table.selectRow(0)
        self.table.setFocus()

    def _open(self, index: Any) -> None:
        from ui.prevent.workspace import open_in_dialog

        row = self.model.data(index, RECORD_ROLE)
        if row is not None:
            open_in_dialog(self.services, self.lists, row.id, self).exec()


class PatternsDashboard(QWidget):
    """Six charts for one filter; data off the UI thread, then only the series are swapped."""

    drawn = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.get(PatternService)
        self.lists = services.get(ReferralService).lists()
        self.loading = False
        self.dashboard: Dashboard | None = None
        self.last_ms: dict[str, float] = {}
        self._seq = 0
        self._started = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 12)
        layout.setSpacing(8)
        layout.addWidget(heading(
            "Patterns",
            "Referrals received in the period, by concern, source, age, month, institution and "
            "area. Click a bar (or pick it with the arrow keys and press Enter) to list the "
            "referrals behind it."))
        filters = QHBoxLayout()
        span = self.service.date_span()
        today = date.today()
        first = date(today.year - 1, today.month, 1)
        self.start = date_edit(first, name="From")
        self.end = date_edit(today, name="To")
        if span:
            self.start.setMinimumDate(qdate(min(span[0], first)))
        self.concern = code_combo(choices(self.lists, "concern_types"),
                                  placeholder="Any concern", name="Concern type")
        self.sector = code_combo(choices(self.lists, "source_sectors"),
                                 placeholder="Any sector", name="Source sector")
        for text, widget in (("&From:", self.start), ("&To:", self.end),
                             ("&Concern:", self.concern), ("&Sector:", self.sector)):
            label = QLabel(text)
            label.setBuddy(widget)
            filters.addWidget(label)
            filters.addWidget(widget)
        self.all_dates = QPushButton("&All dates")
        self.all_dates.clicked.connect(self._all_dates)
        filters.addWidget(self.all_dates)
        filters.addStretch(1)
        self.total = QLabel()
        self.total.setObjectName("SectionTitle")
        filters.addWidget(self.total)
        layout.addLayout(filters)
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.hide()
        layout.addWidget(self.error)

        grid = QGridLayout()
        grid.setSpacing(10)
        self.charts: dict[str, BarChartView] = {}
        for dim, row, col in LAYOUT:
            frame = QFrame()
            frame.setObjectName("Card")
            flay = QVBoxLayout(frame)
            flay.setContentsMargins(8, 6, 8, 4)
            flay.setSpacing(2)
            title = QLabel(DIMENSION_LABELS[dim])
            title.setObjectName("CardTitle")
            flay.addWidget(title)
            view = BarChartView(dim)
            view.title_label = title
            view.bar_activated.connect(self.drill_down)
            flay.addWidget(view, 1)
            self.charts[dim] = view
            grid.addWidget(frame, row, col)
        for c in range(3):
            grid.setColumnStretch(c, 1)
        layout.addLayout(grid, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.reload)
        self.start.dateChanged.connect(lambda _d: self._timer.start())
        self.end.dateChanged.connect(lambda _d: self._timer.start())
        self.concern.currentIndexChanged.connect(lambda _i: self.reload())
        self.sector.currentIndexChanged.connect(lambda _i: self.reload())
        self.reload()

    def _all_dates(self) -> None:
        span = self.service.date_span()
        if span:
            self.start.setMinimumDate(qdate(span[0]))
            self.start.setDate(qdate(span[0]))
            self.end.setDate(qdate(min(span[1], date.today())))

    def current_filter(self) -> PatternFilter | None:
        start, end = py_date(self.start.date()), py_date(self.end.date())
        if end < start:
            return None
        return PatternFilter(start=start, end=end, concern_type=combo_code(self.concern) or None,
                             source_sector=combo_code(self.sector) or None)

    def reload(self) -> None:
        flt = self.current_filter()
        if flt is None:
            self.error.setText("The end date must not be before the start date.")
            self.error.show()
            return
        self.error.hide()
        self._seq += 1
        seq = self._seq
        self.loading = True
        self._started = time.perf_counter()
        self.total.setText("Counting…")

        def work() -> tuple[Dashboard, float]:
            t = time.perf_counter()
            dash = self.service.dashboard(flt)
            return dash, (time.perf_counter() - t) * 1000

        def done(result: Any) -> None:
            if seq != self._seq:
                return
            dash, data_ms = result
            self.draw(dash)
            total_ms = (time.perf_counter() - self._started) * 1000
            self.last_ms = {"data": data_ms, "total": total_ms,
                            "draw": self.last_ms.get("draw", 0.0)}
            self.loading = False
            self.drawn.emit()

        def failed(exc: Any) -> None:
            self.loading = False
            self.total.setText("")
            self.error.setText(str(exc))
            self.error.show()

        run(self.services, "prevent.patterns", work, done, self, failed)

    def draw(self, dash: Dashboard) -> None:
        t = time.perf_counter()
        self.dashboard = dash
        for dim, view in self.charts.items():
            view.set_bars(dash.breakdowns.get(dim, []))
        self.total.setText(f"{dash.total:,} referrals")
        self.last_ms["draw"] = (time.perf_counter() - t) * 1000

    def drill_down(self, dimension: str, key: str, label: str) -> None:
        flt = self.current_filter() or PatternFilter()

        def done(ids: Any) -> None:
            title = f"{DIMENSION_LABELS[dimension]}: {label}"
            self.last_drill = DrillDownDialog(self.services, self.lists, title, list(ids), self)
            self.last_drill.show()

        run(self.services, "prevent.drill-down",
            lambda: self.service.drill_down(dimension, key, flt), done, self)

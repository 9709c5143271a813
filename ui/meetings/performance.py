"""Performance against targets: each target's actual for a chosen month or quarter, and the
12-month trend of the chosen target as a chart (computed off the UI thread); the performance
return for the chosen period through the export dialog."""

from __future__ import annotations

from datetime import date

from PySide6.QtCharts import QBarCategoryAxis, QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QItemSelection, QMargins, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.meetings import Figure, Period, last_months, parse_period
from app.domain.roles import Perm
from app.services.performance import PerformanceReport, PerformanceService
from ui.meetings.meetings import Today, selected_record, table_view
from ui.meetings.models import PerformanceTableModel
from ui.prevent.common import qdate, run
from ui.services import Services
from ui.views.exports import ExportDialog
from ui.widgets import heading


def period_choices(today: date) -> list[Period]:
    """This month and the eleven before it, then this quarter and the three before it."""
    months = last_months(today, 12)[::-1]
    quarters = []
    year, q = today.year, (today.month - 1) // 3 + 1
    for _ in range(4):
        quarters.append(parse_period(f"{year}-Q{q}"))
        q -= 1
        if q == 0:
            year, q = year - 1, 4
    return months + quarters


class PerformanceView(QWidget):
    """The figures table above the trend chart of the chosen target."""

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 today: Today | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.perf = services.get(PerformanceService)
        self.today: Today = today or date.today
        self.report: PerformanceReport | None = None
        self.trend: list[PerformanceReport] = []
        self.loading = 0

        self.period = QComboBox()
        self.period.setAccessibleName("Period")
        for p in period_choices(self.today()):
            self.period.addItem(p.label, p.key)
        self.status = QLabel()
        self.status.setObjectName("Hint")
        top = QHBoxLayout()
        lab = QLabel("&Period")
        lab.setBuddy(self.period)
        top.addWidget(lab)
        top.addWidget(self.period)
        top.addWidget(self.status, 1)
        self.export_button = QPushButton("E&xport…")
        self.export_button.setToolTip("The performance return for the chosen period as a "
                                      "workbook, recorded as a disclosure")
        self.export_button.setEnabled(services.can(Perm.EXPORT))
        self.export_button.clicked.connect(self.open_export)
        self.export_dialog: ExportDialog | None = None
        top.addWidget(self.export_button)

        self.model = PerformanceTableModel()
        self.view = table_view(None, "Figures")  # in the order of the targets list
        self.view.setModel(self.model)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().selectionChanged.connect(self._on_select)

        self.chart = QChart()
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart.setMargins(QMargins(4, 4, 4, 4))
        self.chart_view = QChartView(self.chart)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(220)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.chart_view)
        split.setSizes([260, 380])
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Performance", "Performance Management Framework targets "
                                 "against actuals from the vault"))
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.period.currentIndexChanged.connect(self.refresh)
        self.refresh()

    def open_export(self) -> ExportDialog:
        """The export dialog set to the performance return for the period shown."""
        period = self.chosen_period()
        dialog = ExportDialog(self.services, self, today=self.today(), initial="performance")
        dialog.start.setDate(qdate(period.start))
        dialog.end.setDate(qdate(period.end))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def chosen_period(self) -> Period:
        return parse_period(str(self.period.currentData()))

    def refresh(self) -> None:
        """Figures for the chosen period and the 12-month trend ending with it."""
        period, today, perf = self.chosen_period(), self.today(), self.perf
        self.status.setText("Computing…")
        self.loading += 1

        def work() -> tuple[PerformanceReport, list[PerformanceReport]]:
            return (perf.figures(period, today),
                    perf.trend(min(period.end, today), 12, today))

        run(self.services, "performance", work, self._loaded, self, self._failed)

    def _failed(self, exc: CasewardError) -> None:
        self.loading -= 1
        self.status.setText(str(exc))

    def _loaded(self, result: tuple[PerformanceReport, list[PerformanceReport]]) -> None:
        self.loading -= 1
        self.report, self.trend = result
        chosen = self.current()
        self.model.set_rows(self.report.figures)
        met = sum(1 for f in self.report.figures if f.met)
        known = sum(1 for f in self.report.figures if f.met is not None)
        self.status.setText(f"{self.report.period.label}: {met} of {known} targets met "
                            f"(targets {self.report.targets_version})")
        row = 0
        if chosen is not None:
            row = next((i for i, f in enumerate(self.model.rows()) if f.code == chosen.code), 0)
        if self.model.rowCount():
            self.view.selectRow(row)
        self._draw()

    def current(self) -> Figure | None:
        rec = selected_record(self.view)
        return rec if isinstance(rec, Figure) else None

    def _on_select(self, *_args: QItemSelection) -> None:
        self._draw()

    def trend_points(self, code: str) -> list[tuple[str, float | None]]:
        """(month label, actual) for the chosen target over the trend."""
        out = []
        for r in self.trend:
            f = next((x for x in r.figures if x.code == code), None)
            out.append((r.period.start.strftime("%b %y"), f.value if f else None))
        return out

    def _draw(self) -> None:
        chart = self.chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        figure = self.current()
        if figure is None or not self.trend:
            chart.setTitle("")
            return
        points = self.trend_points(figure.code)
        chart.setTitle(f"{figure.label}: last 12 months")
        actual = QLineSeries()
        actual.setName("Actual")
        actual.setPointsVisible(True)
        actual.setPen(QPen(QColor("#1f5fa8"), 2.5))
        target = QLineSeries()
        target.setName(f"Target ({figure.target_text})")
        pen = QPen(QColor("#b3261e"), 1.5)
        pen.setStyle(Qt.PenStyle.DashLine)
        target.setPen(pen)
        values = [v for _l, v in points if v is not None]
        for i, (_label, value) in enumerate(points):
            if value is not None:
                actual.append(i, value)
            target.append(i, figure.target)
        chart.addSeries(actual)
        chart.addSeries(target)
        x = QBarCategoryAxis()
        x.append([label for label, _v in points])
        y = QValueAxis()
        top = max([figure.target, *values]) if values else figure.target
        if figure.unit == "percent":
            y.setRange(0, 100)
            y.setLabelFormat("%d%%")
        else:
            y.setRange(0, max(1.0, top * 1.2))
            y.setLabelFormat("%d")
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        for series in (actual, target):
            series.attachAxis(x)
            series.attachAxis(y)
        # A category axis spans -0.5 .. n-0.5; the line series use the same indices.
        x.setRange(points[0][0], points[-1][0])


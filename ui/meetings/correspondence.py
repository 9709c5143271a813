"""The correspondence log: items to and from partner agencies, each under an information-sharing
agreement, with reply-by dates; a form to log a new one."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.meetings import CorrespondenceInput, Direction
from app.domain.roles import Perm
from app.services.correspondence import (
    CorrespondenceFilter,
    CorrespondenceInfo,
    CorrespondenceService,
)
from app.services.meetings import MeetingService
from ui.meetings.meetings import Today, sorted_proxy, table_view
from ui.meetings.models import CorrespondenceTableModel
from ui.prevent.common import code_combo, combo_code, date_edit, guarded, py_date, qdate
from ui.services import Services
from ui.widgets import heading


class CorrespondenceView(QWidget):
    """The log (newest first) beside the form for a new entry."""

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 today: Today | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.log = services.get(CorrespondenceService)
        self.today: Today = today or date.today
        lists = services.get(MeetingService).lists()
        self.types = dict(lists.correspondence_types)

        self.agency_filter = QComboBox()
        self.agency_filter.setAccessibleName("Agency filter")
        self.awaiting = QCheckBox("&Awaiting reply")
        self.count = QLabel()
        self.count.setObjectName("Hint")
        filters = QHBoxLayout()
        lab = QLabel("A&gency")
        lab.setBuddy(self.agency_filter)
        filters.addWidget(lab)
        filters.addWidget(self.agency_filter)
        self.agency_filter.setMinimumWidth(260)
        filters.addWidget(self.awaiting)
        filters.addStretch(1)
        filters.addWidget(self.count)

        self.model = CorrespondenceTableModel()
        self.proxy = sorted_proxy(self.model)
        self.view = table_view(self.proxy, "Correspondence")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((1, 85), (2, 40), (3, 160), (4, 140), (6, 85), (7, 85), (8, 85),
                           (9, 85)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.view.setColumnHidden(0, True)

        # The form for a new item.
        self.agency = QComboBox()
        self.agency.setEditable(True)
        self.agency.setAccessibleName("Partner agency")
        self.direction = code_combo([(Direction.OUT.value, "Out (we sent it)"),
                                     (Direction.IN.value, "In (we received it)")],
                                    name="Direction")
        self.sent_on = date_edit(self.today(), name="Date")
        self.sent_on.setMaximumDate(qdate(date(2100, 12, 31)))
        self.kind = code_combo(self.types.items(), name="Type")
        self.subject = QLineEdit()
        self.subject.setAccessibleName("Subject")
        self.isa = QComboBox()
        self.isa.setAccessibleName("Information-sharing agreement")
        self.nominals = QLineEdit()
        self.nominals.setAccessibleName("Nominals")
        self.nominals.setPlaceholderText("NM-000012, NM-000040")
        self.wants_reply = QCheckBox("Reply &by")
        self.reply_by = date_edit(self.today() + timedelta(days=14), name="Reply by")
        self.reply_by.setMaximumDate(qdate(date(2100, 12, 31)))
        self.reply_by.setEnabled(False)
        self.wants_reply.toggled.connect(self.reply_by.setEnabled)
        self.summary = QPlainTextEdit()
        self.summary.setAccessibleName("Summary")
        self.summary.setTabChangesFocus(True)
        self.summary.setFixedHeight(60)
        self.justification = QPlainTextEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setTabChangesFocus(True)
        self.justification.setFixedHeight(48)
        self.justification.setPlaceholderText("Needed for an outgoing item without an ISA")
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.add_button = QPushButton("&Log it")
        self.add_button.clicked.connect(self.add)
        form = QFormLayout()
        form.addRow("&Partner agency", self.agency)
        form.addRow("&Direction", self.direction)
        form.addRow("Da&te", self.sent_on)
        form.addRow("T&ype", self.kind)
        form.addRow("&Subject", self.subject)
        form.addRow("&ISA relied on", self.isa)
        form.addRow("&Nominals", self.nominals)
        form.addRow(self.wants_reply, self.reply_by)
        form.addRow("Su&mmary", self.summary)
        form.addRow("&Justification", self.justification)
        side = QWidget()
        slay = QVBoxLayout(side)
        slay.setContentsMargins(8, 0, 0, 0)
        title = QLabel("Log correspondence")
        title.setObjectName("CardTitle")
        slay.addWidget(title)
        slay.addLayout(form)
        slay.addWidget(self.problem)
        hint = QLabel("An outgoing item is recorded in the audit log as a disclosure.")
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        slay.addWidget(hint)
        slay.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignRight)
        slay.addStretch(1)
        side.setEnabled(services.can(Perm.MEETING_WRITE))
        side.setMaximumWidth(440)
        for combo in (self.agency, self.direction, self.kind, self.isa):
            # Long agreement titles must not widen the form past the log.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([980, 380])
        left = QVBoxLayout(self)
        left.addWidget(heading("Correspondence", "Partner agencies, information-sharing "
                               "agreements and replies due"))
        left.addLayout(filters)
        left.addWidget(split, 1)

        self.load_choices()
        self.agency_filter.currentIndexChanged.connect(self.refresh)
        self.awaiting.toggled.connect(self.refresh)
        self.refresh()

    def load_choices(self) -> None:
        ok, agencies = guarded(self.services, self, None, self.log.agencies)
        ok2, isas = guarded(self.services, self, None, self.log.isas)
        self.agency_filter.blockSignals(True)
        current = self.agency_filter.currentData()
        self.agency_filter.clear()
        self.agency_filter.addItem("Every agency", "")
        for a in agencies if ok else []:
            self.agency_filter.addItem(a, a)
        self.agency_filter.setCurrentIndex(max(self.agency_filter.findData(current), 0))
        self.agency_filter.blockSignals(False)
        typed = self.agency.currentText()
        self.agency.clear()
        self.agency.addItems(agencies if ok else [])
        self.agency.setCurrentText(typed)
        self.isa.clear()
        self.isa.addItem("None (give a justification)", 0)
        today = self.today()
        for i in isas if ok2 else []:
            late = "  (review overdue)" if i.review_overdue(today) else ""
            self.isa.addItem(f"{i.ref} {i.title}{late}", i.id)

    def refresh(self) -> None:
        flt = CorrespondenceFilter(agency=str(self.agency_filter.currentData() or "") or None,
                                   awaiting_reply=self.awaiting.isChecked())
        ok, rows = guarded(self.services, self, None,
                           lambda: self.log.log(flt, today=self.today()))
        if ok:
            self.model.set_rows(rows)
            late = sum(1 for r in rows if r.reply_overdue(self.today()))
            self.count.setText(f"{len(rows)} item(s); {late} reply overdue")

    def add(self) -> CorrespondenceInfo | None:
        self.problem.hide()
        refs = tuple(r.strip().upper() for r in self.nominals.text().replace(";", ",")
                     .split(",") if r.strip())
        isa_id = int(self.isa.currentData() or 0) or None
        entry = CorrespondenceInput(
            agency=self.agency.currentText().strip(), direction=Direction(
                combo_code(self.direction)), sent_on=py_date(self.sent_on.date()),
            subject=self.subject.text().strip(), corr_type=combo_code(self.kind) or "general",
            isa_id=isa_id, nominal_refs=refs,
            reply_by=py_date(self.reply_by.date()) if self.wants_reply.isChecked() else None,
            summary=self.summary.toPlainText().strip(),
            justification=self.justification.toPlainText().strip())
        try:
            made = self.log.add(entry)
        except CasewardError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return None
        for w in (self.subject, self.nominals):
            w.clear()
        for t in (self.summary, self.justification):
            t.clear()
        self.wants_reply.setChecked(False)
        self.load_choices()
        self.refresh()
        return made


"""The Actions view: the action log filtered by owner, status, meeting and overdue; a new
action; an update (status and note) with the action's history beside it; the action log return
(chair's report) through the export dialog."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.meetings import ActionStatus
from app.domain.roles import Perm
from app.services.meetings import ActionFilter, ActionInfo, MeetingService
from ui.meetings.meetings import (
    ActionDialog,
    Today,
    esc,
    select_where,
    selected_record,
    sorted_proxy,
    table_view,
)
from ui.meetings.models import ActionsTableModel, uk_date
from ui.prevent.common import code_combo, combo_code, guarded, qdate, set_combo_code
from ui.services import Services
from ui.views.exports import ExportDialog
from ui.widgets import heading


class ActionsView(QWidget):
    """Hold owners to account: every action, who owns it, when due, what happened."""

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 today: Today | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.meetings = services.get(MeetingService)
        self.today: Today = today or date.today
        self.writable = services.can(Perm.MEETING_WRITE)
        self.action_dialog: ActionDialog | None = None

        self.owner = QComboBox()
        self.owner.setAccessibleName("Owner filter")
        self.status = code_combo([(s.value, s.value.capitalize()) for s in ActionStatus],
                                 placeholder="Any status", name="Status filter")
        set_combo_code(self.status, ActionStatus.OPEN.value)
        self.meeting = QComboBox()
        self.meeting.setAccessibleName("Meeting filter")
        self.overdue = QCheckBox("&Overdue only")
        self.count = QLabel()
        self.count.setObjectName("Hint")
        self.new_button = QPushButton("&New action…")
        self.new_button.setEnabled(self.writable)
        self.new_button.clicked.connect(self.open_new)
        self.export_button = QPushButton("E&xport…")
        self.export_button.setToolTip("The action log return (chair's report) as a workbook, "
                                      "recorded as a disclosure")
        self.export_button.setEnabled(services.can(Perm.EXPORT))
        self.export_button.clicked.connect(self.open_export)
        self.export_dialog: ExportDialog | None = None
        filters = QHBoxLayout()
        for label, w in (("O&wner", self.owner), ("&Status", self.status),
                         ("&Meeting", self.meeting)):
            lab = QLabel(label)
            lab.setBuddy(w)
            filters.addWidget(lab)
            filters.addWidget(w, 1)
        filters.addWidget(self.overdue)
        filters.addWidget(self.new_button)
        filters.addWidget(self.export_button)

        self.model = ActionsTableModel()
        self.proxy = sorted_proxy(self.model)
        self.view = table_view(self.proxy, "Actions")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((0, 90), (2, 140), (3, 128), (4, 64), (5, 95), (6, 90), (7, 130)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().selectionChanged.connect(self._on_select)

        # The chosen action: its history and an update.
        self.detail = QLabel("Choose an action to see its history or update it.")
        self.detail.setWordWrap(True)
        self.history = QListWidget()
        self.history.setAccessibleName("History")
        self.history.setWordWrap(True)
        self.new_status = code_combo([(s.value, s.value.capitalize()) for s in ActionStatus],
                                     name="New status")
        self.note = QPlainTextEdit()
        self.note.setAccessibleName("Update note")
        self.note.setTabChangesFocus(True)
        self.note.setPlaceholderText("What has happened (who, what, next step)")
        self.note.setFixedHeight(70)
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.update_button = QPushButton("Record &update")
        self.update_button.clicked.connect(self.record_update)
        form = QFormLayout()
        form.addRow("Stat&us", self.new_status)
        form.addRow("&Note", self.note)
        side = QWidget()
        slay = QVBoxLayout(side)
        slay.setContentsMargins(8, 0, 0, 0)
        slay.addWidget(self.detail)
        slay.addWidget(QLabel("History"))
        slay.addWidget(self.history, 1)
        slay.addLayout(form)
        slay.addWidget(self.problem)
        slay.addWidget(self.update_button, 0, Qt.AlignmentFlag.AlignRight)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([1030, 320])
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Actions", "Owners, due dates and updates; overdue actions "
                                 "carry to the next meeting"))
        layout.addLayout(filters)
        layout.addWidget(self.count)
        layout.addWidget(split, 1)

        self.load_choices()
        for combo in (self.owner, self.status, self.meeting):
            combo.currentIndexChanged.connect(self.refresh)
        self.overdue.toggled.connect(self.refresh)
        self.refresh()
        self._on_select()

    def load_choices(self) -> None:
        """The owners and meetings the filters offer."""
        ok, owners = guarded(self.services, self, None, self.meetings.owners)
        ok2, rows = guarded(self.services, self, None,
                            lambda: self.meetings.meetings(limit=200))
        for combo in (self.owner, self.meeting):
            combo.blockSignals(True)
        current_owner, current_meeting = self.owner.currentData(), self.meeting.currentData()
        self.owner.clear()
        self.owner.addItem("Anyone", "")
        for o in owners if ok else []:
            self.owner.addItem(o, o)
        self.meeting.clear()
        self.meeting.addItem("Any meeting", 0)
        for m in rows if ok2 else []:
            self.meeting.addItem(f"{m.starts_at:%d/%m/%Y} {m.type_label} ({m.ref})", m.id)
        self.owner.setCurrentIndex(max(self.owner.findData(current_owner), 0))
        self.meeting.setCurrentIndex(max(self.meeting.findData(current_meeting), 0))
        for combo in (self.owner, self.meeting):
            combo.blockSignals(False)

    def current_filter(self) -> ActionFilter:
        return ActionFilter(owner=str(self.owner.currentData() or "") or None,
                            status=combo_code(self.status) or None,
                            meeting=int(self.meeting.currentData() or 0) or None,
                            overdue=self.overdue.isChecked())

    def refresh(self) -> None:
        selected = self.current()
        ok, rows = guarded(self.services, self, None, lambda: self.meetings.actions(
            self.current_filter(), today=self.today()))
        if not ok:
            return
        self.model.set_rows(rows)
        late = sum(1 for a in rows if a.overdue)
        self.count.setText(f"{len(rows)} action(s), {late} overdue")
        if selected is not None:
            self.select(selected.ref)

    def current(self) -> ActionInfo | None:
        rec = selected_record(self.view)
        return rec if isinstance(rec, ActionInfo) else None

    def select(self, ref: str) -> bool:
        return select_where(self.view, lambda rec: rec.ref == ref)

    def _on_select(self, *_args: QItemSelection) -> None:
        action = self.current()
        self.history.clear()
        self.problem.hide()
        for w in (self.new_status, self.note, self.update_button):
            w.setEnabled(action is not None and self.writable)
        if action is None:
            self.detail.setText("Choose an action to see its history or update it.")
            return
        where = f" · raised at {action.meeting_ref} ({uk_date(action.meeting_date)})" if (
            action.meeting_ref) else ""
        about = f" · about {action.nominal_ref}" if action.nominal_ref else ""
        late = " · <span style='color:#b3261e'>overdue</span>" if action.overdue else ""
        self.detail.setText(f"<b>{action.ref}</b>: {esc(action.text)}<br>{esc(action.owner)}"
                            f", due {uk_date(action.due)}{where}{about}{late}")
        set_combo_code(self.new_status, action.status)
        ok, updates = guarded(self.services, self, None,
                              lambda: self.meetings.action_history(action.ref))
        for u in updates if ok else []:
            change = ""
            if u.new_status:
                change = (f" [{u.old_status} → {u.new_status}]" if u.old_status
                          else f" [{u.new_status}]")
            self.history.addItem(f"{u.at:%d/%m/%Y %H:%M} {u.user}{change}\n{u.text}")

    def record_update(self) -> ActionInfo | None:
        action = self.current()
        if action is None:
            return None
        status = combo_code(self.new_status)
        note = self.note.toPlainText().strip()
        try:
            updated = self.meetings.update_action(
                action.ref, note, status=status if status != action.status else None,
                today=self.today())
        except CasewardError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return None
        self.note.clear()
        self.refresh()
        if not self.select(updated.ref):
            self.history.clear()
            self.detail.setText(f"{updated.ref} updated ({updated.status}); it no longer "
                                "matches the filter.")
        return updated

    def open_new(self) -> ActionDialog:
        ok, owners = guarded(self.services, self, None, self.meetings.owners)
        dialog = ActionDialog([], self.today(), owners if ok else [], self)
        dialog.accepted.connect(lambda: self._add(dialog))
        self.action_dialog = dialog
        dialog.open()
        return dialog

    def open_export(self) -> ExportDialog:
        """The export dialog set to the action log return over the last twelve months (the
        return also lists every action still open, whenever due)."""
        today = self.today()
        dialog = ExportDialog(self.services, self, today=today, initial="actions")
        dialog.start.setDate(qdate(today - timedelta(days=365)))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def _add(self, dialog: ActionDialog) -> None:
        meeting = int(self.meeting.currentData() or 0) or None
        ok, made = guarded(self.services, self, None,
                           lambda: self.meetings.add_action(dialog.action_input(meeting)))
        if ok:
            self.load_choices()
            self.refresh()
            self.select(made.ref)

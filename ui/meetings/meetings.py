"""The Meetings area: the list of meetings and the meeting editor (details, attendees, agenda
with suggested nominals and carried actions, minutes per item, actions raised, the pack)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QItemSelection, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.meetings import (
    ActionInput,
    AttendeeInput,
    MeetingInput,
    MeetingLists,
    MeetingStatus,
    NominalPick,
)
from app.domain.roles import Perm
from app.services.meetings import AgendaItemInfo, MeetingDetail, MeetingService, Suggestion
from app.services.pack_pdf import PackService, PrintablePack
from ui.meetings.models import (
    ActionsTableModel,
    AgendaTableModel,
    MeetingsTableModel,
    ObjectRole,
    SortRole,
    agenda_note,
    agenda_title,
)
from ui.ops import OpContext, Operation, OpProgressSink
from ui.prevent.common import (
    code_combo,
    combo_code,
    date_edit,
    datetime_edit,
    guarded,
    py_date,
    py_datetime,
    qdate,
    set_combo_code,
)
from ui.services import Services
from ui.views.exports import (
    print_pdf,
    recent_recipients,
    remember_recipient,
    removable_media,
    run_buttons,
    show_done,
    show_progress,
)
from ui.widgets import heading, message_label, record_table

Today = Callable[[], date]

READ_ONLY = "Your role may read meetings but not change them."
NO_EXPORT = "Your role may not export or print a meeting pack."
CHOOSE_FIRST = "Choose a meeting in the list (or save this one) first."


def hold_width(*buttons: QPushButton) -> None:
    """Never squeeze a button below its text: a narrow pane grows a scroll bar or gives way
    elsewhere rather than clipping "Add nominal…" into "dd nominal."."""
    for b in buttons:
        b.setMinimumWidth(b.sizeHint().width())


def explain(widget: QWidget, enabled: bool, why_not: str, tip: str = "") -> None:
    """Enable ``widget``; when it is disabled its tool tip says why (else ``tip``)."""
    widget.setEnabled(enabled)
    widget.setToolTip(tip if enabled else why_not)


def table_view(model: QAbstractItemModel | None, name: str, *,
               sortable: bool | None = None) -> QTableView:
    """A read-only meetings table (``record_table``: whole rows, one selected, Ctrl+C copies,
    Tab leaves). ``sortable`` (default: when a model is given) lets a header click sort, with
    no indicator at first, so the service's order (overdue first) stands until one is clicked.
    Without a model the caller sets its own (then unsorted: an agenda keeps its order)."""
    if sortable is None:
        sortable = model is not None
    source: QAbstractItemModel = model if model is not None else QStandardItemModel()
    view = record_table(source, name, row_height=30, alternating=False,
                        sort_column=-1 if sortable else None)
    if model is None:
        source.setParent(view)  # an empty stand-in until the caller's setModel; freed with it
    return view


def sorted_proxy(source: object) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(source)  # type: ignore[arg-type]
    proxy.setSortRole(SortRole)
    return proxy


def selected_record(view: QTableView) -> object | None:
    """The record of the selected row, read through the object role (never by row number)."""
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    return rows[0].data(ObjectRole) if rows else None


def select_where(view: QTableView, match: Callable[[Any], bool]) -> bool:
    """Select the first row whose record (read through the object role) ``match``es; whether
    there was one."""
    model = view.model()
    for row in range(model.rowCount()):
        rec = model.index(row, 0).data(ObjectRole)
        if rec is not None and match(rec):
            view.selectRow(row)
            return True
    return False


def esc(text: str) -> str:
    """User text made safe to put in a rich-text label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse_attendees(text: str) -> list[AttendeeInput]:
    """One attendee a line: "Name; Agency; Role" (agency and role optional)."""
    out: list[AttendeeInput] = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(";")]
        if parts and parts[0]:
            out.append(AttendeeInput(parts[0], parts[1] if len(parts) > 1 else "",
                                     parts[2] if len(parts) > 2 else ""))
    return out


class SuggestDialog(QDialog):
    """Nominals worth discussing, each with its reasons; tick those to put on the agenda."""

    def __init__(self, suggestions: list[Suggestion], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Suggested nominals")
        self.setMinimumSize(640, 420)
        self.suggestions = suggestions
        self.list = QListWidget()
        self.list.setAccessibleName("Suggested nominals")
        self.list.setWordWrap(True)
        for s in suggestions:
            item = QListWidgetItem(f"{s.ref}  {s.name}\n    {s.reason_text}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(ObjectRole, s)
            self.list.addItem(item)
        empty = QLabel("No nominal needs discussing: no overdue contacts, ending orders, new "
                       "nominals or data-quality faults." if not suggestions else
                       "Tick the nominals to put on the agenda for discussion.")
        empty.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Add to agenda")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(empty)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def check_all(self, checked: bool = True) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        for i in range(self.list.count()):
            self.list.item(i).setCheckState(state)

    def picks(self) -> list[NominalPick]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                s: Suggestion = item.data(ObjectRole)
                out.append(NominalPick(s.ref, s.reason_text[:500]))
        return out


class ActionDialog(QDialog):
    """Raise an action: what, who, by when, about which nominal."""

    def __init__(self, nominals: list[str], today: date, owners: list[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New action")
        self.setMinimumWidth(480)
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Action")
        self.text.setTabChangesFocus(True)
        self.text.setFixedHeight(70)
        self.owner = QComboBox()
        self.owner.setEditable(True)
        self.owner.setAccessibleName("Owner")
        self.owner.addItems(owners)
        self.owner.setCurrentText("")
        self.due = date_edit(today + timedelta(days=14), name="Due date")
        self.due.setMaximumDate(qdate(date(2100, 12, 31)))
        self.due.setMinimumDate(qdate(date(2000, 1, 1)))
        self.nominal = QComboBox()
        self.nominal.setEditable(True)
        self.nominal.setAccessibleName("Nominal")
        self.nominal.addItem("")
        self.nominal.addItems(nominals)
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.hide()
        form = QFormLayout()
        form.addRow("&Action", self.text)
        form.addRow("&Owner", self.owner)
        form.addRow("&Due", self.due)
        form.addRow("&Nominal", self.nominal)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _check(self) -> None:
        if not self.text.toPlainText().strip() or not self.owner.currentText().strip():
            self.problem.setText("Say what the action is and who owns it.")
            self.problem.show()
            return
        self.accept()

    def action_input(self, meeting_id: int | None) -> ActionInput:
        return ActionInput(self.text.toPlainText().strip(), self.owner.currentText().strip(),
                           py_date(self.due.date()),
                           self.nominal.currentText().strip() or None, meeting_id)



class PackDialog(QDialog):
    """Build the meeting pack: recipient, justification and destination; written off the UI
    thread with progress; shows the SHA-256 when done. The pack is audited as a disclosure.

    With ``printing`` the pack is laid out in memory instead (no destination, no file), the
    print dialog is shown, and the print is audited as a disclosure before a page is sent."""

    finished_pack = Signal(object)

    def __init__(self, services: Services, detail: MeetingDetail, today: date,
                 parent: QWidget | None = None, *, media: list[Path] | None = None,
                 printing: bool = False) -> None:
        super().__init__(parent)
        self.services = services
        self.detail = detail
        self.today = today
        self.printing = printing
        self.op: Operation | None = None
        self.result_path: Path | None = None
        self.sha256 = ""
        self.pages_printed = 0
        # Tests replace how the print dialog is run (see ui.views.exports.print_pdf).
        self.exec_print: Callable[[Any], bool] | None = None
        self.setWindowTitle(f"{'Print the meeting pack' if printing else 'Meeting pack'}"
                            f" — {detail.ref}")
        self.setMinimumWidth(600)
        self.recipient = QComboBox()
        self.recipient.setEditable(True)
        self.recipient.setAccessibleName("Recipient")
        self.recipient.addItems(recent_recipients(services.prefs.settings))
        self.recipient.setCurrentText("")
        self.justification = QPlainTextEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setTabChangesFocus(True)
        self.justification.setFixedHeight(64)
        self.justification.setPlaceholderText("Why it is disclosed; kept in the audit log")
        self.folder = QComboBox()
        self.folder.setEditable(True)
        self.folder.setAccessibleName("Destination folder")
        for m in (media if media is not None else removable_media()):
            self.folder.addItem(str(m))
        self.folder.addItem(str(Path.home()))
        self.name = QLineEdit(f"pack-{detail.ref}-{detail.row.starts_at:%Y%m%d}.pdf")
        self.name.setAccessibleName("File name")
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.progress = QProgressBar()
        self.progress.hide()
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.hide()
        form = QFormLayout()
        form.addRow("&Recipient", self.recipient)
        form.addRow("&Justification", self.justification)
        if not printing:
            form.addRow("&Destination", self.folder)
            form.addRow("File &name", self.name)
        hint = QLabel(
            f"Marked {services.marking} on every page. The pack is laid out in memory (no "
            "file is written) and the print is recorded in the audit log as a disclosure "
            "before any page is sent." if printing else
            f"Marked {services.marking} on every page; a .sha256 file is written beside it "
            "and the disclosure is recorded in the audit log.")
        hint.setWordWrap(True)
        hint.setObjectName("Hint")
        self.buttons, self.build_button, self.cancel_button, self.close_button = run_buttons(
            "&Print…" if printing else "&Build pack", self.start, self._cancel, self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.problem)
        layout.addWidget(self.progress)
        layout.addWidget(self.outcome)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def target(self) -> Path:
        return Path(self.folder.currentText().strip()).expanduser() / self.name.text().strip()

    def _fail(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def start(self) -> Operation | None:
        self.problem.hide()
        recipient = self.recipient.currentText().strip()
        justification = self.justification.toPlainText().strip()
        name = self.name.text().strip()
        if not recipient:
            self._fail("Say who will receive the pack (the recipient is required).")
            self.recipient.setFocus()
            return None
        if not justification:
            self._fail("Say why the pack is disclosed (the justification is required).")
            self.justification.setFocus()
            return None
        if self.printing:
            return self._start_print(recipient, justification)
        if not name or "/" in name:
            self._fail("Give the pack a file name.")
            self.name.setFocus()
            return None
        target = self.target()
        if not target.parent.is_dir():
            self._fail("The destination folder does not exist (is the media connected?).")
            return None
        if target.exists() and not self.services.dialogs.confirm(
                self, "Replace the file?", f"{target.name} already exists. Replace it?",
                "Replace"):
            return None
        if target.exists():
            target.unlink()
            target.with_name(target.name + ".sha256").unlink(missing_ok=True)
        packs, key, today = self.services.get(PackService), self.detail.id, self.today

        def work(ctx: OpContext) -> object:
            return packs.export_pack(key, target, recipient=recipient,
                                     justification=justification, today=today,
                                     progress=OpProgressSink(ctx))

        self._busy(True)
        self.op = self.services.ops.start(
            "pack", work, on_result=lambda r: self._done(r, recipient), on_error=self._error,
            on_bug=self._error, on_progress=self._progress)
        return self.op

    def _start_print(self, recipient: str, justification: str) -> Operation:
        packs, key, today = self.services.get(PackService), self.detail.id, self.today

        def work(ctx: OpContext) -> PrintablePack:
            return packs.printable_pack(key, recipient=recipient, today=today,
                                        progress=OpProgressSink(ctx))

        def printed(pack: PrintablePack) -> None:  # the page count stays on self.pages_printed
            self._print(pack, justification)

        self._busy(True)
        self.op = self.services.ops.start(
            "print-pack", work, on_result=printed,
            on_error=self._error, on_bug=self._error, on_progress=self._progress)
        return self.op

    def _print(self, pack: PrintablePack, justification: str) -> int:
        """The pack is ready in memory: the print dialog, then the audit, then the pages."""
        self.op = None
        self.progress.hide()
        packs = self.services.get(PackService)

        def audit(pages: int) -> None:
            packs.record_print(pack, justification=justification, pages=pages)

        try:
            pages = print_pdf(self, pack.pdf, self.services.dialogs, self.exec_print,
                              doc_name=f"Meeting pack {pack.meeting_ref}", before_print=audit)
        except CasewardError as exc:
            self._error(exc)
            return 0
        if not pages:
            self._busy(False)
            self._fail("Not printed (the print dialog was cancelled); nothing was recorded.")
            return 0
        self.pages_printed = pages
        self.sha256 = pack.sha256
        remember_recipient(self.services.prefs.settings, pack.recipient)
        self.outcome.setText(f"Printed {pages} page(s) for {pack.recipient}, each marked "
                             f"{self.services.marking}.\nThe print is recorded in the audit "
                             "log as a disclosure.")
        self.outcome.show()
        show_done(self.build_button, self.cancel_button, self.close_button)
        return pages

    def _busy(self, busy: bool) -> None:
        for w in (self.recipient, self.justification, self.folder, self.name,
                  self.build_button):
            w.setEnabled(not busy)
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)

    def _progress(self, done: int, total: int) -> None:
        show_progress(self.progress, done, total)

    def _done(self, result: object, recipient: str) -> None:
        self.op = None
        path: Path = getattr(result, "path")  # noqa: B009 - ExportResult
        self.result_path = path
        self.sha256 = str(getattr(result, "sha256"))  # noqa: B009
        remember_recipient(self.services.prefs.settings, recipient)
        self.progress.hide()
        self.outcome.setText(f"Written: {path.name} ({getattr(result, 'size', 0):,} bytes).\n"
                             f"SHA-256: {self.sha256}\nThe disclosure is recorded in the "
                             "audit log.")
        self.outcome.show()
        show_done(self.build_button, self.cancel_button, self.close_button)
        self.finished_pack.emit(path)

    def _error(self, exc: CasewardError | str) -> None:
        self.op = None
        self._busy(False)
        self._fail(str(exc))

    def _cancel(self) -> None:
        if self.op is not None:
            self.op.cancel()
            self.op = None
            self._busy(False)
            self._fail("Pack cancelled; nothing was written or printed.")
            return
        self.reject()


class MeetingEditor(QWidget):
    """One meeting: details and attendees, agenda with minutes per item, actions raised."""

    saved = Signal(object)

    def __init__(self, services: Services, lists: MeetingLists, today: Today,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.meetings = services.get(MeetingService)
        self.today = today
        self.detail: MeetingDetail | None = None
        self.suggest_dialog: SuggestDialog | None = None
        self.action_dialog: ActionDialog | None = None
        self.pack_dialog: PackDialog | None = None
        writable = services.can(Perm.MEETING_WRITE)

        self.title = QLabel("New meeting")
        self.title.setObjectName("CardTitle")
        self.title.setWordWrap(True)
        self.kind = code_combo([(t.code, t.label) for t in lists.meeting_types.values()],
                               name="Meeting type")
        self.when = datetime_edit(datetime.combine(today(), datetime.min.time()).replace(
            hour=10), name="Date and time")
        self.chair = QLineEdit()
        self.chair.setAccessibleName("Chair")
        self.location = QLineEdit()
        self.location.setAccessibleName("Location")
        self.status = code_combo([(s.value, s.value.capitalize()) for s in MeetingStatus],
                                 name="Status")
        for combo in (self.kind, self.status):
            # The longest meeting type must not squeeze Attendees into a sliver.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        self.attendees = QPlainTextEdit()
        self.attendees.setAccessibleName("Attendees")
        self.attendees.setTabChangesFocus(True)
        self.attendees.setPlaceholderText("One a line: Name; Agency; Role")
        self.attendees.setMinimumHeight(60)
        self.attendees.setMinimumWidth(150)
        # Why every button is greyed out for a role that may only read.
        self.read_only_note = message_label("InfoBox", "" if writable else READ_ONLY)
        self.read_only_note.setAccessibleName("Read-only note")
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.save_button = QPushButton("&Save meeting")
        self.save_button.clicked.connect(self.save)
        self.pack_button = QPushButton("Build &pack…")
        self.pack_button.setToolTip("Write the meeting pack PDF to removable media")
        self.pack_button.clicked.connect(self.open_pack)
        self.print_button = QPushButton("Print pac&k…")
        self.print_button.setToolTip("Print the meeting pack (no file is written)")
        self.print_button.clicked.connect(self.print_pack)

        grid = QGridLayout()
        fields = (("&Type", self.kind), ("&When", self.when), ("C&hair", self.chair),
                  ("&Location", self.location), ("Stat&us", self.status))
        for row, (text, widget) in enumerate(fields):
            label = QLabel(text)
            label.setBuddy(widget)
            grid.addWidget(label, row, 0)
            grid.addWidget(widget, row, 1)
        attendees_label = QLabel("&Attendees")
        attendees_label.setBuddy(self.attendees)
        grid.addWidget(attendees_label, 0, 2)
        grid.addWidget(self.attendees, 1, 2, 4, 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        grid.setColumnMinimumWidth(2, 150)

        # Agenda and minutes.
        self.agenda_model = AgendaTableModel()
        self.agenda = table_view(self.agenda_model, "Agenda", sortable=False)
        header = self.agenda.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.agenda.selectionModel().selectionChanged.connect(self._on_item)
        self.add_nominal_button = QPushButton("Add &nominal…")
        self.add_nominal_button.clicked.connect(self.ask_nominal)
        self.suggest_button = QPushButton("Su&ggest…")
        self.suggest_button.setToolTip("Nominals with overdue contacts, ending orders, new "
                                       "records or data-quality faults")
        self.suggest_button.clicked.connect(self.open_suggestions)
        self.add_item_button = QPushButton("Other &business…")
        self.add_item_button.clicked.connect(self.ask_item)
        self.remove_item_button = QPushButton("&Remove item")
        self.remove_item_button.clicked.connect(self.remove_item)
        agenda_buttons = QHBoxLayout()
        for b in (self.add_nominal_button, self.suggest_button, self.add_item_button):
            agenda_buttons.addWidget(b)
        agenda_buttons.addStretch(1)
        hold_width(self.add_nominal_button, self.suggest_button, self.add_item_button,
                   self.remove_item_button)

        self.item_label = QLabel("Choose an agenda item to minute it.")
        self.item_label.setWordWrap(True)
        self.minutes = QPlainTextEdit()
        self.minutes.setAccessibleName("Minutes")
        self.minutes.setTabChangesFocus(True)
        self.minutes.setPlaceholderText("Minutes of this item")
        self.decisions = QPlainTextEdit()
        self.decisions.setAccessibleName("Decisions")
        self.decisions.setTabChangesFocus(True)
        self.decisions.setPlaceholderText("Decisions")
        self.save_minutes_button = QPushButton("Save &minutes")
        self.save_minutes_button.clicked.connect(self.save_minutes)
        minutes_box = QWidget()
        mlay = QVBoxLayout(minutes_box)
        mlay.setContentsMargins(0, 0, 0, 0)
        mlay.addWidget(self.item_label)
        mlay.addWidget(self.minutes, 2)
        mlay.addWidget(self.decisions, 1)
        item_buttons = QHBoxLayout()  # what acts on the chosen item sits with its minutes
        item_buttons.addWidget(self.remove_item_button)
        item_buttons.addStretch(1)
        item_buttons.addWidget(self.save_minutes_button)
        mlay.addLayout(item_buttons)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self.agenda)
        split.addWidget(minutes_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([600, 260])
        agenda_page = QWidget()
        alay = QVBoxLayout(agenda_page)
        alay.setContentsMargins(0, 0, 0, 0)
        alay.addWidget(split, 1)
        alay.addLayout(agenda_buttons)

        # Actions raised at this meeting.
        self.actions_model = ActionsTableModel()
        self.actions_table = table_view(self.actions_model, "Actions raised", sortable=False)
        raised = self.actions_table.horizontalHeader()
        raised.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        raised.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.add_action_button = QPushButton("New &action…")
        self.add_action_button.clicked.connect(self.open_action)
        actions_box = QWidget()
        aclay = QVBoxLayout(actions_box)
        aclay.addWidget(self.actions_table, 1)
        aclay.addWidget(self.add_action_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.tabs = QTabWidget()
        self.tabs.addTab(agenda_page, "Agenda and minutes")
        self.tabs.addTab(actions_box, "Actions raised")

        hold_width(self.save_button, self.pack_button, self.print_button,
                   self.save_minutes_button, self.add_action_button)
        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(self.save_button)
        top.addWidget(self.pack_button)
        top.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.read_only_note)
        layout.addLayout(grid)
        layout.addWidget(self.problem)
        layout.addWidget(self.tabs, 1)
        self.writable = writable
        explain(self.save_button, writable, READ_ONLY)
        for field in (self.chair, self.location):
            field.setReadOnly(not writable)
        for box in (self.attendees, self.minutes, self.decisions):
            box.setReadOnly(not writable)
        self.kind.setEnabled(writable)
        self.when.setEnabled(writable)
        self.clear()

    # -- loading -------------------------------------------------------------------------
    def clear(self) -> None:
        """Ready for a new meeting."""
        self.detail = None
        self.title.setText("New meeting" if self.writable else "No meeting chosen")
        self.kind.setEnabled(self.writable)
        self.chair.clear()
        self.location.clear()
        self.attendees.clear()
        set_combo_code(self.status, MeetingStatus.PLANNED.value)
        self.agenda_model.set_rows([])
        self.actions_model.set_rows([])
        self._set_record_buttons(False)
        self._on_item()
        self.problem.hide()

    def _set_record_buttons(self, on: bool) -> None:
        """Enable what applies to a saved meeting; a disabled button's tool tip says why."""
        why = READ_ONLY if not self.writable else CHOOSE_FIRST
        tips = {self.suggest_button: "Nominals with overdue contacts, ending orders, new "
                                     "records or data-quality faults"}
        for w in (self.add_nominal_button, self.suggest_button, self.add_item_button,
                  self.add_action_button):
            explain(w, on and self.writable, why, tips.get(w, ""))
        can_export = self.services.can(Perm.EXPORT)
        explain(self.pack_button, on and can_export, CHOOSE_FIRST if can_export else NO_EXPORT,
                "Write the meeting pack PDF to removable media")
        explain(self.print_button, on and can_export, CHOOSE_FIRST if can_export else NO_EXPORT,
                "Print the meeting pack (no file is written)")
        self.status.setEnabled(on and self.writable)

    def load(self, detail: MeetingDetail) -> None:
        self.detail = detail
        row = detail.row
        carried = f" — {detail.carried_now} overdue action(s) carried onto the agenda" if (
            detail.carried_now) else ""
        self.title.setText(f"{row.ref} · {row.type_label}{carried}")
        set_combo_code(self.kind, row.meeting_type)
        self.kind.setEnabled(False)  # the type decides the standing items: fixed once made
        self.when.setDateTime(datetime_edit(row.starts_at).dateTime())
        self.chair.setText(row.chair)
        self.location.setText(row.location)
        set_combo_code(self.status, row.status)
        self.attendees.setPlainText("\n".join(
            "; ".join(p for p in (a.name, a.agency, a.role) if p) for a in detail.attendees))
        self.agenda_model.set_rows(detail.agenda)
        self.actions_model.set_rows(detail.actions)
        self._set_record_buttons(True)
        self._on_item()
        self.problem.hide()

    def reload(self) -> None:
        if self.detail is not None:
            ok, detail = guarded(self.services, self, None, lambda: self.meetings.show(
                self.detail.id if self.detail else 0, today=self.today()))
            if ok:
                self.load(detail)
                self.saved.emit(detail)

    # -- saving --------------------------------------------------------------------------
    def _show_problem(self, exc: CasewardError) -> None:
        self.problem.setText(str(exc))
        self.problem.show()

    def save(self) -> MeetingDetail | None:
        self.problem.hide()
        if not self.chair.text().strip():
            self.problem.setText("Chair is required.")
            self.problem.show()
            self.chair.setFocus()
            return None
        attendees = parse_attendees(self.attendees.toPlainText())
        try:
            if self.detail is None:
                detail = self.meetings.add(MeetingInput(
                    combo_code(self.kind), py_datetime(self.when), self.chair.text().strip(),
                    self.location.text().strip(), tuple(attendees)), today=self.today())
            else:
                detail = self.meetings.update(
                    self.detail.id, chair=self.chair.text(), location=self.location.text(),
                    starts_at=py_datetime(self.when), status=combo_code(self.status),
                    attendees=attendees)
        except CasewardError as exc:
            self._show_problem(exc)
            return None
        self.load(detail)
        self.saved.emit(detail)
        return detail

    # -- agenda --------------------------------------------------------------------------
    def current_item(self) -> AgendaItemInfo | None:
        rec = selected_record(self.agenda)
        return rec if isinstance(rec, AgendaItemInfo) else None

    def _on_item(self, *_args: QItemSelection) -> None:
        item = self.current_item()
        enabled = item is not None and self.writable
        for w in (self.minutes, self.decisions):
            w.setEnabled(item is not None)
        why = READ_ONLY if not self.writable else "Choose an agenda item first."
        explain(self.save_minutes_button, enabled, why)
        explain(self.remove_item_button, enabled, why)
        if item is None:
            self.item_label.setText("Choose an agenda item to minute it.")
            self.minutes.clear()
            self.decisions.clear()
            return
        note = agenda_note(item)
        self.item_label.setText(f"<b>{esc(agenda_title(item))}</b>"
                                + (f"<br><i>{esc(note)}</i>" if note else ""))
        self.minutes.setPlainText(item.minutes)
        self.decisions.setPlainText(item.decisions)

    def select_item(self, item_id: int) -> bool:
        for row, item in enumerate(self.agenda_model.rows()):
            if item.id == item_id:
                self.agenda.selectRow(row)
                return True
        return False

    def add_picks(self, picks: list[NominalPick]) -> list[str]:
        if self.detail is None or not picks:
            return []
        ok, added = guarded(self.services, self, None,
                            lambda: self.meetings.add_nominals(self.detail.id if self.detail
                                                               else 0, picks))
        self.reload()
        return list(added) if ok else []

    def ask_nominal(self) -> None:
        ref = self.services.dialogs.ask_text(self, "Add a nominal",
                                             "Nominal reference to discuss (e.g. NM-000012):")
        if ref and ref.strip():
            self.add_picks([NominalPick(ref.strip().upper())])

    def open_suggestions(self) -> SuggestDialog | None:
        if self.detail is None:
            return None
        ok, found = guarded(self.services, self, None, lambda: self.meetings.suggest_nominals(
            self.detail.id if self.detail else 0, today=self.today()))
        if not ok:
            return None
        dialog = SuggestDialog(found, self)
        dialog.accepted.connect(lambda: self.add_picks(dialog.picks()))
        self.suggest_dialog = dialog
        dialog.open()
        return dialog

    def ask_item(self) -> None:
        if self.detail is None:
            return
        title = self.services.dialogs.ask_text(self, "Other business", "Item title:")
        if title and title.strip():
            guarded(self.services, self, None, lambda: self.meetings.add_item(
                self.detail.id if self.detail else 0, title.strip()))
            self.reload()

    def remove_item(self) -> None:
        item = self.current_item()
        if item is None or not self.services.dialogs.confirm(
                self, "Remove the item?", "Take this item off the agenda? Its minutes go "
                "with it (a revision keeps them).", "Remove"):
            return
        guarded(self.services, self, None, lambda: self.meetings.remove_item(item.id))
        self.reload()

    def save_minutes(self) -> bool:
        item = self.current_item()
        if item is None:
            return False
        ok, _ = guarded(self.services, self, None, lambda: self.meetings.record_minutes(
            item.id, self.minutes.toPlainText(), self.decisions.toPlainText()))
        if ok:
            self.reload()
            self.select_item(item.id)
        return bool(ok)

    # -- actions and pack ----------------------------------------------------------------
    def open_action(self) -> ActionDialog | None:
        if self.detail is None:
            return None
        nominals = [i.nominal_ref for i in self.detail.agenda if i.nominal_ref]
        ok, owners = guarded(self.services, self, None, self.meetings.owners)
        dialog = ActionDialog(list(dict.fromkeys(nominals)), self.today(),
                              owners if ok else [], self)
        dialog.accepted.connect(lambda: self._add_action(dialog))
        self.action_dialog = dialog
        dialog.open()
        return dialog

    def _add_action(self, dialog: ActionDialog) -> None:
        ok, _ = guarded(self.services, self, None, lambda: self.meetings.add_action(
            dialog.action_input(self.detail.id if self.detail else None)))
        if ok:
            self.reload()
            self.tabs.setCurrentIndex(1)

    def open_pack(self) -> PackDialog | None:
        if self.detail is None:
            return None
        dialog = PackDialog(self.services, self.detail, self.today(), self)
        self.pack_dialog = dialog
        dialog.open()
        return dialog

    def print_pack(self) -> PackDialog | None:
        if self.detail is None:
            return None
        dialog = PackDialog(self.services, self.detail, self.today(), self, printing=True)
        self.pack_dialog = dialog
        dialog.open()
        return dialog


class MeetingsArea(QWidget):
    """The list of meetings beside the editor of the chosen one."""

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 today: Today | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.meetings = services.get(MeetingService)
        self.today: Today = today or date.today
        self.lists = self.meetings.lists()
        self.model = MeetingsTableModel()
        self.proxy = sorted_proxy(self.model)
        self.view = table_view(self.proxy, "Meetings")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((1, 138), (3, 120), (4, 64)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for hidden in (0, 5, 6):
            self.view.setColumnHidden(hidden, True)
        self.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        self.type_filter = code_combo([(t.code, t.label)
                                       for t in self.lists.meeting_types.values()],
                                      placeholder="All meeting types", name="Meeting type filter")
        self.type_filter.currentIndexChanged.connect(self.refresh)
        self.type_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_filter.setMinimumContentsLength(10)
        self.upcoming = QCheckBox("&Upcoming only")
        self.upcoming.toggled.connect(self.refresh)
        self.new_button = QPushButton("&New meeting")
        explain(self.new_button, services.can(Perm.MEETING_WRITE), READ_ONLY)
        self.new_button.clicked.connect(self.new_meeting)
        self.editor = MeetingEditor(services, self.lists, self.today)
        self.editor.saved.connect(self._on_saved)
        self.view.selectionModel().selectionChanged.connect(self._on_select)

        filters = QHBoxLayout()
        filters.addWidget(self.type_filter, 1)
        filters.addWidget(self.upcoming)
        left = QWidget()
        llay = QVBoxLayout(left)
        llay.setContentsMargins(0, 0, 0, 0)
        llay.addLayout(filters)
        llay.addWidget(self.view, 1)
        llay.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignLeft)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(left)
        split.addWidget(self.editor)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([480, 600])  # the list keeps its four columns at 1280 px
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Meetings", "Nominal management meetings, agendas, minutes "
                                 "and packs"))
        layout.addWidget(split, 1)
        self.refresh()

    def refresh(self) -> None:
        kind = combo_code(self.type_filter) or None
        start = self.today() if self.upcoming.isChecked() else None
        ok, rows = guarded(self.services, self, None, lambda: self.meetings.meetings(
            meeting_type=kind, date_from=start))
        if ok:
            self.model.set_rows(rows)

    def new_meeting(self) -> None:
        self.view.clearSelection()
        self.editor.clear()
        self.editor.chair.setFocus()

    def open_meeting(self, key: int | str) -> MeetingDetail | None:
        ok, detail = guarded(self.services, self, None,
                             lambda: self.meetings.show(key, today=self.today()))
        if not ok:
            return None
        self.editor.load(detail)
        if detail.carried_now:
            self.refresh()
        return detail  # type: ignore[no-any-return]

    def _on_select(self, *_args: QItemSelection) -> None:
        rec = selected_record(self.view)
        if rec is not None:
            self.open_meeting(getattr(rec, "id"))  # noqa: B009

    def _on_saved(self, detail: MeetingDetail) -> None:
        self.view.selectionModel().blockSignals(True)
        self.refresh()
        select_where(self.view, lambda rec: rec.id == detail.id)
        self.view.selectionModel().blockSignals(False)

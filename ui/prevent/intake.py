"""Referral intake: received, referrer, subject with a live duplicate check, concern,
institutions, summary, attachments as text notes, and the immediate-risk flag."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.prevent import (
    MAX_SHORT,
    InstitutionInput,
    PreventLists,
    ReferralInput,
    SubjectInput,
)
from app.services.institutions import InstitutionRow, InstitutionService
from app.services.referrals import ReferralService, SubjectMatch
from ui.prevent.common import (
    FormErrors,
    choices,
    code_combo,
    combo_code,
    datetime_edit,
    guarded,
    plain_text_edit,
    py_datetime,
    uk_date,
)
from ui.prevent.models import RECORD_ROLE, SubjectMatchTableModel
from ui.services import Services
from ui.widgets import (
    FieldError,
    heading,
    isolate,
    message_label,
    record_table,
    with_error,
)

DEBOUNCE_MS = 250
_ID_ROLE = Qt.ItemDataRole.UserRole


def parse_uk_date(text: str) -> date | None:
    """``23/11/2026`` (or with - or .) -> a date; raises ValueError when it is not one."""
    parts = text.strip().replace("-", "/").replace(".", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        raise ValueError("not dd/mm/yyyy")
    return date(int(parts[2]), int(parts[1]), int(parts[0]))


def _labelled(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class NewInstitutionDialog(QDialog):
    """Add an institution to the register (name, type, area)."""

    def __init__(self, services: Services, lists: PreventLists, name: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.created: InstitutionRow | None = None
        self.setWindowTitle("New institution")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.general = message_label("ErrorBox")
        self.errors = FormErrors(self.general)
        form = QFormLayout()
        self.name = QLineEdit(name)
        self.name.setAccessibleName("Institution name")
        name_error = FieldError()
        form.addRow(_labelled("&Name:", self.name), with_error(self.name, name_error))
        self.errors.add("institution.name", self.name, name_error, "The name", required=True)
        self.type = code_combo(choices(lists, "institution_types"), placeholder="Choose a type",
                               name="Institution type")
        type_error = FieldError()
        form.addRow(_labelled("&Type:", self.type), with_error(self.type, type_error))
        self.errors.add("institution.type", self.type, type_error, "The type", required=True)
        self.area = QLineEdit()
        self.area.setAccessibleName("Area")
        self.area.setPlaceholderText("Town or local authority area")
        form.addRow(_labelled("&Area:", self.area), self.area)
        layout.addLayout(form)
        layout.addWidget(self.general)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def submit(self) -> None:
        if not self.errors.validate():
            return
        service = self.services.get(InstitutionService)
        ok, row = guarded(self.services, self, self.errors, lambda: service.add(InstitutionInput(
            self.name.text(), combo_code(self.type), self.area.text())))
        if ok:
            self.created = row
            self.accept()


class InstitutionPicker(QWidget):
    """Search the register, pick institutions (Enter adds), or create a new one."""

    changed = Signal()

    def __init__(self, services: Services, lists: PreventLists,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.lists = lists
        self.service = services.get(InstitutionService)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type to search the register; Down then Enter adds")
        self.search.setAccessibleName("Search institutions")
        self.search.setClearButtonEnabled(True)
        row.addWidget(self.search, 1)
        self.new_button = QPushButton("Ne&w institution…")
        self.new_button.clicked.connect(self.create_new)
        row.addWidget(self.new_button)
        layout.addLayout(row)
        self.results = QListWidget()
        self.results.setAccessibleName("Institutions found")
        self.results.setMaximumHeight(86)
        self.results.hide()
        layout.addWidget(self.results)
        self.chosen = QListWidget()
        self.chosen.setAccessibleName("Linked institutions (Delete removes)")
        self.chosen.setMaximumHeight(70)
        self.chosen.hide()
        layout.addWidget(self.chosen)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._do_search)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self._add_first)
        self.results.itemActivated.connect(self._add_item)
        self.search.installEventFilter(self)
        self.chosen.installEventFilter(self)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.KeyPress:
            if watched is self.search and event.key() == Qt.Key.Key_Down and self.results.count():
                self.results.setFocus()
                self.results.setCurrentRow(0)
                return True
            if watched is self.chosen and event.key() in (Qt.Key.Key_Delete,
                                                          Qt.Key.Key_Backspace):
                row = self.chosen.currentRow()
                if row >= 0:
                    self.chosen.takeItem(row)
                    self.chosen.setVisible(self.chosen.count() > 0)
                    self.changed.emit()
                return True
        return False

    def _do_search(self) -> None:
        text = self.search.text().strip()
        self.results.clear()
        if not text:
            self.results.hide()
            return
        ok, rows = guarded(self.services, self, None, lambda: self.service.search(text, limit=8))
        for r in rows or []:
            self._item(self.results, r)
        self.results.setVisible(bool(rows))

    def _item(self, target: QListWidget, r: InstitutionRow) -> None:
        kind = self.lists.label("institution_types", r.type)
        item = QListWidgetItem(f"{r.name} — {kind}" + (f", {r.area}" if r.area else ""))
        item.setData(_ID_ROLE, r.id)
        target.addItem(item)

    def _add_first(self) -> None:
        self._timer.stop()
        self._do_search()
        if self.results.count():
            self._add_item(self.results.item(0))

    def _add_item(self, item: QListWidgetItem) -> None:
        iid = int(item.data(_ID_ROLE))
        if iid not in self.ids():
            chosen = QListWidgetItem(item.text())
            chosen.setData(_ID_ROLE, iid)
            self.chosen.addItem(chosen)
            self.chosen.show()
            self.changed.emit()
        self.search.clear()
        self.search.setFocus()

    def add(self, row: InstitutionRow) -> None:
        self._item(self.results, row)
        item = self.results.item(self.results.count() - 1)
        self._add_item(item)

    def create_new(self) -> None:
        dialog = NewInstitutionDialog(self.services, self.lists, self.search.text().strip(),
                                      self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.created is not None:
            self.add(dialog.created)

    def ids(self) -> list[int]:
        return [int(self.chosen.item(i).data(_ID_ROLE)) for i in range(self.chosen.count())]


class ReferralIntakeForm(QWidget):
    """A new referral. ``saved(ref)`` once stored; ``cancelled`` on Escape / Cancel."""

    saved = Signal(str)
    cancelled = Signal()

    def __init__(self, services: Services, lists: PreventLists,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.lists = lists
        self.referrals = services.get(ReferralService)
        self.linked: SubjectMatch | None = None
        self.notes: list[tuple[str, str]] = []
        self._check_seq = 0
        self.checking = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 18, 28, 12)
        outer.setSpacing(8)
        outer.addWidget(heading(
            "New referral",
            "Fields marked * are required. Possible matches for the subject appear as you "
            "type. Ctrl+S saves; Escape goes back to the queue."))
        self.general = message_label("ErrorBox")
        self.errors = FormErrors(self.general)
        outer.addWidget(self.general)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget()
        columns = QHBoxLayout(body)
        columns.setContentsMargins(0, 0, 8, 0)
        columns.setSpacing(16)
        left = QVBoxLayout()
        right = QVBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        # -- received and referrer --------------------------------------------------------
        received_box = QGroupBox("Received from")
        form = QFormLayout(received_box)
        self.received = datetime_edit(name="Received date and time")
        received_error = FieldError()
        form.addRow(_labelled("&Received *:", self.received),
                    with_error(self.received, received_error))
        self.errors.add("received", self.received, received_error, "The received time",
                        self._check_received)
        self.received.dateTimeChanged.connect(lambda _v: self.errors.recheck("received"))
        self.referrer = QLineEdit()
        self.referrer.setAccessibleName("Referrer name")
        self.referrer.setPlaceholderText("Who made the referral")
        form.addRow(_labelled("Re&ferrer:", self.referrer), self.referrer)
        self.organisation = QLineEdit()
        self.organisation.setAccessibleName("Referrer organisation")
        form.addRow(_labelled("&Organisation:", self.organisation), self.organisation)
        self.sector = code_combo(choices(lists, "source_sectors"), placeholder="Choose a sector",
                                 name="Source sector")
        sector_error = FieldError()
        form.addRow(_labelled("Source s&ector *:", self.sector),
                    with_error(self.sector, sector_error))
        self.errors.add("source_sector", self.sector, sector_error, "The source sector",
                        required=True)
        left.addWidget(received_box)

        # -- subject ----------------------------------------------------------------------
        subject_box = QGroupBox("Subject")
        sform = QFormLayout(subject_box)
        self.surname = QLineEdit()
        self.surname.setAccessibleName("Subject surname")
        surname_error = FieldError()
        sform.addRow(_labelled("S&urname *:", self.surname),
                     with_error(self.surname, surname_error))
        self.errors.add("subject.surname", self.surname, surname_error, "The surname",
                        self._check_surname)
        self.forenames = QLineEdit()
        self.forenames.setAccessibleName("Subject forenames")
        sform.addRow(_labelled("Fore&names:", self.forenames), self.forenames)
        self.dob = QLineEdit()
        self.dob.setAccessibleName("Subject date of birth")
        self.dob.setPlaceholderText("dd/mm/yyyy, or leave empty if not known")
        dob_error = FieldError()
        sform.addRow(_labelled("Date of &birth:", self.dob), with_error(self.dob, dob_error))
        self.errors.add("subject.dob", self.dob, dob_error, "The date of birth", self._check_dob)
        self.area = QLineEdit()
        self.area.setAccessibleName("Area")
        self.area.setPlaceholderText("Where the subject lives (town or LA area)")
        area_error = FieldError()
        sform.addRow(_labelled("Ar&ea:", self.area), with_error(self.area, area_error))
        self.errors.add("area", self.area, area_error, "The area")
        left.addWidget(subject_box)
        # The service's limit, enforced as typed: a longer paste is cut, not refused at Save.
        for short in (self.referrer, self.organisation, self.surname, self.forenames,
                      self.area):
            short.setMaxLength(MAX_SHORT)

        match_box = QGroupBox("Possible matches")
        mlay = QVBoxLayout(match_box)
        self.match_status = QLabel("Type a surname to check for people already known.")
        self.match_status.setObjectName("Hint")
        self.match_status.setWordWrap(True)
        mlay.addWidget(self.match_status)
        self.match_model = SubjectMatchTableModel(self)
        self.matches = record_table(self.match_model, "Possible matches", row_height=30,
                                    stretch_last=True)
        self.matches.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.matches.setMinimumHeight(110)
        self.matches.hide()
        self.matches.activated.connect(lambda _i: self.link_selected())
        mlay.addWidget(self.matches)
        link_row = QHBoxLayout()
        self.link_button = QPushButton("&Link to this person")
        self.link_button.setToolTip("Use the selected record as the subject (Enter in the list)")
        self.link_button.clicked.connect(self.link_selected)
        self.link_button.hide()
        link_row.addWidget(self.link_button)
        link_row.addStretch(1)
        mlay.addLayout(link_row)
        self.linked_label = message_label("InfoBox")
        mlay.addWidget(self.linked_label)
        self.unlink_button = QPushButton("Unlin&k")
        self.unlink_button.clicked.connect(self.unlink)
        self.unlink_button.hide()
        mlay.addWidget(self.unlink_button, 0, Qt.AlignmentFlag.AlignLeft)
        right.addWidget(match_box)

        # -- concern, institutions, summary, notes ----------------------------------------
        concern_box = QGroupBox("Concern")
        cform = QFormLayout(concern_box)
        self.concern = code_combo(choices(lists, "concern_types"),
                                  placeholder="Choose a concern type", name="Concern type")
        concern_error = FieldError()
        cform.addRow(_labelled("&Concern type *:", self.concern),
                     with_error(self.concern, concern_error))
        self.errors.add("concern_type", self.concern, concern_error, "The concern type",
                        required=True)
        self.institutions = InstitutionPicker(services, lists)
        inst_label = _labelled("&Institutions:", self.institutions.search)
        cform.addRow(inst_label, self.institutions)
        self.summary = plain_text_edit("Summary", lines=5,
                                       placeholder="What the referrer is worried about, and why")
        summary_error = FieldError()
        cform.addRow(_labelled("Su&mmary *:", self.summary),
                     with_error(self.summary, summary_error))
        self.errors.add("summary", self.summary, summary_error, "The summary", required=True)
        left.addWidget(concern_box)
        left.addStretch(1)

        notes_box = QGroupBox("Attachments (as text notes)")
        nlay = QFormLayout(notes_box)
        self.note_title = QLineEdit()
        self.note_title.setAccessibleName("Note title")
        self.note_title.setPlaceholderText("e.g. Referral form, school log extract")
        self.note_title.setMaxLength(MAX_SHORT)
        nlay.addRow(_labelled("No&te title:", self.note_title), self.note_title)
        self.note_text = plain_text_edit("Note text", lines=3)
        note_error = FieldError()
        nlay.addRow(_labelled("Note te&xt:", self.note_text),
                    with_error(self.note_text, note_error))
        self._note_error = note_error
        self.add_note_button = QPushButton("&Add note")
        self.add_note_button.clicked.connect(self.add_note)
        self.note_list = QListWidget()
        self.note_list.setAccessibleName("Notes to attach")
        self.note_list.setMaximumHeight(64)
        self.note_list.hide()
        nlay.addRow("", self.add_note_button)
        nlay.addRow("", self.note_list)
        right.addWidget(notes_box)

        risk_box = QGroupBox("Immediate risk")
        rlay = QVBoxLayout(risk_box)
        self.immediate = QCheckBox("&Immediate risk (999 / Pursue): show this referral first, "
                                   "in red, in every list")
        self.immediate.setAccessibleName("Immediate risk")
        rlay.addWidget(self.immediate)
        # Text set after the label has a parent: a parentless visible label is a window.
        self.risk_note = message_label("BadBanner")
        rlay.addWidget(self.risk_note)
        self.risk_note.setText(
            "Immediate risk: call 999 if life is at risk now, and tell the duty officer. The "
            "referral goes to the top of every list.")
        self.risk_note.hide()
        self.immediate.toggled.connect(self.risk_note.setVisible)
        right.addWidget(risk_box)
        right.addStretch(1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelled)
        self.save_button = QPushButton("&Save referral")
        self.save_button.setProperty("primary", True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        QShortcut(QKeySequence("Ctrl+S"), self, self.save,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancelled.emit,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        # Tab runs down the left column, then the right, then Save.
        order = [self.received, self.referrer, self.organisation, self.sector, self.surname,
                 self.forenames, self.dob, self.area, self.matches, self.link_button,
                 self.concern, self.institutions.search, self.institutions.new_button,
                 self.institutions.results, self.institutions.chosen, self.summary,
                 self.note_title, self.note_text, self.add_note_button, self.immediate,
                 self.save_button, self.cancel_button]
        for a, b in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(a, b)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.check_duplicates)
        for field in (self.surname, self.forenames, self.dob):
            field.textChanged.connect(lambda _t: self._timer.start())

    # -- checks as typed ----------------------------------------------------------------------
    def _check_received(self) -> str:
        if py_datetime(self.received) > datetime.now():
            return "The received time must not be in the future."
        return ""

    def _check_surname(self) -> str:
        if self.linked is not None and self.linked.kind == "person":
            return ""
        return "" if self.surname.text().strip() else "The surname is required (or link a match)."

    def _check_dob(self) -> str:
        text = self.dob.text().strip()
        if not text:
            return ""
        try:
            day = parse_uk_date(text)
        except ValueError:
            return "Write the date of birth as dd/mm/yyyy."
        if day is not None and day > date.today():
            return "The date of birth must not be in the future."
        return ""

    def dob_value(self) -> date | None:
        text = self.dob.text().strip()
        if not text:
            return None
        try:
            return parse_uk_date(text)
        except ValueError:
            return None

    # -- the duplicate check ------------------------------------------------------------------
    def check_duplicates(self) -> None:
        """Ask (off the UI thread) which known people the typed subject may be."""
        surname, forenames = self.surname.text().strip(), self.forenames.text().strip()
        dob = self.dob_value()
        self._check_seq += 1
        seq = self._check_seq
        if len(surname) < 2 and len(forenames) < 2 and dob is None:
            self._show_matches(seq, [])
            return
        self.checking = True
        self.match_status.setText("Checking for people already known…")
        self.services.ops.start(
            "prevent.subject-matches",
            lambda _ctx: self.referrals.possible_subject_matches(surname, forenames, dob),
            on_result=lambda rows: self._show_matches(seq, rows),
            on_error=lambda exc: self._match_failed(seq, exc),
            on_bug=lambda text: self._match_failed(seq, CasewardError(text)),
        )

    def _match_failed(self, seq: int, exc: CasewardError) -> None:
        if seq == self._check_seq:
            self.checking = False
            self.match_status.setText(f"The check for known people failed: {exc}")

    def _show_matches(self, seq: int, rows: list[SubjectMatch]) -> None:
        if seq != self._check_seq:
            return  # a newer check is on its way
        self.checking = False
        self.match_model.set_rows(rows)
        self.matches.setVisible(bool(rows))
        self.link_button.setVisible(bool(rows))
        if rows:
            self.matches.selectRow(0)
            n = len(rows)
            self.match_status.setText(
                f"{n} possible match{'es' if n != 1 else ''}: if one is this person, select it "
                "and press Link (Alt+L), so the records stay together.")
        elif self.surname.text().strip():
            self.match_status.setText("No one already known looks like this person: a new "
                                      "subject will be recorded.")
        else:
            self.match_status.setText("Type a surname to check for people already known.")

    def link_selected(self) -> None:
        index = self.matches.currentIndex()
        match = self.match_model.data(index, RECORD_ROLE) if index.isValid() else None
        if match is None:
            return
        self.linked = match
        kind = "nominal" if match.kind == "nominal" else "earlier referral subject"
        name = match.surname.upper() + (f", {match.forenames}" if match.forenames else "")
        born = f", born {uk_date(match.dob)}" if match.dob else ""
        self.linked_label.setText(f"Linked to {kind} {match.ref}: {name}{born}.")
        self.linked_label.show()
        self.unlink_button.show()
        self.errors.recheck("subject.surname")
        self.concern.setFocus()

    def unlink(self) -> None:
        self.linked = None
        self.linked_label.hide()
        self.unlink_button.hide()
        self.errors.recheck("subject.surname")

    # -- notes ----------------------------------------------------------------------------------
    def add_note(self) -> None:
        text = self.note_text.toPlainText().strip()
        if not text:
            self._note_error.show_error("Write the note's text first.", self.note_text)
            self.note_text.setFocus()
            return
        self._note_error.clear_error(self.note_text)
        title = self.note_title.text().strip() or "Note"
        self.notes.append((title, text))
        self.note_list.addItem(f"{isolate(title)}: {isolate(' '.join(text.split())[:80])}")
        self.note_list.show()
        self.note_title.clear()
        self.note_text.clear()
        self.note_title.setFocus()

    # -- saving ---------------------------------------------------------------------------------
    def subject(self) -> SubjectInput:
        m = self.linked
        if m is not None and m.kind == "person":
            return SubjectInput(person_id=m.id, nominal_id=m.nominal_id)
        return SubjectInput(self.surname.text(), self.forenames.text(), self.dob_value(),
                            nominal_id=m.id if m is not None else None)

    def value(self) -> ReferralInput:
        notes = list(self.notes)
        pending = self.note_text.toPlainText().strip()
        if pending:  # typed but not added: keep it rather than lose it
            notes.append((self.note_title.text().strip() or "Note", pending))
        return ReferralInput(
            received=py_datetime(self.received),
            source_sector=combo_code(self.sector),
            concern_type=combo_code(self.concern),
            subject=self.subject(),
            summary=self.summary.toPlainText(),
            referrer_name=self.referrer.text(),
            referrer_organisation=self.organisation.text(),
            institution_ids=self.institutions.ids(),
            immediate_risk=self.immediate.isChecked(),
            area=self.area.text(),
            notes=notes,
        )

    def save(self) -> None:
        if not self.errors.validate():
            return
        ok, ref = guarded(self.services, self, self.errors,
                          lambda: self.referrals.add(self.value()))
        if ok:
            self.saved.emit(str(ref))

    def focus_first(self) -> None:
        self.received.setFocus()

"""Quick-add contact and the contact plan (frequency override with a reason) dialogs.

Both save through the engagement service; a validation error is shown under its field and the
dialog stays open. Keyboard: every field has a mnemonic, Enter saves, Escape cancels."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate, QDateTime, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError, ValidationError
from app.services.engagement import ContactPlanInfo, ContactRecord, EngagementService
from ui.services import Services
from ui.widgets import FieldError, message_label, with_error

UK_DATE = "dd/MM/yyyy"
UK_DATETIME = "dd/MM/yyyy HH:mm"


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _py_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _combo(items: dict[str, str], name: str) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    for code, label in items.items():
        combo.addItem(label, code)
    return combo


def _set_code(combo: QComboBox, code: str) -> None:
    index = combo.findData(code)
    if index >= 0:
        combo.setCurrentIndex(index)


class LogContactDialog(QDialog):
    """Log one contact (or attempt) with a nominal: date and time, type, officer, outcome,
    notes, and the next planned contact. ``saved(record)`` after a successful save."""

    saved = Signal(object)

    def __init__(self, services: Services, ref: str, parent: QWidget | None = None,
                 *, now: datetime | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ref = ref
        self.record: ContactRecord | None = None
        self.engagement = services.get(EngagementService)
        vocab = self.engagement.contact_vocab()
        now = (now or datetime.now()).replace(second=0, microsecond=0)
        self.setWindowTitle(f"Log contact — {ref}")
        self.setMinimumWidth(460)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        intro = QLabel(f"Record a contact with {ref}. A contact that counts moves the next "
                       "due date on.")
        intro.setObjectName("Hint")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.general = message_label("ErrorBox")
        layout.addWidget(self.general)

        form = QFormLayout()
        form.setSpacing(8)
        self.when = QDateTimeEdit(QDateTime(_qdate(now.date()), QTime(now.hour, now.minute)))
        self.when.setDisplayFormat(UK_DATETIME)
        self.when.setCalendarPopup(True)
        self.when.setMaximumDate(_qdate(date.today()))
        self.when.setAccessibleName("Date and time")
        self.when_error = FieldError()
        self.type = _combo(dict(vocab.types), "Contact type")
        self.type_error = FieldError()
        self.officer = QLineEdit(services.user)
        self.officer.setAccessibleName("Officer")
        self.officer.setMaxLength(128)
        self.officer_error = FieldError()
        self.outcome = _combo(dict(vocab.outcomes), "Outcome")
        # Default to an outcome that counts as contact (the usual case), not an attempt.
        counting = [c for c in vocab.outcomes if c in vocab.counting]
        if counting:
            _set_code(self.outcome, counting[0])
        self.outcome_error = FieldError()
        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName("Notes")
        self.notes.setPlaceholderText("What happened; no more than is needed.")
        self.notes.setFixedHeight(80)
        self.notes.setTabChangesFocus(True)
        self.has_next = QCheckBox("&Plan the next contact for")
        self.next_planned = QDateEdit(_qdate(now.date()))
        self.next_planned.setDisplayFormat(UK_DATE)
        self.next_planned.setCalendarPopup(True)
        self.next_planned.setAccessibleName("Next planned contact")
        self.next_planned.setEnabled(False)
        self.has_next.toggled.connect(self.next_planned.setEnabled)
        self.next_error = FieldError()

        rows = [
            ("&When:", self.when, self.when_error),
            ("&Type:", self.type, self.type_error),
            ("O&fficer:", self.officer, self.officer_error),
            ("&Outcome:", self.outcome, self.outcome_error),
        ]
        for text, field, error in rows:
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, with_error(field, error))
        notes_label = QLabel("&Notes:")
        notes_label.setBuddy(self.notes)
        form.addRow(notes_label, self.notes)
        form.addRow(self.has_next, with_error(self.next_planned, self.next_error))
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("&Save contact")
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._errors = {
            "when": (self.when_error, self.when),
            "type": (self.type_error, self.type),
            "officer": (self.officer_error, self.officer),
            "outcome": (self.outcome_error, self.outcome),
            "next_planned": (self.next_error, self.next_planned),
        }

    def set_values(self, *, when: datetime | None = None, contact_type: str | None = None,
                   officer: str | None = None, outcome: str | None = None,
                   notes: str | None = None, next_planned: date | None = None) -> None:
        """Fill the form (tests and callers that know part of the answer)."""
        if when is not None:
            self.when.setDateTime(QDateTime(_qdate(when.date()), QTime(when.hour, when.minute)))
        if contact_type is not None:
            _set_code(self.type, contact_type)
        if officer is not None:
            self.officer.setText(officer)
        if outcome is not None:
            _set_code(self.outcome, outcome)
        if notes is not None:
            self.notes.setPlainText(notes)
        if next_planned is not None:
            self.has_next.setChecked(True)
            self.next_planned.setDate(_qdate(next_planned))

    def _clear_errors(self) -> None:
        self.general.setVisible(False)
        for error, field in self._errors.values():
            error.clear_error(field)

    def save(self) -> None:
        self._clear_errors()
        value = self.when.dateTime()
        when = datetime(value.date().year(), value.date().month(), value.date().day(),
                        value.time().hour(), value.time().minute())
        try:
            self.record = self.engagement.log_contact(
                self.ref, when, str(self.type.currentData()), self.officer.text().strip(),
                str(self.outcome.currentData()), self.notes.toPlainText(),
                _py_date(self.next_planned.date()) if self.has_next.isChecked() else None,
            )
        except ValidationError as exc:
            target = self._errors.get(exc.field)
            if target is None:
                self.general.setText(str(exc))
                self.general.setVisible(True)
            else:
                target[0].show_error(exc.message[:1].upper() + exc.message[1:] + ".", target[1])
                target[1].setFocus()
            return
        except CasewardError as exc:
            self.general.setText(str(exc))
            self.general.setVisible(True)
            return
        self.saved.emit(self.record)
        self.accept()


class ContactPlanDialog(QDialog):
    """A nominal's contact frequency: the table's rule, and an override with a reason."""

    saved = Signal(object)

    def __init__(self, services: Services, ref: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ref = ref
        self.engagement = services.get(EngagementService)
        self.plan: ContactPlanInfo = self.engagement.plan(ref)
        self.setWindowTitle(f"Contact plan — {ref}")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        plan = self.plan
        table = (f"Every {plan.table_days} days" if plan.table_days else "No planned contact")
        status = plan.status or "no status"
        self.rule = QLabel(f"Frequency table ({plan.table_version}) for {status}, "
                           f"{plan.risk_level or 'no'} risk: {table}.")
        self.rule.setWordWrap(True)
        layout.addWidget(self.rule)
        self.general = message_label("ErrorBox")
        layout.addWidget(self.general)
        form = QFormLayout()
        self.override = QCheckBox("&Use a different frequency for this nominal")
        self.override.setChecked(plan.override_days is not None)
        form.addRow(self.override)
        self.days = QSpinBox()
        self.days.setRange(1, 366)
        self.days.setSuffix(" days")
        self.days.setValue(plan.override_days or plan.table_days or 28)
        self.days.setAccessibleName("Frequency in days")
        self.days_error = FieldError()
        days_label = QLabel("&Every:")
        days_label.setBuddy(self.days)
        form.addRow(days_label, with_error(self.days, self.days_error))
        self.reason = QLineEdit(plan.override_reason)
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("Why this nominal's frequency differs (or is reset)")
        self.reason_error = FieldError()
        reason_label = QLabel("&Reason:")
        reason_label.setBuddy(self.reason)
        form.addRow(reason_label, with_error(self.reason, self.reason_error))
        layout.addLayout(form)
        self.override.toggled.connect(self.days.setEnabled)
        self.days.setEnabled(self.override.isChecked())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setDefault(True)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        self.general.setVisible(False)
        self.days_error.clear_error(self.days)
        self.reason_error.clear_error(self.reason)
        days = self.days.value() if self.override.isChecked() else None
        try:
            self.plan = self.engagement.set_override(self.ref, days, self.reason.text())
        except ValidationError as exc:
            if exc.field == "reason":
                self.reason_error.show_error(f"Say {exc.message.removeprefix('say ')}.",
                                             self.reason)
                self.reason.setFocus()
            elif exc.field == "days":
                self.days_error.show_error(exc.message[:1].upper() + exc.message[1:] + ".",
                                           self.days)
            else:
                self.general.setText(str(exc))
                self.general.setVisible(True)
            return
        except CasewardError as exc:
            self.general.setText(str(exc))
            self.general.setVisible(True)
            return
        self.saved.emit(self.plan)
        self.accept()

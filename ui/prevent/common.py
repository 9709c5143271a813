"""Shared pieces of the Prevent window: UK dates, field-level messages, combos, background calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from app.domain.errors import CasewardError, ValidationError
from app.domain.prevent import PreventLists
from ui.services import Services
from ui.theme import repolish
from ui.widgets import FieldError, field_message

UK_DATE = "dd/MM/yyyy"
UK_DATETIME = "dd/MM/yyyy HH:mm"

# Row colours shared by every Prevent list (immediate risk is red in every list).
RISK_BACKGROUND = QColor("#fbe3e1")
RISK_FOREGROUND = QColor("#8a1c14")
STATUS_COLOURS = {
    "ok": QColor("#1e7a46"),
    "warning": QColor("#9a6700"),
    "overdue": QColor("#b3261e"),
    "met": QColor("#3c4a59"),
    "late": QColor("#8a4b00"),
}
STATUS_LABELS = {
    "ok": "On track",
    "warning": "Due soon",
    "overdue": "Overdue",
    "met": "Decided in time",
    "late": "Decided late",
}
CHANGED_BACKGROUND = QColor("#fff1c2")


def uk_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def uk_datetime(at: datetime | None) -> str:
    return at.strftime("%d/%m/%Y %H:%M") if at else ""


def long_date(day: date | None) -> str:
    return f"{day.day} {day.strftime('%b %Y')}" if day else ""


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def py_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def date_edit(initial: date | None = None, *, name: str = "") -> QDateEdit:
    edit = QDateEdit()
    edit.setDisplayFormat(UK_DATE)
    edit.setCalendarPopup(True)
    edit.setDate(qdate(initial or date.today()))
    edit.setMaximumDate(qdate(date.today()))
    edit.setMaximumWidth(170)
    if name:
        edit.setAccessibleName(name)
    return edit


def datetime_edit(initial: datetime | None = None, *, name: str = "") -> QDateTimeEdit:
    at = (initial or datetime.now()).replace(second=0, microsecond=0)
    edit = QDateTimeEdit()
    edit.setDisplayFormat(UK_DATETIME)
    edit.setCalendarPopup(True)
    edit.setDateTime(QDateTime(qdate(at.date()), QTime(at.hour, at.minute)))
    edit.setMaximumWidth(220)
    if name:
        edit.setAccessibleName(name)
    return edit


def py_datetime(edit: QDateTimeEdit) -> datetime:
    value = edit.dateTime()
    d, t = value.date(), value.time()
    return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())


def code_combo(items: Iterable[tuple[str, str]], *, placeholder: str = "",
               name: str = "") -> QComboBox:
    """A combo of (code, label); with a placeholder, nothing is chosen at first (code "")."""
    combo = QComboBox()
    if placeholder:
        combo.addItem(placeholder, "")
    for code, label in items:
        combo.addItem(label, code)
    if name:
        combo.setAccessibleName(name)
    return combo


def choices(lists: PreventLists, name: str) -> list[tuple[str, str]]:
    return [(c.code, c.label) for c in getattr(lists, name)]


def set_combo_code(combo: QComboBox, code: str | None) -> None:
    index = combo.findData(code or "")
    combo.setCurrentIndex(max(index, 0))


def combo_code(combo: QComboBox) -> str:
    return str(combo.currentData() or "")


def text_of(widget: QWidget) -> str:
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QComboBox):
        return combo_code(widget)
    return ""


def plain_text_edit(name: str, *, placeholder: str = "", lines: int = 3) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setTabChangesFocus(True)  # Tab moves on: keyboard-only use of every form
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    metrics = edit.fontMetrics()
    edit.setFixedHeight(metrics.lineSpacing() * lines + 18)
    return edit


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    repolish(widget)


class FormErrors:
    """Field-level messages for one form.

    Each field is registered under the key a ValidationError names (``summary``,
    ``subject.surname``, ``ndm.rationale``...). Required fields are checked as the user types
    once touched (or after a first Save), so a message appears beside the field and goes as
    soon as it is fixed. A ValidationError from a service lands next to its field too."""

    def __init__(self, general: QLabel | None = None) -> None:
        self.general = general
        self._fields: dict[str, tuple[QWidget, FieldError, str, Callable[[], str] | None]] = {}
        self._touched: set[str] = set()
        self.submitted = False

    def add(self, key: str, widget: QWidget, error: FieldError, label: str = "",
            check: Callable[[], str] | None = None, *, required: bool = False) -> None:
        """Register a field. ``check`` returns a message or ""; ``required`` adds "is required"."""
        if required and check is None:
            def check() -> str:
                return "" if text_of(widget).strip() else f"{label} is required."
        self._fields[key] = (widget, error, label, check)
        signal = None
        if isinstance(widget, QLineEdit | QPlainTextEdit):
            signal = widget.textChanged
        elif isinstance(widget, QComboBox):
            signal = widget.currentIndexChanged
        if signal is not None:
            signal.connect(lambda *_a, k=key: self._changed(k))

    def _changed(self, key: str) -> None:
        self._touched.add(key)
        self.check(key)

    def check(self, key: str) -> bool:
        widget, error, _label, check = self._fields[key]
        message = check() if check else ""
        if key not in self._touched and not self.submitted:
            message = ""
        error.show_error(message, widget)
        return not message

    def recheck(self, key: str) -> None:
        """Re-run one field's check (another field it depends on changed)."""
        if key in self._fields:
            self.check(key)

    def validate(self) -> bool:
        """Check every field (as on Save); focus the first bad one. True if all are fine."""
        self.submitted = True
        first_bad: QWidget | None = None
        for key in self._fields:
            if not self.check(key) and first_bad is None:
                first_bad = self._fields[key][0]
        if self.general is not None:
            self.general.setVisible(False)
        if first_bad is not None:
            first_bad.setFocus()
        return first_bad is None

    def show(self, exc: CasewardError) -> None:
        """A service's error: beside its field if we know the field, else in the form's box."""
        if isinstance(exc, ValidationError):
            entry = self._fields.get(exc.field)
            if entry is None:  # "checks[0].result" -> "checks"; "ndm.x" stays itself
                head = exc.field.split("[")[0].split(".")[0]
                entry = self._fields.get(head)
            if entry is not None:
                widget, error, label, _ = entry
                error.show_error(field_message(label or exc.field, exc.message), widget)
                widget.setFocus()
                return
            text = f"{exc.field.replace('_', ' ').capitalize()} {exc.message}."
        else:
            text = str(exc)
        if self.general is not None:
            self.general.setText(text)
            self.general.setVisible(True)

    def reset(self) -> None:
        self._touched.clear()
        self.submitted = False
        for widget, error, _label, _check in self._fields.values():
            error.clear_error(widget)
        if self.general is not None:
            self.general.setVisible(False)


def run(services: Services, name: str, work: Callable[[], Any],
        on_result: Callable[[Any], None], parent: QWidget,
        on_error: Callable[[CasewardError], None] | None = None) -> Any:
    """Run ``work`` off the UI thread; errors go to ``on_error`` or a plain dialog, bugs to a
    dialog that says where the log is."""

    def failed(exc: CasewardError) -> None:
        if on_error is not None:
            on_error(exc)
        else:
            services.dialogs.error(parent, "Caseward", str(exc))

    return services.ops.start(
        name, lambda _ctx: work(), on_result=on_result, on_error=failed,
        on_bug=lambda text: services.dialogs.error(parent, "Caseward", text),
    )


def guarded(services: Services, parent: QWidget, form: FormErrors | None,
            action: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a quick service call in the UI thread; show a plain error where it belongs."""
    try:
        return True, action()
    except CasewardError as exc:
        if form is not None:
            form.show(exc)
        else:
            services.dialogs.error(parent, "Caseward", str(exc))
        return False, None

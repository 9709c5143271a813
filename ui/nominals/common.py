"""Shared pieces of the nominal windows: UK dates (parse, show, an edit that may be empty),
labels for the record's enumerations and fields, field messages in red or amber."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from app.domain.errors import CasewardError
from app.domain.nominal import DATE_LABELS, Gender, IdentifierType, RiskLevel, Rosh, Status
from ui.services import Services
from ui.theme import repolish

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2

ERROR_COLOUR = "#b3261e"
WARNING_COLOUR = "#8a5a00"
# Field-level styles that the application stylesheet does not carry (amber warnings).
FORM_QSS = f"""
QLabel#FieldWarning {{ color: {WARNING_COLOUR}; }}
QLabel#FieldError {{ color: {ERROR_COLOUR}; }}
QLineEdit[warning="true"], QComboBox[warning="true"] {{ border: 1px solid #c98f0a; }}
QLineEdit[invalid="true"], QComboBox[invalid="true"] {{ border: 1px solid {ERROR_COLOUR}; }}
QLabel#PncNormalised {{ color: #3c4a59; }}
QLabel#ValuePanel {{ background: #ffffff; border: 1px solid #e1e6eb; border-radius: 4px;
                     padding: 4px 6px; }}
QLabel#ValuePanel[differs="true"] {{ background: #fff1c2; border-color: #f0d28a; }}
"""

STATUS_LABELS = {
    Status.CUSTODY: "Custody",
    Status.COMMUNITY: "Community",
    Status.ABROAD: "Abroad",
    Status.DECEASED: "Deceased",
    Status.CLOSED: "Closed",
}
RISK_LABELS = {RiskLevel.HIGH: "High", RiskLevel.MEDIUM: "Medium", RiskLevel.LOW: "Low"}
ROSH_LABELS = {Rosh.LOW: "Low", Rosh.MEDIUM: "Medium", Rosh.HIGH: "High",
               Rosh.VERY_HIGH: "Very high"}
GENDER_LABELS = {Gender.M: "Male", Gender.F: "Female", Gender.X: "Other (X)",
                 Gender.U: "Unknown"}
MAPPA_CATEGORY_LABELS = {1: "1 — registered sex offenders", 2: "2 — violent offenders",
                         3: "3 — other dangerous offenders", 4: "4 — terrorist / terrorist risk"}
MAPPA_LEVEL_LABELS = {1: "1 — ordinary agency management", 2: "2 — multi-agency",
                      3: "3 — senior multi-agency"}
RETENTION_LABELS = {1: "Group 1 — public protection (review every 10 years)",
                    2: "Group 2 — other sexual / violent (10-year review)",
                    3: "Group 3 — all other (6-year review)"}
IDENTIFIER_LABELS = {t: t.label if t.label.isupper() else t.label.capitalize()
                     for t in IdentifierType}

# Plain labels of every field a problem or a history row can name.
FIELD_LABELS: dict[str, str] = {
    "surname": "Surname", "forenames": "Forenames", "dob": "Date of birth",
    "gender": "Gender", "pnc": "PNC ID", "cro": "CRO number", "status": "Status",
    "establishment": "Establishment", "release_date": "Release date",
    "risk_level": "Risk level", "mappa_category": "MAPPA category", "mappa_level": "MAPPA level",
    "nominal_manager": "Nominal manager", "force": "Force", "offence": "Offence",
    "notification_end": "Notification end", "notes": "Notes", "rosh": "ROSH",
    "retention_group": "Retention (MOPI) group", "aliases": "Aliases",
    "identifiers": "Identifiers", "addresses": "Addresses", "merged_from": "Merged from",
    "merged_into": "Merged into",
}
for _name, _label in DATE_LABELS.items():
    FIELD_LABELS.setdefault(f"dates.{_name}", _label[0].upper() + _label[1:])


def field_label(path: str) -> str:
    return FIELD_LABELS.get(path, path.replace("dates.", "").replace("_", " ").capitalize())


# -- dates --------------------------------------------------------------------------------------

UK_FORMAT = "dd/mm/yyyy"
_DMY = re.compile(r"^\s*(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{2}|\d{4})\s*$")
_DMY_RUN = re.compile(r"^\s*(\d{2})(\d{2})(\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


class DateTextError(ValueError):
    """The text is not a date; the message says why, for the user."""


def parse_uk_date(text: str) -> date | None:
    """A date written 23/11/2026 (or 23.11.2026, 23-11-2026, 23112026, 2026-11-23); None when
    the text is empty. Two-digit years are refused: for a date of birth they are ambiguous."""
    if not text.strip():
        return None
    match = _DMY.match(text) or _DMY_RUN.match(text)
    if match:
        day, month, year = match.groups()
    else:
        iso = _ISO.match(text)
        if not iso:
            raise DateTextError(f"is not a date (write it {UK_FORMAT})")
        year, month, day = iso.groups()
    if len(year) == 2:
        raise DateTextError("needs the year in full (four digits)")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise DateTextError("is not a real date") from None


def uk_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def long_date(day: date | None) -> str:
    return f"{day.day} {day.strftime('%b %Y')}" if day else ""


def local_datetime(at: datetime | None) -> str:
    """A stored (naive UTC) time in the terminal's local time, dd/mm/yyyy HH:MM."""
    if at is None:
        return ""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return aware.astimezone().strftime("%d/%m/%Y %H:%M")


Day = date  # the method UkDateEdit.date hides the type inside the class


class UkDateEdit(QWidget):
    """A date that may be empty: type dd/mm/yyyy, or pick from a calendar (F4 / Alt+Down).

    Empty means "not set" — nothing special to type or clear. ``date()`` raises DateTextError
    for text that is not a date, so the form can say so beside the field."""

    changed = Signal()

    def __init__(self, name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.line = QLineEdit()
        self.line.setPlaceholderText(UK_FORMAT)
        self.line.setMaxLength(12)
        self.line.setFixedWidth(120)
        if name:
            self.line.setAccessibleName(name)
        self.line.setToolTip(f"Write the date {UK_FORMAT}; leave empty if not known. "
                             "F4 opens a calendar.")
        self.button = QToolButton()
        self.button.setText("▾")
        self.button.setToolTip("Choose from a calendar (F4)")
        self.button.setAccessibleName(f"{name} calendar" if name else "Calendar")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(self.open_calendar)
        layout.addWidget(self.line)
        layout.addWidget(self.button)
        layout.addStretch(1)
        self.setFocusProxy(self.line)
        self.line.textChanged.connect(lambda _t: self.changed.emit())
        self.line.editingFinished.connect(self._tidy)
        self._keys = _CalendarKey(self)
        self.line.installEventFilter(self._keys)
        self.menu: QMenu | None = None

    def date(self) -> Day | None:
        return parse_uk_date(self.line.text())

    def date_or_none(self) -> Day | None:
        try:
            return self.date()
        except DateTextError:
            return None

    def set_date(self, day: Day | None) -> None:
        self.line.setText(uk_date(day))

    def text(self) -> str:
        return self.line.text()

    def setReadOnly(self, read_only: bool) -> None:  # noqa: N802 - Qt's spelling
        self.line.setReadOnly(read_only)
        self.button.setEnabled(not read_only)

    def _tidy(self) -> None:
        """Show a typed date the usual way once the user leaves the field (01/04/1990)."""
        day = self.date_or_none()
        if day is not None and self.line.text() != uk_date(day):
            self.line.setText(uk_date(day))

    def open_calendar(self) -> None:
        if self.line.isReadOnly():
            return
        menu = QMenu(self)
        calendar = QCalendarWidget()
        calendar.setGridVisible(False)
        calendar.setFirstDayOfWeek(Qt.DayOfWeek.Monday)
        day = self.date_or_none() or date.today()
        calendar.setSelectedDate(QDate(day.year, day.month, day.day))
        action = QWidgetAction(menu)
        action.setDefaultWidget(calendar)
        menu.addAction(action)

        def picked(value: QDate) -> None:
            self.set_date(date(value.year(), value.month(), value.day()))
            menu.close()
            self.line.setFocus()

        calendar.activated.connect(picked)
        calendar.clicked.connect(picked)
        self.menu = menu
        calendar.setFocus()
        menu.popup(self.line.mapToGlobal(self.line.rect().bottomLeft()))


class _CalendarKey(QObject):
    def __init__(self, edit: UkDateEdit) -> None:
        super().__init__(edit)
        self._edit = edit

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            alt_down = (event.key() == Qt.Key.Key_Down
                        and event.modifiers() & Qt.KeyboardModifier.AltModifier)
            if event.key() == Qt.Key.Key_F4 or alt_down:
                self._edit.open_calendar()
                return True
        return False


# -- messages beside fields --------------------------------------------------------------------


class FieldMessage(QLabel):
    """Errors (red) and warnings (amber) for one field, under it; hidden when there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setObjectName("FieldError")
        self.severity = ""
        self.hide()

    def show_messages(self, errors: list[str], warnings: list[str],
                      field: QWidget | None = None) -> None:
        lines = errors + warnings
        self.setText("\n".join(lines))
        self.severity = "error" if errors else ("warning" if warnings else "")
        self.setObjectName("FieldError" if errors else "FieldWarning")
        repolish(self)
        self.setVisible(bool(lines))
        if field is not None:
            target = field.line if isinstance(field, UkDateEdit) else field
            target.setProperty("invalid", bool(errors))
            target.setProperty("warning", bool(warnings) and not errors)
            repolish(target)


# -- combos ---------------------------------------------------------------------------------


def value_combo(items: list[tuple[Any, str]], *, empty: str = "—", name: str = "") -> QComboBox:
    """A combo of (value, label) with a first "not set" entry (value None)."""
    combo = QComboBox()
    combo.addItem(empty, None)
    for value, label in items:
        combo.addItem(label, value)
    if name:
        combo.setAccessibleName(name)
    return combo


def set_combo_value(combo: QComboBox, value: Any) -> None:
    for i in range(combo.count()):
        if combo.itemData(i) == value:
            combo.setCurrentIndex(i)
            return
    combo.setCurrentIndex(0)


def run(services: Services, name: str, work: Callable[[], Any],
        on_result: Callable[[Any], None], parent: QWidget,
        on_error: Callable[[CasewardError], None] | None = None,
        on_bug: Callable[[str], None] | None = None) -> Any:
    """Run ``work`` off the UI thread: a CasewardError to ``on_error`` (or a plain dialog); a bug
    to a dialog that says where the log is (and to ``on_bug``, to reset a busy state)."""

    def failed(exc: CasewardError) -> None:
        if on_error is not None:
            on_error(exc)
        else:
            services.dialogs.error(parent, "Caseward", str(exc))

    def bug(text: str) -> None:
        if on_bug is not None:
            on_bug(text)
        services.dialogs.error(parent, "Caseward", text)

    return services.ops.start(name, lambda _ctx: work(), on_result=on_result, on_error=failed,
                              on_bug=bug)

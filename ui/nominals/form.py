"""The nominal record form: a view (layout only), a controller (``load(record)`` /
``save() -> record``, validation as the user types) and the page that opens, saves and leaves a
record (Ctrl+S saves, Escape goes back and asks before dropping changes)."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError, ValidationError
from app.domain.nominal import (
    DATE_FIELDS,
    Address,
    Alias,
    Gender,
    Identifier,
    IdentifierType,
    LicenceDates,
    Nominal,
    NominalInvalid,
    Problem,
    RiskLevel,
    Rosh,
    Severity,
    Status,
)
from app.domain.pnc import parse_pnc
from app.domain.roles import Perm
from app.services.nominals import HistoryEntry, NominalService
from app.services.quality import Fault, QualityService
from ui.nominals.common import (
    FORM_QSS,
    GENDER_LABELS,
    IDENTIFIER_LABELS,
    MAPPA_CATEGORY_LABELS,
    MAPPA_LEVEL_LABELS,
    RETENTION_LABELS,
    RISK_LABELS,
    ROSH_LABELS,
    STATUS_LABELS,
    DateTextError,
    FieldMessage,
    UkDateEdit,
    field_label,
    parse_uk_date,
    run,
    set_combo_value,
    uk_date,
    value_combo,
)
from ui.nominals.models import EditableRowsTableModel, EditColumn, HistoryTableModel
from ui.services import Services
from ui.theme import icon
from ui.widgets import message_label, record_table

AnyIndex = QModelIndex | QPersistentModelIndex

# Tabs, in order; every field key belongs to one (for the tab's warning icon).
TAB_IDENTITY, TAB_STATUS, TAB_SENTENCE, TAB_RISK, TAB_NOTES, TAB_HISTORY = range(6)
SENTENCE_DATES: tuple[tuple[str, str], ...] = (
    ("sentence_date", "Sentence date"), ("sed", "SED — sentence end"),
    ("led", "LED — licence end"), ("crd", "CRD — conditional release"),
    ("ard", "ARD — automatic release"), ("ped", "PED — parole eligibility"),
    ("npd", "NPD — non-parole"), ("tused", "TUSED — top-up supervision end"),
    ("hdced", "HDCED — home detention curfew eligibility"),
    ("prrd", "PRRD — post-recall release"),
    ("notification_start", "Notification start"),
)


def engagement_tabs(services: Services, ref: str) -> list[tuple[str, QWidget]]:
    """Tabs from the engagement window (ui.engagement.NominalEngagementTabs), if it exists.

    A QTabWidget gives up its pages (with their titles); any other widget is one tab."""
    try:
        module = importlib.import_module("ui.engagement")
    except ImportError:
        return []
    factory = getattr(module, "NominalEngagementTabs", None)
    if factory is None:
        return []
    widget = factory(services, ref)
    if isinstance(widget, QTabWidget):
        out = []
        while widget.count():
            title, page = widget.tabText(0), widget.widget(0)
            widget.removeTab(0)
            if page is not None:
                out.append((title, page))
        widget.deleteLater()
        return out
    return [("Engagement", widget)]


class ChoiceDelegate(QStyledItemDelegate):
    """Edits a choice column of an EditableRowsTableModel with a combo of its labels."""

    def __init__(self, model: EditableRowsTableModel, parent: Any = None) -> None:
        super().__init__(parent)
        self._model = model

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: AnyIndex) -> QWidget:
        choices = self._model.columns[index.column()].choices
        if not choices:
            return super().createEditor(parent, option, index)
        combo = QComboBox(parent)
        for value, label in choices:
            combo.addItem(label, value)
        return combo

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:
        if isinstance(editor, QComboBox):
            set_combo_value(editor, index.data(Qt.ItemDataRole.EditRole))
            return
        super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: AnyIndex) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)
            return
        super().setModelData(editor, model, index)


class ChildTable(QWidget):
    """A record's small list (aliases, identifiers, addresses): table, Add / Remove, messages."""

    changed = Signal()

    def __init__(self, title: str, columns: Sequence[EditColumn], add_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = EditableRowsTableModel(columns, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        head = QLabel(title)
        head.setObjectName("SectionTitle")
        layout.addWidget(head)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(title)
        self.table.setItemDelegate(ChoiceDelegate(self.model, self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for i, column in enumerate(columns):
            self.table.setColumnWidth(i, column.width)
        self.table.setMinimumHeight(130)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(add_text)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAccessibleName(f"Remove from {title.lower()}")
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.message = FieldMessage()
        layout.addWidget(self.message)
        for signal in (self.model.dataChanged, self.model.rowsInserted, self.model.rowsRemoved,
                       self.model.modelReset):
            signal.connect(lambda *_a: self.changed.emit())

    def add(self) -> None:
        row = self.model.add_row()
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self.table.setFocus()
        self.table.edit(index)

    def remove(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.model.remove_row(index.row())

    def set_read_only(self, read_only: bool) -> None:
        self.model.read_only = read_only
        self.add_button.setVisible(not read_only)
        self.remove_button.setVisible(not read_only)


def _scroll(inner: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(inner)
    return area


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(6)
    return form


class NominalFormView(QWidget):
    """Layout only: every field, its message label, the tabs and the buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(FORM_QSS)
        self.fields: dict[str, QWidget] = {}
        self.messages: dict[str, FieldMessage] = {}
        self.field_tab: dict[str, int] = {}
        self.dates: dict[str, UkDateEdit] = {}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 18, 28, 14)
        outer.setSpacing(8)
        top = QHBoxLayout()
        self.back_button = QPushButton("← &Back to list")
        self.back_button.setProperty("flat", True)
        self.back_button.setToolTip("Back to the list (Escape)")
        top.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = QLabel()
        self.title.setObjectName("PageTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("PageSubtitle")
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        top.addLayout(titles, 1)
        outer.addLayout(top)
        self.faults = message_label("WarnBox")
        self.faults.setAccessibleName("Data-quality faults")
        outer.addWidget(self.faults)
        self.banner = message_label("InfoBox")
        outer.addWidget(self.banner)
        self.general = message_label("ErrorBox")
        outer.addWidget(self.general)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(_scroll(self._identity_tab()), "&Identity and aliases")
        self.tabs.addTab(_scroll(self._status_tab()), "Status and &custody")
        self.tabs.addTab(_scroll(self._sentence_tab()), "Sentence and &licence")
        self.tabs.addTab(_scroll(self._risk_tab()), "MAPP&A and risk")
        self.tabs.addTab(self._notes_tab(), "N&otes")
        self.tabs.addTab(self._history_tab(), "Histor&y")
        outer.addWidget(self.tabs, 1)

        bottom = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("Hint")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        bottom.addWidget(self.summary, 1)
        self.save_button = QPushButton("&Save")
        self.save_button.setProperty("primary", True)
        self.save_button.setToolTip("Save the record (Ctrl+S)")
        bottom.addWidget(self.save_button)
        outer.addLayout(bottom)

    # -- building blocks -------------------------------------------------------------------
    def _add(self, form: QFormLayout, key: str, label: str, widget: QWidget, tab: int,
             extra: QWidget | None = None) -> None:
        message = FieldMessage()
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        if extra is not None:
            row = QHBoxLayout()
            row.setSpacing(8)
            row.addWidget(widget)
            row.addWidget(extra, 1)
            col.addLayout(row)
        else:
            col.addWidget(widget)
        col.addWidget(message)
        text = QLabel(label)
        text.setBuddy(widget)
        form.addRow(text, box)
        if not widget.accessibleName() and not isinstance(widget, UkDateEdit):
            widget.setAccessibleName(label.replace("&", "").rstrip(":"))
        self.fields[key] = widget
        self.messages[key] = message
        self.field_tab[key] = tab

    def _line(self, width: int = 0, max_length: int = 200) -> QLineEdit:
        edit = QLineEdit()
        edit.setMaxLength(max_length)
        if width:
            edit.setMaximumWidth(width)
        return edit

    def _date(self, key: str, label: str) -> UkDateEdit:
        edit = UkDateEdit(label.replace("&", "").rstrip(":").split(" — ")[0])
        self.dates[key] = edit
        return edit

    def _identity_tab(self) -> QWidget:
        page = QWidget()
        row = QHBoxLayout(page)
        row.setContentsMargins(12, 14, 12, 12)
        row.setSpacing(24)
        form = _form()
        self.surname = self._line(360, 100)
        self.forenames = self._line(360, 150)
        self.dob = self._date("dob", "Date of birth")
        self.gender = value_combo([(g, GENDER_LABELS[g]) for g in Gender], empty="Not recorded")
        self.gender.setMaximumWidth(200)
        self.pnc = self._line(200, 40)
        self.pnc.setMinimumWidth(170)
        self.pnc.setPlaceholderText("YYYY/NNNNNNNL")
        self.pnc_normalised = QLabel()
        self.pnc_normalised.setObjectName("PncNormalised")
        self.pnc_normalised.setTextFormat(Qt.TextFormat.PlainText)
        self.pnc_normalised.setAccessibleName("PNC ID normalised")
        self.cro = self._line(200, 40)
        self._add(form, "surname", "&Surname:", self.surname, TAB_IDENTITY)
        self._add(form, "forenames", "&Forenames:", self.forenames, TAB_IDENTITY)
        self._add(form, "dob", "Date of &birth:", self.dob, TAB_IDENTITY)
        self._add(form, "gender", "&Gender:", self.gender, TAB_IDENTITY)
        self._add(form, "pnc", "&PNC ID:", self.pnc, TAB_IDENTITY, self.pnc_normalised)
        self._add(form, "cro", "C&RO number:", self.cro, TAB_IDENTITY)
        left = QWidget()
        left_col = QVBoxLayout(left)
        left_col.setContentsMargins(0, 0, 0, 0)
        left_col.addLayout(form)
        left_col.addStretch(1)
        row.addWidget(left, 5)
        right = QVBoxLayout()
        right.setSpacing(12)
        self.identifiers = ChildTable(
            "Other identifiers",
            [EditColumn("Type", 150, tuple((t.value, IDENTIFIER_LABELS[t])
                                           for t in IdentifierType)),
             EditColumn("Value", 220)],
            "Add &identifier")
        self.aliases = ChildTable(
            "Aliases",
            [EditColumn("Surname", 160), EditColumn("Forenames", 170),
             EditColumn("Date of birth", 120, hint="dd/mm/yyyy; may be empty")],
            "Add ali&as")
        right.addWidget(self.identifiers)
        right.addWidget(self.aliases)
        row.addLayout(right, 6)
        for key, table in (("identifiers", self.identifiers), ("aliases", self.aliases)):
            self.fields[key] = table
            self.messages[key] = table.message
            self.field_tab[key] = TAB_IDENTITY
        return page

    def _status_tab(self) -> QWidget:
        page = QWidget()
        row = QHBoxLayout(page)
        row.setContentsMargins(12, 14, 12, 12)
        row.setSpacing(24)
        form = _form()
        self.status = value_combo([(s, STATUS_LABELS[s]) for s in Status], empty="Not set")
        self.status.setMaximumWidth(200)
        self.establishment = self._line(360)
        self.release_date = self._date("release_date", "Release date")
        self.manager = QComboBox()
        self.manager.setEditable(True)
        self.manager.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.manager.setMinimumWidth(300)
        self.manager.setMaximumWidth(360)
        self.force = QComboBox()
        self.force.setEditable(True)
        self.force.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.force.setMinimumWidth(300)
        self.force.setMaximumWidth(360)
        self._add(form, "status", "S&tatus:", self.status, TAB_STATUS)
        self._add(form, "establishment", "&Establishment:", self.establishment, TAB_STATUS)
        self._add(form, "release_date", "&Release date:", self.release_date, TAB_STATUS)
        self._add(form, "nominal_manager", "&Nominal manager:", self.manager, TAB_STATUS)
        self._add(form, "force", "&Force:", self.force, TAB_STATUS)
        left = QWidget()
        left_col = QVBoxLayout(left)
        left_col.setContentsMargins(0, 0, 0, 0)
        left_col.addLayout(form)
        left_col.addStretch(1)
        row.addWidget(left, 5)
        self.addresses = ChildTable(
            "Addresses",
            [EditColumn("Address", 260), EditColumn("Postcode", 90),
             EditColumn("From", 100, hint="dd/mm/yyyy; may be empty"),
             EditColumn("To", 100, hint="dd/mm/yyyy; empty while current")],
            "Add a&ddress")
        self.fields["addresses"] = self.addresses
        self.messages["addresses"] = self.addresses.message
        self.field_tab["addresses"] = TAB_STATUS
        row.addWidget(self.addresses, 6)
        return page

    def _sentence_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(12, 14, 12, 12)
        col.setSpacing(10)
        top = _form()
        self.offence = self._line(0, 500)
        self._add(top, "offence", "&Offence:", self.offence, TAB_SENTENCE)
        col.addLayout(top)
        row = QHBoxLayout()
        row.setSpacing(24)
        left, right = _form(), _form()
        items = [*SENTENCE_DATES, ("notification_end", "Notification end")]
        half = (len(items) + 1) // 2
        for i, (name, label) in enumerate(items):
            key = name if name == "notification_end" else f"dates.{name}"
            edit = self._date(key, label)
            self._add(left if i < half else right, key, f"{label}:", edit, TAB_SENTENCE)
        row.addLayout(left, 1)
        row.addLayout(right, 1)
        col.addLayout(row)
        hint = QLabel("Dates are written dd/mm/yyyy; leave a date empty if it does not apply. "
                      "F4 in a date field opens a calendar.")
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        col.addWidget(hint)
        col.addStretch(1)
        return page

    def _risk_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(12, 14, 12, 12)
        form = _form()
        self.mappa_category = value_combo(list(MAPPA_CATEGORY_LABELS.items()), empty="Not MAPPA")
        self.mappa_level = value_combo(list(MAPPA_LEVEL_LABELS.items()), empty="Not MAPPA")
        self.rosh = value_combo([(r, ROSH_LABELS[r]) for r in Rosh], empty="Not assessed")
        self.risk_level = value_combo([(r, RISK_LABELS[r]) for r in RiskLevel],
                                      empty="Not assessed")
        self.retention_group = value_combo(list(RETENTION_LABELS.items()),
                                           empty="Default (from the offence)")
        for combo in (self.mappa_category, self.mappa_level, self.rosh, self.risk_level,
                      self.retention_group):
            combo.setMaximumWidth(420)
        self._add(form, "mappa_category", "MAPPA &category:", self.mappa_category, TAB_RISK)
        self._add(form, "mappa_level", "MAPPA le&vel:", self.mappa_level, TAB_RISK)
        self._add(form, "rosh", "R&OSH:", self.rosh, TAB_RISK)
        self._add(form, "risk_level", "Ris&k level:", self.risk_level, TAB_RISK)
        self._add(form, "retention_group", "Retention (&MOPI):", self.retention_group, TAB_RISK)
        col.addLayout(form)
        hint = QLabel("ROSH: risk of serious harm. The risk level sets how often the nominal "
                      "manager plans contact. MOPI groups set the retention review.")
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        col.addWidget(hint)
        col.addStretch(1)
        return page

    def _notes_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(12, 14, 12, 12)
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setAccessibleName("Notes")
        self.notes.setPlaceholderText("Anything the next reader needs to know.")
        message = FieldMessage()
        label = QLabel("No&tes:")
        label.setBuddy(self.notes)
        col.addWidget(label)
        col.addWidget(self.notes, 1)
        col.addWidget(message)
        self.fields["notes"] = self.notes
        self.messages["notes"] = message
        self.field_tab["notes"] = TAB_NOTES
        return page

    def _history_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(12, 14, 12, 12)
        self.history_model = HistoryTableModel(self)
        self.history = record_table(self.history_model, "History", row_height=None,
                                    widths=(130, 90, 80, 150, 190, 190), stretch_last=True,
                                    multi=True, wrap=True)
        # A record's history is short: fitting rows to multi-line values here is cheap.
        self.history.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.history_hint = QLabel("Every change to this record, newest first: who made it, "
                                   "when, and why. The history cannot be edited.")
        self.history_hint.setObjectName("Hint")
        col.addWidget(self.history_hint)
        col.addWidget(self.history, 1)
        return page


def _as(kind: Any, value: Any) -> Any:
    """A combo's data as the enumeration (Qt hands a StrEnum back as a plain str), or None."""
    return None if value is None or value == "" else kind(value)


def _strip(text: str) -> str | None:
    value = text.strip()
    return value or None


class NominalFormController:
    """Reads and writes the view's fields; validates through NominalService as the user types.

    ``load(record)`` fills the fields (None: a blank new record); ``save()`` returns the record
    the fields describe, or raises NominalInvalid when something blocks saving."""

    def __init__(self, view: NominalFormView, validate: Callable[[Nominal], list[Problem]],
                 on_change: Callable[[], None] | None = None) -> None:
        self.view = view
        self._validate = validate
        self._on_change = on_change
        self.record: Nominal | None = None
        self.problems: list[Problem] = []
        self._baseline: Any = None
        self._loading = False
        v = view
        for edit in (v.surname, v.forenames, v.pnc, v.cro, v.establishment, v.offence):
            edit.textChanged.connect(self.changed)
        for combo in (v.gender, v.status, v.mappa_category, v.mappa_level, v.rosh,
                      v.risk_level, v.retention_group):
            combo.currentIndexChanged.connect(self.changed)
        for combo in (v.manager, v.force):
            combo.currentTextChanged.connect(self.changed)
        for date_edit in v.dates.values():
            date_edit.changed.connect(self.changed)
        for table in (v.aliases, v.identifiers, v.addresses):
            table.changed.connect(self.changed)
        v.notes.textChanged.connect(self.changed)

    # -- load ------------------------------------------------------------------------------
    def load(self, record: Nominal | None) -> None:
        self._loading = True
        try:
            self._fill(record)
        finally:
            self._loading = False
        self.record = record
        self._baseline = self.snapshot()
        self.changed()

    def _fill(self, n: Nominal | None) -> None:
        v = self.view
        n = n or Nominal(surname="")
        v.surname.setText(n.surname)
        v.forenames.setText(n.forenames)
        v.dob.set_date(n.dob)
        set_combo_value(v.gender, n.gender)
        v.pnc.setText(n.pnc or "")
        v.cro.setText(n.cro or "")
        v.aliases.model.set_rows([[a.surname, a.forenames, uk_date(a.dob)] for a in n.aliases])
        v.identifiers.model.set_rows([[i.type.value, i.value] for i in n.identifiers])
        set_combo_value(v.status, n.status)
        v.establishment.setText(n.establishment or "")
        v.release_date.set_date(n.release_date)
        v.manager.setCurrentText(n.nominal_manager or "")
        v.force.setCurrentText(n.force or "")
        v.addresses.model.set_rows([[a.text, a.postcode, uk_date(a.date_from),
                                     uk_date(a.date_to)] for a in n.addresses])
        v.offence.setText(n.offence or "")
        for name in DATE_FIELDS:
            v.dates[f"dates.{name}"].set_date(getattr(n.dates, name))
        v.dates["notification_end"].set_date(n.notification_end)
        set_combo_value(v.mappa_category, n.mappa_category)
        set_combo_value(v.mappa_level, n.mappa_level)
        set_combo_value(v.rosh, n.rosh)
        set_combo_value(v.risk_level, n.risk_level)
        set_combo_value(v.retention_group, n.retention_group)
        v.notes.setPlainText(n.notes or "")

    def set_read_only(self, read_only: bool) -> None:
        v = self.view
        for edit in (v.surname, v.forenames, v.pnc, v.cro, v.establishment, v.offence):
            edit.setReadOnly(read_only)
        for date_edit in v.dates.values():
            date_edit.setReadOnly(read_only)
        for combo in (v.gender, v.status, v.mappa_category, v.mappa_level, v.rosh,
                      v.risk_level, v.retention_group, v.manager, v.force):
            combo.setEnabled(not read_only)
        for table in (v.aliases, v.identifiers, v.addresses):
            table.set_read_only(read_only)
        v.notes.setReadOnly(read_only)
        v.save_button.setVisible(not read_only)

    # -- reading the fields ----------------------------------------------------------------
    def snapshot(self) -> Any:
        """Everything the user can change, as typed (to tell whether anything changed)."""
        v = self.view
        return (
            [e.text() for e in (v.surname, v.forenames, v.pnc, v.cro, v.establishment,
                                v.offence)],
            [c.currentData() for c in (v.gender, v.status, v.mappa_category, v.mappa_level,
                                       v.rosh, v.risk_level, v.retention_group)],
            v.manager.currentText(), v.force.currentText(),
            {k: e.text() for k, e in v.dates.items()},
            v.aliases.model.rows(), v.identifiers.model.rows(), v.addresses.model.rows(),
            v.notes.toPlainText(),
        )

    def dirty(self) -> bool:
        return bool(self.snapshot() != self._baseline)

    def collect(self) -> tuple[Nominal, list[Problem]]:
        """The record the fields describe and the problems only the form can see (text that
        is not a date)."""
        v = self.view
        problems: list[Problem] = []

        def date_of(key: str) -> date | None:
            try:
                return v.dates[key].date()
            except DateTextError as exc:
                problems.append(Problem(key, str(exc)))
                return None

        def cell_date(where: str, text: str) -> date | None:
            try:
                return parse_uk_date(text)
            except DateTextError as exc:
                problems.append(Problem(where, str(exc)))
                return None

        aliases = []
        for i, (surname, forenames, dob) in enumerate(v.aliases.model.rows()):
            if not (surname.strip() or forenames.strip() or dob.strip()):
                continue
            aliases.append(Alias(surname.strip(), forenames.strip(),
                                 cell_date(f"aliases[{i}].dob", dob)))
        identifiers = []
        for kind, value in v.identifiers.model.rows():
            if not value.strip() and kind == IdentifierType.PNC.value:
                continue  # a row added and left blank
            identifiers.append(Identifier(IdentifierType(kind or IdentifierType.PNC.value),
                                          value.strip()))
        addresses = []
        for i, (text, postcode, start, end) in enumerate(v.addresses.model.rows()):
            if not (text.strip() or postcode.strip() or start.strip() or end.strip()):
                continue
            addresses.append(Address(text.strip(), postcode.strip().upper(),
                                     cell_date(f"addresses[{i}].date_from", start),
                                     cell_date(f"addresses[{i}].date_to", end)))
        dates = LicenceDates(**{name: date_of(f"dates.{name}") for name in DATE_FIELDS})
        values: dict[str, Any] = dict(
            surname=v.surname.text().strip(),
            forenames=v.forenames.text().strip(),
            dob=date_of("dob"),
            gender=_as(Gender, v.gender.currentData()),
            pnc=_strip(v.pnc.text()),
            cro=_strip(v.cro.text()),
            aliases=tuple(aliases),
            status=_as(Status, v.status.currentData()),
            establishment=_strip(v.establishment.text()),
            release_date=date_of("release_date"),
            risk_level=_as(RiskLevel, v.risk_level.currentData()),
            mappa_category=_as(int, v.mappa_category.currentData()),
            mappa_level=_as(int, v.mappa_level.currentData()),
            nominal_manager=_strip(v.manager.currentText()),
            force=_strip(v.force.currentText()),
            offence=_strip(v.offence.text()),
            notification_end=date_of("notification_end"),
            notes=_strip(v.notes.toPlainText()),
            identifiers=tuple(identifiers),
            addresses=tuple(addresses),
            dates=dates,
            rosh=_as(Rosh, v.rosh.currentData()),
            retention_group=_as(int, v.retention_group.currentData()),
        )
        record = (replace(self.record, **values) if self.record is not None
                  else Nominal(**values))
        return record, problems

    # -- validation ------------------------------------------------------------------------
    def changed(self, *_args: Any) -> None:
        if self._loading:
            return
        record, problems = self.collect()
        seen = {p.field for p in problems}
        problems += [p for p in self._validate(record) if p.field not in seen]
        self.problems = problems
        self.show_problems(problems)
        self._pnc_hint()
        if self._on_change is not None:
            self._on_change()

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def show_problems(self, problems: Sequence[Problem]) -> None:
        v = self.view
        by_key: dict[str, tuple[list[str], list[str]]] = {k: ([], []) for k in v.messages}
        table_rows: dict[str, dict[int, str]] = {"aliases": {}, "identifiers": {},
                                                 "addresses": {}}
        for p in problems:
            key, text, row = self._route(p)
            if key not in by_key:
                key = "surname"  # nothing better: never lose a message
            errors, warnings = by_key[key]
            (errors if p.severity is Severity.ERROR else warnings).append(text)
            if row is not None and key in table_rows:
                table_rows[key][row] = ("error" if p.severity is Severity.ERROR
                                        or table_rows[key].get(row) == "error" else "warning")
        tab_state: dict[int, str] = {}
        for key, (errors, warnings) in by_key.items():
            widget = v.fields.get(key)
            target = None if isinstance(widget, ChildTable | QPlainTextEdit) else widget
            v.messages[key].show_messages(errors, warnings, target)
            tab = v.field_tab.get(key)
            if tab is not None and (errors or warnings):
                tab_state[tab] = "error" if errors or tab_state.get(tab) == "error" \
                    else "warning"
        for key, rows in table_rows.items():
            table = v.fields[key]
            assert isinstance(table, ChildTable)
            table.model.mark(rows)
        for tab in range(TAB_HISTORY):
            state = tab_state.get(tab)
            v.tabs.setTabIcon(tab, icon("warning") if state else icon(""))
            v.tabs.setTabToolTip(tab, {"error": "Something here must be corrected",
                                       "warning": "Something here needs a look"}.get(
                                           state or "", ""))

    @staticmethod
    def _route(p: Problem) -> tuple[str, str, int | None]:
        """(field key, message for the user, table row) of a problem."""
        path = p.field
        for table, noun in (("aliases", "Alias"), ("identifiers", "Identifier"),
                            ("addresses", "Address")):
            if path.startswith(f"{table}["):
                index_text, _, rest = path[len(table) + 1:].partition("]")
                row = int(index_text) if index_text.isdigit() else 0
                part = rest.lstrip(".")
                part_label = {"dob": "date of birth", "date_from": "start date",
                              "date_to": "end date", "value": "value", "text": "address",
                              "surname": "name"}.get(part, part)
                return table, f"{noun} {row + 1}: {part_label} {p.message}.", row
        return path, f"{field_label(path)} {p.message}.", None

    def _pnc_hint(self) -> None:
        """The PNC ID as it will be matched (YYYY/NNNNNNNL), beside the field, as it is typed."""
        v = self.view
        text = v.pnc.text().strip()
        parsed = parse_pnc(text) if text else None
        if not text or parsed is None:
            v.pnc_normalised.setText("")
            return
        mark = "✓ check letter correct" if parsed.check_ok else "⚠ check letter wrong"
        v.pnc_normalised.setText(f"→ {parsed.normalised}   {mark}")

    def save(self) -> Nominal:
        """The record to store; NominalInvalid if an error blocks it."""
        self.changed()
        if self.errors:
            raise NominalInvalid(self.problems)
        record, _ = self.collect()
        return record

    def accepted(self, record: Nominal) -> None:
        """The record was stored: it becomes what "unchanged" means."""
        self.record = record
        self._baseline = self.snapshot()
        if self._on_change is not None:
            self._on_change()


class NominalRecordPage(QWidget):
    """One record: open (audited as consultation), edit, save with a reason, history, faults.

    ``open(ref)`` or ``new()``; emits ``back_requested`` and ``saved(ref)``."""

    back_requested = Signal()
    saved = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.get(NominalService)
        self.quality = services.get(QualityService)
        self.view = NominalFormView(self)
        self.controller = NominalFormController(self.view, self.service.validate,
                                                self._update_state)
        self.ref: str | None = None
        self.saving = False
        self.can_write = services.can(Perm.NOMINAL_WRITE)
        self._extra_tabs: list[QWidget] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.save_button.clicked.connect(self.save)
        self.view.back_button.clicked.connect(self.request_back)
        QShortcut(QKeySequence("Ctrl+S"), self, self.save,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._fill_choices()

    def _fill_choices(self) -> None:
        with contextlib.suppress(CasewardError):
            for combo, field in ((self.view.manager, "nominal_manager"),
                                 (self.view.force, "force")):
                combo.addItems(self.service.distinct_values(field))
                combo.setCurrentIndex(-1)

    # -- open ------------------------------------------------------------------------------
    def open(self, ref: str, purpose: str = "view") -> Nominal:
        """Open a record (the service audits it as consultation with ``purpose``)."""
        record = self.service.get(ref, purpose=purpose)
        self.ref = record.ref
        self.controller.load(record)
        merged = bool(record.merged_into)
        self.controller.set_read_only(merged or not self.can_write)
        self.view.banner.setText(
            f"This record was merged into {record.merged_into}; it is kept for its history "
            "and cannot be edited." if merged else
            ("" if self.can_write else "You can read this record; your role cannot change it."))
        self.view.banner.setVisible(bool(self.view.banner.text()))
        self._refresh_side(record)
        self._set_extra_tabs(record.ref or ref)
        self.view.tabs.setCurrentIndex(TAB_IDENTITY)
        return record

    def new(self) -> None:
        self.ref = None
        self.controller.load(None)
        self.controller.set_read_only(False)
        self.view.banner.setVisible(False)
        self.view.faults.setVisible(False)
        self.view.history_model.set_rows([])
        self._set_extra_tabs(None)
        self.view.tabs.setCurrentIndex(TAB_IDENTITY)
        self._update_state()
        self.view.surname.setFocus()

    def _refresh_side(self, record: Nominal) -> None:
        """History and data-quality faults of the open record."""
        ref = record.ref or ""
        try:
            entries: list[HistoryEntry] = self.service.history(ref)
            faults: list[Fault] = self.quality.faults_for(ref)
        except CasewardError as exc:
            self.services.dialogs.error(self, "Nominal", str(exc))
            return
        self.view.history_model.set_entries(entries)
        self.show_faults(faults)

    def show_faults(self, faults: Sequence[Fault]) -> None:
        if not faults:
            self.view.faults.setVisible(False)
            return
        items = "; ".join(f.title + (" (warning)" if f.severity is Severity.WARNING else "")
                          for f in faults)
        self.view.faults.setText(f"Data-quality faults on this record: {items}.")
        self.view.faults.setVisible(True)

    def _set_extra_tabs(self, ref: str | None) -> None:
        for widget in self._extra_tabs:
            index = self.view.tabs.indexOf(widget)
            if index >= 0:
                self.view.tabs.removeTab(index)
            widget.deleteLater()
        self._extra_tabs = []
        if ref is None:
            return
        for title, widget in engagement_tabs(self.services, ref):
            self.view.tabs.addTab(widget, title)
            self._extra_tabs.append(widget)

    # -- state -----------------------------------------------------------------------------
    def _update_state(self) -> None:
        v = self.view
        c = self.controller
        if self.ref:
            record = c.record
            name = record.display_name if record is not None else ""
            v.title.setText(f"{name}  ·  {self.ref}" if name else self.ref)
            when = ""
            if record is not None and record.updated_at is not None:
                from ui.nominals.common import local_datetime

                when = (f"Last changed {local_datetime(record.updated_at)} by "
                        f"{record.updated_by or 'unknown'}")
            v.subtitle.setText(when)
        else:
            v.title.setText("New nominal")
            v.subtitle.setText("Surname is required; the others marked in amber are mandatory "
                               "for the national list.")
        errors, warnings = len(c.errors), len(c.warnings)
        bits = []
        if errors:
            bits.append(f"{errors} problem{'s' if errors != 1 else ''} to correct before saving")
        if warnings:
            bits.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        if c.dirty():
            bits.append("unsaved changes")
        elif self.ref:
            bits.append("no unsaved changes")
        v.summary.setText(" · ".join(bits))
        v.save_button.setEnabled(not errors and not self.saving
                                 and (c.dirty() or self.ref is None))

    # -- save ------------------------------------------------------------------------------
    def save(self) -> None:
        if self.saving or not self.can_write or not self.view.save_button.isVisible():
            return
        focus = QApplication.focusWidget()
        if focus is not None and self.isAncestorOf(focus):
            # Commit a table cell being edited: its editor writes back when it loses focus.
            self.view.save_button.setFocus()
        try:
            record = self.controller.save()
        except NominalInvalid:
            self._focus_first_error()
            return
        if self.ref is not None and not self.controller.dirty():
            return
        reason = "New record"
        if self.ref is not None:
            answer = self.services.dialogs.ask_text(
                self, "Save changes", "Reason for the changes (optional):", "Updated")
            if answer is None:
                return
            reason = answer.strip() or "Updated"
        ref = self.ref
        self.saving = True
        self._update_state()
        self.view.general.setVisible(False)

        def work() -> Any:
            if ref is None:
                return self.service.add(record, reason)
            return self.service.update(ref, record, reason)

        def done(result: Any) -> None:
            self.saving = False
            stored = replace(record, ref=result.ref)
            self.ref = result.ref
            self.controller.accepted(stored)
            self.controller.set_read_only(False)
            self._refresh_side(stored)
            if ref is None:
                self._set_extra_tabs(result.ref)
            self._update_state()
            self.view.summary.setText(f"Saved {result.ref}. " + self.view.summary.text())
            self.saved.emit(result.ref)

        def failed(exc: CasewardError) -> None:
            self.saving = False
            if isinstance(exc, NominalInvalid):
                self.controller.show_problems(exc.problems)
                self._focus_first_error()
            else:
                text = (f"{field_label(exc.field)} {exc.message}."
                        if isinstance(exc, ValidationError) else str(exc))
                self.view.general.setText(f"Not saved: {text}")
                self.view.general.setVisible(True)
            self._update_state()

        def bug(_text: str) -> None:
            self.saving = False
            self._update_state()

        run(self.services, "nominal.save", work, done, self, failed, bug)

    def _focus_first_error(self) -> None:
        for p in self.controller.errors:
            key, _, _ = NominalFormController._route(p)
            widget = self.view.fields.get(key)
            tab = self.view.field_tab.get(key)
            if widget is not None and tab is not None:
                self.view.tabs.setCurrentIndex(tab)
                widget.setFocus()
                return

    # -- leaving ---------------------------------------------------------------------------
    def request_back(self) -> bool:
        """Back to the list; asks first if there are unsaved changes. True if it went back."""
        if self.saving:
            return False
        if self.controller.dirty() and self.can_write:
            discard = self.services.dialogs.confirm(
                self, "Unsaved changes",
                "This record has changes that are not saved. Discard them?", "Discard changes")
            if not discard:
                return False
        self.back_requested.emit()
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.request_back()
            event.accept()
            return
        super().keyPressEvent(event)

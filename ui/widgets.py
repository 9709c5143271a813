"""Small shared widgets: marking banner, headings, field errors, passphrase entry, empty states,
Ctrl+C on tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QAbstractItemModel, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.vault import MIN_PASSPHRASE
from ui.strength import estimate
from ui.theme import MARKING, icon, repolish


class MarkingBanner(QLabel):
    """The protective marking across the top of a window."""

    def __init__(self, marking: str = MARKING, parent: QWidget | None = None) -> None:
        super().__init__(marking, parent)
        self.setObjectName("MarkingBanner")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAccessibleName(f"Protective marking: {marking}")


def isolate(text: str) -> str:
    """User text wrapped in Unicode bidi isolates, so that right-to-left text or a stray
    direction override in it cannot reorder the text around it when joined into one line."""
    return f"\u2068{text}\u2069"


_PREDICATE_STARTS = ("must", "is", "are", "was", "cannot", "can", "may", "should", "needs",
                     "has", "does", "do", "contains", "looks")


def field_message(label: str, message: str) -> str:
    """A service's ValidationError message as a sentence under its field.

    "must be at most 200 characters" reads on from the field's name ("The area must be ...");
    a message that is a clause of its own ("an account with that name already exists") is
    shown alone, capitalised, rather than as "The user name an account with ..."."""
    message = message.strip().rstrip(".")
    if not message:
        return ""
    first = message.split(" ", 1)[0].lower()
    if first in _PREDICATE_STARTS:
        return f"{label} {message}."
    return f"{message[0].upper()}{message[1:]}."


def heading(title: str, subtitle: str = "") -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 4)
    layout.setSpacing(2)
    label = QLabel(title)
    label.setObjectName("PageTitle")
    layout.addWidget(label)
    if subtitle:
        sub = QLabel(subtitle)
        sub.setObjectName("PageSubtitle")
        sub.setWordWrap(True)
        layout.addWidget(sub)
    return box


def message_label(object_name: str, text: str = "") -> QLabel:
    """A boxed message (ErrorBox, InfoBox, WarnBox, OkBanner, BadBanner); hidden when empty."""
    label = QLabel(text)
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setVisible(bool(text))
    return label


class FieldError(QLabel):
    """The validation message that sits under its field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FieldError")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.hide()

    def show_error(self, text: str, field: QWidget | None = None) -> None:
        self.setText(text)
        self.setVisible(bool(text))
        if field is not None:
            field.setProperty("invalid", bool(text))
            repolish(field)

    def clear_error(self, field: QWidget | None = None) -> None:
        self.show_error("", field)


def with_error(field: QWidget, error: FieldError) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(3)
    layout.addWidget(field)
    layout.addWidget(error)
    return box


class CapsLockWatcher(QObject):
    """Caps-lock guess from typed letters (Qt has no portable caps-lock query on Linux).

    A letter whose case disagrees with the Shift key means caps lock is on; one that agrees
    means it is off. Other keys leave the guess as it was."""

    changed = Signal(bool)

    def __init__(self, field: QLineEdit) -> None:
        super().__init__(field)
        self.on = False
        field.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            self.feed(event.text(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        return False

    def feed(self, text: str, shift: bool) -> None:
        if len(text) != 1 or not text.isalpha() or text.lower() == text.upper():
            return
        caps = text.isupper() != shift
        if caps != self.on:
            self.on = caps
            self.changed.emit(caps)


def caps_warning_label() -> QLabel:
    label = QLabel("Caps Lock appears to be on.")
    label.setObjectName("CapsWarning")
    label.hide()
    return label


class StrengthMeter(QWidget):
    """Bar + label + hint, updated from a passphrase field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(3)
        row = QHBoxLayout()
        row.setSpacing(10)
        self.bar = QProgressBar()
        self.bar.setObjectName("StrengthMeter")
        self.bar.setRange(0, 8)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Passphrase strength")
        self.label = QLabel()
        self.label.setMinimumWidth(70)
        row.addWidget(self.bar, 1)
        row.addWidget(self.label)
        layout.addLayout(row)
        self.hint = QLabel()
        self.hint.setObjectName("Hint")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.update_for("")

    def update_for(self, passphrase: str) -> None:
        s = estimate(passphrase, MIN_PASSPHRASE)
        self.bar.setValue(s.score * 2 if s.score else (1 if passphrase else 0))
        self.bar.setProperty("level", str(s.score))
        repolish(self.bar)
        self.label.setText(s.label)
        self.hint.setText(s.hint)
        self.score = s.score


class PassphraseFields(QObject):
    """Passphrase + confirmation + strength meter + per-field messages, for a QFormLayout."""

    changed = Signal()

    def __init__(self, form: QFormLayout, label: str = "&Passphrase:", *,
                 parent: QObject) -> None:
        # Parented so that Qt, not Python's garbage collector (which may run on any thread),
        # decides when it goes.
        super().__init__(parent)
        self.first = QLineEdit()
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setAccessibleName("Passphrase")
        self.first.setPlaceholderText(f"At least {MIN_PASSPHRASE} characters")
        self.second = QLineEdit()
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setAccessibleName("Confirm passphrase")
        self.meter = StrengthMeter()
        self.first_error = FieldError()
        self.second_error = FieldError()
        self.caps = caps_warning_label()
        self._caps_watchers = [CapsLockWatcher(self.first), CapsLockWatcher(self.second)]
        for watcher in self._caps_watchers:
            watcher.changed.connect(self.caps.setVisible)
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        col.addWidget(self.first)
        col.addWidget(self.meter)
        col.addWidget(self.first_error)
        first_label = QLabel(label)
        first_label.setBuddy(self.first)
        form.addRow(first_label, box)
        second_label = QLabel("C&onfirm:")
        second_label.setBuddy(self.second)
        form.addRow(second_label, with_error(self.second, self.second_error))
        form.addRow("", self.caps)
        self.first.textChanged.connect(self._on_change)
        self.second.textChanged.connect(self._on_change)

    def _on_change(self) -> None:
        self.meter.update_for(self.first.text())
        self.first_error.clear_error(self.first)
        if self.second.text() and not self.first.text().startswith(self.second.text()):
            self.second_error.show_error("The two entries differ.", self.second)
        else:
            self.second_error.clear_error(self.second)
        self.changed.emit()

    def validate(self) -> str | None:
        """The passphrase if both entries are acceptable; otherwise shows why and returns None."""
        from app.domain.errors import ValidationError
        from app.services.vault import check_new_passphrase

        value = self.first.text()
        try:
            check_new_passphrase(value)
        except ValidationError as exc:
            self.first_error.show_error(f"The passphrase {exc.message}.", self.first)
            return None
        if value != self.second.text():
            self.second_error.show_error("The two entries differ.", self.second)
            return None
        return value

    def filled(self) -> bool:
        return len(self.first.text()) >= MIN_PASSPHRASE and self.first.text() == self.second.text()

    def clear(self) -> None:
        self.first.clear()
        self.second.clear()


class EmptyState(QWidget):
    """A calm, centred explanation for a view with nothing to show yet."""

    def __init__(self, icon_name: str, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.setSpacing(8)
        pic = QLabel()
        pic.setPixmap(icon(icon_name).pixmap(56, 56))
        pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head = QLabel(title)
        head.setObjectName("EmptyTitle")
        head.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body = QLabel(text)
        body.setObjectName("EmptyText")
        body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.setWordWrap(True)
        body.setMinimumWidth(440)
        body.setMaximumWidth(560)
        layout.addWidget(pic)
        layout.addWidget(head)
        layout.addWidget(body, 0, Qt.AlignmentFlag.AlignHCenter)


def card(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("Card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(16, 14, 16, 14)
    layout.setSpacing(6)
    label = QLabel(title)
    label.setObjectName("CardTitle")
    layout.addWidget(label)
    return frame, layout


def record_table(model: QAbstractItemModel, name: str, *, row_height: int | None = 26,
                 widths: Sequence[int] | Mapping[int, int] = (), stretch: Sequence[int] = (),
                 stretch_last: bool = False, multi: bool = False, alternating: bool = True,
                 wrap: bool = False, sort_column: int | None = None,
                 copy: bool = True) -> QTableView:
    """A read-only table of records: whole-row selection, no editing, no row numbers, Tab leaves
    the table (arrows move inside), Ctrl+C and a right-click Copy put the selection on the
    clipboard (`install_copy`; cleared again by ui.clipboard). Enter and double-click emit
    ``activated``: callers connect it to open the record.

    - ``row_height``: every row that high, one line each (rows cannot be resized); None keeps
      the style's height, for a caller that fits rows to wrapped text.
    - ``widths``: column widths, from the first column (or {column: width}); ``stretch``:
      columns that share the width left over; ``stretch_last``: the last column takes it.
    - ``multi``: several rows may be selected (Shift/Ctrl), else one.
    - ``alternating``: alternate row colours; ``wrap``: long text wraps instead of eliding.
    - ``sort_column``: a header click sorts (the model's ``sort()``); the indicator starts on
      that column, ascending (-1: no indicator).
    """
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                          else QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(alternating)
    view.setWordWrap(wrap)
    view.setTabKeyNavigation(False)
    rows = view.verticalHeader()
    rows.setVisible(False)
    if row_height is not None:
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(row_height)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    for col, width in (widths.items() if isinstance(widths, Mapping) else enumerate(widths)):
        view.setColumnWidth(col, width)
    for col in stretch:
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
    header.setStretchLastSection(stretch_last)
    if sort_column is not None:
        header.setSortIndicator(sort_column, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
    if copy:
        install_copy(view)
    return view


CELL_PAD = 9  # a cell's text margins (3 px a side) and the grid line
HEADER_PAD = 20  # QHeaderView::section's padding (8 px a side, resources/style.qss) and border


def heading_metrics(view: QTableView) -> QFontMetrics:
    """Metrics of the table's column headings, which the style sheet draws bold."""
    font = QFont(view.horizontalHeader().font())
    font.setBold(True)
    return QFontMetrics(font)


def fit_headings(view: QTableView) -> None:
    """Widen any column narrower than its (bold) heading, which was cut to "Date of birt"."""
    metrics = heading_metrics(view)
    model = view.model()
    for col in range(model.columnCount()):
        title = str(model.headerData(col, Qt.Orientation.Horizontal,
                                     Qt.ItemDataRole.DisplayRole) or "")
        needed = metrics.horizontalAdvance(title) + 24
        if view.columnWidth(col) < needed:
            view.setColumnWidth(col, needed)


def _cell_text(value: object) -> str:
    # A tab or line break inside a cell would split it when pasted into a spreadsheet.
    text = "" if value is None else str(value)
    return " ".join(text.replace("\t", " ").splitlines())


def selection_as_tsv(view: QTableView) -> str:
    """The selected cells (else the current one) as tab-separated rows, in on-screen order;
    hidden columns are left out, gaps in a ragged selection are empty cells."""
    selection = view.selectionModel()
    indexes = list(selection.selectedIndexes()) if selection is not None else []
    if not indexes and view.currentIndex().isValid():
        indexes = [view.currentIndex()]
    header = view.horizontalHeader()
    cells: dict[tuple[int, int], str] = {}
    for index in indexes:
        if view.isColumnHidden(index.column()):
            continue
        col = header.visualIndex(index.column())
        cells[(index.row(), col)] = _cell_text(index.data(Qt.ItemDataRole.DisplayRole))
    if not cells:
        return ""
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    return "\n".join("\t".join(cells.get((r, c), "") for c in cols) for r in rows)


_COPY_ACTION = "copySelection"


def install_copy(view: QTableView) -> QAction:
    """Ctrl+C (and a right-click "Copy") on a table: the selected cells as tab-separated text.

    The clipboard is cleared again after the configured delay (ui.clipboard). Installing it
    twice returns the first action (two actions on one shortcut would make Ctrl+C ambiguous)."""
    for existing in view.actions():
        if existing.objectName() == _COPY_ACTION:
            return existing
    action = QAction("&Copy", view)
    action.setObjectName(_COPY_ACTION)
    action.setShortcut(QKeySequence.StandardKey.Copy)
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.setToolTip("Copy the selected rows as tab-separated text")

    def copy() -> None:
        text = selection_as_tsv(view)
        if text:
            QGuiApplication.clipboard().setText(text)

    action.triggered.connect(copy)
    view.addAction(action)
    if view.contextMenuPolicy() == Qt.ContextMenuPolicy.DefaultContextMenu:
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    return action

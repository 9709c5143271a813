"""Exports in the window: the export dialog (return or briefing, period, destination, recipient,
justification; runs in the background with Cancel) and the Returns area (past disclosures).

Recent recipients are kept in QSettings as organisation strings only: never record data."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.services.audit import AuditRecord
from app.services.exports import Disclosure, ExportService, proposed_name
from ui.ops import OpContext, Operation, OpProgressSink
from ui.services import Services
from ui.tablemodel import RowTableModel
from ui.widgets import EmptyState, FieldError, heading, record_table, with_error

RECENT_KEY = "exports/recent_recipients"
RECENT_MAX = 10
BRIEFING = "briefing"
_Index = QModelIndex | QPersistentModelIndex


# --- destinations and remembered recipients -------------------------------------------------


def removable_media(user: str | None = None, roots: list[Path] | None = None) -> list[Path]:
    """Mounted removable media, for the top of the destination list: the folders under
    /media/USER, /run/media/USER and /mnt."""
    user = user or _user_name()
    bases = roots if roots is not None else [Path("/media") / user, Path("/run/media") / user,
                                             Path("/mnt")]
    found: list[Path] = []
    for base in bases:
        try:
            children = sorted(p for p in base.iterdir() if p.is_dir())
        except OSError:
            continue
        found.extend(p for p in children if os.access(p, os.W_OK) and p not in found)
    return found


def _user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment: no per-user media folders
        return ""


def recent_recipients(settings: QSettings) -> list[str]:
    value = settings.value(RECENT_KEY, [])
    # QSettings gives a str for a one-item list (INI back end) and None for an empty one.
    values: list[object] = ([value] if isinstance(value, str) else
                            list(value) if isinstance(value, list | tuple) else [])
    return [str(v) for v in values if str(v).strip()][:RECENT_MAX]


def remember_recipient(settings: QSettings, recipient: str) -> None:
    names = [recipient] + [r for r in recent_recipients(settings) if r != recipient]
    settings.setValue(RECENT_KEY, names[:RECENT_MAX])
    settings.sync()



# --- what the dialogs that write or print a disclosure share ---------------------------------


def run_buttons(
    action: str, start: Callable[[], object], cancel: Callable[[], object],
    close: Callable[[], object],
) -> tuple[QDialogButtonBox, QPushButton, QPushButton, QPushButton]:
    """The buttons of a dialog that writes (or prints) off the UI thread: the action, Cancel
    (which stops it while it runs), and Close, hidden until it is done (`show_done`).
    Returns (box, action button, Cancel, Close)."""
    box = QDialogButtonBox()
    go = box.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
    cancel_button = box.addButton(QDialogButtonBox.StandardButton.Cancel)
    close_button = box.addButton(QDialogButtonBox.StandardButton.Close)
    close_button.hide()
    # Enter runs the action, never whichever other button last had the focus (Browse…).
    go.setDefault(True)
    for b in (cancel_button, close_button):
        b.setAutoDefault(False)
    go.clicked.connect(start)
    cancel_button.clicked.connect(cancel)
    close_button.clicked.connect(close)
    return box, go, cancel_button, close_button


def show_done(go: QPushButton, cancel: QPushButton, close: QPushButton) -> None:
    """Done: only Close is left to press, and it is the default button."""
    go.hide()
    go.setDefault(False)
    cancel.hide()
    close.show()
    close.setDefault(True)
    close.setFocus()


def show_progress(bar: QProgressBar, done: int, total: int) -> None:
    """An operation's progress; until it knows its total the bar stays busy."""
    if total > 0:
        bar.setRange(0, total)
        bar.setValue(min(done, total))


@dataclass(frozen=True)
class ExportChoice:
    """What the dialog will export: a registered return, or a nominal's briefing."""

    key: str
    title: str
    takes_period: bool


# --- the dialog -------------------------------------------------------------------------------


class ExportDialog(QDialog):
    """Choose what to export and where, say to whom and why; export off the UI thread."""

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 nominal_ref: str | None = None, today: date | None = None,
                 media: list[Path] | None = None, initial: str | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.exports = services.get(ExportService)
        self.today = today or date.today()
        self.nominal_ref = nominal_ref
        self.disclosure: Disclosure | None = None
        self.op: Operation | None = None
        self.setWindowTitle("Export and disclose")
        self.setMinimumWidth(620)

        self.choices: list[ExportChoice] = []
        if nominal_ref:
            self.choices.append(ExportChoice(BRIEFING, f"Nominal briefing ({nominal_ref})",
                                             False))
        self.choices += [ExportChoice(d.name, d.title, d.takes_period)
                         for d in self.exports.returns()]
        self.what = QComboBox()
        self.what.setAccessibleName("What to export")
        for c in self.choices:
            self.what.addItem(c.title, c.key)
        if initial:  # opened from a view that exports one return (Actions, Performance)
            self.what.setCurrentIndex(max(self.what.findData(initial), 0))
        self.what.currentIndexChanged.connect(self._on_what)

        self.start = QDateEdit(_qdate(self.today.replace(day=1)))
        self.end = QDateEdit(_qdate(self.today))
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        period = QHBoxLayout()
        period.addWidget(self.start)
        period.addWidget(QLabel("to"))
        period.addWidget(self.end)
        period.addStretch(1)
        self.period_row = QWidget()
        self.period_row.setLayout(period)
        period.setContentsMargins(0, 0, 0, 0)

        self.folder = QComboBox()
        self.folder.setEditable(True)
        self.folder.setAccessibleName("Destination folder")
        for m in (media if media is not None else removable_media()):
            self.folder.addItem(f"{m}  (removable media)", str(m))
        home = Path.home()
        self.folder.addItem(str(home), str(home))
        browse = QPushButton("&Browse…")
        browse.setAutoDefault(False)  # Enter exports (or closes), it never opens the browser
        browse.clicked.connect(self._browse)
        self.browse_button = browse
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(0, 0, 0, 0)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        folder_box = QWidget()
        folder_box.setLayout(folder_row)
        self.name = QLineEdit()
        self.name.setAccessibleName("File name")

        self.recipient = QComboBox()
        self.recipient.setEditable(True)
        self.recipient.setAccessibleName("Recipient")
        self.recipient.addItems(recent_recipients(services.prefs.settings))
        self.recipient.setCurrentText("")
        line = self.recipient.lineEdit()
        if line is not None:
            line.setPlaceholderText("Organisation or role receiving it")
        self.justification = QPlainTextEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setPlaceholderText(
            "Why it is disclosed (lawful basis, purpose); kept in the audit log")
        self.justification.setFixedHeight(72)
        self.justification.setTabChangesFocus(True)
        # Each required field says what is missing under itself, as it is typed.
        self.recipient_error = FieldError()
        self.justification_error = FieldError()
        self.touched: set[str] = set()
        self.submitted = False
        self.recipient.editTextChanged.connect(lambda _t: self._touch("recipient"))
        self.justification.textChanged.connect(lambda: self._touch("justification"))
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()

        form = QFormLayout()
        form.addRow("&Export", self.what)
        form.addRow("&Period", self.period_row)
        form.addRow("&Destination", folder_box)
        form.addRow("File &name", self.name)
        recipient_label = QLabel("&Recipient")
        recipient_label.setBuddy(self.recipient)
        form.addRow(recipient_label, with_error(self.recipient, self.recipient_error))
        justification_label = QLabel("&Justification")
        justification_label.setBuddy(self.justification)
        form.addRow(justification_label,
                    with_error(self.justification, self.justification_error))
        marking = QLabel(f"Marked {self.exports.marking().text}; a .sha256 file is written "
                         "beside it and the disclosure is recorded in the audit log.")
        marking.setWordWrap(True)
        marking.setObjectName("Hint")

        self.progress = QProgressBar()
        self.progress.hide()
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.hide()
        self.open_folder = QPushButton("Open &folder")
        self.open_folder.setAutoDefault(False)
        self.open_folder.hide()
        self.open_folder.clicked.connect(self._open_folder)
        self.print_button = QPushButton("&Print…")
        self.print_button.setAutoDefault(False)
        self.print_button.hide()
        self.print_button.clicked.connect(self._print)

        self.buttons, self.export_button, self.cancel_button, self.close_button = run_buttons(
            "E&xport", self.start_export, self._cancel, self.accept)

        done_row = QHBoxLayout()
        done_row.addWidget(self.open_folder)
        done_row.addWidget(self.print_button)
        done_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(marking)
        layout.addWidget(self.problem)
        layout.addWidget(self.progress)
        layout.addWidget(self.outcome)
        layout.addLayout(done_row)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._on_what()

    # -- state -----------------------------------------------------------------------------------
    @property
    def choice(self) -> ExportChoice:
        return self.choices[max(self.what.currentIndex(), 0)]

    def folder_path(self) -> Path:
        data = self.folder.currentData()
        text = self.folder.currentText()
        if data and self.folder.itemText(self.folder.currentIndex()) == text:
            return Path(str(data))
        return Path(text.strip()).expanduser()

    def target(self) -> Path:
        return self.folder_path() / self.name.text().strip()

    def _on_what(self) -> None:
        c = self.choice
        self.period_row.setEnabled(c.takes_period)
        ref = self.nominal_ref if c.key == BRIEFING else None
        self.name.setText(proposed_name(c.key, self.today, ref))

    def _browse(self) -> None:
        chosen = self.services.dialogs.save_file(
            self, "Export to", str(self.target()),
            "PDF (*.pdf)" if self.choice.key == BRIEFING else "Excel workbook (*.xlsx)")
        if chosen:
            path = Path(chosen)
            self.folder.setEditText(str(path.parent))
            self.name.setText(path.name)

    def _fail(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        self._fit()

    def _fit(self) -> None:
        """Grow to hold what was just shown (wrapped labels would otherwise overlap)."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        width = self.width()
        want = (layout.totalHeightForWidth(width) if layout.hasHeightForWidth()
                else layout.totalSizeHint().height())
        want = max(want, layout.totalMinimumSize().height())
        if want > self.height():
            self.resize(width, want)

    def _touch(self, key: str) -> None:
        self.touched.add(key)
        self.check_fields()

    def check_fields(self) -> str | None:
        """Show under each required field what is missing (once it has been edited, or after
        Export was pressed); the key of the first field at fault, or None."""
        missing = {
            "recipient": "Say who will receive it (the recipient is required)."
            if not self.recipient.currentText().strip() else "",
            "justification": "Say why it is being disclosed (the justification is required)."
            if not self.justification.toPlainText().strip() else "",
        }
        fields = {"recipient": (self.recipient, self.recipient_error),
                  "justification": (self.justification, self.justification_error)}
        for key, (field, error) in fields.items():
            shown = missing[key] if key in self.touched or self.submitted else ""
            error.show_error(shown, field)
        self._fit()
        return next((k for k, v in missing.items() if v), None)

    # -- running ---------------------------------------------------------------------------------
    def start_export(self) -> None:
        self.problem.hide()
        self.submitted = True
        recipient = self.recipient.currentText().strip()
        justification = self.justification.toPlainText().strip()
        fault = self.check_fields()
        if fault == "recipient":
            self.recipient.setFocus()
            return
        if fault == "justification":
            self.justification.setFocus()
            return
        name = self.name.text().strip()
        if not name or "/" in name or name in (".", ".."):
            self._fail("Give the file a name.")
            self.name.setFocus()
            return
        target = self.target()
        if not target.parent.is_dir():
            self._fail("The destination folder does not exist (is the media connected?).")
            return
        overwrite = False
        if target.exists() or target.with_name(target.name + ".sha256").exists():
            overwrite = self.services.dialogs.confirm(
                self, "Replace the file?",
                f"{target.name} already exists in that folder. Replace it and its .sha256?",
                "Replace")
            if not overwrite:
                return
        c = self.choice
        start = _pydate(self.start.date()) if c.takes_period else None
        end = _pydate(self.end.date()) if c.takes_period else None
        if start and end and start > end:
            self._fail("The period starts after it ends.")
            return
        exports, ref, today = self.exports, self.nominal_ref, self.today

        def work(ctx: OpContext) -> Disclosure:
            sink = OpProgressSink(ctx)
            if c.key == BRIEFING and ref:
                return exports.brief(ref, target, recipient=recipient,
                                     justification=justification, overwrite=overwrite,
                                     progress=sink, today=today)
            return exports.export_return(c.key, target, recipient=recipient,
                                         justification=justification, start=start, end=end,
                                         overwrite=overwrite, progress=sink, today=today)

        self._busy(True)
        self.op = self.services.ops.start(
            "export", work, on_result=lambda d: self._done(d, recipient),
            on_error=self._error, on_bug=self._bug, on_progress=self._progress)

    def _busy(self, busy: bool) -> None:
        for w in (self.what, self.period_row, self.folder, self.browse_button, self.name,
                  self.recipient, self.justification, self.export_button):
            w.setEnabled(not busy)
        if busy:
            self.period_row.setEnabled(False)
        else:
            self.period_row.setEnabled(self.choice.takes_period)
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)

    def _progress(self, done: int, total: int) -> None:
        show_progress(self.progress, done, total)

    def _done(self, result: Disclosure, recipient: str) -> None:
        self.op = None
        self.disclosure = result
        remember_recipient(self.services.prefs.settings, recipient)
        self.progress.hide()
        self.outcome.setText(
            f"Written: {result.path.name} ({result.size:,} bytes, marked {result.marking}).\n"
            f"SHA-256: {result.sha256}\nThe checksum is also in {result.path.name}.sha256; "
            "the disclosure is recorded in the audit log.")
        self.outcome.show()
        self.open_folder.show()
        self.print_button.setVisible(result.path.suffix.lower() == ".pdf")
        show_done(self.export_button, self.cancel_button, self.close_button)
        self._fit()
        # Once the outcome's wrapped lines are laid out; with the dialog as context, so that
        # a dialog closed (and deleted) in the meantime is not touched.
        QTimer.singleShot(0, self, self._fit)

    def _error(self, exc: CasewardError) -> None:
        self.op = None
        self._busy(False)
        self._fail(str(exc))

    def _bug(self, message: str) -> None:
        self.op = None
        self._busy(False)
        self._fail(message)

    def _cancel(self) -> None:
        if self.op is not None:
            # The export removes its temporary files as it stops; nothing is left behind.
            self.op.cancel()
            self.op = None
            self._busy(False)
            self._fail("Export cancelled; nothing was written.")
            return
        self.reject()

    def _open_folder(self) -> None:
        if self.disclosure is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.disclosure.path.parent)))

    def _print(self) -> None:
        if self.disclosure is None:
            return
        pages = print_pdf(self, self.disclosure.path, self.services.dialogs)
        if pages:
            refs = [self.nominal_ref] if self.nominal_ref else []
            self.exports.record_print(
                BRIEFING, refs or [self.disclosure.what], recipient=self.recipient.currentText(),
                justification=self.justification.toPlainText(), pages=pages,
                sha256=self.disclosure.sha256)

    def reject(self) -> None:
        if self.op is not None:
            self.op.cancel()
            self.op = None
        super().reject()


def print_pdf(parent: QWidget | None, source: Path | bytes, dialogs: Any,
              exec_dialog: Callable[[Any], bool] | None = None, *, doc_name: str = "",
              before_print: Callable[[int], None] | None = None) -> int:
    """Print a PDF (a file, or bytes held in memory) through the Qt print dialog, page by
    page; the number of pages printed (0 if cancelled or if printing is not possible here).

    ``before_print(pages)`` runs once the dialog is accepted and before anything reaches the
    printer (to audit the disclosure): if it raises, nothing is printed. Printing to a file is
    not offered: it would leave the document unencrypted on disk outside an export."""
    try:
        from PySide6.QtPdf import QPdfDocument
    except ImportError:
        dialogs.info(parent, "Printing", "Printing needs the PDF opened in a viewer: open the "
                     "folder and print it from there.")
        return 0
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter

    # Qt's QPdfDocument(QObject *parent) accepts nullptr (and PySide6 accepts None at run time);
    # PySide6 6.12's stub types the parent as a bare QObject.
    doc = QPdfDocument(parent)  # type: ignore[arg-type]
    buffer: QBuffer | None = None
    if isinstance(source, bytes):
        buffer = QBuffer(doc)
        buffer.setData(QByteArray(source))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        doc.load(buffer)
    else:
        doc.load(str(source))
    if doc.pageCount() <= 0:
        dialogs.error(parent, "Printing", "The PDF could not be read for printing.")
        return 0
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(doc_name or (source.name if isinstance(source, Path) else "Caseward"))
    dialog = QPrintDialog(printer, parent)
    dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintToFile, False)
    accepted = exec_dialog(dialog) if exec_dialog else (
        dialog.exec() == QDialog.DialogCode.Accepted)
    if not accepted:
        return 0
    pages = doc.pageCount()
    if before_print is not None:
        before_print(pages)
    # Pages are rasterised at no more than 300 dpi: at a high-resolution printer's 1200 dpi
    # one A4 page would be a 0.5 GB image.
    scale = min(1.0, 300.0 / max(printer.resolution(), 1))
    painter = QPainter(printer)
    try:
        for page in range(pages):
            if page:
                printer.newPage()
            rect = painter.viewport()
            image = doc.render(page, QSize(max(1, int(rect.width() * scale)),
                                           max(1, int(rect.height() * scale))))
            painter.drawImage(rect, image)
    finally:
        painter.end()
    return pages


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


# --- the Returns area -------------------------------------------------------------------------


class ReturnsTableModel(RowTableModel):
    """Past disclosures (exports and prints) from the audit log, newest first."""

    COLUMNS = ("When", "By", "What", "Record / return", "Recipient", "Justification", "File",
               "SHA-256")

    def __init__(self, rows: list[AuditRecord] | None = None) -> None:
        super().__init__()
        self._rows = list(rows or [])

    def cell(self, r: AuditRecord, col: int, role: int) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        detail = r.detail
        values = (
            r.at.strftime("%d/%m/%Y %H:%M"), r.user, _what(r.action), r.ref, r.recipient,
            " ".join(r.reason.split()), str(detail.get("file", "")),
            str(detail.get("sha256", "")),
        )
        return values[col]


def _what(action: str) -> str:
    kind, _, name = action.partition(".")
    return f"{'Printed' if kind == 'print' else 'Exported'} {name}"


class ReturnsView(QWidget):
    """The Returns area: past exports and prints, and a button for a new export."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.model = ReturnsTableModel()
        self.table = record_table(self.model, "Returns and disclosures", row_height=30,
                                  widths=(130, 80, 150, 130, 160, 220, 200), stretch_last=True,
                                  multi=True)
        self.new_button = QPushButton("&New export…")
        self.new_button.setProperty("primary", True)
        self.new_button.setToolTip("Write a return to removable media (Ctrl+N)")
        self.new_button.clicked.connect(self.new_export)
        QShortcut(QKeySequence("Ctrl+N"), self, self.new_export,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh = QPushButton("&Refresh")
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(heading("Returns and disclosures", "Every export and print of "
                              "records, as recorded in the audit log"), 1)
        top.addWidget(refresh, 0, Qt.AlignmentFlag.AlignBottom)
        top.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.empty = EmptyState(
            "folder", "Nothing has been disclosed yet",
            "Returns, briefings and meeting packs written or printed from this vault are "
            "listed here with their recipient, justification and checksum. Choose New "
            "export… (Ctrl+N) to write a return.")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(self.services.audit.disclosures())
        self.stack.setCurrentWidget(self.table if self.model.rowCount() else self.empty)

    def new_export(self) -> ExportDialog:
        dialog = ExportDialog(self.services, self)
        dialog.finished.connect(lambda _code: self.refresh())
        dialog.open()
        return dialog

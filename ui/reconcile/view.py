"""The Reconcile area: read a national list (off the UI thread, with progress and Cancel), review
each category side by side, decide each difference and possible match, resume a saved
reconciliation, and export the corrections return."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.services.exports import Disclosure, ExportService
from app.services.reconcile import (
    DIFFERENCES,
    KIND_LABELS,
    KINDS,
    ONLY_NATIONAL,
    ONLY_REGIONAL,
    OURS_RIGHT,
    POSSIBLE,
    QUERY_HUB,
    UPDATE_OURS,
    ItemDetail,
    ReconcileService,
    RunSummary,
)
from ui.ops import OpContext, Operation, OpProgressSink
from ui.reconcile.models import (
    CandidatesTableModel,
    FieldLinesTableModel,
    ReconcileItemsTableModel,
    RejectedRowsTableModel,
)
from ui.services import Services
from ui.views.exports import (
    recent_recipients,
    remember_recipient,
    run_buttons,
    show_done,
    show_progress,
)
from ui.widgets import fit_headings, message_label, record_table

NOT_READ = "not_read"
# Short tab titles, so that every tab shows with its count beside the side-by-side view.
TAB_TITLES = {DIFFERENCES: "Differences", POSSIBLE: "Possible", ONLY_NATIONAL: "National only",
              ONLY_REGIONAL: "Regional only", "matched": "Matched"}
LAST_FOLDER_KEY = "reconcile/last_folder"


def _table(model: Any, name: str) -> QTableView:
    return record_table(model, name, row_height=24, stretch_last=True)


class ReconcileView(QWidget):
    """Reconcile the regional list with the national headcount."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.reconcile = services.get(ReconcileService)
        self.run_id: int | None = None
        self.op: Operation | None = None
        self.detail: ItemDetail | None = None

        title = QLabel("Reconcile with the national headcount")
        title.setObjectName("PageTitle")
        self.choose_button = QPushButton("&Reconcile a national list…")
        self.choose_button.clicked.connect(self.choose_file)
        self.runs = QComboBox()
        self.runs.setAccessibleName("Saved reconciliations")
        self.runs.setMinimumWidth(280)
        self.resume_button = QPushButton("Re&sume")
        self.resume_button.clicked.connect(self._resume_selected)
        self.export_button = QPushButton("&Export corrections…")
        self.export_button.clicked.connect(self.export_corrections)
        top = QHBoxLayout()
        top.addStretch(1)
        saved_label = QLabel("Sa&ved:")
        saved_label.setBuddy(self.runs)
        top.addWidget(saved_label)
        top.addWidget(self.runs)
        top.addWidget(self.resume_button)
        top.addWidget(self.choose_button)
        top.addWidget(self.export_button)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Reconciliation progress")
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.busy_row = QWidget()
        busy = QHBoxLayout(self.busy_row)
        busy.setContentsMargins(0, 0, 0, 0)
        busy.addWidget(QLabel("Reading and matching…"))
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        self.busy_row.hide()
        self.summary = QLabel("Choose a national list (xlsx or csv) to reconcile, or resume a "
                              "saved reconciliation.")
        self.summary.setObjectName("Hint")
        self.summary.setWordWrap(True)
        self.problem = message_label("ErrorBox")

        # The categories, one tab each, and the side-by-side detail beside them.
        # The category tabs span the width; each shows its list on the left of the splitter.
        self.tabs = QTabBar()
        self.tabs.setAccessibleName("Categories")
        self.tabs.setExpanding(False)
        self.pages = QStackedWidget()
        self.models: dict[str, ReconcileItemsTableModel] = {}
        self.tables: dict[str, QTableView] = {}
        for kind in KINDS:
            model = ReconcileItemsTableModel(kind, parent=self)
            table = _table(model, KIND_LABELS[kind])
            table.selectionModel().currentRowChanged.connect(
                lambda current, _prev, k=kind: self._on_item(k, current))
            self.models[kind], self.tables[kind] = model, table
            self.tabs.addTab(TAB_TITLES[kind])
            self.pages.addWidget(table)
            self.tabs.setTabToolTip(self.tabs.count() - 1, KIND_LABELS[kind])
        self.rejected_model = RejectedRowsTableModel(self)
        self.tabs.addTab("Not read")
        rejected_table = _table(self.rejected_model, "Rows not read")
        for col, w in enumerate((100, 130, 250)):
            rejected_table.setColumnWidth(col, w)
        self.pages.addWidget(rejected_table)
        for col, w in enumerate((100, 230, 100)):
            self.tables[ONLY_REGIONAL].setColumnWidth(col, w)
        for kind in (DIFFERENCES, POSSIBLE, ONLY_NATIONAL, "matched"):
            for col, w in enumerate((50, 175, 105, 108, 150)):
                self.tables[kind].setColumnWidth(col, w)

        self.detail_title = QLabel("Select a row to see it beside the regional record.")
        self.detail_title.setObjectName("SectionTitle")
        self.detail_title.setWordWrap(True)
        self.lines_model = FieldLinesTableModel(self)
        self.lines = _table(self.lines_model, "Side by side")
        for col, w in enumerate((132, 128, 150, 150)):
            self.lines.setColumnWidth(col, w)
        self.lines.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.ours_button = QPushButton("&Our record is right")
        self.update_button = QPushButton("&Update ours")
        self.query_button = QPushButton("&Query with the hub")
        self.ours_button.clicked.connect(lambda: self.decide(OURS_RIGHT))
        self.update_button.clicked.connect(lambda: self.decide(UPDATE_OURS))
        self.query_button.clicked.connect(lambda: self.decide(QUERY_HUB))
        self.update_button.setToolTip("Change the regional record to the national value "
                                      "(kept in its history and the audit log)")
        self.decide_row = QWidget()
        decide = QHBoxLayout(self.decide_row)
        decide.setContentsMargins(0, 0, 0, 0)
        decide.addWidget(QLabel("For the selected field:"))
        for b in (self.ours_button, self.update_button, self.query_button):
            decide.addWidget(b)
        decide.addStretch(1)

        self.candidates_model = CandidatesTableModel(self)
        self.candidates = _table(self.candidates_model, "Candidates")
        for col, w in enumerate((100, 55, 90)):
            self.candidates.setColumnWidth(col, w)
        self.candidates.setMaximumHeight(112)
        self.reasons = QLabel()
        self.reasons.setWordWrap(True)
        self.reasons.setTextFormat(Qt.TextFormat.PlainText)
        self.reasons.setAccessibleName("Why it may be the same person")
        self.candidates.selectionModel().currentRowChanged.connect(self._on_candidate)
        self.confirm_button = QPushButton("Con&firm: same person")
        self.reject_button = QPushButton("Re&ject: not this person")
        self.reopen_button = QPushButton("Re&open")
        self.confirm_button.clicked.connect(self.confirm)
        self.reject_button.clicked.connect(self.reject)
        self.reopen_button.clicked.connect(self.reopen)
        self.candidate_row = QWidget()
        cand = QHBoxLayout(self.candidate_row)
        cand.setContentsMargins(0, 0, 0, 0)
        for b in (self.confirm_button, self.reject_button, self.reopen_button):
            cand.addWidget(b)
        cand.addStretch(1)
        self.candidate_box = QWidget()
        box = QVBoxLayout(self.candidate_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(QLabel("Candidates on the regional list (best first):"))
        box.addWidget(self.candidates)
        box.addWidget(self.reasons)
        box.addWidget(self.candidate_row)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addWidget(self.detail_title)
        right_layout.addWidget(self.candidate_box)
        right_layout.addWidget(self.lines, 1)
        right_layout.addWidget(self.decide_row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.pages)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 6)
        splitter.setSizes([470, 700])
        splitter.setChildrenCollapsible(False)

        for table in (*self.tables.values(), rejected_table, self.lines, self.candidates):
            fit_headings(table)

        layout = QVBoxLayout(self)
        layout.addWidget(title)  # its own row: beside the buttons it was cut short
        layout.addLayout(top)
        layout.addWidget(self.busy_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addWidget(self.tabs)
        layout.addWidget(splitter, 1)
        self.tabs.currentChanged.connect(self._on_tab)
        self._show_detail(None)
        self.refresh_runs()

    # -- saved runs ------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        self.runs.clear()
        for r in self.reconcile.runs():
            self.runs.addItem(f"{r.source_name} — {r.created_at:%d/%m/%Y %H:%M}", r.id)
        has = self.runs.count() > 0
        self.runs.setEnabled(has)
        self.resume_button.setEnabled(has)
        self.export_button.setEnabled(self.run_id is not None)

    def _resume_selected(self) -> None:
        run_id = self.runs.currentData()
        if run_id is not None:
            self.open_run(int(run_id))

    def open_run(self, run_id: int) -> None:
        """Show a saved reconciliation: counts on the tabs, first page of each category."""
        self.run_id = run_id
        summary = self.reconcile.summary(run_id)
        for i, kind in enumerate(KINDS):
            model = self.models[kind]
            model.reset(partial(self.reconcile.items, run_id, kind), summary.counts.get(kind, 0))
            self.tabs.setTabText(i, f"{TAB_TITLES[kind]} ({summary.counts.get(kind, 0):,})")
        rejected = self.reconcile.rejected(run_id)
        self.rejected_model.set_rows(rejected)
        self.tabs.setTabText(len(KINDS), f"Not read ({len(rejected):,})")
        self._summarise(summary)
        index = self.runs.findData(run_id)
        if index >= 0:
            self.runs.setCurrentIndex(index)
        self.export_button.setEnabled(True)
        self._show_detail(None)
        first = next((i for i, k in enumerate(KINDS) if summary.counts.get(k)), 0)
        self.tabs.setCurrentIndex(first)

    def _summarise(self, summary: RunSummary) -> None:
        c = summary.counts
        self.summary.setText(
            f"{summary.source_name}: {c['national_rows']:,} national rows read, "
            f"{c['rejected_rows']:,} rows or values not read. "
            f"{summary.open_differences:,} field differences still to decide; "
            f"{c[POSSIBLE]:,} possible matches to confirm or reject. "
            f"Saved by {summary.created_by} on {summary.created_at:%d/%m/%Y %H:%M}; "
            "decisions are saved as you make them.")

    # -- reading a national list ---------------------------------------------------------------
    def choose_file(self) -> None:
        settings: QSettings = self.services.prefs.settings
        folder = str(settings.value(LAST_FOLDER_KEY, str(Path.home())))
        chosen = self.services.dialogs.open_file(
            self, "National list to reconcile", folder,
            "National lists (*.xlsx *.xlsm *.csv *.txt *.tsv);;All files (*)")
        if chosen:
            settings.setValue(LAST_FOLDER_KEY, str(Path(chosen).parent))
            self.start(Path(chosen))

    def start(self, path: Path) -> Operation:
        """Read and match off the UI thread, then save the run and show it."""
        service = self.reconcile
        self.problem.hide()

        def work(ctx: OpContext) -> int:
            result = service.run(path, progress=ctx.progress, cancelled=lambda: ctx.cancelled)
            ctx.check()
            return service.save(result)

        self._busy(True)
        self.progress.setValue(0)
        self.op = self.services.ops.start(
            "reconcile", work, on_result=self._done, on_error=self._error, on_bug=self._error,
            on_progress=lambda d, t: self.progress.setValue(min(d, t)))
        return self.op

    def cancel(self) -> None:
        if self.op is not None:
            self.op.cancel()
            self.op = None
            self._busy(False)
            self._fail("Cancelled: nothing was read into the vault.")

    def _busy(self, busy: bool) -> None:
        self.busy_row.setVisible(busy)
        for w in (self.choose_button, self.resume_button, self.runs, self.export_button):
            w.setEnabled(not busy)
        if not busy:
            self.refresh_runs()

    def _done(self, run_id: int) -> None:
        self.op = None
        self._busy(False)
        self.refresh_runs()
        self.open_run(run_id)

    def _error(self, exc: CasewardError | str) -> None:
        self.op = None
        self._busy(False)
        self._fail(str(exc))

    def _fail(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    # -- one item side by side -------------------------------------------------------------------
    def _on_tab(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        kind = KINDS[index] if 0 <= index < len(KINDS) else None
        if kind is not None:
            table = self.tables[kind]
            self._on_item(kind, table.currentIndex())
        else:
            self._show_detail(None)

    def current_kind(self) -> str | None:
        index = self.tabs.currentIndex()
        return KINDS[index] if 0 <= index < len(KINDS) else None

    def _on_item(self, kind: str, current: QModelIndex) -> None:
        item = self.models[kind].data(current, ReconcileItemsTableModel.RecordRole) \
            if current.isValid() else None
        self._show_detail(self.reconcile.item(item.id) if item is not None else None)

    def select(self, kind: str, row: int) -> None:
        """Select a row of a category (keyboard users and tests)."""
        self.tabs.setCurrentIndex(KINDS.index(kind))
        table = self.tables[kind]
        table.setFocus()
        table.selectRow(row)

    def _show_detail(self, detail: ItemDetail | None) -> None:
        self.detail = detail
        if detail is None:
            self.detail_title.setText("Select a row to see it beside the regional record.")
            self.lines_model.set_rows([])
            self.candidates_model.set_rows([])
            self.candidate_box.hide()
            self.decide_row.hide()
            return
        where = f"National row {detail.national_row}" if detail.national_row else "Regional"
        if detail.kind == ONLY_REGIONAL:
            text = f"{detail.ref}: on the regional list, on no national row."
        elif detail.kind == ONLY_NATIONAL:
            text = f"{where}: not found on the regional list."
        elif detail.kind == POSSIBLE:
            text = f"{where}: may be one of these regional records — confirm or reject."
        else:
            text = f"{where} = {detail.ref} (matched on {detail.how})."
            if detail.kind == DIFFERENCES:
                text += f" {len(detail.differences)} field(s) differ."
        self.detail_title.setText(text)
        self.candidate_box.setVisible(bool(detail.candidates))
        self.candidates_model.set_rows(list(detail.candidates))
        if detail.candidates:
            self.candidates.selectRow(0)
        else:
            self.lines_model.set_rows(list(detail.lines))
        self.decide_row.setVisible(detail.kind == DIFFERENCES)
        if detail.kind == DIFFERENCES:
            first = next((i for i, line in enumerate(detail.lines) if line.differs
                          and not line.decision), None)
            if first is None:
                first = next((i for i, line in enumerate(detail.lines) if line.differs), 0)
            self.lines.selectRow(first)
        self._enable()

    def _on_candidate(self, current: QModelIndex, _previous: QModelIndex) -> None:
        c = self.candidates_model.record(current.row()) if current.isValid() else None
        if c is not None:
            self.lines_model.set_rows(list(c.lines))
            self.reasons.setText(f"Why {c.ref} may be the same person: "
                                 + "; ".join(c.reasons) + ".")
        else:
            self.reasons.clear()
        self._enable()

    def _selected_field(self) -> str | None:
        line = self.lines_model.record(self.lines.currentIndex().row())
        if line is None or self.detail is None:
            return None
        names = {d.field for d in self.detail.differences}
        return str(line.field) if line.field in names else None

    def _enable(self) -> None:
        d = self.detail
        field = self._selected_field()
        decided = d.decisions.get(field) if d is not None and field else None
        for b in (self.ours_button, self.query_button):
            b.setEnabled(field is not None and decided != UPDATE_OURS)
        self.update_button.setEnabled(field is not None and decided != UPDATE_OURS)
        candidate = self.candidates_model.record(self.candidates.currentIndex().row())
        open_possible = d is not None and d.kind == POSSIBLE and candidate is not None
        self.confirm_button.setEnabled(open_possible)
        self.reject_button.setEnabled(open_possible and candidate.decision is None)
        self.reopen_button.setEnabled(d is not None and d.first_kind == POSSIBLE
                                      and bool(d.decisions))

    # -- decisions ---------------------------------------------------------------------------------
    def decide(self, choice: str) -> None:
        d, field = self.detail, self._selected_field()
        if d is None or field is None:
            return
        if choice == UPDATE_OURS:
            line = next(x for x in d.lines if x.field == field)
            if not self.services.dialogs.confirm(
                    self, "Update the regional record?",
                    f"Change {line.label.lower()} on {d.ref} to the national list's value? "
                    "The change is kept in the record's history and the audit log.",
                    "Update ours"):
                return
        self._apply(lambda: self.reconcile.decide(d.id, field, choice), keep_field=field)

    def confirm(self) -> None:
        d = self.detail
        c = self.candidates_model.record(self.candidates.currentIndex().row())
        if d is not None and c is not None:
            self._apply(lambda: self.reconcile.confirm(d.id, c.ref))

    def reject(self) -> None:
        d = self.detail
        c = self.candidates_model.record(self.candidates.currentIndex().row())
        if d is not None and c is not None:
            self._apply(lambda: self.reconcile.reject(d.id, c.ref))

    def reopen(self) -> None:
        d = self.detail
        if d is not None:
            self._apply(lambda: self.reconcile.reopen(d.id))

    def _apply(self, action: Any, keep_field: str | None = None) -> None:
        self.problem.hide()
        try:
            detail: ItemDetail = action()
        except CasewardError as exc:
            self._fail(str(exc))
            return
        kind = self.current_kind()
        if kind is not None and self.run_id is not None and detail.kind == kind:
            fresh = self.reconcile.items(self.run_id, kind,
                                         max(self.models[kind].row_of(detail.id), 0), 1)
            for item in fresh:
                self.models[kind].replace(item)
            self._show_detail(detail)
            if keep_field:
                row = next((i for i, x in enumerate(detail.lines) if x.field == keep_field), 0)
                nxt = next((i for i, x in enumerate(detail.lines)
                            if x.differs and not x.decision), row)
                self.lines.selectRow(nxt)
        else:
            # The row moved to another category (confirmed or rejected): recount the tabs.
            assert self.run_id is not None
            current = self.tabs.currentIndex()
            self.open_run(self.run_id)
            self.tabs.setCurrentIndex(current)
            self._show_detail(detail)
        if self.run_id is not None:
            self._summarise(self.reconcile.summary(self.run_id))

    # -- the corrections return --------------------------------------------------------------------
    def export_corrections(self) -> CorrectionsExportDialog | None:
        if self.run_id is None:
            return None
        dialog = CorrectionsExportDialog(self.services, self.run_id, self)
        dialog.open()
        return dialog


class CorrectionsExportDialog(QDialog):
    """Where to write the corrections return, who receives it and why; written off the UI
    thread with progress and Cancel, marked, and recorded as a disclosure."""

    def __init__(self, services: Services, run_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from datetime import date

        self.services = services
        self.run_id = run_id
        self.disclosure: Disclosure | None = None
        self.op: Operation | None = None
        self.setWindowTitle("Export the corrections return")
        self.setMinimumWidth(560)
        folder = Path(str(services.prefs.settings.value(LAST_FOLDER_KEY, str(Path.home()))))
        self.target = QLineEdit(str(folder / f"corrections-{date.today().isoformat()}.xlsx"))
        self.target.setAccessibleName("File to write")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        file_box = QWidget()
        row = QHBoxLayout(file_box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.target, 1)
        row.addWidget(browse)
        self.recipient = QComboBox()
        self.recipient.setEditable(True)
        self.recipient.setAccessibleName("Recipient")
        self.recipient.addItems(recent_recipients(services.prefs.settings))
        self.recipient.setCurrentText("National hub")
        self.justification = QPlainTextEdit("Reconciliation of the regional list with the "
                                            "national headcount: corrections for the hub.")
        self.justification.setAccessibleName("Justification")
        self.justification.setFixedHeight(64)
        self.justification.setTabChangesFocus(True)
        form = QFormLayout()
        form.addRow("&File", file_box)
        form.addRow("&Recipient", self.recipient)
        form.addRow("&Justification", self.justification)
        marking = services.get(ExportService).marking().text
        hint = QLabel(f"Marked {marking}; a .sha256 file is written beside it and the "
                      "disclosure is recorded in the audit log.")
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        self.problem = message_label("ErrorBox")
        self.progress = QProgressBar()
        self.progress.hide()
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.hide()
        self.buttons, self.export_button, self.cancel_button, self.close_button = run_buttons(
            "E&xport", self.start_export, self._cancel, self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.problem)
        layout.addWidget(self.progress)
        layout.addWidget(self.outcome)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def _browse(self) -> None:
        chosen = self.services.dialogs.save_file(self, "Export to", self.target.text(),
                                                 "Excel workbook (*.xlsx)")
        if chosen:
            self.target.setText(chosen)

    def start_export(self) -> None:
        self.problem.hide()
        target = Path(self.target.text().strip()).expanduser()
        recipient = self.recipient.currentText().strip()
        justification = self.justification.toPlainText().strip()
        if not recipient or not justification:
            self.problem.setText("Say who will receive it and why it is disclosed.")
            self.problem.show()
            return
        if not target.name or not target.parent.is_dir():
            self.problem.setText("The destination folder does not exist (is the media "
                                 "connected?).")
            self.problem.show()
            return
        overwrite = False
        if target.exists():
            overwrite = self.services.dialogs.confirm(
                self, "Replace the file?", f"{target.name} already exists. Replace it?",
                "Replace")
            if not overwrite:
                return
        service, run_id = self.services.get(ReconcileService), self.run_id

        def work(ctx: OpContext) -> Disclosure:
            return service.export_corrections(run_id, target, recipient=recipient,
                                              justification=justification,
                                              overwrite=overwrite, progress=OpProgressSink(ctx))

        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.op = self.services.ops.start(
            "export corrections", work, on_result=lambda d: self._done(d, recipient),
            on_error=self._error, on_bug=self._error,
            on_progress=lambda d, t: show_progress(self.progress, d, t))

    def _done(self, result: Disclosure, recipient: str) -> None:
        self.op = None
        self.disclosure = result
        remember_recipient(self.services.prefs.settings, recipient)
        self.progress.hide()
        self.outcome.setText(f"Written: {result.path.name} ({result.size:,} bytes, marked "
                             f"{result.marking}).\nSHA-256: {result.sha256}\nThe disclosure "
                             "is recorded in the audit log.")
        self.outcome.show()
        self.adjustSize()
        show_done(self.export_button, self.cancel_button, self.close_button)

    def _error(self, exc: CasewardError | str) -> None:
        self.op = None
        self.progress.hide()
        self.export_button.setEnabled(True)
        self.problem.setText(str(exc))
        self.problem.show()

    def _cancel(self) -> None:
        if self.op is not None:
            self.op.cancel()
            self.op = None
            self._error("Export cancelled; nothing was written.")
            return
        self.reject()

    def reject(self) -> None:
        if self.op is not None:
            self.op.cancel()
            self.op = None
        super().reject()

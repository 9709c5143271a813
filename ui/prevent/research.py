"""Research summaries: pick referrals, intelligence and people, write a narrative, and export a
marked PDF — a disclosure, so it asks for the recipient and the justification, and is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.roles import Perm
from app.services.intelligence import IntelFilter, IntelligenceService
from app.services.nominals import NominalService
from app.services.referrals import ReferralFilter, ReferralService
from app.services.research_pdf import ResearchService
from ui.ops import OpProgressSink
from ui.prevent.common import FormErrors, plain_text_edit
from ui.prevent.intel import LinkPicker
from ui.services import Services
from ui.widgets import FieldError, heading, message_label, with_error


def _default_folder() -> Path:
    """Removable media if there is some (the export layer's list), else the home folder."""
    try:
        from ui.views.exports import removable_media

        media = removable_media()
    except (ImportError, OSError):
        media = []
    return media[0] if media else Path.home()


def _recent(services: Services) -> list[str]:
    try:
        from ui.views.exports import recent_recipients

        return recent_recipients(services.prefs.settings)
    except (ImportError, AttributeError):
        return []


def _remember(services: Services, recipient: str) -> None:
    try:
        from ui.views.exports import remember_recipient

        remember_recipient(services.prefs.settings, recipient)
    except (ImportError, AttributeError):
        pass


class ExportDialog(QDialog):
    """Recipient, justification and destination of a disclosure (all required)."""

    def __init__(self, services: Services, title: str, default_name: str, note: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        intro = QLabel("This export is a disclosure: it is marked "
                       f"{services.marking}, written with a SHA-256 file beside it, and "
                       "recorded in the audit log with the recipient and your justification.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        if note:
            warn = message_label("WarnBox")
            layout.addWidget(warn)
            warn.setText(note)
            warn.show()
        self.errors = FormErrors(message_label("ErrorBox"))
        form = QFormLayout()
        self.recipient = QLineEdit()
        self.recipient.setAccessibleName("Recipient")
        self.recipient.setPlaceholderText("Who will receive it (name, role, organisation)")
        recent = _recent(services)
        if recent:
            from PySide6.QtWidgets import QCompleter

            self.recipient.setCompleter(QCompleter(recent, self.recipient))
        rec_error = FieldError()
        label = QLabel("&Recipient *:")
        label.setBuddy(self.recipient)
        form.addRow(label, with_error(self.recipient, rec_error))
        self.errors.add("recipient", self.recipient, rec_error, "The recipient", required=True)
        self.justification = plain_text_edit("Justification", lines=3,
                                             placeholder="Why it is necessary to disclose it")
        just_error = FieldError()
        label = QLabel("&Justification *:")
        label.setBuddy(self.justification)
        form.addRow(label, with_error(self.justification, just_error))
        self.errors.add("justification", self.justification, just_error, "The justification",
                        required=True)
        row = QHBoxLayout()
        self.path = QLineEdit(str(_default_folder() / default_name))
        self.path.setAccessibleName("Save to")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        path_error = FieldError()
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(row)
        col.addWidget(path_error)
        label = QLabel("&Save to *:")
        label.setBuddy(self.path)
        form.addRow(label, box)
        self.errors.add("out", self.path, path_error, "The destination", self._check_path)
        layout.addLayout(form)
        assert self.errors.general is not None
        layout.addWidget(self.errors.general)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _check_path(self) -> str:
        text = self.path.text().strip()
        if not text:
            return "Choose where to save the file."
        if not Path(text).parent.is_dir():
            return "That folder does not exist (is the media inserted?)."
        return ""

    def _browse(self) -> None:
        chosen = self.services.dialogs.save_file(self, "Save as", self.path.text(),
                                                 "PDF (*.pdf)")
        if chosen:
            self.path.setText(chosen if chosen.lower().endswith(".pdf") else chosen + ".pdf")

    def submit(self) -> None:
        if self.errors.validate():
            self.accept()

    def values(self) -> tuple[str, str, Path]:
        return (self.recipient.text().strip(), self.justification.toPlainText().strip(),
                Path(self.path.text().strip()))


class ResearchView(QWidget):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.referrals = services.get(ReferralService)
        self.exporting = False
        self.last_result: Any = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        layout.addWidget(heading(
            "Research summary",
            "Pick the referrals, intelligence and people the summary is about, write the "
            "narrative, and export it as a marked PDF. Type a reference or name and press "
            "Enter to add; Delete removes the selected item."))
        columns = QHBoxLayout()
        columns.setSpacing(16)
        picks = QGroupBox("What the summary covers")
        form = QFormLayout(picks)
        # Labels above the pickers: beside them, the hints were cut to "… surname, then …".
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.ref_picker = LinkPicker(
            "Referral ref or subject's surname, then Enter",
            lambda t: [(r.id, f"{r.ref} — {r.subject}")
                       for r in self.referrals.queue(ReferralFilter(text=t), limit=1)])
        form.addRow(self._label("&Referrals:", self.ref_picker.edit), self.ref_picker)
        self.intel_picker: LinkPicker | None = None
        if services.can(Perm.INTEL_READ):
            intel = services.get(IntelligenceService)
            self.intel_picker = LinkPicker(
                "IN- reference or words from the entry, then Enter",
                lambda t: [(r.id, f"{r.ref} ({r.grading}) — {r.summary[:50]}")
                           for r in intel.rows(IntelFilter(text=t), limit=1)])
            form.addRow(self._label("&Intelligence:", self.intel_picker.edit),
                        self.intel_picker)
        self.people_picker = LinkPicker("PR- ref (its subject) or a nominal's name / NM- ref",
                                        self._find_person)
        form.addRow(self._label("&People:", self.people_picker.edit), self.people_picker)
        columns.addWidget(picks, 2)

        write = QGroupBox("Narrative")
        wform = QFormLayout(write)
        self.title = QLineEdit("Research summary")
        self.title.setAccessibleName("Title")
        wform.addRow(self._label("&Title:", self.title), self.title)
        self.narrative = QPlainTextEdit()
        self.narrative.setTabChangesFocus(True)
        self.narrative.setAccessibleName("Narrative")
        self.narrative.setPlaceholderText("The analysis: what the records show, and what "
                                          "follows. A blank line starts a new paragraph.")
        self.narrative_error = FieldError()
        self.errors = FormErrors(message_label("ErrorBox"))
        self.errors.add("narrative", self.narrative, self.narrative_error, "The narrative",
                        required=True)
        wform.addRow(self._label("&Narrative *:", self.narrative),
                     with_error(self.narrative, self.narrative_error))
        columns.addWidget(write, 3)
        layout.addLayout(columns, 1)
        assert self.errors.general is not None
        layout.addWidget(self.errors.general)
        self.result = message_label("OkBanner")
        layout.addWidget(self.result)
        bottom = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("Writing the PDF… %p%")
        self.progress.hide()
        bottom.addWidget(self.progress, 1)
        bottom.addStretch(1)
        self.export_button = QPushButton("&Export PDF…")
        self.export_button.setProperty("primary", True)
        self.export_button.clicked.connect(self.export)
        self.export_button.setEnabled(services.can(Perm.EXPORT))
        self.no_export_note: QLabel | None = None
        if not services.can(Perm.EXPORT):
            reason = (f"Your role, {services.role_label}, may not export: a coordinator or "
                      "an intelligence officer exports the summary.")
            self.export_button.setToolTip(reason)
            # Said before the narrative is written, not only in a disabled button's tooltip.
            self.no_export_note = QLabel(reason)
            self.no_export_note.setObjectName("Hint")
            bottom.insertWidget(1, self.no_export_note)
        bottom.addWidget(self.export_button)
        layout.addLayout(bottom)

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        return label

    def _find_person(self, text: str) -> list[tuple[Any, str]]:
        if text.strip().upper().startswith("PR"):
            rows = self.referrals.queue(ReferralFilter(text=text.strip()), limit=1)
            if not rows:
                return []
            d = self.referrals.show(rows[0].id, reason="research summary")
            return [(d.person_id, f"{d.surname.upper()}, {d.forenames} (subject of {d.ref})")]
        if not self.services.can(Perm.NOMINAL_READ):
            return []
        found = self.services.get(NominalService).search(text, limit=1)
        return [(n.ref, f"{n.ref} — {n.surname.upper()}, {n.forenames}") for n in found]

    def export(self) -> None:
        if not self.errors.validate():
            return
        referral_ids = self.ref_picker.ids()
        intel_ids = self.intel_picker.ids() if self.intel_picker else []
        people = self.people_picker.ids()
        note = ""
        if intel_ids:
            handling = self.services.get(IntelligenceService).export_handling(intel_ids)
            if handling is not None and handling.value == "C":
                note = ("The summary includes handling code C intelligence: the PDF carries "
                        "handling C and lists the conditions. Share it only under them.")
        dialog = ExportDialog(self.services, "Export research summary",
                              "research-summary.pdf", note, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        recipient, justification, out = dialog.values()
        self.run_export(referral_ids, intel_ids, people, recipient, justification, out)

    def run_export(self, referral_ids: list[Any], intel_ids: list[Any], people: list[Any],
                   recipient: str, justification: str, out: Path) -> None:
        service = self.services.get(ResearchService)
        narrative, title = self.narrative.toPlainText(), self.title.text()
        self.exporting = True
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the writer knows its page count
        self.progress.show()
        self.result.hide()

        def work(ctx: Any) -> Any:
            summary = service.research_summary_data(referral_ids, intel_ids, people, narrative)
            return service.export_pdf(summary, out, title=title, recipient=recipient,
                                       justification=justification, progress=OpProgressSink(ctx))

        def finish() -> None:
            self.exporting = False
            self.export_button.setEnabled(True)
            self.progress.hide()

        def done(result: Any) -> None:
            finish()
            _remember(self.services, recipient)
            self.last_result = result
            self.result.setObjectName("OkBanner")
            self.result.setText(f"Exported to {result.path} (SHA-256 {result.sha256[:16]}…). "
                                "The disclosure is in the audit log.")
            self.result.show()

        def failed(exc: CasewardError) -> None:
            finish()
            self.errors.show(exc)

        def bug(text: str) -> None:
            finish()
            self.services.dialogs.error(self, "Research summary", text)

        self.services.ops.start("prevent.research-pdf", work, on_result=done, on_error=failed,
                                on_bug=bug, on_progress=self._progress)

    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        else:  # an unknown total (OpProgressSink sends 0): a busy indicator
            self.progress.setRange(0, 0)

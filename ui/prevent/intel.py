"""The intelligence log: graded entries (3x5x2) with filters, and the dialog that adds one."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.prevent import (
    ASSESSMENT_LABELS,
    HANDLING_LABELS,
    SOURCE_LABELS,
    Handling,
    IntelInput,
    PreventLists,
)
from app.domain.roles import Perm
from app.services.institutions import InstitutionService
from app.services.intelligence import IntelFilter, IntelligenceService, IntelRecord
from app.services.referrals import ReferralFilter, ReferralService
from ui.prevent.common import (
    FormErrors,
    combo_code,
    date_edit,
    guarded,
    long_date,
    plain_text_edit,
    py_date,
    run,
)
from ui.prevent.models import IntelTableModel
from ui.services import Services
from ui.widgets import FieldError, heading, message_label, record_table, with_error

_ID_ROLE = Qt.ItemDataRole.UserRole


def _labelled(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class LinkPicker(QWidget):
    """Pick linked records of one kind: type, Enter adds the first hit; Delete removes."""

    def __init__(self, placeholder: str, search: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._search = search  # text -> list of (id, label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setAccessibleName(placeholder)
        self.edit.setToolTip(placeholder)  # the placeholder is cut short in a narrow column
        self.edit.returnPressed.connect(self._add_first)
        self.hint = QLabel("")
        self.hint.setObjectName("Hint")
        self.chosen = QListWidget()
        self.chosen.setMaximumHeight(54)
        self.chosen.hide()
        self.chosen.installEventFilter(self)
        layout.addWidget(self.edit)
        layout.addWidget(self.hint)
        layout.addWidget(self.chosen)
        self.hint.hide()

    def eventFilter(self, watched: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent

        if (watched is self.chosen and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)):
            row = self.chosen.currentRow()
            if row >= 0:
                self.chosen.takeItem(row)
                self.chosen.setVisible(self.chosen.count() > 0)
            return True
        return False

    def add(self, item_id: Any, label: str) -> None:
        if item_id in self.ids():
            return
        item = QListWidgetItem(label)
        item.setData(_ID_ROLE, item_id)
        self.chosen.addItem(item)
        self.chosen.show()

    def _add_first(self) -> None:
        text = self.edit.text().strip()
        if not text:
            return
        hits = self._search(text)
        if not hits:
            self.hint.setText("Nothing found for that.")
            self.hint.show()
            return
        self.hint.hide()
        self.add(*hits[0])
        self.edit.clear()

    def ids(self) -> list[Any]:
        """What was picked: ids (int), or refs (str) where the search gives refs."""
        return [self.chosen.item(i).data(_ID_ROLE) for i in range(self.chosen.count())]


class AddIntelDialog(QDialog):
    """A new intelligence entry: summary, grading 3x5x2 (C needs written conditions), links."""

    def __init__(self, services: Services, lists: PreventLists, *,
                 referral: tuple[int, str] | None = None,
                 person: tuple[int, str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.created: IntelRecord | None = None
        self.setWindowTitle("New intelligence entry")
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        self.general = message_label("ErrorBox")
        self.errors = FormErrors(self.general)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.received = date_edit(name="Received on")
        form.addRow(_labelled("&Received on:", self.received), self.received)
        self.summary = plain_text_edit("Intelligence", lines=4,
                                       placeholder="What is known (never covert product)")
        summary_error = FieldError()
        form.addRow(_labelled("&Intelligence *:", self.summary),
                    with_error(self.summary, summary_error))
        self.errors.add("summary", self.summary, summary_error, "The intelligence",
                        required=True)

        grading = QHBoxLayout()
        self.source = QComboBox()
        self.source.setAccessibleName("Source evaluation")
        for s_code, label in SOURCE_LABELS.items():
            self.source.addItem(f"{s_code.value}: {label}", s_code.value)
        self.intel = QComboBox()
        self.intel.setAccessibleName("Intelligence assessment")
        for a_code, label in ASSESSMENT_LABELS.items():
            self.intel.addItem(f"{a_code.value}: {label}", a_code.value)
        self.handling = QComboBox()
        self.handling.setAccessibleName("Handling code")
        for h_code, label in HANDLING_LABELS.items():
            self.handling.addItem(f"{h_code.value}: {label}", h_code.value)
        grading.addWidget(self.source)
        grading.addWidget(self.intel)
        grading.addWidget(self.handling)
        form.addRow(_labelled("&Grading (3x5x2):", self.source), grading)
        self.code = QLabel()
        self.code.setObjectName("SectionTitle")
        form.addRow("Shown as:", self.code)
        self.conditions = plain_text_edit("Handling conditions", lines=2,
                                          placeholder="Required for handling code C")
        cond_error = FieldError()
        self.conditions_label = _labelled("&Conditions:", self.conditions)
        form.addRow(self.conditions_label, with_error(self.conditions, cond_error))
        self.errors.add("conditions", self.conditions, cond_error, "The conditions",
                        self._check_conditions)
        self.reference = QLineEdit()
        self.reference.setAccessibleName("Source reference")
        self.reference.setPlaceholderText("e.g. RIPA authority reference (never the product)")
        form.addRow(_labelled("Source re&ference:", self.reference), self.reference)

        refs = services.get(ReferralService)
        insts = services.get(InstitutionService)
        self.referrals = LinkPicker(
            "Referral ref or surname, then Enter",
            lambda t: [(r.id, f"{r.ref} — {r.subject}")
                       for r in refs.queue(ReferralFilter(text=t), limit=1)])
        self.institutions = LinkPicker(
            "Institution name, then Enter",
            lambda t: [(i.id, i.name) for i in insts.search(t, limit=1)])
        self.people = LinkPicker(
            "Subject of a referral (ref), then Enter",
            lambda t: self._person_of(refs, t))
        form.addRow(_labelled("Linked re&ferrals:", self.referrals.edit), self.referrals)
        form.addRow(_labelled("Linked &people:", self.people.edit), self.people)
        form.addRow(_labelled("Linked ins&titutions:", self.institutions.edit),
                    self.institutions)
        if referral is not None:
            self.referrals.add(*referral)
        if person is not None:
            self.people.add(*person)
        layout.addLayout(form)
        layout.addWidget(self.general)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for combo in (self.source, self.intel, self.handling):
            combo.currentIndexChanged.connect(self._grading_changed)
        self._grading_changed()

    @staticmethod
    def _person_of(refs: ReferralService, text: str) -> list[tuple[int, str]]:
        rows = refs.queue(ReferralFilter(text=text), limit=1)
        if not rows:
            return []
        detail = refs.show(rows[0].id, reason="linking intelligence")
        return [(detail.person_id, f"{detail.surname.upper()}, {detail.forenames} "
                 f"(subject of {detail.ref})")]

    def _grading_changed(self, *_a: object) -> None:
        code = f"{combo_code(self.source)}/{combo_code(self.intel)}/{combo_code(self.handling)}"
        self.code.setText(code)
        needs = combo_code(self.handling) == Handling.C.value
        self.conditions.setEnabled(needs)
        self.conditions_label.setText("&Conditions *:" if needs else "&Conditions:")
        self.errors.recheck("conditions")

    def _check_conditions(self) -> str:
        if combo_code(self.handling) == Handling.C.value and \
                not self.conditions.toPlainText().strip():
            return "Handling code C needs its conditions written down."
        return ""

    def value(self) -> IntelInput:
        return IntelInput(
            summary=self.summary.toPlainText(),
            source_evaluation=combo_code(self.source),
            intelligence_assessment=combo_code(self.intel),
            handling=combo_code(self.handling),
            conditions=self.conditions.toPlainText(),
            received_on=py_date(self.received.date()),
            source_reference=self.reference.text(),
            referral_ids=self.referrals.ids(),
            person_ids=self.people.ids(),
            institution_ids=self.institutions.ids(),
        )

    def submit(self) -> None:
        if not self.errors.validate():
            return
        service = self.services.get(IntelligenceService)
        ok, rec = guarded(self.services, self, self.errors, lambda: service.add(self.value()))
        if ok:
            self.created = rec
            self.accept()


def intel_table(model: IntelTableModel) -> QTableView:
    return record_table(model, "Intelligence entries", row_height=None,
                        widths=(100, 96, 76, 150, 420, 140), stretch=(4,), stretch_last=True)


class IntelLogView(QWidget):
    """The whole log, newest first, with filters; the selected entry in full below."""

    def __init__(self, services: Services, lists: PreventLists | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.get(IntelligenceService)
        self.lists = lists or services.get(ReferralService).lists()
        self.loading = False
        self._seq = 0
        self.model = IntelTableModel(
            lambda f, o, n: self.service.rows(f, offset=o, limit=n), parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        top = QHBoxLayout()
        top.addWidget(heading(
            "Intelligence log",
            "Every entry graded 3x5x2: source (1-3) / intelligence (A-E) / handling (P or C). "
            "Handling C entries carry written conditions, and any export carries the most "
            "restrictive handling of what it holds."), 1)
        self.add_button = QPushButton("&New entry…")
        self.add_button.setProperty("primary", True)
        self.add_button.clicked.connect(self.add_entry)
        self.add_button.setVisible(services.can(Perm.INTEL_WRITE))
        top.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(top)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search text or IN- reference")
        self.search.setAccessibleName("Search intelligence")
        self.search.setClearButtonEnabled(True)
        self.handling = QComboBox()
        self.handling.setAccessibleName("Handling filter")
        self.handling.addItem("Any handling", "")
        self.handling.addItem("P only", "P")
        self.handling.addItem("C only (conditions)", "C")
        self.since = date_edit(date(date.today().year - 3, 1, 1), name="Received from")
        filters.addWidget(_labelled("&Search:", self.search))
        filters.addWidget(self.search, 2)
        filters.addWidget(_labelled("&Handling:", self.handling))
        filters.addWidget(self.handling)
        filters.addWidget(_labelled("Received &from:", self.since))
        filters.addWidget(self.since)
        self.count_label = QLabel()
        self.count_label.setObjectName("Hint")
        filters.addWidget(self.count_label, 1, Qt.AlignmentFlag.AlignRight)
        layout.addLayout(filters)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = intel_table(self.model)
        split.addWidget(self.table)
        self.detail = QLabel("Select an entry to see it in full.")
        self.detail.setObjectName("Hint")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setMargin(8)
        split.addWidget(self.detail)
        split.setSizes([420, 140])
        layout.addWidget(split, 1)
        self.table.selectionModel().currentRowChanged.connect(self._show_current)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.handling.currentIndexChanged.connect(lambda _i: self.reload())
        self.since.dateChanged.connect(lambda _d: self._timer.start())
        self.reload()

    def current_filter(self) -> IntelFilter:
        return IntelFilter(handling=combo_code(self.handling) or None,
                           received_from=py_date(self.since.date()),
                           text=self.search.text().strip())

    def reload(self) -> None:
        flt = self.current_filter()
        self._seq += 1
        seq = self._seq
        self.loading = True

        def done(rows: Any) -> None:
            if seq != self._seq:
                return
            self.model.reset_with(flt, rows)
            n = len(rows)
            self.count_label.setText(f"{n}{'+' if self.model.canFetchMore() else ''} entries")
            self.loading = False
            if n:
                self.table.selectRow(0)

        def failed(exc: Any) -> None:
            self.loading = False
            self.services.dialogs.error(self, "Intelligence", str(exc))

        run(self.services, "prevent.intel-list", lambda: self.service.rows(flt, limit=200),
            done, self, failed)

    def _show_current(self, current: Any, _previous: Any) -> None:
        row = self.model.record(current.row()) if current.isValid() else None
        if row is None:
            return
        ok, rec = guarded(self.services, self, None, lambda: self.service.show(row.id))
        if not ok:
            return
        g = rec.grading
        lines = [f"{rec.ref} — graded {g.code}, received {long_date(rec.received_on)}",
                 f"Source {g.source.value}: {SOURCE_LABELS[g.source]}; intelligence "
                 f"{g.intelligence.value}: {ASSESSMENT_LABELS[g.intelligence]}; handling "
                 f"{g.handling.value}: {HANDLING_LABELS[g.handling]}"]
        if g.conditions:
            lines.append(f"Conditions: {g.conditions}")
        lines.append("")
        lines.append(rec.summary)
        links = [r["ref"] for r in rec.referrals] + [
            f"{p['surname'].upper()}, {p['forenames']}" for p in rec.people] + [
            i["name"] for i in rec.institutions]
        if links:
            lines.append("")
            lines.append("Linked: " + "; ".join(links))
        self.detail.setText("\n".join(lines))
        self.detail.setObjectName("")

    def add_entry(self) -> None:
        dialog = AddIntelDialog(self.services, self.lists, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.reload()

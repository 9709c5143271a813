"""The National Decision Model decision record: the five stages, the Code of Ethics, the decision,
its maker and date, the rationale, and necessity and proportionality (HRA) — every box required."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.prevent import NdmInput
from app.services.referrals import DecisionRecord
from ui.prevent.common import (
    FormErrors,
    date_edit,
    long_date,
    plain_text_edit,
    py_date,
    uk_datetime,
)
from ui.widgets import FieldError, with_error

# (field, label with mnemonic-free wording, hint shown in the box)
STAGES: tuple[tuple[str, str, str], ...] = (
    ("information", "1. Information and intelligence",
     "What is known: checks made, who was spoken to, what the referral says."),
    ("assessment", "2. Threat and risk; working strategy",
     "The threat and risk as assessed, and the strategy that follows."),
    ("powers", "3. Powers and policy",
     "The powers, duties and policy that apply (Prevent duty guidance...)."),
    ("options", "4. Options and contingencies",
     "The options considered, including doing nothing, and contingencies."),
    ("action", "5. Action and review",
     "What will be done, by whom, and when it will be reviewed."),
)
DECISION_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("code_of_ethics", "Code of Ethics",
     "How the decision accords with the Code of Ethics (at the centre of the model)."),
    ("decision", "Decision", "The decision, in one or two sentences."),
    ("rationale", "Rationale", "Why this option and not the others."),
    ("necessity", "Necessity (HRA)", "Why interfering with privacy (Article 8) is necessary."),
    ("proportionality", "Proportionality (HRA)",
     "Why it is the least intrusive way to meet the need."),
)


class NdmForm(QWidget):
    """A blank (or prefilled) NDM decision record with messages beside each box."""

    def __init__(self, decision_maker: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.errors = FormErrors()
        self.boxes: dict[str, QPlainTextEdit] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)

        stages = QGroupBox("National Decision Model: the five stages")
        stages_form = QFormLayout(stages)
        self._fill(stages_form, STAGES)
        outer.addWidget(stages)

        decision = QGroupBox("Decision, Code of Ethics and Human Rights Act")
        decision_form = QFormLayout(decision)
        self._fill(decision_form, DECISION_FIELDS)
        self.maker = QLineEdit(decision_maker)
        self.maker.setAccessibleName("Decision maker")
        self.maker.setPlaceholderText("Rank and name, e.g. DS A. Example")
        maker_error = FieldError()
        maker_label = QLabel("Decision &maker:")
        maker_label.setBuddy(self.maker)
        decision_form.addRow(maker_label, with_error(self.maker, maker_error))
        self.errors.add("ndm.decision_maker", self.maker, maker_error, "The decision maker",
                        required=True)
        self.decided_on = date_edit(name="Date of decision")
        on_error = FieldError()
        on_label = QLabel("Date of &decision:")
        on_label.setBuddy(self.decided_on)
        decision_form.addRow(on_label, with_error(self.decided_on, on_error))
        self.errors.add("ndm.decided_on", self.decided_on, on_error, "The date of decision")
        outer.addWidget(decision)

    def _fill(self, form: QFormLayout, fields: tuple[tuple[str, str, str], ...]) -> None:
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        for key, label, hint in fields:
            box = plain_text_edit(label, placeholder=hint, lines=2)
            error = FieldError()
            form.addRow(QLabel(label + ":"), with_error(box, error))
            self.boxes[key] = box
            self.errors.add(f"ndm.{key}", box, error, label, required=True)

    def first_field(self) -> QWidget:
        return self.boxes["information"]

    def validate(self) -> bool:
        return self.errors.validate()

    def value(self) -> NdmInput:
        texts = {k: b.toPlainText() for k, b in self.boxes.items()}
        return NdmInput(**texts, decision_maker=self.maker.text(),
                        decided_on=py_date(self.decided_on.date()))

    def clear(self) -> None:
        for box in self.boxes.values():
            box.clear()
        self.decided_on.setDate(self.decided_on.maximumDate())
        self.errors.reset()


def decision_view(rec: DecisionRecord, title: str = "") -> QGroupBox:
    """A recorded decision, read-only, in the same order as the form."""
    kinds = {"gateway": "Gateway decision", "outcome": "Outcome decision",
             "review": "Review decision", "closure": "Closure decision",
             "other": "Further decision"}
    box = QGroupBox(title or f"{kinds.get(rec.kind, rec.kind)} — {long_date(rec.decided_on)}")
    form = QFormLayout(box)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
    for key, label, _hint in STAGES + DECISION_FIELDS:
        value = QLabel(getattr(rec, key))
        value.setWordWrap(True)
        value.setTextFormat(Qt.TextFormat.PlainText)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                      | Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(QLabel(label + ":"), value)
    made = QLabel(f"{rec.decision_maker}, {long_date(rec.decided_on)} "
                  f"(recorded by {rec.recorded_by}, {uk_datetime(rec.recorded_at)} UTC)")
    made.setTextFormat(Qt.TextFormat.PlainText)
    made.setWordWrap(True)
    form.addRow(QLabel("Decision maker:"), made)
    return box

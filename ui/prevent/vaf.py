"""Vulnerability Assessment Framework: the form (22 factors, threat / risk / vulnerability) that
saves a new version each time, and the comparison of any two versions."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.prevent import Level, VafInput, VafTemplate
from app.services.assessments import AssessmentService, VafVersion
from ui.prevent.common import (
    FormErrors,
    code_combo,
    combo_code,
    date_edit,
    guarded,
    long_date,
    py_date,
    set_combo_code,
)
from ui.prevent.models import VafComparisonTableModel
from ui.services import Services
from ui.widgets import FieldError, message_label, record_table

LEVELS = [(lv.value, lv.value.capitalize()) for lv in Level]


def _pair_check(combo: QComboBox, rationale: QLineEdit, what: str) -> Callable[[], str]:
    """One message for a rating and its rationale, which share a row."""

    def check() -> str:
        if not combo_code(combo):
            return f"Rate {what}."
        if not rationale.text().strip():
            return f"Give the rationale for {what}."
        return ""

    return check


class VafForm(QWidget):
    """One new version of the referral's VAF; prefilled from the latest version."""

    saved = Signal(object)  # VafVersion

    def __init__(self, services: Services, ref: str, template: VafTemplate,
                 latest: VafVersion | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ref = ref
        self.template = template
        self.latest = latest
        self.ratings: dict[str, QComboBox] = {}
        self.rationales: dict[str, QLineEdit] = {}
        self.general = message_label("ErrorBox")
        self.errors = FormErrors(self.general)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        version = (f"Version {latest.version + 1}: starts from version {latest.version} "
                   f"({long_date(latest.assessed_on)}); change what has changed and say why."
                   if latest else "Version 1: rate every factor and give a rationale for each.")
        intro = QLabel(f"{version} Template {template.version}.")
        intro.setObjectName("Hint")
        intro.setWordWrap(True)
        outer.addWidget(intro)
        top = QFormLayout()
        self.assessed_on = date_edit(name="Assessed on")
        top.addRow("Assessed &on:", self.assessed_on)
        outer.addLayout(top)
        rating_items = [(r.code, r.label) for r in template.factor_ratings]
        for dim in template.dimensions:
            box = QGroupBox(f"{dim.label} ({len(dim.factors)} factors)")
            grid = QGridLayout(box)
            grid.setColumnStretch(2, 1)
            grid.setHorizontalSpacing(10)
            grid.setVerticalSpacing(2)
            row = 0
            for f in dim.factors:
                caption = QLabel(f"{f.number}. {f.label}")
                caption.setToolTip(f.guidance)
                caption.setWordWrap(True)
                caption.setMinimumWidth(240)
                rating = code_combo(rating_items, placeholder="Rate…",
                                    name=f"Factor {f.number} rating")
                rating.setToolTip(f.guidance)
                rationale = QLineEdit()
                rationale.setAccessibleName(f"Factor {f.number} rationale")
                rationale.setPlaceholderText("Rationale: what shows this")
                error = FieldError()
                grid.addWidget(caption, row, 0)
                grid.addWidget(rating, row, 1)
                grid.addWidget(rationale, row, 2)
                grid.addWidget(error, row + 1, 1, 1, 2)
                row += 2
                self.ratings[f.code] = rating
                self.rationales[f.code] = rationale
                check = _pair_check(rating, rationale, f"factor {f.number}")
                self.errors.add(f"factors.{f.code}.rating", rating, error,
                                f"Factor {f.number}'s rating", check)
                self.errors.add(f"factors.{f.code}.rationale", rationale, error,
                                f"Factor {f.number}'s rationale", check)
                self.errors.add(f"factors.{f.code}", rating, error, f"Factor {f.number}",
                                check)
            outer.addWidget(box)
        overall = QGroupBox("Threat, risk and vulnerability")
        grid = QGridLayout(overall)
        grid.setColumnStretch(2, 1)
        self.levels: dict[str, QComboBox] = {}
        self.level_rationales: dict[str, QLineEdit] = {}
        for i, name in enumerate(("threat", "risk", "vulnerability")):
            combo = code_combo(LEVELS, placeholder="Rate…", name=f"{name.capitalize()} level")
            rationale = QLineEdit()
            rationale.setAccessibleName(f"{name.capitalize()} rationale")
            rationale.setPlaceholderText(f"Why the {name} is rated so")
            error = FieldError()
            grid.addWidget(QLabel(name.capitalize()), i * 2, 0)
            grid.addWidget(combo, i * 2, 1)
            grid.addWidget(rationale, i * 2, 2)
            grid.addWidget(error, i * 2 + 1, 1, 1, 2)
            self.levels[name] = combo
            self.level_rationales[name] = rationale
            check = _pair_check(combo, rationale, f"the {name}")
            self.errors.add(name, combo, error, name.capitalize(), check)
            self.errors.add(f"{name}_rationale", rationale, error, f"The {name} rationale",
                            check)
        outer.addWidget(overall)
        reason_form = QFormLayout()
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Why this version")
        self.reason.setPlaceholderText("What changed since the last version, and why"
                                       if latest else "Optional for the first version")
        reason_error = FieldError()
        reason_box = QWidget()
        col = QVBoxLayout(reason_box)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.reason)
        col.addWidget(reason_error)
        reason_form.addRow("&Why this version" + (" *:" if latest else ":"), reason_box)
        self.errors.add("change_reason", self.reason, reason_error, "The reason for the change",
                        self._check_reason)
        outer.addLayout(reason_form)
        outer.addWidget(self.general)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton("Save as &new version")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        if latest is not None:
            self.load(latest)

    def _check_reason(self) -> str:
        if self.latest is not None and not self.reason.text().strip():
            return "Say why this version differs from the last."
        return ""

    def load(self, v: VafVersion) -> None:
        for code, (rating, rationale) in v.factors.items():
            if code in self.ratings:
                set_combo_code(self.ratings[code], rating)
                self.rationales[code].setText(rationale)
        for name in self.levels:
            set_combo_code(self.levels[name], getattr(v, name))
            self.level_rationales[name].setText(getattr(v, f"{name}_rationale"))
        self.errors.reset()

    def value(self) -> VafInput:
        return VafInput(
            factors={c: (combo_code(self.ratings[c]), self.rationales[c].text())
                     for c in self.ratings},
            threat=combo_code(self.levels["threat"]),
            threat_rationale=self.level_rationales["threat"].text(),
            risk=combo_code(self.levels["risk"]),
            risk_rationale=self.level_rationales["risk"].text(),
            vulnerability=combo_code(self.levels["vulnerability"]),
            vulnerability_rationale=self.level_rationales["vulnerability"].text(),
            assessed_on=py_date(self.assessed_on.date()),
            change_reason=self.reason.text(),
        )

    def save(self) -> None:
        if not self.errors.validate():
            return
        service = self.services.get(AssessmentService)
        ok, version = guarded(self.services, self, self.errors,
                              lambda: service.add_vaf(self.ref, self.value()))
        if ok:
            self.saved.emit(version)


class VafCompareView(QWidget):
    """Pick any two versions: what changed, old and new, and the newer rationale (why)."""

    def __init__(self, services: Services, versions: list[VafVersion], template: VafTemplate,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.versions = versions
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        if len(versions) < 2:
            note = QLabel("Two versions are needed to compare. Save a new version of the "
                          "vulnerability assessment when something changes." if versions else
                          "No vulnerability assessment has been recorded yet.")
            note.setObjectName("Hint")
            note.setWordWrap(True)
            layout.addWidget(note)
            layout.addStretch(1)
            self.older = self.newer = None
            self.model = VafComparisonTableModel(parent=self)
            return
        pick = QHBoxLayout()
        self.older = QComboBox()
        self.older.setAccessibleName("Older version")
        self.newer = QComboBox()
        self.newer.setAccessibleName("Newer version")
        for v in versions:
            text = f"Version {v.version} — {long_date(v.assessed_on)}, {v.recorded_by}"
            self.older.addItem(text, v.id)
            self.newer.addItem(text, v.id)
        self.older.setCurrentIndex(len(versions) - 2)
        self.newer.setCurrentIndex(len(versions) - 1)
        older_label = QLabel("Co&mpare:")
        older_label.setBuddy(self.older)
        pick.addWidget(older_label)
        pick.addWidget(self.older, 1)
        pick.addWidget(QLabel("with"))
        pick.addWidget(self.newer, 1)
        layout.addLayout(pick)
        self.reason = message_label("InfoBox")
        layout.addWidget(self.reason)
        self.model = VafComparisonTableModel(
            {r.code: r.label for r in template.factor_ratings}, self)
        # Rows fit their wrapped rationales (compare()); changed cells are shaded, so no
        # alternating rows.
        self.table = record_table(self.model, "Changes between versions", row_height=None,
                                  widths=(230, 96, 96), stretch=(3, 4), multi=True,
                                  alternating=False, wrap=True)
        layout.addWidget(self.table, 1)
        legend = QLabel("Highlighted cells changed. Ratings that changed are listed first, "
                        "then rationales reworded without a change of rating.")
        legend.setObjectName("Hint")
        layout.addWidget(legend)
        self.older.currentIndexChanged.connect(lambda _i: self.compare())
        self.newer.currentIndexChanged.connect(lambda _i: self.compare())
        self.compare()

    def compare(self) -> None:
        if self.older is None or self.newer is None:
            return
        a, b = int(self.older.currentData()), int(self.newer.currentData())
        if a == b:
            self.model.set_comparison(None)
            self.reason.setText("Pick two different versions.")
            self.reason.show()
            return
        service = self.services.get(AssessmentService)
        ok, result = guarded(self.services, self, None, lambda: service.compare(a, b))
        if not ok:
            return
        self.model.set_comparison(result)
        n = len(result.changes)
        why = (result.change_reason or "no reason was recorded").rstrip(".")
        extra = " The VAF template changed between them." if result.template_changed else ""
        self.reason.setText(
            f"Version {result.older} → version {result.newer}: {n} change"
            f"{'s' if n != 1 else ''}. Why version {result.newer} was made: {why}.{extra}")
        self.reason.show()
        self.table.resizeRowsToContents()  # at most 25 rows: cheap

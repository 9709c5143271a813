"""One referral, opened from a list: Summary, Gateway assessment, Decisions (NDM), Vulnerability
(VAF), Compare versions, Outcome and closure, Intelligence, Notes. Alt+1…Alt+8 switch tabs."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.prevent import CtRisk, GatewayInput, PreventLists
from app.domain.roles import Perm
from app.services.assessments import AssessmentService, GatewayRecord
from app.services.intelligence import IntelFilter, IntelligenceService
from app.services.referrals import ReferralDetail, ReferralService
from ui.prevent.common import (
    STATUS_LABELS,
    FormErrors,
    choices,
    code_combo,
    combo_code,
    date_edit,
    guarded,
    long_date,
    plain_text_edit,
    py_date,
    qdate,
    uk_datetime,
)
from ui.prevent.intel import AddIntelDialog, intel_table
from ui.prevent.models import CheckTableModel, IntelTableModel, stage_label
from ui.prevent.ndm import NdmForm, decision_view
from ui.prevent.vaf import VafCompareView, VafForm
from ui.services import Services
from ui.widgets import FieldError, isolate, message_label, record_table, with_error

TABS = ("Summary", "Gateway assessment", "Decisions (NDM)", "Vulnerability (VAF)",
        "Compare versions", "Outcome", "Intelligence", "Notes")


def _scroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _page() -> tuple[QWidget, QVBoxLayout]:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(16, 14, 16, 14)
    layout.setSpacing(10)
    return page, layout


def _value(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    return label


def _labelled(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class CheckDelegate(QStyledItemDelegate):
    """Editors for the checks table: a system list (free text allowed) and a UK date."""

    def __init__(self, systems: tuple[str, ...], parent: Any = None) -> None:
        super().__init__(parent)
        self.systems = systems

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        if index.column() == 0:
            combo = QComboBox(parent)
            combo.setEditable(True)
            combo.addItems(list(self.systems))
            return combo
        if index.column() == 1:
            edit = QDateEdit(parent)
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setMaximumDate(qdate(date.today()))
            return edit
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(value or ""))
        elif isinstance(editor, QDateEdit) and isinstance(value, date):
            editor.setDate(qdate(value))
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: Any,
                     index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        elif isinstance(editor, QDateEdit):
            d: QDate = editor.date()
            model.setData(index, date(d.year(), d.month(), d.day()))
        else:
            super().setModelData(editor, model, index)


class GatewayForm(QWidget):
    """Checks made, CT risk, immediate risk, criminality (→ Pursue), and the NDM decision."""

    saved = Signal()

    def __init__(self, services: Services, detail: ReferralDetail, lists: PreventLists,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.detail = detail
        self.systems = lists.gateway_systems
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.general = message_label("ErrorBox")
        self.errors = FormErrors(self.general)

        checks = QGroupBox("Checks made (systems searched and what was found)")
        clay = QVBoxLayout(checks)
        self.checks = CheckTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.checks)
        self.table.setAccessibleName("Checks made")
        self.table.setItemDelegate(CheckDelegate(lists.gateway_systems, self.table))
        triggers = QAbstractItemView.EditTrigger
        self.table.setEditTriggers(triggers.DoubleClicked | triggers.EditKeyPressed
                                   | triggers.AnyKeyPressed | triggers.SelectedClicked)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.verticalHeader().hide()
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(1, 120)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(130)
        self.table.setTabKeyNavigation(True)
        clay.addWidget(self.table)
        row = QHBoxLayout()
        self.add_check_button = QPushButton("&Add check")
        self.add_check_button.clicked.connect(self.add_check)
        self.remove_check_button = QPushButton("Remo&ve check")
        self.remove_check_button.clicked.connect(self.remove_check)
        hint = QLabel("Type in a cell to edit it; Tab moves across, Enter finishes.")
        hint.setObjectName("Hint")
        row.addWidget(self.add_check_button)
        row.addWidget(self.remove_check_button)
        row.addWidget(hint, 1)
        clay.addLayout(row)
        checks_error = FieldError()
        clay.addWidget(checks_error)
        self.errors.add("checks", self.table, checks_error, "The checks", self._check_checks)
        self.checks.dataChanged.connect(lambda *_a: self.errors.recheck("checks"))
        self.checks.rowsInserted.connect(lambda *_a: self.errors.recheck("checks"))
        layout.addWidget(checks)

        findings = QGroupBox("Findings")
        form = QFormLayout(findings)
        self.ct_risk = code_combo([(r.value, r.value.capitalize()) for r in CtRisk],
                                  placeholder="Choose…", name="CT risk")
        ct_error = FieldError()
        form.addRow(_labelled("&CT risk *:", self.ct_risk), with_error(self.ct_risk, ct_error))
        self.errors.add("ct_risk", self.ct_risk, ct_error, "The CT risk", required=True)
        self.immediate = QCheckBox("&Immediate risk (999): the referral goes to the top of "
                                   "every list")
        self.immediate.setChecked(detail.immediate_risk)
        form.addRow("", self.immediate)
        self.criminality = QCheckBox("Crimi&nality found")
        self.pursue = QCheckBox("Refer to &Pursue")
        self.criminality.toggled.connect(self._criminality)
        form.addRow("", self.criminality)
        form.addRow("", self.pursue)
        self.pursue_note = QLabel("Criminality is a matter for Pursue: the referral will say so.")
        self.pursue_note.setObjectName("Hint")
        self.pursue_note.hide()
        form.addRow("", self.pursue_note)
        self.notes = plain_text_edit("Gateway notes", lines=2)
        form.addRow(_labelled("Gateway n&otes:", self.notes), self.notes)
        layout.addWidget(findings)

        self.ndm = NdmForm(services.user)
        layout.addWidget(self.ndm)
        layout.addWidget(self.general)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton("&Record gateway decision")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

    def _criminality(self, on: bool) -> None:
        if on:
            self.pursue.setChecked(True)
        self.pursue.setEnabled(not on)
        self.pursue_note.setVisible(on)

    def _check_checks(self) -> str:
        rows = self.checks.checks()
        if not rows:
            return "Record at least one check made (Add check)."
        for i, c in enumerate(rows, 1):
            if not c.system:
                return f"Check {i}: name the system searched."
            if not c.result:
                return f"Check {i}: say what was found (or 'no trace')."
        return ""

    def add_check(self) -> None:
        row = self.checks.add_check(self.systems[0] if self.systems else "", date.today())
        self.table.setFocus()
        self.table.setCurrentIndex(self.checks.index(row, 0))

    def remove_check(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.checks.remove_check(index.row())

    def value(self) -> GatewayInput:
        return GatewayInput(checks=self.checks.checks(), ct_risk=combo_code(self.ct_risk),
                            immediate_risk=self.immediate.isChecked(),
                            criminality=self.criminality.isChecked(),
                            refer_to_pursue=self.pursue.isChecked(),
                            notes=self.notes.toPlainText())

    def save(self) -> None:
        ok_here = self.errors.validate()
        ok_ndm = self.ndm.validate()
        if not (ok_here and ok_ndm):
            return
        service = self.services.get(AssessmentService)

        def record() -> GatewayRecord:
            return service.record_gateway(self.detail.ref, self.value(), self.ndm.value())

        errors = _Both(self.errors, self.ndm.errors)
        ok, _rec = guarded(self.services, self, errors, record)  # type: ignore[arg-type]
        if ok:
            self.saved.emit()


class _Both:
    """Route a service error to whichever of two forms has the field."""

    def __init__(self, first: FormErrors, second: FormErrors) -> None:
        self.first, self.second = first, second

    def show(self, exc: Any) -> None:
        field = getattr(exc, "field", "")
        target = self.second if str(field).startswith("ndm.") else self.first
        target.show(exc)


def gateway_view(g: GatewayRecord) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    box = QGroupBox(f"Gateway assessment recorded by {g.recorded_by}, "
                    f"{uk_datetime(g.recorded_at)} UTC")
    form = QFormLayout(box)
    model = CheckTableModel(box)
    for c in g.checks:
        model.add_check(c.system, c.searched_on)
        model.setData(model.index(model.rowCount() - 1, 2), c.result)
    table = record_table(model, "Checks made", row_height=30, widths=(220, 120),
                         stretch_last=True)
    table.ensurePolished()  # the style sheet's header font and frame, for the height below
    table.setMaximumHeight(table.horizontalHeader().sizeHint().height() + 30 * len(g.checks)
                           + 2 * table.frameWidth())
    form.addRow("Checks made:", table)
    form.addRow("CT risk:", _value(g.ct_risk.capitalize()))
    form.addRow("Immediate risk:", _value("Yes" if g.immediate_risk else "No"))
    form.addRow("Criminality:", _value("Yes: referred to Pursue" if g.criminality else
                                       "Referred to Pursue" if g.refer_to_pursue else "No"))
    if g.notes:
        form.addRow("Notes:", _value(g.notes))
    layout.addWidget(box)
    layout.addWidget(decision_view(g.decision))
    return page


class ReferralWorkspace(QWidget):
    """Everything about one referral. ``changed(ref)`` after any change (lists refresh);
    ``closed_requested`` when the user goes back (Escape or Back)."""

    changed = Signal(str)
    back_requested = Signal()

    def __init__(self, services: Services, lists: PreventLists, ref: str | int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.lists = lists
        self.referrals = services.get(ReferralService)
        self.assessments = services.get(AssessmentService)
        self.can_write = services.can(Perm.REFERRAL_WRITE)
        self.can_intel = services.can(Perm.INTEL_READ)
        self.detail = self.referrals.show(ref)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 16, 28, 12)
        layout.setSpacing(8)
        top = QHBoxLayout()
        self.back_button = QPushButton("← &Back to list")
        self.back_button.setProperty("flat", True)
        self.back_button.clicked.connect(self.back_requested)
        top.addWidget(self.back_button)
        top.addStretch(1)
        layout.addLayout(top)
        self.title = QLabel()
        self.title.setObjectName("PageTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.title)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("PageSubtitle")
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.subtitle)
        self.risk_banner = message_label("BadBanner")
        layout.addWidget(self.risk_banner)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages: dict[str, QScrollArea] = {}
        for name in TABS:
            if name == "Intelligence" and not self.can_intel:
                continue
            area = _scroll(QWidget())
            self.pages[name] = area
            self.tabs.addTab(area, name)
        layout.addWidget(self.tabs, 1)
        for n in range(self.tabs.count()):
            QShortcut(QKeySequence(f"Alt+{n + 1}"), self,
                      lambda i=n: self._go(i),
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.back_requested.emit,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.tabs.setTabToolTip(0, "Alt+1 … Alt+8 switch tabs")
        self.refresh_all()

    def _go(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)
        page = self.tabs.currentWidget()
        inner = page.widget() if isinstance(page, QScrollArea) else None
        if inner is not None:
            first = getattr(self, "_first_focus", {}).get(self.tabs.tabText(index))
            target = first or inner.nextInFocusChain()
            if target is not None:
                target.setFocus()

    def tab(self, name: str) -> QWidget | None:
        return self.pages[name].widget()

    def show_tab(self, name: str) -> None:
        self._go(list(self.pages).index(name))

    # -- refreshing ---------------------------------------------------------------------------
    def refresh_all(self) -> None:
        self._first_focus: dict[str, QWidget] = {}
        self._header()
        self._summary()
        self._gateway()
        self._decisions()
        self._vaf()
        self._outcome()
        if self.can_intel:
            self._intelligence()
        self._notes()

    def reload(self, *, vaf: bool = False) -> None:
        """After a change: fetch the referral again and rebuild what it shows."""
        current = self.tabs.currentIndex()
        self.detail = self.referrals.show(self.detail.id)
        self._header()
        self._summary()
        self._gateway()
        self._decisions()
        self._outcome()
        self._notes()
        if vaf:
            self._vaf()
        self.tabs.setCurrentIndex(current)
        self.changed.emit(self.detail.ref)

    def _set(self, name: str, page: QWidget) -> None:
        area = self.pages[name]
        old = area.takeWidget()
        area.setWidget(page)
        if old is not None:
            old.deleteLater()

    def _header(self) -> None:
        d = self.detail
        name = isolate(d.surname.upper()) + (f", {isolate(d.forenames)}" if d.forenames else "")
        self.title.setText(f"{d.ref} — {name}")
        clock = d.clock
        status = STATUS_LABELS.get(clock.status, clock.status) if clock else ""
        bits = [stage_label(d.stage), self.lists.label("concern_types", d.concern_type),
                f"received {uk_datetime(d.received_at)}",
                f"gateway target {long_date(d.target_due)}"]
        if status:
            bits.append(status)
        if d.outcome:
            bits.append(self.lists.label("outcomes", d.outcome))
        self.subtitle.setText(" · ".join(bits))
        self.risk_banner.setText("IMMEDIATE RISK: this referral is shown first, in red, in "
                                 "every list." if d.immediate_risk else "")
        self.risk_banner.setVisible(d.immediate_risk)

    def _summary(self) -> None:
        d = self.detail
        page, layout = _page()
        box = QGroupBox("Referral")
        form = QFormLayout(box)
        form.addRow("Received:", _value(uk_datetime(d.received_at)))
        referrer = ", ".join(isolate(x) for x in (d.referrer_name, d.referrer_organisation)
                             if x)
        form.addRow("Referrer:", _value(referrer or "Not recorded"))
        form.addRow("Source sector:", _value(self.lists.label("source_sectors",
                                                              d.source_sector)))
        form.addRow("Concern type:", _value(self.lists.label("concern_types", d.concern_type)))
        born = long_date(d.dob) if d.dob else "not known"
        age = f" (aged {d.age_at_referral} when referred)" if d.age_at_referral is not None \
            else ""
        nominal = f"; known as nominal {d.nominal_ref}" if d.nominal_ref else ""
        subject = isolate(d.surname.upper()) + (f", {isolate(d.forenames)}" if d.forenames
                                                 else "")
        form.addRow("Subject:", _value(f"{subject}, born {born}{age}{nominal}"))
        form.addRow("Area:", _value(d.area or "Not recorded"))
        insts = "; ".join(f"{i['name']} ({self.lists.label('institution_types', i['type'])})"
                          for i in d.institutions)
        form.addRow("Institutions:", _value(insts or "None linked"))
        form.addRow("Summary:", _value(d.summary))
        layout.addWidget(box)
        triage = QGroupBox("Triage")
        tform = QFormLayout(triage)
        tform.addRow("Stage:", _value(stage_label(d.stage)))
        c = d.clock
        if c is not None:
            tform.addRow("Clock:", _value(
                f"{STATUS_LABELS.get(c.status, c.status)} — {c.working_days_elapsed} working "
                f"days elapsed of {d.target_working_days}; target {long_date(d.target_due)}"))
        if d.decided_on:
            tform.addRow("Gateway decided:", _value(long_date(d.decided_on)))
        layout.addWidget(triage)
        if self.can_write:
            row = QHBoxLayout()
            if d.stage == "new":
                start = QPushButton("&Start gateway assessment")
                start.setProperty("primary", True)
                start.clicked.connect(self.start_gateway)
                row.addWidget(start)
                self._first_focus["Summary"] = start
            flag = QPushButton("Clear &immediate-risk flag…" if d.immediate_risk
                               else "Flag as &immediate risk…")
            flag.clicked.connect(self.toggle_immediate)
            row.addWidget(flag)
            row.addStretch(1)
            layout.addLayout(row)
        layout.addStretch(1)
        self._set("Summary", page)

    def start_gateway(self) -> None:
        ok, _ = guarded(self.services, self, None,
                        lambda: self.referrals.start_gateway(self.detail.id))
        if ok:
            self.reload()
            self.show_tab("Gateway assessment")

    def toggle_immediate(self) -> None:
        flag = not self.detail.immediate_risk
        reason = self.services.dialogs.ask_text(
            self, "Immediate risk", "Why does the immediate-risk flag change?")
        if reason is None:
            return
        ok, _ = guarded(self.services, self, None, lambda: self.referrals.set_immediate_risk(
            self.detail.id, flag, reason))
        if ok:
            self.reload()

    def _gateway(self) -> None:
        page, layout = _page()
        g = self.assessments.gateway(self.detail.id)
        if g is not None:
            layout.addWidget(gateway_view(g))
        elif self.detail.stage in ("new", "gateway") and self.can_write:
            self.gateway_form = GatewayForm(self.services, self.detail, self.lists)
            self.gateway_form.saved.connect(self._gateway_saved)
            layout.addWidget(self.gateway_form)
            self._first_focus["Gateway assessment"] = self.gateway_form.add_check_button
        else:
            layout.addWidget(_value("No gateway assessment was recorded for this referral."))
        layout.addStretch(1)
        self._set("Gateway assessment", page)

    def _gateway_saved(self) -> None:
        self.reload()
        self.show_tab("Outcome")

    def _decisions(self) -> None:
        page, layout = _page()
        intro = QLabel("Every decision on this referral, in the National Decision Model's "
                       "structure, oldest first.")
        intro.setObjectName("Hint")
        layout.addWidget(intro)
        if not self.detail.decisions:
            layout.addWidget(_value("No decision recorded yet: the gateway decision is "
                                    "recorded on the Gateway assessment tab."))
        for rec in self.detail.decisions:
            layout.addWidget(decision_view(rec))
        if self.can_write and self.detail.decisions:
            box = QGroupBox("Record a further decision")
            blay = QVBoxLayout(box)
            kind_row = QHBoxLayout()
            self.decision_kind = code_combo([("review", "Review"), ("other", "Change of plan"),
                                             ("closure", "Closure")], name="Kind of decision")
            kind_row.addWidget(_labelled("&Kind:", self.decision_kind))
            kind_row.addWidget(self.decision_kind)
            kind_row.addStretch(1)
            blay.addLayout(kind_row)
            self.further = NdmForm(self.services.user)
            blay.addWidget(self.further)
            self.further_general = message_label("ErrorBox")
            self.further.errors.general = self.further_general
            blay.addWidget(self.further_general)
            save = QPushButton("Record &further decision")
            save.clicked.connect(self.record_further)
            blay.addWidget(save, 0, Qt.AlignmentFlag.AlignRight)
            layout.addWidget(box)
        layout.addStretch(1)
        self._set("Decisions (NDM)", page)

    def record_further(self) -> None:
        if not self.further.validate():
            return
        ok, _ = guarded(self.services, self, self.further.errors,
                        lambda: self.assessments.record_decision(
                            self.detail.id, self.further.value(),
                            kind=combo_code(self.decision_kind)))
        if ok:
            self.reload()

    def _vaf(self) -> None:
        versions = self.assessments.vaf_versions(self.detail.id)
        template = self.assessments.vaf_template()
        page, layout = _page()
        if versions:
            last = versions[-1]
            summary = QLabel(
                f"Latest: version {last.version} of {long_date(last.assessed_on)} — threat "
                f"{last.threat}, risk {last.risk}, vulnerability {last.vulnerability}.")
            summary.setObjectName("SectionTitle")
            summary.setWordWrap(True)
            layout.addWidget(summary)
        if self.can_write:
            self.vaf_form = VafForm(self.services, self.detail.ref, template,
                                    versions[-1] if versions else None)
            self.vaf_form.saved.connect(lambda _v: self.reload(vaf=True))
            layout.addWidget(self.vaf_form)
        elif not versions:
            layout.addWidget(_value("No vulnerability assessment has been recorded."))
        layout.addStretch(1)
        self._set("Vulnerability (VAF)", page)
        cpage, clayout = _page()
        self.compare_view = VafCompareView(
            self.services, versions,
            self.assessments.vaf_template(versions[-1].template_version) if versions
            else template)
        clayout.addWidget(self.compare_view, 1)
        self._set("Compare versions", cpage)
        self.pages["Compare versions"].setWidgetResizable(True)

    def _outcome(self) -> None:
        d = self.detail
        page, layout = _page()
        if d.outcome is None:
            if d.stage not in ("decision", "outcome") and not self.can_write:
                layout.addWidget(_value("No outcome yet."))
            elif self.can_write:
                if d.stage not in ("decision", "outcome"):
                    note = QLabel("Record the gateway assessment first (only an immediate-risk "
                                  "outcome can be recorded before it).")
                    note.setObjectName("WarnBox")
                    note.setWordWrap(True)
                    layout.addWidget(note)
                self._outcome_form(layout)
        else:
            box = QGroupBox("Outcome")
            form = QFormLayout(box)
            text = self.lists.label("outcomes", d.outcome)
            if d.signposted_to:
                text += f" — to {self.lists.label('signposting', d.signposted_to)}"
            form.addRow("Outcome:", _value(text))
            form.addRow("Decided on:", _value(long_date(d.outcome_on)))
            layout.addWidget(box)
            if d.closed_on is None and self.can_write:
                self._close_form(layout)
            elif d.closed_on is not None:
                rbox = QGroupBox("Closed, with reviews")
                rform = QFormLayout(rbox)
                rform.addRow("Closed on:", _value(long_date(d.closed_on)))
                for r in d.reviews:
                    state = f"done {long_date(r.done_on)} by {r.done_by}" if r.done_on \
                        else "due"
                    rform.addRow(f"{r.months}-month review:",
                                 _value(f"{long_date(r.due_on)} ({state})"))
                self.reviews_box = rbox
                layout.addWidget(rbox)
        layout.addStretch(1)
        self._set("Outcome", page)

    def _outcome_form(self, layout: QVBoxLayout) -> None:
        box = QGroupBox("Outcome")
        form = QFormLayout(box)
        self.outcome_errors = FormErrors(message_label("ErrorBox"))
        self.outcome = code_combo(choices(self.lists, "outcomes"), placeholder="Choose…",
                                  name="Outcome")
        outcome_error = FieldError()
        form.addRow(_labelled("Ou&tcome *:", self.outcome),
                    with_error(self.outcome, outcome_error))
        self.outcome_errors.add("outcome", self.outcome, outcome_error, "The outcome",
                                required=True)
        self.signpost = code_combo(choices(self.lists, "signposting"), placeholder="Choose…",
                                   name="Signposted to")
        signpost_error = FieldError()
        form.addRow(_labelled("Signposted t&o:", self.signpost),
                    with_error(self.signpost, signpost_error))
        self.outcome_errors.add("signposted_to", self.signpost, signpost_error,
                                "The service signposted to", self._check_signpost)
        self.outcome.currentIndexChanged.connect(self._outcome_changed)
        self._outcome_changed()
        layout.addWidget(box)
        self.outcome_ndm = NdmForm(self.services.user)
        layout.addWidget(self.outcome_ndm)
        assert self.outcome_errors.general is not None
        layout.addWidget(self.outcome_errors.general)
        save = QPushButton("&Record outcome")
        save.setProperty("primary", True)
        save.clicked.connect(self.record_outcome)
        self.record_outcome_button = save
        layout.addWidget(save, 0, Qt.AlignmentFlag.AlignRight)
        self._first_focus["Outcome"] = self.outcome

    def _needs_signpost(self) -> bool:
        return combo_code(self.outcome) in self.lists.outcomes_needing_signposting

    def _outcome_changed(self, *_a: object) -> None:
        needs = self._needs_signpost()
        self.signpost.setEnabled(needs)
        if not needs:
            self.signpost.setCurrentIndex(0)
        self.outcome_errors.recheck("signposted_to")

    def _check_signpost(self) -> str:
        if self._needs_signpost() and not combo_code(self.signpost):
            return "Choose where the referral was signposted to."
        return ""

    def record_outcome(self) -> None:
        ok_here = self.outcome_errors.validate()
        ok_ndm = self.outcome_ndm.validate()
        if not (ok_here and ok_ndm):
            return
        errors = _Both(self.outcome_errors, self.outcome_ndm.errors)
        ok, _ = guarded(self.services, self, errors, lambda: self.referrals.record_outcome(  # type: ignore[arg-type]
            self.detail.id, combo_code(self.outcome), self.outcome_ndm.value(),
            signposted_to=combo_code(self.signpost) or None))
        if ok:
            self.reload()
            self._go(list(self.pages).index("Outcome"))

    def _close_form(self, layout: QVBoxLayout) -> None:
        box = QGroupBox("Close the referral")
        form = QFormLayout(box)
        months = " and ".join(str(m) for m in self.lists.closure_review_months)
        hint = QLabel(f"Closing schedules reviews at {months} months after the closing date; "
                      "they appear in the calendar.")
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.close_errors = FormErrors(message_label("ErrorBox"))
        self.closed_on = date_edit(name="Closed on")
        if self.detail.outcome_on:
            self.closed_on.setMinimumDate(qdate(self.detail.outcome_on))
        closed_error = FieldError()
        form.addRow(_labelled("Closed o&n:", self.closed_on),
                    with_error(self.closed_on, closed_error))
        self.close_errors.add("closed_on", self.closed_on, closed_error, "The closing date")
        self.close_reason = QLineEdit()
        self.close_reason.setAccessibleName("Reason for closing")
        reason_error = FieldError()
        form.addRow(_labelled("&Reason *:", self.close_reason),
                    with_error(self.close_reason, reason_error))
        self.close_errors.add("reason", self.close_reason, reason_error, "The reason",
                              required=True)
        self.review_preview = QLabel()
        self.review_preview.setObjectName("Hint")
        form.addRow("Reviews due:", self.review_preview)
        self.closed_on.dateChanged.connect(self._preview_reviews)
        self._preview_reviews()
        assert self.close_errors.general is not None
        form.addRow(self.close_errors.general)
        save = QPushButton("&Close referral and schedule reviews")
        save.setProperty("primary", True)
        save.clicked.connect(self.close_referral)
        self.close_button = save
        form.addRow("", save)
        layout.addWidget(box)
        self._first_focus["Outcome"] = self.closed_on

    def _preview_reviews(self, *_a: object) -> None:
        from app.domain.rules import closure_reviews

        day = py_date(self.closed_on.date())
        months = self.lists.closure_review_months
        dues = closure_reviews(day, months)
        self.review_preview.setText("; ".join(f"{m} months: {long_date(d)}"
                                              for m, d in zip(months, dues, strict=True)))

    def close_referral(self) -> None:
        if not self.close_errors.validate():
            return
        ok, _ = guarded(self.services, self, self.close_errors, lambda: self.referrals.close(
            self.detail.id, py_date(self.closed_on.date()), self.close_reason.text()))
        if ok:
            self.reload()

    def _intelligence(self) -> None:
        page, layout = _page()
        service = self.services.get(IntelligenceService)
        model = IntelTableModel(parent=page)
        ok, rows = guarded(self.services, self, None, lambda: service.rows(
            IntelFilter(referral_id=self.detail.id), limit=500))
        model.reset_with(IntelFilter(referral_id=self.detail.id), rows or [])
        self.intel_model = model
        if self.services.can(Perm.INTEL_WRITE):
            add = QPushButton("&New intelligence entry for this referral…")
            add.clicked.connect(self.add_intel)
            layout.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)
            self._first_focus["Intelligence"] = add
        if rows:
            table = intel_table(model)
            table.setMinimumHeight(240)
            layout.addWidget(table, 1)
        else:
            layout.addWidget(_value("No intelligence is linked to this referral."))
            layout.addStretch(1)
        self._set("Intelligence", page)

    def add_intel(self) -> None:
        d = self.detail
        dialog = AddIntelDialog(
            self.services, self.lists, referral=(d.id, f"{d.ref} — {d.surname.upper()}"),
            person=(d.person_id, f"{d.surname.upper()}, {d.forenames} (subject)"), parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._intelligence()

    def _notes(self) -> None:
        page, layout = _page()
        for n in self.detail.notes:
            box = QGroupBox(f"{n['title']} — added by {n['added_by']}, "
                            f"{n['added_at'].replace('T', ' ')} UTC")
            blay = QVBoxLayout(box)
            blay.addWidget(_value(n["text"]))
            layout.addWidget(box)
        if not self.detail.notes:
            layout.addWidget(_value("No notes or attachments yet."))
        if self.can_write:
            box = QGroupBox("Add a note or attachment (as text)")
            form = QFormLayout(box)
            self.note_title = QLineEdit()
            self.note_title.setAccessibleName("Note title")
            form.addRow(_labelled("&Title:", self.note_title), self.note_title)
            self.note_text = plain_text_edit("Note text", lines=4)
            note_error = FieldError()
            form.addRow(_labelled("Te&xt *:", self.note_text),
                        with_error(self.note_text, note_error))
            self.note_errors = FormErrors(message_label("ErrorBox"))
            self.note_errors.add("text", self.note_text, note_error, "The note's text",
                                 required=True)
            save = QPushButton("A&dd note")
            save.clicked.connect(self.add_note)
            form.addRow("", save)
            layout.addWidget(box)
            self._first_focus["Notes"] = self.note_title
        layout.addStretch(1)
        self._set("Notes", page)

    def add_note(self) -> None:
        if not self.note_errors.validate():
            return
        ok, _ = guarded(self.services, self, self.note_errors, lambda: self.referrals.add_note(
            self.detail.id, self.note_title.text(), self.note_text.toPlainText()))
        if ok:
            self.reload()


def open_in_dialog(services: Services, lists: PreventLists, ref: str | int,
                   parent: QWidget | None = None) -> QDialog:
    """A referral in its own window (from a chart's drill-down or an institution's profile)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Referral")
    dialog.resize(1100, 720)
    layout = QVBoxLayout(dialog)
    layout.setContentsMargins(0, 0, 0, 0)
    ws = ReferralWorkspace(services, lists, ref, dialog)
    ws.back_button.setText("← &Close")
    ws.back_requested.connect(dialog.accept)
    layout.addWidget(ws)
    return dialog

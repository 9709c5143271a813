"""The institutions register: each school, college, place of worship, gym or prison once, and
its profile with the referrals and intelligence linked to it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.roles import Perm
from app.services.institutions import InstitutionService
from app.services.intelligence import IntelFilter, IntelligenceService
from app.services.referrals import ReferralFilter, ReferralService
from ui.prevent.common import choices, code_combo, combo_code, guarded
from ui.prevent.intake import NewInstitutionDialog
from ui.prevent.intel import intel_table
from ui.prevent.models import (
    RECORD_ROLE,
    InstitutionTableModel,
    IntelTableModel,
    ReferralTableModel,
)
from ui.prevent.queue import referral_table
from ui.services import Services
from ui.widgets import fit_headings, heading, record_table


class InstitutionsView(QWidget):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.service = services.get(InstitutionService)
        self.referrals = services.get(ReferralService)
        self.lists = self.referrals.lists()
        self.model = InstitutionTableModel(self.lists, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        top = QHBoxLayout()
        top.addWidget(heading(
            "Institutions",
            "Each institution is recorded once and linked to referrals and intelligence, so "
            "patterns show. Select one to see its profile; Enter on a referral opens it."), 1)
        self.new_button = QPushButton("&New institution…")
        self.new_button.clicked.connect(self.add)
        self.new_button.setVisible(services.can(Perm.REFERRAL_WRITE))
        top.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(top)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Name contains…")
        self.search.setAccessibleName("Search institutions")
        self.search.setClearButtonEnabled(True)
        self.type = code_combo(choices(self.lists, "institution_types"), placeholder="Any type",
                               name="Institution type")
        label = QLabel("&Search:")
        label.setBuddy(self.search)
        filters.addWidget(label)
        filters.addWidget(self.search, 1)
        type_label = QLabel("T&ype:")
        type_label.setBuddy(self.type)
        filters.addWidget(type_label)
        filters.addWidget(self.type)
        layout.addLayout(filters)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = record_table(self.model, "Institutions", row_height=30,
                                  widths={1: 130, 2: 100, 3: 80, 4: 90}, stretch=(0,))
        fit_headings(self.table)  # "Intelligence" was cut to "ntelligence"
        split.addWidget(self.table)

        profile = QWidget()
        play = QVBoxLayout(profile)
        play.setContentsMargins(10, 0, 0, 0)
        self.title = QLabel("Select an institution")
        self.title.setObjectName("SectionTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        play.addWidget(self.title)
        play.addWidget(QLabel("Referrals"))
        self.ref_model = ReferralTableModel(
            self.lists, lambda f, o, n: self.referrals.queue(f, offset=o, limit=n), parent=self)
        self.ref_table = referral_table(self.ref_model)
        self.ref_table.activated.connect(self._open_referral)
        play.addWidget(self.ref_table, 2)
        self.intel_model = IntelTableModel(parent=self)
        if services.can(Perm.INTEL_READ):
            play.addWidget(QLabel("Intelligence"))
            self.intel_table = intel_table(self.intel_model)
            play.addWidget(self.intel_table, 1)
        split.addWidget(profile)
        split.setSizes([460, 640])
        layout.addWidget(split, 1)
        self.table.selectionModel().currentRowChanged.connect(self._profile)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.type.currentIndexChanged.connect(lambda _i: self.reload())
        self.reload()

    def reload(self) -> None:
        ok, rows = guarded(self.services, self, None, lambda: self.service.search(
            self.search.text(), combo_code(self.type) or None))
        self.model.set_rows(rows or [])
        if self.model.rowCount():
            self.table.selectRow(0)

    def _profile(self, current: QModelIndex, _previous: Any) -> None:
        row = self.model.record(current.row()) if current.isValid() else None
        if row is None:
            return
        ok, prof = guarded(self.services, self, None,
                           lambda: self.service.institution_profile(row.id))
        if not ok:
            return
        inst = prof.institution
        kind = self.lists.label("institution_types", inst.type)
        self.title.setText(f"{inst.name} — {kind}" + (f", {inst.area}" if inst.area else "")
                           + f": {inst.referrals} referrals, {inst.intelligence} "
                           "intelligence entries")
        flt = ReferralFilter(institution_id=inst.id)
        ok, refs = guarded(self.services, self, None,
                           lambda: self.referrals.queue(flt, offset=0, limit=200))
        self.ref_model.reset_with(flt, inst.referrals, refs or [])
        if self.services.can(Perm.INTEL_READ):
            intel = self.services.get(IntelligenceService)
            iflt = IntelFilter(institution_id=inst.id)
            ok, entries = guarded(self.services, self, None, lambda: intel.rows(iflt))
            self.intel_model.reset_with(iflt, entries or [])

    def _open_referral(self, index: QModelIndex) -> None:
        from ui.prevent.workspace import open_in_dialog

        row = self.ref_model.data(index, RECORD_ROLE)
        if row is not None:
            open_in_dialog(self.services, self.lists, row.id, self).exec()

    def add(self) -> None:
        dialog = NewInstitutionDialog(self.services, self.lists, self.search.text(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.reload()

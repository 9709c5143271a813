"""The register of information-sharing agreements (ISAs): parties, purpose, legal basis and
review date, overdue reviews in red; add and edit with checks as the user types; retire an
agreement (kept, because correspondence relied on it) or delete one entered in error."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.meetings import IsaInput
from app.domain.roles import Perm
from app.services.correspondence import CorrespondenceService, IsaInfo, isa_problems
from ui.meetings.meetings import Today, esc, select_where, selected_record, sorted_proxy, table_view
from ui.meetings.models import Column, RecordTableModel, uk_date
from ui.prevent.common import date_edit, guarded, mark_invalid, py_date, qdate
from ui.services import Services
from ui.widgets import EmptyState, FieldError, heading

_LATE = QColor("#b3261e")
_SOON = QColor("#8a5a00")
_RETIRED = QColor("#7a8591")
_LATE_BACKGROUND = QColor("#fbe3e1")


class IsaTableModel(RecordTableModel[IsaInfo]):
    """The register; ``today`` decides which reviews are overdue."""

    def __init__(self, today: Today) -> None:
        super().__init__()
        self.today = today
        self.columns = (
            Column[IsaInfo]("Ref", lambda i: i.ref),
            Column[IsaInfo]("Agreement", lambda i: i.title),
            Column[IsaInfo]("Parties", lambda i: ", ".join(i.parties)),
            Column[IsaInfo]("Purpose", lambda i: " ".join(i.purpose.split())),
            Column[IsaInfo]("Legal basis", lambda i: " ".join(i.legal_basis.split())),
            Column[IsaInfo]("Review", lambda i: uk_date(i.review_date), lambda i: i.review_date),
            Column[IsaInfo]("State", self._state),
            Column[IsaInfo]("Items", lambda i: str(i.used_by), lambda i: i.used_by),
        )

    def _state(self, i: IsaInfo) -> str:
        state = i.state(self.today())
        if state == "Retired" and i.ended_on:
            return f"Retired {uk_date(i.ended_on)}"
        return state

    def colour(self, rec: IsaInfo) -> QColor | None:
        state = rec.state(self.today())
        return {"Review overdue": _LATE, "Review due soon": _SOON,
                "Retired": _RETIRED}.get(state)

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # An overdue review is tinted too, so it still stands out when the row is not read
        # for its colour (or is the selected one).
        if role == Qt.ItemDataRole.BackgroundRole and index.isValid():
            rec = self.record(index.row()) if 0 <= index.row() < self.rowCount() else None
            if rec is not None and rec.review_overdue(self.today()):
                return QBrush(_LATE_BACKGROUND)
            return None
        return super().data(index, role)


class IsaDialog(QDialog):
    """Add or edit one agreement. Each field says what is wrong with it as the user types
    (once touched); after a refused Save, Save stays disabled until nothing is."""

    def __init__(self, today: date, parent: QWidget | None = None, *,
                 existing: IsaInfo | None = None) -> None:
        super().__init__(parent)
        self.existing = existing
        self.setWindowTitle(f"Edit {existing.ref}" if existing else
                            "New information-sharing agreement")
        self.setMinimumWidth(560)
        self.title_edit = QLineEdit()
        self.title_edit.setAccessibleName("Title")
        self.title_edit.setPlaceholderText("e.g. Regional CT nominal management ISA")
        self.reference = QLineEdit()
        self.reference.setAccessibleName("Agreement reference")
        self.reference.setPlaceholderText("The agreement's own number (optional)")
        self.parties = QPlainTextEdit()
        self.parties.setAccessibleName("Parties")
        self.parties.setTabChangesFocus(True)
        self.parties.setPlaceholderText("One party a line (at least two)")
        self.parties.setFixedHeight(78)
        self.purpose = QPlainTextEdit()
        self.purpose.setAccessibleName("Purpose")
        self.purpose.setTabChangesFocus(True)
        self.purpose.setPlaceholderText("What information is shared, and what for")
        self.purpose.setFixedHeight(66)
        self.legal_basis = QPlainTextEdit()
        self.legal_basis.setAccessibleName("Legal basis")
        self.legal_basis.setTabChangesFocus(True)
        self.legal_basis.setPlaceholderText("e.g. DPA 2018 Part 3, s.35 and s.36; Criminal "
                                            "Justice Act 2003 s.325")
        self.legal_basis.setFixedHeight(52)
        self.has_start = QCheckBox("&Started on")
        self.start = date_edit(today, name="Start date")
        self.start.setMaximumDate(qdate(date(2100, 12, 31)))
        self.start.setEnabled(False)
        self.has_start.toggled.connect(self.start.setEnabled)
        self.review = date_edit(today + timedelta(days=365), name="Review date")
        self.review.setMaximumDate(qdate(date(2100, 12, 31)))
        self.review.setMinimumDate(qdate(date(2000, 1, 1)))
        start_row = QHBoxLayout()
        start_row.setContentsMargins(0, 0, 0, 0)
        start_row.addWidget(self.has_start)
        start_row.addWidget(self.start)
        start_row.addStretch(1)
        start_box = QWidget()
        start_box.setLayout(start_row)

        self.errors: dict[str, tuple[QWidget, FieldError]] = {}
        self.touched: set[str] = set()
        self.submitted = False
        form = QFormLayout()
        for key, label, widget in (("title", "&Title", self.title_edit),
                                   ("reference", "Re&ference", self.reference),
                                   ("parties", "&Parties", self.parties),
                                   ("purpose", "P&urpose", self.purpose),
                                   ("legal_basis", "&Legal basis", self.legal_basis),
                                   ("start_date", "Start", start_box),
                                   ("review_date", "&Review by", self.review)):
            error = FieldError()
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(2)
            lay.addWidget(widget)
            lay.addWidget(error)
            form.addRow(label, box)
            self.errors[key] = (widget, error)
        for key, signal in (("title", self.title_edit.textChanged),
                            ("reference", self.reference.textChanged),
                            ("parties", self.parties.textChanged),
                            ("purpose", self.purpose.textChanged),
                            ("legal_basis", self.legal_basis.textChanged),
                            ("start_date", self.start.dateChanged),
                            ("review_date", self.review.dateChanged)):
            signal.connect(lambda *_a, k=key: self._touch(k))
        self.has_start.toggled.connect(lambda *_a: self._touch("review_date"))
        self.start.dateChanged.connect(lambda *_a: self._touch("review_date"))
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Save" if existing else "&Add to register")
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        if existing is not None:
            self.load(existing)
        self.refresh_checks()

    def load(self, isa: IsaInfo) -> None:
        self.title_edit.setText(isa.title)
        self.reference.setText(isa.reference)
        self.parties.setPlainText("\n".join(isa.parties))
        self.purpose.setPlainText(isa.purpose)
        self.legal_basis.setPlainText(isa.legal_basis)
        self.has_start.setChecked(isa.start_date is not None)
        if isa.start_date is not None:
            self.start.setDate(qdate(isa.start_date))
        self.review.setDate(qdate(isa.review_date))
        self.touched.clear()

    def value(self) -> IsaInput:
        parties = tuple(p.strip() for p in self.parties.toPlainText().splitlines()
                        if p.strip())
        return IsaInput(
            title=self.title_edit.text().strip(), parties=parties,
            purpose=self.purpose.toPlainText().strip(),
            review_date=py_date(self.review.date()),
            start_date=py_date(self.start.date()) if self.has_start.isChecked() else None,
            reference=self.reference.text().strip(),
            legal_basis=self.legal_basis.toPlainText().strip())

    def _touch(self, key: str) -> None:
        self.touched.add(key)
        self.refresh_checks()

    def refresh_checks(self) -> dict[str, str]:
        """Show each touched field's problem beside it; OK only when there is none."""
        problems = isa_problems(self.value())
        for key, (widget, error) in self.errors.items():
            message = problems.get(key, "")
            shown = message if key in self.touched or self.submitted else ""
            error.show_error(f"{_LABELS[key]} {shown}." if shown else "")
            mark_invalid(widget, bool(shown))
        self.ok_button.setEnabled(not problems or not self.submitted)
        return problems

    def _check(self) -> None:
        self.submitted = True
        problems = self.refresh_checks()
        if problems:
            self.errors[next(iter(problems))][0].setFocus()
            return
        self.accept()

    def show_error(self, exc: CasewardError) -> None:
        self.problem.setText(str(exc))
        self.problem.show()


_LABELS = {"title": "Title", "reference": "Reference", "parties": "Parties",
           "purpose": "Purpose", "legal_basis": "Legal basis", "start_date": "Start date",
           "review_date": "Review date"}


class IsaRegisterView(QWidget):
    """The register: every agreement, soonest review first, overdue reviews in red."""

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 today: Today | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.log = services.get(CorrespondenceService)
        self.today: Today = today or date.today
        self.writable = services.can(Perm.MEETING_WRITE)
        self.dialog: IsaDialog | None = None

        self.show_retired = QCheckBox("Show re&tired")
        self.count = QLabel()
        self.count.setObjectName("Hint")
        self.new_button = QPushButton("&New agreement…")
        self.edit_button = QPushButton("&Edit…")
        self.retire_button = QPushButton("Reti&re…")
        self.retire_button.setToolTip("End the agreement: it stays in the register and on the "
                                      "items that relied on it")
        self.delete_button = QPushButton("&Delete…")
        self.delete_button.setToolTip("Only for an agreement entered in error that no item "
                                      "relied on")
        self.new_button.clicked.connect(self.open_new)
        self.edit_button.clicked.connect(self.open_edit)
        self.retire_button.clicked.connect(self.retire)
        self.delete_button.clicked.connect(self.delete)
        self.new_button.setEnabled(self.writable)
        bar = QHBoxLayout()
        bar.addWidget(self.show_retired)
        bar.addWidget(self.count, 1)
        for b in (self.new_button, self.edit_button, self.retire_button, self.delete_button):
            bar.addWidget(b)

        self.model = IsaTableModel(self.today)
        self.proxy = sorted_proxy(self.model)
        # One line a row (the full text is in each cell's tooltip and below the table).
        self.view = table_view(self.proxy, "Information-sharing agreements")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((0, 92), (1, 240), (2, 220), (4, 220), (5, 88), (6, 150), (7, 58)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().selectionChanged.connect(self._on_select)
        self.view.doubleClicked.connect(lambda *_a: self.open_edit())
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setMinimumHeight(48)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.empty = EmptyState(
            "folder", "No information-sharing agreements yet",
            "Add each agreement signed with your partners with New agreement…: its parties, "
            "purpose, legal basis and the date it is due for review. Correspondence is then "
            "logged under the agreement it relies on, and an overdue review shows here in red.")
        table_box = QWidget()
        tlay = QVBoxLayout(table_box)
        tlay.setContentsMargins(0, 0, 0, 0)
        tlay.addWidget(self.view, 1)
        tlay.addWidget(self.detail)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(table_box)

        layout = QVBoxLayout(self)
        layout.addWidget(heading("Information-sharing agreements",
                                 "The agreements correspondence relies on, with their parties, "
                                 "purpose, legal basis and review dates"))
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.show_retired.toggled.connect(self.refresh)
        self.refresh()

    # -- reading -------------------------------------------------------------------------
    def refresh(self) -> None:
        chosen = self.current()
        ok, rows = guarded(self.services, self, None, lambda: self.log.isas(
            include_ended=self.show_retired.isChecked()))
        if not ok:
            return
        self.model.set_rows(rows)
        today = self.today()
        late = sum(1 for i in rows if i.review_overdue(today))
        active = sum(1 for i in rows if i.active)
        self.count.setText(f"{active} in force" + (f", {len(rows) - active} retired"
                                                   if len(rows) > active else "")
                           + (f"; {late} review(s) overdue" if late else ""))
        self.stack.setCurrentIndex(1 if rows or self.show_retired.isChecked() else 0)
        if chosen is not None:
            self.select(chosen.ref)
        self._on_select()

    def current(self) -> IsaInfo | None:
        rec = selected_record(self.view)
        return rec if isinstance(rec, IsaInfo) else None

    def select(self, ref: str) -> bool:
        return select_where(self.view, lambda rec: rec.ref == ref)

    def _on_select(self, *_args: QItemSelection) -> None:
        isa = self.current()
        active = isa is not None and isa.active and self.writable
        self.edit_button.setEnabled(active)
        self.retire_button.setEnabled(active)
        self.delete_button.setEnabled(isa is not None and self.writable and isa.used_by == 0)
        if isa is None:
            self.detail.setText("Choose an agreement to see it in full.")
            return
        basis = esc(isa.legal_basis) or "<i>not recorded</i>"
        since = f" · since {uk_date(isa.start_date)}" if isa.start_date else ""
        number = f" ({esc(isa.reference)})" if isa.reference else ""
        self.detail.setText(
            f"<b>{isa.ref}{number}</b>{since} · {esc(isa.state(self.today()))} · "
            f"relied on by {isa.used_by} item(s)<br><b>Purpose:</b> {esc(isa.purpose)}<br>"
            f"<b>Legal basis:</b> {basis}")

    # -- changing ------------------------------------------------------------------------
    def open_new(self) -> IsaDialog:
        dialog = IsaDialog(self.today(), self)
        dialog.accepted.connect(lambda: self._save(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def open_edit(self) -> IsaDialog | None:
        isa = self.current()
        if isa is None or not isa.active or not self.writable:
            return None
        dialog = IsaDialog(self.today(), self, existing=isa)
        dialog.accepted.connect(lambda: self._save(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _save(self, dialog: IsaDialog) -> IsaInfo | None:
        value = dialog.value()
        existing = dialog.existing
        try:
            saved = (self.log.update_isa(existing.ref, value) if existing
                     else self.log.add_isa(value))
        except CasewardError as exc:
            # Shown in the dialog again, with what was typed kept.
            dialog.show_error(exc)
            dialog.open()
            return None
        self.refresh()
        self.select(saved.ref)
        self.changed.emit()
        return saved

    def retire(self) -> IsaInfo | None:
        isa = self.current()
        if isa is None or not isa.active:
            return None
        kept = (f" The {isa.used_by} correspondence item(s) that relied on it keep the link."
                if isa.used_by else "")
        reason = self.services.dialogs.ask_text(
            self, f"Retire {isa.ref}",
            f"Retire “{isa.title}” from today? It can no longer be chosen for new "
            f"correspondence.{kept}\n\nWhy is it retired (kept in the audit log)?")
        if reason is None or not reason.strip():
            return None
        ok, done = guarded(self.services, self, None,
                           lambda: self.log.retire_isa(isa.ref, reason.strip(), self.today()))
        if not ok:
            return None
        self.refresh()
        self.changed.emit()
        return done  # type: ignore[no-any-return]

    def delete(self) -> str | None:
        isa = self.current()
        if isa is None:
            return None
        reason = self.services.dialogs.ask_text(
            self, f"Delete {isa.ref}",
            f"Delete “{isa.title}”? Only an agreement entered in error, that no item relied "
            "on, can be deleted.\n\nWhy is it deleted (kept in the audit log)?")
        if reason is None or not reason.strip():
            return None
        ok, ref = guarded(self.services, self, None,
                          lambda: self.log.remove_isa(isa.ref, reason.strip()))
        if not ok:
            return None
        self.refresh()
        self.changed.emit()
        return ref  # type: ignore[no-any-return]


def isa_label(isa: IsaInfo, today: date) -> str:
    """How an agreement reads in a chooser."""
    late = "  (review overdue)" if isa.review_overdue(today) else ""
    return f"{isa.ref} {isa.title}{late}"


__all__ = ["IsaDialog", "IsaRegisterView", "IsaTableModel", "isa_label"]

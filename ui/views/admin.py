"""The Admin view: users and roles on this vault, and terminal settings (idle lock, clipboard)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIntValidator, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError, ValidationError
from app.domain.roles import ROLE_LABELS, Role
from app.services.users import UserInfo
from app.services.vault import check_user_name
from ui.ops import OpContext
from ui.preferences import (
    MAX_CLIPBOARD_SECONDS,
    MAX_IDLE_MINUTES,
    MIN_CLIPBOARD_SECONDS,
    MIN_IDLE_MINUTES,
)
from ui.services import Services
from ui.tablemodel import RowTableModel
from ui.theme import icon
from ui.widgets import (
    FieldError,
    PassphraseFields,
    field_message,
    heading,
    message_label,
    record_table,
    with_error,
)

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invalid index: "no parent"


def uk_datetime(at: datetime | None) -> str:
    if at is None:
        return "Never"
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone().strftime("%d/%m/%Y %H:%M")


class UsersTableModel(RowTableModel):
    """The vault's active users (a handful: loaded whole)."""

    COLUMNS = ("User name", "Display name", "Role", "Created", "Last sign-in", "Key slot")

    def set_users(self, users: list[UserInfo]) -> None:
        self.set_rows(users)

    def user(self, row: int) -> UserInfo | None:
        found: UserInfo | None = self.record(row)
        return found

    def row_of(self, name: str) -> int:
        for i, u in enumerate(self._rows):
            if u.name == name:
                return i
        return -1

    def cell(self, u: UserInfo, col: int, role: int) -> Any:
        if role == self.SortRole:
            raw: tuple[Any, ...] = (u.name, u.display_name, u.role.value, u.created_at,
                                    u.last_login_at, u.has_slot)
            return raw[col]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            slot = "Present" if u.has_slot else "Missing: reset the passphrase"
            values = (u.name, u.display_name, ROLE_LABELS[u.role], uk_datetime(u.created_at),
                      uk_datetime(u.last_login_at), slot)
            return values[col]
        if role == Qt.ItemDataRole.DecorationRole and col == 5:
            return icon("ok" if u.has_slot else "warning")
        return None


def _role_combo() -> QComboBox:
    combo = QComboBox()
    for role in Role:
        combo.addItem(ROLE_LABELS[role], role.value)
    return combo


class AddUserDialog(QDialog):
    """Collects a new account and creates it off the UI thread (the key slot costs ~0.4 s)."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.created: UserInfo | None = None
        self._busy = False
        self.setWindowTitle("Add a user")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(12)
        layout.addWidget(heading("Add a user", "The new user signs in with this passphrase "
                                 "and should change it at once."))
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.name = QLineEdit()
        self.name.setMaxLength(64)
        self.name.setPlaceholderText("e.g. j.smith")
        self.name_error = FieldError()
        label = QLabel("&User name:")
        label.setBuddy(self.name)
        form.addRow(label, with_error(self.name, self.name_error))
        self.display = QLineEdit()
        self.display.setMaxLength(120)
        label = QLabel("&Display name:")
        label.setBuddy(self.display)
        form.addRow(label, self.display)
        self.role = _role_combo()
        self.role.setCurrentIndex(self.role.findData(Role.VIEWER.value))
        self.role_error = FieldError()
        label = QLabel("&Role:")
        label.setBuddy(self.role)
        form.addRow(label, with_error(self.role, self.role_error))
        self.passphrase = PassphraseFields(form, parent=self)
        layout.addLayout(form)
        self.error = message_label("ErrorBox")
        layout.addWidget(self.error)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.hide()
        layout.addWidget(self.busy)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton("&Add user", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.name.textChanged.connect(lambda: self.name_error.clear_error(self.name))
        self.setMinimumWidth(560)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.name.setFocus()

    def submit(self) -> None:
        if self._busy:
            return
        name = self.name.text().strip()
        ok = True
        try:
            check_user_name(name)
        except ValidationError as exc:
            self.name_error.show_error(f"The user name {exc.message}.", self.name)
            ok = False
        passphrase = self.passphrase.validate()
        if not ok or passphrase is None:
            return
        role = Role(str(self.role.currentData()))
        display = self.display.text().strip()
        users = self.services.users

        def work(ctx: OpContext) -> UserInfo:
            return users.add_user(name, role, passphrase, display_name=display)

        self._set_busy(True)
        self.services.ops.start("admin.add_user", work, on_result=self._done,
                                on_error=self._failed, on_bug=self._bug)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy.setVisible(busy)
        self.ok.setEnabled(not busy)
        if busy:
            self.error.hide()

    def _done(self, info: UserInfo) -> None:
        self._set_busy(False)
        self.created = info
        self.passphrase.clear()
        self.accept()

    def _failed(self, exc: CasewardError) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError) and exc.field == "user":
            self.name_error.show_error(field_message("The user name", exc.message), self.name)
        elif isinstance(exc, ValidationError) and exc.field == "role":
            self.role_error.show_error(field_message("The role", exc.message), self.role)
        elif isinstance(exc, ValidationError) and "passphrase" in exc.field:
            self.passphrase.first_error.show_error(field_message("The passphrase", exc.message),
                                                   self.passphrase.first)
        else:
            self.error.setText(str(exc))
            self.error.show()

    def _bug(self, message: str) -> None:
        self._set_busy(False)
        self.error.setText(message)
        self.error.show()

    def reject(self) -> None:
        if not self._busy:
            super().reject()


class ResetPassphraseDialog(QDialog):
    """Sets another user's passphrase (rewrites only their key slot)."""

    def __init__(self, services: Services, user: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.user = user
        self._busy = False
        self.setWindowTitle("Reset passphrase")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(12)
        layout.addWidget(heading(f"New passphrase for {user}",
                                 "Give it to the user in person; they should change it at once."))
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        self.passphrase = PassphraseFields(form, "&New passphrase:", parent=self)
        layout.addLayout(form)
        self.error = message_label("ErrorBox")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton("&Set passphrase", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def submit(self) -> None:
        value = self.passphrase.validate()
        if value is None or self._busy:
            return
        users, name = self.services.users, self.user
        self._busy = True
        self.ok.setEnabled(False)

        def work(ctx: OpContext) -> None:
            users.change_passphrase(name, value)

        self.services.ops.start("admin.passphrase", work, on_result=lambda _: self._done(),
                                on_error=lambda e: self._failed(str(e)), on_bug=self._failed)

    def _done(self) -> None:
        self._busy = False
        self.passphrase.clear()
        self.accept()

    def _failed(self, text: str) -> None:
        self._busy = False
        self.ok.setEnabled(True)
        self.error.setText(text)
        self.error.show()


OWN_ACCOUNT_ROLE = ("You cannot change your own role: another admin must do it, so that no "
                    "one can lock every admin out.")
OWN_ACCOUNT_REMOVE = "You cannot remove your own account: another admin must do it."


class AdminView(QWidget):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.model = UsersTableModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(12)
        layout.addWidget(heading(
            "Users and roles",
            "Each user has their own passphrase and key slot. Every change here is audited.",
        ))

        actions = QHBoxLayout()
        actions.setSpacing(8)
        self.add_button = QPushButton("&Add user…")
        self.add_button.setProperty("primary", True)
        self.role_button = QPushButton(icon("role"), "Change &role…")
        self.reset_button = QPushButton(icon("key"), "Reset &passphrase…")
        self.remove_button = QPushButton(icon("remove-user"), "Re&move…")
        self.add_button.clicked.connect(self.add_user)
        self.role_button.clicked.connect(self.change_role)
        self.reset_button.clicked.connect(self.reset_passphrase)
        self.remove_button.clicked.connect(self.remove_user)
        for b in (self.add_button, self.role_button, self.reset_button, self.remove_button):
            actions.addWidget(b)
        actions.addStretch(1)
        layout.addLayout(actions)

        # The display name (column 1) takes the width left over.
        self.table = record_table(self.model, "Users", row_height=32,
                                  widths=(140, 180, 300, 140, 140, 150), stretch=(1,))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.activated.connect(self.change_role)  # double-click or Enter
        layout.addWidget(self.table, 1)

        self.message = message_label("InfoBox")
        layout.addWidget(self.message)
        layout.addWidget(self._settings())
        self.reload()

    def _settings(self) -> QGroupBox:
        box = QGroupBox("This terminal")
        outer = QHBoxLayout(box)
        outer.setSpacing(10)
        form = QFormLayout()
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(MIN_IDLE_MINUTES, MAX_IDLE_MINUTES)
        self.idle_minutes.setSuffix(" minutes without activity")
        self.idle_minutes.setAccessibleName("Idle lock minutes")
        idle_label = QLabel("&Lock after")
        idle_label.setBuddy(self.idle_minutes)
        form.addRow(idle_label, self.idle_minutes)

        self.clipboard_seconds = QLineEdit()
        self.clipboard_seconds.setAccessibleName("Seconds before copied text is cleared")
        self.clipboard_seconds.setValidator(QIntValidator(0, 999, self.clipboard_seconds))
        self.clipboard_seconds.setMaxLength(3)
        self.clipboard_seconds.setFixedWidth(self.clipboard_seconds.fontMetrics()
                                             .horizontalAdvance("0000") + 20)
        self.clipboard_seconds.textChanged.connect(self._check_clipboard_seconds)
        self.clipboard_error = FieldError()
        seconds_row = QHBoxLayout()
        seconds_row.setContentsMargins(0, 0, 0, 0)
        seconds_row.addWidget(self.clipboard_seconds)
        seconds_row.addWidget(QLabel("seconds"))
        seconds_row.addStretch(1)
        seconds_box = QWidget()
        seconds_box.setLayout(seconds_row)
        seconds_label = QLabel("Clear copied te&xt after")
        seconds_label.setBuddy(self.clipboard_seconds)
        form.addRow(seconds_label, seconds_box)
        form.addRow(self.clipboard_error)
        outer.addLayout(form)

        self.save_settings_button = QPushButton("Sa&ve")
        self.save_settings_button.clicked.connect(self.save_settings)
        hint = QLabel("Applies to everyone on this terminal. Ctrl+L locks at once. Text copied "
                      "from Caseward is also cleared when it locks or closes.")
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        outer.addWidget(self.save_settings_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addSpacing(12)
        outer.addWidget(hint, 1, Qt.AlignmentFlag.AlignTop)
        self.load_settings()
        return box

    # -- settings page: load() / save() --------------------------------------------------------
    def load_settings(self) -> None:
        self.idle_minutes.setValue(self.services.prefs.idle_minutes())
        self.clipboard_seconds.setText(str(self.services.prefs.clipboard_seconds()))

    def _clipboard_seconds_error(self) -> str:
        text = self.clipboard_seconds.text().strip()
        value = int(text) if text.isdigit() else None
        if value is None or not MIN_CLIPBOARD_SECONDS <= value <= MAX_CLIPBOARD_SECONDS:
            return (f"Enter a number of seconds from {MIN_CLIPBOARD_SECONDS} to "
                    f"{MAX_CLIPBOARD_SECONDS}: copied text is always cleared.")
        return ""

    def _check_clipboard_seconds(self, *_: Any) -> bool:
        error = self._clipboard_seconds_error()
        self.clipboard_error.show_error(error, self.clipboard_seconds)
        self.save_settings_button.setEnabled(not error)
        return not error

    def save_settings(self) -> None:
        if not self._check_clipboard_seconds():
            self.clipboard_seconds.setFocus()
            return
        seconds = int(self.clipboard_seconds.text())
        self.services.prefs.set_idle_minutes(self.idle_minutes.value())
        self.services.prefs.set_clipboard_seconds(seconds)
        self._say(f"Caseward now locks after {self.idle_minutes.value()} minutes without "
                  f"activity and clears copied text after {seconds} seconds.")

    # -- users ---------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        current = self.selected()
        selected = select or (current.name if current is not None else None)
        try:
            users = self.services.users.list_users()
        except CasewardError as exc:
            self.services.dialogs.error(self, "Users", str(exc))
            return
        self.model.set_users(users)
        if selected:
            row = self.model.row_of(selected)
            if row >= 0:
                self.table.selectRow(row)
        self._update_buttons()

    def selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        value = rows[0].data(UsersTableModel.RecordRole) if rows else None
        return value if isinstance(value, UserInfo) else None

    def _update_buttons(self, *_: Any) -> None:
        user = self.selected()
        has = user is not None
        # The service refuses both for your own account: say why here rather than after a
        # reason and a confirmation have been asked for.
        own = user is not None and user.name == self.services.user
        self.reset_button.setEnabled(has)
        self.role_button.setEnabled(has and not own)
        self.remove_button.setEnabled(has and not own)
        self.role_button.setToolTip(
            OWN_ACCOUNT_ROLE if own else "Change the selected user's role")
        self.remove_button.setToolTip(
            OWN_ACCOUNT_REMOVE if own else "Remove the selected user's account")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def add_user(self) -> None:
        dialog = AddUserDialog(self.services, self)
        dialog.open()
        dialog.accepted.connect(lambda: self._added(dialog))
        self.add_dialog = dialog

    def _added(self, dialog: AddUserDialog) -> None:
        info = dialog.created
        if info is not None:
            self.reload(select=info.name)
            self._say(f"Added {info.name} as {ROLE_LABELS[info.role]}.")

    def change_role(self, *_: Any) -> None:
        user = self.selected()
        if user is None:
            return
        if user.name == self.services.user:
            self._say(OWN_ACCOUNT_ROLE)
            return
        labels = [ROLE_LABELS[r] for r in Role]
        chosen = self.services.dialogs.choose(
            self, "Change role", f"Role for {user.name}:", labels, list(Role).index(user.role)
        )
        if chosen is None or chosen not in labels:
            return
        role = list(Role)[labels.index(chosen)]
        if role is user.role:
            return
        users = self.services.users
        self._run("admin.role", lambda ctx: users.set_role(user.name, role),
                  f"{user.name} is now {ROLE_LABELS[role]}.", user.name)

    def reset_passphrase(self) -> None:
        user = self.selected()
        if user is None:
            return
        dialog = ResetPassphraseDialog(self.services, user.name, self)
        def done() -> None:
            self.reload(select=user.name)
            self._say(f"Passphrase set for {user.name}.")

        dialog.accepted.connect(done)
        dialog.open()
        self.reset_dialog = dialog

    def remove_user(self) -> None:
        user = self.selected()
        if user is None:
            return
        reason = self.services.dialogs.ask_text(
            self, "Remove user", f"Why is {user.name} being removed? (recorded in the audit log)"
        )
        if reason is None:
            return
        if not reason.strip():
            self.services.dialogs.error(self, "Remove user", "A reason is needed to remove a user.")
            return
        if not self.services.dialogs.confirm(
            self, "Remove user",
            f"Remove {user.name}? Their key slot is deleted at once and they can no longer "
            "unlock this vault. Their audit history is kept.", "Remove",
        ):
            return
        users = self.services.users
        self._run("admin.remove", lambda ctx: users.remove_user(user.name, reason.strip()),
                  f"Removed {user.name}.", None)

    def _run(self, name: str, work: Any, done_text: str, select: str | None) -> None:
        def done(_: object) -> None:
            self.reload(select=select)
            self._say(done_text)

        self.services.ops.start(
            name, work, on_result=done,
            on_error=lambda exc: self.services.dialogs.error(self, "Users", str(exc)),
            on_bug=lambda message: self.services.dialogs.error(self, "Users", message),
        )

"""First-run wizard: where the vault goes, its first admin, terminal binding, the recovery key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.domain.errors import CasewardError, ValidationError
from app.security.secrets import SecretStore
from app.services.vault import Vault, check_user_name, create_vault
from ui.dialogs import Dialogs
from ui.ops import OpContext, OpRunner
from ui.theme import MARKING, icon, mono_font
from ui.widgets import FieldError, PassphraseFields, message_label, with_error

VAULT_FILTER = "Caseward vault (*.cwv)"
DEMO_DEFAULT_NOMINALS = 500
DEMO_SEED = 1


def group_recovery_key(key: str, per_line: int = 7) -> str:
    """The key's groups laid out in rows, easy to read aloud and copy by hand."""
    groups = key.split("-")
    rows = [groups[i : i + per_line] for i in range(0, len(groups), per_line)]
    return "\n".join("  ".join(row) for row in rows)


def _title(text: str) -> str:
    return f"<span style='font-size:14pt; font-weight:600; color:#1f2933'>{text}</span>"


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(10)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def _intro(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("PageSubtitle")
    return label


class LocationPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard, default_path: Path) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(_title("Where should the vault be kept?"))
        self.setSubTitle(
            "Caseward keeps every record in one encrypted vault file on this terminal. A key "
            "file is kept beside it."
        )
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        form = _form()
        self.path = QLineEdit(str(default_path))
        self.path.setAccessibleName("Vault file")
        browse = QPushButton(icon("folder"), "&Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        holder = QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.error = FieldError()
        label = QLabel("&Vault file:")
        label.setBuddy(self.path)
        form.addRow(label, with_error(holder, self.error))
        layout.addLayout(form)
        layout.addWidget(_intro(
            "Choose a folder on this terminal's own disk, not removable media. Back up the "
            "vault with 'caseward backup'; copies stay encrypted."
        ))
        layout.addStretch(1)
        self.path.textChanged.connect(lambda: self.error.clear_error(self.path))
        self.default_path = default_path

    def _browse(self) -> None:
        chosen = self._wizard.dialogs.save_file(
            self, "Vault file", self.path.text() or str(self.default_path), VAULT_FILTER
        )
        if chosen:
            self.path.setText(chosen)

    def chosen_path(self) -> Path:
        text = self.path.text().strip()
        path = Path(text).expanduser()
        if text and path.suffix.lower() != ".cwv":
            path = path.with_name(path.name + ".cwv")
        return path

    def validatePage(self) -> bool:
        if not self.path.text().strip():
            self.error.show_error("Choose where the vault file goes.", self.path)
            return False
        path = self.chosen_path()
        if path.exists() or Path(str(path) + ".keys").exists():
            self.error.show_error(
                "A vault already exists there. Choose another name, or cancel and unlock it.",
                self.path,
            )
            return False
        if not path.parent.is_dir() and path.parent != self.default_path.parent:
            self.error.show_error("That folder does not exist.", self.path)
            return False
        return True


class AdminPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle(_title("The first administrator"))
        self.setSubTitle(
            "This account manages users and roles and reviews the audit log. Choose a "
            "passphrase you can remember: several unrelated words work well."
        )
        layout = QVBoxLayout(self)
        form = _form()
        self.user = QLineEdit()
        self.user.setAccessibleName("Administrator user name")
        self.user.setPlaceholderText("e.g. j.smith")
        self.user.setMaxLength(64)
        self.user_error = FieldError()
        label = QLabel("&User name:")
        label.setBuddy(self.user)
        form.addRow(label, with_error(self.user, self.user_error))
        self.passphrase = PassphraseFields(form, parent=self)
        layout.addLayout(form)
        layout.addStretch(1)
        self.user.textChanged.connect(self._changed)
        self.passphrase.changed.connect(self.completeChanged)

    def _changed(self) -> None:
        self.user_error.clear_error(self.user)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.user.text().strip()) and self.passphrase.filled()

    def validatePage(self) -> bool:
        try:
            check_user_name(self.user.text().strip())
        except ValidationError as exc:
            self.user_error.show_error(f"The user name {exc.message}.", self.user)
            return False
        return self.passphrase.validate() is not None


class BindingPage(QWizardPage):
    """Terminal binding, then creation (off the UI thread) when the user presses Create."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._created = False
        self._busy = False
        info = wizard.secret_store.info()
        self.secure = info.secure
        self.setTitle(_title("Tie the vault to this terminal?"))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Create vault")
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        self.bind = QRadioButton("Bind to &this terminal (recommended)")
        self.unbound = QRadioButton("Create an &unbound vault")
        self.unbound_tick = QCheckBox("Create an &unbound vault")
        if self.secure:
            self.setSubTitle(
                "A bound vault needs a secret kept in this computer's keyring as well as a "
                "passphrase, so a copy of the vault file will not open anywhere else."
            )
            group = QButtonGroup(self)
            group.addButton(self.bind)
            group.addButton(self.unbound)
            self.bind.setChecked(True)
            layout.addWidget(self.bind)
            layout.addWidget(_hint(
                f"The terminal secret is kept in the system keyring ({info.name}). If the "
                "keyring is lost, only the recovery key opens the vault."
            ))
            layout.addWidget(self.unbound)
            layout.addWidget(_hint(
                "Any copy of the vault file opens with a user's passphrase. Choose this only "
                "if the vault must move between terminals."
            ))
            self.unbound_tick.hide()
        else:
            self.setSubTitle("No secure keyring is available on this terminal.")
            warn = message_label(
                "WarnBox",
                "Caseward could not find a secure system keyring (found: "
                f"{info.name}). Without one the vault cannot be tied to this terminal: "
                "anyone with a copy of the vault file and a user's passphrase could open it "
                "elsewhere.\n\nYou can continue with an unbound vault, or cancel and ask for a "
                "keyring (such as GNOME Keyring or KWallet) to be set up first.",
            )
            layout.addWidget(warn)
            layout.addWidget(self.unbound_tick)
            self.bind.hide()
            self.unbound.hide()
            self.unbound_tick.toggled.connect(self.completeChanged)
        layout.addStretch(1)
        self.busy_label = QLabel("Creating the vault and deriving its keys…")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.error = message_label("ErrorBox")
        for w in (self.busy_label, self.busy):
            w.hide()
        layout.addWidget(self.error)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.busy)

    @property
    def bound(self) -> bool:
        return self.secure and self.bind.isChecked()

    def isComplete(self) -> bool:
        if self._busy:
            return False
        return self.secure or self.unbound_tick.isChecked()

    def validatePage(self) -> bool:
        if self._created:
            return True
        if not self._busy:
            self._start()
        return False

    def _start(self) -> None:
        w = self._wizard
        path = w.location.chosen_path()
        user = w.admin.user.text().strip()
        passphrase = w.admin.passphrase.first.text()
        bind = self.bound
        store = w.secret_store
        make_folder = path.parent == w.location.default_path.parent

        def work(ctx: OpContext) -> tuple[Vault, str]:
            if make_folder:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return create_vault(path, user, passphrase, bind_to_terminal=bind, secret_store=store)

        self._set_busy(True)
        self.error.hide()
        w.runner.start(
            "wizard.create", work, on_result=self._done, on_error=self._failed,
            on_bug=self._failed_bug,
        )

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        for button in (QWizard.WizardButton.BackButton, QWizard.WizardButton.CancelButton):
            self._wizard.button(button).setEnabled(not busy)
        for w in (self.bind, self.unbound, self.unbound_tick):
            w.setEnabled(not busy)
        self.completeChanged.emit()

    def _done(self, result: Any) -> None:
        vault, key = result
        self._wizard.vault = vault
        self._wizard.recovery_key = key
        self._created = True
        self._set_busy(False)
        self._wizard.next()

    def _failed(self, exc: CasewardError) -> None:
        self._set_busy(False)
        text = exc.message if isinstance(exc, ValidationError) else str(exc)
        self.error.setText(f"The vault was not created: {text}")
        self.error.show()

    def _failed_bug(self, message: str) -> None:
        self._set_busy(False)
        self.error.setText(message)
        self.error.show()


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("Hint")
    label.setWordWrap(True)
    label.setIndent(28)
    return label


class RecoveryPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(_title("Your recovery key"))
        self.setSubTitle(
            "This key opens the vault if a passphrase, the key file or the keyring is lost. It "
            "is shown only now. Print it or write it down, and keep it locked away, apart "
            "from this terminal."
        )
        layout = QVBoxLayout(self)
        layout.setSpacing(14)
        self.key_label = QLabel()
        self.key_label.setObjectName("RecoveryKey")
        self.key_label.setFont(mono_font(15))
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setAccessibleName("Recovery key")
        layout.addWidget(self.key_label)
        row = QHBoxLayout()
        self.print_button = QPushButton(icon("print"), "&Print…")
        self.print_button.setAutoDefault(False)
        self.print_button.clicked.connect(self._print)
        row.addWidget(self.print_button)
        row.addWidget(_plain_hint(f"The printout is marked {MARKING}; handle it as such."), 1)
        layout.addLayout(row)
        self.stored = QCheckBox("I have &stored the recovery key in a safe place")
        self.stored.toggled.connect(self.completeChanged)
        layout.addWidget(self.stored)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.key_label.setText(group_recovery_key(self._wizard.recovery_key))
        self._wizard.button(QWizard.WizardButton.CancelButton).setEnabled(False)

    def isComplete(self) -> bool:
        return self.stored.isChecked()

    def _print(self) -> None:
        from ui.printing import print_recovery_key

        w = self._wizard
        vault = w.vault
        name = Path(vault.path).name if vault is not None else ""
        user = vault.actor.user if vault is not None else ""
        print_recovery_key(self, w.recovery_key, vault_name=name, user=user)


def _plain_hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("Hint")
    label.setWordWrap(True)
    return label


class FinishPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(_title("Ready"))
        self.setSubTitle("The vault is created and you are signed in as its administrator.")
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.summary)
        self.demo = QCheckBox("Fill the vault with &synthetic demo data")
        self.demo_count = QSpinBox()
        self.demo_count.setRange(10, 100_000)
        self.demo_count.setSingleStep(100)
        self.demo_count.setValue(DEMO_DEFAULT_NOMINALS)
        self.demo_count.setSuffix(" nominals")
        self.demo_count.setAccessibleName("Number of demo nominals")
        row = QHBoxLayout()
        row.addWidget(self.demo)
        row.addWidget(self.demo_count)
        row.addStretch(1)
        layout.addLayout(row)
        note = _plain_hint(
            "Demo data is entirely made up, for training and trying Caseward out. Never mix "
            "it with real records."
        )
        layout.addWidget(note)
        if not wizard.demo_available:
            reason = "The demo data generator is not part of this version of Caseward."
            self.demo.setEnabled(False)
            self.demo.setToolTip(reason)
            self.demo_count.setToolTip(reason)
            note.setText(reason)
        self.demo_count.setEnabled(False)
        self.demo.toggled.connect(self.demo_count.setEnabled)
        layout.addStretch(1)

    def initializePage(self) -> None:
        w = self._wizard
        vault = w.vault
        if vault is None:
            return
        bound = ("bound to this terminal" if vault.keyfile.terminal_bound
                 else "not bound to a terminal")
        self.summary.setText(
            f"Vault: {vault.path}\nAdministrator: {vault.actor.user}\nThe vault is {bound}.\n\n"
            "Press Finish to open Caseward. Lock it with Ctrl+L whenever you leave the terminal."
        )


class FirstRunWizard(QWizard):
    """Creates the vault. Afterwards `vault` is the unlocked vault (None if cancelled)."""

    def __init__(
        self,
        secret_store: SecretStore,
        runner: OpRunner,
        dialogs: Dialogs,
        default_path: Path,
        *,
        demo_available: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.secret_store = secret_store
        self.runner = runner
        self.dialogs = dialogs
        self.demo_available = demo_available
        self.vault: Vault | None = None
        self.recovery_key = ""
        self.setWindowTitle("Caseward — create a vault")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.setPixmap(QWizard.WizardPixmap.LogoPixmap, icon("caseward").pixmap(48, 48))
        self.setButtonText(QWizard.WizardButton.NextButton, "&Next")
        self.setButtonText(QWizard.WizardButton.BackButton, "&Back")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Finish")
        self.location = LocationPage(self, default_path)
        self.admin = AdminPage()
        self.binding = BindingPage(self)
        self.recovery = RecoveryPage(self)
        self.finish = FinishPage(self)
        for page in (self.location, self.admin, self.binding, self.recovery, self.finish):
            self.addPage(page)
        self.resize(720, 560)

    @property
    def fill_demo(self) -> bool:
        return self.finish.demo.isEnabled() and self.finish.demo.isChecked()

    @property
    def demo_nominals(self) -> int:
        return int(self.finish.demo_count.value())

    def reject(self) -> None:
        # Once the vault exists, leaving without seeing the recovery key through is not allowed.
        if self.vault is not None or self.binding._busy:
            return
        super().reject()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.location.path.setFocus()

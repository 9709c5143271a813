"""The unlock dialog: which vault, who, the passphrase; clear reasons when it will not open."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import (
    CasewardError,
    IntegrityError,
    LockedOut,
    UnknownUser,
    VaultDamaged,
    VaultTooNew,
    WrongPassphraseOrDamaged,
)
from app.paths import keyfile_path
from app.security.secrets import SecretStore
from app.services.vault import Vault, unlock_vault
from ui.dialogs import Dialogs
from ui.ops import OpContext, OpRunner
from ui.preferences import Preferences
from ui.theme import icon
from ui.widgets import CapsLockWatcher, MarkingBanner, caps_warning_label, message_label

VAULT_FILTER = "Caseward vault (*.cwv);;All files (*)"


def _retry_after(path: Path, user: str) -> float:
    """Seconds the key file asks us to wait before the next attempt for `user`."""
    from app.security import keyfile

    try:
        return keyfile.load(keyfile_path(path)).retry_after(user)
    except (CasewardError, OSError, ValueError):
        return 0.0


def describe_open_error(exc: CasewardError) -> tuple[str, str]:
    """A short heading and the core's own message (written for users) for a failed unlock."""
    if isinstance(exc, LockedOut):
        heading = "Too many failed attempts"
    elif isinstance(exc, WrongPassphraseOrDamaged):
        heading = "Wrong passphrase"
    elif isinstance(exc, UnknownUser):
        heading = "Unknown user"
    elif isinstance(exc, VaultDamaged):
        heading = "The vault file is damaged"
    elif isinstance(exc, VaultTooNew):
        heading = "This vault needs a newer Caseward"
    elif isinstance(exc, IntegrityError):
        heading = "Integrity check failed"
    elif "another terminal" in str(exc):
        heading = "Bound to another terminal"
    else:
        heading = "The vault will not open"
    return heading, str(exc)


class UnlockDialog(QDialog):
    """Emits `unlocked(vault)` and accepts; Escape / Quit rejects."""

    unlocked = Signal(object)

    def __init__(
        self,
        secret_store: SecretStore,
        runner: OpRunner,
        dialogs: Dialogs,
        prefs: Preferences,
        vault_path: Path,
        *,
        notice: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.secret_store = secret_store
        self.runner = runner
        self.dialogs = dialogs
        self.prefs = prefs
        self.vault_path = vault_path
        self._busy = False
        self._deadline = 0.0
        self.setWindowTitle("Unlock Caseward")
        self.setModal(True)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(MarkingBanner())
        body = QWidget()
        outer.addWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.setSpacing(14)

        head = QHBoxLayout()
        head.setSpacing(14)
        logo = QLabel()
        logo.setPixmap(icon("caseward").pixmap(48, 48))
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        title = QLabel("Caseward is locked" if notice else "Unlock Caseward")
        title.setObjectName("PageTitle")
        titles.addWidget(title)
        sub = QLabel("Sign in with your own account. Never share a passphrase.")
        sub.setObjectName("PageSubtitle")
        sub.setWordWrap(True)
        titles.addWidget(sub)
        head.addLayout(titles, 1)
        layout.addLayout(head)

        self.notice = message_label("InfoBox", notice)
        layout.addWidget(self.notice)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        vault_row = QHBoxLayout()
        vault_row.setSpacing(8)
        self.vault_label = QLabel()
        self.vault_label.setTextFormat(Qt.TextFormat.PlainText)
        self.vault_label.setAccessibleName("Vault file")
        self.choose_button = QPushButton("C&hoose another vault…")
        self.choose_button.setProperty("flat", True)
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self._choose_vault)
        vault_row.addWidget(self.vault_label, 1)
        vault_row.addWidget(self.choose_button)
        vault_holder = QWidget()
        vault_holder.setLayout(vault_row)
        vault_row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Vault:", vault_holder)

        self.user = QLineEdit(prefs.last_user())
        self.user.setAccessibleName("User name")
        self.user.setMaxLength(64)
        user_label = QLabel("&User name:")
        user_label.setBuddy(self.user)
        form.addRow(user_label, self.user)

        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        pass_label = QLabel("&Passphrase:")
        pass_label.setBuddy(self.passphrase)
        form.addRow(pass_label, self.passphrase)
        self.caps = caps_warning_label()
        form.addRow("", self.caps)
        self._caps_watcher = CapsLockWatcher(self.passphrase)
        self._caps_watcher.changed.connect(self.caps.setVisible)
        layout.addLayout(form)

        self.error = message_label("ErrorBox")
        layout.addWidget(self.error)
        self.countdown = message_label("WarnBox")
        layout.addWidget(self.countdown)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.hide()
        layout.addWidget(self.busy)
        layout.addStretch(1)

        buttons = QDialogButtonBox()
        self.unlock_button = buttons.addButton("&Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        self.quit_button = buttons.addButton("&Quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.unlock_button.setDefault(True)
        self.quit_button.setAutoDefault(False)
        buttons.accepted.connect(self.try_unlock)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.setTabOrder(self.user, self.passphrase)
        self.setTabOrder(self.passphrase, self.unlock_button)
        self.setTabOrder(self.unlock_button, self.quit_button)
        self.setTabOrder(self.quit_button, self.choose_button)

        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self.user.textChanged.connect(self._update_buttons)
        self.passphrase.textChanged.connect(self._update_buttons)
        self._show_path()
        self._update_buttons()
        self.setMinimumWidth(540)

    # -- state ---------------------------------------------------------------------------------
    def _show_path(self) -> None:
        self.vault_label.setText(self.vault_path.name)
        self.vault_label.setToolTip(str(self.vault_path))

    @property
    def waiting(self) -> bool:
        return self._deadline > time.monotonic()

    def _update_buttons(self) -> None:
        ready = bool(self.user.text().strip()) and bool(self.passphrase.text())
        self.unlock_button.setEnabled(ready and not self._busy and not self.waiting)
        for w in (self.user, self.passphrase, self.choose_button):
            w.setEnabled(not self._busy)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        (self.passphrase if self.user.text() else self.user).setFocus()

    # -- actions -------------------------------------------------------------------------------
    def _choose_vault(self) -> None:
        chosen = self.dialogs.open_file(
            self, "Choose a vault", str(self.vault_path.parent), VAULT_FILTER
        )
        if chosen:
            self.vault_path = Path(chosen)
            self._show_path()
            self.error.hide()
            self._stop_countdown()

    def try_unlock(self) -> None:
        if self._busy or self.waiting or not self.unlock_button.isEnabled():
            return
        path, user = self.vault_path, self.user.text().strip()
        passphrase = self.passphrase.text()
        store = self.secret_store

        def work(ctx: OpContext) -> Vault:
            try:
                return unlock_vault(path, user, passphrase, secret_store=store)
            except WrongPassphraseOrDamaged as exc:
                exc.retry_after = _retry_after(path, user)  # type: ignore[attr-defined]
                raise

        self._busy = True
        self.error.hide()
        self.busy.show()
        self._update_buttons()
        self.runner.start("unlock", work, on_result=self._unlocked, on_error=self._failed,
                          on_bug=self._bug)

    def _unlocked(self, vault: Any) -> None:
        self._busy = False
        self.busy.hide()
        self.passphrase.clear()
        self.prefs.set_last_user(vault.actor.user)
        self.prefs.set_last_vault(str(self.vault_path))
        self.unlocked.emit(vault)
        self.accept()

    def _failed(self, exc: CasewardError) -> None:
        self._busy = False
        self.busy.hide()
        heading, text = describe_open_error(exc)
        wait = float(getattr(exc, "retry_after", 0.0) or 0.0)
        if wait > 0:  # the countdown below says it, and the core's "Wait 2 s" would go stale
            text = re.sub(r"\s*Wait \d+ s before the next try\.", "", text)
        self.error.setText(f"{heading}. {text}" if not text.startswith(heading) else text)
        self.error.show()
        self.passphrase.clear()
        if wait > 0:
            self._start_countdown(wait)
        self._update_buttons()
        (self.user if isinstance(exc, UnknownUser) else self.passphrase).setFocus()
        self._fit()

    def _bug(self, message: str) -> None:
        self._busy = False
        self.busy.hide()
        self.error.setText(message)
        self.error.show()
        self._update_buttons()
        self._fit()

    def _fit(self) -> None:
        """Grow to fit a message that appeared, never squeezing the fields."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = layout.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    # -- back-off countdown --------------------------------------------------------------------
    def _start_countdown(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self._timer.start()
        self._tick()

    def _stop_countdown(self) -> None:
        self._deadline = 0.0
        self._timer.stop()
        self.countdown.hide()
        self._update_buttons()
        self._fit()

    def _tick(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            self._stop_countdown()
            return
        seconds = int(remaining + 0.999)
        unit = "second" if seconds == 1 else "seconds"
        self.countdown.setText(
            f"For safety, Unlock is paused after several failed attempts. "
            f"Try again in {seconds} {unit}."
        )
        was_hidden = self.countdown.isHidden()
        self.countdown.show()
        self._update_buttons()
        if was_hidden:
            self._fit()

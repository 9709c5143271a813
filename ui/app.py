"""The window application: first run or unlock, the main window, locking (manual and idle).

`CasewardApp` is the controller. It takes the secret store, paths and settings in its
constructor so that tests can drive it with an in-memory keyring, a temporary folder and a short
idle timeout; `run_gui()` builds the real one."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QElapsedTimer, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.paths import default_vault_path
from app.security.secrets import SecretStore
from app.services.vault import Vault
from ui import theme
from ui.about import about_text
from ui.clipboard import ClipboardGuard
from ui.collector import UiThreadCollector
from ui.dialogs import Dialogs, QtDialogs
from ui.idle import IdleWatcher
from ui.main_window import MainWindow
from ui.ops import OpContext, OpRunner
from ui.preferences import Preferences
from ui.services import Services
from ui.unlock import UnlockDialog
from ui.wizard import DEMO_SEED, FirstRunWizard

ORGANISATION = "Caseward"
APPLICATION = "Caseward"


def demo_generator() -> Callable[..., Any] | None:
    """`app.services.demo.generate_demo` once another engineer has written it, else None."""
    try:
        if importlib.util.find_spec("app.services.demo") is None:
            return None
        module = importlib.import_module("app.services.demo")
    except (ImportError, ValueError):
        return None
    fn = getattr(module, "generate_demo", None)
    return fn if callable(fn) else None


def demo_steps() -> list[str]:
    """The names of the demo generator's steps, in order (empty if it does not list them)."""
    module = sys.modules.get("app.services.demo")
    steps = getattr(module, "STEPS", None)
    try:
        names = [str(name) for name, _fn in steps or ()]
    except (TypeError, ValueError):
        return []
    return [*names, "finishing"] if names else []


# What each step makes, as the progress dialog names it; unknown steps show their own name.
DEMO_STEP_TEXT = {
    "nominals": "Nominals, aliases, identifiers and addresses",
    "engagement": "Contacts, notifications, civil orders and pathways",
    "prevent": "Prevent referrals, assessments and intelligence",
    "meetings": "Meetings, actions, sharing agreements and correspondence",
    "audit": "Audit history",
    "finishing": "Building the search index and statistics",
}
# Rough share of the time each step takes (measured at 2,000 nominals: 0.6 s, 3.3 s, 0.5 s,
# 2.3 s, 0.7 s); the bar moves by these so that it does not stall on the long steps.
DEMO_STEP_WEIGHT = {"nominals": 1.0, "engagement": 5.0, "prevent": 1.0, "meetings": 3.5,
                    "audit": 5.0, "finishing": 1.0}
DEMO_CANCELLED = (
    "The demo data was cancelled and nothing was added: it is written in one transaction, "
    "which was rolled back. The vault is ready and empty. An administrator can add demo data "
    "later with the command `caseward demo`.")

DEMO_TOO_LATE = ("Cancel came as the demo data was being saved: it was already complete and "
                 "has been kept.")


class _StepRelay(QObject):
    """Carries (step, done, total) from the worker thread to the dialog (queued)."""

    step = Signal(str, int, int)


class DemoProgressDialog(QDialog):
    """Progress of the first-run demo data: the step, a bar that moves, elapsed time, Cancel.

    Cancel cannot stop a step half-way; it stops at the generator's next report (at the latest
    when the current step ends), and the whole run is rolled back."""

    cancel_requested = Signal()

    def __init__(self, nominals: int, steps: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Creating demo data")
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setMinimumWidth(480)
        self.steps = list(steps)
        self.current = ""
        self.cancelling = False
        self._finished = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(8)
        self.headline = QLabel(f"Creating synthetic demo data: {nominals:,} invented nominals "
                               "and their contacts, orders, referrals and meetings.")
        self.headline.setWordWrap(True)
        layout.addWidget(self.headline)
        self.step_label = QLabel("Starting…")
        self.step_label.setObjectName("SectionTitle")
        self.step_label.setWordWrap(True)
        self.step_label.setAccessibleName("Current step")
        layout.addWidget(self.step_label)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setFormat("%p%")
        self.bar.setAccessibleName("Demo data progress")
        layout.addWidget(self.bar)
        self.detail = QLabel()
        self.detail.setObjectName("Hint")
        layout.addWidget(self.detail)
        self.note = QLabel("All of it is written in one go: if you cancel, nothing is kept "
                           "and the vault starts empty.")
        self.note.setObjectName("Hint")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        buttons = QDialogButtonBox()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.clicked.connect(self.request_cancel)
        layout.addWidget(buttons)
        self._clock = QElapsedTimer()
        self._clock.start()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_detail)
        self._tick.start()
        self._done_in_step = (0, 0)
        self._show_detail()

    def _weight(self, step: str) -> float:
        return DEMO_STEP_WEIGHT.get(step, 1.0)

    def report(self, step: str, done: int, total: int) -> None:
        """A report from the generator: ``total`` 0 means the step has just started."""
        if self.cancelling or self._finished:
            return
        if step != self.current:
            self.current = step
            if step not in self.steps:
                self.steps.append(step)  # a generator without STEPS: learn them as they come
        self._done_in_step = (done, total)
        index = self.steps.index(step)
        text = DEMO_STEP_TEXT.get(step, step.replace("_", " ").capitalize())
        if len(self.steps) > 1 and step in self.steps:
            self.step_label.setText(f"Step {index + 1} of {len(self.steps)}: {text}")
        else:
            self.step_label.setText(text)
        weights = [self._weight(s) for s in self.steps]
        before = sum(weights[:index])
        fraction = min(done / total, 1.0) if total > 0 else 0.0
        value = (before + weights[index] * fraction) / max(sum(weights), 1e-9)
        self.bar.setValue(max(self.bar.value(), round(value * 1000)))
        self._show_detail()

    def _show_detail(self) -> None:
        seconds = self._clock.elapsed() // 1000
        elapsed = f"{seconds // 60}:{seconds % 60:02d} elapsed"
        done, total = self._done_in_step
        if self.cancelling:
            self.detail.setText(f"{elapsed} · cancelling")
        elif total > 0:
            self.detail.setText(f"{elapsed} · {done:,} of {total:,} in this step")
        else:
            self.detail.setText(elapsed)

    def request_cancel(self) -> None:
        if self.cancelling or self._finished:
            return
        self.cancelling = True
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.step_label.setText("Cancelling: stopping at the end of this step, then undoing "
                                "everything made so far…")
        self.bar.setRange(0, 0)  # busy until the rollback is done
        self._show_detail()
        self.cancel_requested.emit()

    def finish(self) -> None:
        self._finished = True
        self._tick.stop()
        self.done(QDialog.DialogCode.Accepted)

    # Escape and the window's close button mean Cancel, never "hide and carry on".
    def reject(self) -> None:
        if self._finished:
            super().reject()
        else:
            self.request_cancel()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.request_cancel()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._finished:
            super().closeEvent(event)
        else:
            event.ignore()
            self.request_cancel()


class CasewardApp(QObject):
    """Drives the windows. Emits `exit_requested(code)` when the user quits."""

    exit_requested = Signal(int)
    locked = Signal()
    unlocked = Signal()

    def __init__(
        self,
        secret_store: SecretStore,
        *,
        vault_path: Path | None = None,
        settings: QSettings | None = None,
        dialogs: Dialogs | None = None,
        idle_timeout_ms: int | None = None,
        install_areas: Callable[[MainWindow], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        app = QApplication.instance()
        assert isinstance(app, QApplication), "create the QApplication first"
        self.qapp = app
        self.secret_store = secret_store
        self.prefs = Preferences(settings if settings is not None else QSettings(), self)
        self.dialogs: Dialogs = dialogs if dialogs is not None else QtDialogs()
        self.ops = OpRunner(self)
        self._vault_path_arg = vault_path
        self._idle_override = idle_timeout_ms
        self.idle = IdleWatcher(app, self._idle_ms(), self)
        self.idle.idle.connect(self._on_idle)
        self.prefs.idle_minutes_changed.connect(self._idle_changed)
        self.vault: Vault | None = None
        self.services: Services | None = None
        self.wizard: FirstRunWizard | None = None
        self.unlock_dialog: UnlockDialog | None = None
        self.demo_dialog: DemoProgressDialog | None = None
        self.window = MainWindow(self.prefs)
        self.window.lock_requested.connect(lambda: self.lock())
        self.window.quit_requested.connect(self.quit)
        self.window.about_requested.connect(self.about)
        if install_areas is None:
            from ui.areas import install_standard_areas

            install_areas = install_standard_areas
        install_areas(self.window)
        # Text copied from any field or table is cleared off the clipboard after a delay.
        self.clipboard = ClipboardGuard(self.prefs.clipboard_seconds() * 1000, parent=self)
        self.clipboard.notice.connect(lambda text: self.window.statusBar().showMessage(text, 5000))
        self.prefs.clipboard_seconds_changed.connect(
            lambda seconds: self.clipboard.set_delay_ms(seconds * 1000))
        # Cycles are collected on this (the UI) thread only: see ui/collector.py.
        self.collector = UiThreadCollector(self)
        self.collector.install()
        app.aboutToQuit.connect(self.shutdown)

    # -- start ---------------------------------------------------------------------------------
    def vault_path(self) -> Path:
        if self._vault_path_arg is not None:
            return self._vault_path_arg
        last = self.prefs.last_vault()
        if last and Path(last).exists():
            return Path(last)
        return default_vault_path()

    def start(self) -> None:
        path = self.vault_path()
        if path.exists():
            self.show_unlock()
        else:
            self.show_wizard(path)

    def show_wizard(self, path: Path | None = None) -> FirstRunWizard:
        wizard = FirstRunWizard(
            self.secret_store, self.ops, self.dialogs, path or default_vault_path(),
            demo_available=demo_generator() is not None,
        )
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.accepted.connect(self._wizard_done)
        wizard.rejected.connect(lambda: self.exit_requested.emit(0))
        self.wizard = wizard
        wizard.show()
        return wizard

    def _wizard_done(self) -> None:
        wizard = self.wizard
        self.wizard = None
        if wizard is None or wizard.vault is None:
            self.exit_requested.emit(0)
            return
        vault = wizard.vault
        self.prefs.set_last_vault(str(vault.path))
        self.prefs.set_last_user(vault.actor.user)
        if wizard.fill_demo:
            self._fill_demo(vault, wizard.demo_nominals)
        else:
            self._open(vault)

    def _fill_demo(self, vault: Vault, nominals: int) -> None:
        generate = demo_generator()
        if generate is None:
            self._open(vault)
            return
        dialog = DemoProgressDialog(nominals, demo_steps())
        self.demo_dialog = dialog
        accepts_progress = "progress" in inspect.signature(generate).parameters
        relay = _StepRelay(dialog)
        relay.step.connect(dialog.report)
        state = {"committed": False}

        def work(ctx: OpContext) -> None:
            kwargs: dict[str, Any] = {"nominals": nominals, "seed": DEMO_SEED}
            if accepts_progress:  # the generator reports (step, done, total)
                def report(step: str, done: int, total: int) -> None:
                    # Raises Cancelled once Cancel is pressed: generate_demo writes in one
                    # transaction, so the exception rolls every row of the demo back.
                    ctx.check()
                    relay.step.emit(step, int(done), int(total))
                kwargs["progress"] = report
            generate(vault, **kwargs)
            state["committed"] = True  # past this point a Cancel comes too late to undo

        def close_dialog() -> None:
            self.demo_dialog = None
            dialog.finish()
            dialog.deleteLater()

        def done() -> None:
            close_dialog()
            self._open(vault)

        def failed(text: str) -> None:
            done()
            self.dialogs.error(self.window, "Demo data", f"The demo data was not added: {text}")

        def ended() -> None:  # always; the only word we get when the work was cancelled
            if op.was_cancelled and self.demo_dialog is dialog:
                done()
                self.dialogs.info(self.window, "Demo data",
                                  DEMO_TOO_LATE if state["committed"] else DEMO_CANCELLED)

        op = self.ops.start("demo", work, on_result=lambda _: done(),
                            on_error=lambda exc: failed(str(exc)), on_bug=failed)
        op.ended.connect(ended)
        dialog.cancel_requested.connect(op.cancel)
        dialog.show()

    def show_unlock(self, notice: str = "") -> UnlockDialog:
        parent: QWidget | None = self.window if self.window.isVisible() else None
        dialog = UnlockDialog(
            self.secret_store, self.ops, self.dialogs, self.prefs, self.vault_path(),
            notice=notice, parent=parent,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.unlocked.connect(self._open)
        dialog.rejected.connect(self.quit)
        self.unlock_dialog = dialog
        dialog.show()
        return dialog

    # -- unlocked ------------------------------------------------------------------------------
    def _open(self, vault: Vault) -> None:
        self.unlock_dialog = None
        self.vault = vault
        self._vault_path_arg = Path(vault.path)
        self.services = Services(vault, ops=self.ops, dialogs=self.dialogs, prefs=self.prefs)
        self.window.attach(self.services)
        if not self.window.isVisible():
            self.window.show()
        if self.qapp.platformName() not in ("offscreen", "minimal"):
            self.window.raise_()  # the offscreen plugin warns that it cannot raise
        self.window.activateWindow()
        self.idle.start()
        self.unlocked.emit()

    @property
    def is_locked(self) -> bool:
        return self.vault is None

    def lock(self, notice: str = "") -> None:
        """Drop the key and every piece of record data on screen, then ask to unlock again."""
        if self.vault is None:
            return
        self.idle.stop()
        self.clipboard.clear_now()
        self.ops.cancel_all()
        self._close_other_windows()
        self.window.detach()
        if self.services is not None:
            self.services.close()
        self.services = None
        self.ops.wait(3000)  # let cancelled work stop before the key goes
        vault, self.vault = self.vault, None
        with contextlib.suppress(CasewardError):
            vault.lock()
        self.locked.emit()
        self.show_unlock(notice or "Caseward was locked. Sign in again to continue.")

    def _on_idle(self) -> None:
        minutes = self.idle.timeout_ms / 60000
        if minutes >= 1:
            text = f"Locked after {round(minutes)} minutes without activity."
        else:
            text = "Locked after a period without activity."
        self.lock(text)

    def _close_other_windows(self) -> None:
        for widget in QApplication.topLevelWidgets():
            if widget is self.window or not widget.isVisible():
                continue
            if isinstance(widget, QDialog):
                widget.reject()
            widget.close()

    def set_idle_timeout_ms(self, timeout_ms: int | None) -> None:
        """Override the idle timeout (None: back to the stored preference)."""
        self._idle_override = timeout_ms
        self.idle.set_timeout_ms(self._idle_ms())

    def _idle_ms(self) -> int:
        if self._idle_override is not None:
            return self._idle_override
        return self.prefs.idle_minutes() * 60_000

    def _idle_changed(self, _minutes: int) -> None:
        self.idle.set_timeout_ms(self._idle_ms())

    # -- other actions -------------------------------------------------------------------------
    def about(self) -> None:
        self.dialogs.info(self.window, "About Caseward", about_text())

    def quit(self) -> None:
        self.shutdown()
        self.exit_requested.emit(0)

    def shutdown(self) -> None:
        """Lock and close everything (idempotent)."""
        self.idle.stop()
        self.clipboard.clear_now()
        self.ops.cancel_all()
        if self.window.isVisible():
            self.prefs.set_geometry("main", self.window.saveGeometry())
        self.window.detach()
        self.services = None
        finished = self.ops.wait(5000)
        if self.vault is not None:
            with contextlib.suppress(CasewardError):
                self.vault.lock()
            self.vault = None
        self.prefs.settings.sync()
        for widget in QApplication.topLevelWidgets():
            if widget.isVisible():
                widget.close()
        if finished:  # a job still running keeps cycles off its thread until the very end
            self.collector.uninstall()


def _report_uncaught_errors(controller: CasewardApp) -> None:
    """An exception escaping a slot is a bug: log it (type and stack only) and say where."""
    from ui.ops import bug_message, log_bug

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        if isinstance(exc, CasewardError):
            controller.dialogs.error(None, "Caseward", str(exc))
            return
        path = log_bug(exc.with_traceback(tb), "window")
        controller.dialogs.error(None, "Caseward",
                                 bug_message(kind.__name__, str(path) if path else ""))

    sys.excepthook = hook


def run_gui() -> int:
    """The `caseward` command with no arguments: open the window."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Caseward")
    theme.apply(app)
    from app.security.secrets import KeyringSecretStore

    controller = CasewardApp(KeyringSecretStore())
    controller.exit_requested.connect(app.exit)
    _report_uncaught_errors(controller)
    controller.start()
    try:
        return int(app.exec())
    except Exception as exc:  # pragma: no cover - a last resort, never seen in normal use
        from ui.ops import log_bug

        log_bug(exc, "run_gui")
        return 1

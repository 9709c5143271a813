"""Background operations: run slow work (KDF, verify, writes) off the UI thread, report back.

An `Operation` lives in the UI thread; its work runs on the runner's own QThreadPool. Results
come back through queued signals and are dropped once the operation is cancelled, so a lock
(which cancels everything) never lets a late result reach a widget. `CasewardError`s are the
environment's or the user's fault and go to `failed`; anything else is a bug: it is logged (type
and stack only, through the command line's own logger) and reported through `bug` with the path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from app.domain.errors import CasewardError


class Cancelled(Exception):
    """Raised inside an operation's work when its Cancel was pressed."""


class OpContext:
    """What the work function sees: progress reporting and the cancel flag."""

    def __init__(self, relay: _Relay, cancel: threading.Event) -> None:
        self._relay = relay
        self._cancel = cancel

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Stop here if the user cancelled."""
        if self._cancel.is_set():
            raise Cancelled()

    def progress(self, done: int, total: int) -> None:
        self.check()
        self._relay.progress.emit(int(done), int(total))


class _Relay(QObject):
    """Signals emitted from the worker thread; it lives in the UI thread so they arrive queued."""

    progress = Signal(int, int)
    result = Signal(object)
    error = Signal(object)
    bug = Signal(str, str)
    cancelled = Signal()


def log_bug(exc: BaseException, where: str) -> Path | None:
    """Log an unexpected exception exactly as the command line does (type and stack only)."""
    from app.cli import _log_bug

    return _log_bug(exc, f"gui:{where}")


def bug_message(type_name: str, log_path: str) -> str:
    where = f" Details were written to {log_path}." if log_path else " It could not be logged."
    return (
        f"Something went wrong inside Caseward ({type_name}). This is a bug, not something you "
        f"did; nothing further was changed.{where}"
    )


class Operation(QObject):
    """One piece of background work. Connect to its signals before it starts (the runner does)."""

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)  # a CasewardError
    bug = Signal(str)  # a plain message for the user, already logged
    finished = Signal()  # once, after succeeded/failed/bug, unless cancelled
    ended = Signal()  # always, once, even when cancelled (the runner's bookkeeping)

    def __init__(self, name: str, work: Callable[[OpContext], Any], parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._work = work
        self._cancel = threading.Event()
        # Parented, so that dropping the last Python reference in the worker thread never
        # deletes a UI-thread object there; the runner deletes it with deleteLater().
        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress)
        self._relay.result.connect(self._on_result)
        self._relay.error.connect(self._on_error)
        self._relay.bug.connect(self._on_bug)
        self._relay.cancelled.connect(self._on_cancelled)
        self.done = False
        self.was_cancelled = False

    # -- control (UI thread) -------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the work to stop; whatever it returns later is dropped."""
        self._cancel.set()
        self.was_cancelled = True

    @property
    def running(self) -> bool:
        return not self.done

    # -- worker thread -------------------------------------------------------------------------
    def _run(self) -> None:
        ctx = OpContext(self._relay, self._cancel)
        try:
            value = self._work(ctx)
        except Cancelled:
            self._relay.cancelled.emit()
        except CasewardError as exc:
            self._relay.error.emit(exc)
        except Exception as exc:  # a bug: log it with its stack, tell the user where
            path = log_bug(exc, self.name)
            self._relay.bug.emit(type(exc).__name__, str(path) if path else "")
        else:
            self._relay.result.emit(value)

    # -- back in the UI thread -----------------------------------------------------------------
    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if not self._cancel.is_set():
            self.progress.emit(done, total)

    @Slot(object)
    def _on_result(self, value: object) -> None:
        self._finish(lambda: self.succeeded.emit(value))

    @Slot(object)
    def _on_error(self, exc: object) -> None:
        self._finish(lambda: self.failed.emit(exc))

    @Slot(str, str)
    def _on_bug(self, type_name: str, path: str) -> None:
        self._finish(lambda: self.bug.emit(bug_message(type_name, path)))

    @Slot()
    def _on_cancelled(self) -> None:
        self.done = True
        self.ended.emit()

    def _finish(self, emit: Callable[[], None]) -> None:
        self.done = True
        if not self._cancel.is_set():
            emit()
            self.finished.emit()
        self.ended.emit()


class _Task(QRunnable):
    def __init__(self, op: Operation) -> None:
        super().__init__()
        self._op = op
        self.setAutoDelete(True)

    def run(self) -> None:
        self._op._run()


class OpRunner(QObject):
    """Starts operations on a private thread pool and can cancel them all (on lock)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._active: set[Operation] = set()

    def start(
        self,
        name: str,
        work: Callable[[OpContext], Any],
        *,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[CasewardError], None] | None = None,
        on_bug: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> Operation:
        op = Operation(name, work, parent=self)
        if on_progress:
            op.progress.connect(on_progress)
        if on_result:
            op.succeeded.connect(on_result)
        if on_error:
            op.failed.connect(on_error)
        if on_bug:
            op.bug.connect(on_bug)
        if on_finished:
            op.finished.connect(on_finished)
        op.ended.connect(lambda: self._forget(op))
        self._active.add(op)
        self._pool.start(_Task(op))
        return op

    @property
    def active(self) -> int:
        """Operations whose results are still wanted."""
        return sum(1 for op in self._active if not op.was_cancelled)

    def _forget(self, op: Operation) -> None:
        self._active.discard(op)
        op.deleteLater()

    def cancel_all(self) -> None:
        """Cancel every running operation: none of their results will be delivered."""
        for op in list(self._active):
            op.cancel()

    def wait(self, msecs: int = 30_000) -> bool:
        """Wait for the pool's threads (shutdown and tests)."""
        return bool(self._pool.waitForDone(msecs))


class OpProgressSink:
    """Bridges the export layer's ProgressSink to a background operation (progress, Cancel).

    A writer that does not know its total yet reports `total=None`; it reaches the operation's
    `progress(done, total)` as total 0, which every receiver shows as a busy indicator (a
    QProgressBar with range 0..0) rather than dropping it. Once Cancel is pressed nothing more
    is reported, and `is_cancelled()` tells the writer to stop and remove its temporary file."""

    def __init__(self, ctx: OpContext) -> None:
        self._ctx = ctx

    def progress(self, done: int, total: int | None) -> None:
        if not self._ctx.cancelled:
            self._ctx.progress(done, total or 0)

    def is_cancelled(self) -> bool:
        return self._ctx.cancelled

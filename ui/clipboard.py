"""Clears text copied from Caseward off the clipboard after a delay, on lock and on quit.

Only what Caseward itself put there is cleared: the guard keeps a digest (never the text) of the
clipboard as it was after our copy and clears only if it still matches, so a later copy from
another program is never wiped."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

# Platforms whose clipboard lives inside this process (tests, headless runs): whatever is on it
# was put there by us, but `ownsClipboard()` reports False on them.
_PROCESS_LOCAL = frozenset({"offscreen", "minimal"})


def clipboard_digest(clipboard: QClipboard) -> bytes | None:
    """A digest of every format on the clipboard; None when it is empty."""
    mime = clipboard.mimeData()
    if mime is None:
        return None
    formats = sorted(mime.formats())
    if not formats:
        return None
    h = hashlib.sha256()
    for name in formats:
        data = bytes(mime.data(name).data())
        h.update(name.encode("utf-8"))
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.digest()


def copied_notice(seconds: int) -> str:
    return f"Copied — the clipboard will be cleared in {seconds} s"


class ClipboardGuard(QObject):
    """Watches the clipboard; `notice(text)` is for the status bar, `cleared` follows a clear."""

    notice = Signal(str)
    cleared = Signal()

    def __init__(self, delay_ms: int, clipboard: QClipboard | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clipboard = clipboard if clipboard is not None else QGuiApplication.clipboard()
        self._local = QGuiApplication.platformName() in _PROCESS_LOCAL
        # Replaceable so that tests can play "another program" on a process-local clipboard.
        self.owns: Callable[[], bool] = self._owns
        self._ours: bytes | None = None  # digest of what we put there, while a clear is due
        self._clearing = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, int(delay_ms)))
        self._timer.timeout.connect(self.clear_now)
        self._clipboard.dataChanged.connect(self._changed)

    @property
    def delay_ms(self) -> int:
        return int(self._timer.interval())

    def set_delay_ms(self, delay_ms: int) -> None:
        """A new delay; a clear already due is rescheduled to the new delay from now."""
        self._timer.setInterval(max(1, int(delay_ms)))
        if self._timer.isActive():
            self._timer.start()

    @property
    def pending(self) -> bool:
        """True while something we copied is waiting to be cleared."""
        return self._ours is not None

    def _owns(self) -> bool:
        return self._local or self._clipboard.ownsClipboard()

    def _changed(self) -> None:
        if self._clearing:
            return
        digest = clipboard_digest(self._clipboard)
        if digest is None or not self.owns():
            # Emptied, or another program copied: nothing of ours is left to clear.
            self._ours = None
            self._timer.stop()
            return
        self._ours = digest
        self._timer.start()
        seconds = max(1, round(self._timer.interval() / 1000))
        self.notice.emit(copied_notice(seconds))

    def clear_now(self) -> bool:
        """Clear the clipboard if it still holds exactly what we copied; True if it did."""
        self._timer.stop()
        ours, self._ours = self._ours, None
        if ours is None or clipboard_digest(self._clipboard) != ours:
            return False
        self._clearing = True
        try:
            self._clipboard.clear(QClipboard.Mode.Clipboard)
        finally:
            self._clearing = False
        self.cleared.emit()
        return True

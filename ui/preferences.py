"""Non-sensitive preferences in QSettings: window geometry, last vault and user name, idle lock,
clipboard clearing.

Nothing here may ever hold record data (names of nominals, references, free text, search
terms): QSettings is a plain file on disk."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, QSettings, Signal

DEFAULT_IDLE_MINUTES = 10
MIN_IDLE_MINUTES = 1
MAX_IDLE_MINUTES = 120
DEFAULT_CLIPBOARD_SECONDS = 30
MIN_CLIPBOARD_SECONDS = 5
MAX_CLIPBOARD_SECONDS = 600


class Preferences(QObject):
    idle_minutes_changed = Signal(int)
    clipboard_seconds_changed = Signal(int)

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._s = settings

    @property
    def settings(self) -> QSettings:
        return self._s

    # -- vault and user (remembered for the unlock dialog) -------------------------------------
    def last_vault(self) -> str:
        return str(self._s.value("vault/last_path", "") or "")

    def set_last_vault(self, path: str) -> None:
        self._s.setValue("vault/last_path", path)

    def last_user(self) -> str:
        return str(self._s.value("vault/last_user", "") or "")

    def set_last_user(self, name: str) -> None:
        self._s.setValue("vault/last_user", name)

    # -- security ------------------------------------------------------------------------------
    def idle_minutes(self) -> int:
        try:
            value = int(str(self._s.value("security/idle_lock_minutes", DEFAULT_IDLE_MINUTES)))
        except (TypeError, ValueError):
            value = DEFAULT_IDLE_MINUTES
        return max(MIN_IDLE_MINUTES, min(MAX_IDLE_MINUTES, value))

    def set_idle_minutes(self, minutes: int) -> None:
        minutes = max(MIN_IDLE_MINUTES, min(MAX_IDLE_MINUTES, int(minutes)))
        self._s.setValue("security/idle_lock_minutes", minutes)
        self._s.sync()
        self.idle_minutes_changed.emit(minutes)

    def clipboard_seconds(self) -> int:
        """Seconds before text copied from Caseward is cleared off the clipboard (never 0)."""
        try:
            value = int(str(self._s.value("security/clipboard_clear_seconds",
                                          DEFAULT_CLIPBOARD_SECONDS)))
        except (TypeError, ValueError):
            value = DEFAULT_CLIPBOARD_SECONDS
        return max(MIN_CLIPBOARD_SECONDS, min(MAX_CLIPBOARD_SECONDS, value))

    def set_clipboard_seconds(self, seconds: int) -> None:
        """Store the delay; out of range is refused (ValueError), not clamped: a clipboard that
        is never cleared must not be reachable by typing 0."""
        seconds = int(seconds)
        if not MIN_CLIPBOARD_SECONDS <= seconds <= MAX_CLIPBOARD_SECONDS:
            raise ValueError(f"clipboard delay must be {MIN_CLIPBOARD_SECONDS} to "
                             f"{MAX_CLIPBOARD_SECONDS} seconds")
        self._s.setValue("security/clipboard_clear_seconds", seconds)
        self._s.sync()
        self.clipboard_seconds_changed.emit(seconds)

    # -- geometry ------------------------------------------------------------------------------
    def geometry(self, key: str) -> QByteArray | None:
        value = self._s.value(f"geometry/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, key: str, value: QByteArray) -> None:
        self._s.setValue(f"geometry/{key}", value)

"""A thin service around the standard modal dialogs, so that flows can be tested with a fake.

Widgets never call QMessageBox / QFileDialog / QInputDialog directly: they ask a `Dialogs`
object they were given. Tests pass `RecordingDialogs` with scripted answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget


class Dialogs(Protocol):
    def info(self, parent: QWidget | None, title: str, text: str) -> None: ...

    def error(self, parent: QWidget | None, title: str, text: str) -> None: ...

    def confirm(
        self, parent: QWidget | None, title: str, text: str, ok_text: str = "OK"
    ) -> bool: ...

    def ask_text(
        self, parent: QWidget | None, title: str, label: str, text: str = ""
    ) -> str | None: ...

    def choose(
        self, parent: QWidget | None, title: str, label: str, items: Sequence[str], current: int
    ) -> str | None: ...

    def open_file(
        self, parent: QWidget | None, title: str, directory: str, filter: str
    ) -> str | None: ...

    def save_file(
        self, parent: QWidget | None, title: str, directory: str, filter: str
    ) -> str | None: ...


class QtDialogs:
    """The real thing: standard Qt dialogs."""

    def info(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.warning(parent, title, text)

    def confirm(self, parent: QWidget | None, title: str, text: str, ok_text: str = "OK") -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
        ok = box.addButton(ok_text, QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        return box.clickedButton() is ok

    def ask_text(
        self, parent: QWidget | None, title: str, label: str, text: str = ""
    ) -> str | None:
        value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
        return str(value) if ok else None

    def choose(
        self, parent: QWidget | None, title: str, label: str, items: Sequence[str], current: int
    ) -> str | None:
        value, ok = QInputDialog.getItem(parent, title, label, list(items), current, False)
        return str(value) if ok else None

    def open_file(
        self, parent: QWidget | None, title: str, directory: str, filter: str
    ) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, title, directory, filter)
        return path or None

    def save_file(
        self, parent: QWidget | None, title: str, directory: str, filter: str
    ) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, title, directory, filter)
        return path or None


@dataclass
class RecordingDialogs:
    """A fake for tests: records every call and answers from queues (None/False when empty)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    answers: dict[str, list[Any]] = field(default_factory=dict)

    def _answer(self, kind: str, default: Any) -> Any:
        queue = self.answers.get(kind)
        return queue.pop(0) if queue else default

    def info(self, parent: QWidget | None, title: str, text: str) -> None:
        self.calls.append(("info", title, text))

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        self.calls.append(("error", title, text))

    def confirm(self, parent: QWidget | None, title: str, text: str, ok_text: str = "OK") -> bool:
        self.calls.append(("confirm", title, text))
        return bool(self._answer("confirm", False))

    def ask_text(
        self, parent: QWidget | None, title: str, label: str, text: str = ""
    ) -> str | None:
        self.calls.append(("ask_text", title, label))
        value = self._answer("ask_text", None)
        return None if value is None else str(value)

    def choose(
        self, parent: QWidget | None, title: str, label: str, items: Sequence[str], current: int
    ) -> str | None:
        self.calls.append(("choose", title, label))
        value = self._answer("choose", None)
        return None if value is None else str(value)

    def open_file(
        self, parent: QWidget | None, title: str, directory: str, filter: str
    ) -> str | None:
        self.calls.append(("open_file", title, directory))
        value = self._answer("open_file", None)
        return None if value is None else str(value)

    def save_file(
        self, parent: QWidget | None, title: str, directory: str, filter: str
    ) -> str | None:
        self.calls.append(("save_file", title, directory))
        value = self._answer("save_file", None)
        return None if value is None else str(value)

    def kinds(self) -> list[str]:
        return [c[0] for c in self.calls]

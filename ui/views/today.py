"""The home area until the real Today view (what is due today) exists: who, where, what next."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from app.domain.roles import Perm
from ui.services import Services
from ui.widgets import EmptyState, card, heading


def uk_long_date(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


class TodayView(QWidget):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.setSpacing(16)
        layout.addWidget(heading("Today", uk_long_date(date.today())))

        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(16)
        signed, signed_body = card("Signed in")
        signed_body.addWidget(_text(f"{services.user}\n{services.role_label}"))
        vault, vault_body = card("Vault")
        bound = "Bound to this terminal" if services.terminal_bound else "Not bound to a terminal"
        vault_body.addWidget(_text(f"{services.vault_name}\n{bound}"))
        keys, keys_body = card("Keyboard")
        keys_body.addWidget(_text(
            "Ctrl+L locks Caseward at once\nCtrl+1, Ctrl+2 … switch between areas"
        ))
        for col, frame in enumerate((signed, vault, keys)):
            grid.addWidget(frame, 0, col)
            grid.setColumnStretch(col, 1)
        layout.addLayout(grid)

        if services.can(Perm.AUDIT_READ):
            hint = ("Use Audit to review who did what and to prove the log is intact, and "
                    "Admin to manage users and roles.")
        else:
            hint = "Areas for your role appear on the left as they become available."
        layout.addWidget(EmptyState(
            "empty", "No daily list yet",
            "Once contacts, civil orders and meeting actions are kept in Caseward, what falls "
            f"due each day will be listed here. {hint}",
        ), 1)


def _text(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label

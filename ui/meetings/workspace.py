"""The Meetings area as the navigation shows it: the meetings and the action log as two tabs."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from ui.meetings.actions import ActionsView
from ui.meetings.meetings import MeetingsArea, Today
from ui.services import Services


class MeetingsWorkspace(QWidget):
    """Meetings | Actions; the action log is re-read whenever its tab is shown, so actions
    raised or carried in the editor appear without a manual refresh."""

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 today: Today | None = None) -> None:
        super().__init__(parent)
        self.meetings = MeetingsArea(services, today=today)
        self.action_log = ActionsView(services, today=today)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.meetings, "&Meetings")
        self.tabs.addTab(self.action_log, "A&ctions")
        self.tabs.currentChanged.connect(self._on_tab)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def _on_tab(self, index: int) -> None:
        if self.tabs.widget(index) is self.action_log:
            self.action_log.load_choices()
            self.action_log.refresh()

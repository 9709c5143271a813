"""The meetings window: meetings and their agendas, the action log, the correspondence log
and performance against targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.main_window import MainWindow
    from ui.services import Services


def _meetings(services: Services) -> QWidget:
    from ui.meetings.workspace import MeetingsWorkspace

    return MeetingsWorkspace(services)


def _correspondence(services: Services) -> QWidget:
    from ui.meetings.correspondence import CorrespondenceWorkspace

    return CorrespondenceWorkspace(services)


def _performance(services: Services) -> QWidget:
    from ui.meetings.performance import PerformanceView

    return PerformanceView(services)


def install_meeting_areas(window: MainWindow) -> None:
    """Register meetings 400 (its actions log is a tab of it, which keeps the navigation short
    enough for Ctrl+1..9), correspondence 500 and performance 810."""
    from app.domain.roles import Perm

    window.add_area("meetings", "Meetings", "role", _meetings, Perm.MEETING_READ, 400)
    window.add_area("correspondence", "Correspondence", "folder", _correspondence,
                    Perm.MEETING_READ, 500)
    window.add_area("performance", "Performance", "refresh", _performance,
                    Perm.NOMINAL_READ, 810)

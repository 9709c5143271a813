"""The calendar window: month, week and agenda views of every dated item."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.services import Services


def calendar_area(services: Services) -> QWidget:
    from ui.calendar.view import CalendarView

    return CalendarView(services)

"""The engagement windows: contact log and plan, notification requirements, civil orders and
pathways for the nominal record (``NominalEngagementTabs``), the quick-add contact dialog, and
the Pathways map area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.engagement.dialogs import ContactPlanDialog, LogContactDialog
from ui.engagement.panels import NominalEngagementTabs, PathwayMapView

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.services import Services

__all__ = [
    "ContactPlanDialog",
    "LogContactDialog",
    "NominalEngagementTabs",
    "PathwayMapView",
    "pathways_area",
]


def pathways_area(services: Services) -> QWidget:
    return PathwayMapView(services)

"""The nominal windows: the Nominals list and record form, the duplicates review and the
data-quality panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.main_window import MainWindow
    from ui.services import Services


def _nominals(services: Services) -> QWidget:
    from ui.nominals.area import NominalsArea

    return NominalsArea(services)


def _duplicates(services: Services) -> QWidget:
    from ui.nominals.duplicates import DuplicatesView

    return DuplicatesView(services)


def _quality(services: Services) -> QWidget:
    from ui.nominals.quality import QualityArea

    return QualityArea(services)


def install_nominal_areas(window: MainWindow) -> None:
    """Register the nominal areas (positions 100-120; see ui/areas.py)."""
    from app.domain.roles import Perm

    window.add_area("nominals", "Nominals", "role", _nominals, Perm.NOMINAL_READ, 100)
    window.add_area("duplicates", "Duplicates", "refresh", _duplicates, Perm.NOMINAL_READ, 110)
    window.add_area("quality", "Data quality", "verify", _quality, Perm.NOMINAL_READ, 120)

"""The Reconcile area: the regional list against the national headcount (review screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.domain.roles import Perm

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.main_window import MainWindow
    from ui.services import Services


def _reconcile(services: Services) -> QWidget:
    from ui.reconcile.view import ReconcileView

    return ReconcileView(services)


def install_reconcile_area(window: MainWindow) -> None:
    window.add_area("reconcile", "Reconcile", "verify", _reconcile, Perm.RECONCILE, 150)

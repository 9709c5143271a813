"""The Retention area: the MOPI review queue and the review screen (admins)."""

from __future__ import annotations

from ui.main_window import MainWindow


def install_retention_area(window: MainWindow) -> None:
    from app.domain.roles import Perm
    from ui.retention.view import RetentionView

    window.add_area("retention", "Retention", "verify", RetentionView, Perm.RETENTION, 920)

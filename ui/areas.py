"""The areas in the left-hand navigation. Add yours here: one `window.add_area(...)` line.

Positions leave room between areas: Today 10; record areas 100-800 (e.g. nominals 100,
engagement 200, orders 300, meetings 400, correspondence 500, referrals 600, intelligence 700,
returns 800); Audit 900; Admin 950. A factory takes the `Services` of the current unlock and
returns the area's widget; it is called on the area's first visit and the widget is destroyed
when the vault locks. Import views inside the function so that importing this module stays
cheap."""

from __future__ import annotations

from app.domain.roles import Perm
from ui.main_window import MainWindow


def install_standard_areas(window: MainWindow) -> None:
    from ui.calendar import calendar_area
    from ui.engagement import pathways_area
    from ui.meetings import install_meeting_areas
    from ui.nominals import install_nominal_areas
    from ui.prevent import install_prevent_areas
    from ui.reconcile import install_reconcile_area
    from ui.retention import install_retention_area
    from ui.views.admin import AdminView
    from ui.views.audit import AuditView
    from ui.views.exports import ReturnsView
    from ui.views.today import TodayView

    window.add_area("today", "Today", "today", TodayView, None, 10)
    window.add_area("calendar", "Calendar", "today", calendar_area, Perm.NOMINAL_READ, 20)
    window.add_area("pathways", "Pathways", "role", pathways_area, Perm.ENGAGEMENT_READ, 210)
    install_nominal_areas(window)  # nominals 100, duplicates 110, data quality 120
    install_reconcile_area(window)  # 150, after nominals
    install_meeting_areas(window)  # meetings 400, correspondence 500, performance 810
    install_prevent_areas(window)  # referrals 600 ... research 720
    window.add_area("returns", "Returns", "folder", ReturnsView, Perm.EXPORT, 800)
    window.add_area("audit", "Audit", "audit", AuditView, Perm.AUDIT_READ, 900)
    install_retention_area(window)  # retention 920
    window.add_area("admin", "Admin", "admin", AdminView, Perm.USERS_MANAGE, 950)

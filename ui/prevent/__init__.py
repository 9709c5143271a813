"""The Prevent window: referral intake and triage, the referral workspace, the intelligence log,
the institutions register, the patterns dashboard and research summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.main_window import MainWindow
    from ui.services import Services


def _referrals(services: Services) -> QWidget:
    from ui.prevent.queue import ReferralsArea

    return ReferralsArea(services)


def _patterns(services: Services) -> QWidget:
    from ui.prevent.patterns import PatternsDashboard

    return PatternsDashboard(services)


def _institutions(services: Services) -> QWidget:
    from ui.prevent.institutions import InstitutionsView

    return InstitutionsView(services)


def _intelligence(services: Services) -> QWidget:
    from ui.prevent.intel import IntelLogView

    return IntelLogView(services)


def _research(services: Services) -> QWidget:
    from ui.prevent.research import ResearchView

    return ResearchView(services)


def install_prevent_areas(window: MainWindow) -> None:
    """Register the Prevent areas (positions 600-720; see ui/areas.py)."""
    from app.domain.roles import Perm

    window.add_area("referrals", "Prevent referrals", "folder", _referrals,
                    Perm.REFERRAL_READ, 600)
    window.add_area("patterns", "Patterns", "refresh", _patterns, Perm.REFERRAL_READ, 610)
    window.add_area("institutions", "Institutions", "info", _institutions,
                    Perm.REFERRAL_READ, 620)
    window.add_area("intelligence", "Intelligence", "key", _intelligence, Perm.INTEL_READ, 700)
    window.add_area("research", "Research summary", "print", _research, Perm.REFERRAL_READ, 720)

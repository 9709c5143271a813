"""Helpers for the retention tests: records with old creation dates, and a fully linked nominal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update

from app.domain.meetings import ActionInput, AttendeeInput, MeetingInput, NominalPick
from app.domain.nominal import Alias, Nominal, RiskLevel, Status
from app.domain.prevent import IntelInput, ReferralInput, SubjectInput
from app.domain.roles import Role
from app.services.vault import Actor, Vault
from app.store.models import Nominal as NominalRow
from app.store.models import Referral as ReferralRow


def acting(vault: Vault, role: Role, user: str = "") -> Vault:
    """The same vault acting as another role (setup needs a coordinator's or analyst's rights)."""
    vault.actor = Actor(user or role.value, role)
    return vault


def add_nominal(vault: Vault, surname: str, *, created: date, group: int = 3,
                **values: Any) -> str:
    from app.services.nominals import NominalService

    before = vault.actor
    acting(vault, Role.COORDINATOR, "carol")
    try:
        fields: dict[str, Any] = {"surname": surname, "forenames": "Synthetic",
                                  "status": Status.COMMUNITY, "risk_level": RiskLevel.LOW,
                                  "force": "Test Force", "retention_group": group}
        fields.update(values)
        ref = NominalService(vault).add(Nominal(**fields)).ref
    finally:
        vault.actor = before
    backdate(vault, ref, created)
    return ref


def backdate(vault: Vault, ref: str, created: date) -> None:
    """Old records, as a vault in use for years would hold (the services stamp 'now')."""
    at = datetime.combine(created, datetime.min.time()).replace(hour=9)
    with vault.write() as s:
        if ref.startswith("PR-"):
            s.execute(update(ReferralRow).where(ReferralRow.ref == ref).values(created_at=at))
        else:
            s.execute(update(NominalRow).where(NominalRow.ref == ref).values(created_at=at))


def add_referral(vault: Vault, *, created: date, surname: str = "Subjectperson",
                 summary: str = "Shared extremist material in class (synthetic).",
                 nominal_id: int | None = None, notes: tuple[tuple[str, str], ...] = (),
                 dob: date | None = date(2008, 5, 1)) -> str:
    from app.services.referrals import ReferralService

    before = vault.actor
    acting(vault, Role.ANALYST, "ana")
    try:
        ref = ReferralService(vault).add(ReferralInput(
            received=datetime.combine(created, datetime.min.time()).replace(hour=10),
            source_sector="education", concern_type="extreme_right_wing",
            subject=SubjectInput(surname, "Alex", dob, nominal_id=nominal_id),
            summary=summary, referrer_name="A. Teacher",
            referrer_organisation="Example Academy", notes=notes,
        ), now=datetime.combine(created, datetime.min.time()).replace(hour=11))
    finally:
        vault.actor = before
    backdate(vault, ref, created)
    return ref


def linked_nominal(vault: Vault, marker: str, *, created: date) -> dict[str, Any]:
    """A nominal carrying ``marker`` in every place its data lives (names, alias, notes, contact
    notes, pathway, order, notification, revisions), and linked from other records: a meeting
    agenda item, an action, correspondence, a referral subject, an intelligence entry."""
    from app.domain.meetings import CorrespondenceInput, Direction
    from app.services.correspondence import CorrespondenceService
    from app.services.engagement import EngagementService
    from app.services.intelligence import IntelligenceService
    from app.services.meetings import MeetingService
    from app.services.nominals import NominalService
    from app.store import nominals as repo

    ref = add_nominal(vault, marker.upper(), created=created, group=3, forenames=f"{marker}a",
                      notes=f"Notes about {marker}", offence=f"Offence {marker}",
                      aliases=(Alias(f"{marker}alias", "Other", date(1980, 1, 1)),),
                      dob=date(1980, 1, 1))
    before = vault.actor
    acting(vault, Role.COORDINATOR, "carol")
    try:
        nominals = NominalService(vault)
        record = nominals.get(ref, "setup")
        from dataclasses import replace

        # A revision whose old and new values carry the marker.
        nominals.update(ref, replace(record, establishment=f"HMP {marker}"), reason="moved")
        eng = EngagementService(vault)
        eng.log_contact(ref, datetime(2024, 1, 5, 10), "phone", "DC Alpha", "made",
                        notes=f"Contact notes {marker}")
        eng.add_pathway(ref, "ideology", "high", "active", providers="DDP",
                        notes=f"Pathway {marker}")
        eng.add_order(ref, "TPIM", date(2024, 1, 1), conditions=f"Conditions {marker}")
        eng.add_notification(ref, date(2024, 1, 1), sentence_months=24,
                             notes=f"Notification {marker}")
        meetings = MeetingService(vault)
        meeting = meetings.add(MeetingInput(
            meeting_type="ttcg", starts_at=datetime(2024, 2, 3, 10), chair="DI Chair",
            location="Room 2", attendees=(AttendeeInput("A. Officer", "CTP", "NM"),),
            nominals=(NominalPick(ref, "Release due"),)), today=date(2024, 2, 1))
        action = meetings.add_action(ActionInput("Check address (synthetic)", "DC Alpha",
                                                 date(2024, 3, 1), nominal_ref=ref,
                                                 meeting_id=meeting.id))
        corr = CorrespondenceService(vault).add(CorrespondenceInput(
            "HM Prison Service", Direction.IN, date(2024, 3, 2), "Pre-release planning",
            nominal_refs=(ref,)))
    finally:
        vault.actor = before
    with vault.read() as s:
        nominal_id = repo.id_for_ref(s, ref)
    referral = add_referral(vault, created=created, surname="Kidsubject", nominal_id=nominal_id)
    acting(vault, Role.ANALYST, "ana")
    try:
        from app.services.referrals import parse_referral_ref

        intel = IntelligenceService(vault).add(IntelInput(
            "Seen with associates (synthetic).", "2", "B", "P",
            referral_ids=[parse_referral_ref(referral)]), today=date(2024, 3, 5))
    finally:
        vault.actor = before
    return {"ref": ref, "id": nominal_id, "meeting": meeting.id, "action": action.ref,
            "correspondence": corr.ref, "referral": referral, "intel": intel.ref}

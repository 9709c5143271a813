"""The institutions register: each school, college, place of worship, gym or prison recorded
once (by folded name), with the referrals and intelligence linked to it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.names import fold
from app.domain.prevent import MAX_SHORT, InstitutionInput, optional_text, require_text
from app.domain.roles import Perm
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.referrals import lists_for
from app.services.vault import Vault
from app.store.models import (
    Institution,
    IntelEntry,
    IntelInstitution,
    Person,
    Referral,
    ReferralInstitution,
    utcnow,
)

__all__ = ["InstitutionProfile", "InstitutionRow", "InstitutionService", "find_or_create"]


@dataclass(frozen=True)
class InstitutionRow:
    id: int
    name: str
    type: str
    area: str
    referrals: int = 0
    intelligence: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InstitutionProfile:
    institution: InstitutionRow
    referrals: list[dict[str, Any]]  # id, ref, received_on, concern_type, source_sector, stage
    intelligence: list[dict[str, Any]]  # id, ref, received_on, grading, summary (if readable)

    def as_json(self) -> dict[str, Any]:
        return {"institution": self.institution.as_json(), "referrals": self.referrals,
                "intelligence": self.intelligence}


def name_key(name: str) -> str:
    return fold(name)


def find_or_create(
    session: Session, vault: Vault, data: InstitutionInput
) -> tuple[Institution, bool]:
    """The register's entry for this name, or a new one; (row, created)."""
    name = require_text("institution.name", data.name, max_len=MAX_SHORT)
    key = name_key(name)
    if not key:
        raise ValidationError("institution.name", "must contain letters or digits")
    row = session.scalars(select(Institution).where(Institution.name_key == key)).first()
    if row is not None:
        return row, False
    lists = lists_for(session, vault)
    row = Institution(
        name=" ".join(name.split()),
        name_key=key,
        type=lists.check("institution_types", "institution.type", data.type),
        area=optional_text("institution.area", data.area, max_len=MAX_SHORT),
        created_at=utcnow(),
        created_by=vault.actor.user,
    )
    session.add(row)
    session.flush()
    vault.audit(session, Category.COLLECTION, "institution.add", entity="institution",
                ref=str(row.id))
    return row, True


class InstitutionService(Service):
    @requires(Perm.REFERRAL_WRITE)
    def add(self, data: InstitutionInput) -> InstitutionRow:
        """Record an institution; refused if one of that name is already registered."""
        with self.vault.write() as s:
            row, created = find_or_create(s, self.vault, data)
            if not created:
                raise ValidationError("institution.name", "is already in the register")
            return InstitutionRow(row.id, row.name, row.type, row.area)

    @requires(Perm.REFERRAL_WRITE)
    def update(self, institution_id: int, data: InstitutionInput, reason: str = "") -> None:
        with self.vault.write() as s:
            row = s.get(Institution, institution_id)
            if row is None:
                raise NotFound("There is no such institution.")
            lists = lists_for(s, self.vault)
            name = require_text("institution.name", data.name, max_len=MAX_SHORT)
            key = name_key(name)
            clash = s.scalar(select(Institution.id).where(Institution.name_key == key,
                                                          Institution.id != row.id))
            if clash is not None:
                raise ValidationError("institution.name", "another institution has that name")
            new = {"name": " ".join(name.split()),
                   "type": lists.check("institution_types", "institution.type", data.type),
                   "area": optional_text("institution.area", data.area, max_len=MAX_SHORT)}
            changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
            if not changes:
                return
            self.vault.revision(s, "institution", row.id, "update", changes, reason)
            for k, v in new.items():
                setattr(row, k, v)
            row.name_key = key
            self.vault.audit(s, Category.ALTERATION, "institution.update", entity="institution",
                             ref=str(row.id), reason=reason, detail={"fields": sorted(changes)})

    @requires(Perm.REFERRAL_READ)
    def search(self, text: str = "", type: str | None = None, area: str | None = None,
             limit: int = 500) -> list[InstitutionRow]:
        """The register with counts of linked referrals and intelligence, by name."""
        refs = (select(ReferralInstitution.institution_id, func.count().label("n"))
                .group_by(ReferralInstitution.institution_id).subquery())
        intel = (select(IntelInstitution.institution_id, func.count().label("n"))
                 .group_by(IntelInstitution.institution_id).subquery())
        stmt = (select(Institution, func.coalesce(refs.c.n, 0), func.coalesce(intel.c.n, 0))
                .outerjoin(refs, refs.c.institution_id == Institution.id)
                .outerjoin(intel, intel.c.institution_id == Institution.id)
                .order_by(Institution.name_key).limit(limit))
        if text.strip():
            stmt = stmt.where(Institution.name_key.like(
                "%" + fold(text).replace("%", "").replace("_", "") + "%"))
        if type:
            stmt = stmt.where(Institution.type == type)
        if area:
            stmt = stmt.where(Institution.area == area)
        with self.vault.read() as s:
            return [InstitutionRow(i.id, i.name, i.type, i.area, int(r), int(n))
                    for i, r, n in s.execute(stmt)]

    @requires(Perm.REFERRAL_READ)
    def find(self, name: str) -> InstitutionRow | None:
        with self.vault.read() as s:
            row = s.scalars(select(Institution).where(Institution.name_key == name_key(name))
                            ).first()
            return InstitutionRow(row.id, row.name, row.type, row.area) if row else None

    @requires(Perm.REFERRAL_READ)
    def institution_profile(self, institution_id: int) -> InstitutionProfile:
        """The institution with its referrals (newest first) and intelligence entries.

        Intelligence is listed only for roles that may read intelligence; others see the
        count. Viewing is audited as a consultation of the institution."""
        from app.domain.roles import allowed

        can_intel = allowed(self.vault.actor.role, Perm.INTEL_READ)
        with self.vault.write() as s:
            row = s.get(Institution, institution_id)
            if row is None:
                raise NotFound("There is no such institution.")
            refs = s.execute(
                select(Referral.id, Referral.ref, Referral.received_on, Referral.concern_type,
                       Referral.source_sector, Referral.stage, Referral.immediate_risk,
                       Person.surname, Person.forenames)
                .join(ReferralInstitution, ReferralInstitution.referral_id == Referral.id)
                .join(Person, Person.id == Referral.person_id)
                .where(ReferralInstitution.institution_id == row.id)
                .order_by(Referral.immediate_risk.desc(), Referral.received_on.desc())
            ).all()
            intel = s.execute(
                select(IntelEntry)
                .join(IntelInstitution, IntelInstitution.intel_id == IntelEntry.id)
                .where(IntelInstitution.institution_id == row.id)
                .order_by(IntelEntry.received_on.desc())
            ).scalars().all()
            self.vault.audit(s, Category.CONSULTATION, "institution.view", entity="institution",
                             ref=str(row.id))
            return InstitutionProfile(
                institution=InstitutionRow(row.id, row.name, row.type, row.area, len(refs),
                                           len(intel)),
                referrals=[{"id": r.id, "ref": r.ref, "received_on": r.received_on.isoformat(),
                            "concern_type": r.concern_type, "source_sector": r.source_sector,
                            "stage": r.stage, "immediate_risk": bool(r.immediate_risk),
                            "subject": r.surname.upper() + (f", {r.forenames}"
                                                            if r.forenames else "")}
                           for r in refs],
                intelligence=[{"id": e.id, "ref": e.ref, "received_on": e.received_on.isoformat(),
                               "grading": f"{e.source_evaluation}/{e.intelligence_assessment}/"
                                          f"{e.handling}", "summary": e.summary}
                              for e in intel] if can_intel else [],
            )

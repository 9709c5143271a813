"""The intelligence log: entries graded 3x5x2 (handling code C needs written conditions), linked
to referrals, people and institutions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.prevent import (
    Grading,
    Handling,
    IntelInput,
    most_restrictive_handling,
    parse_grading,
    validate_intel,
)
from app.domain.roles import Perm
from app.domain.text import clean_text
from app.security.audit import Category
from app.services.base import Service, requires
from app.store.models import (
    Institution,
    IntelEntry,
    IntelInstitution,
    IntelPerson,
    IntelReferral,
    Person,
    Referral,
    utcnow,
)

__all__ = [
    "IntelFilter",
    "IntelRecord",
    "IntelRow",
    "IntelligenceService",
    "intel_ref",
    "most_restrictive_handling",
]


def intel_ref(entry_id: int) -> str:
    return f"IN-{entry_id:06d}"


@dataclass(frozen=True)
class IntelRow:
    """A list line: the grading code (``2/B/C``) and the handling are always shown."""

    id: int
    ref: str
    received_on: date
    grading: str
    handling: str
    summary: str
    referral_refs: list[str]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IntelRecord:
    id: int
    ref: str
    received_on: date
    summary: str
    grading: Grading
    source_reference: str
    referrals: list[dict[str, Any]]  # id, ref
    people: list[dict[str, Any]]  # id, surname, forenames, dob
    institutions: list[dict[str, Any]]  # id, name, type, area
    recorded_at: datetime
    recorded_by: str

    @property
    def grading_code(self) -> str:
        return self.grading.code

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "ref": self.ref, "received_on": self.received_on.isoformat(),
            "summary": self.summary, "grading": self.grading.code,
            "handling": self.grading.handling.value, "conditions": self.grading.conditions,
            "source_reference": self.source_reference, "referrals": self.referrals,
            "people": self.people, "institutions": self.institutions,
        }


@dataclass(frozen=True)
class IntelFilter:
    referral_id: int | None = None
    person_id: int | None = None
    institution_id: int | None = None
    handling: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    text: str = ""


def _grading(e: IntelEntry) -> Grading:
    return parse_grading(e.source_evaluation, e.intelligence_assessment, e.handling, e.conditions)


def _check_links(s: Session, data: IntelInput) -> None:
    for name, model, ids in (("referrals", Referral, data.referral_ids),
                             ("people", Person, data.person_ids),
                             ("institutions", Institution, data.institution_ids)):
        for i, x in enumerate(ids):
            if s.get(model, x) is None:
                raise ValidationError(f"{name}[{i}]", "is not a known record")


class IntelligenceService(Service):
    """Analysts read and write the log; other roles see none of it."""

    @requires(Perm.INTEL_WRITE)
    def add(self, data: IntelInput, *, today: date | None = None) -> IntelRecord:
        today = today or date.today()
        clean, _grading_ = validate_intel(data, today)
        with self.vault.write() as s:
            _check_links(s, clean)
            assert clean.received_on is not None
            e = IntelEntry(
                ref="", received_on=clean.received_on, summary=clean.summary,
                source_evaluation=clean.source_evaluation,
                intelligence_assessment=clean.intelligence_assessment,
                handling=clean.handling, conditions=clean.conditions,
                source_reference=clean.source_reference,
                recorded_at=utcnow(), recorded_by=self.vault.actor.user,
            )
            s.add(e)
            s.flush()
            e.ref = intel_ref(e.id)
            self._link(s, e.id, clean)
            self.vault.audit(s, Category.COLLECTION, "intel.add", entity="intel", ref=e.ref,
                             detail={"grading": f"{e.source_evaluation}/"
                                     f"{e.intelligence_assessment}/{e.handling}"})
            return self._record(s, e)

    def _link(self, s: Session, intel_id: int, data: IntelInput) -> None:
        for rid in data.referral_ids:
            s.add(IntelReferral(intel_id=intel_id, referral_id=rid))
        for pid in data.person_ids:
            s.add(IntelPerson(intel_id=intel_id, person_id=pid))
        for iid in data.institution_ids:
            s.add(IntelInstitution(intel_id=intel_id, institution_id=iid))

    @requires(Perm.INTEL_WRITE)
    def regrade(self, entry: int | str, source: str, intelligence: str, handling: str,
                conditions: str, reason: str) -> IntelRecord:
        """Change an entry's grading (a source re-evaluated, conditions lifted); kept as a
        revision with the reason."""
        reason = clean_text(reason, "reason", 2000, required=True, multiline=True,
                            required_message="say why the grading changes")
        g = parse_grading(source, intelligence, handling, conditions)
        with self.vault.write() as s:
            e = self._get(s, entry)
            new = {"source_evaluation": g.source.value,
                   "intelligence_assessment": g.intelligence.value,
                   "handling": g.handling.value,
                   "conditions": g.conditions if g.handling is Handling.C else ""}
            changes = {k: (getattr(e, k), v) for k, v in new.items() if getattr(e, k) != v}
            if changes:
                self.vault.revision(s, "intel_entry", e.id, "update", changes, reason)
                for k, v in new.items():
                    setattr(e, k, v)
                self.vault.audit(s, Category.ALTERATION, "intel.regrade", entity="intel",
                                 ref=e.ref, reason=reason, detail={"grading": g.code})
            return self._record(s, e)

    @requires(Perm.INTEL_WRITE)
    def link(self, entry: int | str, *, referral_ids: Sequence[int] = (),
             person_ids: Sequence[int] = (), institution_ids: Sequence[int] = ()) -> None:
        with self.vault.write() as s:
            e = self._get(s, entry)
            data = IntelInput(summary="-", source_evaluation="1", intelligence_assessment="A",
                              handling="P", referral_ids=referral_ids, person_ids=person_ids,
                              institution_ids=institution_ids)
            _check_links(s, data)
            have_r = set(s.scalars(select(IntelReferral.referral_id)
                                   .where(IntelReferral.intel_id == e.id)))
            have_p = set(s.scalars(select(IntelPerson.person_id)
                                   .where(IntelPerson.intel_id == e.id)))
            have_i = set(s.scalars(select(IntelInstitution.institution_id)
                                   .where(IntelInstitution.intel_id == e.id)))
            self._link(s, e.id, IntelInput(
                summary="-", source_evaluation="1", intelligence_assessment="A", handling="P",
                referral_ids=[x for x in dict.fromkeys(referral_ids) if x not in have_r],
                person_ids=[x for x in dict.fromkeys(person_ids) if x not in have_p],
                institution_ids=[x for x in dict.fromkeys(institution_ids) if x not in have_i]))
            self.vault.audit(s, Category.ALTERATION, "intel.link", entity="intel", ref=e.ref,
                             detail={"referrals": list(referral_ids), "people": list(person_ids),
                                     "institutions": list(institution_ids)})

    def _get(self, s: Session, entry: int | str) -> IntelEntry:
        if isinstance(entry, int):
            e = s.get(IntelEntry, entry)
        else:
            e = s.scalars(select(IntelEntry).where(IntelEntry.ref == entry.strip().upper())
                          ).first()
        if e is None:
            raise NotFound("There is no intelligence entry with that reference.")
        return e

    def _record(self, s: Session, e: IntelEntry) -> IntelRecord:
        refs = s.execute(select(Referral.id, Referral.ref)
                         .join(IntelReferral, IntelReferral.referral_id == Referral.id)
                         .where(IntelReferral.intel_id == e.id).order_by(Referral.id)).all()
        people = s.execute(select(Person.id, Person.surname, Person.forenames, Person.dob)
                           .join(IntelPerson, IntelPerson.person_id == Person.id)
                           .where(IntelPerson.intel_id == e.id).order_by(Person.id)).all()
        insts = s.execute(select(Institution.id, Institution.name, Institution.type,
                                 Institution.area)
                          .join(IntelInstitution, IntelInstitution.institution_id
                                == Institution.id)
                          .where(IntelInstitution.intel_id == e.id)
                          .order_by(Institution.name)).all()
        return IntelRecord(
            id=e.id, ref=e.ref, received_on=e.received_on, summary=e.summary,
            grading=_grading(e), source_reference=e.source_reference,
            referrals=[{"id": r.id, "ref": r.ref} for r in refs],
            people=[{"id": p.id, "surname": p.surname, "forenames": p.forenames,
                     "dob": p.dob.isoformat() if p.dob else None} for p in people],
            institutions=[{"id": i.id, "name": i.name, "type": i.type, "area": i.area}
                          for i in insts],
            recorded_at=e.recorded_at, recorded_by=e.recorded_by,
        )

    @requires(Perm.INTEL_READ)
    def show(self, entry: int | str) -> IntelRecord:
        with self.vault.write() as s:
            e = self._get(s, entry)
            self.vault.audit(s, Category.CONSULTATION, "intel.view", entity="intel", ref=e.ref)
            return self._record(s, e)

    @requires(Perm.INTEL_READ)
    def rows(self, flt: IntelFilter = IntelFilter(), offset: int = 0,
             limit: int = 500) -> list[IntelRow]:
        """The log, newest first, each with its grading code and linked referral refs."""
        stmt = select(IntelEntry)
        if flt.referral_id is not None:
            stmt = stmt.where(IntelEntry.id.in_(select(IntelReferral.intel_id).where(
                IntelReferral.referral_id == flt.referral_id)))
        if flt.person_id is not None:
            stmt = stmt.where(IntelEntry.id.in_(select(IntelPerson.intel_id).where(
                IntelPerson.person_id == flt.person_id)))
        if flt.institution_id is not None:
            stmt = stmt.where(IntelEntry.id.in_(select(IntelInstitution.intel_id).where(
                IntelInstitution.institution_id == flt.institution_id)))
        if flt.handling:
            stmt = stmt.where(IntelEntry.handling == flt.handling.upper())
        if flt.received_from:
            stmt = stmt.where(IntelEntry.received_on >= flt.received_from)
        if flt.received_to:
            stmt = stmt.where(IntelEntry.received_on <= flt.received_to)
        if flt.text.strip():
            like = "%" + flt.text.strip().replace("%", "").replace("_", "") + "%"
            stmt = stmt.where(IntelEntry.summary.like(like) | IntelEntry.ref.like(like))
        stmt = stmt.order_by(IntelEntry.received_on.desc(), IntelEntry.id.desc())
        with self.vault.write() as s:
            entries = s.scalars(stmt.offset(offset).limit(limit)).all()
            links: dict[int, list[str]] = {}
            ids = [e.id for e in entries]
            if ids:
                for iid, ref in s.execute(
                    select(IntelReferral.intel_id, Referral.ref)
                    .join(Referral, Referral.id == IntelReferral.referral_id)
                    .where(IntelReferral.intel_id.in_(ids)).order_by(Referral.ref)
                ):
                    links.setdefault(iid, []).append(ref)
            self.vault.audit(s, Category.CONSULTATION, "intel.list", entity="intel",
                             detail={"rows": len(entries)})
            return [IntelRow(e.id, e.ref, e.received_on,
                             f"{e.source_evaluation}/{e.intelligence_assessment}/{e.handling}",
                             e.handling, e.summary, links.get(e.id, [])) for e in entries]

    @requires(Perm.INTEL_READ)
    def export_handling(self, entries: Iterable[int | str]) -> Handling | None:
        """The most restrictive handling code among ``entries`` (for an export's marking)."""
        with self.vault.read() as s:
            return most_restrictive_handling(self._get(s, x).handling for x in entries)

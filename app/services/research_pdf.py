"""Research summaries: the chosen referrals, intelligence and people with the analyst's
narrative, gathered for a PDF that is marked, escaped, written atomically and audited as a
disclosure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.domain.errors import NotAllowed, NotFound, ValidationError
from app.domain.prevent import Handling, most_restrictive_handling, optional_text
from app.domain.roles import Perm, allowed
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.referrals import get_referral, lists_for
from app.store.models import (
    Institution,
    IntelEntry,
    Nominal,
    Person,
    ReferralInstitution,
)

__all__ = ["ResearchService", "ResearchSummary", "build_research_pdf"]


@dataclass(frozen=True)
class ResearchSummary:
    """Everything the PDF prints, already resolved to labels (no session needed to render)."""

    narrative: str
    referrals: list[dict[str, Any]]  # ref, received, sector, concern, stage, outcome, subject...
    intelligence: list[dict[str, Any]]  # ref, received_on, grading, handling, conditions, summary
    people: list[dict[str, Any]]  # kind, ref, surname, forenames, dob
    handling: Handling | None  # the most restrictive handling code of the intelligence
    generated_by: str
    generated_at: datetime = field(default_factory=datetime.now)

    @property
    def refs(self) -> dict[str, list[str]]:
        return {"referrals": [r["ref"] for r in self.referrals],
                "intelligence": [i["ref"] for i in self.intelligence],
                "people": [p["ref"] for p in self.people]}


class ResearchService(Service):
    @requires(Perm.REFERRAL_READ)
    def research_summary_data(
        self,
        referral_ids: Sequence[int | str],
        intel_ids: Sequence[int | str],
        person_refs: Sequence[int | str],
        narrative: str,
    ) -> ResearchSummary:
        """Gather the chosen records. ``person_refs``: referral-subject ids (int) or nominal
        refs ("NM-000123"). Reading them is audited as a consultation."""
        narrative = optional_text("narrative", narrative)
        if not narrative:
            raise ValidationError("narrative", "write the research narrative")
        if intel_ids and not allowed(self.vault.actor.role, Perm.INTEL_READ):
            raise NotAllowed(f"Your role ({self.vault.actor.role.value}) may not read "
                             "intelligence.")
        with self.vault.write() as s:
            lists = lists_for(s, self.vault)
            referrals = []
            for x in dict.fromkeys(referral_ids):
                r = get_referral(s, x)
                p = s.get(Person, r.person_id)
                assert p is not None
                insts = list(s.scalars(select(Institution.name).join(
                    ReferralInstitution, ReferralInstitution.institution_id == Institution.id)
                    .where(ReferralInstitution.referral_id == r.id).order_by(Institution.name)))
                referrals.append({
                    "ref": r.ref, "received": r.received_at,
                    "sector": lists.label("source_sectors", r.source_sector),
                    "concern": lists.label("concern_types", r.concern_type),
                    "stage": r.stage, "outcome": lists.label("outcomes", r.outcome) or None,
                    "subject": p.surname.upper() + (f", {p.forenames}" if p.forenames else ""),
                    "dob": p.dob, "institutions": ", ".join(insts), "summary": r.summary,
                    "immediate_risk": r.immediate_risk,
                })
            intelligence = []
            for x in dict.fromkeys(intel_ids):
                e = (s.get(IntelEntry, x) if isinstance(x, int) else
                     s.scalars(select(IntelEntry).where(IntelEntry.ref == x.upper())).first())
                if e is None:
                    raise NotFound("There is no intelligence entry with that reference.")
                intelligence.append({
                    "ref": e.ref, "received_on": e.received_on,
                    "grading": f"{e.source_evaluation}/{e.intelligence_assessment}/{e.handling}",
                    "handling": e.handling, "conditions": e.conditions, "summary": e.summary,
                })
            people = []
            for x in dict.fromkeys(person_refs):
                if isinstance(x, int):
                    p = s.get(Person, x)
                    if p is None:
                        raise NotFound("There is no such referral subject.")
                    people.append({"kind": "Referral subject", "ref": f"person {p.id}",
                                   "surname": p.surname, "forenames": p.forenames, "dob": p.dob})
                else:
                    n = s.scalars(select(Nominal).where(Nominal.ref == x.strip().upper())).first()
                    if n is None:
                        raise NotFound("There is no nominal with that reference.")
                    people.append({"kind": "Nominal", "ref": n.ref, "surname": n.surname,
                                   "forenames": n.forenames, "dob": n.dob})
            summary = ResearchSummary(
                narrative=narrative, referrals=referrals, intelligence=intelligence,
                people=people,
                handling=most_restrictive_handling(str(i["handling"]) for i in intelligence),
                generated_by=self.vault.actor.user,
            )
            self.vault.audit(s, Category.CONSULTATION, "research.gather", entity="research",
                             detail=summary.refs)
            return summary

    @requires(Perm.EXPORT)
    def export_pdf(self, summary: ResearchSummary, out: Path, *, title: str, recipient: str,
                   justification: str, progress: Any = None) -> Any:
        """Write the research summary PDF atomically and audit it as a disclosure."""
        from app.io.safe_write import atomic_export

        recipient = optional_text("recipient", recipient, max_len=500)
        justification = optional_text("justification", justification, max_len=2000)
        if not recipient:
            raise ValidationError("recipient", "say who will receive the summary")
        if not justification:
            raise ValidationError("justification", "say why it is being disclosed")
        title = optional_text("title", title, max_len=120) or "Research summary"

        def write(stream: Any, sink: Any) -> None:
            build_research_pdf(stream, summary, title=title, author=self.vault.actor.user,
                               recipient=recipient, progress=sink)

        result = atomic_export(out, write, progress=progress)
        with self.vault.write() as s:
            self.vault.audit(
                s, Category.DISCLOSURE, "export.research", entity="research",
                reason=justification, recipient=recipient,
                detail={"file": result.path.name, "sha256": result.sha256,
                        "handling": summary.handling.value if summary.handling else None,
                        **summary.refs},
            )
        return result


def build_research_pdf(target: Any, summary: ResearchSummary, *, title: str, author: str,
                       recipient: str, progress: Any = None, invariant: bool = False) -> int:
    """Lay out the summary (every value escaped by the pdf helpers); returns the page count."""
    from reportlab.platypus import Paragraph, Spacer

    from app.io.marking import DocumentInfo
    from app.io.pdf import MM, build_pdf, data_table, esc, kv_table, section, title_block

    info = DocumentInfo(title=title, author=author, generated_at=summary.generated_at)

    def story(st: Any) -> list[Any]:
        flow: list[Any] = [*title_block(info)]
        handling = summary.handling
        facts: list[tuple[str, object]] = [
            ("Prepared for", recipient),
            ("Referrals", len(summary.referrals)),
            ("Intelligence entries", len(summary.intelligence)),
            ("People", len(summary.people)),
            ("Handling", "C: sharing only under the conditions listed below"
             if handling is Handling.C else "P: lawful sharing permitted"
             if handling is Handling.P else "No graded intelligence included"),
        ]
        flow.append(kv_table(facts))
        flow += section("Narrative")
        for para in summary.narrative.split("\n\n"):
            flow.append(Paragraph(esc(para.strip()), st.body))
            flow.append(Spacer(1, 2 * MM))
        if summary.referrals:
            flow += section("Referrals")
            flow.append(data_table(
                ["Ref", "Received", "Subject", "Sector", "Concern", "Outcome"],
                [(r["ref"] + (" (immediate risk)" if r["immediate_risk"] else ""),
                  r["received"].date(), r["subject"], r["sector"], r["concern"],
                  r["outcome"] or r["stage"].capitalize()) for r in summary.referrals],
                [24 * MM, 22 * MM, 36 * MM, 24 * MM, 32 * MM, 32 * MM]))
            for r in summary.referrals:
                flow.append(Spacer(1, 2 * MM))
                flow.append(Paragraph(esc(f"{r['ref']}: {r['summary']}"), st.body))
                if r["institutions"]:
                    flow.append(Paragraph(esc(f"Institutions: {r['institutions']}"), st.small))
        if summary.intelligence:
            flow += section("Intelligence")
            flow.append(data_table(
                ["Ref", "Received", "Grading", "Summary"],
                [(i["ref"], i["received_on"], i["grading"], i["summary"])
                 for i in summary.intelligence],
                [24 * MM, 22 * MM, 18 * MM, 106 * MM]))
            conditions = [i for i in summary.intelligence if i["handling"] == "C"]
            if conditions:
                flow += section("Handling conditions")
                flow.append(kv_table([(i["ref"], i["conditions"]) for i in conditions]))
        if summary.people:
            flow += section("People")
            flow.append(data_table(
                ["Record", "Ref", "Surname", "Forenames", "Date of birth"],
                [(p["kind"], p["ref"], p["surname"], p["forenames"], p["dob"])
                 for p in summary.people],
                [32 * MM, 26 * MM, 40 * MM, 44 * MM, 28 * MM]))
        return flow

    return build_pdf(target, info, story, progress, invariant=invariant)

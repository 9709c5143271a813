"""Gateway assessments, NDM decision records and versioned VAF assessments with comparison."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from app.domain.errors import NotFound, ValidationError
from app.domain.prevent import (
    CheckMade,
    GatewayInput,
    NdmInput,
    Stage,
    VafInput,
    VafTemplate,
    parse_vaf_template,
    validate_gateway,
    validate_vaf,
)
from app.domain.roles import Perm
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.reference import current_in
from app.services.referrals import (
    DecisionRecord,
    add_decision,
    decision_record,
    get_referral,
)
from app.store.models import GatewayAssessment, NdmDecision, VafAssessment, utcnow

__all__ = [
    "AssessmentService",
    "FieldChange",
    "GatewayRecord",
    "VafComparison",
    "VafVersion",
]

_LEVEL_FIELDS = ("threat", "risk", "vulnerability")


@dataclass(frozen=True)
class GatewayRecord:
    id: int
    referral_ref: str
    checks: list[CheckMade]
    ct_risk: str
    immediate_risk: bool
    criminality: bool
    refer_to_pursue: bool
    notes: str
    decision: DecisionRecord
    recorded_at: datetime
    recorded_by: str

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["checks"] = [
            {"system": c.system, "searched_on": c.searched_on.isoformat(), "result": c.result}
            for c in self.checks
        ]
        d["decision"] = self.decision.as_json()
        d["recorded_at"] = self.recorded_at.isoformat(timespec="seconds")
        return d


@dataclass(frozen=True)
class VafVersion:
    """One stored version of a referral's VAF assessment."""

    id: int
    referral_ref: str
    version: int
    template_version: str
    factors: dict[str, tuple[str, str]]  # code -> (rating, rationale)
    threat: str
    threat_rationale: str
    risk: str
    risk_rationale: str
    vulnerability: str
    vulnerability_rationale: str
    change_reason: str
    assessed_on: date
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class FieldChange:
    """One difference between two versions: what it was, what it is, and why (the newer
    version's rationale for that field)."""

    field: str  # "threat", "factors.grievance", ...
    label: str
    old: str | None
    new: str | None
    old_rationale: str
    new_rationale: str
    rationale_changed: bool


@dataclass(frozen=True)
class VafComparison:
    older: int
    newer: int
    change_reason: str  # why the newer version was made
    changes: list[FieldChange]  # rating changes first (levels, then factors), then rationale-only
    template_changed: bool


def _vaf_version(row: VafAssessment, ref: str) -> VafVersion:
    raw = json.loads(row.factors)
    return VafVersion(
        id=row.id,
        referral_ref=ref,
        version=row.version,
        template_version=row.template_version,
        factors={k: (str(v["rating"]), str(v["rationale"])) for k, v in raw.items()},
        threat=row.threat,
        threat_rationale=row.threat_rationale,
        risk=row.risk,
        risk_rationale=row.risk_rationale,
        vulnerability=row.vulnerability,
        vulnerability_rationale=row.vulnerability_rationale,
        change_reason=row.change_reason,
        assessed_on=row.assessed_on,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


def compare_versions(
    older: VafVersion, newer: VafVersion, template: VafTemplate | None = None
) -> VafComparison:
    """What changed from ``older`` to ``newer``, and why (pure: no vault needed)."""
    if older.version > newer.version:
        older, newer = newer, older
    labels: dict[str, str] = {}
    order: list[str] = []
    if template is not None:
        for f in template.factors:
            labels[f.code] = f"{f.number}. {f.label}"
            order.append(f.code)
    for code in sorted(set(older.factors) | set(newer.factors)):
        if code not in labels:
            labels[code] = code.replace("_", " ").capitalize()
            order.append(code)
    rated: list[FieldChange] = []
    reworded: list[FieldChange] = []
    for name in _LEVEL_FIELDS:
        o, n = getattr(older, name), getattr(newer, name)
        orat, nrat = getattr(older, f"{name}_rationale"), getattr(newer, f"{name}_rationale")
        change = FieldChange(name, name.capitalize(), o, n, orat, nrat, orat != nrat)
        if o != n:
            rated.append(change)
        elif orat != nrat:
            reworded.append(change)
    for code in order:
        o_r, o_t = older.factors.get(code, (None, ""))
        n_r, n_t = newer.factors.get(code, (None, ""))
        change = FieldChange(f"factors.{code}", labels[code], o_r, n_r, o_t, n_t, o_t != n_t)
        if o_r != n_r:
            rated.append(change)
        elif o_t != n_t:
            reworded.append(change)
    return VafComparison(
        older=older.version,
        newer=newer.version,
        change_reason=newer.change_reason,
        changes=rated + reworded,
        template_changed=older.template_version != newer.template_version,
    )


class AssessmentService(Service):
    """Gateway assessment, NDM decisions and VAF assessments of referrals."""

    # -- gateway -------------------------------------------------------------------------
    @requires(Perm.REFERRAL_WRITE)
    def record_gateway(
        self, referral: int | str, gateway: GatewayInput, decision: NdmInput,
        *, today: date | None = None,
    ) -> GatewayRecord:
        """The gateway assessment and its NDM decision; stops the clock (stage Decision)."""
        today = today or date.today()
        clean = validate_gateway(gateway, today)
        with self.vault.write() as s:
            row = get_referral(s, referral)
            if row.stage not in (Stage.NEW.value, Stage.GATEWAY.value):
                raise ValidationError("stage", "the gateway decision is already recorded")
            for i, c in enumerate(clean.checks):
                if c.searched_on < row.received_on:
                    raise ValidationError(f"checks[{i}].searched_on",
                                          "must not be before the referral was received")
            rec = add_decision(s, self.vault, row, "gateway", decision, today)
            g = GatewayAssessment(
                referral_id=row.id,
                checks=json.dumps([{"system": c.system, "searched_on": c.searched_on.isoformat(),
                                    "result": c.result} for c in clean.checks],
                                  ensure_ascii=False),
                ct_risk=clean.ct_risk,
                immediate_risk=clean.immediate_risk,
                criminality=clean.criminality,
                refer_to_pursue=clean.refer_to_pursue,
                notes=clean.notes,
                decision_id=rec.id,
                recorded_at=utcnow(),
                recorded_by=self.vault.actor.user,
            )
            s.add(g)
            s.flush()
            changes: dict[str, tuple[Any, Any]] = {
                "stage": (row.stage, Stage.DECISION.value),
                "decided_on": (row.decided_on, rec.decided_on),
            }
            if clean.immediate_risk and not row.immediate_risk:
                changes["immediate_risk"] = (False, True)
                row.immediate_risk = True
            self.vault.revision(s, "referral", row.id, "update", changes,
                                reason="gateway assessment")
            row.stage = Stage.DECISION.value
            row.decided_on = rec.decided_on
            row.updated_at, row.updated_by = utcnow(), self.vault.actor.user
            self.vault.audit(s, Category.COLLECTION, "gateway.add", entity="referral",
                             ref=row.ref, detail={"gateway_id": g.id, "ct_risk": g.ct_risk,
                                                  "refer_to_pursue": g.refer_to_pursue})
            return self._gateway(g, row.ref, rec)

    def _gateway(self, g: GatewayAssessment, ref: str, d: NdmDecision) -> GatewayRecord:
        checks = [CheckMade(c["system"], date.fromisoformat(c["searched_on"]), c["result"])
                  for c in json.loads(g.checks)]
        return GatewayRecord(g.id, ref, checks, g.ct_risk, g.immediate_risk, g.criminality,
                             g.refer_to_pursue, g.notes, decision_record(d), g.recorded_at,
                             g.recorded_by)

    @requires(Perm.REFERRAL_READ)
    def gateway(self, referral: int | str) -> GatewayRecord | None:
        with self.vault.write() as s:
            row = get_referral(s, referral)
            g = s.scalars(select(GatewayAssessment).where(GatewayAssessment.referral_id == row.id)
                          .order_by(GatewayAssessment.id.desc())).first()
            if g is None:
                return None
            d = s.get(NdmDecision, g.decision_id)
            assert d is not None
            self.vault.audit(s, Category.CONSULTATION, "gateway.view", entity="referral",
                             ref=row.ref)
            return self._gateway(g, row.ref, d)

    # -- NDM decisions -------------------------------------------------------------------
    @requires(Perm.REFERRAL_WRITE)
    def record_decision(
        self, referral: int | str, decision: NdmInput, *, kind: str = "other",
        today: date | None = None,
    ) -> DecisionRecord:
        """Any further decision on a referral (a review, a change of plan) in NDM form."""
        if kind not in ("other", "review", "closure"):
            raise ValidationError("kind", "must be other, review or closure")
        with self.vault.write() as s:
            row = get_referral(s, referral)
            rec = add_decision(s, self.vault, row, kind, decision, today or date.today())
            return decision_record(rec)

    @requires(Perm.REFERRAL_READ)
    def decisions(self, referral: int | str) -> list[DecisionRecord]:
        with self.vault.write() as s:
            row = get_referral(s, referral)
            rows = s.scalars(select(NdmDecision).where(NdmDecision.referral_id == row.id)
                             .order_by(NdmDecision.decided_on, NdmDecision.id)).all()
            self.vault.audit(s, Category.CONSULTATION, "ndm.view", entity="referral",
                             ref=row.ref)
            return [decision_record(d) for d in rows]

    # -- VAF -----------------------------------------------------------------------------
    @requires(Perm.REFERRAL_READ)
    def vaf_template(self, version: str | None = None) -> VafTemplate:
        """The current VAF template, or the stored one of a given version."""
        with self.vault.write() as s:
            return self._template(s, version)

    def _template(self, s: Any, version: str | None) -> VafTemplate:
        current = parse_vaf_template(current_in(s, self.vault, "vaf_template"))
        if version is None or version == current.version:
            return current
        from app.store.models import ReferenceData

        data = s.scalar(select(ReferenceData.data).where(ReferenceData.name == "vaf_template",
                                                         ReferenceData.version == version))
        if data is None:
            raise NotFound("That VAF template version is not held in this vault.")
        return parse_vaf_template(json.loads(data))

    @requires(Perm.REFERRAL_WRITE)
    def add_vaf(self, referral: int | str, data: VafInput,
                *, today: date | None = None) -> VafVersion:
        """A new version of the referral's VAF assessment (earlier versions are kept as they
        were). From version 2 on, ``change_reason`` must say why it changed."""
        today = today or date.today()
        with self.vault.write() as s:
            row = get_referral(s, referral)
            template = self._template(s, None)
            last = int(s.scalar(select(func.max(VafAssessment.version))
                                .where(VafAssessment.referral_id == row.id)) or 0)
            clean = validate_vaf(data, template, today, first=last == 0)
            if clean.assessed_on < row.received_on:
                raise ValidationError("assessed_on", "must not be before the referral was received")
            v = VafAssessment(
                referral_id=row.id,
                version=last + 1,
                template_version=template.version,
                factors=json.dumps({k: {"rating": r, "rationale": t}
                                    for k, (r, t) in clean.factors.items()}, ensure_ascii=False),
                threat=clean.threat, threat_rationale=clean.threat_rationale,
                risk=clean.risk, risk_rationale=clean.risk_rationale,
                vulnerability=clean.vulnerability,
                vulnerability_rationale=clean.vulnerability_rationale,
                change_reason=clean.change_reason,
                assessed_on=clean.assessed_on,
                recorded_at=utcnow(),
                recorded_by=self.vault.actor.user,
            )
            s.add(v)
            s.flush()
            self.vault.audit(s, Category.COLLECTION, "vaf.add", entity="referral", ref=row.ref,
                             detail={"version": v.version, "template": v.template_version})
            return _vaf_version(v, row.ref)

    @requires(Perm.REFERRAL_READ)
    def vaf_versions(self, referral: int | str) -> list[VafVersion]:
        """Every version, oldest first."""
        with self.vault.write() as s:
            row = get_referral(s, referral)
            rows = s.scalars(select(VafAssessment).where(VafAssessment.referral_id == row.id)
                             .order_by(VafAssessment.version)).all()
            self.vault.audit(s, Category.CONSULTATION, "vaf.view", entity="referral",
                             ref=row.ref)
            return [_vaf_version(v, row.ref) for v in rows]

    @requires(Perm.REFERRAL_READ)
    def compare(self, older: VafVersion | int, newer: VafVersion | int) -> VafComparison:
        """What changed between two versions (objects, or their ids) and why."""
        with self.vault.write() as s:
            a, b = (self._load_version(s, x) for x in (older, newer))
            if a.referral_ref != b.referral_ref:
                raise ValidationError("versions", "compare two versions of the same referral")
            template = self._template(s, b.template_version)
            return compare_versions(a, b, template)

    def _load_version(self, s: Any, v: VafVersion | int) -> VafVersion:
        if isinstance(v, VafVersion):
            return v
        row = s.get(VafAssessment, v)
        if row is None:
            raise NotFound("There is no such VAF assessment.")
        from app.services.referrals import referral_ref

        return _vaf_version(row, referral_ref(row.referral_id))

"""Prevent tables: referrals and their subjects, institutions, gateway assessments, NDM decisions,
VAF assessments (versioned), closure reviews and graded intelligence."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models.base import Base, utcnow


class Person(Base):
    """A referral subject. May be a known nominal (``nominal_id``); display keeps what was typed."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    surname: Mapped[str] = mapped_column(String(200))
    forenames: Mapped[str] = mapped_column(String(200), default="")
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)
    nominal_id: Mapped[int | None] = mapped_column(ForeignKey("nominal.id"), nullable=True)
    # Phonetic keys of the first surname and forename token (canonical, so Mohamed = Muhammad):
    # the duplicate check's blocking keys, indexed.
    surname_key: Mapped[str] = mapped_column(String(32), default="")
    forename_key: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_person_surname_key", "surname_key"),
        Index("ix_person_forename_key", "forename_key"),
        Index("ix_person_dob", "dob"),
        Index("ix_person_nominal", "nominal_id"),
    )


class Institution(Base):
    """A school, college, place of worship, gym, prison...: recorded once (unique name key)."""

    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)  # folded name
    type: Mapped[str] = mapped_column(String(32))
    area: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class Referral(Base):
    """A Prevent referral. ``received_on`` / ``received_month`` / ``age_at_referral`` are stored
    so the pattern counts are plain GROUP BYs on any database (no date functions in SQL)."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    received_on: Mapped[date] = mapped_column(Date)
    received_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    referrer_name: Mapped[str] = mapped_column(String(200), default="")
    referrer_organisation: Mapped[str] = mapped_column(String(200), default="")
    source_sector: Mapped[str] = mapped_column(String(32))
    concern_type: Mapped[str] = mapped_column(String(48))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    age_at_referral: Mapped[int | None] = mapped_column(Integer, nullable=True)
    area: Mapped[str] = mapped_column(String(100), default="")
    summary: Mapped[str] = mapped_column(Text)
    immediate_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str] = mapped_column(String(16), default="new")
    target_due: Mapped[date] = mapped_column(Date)
    target_working_days: Mapped[int] = mapped_column(Integer, default=5)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(48), nullable=True)
    signposted_to: Mapped[str | None] = mapped_column(String(32), nullable=True)
    outcome_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_referral_received_on", "received_on"),
        Index("ix_referral_queue", "stage", "immediate_risk", "target_due"),
        Index("ix_referral_person", "person_id"),
        Index("ix_referral_closed", "closed_on"),
        # Pattern breakdowns: one index per grouped column, leading with it and covering the
        # filter columns, so each GROUP BY streams over a small index in group order (no
        # temporary sort, no wide table pages to decrypt). See app/services/patterns.py.
        Index("ix_referral_by_concern", "concern_type", "received_on", "source_sector"),
        Index("ix_referral_by_sector", "source_sector", "received_on", "concern_type"),
        Index("ix_referral_by_area", "area", "received_on", "concern_type", "source_sector"),
        Index("ix_referral_by_month", "received_month", "received_on", "concern_type",
              "source_sector"),
        Index("ix_referral_by_age", "age_at_referral", "received_on", "concern_type",
              "source_sector"),
        # The institution breakdown's join looks referrals up by id in this covering index.
        Index("ix_referral_by_id", "id", "received_on", "concern_type", "source_sector"),
    )


class ReferralInstitution(Base):
    __tablename__ = "referral_institution"

    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), primary_key=True)

    __table_args__ = (Index("ix_referral_institution_inst", "institution_id", "referral_id"),)


class ReferralNote(Base):
    """An attachment kept as text (a referral form's content, an email, a partner's note)."""

    __tablename__ = "referral_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    title: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_referral_note_referral", "referral_id"),)


class NdmDecision(Base):
    """A National Decision Model decision record (with HRA necessity and proportionality)."""

    __tablename__ = "ndm_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    kind: Mapped[str] = mapped_column(String(16))  # gateway | outcome | closure | other
    information: Mapped[str] = mapped_column(Text)
    assessment: Mapped[str] = mapped_column(Text)
    powers: Mapped[str] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    code_of_ethics: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text)
    necessity: Mapped[str] = mapped_column(Text)
    proportionality: Mapped[str] = mapped_column(Text)
    decision_maker: Mapped[str] = mapped_column(String(200))
    decided_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_ndm_decision_referral", "referral_id", "decided_on"),)


class GatewayAssessment(Base):
    __tablename__ = "gateway_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    checks: Mapped[str] = mapped_column(Text)  # JSON [{system, searched_on, result}]
    ct_risk: Mapped[str] = mapped_column(String(8))
    immediate_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    criminality: Mapped[bool] = mapped_column(Boolean, default=False)
    refer_to_pursue: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    decision_id: Mapped[int] = mapped_column(ForeignKey("ndm_decision.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_gateway_assessment_referral", "referral_id"),)


class VafAssessment(Base):
    """One version of a vulnerability assessment; a new version never overwrites an older one."""

    __tablename__ = "vaf_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    version: Mapped[int] = mapped_column(Integer)
    template_version: Mapped[str] = mapped_column(String(32))
    factors: Mapped[str] = mapped_column(Text)  # JSON {code: {"rating", "rationale"}}
    threat: Mapped[str] = mapped_column(String(8))
    threat_rationale: Mapped[str] = mapped_column(Text)
    risk: Mapped[str] = mapped_column(String(8))
    risk_rationale: Mapped[str] = mapped_column(Text)
    vulnerability: Mapped[str] = mapped_column(String(8))
    vulnerability_rationale: Mapped[str] = mapped_column(Text)
    change_reason: Mapped[str] = mapped_column(Text, default="")
    assessed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (UniqueConstraint("referral_id", "version", name="referral_version"),)


class ReferralReview(Base):
    """A review after closure (6 and 12 months by default): due until done."""

    __tablename__ = "referral_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    months: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    done_by: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_referral_review_due", "done_on", "due_on"),
        Index("ix_referral_review_referral", "referral_id"),
    )


class IntelEntry(Base):
    """A graded intelligence entry (3x5x2). A RIPA authority reference, never the product."""

    __tablename__ = "intel_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    received_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    source_evaluation: Mapped[str] = mapped_column(String(1))
    intelligence_assessment: Mapped[str] = mapped_column(String(1))
    handling: Mapped[str] = mapped_column(String(1))
    conditions: Mapped[str] = mapped_column(Text, default="")
    source_reference: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_intel_entry_received", "received_on"),)


class IntelReferral(Base):
    __tablename__ = "intel_referral"

    intel_id: Mapped[int] = mapped_column(ForeignKey("intel_entry.id"), primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), primary_key=True)

    __table_args__ = (Index("ix_intel_referral_referral", "referral_id"),)


class IntelPerson(Base):
    __tablename__ = "intel_person"

    intel_id: Mapped[int] = mapped_column(ForeignKey("intel_entry.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)

    __table_args__ = (Index("ix_intel_person_person", "person_id"),)


class IntelInstitution(Base):
    __tablename__ = "intel_institution"

    intel_id: Mapped[int] = mapped_column(ForeignKey("intel_entry.id"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), primary_key=True)

    __table_args__ = (Index("ix_intel_institution_institution", "institution_id"),)

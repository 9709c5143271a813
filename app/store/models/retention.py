"""Retention tables: review decisions, erased-record placeholders, and referrals' MOPI groups."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models.base import Base, utcnow


class ErasedRecord(Base):
    """The placeholder an erased record leaves behind (``ER-000012``).

    Numbered from its own sequence, so that the placeholder's number says nothing about the
    record's old reference; other records' links keep pointing at the record's (emptied) row,
    which names this placeholder."""

    __tablename__ = "erased_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    record_type: Mapped[str] = mapped_column(String(16))  # nominal | referral
    erased_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    erased_by: Mapped[str] = mapped_column(String(64), default="")


class RetentionDecision(Base):
    """One retention review decision: retain (with the next review date) or erase; who, when,
    why, and the rule that made the record due."""

    __tablename__ = "retention_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(16))  # nominal | referral
    record_id: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(8))  # retain | erase
    decided_on: Mapped[date] = mapped_column(Date)
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    next_review: Mapped[date | None] = mapped_column(Date, nullable=True)
    group_no: Mapped[int] = mapped_column(Integer)
    rule_text: Mapped[str] = mapped_column(Text, default="")
    table_version: Mapped[str] = mapped_column(String(32), default="")
    erased_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("erased_record.id"), nullable=True
    )

    __table_args__ = (
        Index("ix_retention_decision_record", "record_type", "record_id", "id"),
        Index("ix_retention_decision_next", "next_review"),
    )


class ReferralRetention(Base):
    """A referral's MOPI group when it is not the default (the referral table has none)."""

    __tablename__ = "referral_retention"

    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), primary_key=True)
    group_no: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    set_by: Mapped[str] = mapped_column(String(64), default="")

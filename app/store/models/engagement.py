"""Engagement tables: contact plans and log, notification requirements, civil orders, pathways.

Dates that drive the calendar are stored denormalised on indexed columns (a plan's next contact
due, a requirement's next re-notification, each order review) so that a calendar range is an
index range scan, never a computation over every nominal.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models.base import Base, utcnow


class ContactPlan(Base):
    """How often a nominal must be seen, and when the next contact is due (one per nominal)."""

    __tablename__ = "contact_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominal_id: Mapped[int] = mapped_column(
        ForeignKey("nominal.id", ondelete="CASCADE"), unique=True
    )
    # The nominal's status and risk the table frequency was read for (a change re-plans).
    basis_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    basis_risk: Mapped[str | None] = mapped_column(String(16), nullable=True)
    table_version: Mapped[str] = mapped_column(String(32), default="")
    table_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    override_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    frequency_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_date: Mapped[date] = mapped_column(Date)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    next_planned: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    # Covering for the calendar: a range of next_due is read from the index alone.
    __table_args__ = (
        Index("ix_contact_plan_next_due", "next_due", "nominal_id", "frequency_days"),
    )


class Contact(Base):
    """One logged contact (or attempt) with a nominal."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime)
    contact_type: Mapped[str] = mapped_column(String(32))
    officer: Mapped[str] = mapped_column(String(128), default="")
    outcome: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")
    next_planned: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_contact_nominal_at", "nominal_id", "at"),
        Index("ix_contact_at", "at"),
    )


class NotificationRequirement(Base):
    """Counter-Terrorism Act 2008 Part 4 notification requirements for one nominal."""

    __tablename__ = "notification_requirement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id", ondelete="CASCADE"))
    start_date: Mapped[date] = mapped_column(Date)
    sentence_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    life: Mapped[int] = mapped_column(Integer, default=0)
    period_years: Mapped[int] = mapped_column(Integer)
    rule_text: Mapped[str] = mapped_column(Text)
    end_date: Mapped[date] = mapped_column(Date)
    last_notified: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_due: Mapped[date | None] = mapped_column(Date, nullable=True)  # yearly re-notification
    status: Mapped[str] = mapped_column(String(16), default="active")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_notification_requirement_nominal", "nominal_id"),
        # Covering for the calendar's re-notification dates (status filtered in the index).
        Index("ix_notification_requirement_next_due", "next_due", "nominal_id", "status"),
        Index("ix_notification_requirement_end", "end_date"),
    )


class NotificationEvent(Base):
    """A notification that must be (or was) given: initial, change, yearly, foreign travel."""

    __tablename__ = "notification_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("notification_requirement.id", ondelete="CASCADE")
    )
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    event_date: Mapped[date] = mapped_column(Date)
    departure_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[date] = mapped_column(Date)
    notified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        # Covering for the calendar's notifications still to give (read from the index alone).
        Index("ix_notification_event_due", "due_date", "notified_on", "nominal_id",
              "requirement_id", "kind", "departure_date"),
        Index("ix_notification_event_requirement", "requirement_id"),
    )


class CivilOrder(Base):
    """A TPIM notice, TEO, SCPO, FTRO or Part 4 notification order."""

    __tablename__ = "civil_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id", ondelete="CASCADE"))
    order_type: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    conditions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    rule_text: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_civil_order_nominal", "nominal_id"),
        Index("ix_civil_order_end", "end_date"),
    )


class CivilOrderReview(Base):
    """One review date of a civil order (materialised from the order's schedule)."""

    __tablename__ = "civil_order_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("civil_order.id", ondelete="CASCADE"))
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id", ondelete="CASCADE"))
    due_date: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_civil_order_review_due", "due_date"),
        Index("ix_civil_order_review_order", "order_id"),
    )


class NominalPathway(Base):
    """A nominal's need on one reoffending pathway, with interventions and providers."""

    __tablename__ = "nominal_pathway"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id", ondelete="CASCADE"))
    pathway: Mapped[str] = mapped_column(String(48))
    need_level: Mapped[str] = mapped_column(String(16))
    interventions: Mapped[str] = mapped_column(Text, default="")
    providers: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    reference_version: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_nominal_pathway_nominal", "nominal_id"),
        Index("ix_nominal_pathway_pathway", "pathway", "status"),
    )

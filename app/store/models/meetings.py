"""Meeting tables: meetings, attendees, agenda items, actions with their update history,
information-sharing agreements, partner correspondence, and performance snapshots."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models.base import Base, utcnow


class Meeting(Base):
    """One meeting. ``meeting_date`` is stored beside ``starts_at`` so the calendar and the
    "next meeting of this type" lookups are plain index range scans."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    meeting_type: Mapped[str] = mapped_column(String(48))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    meeting_date: Mapped[date] = mapped_column(Date)
    chair: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="planned")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_meeting_type_date", "meeting_type", "meeting_date"),
        Index("ix_meeting_date", "meeting_date"),
    )


class MeetingAttendee(Base):
    __tablename__ = "meeting_attendee"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_meeting_attendee_meeting", "meeting_id", "position"),)


class AgendaItem(Base):
    """A standing item, a nominal for discussion, or an action carried from an earlier meeting
    (``kind``: standing | nominal | carried | other), with its minutes and decisions."""

    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(500))
    nominal_id: Mapped[int | None] = mapped_column(ForeignKey("nominal.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    action_id: Mapped[int | None] = mapped_column(ForeignKey("action.id"), nullable=True)
    carried_from_meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting.id"), nullable=True)
    minutes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_agenda_item_meeting", "meeting_id", "position"),
        Index("ix_agenda_item_action", "action_id"),
        Index("ix_agenda_item_nominal", "nominal_id"),
    )


class Action(Base):
    """An action raised at a meeting (or on its own), owned by someone, due by a date."""

    __tablename__ = "action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), nullable=True)
    nominal_id: Mapped[int | None] = mapped_column(ForeignKey("nominal.id"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_action_status_due", "status", "due_date"),
        Index("ix_action_due", "due_date"),
        Index("ix_action_owner", "owner", "status"),
        Index("ix_action_meeting", "meeting_id"),
        Index("ix_action_nominal", "nominal_id"),
    )


class ActionUpdate(Base):
    """One update note on an action: who, when, what, and any change of status."""

    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    old_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    new_status: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (Index("ix_action_update_action", "action_id", "at"),)


class InformationSharingAgreement(Base):
    """An entry of the ISA register: parties, purpose, legal basis, review date. An agreement
    that correspondence relied on is never deleted: it is retired (``status`` "ended"), so the
    log still says what each disclosure relied on."""

    __tablename__ = "isa"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str] = mapped_column(String(100), default="")  # the agreement's own number
    parties: Mapped[str] = mapped_column(Text)  # JSON list of party names
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    review_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_isa_review", "review_date"),)


class Correspondence(Base):
    """One letter, email or call with a partner agency, in or out. ``reply_to_id`` links a
    reply to the item it answers (an incoming reply to an outgoing item, or the other way);
    recording a reply sets the original's ``replied_on``."""

    __tablename__ = "correspondence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    agency: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(3))
    sent_on: Mapped[date] = mapped_column(Date)
    corr_type: Mapped[str] = mapped_column(String(48), default="general")
    subject: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")
    isa_id: Mapped[int | None] = mapped_column(ForeignKey("isa.id"), nullable=True)
    reply_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    replied_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("correspondence.id"),
                                                    nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_correspondence_sent", "sent_on"),
        Index("ix_correspondence_reply", "replied_on", "reply_by"),
        Index("ix_correspondence_agency", "agency", "sent_on"),
        Index("ix_correspondence_reply_to", "reply_to_id"),
        Index("ix_correspondence_isa", "isa_id"),
    )


class CorrespondenceNominal(Base):
    __tablename__ = "correspondence_nominal"

    correspondence_id: Mapped[int] = mapped_column(
        ForeignKey("correspondence.id", ondelete="CASCADE"), primary_key=True)
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id"), primary_key=True)

    __table_args__ = (Index("ix_correspondence_nominal_nominal", "nominal_id"),)


class PerformanceSnapshot(Base):
    """A point-in-time measure (records clean, duplicates open) as it stood in a month, kept
    so that the trend can show past months: the vault cannot recompute them afterwards."""

    __tablename__ = "performance_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(8))  # YYYY-MM
    measure: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[int | None] = mapped_column(Integer, nullable=True)
    denominator: Mapped[int | None] = mapped_column(Integer, nullable=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_performance_snapshot_pm", "period", "measure", unique=True),)

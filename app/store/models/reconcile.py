"""Reconciliation tables: a saved run against the national list, its rows and the decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models.base import Base, utcnow


class Reconciliation(Base):
    """One national list reconciled against the regional list (the file is not kept)."""

    __tablename__ = "reconciliation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_name: Mapped[str] = mapped_column(String(260))
    source_sha256: Mapped[str] = mapped_column(String(64))
    sheet_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    header_row: Mapped[int] = mapped_column(Integer, default=1)
    # JSON: the list's headings in order, and field -> heading for the fields recognised.
    headers: Mapped[str] = mapped_column(Text, default="[]")
    columns: Mapped[str] = mapped_column(Text, default="{}")
    # JSON: the counts when it was run, and the rows that could not be read.
    counts: Mapped[str] = mapped_column(Text, default="{}")
    rejected: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class ReconciliationItem(Base):
    """One result: a national row (matched, with differences, possible, national only) or a
    regional nominal found on no national row (regional only)."""

    __tablename__ = "reconciliation_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(
        ForeignKey("reconciliation.id", ondelete="CASCADE")
    )
    # matched | differences | possible | only_national | only_regional (current state) and
    # what matching first said (a confirmed possible match becomes matched or differences).
    kind: Mapped[str] = mapped_column(String(16))
    first_kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    national_row: Mapped[int | None] = mapped_column(Integer, nullable=True)
    nominal_id: Mapped[int | None] = mapped_column(ForeignKey("nominal.id"), nullable=True)
    how: Mapped[str] = mapped_column(String(80), default="")
    # JSON: the national row's fields as read; the differences [{field, ...}]; the candidates
    # of a possible match [{ref, score, reasons}].
    national: Mapped[str] = mapped_column(Text, default="{}")
    differences: Mapped[str] = mapped_column(Text, default="[]")
    candidates: Mapped[str] = mapped_column(Text, default="[]")

    __table_args__ = (
        Index("ix_reconciliation_item_run_kind", "reconciliation_id", "kind", "position"),
        Index("ix_reconciliation_item_run_position", "reconciliation_id", "position"),
    )


class ReconciliationDecision(Base):
    """What the user decided about one difference (``field``) or one candidate
    (``candidate:NM-000123``) of one item."""

    __tablename__ = "reconciliation_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(
        ForeignKey("reconciliation.id", ondelete="CASCADE")
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("reconciliation_item.id", ondelete="CASCADE")
    )
    field: Mapped[str] = mapped_column(String(40))
    # ours_right | update_ours | query_hub | confirm | reject
    choice: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        UniqueConstraint("item_id", "field", name="uq_reconciliation_decision_item_field"),
        Index("ix_reconciliation_decision_run", "reconciliation_id"),
    )

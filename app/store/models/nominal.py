"""Nominal tables: the record, its aliases, identifiers and addresses, duplicate pairs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models.base import Base, utcnow

# Dated columns of the record that the calendar reads (licence dates, notification end).
CALENDAR_DATE_COLUMNS = (
    "release_date", "crd", "ard", "ped", "npd", "hdced", "prrd", "led", "sed", "tused",
    "notification_end",
)
# A nominal that is no longer live; the calendar's query repeats this text so that the partial
# index ix_nominal_dead serves it.
DEAD_NOMINAL_SQL = "merged_into_id IS NOT NULL OR erased = 1"


class Nominal(Base):
    """One nominal. ``id`` is also the number of its ref (NM-000123 is id 123)."""

    __tablename__ = "nominal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    surname: Mapped[str] = mapped_column(String(100))
    forenames: Mapped[str] = mapped_column(String(150), default="")
    # Folded "surname forenames": the sort key of the list (case and accents ignored).
    sort_name: Mapped[str] = mapped_column(String(260), default="")
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)
    gender: Mapped[str | None] = mapped_column(String(1), nullable=True)
    pnc: Mapped[str | None] = mapped_column(String(40), nullable=True)  # as entered
    pnc_norm: Mapped[str | None] = mapped_column(String(16), nullable=True)  # YYYY/NNNNNNNL
    cro: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    establishment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    release_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    risk_level: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # Sorts high > medium > low (3, 2, 1) instead of alphabetically.
    risk_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rosh: Mapped[str | None] = mapped_column(String(16), nullable=True)
    mappa_category: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mappa_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    nominal_manager: Mapped[str | None] = mapped_column(String(200), nullable=True)
    force: Mapped[str | None] = mapped_column(String(200), nullable=True)
    offence: Mapped[str | None] = mapped_column(String(500), nullable=True)
    notification_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    sentence_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sed: Mapped[date | None] = mapped_column(Date, nullable=True)
    led: Mapped[date | None] = mapped_column(Date, nullable=True)
    crd: Mapped[date | None] = mapped_column(Date, nullable=True)
    ard: Mapped[date | None] = mapped_column(Date, nullable=True)
    ped: Mapped[date | None] = mapped_column(Date, nullable=True)
    npd: Mapped[date | None] = mapped_column(Date, nullable=True)
    tused: Mapped[date | None] = mapped_column(Date, nullable=True)
    hdced: Mapped[date | None] = mapped_column(Date, nullable=True)
    prrd: Mapped[date | None] = mapped_column(Date, nullable=True)
    notification_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    retention_group: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("nominal.id"), nullable=True
    )
    merged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Placeholder for retention: an erased record keeps its row (ref, audit) but no data.
    erased: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # Every list index leads with merged_into_id: the list shows live records only (NULL),
        # and the sort column follows so that ORDER BY ... LIMIT walks the index. Each ends with
        # ``erased`` (and holds the id, the rowid) so that the list's whole WHERE is answered
        # from the index: a count, or the rows skipped by an OFFSET, never read the table.
        Index("ix_nominal_live_ref", "merged_into_id", "id", "erased"),
        Index("ix_nominal_live_sort_name", "merged_into_id", "sort_name", "id", "erased"),
        Index("ix_nominal_live_dob", "merged_into_id", "dob", "id", "erased"),
        Index("ix_nominal_live_pnc", "merged_into_id", "pnc_norm", "id", "erased"),
        Index("ix_nominal_live_status", "merged_into_id", "status", "sort_name", "id", "erased"),
        # "Who in custody is released next" walks this without touching the community rows.
        Index("ix_nominal_live_status_release", "merged_into_id", "status", "release_date", "id",
              "erased"),
        Index("ix_nominal_live_risk", "merged_into_id", "risk_rank", "sort_name", "id",
              "risk_level", "erased"),
        Index("ix_nominal_live_manager", "merged_into_id", "nominal_manager", "sort_name", "id",
              "erased"),
        Index("ix_nominal_live_force", "merged_into_id", "force", "sort_name", "id", "erased"),
        Index("ix_nominal_live_establishment", "merged_into_id", "establishment", "sort_name",
              "id", "erased"),
        Index("ix_nominal_live_release", "merged_into_id", "release_date", "id", "erased"),
        Index("ix_nominal_live_updated", "merged_into_id", "updated_at", "id", "erased"),
        Index("ix_nominal_pnc_norm", "pnc_norm"),
        # The calendar's dated columns: partial indexes (only rows that carry the date), so a
        # date range is an index range scan (a bound date compared row by row against these
        # NUMERIC-affinity columns in a full scan allocates per comparison; see calendar.py).
        # They carry the liveness columns too, so no nominal row is read to leave out the dead.
        *(
            Index(
                f"ix_nominal_cal_{column}",
                column,
                "merged_into_id",
                "erased",
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for column in CALENDAR_DATE_COLUMNS
        ),
        # Merged-away or erased rows: a tiny index the calendar reads to leave them out.
        Index(
            "ix_nominal_dead",
            "id",
            sqlite_where=text(DEAD_NOMINAL_SQL),
            postgresql_where=text(DEAD_NOMINAL_SQL),
        ),
    )


class NominalAlias(Base):
    __tablename__ = "nominal_alias"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id"))
    surname: Mapped[str] = mapped_column(String(100), default="")
    forenames: Mapped[str] = mapped_column(String(150), default="")
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Where the alias came from: "" when entered, "merged from NM-..." when moved by a merge.
    source: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_nominal_alias_nominal", "nominal_id", "position"),)


class NominalIdentifier(Base):
    __tablename__ = "nominal_identifier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id"))
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))  # as entered
    value_norm: Mapped[str] = mapped_column(String(64))  # upper-case letters and digits
    source: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_nominal_identifier_nominal", "nominal_id", "position"),
        Index("ix_nominal_identifier_value", "type", "value_norm"),
    )


class NominalAddress(Base):
    __tablename__ = "nominal_address"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal.id"))
    text: Mapped[str] = mapped_column(Text)
    postcode: Mapped[str] = mapped_column(String(16), default="")
    date_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    date_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_nominal_address_nominal", "nominal_id", "position"),)


class DuplicatePair(Base):
    """A likely duplicate found by the last scan (a_id < b_id); replaced by each scan."""

    __tablename__ = "duplicate_pair"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("nominal.id"))
    b_id: Mapped[int] = mapped_column(ForeignKey("nominal.id"))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of plain-language reasons
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_duplicate_pair_ab", "a_id", "b_id", unique=True),
        Index("ix_duplicate_pair_b", "b_id"),
        Index("ix_duplicate_pair_score", "score"),
    )


class DuplicateDismissal(Base):
    """A pair a coordinator judged "not the same person": never offered again."""

    __tablename__ = "duplicate_dismissal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("nominal.id"))
    b_id: Mapped[int] = mapped_column(ForeignKey("nominal.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    dismissed_by: Mapped[str] = mapped_column(String(64))
    dismissed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_duplicate_dismissal_ab", "a_id", "b_id", unique=True),)


# Folded search keys of each live nominal (names, aliases, canonical variants, PNC, ref, dates of
# birth), in an FTS5 table inside the encrypted vault. rowid = nominal.id. On PostgreSQL the
# equivalent is a tsvector column with a GIN index; only app/store/nominals.py touches it.
NOMINAL_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE nominal_search USING fts5("
    "keys, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
)

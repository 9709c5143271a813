"""Patterns across referrals: counts by concern, sector, institution, area, age band and month,
computed in SQL with GROUP BY, and the drill-down from a bar to the referrals behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from app.domain.errors import ValidationError
from app.domain.prevent import (
    AGE_BANDS,
    AGE_UNKNOWN,
    PreventLists,
    age_band,
    parse_prevent_lists,
)
from app.domain.roles import Perm
from app.services.base import Service, requires
from app.services.reference import ReferenceService
from app.store.models import Institution, Referral, ReferralInstitution

__all__ = [
    "DIMENSIONS",
    "Bar",
    "Dashboard",
    "Dimension",
    "PatternFilter",
    "PatternService",
]

Dimension = Literal["concern_type", "source_sector", "institution", "area", "age_band", "month"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
DIMENSION_LABELS: dict[str, str] = {
    "concern_type": "Concern type",
    "source_sector": "Source sector",
    "institution": "Institution",
    "area": "Area",
    "age_band": "Age at referral",
    "month": "Month received",
}
NOT_RECORDED = "Not recorded"


@dataclass(frozen=True)
class PatternFilter:
    start: date | None = None
    end: date | None = None
    concern_type: str | None = None
    source_sector: str | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError("end", "must not be before the start")


@dataclass(frozen=True)
class Bar:
    """One bar: ``key`` is what drill_down takes back; ``label`` is what the chart shows."""

    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Dashboard:
    filter: PatternFilter
    total: int
    breakdowns: dict[str, list[Bar]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "breakdowns": {
                k: [{"key": b.key, "label": b.label, "count": b.count} for b in v]
                for k, v in self.breakdowns.items()
            },
        }


def _age_band_expr() -> Any:
    age = Referral.age_at_referral
    whens = []
    for label, lo, hi in AGE_BANDS:
        cond = age >= lo if hi is None else and_(age >= lo, age <= hi)
        whens.append((cond, literal(label)))
    return case(*whens, else_=literal(AGE_UNKNOWN))


def _conditions(flt: PatternFilter) -> list[Any]:
    conds: list[Any] = []
    if flt.start:
        conds.append(Referral.received_on >= flt.start)
    if flt.end:
        conds.append(Referral.received_on <= flt.end)
    if flt.concern_type:
        conds.append(Referral.concern_type == flt.concern_type)
    if flt.source_sector:
        conds.append(Referral.source_sector == flt.source_sector)
    return conds


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out: list[str] = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def _month_label(key: str) -> str:
    return date(int(key[:4]), int(key[5:7]), 1).strftime("%b %Y")


# The index each breakdown should stream over. SQLite's planner otherwise prefers a range
# search on received_on followed by a temporary B-tree for the GROUP BY, which costs 5-10x more
# inside SQLCipher (cipher_memory_security makes every temporary allocation expensive). The
# hints are SQLite-dialect only: on PostgreSQL they are not rendered and its planner chooses.
_INDEX_FOR = {
    "concern_type": "ix_referral_by_concern",
    "source_sector": "ix_referral_by_sector",
    "area": "ix_referral_by_area",
    "month": "ix_referral_by_month",
    "age_band": "ix_referral_by_age",
}


def _hinted(stmt: Any, dim: str) -> Any:
    return stmt.with_hint(Referral, f"INDEXED BY {_INDEX_FOR[dim]}", dialect_name="sqlite")


def compute_breakdown(session: Session, dim: str, flt: PatternFilter,
                      lists: PreventLists) -> list[Bar]:
    """One breakdown, counted in SQL. Bars in a stable order: the reference list's order for
    coded dimensions, band order for ages, calendar order for months, most first for the rest.
    """
    conds = _conditions(flt)
    if dim == "institution":
        stmt = (
            select(ReferralInstitution.institution_id, func.count())
            .join(Referral, Referral.id == ReferralInstitution.referral_id)
            .where(*conds)
            .group_by(ReferralInstitution.institution_id)
            .with_hint(ReferralInstitution, "INDEXED BY ix_referral_institution_inst",
                       dialect_name="sqlite")
            .with_hint(Referral, "INDEXED BY ix_referral_by_id", dialect_name="sqlite")
        )
        counted = {int(i): int(c) for i, c in session.execute(stmt)}
        names: dict[int, str] = {}
        if counted:
            for iid, name in session.execute(
                select(Institution.id, Institution.name).where(Institution.id.in_(list(counted)))
            ):
                names[int(iid)] = str(name)
        bars = [Bar(str(i), names.get(i, str(i)), c) for i, c in counted.items()]
        return sorted(bars, key=lambda b: (-b.count, b.label.casefold()))
    if dim == "age_band":
        # Counted per year of age in SQL (an index-ordered stream), then summed into bands:
        # grouping by a CASE expression would need a temporary sort.
        by_age = _hinted(select(Referral.age_at_referral, func.count()).where(*conds)
                         .group_by(Referral.age_at_referral), dim)
        bands: dict[str, int] = {}
        for age, c in session.execute(by_age):
            label = age_band(age)
            bands[label] = bands.get(label, 0) + int(c)
        order = [label for label, _, _ in AGE_BANDS] + [AGE_UNKNOWN]
        return [Bar(k, k, bands.get(k, 0)) for k in order]
    if dim == "month":
        col: Any = Referral.received_month
    elif dim in ("concern_type", "source_sector", "area"):
        col = getattr(Referral, dim)
    else:
        raise ValidationError("dimension", "must be one of " + ", ".join(DIMENSIONS))
    grouped = _hinted(select(col, func.count()).where(*conds).group_by(col), dim)
    counts = {(k or ""): int(c) for k, c in session.execute(grouped)}
    if dim in ("concern_type", "source_sector"):
        items = lists.concern_types if dim == "concern_type" else lists.source_sectors
        known = [Bar(c.code, c.label, counts.pop(c.code, 0)) for c in items]
        return known + [Bar(k, k, v) for k, v in sorted(counts.items())]
    if dim == "month":
        if not counts and not (flt.start and flt.end):
            return []
        first = flt.start.strftime("%Y-%m") if flt.start else min(counts)
        last = flt.end.strftime("%Y-%m") if flt.end else max(counts)
        return [Bar(k, _month_label(k), counts.get(k, 0)) for k in _months(first, last)]
    bars = [Bar(k, k or NOT_RECORDED, v) for k, v in counts.items()]
    return sorted(bars, key=lambda b: (-b.count, b.label.casefold()))


def drill_down_ids(session: Session, dim: str, key: str, flt: PatternFilter) -> list[int]:
    conds = _conditions(flt)
    if dim == "institution":
        try:
            iid = int(key)
        except ValueError:
            raise ValidationError("key", "is not an institution id") from None
        stmt = (select(Referral.id)
                .join(ReferralInstitution, ReferralInstitution.referral_id == Referral.id)
                .where(ReferralInstitution.institution_id == iid, *conds))
    elif dim == "age_band":
        stmt = select(Referral.id).where(_age_band_expr() == key, *conds)
    elif dim == "month":
        stmt = select(Referral.id).where(Referral.received_month == key, *conds)
    elif dim in ("concern_type", "source_sector", "area"):
        stmt = select(Referral.id).where(getattr(Referral, dim) == key, *conds)
    else:
        raise ValidationError("dimension", "must be one of " + ", ".join(DIMENSIONS))
    return [int(i) for i in session.scalars(stmt.order_by(Referral.received_on.desc(),
                                                          Referral.id.desc()))]


class PatternService(Service):
    """Dashboard data. Aggregates only: opening the referrals behind a bar goes through
    ReferralService (audited there)."""

    def _lists(self) -> PreventLists:
        cached: PreventLists | None = getattr(self, "_cached_lists", None)
        if cached is None:
            cached = parse_prevent_lists(ReferenceService(self.vault).current("prevent_lists")
                                         .data)
            self._cached_lists = cached
        return cached

    @requires(Perm.REFERRAL_READ)
    def dashboard(self, flt: PatternFilter = PatternFilter(),
                  dimensions: tuple[str, ...] = DIMENSIONS) -> Dashboard:
        """Every breakdown for one filter, in one read transaction (a consistent picture)."""
        lists = self._lists()
        with self.vault.read() as s:
            total = int(s.scalar(select(func.count(Referral.id)).where(*_conditions(flt))) or 0)
            data = {d: compute_breakdown(s, d, flt, lists) for d in dimensions}
        return Dashboard(flt, total, data)

    @requires(Perm.REFERRAL_READ)
    def breakdown(self, dimension: str, flt: PatternFilter = PatternFilter()) -> list[Bar]:
        lists = self._lists()
        with self.vault.read() as s:
            return compute_breakdown(s, dimension, flt, lists)

    @requires(Perm.REFERRAL_READ)
    def drill_down(self, dimension: str, key: str,
                   flt: PatternFilter = PatternFilter()) -> list[int]:
        """The ids of the referrals behind one bar (newest first), under the same filter."""
        with self.vault.read() as s:
            return drill_down_ids(s, dimension, key, flt)

    @requires(Perm.REFERRAL_READ)
    def date_span(self) -> tuple[date, date] | None:
        """The first and last received dates (for the filter's default range)."""
        with self.vault.read() as s:
            lo, hi = s.execute(select(func.min(Referral.received_on),
                                      func.max(Referral.received_on))).one()
        return (lo, hi) if lo and hi else None


def last_months(today: date, months: int = 12) -> PatternFilter:
    """A filter for the ``months`` whole months ending with this one."""
    y, m = today.year, today.month - (months - 1)
    while m < 1:
        y, m = y - 1, m + 12
    nxt = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return PatternFilter(start=date(y, m, 1), end=nxt - timedelta(days=1))

"""Performance against the Performance Management Framework targets (reference list
``targets``): actuals computed from the vault for a month or a quarter, the 12-month trend,
and the performance return (xlsx).

Measures over events (contacts, actions, referrals, reviews) are recomputed for any period.
Two measures describe the vault as it stands (records with no data-quality fault, duplicates
open): they are computed for the period that contains today and kept as a monthly snapshot, so
that a past month shows what was measured then, or "no data" if nobody measured it — never a
number made up from today's state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.domain.errors import ValidationError
from app.domain.meetings import (
    Figure,
    Period,
    TargetDef,
    clean_text,
    count_figure,
    last_months,
    month_period,
    no_data,
    parse_targets,
    ratio_figure,
)
from app.domain.roles import Perm
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.reference import current_in
from app.services.vault import Vault
from app.store.models import (
    Action,
    CivilOrder,
    CivilOrderReview,
    DuplicatePair,
    Nominal,
    PerformanceSnapshot,
    Referral,
    ReferralReview,
    utcnow,
)

__all__ = ["PerformanceReport", "PerformanceService"]

POINT_IN_TIME = ("records_clean", "duplicates_open")


@dataclass(frozen=True)
class PerformanceReport:
    period: Period
    targets_version: str
    figures: tuple[Figure, ...]
    computed_on: date

    def figure(self, code: str) -> Figure:
        for f in self.figures:
            if f.code == code:
                return f
        raise KeyError(code)

    def as_json(self) -> dict[str, Any]:
        return {"period": self.period.key, "from": self.period.start, "to": self.period.end,
                "targets_version": self.targets_version,
                "figures": [f.as_json() for f in self.figures]}


# --- measures ---------------------------------------------------------------------------


def _live() -> Any:
    return and_(Nominal.merged_into_id.is_(None), Nominal.erased.is_(False))


def actions_on_time(s: Session, p: Period, today: date) -> tuple[int, int]:
    """(closed by due date, counted) for actions due in the period, not cancelled: those done
    and those still open past their due date are counted; open ones not yet due are not."""
    rows = s.execute(
        select(Action.status, Action.due_date, Action.closed_on)
        .where(Action.due_date >= p.start, Action.due_date <= p.end,
               Action.status != "cancelled")).all()
    on_time = counted = 0
    for status, due, closed in rows:
        if status == "done":
            counted += 1
            on_time += int(closed is not None and closed <= due)
        elif due < today:
            counted += 1
    return on_time, counted


def referrals_triaged(s: Session, p: Period, today: date) -> tuple[int, int]:
    """(decided by target, counted) for referrals received in the period: decided ones and
    undecided ones past their target date."""
    rows = s.execute(
        select(Referral.decided_on, Referral.target_due)
        .where(Referral.received_on >= p.start, Referral.received_on <= p.end)).all()
    on_time = counted = 0
    for decided, target in rows:
        if decided is not None:
            counted += 1
            on_time += int(decided <= target)
        elif target < today:
            counted += 1
    return on_time, counted


def reviews_on_time(s: Session, p: Period, today: date) -> tuple[int, int]:
    """(done by due date, counted) for civil order reviews (of orders in force) and Prevent
    closure reviews due in the period: done ones and undone ones past due."""
    on_time = counted = 0
    order_rows = s.execute(
        select(CivilOrderReview.due_date, CivilOrderReview.done_on, CivilOrder.status)
        .join(CivilOrder, CivilOrder.id == CivilOrderReview.order_id)
        .where(CivilOrderReview.due_date >= p.start, CivilOrderReview.due_date <= p.end)).all()
    referral_rows = s.execute(
        select(ReferralReview.due_on, ReferralReview.done_on)
        .where(ReferralReview.due_on >= p.start, ReferralReview.due_on <= p.end)).all()
    rows: list[tuple[date, date | None, str | None]] = [
        *((r[0], r[1], r[2]) for r in order_rows), *((r[0], r[1], None) for r in referral_rows)]
    for due, done, order_status in rows:
        if done is not None:
            counted += 1
            on_time += int(done <= due)
        elif due < today and order_status in (None, "active", "expired"):
            counted += 1
    return on_time, counted


def records_clean(s: Session, today: date) -> tuple[int, int]:
    """(live records failing no data-quality rule, live records)."""
    from app.services.quality import RULES, RuleContext

    total = int(s.scalar(select(func.count()).select_from(Nominal).where(_live())) or 0)
    ctx = RuleContext(today)
    faulty: set[int] = set()
    for rule in RULES:
        if rule.sql is not None:
            faulty.update(int(i) for (i,) in s.execute(
                select(Nominal.id).where(_live(), rule.sql(ctx))))
        else:
            assert rule.python is not None
            faulty.update(rule.python(s, ctx, None))
    if faulty:
        ids = sorted(faulty)
        live_faulty = 0
        for start in range(0, len(ids), 500):
            live_faulty += int(s.scalar(select(func.count()).select_from(Nominal).where(
                _live(), Nominal.id.in_(ids[start:start + 500]))) or 0)
    else:
        live_faulty = 0
    return total - live_faulty, total


def duplicates_open(s: Session) -> int:
    """Likely duplicate pairs from the last scan whose two records are both still live."""
    a = Nominal.__table__.alias("a")
    b = Nominal.__table__.alias("b")
    return int(s.scalar(
        select(func.count()).select_from(DuplicatePair)
        .join(a, a.c.id == DuplicatePair.a_id).join(b, b.c.id == DuplicatePair.b_id)
        .where(a.c.merged_into_id.is_(None), b.c.merged_into_id.is_(None),
               a.c.erased.is_(False), b.c.erased.is_(False))) or 0)


def _snapshot(s: Session, period_key: str, measure: str, value: float,
              numerator: int | None, denominator: int | None) -> None:
    row = s.scalar(select(PerformanceSnapshot).where(
        PerformanceSnapshot.period == period_key, PerformanceSnapshot.measure == measure))
    if row is None:
        s.add(PerformanceSnapshot(period=period_key, measure=measure, value=value,
                                  numerator=numerator, denominator=denominator,
                                  taken_at=utcnow()))
    else:
        row.value, row.numerator, row.denominator = value, numerator, denominator
        row.taken_at = utcnow()


def _from_snapshot(s: Session, t: TargetDef, p: Period) -> Figure:
    """A past period's point-in-time figure: the last snapshot taken within it."""
    months = [m.key for m in _months_of(p)]
    row = s.scalar(select(PerformanceSnapshot).where(
        PerformanceSnapshot.measure == t.code, PerformanceSnapshot.period.in_(months))
        .order_by(PerformanceSnapshot.period.desc()).limit(1))
    if row is None:
        return no_data(t, "not measured during this period (it describes the vault as it "
                          "stood, and no snapshot was taken then)")
    note = f"as measured on {row.taken_at:%d/%m/%Y}"
    return Figure(t.code, t.label, t.unit, t.target, t.direction, row.value, row.numerator,
                  row.denominator, note, "snapshot", t.met(row.value))


def _months_of(p: Period) -> list[Period]:
    out = []
    year, month = p.start.year, p.start.month
    while date(year, month, 1) <= p.end:
        out.append(month_period(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# --- the service ------------------------------------------------------------------------


class PerformanceService(Service):
    """Figures against targets for a month or quarter, the trend, and the return."""

    def __init__(self, vault: Vault, today: Callable[[], date] = date.today) -> None:
        super().__init__(vault)
        self._today = today

    def _targets(self, s: Session) -> tuple[str, list[TargetDef]]:
        return parse_targets(current_in(s, self.vault, "targets"))

    @requires(Perm.NOMINAL_READ)
    def targets(self) -> tuple[str, list[TargetDef]]:
        """The current targets list: (version, targets)."""
        with self.vault.write() as s:
            return self._targets(s)

    def _contacts(self, periods: Sequence[Period], today: date) -> dict[str, tuple[int, int]]:
        """(made on time, made) per period key, from the engagement return's definitions
        (a contact is late when made after the previous one had fallen due)."""
        from app.services.engagement import EngagementService

        if not periods:
            return {}
        start = min(p.start for p in periods)
        end = max(p.end for p in periods)
        rows = EngagementService(self.vault).engagement_return(start, end, today)
        out: dict[str, tuple[int, int]] = {}
        for p in periods:
            made = sum(r.made for r in rows if p.start <= r.month <= p.end)
            late = sum(r.late for r in rows if p.start <= r.month <= p.end)
            out[p.key] = (made - late, made)
        return out

    def _figures(self, s: Session, targets: Sequence[TargetDef], p: Period, today: date,
                 contacts: tuple[int, int] | None) -> list[Figure]:
        figures: list[Figure] = []
        current = p.start <= today <= p.end
        for t in targets:
            if p.start > today:
                figures.append(no_data(t, "the period has not started"))
            elif t.code == "contacts_on_time":
                made = contacts or (0, 0)
                figures.append(ratio_figure(t, made[0], made[1],
                                            empty_note="no contacts made in the period"))
            elif t.code == "actions_on_time":
                figures.append(ratio_figure(t, *actions_on_time(s, p, today),
                                            empty_note="no actions fell due in the period"))
            elif t.code == "referrals_triaged":
                figures.append(ratio_figure(t, *referrals_triaged(s, p, today),
                                            empty_note="no referrals to triage in the period"))
            elif t.code == "reviews_on_time":
                figures.append(ratio_figure(t, *reviews_on_time(s, p, today),
                                            empty_note="no reviews fell due in the period"))
            elif t.code in POINT_IN_TIME and current:
                month_key = f"{today:%Y-%m}"
                if t.code == "records_clean":
                    clean, total = records_clean(s, today)
                    figure = ratio_figure(t, clean, total, empty_note="no live records")
                    if figure.value is not None:
                        _snapshot(s, month_key, t.code, figure.value, clean, total)
                else:
                    count = duplicates_open(s)
                    figure = count_figure(t, count, note="after the last duplicate scan")
                    _snapshot(s, month_key, t.code, float(count), count, None)
                figures.append(figure)
            else:
                figures.append(_from_snapshot(s, t, p))
        return figures

    @requires(Perm.NOMINAL_READ)
    def figures(self, period: Period, today: date | None = None) -> PerformanceReport:
        """Each target's actual for the period (a month or a quarter)."""
        today = today or self._today()
        contacts = self._contacts([period], today) if period.start <= today else {}
        with self.vault.write() as s:
            version, targets = self._targets(s)
            figures = self._figures(s, targets, period, today, contacts.get(period.key))
        return PerformanceReport(period, version, tuple(figures), today)

    @requires(Perm.NOMINAL_READ)
    def trend(self, end_month: date | None = None, months: int = 12,
              today: date | None = None) -> list[PerformanceReport]:
        """One report per month, oldest first, for the ``months`` months ending with
        ``end_month`` (default: this month)."""
        today = today or self._today()
        if not 1 <= months <= 60:
            raise ValidationError("months", "must be from 1 to 60")
        periods = last_months(end_month or today, months)
        contacts = self._contacts([p for p in periods if p.start <= today], today)
        with self.vault.write() as s:
            version, targets = self._targets(s)
            return [PerformanceReport(p, version, tuple(self._figures(
                s, targets, p, today, contacts.get(p.key))), today) for p in periods]

    @requires(Perm.EXPORT)
    def export_return(self, out: Path, period: Period, *, recipient: str, justification: str,
                      today: date | None = None, progress: Any = None) -> Any:
        """The performance return (xlsx): the period's figures and the 12-month trend,
        written atomically with its .sha256 and audited as a disclosure."""
        from app.io.marking import DocumentInfo
        from app.io.safe_write import atomic_export
        from app.io.xlsx import Column, SheetSpec, write_return

        recipient = clean_text(recipient, "recipient", 500, required=True)
        justification = clean_text(justification, "justification", 2000, required=True,
                                   multiline=True)
        today = today or self._today()
        report = self.figures(period, today)
        trend = self.trend(min(period.end, today) if period.start <= today else period.end,
                           12, today)
        info = DocumentInfo(title="Performance against targets", author=self.vault.actor.user,
                            generated_at=datetime.now(), period=period.label)
        summary = SheetSpec(
            name="Performance",
            columns=[Column("Measure", "text", 38), Column("Target", "text", 10),
                     Column("Actual", "float", 10), Column("Met", "text", 8),
                     Column("Numerator", "int", 11), Column("Denominator", "int", 12),
                     Column("Source", "text", 10), Column("Note", "text", 60)],
            rows=[(f.label, f.target_text, f.value,
                   "—" if f.met is None else ("Yes" if f.met else "No"), f.numerator,
                   f.denominator, f.source, f.note if f.value is not None
                   else f"No data: {f.note}") for f in report.figures],
            expected_rows=len(report.figures))
        month_columns = [Column(r.period.label, "float", 10) for r in trend]
        trend_sheet = SheetSpec(
            name="Trend (12 months)",
            columns=[Column("Measure", "text", 38), Column("Target", "text", 10),
                     *month_columns],
            rows=[(f.label, f.target_text, *[r.figure(f.code).value for r in trend])
                  for f in report.figures],
            expected_rows=len(report.figures))

        def write(stream: Any, sink: Any) -> None:
            write_return(stream, info, [summary, trend_sheet], sink)

        result = atomic_export(out, write, progress=progress)
        with self.vault.write() as s:
            self.vault.audit(
                s, Category.DISCLOSURE, "export.performance", entity="return",
                ref="performance", reason=justification, recipient=recipient,
                detail={"file": result.path.name, "sha256": result.sha256,
                        "period": period.key, "targets_version": report.targets_version})
        return result

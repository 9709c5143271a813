"""Data-quality rules (the AART checks of DOMAIN.md) in one registry, and the service over them.

A rule is either SQL (a condition on the ``nominal`` table) or Python (a function returning the
ids at fault, for checks SQL cannot express). Every built-in rule is SQL, and the summary counts
all SQL rules in one pass over the table (one aggregate per rule in a single SELECT), so the
panel opens in about the time of one scan at 100,000 records. To add a rule, append it to
``RULES`` — or, from a module that owns other tables, call ``register_rule``. Contacts overdue
and reviews overdue belong to the engagement and retention tables: their modules register those
rules when they exist (nothing is faked here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.nominal import DATE_ORDER_RULES, NominalRow, Severity, Status
from app.domain.pnc import CHECK_LETTERS
from app.domain.roles import Perm
from app.services.base import Service, requires
from app.store import nominals as repo
from app.store.models import DuplicatePair
from app.store.models import Nominal as Nom


@dataclass(frozen=True)
class RuleContext:
    today: date

    @property
    def today_sql(self) -> ColumnElement[Any]:
        """Today as a literal in the statement, not a bound parameter: compared row by row in a
        scan, a bound date costs an allocation per row under SQLCipher's memory security (see
        bench/RESULTS.md, Calendar); a literal does not."""
        return literal(self.today, Date, literal_execute=True)


SqlCheck = Callable[[RuleContext], ColumnElement[bool]]
PythonCheck = Callable[[Session, RuleContext, int | None], set[int]]


@dataclass(frozen=True)
class Rule:
    """One check. Exactly one of ``sql`` (a condition on nominal) and ``python`` is set."""

    id: str
    title: str
    description: str
    severity: Severity
    sql: SqlCheck | None = None
    python: PythonCheck | None = None

    def __post_init__(self) -> None:
        if (self.sql is None) == (self.python is None):
            raise ValueError("a rule has either an SQL or a Python check")


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule: Rule
    count: int


@dataclass(frozen=True, slots=True)
class Fault:
    rule_id: str
    title: str
    severity: Severity


def _blank(column: Any) -> ColumnElement[bool]:
    return or_(column.is_(None), func.trim(column) == "")


def _mandatory(ctx: RuleContext) -> ColumnElement[bool]:
    return or_(_blank(Nom.surname), _blank(Nom.forenames), Nom.dob.is_(None), Nom.status.is_(None),
               _blank(Nom.force))


def _dates(ctx: RuleContext) -> ColumnElement[bool]:
    # The same ordering rules the form validates with (app.domain.nominal.DATE_ORDER_RULES).
    clauses = []
    for rule in DATE_ORDER_RULES:
        early, late = getattr(Nom, rule.earlier), getattr(Nom, rule.later)
        wrong = late <= early if rule.strict else late < early
        clauses.append(and_(early.is_not(None), late.is_not(None), wrong))
    clauses.append(Nom.dob > ctx.today_sql)
    return or_(*clauses)


def _status(ctx: RuleContext) -> ColumnElement[bool]:
    return or_(
        and_(Nom.status == Status.CUSTODY.value, Nom.release_date < ctx.today_sql),
        and_(Nom.status == Status.COMMUNITY.value, Nom.release_date > ctx.today_sql),
    )


def _no_manager(ctx: RuleContext) -> ColumnElement[bool]:
    return _blank(Nom.nominal_manager)


def _pnc_check(ctx: RuleContext) -> ColumnElement[bool]:
    # pnc_norm is the stored YYYY/NNNNNNNL form of any PNC that parses (NULL otherwise), so the
    # rule is "a PNC that does not parse, or whose letter is not CHECK_LETTERS[YYNNNNNNN % 23]"
    # (app.domain.pnc.pnc_check_letter), in plain SQL that PostgreSQL runs too.
    number = cast(func.substr(Nom.pnc_norm, 3, 2).concat(func.substr(Nom.pnc_norm, 6, 7)),
                  Integer)
    expected = func.substr(literal(CHECK_LETTERS), number % len(CHECK_LETTERS) + 1, 1)
    return and_(Nom.pnc.is_not(None),
                or_(Nom.pnc_norm.is_(None), func.substr(Nom.pnc_norm, 13, 1) != expected))


def _duplicates(ctx: RuleContext) -> ColumnElement[bool]:
    return Nom.id.in_(union(select(DuplicatePair.a_id), select(DuplicatePair.b_id)))


RULES: list[Rule] = [
    Rule("duplicates_open", "Possible duplicate not resolved",
         "The last duplicate scan paired this record with another, and the pair has been "
         "neither merged nor dismissed.", Severity.ERROR, sql=_duplicates),
    Rule("mandatory_missing", "Mandatory field missing",
         "Surname, forenames, date of birth, status or force is empty (the nominal manager "
         "has its own rule).", Severity.ERROR, sql=_mandatory),
    Rule("dates_inconsistent", "Dates inconsistent",
         "A date is out of order: release before sentence, LED before CRD, notification end "
         "not after its start, a date of birth in the future, and so on.", Severity.ERROR,
         sql=_dates),
    Rule("pnc_check_letter", "PNC check letter wrong",
         "The PNC ID's check letter does not match its year and serial, or it is not a PNC "
         "ID at all.", Severity.WARNING, sql=_pnc_check),
    Rule("status_not_current", "Status not current",
         "In custody with a release date that has passed, or in the community with a release "
         "date still to come.", Severity.WARNING, sql=_status),
    Rule("no_nominal_manager", "No nominal manager",
         "Nobody is assigned to manage this nominal.", Severity.ERROR, sql=_no_manager),
]


def register_rule(rule: Rule) -> None:
    """Add (or replace, by id) a rule: for modules whose tables feed a check."""
    for i, existing in enumerate(RULES):
        if existing.id == rule.id:
            RULES[i] = rule
            return
    RULES.append(rule)


def rule_by_id(rule_id: str) -> Rule:
    for rule in RULES:
        if rule.id == rule_id:
            return rule
    raise NotFound("There is no data-quality rule with that id.")


def _live() -> ColumnElement[bool]:
    return and_(Nom.merged_into_id.is_(None), Nom.erased.is_(False))


def _condition(rule: Rule, ctx: RuleContext) -> ColumnElement[bool]:
    assert rule.sql is not None
    return rule.sql(ctx)


def _sql_ids(s: Session, rule: Rule, ctx: RuleContext, only: int | None) -> Any:
    assert rule.sql is not None
    stmt = select(Nom.id).where(_live(), rule.sql(ctx))
    if only is not None:
        stmt = stmt.where(Nom.id == only)
    return stmt


def _live_only(s: Session, ids: set[int]) -> set[int]:
    if not ids:
        return ids
    live: set[int] = set()
    items = sorted(ids)
    for start in range(0, len(items), 500):
        live.update(int(i) for (i,) in s.execute(
            select(Nom.id).where(_live(), Nom.id.in_(items[start:start + 500]))))
    return live


class QualityService(Service):
    def __init__(self, vault: Any, today: Callable[[], date] = date.today) -> None:
        super().__init__(vault)
        self._today = today

    def rules(self) -> list[Rule]:
        return list(RULES)

    def _ctx(self) -> RuleContext:
        return RuleContext(self._today())

    @requires(Perm.NOMINAL_READ)
    def summary(self) -> list[RuleCount]:
        """Each rule with its count of faulty live records."""
        ctx = self._ctx()
        rules = list(RULES)
        counts: dict[str, int] = {}
        with self.vault.read() as s:
            sql_rules = [rule for rule in rules if rule.sql is not None]
            if sql_rules:
                # One pass over the live rows counts every SQL rule (COUNT skips the NULLs).
                row = s.execute(select(*(
                    func.count(case((_condition(rule, ctx), 1))) for rule in sql_rules
                )).select_from(Nom).where(_live())).one()
                counts.update((rule.id, int(n or 0)) for rule, n in zip(sql_rules, row,
                                                                        strict=True))
            for rule in rules:
                if rule.python is not None:
                    counts[rule.id] = len(_live_only(s, rule.python(s, ctx, None)))
        return [RuleCount(rule, counts[rule.id]) for rule in rules]

    @requires(Perm.NOMINAL_READ)
    def records_for(self, rule_id: str, offset: int = 0, limit: int = 200) -> list[NominalRow]:
        """The faulty records of one rule, by ref, a page at a time."""
        rule = rule_by_id(rule_id)
        if limit < 0 or offset < 0:
            raise ValidationError("limit", "must not be negative")
        ctx = self._ctx()
        with self.vault.read() as s:
            if rule.sql is not None:
                ids = [int(i) for (i,) in s.execute(
                    _sql_ids(s, rule, ctx, None).order_by(Nom.id).offset(offset).limit(limit))]
            else:
                assert rule.python is not None
                ids = sorted(_live_only(s, rule.python(s, ctx, None)))[offset:offset + limit]
            return repo.rows_for_ids(s, ids)

    @requires(Perm.NOMINAL_READ)
    def faults_for(self, ref: str) -> list[Fault]:
        """Every rule one record fails."""
        ctx = self._ctx()
        with self.vault.read() as s:
            nominal_id = repo.id_for_ref(s, ref)
            if nominal_id is None:
                raise NotFound("There is no nominal with that reference.")
            out: list[Fault] = []
            for rule in RULES:
                if rule.sql is not None:
                    hit = s.scalar(_sql_ids(s, rule, ctx, nominal_id)) is not None
                else:
                    assert rule.python is not None
                    hit = bool(_live_only(s, rule.python(s, ctx, nominal_id)))
                if hit:
                    out.append(Fault(rule.id, rule.title, rule.severity))
            return out

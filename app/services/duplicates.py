"""Likely duplicate nominals: scan (blocking + scoring), review side by side, dismiss, merge.

Scoring and blocking live in app/services/matching.py; this module keeps the results in the
vault (``duplicate_pair``), remembers dismissals, and merges two records in one transaction.

Tables other than the nominal ones that point at a nominal (contacts, orders, referrals...)
re-point their rows on a merge through ``MERGE_HOOKS``: add "module:function" there, where the
function is ``(session, keep_id, drop_id) -> rows moved`` and runs inside the merge's
transaction (raise to refuse the merge; nothing is then changed)."""

from __future__ import annotations

import importlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.nominal import (
    DATE_FIELDS,
    Alias,
    Identifier,
    IdentifierType,
    Nominal,
    diff_for_history,
    format_ref,
)
from app.domain.roles import Perm
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.matching import DEFAULT_THRESHOLD, CandidateStats, PersonKey, find_candidates
from app.store import nominals as repo
from app.store.models import (
    DuplicateDismissal,
    DuplicatePair,
    NominalAddress,
    NominalAlias,
    NominalIdentifier,
    utcnow,
)
from app.store.models import Nominal as NominalTable

ENTITY = "nominal"
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
MergeHook = Callable[[Session, int, int], int]

# "module:function" of every re-pointing hook; resolved at merge time (no import-time wiring).
MERGE_HOOKS: list[str] = [
    "app.services.merge_links:engagement",
    "app.services.merge_links:meetings",
    "app.services.merge_links:prevent",
    "app.services.merge_links:reconciliation",
]
_RUNTIME_HOOKS: dict[str, MergeHook] = {}


def register_merge_hook(name: str, hook: MergeHook) -> None:
    """Register a re-pointing hook in-process (tests, plug-ins); MERGE_HOOKS is the usual way."""
    _RUNTIME_HOOKS[name] = hook


def unregister_merge_hook(name: str) -> None:
    _RUNTIME_HOOKS.pop(name, None)


def _hooks() -> list[tuple[str, MergeHook]]:
    out: list[tuple[str, MergeHook]] = []
    for spec in MERGE_HOOKS:
        module, _, name = spec.partition(":")
        out.append((spec, getattr(importlib.import_module(module), name)))
    out.extend(_RUNTIME_HOOKS.items())
    return out


# Fields a merge chooses between, in the order a side-by-side review shows them.
MERGE_FIELDS: tuple[str, ...] = (
    "surname", "forenames", "dob", "gender", "pnc", "cro", "status", "establishment",
    "release_date", "risk_level", "rosh", "mappa_category", "mappa_level", "nominal_manager",
    "force", "offence", "notification_end", "retention_group", "notes",
    *(f"dates.{name}" for name in DATE_FIELDS),
)


def _get(n: Nominal, name: str) -> Any:
    if name.startswith("dates."):
        return getattr(n.dates, name[6:])
    return getattr(n, name)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _set(n: Nominal, name: str, value: Any) -> Nominal:
    if name.startswith("dates."):
        return replace(n, dates=replace(n.dates, **{name[6:]: value}))
    return replace(n, **{name: value})


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    a: str
    b: str
    score: float
    reasons: tuple[str, ...]
    computed_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "score": self.score, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class ScanResult:
    pairs: int
    people: int
    comparisons: int
    seconds: float
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """One line of the side-by-side review; ``default`` is what a merge takes if not told."""

    field: str
    keep_value: Any
    drop_value: Any
    same: bool
    default: str  # "keep" | "drop"


@dataclass(frozen=True, slots=True)
class MergeResult:
    keep: str
    drop: str
    fields_from_drop: tuple[str, ...]
    repointed: dict[str, int]


def _people(s: Session) -> list[PersonKey]:
    # Plain rows through the session's connection: the ORM's result machinery adds a fifth to
    # the cost of reading 100,000 people and gives nothing for column tuples.
    conn = s.connection()
    aliases: dict[int, list[tuple[str, str, date | None]]] = defaultdict(list)
    for nid, surname, forenames, dob in conn.execute(
        select(NominalAlias.nominal_id, NominalAlias.surname, NominalAlias.forenames,
               NominalAlias.dob)
    ):
        aliases[nid].append((surname, forenames, dob))
    identifiers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for nid, kind, value in conn.execute(
        select(NominalIdentifier.nominal_id, NominalIdentifier.type, NominalIdentifier.value_norm)
    ):
        identifiers[nid].append((kind, value))
    people: list[PersonKey] = []
    for nid, ref, surname, forenames, dob, pnc_norm, pnc, cro in conn.execute(
        select(NominalTable.id, NominalTable.ref, NominalTable.surname, NominalTable.forenames,
               NominalTable.dob, NominalTable.pnc_norm, NominalTable.pnc, NominalTable.cro)
        .where(NominalTable.merged_into_id.is_(None), NominalTable.erased.is_(False))
    ):
        people.append(PersonKey(ref=ref, surname=surname, forenames=forenames, dob=dob,
                                pnc=pnc_norm or pnc, cro=cro,
                                identifiers=tuple(identifiers.get(nid, ())),
                                aliases=tuple(aliases.get(nid, ()))))
    return people


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


class DuplicateService(Service):
    @requires(Perm.NOMINAL_READ)
    def scan(self, progress: Progress | None = None, cancelled: Cancelled | None = None,
             threshold: float = DEFAULT_THRESHOLD) -> ScanResult:
        """Compare every live nominal (blocked, never n²) and replace the cached pairs.

        Cancelling leaves the previous results in place. Dismissed pairs are never stored."""
        import time

        started = time.perf_counter()

        def stop() -> bool:
            return bool(cancelled and cancelled())

        with self.vault.read() as s:
            people = _people(s)
            dismissed = {(a, b) for a, b in s.execute(
                select(DuplicateDismissal.a_id, DuplicateDismissal.b_id))}
        if progress:
            progress(1, 3)
        if stop():
            return ScanResult(0, len(people), 0, time.perf_counter() - started, True)
        stats = CandidateStats()
        matches = find_candidates(people, threshold, stats=stats)
        if progress:
            progress(2, 3)
        if stop():
            return ScanResult(0, len(people), stats.comparisons, time.perf_counter() - started,
                              True)
        now = utcnow()
        rows = []
        for m in matches:
            a, b = _ordered(int(m.a[3:]), int(m.b[3:]))
            if (a, b) in dismissed:
                continue
            rows.append({"a_id": a, "b_id": b, "score": float(m.score),
                         "reasons": json.dumps(m.reasons, ensure_ascii=False),
                         "computed_at": now})
        with self.vault.write() as s:
            s.execute(delete(DuplicatePair))
            if rows:
                s.connection().execute(insert(DuplicatePair), rows)
            self.vault.audit(s, Category.COMBINATION, "duplicates.scan", entity=ENTITY,
                             detail={"people": len(people), "pairs": len(rows),
                                     "comparisons": stats.comparisons})
        if progress:
            progress(3, 3)
        return ScanResult(len(rows), len(people), stats.comparisons,
                          time.perf_counter() - started)

    @requires(Perm.NOMINAL_READ)
    def pairs(self, offset: int = 0, limit: int = 500) -> list[DuplicateCandidate]:
        """Cached pairs from the last scan, best first (dismissed and merged ones never)."""
        with self.vault.read() as s:
            rows = s.execute(
                select(DuplicatePair).order_by(DuplicatePair.score.desc(), DuplicatePair.a_id,
                                               DuplicatePair.b_id)
                .offset(offset).limit(limit)
            ).scalars().all()
            return [DuplicateCandidate(format_ref(r.a_id), format_ref(r.b_id), r.score,
                                       tuple(json.loads(r.reasons)), r.computed_at)
                    for r in rows]

    @requires(Perm.NOMINAL_READ)
    def count(self) -> int:
        from sqlalchemy import func

        with self.vault.read() as s:
            return int(s.scalar(select(func.count()).select_from(DuplicatePair)) or 0)

    @requires(Perm.NOMINAL_READ)
    def compare(self, keep: str, drop: str) -> list[FieldComparison]:
        """The two records field by field, with what a merge would take by default."""
        with self.vault.read() as s:
            k, d = self._pair(s, keep, drop)
        return [
            FieldComparison(name, _get(k, name), _get(d, name), _get(k, name) == _get(d, name),
                            "drop" if _empty(_get(k, name)) and not _empty(_get(d, name))
                            else "keep")
            for name in MERGE_FIELDS
        ]

    @requires(Perm.NOMINAL_WRITE)
    def dismiss(self, a: str, b: str, reason: str) -> None:
        """Record that two nominals are not the same person; later scans never offer them."""
        if not reason.strip():
            raise ValidationError("reason", "say why these are different people")
        with self.vault.write() as s:
            ida, idb = self._ids(s, a, b)
            lo, hi = _ordered(ida, idb)
            exists = s.scalar(select(DuplicateDismissal.id).where(
                DuplicateDismissal.a_id == lo, DuplicateDismissal.b_id == hi))
            if exists is None:
                s.add(DuplicateDismissal(a_id=lo, b_id=hi, reason=reason,
                                         dismissed_by=self.vault.actor.user))
            s.execute(delete(DuplicatePair).where(DuplicatePair.a_id == lo,
                                                  DuplicatePair.b_id == hi))
            for ref, other in ((format_ref(lo), format_ref(hi)), (format_ref(hi), format_ref(lo))):
                self.vault.audit(s, Category.COMBINATION, "duplicates.dismiss", entity=ENTITY,
                                 ref=ref, reason=reason, detail={"other": other})

    @requires(Perm.NOMINAL_READ)
    def dismissed(self) -> list[tuple[str, str, str, str, datetime]]:
        """(a, b, reason, by, when) of every dismissal."""
        with self.vault.read() as s:
            return [(format_ref(r.a_id), format_ref(r.b_id), r.reason, r.dismissed_by,
                     r.dismissed_at)
                    for r in s.scalars(select(DuplicateDismissal).order_by(
                        DuplicateDismissal.dismissed_at))]

    @requires(Perm.NOMINAL_WRITE)
    def merge(self, keep: str, drop: str, field_choices: dict[str, str] | None = None,
              reason: str = "") -> MergeResult:
        """Merge DROP into KEEP in one transaction.

        ``field_choices`` maps a field of MERGE_FIELDS to "keep" or "drop"; a field not named
        takes KEEP's value, or DROP's where KEEP's is empty. DROP's names become aliases of
        KEEP, its aliases, identifiers and addresses move to KEEP, linked rows elsewhere are
        re-pointed by the hooks, and DROP stays (never deleted) marked as merged into KEEP."""
        choices = dict(field_choices or {})
        for name, choice in choices.items():
            if name not in MERGE_FIELDS:
                raise ValidationError(f"field_choices.{name}", "is not a field a merge chooses")
            if choice not in ("keep", "drop"):
                raise ValidationError(f"field_choices.{name}", 'must be "keep" or "drop"')
        user = self.vault.actor.user
        with self.vault.write() as s:
            k, d = self._pair(s, keep, drop)
            keep_id, drop_id = self._ids(s, keep, drop)
            assert k.ref is not None and d.ref is not None
            merged = k
            taken: list[str] = []
            for name in MERGE_FIELDS:
                default = "drop" if _empty(_get(k, name)) and not _empty(_get(d, name)) \
                    else "keep"
                choice = choices.get(name, default)
                if choice == "drop" and _get(d, name) != _get(k, name):
                    merged = _set(merged, name, _get(d, name))
                    taken.append(name)
            source = f"merged from {d.ref}"
            # DROP's aliases, identifiers and addresses move with their rows (and say so).
            for table in (NominalAlias, NominalIdentifier, NominalAddress):
                s.execute(update(table).where(table.nominal_id == drop_id)
                          .values(nominal_id=keep_id, source=source, position=table.position
                                  + 1000))
            merged = self._absorb_identity(s, keep_id, merged, k, d, source)
            now = utcnow()
            values = repo.column_values(merged)
            values.update(updated_at=now, updated_by=user)
            s.execute(update(NominalTable).where(NominalTable.id == keep_id).values(**values))
            s.execute(update(NominalTable).where(NominalTable.id == drop_id).values(
                merged_into_id=keep_id, merged_at=now, updated_at=now, updated_by=user))
            self._repoint_duplicates(s, keep_id, drop_id)
            repointed: dict[str, int] = {}
            for name, hook in _hooks():
                repointed[name] = int(hook(s, keep_id, drop_id))
            after = repo.load(s, keep_id)
            assert after is not None
            repo.index(s, [(keep_id, repo.search_text(k.ref, after))])
            repo.unindex(s, [drop_id])
            changes = diff_for_history(k, after)
            changes["merged_from"] = (None, d.ref)
            self.vault.revision(s, ENTITY, keep_id, "merge", changes, reason)
            self.vault.revision(s, ENTITY, drop_id, "merge", {"merged_into": (None, k.ref)},
                                reason)
            detail = {"keep": k.ref, "drop": d.ref, "fields_from_drop": taken,
                      "repointed": repointed}
            self.vault.audit(s, Category.COMBINATION, "nominal.merge", entity=ENTITY,
                             ref=k.ref, reason=reason, detail=detail)
            self.vault.audit(s, Category.COMBINATION, "nominal.merged_into", entity=ENTITY,
                             ref=d.ref, reason=reason, detail=detail)
        return MergeResult(k.ref, d.ref, tuple(taken), repointed)

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _absorb_identity(s: Session, keep_id: int, merged: Nominal, k: Nominal, d: Nominal,
                         source: str) -> Nominal:
        """DROP's names and identifiers that KEEP does not carry become aliases/identifiers."""
        names = {(a.surname, a.forenames, a.dob) for a in (*k.aliases, *d.aliases)}
        names.add((merged.surname, merged.forenames, merged.dob))
        candidates = [Alias(d.surname, d.forenames, d.dob), Alias(k.surname, k.forenames, k.dob)]
        new_aliases = []
        for alias in candidates:
            key = (alias.surname, alias.forenames, alias.dob)
            if key not in names:
                names.add(key)
                new_aliases.append(alias)
        for i, alias in enumerate(new_aliases):
            s.add(NominalAlias(nominal_id=keep_id, surname=alias.surname,
                               forenames=alias.forenames, dob=alias.dob, source=source,
                               position=2000 + i))
        held = {(i.type, repo.clean_identifier(i.value)) for i in (*k.identifiers,
                                                                    *d.identifiers)}
        extra: list[Identifier] = []
        pairs: tuple[tuple[IdentifierType, str | None, str | None], ...] = (
            (IdentifierType.PNC, d.pnc, merged.pnc),
            (IdentifierType.PNC, k.pnc, merged.pnc),
            (IdentifierType.CRO, d.cro, merged.cro),
            (IdentifierType.CRO, k.cro, merged.cro),
        )
        for kind, value, chosen in pairs:
            if value and value != chosen and (kind, repo.clean_identifier(value)) not in held:
                held.add((kind, repo.clean_identifier(value)))
                extra.append(Identifier(kind, value))
        for i, ident in enumerate(extra):
            s.add(NominalIdentifier(nominal_id=keep_id, type=ident.type.value, value=ident.value,
                                    value_norm=repo.clean_identifier(ident.value), source=source,
                                    position=2000 + i))
        s.flush()
        return merged

    @staticmethod
    def _repoint_duplicates(s: Session, keep_id: int, drop_id: int) -> None:
        s.execute(delete(DuplicatePair).where(or_(DuplicatePair.a_id == drop_id,
                                                  DuplicatePair.b_id == drop_id)))
        # "DROP is not X" now means "KEEP is not X": carry dismissals across.
        for row in s.scalars(select(DuplicateDismissal).where(or_(
                DuplicateDismissal.a_id == drop_id, DuplicateDismissal.b_id == drop_id))).all():
            other = row.b_id if row.a_id == drop_id else row.a_id
            if other == keep_id:
                continue
            lo, hi = _ordered(keep_id, other)
            exists = s.scalar(select(DuplicateDismissal.id).where(
                DuplicateDismissal.a_id == lo, DuplicateDismissal.b_id == hi))
            if exists is None:
                s.add(DuplicateDismissal(a_id=lo, b_id=hi, reason=row.reason,
                                         dismissed_by=row.dismissed_by,
                                         dismissed_at=row.dismissed_at))
        s.flush()

    @staticmethod
    def _ids(s: Session, a: str, b: str) -> tuple[int, int]:
        ida, idb = repo.id_for_ref(s, a), repo.id_for_ref(s, b)
        if ida is None:
            raise NotFound("There is no nominal with the first reference.")
        if idb is None:
            raise NotFound("There is no nominal with the second reference.")
        if ida == idb:
            raise ValidationError("drop", "is the same record as keep; a record cannot be "
                                  "merged with itself")
        return ida, idb

    def _pair(self, s: Session, keep: str, drop: str) -> tuple[Nominal, Nominal]:
        ida, idb = self._ids(s, keep, drop)
        k, d = repo.load(s, ida), repo.load(s, idb)
        assert k is not None and d is not None
        if k.merged_into:
            raise ValidationError("keep", f"was already merged into {k.merged_into}")
        if d.merged_into:
            raise ValidationError("drop", f"was already merged into {d.merged_into}")
        return k, d

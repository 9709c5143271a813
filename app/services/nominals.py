"""Nominal use cases: add, edit, open (audited), history, search, and the paged list API.

The list API is built for a paged ``QAbstractTableModel``: ``count(filter)`` for rowCount,
``page(filter, sort, descending, offset, limit)`` for fetchMore, ``distinct_values(field)`` for
the filter combos; filtering, sorting and searching all run in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.nominal import (
    Nominal,
    NominalFilter,
    NominalInvalid,
    NominalRow,
    Problem,
    Severity,
    SortKey,
    default_retention_group,
    diff_for_history,
    format_ref,
    parse_nominals_json,
    validate_nominal,
)
from app.domain.roles import Perm
from app.security.audit import Category
from app.services.base import Service, requires
from app.store import nominals as repo
from app.store.models import Revision, utcnow

ENTITY = "nominal"
PAGE_LIMIT_MAX = 1000
SEARCH_LIMIT_MAX = 500
ALL = NominalFilter()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One field's change in one revision (a History tab row)."""

    at: datetime
    user: str
    action: str  # create | update | merge
    reason: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What a save did: the ref and the warnings the user should still see."""

    ref: str
    warnings: tuple[Problem, ...]


def _today() -> date:
    return date.today()


def _errors(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


def prepare(n: Nominal) -> Nominal:
    """Fill what the service derives: the default MOPI group from the offence."""
    if n.retention_group is None:
        return replace(n, retention_group=default_retention_group(n.offence))
    return n


class NominalService(Service):
    # -- validation ------------------------------------------------------------------------
    def validate(self, n: Nominal) -> list[Problem]:
        """Every problem with a record (for a form, as the user types): no vault access."""
        return validate_nominal(n, _today())

    # -- writing ---------------------------------------------------------------------------
    @requires(Perm.NOMINAL_WRITE)
    def add(self, n: Nominal, reason: str = "") -> SaveResult:
        """Add one nominal; raises NominalInvalid (exit 5) listing every error."""
        problems = self.validate(n)
        if _errors(problems):
            raise NominalInvalid(problems)
        refs = self._insert([prepare(n)], reason)
        return SaveResult(refs[0], tuple(problems))

    @requires(Perm.NOMINAL_WRITE)
    def add_many(self, items: Sequence[Nominal], reason: str = "") -> list[str]:
        """Add several nominals in one transaction: all or none."""
        problems: list[Problem] = []
        for i, n in enumerate(items):
            problems.extend(validate_nominal(n, _today(), f"nominals[{i}]"))
        if _errors(problems):
            raise NominalInvalid(problems)
        return self._insert([prepare(n) for n in items], reason)

    @requires(Perm.NOMINAL_WRITE)
    def add_from_json(self, raw: Any, reason: str = "") -> tuple[list[str], list[Problem]]:
        """The contract's input (one object or a list): refs added and the warnings."""
        items, problems = parse_nominals_json(raw, _today())
        if _errors(problems):
            raise NominalInvalid(problems)
        return self._insert([prepare(n) for n in items], reason), problems

    def _insert(self, items: Sequence[Nominal], reason: str) -> list[str]:
        if not items:
            raise ValidationError("nominals", "nothing to add")
        user = self.vault.actor.user
        refs: list[str] = []
        with self.vault.write() as s:
            first = repo.next_id(s)
            now = utcnow()
            for offset, n in enumerate(items):
                nominal_id = first + offset
                ref = repo.insert_nominal(s, nominal_id, n, user, now)
                refs.append(ref)
                self.vault.revision(s, ENTITY, nominal_id, "create", diff_for_history(None, n),
                                    reason)
                self.vault.audit(s, Category.COLLECTION, "nominal.add", entity=ENTITY, ref=ref,
                                 reason=reason)
        return refs

    @requires(Perm.NOMINAL_WRITE)
    def update(self, ref: str, n: Nominal, reason: str = "") -> SaveResult:
        """Replace a record's values (a form's save); keeps a revision of what changed."""
        problems = self.validate(n)
        if _errors(problems):
            raise NominalInvalid(problems)
        n = prepare(n)
        with self.vault.write() as s:
            nominal_id = self._id(s, ref)
            old = repo.load(s, nominal_id)
            assert old is not None
            if old.merged_into:
                raise ValidationError("ref", f"was merged into {old.merged_into}; edit that record")
            changes = diff_for_history(old, n)
            if not changes:
                return SaveResult(format_ref(nominal_id), tuple(problems))
            repo.update_nominal(s, nominal_id, n, self.vault.actor.user, utcnow())
            self.vault.revision(s, ENTITY, nominal_id, "update", changes, reason)
            self.vault.audit(s, Category.ALTERATION, "nominal.update", entity=ENTITY,
                             ref=format_ref(nominal_id), reason=reason,
                             detail={"fields": sorted(changes)})
        return SaveResult(format_ref(nominal_id), tuple(problems))

    # -- reading ---------------------------------------------------------------------------
    @requires(Perm.NOMINAL_READ)
    def get(self, ref: str, purpose: str = "view") -> Nominal:
        """Open a record; audited as consultation with the purpose as the reason."""
        with self.vault.write() as s:
            nominal_id = self._id(s, ref)
            record = repo.load(s, nominal_id)
            assert record is not None
            self.vault.audit(s, Category.CONSULTATION, "nominal.view", entity=ENTITY,
                             ref=format_ref(nominal_id), reason=purpose)
        return record

    @requires(Perm.NOMINAL_READ)
    def get_many(self, refs: Sequence[str], purpose: str) -> list[Nominal]:
        """Open several records (a list shown in full, an export): one consultation row."""
        with self.vault.write() as s:
            ids = [i for i in (repo.id_for_ref(s, r) for r in refs) if i is not None]
            records = repo.load_many(s, ids)
            if records:
                self.vault.audit(s, Category.CONSULTATION, "nominal.view", entity=ENTITY,
                                 reason=purpose,
                                 detail={"count": len(records),
                                         "refs": [r.ref for r in records][:1000]})
        return records

    @requires(Perm.NOMINAL_READ)
    def exists(self, ref: str) -> bool:
        with self.vault.read() as s:
            return repo.id_for_ref(s, ref) is not None

    @requires(Perm.NOMINAL_READ)
    def history(self, ref: str) -> list[HistoryEntry]:
        """Every change to a record, oldest first, one entry per field."""
        with self.vault.read() as s:
            nominal_id = self._id(s, ref)
            revisions = s.scalars(
                select(Revision)
                .where(Revision.entity == ENTITY, Revision.record_id == nominal_id)
                .order_by(Revision.at, Revision.id)
            ).all()
            out: list[HistoryEntry] = []
            for r in revisions:
                changes = json.loads(r.changes or "{}")
                if not changes:
                    out.append(HistoryEntry(r.at, r.user, r.action, r.reason, "", None, None))
                for name, pair in changes.items():
                    old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None,
                                                                                        pair)
                    out.append(HistoryEntry(r.at, r.user, r.action, r.reason, name, old, new))
            return out

    # -- list and search (for the table model) ------------------------------------------------
    @requires(Perm.NOMINAL_READ)
    def count(self, flt: NominalFilter = ALL) -> int:
        """How many live nominals the filter shows (merged records are hidden)."""
        with self.vault.read() as s:
            return repo.count(s, flt)

    @requires(Perm.NOMINAL_READ)
    def page(
        self,
        flt: NominalFilter = ALL,
        sort_key: SortKey | str = SortKey.NAME,
        descending: bool = False,
        offset: int = 0,
        limit: int = 200,
        after: str | None = None,
    ) -> list[NominalRow]:
        """One page of light rows, filtered and sorted in SQL.

        ``after`` is the ref of the last row already shown: the page then continues from it
        (keyset paging, as fast deep in the list as at its top) and ``offset`` is ignored.
        Without it, ``offset`` skips rows as before (also cheap: it skips index entries)."""
        try:
            key = SortKey(sort_key)
        except ValueError:
            raise ValidationError("sort", "is not a column the list can sort by") from None
        with self.vault.read() as s:
            try:
                return repo.page(s, flt, key, descending, offset, min(limit, PAGE_LIMIT_MAX),
                                 after=after)
            except LookupError:
                raise ValidationError("after", "is not a row of this list") from None

    @requires(Perm.NOMINAL_READ)
    def distinct_values(self, field: str) -> list[str]:
        """Values in use for a filter combo: status, nominal_manager, risk_level, force,
        establishment."""
        if field not in repo.DISTINCT_FIELDS:
            raise ValidationError("field", "has no list of values")
        with self.vault.read() as s:
            return repo.distinct_values(s, field)

    @requires(Perm.NOMINAL_READ)
    def search(self, query: str, limit: int = 50) -> list[NominalRow]:
        """Live nominals matching what the user typed (names, aliases, PNC, ref, dob), best
        first. Safe for any input: operators and quotes are treated as text."""
        with self.vault.read() as s:
            return repo.search_rows(s, query, min(max(limit, 0), SEARCH_LIMIT_MAX))

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _id(s: Session, ref: str) -> int:
        nominal_id = repo.id_for_ref(s, ref)
        if nominal_id is None:
            raise NotFound("There is no nominal with that reference.")
        return nominal_id

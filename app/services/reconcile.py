"""Reconciliation of the regional list against the national headcount: match, explain, decide,
and write the corrections return.

1. ``ReconcileService.run`` reads a national list (``app.io.national_import``, untrusted input)
   and matches every row against the live regional nominals. It only reads the vault.
   - Exact on normalised identifiers first (PNC ID, CRO number, including those a record keeps
     from a merge), then on name and date of birth with the duplicate detector's folding,
     blocking and scoring (``app.services.matching``): every national row is compared only with
     the regional records that share a blocking key, never with all of them.
   - A row ends as ``matched``, ``differences`` (matched, with the fields that disagree and both
     values), ``possible`` (needs a human: candidates with their reasons) or ``only_national``;
     a regional nominal found on no row and offered as no candidate is ``only_regional``.
   - Values are normalised before they are compared, with the synonym lists of the reference
     data ``reconcile_values`` ("METROPOLITAN POLICE" is "Metropolitan Police Service").
2. ``save`` keeps a run (file name and SHA-256, counts, rows) so that the review can be resumed;
   ``decide`` records "our record is right" / "update ours" (an audited alteration through
   ``NominalService.update``) / "query with the hub" per difference, and ``confirm`` / ``reject``
   per candidate. Saving is audited as a combination.
3. ``export_corrections`` writes the corrections return (marked, formula-safe xlsx through the
   export layer, audited as a disclosure), from a saved run or from a run held in memory (the
   command line, which saves nothing and lists every difference as not yet reviewed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Final

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from app import __version__
from app.domain.errors import BadInput, NotFound, ValidationError
from app.domain.names import canonical_tokens, fold
from app.domain.nominal import Gender, RiskLevel, Status, format_ref, parse_ref
from app.domain.pnc import parse_pnc
from app.domain.roles import Perm, allowed
from app.domain.rules import load_reference
from app.io.marking import DocumentInfo, most_restrictive
from app.io.national_import import (
    ImportLimits,
    NationalList,
    NationalRow,
    RejectedRow,
    read_national_list,
)
from app.io.safe_write import ExportResult, ProgressSink, atomic_export
from app.io.xlsx import Column, SheetSpec, write_return
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.exports import Disclosure, IncludedRefs, ReturnRequest, check_disclosure
from app.services.matching import (
    DEFAULT_THRESHOLD,
    PersonKey,
    PreparedPerson,
    prepare_person,
    prepared_keys,
    score_prepared,
)
from app.services.reference import stored_current
from app.services.vault import Vault
from app.store import nominals as repo
from app.store.models import (
    Nominal as NominalTable,
)
from app.store.models import (
    NominalAlias,
    NominalIdentifier,
    Reconciliation,
    ReconciliationDecision,
    ReconciliationItem,
    utcnow,
)

__all__ = [
    "CANDIDATES_SHOWN",
    "CHOICES",
    "COMPARED_FIELDS",
    "KINDS",
    "POSSIBLE_THRESHOLD",
    "CandidateMatch",
    "FieldDifference",
    "FieldLine",
    "ItemDetail",
    "ItemSummary",
    "ReconcileResult",
    "ReconcileService",
    "RegionalOnly",
    "RowResult",
    "RunSummary",
    "ValueRules",
    "corrections_writer",
    "load_value_rules",
    "match_national_list",
    "read_national",
]

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

MATCHED = "matched"
DIFFERENCES = "differences"
POSSIBLE = "possible"
ONLY_NATIONAL = "only_national"
ONLY_REGIONAL = "only_regional"
KINDS: Final[tuple[str, ...]] = (DIFFERENCES, POSSIBLE, ONLY_NATIONAL, ONLY_REGIONAL, MATCHED)
KIND_LABELS: Final[dict[str, str]] = {
    MATCHED: "Matched",
    DIFFERENCES: "Differences",
    POSSIBLE: "Possible matches",
    ONLY_NATIONAL: "Only on the national list",
    ONLY_REGIONAL: "Only on the regional list",
}

OURS_RIGHT = "ours_right"
UPDATE_OURS = "update_ours"
QUERY_HUB = "query_hub"
CONFIRM = "confirm"
REJECT = "reject"
CHOICES: Final[dict[str, str]] = {
    OURS_RIGHT: "Our record is right",
    UPDATE_OURS: "Update ours",
    QUERY_HUB: "Query with the hub",
    CONFIRM: "Confirmed",
    REJECT: "Rejected",
}

# The fields compared between a national row and its regional record, in display order.
COMPARED_FIELDS: Final[tuple[str, ...]] = (
    "surname", "forenames", "dob", "gender", "pnc", "cro", "status", "force", "establishment",
    "release_date", "nominal_manager", "risk_level", "mappa_category", "mappa_level", "offence",
    "notification_end",
)  # fmt: skip
FIELD_LABELS: Final[dict[str, str]] = {
    "surname": "Surname", "forenames": "Forenames", "dob": "Date of birth", "gender": "Gender",
    "pnc": "PNC ID", "cro": "CRO number", "status": "Status", "force": "Force",
    "establishment": "Establishment", "release_date": "Release date",
    "nominal_manager": "Nominal manager", "risk_level": "Risk level",
    "mappa_category": "MAPPA category", "mappa_level": "MAPPA level", "offence": "Offence",
    "notification_end": "Notification end",
}  # fmt: skip
_DATES: Final = frozenset({"dob", "release_date", "notification_end"})
_INTS: Final = frozenset({"mappa_category", "mappa_level"})

# Below the duplicate detector's threshold on purpose: a reconciliation shows a human anything
# plausible (a name-only agreement scores about 0.73), where a duplicate scan must not flood.
POSSIBLE_THRESHOLD: Final = 0.6
# A candidate whose identifiers disagree is still offered when name and date of birth alone
# score this much: one of the two lists may simply hold a mistyped PNC ID.
NAME_DOB_RESCUE: Final = 0.95
CANDIDATES_SHOWN: Final = 5
# Blocks bigger than this are not searched for one row (a very common key); the row still
# meets its candidates through its other keys.
MAX_CANDIDATE_BLOCK: Final = 400
ITEM_BATCH: Final = 2000
REFERENCE_NAME: Final = "reconcile_values"
RETURN_NAME: Final = "corrections"
DEFAULT_RECIPIENT: Final = "National hub"
DEFAULT_JUSTIFICATION: Final = "Reconciliation corrections return"


# --- value rules (reference data) --------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # hashed by identity: comparisons are cached per rules
class ValueRules:
    """How values written differently by the two lists are brought to one form for comparing."""

    version: str
    forces: dict[str, str]
    force_names: frozenset[str]
    force_words: frozenset[str]
    status: dict[str, str]
    risk_level: dict[str, str]
    gender: dict[str, str]
    establishment_prefixes: tuple[str, ...]
    rank_prefixes: tuple[str, ...]

    def force_key(self, text: str) -> str:
        folded = _folded(text)
        found = self.forces.get(folded)
        if found is not None:
            return found
        stripped = " ".join(w for w in folded.split() if w not in self.force_words)
        return self.forces.get(stripped, stripped)

    def force_name(self, text: str) -> str:
        """The force's usual name when the list knows it, else the text as written."""
        key = self.force_key(text)
        return key if key in self.force_names else text


@lru_cache(maxsize=262144)
def _folded(text: str) -> str:
    return " ".join(fold(text).split())


def _strip_prefix(folded: str, prefixes: Sequence[str]) -> str:
    for prefix in prefixes:
        if folded == prefix:
            return folded
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1:].strip()
    return folded


def parse_value_rules(data: dict[str, Any]) -> ValueRules:
    """Build the rules from the reference list; raises ValidationError naming what is wrong."""
    try:
        forces: dict[str, str] = {}
        words = frozenset(_folded(w) for w in data.get("force_words", []))
        for canonical, others in data["forces"].items():
            key = " ".join(w for w in _folded(canonical).split() if w not in words)
            for name in (canonical, *others):
                folded = _folded(name)
                forces[folded] = canonical
                stripped = " ".join(w for w in folded.split() if w not in words)
                if stripped:
                    forces.setdefault(stripped, canonical)
            forces.setdefault(key, canonical)

        def mapping(name: str) -> dict[str, str]:
            out: dict[str, str] = {}
            for value, words_ in data[name].items():
                out[_folded(value)] = value
                for w in words_:
                    out[_folded(w)] = value
            return out

        def prefixes(name: str) -> tuple[str, ...]:
            found = {_folded(p) for p in data.get(name, []) if _folded(p)}
            return tuple(sorted(found, key=lambda p: (-len(p), p)))

        return ValueRules(
            version=str(data["version"]),
            forces=forces,
            force_names=frozenset(forces.values()),
            force_words=words,
            status=mapping("status"),
            risk_level=mapping("risk_level"),
            gender=mapping("gender"),
            establishment_prefixes=prefixes("establishment_prefixes"),
            rank_prefixes=prefixes("rank_prefixes"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(REFERENCE_NAME, f"the list is not in the expected form ({exc})"
                              ) from None


def load_value_rules(session: Session | None = None) -> ValueRules:
    """The vault's current version of the list when it holds one, else the shipped file.

    Read-only on purpose: reconciling must not write to the vault, not even to load a list."""
    data = stored_current(session, REFERENCE_NAME) if session is not None else None
    return parse_value_rules(data if data is not None else load_reference(REFERENCE_NAME))


# --- normalising and showing values --------------------------------------------------------------


_NOT_CRO = re.compile(r"[^A-Z0-9/]")


def _clean_cro(value: str) -> str:
    text = _NOT_CRO.sub("", value.upper())
    serial, slash, rest = text.partition("/")
    return (serial.lstrip("0") or "0") + slash + rest if slash else text


_RUN_TOGETHER = re.compile(r"(\d{3,11})([A-Z])")


_STORED_PNC = re.compile(r"\d{4}/\d{7}[A-Z]")


@lru_cache(maxsize=1)
def _this_year() -> date:
    return date.today()


@lru_cache(maxsize=262144)
def _pnc_keys(value: str) -> tuple[str, ...]:
    """Every YYYY/NNNNNNNL reading of a written PNC ID, usually exactly one.

    Written with neither slash nor leading zeros ("201017416G"), an ID can be read with a two-
    or a four-digit year; every reading is kept (the one whose check letter fits first), so
    that whichever one the other list holds is found."""
    if _STORED_PNC.fullmatch(value):
        return (value,)  # the vault's own normalised form: nothing to read
    today = _this_year()
    parsed = parse_pnc(value, today=today)
    cleaned = "".join(ch for ch in value.upper() if ch.isalnum())
    m = _RUN_TOGETHER.fullmatch(value.strip().upper())
    if parsed is not None and m is None:
        return (parsed.normalised,)
    if m:
        digits, letter = m.groups()
        found = {p for n in (2, 4) if len(digits) - n in range(1, 8)
                 for p in [parse_pnc(f"{digits[:n]}/{digits[n:]}{letter}", today=today)]
                 if p is not None}
        if found:
            # Readings whose check letter fits first; the others still count, since a list
            # can hold an ID with a wrong letter (the data-quality check flags those).
            return tuple(p.normalised for p in sorted(found, key=lambda p: (not p.check_ok,
                                                                              p.normalised)))
    if parsed is not None:
        return (parsed.normalised,)
    return (cleaned,)


def _pnc_key(value: str) -> str:
    return _pnc_keys(value)[0]


def _same(name: str, theirs: object, ours: object, rules: ValueRules) -> bool:
    if theirs == ours:
        return True
    if name == "pnc" and isinstance(theirs, str) and isinstance(ours, str) \
            and theirs.strip() and ours.strip():
        return bool(set(_pnc_keys(theirs)) & set(_pnc_keys(ours)))
    return _comparable(name, theirs, rules) == _comparable(name, ours, rules)


def _int_text(value: object) -> str | None:
    if value is None:
        return None
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return str(int(digits)) if digits else _folded(str(value)) or None


def _comparable(name: str, value: object, rules: ValueRules) -> object:
    """The form two values are compared in; None for blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name in _DATES:
        return value
    return _comparable_text(name, str(value), rules)


# Forces, statuses, establishments, managers and offences repeat down a list: cached.
@lru_cache(maxsize=262144)
def _comparable_text(name: str, text: str, rules: ValueRules) -> object:
    if name in _INTS:
        return _int_text(text)
    if name == "pnc":
        return _pnc_key(text)
    if name == "cro":
        return _clean_cro(text)
    if name == "force":
        return rules.force_key(text)
    if name in ("status", "risk_level", "gender"):
        table: dict[str, str] = getattr(rules, name)
        folded = _folded(text)
        return table.get(folded, folded)
    if name == "establishment":
        return _strip_prefix(_folded(text), rules.establishment_prefixes)
    if name == "nominal_manager":
        return _strip_prefix(_folded(text), rules.rank_prefixes)
    return _folded(text)


def _show(name: str, value: object) -> str:
    """A value as a person reads it (dates dd/mm/yyyy, vault words capitalised)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y") if value.time() == datetime.min.time() \
            else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if name in ("status", "risk_level") and text.islower():
        return text.capitalize()
    return text


def _raw_text(value: object) -> str:
    if type(value) is str:
        return value
    return _show("", value)


# --- what a run holds ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One field on which a matched national row and its regional record disagree."""

    field: str
    label: str
    heading: str  # the national list's own column heading
    national: str  # as the national list has it (shown)
    regional: str  # as the regional record has it (shown)

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "label": self.label, "heading": self.heading,
                "national": self.national, "regional": self.regional}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldDifference:
        return cls(str(data["field"]), str(data["label"]), str(data["heading"]),
                   str(data["national"]), str(data["regional"]))


@dataclass(frozen=True, slots=True)
class CandidateMatch:
    """A regional record that may be the person on a national row, and why."""

    ref: str
    score: float
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "score": self.score, "reasons": list(self.reasons)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CandidateMatch:
        return cls(str(data["ref"]), float(data["score"]), tuple(data["reasons"]))


@dataclass(slots=True)
class RowResult:
    """What matching said about one national row."""

    row: int
    kind: str
    ref: str | None
    how: str
    source: NationalRow = field(repr=False, compare=False)
    differences: list[FieldDifference] = field(default_factory=list)
    candidates: list[CandidateMatch] = field(default_factory=list)
    _national: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def national(self) -> dict[str, Any]:
        """The row's fields as read (JSON-ready) and "raw": the row as written (made when
        first asked for: most rows of a large list never need it)."""
        if self._national is None:
            self._national = _national_fields(self.source)
        return self._national


@dataclass(slots=True)
class RegionalOnly:
    """A live regional nominal found on no national row and offered as no candidate."""

    ref: str


@dataclass(slots=True)
class ReconcileResult:
    """A whole run held in memory: the list's layout, every row's result, what was not read."""

    source_name: str
    source_sha256: str
    sheet_name: str | None
    header_row: int
    headers: tuple[str, ...]
    columns: dict[str, str]
    rows: list[RowResult]
    only_regional: list[RegionalOnly]
    rejected: list[RejectedRow]
    regional_count: int

    def counts(self) -> dict[str, int]:
        kinds = Counter(r.kind for r in self.rows)
        return {
            "national_rows": len(self.rows),
            "matched": kinds[MATCHED],
            "field_differences": kinds[DIFFERENCES],
            "only_national": kinds[ONLY_NATIONAL],
            "only_regional": len(self.only_regional),
            "possible_matches": kinds[POSSIBLE],
        }

    def as_json(self) -> dict[str, Any]:
        """The command line's contract (DESIGN.md)."""
        out: dict[str, Any] = dict(self.counts())
        out["rejected_rows"] = [{"row": r.row, "column": r.column, "error": r.error}
                                for r in self.rejected]
        return out


# --- the regional side -------------------------------------------------------------------------


_REGIONAL_COLUMNS = (
    NominalTable.id, NominalTable.ref, NominalTable.surname, NominalTable.forenames,
    NominalTable.dob, NominalTable.gender, NominalTable.pnc, NominalTable.pnc_norm,
    NominalTable.cro, NominalTable.status, NominalTable.force, NominalTable.establishment,
    NominalTable.release_date, NominalTable.nominal_manager, NominalTable.risk_level,
    NominalTable.mappa_category, NominalTable.mappa_level, NominalTable.offence,
    NominalTable.notification_end,
)  # fmt: skip
_REGIONAL_FIELDS = (
    "surname", "forenames", "dob", "gender", "pnc", "pnc_norm", "cro", "status", "force",
    "establishment", "release_date", "nominal_manager", "risk_level", "mappa_category",
    "mappa_level", "offence", "notification_end",
)  # fmt: skip


@dataclass(slots=True)
class _Regional:
    id: int
    ref: str
    values: dict[str, Any]
    aliases: tuple[tuple[str, str, date | None], ...]
    identifiers: tuple[tuple[str, str], ...]

    def key(self) -> PersonKey:
        v = self.values
        return PersonKey(ref=self.ref, surname=v["surname"] or "", forenames=v["forenames"] or "",
                         dob=v["dob"], pnc=v["pnc_norm"] or v["pnc"], cro=v["cro"],
                         identifiers=tuple((k, val) for k, val in self.identifiers
                                           if k not in ("pnc", "cro")),
                         aliases=self.aliases)


def _live() -> tuple[Any, ...]:
    return (NominalTable.merged_into_id.is_(None), NominalTable.erased.is_(False))


def _load_regional(s: Session, ids: Sequence[int] | None = None) -> list[_Regional]:
    """Live nominals (all, or those ids) with what matching and comparing need."""
    aliases: dict[int, list[tuple[str, str, date | None]]] = defaultdict(list)
    identifiers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    out: list[_Regional] = []
    chunks: Iterable[Sequence[int] | None] = (
        [None] if ids is None else [ids[i:i + 500] for i in range(0, len(ids), 500)]
    )
    for chunk in chunks:
        alias_q = select(NominalAlias.nominal_id, NominalAlias.surname, NominalAlias.forenames,
                         NominalAlias.dob)
        ident_q = select(NominalIdentifier.nominal_id, NominalIdentifier.type,
                         NominalIdentifier.value)
        main_q = select(*_REGIONAL_COLUMNS).where(*_live())
        if chunk is not None:
            alias_q = alias_q.where(NominalAlias.nominal_id.in_(chunk))
            ident_q = ident_q.where(NominalIdentifier.nominal_id.in_(chunk))
            main_q = main_q.where(NominalTable.id.in_(chunk))
        for nid, surname, forenames, dob in s.execute(alias_q):
            aliases[nid].append((surname or "", forenames or "", dob))
        for nid, kind, value in s.execute(ident_q):
            identifiers[nid].append((kind, value))
        for row in s.execute(main_q.order_by(NominalTable.id)):
            nid = int(row[0])
            out.append(_Regional(nid, str(row[1]), dict(zip(_REGIONAL_FIELDS, row[2:],
                                                           strict=True)),
                                 tuple(aliases.get(nid, ())), tuple(identifiers.get(nid, ()))))
    return out


def _regional_value(r: _Regional, name: str) -> object:
    return r.values.get(name)


# --- the national side ---------------------------------------------------------------------------


def _national_fields(row: NationalRow) -> dict[str, Any]:
    out: dict[str, Any] = {"surname": row.surname}
    for name in COMPARED_FIELDS:
        if name == "surname":
            continue
        value = getattr(row, name)
        if value is None:
            continue
        out[name] = value.isoformat() if isinstance(value, date) else value
    out["raw"] = [_raw_text(v) for v in row.values]
    return out


def _national_value(fields: dict[str, Any], name: str) -> object:
    value = fields.get(name)
    if value is not None and name in _DATES and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _compared_fields(columns: dict[str, str]) -> list[tuple[str, str]]:
    """(field, national heading) of every field the national list has a column for."""
    out: list[tuple[str, str]] = []
    for name in COMPARED_FIELDS:
        if name in columns:
            out.append((name, columns[name]))
        elif name in ("surname", "forenames") and "name" in columns:
            out.append((name, columns["name"]))
    return out


def _differences(theirs_of: Callable[[str], object], regional: _Regional,
                 compared: list[tuple[str, str]], rules: ValueRules) -> list[FieldDifference]:
    out: list[FieldDifference] = []
    for name, heading in compared:
        theirs = theirs_of(name)
        ours = _regional_value(regional, name)
        if not _same(name, theirs, ours, rules):
            out.append(FieldDifference(name, FIELD_LABELS[name], heading, _show(name, theirs),
                                       _show(name, ours)))
    return out


# --- matching ------------------------------------------------------------------------------------


@lru_cache(maxsize=262144)
def _tokens(text: str) -> frozenset[str]:
    return frozenset(canonical_tokens(text))


def _names_share_a_token(row: NationalRow, regional: _Regional) -> bool:
    theirs = _tokens(f"{row.surname} {row.forenames or ''}")
    v = regional.values
    if theirs & _tokens(f"{v['surname'] or ''} {v['forenames'] or ''}"):
        return True
    return any(theirs & _tokens(f"{s} {f}") for s, f, _d in regional.aliases)


@dataclass(slots=True)
class _Proposal:
    kind: str
    regional: int | None = None  # index into the regional list
    how: str = ""
    candidates: list[tuple[int, float, tuple[str, ...]]] = field(default_factory=list)
    extra_reason: str = ""


def _person(row: NationalRow, index: int, with_ids: bool) -> PersonKey:
    return PersonKey(ref=f"national row {row.row}", surname=row.surname,
                     forenames=row.forenames or "", dob=row.dob,
                     pnc=_pnc_key(row.pnc) if with_ids and row.pnc else None,
                     cro=row.cro if with_ids else None)


class _Matcher:
    """Matches national rows against the regional list (identifiers, then name and dob)."""

    def __init__(self, regional: list[_Regional], today: date,
                 cancelled: Cancelled | None) -> None:
        self.regional = regional
        self.today = today
        self.cancelled = cancelled
        self.by_pnc: dict[str, list[int]] = defaultdict(list)
        self.by_cro: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(regional):
            pncs = {key for p in (r.values["pnc_norm"], r.values["pnc"]) if p
                    for key in _pnc_keys(p)}
            pncs.update(key for k, v in r.identifiers if k == "pnc" and v for key in _pnc_keys(v))
            for key in pncs:
                self.by_pnc[key].append(i)
            cros = {_clean_cro(r.values["cro"])} if r.values["cro"] else set()
            cros.update(_clean_cro(v) for k, v in r.identifiers if k == "cro" and v)
            for key in cros:
                if key:
                    self.by_cro[key].append(i)
        self._prepared: dict[int, PreparedPerson] = {}
        self._blocks: dict[str, list[int]] = {}
        # Records an identifier already placed, by name and date of birth: a second national
        # row for one of them (the hub holding a person twice) is found without blocking the
        # whole regional list again.
        self._placed: dict[tuple[str, str, date | None], list[int]] = defaultdict(list)

    # -- identifiers -------------------------------------------------------------------------
    def by_identifier(self, row: NationalRow) -> dict[int, str]:
        hits: dict[int, str] = {}
        if row.pnc:
            for key in _pnc_keys(row.pnc):
                for i in self.by_pnc.get(key, ()):
                    hits[i] = "PNC ID"
        if row.cro:
            cro = _clean_cro(row.cro)
            for i in self.by_cro.get(cro, ()) if cro else ():
                hits[i] = "PNC ID and CRO number" if i in hits else "CRO number"
        return hits

    # -- name and date of birth ----------------------------------------------------------------
    def _one(self, i: int) -> PreparedPerson:
        found = self._prepared.get(i)
        if found is None:
            found = self._prepared[i] = prepare_person(self.regional[i].key(), self.today)
        return found

    def index(self, pool: Iterable[int], placed: Iterable[int]) -> None:
        """Block the records no identifier placed (the duplicate detector's keys)."""
        blocks: dict[str, list[int]] = defaultdict(list)
        for n, i in enumerate(pool):
            if n % 5000 == 0:
                _check(self.cancelled)
            for key in prepared_keys(self._one(i)):
                blocks[key].append(i)
        self._blocks = dict(blocks)
        for i in placed:
            v = self.regional[i].values
            surname, forenames = _folded(v["surname"] or ""), _folded(v["forenames"] or "")
            self._placed[(surname, forenames, v["dob"])].append(i)
            self._placed[(forenames, surname, v["dob"])].append(i)

    def candidates(self, row: NationalRow, index: int) -> list[tuple[int, float, tuple[str, ...]]]:
        """Regional records sharing a blocking key that score as plausible, best first."""
        full = prepare_person(_person(row, index, True), self.today)
        plain: PreparedPerson | None = None
        seen: set[int] = set()
        for key in prepared_keys(full):
            members = self._blocks.get(key)
            if members and len(members) <= MAX_CANDIDATE_BLOCK:
                seen.update(members)
        seen.update(self._placed.get(
            (_folded(row.surname), _folded(row.forenames or ""), row.dob), ()))
        found: list[tuple[int, float, tuple[str, ...]]] = []
        for i in sorted(seen):
            other = self._one(i)
            match = score_prepared(full, other, POSSIBLE_THRESHOLD)
            if match is None and (full.pnc is not None or full.cro is not None):
                if plain is None:
                    plain = prepare_person(_person(row, index, False), self.today)
                rescue = score_prepared(plain, other, NAME_DOB_RESCUE)
                if rescue is not None:
                    match = score_prepared(full, other)
            if match is not None:
                found.append((i, match.score, tuple(match.reasons)))
        found.sort(key=lambda c: (-c[1], self.regional[c[0]].ref))
        return found

    def exact_name_and_dob(self, row: NationalRow, i: int) -> bool:
        v = self.regional[i].values
        if row.dob is None or v["dob"] != row.dob or not row.forenames:
            return False
        if _folded(row.surname) != _folded(v["surname"] or ""):
            return False
        if _folded(row.forenames) != _folded(v["forenames"] or ""):
            return False
        # Two PNC IDs that disagree make it a question for a human, however alike the names.
        if row.pnc:
            ours = v["pnc_norm"] or v["pnc"]
            if ours and not set(_pnc_keys(ours)) & set(_pnc_keys(row.pnc)):
                return False
        return True

    # -- the whole list ---------------------------------------------------------------------------
    def propose(self, rows: Sequence[NationalRow], progress: Callable[[int], None]
                ) -> list[_Proposal]:
        proposals: list[_Proposal] = []
        for n, row in enumerate(rows):
            if n % 2000 == 0:
                progress(n)
            hits = self.by_identifier(row)
            if len(hits) == 1:
                (i, how), = hits.items()
                if _names_share_a_token(row, self.regional[i]) or (
                        row.dob is not None and row.dob == self.regional[i].values["dob"]):
                    proposals.append(_Proposal(MATCHED, i, how))
                    continue
                proposals.append(_Proposal(
                    POSSIBLE, candidates=self._score_each(row, n, [i]),
                    extra_reason=f"same {how}, but the names and date of birth differ"))
                continue
            if len(hits) > 1:
                scored = self._score_each(row, n, sorted(hits))
                proposals.append(_Proposal(POSSIBLE, candidates=scored, extra_reason=(
                    f"{len(hits)} regional records carry this row's identifiers")))
                continue
            proposals.append(_Proposal(ONLY_NATIONAL))  # decided in the second pass
        # Second pass: name and date of birth for the rows no identifier placed.
        claimed = Counter(p.regional for p in proposals if p.kind == MATCHED)
        if any(p.kind == ONLY_NATIONAL for p in proposals):
            self.index((i for i in range(len(self.regional)) if not claimed[i]),
                       (i for i in claimed if i is not None))
        for n, (row, p) in enumerate(zip(rows, proposals, strict=True)):
            if p.kind != ONLY_NATIONAL:
                continue
            if n % 500 == 0:
                _check(self.cancelled)
            found = self.candidates(row, n)
            if not found:
                continue
            best = found[0][0]
            others = [c for c in found[1:] if c[1] >= DEFAULT_THRESHOLD]
            if not others and self.exact_name_and_dob(row, best) and not claimed[best]:
                proposals[n] = _Proposal(MATCHED, best, "name and date of birth")
                claimed[best] += 1
            else:
                proposals[n] = _Proposal(POSSIBLE, candidates=[
                    (i, score, (*reasons, "this record already matches another national row")
                     if claimed[i] else reasons) for i, score, reasons in found])
        # A regional record matched by two rows: the national list holds the person twice.
        by_regional: dict[int, list[int]] = defaultdict(list)
        for n, p in enumerate(proposals):
            if p.kind == MATCHED and p.regional is not None:
                by_regional[p.regional].append(n)
        for i, ns in by_regional.items():
            if len(ns) < 2:
                continue
            rows_text = ", ".join(str(rows[n].row) for n in ns)
            for n in ns:
                reason = f"national rows {rows_text} all match this record (twice on the list?)"
                proposals[n] = _Proposal(POSSIBLE, candidates=[
                    (i, 1.0, (f"same {proposals[n].how}", reason))])
        return proposals

    def _score_each(self, row: NationalRow, index: int, regional: Sequence[int]
                    ) -> list[tuple[int, float, tuple[str, ...]]]:
        full = prepare_person(_person(row, index, True), self.today)
        out = []
        for i in regional:
            match = score_prepared(full, self._one(i))
            assert match is not None
            out.append((i, match.score, tuple(match.reasons)))
        out.sort(key=lambda c: (-c[1], self.regional[c[0]].ref))
        return out


def _check(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        from app.io.national_import import ImportCancelled

        raise ImportCancelled("The reconciliation was cancelled; nothing was changed.")


def match_national_list(
    national: NationalList,
    regional: list[_Regional],
    rules: ValueRules,
    *,
    sha256: str,
    today: date | None = None,
    cancelled: Cancelled | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReconcileResult:
    """Match every national row against the regional records and explain each result."""
    now = today or date.today()
    matcher = _Matcher(regional, now, cancelled)
    rows = national.rows
    proposals = matcher.propose(rows, progress or (lambda _n: None))
    compared = _compared_fields(national.columns)
    results: list[RowResult] = []
    offered: set[int] = set()
    matched: set[int] = set()
    for row, p in zip(rows, proposals, strict=True):
        if p.kind == MATCHED and p.regional is not None:
            r = regional[p.regional]
            matched.add(p.regional)
            diffs = _differences(partial(getattr, row), r, compared, rules)
            results.append(RowResult(row.row, DIFFERENCES if diffs else MATCHED, r.ref, p.how,
                                     row, diffs))
        elif p.kind == POSSIBLE:
            shown = p.candidates[:CANDIDATES_SHOWN]
            offered.update(i for i, _s, _r in shown)
            candidates = [
                CandidateMatch(regional[i].ref, round(score, 4),
                               (*reasons, p.extra_reason) if p.extra_reason else reasons)
                for i, score, reasons in shown
            ]
            results.append(RowResult(row.row, POSSIBLE, None, "", row, [], candidates))
        else:
            results.append(RowResult(row.row, ONLY_NATIONAL, None, "", row))
    only_regional = [RegionalOnly(r.ref) for i, r in enumerate(regional)
                     if i not in matched and i not in offered]
    return ReconcileResult(
        source_name=national.source_name, source_sha256=sha256, sheet_name=national.sheet_name,
        header_row=national.header_row, headers=national.headers,
        columns=dict(national.columns), rows=results, only_regional=only_regional,
        rejected=list(national.rejected), regional_count=len(regional),
    )


def read_national(
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 - frozen
    today: date | None = None,
) -> tuple[NationalList, str]:
    """Read a national list (untrusted input; needs no vault) and its SHA-256."""
    source = Path(path)
    sha = file_sha256(source, limits.max_file_bytes)
    national = read_national_list(source, progress=progress, cancelled=cancelled,
                                  limits=limits, today=today or date.today())
    return national, sha


def file_sha256(path: Path, limit: int) -> str:
    """The file's SHA-256 (read in chunks; a file over ``limit`` bytes is left to the reader)."""
    digest = hashlib.sha256()
    try:
        if path.stat().st_size > limit:
            return ""
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
    except OSError as exc:
        raise BadInput(f"{path.name}: the file cannot be read ({exc.strerror or 'unreadable'})"
                       ) from None
    return digest.hexdigest()


# --- saved runs: what the review screen reads ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One saved reconciliation, for the list to resume from."""

    id: int
    source_name: str
    source_sha256: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    counts: dict[str, int]  # current counts per kind, plus "rejected_rows" and "national_rows"
    decided: int  # decisions taken
    open_differences: int  # differences with no decision yet
    columns: dict[str, str]


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """One line of a category tab."""

    id: int
    kind: str
    first_kind: str
    national_row: int | None
    ref: str | None
    name: str
    dob: date | None
    how: str
    fields: tuple[str, ...]  # labels of the differing fields, or the best candidate's score
    best_score: float | None
    decided: int
    open: int  # differences or candidates with no decision


@dataclass(frozen=True, slots=True)
class FieldLine:
    """One line of the side-by-side view."""

    field: str
    label: str
    heading: str
    national: str
    regional: str
    differs: bool
    decision: str | None


@dataclass(frozen=True, slots=True)
class CandidateView:
    """A candidate as the review screen shows it: the record beside the row, and why."""

    ref: str
    score: float
    reasons: tuple[str, ...]
    lines: tuple[FieldLine, ...]
    decision: str | None


@dataclass(frozen=True, slots=True)
class ItemDetail:
    """Everything the side-by-side view shows for one item."""

    id: int
    run_id: int
    kind: str
    first_kind: str
    national_row: int | None
    ref: str | None
    how: str
    lines: tuple[FieldLine, ...]
    differences: tuple[FieldDifference, ...]
    candidates: tuple[CandidateView, ...]
    decisions: dict[str, str]
    raw: tuple[tuple[str, str], ...]  # the national row as written: (heading, value)


def _name_of(fields: dict[str, Any]) -> str:
    surname = str(fields.get("surname") or "")
    forenames = str(fields.get("forenames") or "")
    return f"{surname.upper()}, {forenames}".rstrip(", ") if surname else forenames


# --- the service ----------------------------------------------------------------------------------


class ReconcileService(Service):
    """Reconcile the regional list with the national headcount."""

    # -- reading and matching (changes nothing) ------------------------------------------------
    @requires(Perm.RECONCILE)
    def run(
        self,
        path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
        limits: ImportLimits = ImportLimits(),  # noqa: B008 - frozen
        today: date | None = None,
    ) -> ReconcileResult:
        """Read a national list and match it against the regional list. Reads only.

        ``progress(done, 1000)`` covers reading, loading and matching; ``cancelled()`` stops
        it with ImportCancelled. A file that cannot be read raises BadInput naming it."""
        report = progress or (lambda _d, _t: None)
        national, sha = read_national(path, progress=lambda d, t: report(
            int(700 * d / t) if t else 0, 1000), cancelled=cancelled, limits=limits,
            today=today)
        return self.match(national, sha, progress=lambda d, t: report(700 + 300 * d // t, 1000),
                          cancelled=cancelled, today=today)

    @requires(Perm.RECONCILE)
    def match(
        self,
        national: NationalList,
        sha256: str,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
        today: date | None = None,
    ) -> ReconcileResult:
        """Match a national list already read (``read_national``) against the regional list."""
        report = progress or (lambda _d, _t: None)
        _check(cancelled)
        with self.vault.read() as s:
            rules = load_value_rules(s)
            regional = _load_regional(s)
        report(250, 1000)
        total = max(len(national.rows), 1)
        result = match_national_list(
            national, regional, rules, sha256=sha256, today=today, cancelled=cancelled,
            progress=lambda n: report(250 + int(750 * n / total), 1000))
        report(1000, 1000)
        return result

    # -- saving and resuming ----------------------------------------------------------------------
    @requires(Perm.RECONCILE)
    def save(self, result: ReconcileResult, progress: Progress | None = None) -> int:
        """Keep a run so that its review can be resumed; audited as a combination."""
        user = self.vault.actor.user
        now = utcnow()
        counts = result.counts()
        counts["rejected_rows"] = len(result.rejected)
        with self.vault.write() as s:
            run = Reconciliation(
                source_name=result.source_name[:260], source_sha256=result.source_sha256,
                sheet_name=(result.sheet_name or None) and str(result.sheet_name)[:100],
                header_row=result.header_row,
                headers=json.dumps(list(result.headers), ensure_ascii=False),
                columns=json.dumps(result.columns, ensure_ascii=False),
                counts=json.dumps(counts),
                rejected=json.dumps([{"row": r.row, "column": r.column, "error": r.error,
                                      "dropped": r.dropped} for r in result.rejected],
                                    ensure_ascii=False),
                created_at=now, created_by=user, updated_at=now, updated_by=user,
            )
            s.add(run)
            s.flush()
            ids = {r.ref: r.id for r in _ref_ids(s, result)}
            conn = s.connection()
            batch: list[dict[str, Any]] = []
            total = len(result.rows) + len(result.only_regional)
            for position, item in enumerate(self._item_rows(run.id, result, ids)):
                batch.append(item)
                if len(batch) >= ITEM_BATCH:
                    conn.execute(insert(ReconciliationItem), batch)
                    batch.clear()
                    if progress:
                        progress(position, total)
            if batch:
                conn.execute(insert(ReconciliationItem), batch)
            self.vault.audit(
                s, Category.COMBINATION, "reconcile.save", entity="reconciliation",
                ref=str(run.id), reason=f"Reconciliation with national list {result.source_name}",
                detail={"file": result.source_name, "sha256": result.source_sha256,
                        "counts": counts, "regional_records": result.regional_count})
            return int(run.id)

    @staticmethod
    def _item_rows(run_id: int, result: ReconcileResult, ids: dict[str, int]
                   ) -> Iterator[dict[str, Any]]:
        position = 0
        for r in result.rows:
            yield {"reconciliation_id": run_id, "kind": r.kind, "first_kind": r.kind,
                   "position": position, "national_row": r.row,
                   "nominal_id": ids.get(r.ref) if r.ref else None, "how": r.how[:80],
                   "national": json.dumps(r.national, ensure_ascii=False),
                   "differences": json.dumps([d.as_json() for d in r.differences],
                                             ensure_ascii=False),
                   "candidates": json.dumps([c.as_json() for c in r.candidates],
                                            ensure_ascii=False)}
            position += 1
        for o in result.only_regional:
            yield {"reconciliation_id": run_id, "kind": ONLY_REGIONAL,
                   "first_kind": ONLY_REGIONAL, "position": position, "national_row": None,
                   "nominal_id": ids.get(o.ref), "how": "", "national": "{}",
                   "differences": "[]", "candidates": "[]"}
            position += 1

    @requires(Perm.RECONCILE)
    def runs(self) -> list[RunSummary]:
        """Saved reconciliations, most recently worked on first."""
        with self.vault.read() as s:
            rows = s.scalars(select(Reconciliation).order_by(Reconciliation.updated_at.desc(),
                                                             Reconciliation.id.desc())).all()
            return [self._summary(s, r) for r in rows]

    @requires(Perm.RECONCILE)
    def summary(self, run_id: int) -> RunSummary:
        with self.vault.read() as s:
            return self._summary(s, self._run(s, run_id))

    def _summary(self, s: Session, run: Reconciliation) -> RunSummary:
        kinds = dict(s.execute(
            select(ReconciliationItem.kind, func.count())
            .where(ReconciliationItem.reconciliation_id == run.id)
            .group_by(ReconciliationItem.kind)).all())
        stored = json.loads(run.counts or "{}")
        counts = {k: int(kinds.get(k, 0)) for k in KINDS}
        counts["national_rows"] = int(stored.get("national_rows", 0))
        counts["rejected_rows"] = int(stored.get("rejected_rows", 0))
        decided = int(s.scalar(select(func.count()).select_from(ReconciliationDecision).where(
            ReconciliationDecision.reconciliation_id == run.id)) or 0)
        open_differences = 0
        field_decisions = self._decisions(s, run.id)
        for item_id, diffs in s.execute(
                select(ReconciliationItem.id, ReconciliationItem.differences)
                .where(ReconciliationItem.reconciliation_id == run.id,
                       ReconciliationItem.kind == DIFFERENCES)):
            for d in json.loads(diffs):
                if (item_id, d["field"]) not in field_decisions:
                    open_differences += 1
        return RunSummary(run.id, run.source_name, run.source_sha256, run.created_at,
                          run.created_by, run.updated_at, counts, decided, open_differences,
                          json.loads(run.columns or "{}"))

    @requires(Perm.RECONCILE)
    def rejected(self, run_id: int) -> list[RejectedRow]:
        """The rows and values of a saved run's list that could not be read."""
        with self.vault.read() as s:
            run = self._run(s, run_id)
            return [RejectedRow(int(r["row"]), str(r["column"]), str(r["error"]),
                                bool(r.get("dropped", True)))
                    for r in json.loads(run.rejected or "[]")]

    @requires(Perm.RECONCILE)
    def count(self, run_id: int, kind: str) -> int:
        with self.vault.read() as s:
            self._run(s, run_id)
            return int(s.scalar(select(func.count()).select_from(ReconciliationItem).where(
                ReconciliationItem.reconciliation_id == run_id,
                ReconciliationItem.kind == kind)) or 0)

    @requires(Perm.RECONCILE)
    def items(self, run_id: int, kind: str, offset: int = 0, limit: int = 200
              ) -> list[ItemSummary]:
        """One page of a category, in the national list's order (regional ones by ref)."""
        if kind not in KINDS:
            raise ValidationError("kind", "is not a reconciliation category")
        with self.vault.read() as s:
            self._run(s, run_id)
            rows = s.scalars(
                select(ReconciliationItem)
                .where(ReconciliationItem.reconciliation_id == run_id,
                       ReconciliationItem.kind == kind)
                .order_by(ReconciliationItem.position)
                .offset(max(offset, 0)).limit(min(max(limit, 0), 1000))).all()
            decisions = self._decisions(s, run_id, [r.id for r in rows])
            regional: dict[int, _Regional] = {}
            if kind == ONLY_REGIONAL:
                ids = [r.nominal_id for r in rows if r.nominal_id is not None]
                regional = {r.id: r for r in _load_regional_any(s, ids)}
            out: list[ItemSummary] = []
            for r in rows:
                national = json.loads(r.national)
                diffs = json.loads(r.differences)
                cands = json.loads(r.candidates)
                made = sum(1 for (i, _f) in decisions if i == r.id)
                if kind == ONLY_REGIONAL and r.nominal_id in regional:
                    reg = regional[r.nominal_id]
                    name = _name_of({"surname": reg.values["surname"],
                                     "forenames": reg.values["forenames"]})
                    dob = reg.values["dob"]
                else:
                    name = _name_of(national)
                    dob = _national_value(national, "dob")
                if kind == POSSIBLE:
                    labels = tuple(c["ref"] for c in cands)
                    open_count = sum(1 for c in cands
                                     if (r.id, f"candidate:{c['ref']}") not in decisions)
                else:
                    labels = tuple(d["label"] for d in diffs)
                    open_count = sum(1 for d in diffs if (r.id, d["field"]) not in decisions)
                out.append(ItemSummary(
                    r.id, r.kind, r.first_kind, r.national_row,
                    format_ref(r.nominal_id) if r.nominal_id else None, name,
                    dob if isinstance(dob, date) else None, r.how, labels,
                    float(cands[0]["score"]) if cands else None, made, open_count))
            return out

    @requires(Perm.RECONCILE)
    def item(self, item_id: int) -> ItemDetail:
        """One item side by side: the national row and the regional record as it is now."""
        with self.vault.read() as s:
            item = self._item(s, item_id)
            run = self._run(s, item.reconciliation_id)
            return self._detail(s, run, item)

    def _detail(self, s: Session, run: Reconciliation, item: ReconciliationItem) -> ItemDetail:
        rules = load_value_rules(s)
        columns: dict[str, str] = json.loads(run.columns or "{}")
        headers: list[str] = json.loads(run.headers or "[]")
        national = json.loads(item.national)
        decisions = {f: c for (_i, f), c in self._decisions(s, run.id, [item.id]).items()}
        diffs = tuple(FieldDifference.from_json(d) for d in json.loads(item.differences))
        compared = _compared_fields(columns)
        regional = _load_regional_any(s, [item.nominal_id]) if item.nominal_id else []
        reg = regional[0] if regional else None
        lines = _lines(national, reg, compared, rules, decisions, item.kind == ONLY_REGIONAL)
        candidates: list[CandidateView] = []
        cands = [CandidateMatch.from_json(c) for c in json.loads(item.candidates)]
        if cands:
            ids = [i for i in (parse_ref(c.ref) for c in cands) if i is not None]
            found = {r.ref: r for r in _load_regional_any(s, ids)}
            for c in cands:
                lines_c = _lines(national, found.get(c.ref), compared, rules, {}, False)
                candidates.append(CandidateView(c.ref, c.score, c.reasons, lines_c,
                                                decisions.get(f"candidate:{c.ref}")))
        raw = tuple(zip(headers, [str(v) for v in national.get("raw", [])], strict=False))
        return ItemDetail(item.id, run.id, item.kind, item.first_kind, item.national_row,
                          format_ref(item.nominal_id) if item.nominal_id else None, item.how,
                          lines, diffs, tuple(candidates), decisions, raw)

    # -- decisions ---------------------------------------------------------------------------------
    @requires(Perm.RECONCILE)
    def decide(self, item_id: int, field_name: str, choice: str | None, note: str = ""
               ) -> ItemDetail:
        """Record (or with ``choice=None`` clear) the decision on one difference.

        "update_ours" changes the regional record to the national value through
        ``NominalService.update`` (a revision and an audited alteration) before recording."""
        if choice not in (OURS_RIGHT, UPDATE_OURS, QUERY_HUB, None):
            raise ValidationError("choice", "must be ours_right, update_ours or query_hub")
        with self.vault.read() as s:
            item = self._item(s, item_id)
            run = self._run(s, item.reconciliation_id)
            diffs = {d["field"]: d for d in json.loads(item.differences)}
            if item.kind != DIFFERENCES or field_name not in diffs:
                raise ValidationError("field", "is not a difference of this row")
            previous = self._decisions(s, run.id, [item.id]).get((item.id, field_name))
            source_name, row = run.source_name, item.national_row
            national = json.loads(item.national)
            nominal_id = item.nominal_id
        if previous == UPDATE_OURS and choice != UPDATE_OURS:
            raise ValidationError("choice", "the regional record was already updated; change "
                                  "it back on the record itself if that was wrong")
        if choice == UPDATE_OURS and previous != UPDATE_OURS:
            if nominal_id is None:
                raise ValidationError("ref", "this row is not matched to a regional record")
            self._update_ours(nominal_id, field_name, national, source_name, row)
        with self.vault.write() as s:
            self._record(s, item_id, item.reconciliation_id, field_name, choice, note)
        return self.item(item_id)

    def _update_ours(self, nominal_id: int, name: str, national: dict[str, Any],
                     source_name: str, row: int | None) -> None:
        from app.services.nominals import NominalService

        with self.vault.read() as s:
            record = repo.load(s, nominal_id)
            rules = load_value_rules(s)
        if record is None or record.ref is None:
            raise NotFound("The regional record no longer exists.")
        value = _typed_value(name, _national_value(national, name), rules)
        updated = record.with_changes(**{name: value})
        reason = f"Reconciliation with national list {source_name} (row {row})"
        NominalService(self.vault).update(record.ref, updated, reason=reason[:500])

    @requires(Perm.RECONCILE)
    def confirm(self, item_id: int, ref: str) -> ItemDetail:
        """The row is this candidate: it becomes matched (with its differences, if any)."""
        with self.vault.write() as s:
            item = self._item(s, item_id)
            run = self._run(s, item.reconciliation_id)
            cands = [c["ref"] for c in json.loads(item.candidates)]
            if ref not in cands:
                raise ValidationError("ref", "is not a candidate of this row")
            if item.kind not in (POSSIBLE, ONLY_NATIONAL) and item.first_kind == POSSIBLE:
                raise ValidationError("ref", "a candidate is already confirmed; undo it first")
            nominal_id = parse_ref(ref)
            regional = _load_regional_any(s, [nominal_id] if nominal_id else [])
            if not regional:
                raise NotFound("The candidate record no longer exists (merged or erased?).")
            rules = load_value_rules(s)
            national = json.loads(item.national)
            diffs = _differences(partial(_national_value, national), regional[0],
                                 _compared_fields(json.loads(run.columns or "{}")), rules)
            item.kind = DIFFERENCES if diffs else MATCHED
            item.nominal_id = regional[0].id
            item.how = f"confirmed by {self.vault.actor.user}"[:80]
            item.differences = json.dumps([d.as_json() for d in diffs], ensure_ascii=False)
            self._record(s, item.id, run.id, f"candidate:{ref}", CONFIRM, "")
            for other in cands:
                if other != ref:
                    self._record(s, item.id, run.id, f"candidate:{other}", REJECT, "")
            self.vault.audit(s, Category.COMBINATION, "reconcile.confirm",
                             entity="reconciliation", ref=ref,
                             reason=f"Reconciliation with national list {run.source_name}",
                             detail={"reconciliation": run.id, "national_row": item.national_row})
        return self.item(item_id)

    @requires(Perm.RECONCILE)
    def reject(self, item_id: int, ref: str) -> ItemDetail:
        """The row is not this candidate; when every candidate is rejected the row is only on
        the national list."""
        with self.vault.write() as s:
            item = self._item(s, item_id)
            run = self._run(s, item.reconciliation_id)
            cands = [c["ref"] for c in json.loads(item.candidates)]
            if ref not in cands:
                raise ValidationError("ref", "is not a candidate of this row")
            if item.kind in (MATCHED, DIFFERENCES):
                raise ValidationError("ref", "a candidate is already confirmed; undo it first")
            self._record(s, item.id, run.id, f"candidate:{ref}", REJECT, "")
            decided = self._decisions(s, run.id, [item.id])
            if all(decided.get((item.id, f"candidate:{c}")) == REJECT for c in cands):
                item.kind = ONLY_NATIONAL
            self.vault.audit(s, Category.COMBINATION, "reconcile.reject",
                             entity="reconciliation", ref=ref,
                             reason=f"Reconciliation with national list {run.source_name}",
                             detail={"reconciliation": run.id, "national_row": item.national_row})
        return self.item(item_id)

    @requires(Perm.RECONCILE)
    def reopen(self, item_id: int) -> ItemDetail:
        """Undo the confirmation or rejections of a possible match (updates already made to
        regional records stay: they are on the record's own history)."""
        with self.vault.write() as s:
            item = self._item(s, item_id)
            run = self._run(s, item.reconciliation_id)
            if item.first_kind != POSSIBLE:
                raise ValidationError("item", "only a possible match can be reopened")
            s.execute(delete(ReconciliationDecision).where(
                ReconciliationDecision.item_id == item.id,
                ReconciliationDecision.choice != UPDATE_OURS))
            item.kind = POSSIBLE
            item.nominal_id = None
            item.how = ""
            item.differences = "[]"
            self._touch(s, run.id)
        return self.item(item_id)

    def _record(self, s: Session, item_id: int, run_id: int, field_name: str,
                choice: str | None, note: str) -> None:
        s.execute(delete(ReconciliationDecision).where(
            ReconciliationDecision.item_id == item_id,
            ReconciliationDecision.field == field_name))
        if choice is not None:
            s.add(ReconciliationDecision(
                reconciliation_id=run_id, item_id=item_id, field=field_name, choice=choice,
                note=" ".join(note.split())[:2000], decided_at=utcnow(),
                decided_by=self.vault.actor.user))
        self._touch(s, run_id)
        s.flush()

    def _touch(self, s: Session, run_id: int) -> None:
        s.execute(update(Reconciliation).where(Reconciliation.id == run_id).values(
            updated_at=utcnow(), updated_by=self.vault.actor.user))

    # -- the corrections return ------------------------------------------------------------------
    @requires(Perm.RECONCILE)
    def export_corrections(
        self,
        source: int | ReconcileResult,
        out: str | os.PathLike[str],
        *,
        recipient: str,
        justification: str,
        overwrite: bool = False,
        progress: ProgressSink | None = None,
    ) -> Disclosure:
        """Write the corrections return for a saved run (its id) or a run held in memory, and
        record the disclosure."""
        _written, disclosure = self._export(source, Path(out), recipient, justification,
                                            overwrite, progress)
        return disclosure

    def _export(self, source: int | ReconcileResult, out: Path, recipient: str,
                justification: str, overwrite: bool, progress: ProgressSink | None
                ) -> tuple[ExportResult, Disclosure]:
        if not allowed(self.vault.actor.role, Perm.EXPORT):
            from app.domain.errors import NotAllowed

            raise NotAllowed("Your role may not export returns (export.disclose).")
        from app.services.exports import ExportService

        recipient, justification = check_disclosure(recipient, justification)
        with self.vault.read() as s:
            data = (_ReturnData.from_saved(s, self._run(s, source)) if isinstance(source, int)
                    else _ReturnData.from_result(s, source))
        plan_sheets, refs = data.sheets()
        marking = most_restrictive([ExportService(self.vault).marking()])
        info = DocumentInfo(title="Reconciliation corrections return",
                            author=self.vault.actor.user, generated_at=datetime.now(),
                            marking=marking, period=f"National list: {data.source_name}",
                            app_version=__version__)
        counts: dict[str, int] = {}

        def write(stream: Any, sink: ProgressSink) -> None:
            counts.update(write_return(stream, info, plan_sheets, sink))

        written = atomic_export(out, write, overwrite=overwrite, progress=progress)
        detail = {
            "return": RETURN_NAME, "file": written.path.name, "sha256": written.sha256,
            "size": written.size, "app_version": __version__, "marking": marking.text,
            "sheets": counts, "included": refs.as_detail(), "national_list": data.source_name,
            "national_list_sha256": data.source_sha256, "reconciliation": data.run_id,
            "counts": data.counts,
        }
        try:
            with self.vault.write() as s:
                self.vault.audit(s, Category.DISCLOSURE, f"export.{RETURN_NAME}",
                                 entity="return", ref=RETURN_NAME, reason=justification,
                                 recipient=recipient, detail=detail)
        except BaseException:
            # No disclosure may stand on the media without its record.
            for p in (written.path, written.path.with_name(written.path.name + ".sha256")):
                with contextlib.suppress(OSError):
                    os.unlink(p)
            raise
        return written, Disclosure(written.path, written.sha256, written.size, RETURN_NAME,
                                   refs.count, marking.text)

    @requires(Perm.RECONCILE)
    def record_run(self, result: ReconcileResult) -> None:
        """Record an unsaved run (the command line's) as a combination in the audit."""
        with self.vault.write() as s:
            self.vault.audit(
                s, Category.COMBINATION, "reconcile.run", entity="reconciliation",
                ref=result.source_sha256[:16],
                reason=f"Reconciliation with national list {result.source_name}",
                detail={"file": result.source_name, "sha256": result.source_sha256,
                        "counts": result.counts(), "rejected_rows": len(result.rejected),
                        "saved": False})

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _run(s: Session, run_id: int) -> Reconciliation:
        run = s.get(Reconciliation, run_id)
        if run is None:
            raise NotFound("There is no saved reconciliation with that number.")
        return run

    @staticmethod
    def _item(s: Session, item_id: int) -> ReconciliationItem:
        item = s.get(ReconciliationItem, item_id)
        if item is None:
            raise NotFound("There is no such reconciliation row.")
        return item

    @staticmethod
    def _decisions(s: Session, run_id: int, item_ids: Sequence[int] | None = None
                   ) -> dict[tuple[int, str], str]:
        q = select(ReconciliationDecision.item_id, ReconciliationDecision.field,
                   ReconciliationDecision.choice).where(
            ReconciliationDecision.reconciliation_id == run_id)
        out: dict[tuple[int, str], str] = {}
        chunks = [None] if item_ids is None else [item_ids[i:i + 500]
                                                   for i in range(0, len(item_ids), 500)]
        for chunk in chunks:
            query = q if chunk is None else q.where(ReconciliationDecision.item_id.in_(chunk))
            for item_id, field_name, choice in s.execute(query):
                out[(int(item_id), str(field_name))] = str(choice)
        return out


def _ref_ids(s: Session, result: ReconcileResult) -> list[Any]:
    refs = {r.ref for r in result.rows if r.ref} | {o.ref for o in result.only_regional}
    ids = sorted(i for i in (parse_ref(r) for r in refs) if i is not None)
    out: list[Any] = []
    for start in range(0, len(ids), 500):
        out.extend(s.execute(select(NominalTable.ref, NominalTable.id).where(
            NominalTable.id.in_(ids[start:start + 500]))).all())
    return out


def _load_regional_any(s: Session, ids: Sequence[int]) -> list[_Regional]:
    """Those records whether live or not (a saved run may name one merged since)."""
    out: list[_Regional] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        found = {r.id: r for r in _load_regional_rows(s, chunk)}
        out.extend(found[i] for i in chunk if i in found)
    return out


def _load_regional_rows(s: Session, ids: Sequence[int]) -> list[_Regional]:
    aliases: dict[int, list[tuple[str, str, date | None]]] = defaultdict(list)
    for nid, surname, forenames, dob in s.execute(
            select(NominalAlias.nominal_id, NominalAlias.surname, NominalAlias.forenames,
                   NominalAlias.dob).where(NominalAlias.nominal_id.in_(ids))):
        aliases[nid].append((surname or "", forenames or "", dob))
    return [
        _Regional(int(row[0]), str(row[1]), dict(zip(_REGIONAL_FIELDS, row[2:], strict=True)),
                  tuple(aliases.get(int(row[0]), ())), ())
        for row in s.execute(select(*_REGIONAL_COLUMNS).where(NominalTable.id.in_(ids)))
    ]


def _lines(national: dict[str, Any], regional: _Regional | None,
           compared: list[tuple[str, str]], rules: ValueRules, decisions: dict[str, str],
           regional_only: bool) -> tuple[FieldLine, ...]:
    out: list[FieldLine] = []
    headings = dict(compared)
    for name in COMPARED_FIELDS:
        heading = headings.get(name, "")
        if not heading and regional is None:
            continue  # neither side has it
        theirs = _national_value(national, name) if heading else None
        ours = _regional_value(regional, name) if regional is not None else None
        differs = bool(heading) and regional is not None and not regional_only and (
            not _same(name, theirs, ours, rules))
        out.append(FieldLine(name, FIELD_LABELS[name], heading,
                             _show(name, theirs) if heading else "", _show(name, ours),
                             differs, decisions.get(name)))
    return tuple(out)


def _typed_value(name: str, value: object, rules: ValueRules) -> object:
    """A national value as the regional record stores it (for "update ours")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if name == "surname":
            raise ValidationError("surname", "the national list has no surname to copy")
        return "" if name == "forenames" else None
    if name in _DATES:
        return value
    if name in _INTS:
        text = _int_text(value)
        if text is None or not text.isdigit():
            raise ValidationError(name, "the national value is not a number the record can hold")
        return int(text)
    text = " ".join(str(value).split())
    enums: dict[str, Any] = {"status": Status, "risk_level": RiskLevel, "gender": Gender}
    if name in enums:
        table: dict[str, str] = getattr(rules, name)
        key = table.get(_folded(text))
        try:
            return enums[name](key)
        except ValueError:
            raise ValidationError(name, "the national value is not one the record can hold"
                                  ) from None
    if name == "pnc":
        parsed = parse_pnc(text)
        return parsed.normalised if parsed else text
    if name == "force":
        return rules.force_name(text)
    if name in ("surname", "forenames") and text.isupper() and len(text) > 1:
        return re.sub(r"[A-Za-z]+('[A-Za-z]+)?", lambda m: m.group(0).capitalize(), text.lower())
    return text


# --- the corrections return -----------------------------------------------------------------------


# Column widths (characters) of the return's sheets, by field.
_WIDTHS: Final[dict[str, float]] = {
    "name": 28, "surname": 18, "forenames": 20, "pnc": 16, "cro": 13, "gender": 8,
    "status": 12, "force": 28, "establishment": 20, "nominal_manager": 24, "risk_level": 10,
    "mappa_category": 9, "mappa_level": 9, "offence": 48,
}


@dataclass
class _ReturnData:
    """What the corrections return lists, from a saved run or from one held in memory."""

    source_name: str
    source_sha256: str
    run_id: int | None
    headers: list[str]
    columns: dict[str, str]
    rejected: list[dict[str, Any]]
    # (national row, ref, difference, decision or None)
    corrections: list[tuple[int, str, FieldDifference, str | None]]
    updated: int
    to_add: list[_Regional]
    # (national row, reason, raw values)
    to_remove: list[tuple[int, str, list[str]]]
    # (national row, national fields, candidate, candidate record)
    unresolved: list[tuple[int, dict[str, Any], CandidateMatch, _Regional | None]]
    counts: dict[str, int]

    @classmethod
    def from_result(cls, s: Session, result: ReconcileResult) -> _ReturnData:
        corrections: list[tuple[int, str, FieldDifference, str | None]] = [
            (r.row, r.ref or "", d, None) for r in result.rows
            if r.kind == DIFFERENCES for d in r.differences]
        to_remove = [(r.row, "Not found on the regional list", list(r.national.get("raw", [])))
                     for r in result.rows if r.kind == ONLY_NATIONAL]
        refs = [i for i in (parse_ref(o.ref) for o in result.only_regional) if i is not None]
        cand_ids = sorted({i for r in result.rows for c in r.candidates
                           for i in [parse_ref(c.ref)] if i is not None})
        cand = {r.ref: r for r in _load_regional_any(s, cand_ids)}
        unresolved = [(r.row, r.national, c, cand.get(c.ref)) for r in result.rows
                      if r.kind == POSSIBLE for c in r.candidates]
        counts = dict(result.counts())
        counts["rejected_rows"] = len(result.rejected)
        return cls(result.source_name, result.source_sha256, None, list(result.headers),
                   dict(result.columns),
                   [{"row": r.row, "column": r.column, "error": r.error}
                    for r in result.rejected],
                   corrections, 0, _load_regional_any(s, refs), to_remove, unresolved, counts)

    @classmethod
    def from_saved(cls, s: Session, run: Reconciliation) -> _ReturnData:
        decisions: dict[tuple[int, str], str] = ReconcileService._decisions(s, run.id)
        corrections: list[tuple[int, str, FieldDifference, str | None]] = []
        to_remove: list[tuple[int, str, list[str]]] = []
        unresolved_raw: list[tuple[int, dict[str, Any], CandidateMatch]] = []
        add_ids: list[int] = []
        linked: set[int] = set()
        rejected_candidates: set[int] = set()
        updated = 0
        kinds: Counter[str] = Counter()
        for item in s.scalars(select(ReconciliationItem).where(
                ReconciliationItem.reconciliation_id == run.id)
                .order_by(ReconciliationItem.position)):
            kinds[item.kind] += 1
            if item.kind in (MATCHED, DIFFERENCES) and item.nominal_id is not None:
                linked.add(item.nominal_id)
            if item.kind == DIFFERENCES:
                for d in json.loads(item.differences):
                    diff = FieldDifference.from_json(d)
                    choice = decisions.get((item.id, diff.field))
                    if choice == UPDATE_OURS:
                        updated += 1
                        continue
                    corrections.append((item.national_row or 0,
                                        format_ref(item.nominal_id) if item.nominal_id else "",
                                        diff, choice))
            elif item.kind == ONLY_NATIONAL:
                national = json.loads(item.national)
                reason = ("Every suggested regional record was rejected"
                          if item.first_kind == POSSIBLE else "Not found on the regional list")
                to_remove.append((item.national_row or 0, reason, list(national.get("raw", []))))
                for c in json.loads(item.candidates):
                    i = parse_ref(c["ref"])
                    if i is not None:
                        rejected_candidates.add(i)
            elif item.kind == POSSIBLE:
                national = json.loads(item.national)
                for c in json.loads(item.candidates):
                    cm = CandidateMatch.from_json(c)
                    i = parse_ref(cm.ref)
                    if decisions.get((item.id, f"candidate:{cm.ref}")) == REJECT:
                        if i is not None:
                            rejected_candidates.add(i)
                        continue
                    if i is not None:
                        linked.add(i)
                    unresolved_raw.append((item.national_row or 0, national, cm))
            elif item.kind == ONLY_REGIONAL and item.nominal_id is not None:
                add_ids.append(item.nominal_id)
        add_ids.extend(sorted(rejected_candidates - linked - set(add_ids)))
        cand_ids = sorted({i for _r, _n, c in unresolved_raw
                           for i in [parse_ref(c.ref)] if i is not None})
        cand = {r.ref: r for r in _load_regional_any(s, cand_ids)}
        stored = json.loads(run.counts or "{}")
        counts = {
            "national_rows": int(stored.get("national_rows", 0)),
            "matched": kinds[MATCHED], "field_differences": kinds[DIFFERENCES],
            "only_national": kinds[ONLY_NATIONAL], "only_regional": len(add_ids),
            "possible_matches": kinds[POSSIBLE],
            "rejected_rows": int(stored.get("rejected_rows", 0)),
        }
        return cls(run.source_name, run.source_sha256, run.id, json.loads(run.headers or "[]"),
                   json.loads(run.columns or "{}"), json.loads(run.rejected or "[]"),
                   corrections, updated, _load_regional_any(s, add_ids), to_remove,
                   [(r, n, c, cand.get(c.ref)) for r, n, c in unresolved_raw], counts)

    # -- sheets ----------------------------------------------------------------------------------
    def sheets(self) -> tuple[list[SheetSpec], IncludedRefs]:
        refs = IncludedRefs()
        seen: set[str] = set()

        def include(ref: str) -> None:
            if ref and ref not in seen:
                seen.add(ref)
                refs.add(ref)

        for _row, ref, _d, _c in self.corrections:
            include(ref)
        for r in self.to_add:
            include(r.ref)
        for _row, _n, c, _r in self.unresolved:
            include(c.ref)
        return [self._summary(), self._corrections(), self._to_add(), self._to_remove(),
                self._unresolved(), self._not_read()], refs

    def _summary(self) -> SheetSpec:
        decided = Counter(c for _r, _f, _d, c in self.corrections)
        c = self.counts
        rows: list[tuple[object, ...]] = [
            ("National list", None, self.source_name),
            ("National list SHA-256", None, self.source_sha256),
            ("Rows read from the national list", c.get("national_rows", 0), ""),
            ("Matched, no differences", c.get("matched", 0), ""),
            ("Matched with field differences", c.get("field_differences", 0),
             "each difference is a line of 'Corrections'"),
            ("Field corrections for the national list", len(self.corrections),
             "sheet 'Corrections'"),
            ("   of which: our record is right", decided[OURS_RIGHT], ""),
            ("   of which: to query with the hub", decided[QUERY_HUB], ""),
            ("   of which: not yet reviewed", decided[None], ""),
            ("Regional records updated to the national value", self.updated,
             "no correction needed"),
            ("People to add to the national list", len(self.to_add), "sheet 'People to add'"),
            ("People to remove or query", len(self.to_remove), "sheet 'Remove or query'"),
            ("Possible matches not yet resolved", c.get("possible_matches", 0),
             "sheet 'Possible matches'"),
            ("Rows or values that could not be read", len(self.rejected), "sheet 'Not read'"),
        ]
        return SheetSpec("Summary", [Column("What", width=46), Column("Count", "int", 10),
                                     Column("Note", width=70)], rows, expected_rows=len(rows))

    def _corrections(self) -> SheetSpec:
        words = {OURS_RIGHT: "Please correct: the regional record is right",
                 QUERY_HUB: "Query: please check with the region",
                 None: "Not yet reviewed by the region"}
        rows = [(row, ref, d.heading, d.national or "(blank)", d.regional or "(blank)",
                 words.get(choice, choice))
                for row, ref, d, choice in sorted(self.corrections,
                                                  key=lambda t: (t[0], t[2].field))]
        return SheetSpec("Corrections", [
            Column("National row", "int", 12), Column("Regional ref", width=13),
            Column("Column", width=22), Column("National list has", width=30),
            Column("Should be (regional record)", width=30), Column("Action", width=44),
        ], rows, expected_rows=len(rows))

    def _fields_in_order(self) -> list[tuple[str, str]]:
        """(field, heading) of the recognised columns, in the national list's own order."""
        order = {h: i for i, h in enumerate(self.headers)}
        pairs = [(f, h) for f, h in self.columns.items() if f in COMPARED_FIELDS or f == "name"]
        return sorted(pairs, key=lambda p: order.get(p[1], 10_000))

    def _to_add(self) -> SheetSpec:
        fields = self._fields_in_order()
        columns = [Column("Regional ref", width=13)] + [
            Column(h, "date" if f in _DATES else "text", _WIDTHS.get(f, 14 if f in _DATES
                                                                    else 18))
            for f, h in fields]

        def value(r: _Regional, f: str) -> object:
            if f == "name":
                return _name_of({"surname": r.values["surname"],
                                 "forenames": r.values["forenames"]})
            v = r.values.get(f)
            if f == "pnc":
                v = r.values.get("pnc_norm") or v
            return v if f in _DATES else (_show(f, v) or None)

        rows = [(r.ref, *(value(r, f) for f, _h in fields))
                for r in sorted(self.to_add, key=lambda r: r.ref)]
        return SheetSpec("People to add", columns, rows, expected_rows=len(rows))

    def _to_remove(self) -> SheetSpec:
        columns = [Column("National row", "int", 12), Column("Reason", width=34)] + [
            Column(h, width=18) for h in self.headers]
        rows = [(row, reason, *(raw + [""] * (len(self.headers) - len(raw)))[:len(self.headers)])
                for row, reason, raw in self.to_remove]
        return SheetSpec("Remove or query", columns, rows, expected_rows=len(rows))

    def _unresolved(self) -> SheetSpec:
        identity = [(f, h) for f, h in self._fields_in_order()
                    if f in ("name", "surname", "forenames", "dob", "pnc", "cro")]
        columns = [Column("National row", "int", 12)] + [
            Column(h, "date" if f in _DATES else "text", 14 if f in _DATES else 20)
            for f, h in identity] + [
            Column("Regional ref", width=13), Column("Regional name", width=26),
            Column("Regional date of birth", "date", 14), Column("Regional PNC ID", width=16),
            Column("Score", "float", 8), Column("Why it may be the same person", width=60)]

        def national_value(n: dict[str, Any], f: str) -> object:
            if f == "name":
                return _name_of(n)
            return _national_value(n, f)

        rows = []
        for row, n, c, r in self.unresolved:
            reg_name = _name_of({"surname": r.values["surname"],
                                 "forenames": r.values["forenames"]}) if r else ""
            rows.append((row, *(national_value(n, f) for f, _h in identity), c.ref, reg_name,
                         r.values["dob"] if r else None,
                         (r.values["pnc_norm"] or r.values["pnc"]) if r else None,
                         c.score, "; ".join(c.reasons)))
        return SheetSpec("Possible matches", columns, rows, expected_rows=len(rows))

    def _not_read(self) -> SheetSpec:
        rows = [(r["row"], r["column"], r["error"]) for r in self.rejected]
        return SheetSpec("Not read", [Column("National row", "int", 12),
                                      Column("Column", width=24), Column("Problem", width=60)],
                         rows, expected_rows=len(rows))


def corrections_writer(vault: Vault, request: ReturnRequest, out: Path,
                       progress: ProgressSink | None, recipient: str,
                       justification: str) -> ExportResult:
    """The registry's "corrections" return: the most recently worked-on saved reconciliation."""
    service = ReconcileService(vault)
    runs = service.runs()
    if not runs:
        raise ValidationError("return", "there is no saved reconciliation: reconcile a "
                              "national list in the Reconcile area first")
    written, _disclosure = service._export(runs[0].id, out, recipient, justification, False,
                                           progress)
    return written

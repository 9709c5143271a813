"""Nominal repository: rows to dataclasses and back, the search index, list queries.

Every function takes the caller's session (one unit of work per service call) and returns domain
dataclasses, never ORM rows. The FTS5 index is SQLite's; it is reached only from here."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    column,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Session

from app.domain.names import canonical_token, fold, name_tokens, search_keys
from app.domain.nominal import (
    Address,
    Alias,
    Gender,
    Identifier,
    IdentifierType,
    LicenceDates,
    NominalFilter,
    NominalRow,
    RiskLevel,
    Rosh,
    SortKey,
    Status,
    format_ref,
    parse_ref,
)
from app.domain.nominal import Nominal as NominalRecord
from app.domain.pnc import expand_year, parse_pnc
from app.store.models import Nominal, NominalAddress, NominalAlias, NominalIdentifier, Revision

RISK_RANK = {"high": 3, "medium": 2, "low": 1}
DATE_COLUMNS = ("sentence_date", "sed", "led", "crd", "ard", "ped", "npd", "tused", "hdced",
                "prrd", "notification_start")
SCALAR_FIELDS = ("surname", "forenames", "dob", "gender", "pnc", "cro", "status",
                 "establishment", "release_date", "risk_level", "mappa_category", "mappa_level",
                 "nominal_manager", "force", "offence", "notification_end", "notes", "rosh",
                 "retention_group")


# --- conversion ---------------------------------------------------------------------------------

_ASCII_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def clean_identifier(value: str) -> str:
    """Upper-case letters and digits only (an identifier as stored for matching)."""
    if value.isascii():
        # The common case, and the same result: in ASCII, isalnum() is [0-9A-Za-z].
        return _ASCII_NOT_ALNUM.sub("", value.upper())
    return "".join(ch for ch in value.upper() if ch.isalnum())


def _enum(kind: Any, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        return None


def column_values(n: NominalRecord) -> dict[str, Any]:
    """The nominal table's columns for a record (not id, ref, audit or merge columns)."""
    values: dict[str, Any] = {
        "surname": n.surname,
        "forenames": n.forenames,
        "sort_name": f"{fold(n.surname)} {fold(n.forenames)}".strip()[:260],
        "dob": n.dob,
        "gender": n.gender.value if n.gender else None,
        "pnc": n.pnc,
        "pnc_norm": n.pnc_normalised,
        "cro": n.cro,
        "status": n.status.value if n.status else None,
        "establishment": n.establishment,
        "release_date": n.release_date,
        "risk_level": n.risk_level.value if n.risk_level else None,
        "risk_rank": RISK_RANK.get(n.risk_level.value) if n.risk_level else None,
        "rosh": n.rosh.value if n.rosh else None,
        "mappa_category": n.mappa_category,
        "mappa_level": n.mappa_level,
        "nominal_manager": n.nominal_manager,
        "force": n.force,
        "offence": n.offence,
        "notification_end": n.notification_end,
        "notes": n.notes,
        "retention_group": n.retention_group or 3,
        "erased": n.erased,
    }
    for name in DATE_COLUMNS:
        values[name] = getattr(n.dates, name)
    return values


def _record(row: Nominal, aliases: Sequence[Alias], identifiers: Sequence[Identifier],
            addresses: Sequence[Address], merged_into: str | None) -> NominalRecord:
    return NominalRecord(
        ref=row.ref,
        surname=row.surname,
        forenames=row.forenames,
        dob=row.dob,
        gender=_enum(Gender, row.gender),
        pnc=row.pnc,
        cro=row.cro,
        aliases=tuple(aliases),
        status=_enum(Status, row.status),
        establishment=row.establishment,
        release_date=row.release_date,
        risk_level=_enum(RiskLevel, row.risk_level),
        mappa_category=row.mappa_category,
        mappa_level=row.mappa_level,
        nominal_manager=row.nominal_manager,
        force=row.force,
        offence=row.offence,
        notification_end=row.notification_end,
        notes=row.notes,
        identifiers=tuple(identifiers),
        addresses=tuple(addresses),
        dates=LicenceDates(**{name: getattr(row, name) for name in DATE_COLUMNS}),
        rosh=_enum(Rosh, row.rosh),
        retention_group=row.retention_group,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        merged_into=merged_into,
        merged_at=row.merged_at,
        erased=row.erased,
    )


def _children(session: Session, ids: Sequence[int]) -> tuple[
    dict[int, list[Alias]], dict[int, list[Identifier]], dict[int, list[Address]]
]:
    aliases: dict[int, list[Alias]] = defaultdict(list)
    identifiers: dict[int, list[Identifier]] = defaultdict(list)
    addresses: dict[int, list[Address]] = defaultdict(list)
    for chunk_start in range(0, len(ids), 500):
        chunk = list(ids[chunk_start:chunk_start + 500])
        for a in session.scalars(select(NominalAlias).where(NominalAlias.nominal_id.in_(chunk))
                                 .order_by(NominalAlias.nominal_id, NominalAlias.position,
                                           NominalAlias.id)):
            aliases[a.nominal_id].append(Alias(a.surname, a.forenames, a.dob))
        for i in session.scalars(select(NominalIdentifier)
                                 .where(NominalIdentifier.nominal_id.in_(chunk))
                                 .order_by(NominalIdentifier.nominal_id,
                                           NominalIdentifier.position, NominalIdentifier.id)):
            kind = _enum(IdentifierType, i.type)
            if kind is not None:
                identifiers[i.nominal_id].append(Identifier(kind, i.value))
        for d in session.scalars(select(NominalAddress)
                                 .where(NominalAddress.nominal_id.in_(chunk))
                                 .order_by(NominalAddress.nominal_id, NominalAddress.position,
                                           NominalAddress.id)):
            addresses[d.nominal_id].append(Address(d.text, d.postcode, d.date_from, d.date_to))
    return aliases, identifiers, addresses


def load_many(session: Session, ids: Sequence[int]) -> list[NominalRecord]:
    """Full records for ids, in the order given (missing ids are skipped)."""
    if not ids:
        return []
    rows: dict[int, Nominal] = {}
    for start in range(0, len(ids), 500):
        for row in session.scalars(select(Nominal).where(Nominal.id.in_(ids[start:start + 500]))):
            rows[row.id] = row
    merged_ids = {r.merged_into_id for r in rows.values() if r.merged_into_id is not None}
    merged_refs = {i: format_ref(i) for i in merged_ids}
    aliases, identifiers, addresses = _children(session, list(rows))
    return [
        _record(rows[i], aliases[i], identifiers[i], addresses[i],
                merged_refs.get(rows[i].merged_into_id or 0))
        for i in ids
        if i in rows
    ]


def load(session: Session, nominal_id: int) -> NominalRecord | None:
    found = load_many(session, [nominal_id])
    return found[0] if found else None


def id_for_ref(session: Session, ref: str) -> int | None:
    """The id of an existing nominal named NM-000123, NM-123 or 123."""
    number = parse_ref(ref)
    if number is None:
        return None
    exists = session.scalar(select(Nominal.id).where(Nominal.id == number))
    return int(exists) if exists is not None else None


def next_id(session: Session) -> int:
    return int(session.scalar(select(func.max(Nominal.id))) or 0) + 1


# --- writing ------------------------------------------------------------------------------------

def child_rows(nominal_id: int, n: NominalRecord, source: str = "") -> tuple[
    list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]
]:
    aliases = [
        {"nominal_id": nominal_id, "surname": a.surname, "forenames": a.forenames, "dob": a.dob,
         "source": source, "position": i}
        for i, a in enumerate(n.aliases)
    ]
    identifiers = [
        {"nominal_id": nominal_id, "type": d.type.value, "value": d.value,
         "value_norm": clean_identifier(d.value), "source": source, "position": i}
        for i, d in enumerate(n.identifiers)
    ]
    addresses = [
        {"nominal_id": nominal_id, "text": a.text, "postcode": a.postcode,
         "date_from": a.date_from, "date_to": a.date_to, "source": source, "position": i}
        for i, a in enumerate(n.addresses)
    ]
    return aliases, identifiers, addresses


def insert_nominal(session: Session, nominal_id: int, n: NominalRecord, user: str,
                   now: datetime) -> str:
    ref = format_ref(nominal_id)
    values = column_values(n)
    values.update(id=nominal_id, ref=ref, created_at=now, created_by=user, updated_at=now,
                  updated_by=user)
    session.execute(insert(Nominal), [values])
    _write_children(session, nominal_id, n)
    index(session, [(nominal_id, search_text(ref, n))], fresh=True)
    return ref


def _write_children(session: Session, nominal_id: int, n: NominalRecord) -> None:
    aliases, identifiers, addresses = child_rows(nominal_id, n)
    if aliases:
        session.execute(insert(NominalAlias), aliases)
    if identifiers:
        session.execute(insert(NominalIdentifier), identifiers)
    if addresses:
        session.execute(insert(NominalAddress), addresses)


def update_nominal(session: Session, nominal_id: int, n: NominalRecord, user: str,
                   now: datetime) -> None:
    """Replace a record's values and its aliases, identifiers and addresses."""
    values = column_values(n)
    values.update(updated_at=now, updated_by=user)
    session.execute(update(Nominal).where(Nominal.id == nominal_id).values(**values))
    for child in (NominalAlias, NominalIdentifier, NominalAddress):
        session.execute(delete(child).where(child.nominal_id == nominal_id))
    _write_children(session, nominal_id, n)
    index(session, [(nominal_id, search_text(format_ref(nominal_id), n))])


# --- bulk loading -------------------------------------------------------------------------------

class BulkInsert:
    """``INSERT`` of many rows of one table as plain tuples through the driver's executemany.

    The rows are dicts keyed by column name, as for ``insert(model)``; each value goes through
    the dialect's own bind processor for its column type, so dates, datetimes and booleans are
    stored as exactly the same text and numbers as an ORM insert writes (a test compares them).
    What this skips is SQLAlchemy's per-row, per-parameter handling of dicts (about 8% of the
    demo's nominal step in a profile at 10,000 nominals). A column the rows leave out must
    have no Python-side default (SQLAlchemy would fill it in and this would not): that is
    checked here, once."""

    def __init__(self, session: Session, model: Any, columns: Sequence[str]) -> None:
        table = model.__table__
        dialect = session.get_bind().dialect
        self.columns = tuple(columns)
        for col in table.c:
            if col.name not in self.columns and col.default is not None:
                raise ValueError(f"{table.name}.{col.name} has a default: pass it")
        self._get = itemgetter(*self.columns)
        # Dates and datetimes repeat a great deal in a load (a few thousand distinct days):
        # each column's processor remembers what it made (bounded; values are hashable).
        self._processors = [
            (i, lru_cache(maxsize=65536, typed=True)(processor))
            for i, name in enumerate(self.columns)
            if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            is not None
        ]
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(name) for name in self.columns)
        marks = ", ".join("?" for _name in self.columns)
        self.sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"

    def tuples(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """The rows as tuples in ``columns`` order, each value bind-processed."""
        if not rows:
            return []
        if len(self.columns) == 1:
            values = [(self._get(r),) for r in rows]  # itemgetter of one key: a bare value
        else:
            values = list(map(self._get, rows))
        if not self._processors:
            return values
        # Column by column (the loops run in C): transpose, process, transpose back.
        columns = list(zip(*values, strict=True))
        for i, process in self._processors:
            columns[i] = tuple(map(process, columns[i]))
        return list(zip(*columns, strict=True))

    def execute(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            session.connection().exec_driver_sql(self.sql, self.tuples(rows))


# Tables a bulk load of nominals writes to and whose secondary indexes it may defer.
BULK_TABLES = (Nominal.__tablename__, NominalAlias.__tablename__,
               NominalIdentifier.__tablename__, NominalAddress.__tablename__,
               Revision.__tablename__)


@contextmanager
def deferred_indexes(session: Session, incoming: int,
                     tables: Sequence[str] = BULK_TABLES) -> Iterator[list[str]]:
    """Drop the secondary indexes of ``tables`` for a bulk load and create them again after it,
    in the caller's transaction. Each index is then built once from sorted keys instead of
    taking ``incoming`` random inserts (the nominal table alone has 26 indexes).

    Only a table holding fewer rows than are about to arrive is treated so (rebuilding the
    index of a large table to add a few rows would cost more than it saves). Each index is
    created again from its own ``CREATE INDEX`` text as stored in ``sqlite_master``, so the
    schema afterwards is exactly what it was (a test compares it with a fresh vault's).
    Indexes that belong to a constraint (UNIQUE, PRIMARY KEY: no stored SQL) stay. On an
    error the indexes are not re-created here: the caller's transaction must roll back (as
    ``Vault.write()`` does), and the DROPs roll back with it. Yields the names deferred."""
    conn = session.connection()
    saved: list[tuple[str, str]] = []
    for name in tables:
        existing = conn.exec_driver_sql(f'SELECT max(rowid) FROM "{name}"').scalar()
        if int(existing or 0) > incoming:
            continue
        saved.extend(
            (str(index_name), str(sql)) for index_name, sql in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL ORDER BY rowid", (name,)))
    for index_name, _sql in saved:
        conn.exec_driver_sql(f'DROP INDEX "{index_name}"')
    yield [index_name for index_name, _sql in saved]
    for _index_name, sql in saved:
        conn.exec_driver_sql(sql)


# --- the search index -----------------------------------------------------------------------------

def _pnc_keys(value: str | None) -> list[str]:
    if not value:
        return []
    keys = fold(value).split()
    parsed = parse_pnc(value)
    if parsed is not None:
        keys.append(pnc_key(parsed.normalised))
        # The serial as people type it, with and without its leading zeros.
        keys.append(f"{parsed.serial:07d}{parsed.letter}".lower())
        keys.append(f"{parsed.serial}{parsed.letter}".lower())
    return keys


def pnc_key(normalised: str) -> str:
    return "p" + normalised.replace("/", "").lower()


def date_key(d: date) -> str:
    return "d" + d.strftime("%Y%m%d")


@lru_cache(maxsize=65536)
def _name_keys(surname: str, forenames: str) -> tuple[str, ...]:
    # Names repeat a great deal across a list (and a bulk load): fold each pair once.
    return tuple(search_keys(surname, forenames))


def search_text(ref: str, n: NominalRecord) -> str:
    """The folded keys one nominal is found by, space-separated (all ASCII letters and digits)."""
    keys: list[str] = []
    keys.extend(_name_keys(n.surname, n.forenames))
    for alias in n.aliases:
        keys.extend(_name_keys(alias.surname, alias.forenames))
    number = parse_ref(ref)
    if number is not None:
        keys.append(f"nm{number:06d}")
        keys.append(str(number))
    keys.extend(_pnc_keys(n.pnc))
    if n.cro:
        keys.extend(fold(n.cro).split())
        keys.append(clean_identifier(n.cro).lower())
    for ident in n.identifiers:
        if ident.type is IdentifierType.PNC:
            keys.extend(_pnc_keys(ident.value))
        else:
            keys.append(clean_identifier(ident.value).lower())
    for d in [n.dob, *(a.dob for a in n.aliases)]:
        if d is not None:
            keys.append(date_key(d))
    return " ".join(dict.fromkeys(k for k in keys if k))


def index(session: Session, entries: Iterable[tuple[int, str]], *, fresh: bool = False) -> None:
    """Insert or replace the search keys of nominals (rowid = nominal id); ``fresh`` when the
    ids are new, so there is nothing to replace."""
    rows = [(int(i), k) for i, k in entries]
    if not rows:
        return
    conn = session.connection()
    if not fresh:
        conn.exec_driver_sql("DELETE FROM nominal_search WHERE rowid = ?",
                             [(i,) for i, _k in rows])
    conn.exec_driver_sql("INSERT INTO nominal_search (rowid, keys) VALUES (?, ?)", rows)


def optimize_index(session: Session) -> None:
    """Merge the search index into one segment. A bulk load leaves FTS5 with many segments,
    and every query then reads each one (measured at 10,000 nominals: search p95 28 ms CPU
    before, 10.5 ms after). Run after bulk loads; it rewrites the index, so not per edit."""
    session.connection().execute(
        text("INSERT INTO nominal_search (nominal_search) VALUES ('optimize')"))


def unindex(session: Session, ids: Iterable[int]) -> None:
    rows = [{"id": i} for i in ids]
    if rows:
        session.connection().execute(text("DELETE FROM nominal_search WHERE rowid = :id"), rows)


MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 8
_DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})$"),
)
_REF_CHUNK = re.compile(r"^nm[\-_/]?\d{1,9}$", re.IGNORECASE)
# A PNC typed so far without its check letter: 2001/0123456, 01/123456.
_PNC_PREFIX = re.compile(r"^(\d{2}|\d{4})/(\d{1,7})$")
MAX_TOKEN_CHARS = 64


def _as_date(chunk: str) -> date | None:
    for form in _DATE_FORMS:
        m = form.match(chunk)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


def _quote(token: str) -> str:
    # Tokens are folded to ASCII letters and digits already; doubling quotes is belt and braces.
    return '"' + token.replace('"', '""') + '"'


def match_expression(query: str) -> str | None:
    """A safe FTS5 MATCH expression for what a user typed, or None if nothing is searchable.

    Every term is a quoted FTS string (so quotes, ``*``, parentheses, AND/OR/NOT and NEAR are
    just text), terms are ANDed, each term may match its folded or its canonical form, and the
    last term matches as a prefix unless the user ended with a space."""
    raw = query[:MAX_QUERY_CHARS]
    stripped = raw.strip()
    if not stripped:
        return None
    whole_pnc = parse_pnc(stripped) if any(ch.isdigit() for ch in stripped) else None
    if whole_pnc is not None:
        return _quote(pnc_key(whole_pnc.normalised))
    groups: list[list[str]] = []
    name_parts: list[str] = []
    for chunk in stripped.split():
        day = _as_date(chunk)
        if day is not None:
            groups.append([_quote(date_key(day))])
            continue
        if _REF_CHUNK.match(chunk):
            number = parse_ref(chunk)
            if number is not None:
                groups.append([_quote(f"nm{number:06d}")])
                continue
        pnc = parse_pnc(chunk) if any(ch.isdigit() for ch in chunk) and "/" in chunk else None
        if pnc is not None:
            groups.append([_quote(pnc_key(pnc.normalised))])
            continue
        partial = _PNC_PREFIX.match(chunk)
        if partial is not None:
            year = int(partial[1])
            if year < 100:
                year = expand_year(year)
            groups.append([_quote(f"p{year:04d}{int(partial[2]):07d}") + "*"])
            continue
        name_parts.append(chunk)
    tokens = [t[:MAX_TOKEN_CHARS] for t in name_tokens(" ".join(name_parts))]
    prefix_last = not raw[-1:].isspace() and bool(name_parts) and stripped.endswith(
        name_parts[-1])
    for position, token in enumerate(tokens):
        is_last = position == len(tokens) - 1
        options: list[str] = []
        canonical = canonical_token(token)[:MAX_TOKEN_CHARS]
        if is_last and prefix_last:
            options.append(_quote(token) + "*")
            if canonical and canonical != token:
                options.append(_quote(canonical))
        else:
            options.append(_quote(token))
            if canonical and canonical != token:
                options.append(_quote(canonical))
        groups.append(options)
    groups = groups[:MAX_QUERY_TERMS]
    if not groups:
        return None
    return " AND ".join("(" + " OR ".join(g) + ")" if len(g) > 1 else g[0] for g in groups)


_FTS = table("nominal_search", column("rowid"), column("rank"))
_MATCH = text("nominal_search MATCH :q")


def search_ids(session: Session, query: str, limit: int) -> list[int]:
    """Ids of live nominals matching a query, best match first."""
    expression = match_expression(query)
    if expression is None:
        return []
    rows = session.connection().execute(
        text("SELECT rowid FROM nominal_search WHERE nominal_search MATCH :q "
             "ORDER BY rank LIMIT :limit"),
        {"q": expression, "limit": limit},
    )
    return [int(r[0]) for r in rows]


RANK_AT_MOST = 500


def search_rows(session: Session, query: str, limit: int) -> list[NominalRow]:
    """Light rows of live nominals matching a query, best match first.

    Ranking (bm25) costs time in proportion to the matches, so it is used only when there are
    at most RANK_AT_MOST; a broader query (two letters typed) returns its first matches in ref
    order at once, and the user narrows it by typing on."""
    expression = match_expression(query)
    if expression is None or limit <= 0:
        return []
    conn = session.connection()
    params = {"q": expression, "limit": RANK_AT_MOST + 1}
    ids = [int(r[0]) for r in conn.execute(_MATCH_IDS, params)]
    if len(ids) <= RANK_AT_MOST:
        ids = [int(r[0]) for r in conn.execute(_RANKED_IDS, {"q": expression, "limit": limit})]
    else:
        ids = ids[:limit]
    if not ids:
        return []
    found = {r[0]: _row(r[1:]) for r in conn.execute(_rows_statement(), {"ids": ids})}
    return [found[i] for i in ids if i in found]


_MATCH_IDS = text("SELECT rowid FROM nominal_search WHERE nominal_search MATCH :q LIMIT :limit")
_RANKED_IDS = text("SELECT rowid FROM nominal_search WHERE nominal_search MATCH :q "
                   "ORDER BY rank LIMIT :limit")


@lru_cache(maxsize=1)
def _rows_statement() -> Any:
    return select(Nominal.id, *_ROW_COLUMNS).where(
        Nominal.id.in_(bindparam("ids", expanding=True)), Nominal.merged_into_id.is_(None))


@lru_cache(maxsize=1)
def _search_statement() -> Any:
    # Built once: SQLAlchemy then reuses its compiled form on every keystroke.
    return (
        select(*_ROW_COLUMNS)
        .select_from(_FTS.join(Nominal, Nominal.id == _FTS.c.rowid))
        .where(_MATCH, Nominal.merged_into_id.is_(None))
        .order_by(_FTS.c.rank)
        .limit(bindparam("limit"))
    )


# --- the list ---------------------------------------------------------------------------------

SORT_COLUMNS: dict[SortKey, tuple[Any, ...]] = {
    SortKey.REF: (Nominal.id,),
    SortKey.NAME: (Nominal.sort_name, Nominal.id),
    SortKey.DOB: (Nominal.dob, Nominal.id),
    SortKey.PNC: (Nominal.pnc_norm, Nominal.id),
    SortKey.STATUS: (Nominal.status, Nominal.sort_name, Nominal.id),
    SortKey.RISK: (Nominal.risk_rank, Nominal.sort_name, Nominal.id),
    SortKey.MANAGER: (Nominal.nominal_manager, Nominal.sort_name, Nominal.id),
    SortKey.FORCE: (Nominal.force, Nominal.sort_name, Nominal.id),
    SortKey.ESTABLISHMENT: (Nominal.establishment, Nominal.sort_name, Nominal.id),
    SortKey.RELEASE_DATE: (Nominal.release_date, Nominal.id),
    SortKey.UPDATED: (Nominal.updated_at, Nominal.id),
}

DISTINCT_FIELDS: dict[str, Any] = {
    "status": Nominal.status,
    "nominal_manager": Nominal.nominal_manager,
    "risk_level": Nominal.risk_level,
    "force": Nominal.force,
    "establishment": Nominal.establishment,
}


@dataclass(frozen=True)
class _Where:
    clauses: list[ColumnElement[bool]]
    empty: bool  # the search text has nothing searchable: no rows


def _where(flt: NominalFilter) -> _Where:
    # Erased records stay as placeholder rows (links from other records); never list them.
    clauses: list[ColumnElement[bool]] = [Nominal.merged_into_id.is_(None),
                                          Nominal.erased.is_(False)]
    for field_column, value in (
        (Nominal.status, flt.status),
        (Nominal.nominal_manager, flt.nominal_manager),
        (Nominal.risk_level, flt.risk_level),
        (Nominal.force, flt.force),
    ):
        if value:
            clauses.append(field_column == str(value))
    if flt.text.strip():
        expression = match_expression(flt.text)
        if expression is None:
            return _Where(clauses, True)
        clauses.append(
            Nominal.id.in_(
                select(text("rowid")).select_from(text("nominal_search")).where(
                    text("nominal_search MATCH :q").bindparams(q=expression)
                )
            )
        )
    return _Where(clauses, False)


def count(session: Session, flt: NominalFilter) -> int:
    where = _where(flt)
    if where.empty:
        return 0
    return int(session.scalar(select(func.count()).select_from(Nominal).where(*where.clauses))
               or 0)


_ROW_COLUMNS = (Nominal.ref, Nominal.surname, Nominal.forenames, Nominal.dob, Nominal.pnc,
                Nominal.status, Nominal.risk_level, Nominal.nominal_manager, Nominal.force,
                Nominal.establishment, Nominal.release_date, Nominal.updated_at)


def _row(r: Any) -> NominalRow:
    return NominalRow(
        ref=r[0], surname=r[1], forenames=r[2], dob=r[3], pnc=r[4],
        status=_enum(Status, r[5]), risk_level=_enum(RiskLevel, r[6]), nominal_manager=r[7],
        force=r[8], establishment=r[9], release_date=r[10], updated_at=r[11],
    )


def _after_clause(session: Session, sort: SortKey, descending: bool,
                  after: str) -> ColumnElement[bool] | None:
    """Rows strictly after the row ``after`` (a ref) in the list's order; None if that row is
    gone. NULLs come first in ascending order and last in descending order (as the list's
    ORDER BY sorts them on SQLite), so each column's "after" and "equal" say so explicitly."""
    columns = SORT_COLUMNS[sort]
    nominal_id = parse_ref(after)
    if nominal_id is None:
        return None
    values = session.execute(select(*columns).where(Nominal.id == nominal_id)).first()
    if values is None:
        return None
    branches: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for col, value in zip(columns, values, strict=True):
        if value is None:
            beyond: ColumnElement[bool] | None = None if descending else col.is_not(None)
            same = col.is_(None)
        else:
            beyond = or_(col < value, col.is_(None)) if descending else col > value
            same = col == value
        if beyond is not None:
            branches.append(and_(*equal, beyond))
        equal.append(same)
    if not branches:
        return false()
    first, first_value = columns[0], values[0]
    # A range on the leading column lets the index seek to the cursor instead of walking to it.
    if first_value is not None and not descending:
        return and_(first >= first_value, or_(*branches))
    if first_value is None and descending:
        return and_(first.is_(None), or_(*branches))
    return or_(*branches)


def page(session: Session, flt: NominalFilter, sort: SortKey, descending: bool, offset: int,
         limit: int, after: str | None = None) -> list[NominalRow]:
    """One page of rows. ``after`` (the ref of the last row already shown) continues from that
    row (keyset paging: as cheap deep in the list as at its top); otherwise ``offset`` skips.

    Past the first page, the page's ids are chosen first from the sort column's index alone
    (which holds every column of the list's WHERE), and only those rows are read from the
    table: an OFFSET of 50,000 skips index entries, not table rows."""
    where = _where(flt)
    if where.empty or limit <= 0:
        return []
    clauses = list(where.clauses)
    if after is not None:
        cursor = _after_clause(session, sort, descending, after)
        if cursor is None:
            raise LookupError("the cursor row is not in the list")
        clauses.append(cursor)
        offset = 0
    order = [c.desc() if descending else c.asc() for c in SORT_COLUMNS[sort]]
    if offset <= 0 and after is None:
        stmt: Any = select(*_ROW_COLUMNS).where(*clauses).order_by(*order).limit(limit)
        return [_row(r) for r in session.execute(stmt)]
    ids = (select(Nominal.id).where(*clauses).order_by(*order)
           .offset(max(offset, 0)).limit(limit))
    wanted = [int(i) for (i,) in session.execute(ids)]
    if not wanted:
        return []
    found = {int(r[0]): _row(r[1:]) for r in session.execute(
        select(Nominal.id, *_ROW_COLUMNS).where(Nominal.id.in_(wanted)))}
    return [found[i] for i in wanted if i in found]


def rows_for_ids(session: Session, ids: Sequence[int]) -> list[NominalRow]:
    """Light rows for ids, in the order given (live or merged)."""
    found: dict[int, NominalRow] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        for r in session.execute(select(Nominal.id, *_ROW_COLUMNS).where(Nominal.id.in_(chunk))):
            found[int(r[0])] = _row(r[1:])
    return [found[i] for i in ids if i in found]


def distinct_values(session: Session, field: str) -> list[str]:
    column = DISTINCT_FIELDS[field]
    stmt = (select(column).where(Nominal.merged_into_id.is_(None), column.is_not(None))
            .distinct().order_by(column))
    return [str(v) for (v,) in session.execute(stmt)]

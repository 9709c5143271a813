"""Read the national headcount list (xlsx or csv) as untrusted input into clean rows."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import posixpath
import re
import zipfile
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from app.domain.errors import BadInput, CasewardError

__all__ = [
    "ColumnTable",
    "ImportCancelled",
    "ImportLimits",
    "NationalList",
    "NationalRow",
    "RejectedRow",
    "expand_two_digit_year",
    "load_column_table",
    "normalise_header",
    "parse_date",
    "read_national_list",
]

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
FieldKind = Literal["name", "combined_name", "text", "birth_date", "date"]

# Fields a NationalRow carries as text; the date fields are listed separately.
TEXT_FIELDS: Final[tuple[str, ...]] = (
    "forenames",
    "pnc",
    "cro",
    "gender",
    "status",
    "force",
    "establishment",
    "nominal_manager",
    "risk_level",
    "mappa_category",
    "mappa_level",
    "offence",
)
DATE_FIELDS: Final[tuple[str, ...]] = ("dob", "release_date", "notification_end")

_XLSX_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
_CSV_SUFFIXES: Final = frozenset({".csv", ".txt", ".tsv"})
_DELIMITERS: Final = (",", ";", "\t", "|")
_CSV_ENCODINGS: Final = ("utf-8-sig", "utf-8", "cp1252")
_PROGRESS_EVERY: Final = 2000

# Main-part content types that mean "this zip is a spreadsheet openpyxl can read".
_WORKBOOK_CONTENT_TYPES: Final = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        "application/vnd.ms-excel.template.macroEnabled.main+xml",
    }
)
_DTD_PATTERN: Final = re.compile(rb"<!\s*(?:doctype|entity)", re.IGNORECASE)
_DTD_TEXT_PATTERN: Final = re.compile(r"<!\s*(?:doctype|entity)", re.IGNORECASE)

# Values that mean "not known" in a date column: dropped quietly rather than reported.
_DATE_PLACEHOLDERS: Final = frozenset(
    {"", "-", "--", "n/a", "na", "n/k", "nk", "tbc", "tba", "unknown", "not known", "none", "nil"}
)
_JUNK_NAMES: Final = frozenset(
    {"total", "totals", "grandtotal", "subtotal", "count", "sum", "endoflist", "endofreport"}
)
# Characters that never occur in a person's name but do in notes, totals and formulas.
_NOT_IN_NAMES: Final = frozenset('0123456789:=@#<>|\\{}[]$%^*~_;"')
_MONTHS: Final = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

_ISO_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_UK_DATE = re.compile(
    r"(\d{1,2})\s*[-/.\s]\s*(\d{1,2})\s*[-/.\s]\s*(\d{4}|\d{2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)
_NAMED_MONTH_DATE = re.compile(
    r"(\d{1,2})(?:st|nd|rd|th)?[\s\-/.]*([a-z]{3,9})\.?[\s\-/.,]*(\d{4}|\d{2})", re.IGNORECASE
)
_MONTH_FIRST_DATE = re.compile(
    r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.IGNORECASE
)
_SERIAL = re.compile(r"(\d{1,5})(?:\.\d+)?")
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")

_EXCEL_1900_BASE: Final = dt.date(1899, 12, 30)
_EXCEL_1904_BASE: Final = dt.date(1904, 1, 1)


class ImportCancelled(CasewardError):  # noqa: N818 - a request, not an error (cf. ExportCancelled)
    """The user cancelled the import; nothing was kept."""

    def __init__(self, message: str = "The import was cancelled; nothing was read.") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Bounds on what an untrusted national list may cost us to read."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_rows: int = 250_000
    max_columns: int = 200
    max_cell_chars: int = 10_000
    max_zip_members: int = 1_000
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    max_compression_ratio: float = 200.0
    # Small parts compress oddly (a few hundred bytes of repeated tags): ratio checked above this.
    ratio_check_above_bytes: int = 1024 * 1024
    header_scan_rows: int = 30


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row, or one value in a row, that could not be read; the message never holds the value.

    ``dropped`` is True when the whole row was left out of ``NationalList.rows`` and False when
    the row was kept and only this value was set aside (read as None)."""

    row: int
    column: str
    error: str
    dropped: bool = True


@dataclass(slots=True)
class NationalRow:
    """One person on the national list: parsed fields plus the row's values as written."""

    row: int
    surname: str
    headers: tuple[str, ...] = field(repr=False)
    values: tuple[object, ...] = field(repr=False)
    forenames: str | None = None
    dob: dt.date | None = None
    pnc: str | None = None
    cro: str | None = None
    gender: str | None = None
    status: str | None = None
    force: str | None = None
    establishment: str | None = None
    release_date: dt.date | None = None
    nominal_manager: str | None = None
    risk_level: str | None = None
    mappa_category: str | None = None
    mappa_level: str | None = None
    offence: str | None = None
    notification_end: dt.date | None = None

    @property
    def raw(self) -> dict[str, object]:
        """The row's values keyed by the national list's own column headings."""
        return dict(zip(self.headers, self.values, strict=False))


@dataclass(slots=True)
class NationalList:
    """What a national list held: readable rows, what was set aside, and how it was laid out."""

    source_name: str
    sheet_name: str | None
    header_row: int
    columns: dict[str, str]
    headers: tuple[str, ...]
    rows: list[NationalRow]
    rejected: list[RejectedRow]

    @property
    def dropped_rows(self) -> list[int]:
        """Row numbers that were left out entirely (junk, no usable name)."""
        return sorted({r.row for r in self.rejected if r.dropped})


@dataclass(frozen=True, slots=True)
class ColumnTable:
    """The synonym table: which heading means which field."""

    version: str
    kinds: Mapping[str, FieldKind]
    labels: Mapping[str, str]
    by_heading: Mapping[str, str]
    headings: Mapping[str, tuple[str, ...]]

    def field_for(self, heading: object) -> str | None:
        if not isinstance(heading, str):
            return None
        key = normalise_header(heading)
        found = self.by_heading.get(key)
        if found is None and ("(" in heading or "[" in heading):
            found = self.by_heading.get(normalise_header(_BRACKETED.sub(" ", heading)))
        return found


def normalise_header(text: str) -> str:
    """Heading text with case, spaces and punctuation gone, for matching against synonyms."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _default_table_path() -> Path:
    # app/io must not import app.paths; this mirrors its resources_dir().
    return Path(__file__).resolve().parents[2] / "resources" / "reference" / "national_columns.json"


@lru_cache(maxsize=4)
def load_column_table(path: Path | None = None) -> ColumnTable:
    """Load the synonym table (resources/reference/national_columns.json unless told otherwise)."""
    source = path or _default_table_path()
    data = json.loads(source.read_text(encoding="utf-8"))
    kinds: dict[str, FieldKind] = {}
    labels: dict[str, str] = {}
    by_heading: dict[str, str] = {}
    headings: dict[str, tuple[str, ...]] = {}
    for name, spec in data["fields"].items():
        kinds[name] = spec["kind"]
        labels[name] = spec["label"]
        headings[name] = tuple(spec["names"])
        for heading in spec["names"]:
            key = normalise_header(heading)
            if by_heading.setdefault(key, name) != name:
                raise ValueError(f"heading {heading!r} is given for two fields in {source}")
    return ColumnTable(str(data["version"]), kinds, labels, by_heading, headings)


# --------------------------------------------------------------------------------------- dates


def expand_two_digit_year(yy: int, *, birth: bool, today: dt.date) -> int:
    """The full year for a two-digit one.

    A date of birth takes the latest century that makes the person at least ten (the age of
    criminal responsibility); any other date the century that puts it within 50 years of today."""
    if birth:
        year = 2000 + yy
        return year if year <= today.year - 10 else year - 100
    year = (today.year // 100) * 100 + yy
    if year > today.year + 49:
        year -= 100
    elif year < today.year - 50:
        year += 100
    return year


def _from_serial(serial: float, epoch: dt.date) -> dt.date | None:
    whole = int(serial)
    if whole < 1:
        return None
    try:
        if epoch == _EXCEL_1904_BASE:
            return epoch + dt.timedelta(days=whole)
        # Excel counts 1900-02-29, which never existed: serials before it are one day off.
        if whole == 60:
            return None
        if whole < 60:
            return dt.date(1899, 12, 31) + dt.timedelta(days=whole)
        return _EXCEL_1900_BASE + dt.timedelta(days=whole)
    except OverflowError:
        return None


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


class _DateProblem(Exception):  # noqa: N818 - internal signal, never escapes the module
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse_date_text(text: str, *, birth: bool, today: dt.date, epoch: dt.date) -> dt.date | None:
    s = text.strip()
    if s.casefold() in _DATE_PLACEHOLDERS:
        return None
    if s.isdigit() and len(s) == 8:
        ymd = _make_date(int(s[:4]), int(s[4:6]), int(s[6:])) if s[:2] in ("19", "20") else None
        found = ymd or _make_date(int(s[4:]), int(s[2:4]), int(s[:2]))
        if found is None:
            raise _DateProblem("is not a real date")
        return found
    if s.isdigit() and len(s) == 6:
        year = expand_two_digit_year(int(s[4:]), birth=birth, today=today)
        found = _make_date(year, int(s[2:4]), int(s[:2]))
        if found is not None:
            return found
    m = _SERIAL.fullmatch(s)
    if m:
        found = _from_serial(float(s), epoch)
        if found is None:
            raise _DateProblem("is not a real date")
        return found
    m = _ISO_DATE.fullmatch(s)
    if m:
        return _checked(_make_date(int(m[1]), int(m[2]), int(m[3])))
    m = _UK_DATE.fullmatch(s)
    if m:
        return _checked(_make_date(_year(m[3], birth, today), int(m[2]), int(m[1])))
    m = _NAMED_MONTH_DATE.fullmatch(s)
    if m:
        month = _month(m[2])
        return _checked(_make_date(_year(m[3], birth, today), month, int(m[1])) if month else None)
    m = _MONTH_FIRST_DATE.fullmatch(s)
    if m:
        month = _month(m[1])
        return _checked(_make_date(int(m[3]), month, int(m[2])) if month else None)
    raise _DateProblem("is not a date")


def _checked(found: dt.date | None) -> dt.date:
    if found is None:
        raise _DateProblem("is not a real date")
    return found


def _year(text: str, birth: bool, today: dt.date) -> int:
    if len(text) == 2:
        return expand_two_digit_year(int(text), birth=birth, today=today)
    return int(text)


def _month(text: str) -> int | None:
    key = text.casefold()
    if key == "sept":
        return 9
    if len(key) > 3 and not any(full.startswith(key) for full in _FULL_MONTHS):
        return None
    return _MONTHS.get(key[:3])


_FULL_MONTHS: Final = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def parse_date(
    value: object,
    *,
    birth: bool = False,
    today: dt.date | None = None,
    epoch: dt.date = _EXCEL_1900_BASE,
) -> dt.date | None:
    """A cell's value as a date (UK day-first), None when blank or a placeholder such as "N/A".

    Raises ValueError with a reason that never repeats the value (it is personal data)."""
    now = today or dt.date.today()
    try:
        found = _parse_date_value(value, birth=birth, today=now, epoch=epoch)
    except _DateProblem as problem:
        raise ValueError(problem.reason) from None
    if found is None:
        return None
    if found.year < 1900:
        raise ValueError("is before 1900")
    if birth and found > now:
        raise ValueError("is in the future")
    return found


def _parse_date_value(
    value: object, *, birth: bool, today: dt.date, epoch: dt.date
) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise _DateProblem("is not a date")
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _DateProblem("is not a date")
        found = _from_serial(value, epoch) if value < 3_000_000 else None
        if found is None:
            raise _DateProblem("is not a real date")
        return found
    if isinstance(value, str):
        if value.startswith("="):
            raise _DateProblem("is a formula, not read")
        return _parse_date_text(value, birth=birth, today=today, epoch=epoch)
    raise _DateProblem("is not a date")


# ---------------------------------------------------------------------------------- row parsing


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str | None:
    """A cell as text, None when blank; raises ValueError(reason) for formulas and non-text."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.startswith("="):
            raise ValueError("is a formula, not read")
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool):
        raise ValueError("is TRUE/FALSE, not text")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("is not a number or text")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        raise ValueError("is a date or time, not text")
    # openpyxl gives array and data-table formulas as objects
    raise ValueError("is a formula, not read")


def _split_combined_name(text: str) -> tuple[str, str | None]:
    """'SURNAME, Forename Middle' -> ('SURNAME', 'Forename Middle').

    Without a comma, the words written in capitals are the surname; failing that the last word."""
    if "," in text:
        surname, _, forenames = text.partition(",")
        return surname.strip(), forenames.strip() or None
    words = text.split()
    if len(words) < 2:
        return text.strip(), None
    capitals = [w for w in words if w.isupper() and len(w) > 1]
    if capitals and len(capitals) < len(words):
        rest = [w for w in words if not (w.isupper() and len(w) > 1)]
        return " ".join(capitals), " ".join(rest)
    return words[-1], " ".join(words[:-1])


@dataclass(slots=True)
class _Layout:
    header_row: int
    headers: tuple[str, ...]
    columns: dict[str, str]
    index: dict[str, int]
    score: int


def _unique_headers(cells: Sequence[object]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for i, cell in enumerate(cells):
        text = str(cell).strip() if cell is not None else ""
        letter = _column_letter(i + 1)
        key = text or f"(column {letter})"
        if key in seen:
            key = f"{text} (column {letter})"
        seen.add(key)
        out.append(key)
    return tuple(out)


def _column_letter(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _score_header(cells: Sequence[object], table: ColumnTable) -> tuple[int, dict[str, int]]:
    """How much a row looks like the header: distinct fields recognised, 0 without a name."""
    index: dict[str, int] = {}
    for i, cell in enumerate(cells):
        found = table.field_for(cell)
        if found is not None and found not in index:
            index[found] = i
    if "surname" not in index and "name" not in index:
        return 0, index
    return (len(index) if len(index) >= 2 else 0), index


def _find_header(
    first_rows: Sequence[tuple[int, Sequence[object]]], table: ColumnTable
) -> _Layout | None:
    best: _Layout | None = None
    for row_number, cells in first_rows:
        score, index = _score_header(cells, table)
        if score and (best is None or score > best.score):
            headers = _unique_headers(_trim(cells))
            columns = {name: headers[i] for name, i in index.items()}
            best = _Layout(row_number, headers, columns, index, score)
    return best


def _trim(cells: Sequence[object]) -> Sequence[object]:
    end = len(cells)
    while end and _is_blank(cells[end - 1]):
        end -= 1
    return cells[:end]


class _RowReader:
    """Turns one data row into a NationalRow and/or RejectedRow entries."""

    def __init__(
        self,
        layout: _Layout,
        table: ColumnTable,
        limits: ImportLimits,
        epoch: dt.date,
        today: dt.date,
    ) -> None:
        self.layout = layout
        self.table = table
        self.limits = limits
        self.epoch = epoch
        self.today = today
        index = layout.index
        self.combined = "surname" not in index
        self.name_field = "name" if self.combined else "surname"
        self.name_col = index[self.name_field]
        self.name_header = layout.columns[self.name_field]
        self.forenames_col = index.get("forenames")
        self.text_cols = [
            (name, index[name], layout.columns[name])
            for name in TEXT_FIELDS
            if name in index and name != "forenames"
        ]
        self.date_cols = [
            (name, index[name], layout.columns[name]) for name in DATE_FIELDS if name in index
        ]
        self.date_cache: dict[tuple[str, bool], dt.date | None | str] = {}
        self.name_keys = frozenset(
            key for key, name in table.by_heading.items() if name in ("surname", "name")
        )

    def read(
        self, row_number: int, cells: Sequence[object]
    ) -> tuple[NationalRow | None, list[RejectedRow]]:
        for cell in cells:
            if isinstance(cell, str) and len(cell) > self.limits.max_cell_chars:
                return None, [RejectedRow(row_number, "", "a cell is too long to be a value")]
        width = len(cells)

        def cell_at(i: int) -> object:
            return cells[i] if i < width else None

        name_cell = cell_at(self.name_col)
        problem = self._name_problem(name_cell)
        if problem is not None:
            return None, [RejectedRow(row_number, self.name_header, problem)]
        name_text = name_cell.strip() if isinstance(name_cell, str) else ""
        if _header_key(name_text) in self.name_keys:
            score, _ = _score_header(cells, self.table)
            if score:
                return None, [RejectedRow(row_number, self.name_header, "repeated header row")]

        rejected: list[RejectedRow] = []
        forenames: str | None = None
        if self.forenames_col is not None:
            try:
                forenames = _text(cell_at(self.forenames_col))
            except ValueError as exc:
                rejected.append(
                    RejectedRow(
                        row_number,
                        self.layout.columns["forenames"],
                        f"forenames {exc}",
                        dropped=False,
                    )
                )
        if self.combined:
            surname, split_forenames = _split_combined_name(name_text)
            if "," not in name_text and self.forenames_col is not None:
                surname, split_forenames = name_text, None
            forenames = forenames or split_forenames
            if not surname:
                return None, [RejectedRow(row_number, self.name_header, "row has no surname")]
        else:
            surname = name_text

        out = NationalRow(
            row=row_number, surname=surname, forenames=forenames,
            headers=self.layout.headers, values=tuple(cells[: len(self.layout.headers)]),
        )  # fmt: skip
        for name, col, header in self.text_cols:
            try:
                setattr(out, name, _text(cell_at(col)))
            except ValueError as exc:
                label = self.table.labels[name]
                rejected.append(RejectedRow(row_number, header, f"{label} {exc}", dropped=False))
        for name, col, header in self.date_cols:
            value = cell_at(col)
            if value is None:
                continue
            parsed = self._date(value, name == "dob")
            if isinstance(parsed, str):
                label = self.table.labels[name]
                rejected.append(RejectedRow(row_number, header, f"{label} {parsed}", dropped=False))
            else:
                setattr(out, name, parsed)
        return out, rejected

    def _date(self, value: object, birth: bool) -> dt.date | None | str:
        """The date, or the reason it is not one; text is cached, as lists repeat dates a lot."""
        key = (value, birth) if isinstance(value, str) else None
        if key is not None and key in self.date_cache:
            return self.date_cache[key]
        result: dt.date | None | str
        try:
            result = parse_date(value, birth=birth, today=self.today, epoch=self.epoch)
        except ValueError as exc:
            result = str(exc)
        if key is not None and len(self.date_cache) < 200_000:
            self.date_cache[key] = result
        return result

    def _name_problem(self, cell: object) -> str | None:
        if _is_blank(cell):
            return "row has no name"
        if not isinstance(cell, str):
            return "name is not text"
        return _name_text_problem(cell.strip())


# Names repeat heavily down a list (every Mohammed Khan), so their checks are cached.
@lru_cache(maxsize=65536)
def _name_text_problem(text: str) -> str | None:
    if text.startswith("="):
        return "name is a formula, not read"
    key = normalise_header(text)
    if key in _JUNK_NAMES or key.startswith(("total", "grandtotal", "subtotal")):
        return "totals row, not a person"
    if any(ch in _NOT_IN_NAMES for ch in text):
        return "name has digits or symbols, so is not a name"
    if not any(ch.isalpha() for ch in text):
        return "name has no letters"
    return None


@lru_cache(maxsize=65536)
def _header_key(text: str) -> str:
    return normalise_header(text)


# ------------------------------------------------------------------------------ whole-file reading


def read_national_list(
    path: Path | str,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 - frozen, so sharing one is safe
    table: ColumnTable | None = None,
    today: dt.date | None = None,
) -> NationalList:
    """Parse a national list file (xlsx/xlsm or csv/txt/tsv) into rows; never touches the vault.

    Whole-file problems raise BadInput naming the file; a row that cannot be read becomes a
    RejectedRow and the rest carry on. ``progress(done, total)`` is called now and then (total is
    0 when unknown); ``cancelled()`` returning True stops the import with ImportCancelled."""
    source = Path(path)
    name = source.name
    now = today or dt.date.today()
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise BadInput(
            f"{name}: the file cannot be opened ({exc.strerror or 'unreadable'})"
        ) from exc
    if size > limits.max_file_bytes:
        raise BadInput(
            f"{name}: the file is larger than {limits.max_file_bytes // (1024 * 1024)} MB"
        )
    if size == 0:
        raise BadInput(f"{name}: the file is empty")
    try:
        with source.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise BadInput(f"{name}: the file cannot be read ({exc.strerror or 'unreadable'})") from exc
    suffix = source.suffix.casefold()
    job = _Job(source, name, table or load_column_table(), limits, progress, cancelled, now)
    _refuse_known_formats(name, head, suffix)
    if suffix in _XLSX_SUFFIXES:
        if not head.startswith(b"PK\x03\x04"):
            raise BadInput(f"{name}: the file is not an Excel workbook (xlsx), whatever its name")
        return _read_xlsx(job)
    if suffix in _CSV_SUFFIXES:
        if head.startswith(b"PK\x03\x04"):
            raise BadInput(f"{name}: the file is a zip or Excel workbook, not CSV; rename it .xlsx")
        return _read_csv(job)
    raise BadInput(f"{name}: only .xlsx and .csv national lists can be read")


def _refuse_known_formats(name: str, head: bytes, suffix: str) -> None:
    if head.startswith(b"%PDF"):
        raise BadInput(f"{name}: the file is a PDF, not a spreadsheet")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise BadInput(
            f"{name}: the file is an old-style .xls or a password-protected workbook; "
            "save it as .xlsx without a password"
        )


@dataclass(frozen=True, slots=True)
class _Job:
    source: Path
    name: str
    table: ColumnTable
    limits: ImportLimits
    progress: Progress | None
    cancelled: Cancelled | None
    today: dt.date


def _check_cancel(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise ImportCancelled


class _Collector:
    """Accumulates rows and rejections and enforces the row limit and progress reporting."""

    def __init__(
        self,
        name: str,
        reader: _RowReader,
        limits: ImportLimits,
        progress: Progress | None,
        cancelled: Cancelled | None,
    ) -> None:
        self.name = name
        self.reader = reader
        self.limits = limits
        self.progress = progress
        self.cancelled = cancelled
        self.rows: list[NationalRow] = []
        self.rejected: list[RejectedRow] = []

    def add(self, row_number: int, cells: Sequence[object]) -> None:
        if not cells:
            return
        for cell in cells:
            if not _is_blank(cell):
                break
        else:
            return
        got, rejected = self.reader.read(row_number, cells)
        if got is not None:
            self.rows.append(got)
        if rejected:
            self.rejected.extend(rejected)

    def tick(self, done: int, total: int) -> None:
        _check_cancel(self.cancelled)
        if self.progress is not None:
            self.progress(done, total)


def _too_many_columns(name: str, limits: ImportLimits) -> BadInput:
    return BadInput(f"{name}: the list has more than {limits.max_columns} columns")


def _too_many_rows(name: str, limits: ImportLimits) -> BadInput:
    return BadInput(f"{name}: the list has more than {limits.max_rows:,} rows")


def _no_header(name: str, where: str) -> BadInput:
    return BadInput(
        f"{name}: no header row naming a surname (or name) column and another known column "
        f"was found in the first rows of {where}"
    )


# ------------------------------------------------------------------------------------------- csv


def _decode_csv(name: str, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16 with a BOM, tab separated
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{name}: the file is not readable UTF-16 text") from exc
    else:
        if b"\x00" in data:
            raise BadInput(f"{name}: the file holds NUL bytes, so it is not a CSV text file")
        for encoding in _CSV_ENCODINGS:
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise BadInput(f"{name}: the file's text encoding is not UTF-8 or Windows-1252")
    if "\x00" in text:
        raise BadInput(f"{name}: the file holds NUL characters, so it is not a CSV text file")
    return text.removeprefix("\ufeff")


def _sample_rows(text: str, delimiter: str, count: int) -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text[: 256 * 1024]), delimiter=delimiter, strict=False)
    try:
        for number, record in enumerate(reader, start=1):
            out.append((number, record))
            if number >= count:
                break
    except csv.Error:
        pass
    return out


def _read_csv(job: _Job) -> NationalList:
    source, name, table, limits = job.source, job.name, job.table, job.limits
    progress, cancelled, today = job.progress, job.cancelled, job.today
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise BadInput(f"{name}: the file cannot be read ({exc.strerror or 'unreadable'})") from exc
    text = _decode_csv(name, data)
    best: tuple[int, int, str, _Layout] | None = None
    for order, delimiter in enumerate(_DELIMITERS):
        layout = _find_header(_sample_rows(text, delimiter, limits.header_scan_rows), table)
        if layout is not None and (best is None or (layout.score, -order) > best[:2]):
            best = (layout.score, -order, delimiter, layout)
    if best is None:
        raise _no_header(name, "the file")
    _, _, delimiter, layout = best
    if len(layout.headers) > limits.max_columns:
        raise _too_many_columns(name, limits)

    total = text.count("\n") + 1
    reader = _RowReader(layout, table, limits, _EXCEL_1900_BASE, today)
    collect = _Collector(name, reader, limits, progress, cancelled)
    collect.tick(0, total)
    records = csv.reader(io.StringIO(text), delimiter=delimiter, strict=False)
    number = 0
    try:
        for number, record in enumerate(records, start=1):
            if number > limits.max_rows:
                raise _too_many_rows(name, limits)
            if len(record) > limits.max_columns and len(_trim(record)) > limits.max_columns:
                raise _too_many_columns(name, limits)
            if number > layout.header_row:
                collect.add(number, record)
            if number % _PROGRESS_EVERY == 0:
                collect.tick(records.line_num, total)
    except csv.Error as exc:
        raise BadInput(f"{name}: row {number + 1} cannot be read as CSV ({exc})") from exc
    collect.tick(total, total)
    return NationalList(
        source_name=name, sheet_name=None, header_row=layout.header_row,
        columns=layout.columns, headers=layout.headers, rows=collect.rows,
        rejected=collect.rejected,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------ xlsx


def _scan_zip(
    name: str, archive: zipfile.ZipFile, limits: ImportLimits, cancelled: Cancelled | None
) -> None:
    """Refuse zip bombs and XML with a DTD before openpyxl sees a byte of the workbook.

    Sizes are counted while decompressing, not taken from the headers, which can lie."""
    members = archive.infolist()
    if len(members) > limits.max_zip_members:
        raise BadInput(f"{name}: the workbook has too many parts ({len(members)}) to be a list")
    names = [m.filename for m in members]
    if len(set(names)) != len(names):
        raise BadInput(f"{name}: the workbook has two parts with the same name (refused)")
    if "[Content_Types].xml" not in names:
        raise BadInput(f"{name}: the file is a zip but not an Excel workbook (xlsx)")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_uncompressed_bytes:
        raise BadInput(f"{name}: the workbook unpacks to more than the limit (refused)")
    total = 0
    for member in members:
        _check_cancel(cancelled)
        if member.flag_bits & 0x1:
            raise BadInput(f"{name}: the workbook has encrypted parts (refused)")
        size = 0
        tail = b""
        decoder: codecs.IncrementalDecoder | None = None
        text_tail = ""
        with archive.open(member) as stream:
            first = True
            while chunk := stream.read(256 * 1024):
                size += len(chunk)
                total += len(chunk)
                if total > limits.max_uncompressed_bytes:
                    raise BadInput(f"{name}: the workbook unpacks to more than the limit (refused)")
                if size > limits.ratio_check_above_bytes and (
                    size > limits.max_compression_ratio * max(member.compress_size, 1)
                ):
                    raise BadInput(
                        f"{name}: a part of the workbook is compressed suspiciously well "
                        "(a zip bomb?) and was refused"
                    )
                if first:
                    first = False
                    if chunk.startswith(
                        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"<\x00", b"\x00<")
                    ):
                        encoding = (
                            "utf-16-be"
                            if chunk.startswith((codecs.BOM_UTF16_BE, b"\x00<"))
                            else "utf-16-le"
                        )
                        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
                if decoder is not None:
                    text = text_tail + decoder.decode(chunk)
                    if _DTD_TEXT_PATTERN.search(text):
                        raise _dtd_refused(name)
                    text_tail = text[-16:]
                else:
                    window = tail + chunk
                    if _DTD_PATTERN.search(window):
                        raise _dtd_refused(name)
                    tail = window[-16:]


def _dtd_refused(name: str) -> BadInput:
    return BadInput(
        f"{name}: the workbook contains XML with a DOCTYPE or ENTITY declaration, which a "
        "spreadsheet never needs (an XML bomb?), and was refused"
    )


_MAIN_NAMESPACES: Final = (
    "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}",
    "{http://purl.oclc.org/ooxml/spreadsheetml/main}",
)
_ROW_TAGS: Final = frozenset(ns + "row" for ns in _MAIN_NAMESPACES)
_T_TAGS: Final = frozenset(ns + "t" for ns in _MAIN_NAMESPACES)
_DIGITS: Final = "0123456789"
_MAX_SHEET_ROW: Final = 1_048_576


def _fast_iterparse(stream: Any) -> Any:
    """The C-accelerated stdlib parser, for the two parts that can be large (sheet, shared text).

    Only ever called after _scan_zip has refused every part holding a DOCTYPE or ENTITY: without
    a DTD, expat has no entities to expand and nothing external to fetch. defusedxml's parser
    would be the belt to that brace, but it is the pure-Python one and reads a 100,000-row sheet
    about four times slower, which the reconciliation's time budget cannot carry."""
    from xml.etree.ElementTree import iterparse

    return iterparse(stream, events=("end",))


def _ended_rows(stream: Any) -> Iterator[Any]:
    """Each <row> element of a sheet as soon as it is complete, streamed.

    The same parse as _fast_iterparse, but the parser's end events are collected straight into
    a list (``_setevents``, which XMLPullParser itself uses) and only rows reach Python code:
    a sheet has some forty elements per row, and stepping a generator for each of them cost a
    quarter of the reading time of a 100,000-row list."""
    from xml.etree.ElementTree import TreeBuilder, XMLParser

    parser = XMLParser(target=TreeBuilder())
    setevents = getattr(parser, "_setevents", None)
    if setevents is None:  # a Python without the C accelerator: the documented way
        for _, node in _fast_iterparse(stream):
            if node.tag in _ROW_TAGS:
                yield node
        return
    ended: list[tuple[str, Any]] = []
    setevents(ended, ("end",))
    while True:
        chunk = stream.read(16 * 1024)
        if chunk:
            parser.feed(chunk)
        else:
            parser.close()
        for _event, node in ended:
            if node.tag in _ROW_TAGS:
                yield node
        ended.clear()
        if not chunk:
            return


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _safe_xml(name: str, data: bytes) -> Any:
    from defusedxml import ElementTree as SafeET  # late: only xlsx imports need it

    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # defusedxml and expat raise several unrelated types
        raise BadInput(f"{name}: a part of the workbook is not well-formed XML") from exc


def _workbook_part(name: str, archive: zipfile.ZipFile) -> str:
    """The workbook's main part, from the content list (which also proves this is a workbook)."""
    root = _safe_xml(name, archive.read("[Content_Types].xml"))
    for node in root.iter():
        if node.get("ContentType", "") in _WORKBOOK_CONTENT_TYPES and node.get("PartName"):
            return str(node.get("PartName")).lstrip("/")
    raise BadInput(f"{name}: the file is a zip (Word, PowerPoint or other) but not a workbook")


def _relationships(name: str, archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type's last word, target part) for one part."""
    folder, _, base = part.rpartition("/")
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    if rels_name not in archive.NameToInfo:
        return {}
    out: dict[str, tuple[str, str]] = {}
    for node in _safe_xml(name, archive.read(rels_name)).iter():
        if _local(node.tag) != "Relationship" or node.get("TargetMode") == "External":
            continue
        target = str(node.get("Target", ""))
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[str(node.get("Id", ""))] = (
            str(node.get("Type", "")).rpartition("/")[2],
            posixpath.normpath(resolved),
        )
    return out


@dataclass(slots=True)
class _Sheet:
    title: str
    part: str
    visible: bool


@dataclass(slots=True)
class _Workbook:
    sheets: list[_Sheet]
    strings: list[str]
    date_styles: frozenset[str]
    epoch: dt.date


def _open_workbook(name: str, archive: zipfile.ZipFile) -> _Workbook:
    part = _workbook_part(name, archive)
    if part not in archive.NameToInfo:
        raise BadInput(f"{name}: the workbook's main part is missing")
    root = _safe_xml(name, archive.read(part))
    rels = _relationships(name, archive, part)
    epoch = _EXCEL_1900_BASE
    sheets: list[_Sheet] = []
    for node in root.iter():
        tag = _local(node.tag)
        if tag == "workbookPr" and node.get("date1904", "").casefold() in ("1", "true"):
            epoch = _EXCEL_1904_BASE
        elif tag == "sheet":
            rel_id = next((v for k, v in node.attrib.items() if k.endswith("}id")), "")
            kind, target = rels.get(rel_id, ("", ""))
            if kind == "worksheet" and target in archive.NameToInfo:
                visible = node.get("state", "visible") == "visible"
                sheets.append(_Sheet(str(node.get("name", "")), target, visible))
    strings: list[str] = []
    date_styles: frozenset[str] = frozenset()
    for kind, target in rels.values():
        if target not in archive.NameToInfo:
            continue
        if kind == "sharedStrings":
            strings = _shared_strings(name, archive, target)
        elif kind == "styles":
            date_styles = _date_styles(name, archive.read(target))
    return _Workbook(sheets, strings, date_styles, epoch)


def _shared_strings(name: str, archive: zipfile.ZipFile, part: str) -> list[str]:
    strings: list[str] = []
    try:
        with archive.open(part) as stream:
            for _, node in _fast_iterparse(stream):
                if _local(node.tag) == "si":
                    strings.append(_rich_text(node))
                    node.clear()
    except BadInput:
        raise
    except Exception as exc:  # untrusted XML: expat and defusedxml raise several types
        raise BadInput(f"{name}: the workbook's shared text is damaged and cannot be read") from exc
    return strings


def _rich_text(node: Any) -> str:
    """The text of an <si> or <is>: its <t>, or its runs' <t>s, never phonetic guides (<rPh>)."""
    if len(node) == 1 and node[0].tag in _T_TAGS:
        return node[0].text or ""  # the usual case: one plain <t>
    parts: list[str] = []
    for child in node:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            for grandchild in child:
                if _local(grandchild.tag) == "t":
                    parts.append(grandchild.text or "")
    return "".join(parts)


def _date_styles(name: str, data: bytes) -> frozenset[str]:
    """Indexes of the cell styles whose number format shows a date."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    root = _safe_xml(name, data)
    formats: dict[str, str] = {str(k): str(v) for k, v in BUILTIN_FORMATS.items()}
    cell_xfs = None
    for node in root.iter():
        tag = _local(node.tag)
        if tag == "numFmt":
            formats[str(node.get("numFmtId", ""))] = str(node.get("formatCode", ""))
        elif tag == "cellXfs":
            cell_xfs = node
    if cell_xfs is None:
        return frozenset()
    out: set[str] = set()
    for index, xf in enumerate(x for x in cell_xfs if _local(x.tag) == "xf"):
        code = formats.get(str(xf.get("numFmtId", "0")), "General")
        if is_date_format(code):
            out.add(str(index))
    return frozenset(out)


class _CountingReader(io.RawIOBase):
    """A read-only stream that counts the bytes handed on, for progress through a sheet."""

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self.raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.raw.read(size)
        self.consumed += len(data)
        return data


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch.upper()) - 64)
    return number


def _sheet_rows(
    job: _Job, archive: zipfile.ZipFile, book: _Workbook, sheet: _Sheet, counter: _CountingReader
) -> Generator[tuple[int, list[object]], None, None]:
    """(row number, cell values) for each row the sheet's XML holds, streamed.

    A formula cell gives "=" and its formula text, never its cached result: nothing is evaluated.
    Dates are recognised by the cell's number format, as a spreadsheet shows them."""
    name, limits = job.name, job.limits
    strings, date_styles, epoch = book.strings, book.date_styles, book.epoch
    columns: dict[str, int] = {}
    tags: dict[str, str] = {}
    previous = 0
    try:
        for row in _ended_rows(counter):
            if not tags:
                ns = row.tag[: -len("row")]
                tags = {k: ns + k for k in ("c", "v", "f", "is")}
                tag_c, tag_v, tag_f, tag_is = tags["c"], tags["v"], tags["f"], tags["is"]
            ref = row.get("r")
            number = int(ref) if ref else previous + 1
            if number <= previous or number > _MAX_SHEET_ROW:
                raise BadInput(f"{name}: the sheet's rows are out of order (damaged workbook)")
            if number > limits.max_rows:
                raise _too_many_rows(name, limits)
            previous = number
            cells: list[object] = []
            column = 0
            for cell in row:
                if cell.tag != tag_c:
                    continue
                cell_ref = cell.get("r")
                if cell_ref:
                    letters = cell_ref.rstrip(_DIGITS)
                    found = columns.get(letters)
                    if found is None:
                        found = columns[letters] = _column_number(letters)
                    column = found
                else:
                    column += 1
                kind = cell.get("t")
                # the schema orders a cell's children f, v, is: the first tells us what it holds
                first = cell[0] if len(cell) else None
                value: object
                if first is None:
                    value = None
                elif first.tag == tag_f:
                    value = "=" + (first.text or "")
                elif kind == "inlineStr":
                    inline = cell.find(tag_is)
                    value = _rich_text(inline) if inline is not None else None
                else:
                    text = first.text if first.tag == tag_v else None
                    if text is None:
                        value = None
                    elif kind == "s":
                        value = strings[int(text)]
                    elif kind in ("str", "e"):
                        value = text
                    elif kind == "b":
                        value = text.strip() in ("1", "true")
                    elif kind == "d":
                        value = _iso_cell(text)
                    else:
                        value = _number_cell(text, cell.get("s") in date_styles, epoch)
                if value is None:
                    continue
                if column > limits.max_columns:
                    if _is_blank(value):
                        continue
                    raise _too_many_columns(name, limits)
                if column > len(cells):
                    cells.extend([None] * (column - len(cells)))
                cells[column - 1] = value
            row.clear()
            yield number, cells
    except BadInput:
        raise
    except Exception as exc:  # untrusted XML: expat, defusedxml and int() raise several types
        raise BadInput(f"{name}: the sheet {sheet.title!r} is damaged and cannot be read") from exc


def _number_cell(text: str, is_date: bool, epoch: dt.date) -> object:
    try:
        number = float(text)
    except ValueError:
        return text
    if is_date:
        day = _from_serial(number, epoch)
        if day is not None:
            return dt.datetime.combine(day, dt.time()) + dt.timedelta(days=number % 1)
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def _iso_cell(text: str) -> object:
    try:
        return dt.datetime.fromisoformat(text.strip().removesuffix("Z"))
    except ValueError:
        return text


def _read_xlsx(job: _Job) -> NationalList:
    source, name, limits, cancelled = job.source, job.name, job.limits, job.cancelled
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BadInput(f"{name}: the file is not a readable Excel workbook (xlsx)") from exc
    with archive:
        try:
            _scan_zip(name, archive, limits, cancelled)
            book = _open_workbook(name, archive)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                RuntimeError, KeyError) as exc:  # fmt: skip
            raise BadInput(f"{name}: the workbook is damaged and cannot be read") from exc
        return _read_sheets(job, archive, book)


def _read_sheets(job: _Job, archive: zipfile.ZipFile, book: _Workbook) -> NationalList:
    name, limits = job.name, job.limits
    chosen: tuple[_Sheet, _Layout] | None = None
    visible = [s for s in book.sheets if s.visible]
    hidden = [s for s in book.sheets if not s.visible]
    # Hidden sheets often hold stale copies: read one only when no visible sheet has a header.
    for group in (visible, hidden):
        for sheet in group:
            _check_cancel(job.cancelled)
            with archive.open(sheet.part) as raw:
                rows = _sheet_rows(job, archive, book, sheet, _CountingReader(raw))
                first = [
                    item for _, item in zip(range(limits.header_scan_rows), rows, strict=False)
                ]
                rows.close()
            layout = _find_header(first, job.table)
            if layout is not None and (chosen is None or layout.score > chosen[1].score):
                chosen = (sheet, layout)
        if chosen is not None:
            break
    if chosen is None:
        raise _no_header(name, "any sheet")
    sheet, layout = chosen
    if len(layout.headers) > limits.max_columns:
        raise _too_many_columns(name, limits)
    reader = _RowReader(layout, job.table, limits, book.epoch, job.today)
    collect = _Collector(name, reader, limits, job.progress, job.cancelled)
    total = archive.getinfo(sheet.part).file_size
    collect.tick(0, total)
    with archive.open(sheet.part) as raw:
        counter = _CountingReader(raw)
        for count, (number, cells) in enumerate(
            _sheet_rows(job, archive, book, sheet, counter), start=1
        ):
            if number > layout.header_row:
                collect.add(number, cells)
            if count % _PROGRESS_EVERY == 0:
                collect.tick(counter.consumed, total)
    collect.tick(total, total)
    return NationalList(
        source_name=name, sheet_name=sheet.title, header_row=layout.header_row,
        columns=layout.columns, headers=layout.headers, rows=collect.rows,
        rejected=collect.rejected,
    )  # fmt: skip

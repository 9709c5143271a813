"""Write messy synthetic national headcount lists (xlsx or csv) for tests and benchmarks."""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from app.io.national_import import ColumnTable, expand_two_digit_year, load_column_table

__all__ = [
    "DATE_FORMS",
    "JUNK_KINDS",
    "PNC_FORMS",
    "PlantedList",
    "make_people",
    "pnc_check_letter",
    "write_messy_national_list",
    "write_pnc",
]

# Column order as the hub might lay it out; only fields present in the records are written.
FIELD_ORDER: Final[tuple[str, ...]] = (
    "surname",
    "forenames",
    "dob",
    "pnc",
    "cro",
    "gender",
    "status",
    "force",
    "establishment",
    "release_date",
    "nominal_manager",
    "risk_level",
    "mappa_category",
    "mappa_level",
    "offence",
    "notification_end",
)
DATE_FIELDS: Final = frozenset({"dob", "release_date", "notification_end"})
DATE_FORMS: Final[tuple[str, ...]] = (
    "date",  # a real date cell (xlsx only)
    "serial",  # an Excel serial number as a number (xlsx only)
    "serial_text",
    "dd/mm/yyyy",
    "dd/mm/yy",
    "d.m.yyyy",
    "dd-mm-yyyy",
    "d Mon yyyy",
    "dd-MON-yyyy",
    "iso",
)
PNC_FORMS: Final[tuple[str, ...]] = ("as_given", "lower", "no_slash", "short_year", "no_zeros")
JUNK_KINDS: Final[tuple[str, ...]] = ("total", "notes", "header", "formula")
CHECK_LETTERS: Final = "ZABCDEFGHJKLMNPQRTUVWXY"

_PNC = re.compile(r"(\d{4})/(\d{7})([A-Za-z])")
_MONTH_ABBR: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip
_TITLES: Final = (
    "OFFICIAL-SENSITIVE",
    "National CT nominal headcount",
    "Extract for regional reconciliation",
    "Prepared by the national hub - do not forward",
    "Figures as at the start of the month",
)
_EXTRA_HEADING: Final = "Hub ref"


@dataclass(slots=True)
class PlantedList:
    """Where everything landed in a generated list (1-based row numbers, as a user sees them)."""

    path: Path
    fmt: Literal["xlsx", "csv"]
    header_row: int
    columns: dict[str, str]
    record_rows: list[int]
    junk_rows: list[int]
    junk_kinds: dict[int, str]
    blank_rows: list[int]
    title_rows: list[int]
    written: list[dict[str, object]] = field(repr=False)
    combined_name: bool = False
    encoding: str | None = None
    delimiter: str | None = None


def pnc_check_letter(year: int, serial: int) -> str:
    """The PNC check letter for a year and serial (DOMAIN.md's rule)."""
    return CHECK_LETTERS[int(f"{year % 100:02d}{serial:07d}") % 23]


def write_pnc(pnc: str, forms: Iterable[str]) -> str:
    """Rewrite 'YYYY/NNNNNNNL' in the given written forms; other text is returned unchanged."""
    m = _PNC.fullmatch(pnc)
    if not m:
        return pnc
    year, serial, letter = m[1], m[2], m[3].upper()
    chosen = set(forms)
    if "short_year" in chosen:
        year = year[2:]
    if "no_zeros" in chosen:
        serial = serial.lstrip("0") or "0"
    if "lower" in chosen:
        letter = letter.lower()
    slash = "" if "no_slash" in chosen else "/"
    return f"{year}{slash}{serial}{letter}"


def _excel_serial(day: dt.date) -> int:
    # 1900 system: from 1900-03-01 on, serial = days since 1899-12-30 (Excel's phantom 29 Feb)
    serial = (day - dt.date(1899, 12, 30)).days
    return serial if serial > 60 else serial - 1


def _write_date(day: dt.date, form: str, *, birth: bool, today: dt.date, xlsx: bool) -> object:
    if form == "dd/mm/yy":
        yy = day.year % 100
        if expand_two_digit_year(yy, birth=birth, today=today) != day.year:
            form = "dd/mm/yyyy"  # a two-digit year would not come back as the same date
    if not xlsx and form in ("date", "serial"):
        form = "serial_text" if form == "serial" else "dd/mm/yyyy"
    if form == "date":
        return dt.datetime(day.year, day.month, day.day)
    if form == "serial":
        return _excel_serial(day)
    if form == "serial_text":
        return str(_excel_serial(day))
    if form == "dd/mm/yyyy":
        return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
    if form == "dd/mm/yy":
        return f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}"
    if form == "d.m.yyyy":
        return f"{day.day}.{day.month}.{day.year:04d}"
    if form == "dd-mm-yyyy":
        return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"
    if form == "d Mon yyyy":
        return f"{day.day} {_MONTH_ABBR[day.month - 1]} {day.year:04d}"
    if form == "dd-MON-yyyy":
        return f"{day.day:02d}-{_MONTH_ABBR[day.month - 1].upper()}-{day.year:04d}"
    if form == "iso":
        return day.isoformat()
    raise ValueError(f"unknown date form {form!r}")


def _column_letter(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def write_messy_national_list(
    records: Sequence[Mapping[str, object]],
    path: Path | str,
    *,
    seed: int = 0,
    fmt: Literal["xlsx", "csv"] | None = None,
    title_rows: int | None = None,
    combined_name: bool | None = None,
    junk_every: int = 40,
    junk_kinds: Sequence[str] = JUNK_KINDS,
    blank_every: int = 60,
    date_forms: Sequence[str] = DATE_FORMS,
    pnc_forms: Sequence[str] = PNC_FORMS,
    headings: Mapping[str, str] | None = None,
    shuffle_columns: bool = True,
    extra_column: bool = True,
    encoding: str | None = None,
    delimiter: str | None = None,
    today: dt.date | None = None,
    table: ColumnTable | None = None,
) -> PlantedList:
    """Write ``records`` as a messy national list and say where each record and junk row landed.

    Everything random comes from ``random.Random(seed)``, so the same arguments give the same
    file. ``junk_every``/``blank_every`` are mean gaps (0 turns them off); a totals row is always
    added at the end when junk is on. ``headings`` pins the heading used for given fields."""
    rng = random.Random(seed)
    out = Path(path)
    kind: Literal["xlsx", "csv"] = fmt or ("csv" if out.suffix.casefold() == ".csv" else "xlsx")
    xlsx = kind == "xlsx"
    now = today or dt.date.today()
    columns_table = table or load_column_table()
    present = {key for record in records for key in record}
    fields = [f for f in FIELD_ORDER if f in present]
    if "surname" not in fields:
        raise ValueError("records need a surname")
    combined = rng.random() < 0.3 if combined_name is None else combined_name
    if combined:
        fields = ["name"] + [f for f in fields if f not in ("surname", "forenames")]
    if shuffle_columns:
        rng.shuffle(fields)
    chosen_headings: dict[str, str] = {}
    for name in fields:
        if headings and name in headings:
            chosen_headings[name] = headings[name]
            continue
        heading = rng.choice(columns_table.headings[name])
        chosen_headings[name] = heading.upper() if rng.random() < 0.2 else heading
    header = [chosen_headings[f] for f in fields]
    if extra_column:
        header.insert(rng.randrange(len(header) + 1), _EXTRA_HEADING)
    positions = {name: header.index(chosen_headings[name]) for name in fields}
    width = len(header)

    rows: list[list[object]] = []
    n_titles = rng.randint(0, 4) if title_rows is None else title_rows
    title_numbers: list[int] = []
    for i in range(n_titles):
        if i == n_titles - 1 and n_titles > 1:
            rows.append([])  # a blank line between the titles and the header, as people do
        else:
            rows.append([_TITLES[i % len(_TITLES)]])
            title_numbers.append(len(rows))
    rows.append(list(header))
    header_row = len(rows)

    record_rows: list[int] = []
    junk_rows: list[int] = []
    junk_at: dict[int, str] = {}
    blank_rows: list[int] = []
    written: list[dict[str, object]] = []

    def junk_row(kind_: str) -> list[object]:
        cells: list[object] = [None] * width
        if kind_ == "total":
            name_col = positions["name" if combined else "surname"]
            cells[name_col] = rng.choice(("TOTAL", "Total", "Total nominals", "Grand total"))
            other = (name_col + 1) % width
            cells[other] = len(written) if xlsx else str(len(written))
        elif kind_ == "notes":
            cells[0] = "Notes: 3 records awaiting hub review; see covering email"
        elif kind_ == "header":
            cells = list(header)
        elif kind_ == "formula":
            cells = [
                f"=SUM({_column_letter(i + 1)}2:{_column_letter(i + 1)}9)" for i in range(width)
            ]
        else:
            raise ValueError(f"unknown junk kind {kind_!r}")
        return cells

    def plant_junk(kind_: str) -> None:
        rows.append(junk_row(kind_))
        junk_rows.append(len(rows))
        junk_at[len(rows)] = kind_

    for index, record in enumerate(records):
        if junk_every and junk_kinds and rng.random() < 1 / junk_every:
            plant_junk(rng.choice(tuple(junk_kinds)))
        if blank_every and rng.random() < 1 / blank_every:
            rows.append([None] * width if xlsx else [""] * width)
            blank_rows.append(len(rows))
        cells: list[object] = [None] * width
        cell_values: dict[str, object] = {}
        for name in fields:
            value = _cell_for(name, record, rng, date_forms, pnc_forms, now, xlsx)
            cells[positions[name]] = value
            cell_values[name] = value
        if extra_column:
            cells[header.index(_EXTRA_HEADING)] = f"H{index + 1:06d}"
        rows.append(cells)
        record_rows.append(len(rows))
        written.append(cell_values)
    if junk_every and junk_kinds:
        plant_junk("total")

    used_encoding: str | None = None
    used_delimiter: str | None = None
    if xlsx:
        _write_xlsx(out, rows)
    else:
        used_encoding = encoding or rng.choice(("utf-8-sig", "utf-8", "cp1252"))
        used_delimiter = delimiter or rng.choice((",", ";", "\t", "|"))
        _write_csv(out, rows, used_encoding, used_delimiter)
    return PlantedList(
        path=out,
        fmt=kind,
        header_row=header_row,
        columns=dict(chosen_headings),
        record_rows=record_rows,
        junk_rows=junk_rows,
        junk_kinds=junk_at,
        blank_rows=blank_rows,
        title_rows=title_numbers,
        written=written,
        combined_name=combined,
        encoding=used_encoding,
        delimiter=used_delimiter,
    )


def _cell_for(
    name: str,
    record: Mapping[str, object],
    rng: random.Random,
    date_forms: Sequence[str],
    pnc_forms: Sequence[str],
    today: dt.date,
    xlsx: bool,
) -> object:
    if name == "name":
        surname = str(record.get("surname") or "")
        forenames = str(record.get("forenames") or "")
        return f"{surname.upper()}, {forenames}" if forenames else surname.upper()
    value = record.get(name)
    if value is None:
        return None
    if name in DATE_FIELDS and isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        form = rng.choice(tuple(date_forms))
        return _write_date(day, form, birth=name == "dob", today=today, xlsx=xlsx)
    if name == "pnc" and isinstance(value, str) and pnc_forms:
        forms = [f for f in pnc_forms if rng.random() < 0.35]
        return write_pnc(value, forms)
    return value if xlsx else str(value)


def _write_xlsx(path: Path, rows: list[list[object]]) -> None:
    import openpyxl  # late: heavy

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Headcount")
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def _write_csv(path: Path, rows: list[list[object]], encoding: str, delimiter: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])


# ----------------------------------------------------------------------------- synthetic people

_SURNAMES: Final = (
    "Ashdown", "Brackley", "Carrow", "Dunmore", "Elsworth", "Fairbank", "Garside", "Holbrook",
    "Ingleby", "Jessop", "Kettering", "Lowther", "Marwood", "Northcote", "Oakridge", "Penhallow",
    "Quarrie", "Rushworth", "Stainsby", "Thornbury", "Upfield", "Varley", "Wexcombe", "Yardley",
    "Abdul Rahman", "O'Brien", "Khan-Ellis", "Mohammed", "Okonkwo", "Nowakowski", "Haddad",
)  # fmt: skip
_FORENAMES: Final = (
    "Adam", "Bilal", "Callum", "Daniel", "Ewan", "Farid", "George", "Harun", "Idris", "Jamal",
    "Kieran", "Liam", "Musa", "Nathan", "Omar", "Patrick", "Rhys", "Samir", "Tariq", "Yusuf",
    "Zak", "Aisha", "Bethany", "Chloe", "Fatima", "Hannah", "Maryam", "Sophie",
)  # fmt: skip
_FORCES: Final = (
    "Northshire Police",
    "Eastmoor Constabulary",
    "Westvale Police",
    "Southfen Police",
)
_PRISONS: Final = ("HMP Greystone", "HMP Harrowdale", "HMP Millbrook", "HMYOI Fenwick")
_STATUSES: Final = ("Custody", "Community")
_RISKS: Final = ("High", "Medium", "Low")
_OFFENCES: Final = ("TACT s.5", "TACT s.58", "TACT s.2", "Terrorism-connected")


def make_people(
    count: int, *, seed: int = 0, today: dt.date | None = None
) -> list[dict[str, object]]:
    """Synthetic nominals (never real people) with valid PNC IDs, as dicts the writer takes."""
    rng = random.Random(seed)
    now = today or dt.date.today()
    people: list[dict[str, object]] = []
    for i in range(count):
        dob = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
        year = rng.randint(max(dob.year + 12, 1990), 2024)
        serial = rng.randrange(1, 10_000_000)
        status = rng.choice(_STATUSES)
        release = now + dt.timedelta(days=rng.randrange(30, 3000)) if status == "Custody" else None
        person: dict[str, object] = {
            "surname": rng.choice(_SURNAMES),
            "forenames": rng.choice(_FORENAMES)
            + (" " + rng.choice(_FORENAMES) if rng.random() < 0.4 else ""),
            "dob": dob,
            "pnc": f"{year}/{serial:07d}{pnc_check_letter(year, serial)}",
            "cro": f"{rng.randrange(1, 999_999):06d}/{rng.randrange(70, 99)}",
            "gender": rng.choice(("M", "F")),
            "status": status,
            "force": rng.choice(_FORCES),
            "establishment": rng.choice(_PRISONS) if status == "Custody" else None,
            "release_date": release,
            "nominal_manager": f"DC {rng.choice(_SURNAMES)} {i % 97}",
            "risk_level": rng.choice(_RISKS),
            "mappa_category": str(rng.randint(1, 3)),
            "mappa_level": str(rng.randint(1, 3)),
            "offence": rng.choice(_OFFENCES),
            "notification_end": now + dt.timedelta(days=rng.randrange(100, 20_000)),
        }
        people.append(person)
    return people

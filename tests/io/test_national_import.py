"""Reading the national headcount list: messy layouts, every date form, and hostile files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.errors import BadInput
from app.io.national_fixture import (
    JUNK_KINDS,
    make_people,
    pnc_check_letter,
    write_messy_national_list,
    write_pnc,
)
from app.io.national_import import (
    ImportCancelled,
    ImportLimits,
    NationalList,
    expand_two_digit_year,
    load_column_table,
    normalise_header,
    parse_date,
    read_national_list,
)

TODAY = dt.date(2025, 6, 1)
PEOPLE = make_people(300, seed=11, today=TODAY)


def _read(path: Path, **kwargs: Any) -> NationalList:
    return read_national_list(path, today=TODAY, **kwargs)


def _write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8",
               delimiter: str = ",") -> Path:  # fmt: skip
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


# A minimal workbook written by hand, so that tests control every byte of the sheet XML.
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="List" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"
_HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Surname</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Forename</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>DOB</t></is></c></row>'
)


def _hand_xlsx(path: Path, sheet_xml: str | bytes, *, extra: dict[str, bytes] | None = None,
               compression: int = zipfile.ZIP_DEFLATED) -> Path:  # fmt: skip
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def _inline_row(number: int, *values: str) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


# ------------------------------------------------------------------------ generator round trips


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("seed", range(6))
def test_every_planted_record_and_junk_row_comes_back(tmp_path: Path, fmt: str, seed: int) -> None:
    planted = write_messy_national_list(
        PEOPLE, tmp_path / f"national.{fmt}", seed=seed, junk_every=15, today=TODAY
    )
    got = _read(planted.path)

    assert got.header_row == planted.header_row
    assert [r.row for r in got.rows] == planted.record_rows
    assert got.dropped_rows == planted.junk_rows
    assert [r for r in got.rejected if not r.dropped] == []  # planted values are all readable
    assert set(planted.junk_kinds.values()) <= set(JUNK_KINDS)
    for row, person, written in zip(got.rows, PEOPLE, planted.written, strict=True):
        assert row.surname.casefold() == str(person["surname"]).casefold()
        assert row.forenames == person["forenames"]
        assert row.dob == person["dob"]
        assert row.pnc == written["pnc"]  # as written: normalising is not this module's job
        assert row.release_date == person["release_date"]
        assert row.notification_end == person["notification_end"]
        assert row.status == person["status"]
        assert row.force == person["force"]
        assert row.mappa_level == person["mappa_level"]
        assert row.raw["Hub ref"] is not None
    for field_name, heading in planted.columns.items():
        assert got.columns[field_name] == heading


def test_junk_rows_are_reported_with_their_row_numbers_and_reasons(tmp_path: Path) -> None:
    planted = write_messy_national_list(
        PEOPLE[:40], tmp_path / "n.xlsx", seed=3, junk_every=4, today=TODAY
    )
    got = _read(planted.path)
    reasons = {r.row: r.error for r in got.rejected}
    assert sorted(reasons) == planted.junk_rows
    for row, kind in planted.junk_kinds.items():
        expected = {
            "total": "totals row",
            "notes": "name",  # no name, or a name with digits/symbols: either way not a person
            "header": "repeated header row",
            "formula": "formula",
        }[kind]
        assert expected in reasons[row]
    assert all(b not in reasons for b in planted.blank_rows)  # blank rows pass silently


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    a = write_messy_national_list(PEOPLE, tmp_path / "a.csv", seed=5, today=TODAY)
    b = write_messy_national_list(PEOPLE, tmp_path / "b.csv", seed=5, today=TODAY)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.record_rows == b.record_rows and a.junk_rows == b.junk_rows


def test_generator_pnc_forms() -> None:
    pnc = "2001/0012345" + pnc_check_letter(2001, 12345)
    letter = pnc[-1]
    assert write_pnc(pnc, []) == pnc
    assert write_pnc(pnc, ["short_year"]) == f"01/0012345{letter}"
    assert write_pnc(pnc, ["no_zeros", "no_slash"]) == f"200112345{letter}"
    assert write_pnc(pnc, ["lower"]) == f"2001/0012345{letter.lower()}"
    assert write_pnc("not a pnc", ["lower"]) == "not a pnc"


# --------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(1990, 4, 1, 0, 0), dt.date(1990, 4, 1)),
        (dt.date(1990, 4, 1), dt.date(1990, 4, 1)),
        (32964, dt.date(1990, 4, 1)),
        (32964.0, dt.date(1990, 4, 1)),
        (32964.75, dt.date(1990, 4, 1)),
        ("32964", dt.date(1990, 4, 1)),
        ("01/04/1990", dt.date(1990, 4, 1)),
        ("1/4/1990", dt.date(1990, 4, 1)),
        ("01/04/90", dt.date(1990, 4, 1)),
        ("1.4.1990", dt.date(1990, 4, 1)),
        ("01-04-1990", dt.date(1990, 4, 1)),
        ("1 Apr 1990", dt.date(1990, 4, 1)),
        ("1st April 1990", dt.date(1990, 4, 1)),
        ("01-APR-1990", dt.date(1990, 4, 1)),
        ("01-Apr-90", dt.date(1990, 4, 1)),
        ("April 1, 1990", dt.date(1990, 4, 1)),
        ("1990-04-01", dt.date(1990, 4, 1)),
        ("1990-04-01 00:00:00", dt.date(1990, 4, 1)),
        ("01/04/1990 00:00", dt.date(1990, 4, 1)),
        ("19900401", dt.date(1990, 4, 1)),
        ("01041990", dt.date(1990, 4, 1)),
        ("010490", dt.date(1990, 4, 1)),
        ("  01/04/1990  ", dt.date(1990, 4, 1)),
        ("05/06/2007", dt.date(2007, 6, 5)),  # UK day-first, always
        ("N/A", None),
        ("", None),
        (None, None),
    ],
)
def test_date_forms(value: object, expected: dt.date | None) -> None:
    assert parse_date(value, birth=True, today=TODAY) == expected


def test_excel_serials_honour_the_1900_leap_year_bug_and_the_1904_system() -> None:
    assert parse_date(1, today=TODAY) == dt.date(1900, 1, 1)
    assert parse_date(59, today=TODAY) == dt.date(1900, 2, 28)
    assert parse_date(61, today=TODAY) == dt.date(1900, 3, 1)
    with pytest.raises(ValueError, match="not a real date"):
        parse_date(60, today=TODAY)  # 1900-02-29, which Excel invented
    assert parse_date(31502, epoch=dt.date(1904, 1, 1), today=TODAY) == dt.date(1990, 4, 1)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("31/02/1990", "not a real date"),
        ("12/13/1990", "not a real date"),
        ("01/04/1890", "before 1900"),
        ("01/04/2030", "in the future"),
        ("yesterday", "not a date"),
        ("=TODAY()", "formula"),
        (True, "not a date"),
        (0, "not a real date"),
        (-5, "not a real date"),
    ],
)
def test_implausible_dates_of_birth_are_refused_without_repeating_the_value(
    value: object, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_date(value, birth=True, today=TODAY)
    assert str(value) not in str(caught.value) or str(value) in ("0", "True")


def test_two_digit_years() -> None:
    assert expand_two_digit_year(90, birth=True, today=TODAY) == 1990
    assert expand_two_digit_year(5, birth=True, today=TODAY) == 2005
    assert expand_two_digit_year(20, birth=True, today=TODAY) == 1920  # nobody aged five
    assert expand_two_digit_year(30, birth=False, today=TODAY) == 2030
    assert expand_two_digit_year(80, birth=False, today=TODAY) == 1980


def test_bad_values_are_reported_by_row_and_column_and_the_row_is_kept(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "n.csv", [
        ["Surname", "Forenames", "Date of birth", "Release date"],
        ["Ashdown", "Adam", "31/02/1990", "TBC"],
        ["Brackley", "Bilal", "01/01/2040", "01/01/2026"],
        ["Carrow", "=HYPERLINK(\"http://x\")", "1/1/1980", "someday"],
    ])  # fmt: skip
    got = _read(path)
    assert [r.surname for r in got.rows] == ["Ashdown", "Brackley", "Carrow"]
    assert got.rows[0].dob is None and got.rows[0].release_date is None  # TBC: not known
    assert got.rows[2].forenames is None
    assert [(r.row, r.column, r.error, r.dropped) for r in got.rejected] == [
        (2, "Date of birth", "date of birth is not a real date", False),
        (3, "Date of birth", "date of birth is in the future", False),
        (4, "Forenames", "forenames is a formula, not read", False),
        (4, "Release date", "release date is not a date", False),
    ]
    for rejected in got.rejected:
        for secret in ("31/02/1990", "2040", "HYPERLINK", "someday"):
            assert secret not in rejected.error


# ------------------------------------------------------------------------------ header finding


def test_header_is_found_below_title_rows_blank_rows_and_notes(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "n.csv", [
        ["OFFICIAL-SENSITIVE"],
        ["National nominal headcount, all forces"],
        [],
        ["Notes: surname first; dates are UK"],
        ["", "SURNAME", "Forename(s)", "D.O.B", "PNC ID"],
        ["", "Ashdown", "Adam", "01/04/1990", "90/123456A"],
    ])  # fmt: skip
    got = _read(path)
    assert got.header_row == 5
    assert got.columns == {
        "surname": "SURNAME", "forenames": "Forename(s)", "dob": "D.O.B", "pnc": "PNC ID",
    }  # fmt: skip
    assert [(r.row, r.surname, r.dob, r.pnc) for r in got.rows] == [
        (6, "Ashdown", dt.date(1990, 4, 1), "90/123456A")
    ]


def test_every_synonym_is_recognised(tmp_path: Path) -> None:
    table = load_column_table()
    assert table.version
    for field_name, headings in table.headings.items():
        for heading in headings:
            other = (
                ["Surname", "Date of birth"]
                if field_name not in ("surname", "name")
                else ["Date of birth"]
            )
            if field_name == "dob":
                other = ["Surname"]
            header = [heading, *other]
            name_value = "SMITH, Adam" if field_name == "name" else "Smith"
            row = ["x"] * len(header)
            row[header.index(heading)] = name_value if field_name in ("surname", "name") else "x"
            if "Surname" in header:
                row[header.index("Surname")] = "Smith"
            if field_name != "dob":
                row[header.index("Date of birth")] = "01/01/1980"
            else:
                row[0] = "01/01/1980"
            path = _write_csv(tmp_path / "s.csv", [header, row])
            got = _read(path)
            assert got.columns[field_name] == heading, heading
            for variant in (heading.upper(), heading.lower(), f" {heading} "):
                assert table.field_for(variant) == field_name
    assert table.field_for("Date of birth (dd/mm/yyyy)") == "dob"
    assert normalise_header("  D.O.B. ") == "dob"


def test_synonyms_never_name_two_fields() -> None:
    table = load_column_table()
    seen: dict[str, str] = {}
    for field_name, headings in table.headings.items():
        for heading in headings:
            assert seen.setdefault(normalise_header(heading), field_name) == field_name


def test_combined_name_column_is_split(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "n.csv", [
        ["Name", "DOB"],
        ["ABDUL RAHMAN, Mohammed Ali", "01/04/1990"],
        ["O'BRIEN, Sean", "02/04/1990"],
        ["Daniel HOLBROOK", "03/04/1990"],
        ["Jessop", "04/04/1990"],
    ])  # fmt: skip
    got = _read(path)
    assert [(r.surname, r.forenames) for r in got.rows] == [
        ("ABDUL RAHMAN", "Mohammed Ali"),
        ("O'BRIEN", "Sean"),
        ("HOLBROOK", "Daniel"),
        ("Jessop", None),
    ]
    assert got.columns["name"] == "Name"


def test_no_header_is_bad_input(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "n.csv", [["a", "b"], ["1", "2"]])
    with pytest.raises(BadInput, match="n.csv: no header row"):
        _read(path)


# -------------------------------------------------------------------------------- csv encodings


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252", "utf-16"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    path = _write_csv(tmp_path / "n.csv", [
        ["Extract, as at 1 June; prepared | checked"],
        ["Surname", "First names", "Date of birth", "Force"],
        ["Ní Bhriain", "Zoë", "1 Apr 1990", "Northshire Police"],
        ["Müller", "José", "02/04/1991", "Eastmoor, North"],
    ], encoding=encoding, delimiter=delimiter)  # fmt: skip
    got = _read(path)
    assert got.header_row == 2
    assert [(r.surname, r.forenames, r.force) for r in got.rows] == [
        ("Ní Bhriain", "Zoë", "Northshire Police"),
        ("Müller", "José", "Eastmoor, North"),
    ]


def test_csv_with_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_bytes(b"Surname,DOB\nSmith\x00,01/01/1980\n")
    with pytest.raises(BadInput, match="n.csv: .*NUL"):
        _read(path)


def test_csv_multi_line_cells_count_as_one_row(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text('Surname,Notes,DOB\nAshdown,"two\nlines",01/01/1980\nBrackley,,02/01/1980\n')
    assert [r.row for r in _read(path).rows] == [2, 3]  # rows as a spreadsheet shows them


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.sampled_from(["Surname", "DOB", "PNC", "Name", "Force", "x", "", "=1+1"]), max_size=6
    ),
    body=st.text(max_size=400),
    raw=st.binary(max_size=200),
)
def test_fuzzed_csv_gives_rows_or_bad_input_never_a_crash(
    header: list[str], body: str, raw: bytes
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(",".join(header).encode() + b"\n" + body.encode("utf-8") + raw)
        try:
            got = _read(path)
        except BadInput as exc:
            assert "fuzz.csv" in str(exc)
            return
        for row in got.rows:
            assert row.surname and row.row > got.header_row
        for rejected in got.rejected:
            assert rejected.row > got.header_row


# ------------------------------------------------------------------------------------------ xlsx


def test_xlsx_cells_of_every_kind(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "Cover"
    cover.append(["National headcount"])
    sheet = workbook.create_sheet("Headcount")
    sheet.append(["Return for June"])
    sheet.append([])
    sheet.append(["Surname", "Forename", "DOB", "PNC No", "Release date", "MAPPA level"])
    sheet.append(["Ashdown", "Adam", dt.datetime(1990, 4, 1), "90/123456A", 46000, 2])
    sheet.append(["Brackley", "Bilal", 32965, "1990/0123456a", "01/01/2026", 1.0])
    sheet.append(["=1+1", "Cal", "01/04/1990", None, None, None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["TOTAL", 3, None, None, None, None])
    path = tmp_path / "n.xlsx"
    workbook.save(path)

    got = _read(path)
    assert got.sheet_name == "Headcount"
    assert got.header_row == 3
    assert [(r.row, r.surname, r.dob, r.pnc, r.release_date, r.mappa_level) for r in got.rows] == [
        (4, "Ashdown", dt.date(1990, 4, 1), "90/123456A", dt.date(2025, 12, 9), "2"),
        (5, "Brackley", dt.date(1990, 4, 2), "1990/0123456a", dt.date(2026, 1, 1), "1"),
    ]
    assert [(r.row, r.error) for r in got.rejected] == [
        (6, "name is a formula, not read"),
        (8, "totals row, not a person"),
    ]
    assert got.rows[0].raw["DOB"] == dt.datetime(1990, 4, 1)


def test_our_sheet_reader_agrees_with_openpyxl(tmp_path: Path) -> None:
    planted = write_messy_national_list(PEOPLE, tmp_path / "w.xlsx", seed=2, today=TODAY)
    # openpyxl's normal mode rewrites it with shared strings and styled dates, as Excel would
    workbook = openpyxl.load_workbook(planted.path)
    workbook.save(tmp_path / "s.xlsx")
    for path in (planted.path, tmp_path / "s.xlsx"):
        got = _read(path)
        theirs = openpyxl.load_workbook(path, read_only=True, data_only=False)
        sheet = theirs.worksheets[0]
        sheet.reset_dimensions()
        values = {n: row for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)}
        theirs.close()
        for row in got.rows:
            expected = values[row.row][: len(row.values)]
            assert tuple(row.values) == tuple(expected)


def test_formulas_are_read_as_text_and_never_evaluated(tmp_path: Path) -> None:
    sheet = (
        _SHEET_HEAD + _HEADER_ROW
        + '<row r="2"><c r="A2" t="str"><f>"Smi"&amp;"th"</f><v>Smith</v></c>'
        '<c r="B2" t="inlineStr"><is><t>Adam</t></is></c><c r="C2"><v>32964</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>Jessop</t></is></c>'
        '<c r="B3"><f>1+1</f><v>2</v></c><c r="C3"><f>DATE(1990,4,1)</f><v>32964</v></c></row>'
        + _SHEET_TAIL
    )  # fmt: skip
    got = _read(_hand_xlsx(tmp_path / "f.xlsx", sheet))
    assert [(r.row, r.column, r.error) for r in got.rejected] == [
        (2, "Surname", "name is a formula, not read"),
        (3, "Forename", "forenames is a formula, not read"),
        (3, "DOB", "date of birth is a formula, not read"),
    ]
    assert len(got.rows) == 1
    assert got.rows[0].raw["Forename"] == "=1+1"  # the formula's text, never its result 2
    assert got.rows[0].forenames is None and got.rows[0].dob is None


def test_row_numbers_come_from_the_sheet_even_with_gaps(tmp_path: Path) -> None:
    sheet = _SHEET_HEAD + _HEADER_ROW + _inline_row(7, "Ashdown", "Adam", "1/4/1990") + _SHEET_TAIL
    got = _read(_hand_xlsx(tmp_path / "g.xlsx", sheet))
    assert [r.row for r in got.rows] == [7]


def test_hidden_sheets_are_read_only_when_no_visible_sheet_has_a_list(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    visible = workbook.active
    assert visible is not None
    visible.append(["Surname", "DOB"])
    visible.append(["Visible", "01/01/1980"])
    hidden = workbook.create_sheet("Old")
    hidden.sheet_state = "hidden"
    hidden.append(["Surname", "DOB", "PNC", "Force"])
    hidden.append(["Stale", "01/01/1980", "80/1A", "X"])
    workbook.save(tmp_path / "h.xlsx")
    assert [r.surname for r in _read(tmp_path / "h.xlsx").rows] == ["Visible"]


# ----------------------------------------------------------------------------------- hostile files

_BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
              for i in range(1, 10))
    + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    + _HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    + _SHEET_TAIL
)  # fmt: skip


def test_an_xml_bomb_is_refused(tmp_path: Path) -> None:
    path = _hand_xlsx(tmp_path / "bomb.xlsx", _BILLION_LAUGHS)
    with pytest.raises(BadInput, match="bomb.xlsx: .*DOCTYPE"):
        _read(path)


def test_an_xml_bomb_in_utf16_is_refused(tmp_path: Path) -> None:
    path = _hand_xlsx(tmp_path / "bomb16.xlsx", _BILLION_LAUGHS.encode("utf-16"))
    with pytest.raises(BadInput, match="DOCTYPE"):
        _read(path)


def test_a_doctype_in_shared_strings_is_refused(tmp_path: Path) -> None:
    bad = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sst/>'
    path = _hand_xlsx(tmp_path / "xxe.xlsx", _SHEET_HEAD + _SHEET_TAIL,
                      extra={"xl/sharedStrings.xml": bad})  # fmt: skip
    with pytest.raises(BadInput, match="DOCTYPE"):
        _read(path)


def test_a_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    path = _hand_xlsx(tmp_path / "zb.xlsx", _SHEET_HEAD + _HEADER_ROW + _SHEET_TAIL,
                      extra={"xl/media/image1.png": bytes(8 * 1024 * 1024)})  # fmt: skip
    assert path.stat().st_size < 100_000
    with pytest.raises(BadInput, match="zb.xlsx: .*zip bomb"):
        _read(path)


def test_a_zip_bomb_is_refused_by_total_size(tmp_path: Path) -> None:
    path = _hand_xlsx(tmp_path / "zb.xlsx", _SHEET_HEAD + _HEADER_ROW + _SHEET_TAIL,
                      extra={"xl/media/image1.png": os.urandom(3 * 1024 * 1024)})  # fmt: skip
    with pytest.raises(BadInput, match="unpacks to more than the limit"):
        _read(path, limits=ImportLimits(max_uncompressed_bytes=2 * 1024 * 1024))


def test_too_many_zip_members_is_refused(tmp_path: Path) -> None:
    extra = {f"xl/junk/{i}.xml": b"<a/>" for i in range(30)}
    path = _hand_xlsx(tmp_path / "many.xlsx", _SHEET_HEAD + _SHEET_TAIL, extra=extra)
    with pytest.raises(BadInput, match="too many parts"):
        _read(path, limits=ImportLimits(max_zip_members=20))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("random.xlsx", os.urandom(4096), "not an Excel workbook"),
        ("text.xlsx", b"Surname,DOB\nSmith,01/01/1980\n", "not an Excel workbook"),
        ("scan.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF"),
        ("scan.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF"),
        ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old-style .xls"),
        ("list.pdf", b"%PDF-1.4", "is a PDF"),
        ("list.docx", b"PK\x03\x04", "only .xlsx and .csv"),
        ("empty.csv", b"", "is empty"),
        ("random.csv", os.urandom(4096).replace(b"\x00", b"\x01"), "random.csv: "),
    ],
)
def test_files_that_are_not_lists_are_refused(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInput, match=message) as caught:
        _read(path)
    assert name in str(caught.value)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.replace("spreadsheetml.sheet", "x"))
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(BadInput, match="letter.xlsx: .*not a workbook"):
        _read(path)
    plain = tmp_path / "plain.xlsx"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(BadInput, match="plain.xlsx: .*not an Excel workbook"):
        _read(plain)


def test_a_damaged_sheet_is_bad_input(tmp_path: Path) -> None:
    path = _hand_xlsx(tmp_path / "d.xlsx", _SHEET_HEAD + _HEADER_ROW + "<row r='2'><c")
    with pytest.raises(BadInput, match="d.xlsx: .*damaged"):
        _read(path)
    truncated = tmp_path / "t.xlsx"
    truncated.write_bytes(path.read_bytes()[:300])
    with pytest.raises(BadInput, match="t.xlsx"):
        _read(truncated)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "big.csv", [["Surname", "DOB"]] + [["Smith", "1/1/1980"]] * 500)
    with pytest.raises(BadInput, match="larger than"):
        _read(path, limits=ImportLimits(max_file_bytes=1024))


def test_too_many_rows_is_refused(tmp_path: Path) -> None:
    rows = [["Surname", "DOB"]] + [["Smith", "1/1/1980"]] * 50
    with pytest.raises(BadInput, match="more than 20 rows"):
        _read(_write_csv(tmp_path / "r.csv", rows), limits=ImportLimits(max_rows=20))
    sheet = _SHEET_HEAD + _HEADER_ROW + _inline_row(999_999, "Smith", "A", "1/1/80") + _SHEET_TAIL
    with pytest.raises(BadInput, match="more than 250,000 rows"):
        _read(_hand_xlsx(tmp_path / "r.xlsx", sheet))


def test_a_huge_number_of_columns_is_refused(tmp_path: Path) -> None:
    wide = ["Surname", "DOB"] + [f"c{i}" for i in range(400)]
    with pytest.raises(BadInput, match="more than 200 columns"):
        _read(_write_csv(tmp_path / "w.csv", [wide, ["Smith", "1/1/1980"] + ["x"] * 400]))
    far_cell = '<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = _SHEET_HEAD + _HEADER_ROW + far_cell + _SHEET_TAIL
    with pytest.raises(BadInput, match="more than 200 columns"):
        _read(_hand_xlsx(tmp_path / "w.xlsx", sheet))


def test_an_overlong_cell_rejects_its_row_only(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "l.csv", [
        ["Surname", "DOB"], ["A" * 20_000, "1/1/1980"], ["Smith", "1/1/1980"],
    ])  # fmt: skip
    got = _read(path)
    assert [r.row for r in got.rows] == [3]
    assert [(r.row, r.error) for r in got.rejected] == [(2, "a cell is too long to be a value")]


# ------------------------------------------------------------------------- progress and cancel


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_progress_is_reported_and_cancel_stops_the_import(tmp_path: Path, fmt: str) -> None:
    people = make_people(5000, seed=4, today=TODAY)
    planted = write_messy_national_list(people, tmp_path / f"p.{fmt}", seed=1, today=TODAY)
    seen: list[tuple[int, int]] = []
    _read(planted.path, progress=lambda done, total: seen.append((done, total)))
    assert len(seen) >= 3
    assert seen[-1][0] == seen[-1][1] > 0
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:], strict=False))

    calls = iter(range(100))
    with pytest.raises(ImportCancelled):
        _read(planted.path, cancelled=lambda: next(calls) >= 1)


def test_reading_touches_nothing_but_the_file(tmp_path: Path) -> None:
    planted = write_messy_national_list(PEOPLE[:20], tmp_path / "n.xlsx", seed=1, today=TODAY)
    before = sorted(os.listdir(tmp_path))
    data = planted.path.read_bytes()
    _read(planted.path)
    assert sorted(os.listdir(tmp_path)) == before
    assert planted.path.read_bytes() == data


def test_csv_dialect_sniffing_prefers_the_delimiter_that_finds_the_header() -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(
        [["Title, with commas, everywhere"], ["Surname", "DOB", "PNC"], ["A, B", "1/1/80", "x"]]
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        got = _read(path)
    assert [(r.surname, r.pnc) for r in got.rows] == [("A, B", "x")]

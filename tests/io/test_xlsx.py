"""Excel returns: hostile text stays text, every sheet is marked, nothing is truncated."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from app.domain.errors import ValidationError
from app.io.marking import (
    DEFAULT_MARKING,
    DocumentInfo,
    Marking,
    MarkingLevel,
    most_restrictive,
    parse_marking,
)
from app.io.safe_write import ExportCancelled, ProgressSink, atomic_export
from app.io.xlsx import (
    MAX_CELL_CHARS,
    Column,
    SheetSpec,
    needs_formula_guard,
    sheet_title,
    write_return,
)

AUTHOR = "DC 4711 Siân Example & Co"
INFO = DocumentInfo(
    title="Regional headcount return",
    author=AUTHOR,
    generated_at=datetime(2025, 11, 3, 14, 30),
    period="October 2025",
    app_version="9.9.9",
)

FORMULAS = [
    "=cmd|' /C calc'!A0",
    "=1+1",
    "+1+1",
    "-2",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    " =1+1",
    "   @SUM(A1)",
    "\u00a0=1",
    "\u3000=1",
    "\ufeff=1",
    "\u200b+1",
    '=DDE("cmd";"/C calc";"!A0")',
    "=HYPERLINK(\"http://example.invalid\",\"click\")",
    "#N/A",
    "#REF!",
    "=",
    "\t",
]
MARKUP = [
    "<b>x</b>",
    '<img src="/etc/passwd"/>',
    '<link href="file:///etc/passwd">x</link>',
    '<a href="http://x">',
    "&amp; &lt; &#x41;",
]
CONTROL = "".join(chr(i) for i in range(32)) + "end"
WORLD = [
    "مرحبا بالعالم",
    "שלום עולם",
    "😀👍🏽 family 👨‍👩‍👧",
    "Gwŷn Llŵyd, Dafydd ap Gruffydd, Siân",
    "Łódź, Żółć, Świętokrzyskie, Gęślą jaźń",
    "_x0041_ and _x000D_ literally",
    "a\r\nb\rc\nd",
    "  leading and trailing  ",
    "",
]
# Harmless without a leading trigger, but it must still come back as the same text.
BARE_DDE = 'DDE("cmd";"/C calc";"!A0")'
HOSTILE = FORMULAS + [BARE_DDE] + MARKUP + [CONTROL] + WORLD
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def expected(text: str) -> str:
    """What the policy promises to read back: controls that XML cannot hold become U+FFFD."""
    return _ILLEGAL.sub("\ufffd", text)


def write(sheets: list[SheetSpec], info: DocumentInfo = INFO) -> bytes:
    out = io.BytesIO()
    write_return(out, info, sheets)
    return out.getvalue()


def parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name).decode("utf-8") for name in z.namelist()}


def load(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def text_sheet(values: list[str], name: str = "Data") -> SheetSpec:
    return SheetSpec(name, [Column("Value"), Column("Row", "int")],
                     ([v, i] for i, v in enumerate(values, 1)))


# --- hostile text ----------------------------------------------------------------------------


def test_no_formula_cells_anywhere() -> None:
    data = write([text_sheet(HOSTILE)])
    xml = parts(data)
    for name, body in xml.items():
        if name.startswith("xl/worksheets/"):
            assert re.search(r"<f[\s>/]", body) is None, name
    sheet = xml["xl/worksheets/sheet2.xml"]
    cells = re.findall(r'<c r="A(\d+)"([^>]*)>', sheet)
    assert len(cells) == 2 + len(HOSTILE) - 1  # an empty string makes no cell
    for row, attrs in cells:
        assert 't="inlineStr"' in attrs, row


def test_every_hostile_string_reads_back_verbatim() -> None:
    ws = load(write([text_sheet(HOSTILE)]))["Data"]
    for row, original in enumerate(HOSTILE, 3):
        cell = ws.cell(row, 1)
        got = unescape(cell.value) if cell.value is not None else ""
        assert got == expected(original), (row, original)
        if original:
            assert cell.data_type == "s"


def test_strings_a_spreadsheet_would_evaluate_carry_the_quote_prefix() -> None:
    ws = load(write([text_sheet(FORMULAS + ["plain", "Smith-Jones", "x=1", "1-2"])]))["Data"]
    for row, original in enumerate(FORMULAS, 3):
        assert ws.cell(row, 1).quotePrefix, original
    for row in range(3 + len(FORMULAS), 3 + len(FORMULAS) + 4):
        assert not ws.cell(row, 1).quotePrefix


def test_formula_guard_recognises_every_trigger() -> None:
    for text in FORMULAS:
        if text.strip("\t") or text == "\t":
            assert needs_formula_guard(text), repr(text)
    for text in ["Smith", "x=1", "1-2", "O'Neil", "#hashtag", "", " plain"]:
        assert not needs_formula_guard(text), repr(text)


def test_hostile_text_in_headers_sheet_names_and_cover() -> None:
    info = DocumentInfo(title="=cmd|' /C calc'!A0", author="@SUM(A1)",
                        generated_at=datetime(2025, 1, 1), period="+1+1", app_version="1")
    spec = SheetSpec("=evil", [Column("=HYPERLINK(\"x\")"), Column("-2", "int")], [["a", 1]])
    data = write([spec], info)
    for name, body in parts(data).items():
        if name.startswith("xl/worksheets/"):
            assert re.search(r"<f[\s>/]", body) is None, name
    wb = load(data)
    assert wb["=evil"]["A2"].value == '=HYPERLINK("x")'
    assert wb["Cover"]["A3"].value == "=cmd|' /C calc'!A0"


def test_control_characters_in_metadata_and_header_do_not_break_the_file() -> None:
    info = DocumentInfo(title="Return\x07\x00 one", author="Officer\x1b", app_version="1",
                        generated_at=datetime(2025, 1, 1))
    wb = load(write([text_sheet(["x"])], info))
    assert wb.properties.title == "Return\ufffd\ufffd one"
    assert "\x1b" not in wb["Data"].oddFooter.left.text


# --- long text: refused, never truncated -----------------------------------------------------


def test_text_at_the_limit_is_kept_whole() -> None:
    at_limit = "ŵ" * (MAX_CELL_CHARS - 3) + "end"
    ws = load(write([text_sheet([at_limit])]))["Data"]
    assert ws["A3"].value == at_limit


def test_text_at_the_limit_with_escapes_is_kept_whole() -> None:
    # The escapes make the XML longer than 32,767 characters; the decoded text is not.
    at_limit = "a\rb_x0041_" * (MAX_CELL_CHARS // 10) + "z" * (MAX_CELL_CHARS % 10)
    ws = load(write([text_sheet([at_limit])]))["Data"]
    assert unescape(ws["A3"].value) == at_limit


def test_forty_thousand_characters_are_refused_naming_the_place_not_the_text() -> None:
    secret = "Secret detail " + "x" * 40_000
    spec = SheetSpec("Nominals", [Column("Ref"), Column("Notes")],
                     [["CW-1", "short"], ["CW-2", secret]])
    with pytest.raises(ValidationError) as caught:
        write([spec])
    error = caught.value
    assert error.field == "sheet 'Nominals', row 2, column 'Notes'"
    assert "32,767" in error.message
    assert "Secret" not in str(error)
    assert "CW-2" not in str(error)


def test_emoji_count_double_against_the_limit() -> None:
    too_long = "😀" * 20_000  # 20,000 characters but 40,000 UTF-16 units, which Excel counts
    with pytest.raises(ValidationError, match="40,000 characters"):
        write([text_sheet([too_long])])


def test_refused_return_leaves_nothing_on_the_media(tmp_path: Path) -> None:
    spec = text_sheet(["ok", "y" * 40_000])

    def writer(stream: BinaryIO, sink: ProgressSink) -> None:
        write_return(stream, INFO, [spec], sink)

    with pytest.raises(ValidationError):
        atomic_export(tmp_path / "return.xlsx", writer)
    assert list(tmp_path.iterdir()) == []


# --- types -----------------------------------------------------------------------------------


def test_dates_are_real_date_cells_in_uk_format() -> None:
    spec = SheetSpec(
        "Dates",
        [Column("Born", "date"), Column("Seen", "datetime"), Column("Aware", "datetime")],
        [[date(1984, 3, 9), datetime(2025, 10, 1, 14, 5),
          datetime(2025, 7, 1, 12, 0, tzinfo=UTC)],
         [None, date(2025, 1, 2), "not known"]],
    )
    data = write([spec])
    ws = load(data)["Dates"]
    assert ws["A3"].is_date and ws["A3"].value == datetime(1984, 3, 9)
    assert ws["A3"].number_format == "dd/mm/yyyy"
    assert ws["B3"].is_date and ws["B3"].value == datetime(2025, 10, 1, 14, 5)
    assert ws["B3"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["C3"].value == datetime(2025, 7, 1, 13, 0)  # British Summer Time
    assert ws["A4"].value is None
    assert ws["B4"].value == datetime(2025, 1, 2, 0, 0)
    assert ws["C4"].value == "not known"
    sheet_xml = parts(data)["xl/worksheets/sheet2.xml"]
    assert re.search(r'<c r="A3" s="\d+"><v>30750</v>', sheet_xml)  # a serial, not text


def test_numbers_stay_numbers_unless_excel_would_lose_them() -> None:
    spec = SheetSpec(
        "Numbers",
        [Column("Int", "int"), Column("Float", "float")],
        [[42, 1.5], [-7, -0.25], [12345678901234567, float("nan")], [True, 3], [None, None]],
    )
    ws = load(write([spec]))["Numbers"]
    assert [ws.cell(r, 1).value for r in range(3, 7)] == [42, -7, "12345678901234567", 1]
    assert [ws.cell(r, 2).value for r in range(3, 7)] == [1.5, -0.25, "nan", 3.0]
    assert ws["A7"].value is None


def test_a_row_of_the_wrong_length_is_a_bug() -> None:
    spec = SheetSpec("Bad", [Column("A"), Column("B")], [["only one"]])
    with pytest.raises(ValueError):
        write([spec])


# --- layout and marking ----------------------------------------------------------------------


def people(n: int) -> Iterator[list[object]]:
    for i in range(n):
        yield [f"CW-{i:05d}", "Nowak", date(1990, 1, 1 + i % 28), i]


PEOPLE_COLUMNS = [Column("Ref", width=12), Column("Surname"), Column("Born", "date"),
                  Column("Contacts", "int")]


def test_every_sheet_is_marked_in_first_row_header_and_footer() -> None:
    marking = Marking.with_caveat(MarkingLevel.OFFICIAL_SENSITIVE, "personal")
    info = DocumentInfo(title="Return", author=AUTHOR, generated_at=INFO.generated_at,
                        marking=marking, app_version="1")
    wb = load(write([SheetSpec("People", PEOPLE_COLUMNS, people(5)),
                     SheetSpec("Summary", [Column("Status"), Column("Count", "int")],
                               [["Active", 5]])], info))
    assert wb.sheetnames == ["Cover", "People", "Summary"]
    for ws in wb.worksheets:
        assert ws["A1"].value == "OFFICIAL-SENSITIVE PERSONAL"
        assert ws["A1"].font.b
        assert ws.oddHeader.center.text == "&BOFFICIAL-SENSITIVE PERSONAL&B"
        assert ws.oddFooter.center.text == "&BOFFICIAL-SENSITIVE PERSONAL&B"
        assert ws.oddHeader.right.text == "03/11/2025"
        assert ws.oddFooter.left.text == "DC 4711 Siân Example && Co"
        assert ws.oddFooter.right.text == "Page &P of &N"
        assert int(ws.page_setup.paperSize) == 9


def test_data_sheet_layout() -> None:
    data = write([SheetSpec("People", PEOPLE_COLUMNS, people(7))])
    ws = load(data)["People"]
    assert [c.value for c in ws[2]] == ["Ref", "Surname", "Born", "Contacts"]
    assert all(c.font.b for c in ws[2])
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:D9"
    assert ws.max_row == 9
    assert ws.column_dimensions["A"].width == 12
    assert ws.column_dimensions["B"].width == 24
    assert ws.print_title_rows == "$1:$2"


def test_empty_sheet_still_has_headers_and_filter() -> None:
    ws = load(write([SheetSpec("Empty", PEOPLE_COLUMNS, [])]))["Empty"]
    assert ws.auto_filter.ref == "A2:D2"
    assert ws["A2"].value == "Ref"


def test_cover_counts_rows_as_written() -> None:
    wb = load(write([SheetSpec("People", PEOPLE_COLUMNS, people(123)),
                     SheetSpec("Nobody", PEOPLE_COLUMNS, people(0))]))
    cover = {row[0]: row[1] for row in wb["Cover"].iter_rows(values_only=True) if row[0]}
    assert cover["Regional headcount return"] is None
    assert cover["Period"] == "October 2025"
    assert cover["Prepared by"] == AUTHOR
    assert cover["Generated"] == "03/11/2025 14:30"
    assert cover["Protective marking"] == "OFFICIAL-SENSITIVE"
    assert cover["Application"] == "Caseward 9.9.9"
    assert cover["People"] == 123
    assert cover["Nobody"] == 0


def test_returned_counts_match_sheet_names() -> None:
    out = io.BytesIO()
    counts = write_return(out, INFO, [SheetSpec("A:B", PEOPLE_COLUMNS, people(3))])
    assert counts == {"A_B": 3}


def test_metadata_holds_no_personal_data() -> None:
    xml = parts(write([text_sheet(["Nowak"])]))
    core = xml["docProps/core.xml"]
    assert "<dc:creator>Caseward</dc:creator>" in core
    assert "<dc:title>Regional headcount return</dc:title>" in core
    assert "<cp:lastModifiedBy>Caseward</cp:lastModifiedBy>" in core
    assert "<dc:subject>OFFICIAL-SENSITIVE</dc:subject>" in core
    for name in ("docProps/core.xml", "docProps/app.xml", "xl/workbook.xml"):
        assert "Siân" not in xml[name] and "Nowak" not in xml[name] and "/tmp" not in xml[name]


def test_sheet_names_are_made_safe_and_unique() -> None:
    used: set[str] = {"cover"}
    assert sheet_title("Summary: by/force?*[x]\\y", used) == "Summary_ by_force___x__y"
    assert len(sheet_title("N" * 40, used)) == 31
    assert sheet_title("N" * 40, used) == "N" * 27 + " (2)"
    assert sheet_title("Cover", used) == "Cover (2)"
    assert sheet_title("'quoted'", used) == "quoted"
    assert sheet_title("history", used) == "History_"
    assert sheet_title("", used) == "Sheet"


def test_cancel_stops_and_leaves_nothing(tmp_path: Path) -> None:
    class CancelSoon:
        def __init__(self) -> None:
            self.calls = 0

        def progress(self, done: int, total: int | None) -> None:
            self.calls += 1

        def is_cancelled(self) -> bool:
            return self.calls >= 2

    def writer(stream: BinaryIO, sink: ProgressSink) -> None:
        write_return(stream, INFO, [SheetSpec("People", PEOPLE_COLUMNS, people(10_000))], sink)

    with pytest.raises(ExportCancelled):
        atomic_export(tmp_path / "return.xlsx", writer, progress=CancelSoon())
    assert list(tmp_path.iterdir()) == []


def _tree(folder: Path) -> set[str]:
    found: set[str] = set()
    for root, _dirs, files in os.walk(folder):
        found.update(os.path.join(root, f) for f in files)
    return found


def test_no_file_is_created_outside_the_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openpyxl's write-only mode spooled each sheet as plain text in the temp folder; the
    writer now streams into the zip on the destination and opens no other file."""
    import builtins
    import tempfile

    destination = tmp_path / "media"
    destination.mkdir()
    # A private system temp folder: the shared one sees other processes come and go.
    private_tmp = tmp_path / "system-temp"
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert tempfile.gettempdir() == str(private_tmp)
    watched = [private_tmp, Path(os.environ["CASEWARD_HOME"])]
    before = [_tree(w) for w in watched]
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(m in mode for m in "wax+"):
            opened.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            opened.append(str(path) if kwargs.get("dir_fd") is None else f"<dest>/{path}")
        return real_os_open(path, flags, *args, **kwargs)

    created_during: set[str] = set()

    class Watch:
        def progress(self, done: int, total: int | None) -> None:
            for w, seen in zip(watched, before, strict=True):
                created_during.update(_tree(w) - seen)

        def is_cancelled(self) -> bool:
            return False

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    watch = Watch()
    spec = SheetSpec("People", PEOPLE_COLUMNS + [Column("Notes")],
                     ([*row, HOSTILE[i % len(HOSTILE)]] for i, row in enumerate(people(5_000))),
                     expected_rows=5_000)

    def writer(stream: BinaryIO, sink: ProgressSink) -> None:
        write_return(stream, INFO, [spec], sink)

    atomic_export(destination / "return.xlsx", writer, progress=watch)
    monkeypatch.setattr(builtins, "open", real_open)
    monkeypatch.setattr(os, "open", real_os_open)
    for w, seen in zip(watched, before, strict=True):
        created_during.update(_tree(w) - seen)
    assert created_during == set()
    assert opened  # the spy saw the export's own files
    assert all(p.startswith("<dest>/") or Path(p).parent == destination for p in opened), opened
    assert sorted(os.listdir(destination)) == ["return.xlsx", "return.xlsx.sha256"]


def test_too_many_rows_are_refused() -> None:
    from app.io import xlsx

    rows = ([i] for i in range(xlsx.MAX_ROWS))
    with pytest.raises(ValidationError, match="1,048,574 data rows"):
        write([SheetSpec("Big", [Column("N", "int")], rows)])


def test_progress_is_reported_against_expected_rows() -> None:
    calls: list[tuple[int, int | None]] = []

    class Sink:
        def progress(self, done: int, total: int | None) -> None:
            calls.append((done, total))

        def is_cancelled(self) -> bool:
            return False

    spec = SheetSpec("People", PEOPLE_COLUMNS, people(2_500), expected_rows=2_500)
    write_return(io.BytesIO(), INFO, [spec], Sink())
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]


@pytest.mark.slow
def test_libreoffice_opens_the_return_with_every_page_marked(tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice and poppler-utils are needed to look at the return")
    path = tmp_path / "return.xlsx"
    spec = SheetSpec("People", PEOPLE_COLUMNS + [Column("Notes", width=40)],
                     ([*row, HOSTILE[i % len(HOSTILE)]] for i, row in enumerate(people(150))))
    write_return(path, INFO, [spec])
    done = subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "return.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, number  # header and footer (and row 1)
        assert f"Page {number} of {len(pages)}" in page
        assert "DC 4711 Siân Example & Co" in page


# --- markings --------------------------------------------------------------------------------


def test_marking_order_and_text() -> None:
    assert MarkingLevel.OFFICIAL < MarkingLevel.OFFICIAL_SENSITIVE
    assert DEFAULT_MARKING.text == "OFFICIAL-SENSITIVE"
    assert Marking(MarkingLevel.OFFICIAL).text == "OFFICIAL"
    assert Marking.with_caveat(MarkingLevel.OFFICIAL_SENSITIVE, " uk  eyes only ").text == (
        "OFFICIAL-SENSITIVE UK EYES ONLY"
    )


def test_most_restrictive_takes_the_highest_level_and_every_caveat() -> None:
    official = Marking(MarkingLevel.OFFICIAL)
    personal = Marking(MarkingLevel.OFFICIAL, ("PERSONAL",))
    sensitive = Marking(MarkingLevel.OFFICIAL_SENSITIVE, ("UK EYES ONLY",))
    assert most_restrictive([official, official]) == official
    assert most_restrictive([official, personal, sensitive]).text == (
        "OFFICIAL-SENSITIVE PERSONAL UK EYES ONLY"
    )
    assert most_restrictive([]) == DEFAULT_MARKING
    assert most_restrictive([], default=official) == official


def test_parse_marking() -> None:
    assert parse_marking("official") == Marking(MarkingLevel.OFFICIAL)
    assert parse_marking(" OFFICIAL-SENSITIVE ") == DEFAULT_MARKING
    assert parse_marking("Official-Sensitive Personal").caveats == ("PERSONAL",)
    with pytest.raises(ValidationError):
        parse_marking("SECRET")


@pytest.mark.parametrize("caveat", ["<b>", "a" * 41, "=1", "x&y", "bell\x07"])
def test_caveats_are_plain_configured_words(caveat: str) -> None:
    with pytest.raises(ValidationError):
        Marking(MarkingLevel.OFFICIAL, (caveat,))


def test_document_info_needs_a_title() -> None:
    with pytest.raises(ValidationError):
        DocumentInfo(title="  ", author="x", generated_at=datetime(2025, 1, 1))

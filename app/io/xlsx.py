"""Excel returns: marked, injection-proof workbooks streamed straight into a zip, row by row.

The workbook is written by hand (SpreadsheetML, ECMA-376) into ``zipfile`` entries opened for
writing on the destination stream, so nothing is ever spooled to a temporary file: openpyxl's
write-only mode keeps each sheet as a plain-text file in the system temp folder until it saves,
which the design forbids. Every string is an inline string (``t="inlineStr"``): there is no
shared-strings table to hold in memory and no cell can carry a formula.

Text policy (applies to every cell, header and the cover):

* Formula guard. A string a spreadsheet could read as a formula or an error value - one that
  starts with ``= + - @`` (or the full-width and other look-alikes ``＝ ＋ － ＠ − ﹢ ﹣ ﹦``), with
  tab, CR or LF, with any of these after leading white space, or that equals an error literal such
  as ``#N/A`` - gets the quote-prefix style as well, so that editing the cell later does not turn
  it into a formula either.
* Control characters. C0 controls other than tab, LF and CR, lone surrogates and the
  non-characters U+FFFE/U+FFFF cannot be stored in XML: each is replaced by U+FFFD (�), so that a
  reader sees that something was there. CR is kept, written as the OOXML escape ``_x000D_``, and a
  literal ``_xHHHH_`` in the data is protected as ``_x005F_xHHHH_``; Excel and LibreOffice decode
  both, so the text reads back verbatim.
* Long text. A cell holds at most 32,767 characters (UTF-16 code units). Longer text is never
  truncated: the whole return is refused with a ValidationError naming the sheet, data row and
  column (not the value), because splitting would break the fixed columns a return promises.
  A sheet holds at most 1,048,576 rows; a longer return is refused the same way.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import IO, Any, Literal

from app.domain.errors import ValidationError
from app.io.marking import DocumentInfo
from app.io.safe_write import ProgressSink, check_cancelled

ColumnKind = Literal["text", "date", "datetime", "int", "float"]

MAX_CELL_CHARS = 32_767
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
UK_DATE = "dd/mm/yyyy"
UK_DATETIME = "dd/mm/yyyy hh:mm"
COVER_SHEET = "Cover"
PROGRESS_EVERY = 1_000
_FLUSH_EVERY = 500  # rows joined into one write to the zip entry

_DEFAULT_WIDTH: dict[str, float] = {
    "text": 24, "date": 12, "datetime": 18, "int": 10, "float": 12,
}
_EXCEL_SAFE_INT = 10**15  # Excel keeps 15 significant digits; larger integers are kept as text.
_EPOCH = date(1899, 12, 30)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_HEADER_ROWS = 2  # the marking row, then the column headings

# First characters that send a string down the slow, careful path: formula triggers, white
# space that may hide one, and '#' for error literals.
_FORMULA_TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20\u2212\ufe62\ufe63\ufe66"
_HIDING_SPACE = "\u200b\u200c\u200d\u2060\ufeff"
_GUARD_RE = re.compile(rf"[\s{_HIDING_SPACE}]*[{re.escape(_FORMULA_TRIGGERS)}]")
_ERROR_LITERALS = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)
# Everything str.isspace() and regex \s accept, so that leading white space cannot hide a trigger.
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_CAREFUL_FIRST = frozenset(_FORMULA_TRIGGERS + "#" + _WHITE_SPACE + _HIDING_SPACE)
_FIX_RE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|\r|_(?=x[0-9A-Fa-f]{4}_)"
)
_FIXES = {"\r": "_x000D_", "_": "_x005F_"}
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")
_HEADER_FOOTER_BAD = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Column:
    """One column of a return: its header, what its cells hold, and its width in characters."""

    header: str
    kind: ColumnKind = "text"
    width: float | None = None


@dataclass
class SheetSpec:
    """A data sheet: its name, columns and rows (any iterable, a generator is fine).

    ``expected_rows`` only drives the progress bar; the cover counts the rows actually written.
    ``deferred`` sheets keep their place in the workbook but have their rows read after every
    other sheet's, so that a summary can be computed from the rows just written. A generator
    is closed when the return finishes or fails (so a database cursor behind it is released).
    """

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]]
    expected_rows: int | None = None
    deferred: bool = False


class _CellTooLong(Exception):
    def __init__(self, length: int) -> None:
        self.length = length


def _fix_char(match: re.Match[str]) -> str:
    return _FIXES.get(match.group(), "\ufffd")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def needs_formula_guard(text: str) -> bool:
    """True if a spreadsheet could read this string as a formula or an error value."""
    if not text or text[0] not in _CAREFUL_FIRST:
        return False
    if text[0] in "\t\r\n":
        return True
    return _GUARD_RE.match(text) is not None or text in _ERROR_LITERALS


def clean_text(text: str) -> str:
    """The policy's character fixes, for metadata, sheet names and header/footer text."""
    return _HEADER_FOOTER_BAD.sub("\ufffd", text)


def _xml(text: str) -> str:
    """Escape for XML element content (attribute values are never data here)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _xml_attr(text: str) -> str:
    return _xml(text).replace('"', "&quot;")


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- styles ------------------------------------------------------------------------------------
# One fixed style sheet. Each visible style comes in a plain and a quote-prefixed variant
# (odd index), so that a styled cell holding formula-like text stays text when edited.

_NUMFMT_DATE, _NUMFMT_DATETIME = 164, 165
# (font, fill, border, numFmt, alignment)
_BASE_STYLES: list[tuple[int, int, int, int, str]] = [
    (0, 0, 0, 0, ""),  # 0 default
    (0, 0, 0, _NUMFMT_DATE, ""),  # 2 date
    (0, 0, 0, _NUMFMT_DATETIME, ""),  # 4 date and time
    (1, 0, 0, 0, ""),  # 6 marking (bold 12)
    (2, 2, 1, 0, '<alignment vertical="center" wrapText="1"/>'),  # 8 column heading
    (3, 0, 0, 0, ""),  # 10 title (bold 16)
    (4, 0, 0, 0, '<alignment vertical="top"/>'),  # 12 label
    (0, 0, 0, 0, '<alignment vertical="top" wrapText="1"/>'),  # 14 wrapped value
    (2, 0, 0, 0, '<alignment vertical="top" wrapText="1"/>'),  # 16 bold wrapped value
]
S_TEXT, S_DATE, S_DATETIME, S_MARKING, S_HEADING, S_TITLE, S_LABEL, S_WRAP, S_BOLD = (
    0, 2, 4, 6, 8, 10, 12, 14, 16
)
_STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    f'<numFmts count="2"><numFmt numFmtId="{_NUMFMT_DATE}" formatCode="{UK_DATE}"/>'
    f'<numFmt numFmtId="{_NUMFMT_DATETIME}" formatCode="{UK_DATETIME}"/></numFmts>'
    '<fonts count="5">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="12"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="16"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><color rgb="FF3A4856"/><name val="Calibri"/><family val="2"/></font>'
    '</fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDCE3EA"/><bgColor indexed="64"/>'
    '</patternFill></fill></fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left/><right/><top/><bottom style="thin"><color rgb="FF5A6B7B"/></bottom>'
    '<diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs>'
    f'<cellXfs count="{2 * len(_BASE_STYLES)}">'
    + "".join(
        f'<xf numFmtId="{numfmt}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0"'
        + (' applyNumberFormat="1"' if numfmt else "")
        + (' applyFont="1"' if font else "")
        + (' applyFill="1"' if fill else "")
        + (' applyBorder="1"' if border else "")
        + (' applyAlignment="1"' if align else "")
        + (' quotePrefix="1"' if quoted else "")
        + (f">{align}</xf>" if align else "/>")
        for font, fill, border, numfmt, align in _BASE_STYLES
        for quoted in (False, True)
    )
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles><dxfs count="0"/><tableStyles count="0"/></styleSheet>'
)


# --- cells -------------------------------------------------------------------------------------

Converter = Callable[[object, str], str]


def _as_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _naive(value: datetime) -> datetime:
    # Excel has no time zones: show aware times as UK wall-clock time, which the reader expects.
    if value.tzinfo is None:
        return value
    return value.astimezone(_uk_zone()).replace(tzinfo=None)


def _uk_zone() -> Any:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/London")
    except Exception:  # no time-zone database (some Windows installs): fall back to UTC
        return UTC


def text_cell(value: object, ref: str, style: int = S_TEXT) -> str:
    """One inline-string cell (or "" for nothing), guarded and cleaned by the text policy."""
    if value is None:
        return ""
    text = value if type(value) is str else _as_text(value)
    if not text:
        return ""
    if len(text) > 16_383:
        length = _utf16_len(text)
        if length > MAX_CELL_CHARS:
            raise _CellTooLong(length)
    if text[0] in _CAREFUL_FIRST and needs_formula_guard(text):
        style += 1
    if _FIX_RE.search(text) is not None:
        text = _FIX_RE.sub(_fix_char, text)
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_xml(text)}</t></is></c>'


def _number_cell(number: float | int, ref: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s}><v>{number!r}</v></c>'


def _serial(value: date | datetime) -> float | int:
    days = value.toordinal() - _EPOCH_ORDINAL
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        if seconds or value.microsecond:
            return days + (seconds + value.microsecond / 1e6) / 86400
    return days


def _convert_text(value: object, ref: str) -> str:
    return text_cell(value, ref)


def _convert_date(value: object, ref: str) -> str:
    if value is None:
        return ""
    if type(value) is date:
        return f'<c r="{ref}" s="{S_DATE}"><v>{value.toordinal() - _EPOCH_ORDINAL}</v></c>'
    if isinstance(value, datetime):
        day = _naive(value)
        return _number_cell(day.toordinal() - _EPOCH_ORDINAL, ref, S_DATE)
    if isinstance(value, date):
        return _number_cell(value.toordinal() - _EPOCH_ORDINAL, ref, S_DATE)
    return text_cell(value, ref)


def _convert_datetime(value: object, ref: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _number_cell(_serial(_naive(value)), ref, S_DATETIME)
    if isinstance(value, date):
        return _number_cell(_serial(datetime.combine(value, time())), ref, S_DATETIME)
    return text_cell(value, ref)


def _convert_int(value: object, ref: str) -> str:
    if type(value) is int:
        if -_EXCEL_SAFE_INT < value < _EXCEL_SAFE_INT:
            return f'<c r="{ref}"><v>{value}</v></c>'
        return text_cell(str(value), ref)
    if value is None:
        return ""
    if isinstance(value, bool):
        return _number_cell(int(value), ref)
    if isinstance(value, int):
        return _convert_int(int(value), ref)
    return text_cell(value, ref)


def _convert_float(value: object, ref: str) -> str:
    if type(value) is float:
        if math.isfinite(value):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        # Excel has no NaN or infinity; show the value rather than leave the cell blank.
        return text_cell(str(value), ref)
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return _convert_float(float(value), ref)
    return text_cell(value, ref)


_CONVERTERS: dict[str, Converter] = {
    "text": _convert_text,
    "date": _convert_date,
    "datetime": _convert_datetime,
    "int": _convert_int,
    "float": _convert_float,
}


# --- sheet names, header and footer ------------------------------------------------------------


def sheet_title(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the workbook."""
    base = _SHEET_NAME_BAD.sub("_", clean_text(name)).strip().strip("'").strip() or "Sheet"
    if base.casefold() == "history":  # reserved by Excel
        base = "History_"
    base = base[:31]
    title, n = base, 1
    while title.casefold() in used:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title.casefold())
    return title


def _hf_text(text: str, limit: int) -> str:
    # '&' starts a header/footer code; other controls and new lines have no place in one line.
    one_line = " ".join(clean_text(text).split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return one_line.replace("&", "&&")


def _header_footer(info: DocumentInfo) -> str:
    marking = _hf_text(info.marking.text, 60)
    # '&8 ' sets the size; the space ends the number, so text that starts with a digit is safe.
    centre = f"&C&10 &B{marking}&B"
    header = f"&L&8 {_hf_text(info.title, 80)}{centre}&R&8 {_hf_text(info.generated_date_text, 20)}"
    footer = f"&L&8 {_hf_text(info.author, 60)}{centre}&R&8 Page &P of &N"
    return (
        f"<headerFooter><oddHeader>{_xml(header)}</oddHeader>"
        f"<oddFooter>{_xml(footer)}</oddFooter></headerFooter>"
    )


def _quoted_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# --- writing one sheet -------------------------------------------------------------------------


@dataclass
class _Sheet:
    title: str
    index: int  # 1-based position in the workbook
    columns: list[Column]
    landscape: bool
    title_rows: int  # rows repeated at the top of each printed page
    filter_ref: str | None = None
    rows_written: int = 0


def _sheet_start(sheet: _Sheet, *, selected: bool, frozen_rows: int) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{_width(c)}" customWidth="1"/>'
        for i, c in enumerate(sheet.columns, 1)
    )
    pane = ""
    if frozen_rows:
        top = f"A{frozen_rows + 1}"
        pane = (
            f'<pane ySplit="{frozen_rows}" topLeftCell="{top}" activePane="bottomLeft" '
            f'state="frozen"/><selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
        )
    tab = ' tabSelected="1"' if selected else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<sheetViews><sheetView workbookViewId="0"{tab}>{pane}</sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols><sheetData>"
    )


def _sheet_end(sheet: _Sheet, info: DocumentInfo) -> str:
    autofilter = f'<autoFilter ref="{sheet.filter_ref}"/>' if sheet.filter_ref else ""
    orientation = "landscape" if sheet.landscape else "portrait"
    return (
        f"</sheetData>{autofilter}"
        '<printOptions horizontalCentered="0"/>'
        '<pageMargins left="0.5" right="0.5" top="0.9" bottom="0.9" header="0.35" '
        'footer="0.35"/>'
        f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>'
        f"{_header_footer(info)}</worksheet>"
    )


def _width(column: Column) -> float:
    if column.width:
        return float(column.width)
    return float(max(_DEFAULT_WIDTH[column.kind], min(len(column.header) + 3, 40)))


def _write_data_sheet(
    zf: zipfile.ZipFile,
    sheet: _Sheet,
    spec: SheetSpec,
    info: DocumentInfo,
    sink: ProgressSink | None,
    done_before: int,
    total: int | None,
    selected: bool,
) -> int:
    columns = sheet.columns
    ncols = len(columns)
    letters = [column_letter(i) for i in range(1, ncols + 1)]
    converters = [_CONVERTERS[c.kind] for c in columns]
    pairs = list(zip(converters, letters, strict=True))
    with zf.open(f"xl/worksheets/sheet{sheet.index}.xml", "w") as raw:
        write = raw.write
        write(_sheet_start(sheet, selected=selected, frozen_rows=_HEADER_ROWS).encode())
        head = [
            f'<row r="1">{text_cell(info.marking.text, "A1", S_MARKING)}</row>',
            '<row r="2" ht="30" customHeight="1">'
            + "".join(text_cell(c.header, f"{letter}2", S_HEADING)
                      for c, letter in zip(columns, letters, strict=True))
            + "</row>",
        ]
        write("".join(head).encode())
        written = 0
        rownum = _HEADER_ROWS
        chunk: list[str] = []
        for raw_row in spec.rows:
            if len(raw_row) != ncols:
                raise ValueError(f"row has {len(raw_row)} values for {ncols} columns")
            rownum += 1
            if rownum > MAX_ROWS:
                raise ValidationError(
                    f"sheet '{sheet.title}'",
                    f"a sheet holds at most {MAX_ROWS - _HEADER_ROWS:,} data rows; narrow the "
                    "return (a shorter period or fewer records). Nothing was written.",
                )
            r = str(rownum)
            try:
                # Lengths were checked above; strict zipping would cost a little on every row.
                cells = [convert(value, letter + r)
                         for (convert, letter), value in zip(pairs, raw_row, strict=False)]
            except _CellTooLong as exc:
                raise ValidationError(
                    f"sheet '{sheet.title}', row {written + 1}, column "
                    f"'{_which_long_column(pairs, raw_row, columns)}'",
                    f"the text is {exc.length:,} characters long and a spreadsheet cell holds "
                    f"at most {MAX_CELL_CHARS:,}. Shorten it, or give it in a briefing instead; "
                    "nothing was written.",
                ) from None
            chunk.append(f'<row r="{r}">{"".join(cells)}</row>')
            written += 1
            if len(chunk) >= _FLUSH_EVERY:
                write("".join(chunk).encode())
                chunk.clear()
            if sink is not None and written % PROGRESS_EVERY == 0:
                check_cancelled(sink)
                sink.progress(done_before + written, total)
        if chunk:
            write("".join(chunk).encode())
        # The filter covers the header row and every data row written (just the header if none).
        sheet.filter_ref = f"A{_HEADER_ROWS}:{letters[-1]}{written + _HEADER_ROWS}"
        sheet.rows_written = written
        write(_sheet_end(sheet, info).encode())
    return written


def _which_long_column(
    pairs: list[tuple[Converter, str]], raw: Sequence[object], columns: list[Column]
) -> str:
    for (convert, letter), value, column in zip(pairs, raw, columns, strict=True):
        try:
            convert(value, letter + "1")
        except _CellTooLong:
            return clean_text(column.header)
    return "?"


def _write_cover(zf: zipfile.ZipFile, sheet: _Sheet, info: DocumentInfo,
                 counts: dict[str, int]) -> None:
    marking = info.marking.text
    rows: list[str] = []
    n = 0

    def row(*cells: str) -> None:
        nonlocal n
        n += 1
        body = "".join(cells)
        if body:
            rows.append(f'<row r="{n}">{body}</row>')

    def label(text: str, value: str, style: int = S_WRAP) -> None:
        row(text_cell(text, f"A{n + 1}", S_LABEL), text_cell(value, f"B{n + 1}", style))

    row(text_cell(marking, "A1", S_MARKING))
    row()
    row(text_cell(info.title, "A3", S_TITLE))
    row()
    label("Period", info.period or "—")
    label("Prepared by", info.author)
    label("Generated", info.generated_text)
    label("Protective marking", marking, S_BOLD)
    label("Application", f"Caseward {info.app_version}")
    row()
    row(text_cell("Sheet", f"A{n + 1}", S_HEADING), text_cell("Rows", f"B{n + 1}", S_HEADING))
    for name, count in counts.items():
        row(text_cell(name, f"A{n + 1}"), _number_cell(count, f"B{n + 1}"))
    row()
    row(text_cell("Handle, store and send this return as its protective marking requires.",
                  f"A{n + 1}"))
    with zf.open(f"xl/worksheets/sheet{sheet.index}.xml", "w") as raw:
        raw.write(_sheet_start(sheet, selected=True, frozen_rows=0).encode())
        raw.write("".join(rows).encode())
        raw.write(_sheet_end(sheet, info).encode())


# --- the package parts -------------------------------------------------------------------------


def _content_types(sheets: list[_Sheet]) -> str:
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{s.index}.xml" ContentType="{sheet_type}"/>'
        for s in sheets
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        f"{overrides}</Types>"
    )


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)


def _workbook_rels(sheets: list[_Sheet]) -> str:
    ws_type = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    st_type = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
    rels = "".join(
        f'<Relationship Id="rId{s.index}" Type="{ws_type}" '
        f'Target="worksheets/sheet{s.index}.xml"/>'
        for s in sheets
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'{rels}<Relationship Id="rId{len(sheets) + 1}" Type="{st_type}" Target="styles.xml"/>'
        "</Relationships>"
    )


def _workbook(sheets: list[_Sheet]) -> str:
    entries = "".join(
        f'<sheet name="{_xml_attr(s.title)}" sheetId="{s.index}" r:id="rId{s.index}"/>'
        for s in sheets
    )
    names: list[str] = []
    for position, s in enumerate(sheets):
        quoted = _xml(_quoted_sheet(s.title))
        if s.filter_ref:
            first, last = s.filter_ref.split(":")
            absolute = "$" + re.sub(r"(\d+)", r"$\1", first) + ":$" + re.sub(
                r"(\d+)", r"$\1", last)
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{position}" '
                f'hidden="1">{quoted}!{absolute}</definedName>'
            )
        names.append(
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{position}">'
            f"{quoted}!$1:${s.title_rows}</definedName>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<workbookPr date1904="0"/>'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{entries}</sheets><definedNames>{''.join(names)}</definedNames>"
        '<calcPr calcId="191029"/></workbook>'
    )


def _core(info: DocumentInfo) -> str:
    # Metadata travels with the file and is indexed by other tools: no names, no user, no paths.
    generated = info.generated_at
    if generated.tzinfo is not None:
        generated = generated.astimezone(UTC).replace(tzinfo=None)
    stamp = generated.strftime("%Y-%m-%dT%H:%M:%SZ")
    title = _xml(" ".join(clean_text(info.title).split())[:255])
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{title}</dc:title>"
        f"<dc:subject>{_xml(clean_text(info.marking.text))}</dc:subject>"
        "<dc:creator>Caseward</dc:creator>"
        "<cp:lastModifiedBy>Caseward</cp:lastModifiedBy>"
        f"<cp:version>{_xml(clean_text(info.app_version)[:40])}</cp:version>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Application>Caseward</Application><DocSecurity>0</DocSecurity>'
    "</Properties>"
)


def _close_rows(rows: Iterable[Sequence[object]]) -> None:
    close = getattr(rows, "close", None)
    if isinstance(rows, Iterator) and callable(close):
        close()


def write_return(
    target: str | os.PathLike[str] | IO[bytes],
    info: DocumentInfo,
    sheets: Sequence[SheetSpec],
    progress: ProgressSink | None = None,
) -> dict[str, int]:
    """Write a marked return (cover first, then the data sheets) and say how many rows each has.

    ``target`` is a path or a binary stream (the one atomic_export hands over); nothing is
    written anywhere else. Raises ValidationError for text too long for a cell or too many rows,
    ExportCancelled if the sink asks to stop.
    """
    try:
        return _write(target, info, sheets, progress)
    finally:
        for spec in sheets:
            _close_rows(spec.rows)


def _write(
    target: str | os.PathLike[str] | IO[bytes],
    info: DocumentInfo,
    specs: Sequence[SheetSpec],
    progress: ProgressSink | None,
) -> dict[str, int]:
    used = {COVER_SHEET.casefold()}
    cover = _Sheet(COVER_SHEET, 1, [Column("", width=26), Column("", width=64)], False, 1)
    sheets: list[_Sheet] = [cover]
    for n, spec in enumerate(specs, 2):
        columns = list(spec.columns)
        if not columns:
            raise ValueError("a sheet needs at least one column")
        if len(columns) > MAX_COLUMNS:
            raise ValueError("too many columns for a sheet")
        sheets.append(_Sheet(sheet_title(spec.name, used), n, columns, len(columns) > 6,
                             _HEADER_ROWS))
    hints = [spec.expected_rows for spec in specs]
    total = None if any(h is None for h in hints) else sum(h or 0 for h in hints)
    order = [i for i, s in enumerate(specs) if not s.deferred]
    order += [i for i, s in enumerate(specs) if s.deferred]
    done = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in order:
            check_cancelled(progress)
            done += _write_data_sheet(zf, sheets[i + 1], specs[i], info, progress, done, total,
                                      selected=False)
        check_cancelled(progress)
        counts = {s.title: s.rows_written for s in sheets[1:]}
        _write_cover(zf, cover, info, counts)
        zf.writestr("xl/styles.xml", _STYLES_XML)
        zf.writestr("xl/workbook.xml", _workbook(sheets))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(sheets))
        zf.writestr("docProps/core.xml", _core(info))
        zf.writestr("docProps/app.xml", _APP)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("[Content_Types].xml", _content_types(sheets))
        check_cancelled(progress)
    if progress is not None:
        progress.progress(done, done)
    return counts

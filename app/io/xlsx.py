"""Excel returns: marked, injection-proof workbooks streamed with openpyxl's write-only mode.

Text policy (applies to every cell, header and the cover):

* Formula guard. A string a spreadsheet could read as a formula or an error value - one that
  starts with ``= + - @`` (or the full-width and other look-alikes ``＝ ＋ － ＠ − ﹢ ﹣ ﹦``), with
  tab, CR or LF, with any of these after leading white space, or that equals an error literal such
  as ``#N/A`` - is written as an inline string (``t="inlineStr"``, never ``<f>``) with the
  quote-prefix style, so that editing the cell later does not turn it into a formula either.
* Control characters. C0 controls other than tab, LF and CR, lone surrogates and the
  non-characters U+FFFE/U+FFFF cannot be stored in XML: each is replaced by U+FFFD (�), so that a
  reader sees that something was there. CR is kept, written as the OOXML escape ``_x000D_``, and a
  literal ``_xHHHH_`` in the data is protected as ``_x005F_xHHHH_``; Excel and LibreOffice decode
  both, so the text reads back verbatim.
* Long text. A cell holds at most 32,767 characters (UTF-16 code units). Longer text is never
  truncated: the whole return is refused with a ValidationError naming the sheet, data row and
  column (not the value), because splitting would break the fixed columns a return promises.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import IO, Any, Literal

from app.domain.errors import ValidationError
from app.io.marking import DocumentInfo
from app.io.safe_write import ProgressSink, check_cancelled

ColumnKind = Literal["text", "date", "datetime", "int", "float"]

MAX_CELL_CHARS = 32_767
UK_DATE = "dd/mm/yyyy"
UK_DATETIME = "dd/mm/yyyy hh:mm"
COVER_SHEET = "Cover"
PROGRESS_EVERY = 1_000

_DEFAULT_WIDTH: dict[str, float] = {
    "text": 24, "date": 12, "datetime": 18, "int": 10, "float": 12,
}
_EXCEL_SAFE_INT = 10**15  # Excel keeps 15 significant digits; larger integers are kept as text.

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
    """

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]]
    expected_rows: int | None = None


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


class _Cells:
    """Builds cells for one worksheet; styles are prepared once, not per cell."""

    def __init__(self, ws: Any) -> None:
        from openpyxl.cell.cell import Cell

        self._cell_cls = Cell
        self.ws = ws
        template = Cell(ws, 1, 1)
        template.quotePrefix = True
        self.quoted_style = template._style
        template = Cell(ws, 1, 1)
        template.number_format = UK_DATE
        self.date_style = template._style
        template = Cell(ws, 1, 1)
        template.number_format = UK_DATETIME
        self.datetime_style = template._style

    def text(self, value: str, style: Any = None) -> Any:
        """A string cell that can never be evaluated, whatever it starts with."""
        cell = self._cell_cls(
            self.ws, 1, 1, style_array=self.quoted_style if style is None else style
        )
        # Set directly: the value setter would make '=' strings formulas, '#N/A' an error cell,
        # and would cut escaped text at 32,767 characters even when the decoded text fits.
        cell._value = value
        cell.data_type = "s"
        return cell

    def convert_text(self, value: object) -> Any:
        if value is None:
            return None
        text = value if type(value) is str else _as_text(value)
        if not text:
            return None
        if len(text) > 16_383:
            length = _utf16_len(text)
            if length > MAX_CELL_CHARS:
                raise _CellTooLong(length)
        if _FIX_RE.search(text) is not None:
            return self.text(_FIX_RE.sub(_fix_char, text))
        if text[0] in _CAREFUL_FIRST and needs_formula_guard(text):
            return self.text(text)
        return text

    def _dated(self, value: date | datetime, style: Any) -> Any:
        cell = self._cell_cls(self.ws, 1, 1, style_array=style)
        # Set directly: the setter would look the number format up again for every cell.
        cell._value = value
        cell.data_type = "d"
        return cell

    def convert_date(self, value: object) -> Any:
        if value is None:
            return None
        if type(value) is date:
            return self._dated(value, self.date_style)
        if isinstance(value, datetime):
            return self._dated(_naive(value), self.date_style)
        if isinstance(value, date):
            return self._dated(date(value.year, value.month, value.day), self.date_style)
        return self.convert_text(value)

    def convert_datetime(self, value: object) -> Any:
        if value is None:
            return None
        if isinstance(value, datetime):
            return self._dated(_naive(value), self.datetime_style)
        if isinstance(value, date):
            return self._dated(datetime.combine(value, time()), self.datetime_style)
        return self.convert_text(value)

    def convert_int(self, value: object) -> Any:
        if type(value) is int:
            if -_EXCEL_SAFE_INT < value < _EXCEL_SAFE_INT:
                return value
            return self.text(str(value))
        if value is None:
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return self.convert_int(int(value))
        return self.convert_text(value)

    def convert_float(self, value: object) -> Any:
        if type(value) is float:
            if math.isfinite(value):
                return value
            # Excel has no NaN or infinity; show the value rather than leave the cell blank.
            return self.text(str(value))
        if value is None:
            return None
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return self.convert_float(float(value))
        return self.convert_text(value)

    def converter(self, kind: ColumnKind) -> Callable[[object], Any]:
        converters: dict[str, Callable[[object], Any]] = {
            "text": self.convert_text,
            "date": self.convert_date,
            "datetime": self.convert_datetime,
            "int": self.convert_int,
            "float": self.convert_float,
        }
        return converters[kind]

    def styled(self, value: str, **style: Any) -> Any:
        cell = self.convert_text(value)
        if not isinstance(cell, self._cell_cls):
            cell = self._cell_cls(self.ws, 1, 1, value=cell)
        for name, attr in style.items():
            setattr(cell, name, attr)
        return cell


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


def _apply_page_setup(ws: Any, info: DocumentInfo, *, landscape: bool, title_rows: str) -> None:
    marking = _hf_text(info.marking.text, 60)
    for part in (ws.oddHeader, ws.oddFooter):
        part.center.text = f"&B{marking}&B"
        part.center.size = 10
    ws.oddHeader.left.text = _hf_text(info.title, 80)
    ws.oddHeader.right.text = _hf_text(info.generated_date_text, 20)
    ws.oddFooter.left.text = _hf_text(info.author, 60)
    ws.oddFooter.right.text = "Page &P of &N"
    for part in (ws.oddHeader.left, ws.oddHeader.right, ws.oddFooter.left, ws.oddFooter.right):
        part.size = 8
    ws.page_setup.paperSize = 9  # A4 in the OOXML paper-size table
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.top = 0.9
    ws.page_margins.bottom = 0.9
    ws.page_margins.header = 0.35
    ws.page_margins.footer = 0.35
    ws.page_margins.left = 0.5
    ws.page_margins.right = 0.5
    ws.print_title_rows = title_rows


class _Styles:
    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.marking_font = Font(name="Calibri", bold=True, size=12)
        self.title_font = Font(name="Calibri", bold=True, size=16)
        self.header_font = Font(name="Calibri", bold=True)
        self.header_fill = PatternFill("solid", fgColor="DCE3EA")
        self.header_border = Border(bottom=Side(style="thin", color="5A6B7B"))
        self.header_align = Alignment(vertical="center", wrap_text=True)
        self.label_font = Font(name="Calibri", bold=True, color="3A4856")
        self.wrap = Alignment(wrap_text=True, vertical="top")


def _write_data_sheet(
    ws: Any,
    spec: SheetSpec,
    info: DocumentInfo,
    styles: _Styles,
    sink: ProgressSink | None,
    done_before: int,
    total: int | None,
) -> int:
    from openpyxl.utils import get_column_letter

    columns = list(spec.columns)
    if not columns:
        raise ValueError("a sheet needs at least one column")
    ncols = len(columns)
    last_letter = get_column_letter(ncols)
    for index, column in enumerate(columns, 1):
        width = column.width or max(_DEFAULT_WIDTH[column.kind], min(len(column.header) + 3, 40))
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A3"  # marking row and headers stay in view
    _apply_page_setup(ws, info, landscape=ncols > 6, title_rows="1:2")

    cells = _Cells(ws)
    ws.append([cells.styled(info.marking.text, font=styles.marking_font)])
    ws.row_dimensions[2].height = 30
    ws.append([
        cells.styled(
            column.header, font=styles.header_font, fill=styles.header_fill,
            border=styles.header_border, alignment=styles.header_align,
        )
        for column in columns
    ])

    converters = [cells.converter(column.kind) for column in columns]
    append = ws.append
    written = 0
    for raw in spec.rows:
        if len(raw) != ncols:
            raise ValueError(f"row has {len(raw)} values for {ncols} columns")
        try:
            # Lengths were checked above; strict zipping would cost a little on every row.
            append([convert(value) for convert, value in zip(converters, raw, strict=False)])
        except _CellTooLong as exc:
            column_name = _which_long_column(converters, raw, columns)
            raise ValidationError(
                f"sheet '{ws.title}', row {written + 1}, column '{column_name}'",
                f"the text is {exc.length:,} characters long and a spreadsheet cell holds at "
                f"most {MAX_CELL_CHARS:,}. Shorten it, or give it in a briefing instead; "
                "nothing was written.",
            ) from None
        written += 1
        if written % PROGRESS_EVERY == 0 and sink is not None:
            check_cancelled(sink)
            sink.progress(done_before + written, total)

    # The filter covers the header row and every data row written (just the header if none).
    ws.auto_filter.ref = f"A2:{last_letter}{written + 2}"
    return written


def _which_long_column(
    converters: list[Callable[[object], Any]], raw: Sequence[object], columns: list[Column]
) -> str:
    for convert, value, column in zip(converters, raw, columns, strict=True):
        try:
            convert(value)
        except _CellTooLong:
            return clean_text(column.header)
    return "?"


def _write_cover(
    ws: Any, info: DocumentInfo, counts: dict[str, int], styles: _Styles
) -> None:
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 64
    _apply_page_setup(ws, info, landscape=False, title_rows="1:1")
    cells = _Cells(ws)
    marking = info.marking.text

    def label_row(label: str, value: object, **value_style: Any) -> None:
        ws.append([
            cells.styled(label, font=styles.label_font),
            cells.styled("" if value is None else str(value), alignment=styles.wrap,
                         **value_style),
        ])

    ws.append([cells.styled(marking, font=styles.marking_font)])
    ws.append([])
    ws.append([cells.styled(info.title, font=styles.title_font)])
    ws.append([])
    label_row("Period", info.period or "—")
    label_row("Prepared by", info.author)
    label_row("Generated", info.generated_text)
    label_row("Protective marking", marking, font=styles.header_font)
    label_row("Application", f"Caseward {info.app_version}")
    ws.append([])
    ws.append([
        cells.styled("Sheet", font=styles.header_font, fill=styles.header_fill,
                     border=styles.header_border),
        cells.styled("Rows", font=styles.header_font, fill=styles.header_fill,
                     border=styles.header_border),
    ])
    for name, count in counts.items():
        ws.append([cells.styled(name), count])
    ws.append([])
    ws.append([cells.styled(
        "Handle, store and send this return as its protective marking requires."
    )])


def _set_properties(wb: Any, info: DocumentInfo) -> None:
    # Metadata travels with the file and is indexed by other tools: no names, no user, no paths.
    props = wb.properties
    props.creator = "Caseward"
    props.lastModifiedBy = "Caseward"
    props.title = " ".join(clean_text(info.title).split())[:255]
    props.subject = info.marking.text
    props.description = None
    props.keywords = None
    generated = info.generated_at
    if generated.tzinfo is not None:
        generated = generated.astimezone(UTC).replace(tzinfo=None)
    props.created = generated


def write_return(
    target: str | os.PathLike[str] | IO[bytes],
    info: DocumentInfo,
    sheets: Sequence[SheetSpec],
    progress: ProgressSink | None = None,
) -> dict[str, int]:
    """Write a marked return (cover first, then the data sheets) and say how many rows each has.

    ``target`` is a path or a seekable binary stream (the one atomic_export hands over). Raises
    ValidationError for text too long for a cell, ExportCancelled if the sink asks to stop.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    try:
        _set_properties(wb, info)
        styles = _Styles()
        used = {COVER_SHEET.casefold()}
        cover = wb.create_sheet(COVER_SHEET)
        hints = [spec.expected_rows for spec in sheets]
        total = None if any(h is None for h in hints) else sum(h or 0 for h in hints)
        counts: dict[str, int] = {}
        done = 0
        for spec in sheets:
            check_cancelled(progress)
            ws = wb.create_sheet(sheet_title(spec.name, used))
            written = _write_data_sheet(ws, spec, info, styles, progress, done, total)
            counts[ws.title] = written
            done += written
        _write_cover(cover, info, counts, styles)
        check_cancelled(progress)
        if progress is not None:
            progress.progress(done, done)
        wb.save(target)
    finally:
        _discard_spool_files(wb)
    return counts


def _discard_spool_files(wb: Any) -> None:
    """Remove the plain-text sheet files openpyxl spools to the temp folder, now, not at exit."""
    from openpyxl.worksheet import _writer

    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        out = getattr(writer, "out", None)
        if not isinstance(out, str):
            continue
        # Finish the row generator before its stream, or it complains when garbage-collected.
        for closer in (getattr(ws, "_rows", None), writer):
            try:
                if closer is not None:
                    closer.close()
            except Exception:  # a half-written stream may refuse to close; the file still goes
                pass
        with contextlib.suppress(FileNotFoundError):
            os.remove(out)
        if out in _writer.ALL_TEMP_FILES:
            _writer.ALL_TEMP_FILES.remove(out)

"""PDF briefings: a marked, numbered A4 document base on reportlab platypus, with safe helpers.

Every string from data must pass through ``esc`` before it reaches a Paragraph: reportlab reads
Paragraph text as markup, so ``<img src=…>`` or ``<link href=file:…>`` in a record would embed a
file or a link. The helpers here (``paragraph``, ``section``, ``kv_table``, ``data_table``) take
raw values and escape them themselves; only callers building their own Paragraphs need ``esc``.
Control characters print as U+FFFD (�), as in the Excel returns; new lines are kept. A character
the font cannot draw (emoji, a few symbols) prints as its code, ``[U+1F600]``, never as a blank
or a wrong letter.

Right-to-left text (Arabic, Hebrew, ...): each run of right-to-left words is put into visual
order with python-bidi and its Arabic letters joined with arabic-reshaper (presentation forms,
which DejaVu Sans carries) before reportlab lays the line out left to right. Names, places and
short values therefore read correctly and extract as the original text (after NFKC). Known
limits: a right-to-left run long enough to wrap is reordered before it is wrapped, so its lines
come out bottom-up, and digits inside a right-to-left phrase split it into runs shown left to
right; keep long right-to-left notes out of briefings or give a translation. (reportlab's own
bidi support needs rlbidi, which is not on PyPI.)
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from app.io.marking import DocumentInfo
from app.io.safe_write import ProgressSink, check_cancelled

FONT = "CasewardSans"
FONT_BOLD = "CasewardSans-Bold"
_FONT_FILES = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    "CasewardSans-Oblique": "DejaVuSans-Oblique.ttf",
    "CasewardSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}

MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = 210 * MM, 297 * MM
MARGIN_LEFT = MARGIN_RIGHT = 20 * MM
MARGIN_TOP = 27 * MM
MARGIN_BOTTOM = 25 * MM
FRAME_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

INK = "#1B2631"
MUTED = "#55626F"
RULE = "#9AA6B2"
HEADER_FILL = "#DCE3EA"
ZEBRA_FILL = "#F3F5F8"

_RTL = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe"
_RTL_RE = re.compile(f"[{_RTL}]")
_RTL_RUN_RE = re.compile(f"[{_RTL}](?:[{_RTL} ,.'\u200c\u200d\u0300-\u036f-]*[{_RTL}])?")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_font_lock = threading.Lock()
_state: dict[str, Any] = {}

Flowables = Sequence[Any]


def fonts_dir() -> Path:
    from app.paths import resources_dir

    return resources_dir() / "fonts"


def register_fonts(directory: Path | None = None) -> None:
    """Register DejaVu Sans (regular, bold, oblique) once; later calls do nothing."""
    with _font_lock:
        if _state.get("fonts"):
            return
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        folder = directory or fonts_dir()
        for name, filename in _FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
        addMapping(FONT, 0, 0, FONT)
        addMapping(FONT, 1, 0, FONT_BOLD)
        addMapping(FONT, 0, 1, "CasewardSans-Oblique")
        addMapping(FONT, 1, 1, "CasewardSans-BoldOblique")
        _state["fonts"] = True


def display_text(value: object) -> str:
    """How a value reads on the page: UK dates, Yes/No, an em dash for nothing recorded."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value if isinstance(value, str) else str(value)


def visual(text: str) -> str:
    """Right-to-left runs in visual order with Arabic letters joined; other text unchanged.

    The page reads left to right, so each run of right-to-left words (letters, marks and the
    spaces and light punctuation between them) is reordered in place and everything around
    it - Latin text, digits, brackets - keeps its order. Without python-bidi and
    arabic-reshaper installed the text is returned as it is (every character still prints)."""
    if _RTL_RE.search(text) is None:
        return text
    try:
        import arabic_reshaper  # type: ignore[import-untyped]
        from bidi import get_display  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - both are dependencies; degrade, never fail
        return text

    def flip(match: re.Match[str]) -> str:
        return str(get_display(arabic_reshaper.reshape(match.group())))

    return _RTL_RUN_RE.sub(flip, text)


def _font_chars() -> frozenset[int]:
    """Code points both the regular and the bold face can draw (read once)."""
    with _font_lock:
        chars = _state.get("chars")
        if chars is None:
            from reportlab.pdfbase.ttfonts import TTFont

            folder = fonts_dir()
            faces = [set(TTFont(f"probe-{n}", str(folder / _FONT_FILES[n])).face.charToGlyph)
                     for n in (FONT, FONT_BOLD)]
            # Beyond the BMP reportlab's subsetting mis-encodes characters (U+1F600 prints as
            # U+1F60), so those are never drawn as themselves.
            chars = frozenset(c for c in faces[0] & faces[1] if c <= 0xFFFF)
            _state["chars"] = chars
    assert isinstance(chars, frozenset)
    return chars


def drawable(text: str) -> str:
    """Characters the font cannot draw (emoji, some symbols) as a visible ``[U+1F600]``:
    a reader sees exactly what was there, instead of a blank or a wrong letter."""
    chars = _font_chars()
    if all(ord(ch) in chars or ch == "\n" for ch in text):
        return text
    return "".join(ch if ord(ch) in chars or ch == "\n" else f"[U+{ord(ch):04X}]"
                   for ch in text)


def esc(value: object) -> str:
    """Paragraph markup that prints ``value`` verbatim: never a tag, a link or an image.

    None becomes an empty string; other non-strings go through display_text. Control characters
    become U+FFFD, tabs become spaces, new lines become line breaks.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else display_text(value)
    text = _CONTROL_RE.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = drawable(visual(text.replace("\t", " ")))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("\n", "<br/>")


def _plain(value: object) -> str:
    """One line of text for the canvas (running header and footer), never markup."""
    text = "" if value is None else str(value)
    return drawable(visual(" ".join(_CONTROL_RE.sub("\ufffd", text).split())))


@dataclass(frozen=True)
class PdfStyles:
    """The house paragraph styles, all in DejaVu Sans."""

    title: Any
    h1: Any
    h2: Any
    body: Any
    small: Any
    label: Any
    table_header: Any
    table_cell: Any


def styles() -> PdfStyles:
    """The shared style set (fonts are registered on first use)."""
    register_fonts()
    with _font_lock:
        cached = _state.get("styles")
        if cached is None:
            cached = _make_styles()
            _state["styles"] = cached
    assert isinstance(cached, PdfStyles)
    return cached


def _make_styles() -> PdfStyles:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle

    ink, muted = HexColor(INK), HexColor(MUTED)
    body = ParagraphStyle(
        "Body", fontName=FONT, fontSize=10, leading=14, textColor=ink, spaceAfter=6,
        splitLongWords=1,
    )
    return PdfStyles(
        title=ParagraphStyle(
            "Title", parent=body, fontName=FONT_BOLD, fontSize=18, leading=23, spaceAfter=4,
        ),
        h1=ParagraphStyle(
            "H1", parent=body, fontName=FONT_BOLD, fontSize=13, leading=17, spaceBefore=12,
            spaceAfter=4, keepWithNext=1,
        ),
        h2=ParagraphStyle(
            "H2", parent=body, fontName=FONT_BOLD, fontSize=11, leading=15, spaceBefore=8,
            spaceAfter=3, keepWithNext=1,
        ),
        body=body,
        small=ParagraphStyle(
            "Small", parent=body, fontSize=8, leading=10.5, textColor=muted, spaceAfter=2,
        ),
        label=ParagraphStyle(
            "Label", parent=body, fontName=FONT_BOLD, fontSize=9, leading=12, textColor=muted,
            spaceAfter=0,
        ),
        table_header=ParagraphStyle(
            "TableHeader", parent=body, fontName=FONT_BOLD, fontSize=9, leading=12, spaceAfter=0,
        ),
        table_cell=ParagraphStyle(
            "TableCell", parent=body, fontSize=9, leading=12, spaceAfter=0,
        ),
    )


def paragraph(value: object, style: Any = None) -> Any:
    """A Paragraph of data, escaped (Body style unless another is given; nothing shows as —)."""
    from reportlab.platypus import Paragraph

    return Paragraph(esc(display_text(value)), style or styles().body)


def title_block(info: DocumentInfo) -> list[Any]:
    """The document's title with its period, author and generation time beneath it."""
    from reportlab.platypus import Paragraph, Spacer

    st = styles()
    facts = [f"Generated {info.generated_text}", f"Prepared by {info.author}"]
    if info.period:
        facts.insert(0, f"Period: {info.period}")
    return [
        Paragraph(esc(info.title), st.title),
        Paragraph(esc("  ·  ".join(facts)), st.small),
        Spacer(1, 4 * MM),
    ]


def section(title: str) -> list[Any]:
    """A section heading with a hairline under it, never stranded at the foot of a page."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import CondPageBreak, Paragraph
    from reportlab.platypus.flowables import HRFlowable

    st = styles()
    rule = HRFlowable(width="100%", thickness=0.6, color=HexColor(RULE), spaceBefore=0,
                      spaceAfter=6)
    # A heading near the foot of a page starts a new page instead of standing alone; unlike
    # keepWithNext this never pushes a long table, and the space above it, to the next page.
    return [CondPageBreak(30 * MM), Paragraph(esc(title), st.h1), rule]


def kv_table(rows: Iterable[tuple[str, object]], *, label_width: float = 48 * MM,
             width: float = FRAME_WIDTH) -> Any:
    """Label/value pairs in two columns; values are escaped, dates in UK form."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Paragraph, Table, TableStyle

    st = styles()
    data = [[Paragraph(esc(label), st.label), Paragraph(esc(display_text(value)), st.table_cell)]
            for label, value in rows]
    if not data:
        data = [[Paragraph("", st.label), Paragraph(esc("—"), st.table_cell)]]
    table = Table(data, colWidths=[label_width, width - label_width], hAlign="LEFT",
                  splitInRow=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, HexColor("#E1E6EB")),
    ]))
    return table


def data_table(header: Sequence[str], rows: Iterable[Sequence[object]],
               col_widths: Sequence[float] | None = None) -> Any:
    """A table of records: header repeated on each page, zebra rows, long text wrapped."""
    from reportlab.lib.colors import HexColor, white
    from reportlab.platypus import Paragraph, Table, TableStyle

    st = styles()
    if col_widths is None:
        col_widths = [FRAME_WIDTH / max(len(header), 1)] * len(header)
    data: list[list[Any]] = [[Paragraph(esc(h), st.table_header) for h in header]]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row has {len(row)} values for {len(header)} columns")
        data.append([Paragraph(esc(display_text(v)), st.table_cell) for v in row])
    if len(data) == 1:
        data.append([Paragraph(esc("None recorded"), st.table_cell)] + [""] * (len(header) - 1))
    table = Table(data, colWidths=list(col_widths), repeatRows=1, hAlign="LEFT", splitInRow=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), HexColor(HEADER_FILL)),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, HexColor("#5A6B7B")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [white, HexColor(ZEBRA_FILL)]),
        ("BOX", (0, 0), (-1, -1), 0.4, HexColor(RULE)),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def photo_placeholder(width: float = 35 * MM, height: float = 45 * MM,
                      text: str = "No photograph in this briefing") -> Any:
    """A passport-shaped box where a photograph would go; drawn, never an embedded image."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus.flowables import Flowable

    st = styles()
    caption = _plain(text)

    class PhotoPlaceholder(Flowable):  # type: ignore[misc]
        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            return width, height

        def draw(self) -> None:
            canvas = self.canv
            canvas.saveState()
            canvas.setStrokeColor(HexColor(RULE))
            canvas.setFillColor(HexColor(ZEBRA_FILL))
            canvas.setLineWidth(0.6)
            canvas.setDash(3, 2)
            canvas.rect(0, 0, width, height, stroke=1, fill=1)
            canvas.setFillColor(HexColor(MUTED))
            canvas.setFont(FONT, st.small.fontSize)
            lines = _wrap_words(caption, FONT, st.small.fontSize, width - 8)
            y = height / 2 + (len(lines) - 1) * st.small.leading / 2 - st.small.fontSize / 3
            for line in lines:
                canvas.drawCentredString(width / 2, y, line)
                y -= st.small.leading
            canvas.restoreState()

    return PhotoPlaceholder()


def _wrap_words(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for word in text.split():
        if lines and stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Cut one line of running-header text to a width, marking the cut with an ellipsis."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


class _PageDecor:
    """Draws the running header and footer; the page count is added once the total is known."""

    def __init__(self, info: DocumentInfo) -> None:
        self.marking = _plain(info.marking.text)
        self.title = _plain(info.title)
        self.date = info.generated_date_text
        self.author = _plain(info.author)

    def draw(self, canvas: Any, _doc: Any) -> None:
        from reportlab.lib.colors import HexColor

        canvas.saveState()
        top = PAGE_HEIGHT - 12 * MM
        bottom = 11 * MM
        third = FRAME_WIDTH / 3
        canvas.setFillColor(HexColor(INK))
        canvas.setFont(FONT_BOLD, 10)
        canvas.drawCentredString(PAGE_WIDTH / 2, top, self.marking)
        canvas.drawCentredString(PAGE_WIDTH / 2, bottom, self.marking)
        canvas.setFillColor(HexColor(MUTED))
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN_LEFT, top, _fit(self.title, FONT, 8, third - 6 * MM))
        canvas.drawRightString(PAGE_WIDTH - MARGIN_RIGHT, top, self.date)
        canvas.drawString(MARGIN_LEFT, bottom, _fit(self.author, FONT, 8, third - 6 * MM))
        canvas.setStrokeColor(HexColor(RULE))
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN_LEFT, top - 3 * MM, PAGE_WIDTH - MARGIN_RIGHT, top - 3 * MM)
        canvas.line(MARGIN_LEFT, bottom + 4.5 * MM, PAGE_WIDTH - MARGIN_RIGHT, bottom + 4.5 * MM)
        canvas.restoreState()


def _numbered_canvas() -> type:
    from reportlab.lib.colors import HexColor
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        """Holds pages back until the end so that each can say 'Page N of M'."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held_pages)
            for state in self._held_pages:
                self.__dict__.update(state)
                self.saveState()
                self.setFont(FONT, 8)
                self.setFillColor(HexColor(MUTED))
                self.drawRightString(PAGE_WIDTH - MARGIN_RIGHT, 11 * MM,
                                     f"Page {self._pageNumber} of {total}")
                self.restoreState()
                Canvas.showPage(self)
            Canvas.save(self)

    return NumberedCanvas


StoryFn = Callable[[PdfStyles], Flowables]


def build_pdf(
    target: str | os.PathLike[str] | IO[bytes],
    info: DocumentInfo,
    story: Flowables | StoryFn,
    progress: ProgressSink | None = None,
    *,
    compress: bool = True,
    invariant: bool = False,
) -> int:
    """Lay out an A4 document with the marking, title, date, author and page numbers on every
    page, and return the number of pages.

    ``story`` is a list of flowables or a function given the style set that returns one. The PDF
    metadata holds the title, the marking (as subject) and "Caseward" as author and creator: the
    title must therefore not contain personal data. ``compress=False``/``invariant=True`` give
    plain, reproducible output for tests.
    """
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    st = styles()
    flowables = list(story(st) if callable(story) else story)
    total = len(flowables)
    decor = _PageDecor(info)
    counter = {"done": 0}

    class _Doc(BaseDocTemplate):  # type: ignore[misc]
        def afterFlowable(self, flowable: Any) -> None:
            counter["done"] += 1
            if progress is not None:
                check_cancelled(progress)
                progress.progress(min(counter["done"], total), total)

    doc = _Doc(
        target,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=MARGIN_LEFT, rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM,
        title=_plain(info.title),
        author="Caseward",
        subject=_plain(info.marking.text),
        creator="Caseward",
        producer="Caseward",
        keywords=[],
        lang="en-GB",
        pageCompression=1 if compress else 0,
        invariant=1 if invariant else 0,
    )
    frame = Frame(MARGIN_LEFT, MARGIN_BOTTOM, FRAME_WIDTH,
                  PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decor.draw)])
    check_cancelled(progress)
    doc.build(flowables, canvasmaker=_numbered_canvas())
    return int(doc.page)

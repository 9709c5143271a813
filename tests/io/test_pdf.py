"""PDF briefings: data never becomes markup, every page is marked and numbered."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from app.io import pdf
from app.io.marking import DocumentInfo, Marking, MarkingLevel
from app.io.safe_write import ExportCancelled, ProgressSink, atomic_export

INFO = DocumentInfo(
    title="Nominal briefing CW-00012",
    author="DC 4711 Siân Example",
    generated_at=datetime(2025, 11, 3, 14, 30),
    period="As at 03/11/2025",
    app_version="9.9.9",
)

MARKUP = [
    "<b>x</b>",
    '<img src="/etc/passwd"/>',
    '<img src="file:///etc/passwd" width="100" height="100"/>',
    '<link href="file:///etc/passwd">x</link>',
    '<a href="http://x">click</a>',
    '<a href="http://x"/>',
    "<font name=\"Courier\" color=\"red\">x</font>",
    "<para>x</para><br/><seq id='x'/>",
    "&amp; &lt; &#x41; &nbsp;",
    "Tom & Jerry's \"quote\"",
    "=cmd|' /C calc'!A0",
]
WORLD = [
    "Gwŷn Llŵyd, Dafydd ap Gruffydd, Siân",
    "Łódź, Żółć, Świętokrzyskie, Gęślą jaźń",
]
ELSEWHERE = ["مرحبا بالعالم", "שלום עולם", "😀👍 family"]
CONTROL = "".join(chr(i) for i in range(32)) + "end"


def build(story: Any, info: DocumentInfo = INFO, **kwargs: Any) -> tuple[bytes, int]:
    out = io.BytesIO()
    pages = pdf.build_pdf(out, info, story, compress=False, invariant=True, **kwargs)
    return out.getvalue(), pages


def pdf_text(data: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, as a reader's copy-and-paste would see it."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, check=True)
    return done.stdout.decode("utf-8").split("\f")[:-1]


def hostile_story(st: pdf.PdfStyles) -> list[Any]:
    everything = MARKUP + WORLD + ELSEWHERE + [CONTROL]
    story: list[Any] = [*pdf.title_block(INFO), pdf.photo_placeholder()]
    story += pdf.section("<b>Section</b> <img src='/etc/passwd'/>")
    story.append(pdf.kv_table([(text, text) for text in everything]))
    story += pdf.section("Table")
    story.append(pdf.data_table(["<b>Header</b>", "Value"], [[t, t] for t in everything]))
    story += [pdf.paragraph(t) for t in everything]
    return story


# PDF name tokens that would mean a link, an action, an embedded file or an image. "/Image" is
# matched as a whole name: every page's /ProcSet lists the harmless /ImageB /ImageC /ImageI.
DANGEROUS = [rb"/URI\b", rb"/Link\b", rb"/Annots?\b", rb"/XObject\b", rb"/Image(?![BCI])\b",
             rb"/Launch\b", rb"/JavaScript\b", rb"/JS\b", rb"/EmbeddedFiles?\b", rb"/GoToR\b",
             rb"/SubmitForm\b", rb"/OpenAction\b", rb"/AA\b"]


# --- escaping --------------------------------------------------------------------------------


def test_esc() -> None:
    assert pdf.esc(None) == ""
    assert pdf.esc("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert pdf.esc('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert pdf.esc("a\x00b\x07c\x1bd\x7f") == "a\ufffdb\ufffdc\ufffdd\ufffd"
    assert pdf.esc("a\r\nb\rc\nd\te") == "a<br/>b<br/>c<br/>d e"
    assert pdf.esc(date(1984, 3, 9)) == "09/03/1984"
    assert pdf.esc(datetime(2025, 1, 2, 3, 4)) == "02/01/2025 03:04"
    assert pdf.esc(42) == "42"
    assert pdf.esc("\ud800") == "\ufffd"


def test_markup_in_data_embeds_no_link_file_or_image(tmp_path: Path) -> None:
    data, _ = build(hostile_story)
    for token in DANGEROUS:
        assert re.search(token, data) is None, token


def test_the_scan_would_notice_a_real_link() -> None:
    # Control for the test above: unescaped markup does make a link annotation.
    from reportlab.platypus import Paragraph

    data, _ = build(lambda st: [Paragraph('<link href="http://x.invalid">x</link>', st.body)])
    assert b"/URI" in data and b"/Annot" in data


def test_markup_prints_verbatim(tmp_path: Path) -> None:
    data, _ = build(hostile_story)
    text = " ".join(" ".join(page.split()) for page in pdf_text(data, tmp_path))
    for original in MARKUP + WORLD:
        assert text.count(" ".join(original.split())) >= 3, original  # table, kv table, para
    assert "<b>Section</b> <img src='/etc/passwd'/>" in text
    assert "\ufffd" * 9 in text  # control characters printed visibly


def test_right_to_left_and_emoji_do_not_break_the_document(tmp_path: Path) -> None:
    data, pages = build(lambda st: [pdf.paragraph(t) for t in ELSEWHERE])
    assert pages == 1
    text = pdf_text(data, tmp_path)[0]
    assert "family" in text


def test_right_to_left_names_read_and_extract_as_written(tmp_path: Path) -> None:
    import unicodedata

    names = ["مرحبا بالعالم", "שלום עולם", "محمد عبد الرحمن"]
    data, _ = build(lambda st: [pdf.paragraph(f"Alias: {t} (01/04/1989)") for t in names])
    text = unicodedata.normalize("NFKC", pdf_text(data, tmp_path)[0])
    for name in names:
        assert name in text, name  # joined letters, in reading order


def test_characters_without_a_glyph_print_as_their_code(tmp_path: Path) -> None:
    assert pdf.drawable("Zoë 😀 ＝1") == "Zoë [U+1F600] [U+FF1D]1"
    data, _ = build([pdf.paragraph("Zoë 😀 ＝1")])
    text = pdf_text(data, tmp_path)[0]
    assert "Zoë [U+1F600] [U+FF1D]1" in text
    assert "\u1f60" not in text.lower() and "ὠ" not in text  # never a wrong letter


def test_forty_thousand_characters_print_whole(tmp_path: Path) -> None:
    words = [f"w{i:05d}" for i in range(5_800)]
    long_text = " ".join(words)
    assert len(long_text) > 40_000
    unbroken = "x" * 40_000  # one 'word' with no space: must still wrap, not overflow

    data, pages = build(lambda st: [
        pdf.paragraph(long_text),
        pdf.kv_table([("Notes", long_text)]),
        pdf.data_table(["Ref", "Notes"], [["CW-1", long_text]], [30 * pdf.MM, 140 * pdf.MM]),
        pdf.paragraph(unbroken),
    ])
    assert pages > 10
    text = "".join(pdf_text(data, tmp_path))
    found = re.findall(r"w\d{5}", text)
    assert found == words * 3
    assert text.count("x") >= 40_000


# --- marking, numbering, running header and footer -------------------------------------------


def many_pages(st: pdf.PdfStyles) -> list[Any]:
    story: list[Any] = [*pdf.title_block(INFO)]
    for n in range(4):
        story += pdf.section(f"Part {n + 1}")
        story.append(pdf.data_table(
            ["Date", "Summary"],
            [[date(2025, 1, 1 + i % 28), f"Contact {i}: routine visit, no concerns."]
             for i in range(40)],
            [30 * pdf.MM, 140 * pdf.MM],
        ))
    return story


def test_every_page_is_marked_top_and_bottom_and_numbered(tmp_path: Path) -> None:
    data, pages = build(many_pages)
    texts = pdf_text(data, tmp_path)
    assert pages == len(texts) >= 4
    for number, page in enumerate(texts, 1):
        lines = [line for line in page.splitlines() if line.strip()]
        first, last = lines[0], lines[-1]
        assert "OFFICIAL-SENSITIVE" in first, number
        assert "OFFICIAL-SENSITIVE" in last, number
        assert "Nominal briefing CW-00012" in first and "03/11/2025" in first
        assert "DC 4711 Siân Example" in last
        assert f"Page {number} of {pages}" in last


def test_single_page_says_page_1_of_1(tmp_path: Path) -> None:
    data, pages = build([pdf.paragraph("Short.")])
    assert pages == 1
    assert "Page 1 of 1" in pdf_text(data, tmp_path)[0]


def test_table_header_repeats_on_each_page(tmp_path: Path) -> None:
    rows = [[f"CW-{i:05d}", "Nowak"] for i in range(150)]
    data, pages = build([pdf.data_table(["Reference", "Surname"], rows)])
    texts = pdf_text(data, tmp_path)
    assert pages >= 3
    for page in texts:
        assert "Reference" in page and "Surname" in page


def test_caveat_is_printed_with_the_marking(tmp_path: Path) -> None:
    info = DocumentInfo(title="Briefing", author="x", generated_at=INFO.generated_at,
                        marking=Marking.with_caveat(MarkingLevel.OFFICIAL_SENSITIVE, "PERSONAL"))
    data, _ = build([pdf.paragraph("x")], info)
    assert pdf_text(data, tmp_path)[0].count("OFFICIAL-SENSITIVE PERSONAL") == 2


def test_metadata_holds_title_and_marking_but_no_person_or_path() -> None:
    data, _ = build([pdf.paragraph("x")])
    info = re.search(rb"/Author.*?>>", data, re.S)
    assert info is not None
    block = info.group()
    assert b"/Author (Caseward)" in block
    assert b"/Creator (Caseward)" in block
    assert b"/Producer (Caseward)" in block
    assert b"/Subject (OFFICIAL-SENSITIVE)" in block
    assert b"/Title (Nominal briefing CW-00012)" in block
    assert b"Si" not in block and b"4711" not in block
    assert b"/tmp" not in data and b"/work" not in data


def test_dejavu_is_embedded() -> None:
    data, _ = build([pdf.paragraph("Gwŷn Łódź")])
    assert b"/FontFile2" in data
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSans", data)


def test_story_may_be_a_list_or_a_function_of_the_styles() -> None:
    _, pages_a = build([pdf.paragraph("x")])
    _, pages_b = build(lambda st: [pdf.paragraph("x", st.h2)])
    assert pages_a == pages_b == 1


def test_row_of_the_wrong_length_is_a_bug() -> None:
    with pytest.raises(ValueError):
        pdf.data_table(["a", "b"], [["only one"]])


def test_fonts_are_registered_on_first_use_not_on_import() -> None:
    code = (
        "import app.io.pdf\n"
        "from reportlab.pdfbase import pdfmetrics\n"
        "print('CasewardSans' in pdfmetrics.getRegisteredFontNames())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "False"


# --- safe writing, progress and cancel -------------------------------------------------------


def test_written_through_atomic_export(tmp_path: Path) -> None:
    def writer(stream: BinaryIO, sink: ProgressSink) -> None:
        pdf.build_pdf(stream, INFO, many_pages, sink)

    result = atomic_export(tmp_path / "briefing.pdf", writer)
    assert result.path.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["briefing.pdf", "briefing.pdf.sha256"]


def test_cancel_leaves_nothing(tmp_path: Path) -> None:
    class CancelSoon:
        def __init__(self) -> None:
            self.calls: list[tuple[int, int | None]] = []

        def progress(self, done: int, total: int | None) -> None:
            self.calls.append((done, total))

        def is_cancelled(self) -> bool:
            return len(self.calls) >= 3

    sink = CancelSoon()

    def writer(stream: BinaryIO, given: ProgressSink) -> None:
        pdf.build_pdf(stream, INFO, many_pages, given)

    with pytest.raises(ExportCancelled):
        atomic_export(tmp_path / "briefing.pdf", writer, progress=sink)
    assert list(tmp_path.iterdir()) == []
    assert sink.calls[0][1] == len(many_pages(pdf.styles()))

"""The one check for free text typed or imported into Caseward: what is refused, what is tidied.

Every field that stores text a person wrote goes through ``clean_text`` (or, where problems
are collected rather than raised, ``text_problem``):

- control characters (C0, DEL and C1) are refused: they show as boxes, can drive a terminal
  (ESC) and break exports. A multi-line field keeps tab and line breaks (CR LF and a lone CR
  become LF); a single-line field (a name, a reference, a title) keeps tab but no line break,
  including the Unicode line and paragraph separators;
- a single-line field refuses the bidirectional embedding, override and isolate controls
  (U+202A–U+202E, U+2066–U+2069), which can make a name or a reference read as something
  else; a multi-line note may hold right-to-left text and keeps them;
- the text is put in Unicode normal form C (so "é" typed two ways is one spelling) and
  surrounding whitespace is stripped.

Messages name the field and the fault, never the value (it may be record data).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "BIDI_CONTROLS",
    "MSG_BIDI",
    "MSG_CONTROL",
    "MSG_ONE_LINE",
    "clean_text",
    "text_problem",
    "tidy_text",
]

from app.domain.errors import ValidationError

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

MSG_CONTROL = "contains control characters"
MSG_ONE_LINE = "must be one line"
MSG_BIDI = "contains a right-to-left or left-to-right control character"
MSG_TEXT = "must be text"

# Tab, LF and CR are judged separately (they depend on the kind of field).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\n\r\x85\u2028\u2029]")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_NEWLINES = re.compile(r"\r\n?")


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """What is wrong with ``text`` for a field of this kind (a message), or None when it may be
    stored. Judges only the characters, not the length: the caller knows its limit."""
    if not multiline and _LINE_BREAK.search(text):
        return MSG_ONE_LINE
    if _CONTROL.search(text):
        return MSG_CONTROL
    if not multiline and _BIDI.search(text):
        return MSG_BIDI
    return None


def tidy_text(text: str, *, multiline: bool = False) -> str:
    """Text that passed ``text_problem`` as it is stored: NFC, line breaks as LF, stripped."""
    text = unicodedata.normalize("NFC", text)
    if multiline:
        text = _NEWLINES.sub("\n", text)
    return text.strip()


def clean_text(value: object, field_name: str, max_len: int, *, required: bool = False,
               multiline: bool = False, required_message: str = "is required") -> str:
    """``value`` as it is stored: NFC, stripped, line breaks as LF; '' when empty and not
    required. Raises ValidationError(field_name, ...) for a non-string, a forbidden character,
    text over ``max_len`` characters or (when required) nothing at all."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(field_name, MSG_TEXT)
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValidationError(field_name, problem)
    text = tidy_text(value, multiline=multiline)
    if required and not text:
        raise ValidationError(field_name, required_message)
    if len(text) > max_len:
        raise ValidationError(field_name, f"must be at most {max_len} characters")
    return text

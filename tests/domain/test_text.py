"""The shared text check (app.domain.text): what it refuses, what it tidies, and that every
domain cleaner uses it."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import meetings, prevent
from app.domain.errors import ValidationError
from app.domain.nominal import Alias, Nominal, parse_nominal_json, validate_nominal
from app.domain.text import (
    BIDI_CONTROLS,
    MSG_BIDI,
    MSG_CONTROL,
    MSG_ONE_LINE,
    clean_text,
    text_problem,
)

FIELD = "subject.surname"
C0_FORBIDDEN = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\x7f"]
C1 = [chr(c) for c in range(0x80, 0xA0)]
LINE_BREAKS = ["\n", "\r", "\r\n", "\u2028", "\u2029"]

# Text a person might type (any script, combining marks, spaces), without the forbidden sets.
typed = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


def _forbidden(multiline: bool) -> st.SearchStrategy[str]:
    chars = C0_FORBIDDEN + C1
    if not multiline:
        chars += LINE_BREAKS + sorted(BIDI_CONTROLS)
    return st.sampled_from(chars)


def _allowed(text: str, multiline: bool) -> bool:
    return text_problem(text, multiline=multiline) is None


@settings(max_examples=300, deadline=None)
@given(text=typed, multiline=st.booleans())
def test_accepted_text_is_stored_as_given_back(text: str, multiline: bool) -> None:
    """What the check accepts it returns tidied; tidied text passes again unchanged."""
    try:
        clean = clean_text(text, FIELD, 10_000, multiline=multiline)
    except ValidationError as exc:
        assert exc.field == FIELD
        assert not _allowed(text, multiline)
        return
    assert _allowed(text, multiline)
    assert clean == clean.strip()
    assert unicodedata.is_normalized("NFC", clean)
    assert clean_text(clean, FIELD, 10_000, multiline=multiline) == clean
    if multiline:
        assert "\r" not in clean


@settings(max_examples=300, deadline=None)
@given(data=st.data(), before=typed, after=typed, multiline=st.booleans())
def test_forbidden_character_is_refused_by_field(data: st.DataObject, before: str, after: str,
                                                 multiline: bool) -> None:
    bad = data.draw(_forbidden(multiline))
    value = before + bad + after
    with pytest.raises(ValidationError) as caught:
        clean_text(value, FIELD, 10_000, multiline=multiline)
    assert caught.value.field == FIELD
    assert caught.value.message in (MSG_CONTROL, MSG_ONE_LINE, MSG_BIDI)
    assert str(caught.value).startswith(f"{FIELD}: ")
    assert bad not in str(caught.value)  # the value is never echoed
    if before.strip() and len(before.strip()) > 3:
        assert before.strip() not in str(caught.value)


@pytest.mark.parametrize("value", ["Ref\x00er", "a\x07", "\x1b[31mred", "x\x7f", "x\x9by"])
def test_controls_refused_in_both_kinds(value: str) -> None:
    for multiline in (False, True):
        with pytest.raises(ValidationError, match="contains control characters"):
            clean_text(value, "notes", 100, multiline=multiline)


def test_line_breaks_tabs_and_bidi() -> None:
    assert clean_text("  one\r\ntwo\rthree\tfour \n", "notes", 100, multiline=True) == \
        "one\ntwo\nthree\tfour"
    assert clean_text("Jean\tPaul", "forenames", 100) == "Jean\tPaul"
    with pytest.raises(ValidationError, match="must be one line"):
        clean_text("two\nlines", "surname", 100)
    for ch in sorted(BIDI_CONTROLS):
        with pytest.raises(ValidationError, match="right-to-left"):
            clean_text(f"abc{ch}gnp.exe", "ref", 100)
        # A note may hold right-to-left text with its isolates and embeddings.
        assert clean_text(f"abc{ch}def", "notes", 100, multiline=True) == f"abc{ch}def"


def test_nfc_strip_length_required() -> None:
    assert clean_text("  Jose\u0301 ", "forenames", 100) == "Jos\u00e9"
    assert clean_text(None, "area", 10) == ""
    with pytest.raises(ValidationError, match="is required"):
        clean_text("   ", "summary", 10, required=True)
    with pytest.raises(ValidationError, match="say why"):
        clean_text("", "reason", 10, required=True, required_message="say why")
    with pytest.raises(ValidationError, match="must be at most 3 characters"):
        clean_text("abcd", "area", 3)
    with pytest.raises(ValidationError, match="must be text"):
        clean_text(12, "area", 3)


def test_domain_cleaners_share_the_check() -> None:
    with pytest.raises(ValidationError) as e:
        prevent.require_text("subject.surname", "Smith\u202e", max_len=prevent.MAX_SHORT)
    assert e.value.message == MSG_BIDI
    with pytest.raises(ValidationError, match="must be one line"):
        prevent.optional_text("referrer.name", "A\nB", max_len=prevent.MAX_SHORT)
    assert prevent.require_text("summary", " one\r\ntwo ") == "one\ntwo"
    with pytest.raises(ValidationError, match="control"):
        prevent.require_text("summary", "one\x1b[31m")
    with pytest.raises(ValidationError, match="control"):
        meetings.clean_text("x\x00", "chair", 200)
    with pytest.raises(ValidationError, match="control"):
        prevent.parse_grading("1", "A", "C", "only \x07 here")


def test_nominal_checks() -> None:
    today = date(2026, 6, 1)
    bad = Nominal(surname="Ev\x00ans", forenames="Be\u202ethan", notes="ok\nfine\x1b",
                  aliases=(Alias("If\nans", ""),))
    found = {p.field: p.message for p in validate_nominal(bad, today)}
    assert found["surname"] == MSG_CONTROL
    assert found["forenames"] == MSG_BIDI
    assert found["notes"] == MSG_CONTROL
    assert found["aliases[0].surname"] == MSG_ONE_LINE
    good = Nominal(surname="Evans", forenames="Bethan", notes="line one\nline two")
    assert not [p for p in validate_nominal(good, today) if p.severity.value == "error"]

    record, problems = parse_nominal_json({"surname": "Evans\x07", "notes": "a\nb"})
    assert record is None
    assert [(p.field, p.message) for p in problems] == [("surname", MSG_CONTROL)]
    record, problems = parse_nominal_json({"surname": " Jose\u0301 ", "notes": "a\r\nb"})
    assert problems == [] and record is not None
    assert (record.surname, record.notes) == ("Jos\u00e9", "a\nb")

"""PNC ID parsing, normalisation and check letters (all IDs synthetic)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from app.domain.pnc import Pnc, make_pnc, normalise_pnc, parse_pnc, pnc_check_letter

TODAY = date(2026, 6, 1)
ALPHABET = "ZABCDEFGHJKLMNPQRTUVWXY"

# Expected letters worked out from the rule by hand: the number is YY followed by the serial
# as seven digits, taken modulo 23, indexing ALPHABET.
#   2001 / 123456   -> 010123456 = 10123456;  10123456 = 23 * 440150 + 6  -> ALPHABET[6]  = F
#   1999 / 1234567  -> 991234567;             991234567 = 23 * 43097155 + 2 -> ALPHABET[2] = B
#   2010 / 1        -> 100000001;             100000001 = 23 * 4347826 + 3  -> ALPHABET[3] = C
#   2000 / 0        -> 000000000 = 0                                        -> ALPHABET[0] = Z
#   1985 / 7654321  -> 857654321;             857654321 = 23 * 37289318 + 7 -> ALPHABET[7] = G
HAND_WORKED = [
    (2001, 123456, 10123456, 6, "F"),
    (1999, 1234567, 991234567, 2, "B"),
    (2010, 1, 100000001, 3, "C"),
    (2000, 0, 0, 0, "Z"),
    (1985, 7654321, 857654321, 7, "G"),
]


@pytest.mark.parametrize(("year", "serial", "number", "remainder", "letter"), HAND_WORKED)
def test_check_letter_matches_hand_worked_rule(
    year: int, serial: int, number: int, remainder: int, letter: str
) -> None:
    assert number % 23 == remainder
    assert ALPHABET[remainder] == letter
    assert pnc_check_letter(year, serial) == letter
    assert pnc_check_letter(year % 100, serial) == letter


def test_check_letter_never_uses_i_o_s() -> None:
    letters = {pnc_check_letter(2000 + y, s) for y in range(0, 25) for s in range(0, 500, 7)}
    assert letters <= set(ALPHABET)
    assert not letters & set("IOS")
    assert len(letters) == 23


def test_check_letter_rejects_out_of_range_serial() -> None:
    with pytest.raises(ValueError):
        pnc_check_letter(2001, 10_000_000)
    with pytest.raises(ValueError):
        pnc_check_letter(2001, -1)


@pytest.mark.parametrize(
    "written",
    [
        "2001/0123456F",
        "01/0123456F",
        "01/123456F",
        "2001/123456F",
        "2001/0123456f",
        "01/123456f",
        " 2001 / 0123456 F ",
        "2001/012 3456F",
        "01-123456-F",
        "2001-0123456-F",
        "2001 0123456 F",
        "01 123456 F",
        "010123456F",
        "20010123456F",
        "2001 0123 456F",
    ],
)
def test_written_forms_normalise_to_one(written: str) -> None:
    parsed = parse_pnc(written, today=TODAY)
    assert parsed is not None, written
    assert parsed == Pnc(2001, 123456, "F")
    assert parsed.normalised == "2001/0123456F"
    assert parsed.check_ok
    assert normalise_pnc(written, today=TODAY) == "2001/0123456F"


def test_wrong_check_letter_still_parses_but_is_flagged() -> None:
    parsed = parse_pnc("01/123456A", today=TODAY)
    assert parsed is not None
    assert parsed.normalised == "2001/0123456A"
    assert not parsed.check_ok


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "abc",
        "12345F",  # no year
        "2001/12345678F",  # eight-digit serial
        "2001/0123456",  # no letter
        "01/0123456FF",
        "0112345F",  # no separator and a short serial: year/serial split is ambiguous
        "1899/0123456F",  # before any plausible year
        "2031/0123456F",  # in the future
        "2001/F",
        "x" * 100,
    ],
)
def test_not_a_pnc(bad: str) -> None:
    assert parse_pnc(bad, today=TODAY) is None
    assert normalise_pnc(bad, today=TODAY) is None


@pytest.mark.parametrize(
    ("yy", "year"),
    [("00", 2000), ("05", 2005), ("26", 2026), ("27", 2027), ("28", 1928), ("79", 1979),
     ("99", 1999)],
)
def test_two_digit_year_pivot(yy: str, year: int) -> None:
    # Pivot: up to this year + 1 is 20YY, later is 19YY (TODAY is in 2026).
    parsed = parse_pnc(f"{yy}/1234567A", today=TODAY)
    assert parsed is not None
    assert parsed.year == year


def test_make_pnc_round_trips() -> None:
    for year in (1979, 1999, 2000, 2005, 2024):
        for serial in (0, 1, 42, 123456, 9999999):
            made = make_pnc(year, serial)
            assert len(made) == 13 and made[4] == "/"
            parsed = parse_pnc(made, today=TODAY)
            assert parsed is not None and parsed.check_ok
            assert (parsed.year, parsed.serial) == (year, serial)
            short = f"{year % 100:02d}/{serial}{made[-1].lower()}"
            assert normalise_pnc(short, today=TODAY) == made
    with pytest.raises(ValueError):
        make_pnc(1800, 1)


def test_pnc_is_frozen() -> None:
    pnc = Pnc(2001, 123456, "F")
    with pytest.raises(dataclasses.FrozenInstanceError):
        pnc.year = 2002  # type: ignore[misc]
    assert str(pnc) == "2001/0123456F"

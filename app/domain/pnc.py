"""PNC IDs: parsing any written form, normalising to YYYY/NNNNNNNL and checking the check letter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = [
    "CHECK_LETTERS",
    "Pnc",
    "expand_year",
    "make_pnc",
    "normalise_pnc",
    "parse_pnc",
    "pnc_check_letter",
]

# The letters I, O and S are never used, being too easily read as digits.
CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"

SERIAL_DIGITS = 7
EARLIEST_YEAR = 1900

_SEPARATORS = re.compile(r"[\s\-._/\\]+")
_SLASHED = re.compile(r"^(\d{2}|\d{4})/(\d{1,7})([A-Z])$")
# Separated by something other than a slash: "2001 0123456 A", "01-123456-A".
_SPACED = re.compile(r"^(\d{2}|\d{4})[\s\-._]+(\d{1,7})[\s\-._]*([A-Z])$")
# No separator at all: only unambiguous when the serial is written with all seven digits.
_RUN = re.compile(r"^(\d{2}|\d{4})(\d{7})([A-Z])$")
# The stored form, checked first because stored IDs are parsed in bulk by matching.
_NORMALISED = re.compile(r"(\d{4})/(\d{7})([A-Z])")


@dataclass(frozen=True, slots=True)
class Pnc:
    """A parsed PNC ID. ``check_ok`` is False when the letter does not fit the year and serial."""

    year: int
    serial: int
    letter: str

    @property
    def normalised(self) -> str:
        return f"{self.year:04d}/{self.serial:07d}{self.letter}"

    @property
    def check_ok(self) -> bool:
        return self.letter == pnc_check_letter(self.year, self.serial)

    def __str__(self) -> str:
        return self.normalised


def pnc_check_letter(year: int, serial: int) -> str:
    """The check letter for a year (two or four digits) and serial, by the published rule."""
    if serial < 0 or serial >= 10**SERIAL_DIGITS:
        raise ValueError("PNC serial out of range")
    number = int(f"{year % 100:02d}{serial:07d}")
    return CHECK_LETTERS[number % len(CHECK_LETTERS)]


def expand_year(two_digits: int, today: date | None = None) -> int:
    """Expand a two-digit PNC year: up to this year + 1 means 20YY, anything later 19YY.

    A PNC ID cannot be from the future, so the only slack allowed is one year for a terminal
    clock that is behind. Tying the pivot to the clock keeps "05" meaning 2005 for decades.
    """
    if not 0 <= two_digits <= 99:
        raise ValueError("two-digit year out of range")
    current = (today or date.today()).year
    if two_digits <= (current % 100) + 1:
        return (current // 100) * 100 + two_digits
    return (current // 100 - 1) * 100 + two_digits


def parse_pnc(text: str, *, today: date | None = None) -> Pnc | None:
    """Parse a PNC ID in any usual written form, or None if it is not one.

    Accepts YY/NNNNNNNL and YYYY/NNNNNNNL, a serial with or without leading zeros, any case,
    spaces or dashes anywhere, and a missing slash when the serial has all seven digits. A
    wrong check letter still parses (see ``Pnc.check_ok``) so that it can be shown and warned
    about rather than lost.
    """
    current = (today or date.today()).year
    match = _NORMALISED.fullmatch(text)
    if match is not None:
        year = int(match.group(1))
        if not EARLIEST_YEAR <= year <= current + 1:
            return None
        return Pnc(year=year, serial=int(match.group(2)), letter=match.group(3))
    compact = text.strip().upper()
    if not compact or len(compact) > 40:
        return None
    if "/" in compact:
        left, _, right = compact.partition("/")
        left = _SEPARATORS.sub("", left)
        right = _SEPARATORS.sub("", right)
        match = _SLASHED.match(f"{left}/{right}")
    if match is None:
        match = _SPACED.match(compact)
    if match is None:
        match = _RUN.match(_SEPARATORS.sub("", compact))
    if match is None:
        return None
    year_text, serial_text, letter = match.groups()
    year = expand_year(int(year_text), today) if len(year_text) == 2 else int(year_text)
    if not EARLIEST_YEAR <= year <= current + 1:
        return None
    return Pnc(year=year, serial=int(serial_text), letter=letter)


def normalise_pnc(text: str, *, today: date | None = None) -> str | None:
    """The YYYY/NNNNNNNL form of a PNC ID, or None if the text is not one."""
    parsed = parse_pnc(text, today=today)
    return parsed.normalised if parsed else None


def make_pnc(year: int, serial: int) -> str:
    """A well-formed PNC ID (four-digit year, seven-digit serial, right check letter)."""
    if not EARLIEST_YEAR <= year <= 9999:
        raise ValueError("PNC year out of range")
    return Pnc(year=year, serial=serial, letter=pnc_check_letter(year, serial)).normalised

"""Duplicate and reconciliation scoring of nominal records: blocking keys, pair scores, reasons."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from app.domain.bulk import collector_paused
from app.domain.names import canonical_tokens, fold, name_tokens
from app.domain.pnc import Pnc, parse_pnc

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_BLOCK",
    "CandidateStats",
    "Match",
    "PersonKey",
    "PreparedPerson",
    "blocking_keys",
    "find_candidates",
    "prepare_person",
    "prepared_keys",
    "score_pair",
    "score_prepared",
]

# Chosen on the labelled set in tests/services/test_matching.py: true duplicates of every kind
# there score 0.8 or more (most above 0.9) and the hard non-duplicates 0.22 or less.
# A name-only agreement (same name, no date of birth or identifier on one side) scores about
# 0.73, just under: with 100,000 records such pairs are mostly namesakes.
DEFAULT_THRESHOLD = 0.75

# Largest block compared pairwise (at most 31,125 comparisons per block).
MAX_BLOCK = 250


@dataclass(frozen=True, slots=True)
class PersonKey:
    """What matching needs of one person; ``pnc`` is preferably already normalised."""

    ref: str
    surname: str
    forenames: str
    dob: date | None = None
    pnc: str | None = None
    cro: str | None = None
    # (kind, value) pairs such as ("passport", "123456789"), ("nomis", "A1234BC").
    identifiers: Sequence[tuple[str, str]] = ()
    # (surname, forenames, date of birth) of each alias.
    aliases: Sequence[tuple[str, str, date | None]] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A scored pair: ``score`` in 0..1 and the plain-English reasons for it."""

    a: str
    b: str
    score: float
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CandidateStats:
    """What a candidate search did, for tests and benchmarks (counts, not timings)."""

    people: int = 0
    blocks: int = 0
    comparisons: int = 0
    oversized_blocks: int = 0
    skipped_blocks: int = 0
    largest_block_compared: int = 0


# --- evidence weights (log-odds) -------------------------------------------------------------
# Fellegi-Sunter style: each field adds evidence for or against; the sum goes through a logistic
# function. Agreement on an identifier outweighs any name evidence; disagreement between two
# valid PNC IDs outweighs a perfect name and date of birth (two people, not one).
_BIAS = -4.0
_W_FORENAME = {"same": 2.5, "first": 2.2, "partial": 1.5, "similar": 1.5, "middle": 0.5,
               "initial": 0.0, "different": -3.0}
_W_SURNAME = {"same": 2.5, "first": 2.2, "partial": 1.5, "similar": 1.5, "middle": 0.5,
              "initial": 0.0, "different": -2.5}
_W_SWAPPED = -0.3
_W_DOB = {"same": 3.0, "swapped": 2.0, "digit": 1.5, "transposed": 1.0, "different": -3.5}
_W_PNC_SAME = 6.0
_W_PNC_LETTER = 2.0
_W_PNC_DIFFERENT = -6.0
_W_PNC_DIFFERENT_BAD_CHECK = -2.0
_W_CRO_SAME = 5.0
_W_CRO_DIFFERENT = -3.0
_W_ID_SAME = 5.0
# A person keeps one NOMIS ID for life; passports are renewed and prison numbers change with
# each sentence, so those disagreeing says little.
_W_ID_DIFFERENT = {"nomis": -3.0, "passport": -0.5, "prison_number": 0.0}
_W_ID_DIFFERENT_DEFAULT = -0.5
_ID_LABELS = {"nomis": "NOMIS ID", "passport": "passport number", "prison_number": "prison number"}


# Name analysis is cached (names repeat heavily across a list: every Mohammed Khan), and the
# cached objects compare and hash by identity (eq=False): a pair cache keyed on them then costs
# a pointer hash, not a hash of every field, on each of the ~130,000 comparisons of a scan.
@dataclass(frozen=True, slots=True, eq=False)
class _Part:
    """One name field (surname or forenames) analysed once per distinct text."""

    tokens: tuple[str, ...]
    # Folded tokens as written: an initial is compared with what was written, since the
    # canonical form can change the first letter (Omar -> umar).
    written: tuple[str, ...]
    token_set: frozenset[str]
    joined: str
    joined_written: str
    spaced: str
    folded: str
    text: str


@lru_cache(maxsize=262144)
def _part(text: str) -> _Part:
    tokens = tuple(canonical_tokens(text))
    written = tuple(name_tokens(text))
    return _Part(tokens=tokens, written=written, token_set=frozenset(tokens),
                 joined="".join(tokens), joined_written="".join(written),
                 spaced=" ".join(tokens), folded=fold(text), text=" ".join(text.split()))


@dataclass(frozen=True, slots=True, eq=False)
class _Name:
    surname: _Part
    forenames: _Part
    alias: bool
    # Blocking material, worked out once per distinct name: the prefixes of its name keys
    # ("n:" + an unordered pair of token sounds + ":"), the sounds of its surname and first
    # forename (for date keys), and its two leading sounds (to split oversized date blocks).
    name_prefixes: tuple[str, ...]
    sounds: tuple[str, ...]
    full_sound: str


@dataclass(frozen=True, slots=True)
class _Born:
    """A date of birth with the strings that comparing and blocking use, made once per date."""

    day: date
    digits: str  # YYYYMMDD, for digit comparisons
    year_key: str  # "y" + YYYY
    month_day_key: str  # "m" + MMDD
    # "d:" + YYYYMMDD + ":" of the date, and of its day/month-swapped reading when there is
    # one: the prefixes of its date keys.
    date_prefixes: tuple[str, ...]


@lru_cache(maxsize=65536)
def _born(d: date) -> _Born:
    digits = f"{d.year:04d}{d.month:02d}{d.day:02d}"
    readings = [digits]
    if d.day <= 12 and d.day != d.month:
        readings.append(digits[:4] + digits[6:] + digits[4:6])
    return _Born(d, digits, "y" + digits[:4], "m" + digits[4:],
                 tuple(f"d:{r}:" for r in readings))


# Not frozen: a frozen dataclass pays for object.__setattr__ on every field, and 100,000 of
# these are built per scan.
@dataclass(slots=True)
class PreparedPerson:
    """A person analysed once for blocking and scoring (see prepare_person).

    Callers hold it and pass it back; outside this module only ``ref``, ``pnc`` and ``cro``
    are meant to be read."""

    ref: str
    names: tuple[_Name, ...]
    # (date of birth, from an alias)
    dobs: tuple[tuple[_Born, bool], ...]
    pnc: Pnc | None
    pnc_ok: bool
    pnc_text: str | None
    cro: str | None
    identifiers: dict[str, frozenset[str]]


_NOT_ASCII_ALNUM = re.compile(r"[^0-9A-Z]+")
_NOT_ASCII_ALNUM_OR_SLASH = re.compile(r"[^0-9A-Z/]+")


def _clean_id(value: str) -> str:
    upper = value.upper()
    if upper.isascii():  # the usual case; the same result as the loop, without the loop
        return _NOT_ASCII_ALNUM.sub("", upper)
    return "".join(ch for ch in upper if ch.isalnum())


def _clean_cro(value: str) -> str:
    # CRO numbers are written NNNNNN/YYL with or without leading zeros on the serial.
    upper = value.upper()
    if upper.isascii():
        text = _NOT_ASCII_ALNUM_OR_SLASH.sub("", upper)
    else:
        text = "".join(ch for ch in upper if ch.isalnum() or ch == "/")
    serial, slash, rest = text.partition("/")
    return (serial.lstrip("0") or "0") + slash + rest if slash else text


@lru_cache(maxsize=256)
def _id_kind(kind: str) -> str:
    return kind.strip().lower().replace(" ", "_")


@lru_cache(maxsize=262144)
def _name(surname: str, forenames: str, alias: bool) -> _Name:
    s_part, f_part = _part(surname), _part(forenames)
    pairs, sounds = _name_sounds(s_part.tokens, f_part.tokens)
    codes = _name_codes(s_part.tokens, f_part.tokens)
    # Sorted, so that the keys (and with them the order blocks are met in) never depend on
    # the interpreter's string hashing.
    return _Name(
        surname=s_part,
        forenames=f_part,
        alias=alias,
        name_prefixes=tuple(f"n:{pair}:" for pair in sorted(pairs)),
        sounds=tuple(sorted(sounds)),
        full_sound="|".join(sorted(codes[:2])),
    )


def _prepare(p: PersonKey, today: date | None = None) -> PreparedPerson:
    # Positional arguments throughout: lru_cache keys keyword calls apart (and slower).
    names: tuple[_Name, ...] = (_name(p.surname, p.forenames, False),)
    dobs: tuple[tuple[_Born, bool], ...] = ((_born(p.dob), False),) if p.dob else ()
    if p.aliases:
        for surname, forenames, dob in p.aliases:
            alias = _name(surname or "", forenames or "", True)
            if (alias.surname.tokens or alias.forenames.tokens) and alias not in names:
                names += (alias,)
            if dob and all(dob != born.day for born, _a in dobs):
                dobs += ((_born(dob), True),)
    identifiers: dict[str, frozenset[str]] = {}
    if p.identifiers:
        found: dict[str, set[str]] = {}
        for kind, value in p.identifiers:
            cleaned = _clean_id(value)
            if cleaned:
                found.setdefault(_id_kind(kind), set()).add(cleaned)
        identifiers = {k: frozenset(v) for k, v in found.items()}
    if p.pnc:
        pnc = parse_pnc(p.pnc, today=today)
        pnc_ok = pnc.check_ok if pnc else False
        pnc_text = None if pnc else _clean_id(p.pnc)
    else:
        pnc, pnc_ok, pnc_text = None, False, None
    return PreparedPerson(p.ref, names, dobs, pnc, pnc_ok, pnc_text,
                          (_clean_cro(p.cro) or None) if p.cro else None, identifiers)


def prepare_person(person: PersonKey, today: date | None = None) -> PreparedPerson:
    """Analyse a person once for blocking and scoring (names, dates, identifiers).

    Pass ``today`` when preparing many: it anchors two-digit PNC years, and is otherwise read
    from the clock for each person."""
    return _prepare(person, today)


_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=131072)
def _metaphone(canonical: str) -> str:
    return str(jellyfish.metaphone(canonical)) or canonical


# --- names -----------------------------------------------------------------------------------

# Tokens come from a small vocabulary (a few thousand at 100,000 records), so token pairs
# repeat across the name pairs of a scan: each is worked out once.
@lru_cache(maxsize=262144)
def _token_similarity(x: str, y: str) -> float:
    """Similarity of two canonical tokens, in tiers so that weights stay explainable."""
    if x == y:
        return 1.0
    # A trailing vowel makes the other gender's name (Karim / Karima, Daniel / Daniele), which
    # is how boy-girl twins are often named: never "similar".
    if (x[:-1] == y and x[-1] in _VOWELS) or (y[:-1] == x and y[-1] in _VOWELS):
        return 0.7
    ratio = fuzz.ratio(x, y)
    # Sound alike and mostly spelt alike: Jon / John, Katherine / Catherine. Both conditions,
    # because Metaphone alone merges Hassan and Hussain (twins' names, not one person's).
    if ratio >= 80 and _metaphone(x) == _metaphone(y):
        return 0.92
    # One slip of the keyboard (a letter missed, added, changed or two swapped) in a name long
    # enough that the slip does not make another name: Adam / Adham, Amir / Amin are different.
    if min(len(x), len(y)) >= 5 and OSA.distance(x, y) <= 1:
        return 0.9
    if ratio >= 85 and JaroWinkler.similarity(x, y) >= 0.95:
        return 0.9
    return min(ratio / 100 * 0.8, 0.79)


# Name fields repeat far more than whole names (a few thousand distinct forenames and a few
# hundred surnames at 100,000 records), so the agreement of two fields is cached on the pair.
@lru_cache(maxsize=262144)
def _field(px: _Part, py: _Part, forenames: bool) -> str | None:
    """How two name fields agree: same, first, partial, similar, middle, initial, different."""
    xs, ys = px.tokens, py.tokens
    if not xs or not ys:
        return None
    if xs == ys or px.joined == py.joined:
        return "same"
    sx, sy = px.token_set, py.token_set
    if forenames:
        if xs[0] == ys[0]:
            if len(xs) > 1 and len(ys) > 1 and _token_similarity(xs[1], ys[1]) < 0.9:
                # Brothers are often "Mohammed Ali" and "Mohammed Hassan".
                return "middle"
            return "first"
        if sx <= sy or sy <= sx:
            return "partial"
        xw, yw = px.written, py.written
        if xw and yw and (
            (len(xw[0]) == 1 and yw[0].startswith(xw[0]))
            or (len(yw[0]) == 1 and xw[0].startswith(yw[0]))
        ):
            return "initial"
        # Also as written: a slip can defeat a spelling rule (Garteh loses its final h).
        sim = max(_token_similarity(xs[0], ys[0]),
                  _token_similarity(xw[0], yw[0]) if xw and yw else 0.0)
    else:
        if sx <= sy or sy <= sx:
            return "partial"
        sim = max(
            _token_similarity(px.joined, py.joined),
            _token_similarity(px.joined_written, py.joined_written),
            fuzz.token_sort_ratio(px.spaced, py.spaced) / 100 * 0.9,
        )
    if sim >= 0.9:
        return "similar"
    if sim >= 0.85:
        return "middle"
    return "different"


@dataclass(frozen=True, slots=True)
class _NameResult:
    weight: float
    surname: str | None
    forenames: str | None
    swapped: bool
    x: _Name
    y: _Name


@lru_cache(maxsize=262144)
def _compare_names(x: _Name, y: _Name) -> _NameResult:
    s = _field(x.surname, y.surname, False)
    f = _field(x.forenames, y.forenames, True)
    straight = _W_SURNAME.get(s or "", 0.0) + _W_FORENAME.get(f or "", 0.0)
    best = _NameResult(straight, s, f, False, x, y)
    if x.surname.tokens and x.forenames.tokens and y.surname.tokens and y.forenames.tokens:
        s2 = _field(x.surname, y.forenames, False)
        f2 = _field(x.forenames, y.surname, True)
        swapped = _W_SURNAME.get(s2 or "", 0.0) + _W_FORENAME.get(f2 or "", 0.0) + _W_SWAPPED
        if swapped > straight:
            best = _NameResult(swapped, s2, f2, True, x, y)
    return best


def _field_reason(kind: str | None, plural: str, text_x: str, text_y: str,
                  folded_same: bool) -> str | None:
    if kind is None:
        return None
    if kind == "same":
        if folded_same:
            return "same surname" if plural == "surnames" else "same forenames"
        return f"{plural} {text_x}/{text_y} are transliteration variants"
    if kind == "first":
        return f"same first {plural[:-1]}"
    if kind == "partial":
        return f"{plural} {text_x}/{text_y} share a name"
    if kind == "similar":
        return f"{plural} {text_x}/{text_y} are similar"
    if kind == "middle":
        if plural == "forenames":
            return "same first forename, different middle names"
        return f"{plural} {text_x}/{text_y} are only loosely similar"
    if kind == "initial":
        return "forename initial matches"
    return f"different {plural}"


def _name_reasons(r: _NameResult, ref_x: str, ref_y: str) -> list[str]:
    x, y = r.x, r.y
    reasons: list[str] = []
    ys, yf = (y.forenames, y.surname) if r.swapped else (y.surname, y.forenames)
    if r.swapped:
        reasons.append("forename and surname swapped")
    pairs = (
        (r.surname, "surnames", x.surname.text, ys.text, x.surname.folded == ys.folded),
        (r.forenames, "forenames", x.forenames.text, yf.text, x.forenames.folded == yf.folded),
    )
    for kind, plural, tx, ty, same in pairs:
        text = _field_reason(kind, plural, tx, ty, same)
        if text:
            reasons.append(text)
    if x.alias and y.alias:
        reasons.insert(0, f"matched on aliases of {ref_x} and {ref_y}")
    elif x.alias:
        reasons.insert(0, f"an alias of {ref_x} matches the name of {ref_y}")
    elif y.alias:
        reasons.insert(0, f"an alias of {ref_y} matches the name of {ref_x}")
    return reasons


# --- dates of birth --------------------------------------------------------------------------

_DOB_ORDER = ("same", "swapped", "digit", "transposed", "different")


def _compare_dates(x: _Born, y: _Born) -> int:
    """The rank in _DOB_ORDER of how two dates of birth agree."""
    if x is y or x.digits == y.digits:
        return 0
    d1, d2 = x.day, y.day
    if d1.year == d2.year and d1.day == d2.month and d1.month == d2.day:
        return 1
    s1, s2 = x.digits, y.digits
    diffs = [i for i in range(8) if s1[i] != s2[i]]
    if len(diffs) == 1:
        return 2
    if len(diffs) == 2 and diffs[1] == diffs[0] + 1 and s1[diffs[0]] == s2[diffs[1]] \
            and s1[diffs[1]] == s2[diffs[0]]:
        return 3
    return 4


_DOB_REASONS = {
    "same": "same date of birth",
    "swapped": "dates of birth match with day and month swapped",
    "digit": "dates of birth differ by one digit",
    "transposed": "dates of birth differ by two transposed digits",
    "different": "different dates of birth",
}


def _compare_dobs(a: PreparedPerson, b: PreparedPerson) -> tuple[float, str | None]:
    if not a.dobs or not b.dobs:
        return 0.0, None
    if len(a.dobs) == 1 and len(b.dobs) == 1:  # the usual case
        (x, alias1), (y, alias2) = a.dobs[0], b.dobs[0]
        best = (_compare_dates(x, y), alias1 or alias2)
    else:
        best = min((_compare_dates(x, y), alias1 or alias2)
                   for x, alias1 in a.dobs for y, alias2 in b.dobs)
    kind = _DOB_ORDER[best[0]]
    reason = _DOB_REASONS[kind]
    if best[1] and kind != "different":
        reason += " (an alias's date of birth)"
    return _W_DOB[kind], reason


# --- identifiers -----------------------------------------------------------------------------

def _compare_pnc(a: PreparedPerson, b: PreparedPerson) -> tuple[float, str | None]:
    if a.pnc and b.pnc:
        if a.pnc == b.pnc:
            return _W_PNC_SAME, "PNC identical"
        if a.pnc.year == b.pnc.year and a.pnc.serial == b.pnc.serial:
            return _W_PNC_LETTER, "PNC IDs agree except the check letter"
        if a.pnc_ok and b.pnc_ok:
            return _W_PNC_DIFFERENT, "different PNC IDs"
        return _W_PNC_DIFFERENT_BAD_CHECK, "PNC IDs differ (one fails its check letter)"
    if a.pnc_text and b.pnc_text and a.pnc_text == b.pnc_text:
        return _W_PNC_SAME, "PNC identical"
    return 0.0, None


_NO_REASONS: tuple[str, ...] = ()


def _compare_identifiers(a: PreparedPerson, b: PreparedPerson) -> tuple[float, Sequence[str]]:
    if not (a.cro and b.cro) and not (a.identifiers and b.identifiers):
        return 0.0, _NO_REASONS
    weight = 0.0
    reasons: list[str] = []
    if a.cro and b.cro:
        if a.cro == b.cro:
            weight += _W_CRO_SAME
            reasons.append("CRO number identical")
        else:
            weight += _W_CRO_DIFFERENT
            reasons.append("different CRO numbers")
    for kind in sorted(a.identifiers.keys() & b.identifiers.keys()):
        label = _ID_LABELS.get(kind, kind.replace("_", " "))
        if a.identifiers[kind] & b.identifiers[kind]:
            weight += _W_ID_SAME
            reasons.append(f"{label} identical")
        else:
            w = _W_ID_DIFFERENT.get(kind, _W_ID_DIFFERENT_DEFAULT)
            if w < 0:
                weight += w
                reasons.append(f"different {label}s")
    return weight, reasons


# --- scoring ---------------------------------------------------------------------------------

_MOST_NAME = max(_W_SURNAME.values()) + max(_W_FORENAME.values())
_MOST_DOB = max(_W_DOB.values())


@lru_cache(maxsize=64)
def _least_total(threshold: float) -> float:
    """A total log-odds under which a pair cannot score ``threshold`` (-inf: no such bound).

    Taken for ``threshold`` less 0.0001, so that rounding the score to four places can never
    lift a pair this rules out back up to the threshold."""
    below = threshold - 0.0001
    if below <= 0.0 or threshold >= 1.0:
        return -math.inf
    return math.log(below / (1.0 - below))


def _score(a: PreparedPerson, b: PreparedPerson, threshold: float = 0.0) -> Match | None:
    """The pair's match, or None when it scores under ``threshold`` (reasons are then skipped)."""
    if b.ref < a.ref:
        a, b = b, a
    pnc_weight, pnc_reason = _compare_pnc(a, b)
    id_weight, id_reasons = _compare_identifiers(a, b)
    # Most pairs a scan meets cannot reach the threshold whatever their names say (two valid
    # PNC IDs that disagree outweigh a perfect name and date of birth): weighing the names, the
    # costliest evidence, and the date is then skipped. Pairs that can reach it are scored in
    # full, so no score changes.
    least = _least_total(threshold)
    if _BIAS + pnc_weight + id_weight + _MOST_DOB + _MOST_NAME < least:
        return None
    dob_weight, dob_reason = _compare_dobs(a, b)
    if _BIAS + pnc_weight + id_weight + dob_weight + _MOST_NAME < least:
        return None
    best = _compare_names(a.names[0], b.names[0])
    if len(a.names) > 1 or len(b.names) > 1:
        for x in a.names:
            for y in b.names:
                r = _compare_names(x, y)
                # Prefer the main names on a tie, so reasons do not mention aliases needlessly.
                if r.weight > best.weight:
                    best = r
    total = _BIAS + best.weight + dob_weight + pnc_weight + id_weight
    score = round(1.0 / (1.0 + math.exp(-total)), 4)
    if score < threshold:
        return None
    reasons = _name_reasons(best, a.ref, b.ref)
    reasons.extend(r for r in (dob_reason, pnc_reason) if r)
    reasons.extend(id_reasons)
    return Match(a=a.ref, b=b.ref, score=score, reasons=reasons)


def score_prepared(a: PreparedPerson, b: PreparedPerson, threshold: float = 0.0
                   ) -> Match | None:
    """Score two prepared people (refs sorted a < b); None when under ``threshold``."""
    return _score(a, b, threshold)


def score_pair(a: PersonKey, b: PersonKey) -> Match:
    """Score how likely two records are the same person, with the reasons (refs sorted a < b)."""
    match = _score(_prepare(a), _prepare(b))
    assert match is not None
    return match


# --- blocking --------------------------------------------------------------------------------

# Only the first few tokens of a name go into keys: a long name would otherwise produce
# quadratically many keys for little gain.
_MAX_KEY_TOKENS = 4


def _name_codes(surname: tuple[str, ...], forenames: tuple[str, ...]) -> list[str]:
    tokens = list(dict.fromkeys(surname + forenames))[:_MAX_KEY_TOKENS]
    return [_metaphone(t) for t in tokens]


def _name_sounds(surname: tuple[str, ...], forenames: tuple[str, ...],
                 ) -> tuple[frozenset[str], frozenset[str]]:
    """The name's sound pairs (for name blocks) and single sounds (for date blocks)."""
    codes = _name_codes(surname, forenames)
    pairs: set[str] = set()
    if len(codes) == 1:
        pairs.add(codes[0])
    # Unordered pairs, so surname / forename swaps land in the same block.
    for i, c1 in enumerate(codes):
        for c2 in codes[i + 1:]:
            pairs.add(f"{c1}|{c2}" if c1 <= c2 else f"{c2}|{c1}")
    sound = {_metaphone(t) for t in surname[:2]}
    sound.update(_metaphone(t) for t in forenames[:1])
    return frozenset(pairs), frozenset(sound)


def _keys(p: PreparedPerson) -> set[str]:
    if len(p.names) == 1:
        prefixes, sounds = p.names[0].name_prefixes, p.names[0].sounds
    else:
        prefixes = tuple(dict.fromkeys(k for n in p.names for k in n.name_prefixes))
        sounds = tuple(dict.fromkeys(k for n in p.names for k in n.sounds))
    keys: set[str] = set()
    add = keys.add
    # A name sound alone would make a block of every Mohammed Khan; the year of birth and the
    # day of birth each split it, and a one-digit slip, a transposition or a day/month swap
    # leaves one of the two intact. A record without a date of birth meets only records with
    # none: a name alone scores under the default threshold, and identifiers have own keys.
    for born, _alias in p.dobs:
        year, month_day = born.year_key, born.month_day_key
        for prefix in prefixes:
            add(prefix + year)
            add(prefix + month_day)
        # A date of birth alone would put every 1 January birthday in one block; paired with
        # any one name sound it still finds twins, swaps and heavily misspelt duplicates.
        for day in born.date_prefixes:
            for code in sounds:
                add(day + code)
    if not p.dobs:
        for prefix in prefixes:
            add(prefix + "-")
    if p.pnc:
        # Without the check letter, so that a mistyped letter still meets its twin.
        add(f"p:{p.pnc.year}/{p.pnc.serial:07d}")
    elif p.pnc_text:
        add("p:" + p.pnc_text)
    if p.cro:
        add("c:" + p.cro)
    for kind, values in p.identifiers.items():
        for v in values:
            add(f"i:{kind}:{v}")
    return keys


def prepared_keys(p: PreparedPerson) -> set[str]:
    """The blocking keys of a prepared person (see blocking_keys)."""
    return _keys(p)


def blocking_keys(p: PersonKey) -> set[str]:
    """The keys under which a person is compared: name sounds, dates of birth, identifiers."""
    return _keys(_prepare(p))


def _birth_month(p: PreparedPerson) -> str:
    return p.dobs[0][0].digits[4:6] if p.dobs else "-"


def _birth_decade(p: PreparedPerson) -> str:
    return p.dobs[0][0].digits[:3] if p.dobs else "-"


def _full_sound(p: PreparedPerson) -> str:
    return p.names[0].full_sound


def _sub_blocks(key: str, members: list[int], prepared: list[PreparedPerson],
                max_block: int) -> tuple[list[list[int]], int]:
    """Split an oversized block; returns the parts small enough to compare and a skip count.

    A giant block comes from a very common key (every "Mohammed Khan" born in 1990, every
    1 January birth with the sound of Ali). Comparing it whole is quadratic; dropping it whole
    would lose real duplicates. So name-and-year blocks are split by birth month, name-and-day
    blocks by birth decade and date blocks by the full name sound; a part still too big is
    skipped (and counted in the stats). What that loses is a pair whose only shared key is a
    very common one and who also differ in the splitting field: a common name with a date of
    birth wrong in two places and no shared identifier, which would score low anyway.
    Identifier blocks are never split: an identifier shared by hundreds of records is a data
    fault for the quality checks, not a duplicate.
    """
    by: Callable[[PreparedPerson], str]
    if key.startswith("n:") and ":y" in key:
        by = _birth_month
    elif key.startswith("n:") and ":m" in key:
        by = _birth_decade
    elif key.startswith("d:"):
        by = _full_sound
    else:
        return [], 1
    parts: dict[str, list[int]] = defaultdict(list)
    for i in members:
        parts[by(prepared[i])].append(i)
    kept = [m for m in parts.values() if 2 <= len(m) <= max_block]
    skipped = sum(1 for m in parts.values() if len(m) > max_block)
    return kept, skipped


def find_candidates(
    people: Iterable[PersonKey],
    threshold: float = DEFAULT_THRESHOLD,
    *,
    max_block: int = MAX_BLOCK,
    stats: CandidateStats | None = None,
) -> list[Match]:
    """Likely duplicate pairs scoring at least ``threshold``, best first, each pair once.

    Only records sharing a blocking key are compared, and no block larger than ``max_block``
    is compared whole, so the work grows with the number of records, not its square. Ties are
    ordered by the refs, so the same input always gives the same list.
    """
    with collector_paused():
        return _find_candidates(people, threshold, max_block,
                                stats if stats is not None else CandidateStats())


def _find_candidates(people: Iterable[PersonKey], threshold: float, max_block: int,
                     counts: CandidateStats) -> list[Match]:
    today = date.today()
    prepared = [_prepare(p, today) for p in people]
    # Most keys (nine in ten at 100,000 records) belong to one person only: they are kept as
    # the person's index, and a list is made only when a second person shares the key. A
    # list per key would be 800,000 more objects for the memory and the garbage collector.
    first: dict[str, int] = {}
    blocks: dict[str, list[int]] = {}
    for index, p in enumerate(prepared):
        for key in _keys(p):
            holder = first.setdefault(key, index)
            if holder != index:
                members = blocks.get(key)
                if members is None:
                    blocks[key] = [holder, index]
                else:
                    members.append(index)
    del first
    counts.people = len(prepared)
    seen: set[tuple[int, int]] = set()
    found: list[Match] = []
    # Insertion order is already deterministic for a given input order, and which block first
    # brings a pair together does not change its score, so the blocks need no sorting.
    for key, members in blocks.items():
        counts.blocks += 1
        groups = [members]
        if len(members) > max_block:
            counts.oversized_blocks += 1
            groups, skipped = _sub_blocks(key, members, prepared, max_block)
            counts.skipped_blocks += skipped
        for group in groups:
            counts.largest_block_compared = max(counts.largest_block_compared, len(group))
            for pos, i in enumerate(group):
                for j in group[pos + 1:]:
                    pair = (i, j) if i < j else (j, i)
                    if pair in seen:
                        continue
                    seen.add(pair)
                    counts.comparisons += 1
                    match = _score(prepared[i], prepared[j], threshold)
                    if match is not None:
                        found.append(match)
    found.sort(key=lambda m: (-m.score, m.a, m.b))
    return found

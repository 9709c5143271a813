"""Folding of personal names into keys for matching and search (display keeps what was entered)."""

from __future__ import annotations

import json
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jellyfish

__all__ = [
    "VariantTable",
    "canonical_name",
    "canonical_token",
    "canonical_tokens",
    "fold",
    "is_transliteration_variant",
    "load_variant_table",
    "name_tokens",
    "phonetic_key",
    "search_keys",
    "skeleton",
    "variant_table",
    "variants_path",
]

# Letters that NFKD leaves whole (no combining mark to strip), so they would otherwise vanish.
_SPECIAL_LETTERS: dict[str, str] = {
    "ß": "ss", "ẞ": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
    "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th",
    "ı": "i", "ħ": "h", "Ħ": "h", "ŧ": "t", "Ŧ": "t", "ŋ": "n", "Ŋ": "n", "ĸ": "k", "ſ": "s",
    "ƒ": "f", "ɨ": "i", "ʉ": "u",
}

# Common romanisation of Russian / Ukrainian / Belarusian Cyrillic, so that a name pasted in
# Cyrillic folds to the same letters as its usual Latin spelling instead of to nothing.
_CYRILLIC: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "ye",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "yi", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ў": "u", "ф": "f",
    "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}

# Apostrophes (and the ayn / hamza marks of scholarly Arabic transliteration) join the letters
# either side, so O'Brien = OBrien and Sa'id = Said.
_JOINERS = "'’‘ʼʻ`´ʿʾ′‛"

_TRANSLATE: dict[int, str] = {}
for _k, _v in _SPECIAL_LETTERS.items():
    _TRANSLATE[ord(_k)] = _v
for _k, _v in _CYRILLIC.items():
    _TRANSLATE[ord(_k)] = _v
    _TRANSLATE[ord(_k.upper())] = _v
for _k in _JOINERS:
    _TRANSLATE[ord(_k)] = ""
del _k, _v


def fold(text: str) -> str:
    """Lower-case ASCII with diacritics and punctuation removed and spaces normalised."""
    # Names and identifiers repeat across a list and are folded again for the sort key, the
    # search keys and matching: short strings are folded once (a bulk load of 100,000 nominals
    # spent a tenth of its time here). Long free text is not kept in the cache.
    if len(text) <= _FOLD_CACHE_CHARS:
        return _fold_cached(text)
    return _fold(text)


_FOLD_CACHE_CHARS = 80


@lru_cache(maxsize=65536)
def _fold_cached(text: str) -> str:
    return _fold(text)


_ASCII_JOINERS = str.maketrans("", "", "".join(ch for ch in _JOINERS if ch.isascii()))
_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    if text.isascii():
        # The common case, and the same result as below: NFKD leaves ASCII alone, and the only
        # ASCII characters the translation table touches are the apostrophe joiners.
        return " ".join(_ASCII_SEPARATORS.sub(" ", text.translate(_ASCII_JOINERS).lower()).split())
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLATE))
    out: list[str] = []
    for ch in decomposed:
        if ch.isascii():
            out.append(ch.lower() if ch.isalnum() else " ")
            continue
        category = unicodedata.category(ch)
        # Combining marks (accents) and invisible format characters (soft hyphen, zero-width
        # joiner) belong to the letter next to them: drop them without splitting the word.
        if category in ("Mn", "Mc", "Me", "Cf"):
            continue
        # Any other script (Arabic, CJK, ...) cannot be folded to ASCII reliably; treating it as
        # a separator keeps the Latin parts of a mixed name usable.
        out.append(" ")
    return " ".join("".join(out).split())


# Generic spelling rules, applied in order to a single folded token. Each rule only merges
# spellings that are pronounced alike in the usual transliterations; rules that would merge
# different names (e.g. any vowel for any vowel: Hassan / Hussain, Hamid / Hamad) are absent on
# purpose, and those families live in the data table instead.
_GENERIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ph"), "f"),
    (re.compile(r"q"), "k"),
    (re.compile(r"x"), "ks"),
    # Not at the end of the name, so that Lee does not become Li.
    (re.compile(r"ee(?=[a-z])"), "i"),
    (re.compile(r"oo"), "u"),
    (re.compile(r"ou"), "u"),
    # Slavic surname endings: -ski / -sky / -skiy / -skyi, -cki / -tsky / -tskiy.
    (re.compile(r"(?:ts|tz|c)k(?:iy|yi|ii|yy|y|i)$"), "cki"),
    (re.compile(r"sk(?:iy|yi|ii|yy|y)$"), "ski"),
    (re.compile(r"(?:vitch|vich|vych)$"), "vic"),
    # Cyrillic -ий / -ій endings (Dmitriy, Yurii) and a final consonant + y (Aly, Dmitry).
    (re.compile(r"(?:iy|ii|yi|yy|ij)$"), "i"),
    (re.compile(r"(?<=[^aeiouy])y$"), "i"),
    # Doubled letters are one sound, except a final ee (Lee is not Le).
    (re.compile(r"(?!ee$)([a-z])\1+"), r"\1"),
    # A silent final h after a vowel: Sarah / Sara, Fatimah / Fatima, Abdullah / Abdulla.
    (re.compile(r"(?<=[aeiou])h$"), ""),
)

# "-uddin" compounds: Salahuddin, Salah ud-Din, Salah al-Din, Salaheddine.
_DIN_COMPOUND = re.compile(r"^([a-z]{3,}?)(?:ud|ad|al|ed|el|u|e|a)?d{1,2}(?:in|een|ine|iin)$")
_DIN_SUFFIX = re.compile(r"^(?:ud|ad|al|ed|el|u|e|a)?d{1,2}(?:in|een|ine|iin)$")


def skeleton(token: str) -> str:
    """Apply the generic spelling rules to one folded token (no table look-up)."""
    out = token
    for pattern, replacement in _GENERIC_RULES:
        out = pattern.sub(replacement, out)
    return out


@dataclass(frozen=True)
class VariantTable:
    """The transliteration variant table, ready for look-ups."""

    version: int
    particles: frozenset[str]
    particle_spelling: dict[str, str]
    strippable_prefixes: tuple[str, ...]
    abd_connectors: tuple[str, ...]
    abd_roots: frozenset[str]
    lookup: dict[str, str]
    families: dict[str, tuple[str, ...]]


def variants_path() -> Path:
    """Where the shipped variant table lives (beside the code, or inside a frozen bundle)."""
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else Path(__file__).resolve().parents[2]
    return base / "resources" / "reference" / "name_variants.json"


def load_variant_table(path: Path) -> VariantTable:
    """Read and check a variant table; a malformed table is our bug, so it raises ValueError."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("version"), int):
        raise ValueError("name variant table has no integer version")
    families_raw = raw.get("families")
    if not isinstance(families_raw, dict):
        raise ValueError("name variant table has no families")
    lookup: dict[str, str] = {}
    families: dict[str, tuple[str, ...]] = {}
    for canonical, variants in families_raw.items():
        if not isinstance(canonical, str) or not isinstance(variants, list):
            raise ValueError("name variant family is malformed")
        members = tuple(dict.fromkeys([canonical, *(str(v) for v in variants)]))
        families[canonical] = members
        for variant in members:
            for key in (variant, skeleton(variant)):
                other = lookup.setdefault(key, canonical)
                if other != canonical:
                    raise ValueError(f"name variant families {other!r} and {canonical!r} collide")
    strippable = sorted((str(p) for p in raw.get("strippable_prefixes", [])), key=len, reverse=True)
    connectors = sorted((str(c) for c in raw.get("abd_connectors", [])), key=len, reverse=True)
    table = VariantTable(
        version=raw["version"],
        particles=frozenset(str(p) for p in raw.get("particles", [])),
        particle_spelling={str(k): str(v) for k, v in raw.get("particle_spelling", {}).items()},
        strippable_prefixes=tuple(strippable),
        abd_connectors=tuple(connectors),
        abd_roots=frozenset(),
        lookup=lookup,
        families=families,
    )
    roots = frozenset(_known_or_skeleton(str(r), table) for r in raw.get("abd_roots", []))
    return VariantTable(
        version=table.version,
        particles=table.particles,
        particle_spelling=table.particle_spelling,
        strippable_prefixes=table.strippable_prefixes,
        abd_connectors=table.abd_connectors,
        abd_roots=roots,
        lookup=lookup,
        families=families,
    )


_table_lock = threading.Lock()
_table: VariantTable | None = None


def variant_table() -> VariantTable:
    """The shipped variant table, read on first use and cached (no I/O at import)."""
    global _table
    table = _table
    if table is None:
        with _table_lock:
            if _table is None:
                _table = load_variant_table(variants_path())
            table = _table
    return table


def _known(token: str, table: VariantTable) -> str | None:
    return table.lookup.get(token) or table.lookup.get(skeleton(token))


def _known_or_skeleton(token: str, table: VariantTable) -> str:
    return _known(token, table) or skeleton(token)


def _abd_compound(rest: str, table: VariantTable) -> str | None:
    # "abd" + connector + root, where the connector is spelt a dozen ways (Abdul, Abdel, Abdur,
    # Abd al-, Abdu-): several parses can fit (abd-ur-ahman / abd-u-rahman), so the first one
    # whose root is a known name wins.
    for connector in table.abd_connectors:
        if not rest.startswith(connector):
            continue
        root = rest[len(connector):]
        if len(root) < 2:
            continue
        key = _known_or_skeleton(root, table)
        if key in table.abd_roots:
            return "abdul" + key
    return None


def _canonical(token: str, table: VariantTable) -> str:
    hit = _known(token, table)
    if hit:
        return hit
    if token.startswith("abd"):
        compound = _abd_compound(token[3:], table)
        if compound:
            return compound
    # Al-Hassan / Hassan, bin Yusuf / Yusuf: the article or patronymic is dropped only when what
    # follows is a known name, so that Albert, Alfred or Bingham keep their first letters.
    for prefix in table.strippable_prefixes:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            rest = token[len(prefix):]
            known = _known(rest, table)
            if known:
                return known
            if rest.startswith("abd"):
                compound = _abd_compound(rest[3:], table)
                if compound:
                    return compound
    din = _DIN_COMPOUND.match(token)
    if din:
        return _known_or_skeleton(din.group(1), table) + "udin"
    if token.startswith("mac") and len(token) >= 6 and token[3] not in "aeiou":
        token = "mc" + token[3:]
    return skeleton(token)


@lru_cache(maxsize=131072)
def canonical_token(token: str) -> str:
    """The transliteration-canonical key of one name token (Mohamed -> muhammad)."""
    folded = fold(token).replace(" ", "")
    if not folded:
        return ""
    return _canonical(folded, variant_table())


def name_tokens(text: str) -> list[str]:
    """Folded tokens of a name, with particles joined to the word they belong to.

    "Abdul Rahman" -> ["abdulrahman"], "O Brien" -> ["obrien"], "van der Berg" -> ["vanderberg"],
    "Salah ud-Din" -> ["salahuddin"]. Particle spellings are unified on the way (el -> al,
    ibn -> bin, ab -> ap, mac -> mc) so that joined forms agree.
    """
    table = variant_table()
    out: list[str] = []
    prefix = ""
    for token in fold(text).split():
        if token in table.particles:
            prefix += table.particle_spelling.get(token, token)
            continue
        joined = prefix + token
        prefix = ""
        if out and _DIN_SUFFIX.match(joined):
            out[-1] += joined
            continue
        out.append(joined)
    if prefix:
        # A name that is only a particle (the surname Le, the forename Abdul) is still a name.
        out.append(prefix)
    return out


def canonical_tokens(text: str) -> list[str]:
    """The canonical key of every token of a name, in order."""
    keys = (canonical_token(t) for t in name_tokens(text))
    return [k for k in keys if k]


def canonical_name(text: str) -> str:
    """The whole name as space-separated canonical tokens."""
    return " ".join(canonical_tokens(text))


@lru_cache(maxsize=131072)
def phonetic_key(token: str) -> str:
    """A Metaphone code of the canonical form of one token, for blocking."""
    canonical = canonical_token(token)
    if not canonical:
        return ""
    return str(jellyfish.metaphone(canonical)) or canonical


def is_transliteration_variant(a: str, b: str) -> bool:
    """True when two names are the same name once transliteration and spelling are folded.

    Identical spellings count as variants of themselves; an empty name matches nothing.
    """
    ka, kb = canonical_tokens(a), canonical_tokens(b)
    if not ka or not kb:
        return False
    return ka == kb or "".join(ka) == "".join(kb)


def _unique(items: Iterable[str]) -> list[str]:
    return [k for k in dict.fromkeys(items) if k]


def search_keys(surname: str, forenames: str) -> list[str]:
    """Keys for a full-text index of one name: folded, joined and canonical forms, each once.

    The same person indexed under these keys is found by any folded or canonical form of any
    part of the name, in either order, so the query side only needs ``canonical_token`` and
    ``fold`` on what the user typed.
    """
    keys: list[str] = []
    for part in (surname, forenames):
        raw = fold(part).split()
        joined = name_tokens(part)
        keys.extend(raw)
        keys.extend(joined)
        keys.extend(canonical_token(t) for t in raw)
        keys.extend(canonical_token(t) for t in joined)
        if len(raw) > 1:
            whole = "".join(raw)
            keys.append(whole)
            keys.append(canonical_token(whole))
    return _unique(keys)

"""Protective markings (Government Security Classifications) and the facts every export carries."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from app.domain.errors import ValidationError

_CAVEAT_RE = re.compile(r"[A-Z0-9][A-Z0-9 /\-]{0,39}")


class MarkingLevel(IntEnum):
    """Classification levels in order of restriction (a larger value is more restrictive)."""

    OFFICIAL = 1
    OFFICIAL_SENSITIVE = 2

    @property
    def label(self) -> str:
        return self.name.replace("_", "-")


@dataclass(frozen=True)
class Marking:
    """A level plus optional handling caveats (for example PERSONAL or UK EYES ONLY).

    Caveats are configured text, never record data; they are upper-cased and limited to letters,
    digits, spaces, '/' and '-' so that they are safe in spreadsheet headers and PDF markup.
    """

    level: MarkingLevel = MarkingLevel.OFFICIAL_SENSITIVE
    caveats: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        cleaned: list[str] = []
        for caveat in self.caveats:
            text = " ".join(caveat.split()).upper()
            if not _CAVEAT_RE.fullmatch(text):
                raise ValidationError(
                    "marking caveat",
                    "use up to 40 letters, digits, spaces, '/' or '-', starting with a letter or "
                    "digit",
                )
            if text not in cleaned:
                cleaned.append(text)
        object.__setattr__(self, "caveats", tuple(cleaned))

    @classmethod
    def with_caveat(cls, level: MarkingLevel, caveat: str | None) -> Marking:
        return cls(level, (caveat,) if caveat and caveat.strip() else ())

    @property
    def text(self) -> str:
        """As printed: ``OFFICIAL-SENSITIVE`` or, with a caveat, ``OFFICIAL-SENSITIVE PERSONAL``."""
        return " ".join((self.level.label, *self.caveats))

    def __str__(self) -> str:
        return self.text


DEFAULT_MARKING = Marking(MarkingLevel.OFFICIAL_SENSITIVE)


def parse_marking(text: str) -> Marking:
    """Read a configured marking such as ``OFFICIAL-SENSITIVE PERSONAL`` (case-insensitive)."""
    words = " ".join(text.split()).upper()
    # Longest label first, so that OFFICIAL-SENSITIVE is not read as OFFICIAL + caveat.
    for level in sorted(MarkingLevel, key=lambda lv: len(lv.label), reverse=True):
        if words == level.label or words.startswith(level.label + " "):
            rest = words[len(level.label) :].strip()
            return Marking.with_caveat(level, rest or None)
    raise ValidationError(
        "marking", "must start with OFFICIAL or OFFICIAL-SENSITIVE, optionally followed by a caveat"
    )


def most_restrictive(markings: Iterable[Marking], default: Marking = DEFAULT_MARKING) -> Marking:
    """The marking a document takes from its contents: the highest level and every caveat.

    Caveats restrict handling, so one carried by any part carries over to the whole. With no
    contents the (configured) default applies, which errs on the side of protection.
    """
    items = list(markings)
    if not items:
        return default
    level = max(m.level for m in items)
    caveats: list[str] = []
    for m in items:
        caveats.extend(c for c in m.caveats if c not in caveats)
    return Marking(level, tuple(caveats))


def _default_app_version() -> str:
    from importlib import metadata  # late: only needed when no version is supplied

    try:
        return metadata.version("caseward")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class DocumentInfo:
    """What a return or briefing says about itself, on its cover and in every header and footer.

    ``author`` is the officer producing the document: it is printed on the pages, but never put
    into file metadata. ``generated_at`` may be naive (taken as local time) or aware.
    """

    title: str
    author: str
    generated_at: datetime
    marking: Marking = DEFAULT_MARKING
    period: str | None = None
    app_version: str = field(default_factory=_default_app_version)

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValidationError("title", "a document needs a title")

    @property
    def generated_date_text(self) -> str:
        return self.generated_at.strftime("%d/%m/%Y")

    @property
    def generated_text(self) -> str:
        return self.generated_at.strftime("%d/%m/%Y %H:%M")

"""Sub-command modules of `caseward`; each has `register(subparsers, common)`."""

from __future__ import annotations

from types import ModuleType

from app.commands import (
    engagement,
    exports,
    foundation,
    meetings,
    nominals,
    prevent,
    reconcile,
    retention,
)

# exports registers `export` before engagement, whose fallback `export` then stands aside.
MODULES: list[ModuleType] = [
    foundation, nominals, exports, engagement, prevent, meetings, reconcile, retention,
]

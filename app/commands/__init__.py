"""Sub-command modules of `caseward`; each has `register(subparsers, common)`."""

from __future__ import annotations

from types import ModuleType

from app.commands import engagement, foundation, meetings, nominals, prevent

MODULES: list[ModuleType] = [foundation, nominals, engagement, prevent, meetings]

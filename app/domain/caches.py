"""Forgetting record data held in memoised functions when the vault locks.

Folding, matching and import checks memoise their results with functools.lru_cache for speed
(names repeat heavily across a region's list). Those caches hold names, dates of birth and
identifiers in the process after a lock unless they are emptied, so locking empties every
lru_cache at module level in Caseward's own modules: found by walking them, so a cache added
later is covered without being registered anywhere.
"""

from __future__ import annotations

import sys
from typing import Any

PACKAGES = ("app.",)


def _is_lru(value: Any) -> bool:
    return callable(value) and hasattr(value, "cache_clear") and hasattr(value, "cache_info")


def forget_record_data() -> int:
    """Empty every module-level memo of Caseward's modules; returns how many were emptied."""
    cleared = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(PACKAGES):
            continue
        for value in list(vars(module).values()):
            if _is_lru(value) and getattr(value, "__module__", "") == name:
                value.cache_clear()
                cleared += 1
    return cleared

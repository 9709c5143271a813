"""Locking the vault empties the memoised folding and matching caches (they hold names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.domain import names
from app.domain.caches import forget_record_data
from app.services import matching
from app.services.duplicates import DuplicateService
from app.services.nominals import NominalService
from tests.services.test_nominals_support import as_user, person


def _held() -> int:
    held = 0
    for module in (names, matching):
        for value in vars(module).values():
            if callable(value) and hasattr(value, "cache_info"):
                held += value.cache_info().currsize
    return held


def test_lock_empties_every_name_memo(vault: Any, vault_path: Path, store: Any) -> None:
    coord = as_user(vault, vault_path, store, "carol", "coordinator")
    service = NominalService(coord)
    service.add(person("Zbyszewski", "Marek"))
    service.add(person("Zbyszewsky", "Marek"))
    DuplicateService(coord).scan()
    service.search("zbyszewski")
    assert _held() > 0  # the scan and the search memoised folded names
    coord.lock()
    assert _held() == 0


def test_forget_counts_the_caches_it_empties() -> None:
    names.fold("Łódź Ćwikła")
    assert forget_record_data() >= 3
    assert names._fold_cached.cache_info().currsize == 0

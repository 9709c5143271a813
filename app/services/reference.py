"""Versioned reference data in the vault: shipped lists loaded on first use, replaced by an admin.

Each list (contact frequencies, civil orders, pathways, bank holidays...) ships as
``resources/reference/NAME.json``. The first time a vault needs one, that file is copied into
the ``reference_data`` table; from then on the vault's copy is what counts, so an admin can
replace it (a new version, audited, the old one kept) without touching the installed files.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, ValidationError
from app.domain.roles import Perm
from app.domain.rules import load_reference
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.vault import Vault
from app.store.models import ReferenceData, utcnow

# How each list is checked before it replaces the current one: "module:function" taking the
# JSON object and raising ValidationError (resolved lazily: no imports at import time). Lists
# without an entry are only checked to be an object with a version.
VALIDATORS: dict[str, str] = {
    "contact_frequency": "app.domain.rules:parse_contact_frequency",
    "civil_orders": "app.domain.rules:parse_civil_orders",
    "bank_holidays_ew": "app.domain.rules:parse_bank_holidays",
    "mopi_retention": "app.domain.rules:parse_mopi_retention",
    "pathways": "app.services.engagement:parse_pathways",
    "contact_vocab": "app.services.engagement:parse_contact_vocab",
    "prevent_lists": "app.domain.prevent:parse_prevent_lists",
    "vaf_template": "app.domain.prevent:parse_vaf_template",
    "meeting_types": "app.domain.meetings:parse_meeting_lists",
    "targets": "app.domain.meetings:parse_targets",
}


@dataclass(frozen=True)
class ReferenceVersion:
    """One version of one reference list."""

    name: str
    version: str
    data: dict[str, Any]
    loaded_at: datetime
    loaded_by: str
    current: bool


def _resolve(path: str) -> Callable[[Mapping[str, Any]], object]:
    module, _, func = path.partition(":")
    fn: Callable[[Mapping[str, Any]], object] = getattr(importlib.import_module(module), func)
    return fn


def validate(name: str, data: Any) -> None:
    """Raise ValidationError unless ``data`` is an acceptable version of list ``name``."""
    if not isinstance(data, dict):
        raise ValidationError(name, "a reference list must be a JSON object")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise ValidationError(f"{name}.version", "is missing")
    if name in VALIDATORS:
        _resolve(VALIDATORS[name])(data)


def _row_version(row: ReferenceData) -> ReferenceVersion:
    data = json.loads(row.data)
    return ReferenceVersion(
        name=row.name,
        version=row.version,
        data=data if isinstance(data, dict) else {},
        loaded_at=row.loaded_at,
        loaded_by=row.loaded_by,
        current=bool(row.current),
    )


def _current_row(session: Session, name: str) -> ReferenceData | None:
    return session.scalars(
        select(ReferenceData)
        .where(ReferenceData.name == name, ReferenceData.current == 1)
        .order_by(ReferenceData.id.desc())
        .limit(1)
    ).first()


def stored_current(session: Session, name: str) -> dict[str, Any] | None:
    """The current version of ``name`` if the vault holds one (read-only: never loads it)."""
    row = _current_row(session, name)
    if row is None:
        return None
    data = json.loads(row.data)
    return data if isinstance(data, dict) else None


def current_in(session: Session, vault: Vault, name: str) -> dict[str, Any]:
    """The current version of ``name`` inside the caller's (write) session, loading it if new.

    For services that already hold a write session; a read-only caller uses
    ``ReferenceService.current``.
    """
    row = _current_row(session, name)
    if row is None:
        row = _load_shipped(session, vault, name)
    data = json.loads(row.data)
    if not isinstance(data, dict):
        raise ValidationError(name, "the stored reference list is not a JSON object")
    return data


def _load_shipped(session: Session, vault: Vault, name: str) -> ReferenceData:
    try:
        data = load_reference(name)
    except FileNotFoundError:
        raise NotFound(f"There is no reference list called {name!r}.") from None
    validate(name, data)
    row = ReferenceData(
        name=name,
        version=str(data["version"]),
        data=json.dumps(data, ensure_ascii=False, sort_keys=True),
        loaded_at=utcnow(),
        loaded_by=vault.actor.user,
        current=1,
    )
    session.add(row)
    session.flush()
    vault.audit(
        session,
        Category.COLLECTION,
        "reference.load",
        entity="reference_data",
        ref=name,
        detail={"version": row.version, "source": "shipped"},
    )
    return row


class ReferenceService(Service):
    """Read the current reference lists; let an admin replace one with a new version."""

    def __init__(self, vault: Vault) -> None:
        super().__init__(vault)
        self._cache: dict[str, ReferenceVersion] = {}

    @requires(Perm.SELF)
    def current(self, name: str) -> ReferenceVersion:
        """The current version of list ``name`` (the shipped one, loaded on first use)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        with self.vault.read() as s:
            row = _current_row(s, name)
            found = _row_version(row) if row is not None else None
        if found is None:
            with self.vault.write() as s:
                row = _current_row(s, name) or _load_shipped(s, self.vault, name)
                found = _row_version(row)
        self._cache[name] = found
        return found

    @requires(Perm.SELF)
    def versions(self, name: str) -> list[ReferenceVersion]:
        """Every version of ``name`` held in the vault, newest first."""
        self.current(name)
        with self.vault.read() as s:
            rows = s.scalars(
                select(ReferenceData)
                .where(ReferenceData.name == name)
                .order_by(ReferenceData.id.desc())
            ).all()
            return [_row_version(r) for r in rows]

    @requires(Perm.VAULT_ADMIN)
    def replace(self, name: str, data: dict[str, Any], reason: str) -> ReferenceVersion:
        """Make ``data`` the current version of ``name``; the old one is kept, not deleted."""
        if not reason.strip():
            raise ValidationError("reason", "say why the list is being changed")
        validate(name, data)
        new_version = str(data["version"])
        with self.vault.write() as s:
            old = _current_row(s, name) or _load_shipped(s, self.vault, name)
            known = set(s.scalars(select(ReferenceData.version).where(ReferenceData.name == name)))
            if new_version in known:
                raise ValidationError("version", "that version already exists; give a new one")
            s.execute(update(ReferenceData).where(ReferenceData.name == name).values(current=0))
            row = ReferenceData(
                name=name,
                version=new_version,
                data=json.dumps(data, ensure_ascii=False, sort_keys=True),
                loaded_at=utcnow(),
                loaded_by=self.vault.actor.user,
                current=1,
            )
            s.add(row)
            s.flush()
            self.vault.revision(
                s,
                "reference_data",
                row.id,
                "update",
                {"version": (old.version, new_version)},
                reason=reason,
            )
            self.vault.audit(
                s,
                Category.ALTERATION,
                "reference.replace",
                entity="reference_data",
                ref=name,
                reason=reason,
                detail={"old_version": old.version, "new_version": new_version},
            )
            result = _row_version(row)
        self._cache[name] = result
        return result

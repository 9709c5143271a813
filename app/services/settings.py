"""Vault-wide settings kept in the `setting` table (JSON values): read by anyone, set by admins."""

from __future__ import annotations

import json
from typing import Any

from app.domain.errors import ValidationError
from app.domain.roles import Perm
from app.io.marking import DEFAULT_MARKING, Marking, parse_marking
from app.security.audit import Category
from app.services.base import Service, requires
from app.store.models import Setting, utcnow

EXPORT_MARKING = "export.marking"


class SettingsService(Service):
    """Small typed accessors over the `setting` table; every change is audited as alteration."""

    @requires(Perm.SELF)
    def get(self, key: str, default: Any = None) -> Any:
        """A setting's value, or ``default`` when it was never set or cannot be read."""
        with self.vault.read() as s:
            row = s.get(Setting, key)
            if row is None:
                return default
            try:
                return json.loads(row.value)
            except ValueError:
                return default

    @requires(Perm.VAULT_ADMIN)
    def set(self, key: str, value: Any, reason: str = "") -> None:
        if not key or len(key) > 64:
            raise ValidationError("setting", "needs a name of 1 to 64 characters")
        text = json.dumps(value, ensure_ascii=False)
        with self.vault.write() as s:
            row = s.get(Setting, key)
            old = None if row is None else row.value
            if row is None:
                s.add(Setting(key=key, value=text, updated_at=utcnow(),
                              updated_by=self.vault.actor.user))
            else:
                row.value = text
                row.updated_at = utcnow()
                row.updated_by = self.vault.actor.user
            self.vault.audit(s, Category.ALTERATION, "setting.change", entity="setting",
                             ref=key, reason=reason, detail={"old": old, "new": text})

    # -- typed settings --------------------------------------------------------------------------
    @requires(Perm.SELF)
    def export_marking(self) -> Marking:
        """The protective marking every export carries at least (default OFFICIAL-SENSITIVE).

        A stored value that no longer parses falls back to the default, which errs on the side
        of protection."""
        value = self.get(EXPORT_MARKING)
        if not isinstance(value, str):
            return DEFAULT_MARKING
        try:
            return parse_marking(value)
        except ValidationError:
            return DEFAULT_MARKING

    @requires(Perm.VAULT_ADMIN)
    def set_export_marking(self, text: str, reason: str = "") -> Marking:
        marking = parse_marking(text)
        self.set(EXPORT_MARKING, marking.text, reason)
        return marking

"""Every table of the vault; importing this package registers them all on Base.metadata."""

from app.store.models.base import Base, utcnow
from app.store.models.core import AuditEntry, ReferenceData, Revision, Setting, User, VaultMeta

# Raw DDL the ORM cannot express (FTS5 tables, triggers); the baseline migration replays it.
EXTRA_DDL: list[str] = []

__all__ = [
    "EXTRA_DDL",
    "AuditEntry",
    "Base",
    "ReferenceData",
    "Revision",
    "Setting",
    "User",
    "VaultMeta",
    "utcnow",
]

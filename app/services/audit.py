"""Reading and proving the audit log: filtered pages for the Audit view, and chain verification."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select, text

from app.domain.roles import Perm
from app.security.audit import Category, ChainRow, VerifyResult, verify_chain
from app.services.base import Service, requires
from app.store.models import AuditEntry


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    user: str
    category: str
    action: str
    entity: str
    ref: str
    reason: str
    recipient: str
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="seconds") + "Z",
            "user": self.user,
            "category": self.category,
            "action": self.action,
            "entity": self.entity,
            "ref": self.ref,
            "reason": self.reason,
            "recipient": self.recipient,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class AuditFilter:
    since: date | None = None
    until: date | None = None
    user: str = ""
    category: str = ""
    text: str = ""


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    rows: int
    first_bad: int | None
    problem: str
    keyfile_trusted: bool

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "first_bad": self.first_bad}


def _record(row: AuditEntry) -> AuditRecord:
    try:
        detail = json.loads(row.detail) if row.detail else {}
    except ValueError:
        detail = {"unreadable": True}
    return AuditRecord(
        id=row.id,
        at=row.at,
        user=row.user,
        category=row.category,
        action=row.action,
        entity=row.entity,
        ref=row.ref,
        reason=row.reason,
        recipient=row.recipient,
        detail=detail,
    )


class AuditService(Service):
    CATEGORIES = tuple(c.value for c in Category)

    def _filtered(self, flt: AuditFilter) -> Any:
        stmt = select(AuditEntry)
        if flt.since:
            stmt = stmt.where(AuditEntry.at >= datetime.combine(flt.since, time.min))
        if flt.until:
            stmt = stmt.where(AuditEntry.at <= datetime.combine(flt.until, time.max))
        if flt.user:
            stmt = stmt.where(AuditEntry.user == flt.user)
        if flt.category:
            stmt = stmt.where(AuditEntry.category == flt.category)
        if flt.text:
            like = f"%{flt.text.replace('%', '').replace('_', '')}%"
            stmt = stmt.where(
                AuditEntry.action.like(like)
                | AuditEntry.ref.like(like)
                | AuditEntry.reason.like(like)
                | AuditEntry.recipient.like(like)
            )
        return stmt

    @requires(Perm.AUDIT_READ)
    def count(self, flt: AuditFilter = AuditFilter()) -> int:
        with self.vault.read() as s:
            sub = self._filtered(flt).subquery()
            return int(s.scalar(select(func.count()).select_from(sub)) or 0)

    @requires(Perm.AUDIT_READ)
    def page(
        self, flt: AuditFilter = AuditFilter(), offset: int = 0, limit: int = 200,
        newest_first: bool = True, after_id: int | None = None,
    ) -> list[AuditRecord]:
        """A page of rows in id order. `after_id` continues past a row already shown (keyset
        paging: as cheap at the millionth row as at the first, and rows written meanwhile do
        not shift the page); `offset` is kept for callers that jump."""
        order = AuditEntry.id.desc() if newest_first else AuditEntry.id.asc()
        stmt = self._filtered(flt)
        if after_id is not None:
            stmt = stmt.where(AuditEntry.id < after_id if newest_first
                              else AuditEntry.id > after_id)
        with self.vault.read() as s:
            rows = s.scalars(stmt.order_by(order).offset(offset).limit(limit))
            return [_record(r) for r in rows]

    @requires(Perm.AUDIT_READ)
    def users(self) -> list[str]:
        with self.vault.read() as s:
            return [u for (u,) in s.execute(select(AuditEntry.user).distinct().order_by(
                AuditEntry.user))]

    @requires(Perm.EXPORT)
    def disclosures(self, limit: int = 500) -> list[AuditRecord]:
        """Past exports and prints (for the Returns area), newest first."""
        with self.vault.read() as s:
            rows = s.scalars(
                select(AuditEntry)
                .where(AuditEntry.category == Category.DISCLOSURE.value)
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            )
            return [_record(r) for r in rows]

    @requires(Perm.AUDIT_READ)
    def verify(
        self, progress: Callable[[int, int], None] | None = None
    ) -> AuditVerification:
        """Check every page of the file, recompute every link of the chain, and check the key
        file's checkpoint (read from disk: another process may have moved it on)."""
        from sqlalchemy.exc import DatabaseError

        from app.paths import keyfile_path
        from app.security import keyfile

        pages = self.vault.integrity_check()
        key = self.vault.integrity_key
        kpath = keyfile_path(self.vault.path)
        with keyfile.locked(kpath):
            kf = keyfile.load(kpath)
        trusted = kf.vault_id == self.vault.keyfile.vault_id and kf.verify(self.vault.data_key)
        try:
            result = self._verify_chain(key, kf.audit_count, kf.audit_head, progress)
        except DatabaseError:
            # A page so damaged that its rows cannot be read: that is the finding, not a bug.
            result = VerifyResult(False, 0, None, "audit rows could not be read")
            if not pages:
                pages = ["unreadable audit pages"]
        ok = result.ok and trusted and not pages
        problem = result.problem
        first_bad = result.first_bad
        if pages:
            problem = (
                f"the vault file has damaged pages ({len(pages)} problems found); restore it "
                "from a backup"
            ) + (f"; {problem}" if problem and not result.ok else "")
        elif result.ok and not trusted:
            problem = "the key file's audit checkpoint fails its integrity check"
            first_bad = None
        return AuditVerification(ok, result.rows, first_bad, problem, trusted)

    def _verify_chain(
        self,
        key: bytes,
        checkpoint_count: int,
        checkpoint_head: str,
        progress: Callable[[int, int], None] | None,
    ) -> VerifyResult:
        with self.vault.read() as s:
            total = int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)
            conn = s.connection()

            def rows() -> Iterator[ChainRow]:
                last_id = 0
                done = 0
                while True:
                    batch = conn.execute(
                        text(
                            "SELECT id, at, user, category, action, entity, ref, reason, "
                            "recipient, detail, prev_hash, hash FROM audit_entry "
                            "WHERE id > :last ORDER BY id LIMIT 5000"
                        ),
                        {"last": last_id},
                    ).all()
                    if not batch:
                        return
                    for r in batch:
                        at = r[1] if isinstance(r[1], datetime) else datetime.fromisoformat(r[1])
                        yield ChainRow(r[0], at, *r[2:])
                    last_id = batch[-1][0]
                    done += len(batch)
                    if progress:
                        progress(done, total)

            return verify_chain(key, rows(), checkpoint_count, checkpoint_head)

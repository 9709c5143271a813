"""Synthetic audit history for scale tests: years of consultation and alteration rows (invented).

A real vault that has been used for ten years holds about a million audit rows; the benchmarks
need one without a decade of clicking. The rows are real links of the hash chain (each keyed
hash covers the previous one), so `audit verify` checks them like any other, and they go in
with one executemany per batch rather than one ORM object each. Off by default: `generate_demo`
writes them only when asked for (``audit_rows``)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from app.domain.nominal import format_ref
from app.security.audit import GENESIS, Category, row_hash
from app.store.models import AuditEntry

if TYPE_CHECKING:
    from app.services.demo import DemoContext

BATCH = 20_000
YEARS = 10

# (category, action, weight): what ten years of use mostly looks like.
_EVENTS: tuple[tuple[Category, str, int], ...] = (
    (Category.CONSULTATION, "nominal.open", 70),
    (Category.ALTERATION, "nominal.update", 12),
    (Category.COLLECTION, "contact.add", 10),
    (Category.CONSULTATION, "calendar.view", 4),
    (Category.DISCLOSURE, "export.headcount", 2),
    (Category.SECURITY, "vault.unlock", 2),
)


def generate_audit_history(ctx: DemoContext, rows: int) -> int:
    """Append `rows` chained audit rows spread over the last ten years; returns rows made."""
    if rows <= 0:
        return 0
    s = ctx.session
    rng = random.Random(ctx.seed * 7919 + 17)  # its own stream: other steps' data is unchanged
    key = ctx.vault.integrity_key
    tail = s.info.get("audit_tail")
    if tail is None:
        last = s.execute(
            select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        ).first()
        tail = (int(last[0]), str(last[1])) if last else (0, GENESIS)
    next_id, prev = int(tail[0]) + 1, str(tail[1])
    nominal_ids: Sequence[int] = ctx.made.get("nominal_ids") or []
    users = ["coordinator.demo", "analyst.demo", "viewer.demo", ctx.vault.actor.user]
    events = [(str(c), a) for c, a, _w in _EVENTS]
    weights = [w for _c, _a, w in _EVENTS]
    start = ctx.now - timedelta(days=365 * YEARS)
    step = (ctx.now - start) / rows
    conn = s.connection()
    batch: list[dict[str, Any]] = []
    empty = json.dumps({})
    for n in range(rows):
        at = start + step * n
        category, action = rng.choices(events, weights)[0]
        ref = format_ref(rng.choice(nominal_ids)) if nominal_ids and action != "vault.unlock" \
            else ""
        entity = "nominal" if ref else ""
        user = users[n % len(users)]
        digest = row_hash(key, id=next_id, at=at, user=user, category=category, action=action,
                          entity=entity, ref=ref, reason="", recipient="", detail=empty,
                          prev_hash=prev)
        batch.append({"id": next_id, "at": at, "user": user, "category": category,
                      "action": action, "entity": entity, "ref": ref, "reason": "",
                      "recipient": "", "detail": empty, "prev_hash": prev, "hash": digest})
        prev = digest
        next_id += 1
        if len(batch) >= BATCH:
            conn.execute(insert(AuditEntry), batch)
            batch = []
            ctx.report("audit", n + 1, rows)
    if batch:
        conn.execute(insert(AuditEntry), batch)
    s.info["audit_tail"] = (next_id - 1, prev)
    ctx.report("audit", rows, rows)
    return rows

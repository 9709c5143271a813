"""The audit log's hash chain: how each row's keyed hash is computed and how a chain is checked."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.security import crypto

GENESIS = "0" * 64


class Category(StrEnum):
    """DPA 2018 s.62 processing operations, plus security events (sign-in, keys, users)."""

    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"
    SECURITY = "security"


@dataclass(frozen=True)
class ChainRow:
    id: int
    at: datetime
    user: str
    category: str
    action: str
    entity: str
    ref: str
    reason: str
    recipient: str
    detail: str
    prev_hash: str
    hash: str


def row_hash(
    key: bytes,
    *,
    id: int,
    at: datetime,
    user: str,
    category: str,
    action: str,
    entity: str,
    ref: str,
    reason: str,
    recipient: str,
    detail: str,
    prev_hash: str,
) -> str:
    # The id is covered so that reordering or renumbering rows breaks the chain.
    body = json.dumps(
        [id, at.isoformat(timespec="microseconds"), user, category, action, entity, ref,
         reason, recipient, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return crypto.mac(key, (prev_hash + "|" + body).encode("utf-8"))


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    first_bad: int | None
    problem: str = ""


def verify_chain(
    key: bytes, rows: Iterable[ChainRow], checkpoint_count: int, checkpoint_head: str
) -> VerifyResult:
    """Check every link, the ids' continuity, and the checkpoint kept in the key file."""
    prev = GENESIS
    expected_id = 1
    count = 0
    checkpoint_seen = checkpoint_count == 0
    for row in rows:
        count += 1
        if row.id != expected_id:
            return VerifyResult(False, count, row.id, f"row {expected_id} is missing or moved")
        if row.prev_hash != prev:
            return VerifyResult(False, count, row.id, "link to the previous row is broken")
        recomputed = row_hash(
            key,
            id=row.id,
            at=row.at,
            user=row.user,
            category=row.category,
            action=row.action,
            entity=row.entity,
            ref=row.ref,
            reason=row.reason,
            recipient=row.recipient,
            detail=row.detail,
            prev_hash=row.prev_hash,
        )
        if recomputed != row.hash:
            return VerifyResult(False, count, row.id, "row content was altered")
        if row.id == checkpoint_count:
            if row.hash != checkpoint_head:
                return VerifyResult(False, count, row.id, "row differs from the key file's record")
            checkpoint_seen = True
        prev = row.hash
        expected_id += 1
    if not checkpoint_seen:
        return VerifyResult(
            False,
            count,
            count + 1,
            f"log was truncated: the key file records {checkpoint_count} rows, {count} remain",
        )
    return VerifyResult(True, count, None)

"""The append-only, hash-chained audit log.

Each entry stores the previous entry's hash; its own hash is sha256 over a canonical JSON
(sorted keys, no spaces, UTF-8) of {seq, at, actor, action, object_type, object_id, details,
prev_hash}. Altering, deleting or reordering any entry breaks the chain, which
`verify_audit` reports. Writers are serialised (an advisory lock on PostgreSQL, the write
lock on SQLite) and `prev_hash` is unique, so the chain can never fork.

    with store.engine.begin() as conn:
        append_audit(conn, "j.smith", "case.open", "case", "CASE-000001", {"subject": "X"})
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import IntegrityError

from camsweep.errors import StoreError
from camsweep.store import Store
from camsweep.store.models import AuditLog

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x63616D73  # "cams"


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def _json_native(details: Any) -> dict[str, Any]:
    """Details as they will read back from a JSON column (dates become ISO strings)."""
    value = json.loads(json.dumps(details or {}, default=str, ensure_ascii=False))
    if not isinstance(value, dict):
        raise StoreError("audit details must be a JSON object")
    return value


def canonical(seq: int, at: datetime, actor: str, action: str, object_type: str,
              object_id: str, details: dict[str, Any], prev_hash: str) -> bytes:
    entry = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
        "prev_hash": prev_hash,
    }
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(seq: int, at: datetime, actor: str, action: str, object_type: str,
               object_id: str, details: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(
        canonical(seq, at, actor, action, object_type, object_id, details, prev_hash)
    ).hexdigest()


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        # Any UPDATE takes SQLite's write lock until commit, so the head read below is final.
        conn.execute(text("UPDATE audit_log SET seq = seq WHERE seq = -1"))


def append_audit(conn: Connection, actor: str, action: str, object_type: str, object_id: str,
                 details: dict[str, Any] | None = None, *, at: datetime | None = None
                 ) -> AuditEntry:
    """Append one entry inside the caller's transaction (commit with the change it records)."""
    if not actor or not actor.strip():
        raise StoreError("an audit entry needs an actor (--actor NAME or CAMSWEEP_ACTOR)")
    _lock(conn)
    head = conn.execute(
        select(AuditLog.seq, AuditLog.hash).order_by(AuditLog.seq.desc()).limit(1)
    ).first()
    seq = head.seq + 1 if head else 1
    prev = head.hash if head else GENESIS
    when = (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    native = _json_native(details)
    digest = entry_hash(seq, when, actor, action, object_type, object_id, native, prev)
    try:
        conn.execute(insert(AuditLog).values(
            seq=seq, at=when, actor=actor, action=action, object_type=object_type,
            object_id=object_id, details=native, prev_hash=prev, hash=digest,
        ))
    except IntegrityError as exc:  # another writer took this place in the chain
        raise StoreError("the audit log moved on during this change; run the command again") \
            from exc
    return AuditEntry(seq, when, actor, action, object_type, object_id, native, prev, digest)


def iter_audit(store: Store, object_type: str | None = None, object_id: str | None = None
               ) -> Iterator[AuditEntry]:
    query = select(AuditLog).order_by(AuditLog.seq)
    if object_type is not None:
        query = query.where(AuditLog.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditLog.object_id == object_id)
    with store.session() as session:
        for row in session.scalars(query):
            yield AuditEntry(row.seq, row.at, row.actor, row.action, row.object_type,
                             row.object_id, dict(row.details), row.prev_hash, row.hash)


def verify_audit(store: Store, expect_head: str | None = None) -> list[str]:
    """Every problem in the chain, in order; an empty list means intact.

    `expect_head`: a head hash recorded elsewhere earlier; it must still be in the chain
    (catches a truncated tail, which a chain alone cannot show).
    """
    problems: list[str] = []
    prev_hash = GENESIS
    expected_seq = 1
    seen_head = expect_head is None
    for entry in iter_audit(store):
        if entry.seq != expected_seq:
            problems.append(f"seq {expected_seq}..{entry.seq - 1} missing (entries deleted)"
                            if entry.seq > expected_seq else
                            f"seq {entry.seq} out of order")
        if entry.prev_hash != prev_hash:
            problems.append(f"seq {entry.seq}: prev_hash does not match the entry before it "
                            "(an entry was removed, inserted or altered)")
        again = entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.object_type,
                           entry.object_id, entry.details, entry.prev_hash)
        if again != entry.hash:
            problems.append(f"seq {entry.seq}: content does not match its hash (entry altered)")
        if entry.hash == expect_head:
            seen_head = True
        prev_hash = entry.hash
        expected_seq = entry.seq + 1
    if not seen_head:
        problems.append(f"head {expect_head} recorded earlier is no longer in the chain "
                        "(entries were truncated or the log was rebuilt)")
    return problems


def head(store: Store) -> AuditEntry | None:
    with store.session() as session:
        row = session.scalars(select(AuditLog).order_by(AuditLog.seq.desc()).limit(1)).first()
        if row is None:
            return None
        return AuditEntry(row.seq, row.at, row.actor, row.action, row.object_type,
                          row.object_id, dict(row.details), row.prev_hash, row.hash)

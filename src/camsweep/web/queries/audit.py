"""The audit log, newest first, in pages (it grows with every sign-in)."""

from __future__ import annotations

from sqlalchemy import func, select

from camsweep.store import Store
from camsweep.store.models import AuditLog
from camsweep.track.audit import AuditEntry
from camsweep.web.queries.paging import Page, Paging


def audit_page(store: Store, paging: Paging, *, object_type: str | None = None,
               actor: str | None = None, action: str | None = None) -> Page[AuditEntry]:
    stmt = select(AuditLog)
    if object_type:
        stmt = stmt.where(AuditLog.object_type == object_type)
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    with store.session() as s:
        total = int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = s.scalars(stmt.order_by(AuditLog.seq.desc()).limit(paging.per_page)
                         .offset(paging.offset)).all()
        items = [AuditEntry(r.seq, r.at, r.actor, r.action, r.object_type, r.object_id,
                            dict(r.details), r.prev_hash, r.hash) for r in rows]
    return Page(items, total, paging.page, paging.per_page)


def object_types(store: Store) -> list[str]:
    with store.session() as s:
        return sorted(str(t) for t in s.scalars(select(AuditLog.object_type).distinct()))

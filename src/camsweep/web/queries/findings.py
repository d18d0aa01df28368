"""Findings with their reason chains, scoped and paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.web.queries.paging import Page, Paging
from camsweep.web.queries.scope import scoped
from camsweep.web.roles import Principal


@dataclass(frozen=True)
class FindingFilter:
    status: str | None = "open"
    action: str | None = None
    policy: str | None = None
    site_id: str | None = None
    asset_id: str | None = None


@dataclass(frozen=True)
class FindingRow:
    asset_id: str | None
    site_id: str | None
    policy: str
    policy_version: str
    rule: str
    action: str
    deadline: date | None
    priority: int
    status: str
    reasons: list[Any]


def _filtered(principal: Principal, f: FindingFilter) -> Any:
    stmt = select(m.Finding.id).outerjoin(m.Site, m.Finding.site_pk == m.Site.id)
    if f.status:
        stmt = stmt.where(m.Finding.status == f.status)
    if f.action:
        stmt = stmt.where(m.Finding.action == f.action)
    if f.policy:
        stmt = stmt.where(m.Finding.policy_id == f.policy)
    if f.site_id:
        stmt = stmt.where(m.Site.site_id == f.site_id)
    if f.asset_id:
        stmt = stmt.where(m.Finding.asset_id == f.asset_id)
    return scoped(stmt, principal, m.Finding.site_pk)


def list_findings(store: Store, principal: Principal, f: FindingFilter, paging: Paging
                  ) -> Page[FindingRow]:
    base = _filtered(principal, f)
    with store.session() as s:
        total = int(s.scalar(select(func.count()).select_from(base.subquery())) or 0)
        ids = list(s.scalars(base.order_by(m.Finding.priority, m.Finding.deadline,
                                           m.Finding.id)
                             .limit(paging.per_page).offset(paging.offset)))
        rows = s.execute(
            select(m.Finding, m.Site.site_id).outerjoin(m.Site, m.Finding.site_pk == m.Site.id)
            .where(m.Finding.id.in_(ids))).all() if ids else []
    order = {pk: i for i, pk in enumerate(ids)}
    rows = sorted(rows, key=lambda r: order[r[0].id])
    return Page([FindingRow(f.asset_id, site, f.policy_id, f.policy_version, f.rule, f.action,
                            f.deadline, f.priority, f.status, list(f.reasons or []))
                 for f, site in rows], total, paging.page, paging.per_page)


def policies(store: Store) -> list[str]:
    with store.session() as s:
        return sorted(str(p) for p in s.scalars(select(m.Finding.policy_id).distinct()))

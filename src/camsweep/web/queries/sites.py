"""Sites: list with counts, and one site with its estate broken down."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, or_, select

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.web.queries.paging import Page, Paging
from camsweep.web.queries.scope import scoped
from camsweep.web.queries.text import contains
from camsweep.web.roles import Principal


@dataclass(frozen=True)
class SiteRow:
    site_id: str
    name: str
    department: str
    region: str
    sensitivity: str
    postcode: str | None
    devices: int
    restricted: int


@dataclass(frozen=True)
class SiteFilter:
    q: str | None = None
    region: str | None = None
    sensitivity: str | None = None


def _base(principal: Principal, f: SiteFilter, dialect: str) -> Any:
    stmt = select(m.Site.id).join(m.Department, m.Site.department_id == m.Department.id)
    if f.q:
        stmt = stmt.where(or_(*(contains(col, f.q, dialect)
                                for col in (m.Site.site_id, m.Site.name, m.Site.postcode))))
    if f.region:
        stmt = stmt.where(m.Site.region == f.region)
    if f.sensitivity:
        stmt = stmt.where(m.Site.sensitivity == f.sensitivity)
    return scoped(stmt, principal, m.Site.id)


def _rows(s: Any, pks: list[int]) -> list[SiteRow]:
    if not pks:
        return []
    counts = {
        pk: (int(n), int(r or 0)) for pk, n, r in s.execute(
            select(m.Device.site_pk, func.count(m.Device.id),
                   func.sum(func.cast(m.Device.restricted.is_(True), m.Device.id.type)))
            .where(m.Device.site_pk.in_(pks)).group_by(m.Device.site_pk)).all()}
    rows = s.execute(
        select(m.Site.id, m.Site.site_id, m.Site.name, m.Department.name, m.Site.region,
               m.Site.sensitivity, m.Site.postcode)
        .join(m.Department, m.Site.department_id == m.Department.id)
        .where(m.Site.id.in_(pks)).order_by(m.Site.site_id)).all()
    return [SiteRow(r[1], r[2], r[3], r[4], r[5], r[6], *counts.get(r[0], (0, 0)))
            for r in rows]


def list_sites(store: Store, principal: Principal, f: SiteFilter, paging: Paging
               ) -> Page[SiteRow]:
    base = _base(principal, f, store.dialect)
    with store.session() as s:
        total = int(s.scalar(select(func.count()).select_from(base.subquery())) or 0)
        pks = list(s.scalars(base.order_by(m.Site.site_id).limit(paging.per_page)
                             .offset(paging.offset)))
        return Page(_rows(s, pks), total, paging.page, paging.per_page)


def regions(store: Store, principal: Principal) -> list[str]:
    with store.session() as s:
        stmt = scoped(select(m.Site.region).distinct(), principal, m.Site.id)
        return sorted(r for r in s.scalars(stmt) if r)


@dataclass(frozen=True)
class SiteDetail(SiteRow):
    by_maker: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)
    open_removals: int = 0


def get_site(store: Store, principal: Principal, site_id: str) -> SiteDetail | None:
    """One site, or None when it does not exist or is another department's (same answer)."""
    with store.session() as s:
        pk = s.scalar(scoped(select(m.Site.id).where(m.Site.site_id == site_id), principal,
                             m.Site.id))
        if pk is None:
            return None
        site = _rows(s, [pk])[0]

        def grouped(col: Any, blank: str) -> dict[str, int]:
            rows = s.execute(select(col, func.count(m.Device.id)).select_from(m.Device)
                             .outerjoin(m.DeviceStatus, m.DeviceStatus.device_pk == m.Device.id)
                             .where(m.Device.site_pk == pk).group_by(col)).all()
            counts = Counter[str]()
            for key, n in rows:
                counts[str(key) if key is not None else blank] += int(n)
            return dict(counts.most_common())

        open_removals = int(s.scalar(
            select(func.count(m.Finding.id)).where(m.Finding.site_pk == pk,
                                                   m.Finding.status == "open",
                                                   m.Finding.action == "remove")) or 0)
        return SiteDetail(**asdict(site), by_maker=grouped(m.Device.manufacturer_id,
                                                           "(undetermined)"),
                          by_status=grouped(m.DeviceStatus.status, "unassessed"),
                          by_type=grouped(m.Device.device_type, "(unknown)"),
                          open_removals=open_removals)

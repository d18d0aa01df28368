"""Scan runs and what they saw: scans and passive imports, scoped through the devices they
touched (a scan belongs to the network, not a department, so a department sees the runs
that saw its devices, and only those hosts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, or_, select

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.web.queries.paging import Page, Paging
from camsweep.web.queries.scope import scoped
from camsweep.web.roles import Principal

REGISTER_KINDS = ("sites", "assets")


@dataclass(frozen=True)
class ScanRow:
    id: int
    kind: str
    name: str
    started_at: datetime
    finished_at: datetime | None
    hosts: int
    answering: int
    devices: int


@dataclass(frozen=True)
class HostRow:
    ip: str | None
    state: str
    answers: int
    asset_id: str | None
    site_id: str | None
    manufacturer_id: str | None
    finished_at: datetime | None


def _visible_devices(principal: Principal) -> Any:
    return scoped(select(m.Device.id), principal, m.Device.site_pk)


def _visible_scans(principal: Principal) -> Any:
    base = select(m.Source.id).where(m.Source.kind.not_in(REGISTER_KINDS))
    if principal.central:
        return base
    mine = _visible_devices(principal)
    return base.where(or_(
        m.Source.id.in_(select(m.ScanHost.source_id).where(m.ScanHost.device_pk.in_(mine))),
        m.Source.id.in_(select(m.Observation.source_id).where(m.Observation.device_pk.in_(mine)))))


def _scan_row(s: Any, src: m.Source, principal: Principal) -> ScanRow:
    hosts = select(m.ScanHost).where(m.ScanHost.source_id == src.id)
    observed = select(m.Observation.device_pk).where(m.Observation.source_id == src.id)
    if not principal.central:
        hosts = hosts.where(m.ScanHost.device_pk.in_(_visible_devices(principal)))
        observed = observed.where(m.Observation.device_pk.in_(_visible_devices(principal)))
    sub = hosts.subquery()
    n_hosts, n_answering = s.execute(select(func.count(), func.coalesce(
        func.sum(func.cast(sub.c.answers > 0, m.ScanHost.id.type)), 0))).one()
    n_devices = s.scalar(select(func.count(func.distinct(observed.subquery().c.device_pk))))
    return ScanRow(src.id, src.kind, PurePath(src.name).name or src.name, src.started_at,
                   src.finished_at, int(n_hosts), int(n_answering), int(n_devices or 0))


def list_scans(store: Store, principal: Principal, paging: Paging) -> Page[ScanRow]:
    base = _visible_scans(principal)
    with store.session() as s:
        total = int(s.scalar(select(func.count()).select_from(base.subquery())) or 0)
        ids = list(s.scalars(base.order_by(m.Source.id.desc()).limit(paging.per_page)
                             .offset(paging.offset)))
        sources = s.scalars(select(m.Source).where(m.Source.id.in_(ids))
                            .order_by(m.Source.id.desc())).all() if ids else []
        rows = [_scan_row(s, src, principal) for src in sources]
    return Page(rows, total, paging.page, paging.per_page)


def get_scan(store: Store, principal: Principal, scan_id: int, paging: Paging
             ) -> tuple[ScanRow, Page[HostRow]] | None:
    with store.session() as s:
        visible = s.scalar(_visible_scans(principal).where(m.Source.id == scan_id))
        src = s.get(m.Source, scan_id) if visible is not None else None
        if src is None:
            return None
        scan = _scan_row(s, src, principal)
    stmt = (select(m.ScanHost.ip, m.ScanHost.state, m.ScanHost.answers, m.Device.asset_id,
                   m.Site.site_id, m.Device.manufacturer_id, m.ScanHost.finished_at)
            .outerjoin(m.Device, m.ScanHost.device_pk == m.Device.id)
            .outerjoin(m.Site, m.Device.site_pk == m.Site.id)
            .where(m.ScanHost.source_id == scan_id))
    stmt = scoped(stmt, principal, m.Device.site_pk)
    with store.session() as s:
        total = int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = s.execute(stmt.order_by(m.ScanHost.id).limit(paging.per_page)
                         .offset(paging.offset)).all()
    return scan, Page([HostRow(*r) for r in rows], total, paging.page, paging.per_page)

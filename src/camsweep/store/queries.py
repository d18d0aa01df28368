"""Read-side queries shared by the CLI, the web app and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.callhome import calls_home_for

_SOURCE_LABEL = {"assets": "register", "sites": "register"}


@dataclass(frozen=True)
class DeviceFilter:
    site_id: str | None = None
    maker: str | None = None
    unregistered: bool = False
    limit: int | None = None
    calls_home: bool = False


def _device_query(f: DeviceFilter) -> Select[*tuple[Any, ...]]:
    stmt: Select[*tuple[Any, ...]] = (
        select(m.Device, m.Site.site_id, m.Source.kind)
        .outerjoin(m.Site, m.Device.site_pk == m.Site.id)
        .join(m.Source, m.Device.source_id == m.Source.id)
        .order_by(m.Device.id)
    )
    if f.site_id:
        stmt = stmt.where(m.Site.site_id == f.site_id)
    if f.maker:
        stmt = stmt.where(m.Device.manufacturer_id == f.maker)
    if f.unregistered:
        stmt = stmt.where(m.Device.asset_id.is_(None))
    if f.calls_home:
        stmt = stmt.where(m.Device.id.in_(select(m.Observation.device_pk)
                                          .where(m.Observation.probe == "calls_home")))
    if f.limit:
        stmt = stmt.limit(f.limit)
    return stmt


def _observed_sources(s: Any, pks: list[int]) -> dict[int, list[str]]:
    """Source kinds that observed each device (scan, nmap, pcap, ...), oldest first."""
    found: dict[int, list[str]] = {}
    for i in range(0, len(pks), 500):
        rows = s.execute(
            select(m.Observation.device_pk, m.Source.kind, func.min(m.Source.id))
            .join(m.Source, m.Observation.source_id == m.Source.id)
            .where(m.Observation.device_pk.in_(pks[i:i + 500]))
            .group_by(m.Observation.device_pk, m.Source.kind)
            .order_by(func.min(m.Source.id))).all()
        for pk, kind, _ in rows:
            found.setdefault(pk, []).append(_SOURCE_LABEL.get(kind, kind))
    return found


def list_devices(store: Store, f: DeviceFilter | None = None) -> list[dict[str, Any]]:
    """Devices in the shape of design.md's `devices list --json` contract."""
    out: list[dict[str, Any]] = []
    with store.session() as s:
        rows = s.execute(_device_query(f or DeviceFilter())).all()
        # Only devices a discovery source touched have observations worth a second query.
        seen_pks = [dev.id for dev, _, _ in rows if dev.last_seen_at is not None]
        observed = _observed_sources(s, seen_pks) if seen_pks else {}
        calls = calls_home_for(s.connection(), seen_pks) if seen_pks else {}
        for dev, site_id, kind in rows:
            flags = [] if dev.asset_id else ["unregistered"]
            if dev.not_seen_at is not None:
                flags.append("not_seen")
            if dev.id in calls:
                flags.append("calls_home")
            sources = [_SOURCE_LABEL.get(kind, kind)]
            sources.extend(k for k in observed.get(dev.id, []) if k not in sources)
            out.append({
                "asset_id": dev.asset_id, "site_id": site_id, "ip": dev.ip, "mac": dev.mac,
                "device_type": dev.device_type, "brand": dev.brand, "model": dev.model,
                "manufacturer_id": dev.manufacturer_id, "restricted": dev.restricted,
                "confidence": dev.confidence, "sources": sources,
                "flags": flags,
                **({"calls_home": [c.as_dict() for c in calls[dev.id]]} if dev.id in calls
                   else {}),
            })
    return out


@dataclass
class EstateSummary:
    sites: int
    sensitive_sites: int
    departments: int
    regions: int
    devices: int
    by_department: list[tuple[str, int, int, int]]  # name, sites, sensitive, devices
    by_type: list[tuple[str, int]]
    by_brand: list[tuple[str, int]]


def estate_summary(store: Store, top_brands: int = 10) -> EstateSummary:
    with store.session() as s:
        sites = s.scalar(select(func.count(m.Site.id))) or 0
        sensitive = s.scalar(select(func.count(m.Site.id))
                             .where(m.Site.sensitivity == "sensitive")) or 0
        departments = s.scalar(select(func.count(m.Department.id))) or 0
        regions = s.scalar(select(func.count(func.distinct(m.Site.region)))) or 0
        devices = s.scalar(select(func.count(m.Device.id))) or 0
        dev_per_dept = (
            select(m.Site.department_id, func.count(m.Device.id).label("n"))
            .join(m.Device, m.Device.site_pk == m.Site.id)
            .group_by(m.Site.department_id).subquery()
        )
        by_dept = s.execute(
            select(m.Department.name, func.count(m.Site.id),
                   func.sum(func.cast(m.Site.sensitivity == "sensitive", m.Site.id.type)),
                   func.coalesce(func.max(dev_per_dept.c.n), 0))
            .join(m.Site, m.Site.department_id == m.Department.id)
            .outerjoin(dev_per_dept, dev_per_dept.c.department_id == m.Department.id)
            .group_by(m.Department.name).order_by(m.Department.name)
        ).all()
        by_type = s.execute(
            select(func.coalesce(m.Device.device_type, "(unknown)"), func.count())
            .group_by(m.Device.device_type).order_by(func.count().desc())
        ).all()
        by_brand = s.execute(
            select(func.coalesce(m.Device.brand, "(blank)"), func.count())
            .group_by(m.Device.brand).order_by(func.count().desc()).limit(top_brands)
        ).all()
    return EstateSummary(
        sites=sites, sensitive_sites=sensitive, departments=departments, regions=regions,
        devices=devices,
        by_department=[(str(a), int(b), int(c or 0), int(d)) for a, b, c, d in by_dept],
        by_type=[(str(a), int(b)) for a, b in by_type],
        by_brand=[(str(a), int(b)) for a, b in by_brand],
    )


@dataclass
class FieldOrigin:
    field: str
    value: Any
    source_id: int
    source_kind: str
    source_name: str
    set_at: Any


@dataclass
class DeviceDetail:
    device: dict[str, Any]
    origins: list[FieldOrigin]
    history: list[dict[str, Any]]
    calls_home: list[dict[str, Any]] = field(default_factory=list)


def device_detail(store: Store, asset_id: str) -> DeviceDetail | None:
    """A device with the source of each field and its change history (newest first)."""
    with store.session() as s:
        row = s.execute(
            select(m.Device, m.Site.site_id).outerjoin(m.Site, m.Device.site_pk == m.Site.id)
            .where(m.Device.asset_id == asset_id)
        ).first()
        if row is None:
            return None
        dev, site_id = row
        sources = {src.id: src for src in s.scalars(select(m.Source))}
        hist = s.scalars(
            select(m.FieldHistory)
            .where(m.FieldHistory.entity == "device", m.FieldHistory.entity_pk == dev.id)
            .order_by(m.FieldHistory.id.desc())
        ).all()
        calls = calls_home_for(s.connection(), [dev.id]).get(dev.id, [])
    values = {"asset_id": dev.asset_id, "site_id": site_id, "device_type": dev.device_type,
              "brand": dev.brand, "model": dev.model, "serial": dev.serial, "mac": dev.mac,
              "ip": dev.ip, "firmware": dev.firmware, "install_date": dev.install_date,
              "manufacturer_id": dev.manufacturer_id, "restricted": dev.restricted,
              "confidence": dev.confidence}
    latest: dict[str, m.FieldHistory] = {}
    for h in hist:
        latest.setdefault(h.field, h)
    origins = []
    for fld in ("site_id", "device_type", "brand", "model", "serial", "mac", "ip", "firmware",
                "install_date"):
        change = latest.get(fld)
        src = sources[change.source_id if change else dev.source_id]
        origins.append(FieldOrigin(fld, values[fld], src.id, src.kind, src.name,
                                   change.changed_at if change else dev.created_at))
    history = [{"field": h.field, "old": h.old_value, "new": h.new_value,
                "source": f"{sources[h.source_id].kind}:{sources[h.source_id].name}",
                "changed_at": h.changed_at} for h in hist]
    return DeviceDetail(device=values, origins=origins, history=history,
                        calls_home=[c.as_dict() for c in calls])

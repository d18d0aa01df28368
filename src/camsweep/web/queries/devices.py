"""Devices: scoped search with filters and paging, and one device with its evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, or_, select

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.queries import device_detail
from camsweep.web.queries.paging import Page, Paging
from camsweep.web.queries.scope import scoped
from camsweep.web.queries.text import contains
from camsweep.web.roles import Principal

UNASSESSED = "unassessed"
STATUSES = ("non_compliant", "needs_survey", "compliant", "exempt", UNASSESSED)


@dataclass(frozen=True)
class DeviceFilter:
    q: str | None = None
    site_id: str | None = None
    maker: str | None = None
    status: str | None = None
    device_type: str | None = None
    restricted: bool | None = None


@dataclass(frozen=True)
class DeviceRow:
    asset_id: str | None
    site_id: str | None
    device_type: str | None
    brand: str | None
    model: str | None
    manufacturer_id: str | None
    restricted: bool | None
    confidence: float | None
    status: str
    ip: str | None
    mac: str | None


def _filtered(principal: Principal, f: DeviceFilter, dialect: str) -> Any:
    """Matching device keys; tables beyond `devices` are joined only for filters that need
    them, so a plain search reads one table."""
    stmt = select(m.Device.id)
    if f.q and f.q.strip():
        q = f.q.strip()
        stmt = stmt.where(or_(
            *(contains(col, q, dialect) for col in (
                m.Device.brand, m.Device.model, m.Device.manufacturer_id, m.Device.asset_id,
                m.Device.serial)),
            m.Device.mac == q.lower(), m.Device.ip == q,
        ))
    if f.site_id:
        stmt = stmt.where(m.Device.site_pk == select(m.Site.id).where(
            m.Site.site_id == f.site_id).scalar_subquery())
    if f.maker:
        stmt = stmt.where(m.Device.manufacturer_id == f.maker)
    if f.device_type:
        stmt = stmt.where(m.Device.device_type == f.device_type)
    if f.restricted is not None:
        stmt = stmt.where(m.Device.restricted.is_(f.restricted))
    if f.status == UNASSESSED:
        stmt = stmt.where(~select(m.DeviceStatus.device_pk)
                          .where(m.DeviceStatus.device_pk == m.Device.id).exists())
    elif f.status:
        stmt = stmt.join(m.DeviceStatus, m.DeviceStatus.device_pk == m.Device.id).where(
            m.DeviceStatus.status == f.status)
    return scoped(stmt, principal, m.Device.site_pk)


def _row_columns() -> Any:
    return (select(m.Device.asset_id, m.Site.site_id, m.Device.device_type, m.Device.brand,
                   m.Device.model, m.Device.manufacturer_id, m.Device.restricted,
                   m.Device.confidence, func.coalesce(m.DeviceStatus.status, UNASSESSED),
                   m.Device.ip, m.Device.mac)
            .outerjoin(m.Site, m.Device.site_pk == m.Site.id)
            .outerjoin(m.DeviceStatus, m.DeviceStatus.device_pk == m.Device.id))


def search_devices(store: Store, principal: Principal, f: DeviceFilter, paging: Paging
                   ) -> Page[DeviceRow]:
    """One page and the total. A free-text search reads the table once and keeps the
    matching keys (count and page from the same pass); without one, the count and the page
    come from indexes."""
    base = _filtered(principal, f, store.dialect).order_by(m.Device.id)
    with store.session() as s:
        if f.q and f.q.strip():
            matched = list(s.scalars(base))
            total = len(matched)
            ids = matched[paging.offset:paging.offset + paging.per_page]
        else:
            total = int(s.scalar(select(func.count()).select_from(
                base.order_by(None).subquery())) or 0)
            ids = list(s.scalars(base.limit(paging.per_page).offset(paging.offset)))
        rows = s.execute(_row_columns().where(m.Device.id.in_(ids))
                         .order_by(m.Device.id)).all() if ids else []
    return Page([DeviceRow(*r) for r in rows], total, paging.page, paging.per_page)


def makers(store: Store, principal: Principal) -> list[str]:
    """The true makers present in the caller's estate (for the filter menu)."""
    with store.session() as s:
        stmt = scoped(select(m.Device.manufacturer_id).distinct()
                      .where(m.Device.manufacturer_id.is_not(None)), principal,
                      m.Device.site_pk)
        return sorted(str(x) for x in s.scalars(stmt))


@dataclass
class Claim:
    signal: str
    value: Any
    points_to: Any
    weight: float | None
    source: str | None


@dataclass
class DeviceView:
    pk: int
    fields: dict[str, Any]
    site: dict[str, Any] | None
    status: str
    status_notes: list[Any]
    verdict: dict[str, Any] | None
    claims: list[Claim]
    origins: list[dict[str, Any]]
    history: list[dict[str, Any]]
    findings: list[dict[str, Any]] = field(default_factory=list)
    seen: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(asdict(self))
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _claims(evidence: list[Any] | None) -> list[Claim]:
    out = [Claim(str(c.get("signal")), c.get("value"), c.get("points_to"),
                 float(c["weight"]) if isinstance(c.get("weight"), int | float) else None,
                 c.get("source"))
           for c in evidence or [] if isinstance(c, dict)]
    out.sort(key=lambda c: -(c.weight or 0.0))
    return out


def _short_source(label: str) -> str:
    """`kind:/a/path/file.csv` -> `kind:file.csv`: server paths are nobody's business."""
    kind, _, name = label.partition(":")
    return f"{kind}:{PurePath(name).name}" if name else label


def get_device(store: Store, principal: Principal, asset_id: str) -> DeviceView | None:
    """A device with provenance, its newest verdict's claims and its findings; None when it
    does not exist or is another department's (the same answer, on purpose)."""
    with store.session() as s:
        row = s.execute(scoped(
            select(m.Device, m.Site, m.Department.name)
            .outerjoin(m.Site, m.Device.site_pk == m.Site.id)
            .outerjoin(m.Department, m.Site.department_id == m.Department.id)
            .where(m.Device.asset_id == asset_id), principal, m.Device.site_pk)).first()
        if row is None:
            return None
        dev, site, department = row
        verdict = s.scalars(select(m.Verdict).where(m.Verdict.device_pk == dev.id)
                            .order_by(m.Verdict.id.desc()).limit(1)).first()
        status = s.get(m.DeviceStatus, dev.id)
        findings = s.scalars(select(m.Finding).where(m.Finding.device_pk == dev.id)
                             .order_by(m.Finding.status.desc(), m.Finding.priority,
                                       m.Finding.id)).all()
        finding_rows = [{"policy": f.policy_id, "policy_version": f.policy_version,
                         "rule": f.rule, "action": f.action, "deadline": f.deadline,
                         "priority": f.priority, "status": f.status, "reasons": f.reasons}
                        for f in findings]
    detail = device_detail(store, asset_id)
    assert detail is not None
    verdict_dict = None if verdict is None else {
        "manufacturer_id": verdict.manufacturer_id, "brand": verdict.brand,
        "oem_of": verdict.oem_of, "device_type": verdict.device_type, "model": verdict.model,
        "restricted": verdict.restricted, "confidence": verdict.confidence,
        "kb_version": verdict.kb_version, "created_at": verdict.created_at}
    site_dict = None if site is None else {
        "site_id": site.site_id, "name": site.name, "department": department,
        "region": site.region, "sensitivity": site.sensitivity}
    return DeviceView(
        pk=dev.id, fields=detail.device, site=site_dict,
        status=status.status if status else UNASSESSED,
        status_notes=list(status.notes or []) if status else [],
        verdict=verdict_dict, claims=_claims(verdict.evidence if verdict else None),
        origins=[{"field": o.field, "value": o.value,
                  "source": f"{o.source_kind}:{PurePath(o.source_name).name}",
                  "set_at": o.set_at} for o in detail.origins],
        history=[{**h, "source": _short_source(h["source"])} for h in detail.history],
        findings=finding_rows,
        seen={"first_seen_at": dev.first_seen_at, "last_seen_at": dev.last_seen_at,
              "not_seen_at": dev.not_seen_at})

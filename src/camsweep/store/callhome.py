"""Reading call-home observations back: per device, per site, as evidence and as a flag.

`camsweep import dns|flows` stores one `observations` row (probe `calls_home`) per device,
endpoint and service for each imported log. Several imports of the same device add rows;
these helpers merge them: first seen is the earliest, last seen the latest, counts add up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, exists, select
from sqlalchemy.sql.elements import ColumnElement

from camsweep.store import Store
from camsweep.store import models as m

PROBE = "calls_home"
_CHUNK = 500


def calls_home_flag() -> ColumnElement[Any]:
    """Per device row: True when any call-home observation exists, else NULL (not known).

    A log that shows no calls home proves little (the device may use another resolver or
    none was logged), so absence stays unknown rather than False.
    """
    seen = exists().where(m.Observation.device_pk == m.Device.id,
                          m.Observation.probe == PROBE)
    return case((seen, True), else_=None).label("calls_home")


@dataclass(frozen=True)
class CallHome:
    """What one device was seen calling: one endpoint and service, merged over imports."""

    device_pk: int
    endpoint: str
    service: str
    maker: str
    kind: str
    endpoint_id: str
    first_seen: datetime
    last_seen: datetime
    count: int
    ports: tuple[str, ...]
    via: tuple[str, ...]
    sources: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The design.md `devices list --json` shape (plus where it was seen)."""
        return {"endpoint": self.endpoint, "service": self.service, "maker": self.maker,
                "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
                "count": self.count, "ports": list(self.ports), "via": list(self.via),
                "kind": self.kind, "sources": list(self.sources)}


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def merge_payloads(rows: Iterable[tuple[int, dict[str, Any]]]) -> dict[int, list[CallHome]]:
    """Observation payloads -> per device, one `CallHome` per (endpoint, service)."""
    merged: dict[tuple[int, str, str], dict[str, Any]] = {}
    for pk, payload in rows:
        if not isinstance(payload, dict) or "endpoint" not in payload:
            continue
        key = (pk, str(payload["endpoint"]), str(payload.get("service", "")))
        first, last = _time(payload["first_seen"]), _time(payload["last_seen"])
        entry = merged.get(key)
        if entry is None:
            merged[key] = {"payload": payload, "first": first, "last": last,
                           "count": int(payload.get("count", 1)),
                           "ports": set(payload.get("ports") or []),
                           "via": set(payload.get("via") or []),
                           "sources": list(payload.get("log_source") or [])}
            continue
        entry["first"] = min(entry["first"], first)
        entry["last"] = max(entry["last"], last)
        entry["count"] += int(payload.get("count", 1))
        entry["ports"].update(payload.get("ports") or [])
        entry["via"].update(payload.get("via") or [])
        entry["sources"] += [s for s in payload.get("log_source") or []
                             if s not in entry["sources"]]
    out: dict[int, list[CallHome]] = {}
    for (pk, endpoint, service), e in merged.items():
        p = e["payload"]
        out.setdefault(pk, []).append(CallHome(
            pk, endpoint, service, str(p.get("maker", "")), str(p.get("kind", "")),
            str(p.get("endpoint_id", "")), e["first"], e["last"], e["count"],
            tuple(sorted(e["ports"])), tuple(sorted(e["via"])), tuple(e["sources"])))
    for calls in out.values():
        calls.sort(key=lambda c: (c.first_seen, c.endpoint))
    return out


def calls_home_for(conn: Connection, device_pks: Collection[int]) -> dict[int, list[CallHome]]:
    """The merged call-home record of each listed device that has one."""
    pks = sorted(set(device_pks))
    rows: list[tuple[int, dict[str, Any]]] = []
    for i in range(0, len(pks), _CHUNK):
        rows += [(int(pk), payload) for pk, payload in conn.execute(
            select(m.Observation.device_pk, m.Observation.payload)
            .where(m.Observation.probe == PROBE,
                   m.Observation.device_pk.in_(pks[i:i + _CHUNK]))
            .order_by(m.Observation.id))]
    return merge_payloads(rows)


def devices_calling_home(conn: Connection) -> list[int]:
    """Primary keys of every device with a call-home observation."""
    pks = conn.execute(select(m.Observation.device_pk).where(
        m.Observation.probe == PROBE, m.Observation.device_pk.is_not(None)).distinct()).scalars()
    return sorted(int(pk) for pk in pks if pk is not None)


def calls_home_evidence(conn: Connection, device_pks: Collection[int]) -> dict[int, list[str]]:
    """`Evidence.calls_home` values: each endpoint name, and `name:port` for ports seen."""
    out: dict[int, list[str]] = {}
    for pk, calls in calls_home_for(conn, device_pks).items():
        values: list[str] = []
        for call in calls:
            values.append(call.endpoint)
            values += [f"{call.endpoint}:{p.rpartition('/')[2]}" for p in call.ports]
        out[pk] = sorted(set(values))
    return out


@dataclass(frozen=True)
class SiteCallHome:
    """One row for the web and report pages: a device at a site calling one endpoint."""

    site_pk: int | None
    site_id: str | None
    site_name: str | None
    device_pk: int
    asset_id: str | None
    ip: str | None
    manufacturer_id: str | None
    endpoint: str
    service: str
    maker: str
    first_seen: datetime
    last_seen: datetime
    count: int


def callhome_by_site(store: Store, site_pks: Collection[int] | None = None
                     ) -> list[SiteCallHome]:
    """Which devices call home, where, and since when; site by site (unplaced devices last).

    `site_pks` limits the answer to those sites (a department's view); None means all.
    """
    stmt = (select(m.Observation.device_pk, m.Observation.payload, m.Device.site_pk,
                   m.Site.site_id, m.Site.name, m.Device.asset_id, m.Device.ip,
                   m.Device.manufacturer_id)
            .join(m.Device, m.Device.id == m.Observation.device_pk)
            .outerjoin(m.Site, m.Site.id == m.Device.site_pk)
            .where(m.Observation.probe == PROBE)
            .order_by(m.Observation.id))
    if site_pks is not None:
        if not site_pks:
            return []
        stmt = stmt.where(m.Device.site_pk.in_(sorted(set(site_pks))))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    info = {int(r[0] or 0): r[2:] for r in rows}
    merged = merge_payloads((int(r[0] or 0), r[1]) for r in rows)
    out = []
    for pk, calls in merged.items():
        site_pk, site_id, site_name, asset_id, ip, maker_id = info[pk]
        out += [SiteCallHome(site_pk, site_id, site_name, pk, asset_id, ip, maker_id,
                             c.endpoint, c.service, c.maker, c.first_seen, c.last_seen, c.count)
                for c in calls]
    out.sort(key=lambda r: (r.site_id is None, r.site_id or "", r.asset_id or "~",
                            r.device_pk, r.first_seen, r.endpoint))
    return out

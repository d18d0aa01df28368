"""Discovery results into the store: observations, evidence, verdicts, and merged devices.

Each answer becomes one `observations` row (payload capped). The answers of one host become
one `Evidence` (plus what a register says about the device), identified by the engine, and
the verdict is saved with `save_verdicts`. The host is merged with the devices already known:
by MAC, then serial, then IP within a site. A device found in no register keeps
`asset_id NULL` (flag `unregistered`); after a complete scan, registered devices whose address
was scanned but did not answer get `not_seen_at` (flag `not_seen`).

Every `write()` is one transaction, so a batch of hosts lands whole or not at all: a scan
killed half-way leaves only finished hosts, which `--resume` then skips.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from camsweep.discover.evidence import device_facts, evidence_for
from camsweep.discover.model import HostReport, normalise_mac
from camsweep.discover.scope import Scope
from camsweep.domain import Verdict
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import insert_many, utcnow
from camsweep.store.verdicts import save_verdicts

_OBS_COLS = ("device_pk", "source_id", "probe", "observed_at", "ip", "mac", "payload")
_CHUNK = 500
PAYLOAD_CAP = 32768  # characters of JSON per observation; a chatty device cannot bloat the store
log = logging.getLogger(__name__)


def payload_json(answer: Any) -> str:
    """The observation payload as JSON, cut to a capped stub when a device said too much."""
    text = json.dumps(answer.payload(), ensure_ascii=False, default=str)
    if len(text) <= PAYLOAD_CAP:
        return text
    return json.dumps({"truncated": True, "chars": len(text), "port": answer.port,
                       "head": text[:PAYLOAD_CAP // 2]}, ensure_ascii=False)


@dataclass
class MergeStats:
    hosts: int = 0
    responded: int = 0
    created: int = 0
    updated: int = 0
    observations: int = 0
    verdicts: int = 0
    restricted: int = 0

    def add(self, other: MergeStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Known:
    pk: int
    asset_id: str | None
    site_pk: int | None
    ip: str | None
    mac: str | None
    serial: str | None
    brand: str | None
    model: str | None
    firmware: str | None
    device_type: str | None
    first_seen_at: datetime | None


_KNOWN_COLS = (m.Device.id, m.Device.asset_id, m.Device.site_pk, m.Device.ip, m.Device.mac,
               m.Device.serial, m.Device.brand, m.Device.model, m.Device.firmware,
               m.Device.device_type, m.Device.first_seen_at)


def _stamp(value: datetime) -> str:
    return value.isoformat(sep=" ")


class Merger:
    """Writes discovery results for one source (a scan run or a passive import)."""

    def __init__(self, store: Store, source_id: int, kb: Any = None, scope: Scope | None = None,
                 site_id: str | None = None) -> None:
        from camsweep.kb import load_kb

        self.store = store
        self.source_id = source_id
        self.kb = kb if kb is not None else load_kb()
        self.scope = scope
        self.site_id = site_id
        self._site_pks: dict[str, int] | None = None
        self.seen: set[int] = set()

    # -- sites ---------------------------------------------------------------------------------

    def _site_pk(self, conn: Connection, ip: str | None) -> int | None:
        if self._site_pks is None:
            self._site_pks = dict(conn.execute(select(m.Site.site_id,
                                                                          m.Site.id)).all())
        site = self.site_id
        if site is None and self.scope is not None and ip:
            try:
                site = self.scope.site_for(ipaddress.ip_address(ip))
            except ValueError:
                site = None
        return self._site_pks.get(site) if site else None

    # -- matching ------------------------------------------------------------------------------

    @staticmethod
    def _first(conn: Connection, *where: Any) -> _Known | None:
        row = conn.execute(select(*_KNOWN_COLS).where(*where)
                           .order_by(m.Device.asset_id.is_(None), m.Device.id).limit(1)).first()
        return _Known(*row) if row else None

    def _match(self, conn: Connection, ip: str | None, mac: str | None, serial: str | None,
               site_pk: int | None) -> _Known | None:
        if mac:
            found = self._first(conn, m.Device.mac == mac)
            if found:
                return found
        if serial:
            found = self._first(conn, m.Device.serial == serial)
            if found and (not mac or not found.mac or found.mac == mac):
                return found
        if not ip:
            return None
        where = [m.Device.ip == ip]
        if site_pk is not None:
            where.append(or_(m.Device.site_pk == site_pk, m.Device.site_pk.is_(None)))
        rows = [_Known(*r) for r in conn.execute(
            select(*_KNOWN_COLS).where(*where)
            .order_by(m.Device.asset_id.is_(None), m.Device.id)).all()]
        # Same address, but a different MAC or serial: the address was given to another device.
        rows = [r for r in rows if not (mac and r.mac and r.mac != mac)
                and not (serial and r.serial and r.serial != serial)]
        if site_pk is None and len({r.site_pk for r in rows}) > 1:
            unplaced = [r for r in rows if r.site_pk is None]
            return unplaced[0] if unplaced else None  # ambiguous across sites: do not guess
        return rows[0] if rows else None

    # -- writing -------------------------------------------------------------------------------

    def _history(self, conn: Connection, pk: int, changes: list[tuple[str, Any, Any]],
                 now: datetime) -> None:
        if changes:
            conn.execute(insert(m.FieldHistory), [
                {"entity": "device", "entity_pk": pk, "field": f,
                 "old_value": None if old is None else str(old),
                 "new_value": None if new is None else str(new),
                 "source_id": self.source_id, "changed_at": now}
                for f, old, new in changes])

    def _update(self, conn: Connection, known: _Known, ip: str | None, mac: str | None,
                facts: dict[str, str], verdict: Verdict, now: datetime) -> None:
        values: dict[str, Any] = {"last_seen_at": now, "not_seen_at": None, "updated_at": now}
        if known.first_seen_at is None:
            values["first_seen_at"] = now
        changes: list[tuple[str, Any, Any]] = []
        if ip and ip != known.ip:
            changes.append(("ip", known.ip, ip))
            values["ip"] = ip
        if mac and mac != known.mac:
            changes.append(("mac", known.mac, mac))
            values["mac"] = mac
        fill = {"serial": facts.get("serial"), "firmware": facts.get("firmware"),
                "model": known.model or verdict.model or facts.get("model"),
                "device_type": verdict.device_type, "brand": verdict.brand}
        for name, new in fill.items():
            if new and getattr(known, name) is None:
                changes.append((name, None, new))
                values[name] = new[:300] if isinstance(new, str) else new
        conn.execute(update(m.Device).where(m.Device.id == known.pk).values(**values))
        self._history(conn, known.pk, changes, now)

    def _create(self, conn: Connection, ip: str | None, mac: str | None, site_pk: int | None,
                facts: dict[str, str], verdict: Verdict, now: datetime) -> int:
        model = verdict.model or facts.get("model")
        result = conn.execute(insert(m.Device).values(
            asset_id=None, site_pk=site_pk, device_type=verdict.device_type,
            brand=(verdict.brand or None), model=model[:300] if model else None,
            serial=facts.get("serial"), mac=mac, ip=ip, firmware=facts.get("firmware"),
            source_id=self.source_id, created_at=now, updated_at=now,
            first_seen_at=now, last_seen_at=now))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def write(self, reports: Sequence[HostReport], *, scan: bool = False) -> MergeStats:
        """Merge a batch of host reports in one transaction; for scans also mark hosts done."""
        stats = MergeStats()
        now = utcnow()
        obs_rows: list[tuple[Any, ...]] = []
        verdicts: list[tuple[int, Verdict]] = []
        with self.store.engine.begin() as conn:
            for report in reports:
                stats.hosts += 1
                device_pk = None
                if report.answers:
                    stats.responded += 1
                    device_pk = self._merge_one(conn, report, now, stats, verdicts)
                    for a in report.answers:
                        obs_rows.append((device_pk, self.source_id, a.probe[:40],
                                         _stamp(a.observed_at), a.ip, normalise_mac(a.mac),
                                         payload_json(a)))
                if scan and report.ip:
                    conn.execute(update(m.ScanHost).where(
                        and_(m.ScanHost.source_id == self.source_id, m.ScanHost.ip == report.ip))
                        .values(state="done", answers=len(report.answers), device_pk=device_pk,
                                finished_at=report.finished_at or now))
            stats.observations = insert_many(conn, "observations", _OBS_COLS, obs_rows)
            stats.verdicts = save_verdicts(conn, verdicts)
        stats.restricted = sum(1 for _, v in verdicts if v.restricted)
        return stats

    def _merge_one(self, conn: Connection, report: HostReport, now: datetime, stats: MergeStats,
                   verdicts: list[tuple[int, Verdict]]) -> int:
        from camsweep.identify import identify

        ip = report.ip
        mac = normalise_mac(report.mac) or next(
            (normalise_mac(a.mac) for a in report.answers if normalise_mac(a.mac)), None)
        facts = device_facts(report.answers)
        site_pk = self._site_pk(conn, ip)
        known = self._match(conn, ip, mac, facts.get("serial"), site_pk)
        register = ({"brand": known.brand, "model": known.model, "firmware": known.firmware}
                    if known is not None and known.asset_id is not None else None)
        evidence = evidence_for(report.answers, ip=ip, mac=mac, register=register)
        verdict = identify(evidence, self.kb)
        if verdict.manufacturer_id is None and log.isEnabledFor(logging.INFO):
            # In the form of a KB example, so an unknown device becomes a fingerprint quickly.
            log.info("unidentified %s: %s", ip, evidence.model_dump_json(
                exclude_none=True, exclude_defaults=True, include={
                    "http", "rtsp", "onvif", "snmp", "upnp", "tls", "banner", "text"}))
        if known is not None:
            self._update(conn, known, ip, mac, facts, verdict, now)
            pk = known.pk
            stats.updated += 1
        else:
            pk = self._create(conn, ip, mac, site_pk, facts, verdict, now)
            stats.created += 1
        self.seen.add(pk)
        verdicts.append((pk, verdict))
        return pk

    def mark_not_seen(self, hosts: Iterable[str]) -> int:
        """Flag registered devices at scanned addresses that no answer came from."""
        now = utcnow()
        flagged = 0
        addresses = list(dict.fromkeys(hosts))
        with self.store.engine.begin() as conn:
            # Devices seen earlier in this same run (before an interruption and --resume).
            self.seen.update(pk for pk in conn.execute(select(m.ScanHost.device_pk).where(
                m.ScanHost.source_id == self.source_id, m.ScanHost.device_pk.is_not(None)))
                .scalars() if pk is not None)
            for i in range(0, len(addresses), _CHUNK):
                chunk = addresses[i:i + _CHUNK]
                rows = conn.execute(select(m.Device.id, m.Device.ip, m.Device.site_pk).where(
                    m.Device.asset_id.is_not(None), m.Device.ip.in_(chunk))).all()
                # When the scanned network belongs to a site, only that site's devices (or
                # unplaced ones) were looked for: the same address elsewhere is another LAN.
                silent = [pk for pk, ip, site in rows if pk not in self.seen
                          and site in (None, self._site_pk(conn, ip) or site)]
                for j in range(0, len(silent), _CHUNK):
                    result = conn.execute(update(m.Device).where(
                        m.Device.id.in_(silent[j:j + _CHUNK])).values(not_seen_at=now))
                    flagged += int(result.rowcount or 0)
        return flagged

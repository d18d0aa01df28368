"""Re-scan verification: is a removed device really gone?

Only the store's scan results can say so, in one of two ways that discovery writes
(`camsweep.discover.merge`): a complete scan marked the registered device `not_seen_at` after
its removal, or a scan run that began after the removal had the device's address as a
target and got no answer from it (`scan_hosts.answers = 0`). A scan of the same address on
another site's network (the run's `site_id`) proves nothing about this device. Any sighting
after the removal (`last_seen_at`) rules verification out, whatever else was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from camsweep.store import models as m


@dataclass(frozen=True)
class Sighting:
    """What the store knows of the device's presence on the network."""

    device_pk: int
    ip: str | None
    site_id: str | None
    last_seen_at: datetime | None
    not_seen_at: datetime | None


@dataclass(frozen=True)
class SilentScan:
    """A finished scan host with no answer: which run, when, and for which site's network."""

    source_id: int
    name: str
    at: datetime
    site_id: str | None


@dataclass(frozen=True)
class Gone:
    ok: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _stamp(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="seconds")


def seen_after(last_seen_at: datetime | None, removed_at: datetime | None) -> bool:
    return last_seen_at is not None and removed_at is not None and last_seen_at > removed_at


def judge(device: Sighting, removed_at: datetime | None, silent: Sequence[SilentScan]) -> Gone:
    """Whether the scan results show the device gone since `removed_at`, and why (not)."""
    if removed_at is None:
        return Gone(False, "no removal is recorded, so there is nothing to verify")
    if seen_after(device.last_seen_at, removed_at):
        assert device.last_seen_at is not None
        return Gone(False, f"it was seen on the network at {_stamp(device.last_seen_at)}, "
                           f"after its removal at {_stamp(removed_at)}: something still answers "
                           "as this device")
    later = [s for s in silent if s.at > removed_at
             and (s.site_id is None or device.site_id is None or s.site_id == device.site_id)]
    if later:
        best = max(later, key=lambda s: (s.at, s.source_id))
        return Gone(True, f"scan #{best.source_id} ({best.name}) found nothing at {device.ip} "
                          f"at {_stamp(best.at)}",
                    {"kind": "scan_silent", "source_id": best.source_id, "scan": best.name,
                     "ip": device.ip, "at": best.at.isoformat()})
    if device.not_seen_at is not None and device.not_seen_at > removed_at:
        return Gone(True, f"a complete scan marked it not seen at {_stamp(device.not_seen_at)}",
                    {"kind": "not_seen", "ip": device.ip, "at": device.not_seen_at.isoformat()})
    if not device.ip:
        return Gone(False, "the device has no known network address, so no scan can show it "
                           "gone")
    return Gone(False, f"no scan since its removal at {_stamp(removed_at)} has looked for it at "
                       f"{device.ip}; scan that address (camsweep scan {device.ip} --scope FILE) "
                       "and verify again")


def sighting(conn: Connection, device_pk: int) -> Sighting:
    row = conn.execute(
        select(m.Device.ip, m.Site.site_id, m.Device.last_seen_at, m.Device.not_seen_at)
        .outerjoin(m.Site, m.Site.id == m.Device.site_pk)
        .where(m.Device.id == device_pk)).one()
    return Sighting(device_pk, row.ip, row.site_id, row.last_seen_at, row.not_seen_at)


def silent_scans(conn: Connection, ip: str, since: datetime) -> list[SilentScan]:
    """Finished, unanswered scan hosts at `ip` from runs that began after `since`."""
    when = func.coalesce(m.ScanHost.finished_at, m.Source.started_at)
    rows = conn.execute(
        select(m.Source.id, m.Source.name, when, m.Source.options)
        .join(m.Source, m.Source.id == m.ScanHost.source_id)
        .where(m.ScanHost.ip == ip, m.ScanHost.state == "done", m.ScanHost.answers == 0,
               m.Source.kind == "scan", m.Source.started_at > since)
        .order_by(when.desc()).limit(20)).all()
    return [SilentScan(int(sid), str(name), at, (options or {}).get("site_id"))
            for sid, name, at, options in rows]


def check_gone(conn: Connection, device_pk: int, removed_at: datetime | None) -> Gone:
    device = sighting(conn, device_pk)
    silent = silent_scans(conn, device.ip, removed_at) if device.ip and removed_at else []
    return judge(device, removed_at, silent)

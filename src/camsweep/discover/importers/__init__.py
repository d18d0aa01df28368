"""Passive and offline imports: what other tools or the network already recorded.

Each reader parses a whole file into `HostReport`s first and raises `InputError` (naming the
file, the line or record, and the reason) before anything is written; `import_network()`
then merges all of it in one transaction as one `Source` of the reader's kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, update

from camsweep.discover.merge import Merger, MergeStats
from camsweep.discover.model import Answer, HostReport
from camsweep.errors import InputError, RowError
from camsweep.files import sha256_file
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import utcnow

Reader = Callable[[Path], list[HostReport]]


@dataclass
class ImportSummary:
    kind: str
    path: str
    hosts: int
    stats: MergeStats
    source_id: int | None
    seconds: float
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        return {"kind": self.kind, "path": self.path, "hosts": self.hosts,
                "devices_created": s.created, "devices_updated": s.updated,
                "observations": s.observations, "verdicts": s.verdicts,
                "restricted": s.restricted, "source_id": self.source_id,
                "seconds": round(self.seconds, 3), "dry_run": self.dry_run}


def group_by_host(answers: list[Answer]) -> list[HostReport]:
    """One report per IP (or per MAC for records without an IP), in first-seen order."""
    reports: dict[str, HostReport] = {}
    mac_of_ip: dict[str, str] = {}
    for a in answers:
        if a.ip and a.mac:
            mac_of_ip.setdefault(a.ip, a.mac)
    for a in answers:
        key = a.ip or (f"mac:{a.mac}" if a.mac else None)
        if key is None:
            continue
        report = reports.get(key)
        if report is None:
            report = reports[key] = HostReport(a.ip, mac=mac_of_ip.get(a.ip or "") or a.mac)
        report.add(a)
    for report in reports.values():
        report.finished_at = report.started_at
    return list(reports.values())


def open_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError.of(str(path), [RowError(str(path), None, None,
                                                 f"cannot read: {exc.strerror}")]) from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def import_network(store: Store, kind: str, path: Path, reader: Reader, *,
                   dry_run: bool = False, site_id: str | None = None,
                   kb: Any = None) -> ImportSummary:
    """Read the whole file (errors: nothing written), then merge it as one source."""
    started = time.monotonic()
    reports = reader(path)
    if dry_run:
        return ImportSummary(kind, str(path), len(reports), MergeStats(), None,
                             time.monotonic() - started, True)
    with store.engine.begin() as conn:
        source_id = int(conn.execute(insert(m.Source).values(
            kind=kind, name=str(path), sha256=sha256_file(path), rows=len(reports), created=0,
            updated=0, unchanged=0, started_at=utcnow(),
            options={"site_id": site_id} if site_id else None)).inserted_primary_key[0])  # type: ignore[index]
    merger = Merger(store, source_id, kb=kb, site_id=site_id)
    try:
        stats = merger.write(reports)
    except Exception:
        with store.engine.begin() as conn:
            conn.execute(delete(m.Source).where(m.Source.id == source_id))
        raise
    with store.engine.begin() as conn:
        conn.execute(update(m.Source).where(m.Source.id == source_id).values(
            created=stats.created, updated=stats.updated, finished_at=utcnow()))
    return ImportSummary(kind, str(path), len(reports), stats, source_id,
                         time.monotonic() - started)

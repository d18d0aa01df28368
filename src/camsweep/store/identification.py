"""Re-identify devices in the store: register fields (+ network evidence) -> stored verdicts.

The engine stays pure; this edge reads devices in chunks, asks `identify_many`, and writes
each verdict with its claims and the KB version through `save_verdicts`, one transaction
per run so a store never holds half a re-identification.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select

from camsweep.domain import Evidence, Verdict
from camsweep.identify import identify_many
from camsweep.kb import KnowledgeBase
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.verdicts import save_verdicts

CHUNK = 20_000
Progress = Callable[[int, int], None]
EvidenceSource = Callable[[int], Evidence | None]


@dataclass
class IdentifyRun:
    devices: int = 0
    kb_version: str = ""
    by_maker: Counter[str] = field(default_factory=Counter)
    restricted: int = 0
    abstained: int = 0
    # (asset_id, label as recorded, true maker, why)
    white_label: list[tuple[str, str, str, str]] = field(default_factory=list)
    conflicts: int = 0


def register_evidence(brand: str | None, model: str | None, mac: str | None,
                      firmware: str | None, ip: str | None) -> Evidence:
    """What a register row says, in the engine's evidence shape."""
    return Evidence(brand=brand, model=model, mac=mac, firmware=firmware, ip=ip)


def identify_store(store: Store, kb: KnowledgeBase, *, network: EvidenceSource | None = None,
                   progress: Progress | None = None,
                   device_pks: Collection[int] | None = None) -> IdentifyRun:
    """Identify every device (or those in `device_pks`); `network(pk)` may add what scans
    observed about a device. Endpoints a device was seen calling (imported DNS and flow
    logs) always join its evidence: a vendor cloud outlives any relabelling."""
    from camsweep.store.callhome import calls_home_evidence, devices_calling_home

    run = IdentifyRun(kb_version=kb.version)
    only = sorted(set(device_pks)) if device_pks is not None else None
    with store.engine.begin() as conn:
        total = (len(only) if only is not None
                 else int(conn.execute(select(func.count(m.Device.id))).scalar_one()))
        callers = set(devices_calling_home(conn))
        last = offset = 0
        while True:
            stmt = (select(m.Device.id, m.Device.asset_id, m.Device.brand, m.Device.model,
                           m.Device.mac, m.Device.firmware, m.Device.ip)
                    .where(m.Device.id > last).order_by(m.Device.id).limit(CHUNK))
            if only is not None:
                if offset >= len(only):
                    break
                stmt = stmt.where(m.Device.id.in_(only[offset:offset + CHUNK]))
                offset += CHUNK
            rows = conn.execute(stmt).all()
            if not rows:
                if only is not None:
                    continue
                break
            last = rows[-1][0]
            calls = calls_home_evidence(conn, [r[0] for r in rows if r[0] in callers])
            evidences = []
            for pk, _asset, brand, model, mac, firmware, ip in rows:
                extra = network(pk) if network else None
                base = register_evidence(brand, model, mac, firmware, ip)
                if pk in calls:
                    base = base.model_copy(update={"calls_home": calls[pk]})
                evidences.append(base.model_copy(update=_present(extra)) if extra else base)
            verdicts = identify_many(evidences, kb)
            save_verdicts(conn, [(r[0], v) for r, v in zip(rows, verdicts, strict=True)])
            for r, v in zip(rows, verdicts, strict=True):
                _tally(run, r[1] or f"#{r[0]}", r[2], v)
            run.devices += len(rows)
            if progress:
                progress(run.devices, total)
    return run


def _present(extra: Evidence) -> dict[str, object]:
    """Network evidence wins field by field only where it says something."""
    return {k: v for k, v in extra if v not in (None, [], {})}


def _tally(run: IdentifyRun, asset: str, label: str | None, v: Verdict) -> None:
    run.by_maker[v.manufacturer_id or "(undetermined)"] += 1
    run.restricted += bool(v.restricted)
    run.abstained += v.manufacturer_id is None
    run.conflicts += bool(v.conflicts)
    if v.oem_of:
        why = v.conflicts[0] if v.conflicts else f"{v.brand} hardware is made by {v.manufacturer}"
        run.white_label.append((asset, label or v.brand or "", v.oem_of, why))

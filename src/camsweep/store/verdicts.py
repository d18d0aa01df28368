"""Storing identification verdicts: history in `verdicts`, the newest copied onto `devices`."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Connection

from camsweep.domain import Verdict
from camsweep.store.bulk import insert_many, update_many, utcnow

_VERDICT_COLS = ("device_pk", "manufacturer_id", "brand", "oem_of", "device_type", "model",
                 "restricted", "confidence", "evidence", "kb_version", "created_at")


def save_verdicts(conn: Connection, items: Iterable[tuple[int, Verdict]]) -> int:
    """Record each (device pk, verdict) and make it the device's current identification.

    Runs inside the caller's transaction, so a batch of verdicts lands whole or not at all.
    """
    stamp = utcnow().isoformat(sep=" ")
    rows = [
        (pk, v.manufacturer_id, v.brand, v.oem_of, v.device_type, v.model, v.restricted,
         v.confidence,
         json.dumps([c.model_dump() for c in v.evidence], ensure_ascii=False),
         v.kb_version, stamp)
        for pk, v in items
    ]
    if not rows:
        return 0
    insert_many(conn, "verdicts", _VERDICT_COLS, rows)
    update_many(conn, "devices", ("manufacturer_id", "restricted", "confidence"),
                ((r[1], r[6], r[7], r[0]) for r in rows))
    return len(rows)

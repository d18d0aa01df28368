"""Read what assessment needs from the store: devices with their site and department, the
newest verdict's OEM relation and evidence, and stored waivers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import func, select

from camsweep.policy.batch import FRAME_SCHEMA
from camsweep.policy.bom import model_key
from camsweep.policy.facts import ProductBom
from camsweep.policy.schema import Waiver
from camsweep.store import Store
from camsweep.store import models as m

# Device flags other engineers add to `devices` when discovery supplies them; read if present.
OPTIONAL_FLAGS = ("calls_home", "on_core_network", "internet_exposed")
EVIDENCE_SHOWN = 3
CHUNK = 5000


def _latest_verdicts() -> Any:
    return (select(m.Verdict.device_pk, func.max(m.Verdict.id).label("vid"))
            .group_by(m.Verdict.device_pk).subquery())


def load_devices(store: Store, organisation_types: Mapping[str, str] | None = None,
                 boms: Sequence[ProductBom] = ()) -> pl.DataFrame:
    """One row per device in the evaluator's frame shape, plus `device_pk` and `site_pk`."""
    flags = [(name, getattr(m.Device, name)) for name in OPTIONAL_FLAGS
             if hasattr(m.Device, name)]
    if not hasattr(m.Device, "calls_home"):  # from imported DNS and flow logs
        from camsweep.store.callhome import calls_home_flag

        flags.append(("calls_home", calls_home_flag()))
    latest = _latest_verdicts()
    stmt = (
        select(m.Device.id, m.Device.site_pk, m.Device.asset_id, m.Site.site_id,
               m.Department.name, m.Site.region, m.Site.sensitivity, m.Device.device_type,
               m.Device.manufacturer_id, m.Verdict.oem_of, m.Device.restricted,
               m.Device.confidence, m.Device.brand, m.Device.model, m.Device.firmware,
               m.Device.install_date, m.Device.created_at, *(col for _n, col in flags))
        .outerjoin(m.Site, m.Device.site_pk == m.Site.id)
        .outerjoin(m.Department, m.Site.department_id == m.Department.id)
        .outerjoin(latest, latest.c.device_pk == m.Device.id)
        .outerjoin(m.Verdict, m.Verdict.id == latest.c.vid)
        .order_by(m.Device.id)
    )
    names = ["device_pk", "site_pk", "asset_id", "site_id", "department", "region",
             "sensitivity", "device_type", "manufacturer_id", "oem_of", "restricted",
             "confidence", "brand", "model", "firmware", "install_date", "created_at",
             *(n for n, _c in flags)]
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    schema: dict[str, Any] = {**{k: v for k, v in FRAME_SCHEMA.items() if k in names},
                              "device_pk": pl.Int64, "site_pk": pl.Int64,
                              "created_at": pl.Datetime}
    frame = pl.DataFrame([tuple(r) for r in rows], schema={n: schema[n] for n in names},
                         orient="row")
    org = organisation_types or {}
    bom_keys = {b.key for b in boms}
    frame = frame.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        pl.col("created_at").dt.date().alias("recorded_date"),
        pl.col("department").replace_strict(org, default=None, return_dtype=pl.String)
        .alias("organisation_type") if org else pl.lit(None, pl.String).alias("organisation_type"),
        pl.col("model").map_elements(model_key, return_dtype=pl.String).alias("bom_model")
        if bom_keys else pl.lit(None, pl.String).alias("bom_model"),
    ).with_columns(
        pl.when(pl.col("bom_model").is_in(sorted(bom_keys))).then(pl.col("bom_model"))
        .otherwise(None).alias("bom"),
    ).drop("bom_model", "created_at")
    for name in OPTIONAL_FLAGS:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Boolean).alias(name))
    return frame


def _claim_text(claim: Mapping[str, Any]) -> str:
    weight = claim.get("weight")
    w = f" ({float(weight):.2f})" if isinstance(weight, int | float) else ""
    return f"{claim.get('signal')} {claim.get('value')!r} -> {claim.get('points_to')}{w}"


def load_evidence(store: Store, device_pks: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """The strongest claims of each device's newest verdict, as short lines."""
    pks = sorted(set(device_pks))
    out: dict[int, tuple[str, ...]] = {}
    latest = _latest_verdicts()
    with store.engine.connect() as conn:
        for start in range(0, len(pks), CHUNK):
            chunk = pks[start:start + CHUNK]
            stmt = (select(m.Verdict.device_pk, m.Verdict.evidence)
                    .join(latest, latest.c.vid == m.Verdict.id)
                    .where(m.Verdict.device_pk.in_(chunk)))
            for pk, evidence in conn.execute(stmt):
                claims = [c for c in (evidence or []) if isinstance(c, dict)]
                claims.sort(key=lambda c: -float(c.get("weight") or 0.0))
                out[int(pk)] = tuple(_claim_text(c) for c in claims[:EVIDENCE_SHOWN])
    return out


def load_waivers(store: Store) -> list[Waiver]:
    with store.session() as s:
        rows = s.scalars(select(m.Waiver).order_by(m.Waiver.id)).all()
    return [Waiver(reference=r.reference, policy=r.policy_id, rules=r.rules,
                   asset_ids=list(r.asset_ids or []), site_ids=list(r.site_ids or []),
                   departments=list(r.departments or []), granted_by=r.granted_by,
                   granted_on=r.granted_on, expires=r.expires, reason=r.reason)
            for r in rows]


def save_waiver(store: Store, waiver: Waiver) -> int:
    """Record a waiver (its reference must be new); assessments apply it from then on."""
    from camsweep.errors import PolicyError
    from camsweep.store.bulk import utcnow

    with store.session() as s:
        if s.scalar(select(m.Waiver.id).where(m.Waiver.reference == waiver.reference)):
            raise PolicyError(f"waiver {waiver.reference!r} already exists; use a new reference")
        row = m.Waiver(reference=waiver.reference, policy_id=waiver.policy, rules=waiver.rules,
                       asset_ids=waiver.asset_ids, site_ids=waiver.site_ids,
                       departments=waiver.departments, granted_by=waiver.granted_by,
                       granted_on=waiver.granted_on, expires=waiver.expires,
                       reason=waiver.reason, created_at=utcnow())
        s.add(row)
        s.commit()
        return int(row.id)


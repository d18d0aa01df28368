"""Synthetic removal findings for a sample estate (benchmarks, tests, the demo).

Stands in for `camsweep assess` on `camsweep.sample` output: sensitive sites fall under a
removal policy with an earlier deadline and a higher priority than the rest of the programme,
some other sites get a raised priority, and a seeded share of devices is internet-exposed or
runs vulnerable firmware.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl

from camsweep.plan.items import PlanItem
from camsweep.sample import SiteRecord

SENSITIVE_POLICY = ("uk-sensitive-sites", date(2028, 3, 31), 3.0)
PROGRAMME_POLICY = ("removal-programme", date(2028, 12, 31), 1.0)
EXPOSED_SHARE = 0.08
VULNERABLE_SHARE = 0.15
URGENT_SITE_SHARE = 0.3  # standard sites whose policy priority is raised (e.g. public areas)


def sample_findings(
    sites: Sequence[SiteRecord],
    assets: pl.DataFrame,
    seed: int,
    *,
    restricted_only: bool = False,
) -> list[PlanItem]:
    """One removal finding per device (per restricted device with `restricted_only`)."""
    frame = assets.filter(pl.col("restricted")) if restricted_only else assets
    by_site = {s.site_id: s for s in sites}
    rng = random.Random(f"camsweep-plan-sample:{seed}")
    urgent_sites = {s.site_id for s in sites if rng.random() < URGENT_SITE_SHARE}
    out: list[PlanItem] = []
    columns: dict[str, list[Any]] = frame.select("asset_id", "site_id", "kind").to_dict(
        as_series=False
    )
    for asset_id, site_id, kind in zip(
        columns["asset_id"], columns["site_id"], columns["kind"], strict=True
    ):
        site = by_site[site_id]
        sensitive = site.sensitivity != "standard"
        policy, deadline, priority = SENSITIVE_POLICY if sensitive else PROGRAMME_POLICY
        out.append(
            PlanItem(
                asset_id=asset_id,
                site_id=site_id,
                region=site.region,
                department=site.department,
                sensitivity=site.sensitivity,
                device_type=kind,
                policy=policy,
                rule="remove",
                deadline=deadline,
                priority=priority + (not sensitive and site_id in urgent_sites),
                exposed=rng.random() < EXPOSED_SHARE,
                vulnerable=rng.random() < VULNERABLE_SHARE,
            )
        )
    return out


def demand(items: Sequence[PlanItem], unit_costs: dict[str, int]) -> tuple[dict[str, int], int]:
    """Devices per region and their total removal cost: what make_resources sizes from."""
    per_region: dict[str, int] = {}
    cost = 0
    for item in items:
        if item.region is not None:
            per_region[item.region] = per_region.get(item.region, 0) + 1
        cost += unit_costs.get(item.device_type or "other", unit_costs.get("other", 0))
    return per_region, cost

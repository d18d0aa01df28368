"""The stored plan as a department may see it, and the shapes its page draws."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from camsweep.store import Store
from camsweep.store.plans import load_plan
from camsweep.web.queries.scope import site_pks
from camsweep.web.roles import Principal

PRIVATE_ROW_KEYS = ("device_pk", "site_pk")


def scoped_summary(plan: dict[str, Any]) -> dict[str, Any]:
    """What can be said of the rows a department sees; the solver's organisation-wide
    summary would tell it about other departments' work (pure)."""
    rows = plan["assignments"]
    late = sum(1 for a in rows if a.get("deadline") and a["week_start"] > a["deadline"])
    return {"scheduled": len(rows), "unscheduled": len(plan["unscheduled"]),
            "cost": round(sum(float(a.get("cost") or 0) for a in rows), 2), "late": late,
            "regions": dict(Counter(a["region"] for a in rows))}


def plan_for(store: Store, principal: Principal) -> dict[str, Any] | None:
    """The latest plan restricted to the caller's sites; None when no plan is stored."""
    pks = site_pks(store, principal)
    plan = load_plan(store, site_pks=pks)
    if plan is None:
        return None
    for row in [*plan["assignments"], *plan["unscheduled"]]:
        for key in PRIVATE_ROW_KEYS:
            row.pop(key, None)
    if not principal.central:
        plan["summary"] = scoped_summary(plan)
        plan["public"] = None
    return plan


@dataclass(frozen=True)
class RegionLoad:
    region: str
    scheduled: int
    crews: int | None
    weekly_capacity: int | None
    peak_week: str | None
    peak: int
    late: int

    @property
    def peak_share(self) -> float | None:
        if not self.weekly_capacity:
            return None
        return self.peak / self.weekly_capacity


def timeline(plan: dict[str, Any]) -> tuple[list[str], dict[str, list[int]]]:
    """Removals per week and region: (weeks, {region: counts aligned to weeks}) (pure)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for a in plan["assignments"]:
        counts[a["region"]][a["week_start"]] += 1
    weeks = sorted({w for c in counts.values() for w in c})
    return weeks, {r: [c.get(w, 0) for w in weeks] for r, c in sorted(counts.items())}


def region_load(plan: dict[str, Any]) -> list[RegionLoad]:
    regions = {str(r.get("id")): r for r in (plan.get("resources") or {}).get("regions", [])}
    weeks, series = timeline(plan)
    late: Counter[str] = Counter(
        a["region"] for a in plan["assignments"]
        if a.get("deadline") and a["week_start"] > a["deadline"])
    out = []
    for region, counts in series.items():
        spec = regions.get(region, {})
        crews = spec.get("crews")
        capacity = spec.get("crew_capacity")
        peak = max(counts, default=0)
        out.append(RegionLoad(
            region, sum(counts), int(crews) if crews is not None else None,
            int(crews) * int(capacity) if crews is not None and capacity is not None else None,
            weeks[counts.index(peak)] if counts else None, peak, late[region]))
    return out

"""Items in, solver input out: merged findings, fixed work, and what cannot be planned at all."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from camsweep.plan.items import PlanItem, merge_duplicates, risk_points
from camsweep.plan.problem import NO_DEADLINE, Device, cost_cents, effective_deadlines
from camsweep.plan.resources import Calendar, Resources
from camsweep.plan.schema import Assignment, Plan, Unscheduled


@dataclass
class Fixed:
    """Work that re-planning must not move: done removals and the next N weeks of the plan."""

    assignments: dict[str, Assignment] = field(default_factory=dict)
    capacity_used: dict[str, Counter[int]] = field(default_factory=dict)
    budget_used: Counter[int] = field(default_factory=Counter)
    dropped: list[str] = field(default_factory=list)  # frozen but no longer an open finding
    frozen: int = 0
    done: int = 0


@dataclass
class Prepared:
    items: list[PlanItem]
    risks: list[int]
    devices: list[Device]
    unscheduled: list[Unscheduled]
    fixed: Fixed
    duplicates: int


def fixed_work(
    current: Plan | None,
    items: Sequence[PlanItem],
    resources: Resources,
    calendar: Calendar,
    freeze_weeks: int,
) -> Fixed:
    """What to keep from the current plan: done work, and open work in the first N weeks."""
    fixed = Fixed()
    if current is None:
        return fixed
    open_ids = {item.asset_id for item in items if item.asset_id is not None}
    freeze_until = calendar.week_start(max(0, freeze_weeks))
    for a in current.assignments:
        keep = a.done or (calendar.start <= a.week_start < freeze_until)
        if not keep:
            continue
        if not a.done and a.asset_id not in open_ids:
            fixed.dropped.append(a.asset_id)
            continue
        fixed.assignments[a.asset_id] = a
        fixed.done += a.done
        fixed.frozen += not a.done
        week = calendar.week_of(a.week_start)
        if 0 <= week < calendar.weeks:
            fixed.capacity_used.setdefault(a.region, Counter())[week] += 1
            period = calendar.budget_of_week[week]
            if period is not None:
                fixed.budget_used[period] += round(a.cost * 100)
    return fixed


def unschedulable(item: PlanItem, resources: Resources) -> str | None:
    """Why an item cannot be planned at all, in words that say what to fix; None if it can."""
    if item.asset_id is None:
        return "the device has no asset_id; add it to the asset register first"
    if not item.region:
        return "its site has no region; set the region in the sites register"
    region = resources.region(item.region)
    if region is None:
        return f"region {item.region!r} is not in resources.yaml regions"
    if region.crews == 0:
        return f"region {item.region!r} has no crews in resources.yaml"
    if resources.unit_cost(item.device_type) is None:
        return (
            f"no unit cost for device type {item.device_type or 'unknown'!r}; "
            "add it (or 'other') to resources.yaml unit_costs"
        )
    return None


def prepare(
    findings: Sequence[PlanItem],
    resources: Resources,
    calendar: Calendar,
    current: Plan | None = None,
    freeze_weeks: int = 0,
) -> Prepared:
    items, duplicates = merge_duplicates(findings)
    risks = risk_points(items)
    fixed = fixed_work(current, items, resources, calendar, freeze_weeks)
    unscheduled: list[Unscheduled] = []
    devices: list[Device] = []
    reasons: dict[tuple[bool, str | None, str | None], str | None] = {}
    deadline_weeks: dict[date, int] = {}
    for index, item in enumerate(items):
        if item.asset_id is not None and item.asset_id in fixed.assignments:
            continue
        key = (item.asset_id is None, item.region, item.device_type)
        if key not in reasons:
            reasons[key] = unschedulable(item, resources)
        reason = reasons[key]
        if reason is not None:
            unscheduled.append(Unscheduled(asset_id=item.asset_id, reason=reason))
            continue
        cents = cost_cents(resources, item)
        assert cents is not None and item.region is not None
        if item.deadline is None:
            deadline = NO_DEADLINE
        else:
            if item.deadline not in deadline_weeks:
                deadline_weeks[item.deadline] = calendar.deadline_week(item.deadline)
            deadline = deadline_weeks[item.deadline]
        devices.append(
            Device(
                item=index,
                region=item.region,
                site=item.site_id if item.site_id is not None else f"\0{item.asset_id}",
                cost=cents,
                risk=risks[index],
                deadline=deadline,
                due=deadline,
                recorder=item.is_recorder,
            )
        )
    effective_deadlines(devices)
    _frozen_order(devices, items, fixed, calendar)
    return Prepared(items, risks, devices, unscheduled, fixed, duplicates)


def _frozen_order(
    devices: list[Device], items: Sequence[PlanItem], fixed: Fixed, calendar: Calendar
) -> None:
    """Recorders stay after frozen cameras; cameras stay before frozen recorders."""
    if not fixed.assignments:
        return
    by_id = {item.asset_id: item for item in items if item.asset_id is not None}
    recorder_week: dict[str, int] = {}
    other_week: dict[str, int] = defaultdict(lambda: -1)
    for asset_id, a in fixed.assignments.items():
        item = by_id.get(asset_id)
        week = calendar.week_of(a.week_start)
        if item is None or a.done or item.site_id is None or not 0 <= week < calendar.weeks:
            continue
        if item.is_recorder:
            recorder_week[item.site_id] = min(recorder_week.get(item.site_id, week), week)
        else:
            other_week[item.site_id] = max(other_week[item.site_id], week)
    for d in devices:
        if d.recorder:
            d.lb = max(d.lb, other_week[d.site])
        elif d.site in recorder_week:
            d.ub = min(d.ub, recorder_week[d.site])

"""The baseline: earliest deadline first, week by week, blind to risk.

What a programme office would do by hand: sort the removals by deadline and give each week's
crews the next ones on the list, as long as the period's budget lasts. It respects the same
hard limits as the planner (capacity, budget, blackouts, recorders after their site's other
devices), so the two plans can be compared on the objective alone.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence

from camsweep.plan.items import PlanItem
from camsweep.plan.objective import evaluate
from camsweep.plan.prepare import prepare
from camsweep.plan.problem import Weights, coupling, free_capacity
from camsweep.plan.resources import Calendar, Resources
from camsweep.plan.schema import Assignment, Plan, Status, Unscheduled


def greedy_plan(findings: Sequence[PlanItem], resources: Resources) -> Plan:
    """Earliest-deadline-first plan of the same findings (no re-planning, no bound)."""
    started = time.perf_counter()
    calendar = Calendar.build(resources)
    prep = prepare(findings, resources, calendar)
    weights = Weights(horizon=calendar.weeks, coupled=coupling(prep.devices))
    devices = prep.devices
    capacity = free_capacity(calendar, {})
    money = list(calendar.budget_cents)
    cheapest = min((d.cost for d in devices), default=0)
    order: dict[str, list[int]] = defaultdict(list)
    for i in sorted(range(len(devices)), key=lambda i: (devices[i].due, devices[i].recorder,
                                                        devices[i].site, i)):
        order[devices[i].region].append(i)
    waiting: Counter[str] = Counter(d.site for d in devices if not d.recorder)
    week_of: list[int | None] = [None] * len(devices)
    for week in range(calendar.weeks):
        period = calendar.budget_of_week[week]
        for region in sorted(order):
            room = capacity[region][week]
            pending = order[region]
            if room <= 0 or not pending:
                continue
            kept: list[int] = []
            for position, i in enumerate(pending):
                if room <= 0 or (period is not None and money[period] < cheapest):
                    kept.extend(pending[position:])
                    break
                d = devices[i]
                affordable = period is None or money[period] >= d.cost
                if not affordable or (d.recorder and waiting[d.site]):
                    kept.append(i)
                    continue
                week_of[i] = week
                room -= 1
                if period is not None:
                    money[period] -= d.cost
                if not d.recorder:
                    waiting[d.site] -= 1
            order[region] = kept
    assignments: list[Assignment] = []
    unscheduled = list(prep.unscheduled)
    for i, d in enumerate(devices):
        item = prep.items[d.item]
        assert item.asset_id is not None and item.region is not None
        placed = week_of[i]
        if placed is None:
            unscheduled.append(Unscheduled(asset_id=item.asset_id,
                                           reason="no week with crew capacity and budget left"))
            continue
        assignments.append(Assignment(
            asset_id=item.asset_id, site_id=item.site_id, region=item.region,
            week_start=calendar.week_start(placed), deadline=item.deadline, policy=item.policy,
            cost=resources.unit_cost(item.device_type) or 0.0,
        ))
    plan = Plan.model_construct(feasible=False, status="incomplete", solve_seconds=0.0,
                                assignments=assignments, unscheduled=unscheduled, shortfall=[],
                                summary={})
    objective = evaluate(plan, prep.items, calendar, weights, prep.risks)
    status: Status = (
        "empty" if not prep.items else "incomplete" if unscheduled
        else "late" if objective.late_devices else "feasible"
    )
    plan.status = status
    plan.feasible = status in ("feasible", "empty")
    plan.summary = {"method": "earliest-deadline-first", "objective": objective.as_dict(),
                    "weights": weights.as_dict()}
    plan.solve_seconds = round(time.perf_counter() - started, 3)
    return plan

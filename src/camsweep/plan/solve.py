"""`make_plan`: findings x resources -> Plan. The decomposition, end to end.

1. prepare: merge duplicate findings, keep fixed work (done, frozen), set aside what cannot
   be planned (with a reason), and turn the rest into devices with risk points and due weeks;
2. aggregate: per region, devices into chunks (a site's devices removed together) and into
   classes (identical devices) for the bound;
3. master: Lagrangian min-cost-flow relaxation -> proven lower bound + each region's share of
   every budget period;
4. regions, biggest first: a constructive plan, then CP-SAT around it within a time slice;
   what a region does not spend rolls over to the regions after it;
5. refine: move work earlier wherever the leftover national budget and capacity allow;
6. report: assignments, unscheduled with reasons, shortfall, summary with the objective's
   components, the lower bound and the gap.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from camsweep.errors import PlanError
from camsweep.plan import bound, cpsat
from camsweep.plan.heuristic import improve, keep_current, list_schedule
from camsweep.plan.items import PlanItem
from camsweep.plan.objective import Objective, evaluate
from camsweep.plan.prepare import Prepared, prepare
from camsweep.plan.problem import (
    NO_DEADLINE,
    Chunk,
    RegionProblem,
    Weights,
    build_chunks,
    chunk_size,
    coupling,
    free_capacity,
)
from camsweep.plan.resources import CENTS, Calendar, Resources
from camsweep.plan.schema import Assignment, Plan, Status, Unscheduled
from camsweep.plan.shortfall import budget_shortfall, crew_shortfall

DEFAULT_TIME_LIMIT = 25.0
MASTER_SHARE = 0.15  # of the time limit, for the lower bound and budget split
MIN_REGION_SECONDS = 0.2
METHOD = "camsweep-plan-v1"  # bump when the model or the weights change


def make_plan(
    findings: Sequence[PlanItem],
    resources: Resources,
    *,
    current: Plan | None = None,
    freeze_weeks: int = 0,
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = 2,
    seed: int = 0,
) -> Plan:
    """The best removal plan found within `time_limit` seconds (see docs/planning.md).

    With `current`, done work and (with `freeze_weeks`) the current plan's work in the first
    `freeze_weeks` weeks from `resources.start` stay where they are; the rest is planned again.
    """
    if time_limit <= 0:
        raise PlanError(f"time limit must be positive, got {time_limit}")
    if freeze_weeks < 0 or (freeze_weeks and current is None):
        raise PlanError("freeze_weeks needs the current plan and must not be negative "
                        f"(got {freeze_weeks}{'' if current else ' and no current plan'})")
    started = time.perf_counter()
    deadline = started + time_limit
    calendar = Calendar.build(resources)
    prep = prepare(findings, resources, calendar, current, freeze_weeks)
    weights = Weights(horizon=calendar.weeks, coupled=coupling(prep.devices))
    capacity = free_capacity(calendar, prep.fixed.capacity_used)
    budget_left = [
        max(0, cents - prep.fixed.budget_used[p]) for p, cents in enumerate(calendar.budget_cents)
    ]
    regions = _regions(prep, capacity, resources)
    if current is not None:
        _prefer_current(regions, prep, current, calendar)
    classes = {
        r.region: bound.RegionClasses.build(r.region, prep.devices, _indices(r), r.capacity)
        for r in regions
    }
    master = bound.solve_master(
        list(classes.values()),
        calendar.budget_of_week,
        budget_left,
        weights,
        time_limit=max(0.5, MASTER_SHARE * time_limit),
    )
    allocation = master.allocation
    if current is not None:
        allocation = _current_allocation(current, prep, calendar, budget_left) or allocation
    weeks_of: dict[str, list[int | None]] = {}
    stats: list[dict[str, Any]] = []
    spent: dict[str, Counter[int]] = {}
    for position, problem in enumerate(regions):
        later = regions[position + 1 :]
        problem.budget = {
            p: budget_left[p]
            - sum(spent[r][p] for r in spent)
            - sum(allocation.get(r.region, {}).get(p, 0) for r in later)
            for p in range(len(budget_left))
        }
        hint = list_schedule(problem.chunks, problem.capacity, problem.budget, calendar.segments)
        if current is not None:
            kept = keep_current(problem.chunks, problem.capacity, problem.budget,
                                calendar.budget_of_week, weights)
            if _value(problem.chunks, kept, weights) <= _value(problem.chunks, hint, weights):
                hint = kept
        left = sum(len(r.chunks) for r in regions[position:]) or 1
        slice_ = max(MIN_REGION_SECONDS,
                     (deadline - time.perf_counter()) * len(problem.chunks) / left)
        solution = cpsat.refine_region(
            problem, hint, calendar.budget_of_week, calendar.segments, calendar.segment_of_week,
            weights, time_limit=slice_, workers=workers, seed=seed,
            stop_at=bound.region_bound(classes[problem.region], weights),
        )
        if _value(problem.chunks, hint, weights) < _value(problem.chunks, solution.weeks, weights):
            # a solver stopped early on a loaded machine may end below its own starting point
            solution = cpsat.RegionSolution(list(hint), f"hint (solver {solution.status})",
                                            solution.seconds)
        weeks_of[problem.region] = solution.weeks
        spent[problem.region] = _spend(problem.chunks, solution.weeks, calendar)
        stats.append({
            "region": problem.region,
            "devices": sum(c.n for c in problem.chunks),
            "chunks": len(problem.chunks),
            "chunk_size": max((c.n for c in problem.chunks), default=0),
            "constructive": _value(problem.chunks, hint, weights),
            "cp_sat": _value(problem.chunks, solution.weeks, weights),
            "solver": solution.status,
            "seconds": round(solution.seconds, 3),
        })
    moves = _refine(regions, weeks_of, spent, budget_left, calendar, weights)
    plan = _assemble(prep, regions, weeks_of, resources, calendar)
    devices_free = prep.devices
    shortfall = crew_shortfall(devices_free, capacity, calendar)
    money = budget_shortfall(devices_free, capacity, budget_left, calendar)
    objective = evaluate(plan, prep.items, calendar, weights, prep.risks)
    fixed_part = _fixed_objective(prep, calendar, weights)
    lower = master.lower_bound + fixed_part + _invalid(prep, calendar, weights)
    gap = _gap(objective.risk_weighted, lower)
    status: Status
    if not prep.items and not plan.assignments:
        status = "empty"
    elif plan.unscheduled:
        status = "incomplete"
    elif objective.late_devices:
        status = "late"
    else:
        status = "optimal" if gap <= 1e-9 else "feasible"
    plan.status = status
    plan.feasible = status in ("optimal", "feasible", "empty")
    plan.shortfall = shortfall
    plan.summary = _summary(plan, prep, objective, weights, calendar, lower, gap)
    plan.summary["budget_shortfall"] = [m.as_dict() for m in money]
    plan.summary["method"] = {
        "name": METHOD,
        "master": {
            "iterations": master.iterations,
            "seconds": round(master.seconds, 3),
            "multipliers": master.multipliers,
            "relaxed_late_device_weeks": master.relaxed_late_weeks,
            "relaxed_left_out": master.relaxed_unscheduled,
        },
        "regions": stats,
        "refine_moves": moves,
    }
    plan.summary["warnings"] = _overcommitted(prep, calendar)
    plan.summary["replan"] = {
        "frozen": prep.fixed.frozen,
        "done": prep.fixed.done,
        "dropped": prep.fixed.dropped,
        "freeze_weeks": freeze_weeks if current is not None else 0,
    }
    plan.solve_seconds = round(time.perf_counter() - started, 3)
    return plan


def _value(chunks: Sequence[Chunk], weeks: Sequence[int | None], weights: Weights) -> int:
    """Unscheduled + lateness + risk terms of one region's chunks in these weeks."""
    return sum(
        chunk.left_out(weights) if week is None else chunk.objective(week, weights)
        for chunk, week in zip(chunks, weeks, strict=True)
    )


def _overcommitted(prep: Prepared, calendar: Calendar) -> list[str]:
    """Fixed work the new resources cannot carry: kept as asked, and said out loud."""
    out = []
    for region, used in sorted(prep.fixed.capacity_used.items()):
        caps = calendar.capacity.get(region)
        for week, n in sorted(used.items()):
            if caps is None or n > caps[week]:
                cap = 0 if caps is None else caps[week]
                out.append(f"fixed work in {region}, week of {calendar.week_start(week)}: "
                           f"{n} removals, capacity {cap}")
    for period, cents in sorted(prep.fixed.budget_used.items()):
        if cents > calendar.budget_cents[period]:
            begin, end = calendar.budget_spans[period]
            out.append(f"fixed work spends {cents / 100:,.2f} in [{begin}, {end}), "
                       f"budget {calendar.budget_cents[period] / 100:,.2f}")
    return out


def _current_allocation(
    current: Plan, prep: Prepared, calendar: Calendar, budget_left: Sequence[int]
) -> dict[str, dict[int, int]] | None:
    """What the current plan spends per region and period on the work planned again, if the
    budgets still cover it: re-planning then starts from the split that plan was made with."""
    open_ids = {prep.items[d.item].asset_id for d in prep.devices}
    out: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    total = [0] * len(budget_left)
    for a in current.assignments:
        week = calendar.week_of(a.week_start)
        if a.asset_id not in open_ids or not 0 <= week < calendar.weeks:
            continue
        period = calendar.budget_of_week[week]
        if period is not None:
            cents = round(a.cost * CENTS)
            out[a.region][period] += cents
            total[period] += cents
    if any(spend > left for spend, left in zip(total, budget_left, strict=True)):
        return None
    return {region: dict(periods) for region, periods in out.items()}


def _prefer_current(
    regions: Sequence[RegionProblem], prep: Prepared, current: Plan, calendar: Calendar
) -> None:
    """Mark each chunk with its week in the current plan, so that ties keep it there."""
    weeks = {a.asset_id: calendar.week_of(a.week_start) for a in current.assignments}
    for problem in regions:
        for chunk in problem.chunks:
            known = [weeks[asset] for i in chunk.devices
                     if (asset := prep.items[prep.devices[i].item].asset_id) in weeks]
            if known:
                chunk.preferred = min(known)


def _indices(problem: RegionProblem) -> list[int]:
    return [i for chunk in problem.chunks for i in chunk.devices]


def _regions(
    prep: Prepared, capacity: dict[str, list[int]], resources: Resources
) -> list[RegionProblem]:
    """Per-region problems, biggest first (they get first call on unspent budget)."""
    by_region: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(prep.devices):
        by_region[d.region].append(i)
    out = []
    for region, indices in by_region.items():
        crews = resources.region(region)
        assert crews is not None
        size = chunk_size(len(indices), crews.weekly_capacity)
        chunks = build_chunks(prep.devices, region, indices, size)
        out.append(RegionProblem(region, chunks, capacity[region]))
    return sorted(out, key=lambda r: (-sum(c.n for c in r.chunks), r.region))


def _spend(
    chunks: Sequence[Chunk], weeks: Sequence[int | None], calendar: Calendar
) -> Counter[int]:
    out: Counter[int] = Counter()
    for chunk, week in zip(chunks, weeks, strict=True):
        if week is not None:
            period = calendar.budget_of_week[week]
            if period is not None:
                out[period] += chunk.cost
    return out


def _refine(
    regions: Sequence[RegionProblem],
    weeks_of: dict[str, list[int | None]],
    spent: dict[str, Counter[int]],
    budget_left: Sequence[int],
    calendar: Calendar,
    weights: Weights,
) -> int:
    """Spend the national leftovers: move work earlier where capacity and budget allow."""
    money = {
        p: budget_left[p] - sum(s[p] for s in spent.values()) for p in range(len(budget_left))
    }
    moves = 0
    for problem in regions:
        weeks = weeks_of[problem.region]
        room = list(problem.capacity)
        for chunk, week in zip(problem.chunks, weeks, strict=True):
            if week is not None:
                room[week] -= chunk.n
        moves += improve(problem.chunks, weeks, room, money, calendar.budget_of_week, weights)
    return moves


def _assemble(
    prep: Prepared,
    regions: Sequence[RegionProblem],
    weeks_of: dict[str, list[int | None]],
    resources: Resources,
    calendar: Calendar,
) -> Plan:
    assignments: list[Assignment] = list(prep.fixed.assignments.values())
    unscheduled = list(prep.unscheduled)
    starts = [calendar.week_start(w) for w in range(calendar.weeks)]
    for problem in regions:
        weeks = weeks_of[problem.region]
        total = sum(problem.capacity)
        demand = sum(c.n for c in problem.chunks)
        reasons: list[str | None] = []
        for chunk, week in zip(problem.chunks, weeks, strict=True):
            reason = None
            if week is None:  # the tail of a site's chain shares its head's reason
                inherited = reasons[chunk.prev] if chunk.prev is not None else None
                reason = inherited or _reason(problem, chunk, total, demand, calendar)
            reasons.append(reason)
            for i in chunk.devices:
                item = prep.items[prep.devices[i].item]
                assert item.asset_id is not None and item.region is not None
                if reason is not None:
                    unscheduled.append(Unscheduled(asset_id=item.asset_id, reason=reason))
                    continue
                assert week is not None
                assignments.append(
                    Assignment(
                        asset_id=item.asset_id,
                        site_id=item.site_id,
                        region=item.region,
                        week_start=starts[week],
                        cost=resources.unit_cost(item.device_type) or 0.0,
                        deadline=item.deadline,
                        policy=item.policy,
                    )
                )
    assignments.sort(key=lambda a: (a.week_start, a.region, a.site_id or "", a.asset_id))
    return Plan.model_construct(  # its parts are validated models already
        feasible=False,
        status="incomplete",
        solve_seconds=0.0,
        assignments=assignments,
        unscheduled=unscheduled,
        shortfall=[],
    )


def _reason(
    problem: RegionProblem, chunk: Chunk, total: int, demand: int, calendar: Calendar
) -> str:
    """Why a chunk is left out, most specific cause first."""
    if chunk.ub < NO_DEADLINE:  # bounded by a recorder kept from the current plan
        weeks = range(max(0, chunk.lb), min(chunk.ub + 1, calendar.weeks))
        if not any(problem.capacity[w] >= chunk.n for w in weeks):
            return ("its site's recorder is kept in an earlier week with no capacity left "
                    "before it; move the recorder or free a week")
    if demand > total:
        return (f"crews in region {problem.region!r} can remove {total} of the {demand} devices "
                f"within the {calendar.weeks}-week horizon; see shortfall")
    return ("the budget runs out before a week with free crew capacity; "
            "see summary.budget_shortfall")


def _invalid(prep: Prepared, calendar: Calendar, weights: Weights) -> int:
    """The objective of the items no plan can schedule (missing data): left out in any plan."""
    index = {item.asset_id: i for i, item in enumerate(prep.items)}
    total = 0
    for u in prep.unscheduled:
        i = index.get(u.asset_id)
        item = prep.items[i] if i is not None else None
        due = (NO_DEADLINE if item is None or item.deadline is None
               else calendar.deadline_week(item.deadline))
        total += weights.left_out(prep.risks[i] if i is not None else 1, due)
    return total


def _fixed_objective(prep: Prepared, calendar: Calendar, weights: Weights) -> int:
    """Lateness and risk of frozen (not done) work: fixed, so part of every plan's objective."""
    by_id = {item.asset_id: i for i, item in enumerate(prep.items)}
    total = 0
    for asset_id, a in prep.fixed.assignments.items():
        if a.done:
            continue
        week = calendar.week_of(a.week_start)
        index = by_id.get(asset_id)
        risk = prep.risks[index] if index is not None else 1
        if a.deadline is not None:
            due = calendar.deadline_week(a.deadline)
            total += weights.lateness(due) * max(0, week - due)
        total += weights.risk * risk * (week + 1)
    return total


def _gap(value: int, lower: float) -> float:
    if value <= 0:
        return 0.0
    return max(0.0, (value - lower) / value)


def _summary(
    plan: Plan,
    prep: Prepared,
    objective: Objective,
    weights: Weights,
    calendar: Calendar,
    lower: float,
    gap: float,
) -> dict[str, Any]:
    open_work = [a for a in plan.assignments if not a.done]
    weeks = sorted({a.week_start for a in open_work})
    per_region: dict[str, dict[str, Any]] = {}
    spend_per_budget = [0] * len(calendar.budget_cents)
    late_weeks = 0
    for a in open_work:
        row = per_region.setdefault(a.region, {"region": a.region, "devices": 0, "cost": 0.0,
                                               "first_week": a.week_start,
                                               "last_week": a.week_start, "late": 0})
        row["devices"] += 1
        row["cost"] += a.cost
        row["first_week"] = min(row["first_week"], a.week_start)
        row["last_week"] = max(row["last_week"], a.week_start)
        week = calendar.week_of(a.week_start)
        if a.deadline is not None and week > calendar.deadline_week(a.deadline):
            row["late"] += 1
            late_weeks += week - calendar.deadline_week(a.deadline)
        period = calendar.budget_of_week[week] if 0 <= week < calendar.weeks else None
        if period is not None:
            spend_per_budget[period] += round(a.cost * CENTS)
    return {
        "findings": len(prep.items),
        "merged_duplicate_findings": prep.duplicates,
        "scheduled": len(open_work),
        "done": prep.fixed.done,
        "frozen": prep.fixed.frozen,
        "unscheduled": len(plan.unscheduled),
        "late": objective.late_devices,
        "overdue_at_start": sum(1 for d in prep.devices if d.deadline < 0),
        "late_device_weeks": late_weeks,
        "total_cost": _money(sum(a.cost for a in open_work)),
        "first_week": weeks[0].isoformat() if weeks else None,
        "last_week": weeks[-1].isoformat() if weeks else None,
        "weeks_with_work": len(weeks),
        "sites": len({a.site_id for a in open_work}),
        "site_visits": objective.site_visits,
        "budget_use": [
            {"from": span[0].isoformat(), "to": span[1].isoformat(),
             "budget": _money(cents / CENTS), "planned": _money(spend / CENTS)}
            for span, cents, spend in zip(calendar.budget_spans, calendar.budget_cents,
                                          spend_per_budget, strict=True)
        ],
        "per_region": [
            {**row, "cost": _money(row["cost"]), "first_week": row["first_week"].isoformat(),
             "last_week": row["last_week"].isoformat()}
            for row in sorted(per_region.values(), key=lambda r: r["region"])
        ],
        "objective": objective.as_dict(),
        "weights": weights.as_dict(),
        "lower_bound": round(lower, 1),
        "gap": round(gap, 6),
    }


def _money(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)

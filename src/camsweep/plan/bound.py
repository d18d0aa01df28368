"""The master step: a proven lower bound, and the national budget shared out among regions.

Relax everything that ties devices together (sites, recorder order, chunking, integrality
of the budget split) and what is left is, per region, a transportation problem: classes of
identical devices (same deadline week, risk and unit cost) to weeks of capacity, with an
overflow for devices that do not fit. Budgets are the only link between regions; they are
priced out with Lagrange multipliers, one per budget period:

    L(lambda) = sum over regions of MinCostFlow_r(cost + lambda_p * unit cost)
                - sum over periods of lambda_p * budget_p

Every L(lambda) with lambda >= 0 is a lower bound on the lateness + risk part of the objective
of any plan (weak duality), and its best value equals the LP relaxation's. The multipliers are
improved by projected subgradient steps towards a moving target (Polyak's step with a target
that doubles after each improvement and shrinks after stalls, since the optimum may be orders
of magnitude away); each step is one small min-cost flow per region (OR-Tools' cost-scaling
solver), a few milliseconds each. The flows at the best multipliers say how much each region
should spend in each period: that is the budget each region's plan starts from.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from camsweep.plan.problem import NO_DEADLINE, Device, Weights

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
MAX_ITERATIONS = 60
STALL_LIMIT = 2
SCALE = 1000  # flow costs are in 1/1000 objective units, so small prices still count


@dataclass
class RegionClasses:
    """One region's devices as classes, and its open weeks."""

    region: str
    deadline: IntArray
    risk: IntArray
    cost: IntArray
    count: IntArray
    weeks: IntArray  # open weeks (free capacity > 0)
    capacity: IntArray  # free capacity in those weeks

    @classmethod
    def build(
        cls, region: str, devices: Sequence[Device], indices: Sequence[int], capacity: Sequence[int]
    ) -> RegionClasses:
        counts = Counter((devices[i].deadline, devices[i].risk, devices[i].cost) for i in indices)
        keys = sorted(counts)
        weeks = [w for w, cap in enumerate(capacity) if cap > 0]
        return cls(
            region=region,
            deadline=np.array([k[0] for k in keys], dtype=np.int64),
            risk=np.array([k[1] for k in keys], dtype=np.int64),
            cost=np.array([k[2] for k in keys], dtype=np.int64),
            count=np.array([counts[k] for k in keys], dtype=np.int64),
            weeks=np.array(weeks, dtype=np.int64),
            capacity=np.array([capacity[w] for w in weeks], dtype=np.int64),
        )

    def left_out(self, weights: Weights) -> IntArray:
        """The objective of leaving one device of each class out of the plan."""
        pairs = zip(self.risk, self.deadline, strict=True)
        return np.array([weights.left_out(int(r), int(d)) for r, d in pairs], dtype=np.int64)

    def base_costs(self, weights: Weights) -> IntArray:
        """Lateness + risk of one device of each class in each open week (classes x weeks)."""
        week = self.weeks[None, :]
        return np.asarray(
            _lateness(self) * np.where(self.deadline < 0, weights.overdue, weights.late)[:, None]
            + weights.risk * self.risk[:, None] * (week + 1),
            dtype=np.int64,
        )


def _lateness(rc: RegionClasses) -> IntArray:
    """Weeks late of one device of each class in each open week (classes x weeks)."""
    late = np.maximum(0, rc.weeks[None, :] - rc.deadline[:, None])
    return np.asarray(np.where(rc.deadline[:, None] == NO_DEADLINE, 0, late), dtype=np.int64)


@dataclass
class FlowResult:
    cost: float  # objective of this region's relaxed plan, multiplier terms included
    spend: IntArray  # cents spent per budget period
    late_weeks: int
    unscheduled: int


def solve_region(
    rc: RegionClasses,
    base: IntArray,
    price_per_week: FloatArray,
    budget_of_week: IntArray,
    periods: int,
    weights: Weights,
) -> FlowResult:
    """Min-cost flow of one region under prices (objective units per cent) per week."""
    k, w = base.shape
    total = int(rc.count.sum())
    if k == 0:
        return FlowResult(0, np.zeros(periods, dtype=np.int64), 0, 0)
    priced = base * SCALE + np.floor(
        SCALE * price_per_week[rc.weeks][None, :] * rc.cost[:, None]
    ).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    classes = np.arange(k, dtype=np.int32)
    weeks = np.arange(k, k + w, dtype=np.int32)
    overflow, sink = k + w, k + w + 1
    flow.add_arcs_with_capacity_and_unit_cost(
        np.repeat(classes, w), np.tile(weeks, k), np.repeat(rc.count, w), priced.ravel()
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        classes, np.full(k, overflow, dtype=np.int32), rc.count,
        rc.left_out(weights) * SCALE,
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        weeks, np.full(w, sink, dtype=np.int32), rc.capacity, np.zeros(w, dtype=np.int64)
    )
    flow.add_arc_with_capacity_and_unit_cost(overflow, sink, total, 0)
    flow.set_nodes_supplies(classes, rc.count)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:  # cannot happen: the overflow arc makes every instance feasible
        raise RuntimeError(f"min-cost flow failed for region {rc.region}: {status}")
    amounts = np.asarray(flow.flows(np.arange(k * w, dtype=np.int32)), dtype=np.int64).reshape(k, w)
    spend_week = (amounts * rc.cost[:, None]).sum(axis=0)
    capped = budget_of_week[rc.weeks] >= 0
    spend = np.bincount(
        budget_of_week[rc.weeks][capped], weights=spend_week[capped], minlength=periods
    ).astype(np.int64)
    late = _lateness(rc)
    return FlowResult(
        cost=int(flow.optimal_cost()) / SCALE,
        spend=spend,
        late_weeks=int((amounts * late).sum()),
        unscheduled=total - int(amounts.sum()),
    )


def region_bound(rc: RegionClasses, weights: Weights) -> float:
    """A lower bound for one region on its own: its capacity only, budgets ignored."""
    weeks = int(rc.weeks.max()) + 1 if len(rc.weeks) else 0
    result = solve_region(
        rc, rc.base_costs(weights), np.zeros(weeks), np.full(weeks, -1, dtype=np.int64), 0, weights
    )
    return result.cost


@dataclass
class MasterResult:
    lower_bound: float  # on unscheduled + lateness + risk terms, free work only
    allocation: dict[str, dict[int, int]]  # region -> budget period -> cents
    multipliers: list[float]
    iterations: int
    seconds: float
    relaxed_late_weeks: int
    relaxed_unscheduled: int
    flows: dict[str, FlowResult]  # at the best multipliers, per region


def solve_master(
    classes: Sequence[RegionClasses],
    budget_of_week: Sequence[int | None],
    budget_cents: Sequence[int],
    weights: Weights,
    *,
    time_limit: float = 5.0,
) -> MasterResult:
    """Best Lagrangian bound found within the time limit, and the budget split it implies."""
    started = time.perf_counter()
    periods = len(budget_cents)
    bow = np.array([-1 if b is None else b for b in budget_of_week], dtype=np.int64)
    budgets = np.array(budget_cents, dtype=np.float64)
    bases = [rc.base_costs(weights) for rc in classes]
    lam = np.zeros(periods, dtype=np.float64)
    best_value = -np.inf
    best: tuple[np.ndarray, list[FlowResult]] | None = None
    delta = 0.0
    stall = 0
    iterations = 0
    while True:
        iterations += 1
        price = np.where(bow >= 0, lam[np.maximum(bow, 0)], 0.0) if periods else np.zeros(len(bow))
        results = [
            solve_region(rc, base, price, bow, periods, weights)
            for rc, base in zip(classes, bases, strict=True)
        ]
        spend = np.sum([r.spend for r in results], axis=0) if periods else np.zeros(0)
        value = float(sum(r.cost for r in results) - float(lam @ budgets))
        improved = best is None or value > best_value + 1e-9 * max(1.0, abs(best_value))
        if improved:
            best_value, best, stall = value, (lam.copy(), results), 0
        else:
            stall += 1
        grad = spend - budgets  # a subgradient of L at lam
        grad = np.where((lam <= 0) & (grad < 0), 0.0, grad)  # projected
        slack_ok = bool(np.all(grad <= 0)) and abs(float(lam @ (spend - budgets))) <= 1e-6 * max(
            1.0, abs(value)
        )
        elapsed = time.perf_counter() - started
        if (
            periods == 0
            or slack_ok
            or iterations >= MAX_ITERATIONS
            or elapsed > time_limit
            or not np.any(grad)
        ):
            break
        if delta == 0.0:
            delta = 0.01 * max(1.0, abs(value))
        elif improved:
            delta *= 2.0  # the optimum may be orders of magnitude away: reach out faster
        elif stall >= STALL_LIMIT:
            delta *= 0.25
            stall = 0
        target = best_value + delta
        step = (target - value) / float(grad @ grad)
        lam = np.maximum(0.0, lam + step * grad)
    assert best is not None
    lam_best, flows = best
    allocation = _share_budget(classes, flows, budgets)
    return MasterResult(
        lower_bound=best_value,
        allocation=allocation,
        multipliers=[float(x) for x in lam_best],
        iterations=iterations,
        seconds=time.perf_counter() - started,
        relaxed_late_weeks=sum(r.late_weeks for r in flows),
        relaxed_unscheduled=sum(r.unscheduled for r in flows),
        flows={rc.region: r for rc, r in zip(classes, flows, strict=True)},
    )


def _share_budget(
    classes: Sequence[RegionClasses], flows: Sequence[FlowResult], budgets: FloatArray
) -> dict[str, dict[int, int]]:
    """Each region gets its relaxed spend per period, scaled down where periods overspend."""
    periods = len(budgets)
    if not periods:
        return {rc.region: {} for rc in classes}
    spend = np.array([r.spend for r in flows], dtype=np.float64).reshape(len(flows), periods)
    total = spend.sum(axis=0)
    scale = np.where(total > budgets, budgets / np.maximum(total, 1.0), 1.0)
    shares = np.floor(spend * scale[None, :]).astype(np.int64)
    return {
        rc.region: {p: int(shares[i, p]) for p in range(periods)} for i, rc in enumerate(classes)
    }

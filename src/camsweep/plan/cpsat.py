"""One region's schedule as a CP-SAT model over chunks (see docs/planning.md, "Model").

Variables per chunk c: its week S_c, presence p_c (absent = left out of the plan), one literal
per budget segment its window touches, lateness per deadline it holds, and for chained chunks of
a site a literal g_c "a new visit". Constraints:

- capacity: a cumulative over one-week intervals, demand = devices, with fixed intervals eating
  the capacity that frozen work already uses; closed (blackout) weeks are not in any domain;
- budget: sum of cost over the chunks in a period <= the region's share of that period;
- site order: S_prev <= S_c and p_c => p_prev, so recorders follow the cameras they serve;
- visits: S_c == S_prev unless g_c.

Objective: U * devices left out + L * late device-weeks + R * risk-weighted weeks
+ V * new visits + S * peak spending rate. Each chunk may only move within `window` weeks of
its place in the hint, which keeps the model small (a large-neighbourhood step around a good
plan) and the hint feasible; chunks the hint left out may go anywhere.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from camsweep.plan.problem import NO_DEADLINE, SPREAD_UNIT, Chunk, RegionProblem, Weights
from camsweep.plan.resources import Segment

DEFAULT_WINDOW = 8


@dataclass
class RegionSolution:
    weeks: list[int | None]
    status: str
    seconds: float
    objective: float | None = None
    best_bound: float | None = None


def solve_region(
    problem: RegionProblem,
    hint: Sequence[int | None],
    budget_of_week: Sequence[int | None],
    segments: Sequence[Segment],
    segment_of_week: Sequence[int],
    weights: Weights,
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    window: int = DEFAULT_WINDOW,
    stop_at: float | None = None,
) -> RegionSolution:
    """Improve `hint` for one region with CP-SAT; falls back to the hint if no better plan.

    `stop_at` is a proven lower bound on the region's unscheduled + lateness + risk terms:
    a solution that reaches it with no extra site visits cannot be improved, so search stops.
    """
    started = time.perf_counter()
    chunks = problem.chunks
    capacity = problem.capacity
    top = max(capacity, default=0)
    if not chunks or top <= 0:
        return RegionSolution(list(hint), "trivial", time.perf_counter() - started)
    model = cp_model.CpModel()
    weeks = len(capacity)
    vars_: list[_ChunkVars | None] = [None] * len(chunks)
    objective: list[cp_model.LinearExprT] = []
    intervals: list[cp_model.IntervalVar] = []
    demands: list[int] = []
    spend: dict[int, list[tuple[cp_model.IntVar, int]]] = {}
    for c, ch in enumerate(chunks):
        before = None if ch.prev is None else vars_[ch.prev]
        if ch.prev is not None and before is None:
            continue  # its predecessor cannot be placed, so neither can it
        placed = hint[c]
        lo, hi = max(0, ch.lb), min(weeks - 1, ch.ub)
        if placed is not None:
            lo, hi = max(lo, placed - window), min(hi, placed + window)
        domain = [w for w in range(lo, hi + 1) if capacity[w] >= ch.n]
        if not domain:
            continue
        s = model.new_int_var_from_domain(cp_model.Domain.from_values(domain), f"s{c}")
        p = model.new_bool_var(f"p{c}")
        cv = _ChunkVars(s, p)
        vars_[c] = cv
        if c in problem.required:
            model.add(p == 1)
        intervals.append(model.new_optional_fixed_size_interval_var(s, 1, p, f"i{c}"))
        demands.append(ch.n)
        objective.append(weights.risk * ch.risk * s)
        objective.append(-ch.left_out(weights) * p)
        for deadline, n in ch.lateness:
            if domain[-1] > deadline:
                late = model.new_int_var(0, domain[-1] - deadline, f"l{c}_{deadline}")
                model.add(late >= s - deadline).only_enforce_if(p)
                objective.append(weights.lateness(deadline) * n * late)
                cv.late.append((late, deadline))
        segs = sorted({segment_of_week[w] for w in domain})
        if len(segs) == 1:
            spend.setdefault(segs[0], []).append((p, ch.cost))
        else:
            for k in segs:
                x = model.new_bool_var(f"x{c}_{k}")
                seg = segments[k]
                model.add_linear_constraint(s, seg.first, seg.stop - 1).only_enforce_if(x)
                spend.setdefault(k, []).append((x, ch.cost))
                cv.segments.append((x, k))
            model.add(sum(x for x, _ in cv.segments) == p)
        if before is not None:
            model.add(s >= before.start)
            model.add_implication(p, before.present)
            visit = model.new_bool_var(f"g{c}")
            model.add(s <= before.start).only_enforce_if(~visit)
            objective.append(weights.visit * visit)
            cv.visit = visit
    if any(vars_[c] is None for c in problem.required):
        return RegionSolution(list(hint), "hint (a kept chunk has no week)",
                              time.perf_counter() - started)
    for w, cap in enumerate(capacity):
        if 0 < cap < top:
            intervals.append(model.new_fixed_size_interval_var(w, 1, f"used{w}"))
            demands.append(top - cap)
    model.add_cumulative(intervals, demands, top)
    peak = _budget_and_spread(model, spend, segments, problem.budget, objective, weights)
    model.minimize(sum(objective))
    _hint(model, problem, hint, vars_, segment_of_week)
    if peak is not None:
        model.add_hint(peak, _peak(problem, hint, segments, segment_of_week))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    solver.parameters.cp_model_probing_level = 0  # probing costs seconds and finds little here
    solver.parameters.symmetry_level = 0
    callback = _StopAtBound(chunks, vars_, weights, stop_at)
    status = solver.solve(model, callback if stop_at is not None else None)
    name = solver.status_name(status).lower()
    if callback.reached and status == cp_model.FEASIBLE:
        name = "optimal (bound reached)"
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return RegionSolution(list(hint), f"hint ({name})", time.perf_counter() - started)
    out: list[int | None] = [
        int(solver.value(cv.start)) if cv is not None and solver.boolean_value(cv.present) else None
        for cv in vars_
    ]
    seconds = time.perf_counter() - started
    return RegionSolution(out, name, seconds, solver.objective_value, solver.best_objective_bound)


class _StopAtBound(cp_model.CpSolverSolutionCallback):
    """Stops the search once a solution meets the lower bound with no extra visits."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        vars_: Sequence[_ChunkVars | None],
        weights: Weights,
        bound: float | None,
    ) -> None:
        super().__init__()
        self.chunks, self.vars_, self.weights, self.bound = chunks, vars_, weights, bound
        self.reached = False

    def on_solution_callback(self) -> None:
        if self.bound is None:
            return
        value = 0
        for chunk, cv in zip(self.chunks, self.vars_, strict=True):
            if cv is None or not self.boolean_value(cv.present):
                value += chunk.left_out(self.weights)
                continue
            value += chunk.objective(int(self.value(cv.start)), self.weights)
            if cv.visit is not None and self.boolean_value(cv.visit):
                return
        if value <= self.bound + 1e-6:
            self.reached = True
            self.stop_search()


@dataclass
class _ChunkVars:
    start: cp_model.IntVar
    present: cp_model.IntVar
    late: list[tuple[cp_model.IntVar, int]] = field(default_factory=list)
    segments: list[tuple[cp_model.IntVar, int]] = field(default_factory=list)
    visit: cp_model.IntVar | None = None


def _budget_and_spread(
    model: cp_model.CpModel,
    spend: dict[int, list[tuple[cp_model.IntVar, int]]],
    segments: Sequence[Segment],
    budget: dict[int, int],
    objective: list[cp_model.LinearExprT],
    weights: Weights,
) -> cp_model.IntVar | None:
    """Budget caps per period; returns the peak spending rate variable (None if no spend)."""
    per_period: dict[int, list[tuple[cp_model.IntVar, int]]] = {}
    for k, terms in spend.items():
        period = segments[k].budget
        if period is not None:
            per_period.setdefault(period, []).extend(terms)
    for period, terms in per_period.items():
        if sum(cost for _, cost in terms) > budget.get(period, 0):
            model.add(sum(cost * x for x, cost in terms) <= budget.get(period, 0))
    if not spend:
        return None
    most = max(sum(cost for _, cost in terms) for terms in spend.values())
    peak = model.new_int_var(0, most // SPREAD_UNIT + 1, "peak")
    for k, terms in spend.items():
        model.add(sum(cost * x for x, cost in terms) <= peak * segments[k].weeks * SPREAD_UNIT)
    objective.append(weights.spread * peak)
    return peak


def _peak(
    problem: RegionProblem,
    weeks: Sequence[int | None],
    segments: Sequence[Segment],
    segment_of_week: Sequence[int],
) -> int:
    spend = [0] * len(segments)
    for chunk, week in zip(problem.chunks, weeks, strict=True):
        if week is not None:
            spend[segment_of_week[week]] += chunk.cost
    return max(
        -(-cents // (seg.weeks * SPREAD_UNIT)) for cents, seg in zip(spend, segments, strict=True)
    )


def _hint(
    model: cp_model.CpModel,
    problem: RegionProblem,
    hint: Sequence[int | None],
    vars_: Sequence[_ChunkVars | None],
    segment_of_week: Sequence[int],
) -> None:
    """Hint every variable from the constructive plan, so the solver starts from it."""
    for c, ch in enumerate(problem.chunks):
        cv = vars_[c]
        if cv is None:
            continue
        w = hint[c]
        model.add_hint(cv.present, w is not None)
        if w is None:
            continue
        model.add_hint(cv.start, w)
        for late, deadline in cv.late:
            model.add_hint(late, max(0, w - deadline))
        for x, k in cv.segments:
            model.add_hint(x, segment_of_week[w] == k)
        if cv.visit is not None and ch.prev is not None:
            model.add_hint(cv.visit, hint[ch.prev] != w)


BLOCK_CHUNKS = 150  # CP-SAT's neighbourhood search moves well on models of about this size
BLOCK_SECONDS = 0.25  # below this a block barely gets past presolve


def refine_region(
    problem: RegionProblem,
    hint: Sequence[int | None],
    budget_of_week: Sequence[int | None],
    segments: Sequence[Segment],
    segment_of_week: Sequence[int],
    weights: Weights,
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    block: int | None = None,
    stop_at: float | None = None,
) -> RegionSolution:
    """CP-SAT over the region in blocks of at most `block` chunks taken in week order, the
    rest held where they are: a rolling horizon that keeps each model small enough to move.

    Blocks are solved earliest weeks first (where the riskiest work is) for as many as the
    time allows at `BLOCK_SECONDS` or more each; the rest keep the constructive plan.
    """
    started = time.perf_counter()
    block = block or BLOCK_CHUNKS
    if len(problem.chunks) <= block:  # one model, every week open to every chunk
        return solve_region(problem, hint, budget_of_week, segments, segment_of_week, weights,
                            time_limit=time_limit, workers=workers, seed=seed,
                            window=len(problem.capacity), stop_at=stop_at)
    weeks = list(hint)
    order = sorted(range(len(weeks)), key=lambda c: (weeks[c] is None, weeks[c] or 0, c))
    blocks = [order[i : i + block] for i in range(0, len(order), block)]
    total = len(blocks)
    blocks = blocks[: max(1, int(time_limit / BLOCK_SECONDS))]
    statuses: Counter[str] = Counter()
    for index, members in enumerate(blocks):
        left = time_limit - (time.perf_counter() - started)
        if left <= 0.05:
            break
        members.sort(key=lambda c: (weeks[c] is None, weeks[c] or 0, c))
        sub = _subproblem(problem, weeks, members, budget_of_week)
        solution = solve_region(
            sub, [weeks[c] for c in members], budget_of_week, segments, segment_of_week,
            weights, time_limit=left / (len(blocks) - index), workers=workers, seed=seed,
        )
        statuses[solution.status.split(" ")[0]] += 1
        for c, week in zip(members, solution.weeks, strict=True):
            weeks[c] = week
    status = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none solved"
    return RegionSolution(
        weeks, f"cp-sat on {len(blocks)} of {total} blocks: {status}", time.perf_counter() - started
    )


def _subproblem(
    problem: RegionProblem,
    weeks: Sequence[int | None],
    members: Sequence[int],
    budget_of_week: Sequence[int | None],
) -> RegionProblem:
    """The block's chunks, with what the rest of the region uses taken out of the limits."""
    inside = {c: j for j, c in enumerate(members)}
    capacity = list(problem.capacity)
    budget = dict(problem.budget)
    for c, (chunk, week) in enumerate(zip(problem.chunks, weeks, strict=True)):
        if c in inside or week is None:
            continue
        capacity[week] -= chunk.n
        period = budget_of_week[week]
        if period is not None:
            budget[period] = budget.get(period, 0) - chunk.cost
    chunks: list[Chunk] = []
    required: set[int] = set()
    for c in members:
        ch = problem.chunks[c]
        lb, ub = ch.lb, ch.ub
        prev = nxt = None
        if ch.prev is not None:
            if ch.prev in inside:
                prev = inside[ch.prev]
            else:
                before = weeks[ch.prev]
                lb = max(lb, before) if before is not None else NO_DEADLINE
        if ch.next is not None:
            if ch.next in inside:
                nxt = inside[ch.next]
            else:
                after = weeks[ch.next]
                if after is not None:  # a later chunk of the site stays: so must this one
                    ub = min(ub, after)
                    required.add(len(chunks))
        chunks.append(replace(ch, prev=prev, next=nxt, lb=lb, ub=ub))
    return RegionProblem(problem.region, chunks, capacity, budget, required)

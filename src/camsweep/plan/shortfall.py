"""Feasibility diagnosis: how many extra crew-weeks, where and when, would meet every deadline.

For one region, devices are unit jobs that may go in any open week up to their due week (a
site's cameras are due by its recorder's deadline; no deadline means the horizon's end). Such
a system is feasible exactly when, for every due week D,

    devices due by D  <=  free capacity in weeks 0..D            (Hall's condition)

so the least extra capacity is the running maximum of the excess over the due weeks, and it is
cheapest to add it as late as possible: in the window between the previous due week and the
first due week where the running maximum grows. Capacity is bought in crew-weeks (a crew for a
week, `crew_capacity` removals), so counts round up per window on the cumulative figure.

A deadline that has already passed when the plan starts cannot be met by any number of crews;
such devices only need to fit in the horizon (the plan removes them first, to keep their
lateness down).

Budgets are handled the same way nationally (cost due by D against the budget of the capped
weeks up to D; a prefix with any uncapped open week has no budget limit), reported as money.
Both conditions are necessary; the crew condition is also sufficient when budgets do not bind.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from camsweep.plan.problem import Device
from camsweep.plan.resources import CENTS, Calendar
from camsweep.plan.schema import Shortfall


@dataclass(frozen=True)
class BudgetShortfall:
    from_: date
    to: date
    extra_amount: float

    def as_dict(self) -> dict[str, object]:
        return {"from": self.from_.isoformat(), "to": self.to.isoformat(),
                "extra_amount": self.extra_amount}


def _due(d: Device, weeks: int) -> int:
    """The week a device must be removed by for every deadline that can still be met (its own,
    its site's recorders'); a deadline already past binds nothing. At the latest: the horizon."""
    return max(0, min(d.need, d.ub, weeks - 1))


def crew_shortfall(
    devices: Sequence[Device], capacity: dict[str, list[int]], calendar: Calendar
) -> list[Shortfall]:
    """Minimal extra crew-weeks per region and window for every deadline to be met."""
    by_region: dict[str, Counter[int]] = defaultdict(Counter)
    for d in devices:
        by_region[d.region][_due(d, calendar.weeks)] += 1
    out: list[Shortfall] = []
    for region in sorted(by_region):
        due = by_region[region]
        caps = capacity[region]
        crew = calendar.crew_capacity[region]
        prefix_cap = _prefix(caps)
        demand = 0
        bought = 0  # crew-weeks already added in earlier windows
        window_start = 0
        for week in sorted(due):
            demand += due[week]
            available = prefix_cap[week + 1]
            needed = math.ceil(max(0, demand - available) / crew)
            if needed > bought:
                first = _window_start(window_start, week, caps)
                out.append(
                    Shortfall(
                        region=region,
                        from_=calendar.week_start(first),
                        to=calendar.week_start(week + 1),
                        extra_crew_weeks=needed - bought,
                    )
                )
                bought = needed
                window_start = week + 1
    return out


def _window_start(start: int, week: int, caps: Sequence[int]) -> int:
    """The window's first week; if it has no open week, reach back to the last open one."""
    if any(caps[w] > 0 for w in range(start, week + 1)):
        return start
    open_before = [w for w in range(0, start) if caps[w] > 0]
    return open_before[-1] if open_before else start


def _prefix(values: Sequence[int]) -> list[int]:
    out = [0]
    for v in values:
        out.append(out[-1] + v)
    return out


def budget_shortfall(
    devices: Sequence[Device],
    capacity: dict[str, list[int]],
    budget_left: Sequence[int],
    calendar: Calendar,
) -> list[BudgetShortfall]:
    """Minimal extra money per window for the budget not to delay any deadline."""
    if not calendar.budget_cents:
        return []
    due_cost: Counter[int] = Counter()
    for d in devices:
        due_cost[_due(d, calendar.weeks)] += d.cost
    open_any = [any(capacity[r][w] > 0 for r in capacity) for w in range(calendar.weeks)]
    uncapped_open = [
        open_any[w] and calendar.budget_of_week[w] is None for w in range(calendar.weeks)
    ]
    out: list[BudgetShortfall] = []
    demand = 0
    bought = 0
    window_start = 0
    for week in sorted(due_cost):
        demand += due_cost[week]
        last = week
        if any(uncapped_open[: last + 1]):
            return out  # an uncapped open week before this deadline: money is no limit
        periods = {calendar.budget_of_week[w] for w in range(last + 1) if open_any[w]}
        available = sum(budget_left[p] for p in periods if p is not None)
        needed = max(0, demand - available)
        if needed > bought:
            out.append(
                BudgetShortfall(
                    from_=calendar.week_start(window_start),
                    to=calendar.week_start(last + 1),
                    extra_amount=(needed - bought) / CENTS,
                )
            )
            bought = needed
            window_start = last + 1
    return out

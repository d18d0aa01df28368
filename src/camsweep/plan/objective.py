"""Score any plan (CP-SAT, greedy, or one read back from disk) on the planner's objective."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date

from camsweep.plan.items import PlanItem, risk_points
from camsweep.plan.problem import SPREAD_UNIT, Weights
from camsweep.plan.resources import CENTS, Calendar
from camsweep.plan.schema import Plan


@dataclass(frozen=True)
class Objective:
    """The objective's components, most important first, and their weighted sum.

    `late_weeks` are weeks late on deadlines that could be met when the plan starts,
    `overdue_weeks` on deadlines already past then. Those two and `risk_weeks` count a device
    left out as removed in the week after the horizon; `late_devices` counts scheduled
    removals after their deadline.
    """

    unscheduled: int
    late_devices: int
    late_weeks: int
    overdue_weeks: int
    risk_weeks: int
    site_visits: int
    extra_visits: int
    peak_spend_rate: int  # thousands a week, highest over budget periods (or quarters)
    risk_weighted: int  # U * unscheduled + L * late_weeks + O * overdue_weeks + R * risk_weeks
    weighted: int  # risk_weighted + V * extra_visits + S * peak_spend_rate

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def evaluate(
    plan: Plan,
    items: Sequence[PlanItem],
    calendar: Calendar,
    weights: Weights,
    risks: Sequence[int] | None = None,
) -> Objective:
    """Components over the plan's open work (done removals are history, not objective).

    `items` are the merged findings the plan was made from; `risks` their risk points.
    """
    by_id = {item.asset_id: i for i, item in enumerate(items) if item.asset_id is not None}
    if risks is None:
        risks = risk_points(items)
    weeks_of: dict[date, int] = {}
    deadline_weeks: dict[date, int] = {}
    late_devices = risk_weeks = 0
    late = [0, 0]  # weeks late on deadlines that could be met, on deadlines already past
    site_weeks: dict[str, set[date]] = defaultdict(set)
    spend = [0] * len(calendar.segments)
    for a in plan.assignments:
        if a.done:
            continue
        week = weeks_of.get(a.week_start)
        if week is None:
            week = weeks_of[a.week_start] = calendar.week_of(a.week_start)
        index = by_id.get(a.asset_id)
        risk = risks[index] if index is not None else 1
        risk_weeks += risk * (week + 1)
        if a.deadline is not None:
            due = deadline_weeks.get(a.deadline)
            if due is None:
                due = deadline_weeks[a.deadline] = calendar.deadline_week(a.deadline)
            weeks_late = max(0, week - due)
            late[due < 0] += weeks_late
            late_devices += weeks_late > 0
        site_weeks[a.site_id or f"\0{a.asset_id}"].add(a.week_start)
        if 0 <= week < calendar.weeks:
            spend[calendar.segment_of_week[week]] += round(a.cost * CENTS)
    unscheduled = len(plan.unscheduled)
    for u in plan.unscheduled:  # counted as removed the week after the horizon (plus U)
        index = by_id.get(u.asset_id) if u.asset_id is not None else None
        risk_weeks += (risks[index] if index is not None else 1) * (calendar.weeks + 1)
        deadline = items[index].deadline if index is not None else None
        if deadline is not None:
            due = calendar.deadline_week(deadline)
            late[due < 0] += max(0, calendar.weeks - due)
    visits = sum(len(weeks) for weeks in site_weeks.values())
    peak = max(
        (-(-cents // (seg.weeks * SPREAD_UNIT)) for cents, seg in zip(spend, calendar.segments,
                                                                       strict=True)),
        default=0,
    )
    risk_weighted = (
        weights.unscheduled * unscheduled + weights.late * late[0] + weights.overdue * late[1]
        + weights.risk * risk_weeks
    )
    extra = visits - len(site_weeks)
    return Objective(
        unscheduled=unscheduled,
        late_devices=late_devices,
        late_weeks=late[0],
        overdue_weeks=late[1],
        risk_weeks=risk_weeks,
        site_visits=visits,
        extra_visits=extra,
        peak_spend_rate=peak,
        risk_weighted=risk_weighted,
        weighted=risk_weighted + weights.visit * extra + weights.spread * peak,
    )

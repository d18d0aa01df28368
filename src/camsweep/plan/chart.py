"""A Gantt-style chart of a plan: one lane per region, a bar per week of work.

A bar's shade is the share of the region's weekly capacity in use that week; red marks weeks
with late removals. Hatched grey marks blackout weeks, dashed lines the deadlines, dotted lines
the budget periods. PNG, SVG or PDF by the file's suffix. Uses Matplotlib's object API (no
pyplot, no display), so it runs headless and leaves no global state behind.

`timeline_data` is the chart's content without the drawing: reports draw the same content
interactively (Plotly) for HTML and with `draw_chart` for print.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from camsweep.errors import ConfigError
from camsweep.plan.resources import Calendar, Resources
from camsweep.plan.schema import Plan

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = frozenset({".png", ".svg", ".pdf"})
MAX_DEADLINE_LINES = 12


@dataclass(frozen=True)
class TimelineData:
    calendar: Calendar
    lanes: list[str]
    used: dict[str, Counter[int]]  # removals per region and week
    late: dict[str, set[int]]  # weeks holding late removals
    capacity: dict[str, int]  # a region's largest weekly capacity
    blackouts: dict[str, list[int]]  # weeks without capacity
    deadline_weeks: list[int]  # week boundaries (x) of the first deadlines
    budget_weeks: list[float]  # x of each budget period's start
    lo: int
    hi: int
    ticks: list[tuple[int, str]]  # week, label at each quarter's start
    scheduled: int

    def title(self, plan: Plan) -> str:
        return f"Removal plan: {self.scheduled:,} devices, status {plan.status}"


def timeline_data(plan: Plan, resources: Resources) -> TimelineData:
    calendar = Calendar.build(resources)
    regions = [r.id for r in resources.regions]
    used: dict[str, Counter[int]] = defaultdict(Counter)
    late: dict[str, set[int]] = defaultdict(set)
    for a in plan.assignments:
        week = calendar.week_of(a.week_start)
        used[a.region][week] += 1
        if a.deadline is not None and week > calendar.deadline_week(a.deadline):
            late[a.region].add(week)
    lanes = [r for r in regions if used.get(r)] or regions
    deadlines = sorted({a.deadline for a in plan.assignments if a.deadline is not None})
    first = min((min(c) for c in used.values() if c), default=0)
    last = max((max(c) for c in used.values() if c), default=calendar.weeks - 1)
    lo, hi = min(0, first), max(calendar.weeks, last + 1)
    return TimelineData(
        calendar=calendar,
        lanes=lanes,
        used=dict(used),
        late=dict(late),
        capacity={r: max(calendar.capacity.get(r, (1,)) or (1,)) or 1 for r in lanes},
        blackouts={r: [w for w, cap in enumerate(calendar.capacity.get(r, ())) if cap == 0]
                   for r in lanes},
        deadline_weeks=[calendar.deadline_week(d) + 1 for d in deadlines[:MAX_DEADLINE_LINES]],
        budget_weeks=[(begin - calendar.start).days / 7 for begin, _ in calendar.budget_spans],
        lo=lo,
        hi=hi,
        ticks=[(w, f"{day:%b %Y}") for w in range(lo, hi + 1)
               if (day := _quarter_start(calendar.week_start(w))) is not None],
        scheduled=sum(sum(c.values()) for c in used.values()),
    )


def draw_chart(plan: Plan, resources: Resources, *, title: str | None = None,
               width: float = 12) -> Figure:
    """The chart as a Matplotlib figure, for a caller that embeds it."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    data = timeline_data(plan, resources)
    figure = Figure(figsize=(width, 1.2 + 0.45 * len(data.lanes)), layout="constrained")
    ax = figure.add_subplot()
    for lane, region in enumerate(data.lanes):
        capacity = data.capacity[region]
        for week, n in sorted(data.used.get(region, Counter()).items()):
            share = min(1.0, n / capacity)
            color = (0.8, 0.15, 0.1) if week in data.late.get(region, ()) else (0.1, 0.3, 0.65)
            ax.broken_barh([(week, 1)], (lane - 0.35, 0.7),
                           facecolors=[(*color, 0.25 + 0.75 * share)])
        for week in data.blackouts[region]:
            ax.broken_barh([(week, 1)], (lane - 0.45, 0.9), facecolors="none",
                           edgecolors="0.6", hatch="///", linewidth=0)
    for x in data.deadline_weeks:
        ax.axvline(x, color="0.2", linestyle="--", linewidth=0.8)
    for budget_x in data.budget_weeks:
        ax.axvline(budget_x, color="0.5", linestyle=":", linewidth=0.6)
    ax.set_xticks([w for w, _ in data.ticks], [label for _, label in data.ticks], fontsize=8)
    ax.set_xlim(data.lo, data.hi)
    ax.set_yticks(range(len(data.lanes)), data.lanes)
    ax.set_ylim(len(data.lanes) - 0.5, -0.5)
    ax.grid(axis="x", color="0.9")
    ax.legend(
        handles=[
            Patch(facecolor=(0.1, 0.3, 0.65, 0.8), label="removals (shade = share of capacity)"),
            Patch(facecolor=(0.8, 0.15, 0.1, 0.8), label="week with late removals"),
            Patch(facecolor="none", edgecolor="0.6", hatch="///", label="blackout"),
        ],
        loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False, fontsize=8,
    )
    ax.set_title(title or data.title(plan))
    return figure


def write_chart(plan: Plan, resources: Resources, path: Path, *, title: str | None = None) -> Path:
    """Draw the plan's timeline to `path`; returns the path written."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"--chart {path}: use a .png, .svg or .pdf file name")
    figure = draw_chart(plan, resources, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=suffix[1:], dpi=120)
    return path


def _quarter_start(monday: date) -> date | None:
    """The first day of a calendar quarter in the week starting on `monday`, if any."""
    days = (monday + timedelta(days=k) for k in range(7))
    return next((d for d in days if d.day == 1 and d.month in (1, 4, 7, 10)), None)

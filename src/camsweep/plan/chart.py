"""A Gantt-style chart of a plan: one lane per region, a bar per week of work.

A bar's shade is the share of the region's weekly capacity in use that week; red marks weeks
with late removals. Hatched grey marks blackout weeks, dashed lines the deadlines, dotted lines
the budget periods. PNG, SVG or PDF by the file's suffix. Uses Matplotlib's object API (no
pyplot, no display), so it runs headless and leaves no global state behind.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

from camsweep.errors import ConfigError
from camsweep.plan.resources import Calendar, Resources
from camsweep.plan.schema import Plan

FORMATS = frozenset({".png", ".svg", ".pdf"})


def write_chart(plan: Plan, resources: Resources, path: Path, *, title: str | None = None) -> Path:
    """Draw the plan's timeline to `path`; returns the path written."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"--chart {path}: use a .png, .svg or .pdf file name")
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

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
    figure = Figure(figsize=(12, 1.2 + 0.45 * len(lanes)), layout="constrained")
    ax = figure.add_subplot()
    for lane, region in enumerate(lanes):
        capacity = max(calendar.capacity.get(region, (1,)) or (1,)) or 1
        for week, n in sorted(used[region].items()):
            share = min(1.0, n / capacity)
            color = (0.8, 0.15, 0.1) if week in late[region] else (0.1, 0.3, 0.65)
            ax.broken_barh([(week, 1)], (lane - 0.35, 0.7),
                           facecolors=[(*color, 0.25 + 0.75 * share)])
        for week, cap in enumerate(calendar.capacity.get(region, ())):
            if cap == 0:
                ax.broken_barh([(week, 1)], (lane - 0.45, 0.9), facecolors="none",
                               edgecolors="0.6", hatch="///", linewidth=0)
    deadlines = sorted({a.deadline for a in plan.assignments if a.deadline is not None})
    for deadline in deadlines[:12]:
        ax.axvline(calendar.deadline_week(deadline) + 1, color="0.2", linestyle="--",
                   linewidth=0.8)
    for begin, _end in calendar.budget_spans:
        ax.axvline((begin - calendar.start).days / 7, color="0.5", linestyle=":", linewidth=0.6)
    first = min((min(c) for c in used.values() if c), default=0)
    last = max((max(c) for c in used.values() if c), default=calendar.weeks - 1)
    lo, hi = min(0, first), max(calendar.weeks, last + 1)
    ticks = [w for w in range(lo, hi + 1) if _quarter_start(calendar.week_start(w))]
    ax.set_xticks(ticks, [f"{calendar.week_start(w):%b %Y}" for w in ticks], fontsize=8)
    ax.set_xlim(lo, hi)
    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    ax.grid(axis="x", color="0.9")
    ax.legend(
        handles=[
            Patch(facecolor=(0.1, 0.3, 0.65, 0.8), label="removals (shade = share of capacity)"),
            Patch(facecolor=(0.8, 0.15, 0.1, 0.8), label="week with late removals"),
            Patch(facecolor="none", edgecolor="0.6", hatch="///", label="blackout"),
        ],
        loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False, fontsize=8,
    )
    scheduled = sum(sum(c.values()) for c in used.values())
    ax.set_title(title or f"Removal plan: {scheduled:,} devices, status {plan.status}")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=suffix[1:], dpi=120)
    return path


def _quarter_start(monday: date) -> bool:
    """Does the week starting on `monday` hold the first day of a calendar quarter?"""
    days = (monday + timedelta(days=k) for k in range(7))
    return any(d.day == 1 and d.month in (1, 4, 7, 10) for d in days)

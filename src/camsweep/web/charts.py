"""Plotly figures as plain dicts (pure): the page embeds them as JSON and the browser draws
them with the locally served plotly.min.js."""

from __future__ import annotations

from typing import Any

from camsweep.web.queries.dashboard import BurnDown, Dashboard
from camsweep.web.queries.plan import RegionLoad

RESTRICTED = "#b3261e"
OTHER = "#5f6b7a"
PLANNED = "#1f5fa8"
DONE = "#2e7d32"
FONT = {"family": "system-ui, sans-serif", "size": 12}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"title": {"text": title, "x": 0, "font": {"size": 15}},
                            "font": FONT, "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
                            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                            "legend": {"orientation": "h", "y": -0.2}, "height": 320}
    base.update(extra)
    return base


def makers_chart(d: Dashboard) -> dict[str, Any]:
    names = [k for k, _, _ in d.by_maker][::-1]
    restricted = [r for _, _, r in d.by_maker][::-1]
    other = [n - r for _, n, r in d.by_maker][::-1]
    return {"data": [
        {"type": "bar", "orientation": "h", "y": names, "x": restricted,
         "name": "restricted maker", "marker": {"color": RESTRICTED}},
        {"type": "bar", "orientation": "h", "y": names, "x": other, "name": "other",
         "marker": {"color": OTHER}},
    ], "layout": _layout("Devices by true maker", barmode="stack",
                         margin={"l": 120, "r": 10, "t": 40, "b": 40}, height=380)}


def status_chart(d: Dashboard) -> dict[str, Any]:
    return {"data": [{"type": "bar", "x": [k for k, _ in d.by_status],
                      "y": [n for _, n in d.by_status], "marker": {"color": PLANNED}}],
            "layout": _layout("Devices by assessment status")}


def sensitivity_chart(d: Dashboard) -> dict[str, Any]:
    names = [k for k, _, _ in d.by_sensitivity]
    return {"data": [
        {"type": "bar", "x": names, "y": [r for _, _, r in d.by_sensitivity],
         "name": "restricted maker", "marker": {"color": RESTRICTED}},
        {"type": "bar", "x": names, "y": [n - r for _, n, r in d.by_sensitivity],
         "name": "other", "marker": {"color": OTHER}},
    ], "layout": _layout("Devices by site sensitivity", barmode="stack")}


def burn_down_chart(b: BurnDown) -> dict[str, Any]:
    weeks = [w.isoformat() for w in b.weeks]
    return {"data": [
        {"type": "scatter", "mode": "lines", "x": weeks, "y": b.planned_remaining,
         "name": "planned", "line": {"color": PLANNED, "dash": "dash", "shape": "hv"}},
        {"type": "scatter", "mode": "lines+markers", "x": weeks, "y": b.actual_remaining,
         "name": "actual", "line": {"color": DONE, "shape": "hv"}, "marker": {"size": 4}},
    ], "layout": _layout("Removals remaining: plan against progress",
                         yaxis={"rangemode": "tozero", "title": {"text": "devices"}})}


def timeline_chart(weeks: list[str], series: dict[str, list[int]]) -> dict[str, Any]:
    return {"data": [{"type": "bar", "x": weeks, "y": counts, "name": region}
                     for region, counts in series.items()],
            "layout": _layout("Planned removals per week", barmode="stack",
                              yaxis={"title": {"text": "devices"}}, height=380)}


def region_chart(loads: list[RegionLoad]) -> dict[str, Any]:
    names = [r.region for r in loads]
    data: list[dict[str, Any]] = [
        {"type": "bar", "x": names, "y": [r.peak for r in loads], "name": "peak week",
         "marker": {"color": PLANNED}}]
    if any(r.weekly_capacity for r in loads):
        data.append({"type": "scatter", "mode": "markers", "x": names,
                     "y": [r.weekly_capacity for r in loads], "name": "weekly capacity",
                     "marker": {"color": RESTRICTED, "symbol": "line-ew-open", "size": 24,
                                "line": {"width": 3}}})
    return {"data": data, "layout": _layout("Peak weekly load per region")}

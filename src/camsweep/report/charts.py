"""Charts two ways from one chart block: a Plotly figure (HTML) and a static PNG (PDF).

The Plotly figure is built as plain JSON (data + layout) and drawn by the plotly.js bundle
that ships inside the installed `plotly` package, inlined in the page: the report opens
offline and asks no CDN for anything. The PNG comes from Matplotlib; the timeline uses
`plan.chart`, the planner's own drawing, so print and screen show the same plan.
"""

from __future__ import annotations

import io
from datetime import timedelta
from functools import lru_cache
from typing import Any

from camsweep.plan.chart import draw_chart, timeline_data
from camsweep.report.model import BarChart, Chart, GanttChart

WEEK_MS = 7 * 24 * 3600 * 1000
BLUE = "rgb(26, 77, 166)"
RED = "rgb(204, 38, 26)"
PALETTE = ("#1a4da6", "#cc261a", "#e69f00", "#009e73", "#56b4e9", "#999999")
PRINT_DPI = 150


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle of the installed package (about 4.5 MB, read once)."""
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return str(get_plotlyjs())


def plotly_figure(chart: Chart) -> dict[str, Any]:
    if isinstance(chart, GanttChart):
        return _gantt_figure(chart)
    return _bar_figure(chart)


def _gantt_figure(chart: GanttChart) -> dict[str, Any]:
    data = timeline_data(chart.plan, chart.resources)
    cal = data.calendar
    traces: list[dict[str, Any]] = []
    for late in (False, True):
        lanes, bases, shares, text = [], [], [], []
        for region in data.lanes:
            for week, n in sorted(data.used.get(region, {}).items()):
                if (week in data.late.get(region, ())) != late:
                    continue
                share = min(1.0, n / data.capacity[region])
                lanes.append(region)
                bases.append(cal.week_start(week).isoformat())
                shares.append(0.25 + 0.75 * share)
                text.append(f"{region}, week of {cal.week_start(week)}: {n} removal(s), "
                            f"{share:.0%} of capacity" + (", some late" if late else ""))
        if lanes:
            traces.append({
                "type": "bar", "orientation": "h", "y": lanes, "base": bases,
                "x": [WEEK_MS] * len(lanes), "name": "late removals" if late else "removals",
                "marker": {"color": RED if late else BLUE, "opacity": shares,
                           "line": {"width": 0}},
                "hovertext": text, "hoverinfo": "text",
            })
    black_y, black_x = [], []
    for region in data.lanes:
        for week in data.blackouts[region]:
            black_y.append(region)
            black_x.append(cal.week_start(week).isoformat())
    if black_y:
        traces.append({
            "type": "bar", "orientation": "h", "y": black_y, "base": black_x,
            "x": [WEEK_MS] * len(black_y), "name": "blackout", "hoverinfo": "skip",
            "marker": {"color": "rgba(0,0,0,0)", "pattern": {"shape": "/", "fgcolor": "#999"},
                       "line": {"width": 0}},
        })
    shapes = [
        {"type": "line", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
         "x0": (cal.start + timedelta(weeks=x)).isoformat(),
         "x1": (cal.start + timedelta(weeks=x)).isoformat(),
         "line": {"dash": "dash", "width": 1, "color": "#333"}}
        for x in data.deadline_weeks
    ]
    return {
        "data": traces,
        "layout": {
            "title": {"text": chart.title}, "barmode": "overlay", "bargap": 0.3,
            "height": 160 + 40 * len(data.lanes),
            "xaxis": {"type": "date", "title": {"text": "week"}},
            "yaxis": {"autorange": "reversed", "type": "category",
                      "categoryorder": "array", "categoryarray": data.lanes},
            "shapes": shapes, "legend": {"orientation": "h", "y": -0.25},
            "margin": {"l": 110, "r": 20, "t": 50, "b": 60},
        },
    }


def _bar_figure(chart: BarChart) -> dict[str, Any]:
    traces = [{"type": "bar", "name": name, "x": chart.categories, "y": values,
               "marker": {"color": PALETTE[i % len(PALETTE)]}}
              for i, (name, values) in enumerate(chart.series)]
    return {
        "data": traces,
        "layout": {"title": {"text": chart.title},
                   "barmode": "stack" if chart.stacked else "group",
                   "yaxis": {"title": {"text": chart.y_label}},
                   "height": 360, "legend": {"orientation": "h", "y": -0.2},
                   "margin": {"l": 70, "r": 20, "t": 50, "b": 60}},
    }


def chart_png(chart: Chart) -> bytes:
    """The chart drawn for print."""
    if isinstance(chart, GanttChart):
        figure = draw_chart(chart.plan, chart.resources, title=chart.title, width=10)
    else:
        figure = _bar_png(chart)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PRINT_DPI)
    from PIL import Image

    flat = io.BytesIO()  # RGB: an alpha channel would become a second image in the PDF
    Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").save(flat, format="PNG")
    return flat.getvalue()


def _bar_png(chart: BarChart) -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3.6), layout="constrained")
    ax = figure.add_subplot()
    positions = list(range(len(chart.categories)))
    count = max(1, len(chart.series))
    width = 0.8 if chart.stacked else 0.8 / count
    bottoms = [0.0] * len(positions)
    for i, (name, values) in enumerate(chart.series):
        if chart.stacked:
            ax.bar(positions, values, width, bottom=bottoms, label=name,
                   color=PALETTE[i % len(PALETTE)])
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        else:
            offset = (i - (count - 1) / 2) * width
            ax.bar([p + offset for p in positions], values, width, label=name,
                   color=PALETTE[i % len(PALETTE)])
    ax.set_xticks(positions, chart.categories, fontsize=8,
                  rotation=45 if len(positions) > 8 else 0)
    ax.set_ylabel(chart.y_label)
    ax.set_title(chart.title)
    ax.grid(axis="y", color="0.9")
    if len(chart.series) > 1:
        ax.legend(fontsize=8, frameon=False)
    return figure

"""HTML: one Jinja2 template for screen (interactive Plotly charts) and print (PNG charts).

Everything from the store is escaped by the template engine (site names and register text
are user input); the only raw inserts are the chart JSON, escaped for a script element, and
the plotly.js bundle.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from camsweep import __version__
from camsweep.report.charts import chart_png, plotly_figure, plotly_js
from camsweep.report.model import (
    BarChart,
    Block,
    Facts,
    GanttChart,
    Report,
    SignOff,
    Table,
    Text,
    display,
)

NUMERIC = frozenset({"int", "money", "float", "percent"})
SAMPLE_ROWS = 200
MAX_WEIGHT = {"hash": 22, "url": 40}


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("camsweep.report", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["zip"] = zip
    return env


@lru_cache(maxsize=1)
def _css() -> str:
    loader = _env().loader
    assert loader is not None
    source, _, _ = loader.get_source(_env(), "report.css")
    return source


def _script_json(value: Any) -> Markup:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("</", "<\\/").replace("<!--", "<\\!--"))


def _widths(labels: list[str], rows: list[list[str]], kinds: list[str]) -> list[float]:
    """Column widths (percent) from the content: a fixed table layout is laid out in one
    pass, where an automatic one measures every word of every cell first (slow in print)."""
    weights = []
    for j, (label, kind) in enumerate(zip(labels, kinds, strict=True)):
        sizes = sorted(len(r[j]) for r in rows[:SAMPLE_ROWS]) or [0]
        typical = sizes[int(0.9 * (len(sizes) - 1))]
        word = max((len(w) for w in label.split()), default=1)
        weights.append(min(max(typical, word, 3), MAX_WEIGHT.get(kind, 50)))
    total = sum(weights) or 1
    return [round(100 * w / total, 2) for w in weights]


def _block_view(block: Block, *, print_mode: bool) -> dict[str, Any]:
    if isinstance(block, Table):
        kinds = [c.kind for c in block.columns]
        cells = [[display(v, k) for v, k in zip(row, kinds, strict=True)]
                 for row in block.rows]
        widths = _widths([c.label for c in block.columns], cells, list(kinds))
        columns = [{"label": c.label, "width": w, "align": "num" if c.kind in NUMERIC
                    else c.kind if c.kind in ("hash", "url") else ""}
                   for c, w in zip(block.columns, widths, strict=True)]
        return {
            "type": "table", "key": block.key, "title": block.title, "columns": columns,
            "rows": cells,
            "total": ([display(v, k) for v, k in zip(block.total, kinds, strict=True)]
                      if block.total is not None else None),
            "note": block.note,
        }
    if isinstance(block, Facts):
        return {"type": "facts", "title": block.title,
                "entries": [(label, display(value)) for label, value in block.items]}
    if isinstance(block, Text):
        return {"type": "text", "title": block.title, "paragraphs": block.paragraphs}
    if isinstance(block, GanttChart | BarChart):
        view: dict[str, Any] = {"type": "chart", "key": block.key, "title": block.title}
        if print_mode:
            png = base64.b64encode(chart_png(block)).decode("ascii")
            view["png"] = f"data:image/png;base64,{png}"
        else:
            view["figure"] = _script_json(plotly_figure(block))
        return view
    if isinstance(block, SignOff):
        return {"type": "signoff", "title": block.title, "signatories": block.signatories,
                "fields": block.fields, "statement": block.statement}
    raise TypeError(f"no HTML for {type(block).__name__}")


def html_text(report: Report, *, print_mode: bool = False) -> str:
    """The report as an HTML page; `print_mode` for WeasyPrint (static charts, no script)."""
    has_charts = any(isinstance(b, GanttChart | BarChart) for b in report.blocks())
    sections = [{"title": s.title, "blocks": [_block_view(b, print_mode=print_mode)
                                              for b in s.blocks]}
                for s in report.sections]
    return _env().get_template("report.html.j2").render(
        report=report, sections=sections, provenance=report.provenance.items(),
        css=Markup(_css()),
        plotly_js=Markup(plotly_js()) if has_charts and not print_mode else None,
        print=print_mode, version=__version__,
        generated=report.provenance.generated_at.isoformat(sep=" "),
    )


def render_html(report: Report) -> bytes:
    return html_text(report).encode("utf-8")

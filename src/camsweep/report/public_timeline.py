"""The public timeline: the planner's redacted counts per department and quarter, as published.

It is built from the stored plan's `public` document, which the planner protected as a whole
(`plan.public`): small cells withheld, cells involving sensitive sites rounded, and further
cells hidden so that none can be worked out from the totals. Nothing here recomputes a
count; a department's version is that document's own row, because protecting a subset
afresh would publish a second, differently-protected table to subtract from the first.
Only when a stored plan has no public document is one derived, from the plan and the sites'
department and sensitivity, the way `camsweep plan` derives it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from camsweep.errors import ReportError
from camsweep.plan.items import PlanItem
from camsweep.plan.public import TOTAL, public_timeline
from camsweep.plan.resources import PublicConfig
from camsweep.report.model import BarChart, Column, Report, Section, Table, Text, slug
from camsweep.report.planview import PlanView, scoped_plan
from camsweep.report.provenance import store_provenance
from camsweep.report.scope import Scope
from camsweep.store import Store
from camsweep.store import models as m


def _derive(store: Store, view: PlanView) -> dict[str, Any]:
    pks = sorted({pk for pk in (a.get("site_pk") for a in view.doc["assignments"]) if pk})
    sites: dict[int, tuple[str, str]] = {}
    with store.session() as session:
        for start in range(0, len(pks), 500):
            sites.update({pk: (dept, sens) for pk, dept, sens in session.execute(
                select(m.Site.id, m.Department.name, m.Site.sensitivity)
                .join(m.Department, m.Department.id == m.Site.department_id)
                .where(m.Site.id.in_(pks[start:start + 500])))})
    items = []
    for a in view.doc["assignments"]:
        dept, sens = sites.get(a.get("site_pk") or -1, (None, None))
        items.append(PlanItem(asset_id=a["asset_id"], department=dept, sensitivity=sens))
    config = view.resources.public if view.resources is not None else PublicConfig()
    return public_timeline(view.plan, items, config).as_dict()


def _cell(cell: dict[str, Any]) -> Any:
    value = cell.get("value")
    if value is None:
        return None
    return f"≈{value}" if cell.get("status") == "rounded" else value


def _tables(doc: dict[str, Any], department: str | None) -> list[Any]:
    blocks: list[Any] = []
    long_rows: list[list[Any]] = []
    for t in doc.get("tables", []):
        if department is not None and t["name"] != "by_department":
            continue
        quarters = list(t["quarters"])
        rows = [r for r in t["rows"] if department is None
                or str(r["row"]).lower() == department.lower()]
        label = "Department" if t["name"] == "by_department" else "Sensitivity class"
        body = [[r["row"], *(_cell(r["cells"][q]) for q in [*quarters, TOTAL])]
                for r in rows if r["row"] != TOTAL]
        total = next(([r["row"], *(_cell(r["cells"][q]) for q in [*quarters, TOTAL])]
                      for r in rows if r["row"] == TOTAL), None)
        blocks.append(Table(
            t["name"], f"Planned removals per quarter, by {label.lower()}",
            [Column("row", label), *(Column(q, q, "int") for q in quarters),
             Column(TOTAL, "Total", "int")],
            body, total=total))
        for r in rows:
            for q in [*quarters, TOTAL]:
                cell = r["cells"][q]
                long_rows.append([t["name"], r["row"], q, cell.get("value"), cell.get("status")])
        total_row = next((r for r in rows if r["row"] == TOTAL), None)
        published: list[tuple[str, Any]] = []
        if total_row is not None:
            published = [(q, total_row["cells"][q]["value"]) for q in quarters
                         if total_row["cells"][q].get("value") is not None]
        if t["name"] == "by_department" and department is None and published:
            blocks.append(BarChart("removals_by_quarter_chart", "Planned removals per quarter",
                                   [q for q, _ in published],
                                   [("removals", [float(v) for _, v in published])],
                                   "removals"))
    blocks.append(Table(
        "cells", "Every published cell (machine-readable)",
        [Column("table", "Table"), Column("row", "Row"), Column("quarter", "Quarter"),
         Column("value", "Value", "int"), Column("status", "Status")], long_rows,
        note="status: exact; rounded (to a multiple of the rounding base); suppressed "
             "(value withheld)."))
    return blocks


def build_public_timeline(store: Store, scope: Scope) -> Report:
    view = scoped_plan(store, Scope(None, None, scope.label))
    if view is None:
        raise ReportError("no plan is stored: run 'camsweep plan --resources FILE --out "
                          "plan.json' first")
    doc = view.doc.get("public") or _derive(store, view)
    provenance = store_provenance(store, Scope(None, None, scope.label), view.doc)
    explain = Text([
        str(doc.get("description") or ""),
        f"Withheld (–): fewer than {doc.get('threshold')} removals, or hidden so that another "
        f"withheld count cannot be worked out. Rounded (≈): to a multiple of "
        f"{doc.get('rounding')}, because the count includes sensitive sites or to protect "
        "another cell. No site is named and no site-level count is given."])
    who = scope.department or "all departments"
    sections = [Section("Planned removals", [explain, *_tables(doc, scope.department)])]
    return Report("public-timeline", f"Public removal timeline: {who}",
                  f"Department: {scope.department}" if scope.department else "All departments",
                  provenance, sections, f"public-timeline-{slug(scope.department or 'all')}",
                  public=True)

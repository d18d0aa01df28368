"""The removal timeline: the plan per region and quarter, its cost by period, any shortfall.

Crews and budgets belong to regions and to the organisation, not to a department; a
department's timeline therefore shows its own removals and cost, and the shortfall of the
regions it works in, said to be regional; budget headroom appears only in the central one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from camsweep.errors import ReportError
from camsweep.plan.public import quarter
from camsweep.report.model import (
    BarChart,
    Column,
    GanttChart,
    Report,
    Section,
    Table,
    Text,
    slug,
)
from camsweep.report.planview import PlanView, plan_facts, scoped_plan, unscheduled_table
from camsweep.report.provenance import store_provenance
from camsweep.report.scope import Scope
from camsweep.store import Store


def _by_region(view: PlanView) -> Table:
    quarters = sorted({quarter(a.week_start) for a in view.plan.assignments})
    cells: dict[str, Counter[str]] = defaultdict(Counter)
    for a in view.plan.assignments:
        cells[a.region][quarter(a.week_start)] += 1
    rows = [[region, *(cells[region][q] for q in quarters), sum(cells[region].values())]
            for region in sorted(cells)]
    return Table(
        "removals_by_region_quarter", "Removals by region and quarter",
        [Column("region", "Region"), *(Column(q, q, "int") for q in quarters),
         Column("total", "Total", "int")],
        rows,
        total=["total", *(sum(c[q] for c in cells.values()) for q in quarters),
               len(view.plan.assignments)])


def _cost(view: PlanView, central: bool) -> list[Any]:
    per: dict[str, list[float]] = {}
    for a in view.plan.assignments:
        row = per.setdefault(quarter(a.week_start), [0, 0.0, 0])
        row[0] += 1
        row[1] += a.cost
        row[2] += int(bool(a.deadline and a.week_start > a.deadline))
    body: list[list[Any]] = [[q, int(n), cost, int(late)]
                             for q, (n, cost, late) in sorted(per.items())]
    blocks: list[Any] = [
        Table("cost_by_quarter", "Removals and cost by quarter",
              [Column("quarter", "Quarter"), Column("removals", "Removals", "int"),
               Column("cost", "Cost", "money"), Column("late", "Late", "int")],
              body, total=["total", sum(r[1] for r in body), sum(r[2] for r in body),
                           sum(r[3] for r in body)]),
        BarChart("cost_by_quarter_chart", "Planned cost by quarter", [r[0] for r in body],
                 [("cost", [float(r[2]) for r in body])], "cost"),
    ]
    res = view.resources
    if central and res is not None and res.budgets:
        rows = []
        for b in sorted(res.budgets, key=lambda b: b.from_):
            spend = sum(a.cost for a in view.plan.assignments if b.from_ <= a.week_start < b.to)
            rows.append([b.from_, b.to, b.amount, spend, b.amount - spend])
        blocks.append(Table(
            "spend_by_budget_period", "Planned spend against each budget period",
            [Column("from", "From", "date"), Column("to", "To (exclusive)", "date"),
             Column("budget", "Budget", "money"), Column("planned", "Planned", "money"),
             Column("headroom", "Headroom", "money")], rows))
    return blocks


def _shortfall(view: PlanView, central: bool) -> list[Any]:
    regions = {a.region for a in view.plan.assignments}
    crews = [s for s in view.plan.shortfall if central or s.region in regions]
    blocks: list[Any] = []
    if crews:
        blocks.append(Table(
            "crew_shortfall", "Extra crew-weeks needed to meet every deadline",
            [Column("region", "Region"), Column("from", "From", "date"),
             Column("to", "To", "date"), Column("extra_crew_weeks", "Extra crew-weeks", "int")],
            [[s.region, s.from_, s.to, s.extra_crew_weeks] for s in crews],
            total=["total", "", "", sum(s.extra_crew_weeks for s in crews)],
            note=None if central else "Crews are shared by every department in a region: "
                                      "the shortfall is the region's, not this department's."))
    money = (view.plan.summary.get("budget_shortfall") or []) if central else []
    if money:
        blocks.append(Table(
            "budget_shortfall", "Extra budget needed",
            [Column("from", "From", "date"), Column("to", "To", "date"),
             Column("extra_amount", "Extra amount", "money")],
            [[m["from"], m["to"], m["extra_amount"]] for m in money]))
    if not blocks:
        blocks.append(Text(["None: every removal in scope can be done by its deadline with "
                            "the crews and budgets given."]))
    if view.plan.unscheduled:
        blocks.append(unscheduled_table(view))
    return blocks


def build_timeline(store: Store, scope: Scope) -> Report:
    view = scoped_plan(store, scope)
    if view is None:
        raise ReportError("no plan is stored: run 'camsweep plan --resources FILE --out "
                          "plan.json' first")
    provenance = store_provenance(store, scope, view.doc)
    who = scope.who
    chart: list[Any]
    if view.resources is not None and view.plan.assignments:
        chart = [GanttChart("timeline", f"Removal timeline: {who}", view.plan, view.resources)]
    else:
        chart = [Text(["Nothing is scheduled in this scope." if not view.plan.assignments
                       else "The plan's resources could not be read; no chart."])]
    sections = [
        Section("Plan", [plan_facts(view, with_solver=True)]),
        Section("Timeline by region", [*chart, _by_region(view)]),
        Section("Cost by period", _cost(view, scope.central)),
        Section("Shortfall", _shortfall(view, scope.central)),
    ]
    return Report("timeline", f"Removal timeline: {who}", scope.label, provenance, sections,
                  f"timeline-{slug(scope.stem)}")

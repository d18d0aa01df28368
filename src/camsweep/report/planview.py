"""The stored plan as the planner's own types, restricted to a report's scope."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from camsweep.errors import CamsweepError
from camsweep.plan.public import quarter
from camsweep.plan.resources import Resources, parse_resources
from camsweep.plan.schema import STATUS_TEXT, Assignment, Plan, Shortfall, Unscheduled
from camsweep.report.model import Column, Facts, Table
from camsweep.report.scope import Scope
from camsweep.store import Store
from camsweep.store.plans import load_plan


@dataclass
class PlanView:
    doc: dict[str, Any]
    plan: Plan
    resources: Resources | None

    @property
    def id(self) -> int:
        return int(self.doc["id"])

    def by_quarter(self) -> dict[str, list[Assignment]]:
        out: dict[str, list[Assignment]] = defaultdict(list)
        for a in sorted(self.plan.assignments, key=lambda a: a.week_start):
            out[quarter(a.week_start)].append(a)
        return dict(out)

    def device_pks(self) -> list[int | None]:
        """Device key of each assignment, in `plan.assignments` order."""
        return [a.get("device_pk") for a in self.doc["assignments"]]


def scoped_plan(store: Store, scope: Scope) -> PlanView | None:
    doc = load_plan(store, site_pks=scope.site_pks)
    if doc is None:
        return None
    plan = Plan(
        feasible=bool(doc["feasible"]), status=doc["status"],
        solve_seconds=float(doc["solve_seconds"]),
        assignments=[Assignment.model_validate(a) for a in doc["assignments"]],
        unscheduled=[Unscheduled(asset_id=u.get("asset_id"), reason=str(u.get("reason")))
                     for u in doc["unscheduled"]],
        shortfall=[Shortfall.model_validate(s) for s in doc.get("shortfall") or []],
        summary=dict(doc.get("summary") or {}),
    )
    try:
        resources = parse_resources(doc.get("resources"), f"plan {doc['id']} resources")
    except CamsweepError:
        resources = None
    return PlanView(doc, plan, resources)


def plan_facts(view: PlanView, *, with_solver: bool = False) -> Facts:
    plan = view.plan
    starts = sorted(a.week_start for a in plan.assignments)
    items: list[tuple[str, Any]] = [
        ("Plan", f"plan {view.id}, made {str(view.doc['created_at'])[:19]}"),
        ("Status", f"{plan.status}: {STATUS_TEXT.get(plan.status, '')}"),
        ("Removals scheduled", len(plan.assignments)),
        ("Not schedulable", len(plan.unscheduled)),
        ("Scheduled after their deadline",
         sum(1 for a in plan.assignments if a.deadline and a.week_start > a.deadline)),
        ("Planned cost", sum(a.cost for a in plan.assignments)),
        ("First week", starts[0] if starts else None),
        ("Last week", starts[-1] if starts else None),
    ]
    if with_solver:
        items += [("Solve time (s)", round(plan.solve_seconds, 1)),
                  ("Gap to lower bound", f"{100 * float(plan.summary.get('gap') or 0):.2f}%")]
    return Facts("plan", "Plan", items)


def unscheduled_table(view: PlanView) -> Table:
    reasons = Counter(u.reason for u in view.plan.unscheduled)
    return Table("unscheduled_reasons", "Removals the plan could not schedule",
                 [Column("reason", "Reason"), Column("devices", "Devices", "int")],
                 [[r, n] for r, n in reasons.most_common()])

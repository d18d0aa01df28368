"""Plan the removals: an optimised schedule, feasibility diagnosis, a redacted public timeline.

Pure core: findings and resources in, a `Plan` out; no database or network inside (the
loaders read only the files they are given). See docs/planning.md.
"""

from camsweep.plan.chart import write_chart
from camsweep.plan.diff import PlanDiff, diff_plans
from camsweep.plan.greedy import greedy_plan
from camsweep.plan.items import PlanItem, load_findings, parse_findings
from camsweep.plan.public import PublicTimeline, public_timeline
from camsweep.plan.resources import Resources, load_resources, parse_resources
from camsweep.plan.schema import Assignment, Plan, Shortfall, Unscheduled, load_plan, write_plan
from camsweep.plan.solve import make_plan

__all__ = [
    "Assignment",
    "Plan",
    "PlanDiff",
    "PlanItem",
    "PublicTimeline",
    "Resources",
    "Shortfall",
    "Unscheduled",
    "diff_plans",
    "greedy_plan",
    "load_findings",
    "load_plan",
    "load_resources",
    "make_plan",
    "parse_findings",
    "parse_resources",
    "public_timeline",
    "write_chart",
    "write_plan",
]

"""Writing a plan and what is derived from it: plan.json, the public timeline, the chart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from camsweep.plan.items import PlanItem, merge_duplicates
from camsweep.plan.public import PublicTimeline, public_timeline
from camsweep.plan.resources import Resources
from camsweep.plan.schema import Plan, write_plan


def public_for(plan: Plan, items: Sequence[PlanItem], resources: Resources) -> PublicTimeline:
    merged, _ = merge_duplicates(items)
    return public_timeline(plan, merged, resources.public)


def write_outputs(plan: Plan, items: Sequence[PlanItem], resources: Resources, out: Path, *,
                  public_out: Path | None = None, chart: Path | None = None,
                  public: PublicTimeline | None = None) -> list[Path]:
    """Every file one planning run produces; returns their paths in the order written."""
    write_plan(plan, out)
    written = [out]
    if public_out is not None:
        public = public if public is not None else public_for(plan, items, resources)
        written += public.write(public_out)
    if chart is not None:
        from camsweep.plan.chart import write_chart

        written.append(write_chart(plan, resources, chart))
    return written

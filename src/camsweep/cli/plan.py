"""`camsweep plan`: the removal timeline, its feasibility, and a version safe to publish."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from getpass import getuser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, print_json, progress, state
from camsweep.errors import ConfigError

if TYPE_CHECKING:
    from camsweep.plan import Plan, PlanItem
    from camsweep.plan.diff import PlanDiff
    from camsweep.plan.resources import Resources

IN_CHUNK = 500  # ids per SQL IN list
MOVES_SHOWN = 20


def findings_from_store(db: str) -> list[Any]:
    """The open removal findings of the latest assessment in the store."""
    from camsweep.assess import open_removal_findings
    from camsweep.plan import parse_findings
    from camsweep.store import open_store

    store = open_store(db)
    try:
        rows = open_removal_findings(store)
    finally:
        store.dispose()
    if not rows:
        raise ConfigError("the store has no open removal findings: run 'camsweep assess' "
                          "first, or pass --findings FILE")
    return parse_findings(rows, f"{db} (open removal findings)")


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_command)


def plan_command(
    resources: Path = typer.Option(
        ..., "--resources", help="resources.yaml: crews, unit costs, budgets, blackouts."),
    out: Path = typer.Option(..., "--out", help="Write the plan (plan.json) here."),
    public_out: Path | None = typer.Option(
        None, "--public-out",
        help="Also write the public (redacted) timeline: FILE (JSON) and FILE.csv."),
    findings: Path | None = typer.Option(
        None, "--findings",
        help="Removal findings as 'camsweep assess --json' writes them (default: the store's "
             "open removal findings)."),
    from_current: Path | None = typer.Option(
        None, "--from-current", help="Re-plan from this plan.json, keeping done work fixed."),
    freeze_weeks: int = typer.Option(
        0, "--freeze-weeks", min=0,
        help="With --from-current: also keep the first N weeks of that plan as they are."),
    chart: Path | None = typer.Option(
        None, "--chart", help="Also draw a Gantt-style chart (.png, .svg or .pdf)."),
    time_limit: float = typer.Option(
        25.0, "--time-limit", min=0.5, help="Seconds the optimiser may spend."),
    save: bool | None = typer.Option(
        None, "--save/--no-save",
        help="Store the plan for work orders, the web app and reports (default: yes when the "
             "findings come from the store)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Plan every open removal finding: an optimised schedule within crews, budget and
    deadlines, the extra crew-weeks any missed deadline needs, and a redacted timeline."""
    from camsweep.plan import load_findings, load_plan, load_resources, make_plan
    from camsweep.plan.diff import diff_plans
    from camsweep.plan.outputs import public_for, write_outputs

    if freeze_weeks and from_current is None:
        raise ConfigError("--freeze-weeks needs --from-current PLAN.json (the plan to keep)")
    res = load_resources(resources)
    if findings is None:
        items = findings_from_store(state.settings.db)
    else:
        items = load_findings(findings)
        if any(item.missing() for item in items):
            items = fill_from_store(items, state.settings.db)
    current = load_plan(from_current) if from_current is not None else None
    with progress() as bar:
        bar.add_task(f"planning {len(items):,} removals", total=None)
        plan = make_plan(items, res, current=current, freeze_weeks=freeze_weeks,
                         time_limit=time_limit)
    diff = diff_plans(current, plan) if current is not None else None
    if diff is not None:
        plan.summary["diff"] = diff.counts()
    public = public_for(plan, items, res)
    written = write_outputs(plan, items, res, out, public_out=public_out, chart=chart,
                            public=public)
    plan_id = None
    if save if save is not None else findings is None:
        plan_id = store_plan(plan, res, public.as_dict())
    if as_json:
        print_json({
            "plan_id": plan_id,
            "status": plan.status, "feasible": plan.feasible, "solve_seconds": plan.solve_seconds,
            "summary": plan.summary,
            "shortfall": [s.model_dump(mode="json", by_alias=True) for s in plan.shortfall],
            "diff": diff.as_dict() if diff is not None else None,
            "files": [str(p) for p in written],
        })
        return
    show(plan, diff, written)
    if plan_id is not None:
        console.print(f"stored as plan {plan_id} (work orders, web app and reports use it)")


def store_plan(plan: Plan, resources: Resources, public: dict[str, Any]) -> int:
    from camsweep.store.plans import save_plan

    with cli_store() as store:
        return save_plan(store, plan.to_json(), resources=resources.model_dump(mode="json"),
                         public=public, actor=os.environ.get("CAMSWEEP_ACTOR") or getuser())


def fill_from_store(items: list[PlanItem], db: str) -> list[PlanItem]:
    """Region, department and sensitivity from the site; device type (and site) from the device."""
    from sqlalchemy import select

    from camsweep.store import open_store
    from camsweep.store.models import Department, Device, Site

    device_ids = sorted({i.asset_id for i in items if i.asset_id and i.missing()})
    store = open_store(db)
    try:
        with store.session() as session:
            devices: dict[str, tuple[str | None, str | None]] = {}
            for start in range(0, len(device_ids), IN_CHUNK):
                rows = session.execute(
                    select(Device.asset_id, Device.device_type, Site.site_id)
                    .outerjoin(Site, Device.site_pk == Site.id)
                    .where(Device.asset_id.in_(device_ids[start : start + IN_CHUNK]))
                )
                devices.update({a: (t, s) for a, t, s in rows if a is not None})
            site_ids = sorted({
                i.site_id or devices.get(i.asset_id or "", (None, None))[1] or ""
                for i in items if i.missing()
            } - {""})
            sites: dict[str, tuple[str, str, str]] = {}
            for start in range(0, len(site_ids), IN_CHUNK):
                rows2 = session.execute(
                    select(Site.site_id, Site.region, Department.name, Site.sensitivity)
                    .join(Department, Site.department_id == Department.id)
                    .where(Site.site_id.in_(site_ids[start : start + IN_CHUNK]))
                )
                sites.update({s: (r, d, v) for s, r, d, v in rows2})
    finally:
        store.dispose()
    out = []
    for item in items:
        if not item.missing():
            out.append(item)
            continue
        device_type, device_site = devices.get(item.asset_id or "", (None, None))
        site_id = item.site_id or device_site
        region, department, sensitivity = sites.get(site_id or "", (None, None, None))
        out.append(item.model_copy(update={
            "site_id": site_id,
            "region": item.region or region,
            "department": item.department or department,
            "sensitivity": item.sensitivity or sensitivity,
            "device_type": item.device_type or device_type,
        }))
    return out


def show(plan: Plan, diff: PlanDiff | None = None, written: Sequence[Path] = ()) -> None:
    """The plan's summary, shortfall, unschedulable items and changes (also the demo's)."""
    s = plan.summary
    table = Table(title=f"Removal plan: {plan.status}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    objective: dict[str, Any] = s.get("objective", {})
    rows: list[tuple[str, Any]] = [
        ("removals scheduled", f"{s.get('scheduled', 0):,}"),
        ("not schedulable", f"{len(plan.unscheduled):,}"),
        ("late (devices)", f"{s.get('late', 0):,}"),
        ("total cost", f"{s.get('total_cost', 0):,}"),
        ("first week", s.get("first_week") or "-"),
        ("last week", s.get("last_week") or "-"),
        ("site visits", f"{objective.get('site_visits', 0):,} at {s.get('sites', 0):,} sites"),
        ("gap to lower bound", f"{100 * s.get('gap', 0.0):.2f}%"),
        ("solve time", f"{plan.solve_seconds:.1f} s"),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    if plan.shortfall:
        short = Table(title="Extra crew-weeks needed to meet every deadline")
        for col in ("region", "from", "to", "extra crew-weeks"):
            short.add_column(col)
        for sf in plan.shortfall:
            short.add_row(sf.region, str(sf.from_), str(sf.to), str(sf.extra_crew_weeks))
        console.print(short)
    for money in s.get("budget_shortfall", []):
        console.print(f"budget short by {money['extra_amount']:,} between {money['from']} "
                      f"and {money['to']}")
    if plan.unscheduled:
        reasons = Counter(u.reason for u in plan.unscheduled)
        console.print("[bold]Not schedulable:[/]")
        for reason, n in reasons.most_common():
            console.print(f"  {n:,} x {reason}", highlight=False)
    if diff is not None:
        c = diff.counts()
        console.print(f"Changes against the current plan: {c['moved']:,} moved, "
                      f"{c['added']:,} added, {c['removed']:,} removed, "
                      f"{c['unchanged']:,} unchanged")
        for move in diff.moved[:MOVES_SHOWN]:
            console.print(f"  {move.asset_id}: {move.before or 'unscheduled'} -> "
                          f"{move.after or 'unscheduled'}", highlight=False)
        if len(diff.moved) > MOVES_SHOWN:
            console.print(f"  ... and {len(diff.moved) - MOVES_SHOWN:,} more (see --json)")
        for label, ids in (("added", diff.added), ("removed", diff.removed)):
            if ids:
                more = f" and {len(ids) - MOVES_SHOWN:,} more" if len(ids) > MOVES_SHOWN else ""
                console.print(f"  {label}: {', '.join(ids[:MOVES_SHOWN])}{more}",
                              highlight=False)
    for path in written:
        console.print(f"wrote {path}")

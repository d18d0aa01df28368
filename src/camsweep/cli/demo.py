"""`camsweep demo`: the whole pipeline on a realistic sample estate."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from camsweep.cli.assess import show as show_assessment
from camsweep.cli.common import console, state
from camsweep.cli.identify import show_identify_run
from camsweep.cli.plan import show as show_plan
from camsweep.demo import run_demo
from camsweep.store.queries import EstateSummary


def _summary_tables(summary: EstateSummary) -> None:
    console.print(
        f"[bold]Estate:[/] {summary.sites} sites ({summary.sensitive_sites} sensitive) in "
        f"{summary.departments} departments and {summary.regions} regions; "
        f"{summary.devices} devices"
    )
    dept = Table(title="Sites and devices by department")
    for col in ("department", "sites", "sensitive", "devices"):
        dept.add_column(col, justify="left" if col == "department" else "right")
    for name, sites, sensitive, devices in summary.by_department:
        dept.add_row(name, str(sites), str(sensitive), str(devices))
    console.print(dept)
    types = Table(title="Devices by type (as recorded)")
    types.add_column("device type")
    types.add_column("devices", justify="right")
    for name, n in summary.by_type:
        types.add_row(name, str(n))
    console.print(types)
    brands = Table(title="Most common brands (as recorded: spellings vary)")
    brands.add_column("brand as recorded")
    brands.add_column("devices", justify="right")
    for name, n in summary.by_brand:
        brands.add_row(name, str(n))
    console.print(brands)


def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for the demo's files."),
) -> None:
    """Generate a sample estate (~50 sites, 3,000 devices) and run the pipeline on it."""
    db = state.db or None  # an explicit --db wins; otherwise a fresh store inside --out
    result = run_demo(out, db, say=lambda msg: console.print(f"[bold cyan]{msg}[/]"))
    for imp in result.imports:
        console.print(f"   imported {imp.created} {imp.kind} from {imp.path} ({imp.seconds:.2f}s)")
    if result.summary:
        _summary_tables(result.summary)
    if result.identification:
        show_identify_run(result.identification, limit=8)
    if result.truth_agreement:
        agree, total, missed = result.truth_agreement
        console.print(f"   against the generator's ground truth: {agree} of {total} makers agree; "
                      f"{missed} restricted devices not flagged (undetermined, sent to survey)")
    if result.assessment is not None:
        show_assessment(result.assessment, top=5, explain=result.explained)
    if result.plan is not None:
        show_plan(result.plan)
    if result.tracking is not None:
        t = result.tracking
        console.print(
            f"[bold]Tracking:[/] {t.work_orders:,} work orders from the plan; at site {t.site_id} "
            f"the crew removed {len(t.removed)} devices with photos and disposed of them "
            f"(recorders destroyed against a certificate)")
        console.print("   work orders by state: " + ", ".join(
            f"{state} {n:,}" for state, n in sorted(t.states.items())))
        console.print(f"   alerts as of {t.alerts_as_of}: " + (", ".join(
            f"{kind} {n:,}" for kind, n in sorted(t.alerts.items())) or "none"))
        verdict = "chain intact" if not t.audit_problems else "; ".join(t.audit_problems[:3])
        console.print(f"   audit log: {t.audit_entries:,} entries, {verdict}")
    if result.screened:
        screened = Table(title="Supplier screening")
        for col in ("name", "match", "entity", "relation", "score"):
            screened.add_column(col)
        for r in result.screened:
            screened.add_row(r.query, "yes" if r.match else "no", r.entity or "",
                             r.relation or "", f"{r.score:.2f}")
        console.print(screened)
    if result.bid is not None:
        console.print(f"[bold]Bid screening:[/] {result.bid.headline}")
    console.print("[bold]Outputs:[/]")
    for name, path in result.outputs.items():
        console.print(f"  {name:22} {path.resolve()}")
    console.print(f"  {'store':22} {result.db_url}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)

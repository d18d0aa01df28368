"""`camsweep assess`: every device against the chosen policies; roll-ups and what changed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, print_json, progress
from camsweep.errors import CamsweepError

if TYPE_CHECKING:
    from camsweep.assess import AssessmentResult

STATUS_STYLE = {"non_compliant": "red", "needs_survey": "yellow", "exempt": "cyan",
                "compliant": "green"}


def register(app: typer.Typer) -> None:
    app.command("assess")(assess_command)


def assess_command(
    policies: list[str] = typer.Option(
        [], "--policy",
        help="Policy id or policy file (repeatable; default: the programme's, else every "
             "bundled policy that is not a template)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Assessment date, YYYY-MM-DD "
                                                          "(default: today, UTC)."),
    params: list[str] = typer.Option(
        [], "--param", help="NAME=VALUE, e.g. programme_deadline=2027-12-31 (repeatable)."),
    programme: Path | None = typer.Option(
        None, "--programme", help="Programme file: policies, parameters, organisation "
                                  "types per department, waivers."),
    boms: list[Path] = typer.Option(
        [], "--bom", help="CycloneDX 1.5/1.6 JSON hardware BOM, matched to devices by model "
                          "(repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the design.md JSON only."),
    csv: Path | None = typer.Option(None, "--csv", help="Also write the findings as CSV."),
    out: Path | None = typer.Option(None, "--out", help="Also write the JSON to FILE."),
    include_advisory: bool = typer.Option(
        False, "--include-advisory", help="Include advisory findings in JSON and CSV."),
    explain: str | None = typer.Option(
        None, "--explain", help="Show one device's full reason chain (an asset_id)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Assess and compare, save nothing."),
    top: int = typer.Option(10, "--top", min=1, help="Sites shown in the roll-up."),
) -> None:
    """Assess every device: status, findings with actions, deadlines, priorities, reasons."""
    from camsweep.assess import assess_store
    from camsweep.assess.report import write_csv, write_json
    from camsweep.policy import parse_param_args

    try:
        when = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise CamsweepError(f"--as-of {as_of!r}: use YYYY-MM-DD") from exc
    values = parse_param_args(params)
    with cli_store() as store, progress() as bar:
        bar.add_task("assessing", total=None)
        result = assess_store(store, policies or None, when, params=values,
                              programme=programme, bom_files=boms, save_run=not dry_run)
    if out is not None:
        write_json(result, out, include_advisory)
    if csv is not None:
        write_csv(result, csv, include_advisory)
    if as_json:
        print_json(result.contract(include_advisory))
        return
    show(result, top=top, explain=explain)
    for label, path in (("JSON", out), ("CSV", csv)):
        if path is not None:
            console.print(f"{label} written to {path}", highlight=False)


def _rollup_table(result: AssessmentResult, key: str, title: str, limit: int | None) -> Table:
    frame = result.rollup(key)
    table = Table(title=title)
    for col in (key, "devices", "non_compliant", "needs_survey", "exempt", "compliant",
                "to_remove", "next_deadline", "overdue", "to_survey"):
        table.add_column(col.replace("_", " "), justify="left" if col == key else "right")
    rows = frame.iter_rows(named=True)
    for i, r in enumerate(rows):
        if limit is not None and i >= limit:
            break
        table.add_row(*("" if r[c] is None else str(r[c]) for c in (
            key, "devices", "non_compliant", "needs_survey", "exempt", "compliant",
            "to_remove", "next_deadline", "overdue", "to_survey")))
    return table


def _diff_lines(result: AssessmentResult) -> list[str]:
    d = result.diff
    if d.previous_run is None:
        return [f"first assessment of these policies: {len(d.new)} finding(s) opened"]
    lines = [f"since run #{d.previous_run} (as of {d.previous_as_of}): {len(d.new)} new, "
             f"{len(d.closed)} closed, {len(d.changed)} changed, {d.unchanged} unchanged"]
    if d.previous_kb and d.previous_kb != result.kb_version:
        lines.append(f"knowledge base changed: {d.previous_kb} -> {result.kb_version}")
    before = {p.get("id"): p.get("version") for p in d.previous_policies}
    for p in result.policies:
        old = before.get(p["id"])
        if old and old != p["version"]:
            lines.append(f"policy {p['id']} changed: v{old} -> v{p['version']}")
    for item in d.new[:5]:
        lines.append(f"  + {item['asset_id']} {item['policy']}/{item['rule']} {item['action']}")
    for item in d.closed[:5]:
        lines.append(f"  - {item['asset_id']} {item['policy']}/{item['rule']} {item['action']}")
    for ch in d.changed[:5]:
        what = ", ".join(f"{k} {ch.before[k]} -> {ch.after[k]}" for k in ch.before
                         if ch.before[k] != ch.after[k]) or "reasons"
        lines.append(f"  ~ {ch.asset_id} {ch.policy}/{ch.rule} {ch.action}: {what}")
    return lines


def _explain(result: AssessmentResult, asset_id: str) -> None:
    info: dict[str, Any] = result.explain(asset_id)
    style = STATUS_STYLE.get(info["status"], "white")
    console.print(f"\n[bold]{asset_id}[/] at {info['site_id']} ({info['department']}, "
                  f"{info['sensitivity']}): [{style}]{info['status']}[/]", highlight=False)
    for f in info["findings"]:
        kind = "mandatory" if f["mandatory"] else "advisory"
        console.print(f"  [bold]{f['policy']}/{f['rule']}[/] -> {f['action']} by "
                      f"{f['deadline'] or 'no date'}, priority {f['priority']} ({kind})",
                      highlight=False)
        for reason in f["reasons"]:
            console.print(f"      - {reason}", highlight=False, soft_wrap=True)
    for note in info["notes"]:
        console.print(f"  note: {note}", highlight=False, soft_wrap=True)


def show(result: AssessmentResult, *, top: int = 10, explain: str | None = None) -> None:
    """The human summary: statuses, roll-ups, milestones, what changed."""
    run = f"run #{result.run_id}" if result.run_id is not None else "dry run (not saved)"
    console.print(f"[bold]Assessment[/] {run}, as of {result.as_of}, KB {result.kb_version}",
                  highlight=False)
    console.print("policies: " + ", ".join(f"{p['id']} v{p['version']}"
                                           for p in result.policies), highlight=False)
    counts = result.status_counts
    console.print("devices: " + ", ".join(
        f"[{STATUS_STYLE[s]}]{s} {n}[/]" for s, n in counts.items()), highlight=False)
    console.print(_rollup_table(result, "department", "By department", None))
    console.print(_rollup_table(result, "sensitivity", "By sensitivity class", None))
    console.print(_rollup_table(result, "site_id", f"Sites (top {top})", top))
    for ms in result.milestones:
        console.print(f"milestone {ms.policy} {ms.by}: {ms.clear_sites} of {ms.affected_sites} "
                      f"affected sites clear ({ms.share:.0%}, target {ms.target:.0%}): "
                      f"{ms.verdict(result.as_of)}", highlight=False)
    for line in _diff_lines(result):
        console.print(line, highlight=False)
    if explain:
        _explain(result, explain)

"""`camsweep report KIND [SUBJECT]`: returns, timelines, dossiers and case files as files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from camsweep.cli.common import cli_store, console
from camsweep.errors import ReportError

if TYPE_CHECKING:
    pass

HELP = (
    "Write a report from the store.\n\n"
    "KIND: return (a department's compliance return; the central one without --department), "
    "timeline, public-timeline (redacted, safe to publish), dossier DEVICE|SITE, "
    "screening CASE.\n\n"
    "Formats: pdf, xlsx, csv (a .zip, or a folder: one CSV per table plus about.csv), json, "
    "html (interactive charts, works offline). Default: from --out's suffix, else pdf."
)


def register(app: typer.Typer) -> None:
    app.command("report", help=HELP)(report_command)


def report_command(
    kind: str = typer.Argument(..., help="return | timeline | public-timeline | dossier | "
                                         "screening"),
    subject: str | None = typer.Argument(None, help="dossier: asset id or site id (or "
                                                    "device:ID / site:ID); screening: case ref."),
    out: Path = typer.Option(..., "--out", help="File to write (a folder for CSV without .zip)."),
    department: str | None = typer.Option(None, "--department",
                                          help="Only this department's sites and devices."),
    fmt: str | None = typer.Option(None, "--format", help="pdf | xlsx | csv | json | html"),
    actor: str | None = typer.Option(None, "--actor", help="Who is exporting (env "
                                     "CAMSWEEP_ACTOR); logged in the audit log. Required for "
                                     "screening."),
    role: str | None = typer.Option(None, "--role", help="Role of the actor (screening: "
                                    "procurement; env CAMSWEEP_ROLE)."),
) -> None:
    """Write a report (see `camsweep report --help`)."""
    from camsweep.report import make_report
    from camsweep.report.build import log_export
    from camsweep.report.output import format_for, write_report

    kind = kind.lower()
    if kind in ("dossier", "screening") and not subject:
        raise ReportError(f"'report {kind}' needs a subject: "
                          + ("an asset id or site id" if kind == "dossier" else "a case ref"))
    if kind not in ("dossier", "screening") and subject:
        raise ReportError(f"'report {kind}' takes no subject (got {subject!r}); "
                          "use --department to narrow it")
    chosen = format_for(out, fmt)
    who = actor or os.environ.get("CAMSWEEP_ACTOR")
    if kind == "screening":
        from camsweep.screen.cases import require_actor

        require_actor(who, role or os.environ.get("CAMSWEEP_ROLE"))
    with cli_store() as store:
        report = make_report(store, kind, department=department, subject=subject)
        written = write_report(report, out, chosen)
        if who:
            log_export(store, who, report.kind, subject or department or "all", chosen,
                       [p.name for p in written])
    for path in written:
        console.print(f"wrote {path} ({path.stat().st_size:,} bytes)", highlight=False)

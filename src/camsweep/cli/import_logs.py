"""`camsweep import dns|flows FILE...`: DNS and flow logs -> devices that call home."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, err_console, print_errors, print_json, progress
from camsweep.cli.import_ import import_app
from camsweep.discover.callhome import CallHomeSummary, Kind, import_logs
from camsweep.discover.importers.dns import DNS_FORMATS
from camsweep.discover.importers.flows import FLOW_FORMATS

FilesArg = typer.Argument(..., help="Log files: several (rotated) files, plain or .gz.")
SiteOpt = typer.Option(None, "--site", help="site_id the logs belong to: devices are looked "
                       "for there, and new (unregistered) ones are placed there.")
TzOpt = typer.Option("UTC", "--tz", help="Time zone of log times written without an offset "
                     "(IANA name, e.g. Europe/London).")
ErrOpt = typer.Option(None, "--errors-out", help="Write every malformed line to this CSV file.")
DryOpt = typer.Option(False, "--dry-run", help="Read and match; write nothing.")
JsonOpt = typer.Option(False, "--json", help="Print the result as JSON.")


def _run(kind: Kind, files: list[Path], fmt: str | None, site: str | None, tz: str,
         errors_out: Path | None, dry_run: bool, as_json: bool,
         dns: list[Path] | None = None, dns_format: str | None = None) -> None:
    with cli_store() as store, progress() as bar:
        task = bar.add_task(f"reading {kind} logs", total=None)
        summary = import_logs(
            store, kind, files, fmt=fmt, dns_paths=dns, dns_format=dns_format, site_id=site,
            tz=tz, errors_out=errors_out, dry_run=dry_run,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        print_json(summary.as_dict())
    else:
        _show(summary, errors_out)


def _show(s: CallHomeSummary, errors_out: Path | None) -> None:
    for f in s.files:
        note = f" — skipped: {f.skipped}" if f.skipped else ""
        console.print(f"{f.path} ({f.kind}, {f.format}): {f.lines:,} lines, "
                      f"{f.matched:,} call-home record(s), {f.malformed:,} malformed{note}",
                      highlight=False)
    if s.malformed:
        err_console.print(f"[bold yellow]{s.malformed:,} malformed line(s)[/] (not imported):")
        print_errors(s.errors)
        if errors_out:
            err_console.print(f"all of them written to {errors_out}")
    verb = "would record" if s.dry_run else "recorded"
    console.print(
        f"{verb} {s.matched:,} call-home record(s) in {s.lines:,} lines"
        + ("" if s.dry_run else f": {s.observations} observation(s) on {s.devices} device(s), "
           f"{s.created} new unregistered, {s.restricted} restricted after re-identification")
        + (f"; {s.app_records:,} app/portal record(s) not attributed" if s.app_records else "")
        + (f"; {s.unattributed:,} record(s) from addresses shared by devices at several sites "
           "(use --site)" if s.unattributed else "")
        + f" in {s.seconds:.1f}s", highlight=False)
    if s.endpoints:
        table = Table("endpoint", "records", title="Call-home endpoints seen")
        for endpoint, count in s.endpoints.most_common():
            table.add_row(endpoint, f"{count:,}")
        console.print(table)


@import_app.command("dns")
def import_dns(
    files: list[Path] = FilesArg,
    fmt: str | None = typer.Option(None, "--format", help=f"One of {', '.join(DNS_FORMATS)} "
                                   "(default: detected per file)."),
    site: str | None = SiteOpt, tz: str = TzOpt, errors_out: Path | None = ErrOpt,
    dry_run: bool = DryOpt, as_json: bool = JsonOpt,
) -> None:
    """Import DNS query logs (Zeek dns.log, BIND, dnsmasq/Pi-hole, Pi-hole FTL CSV): devices
    that resolve vendor cloud and P2P names get call-home observations."""
    _run("dns", files, fmt, site, tz, errors_out, dry_run, as_json)


@import_app.command("flows")
def import_flows(
    files: list[Path] = FilesArg,
    fmt: str | None = typer.Option(None, "--format", help=f"One of {', '.join(FLOW_FORMATS)} "
                                   "(default: detected per file)."),
    dns: list[Path] = typer.Option([], "--dns", help="A DNS log of the same period, read "
                                   "first: flows match the addresses its names resolved to "
                                   "(repeatable)."),
    dns_format: str | None = typer.Option(None, "--dns-format", help="Format of the --dns logs."),
    site: str | None = SiteOpt, tz: str = TzOpt, errors_out: Path | None = ErrOpt,
    dry_run: bool = DryOpt, as_json: bool = JsonOpt,
) -> None:
    """Import flow records (Zeek conn.log, nfdump CSV, IPFIX CSV, firewall CSV exports):
    connections to vendor cloud and P2P services become call-home observations."""
    _run("flows", files, fmt, site, tz, errors_out, dry_run, as_json, dns or None, dns_format)


def register(app: typer.Typer) -> None:
    """The commands join the `import` group that `camsweep.cli.import_` registers."""

"""`camsweep scan TARGETS... --scope FILE`: find and identify devices on authorised networks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, err_console, print_json, progress
from camsweep.discover import (
    Limits,
    ScanOptions,
    authorise,
    load_credentials,
    load_scope,
    parse_targets,
    scan,
)
from camsweep.discover.probes.tcp import DEFAULT_PORTS
from camsweep.errors import ConfigError


def parse_ports(text: str | None) -> tuple[int, ...]:
    """`80,443,8000-8010` -> ports; the default camera ports when empty."""
    if not text:
        return DEFAULT_PORTS
    ports: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            start, end = int(low), int(high) if sep else int(low)
        except ValueError as exc:
            raise ConfigError(f"--ports: {part!r} is not a port or a range like 8000-8010") \
                from exc
        if not 0 < start <= end <= 65535:
            raise ConfigError(f"--ports: {part!r} is outside 1-65535")
        ports.extend(range(start, end + 1))
    return tuple(dict.fromkeys(ports))


def scan_command(
    targets: list[str] = typer.Argument(..., help="Addresses, CIDRs, ranges (a.b.c.d-e), host "
                                        "names, or @FILE with one target a line."),
    scope: Path = typer.Option(..., "--scope", help="Scope file: what you are authorised to "
                               "probe (CIDR/range/host a line, or YAML {cidr, owner, note})."),
    ports: str | None = typer.Option(None, "--ports", help="TCP ports, e.g. 80,443,554,8000-8010 "
                                     f"(default {','.join(map(str, DEFAULT_PORTS))})."),
    credentials: Path | None = typer.Option(None, "--credentials", help="YAML file with ONVIF "
                                            "and SNMP credentials (else CAMSWEEP_* variables)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted scan of "
                                "the same targets; finished hosts are not probed again."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be probed; send "
                                 "nothing."),
    site: str | None = typer.Option(None, "--site", help="site_id the scanned network belongs "
                                    "to (merge by IP within it)."),
    concurrency: int = typer.Option(256, "--concurrency", min=1, max=4096,
                                    help="Hosts scanned at once."),
    rate: float = typer.Option(2000.0, "--rate", min=1.0, help="New connections and datagrams "
                               "per second, all hosts together."),
    host_rate: float = typer.Option(50.0, "--host-rate", min=0.5, help="The same, per host."),
    timeout: float = typer.Option(2.0, "--timeout", min=0.1, help="Seconds to wait for a "
                                  "connection or a reply."),
    retries: int = typer.Option(1, "--retries", min=0, max=5, help="Extra tries after a "
                                "timeout."),
    no_udp: bool = typer.Option(False, "--no-udp", help="Skip WS-Discovery, SSDP, SNMP, mDNS."),
    multicast: bool = typer.Option(False, "--multicast", help="Also send WS-Discovery, SSDP and "
                                   "mDNS to their multicast groups, from interfaces whose whole "
                                   "network is in scope."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    cluster: str | None = typer.Option(None, "--cluster", help="Dask scheduler ADDRESS: probe "
                                       "through the scan agents that can reach each host."),
    tls_dir: Path | None = typer.Option(None, "--tls-dir", envvar="CAMSWEEP_TLS_DIR",
                                        help="With --cluster: certificates from `camsweep "
                                        "agent certs` (ca.pem, client.pem, client-key.pem)."),
) -> None:
    """Probe authorised hosts, identify what answers, and merge it into the store.

    Every target must lie inside the scope file, or nothing at all is sent.
    """
    authorised = load_scope(scope)
    plan = authorise(parse_targets(targets), authorised)
    port_list = parse_ports(ports)
    creds = load_credentials(credentials)
    if dry_run:
        summary = {"hosts": [str(h) for h in plan.hosts], "ports": list(port_list),
                   "scope": authorised.path, "credentials": creds.describe(),
                   "udp": not no_udp, "multicast": multicast}
        if as_json:
            print_json(summary)
            return
        console.print(f"would probe {len(plan.hosts)} host(s) on TCP ports "
                      f"{','.join(map(str, port_list))}"
                      + ("" if no_udp else " and UDP 161/1900/3702/5353")
                      + f" (scope {authorised.path}; credentials: "
                      + (", ".join(creds.describe()) or "none") + ")")
        for host in plan.hosts[:50]:
            console.print(f"  {host}")
        if len(plan.hosts) > 50:
            console.print(f"  ... and {len(plan.hosts) - 50} more")
        return
    options = ScanOptions(
        ports=port_list, credentials=creds, udp=not no_udp, site_id=site, multicast=multicast,
        limits=Limits(timeout=timeout, retries=retries, rate=rate, host_rate=host_rate,
                      concurrency=concurrency))
    with cli_store() as store, progress() as bar:
        task = bar.add_task("scanning", total=len(plan.hosts))

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if cluster:
            from camsweep.scale.dispatch import scan_through

            through = scan_through(cluster, tls_dir, store, plan, authorised, options,
                                   resume=resume, progress=tick)
            result = through.scan
        else:
            result = scan(store, plan, authorised, options, resume=resume, progress=tick)
    if as_json:
        print_json(through.as_dict() if cluster else result.as_dict())
        return
    s = result.stats
    table = Table(title=f"scan {result.source_id}" + (" (resumed)" if result.resumed else ""))
    for col in ("hosts", "answered", "new devices", "updated", "restricted", "not seen",
                "seconds"):
        table.add_column(col)
    table.add_row(str(result.hosts), str(s.responded), str(s.created), str(s.updated),
                  str(s.restricted), str(result.not_seen), f"{result.seconds:.1f}")
    console.print(table)
    if result.skipped:
        err_console.print(f"{result.skipped} host(s) were finished by the interrupted run")
    if cluster:
        from camsweep.scale.dispatch import describe

        for line in describe(through):
            err_console.print(line, highlight=False)
    console.print("see them with: camsweep devices list")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)

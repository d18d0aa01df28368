"""`camsweep import nmap|masscan|pcap|dhcp|arp FILE`: network data other tools recorded."""

from __future__ import annotations

from pathlib import Path

import typer

from camsweep.cli.common import cli_store, console, print_json
from camsweep.cli.import_ import import_app
from camsweep.discover.importers import ImportSummary, Reader, import_network

FileArg = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                         help="The file to import.")
SiteOpt = typer.Option(None, "--site", help="site_id the recorded network belongs to.")
DryOpt = typer.Option(False, "--dry-run", help="Parse and check the file; write nothing.")
JsonOpt = typer.Option(False, "--json", help="Print the result as JSON.")


def _run(kind: str, reader: Reader, file: Path, site: str | None, dry_run: bool,
         as_json: bool) -> None:
    with cli_store() as store:
        summary: ImportSummary = import_network(store, kind, file, reader, dry_run=dry_run,
                                                site_id=site)
    if as_json:
        print_json(summary.as_dict())
        return
    s = summary.stats
    verb = "would import" if dry_run else "imported"
    console.print(f"{verb} {summary.hosts} host(s) from {file} ({kind})"
                  + ("" if dry_run else f": {s.created} new device(s), {s.updated} updated, "
                     f"{s.restricted} restricted, {s.observations} observation(s)")
                  + f" in {summary.seconds:.1f}s")


@import_app.command("nmap")
def import_nmap(file: Path = FileArg, site: str | None = SiteOpt, dry_run: bool = DryOpt,
                as_json: bool = JsonOpt) -> None:
    """Import an nmap XML report (nmap -oX; -sV and scripts add evidence)."""
    from camsweep.discover.importers.nmap import read_nmap

    _run("nmap", read_nmap, file, site, dry_run, as_json)


@import_app.command("masscan")
def import_masscan(file: Path = FileArg, site: str | None = SiteOpt, dry_run: bool = DryOpt,
                   as_json: bool = JsonOpt) -> None:
    """Import masscan output: JSON (-oJ / -oD) or list (-oL), banners included."""
    from camsweep.discover.importers.masscan import read_masscan

    _run("masscan", read_masscan, file, site, dry_run, as_json)


@import_app.command("pcap")
def import_pcap(file: Path = FileArg, site: str | None = SiteOpt, dry_run: bool = DryOpt,
                as_json: bool = JsonOpt) -> None:
    """Import a packet capture (pcap/pcapng): MACs, HTTP/RTSP headers, WS-Discovery, SSDP,
    mDNS and DHCP seen in the traffic."""
    from camsweep.discover.importers.pcap import read_pcap

    _run("pcap", read_pcap, file, site, dry_run, as_json)


@import_app.command("dhcp")
def import_dhcp(file: Path = FileArg, site: str | None = SiteOpt, dry_run: bool = DryOpt,
                as_json: bool = JsonOpt) -> None:
    """Import DHCP leases: ISC dhcpd.leases or a dnsmasq leases file."""
    from camsweep.discover.importers.leases import read_dhcp

    _run("dhcp", read_dhcp, file, site, dry_run, as_json)


@import_app.command("arp")
def import_arp(file: Path = FileArg, site: str | None = SiteOpt, dry_run: bool = DryOpt,
               as_json: bool = JsonOpt) -> None:
    """Import an ARP table or a switch MAC-address table exported as CSV."""
    from camsweep.discover.importers.leases import read_arp

    _run("arp", read_arp, file, site, dry_run, as_json)


def register(app: typer.Typer) -> None:
    """The commands join the `import` group that `camsweep.cli.import_` registers."""

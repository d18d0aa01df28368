"""`camsweep devices list|show`: what the store knows, per device, and where it came from."""

from __future__ import annotations

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, print_json
from camsweep.errors import CamsweepError
from camsweep.store.queries import DeviceFilter, device_detail, list_devices

devices_app = typer.Typer(help="List and inspect devices in the store.", no_args_is_help=True)


@devices_app.command("list")
def devices_list(
    site: str | None = typer.Option(None, "--site", help="Only devices at this site_id."),
    maker: str | None = typer.Option(None, "--maker",
                                     help="Only devices whose true maker is SLUG."),
    unregistered: bool = typer.Option(False, "--unregistered", help="Only devices in no register."),
    calls_home: bool = typer.Option(False, "--calls-home",
                                    help="Only devices seen calling a vendor cloud or P2P."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many devices."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array (design.md contract)."),
) -> None:
    """List devices with their site, addresses, recorded brand/model and identification."""
    with cli_store() as store:
        rows = list_devices(store, DeviceFilter(site_id=site, maker=maker,
                                                unregistered=unregistered, limit=limit,
                                                calls_home=calls_home))
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} device(s)")
    shown = ("asset_id", "site_id", "device_type", "brand", "model", "mac", "ip",
             "manufacturer_id", "restricted", "sources", "flags")
    for col in shown:
        table.add_column(col)
    for r in rows:
        table.add_row(*(", ".join(r[c]) if isinstance(r[c], list)
                        else "" if r[c] is None else str(r[c]) for c in shown))
    console.print(table)


@devices_app.command("show")
def devices_show(
    asset_id: str = typer.Argument(..., help="The device's asset_id as in the register."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show one device: every field with the import or scan that set it, and its history."""
    with cli_store() as store:
        detail = device_detail(store, asset_id)
    if detail is None:
        raise CamsweepError(f"no device with asset_id {asset_id!r}; "
                            "'camsweep devices list' shows what the store holds")
    if as_json:
        print_json({"device": detail.device,
                    "provenance": {o.field: {"source_id": o.source_id, "kind": o.source_kind,
                                             "name": o.source_name, "set_at": o.set_at}
                                   for o in detail.origins},
                    "history": detail.history, "calls_home": detail.calls_home})
        return
    table = Table(title=f"Device {asset_id}")
    for col in ("field", "value", "set by", "at"):
        table.add_column(col)
    for o in detail.origins:
        table.add_row(o.field, "" if o.value is None else str(o.value),
                      f"{o.source_kind} #{o.source_id} {o.source_name}", str(o.set_at)[:19])
    console.print(table)
    if detail.history:
        hist = Table(title="Changes")
        for col in ("at", "field", "old", "new", "source"):
            hist.add_column(col)
        for h in detail.history:
            hist.add_row(str(h["changed_at"])[:19], h["field"], h["old"] or "", h["new"] or "",
                         h["source"])
        console.print(hist)
    if detail.calls_home:
        calls = Table(title="Calls home (from DNS and flow logs)")
        for col in ("endpoint", "service", "maker", "first seen", "last seen", "count", "ports"):
            calls.add_column(col)
        for c in detail.calls_home:
            calls.add_row(c["endpoint"], c["service"], c["maker"], c["first_seen"][:19],
                          c["last_seen"][:19], f"{c['count']:,}", ", ".join(c["ports"]))
        console.print(calls)


def register(app: typer.Typer) -> None:
    app.add_typer(devices_app, name="devices")

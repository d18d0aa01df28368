"""`camsweep devices list`: what the store knows, per device."""

from __future__ import annotations

import typer
from rich.table import Table

from camsweep.cli.common import console, print_json, state
from camsweep.store import open_store
from camsweep.store.queries import DeviceFilter, list_devices

devices_app = typer.Typer(help="List and inspect devices in the store.", no_args_is_help=True)


@devices_app.command("list")
def devices_list(
    site: str | None = typer.Option(None, "--site", help="Only devices at this site_id."),
    maker: str | None = typer.Option(None, "--maker",
                                     help="Only devices whose true maker is SLUG."),
    unregistered: bool = typer.Option(False, "--unregistered", help="Only devices in no register."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many devices."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array (design.md contract)."),
) -> None:
    """List devices with their site, addresses, recorded brand/model and identification."""
    store = open_store(state.settings.db)
    try:
        rows = list_devices(store, DeviceFilter(site_id=site, maker=maker,
                                                unregistered=unregistered, limit=limit))
    finally:
        store.dispose()
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} device(s)")
    for col in ("asset_id", "site_id", "device_type", "brand", "model", "mac", "ip",
                "manufacturer_id", "restricted"):
        table.add_column(col)
    for r in rows:
        table.add_row(*("" if r[c] is None else str(r[c]) for c in (
            "asset_id", "site_id", "device_type", "brand", "model", "mac", "ip",
            "manufacturer_id", "restricted")))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(devices_app, name="devices")

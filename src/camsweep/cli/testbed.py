"""`camsweep testbed up --hosts N`: emulated devices on loopback, until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from typing import Any

import typer
from rich.table import Table

from camsweep.cli.common import console, err_console, print_json
from camsweep.testbed import DEFAULT_BASE, TESTBED_CREDENTIALS, Testbed, all_profiles

testbed_app = typer.Typer(help="Emulated cameras and recorders for tests, demos and benchmarks.",
                          no_args_is_help=True)


def raise_open_files(wanted: int) -> None:
    """Each host holds several sockets: lift the soft file limit towards `wanted`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@testbed_app.command("up")
def up(
    hosts: int = typer.Option(12, "--hosts", min=1, max=20000, help="How many devices."),
    base: str = typer.Option(DEFAULT_BASE, "--base", help="First loopback address (127.x.y.z)."),
    profiles: list[str] = typer.Option([], "--profile", help="Only these profiles (repeatable); "
                                       "default: all, in turn."),
    as_json: bool = typer.Option(False, "--json", help="Print the hosts as JSON, then serve."),
) -> None:
    """Start emulated devices and print them; serve until interrupted (Ctrl-C)."""
    if not base.startswith("127."):
        raise typer.BadParameter("the testbed only runs on loopback addresses (127.0.0.0/8)",
                                 param_hint="--base")
    raise_open_files(hosts * 12 + 256)
    bed = Testbed(hosts=hosts, base=base, profiles=profiles or None)
    rows: list[dict[str, Any]] = [
        {"ip": h.ip, "profile": h.profile.id, "maker": h.maker, "mac": h.mac, "model": h.model,
         "serial": h.serial, "tcp": list(h.profile.ports), "udp": list(h.profile.udp)}
        for h in bed.hosts]

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await bed.start()
        if as_json:
            print_json(rows)
        else:
            table = Table(title=f"{len(rows)} emulated device(s)")
            for col in ("ip", "profile", "maker", "mac", "tcp", "udp"):
                table.add_column(col)
            for r in rows[:200]:
                table.add_row(str(r["ip"]), str(r["profile"]), str(r["maker"] or "-"),
                              str(r["mac"]), ",".join(map(str, r["tcp"])), ",".join(r["udp"]))
            console.print(table)
            if len(rows) > 200:
                console.print(f"... and {len(rows) - 200} more")
            onvif = TESTBED_CREDENTIALS.onvif
            snmp = TESTBED_CREDENTIALS.snmp
            if onvif and snmp:
                err_console.print(f"credentials the devices accept: ONVIF {onvif.username} / "
                                  f"{onvif.password}, SNMP community {snmp.community}")
            err_console.print("serving; press Ctrl-C to stop")
        try:
            await stop.wait()
        finally:
            await bed.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@testbed_app.command("profiles")
def list_profiles() -> None:
    """The device profiles the testbed can emulate."""
    table = Table(title="testbed profiles")
    for col in ("id", "maker", "tcp", "udp", "label"):
        table.add_column(col)
    for p in all_profiles():
        table.add_row(p.id, p.maker or "-", ",".join(map(str, p.ports)), ",".join(p.udp), p.label)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(testbed_app, name="testbed")

"""`camsweep agent`, `camsweep agent certs`, `camsweep scheduler`: scanning through Dask.

    camsweep agent certs --out certs --agents site-a,site-b
    camsweep scheduler --host 0.0.0.0 --port 8786 --tls-dir certs
    camsweep agent --scheduler tls://central:8786 --name site-a --networks 10.20.0.0/16 \\
        --scope site-a-scope.txt --tls-dir certs
    camsweep scan 10.20.0.0/24 --scope scope.txt --cluster tls://central:8786 --tls-dir certs
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from camsweep.cli.common import err_console, print_json
from camsweep.errors import ConfigError

if TYPE_CHECKING:
    from distributed.security import Security

agent_app = typer.Typer(
    help="Scan agents: Dask workers inside remote networks that probe hosts for "
         "`camsweep scan --cluster`.",
    no_args_is_help=False, invoke_without_command=True)

TLS_HELP = "Certificates from `camsweep agent certs` (ca.pem, NAME.pem, NAME-key.pem)."


def _agent_tls(tls_dir: Path | None, name: str, ca: Path | None, cert: Path | None,
               key: Path | None, insecure: bool) -> Security | None:
    from camsweep.scale.cluster import security, tls_files

    if insecure:
        if tls_dir or ca or cert or key:
            raise ConfigError("--insecure and TLS files exclude each other")
        return None
    if tls_dir is not None:
        stem = name if name.startswith("agent-") else f"agent-{name}"
        found = tls_files(tls_dir, stem)
        ca, cert, key = ca or found[0], cert or found[1], key or found[2]
    if not (ca and cert and key):
        raise ConfigError("agents talk to the scheduler over TLS: give --tls-dir DIR (with "
                          "--name) or --tls-ca, --tls-cert and --tls-key; --insecure only on "
                          "a lab network")
    return security("worker", ca, cert, key)


@agent_app.callback()
def agent_command(
    ctx: typer.Context,
    scheduler: str | None = typer.Option(None, "--scheduler", help="Scheduler ADDRESS, "
                                         "e.g. tls://central.example:8786."),
    networks: list[str] = typer.Option([], "--networks", help="A network this agent can "
                                       "reach (CIDR; repeat, or separate with commas)."),
    scope: Path | None = typer.Option(None, "--scope", help="This site's scope file: hosts "
                                      "outside it are refused here whatever the centre asks."),
    name: str = typer.Option(socket.gethostname(), "--name", help="Agent name (its "
                             "certificate is agent-NAME.pem in --tls-dir)."),
    slots: int = typer.Option(64, "--slots", min=1, max=4096, help="Hosts scanned at once."),
    listen: str | None = typer.Option(None, "--listen-host", help="Address to listen on for "
                                      "the scheduler (default: the one that routes to it)."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port to listen on (0: any; "
                             "fix it to open a firewall for the scheduler)."),
    contact: str | None = typer.Option(None, "--contact-address", help="Address the "
                                       "scheduler should use to reach this agent (NAT)."),
    tls_dir: Path | None = typer.Option(None, "--tls-dir", help=TLS_HELP),
    tls_ca: Path | None = typer.Option(None, "--tls-ca", help="CA certificate (PEM)."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="This agent's certificate."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="This agent's private key."),
    insecure: bool = typer.Option(False, "--insecure", help="No TLS (lab networks only)."),
    join_timeout: float = typer.Option(20.0, "--join-timeout", min=1.0, help="Seconds to "
                                       "keep trying to join the scheduler before giving up."),
) -> None:
    """Run a scan agent: join the scheduler and probe hosts in NETWORKS when asked."""
    if ctx.invoked_subcommand is not None:
        return
    from camsweep.discover.scope import load_scope
    from camsweep.scale.agent import serve
    from camsweep.scale.cluster import tls_address
    from camsweep.scale.routes import parse_networks

    if not scheduler:
        raise ConfigError("--scheduler ADDRESS is required (or use `camsweep agent certs`)")
    nets = parse_networks(networks)
    sec = _agent_tls(tls_dir, name, tls_ca, tls_cert, tls_key, insecure)
    site_scope = load_scope(scope) if scope else None
    address = tls_address(scheduler, sec is not None)

    def ready(worker: object) -> None:
        err_console.print(f"agent {name} joined {address} as {getattr(worker, 'address', '?')}"
                          f"; networks {', '.join(map(str, nets))}; {slots} hosts at once",
                          highlight=False)

    asyncio.run(serve(address, name, nets, scope=site_scope, sec=sec, slots=slots, host=listen,
                      port=port, contact_address=contact, timeout=join_timeout,
                      on_ready=ready))


@agent_app.command("certs")
def certs_command(
    out: Path = typer.Option(..., "--out", help="Directory for the CA and certificates."),
    agents: str = typer.Option(..., "--agents", help="How many agents (N) or their names "
                               "(site-a,site-b)."),
    force: bool = typer.Option(False, "--force", help="Re-issue existing agent certificates."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Make a cluster CA (or reuse the one in OUT) and certificates for the scheduler, the
    central client and each agent."""
    from camsweep.scale.certs import agent_names, make_certificates

    issued = make_certificates(out, agent_names(agents), force=force)
    if as_json:
        print_json([{"name": i.name, "cert": str(i.cert), "key": str(i.key)} for i in issued])
        return
    for item in issued:
        err_console.print(f"{item.name:<24} {item.cert}  {item.key}", highlight=False)
    err_console.print(f"CA: {out / 'ca.pem'} (keep {out / 'ca-key.pem'} offline; copy each "
                      "agent only ca.pem and its own two files)", highlight=False)


def scheduler_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8786, "--port", min=0, max=65535, help="Port (0: any free)."),
    tls_dir: Path | None = typer.Option(None, "--tls-dir", help=TLS_HELP),
    insecure: bool = typer.Option(False, "--insecure", help="No TLS (lab networks only)."),
) -> None:
    """Run a Dask scheduler for scan agents and bulk identification, with the cluster's TLS."""
    from camsweep.scale.cluster import security, tls_files
    from camsweep.scale.scheduler import serve

    if tls_dir is None and not insecure:
        raise ConfigError("give --tls-dir DIR (from `camsweep agent certs`), or --insecure on "
                          "a lab network")
    sec = security("scheduler", *tls_files(tls_dir, "scheduler")) if tls_dir else None

    def ready(address: str) -> None:
        typer.echo(f"scheduler listening at {address}")

    asyncio.run(serve(host, port, sec, ready))


def register(app: typer.Typer) -> None:
    app.add_typer(agent_app, name="agent")
    app.command("scheduler")(scheduler_command)

"""`camsweep serve`: the web application and JSON API under uvicorn."""

from __future__ import annotations

import ipaddress
import os

import typer

from camsweep.cli.common import err_console, state


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Worker processes (PostgreSQL recommended beyond 1)."),
    secure_cookies: bool | None = typer.Option(
        None, "--secure-cookies/--no-secure-cookies",
        help="Mark cookies Secure (default: when the request came over https; env "
             "CAMSWEEP_SECURE_COOKIES). Use --secure-cookies behind a TLS proxy."),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1", "--forwarded-allow-ips",
        help="Proxies trusted for X-Forwarded-For/-Proto (client address for login "
             "throttling, https for cookies)."),
) -> None:
    """Serve the web application and the JSON API (docs at /docs)."""
    import uvicorn

    from camsweep.store import open_store

    store = open_store(state.settings.db)  # migrate once, before any worker starts
    store.dispose()
    os.environ["CAMSWEEP_DB"] = state.settings.db
    if secure_cookies is not None:
        os.environ["CAMSWEEP_SECURE_COOKIES"] = "1" if secure_cookies else "0"
    if not _loopback(host) and secure_cookies is not True:
        err_console.print("[yellow]note:[/] listening beyond this machine; serve it behind "
                          "TLS and pass --secure-cookies", highlight=False)
    err_console.print(f"camsweep web on http://{host}:{port}/ (API docs /docs); Ctrl-C stops",
                      highlight=False)
    uvicorn.run("camsweep.web.asgi:app_from_env", factory=True, host=host, port=port,
                workers=workers, proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,
                log_level="info" if state.verbose else "warning", server_header=False)

"""`camsweep scheduler`: a Dask scheduler with the cluster's TLS, until SIGTERM or SIGINT.

The stock `dask scheduler --tls-ca-file ... --tls-cert ... --tls-key ...` does the same;
this saves typing the certificate paths of a `camsweep agent certs` directory and
refuses to start without encryption unless told to.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from distributed import Scheduler
from distributed.security import Security


async def serve(host: str, port: int, sec: Security | None,
                on_ready: Callable[[str], None] | None = None) -> None:
    # its HTTP endpoint (health, metrics) on a free port, never a fixed one two runs share
    http_host = f"[{host}]" if ":" in host else host
    scheduler = Scheduler(host=host, port=port, security=sec, dashboard=False,
                          dashboard_address=f"{http_host}:0")
    await scheduler
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if on_ready is not None:
        on_ready(scheduler.address)
    try:
        await stop.wait()
    finally:
        await scheduler.close()

"""The scan agent: a Dask worker inside a site's network that probes hosts for the centre.

    camsweep agent --scheduler tls://central:8786 --networks 10.20.0.0/16 \\
        --scope site-scope.txt --tls-ca ca.pem --tls-cert agent-a.pem --tls-key agent-a-key.pem

The agent declares its networks as worker resources (`routes`), so the scheduler only
sends it hosts in them. Each host arrives as one task, `scan_on_agent`, run on the
worker's event loop with the same per-host probe sequence as a local scan
(`discover.scanner.scan_host`) and the same rate limits, through a transport whose guard
is the agent's own: a host outside the agent's networks, outside its `--scope` file, or
outside the scope the centre authorised is refused before any packet. The host's
report goes back as the task's result; the centre merges it into the store.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from distributed import Worker, WorkerPlugin, get_worker
from distributed.security import Security

from camsweep.discover.model import HostReport
from camsweep.discover.net import SocketTransport
from camsweep.discover.probes.neigh import neighbour_table
from camsweep.discover.scanner import ScanOptions, scan_host
from camsweep.discover.scope import IPNetwork, Scope, ScopeGuard
from camsweep.errors import ScopeError
from camsweep.scale.cluster import CONNECT_TIMEOUT, ClusterError
from camsweep.scale.dask_api import finished
from camsweep.scale.routes import resource_name

log = logging.getLogger(__name__)
PLUGIN = "camsweep-agent"
DEFAULT_SLOTS = 64
IDLE_TRANSPORT = 300.0  # seconds a finished scan's limiter state is kept


@dataclass(frozen=True)
class ScanJob:
    """What the centre sends with every host of one scan run."""

    run: str
    options: ScanOptions
    scope: Scope


@dataclass
class AgentReport:
    """One host's report and the agent that produced it."""

    agent: str
    report: HostReport


class AgentGuard(ScopeGuard):
    """The scan's guard at the agent: the hosts it is scanning now, inside the scope the
    centre authorised, inside the agent's own networks and scope file."""

    def __init__(self, scope: Scope, agent: AgentPlugin) -> None:
        super().__init__(scope, ())
        self.agent = agent
        self.active: set[str] = set()

    def allows(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return (str(ip) in self.active and self.scope.contains(ip)
                and self.agent.refusal(str(ip), self.scope) is None)


@dataclass
class _Run:
    transport: SocketTransport
    guard: AgentGuard
    used: float = field(default_factory=time.monotonic)


class AgentPlugin(WorkerPlugin):
    """The agent's identity, reach and per-scan transports, living in its worker."""

    name = PLUGIN

    def __init__(self, agent: str, networks: Sequence[IPNetwork], scope: Scope | None = None,
                 ) -> None:
        self.agent = agent
        self.networks = tuple(networks)
        self.scope = scope
        self._runs: dict[str, _Run] = {}
        self._neigh: tuple[float, dict[str, str]] = (0.0, {})

    def refusal(self, host: str, authorised: Scope) -> str | None:
        """Why this agent will not probe `host` (None: it will)."""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return f"agent {self.agent}: {host!r} is not an IP address; nothing was sent"
        if not any(ip.version == n.version and ip in n for n in self.networks):
            nets = ", ".join(map(str, self.networks))
            return (f"agent {self.agent}: {ip} is outside its networks ({nets}); "
                    "nothing was sent")
        if self.scope is not None and not self.scope.contains(ip):
            return f"agent {self.agent}: {ip} is outside its scope {self.scope.path}; " \
                   "nothing was sent"
        if not authorised.contains(ip):
            return (f"agent {self.agent}: {ip} is outside the scan's scope "
                    f"{authorised.path}; nothing was sent")
        return None

    async def run_for(self, job: ScanJob) -> _Run:
        """The transport of one scan run: shared by its hosts, so the rate limits hold
        for the agent as a whole, as they do for a local scan."""
        now = time.monotonic()
        for key in [k for k, r in self._runs.items()
                    if now - r.used > IDLE_TRANSPORT and not r.guard.active]:
            await self._runs.pop(key).transport.__aexit__(None, None, None)
        run = self._runs.get(job.run)
        if run is None:
            guard = AgentGuard(job.scope, self)
            run = self._runs[job.run] = _Run(SocketTransport(guard, job.options.limits), guard)
        run.used = now
        return run

    def neighbours(self) -> dict[str, str]:
        stamp, table = self._neigh
        if time.monotonic() - stamp > 0.5:
            table = neighbour_table()
            self._neigh = (time.monotonic(), table)
        return table

    async def teardown(self, worker: Worker) -> None:
        for run in self._runs.values():
            await run.transport.__aexit__(None, None, None)
        self._runs.clear()


def _plugin() -> AgentPlugin:
    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN)
    if not isinstance(plugin, AgentPlugin):
        raise ClusterError(f"worker {worker.name} is not a camsweep agent")
    return plugin


async def scan_on_agent(job: ScanJob, ip: str) -> AgentReport:
    """Scan one host from this agent (a Dask task, run on the worker's event loop)."""
    plugin = _plugin()
    reason = plugin.refusal(ip, job.scope)
    if reason is not None:
        log.warning("%s", reason)
        raise ScopeError(reason)
    run = await plugin.run_for(job)
    run.guard.active.add(ip)
    try:
        neighbours = plugin.neighbours if job.options.neighbours else None
        report = await scan_host(run.transport, ip, job.options, neighbours)
    finally:
        run.guard.active.discard(ip)
        run.transport.forget(ip)
    for answer in report.answers:
        answer.fields["agent"] = plugin.agent
    return AgentReport(plugin.agent, report)


def agent_resources(networks: Sequence[IPNetwork], slots: int) -> dict[str, float]:
    return {resource_name(n): float(slots) for n in networks}


async def start_agent(scheduler: str, name: str, networks: Sequence[IPNetwork], *,
                      scope: Scope | None = None, sec: Security | None = None,
                      slots: int = DEFAULT_SLOTS, host: str | None = None, port: int = 0,
                      contact_address: str | None = None,
                      timeout: float = CONNECT_TIMEOUT) -> Worker:
    """A running agent worker that has joined the scheduler (`ClusterError` if it cannot:
    unreachable, or refused at the TLS handshake)."""
    plugin = AgentPlugin(name, networks, scope)
    options: dict[str, Any] = {
        "name": name, "nthreads": slots, "resources": agent_resources(networks, slots),
        "security": sec, "plugins": (plugin,), "host": host, "port": port,
        "contact_address": contact_address, "death_timeout": timeout,
        "memory_limit": 0}
    worker = Worker(scheduler, **options)
    try:
        await worker
    except (OSError, TimeoutError, RuntimeError) as exc:
        await worker.close(reason="failed to join")
        raise ClusterError(
            f"agent {name} could not join the scheduler at {scheduler} ({exc}); check the "
            "address, that it is reachable from here, and that this agent's certificate "
            "comes from the scheduler's CA") from exc
    return worker


async def serve(scheduler: str, name: str, networks: Sequence[IPNetwork], *,
                on_ready: Callable[[Worker], None] | None = None, **options: Any) -> None:
    """Run an agent until SIGTERM/SIGINT or until the scheduler goes away."""
    worker = await start_agent(scheduler, name, networks, **options)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Future[Any]] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: closing.append(asyncio.ensure_future(
            worker.close(reason="agent stopped"))))
    if on_ready is not None:
        on_ready(worker)
    await finished(worker)

"""`camsweep scan --cluster`: hosts go to agents that can reach them; reports come back here.

    with open_client("tls://central:8786", client_security(Path("certs"))) as client:
        result = scan_on_cluster(store, plan, scope, ScanOptions(), client)

The run is a local scan with the probing moved out: the same `scan_hosts` bookkeeping
(`--resume` skips finished hosts), the same `Merger` writing each finished host's
observations, verdict and device as it arrives, the same not-seen marking when the run
is complete. Each host is one Dask task restricted to the network resource of the agents
that can reach it (`routes`), at most `concurrency` outstanding. When an agent dies, Dask
gives its unfinished hosts to another agent of the same network; a watcher notes which
hosts that was, and gives up on hosts no live agent can reach once `agent_wait` seconds
have passed without one (they stay pending for `--resume`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import Client
from distributed.scheduler import KilledWorker

from camsweep.discover.merge import Merger, MergeStats
from camsweep.discover.scanner import (
    WRITE_BATCH,
    WRITE_EVERY,
    ScanOptions,
    ScanResult,
    _finish_run,
    _start_run,
)
from camsweep.discover.scope import Authorised, IPAddress, Scope
from camsweep.errors import CamsweepError, ConfigError, ScopeError
from camsweep.scale.agent import AgentReport, ScanJob, scan_on_agent
from camsweep.scale.cluster import ClusterError, client_security, open_client
from camsweep.scale.dask_api import Completed, Fut, cancel, exception, processing, workers
from camsweep.scale.routes import Agent, agents, offered, route
from camsweep.store import Store

log = logging.getLogger(__name__)
AGENT_WAIT = 30.0
WATCH_EVERY = 0.5
MAX_ATTEMPTS = 3  # submissions per host when agents keep dying under it
ProgressFn = Callable[[int, int], None]


@dataclass
class ClusterScanResult:
    scan: ScanResult
    agents: dict[str, int] = field(default_factory=dict)  # hosts finished, per agent
    requeued: list[str] = field(default_factory=list)  # hosts an agent left unfinished
    lost_agents: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # host -> the agent's reason
    unfinished: list[str] = field(default_factory=list)  # still pending; --resume later

    def as_dict(self) -> dict[str, Any]:
        return self.scan.as_dict() | {
            "agents": dict(sorted(self.agents.items())), "requeued": sorted(self.requeued),
            "lost_agents": self.lost_agents, "refused": self.refused,
            "unfinished": self.unfinished}


def wait_for_routes(client: Client, hosts: Sequence[IPAddress], wait: float,
                    ) -> dict[str, str]:
    """Host -> resource for every host, waiting up to `wait` seconds for agents to join;
    `ClusterError` naming the hosts no agent can reach (then nothing is sent)."""
    deadline = time.monotonic() + wait
    while True:
        live = agents(workers(client))
        routes = {str(h): route(h, live) for h in hosts}
        missing = [h for h, r in routes.items() if r is None]
        if not missing:
            return {h: r for h, r in routes.items() if r is not None}
        if time.monotonic() >= deadline:
            break
        time.sleep(WATCH_EVERY)
    reach = "; ".join(f"{a.name}: {', '.join(map(str, a.networks))}" for a in live) or "none"
    raise ClusterError(
        f"no connected agent can reach {len(missing)} host(s): {', '.join(missing[:10])}"
        + (" ..." if len(missing) > 10 else "") + f". Agents and their networks: {reach}. "
        "Start `camsweep agent --networks ...` inside those networks; nothing was sent.")


class _Writer(threading.Thread):
    """Merges reports into the store as they arrive, in batches, off the dispatch loop."""

    def __init__(self, merger: Merger, progress: ProgressFn | None, done: int, total: int,
                 ) -> None:
        super().__init__(name="camsweep-cluster-writer", daemon=True)
        self.merger = merger
        self.inbox: queue.Queue[AgentReport | None] = queue.Queue()
        self.stats = MergeStats()
        self.error: BaseException | None = None
        self.progress = progress
        self.done, self.total = done, total

    def run(self) -> None:
        batch: list[AgentReport] = []
        closing = False
        while not closing:
            try:
                item = self.inbox.get(timeout=WRITE_EVERY)
                if item is None:
                    closing = True
                else:
                    batch.append(item)
            except queue.Empty:
                pass
            if batch and (closing or len(batch) >= WRITE_BATCH or self.inbox.empty()):
                try:
                    self.stats.add(self.merger.write([r.report for r in batch], scan=True))
                except BaseException as exc:  # surfaced by the dispatch loop
                    self.error = exc
                    return
                self.done += len(batch)
                batch = []
                if self.progress:
                    self.progress(self.done, self.total)

    def finish(self) -> None:
        self.inbox.put(None)
        self.join()
        if self.error is not None:
            raise self.error


class _Watcher(threading.Thread):
    """Follows agents coming and going while hosts are out: which hosts an agent that
    left was holding (Dask re-queues them), and which hosts have had no live agent for
    longer than `wait` (cancelled, to be resumed later)."""

    def __init__(self, client: Client, wait: float) -> None:
        super().__init__(name="camsweep-cluster-watcher", daemon=True)
        self.client = client
        self.wait = wait
        self.lock = threading.Lock()
        self.outstanding: dict[Any, tuple[str, str, Fut]] = {}  # key -> (host, resource, fut)
        self.requeued: list[str] = []
        self.lost: list[str] = []
        self.stop = threading.Event()
        self._where: dict[Any, str] = {}  # key -> the agent last seen holding it
        self._names: dict[str, str] = {}
        self._gone: set[str] = set()
        self._moved: set[Any] = set()
        self._orphaned: dict[str, float] = {}

    def run(self) -> None:
        while not self.stop.wait(WATCH_EVERY):
            with contextlib.suppress(Exception):  # a busy scheduler: look again next time
                self.look()

    def look(self) -> None:
        live = agents(workers(self.client))
        running = {a.address for a in live}
        held = processing(self.client)
        with self.lock:
            for agent in live:
                self._names[agent.address] = agent.name
            for address in sorted(set(self._names) - running - self._gone):
                self._gone.add(address)
                self.lost.append(self._names[address])
                log.warning("agent %s left; its unfinished hosts go to other agents",
                            self._names[address])
            for key, address in self._where.items():
                if address in self._gone and key in self.outstanding and key not in self._moved:
                    self._moved.add(key)
                    self.requeued.append(self.outstanding[key][0])
            self._where = {k: a for k, a in self._where.items() if k in self.outstanding}
            for address in running:
                for key in held.get(address, ()):
                    if key in self.outstanding:
                        self._where[key] = address
            self._give_up(live)

    def _give_up(self, live: list[Agent]) -> None:
        now = time.monotonic()
        stranded: list[Fut] = []
        for resource in {r for _, r, _ in self.outstanding.values()}:
            if offered(resource, live):
                self._orphaned.pop(resource, None)
                continue
            since = self._orphaned.setdefault(resource, now)
            if now - since >= self.wait:
                stranded += [f for _, r, f in self.outstanding.values() if r == resource]
        if stranded:
            log.warning("no agent for %d host(s) for %.0fs: leaving them for --resume",
                        len(stranded), self.wait)
            cancel(self.client, stranded)


def _hosts_in_scope(plan: Authorised, scope: Scope) -> list[str]:
    hosts = [str(h) for h in plan.hosts]
    for host in hosts:
        if not scope.contains(host):
            raise ScopeError(f"{host} is outside the scope {scope.path}; nothing was sent")
    return hosts


def scan_on_cluster(store: Store, plan: Authorised, scope: Scope, options: ScanOptions,
                    client: Client, *, resume: bool = False, progress: ProgressFn | None = None,
                    kb: Any = None, agent_wait: float = AGENT_WAIT) -> ClusterScanResult:
    """Scan the authorised hosts through the cluster's agents, merging as hosts finish."""
    started = time.monotonic()
    hosts = _hosts_in_scope(plan, scope)
    if options.multicast:
        raise ConfigError("--multicast needs the scanner on the link itself: run it on the "
                          "site (a local scan), not through --cluster")
    routes = wait_for_routes(client, plan.hosts, agent_wait)
    source_id, done, resumed = _start_run(store, plan, scope, options, resume)
    todo = iter([h for h in hosts if h not in done])
    job = ScanJob(f"{source_id}-{uuid.uuid4().hex[:12]}", options, scope)
    merger = Merger(store, source_id, kb=kb, scope=scope, site_id=options.site_id)
    result = ClusterScanResult(ScanResult(source_id, len(hosts), len(done), MergeStats(), 0,
                                          0.0, resumed, False))
    writer = _Writer(merger, progress, len(done), len(hosts))
    watcher = _Watcher(client, agent_wait)
    completed = Completed()
    attempts: dict[str, int] = {}

    def submit(host: str) -> None:
        attempts[host] = attempts.get(host, 0) + 1
        key = f"camsweep-scan-{job.run}-{host}-{attempts[host]}"
        future = client.submit(scan_on_agent, job, host, key=key, pure=False,
                               resources={routes[host]: 1})
        with watcher.lock:
            watcher.outstanding[future.key] = (host, routes[host], future)
        completed.add(future)

    def top_up() -> None:
        while len(watcher.outstanding) < options.limits.concurrency:
            host = next(todo, None)
            if host is None:
                return
            submit(host)

    writer.start()
    watcher.start()
    try:
        try:
            top_up()
            for future in _finished(completed, writer):
                with watcher.lock:
                    host, _, _ = watcher.outstanding.pop(future.key)
                _settle(future, host, result, writer, attempts, submit, watcher)
                top_up()
        finally:
            watcher.stop.set()
            watcher.join()
            with watcher.lock:
                leftover = [f for _, _, f in watcher.outstanding.values()]
            if leftover:
                cancel(client, leftover)
            completed.clear()
            writer.finish()  # what arrived is merged, even when the run was interrupted
    except BaseException:
        _finish_run(store, source_id, writer.stats, False)
        raise
    result.requeued = list(dict.fromkeys(watcher.requeued))
    result.lost_agents = list(dict.fromkeys(watcher.lost))
    complete = not result.refused and not result.unfinished
    _finish_run(store, source_id, writer.stats, complete)
    scan = result.scan
    scan.stats, scan.complete = writer.stats, complete
    scan.not_seen = merger.mark_not_seen(hosts) if complete else 0
    scan.seconds = time.monotonic() - started
    return result


def _finished(completed: Completed, writer: _Writer) -> Iterator[Fut]:
    for future in completed:
        if writer.error is not None:
            raise writer.error
        yield future


def _settle(future: Fut, host: str, result: ClusterScanResult, writer: _Writer,
            attempts: dict[str, int], submit: Callable[[str], None], watcher: _Watcher) -> None:
    """One host's task is over: its report to the writer, or why not."""
    if future.status == "finished":
        report = future.result()
        assert isinstance(report, AgentReport)
        result.agents[report.agent] = result.agents.get(report.agent, 0) + 1
        writer.inbox.put(report)
        return
    if future.status == "cancelled":
        result.unfinished.append(host)
        return
    error = exception(future)
    if isinstance(error, ScopeError):
        result.refused[host] = str(error)
    elif isinstance(error, KilledWorker) and attempts[host] < MAX_ATTEMPTS:
        log.warning("%s: agents died scanning it; trying once more", host)
        with watcher.lock:
            watcher.requeued.append(host)
        submit(host)
    else:
        reason = str(error) if isinstance(error, CamsweepError) else repr(error)
        log.error("%s: not scanned: %s", host, reason)
        result.unfinished.append(host)


def scan_through(address: str, tls_dir: Path | None, store: Store, plan: Authorised,
                 scope: Scope, options: ScanOptions, *, resume: bool = False,
                 progress: ProgressFn | None = None) -> ClusterScanResult:
    """`scan_on_cluster` with a client of the scheduler at `address` (TLS from `tls_dir`)."""
    with open_client(address, client_security(tls_dir)) as client:
        return scan_on_cluster(store, plan, scope, options, client, resume=resume,
                               progress=progress)


def describe(result: ClusterScanResult) -> list[str]:
    """What a person wants to know about the agents' part in a run, a line each."""
    lines = ["hosts per agent: " + (", ".join(f"{a} {n}" for a, n in sorted(
        result.agents.items())) or "none")]
    if result.lost_agents:
        lines.append(f"agents lost: {', '.join(result.lost_agents)}; {len(result.requeued)} "
                     "host(s) re-queued to other agents")
    for host, reason in list(result.refused.items())[:20]:
        lines.append(f"refused {host}: {reason}")
    if result.unfinished:
        lines.append(f"{len(result.unfinished)} host(s) unfinished (no agent could take "
                     "them): run again with --resume when an agent is back")
    return lines

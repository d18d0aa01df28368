"""The active scanner: asyncio, bounded concurrency, rate limits, results streamed to the store.

    scope = load_scope("scope.txt")
    plan = authorise(parse_targets(["10.1.0.0/24"]), scope)   # ScopeError before any packet
    result = scan(store, plan, scope, ScanOptions(credentials=load_credentials()))

Per host: TCP connect on the ports; then, concurrently, HTTP(S) on web ports, the TLS
certificate on TLS ports, RTSP on RTSP ports, a banner on the others, and (for hosts with an
open port) unicast WS-Discovery, SSDP, SNMP engine discovery and mDNS; then the
device-information documents and ONVIF on the main web port; last the MAC from the
neighbour table. Finished hosts go through a queue to a writer thread that merges them into
the store in batches; each batch also marks its hosts done, which is what `--resume` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from camsweep.discover.credentials import Credentials
from camsweep.discover.evidence import WEB_PREFERENCE
from camsweep.discover.merge import Merger, MergeStats
from camsweep.discover.model import Answer, HostReport
from camsweep.discover.net import Limits, SocketTransport
from camsweep.discover.probes import http as http_probe
from camsweep.discover.probes import mdns, onvif, rtsp, snmp, ssdp, tcp, tls
from camsweep.discover.probes.base import NoAnswerError, Transport
from camsweep.discover.probes.neigh import neighbour_table
from camsweep.discover.scope import Authorised, Scope, ScopeGuard
from camsweep.errors import ScopeError
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import insert_many, utcnow

log = logging.getLogger(__name__)
WRITE_BATCH = 64
WRITE_EVERY = 0.5  # seconds: how long a finished host may wait for its batch


@dataclass
class ScanOptions:
    ports: tuple[int, ...] = tcp.DEFAULT_PORTS
    limits: Limits = field(default_factory=Limits)
    credentials: Credentials = field(default_factory=Credentials)
    udp: bool = True  # WS-Discovery, SSDP, SNMP, mDNS (unicast, to hosts with an open port)
    device_info: bool = True  # ISAPI / magicBox / VAPIX documents
    neighbours: bool = True  # MAC from the kernel neighbour table
    multicast: bool = False  # on-link WS-Discovery / SSDP / mDNS to the groups (see multicast.py)
    multicast_wait: float = 2.0
    site_id: str | None = None
    label: str | None = None


@dataclass
class ScanResult:
    source_id: int
    hosts: int
    skipped: int  # finished in an earlier run (--resume)
    stats: MergeStats
    not_seen: int
    seconds: float
    resumed: bool
    complete: bool
    transport: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        return {"source_id": self.source_id, "hosts": self.hosts, "skipped": self.skipped,
                "responded": s.responded, "devices_created": s.created,
                "devices_updated": s.updated, "observations": s.observations,
                "verdicts": s.verdicts, "restricted": s.restricted, "not_seen": self.not_seen,
                "seconds": round(self.seconds, 3), "resumed": self.resumed,
                "complete": self.complete, "transport": self.transport}


async def _quiet(coro: Awaitable[Any]) -> Any:
    """A probe's result, or None when the device was silent or broke the conversation."""
    try:
        return await coro
    except ScopeError:
        raise
    except (OSError, TimeoutError, NoAnswerError, ValueError, EOFError) as exc:
        log.debug("probe failed: %s", exc)
        return None


def _collect(report: HostReport, result: Any) -> None:
    if isinstance(result, Answer):
        report.add(result)
    elif isinstance(result, list):
        for item in result:
            if isinstance(item, Answer):
                report.add(item)


async def scan_host(t: Transport, ip: str, options: ScanOptions,
                    neighbours: Callable[[], dict[str, str]] | None = None,
                    heard: Sequence[Answer] = ()) -> HostReport:
    """Everything one host says; sends nothing beyond the probes described in the module doc.
    `heard`: answers the host already gave to multicast discovery."""
    report = HostReport(ip)
    for answer in heard:
        report.add(answer)
    opened = await asyncio.gather(*(_quiet(tcp.probe_connect(t, ip, p)) for p in options.ports))
    for answer in opened:
        _collect(report, answer)
    open_ports = report.open_ports
    udp_jobs: dict[str, asyncio.Task[Any]] = {}
    if options.udp and (open_ports or heard):
        udp_jobs = {
            "wsd": asyncio.ensure_future(_quiet(onvif.probe_wsd(t, ip))),
            "ssdp": asyncio.ensure_future(_quiet(ssdp.probe_ssdp(t, ip))),
            "snmp": asyncio.ensure_future(_quiet(snmp.probe_snmp(t, ip,
                                                                 options.credentials.snmp))),
            "mdns": asyncio.ensure_future(_quiet(mdns.probe_mdns(t, ip))),
        }
    web_ports = [(p, p in http_probe.TLS_PORTS) for p in open_ports
                 if p in http_probe.HTTP_PORTS or p in http_probe.TLS_PORTS]
    other: list[Awaitable[Any]] = []
    banner_web: list[tuple[int, bool]] = []

    async def banner_then_http(port: int) -> list[Answer]:
        got = await _quiet(tcp.probe_banner(t, ip, port))
        out = [got] if got is not None else []
        if got is not None and got.fields.get("http"):
            banner_web.append((port, False))
            out.extend(await _quiet(http_probe.probe_landing(t, ip, port, False)) or [])
        return out

    for port in open_ports:
        if port in http_probe.TLS_PORTS:
            other.append(_quiet(tls.probe_tls(t, ip, port)))
        elif port in rtsp.RTSP_PORTS:
            other.append(_quiet(rtsp.probe_rtsp(t, ip, port)))
        elif port not in http_probe.HTTP_PORTS:
            other.append(banner_then_http(port))
    others = asyncio.ensure_future(asyncio.gather(*other))
    collected = False

    async def web_chain() -> None:
        """Landing pages, then the device documents and ONVIF on the main web port, while
        banners, RTSP and UDP probes run alongside."""
        for result in await asyncio.gather(*(_quiet(http_probe.probe_landing(t, ip, p, secure))
                                             for p, secure in web_ports)):
            _collect(report, result)
        nonlocal collected
        candidates = list(web_ports)
        if not any(a.probe == "http" for a in report.answers):
            for result in await others:  # a web server found only by its banner
                _collect(report, result)
            collected = True
            candidates += banner_web
        candidates.sort(key=lambda pt: (WEB_PREFERENCE.index(pt[0]) if pt[0] in WEB_PREFERENCE
                                        else len(WEB_PREFERENCE), pt[0]))
        main = next((w for w in candidates if any(a.probe == "http" and a.port == w[0]
                                                  for a in report.answers)), None)
        info = (asyncio.ensure_future(_quiet(http_probe.probe_device_info(t, ip, *main)))
                if main is not None and options.device_info else None)
        wsd_answer = await udp_jobs["wsd"] if "wsd" in udp_jobs else None
        _collect(report, wsd_answer)
        wsd_answer = wsd_answer or next((a for a in heard if a.probe == "wsd"), None)
        endpoint = onvif.onvif_endpoint(wsd_answer, ip)
        if endpoint is None and main is not None:
            endpoint = (main[0], onvif.DEVICE_PATH, main[1])
        if endpoint is not None:
            port, path, secure = endpoint
            if port in open_ports or wsd_answer is not None:
                _collect(report, await _quiet(onvif.probe_onvif(
                    t, ip, port, path=path, tls=secure, credentials=options.credentials.onvif)))
        if info is not None:
            _collect(report, await info)

    await web_chain()
    if not collected:
        for result in await others:
            _collect(report, result)
    for name, job in udp_jobs.items():
        if name != "wsd":
            _collect(report, await job)
    if options.neighbours and report.answers and neighbours is not None:
        mac = neighbours().get(ip)
        if mac:
            report.add(Answer("neigh", ip, fields={"mac": mac}, mac=mac))
    report.finished_at = utcnow()
    return report


# --- runs and resume -------------------------------------------------------------------------

def _fingerprint(hosts: Sequence[str], options: ScanOptions) -> str:
    h = hashlib.sha256()
    h.update(",".join(hosts).encode())
    h.update(",".join(str(p) for p in options.ports).encode())
    return h.hexdigest()


def _start_run(store: Store, plan: Authorised, scope: Scope, options: ScanOptions,
               resume: bool) -> tuple[int, set[str], bool]:
    """(source id, hosts already done, resumed?) — a new run, or the interrupted one."""
    hosts = [str(h) for h in plan.hosts]
    key = _fingerprint(hosts, options)
    with store.engine.begin() as conn:
        if resume:
            row = conn.execute(
                select(m.Source.id).where(m.Source.kind == "scan", m.Source.sha256 == key,
                                          m.Source.finished_at.is_(None))
                .order_by(m.Source.id.desc()).limit(1)).scalar()
            if row is not None:
                done = set(conn.execute(select(m.ScanHost.ip).where(
                    m.ScanHost.source_id == row, m.ScanHost.state == "done")).scalars())
                return int(row), done, True
            log.warning("no interrupted scan of these targets to resume: starting a new one")
        label = options.label or " ".join(t.text for t in plan.targets)[:500]
        source_id = conn.execute(insert(m.Source).values(
            kind="scan", name=label, sha256=key, rows=len(hosts), created=0, updated=0,
            unchanged=0, started_at=utcnow(),
            options={"targets": [t.text for t in plan.targets], "ports": list(options.ports),
                     "scope": scope.path, "site_id": options.site_id,
                     "credentials": options.credentials.describe(),
                     "limits": vars(options.limits)})).inserted_primary_key[0]  # type: ignore[index]
        insert_many(conn, "scan_hosts", ("source_id", "ip", "state", "answers"),
                    ((source_id, h, "pending", 0) for h in hosts))
    return int(source_id), set(), False


def _finish_run(store: Store, source_id: int, stats: MergeStats, complete: bool) -> None:
    with store.engine.begin() as conn:
        totals = conn.execute(select(m.Source.created, m.Source.updated)
                              .where(m.Source.id == source_id)).one()
        values: dict[str, Any] = {"created": totals[0] + stats.created,
                                  "updated": totals[1] + stats.updated}
        if complete:
            values["finished_at"] = utcnow()
        conn.execute(update(m.Source).where(m.Source.id == source_id).values(**values))


ProgressFn = Callable[[int, int], None]


async def scan_async(store: Store, plan: Authorised, scope: Scope,
                     options: ScanOptions | None = None, *, resume: bool = False,
                     progress: ProgressFn | None = None, kb: Any = None,
                     transport: Transport | None = None) -> ScanResult:
    """Scan the authorised hosts and merge what they say into the store as they finish."""
    options = options or ScanOptions()
    started = time.monotonic()
    hosts = [str(h) for h in plan.hosts]
    for host in hosts:  # defence in depth: the plan must come from authorise() with this scope
        if not scope.contains(host):
            raise ScopeError(f"{host} is outside the scope {scope.path}; nothing was sent")
    source_id, done, resumed = await asyncio.to_thread(_start_run, store, plan, scope, options,
                                                       resume)
    todo = [h for h in hosts if h not in done]
    merger = Merger(store, source_id, kb=kb, scope=scope, site_id=options.site_id)
    total = MergeStats()
    queue: asyncio.Queue[HostReport | None] = asyncio.Queue()
    finished = 0
    neigh_cache: dict[str, Any] = {"at": 0.0, "table": {}}

    def neighbours() -> dict[str, str]:
        if time.monotonic() - neigh_cache["at"] > 0.5:
            neigh_cache["table"] = neighbour_table()
            neigh_cache["at"] = time.monotonic()
        table: dict[str, str] = neigh_cache["table"]
        return table

    async def writer() -> None:
        nonlocal finished
        batch: list[HostReport] = []
        closing = False
        while not closing:
            try:
                item = await asyncio.wait_for(queue.get(), WRITE_EVERY)
                if item is None:
                    closing = True
                else:
                    batch.append(item)
            except TimeoutError:
                pass
            if batch and (closing or len(batch) >= WRITE_BATCH or queue.empty()):
                stats = await asyncio.to_thread(merger.write, batch, scan=True)
                total.add(stats)
                finished += len(batch)
                batch = []
                if progress:
                    progress(len(done) + finished, len(hosts))

    guard = ScopeGuard(scope, plan.hosts)
    own = transport is None

    heard: dict[str, list[Answer]] = {}
    if options.multicast:
        from camsweep.discover.multicast import multicast_discover

        heard = await multicast_discover(scope, guard, options.multicast_wait)

    pending = iter(todo)

    async def worker(t: Transport) -> None:
        """`concurrency` of these share the host list: a /16 never becomes 65,536 tasks."""
        for host in pending:
            report = await scan_host(t, host, options, neighbours if options.neighbours else None,
                                     heard.get(host, ()))
            if isinstance(t, SocketTransport):
                await t.aforget(host)
            await queue.put(report)

    workers = max(1, min(options.limits.concurrency, len(todo)))

    writing = asyncio.create_task(writer())
    complete = False
    stats_out: dict[str, int] = {}
    try:
        if own:
            async with SocketTransport(guard, options.limits) as real:
                await asyncio.gather(*(worker(real) for _ in range(workers)))
                stats_out = {"connections": real.stats.connections,
                             "http_requests": real.stats.http_requests,
                             "datagrams": real.stats.datagrams}
        else:
            assert transport is not None
            await asyncio.gather(*(worker(transport) for _ in range(workers)))
        complete = True
    finally:
        await queue.put(None)
        with contextlib.suppress(asyncio.CancelledError):
            await writing
        await asyncio.to_thread(_finish_run, store, source_id, total, complete)
    not_seen = await asyncio.to_thread(merger.mark_not_seen, hosts) if complete else 0
    return ScanResult(source_id, len(hosts), len(done), total, not_seen,
                      time.monotonic() - started, resumed, complete, stats_out)


def scan(store: Store, plan: Authorised, scope: Scope, options: ScanOptions | None = None, *,
         resume: bool = False, progress: ProgressFn | None = None, kb: Any = None) -> ScanResult:
    """Synchronous entry point (runs its own event loop)."""
    return asyncio.run(scan_async(store, plan, scope, options, resume=resume, progress=progress,
                                  kb=kb))

"""Scan agents on an in-process scheduler, against emulated devices on loopback addresses:
routing by network, results merged like a local scan, refusals at the agent, agents lost
mid-scan, and TLS that admits only certificates from the cluster CA."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Scheduler, Worker, get_task_stream
from sqlalchemy import select
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.discover import ScanOptions, authorise, parse_scope, parse_targets, scan
from camsweep.discover.net import Limits
from camsweep.discover.scope import IPNetwork, Scope
from camsweep.errors import ScopeError
from camsweep.kb import load_kb
from camsweep.scale.agent import ScanJob, scan_on_agent, start_agent
from camsweep.scale.bulk import identify_jsonl
from camsweep.scale.certs import make_certificates
from camsweep.scale.cluster import ClusterError, open_client, security, tls_files
from camsweep.scale.dask_api import exception
from camsweep.scale.dispatch import ClusterScanResult, scan_on_cluster
from camsweep.store import Store, open_store
from camsweep.store import models as m
from camsweep.store.queries import list_devices
from camsweep.testbed import TESTBED_CREDENTIALS, Testbed

FAST = Limits(timeout=1.0, retries=0, rate=5000, host_rate=500, concurrency=64)
# Slow enough that an agent is still busy when the test takes it away.
SLOW = Limits(timeout=1.0, retries=0, rate=5000, host_rate=3.0, concurrency=64)
_blocks = itertools.count(1)


def net(text: str) -> IPNetwork:
    import ipaddress

    return ipaddress.ip_network(text)


class Loop:
    """An event loop in a thread, for the scheduler and agents (the sync client that the
    code under test uses runs its own)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def soon(self, coro: Coroutine[Any, Any, Any]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Cluster:
    """A scheduler and the agents a test starts; all closed at the end."""

    def __init__(self, loop: Loop, sec: Any = None) -> None:
        self.loop = loop
        self.sec = sec

        async def start() -> Scheduler:
            s = Scheduler(host="127.0.0.1", port=0, dashboard=False, security=sec,
                          dashboard_address="127.0.0.1:0")
            await s
            return s

        self.scheduler: Scheduler = loop.run(start())
        self.agents: list[Worker] = []

    @property
    def address(self) -> str:
        return str(self.scheduler.address)

    def agent(self, name: str, networks: list[str], address: str | None = None,
              **options: Any) -> Worker:
        worker: Worker = self.loop.run(start_agent(
            address or self.address, name, [net(n) for n in networks], **options))
        self.agents.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.agents:
            self.loop.run(worker.close(), timeout=30)
        self.loop.run(self.scheduler.close(), timeout=30)


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    runner = Loop()
    yield runner
    runner.stop()


@pytest.fixture
def cluster(loop: Loop) -> Iterator[Cluster]:
    c = Cluster(loop)
    yield c
    c.close()


@pytest.fixture
def block() -> str:
    return f"127.71.{next(_blocks)}"


def _scope(block: str) -> Scope:
    return parse_scope(f"{block}.0/24  # loopback lab\n", "scope.txt")


def _run(store: Store, address: str, targets: list[str], scope: Scope,
         agent_wait: float = 10.0) -> ClusterScanResult:
    plan = authorise(parse_targets(targets), scope)
    opts = ScanOptions(credentials=TESTBED_CREDENTIALS, limits=FAST)
    with open_client(address) as client:
        return scan_on_cluster(store, plan, scope, opts, client, agent_wait=agent_wait)


def _devices(store: Store) -> list[dict[str, Any]]:
    return sorted(list_devices(store), key=lambda d: str(d["ip"]))


def _observed_by(store: Store) -> dict[str, set[str]]:
    with store.session() as s:
        rows = s.execute(select(m.Observation.ip, m.Observation.payload)).all()
    out: dict[str, set[str]] = {}
    for ip, payload in rows:
        out.setdefault(ip, set()).add(payload.get("agent"))
    return out


def test_each_host_goes_to_the_agent_that_reaches_it_and_merges_like_a_local_scan(
        cluster: Cluster, store: Store, block: str, tmp_path: Path) -> None:
    cluster.agent("site-a", [f"{block}.0/29"], slots=8)
    cluster.agent("site-b", [f"{block}.8/29"], slots=8)
    with Testbed(hosts=12, base=f"{block}.1").running() as bed:
        scope = _scope(block)
        targets = [f"{block}.1-{block}.14"]  # .13 and .14: nothing there
        result = _run(store, cluster.address, targets, scope)
        local_store = open_store(f"sqlite:///{tmp_path / 'local.db'}")
        try:
            plan = authorise(parse_targets(targets), scope)
            local = scan(local_store, plan, scope,
                         ScanOptions(credentials=TESTBED_CREDENTIALS, limits=FAST))
            local_devices = _devices(local_store)
        finally:
            local_store.dispose()
    assert result.scan.complete and result.scan.hosts == 14
    assert result.agents == {"site-a": 7, "site-b": 7}  # .1-.7 and .8-.14
    assert result.scan.stats.responded == local.stats.responded == len(bed.hosts)
    assert _devices(store) == local_devices
    by_agent = _observed_by(store)
    for host in bed.hosts:
        last = int(host.ip.rsplit(".", 1)[1])
        assert by_agent[host.ip] == {"site-a" if last < 8 else "site-b"}, host.ip


def test_no_agent_for_a_host_refuses_the_scan_before_anything_is_sent(
        cluster: Cluster, store: Store, block: str) -> None:
    cluster.agent("site-a", [f"{block}.0/29"], slots=2)
    with pytest.raises(ClusterError, match=rf"no connected agent can reach 2 host\(s\): "
                                           rf"{block}\.8, {block}\.9\. .*site-a: {block}\.0/29"):
        _run(store, cluster.address, [f"{block}.6-9"], _scope(block), agent_wait=0.5)
    with store.session() as s:
        assert s.scalars(select(m.Source)).all() == []


def _listener(ip: str, port: int = 80) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((ip, port))
    sock.listen(16)
    sock.setblocking(False)
    return sock


def _never_contacted(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


def test_the_agent_refuses_hosts_outside_its_scope_file_and_its_networks(
        cluster: Cluster, store: Store, block: str, tmp_path: Path) -> None:
    site_scope = parse_scope(f"{block}.1-{block}.3\n", "site-a-scope.txt")
    worker = cluster.agent("site-a", [f"{block}.0/29"], scope=site_scope, slots=4)
    outside_scope, outside_net = _listener(f"{block}.5"), _listener(f"{block}.20")
    try:
        with Testbed(hosts=3, base=f"{block}.1").running():
            result = _run(store, cluster.address, [f"{block}.1-5"], _scope(block))
            job = ScanJob("direct", ScanOptions(limits=FAST), _scope(block))
            with open_client(cluster.address) as client:
                future = client.submit(scan_on_agent, job, f"{block}.20", pure=False,
                                       workers=[worker.address])
                error = exception(future)
        assert sorted(result.refused) == [f"{block}.4", f"{block}.5"]
        assert "outside its scope site-a-scope.txt" in result.refused[f"{block}.5"]
        assert not result.scan.complete and result.agents == {"site-a": 3}
        assert isinstance(error, ScopeError) and "outside its networks" in str(error)
        assert _never_contacted(outside_scope) and _never_contacted(outside_net)
        with store.session() as s:  # refused hosts stay pending: --resume would retry them
            pending = s.scalars(select(m.ScanHost.ip).where(m.ScanHost.state == "pending"))
            assert sorted(pending) == [f"{block}.4", f"{block}.5"]
    finally:
        outside_scope.close()
        outside_net.close()


def _lose_after_first_host(cluster: Cluster, worker: Worker,
                           ) -> tuple[threading.Event, Callable[[int, int], None]]:
    """A progress callback that takes `worker` away once the first host is merged."""
    taken = threading.Event()

    def progress(done: int, total: int) -> None:
        if done and not taken.is_set():
            taken.set()
            cluster.loop.soon(worker.close(reason="test: agent lost"))

    return taken, progress


def _slow_scan(store: Store, cluster: Cluster, block: str, hosts: int,
               **options: Any) -> ClusterScanResult:
    scope = _scope(block)
    plan = authorise(parse_targets([f"{block}.1-{hosts}"]), scope)
    opts = ScanOptions(credentials=TESTBED_CREDENTIALS, limits=SLOW, udp=False,
                       ports=(80, 554, 8000))
    with open_client(cluster.address) as client:
        return scan_on_cluster(store, plan, scope, opts, client, **options)


def test_an_agent_lost_mid_scan_has_its_hosts_finished_by_another(
        cluster: Cluster, store: Store, block: str) -> None:
    lost = cluster.agent("site-a", [f"{block}.0/24"], slots=2)
    cluster.agent("site-b", [f"{block}.0/24"], slots=2)
    taken, progress = _lose_after_first_host(cluster, lost)
    with Testbed(hosts=4, base=f"{block}.1").running() as bed:
        result = _slow_scan(store, cluster, block, 4, progress=progress)
    assert taken.is_set()
    assert result.scan.complete and result.scan.stats.responded == len(bed.hosts)
    assert result.lost_agents == ["site-a"] and result.requeued
    by_agent = _observed_by(store)
    assert all(by_agent[h] == {"site-b"} for h in result.requeued)
    assert {d["ip"] for d in list_devices(store)} == {h.ip for h in bed.hosts}


def test_hosts_no_agent_can_take_are_left_for_resume(
        cluster: Cluster, store: Store, block: str) -> None:
    only = cluster.agent("site-a", [f"{block}.0/24"], slots=1)
    taken, progress = _lose_after_first_host(cluster, only)
    with Testbed(hosts=3, base=f"{block}.1").running() as bed:
        first = _slow_scan(store, cluster, block, 3, progress=progress, agent_wait=1.0)
        assert taken.is_set() and not first.scan.complete and first.unfinished
        assert first.lost_agents == ["site-a"]
        cluster.agent("site-a2", [f"{block}.0/24"], slots=2)
        second = _slow_scan(store, cluster, block, 3, resume=True)
    assert second.scan.resumed and second.scan.complete
    assert second.scan.skipped == 3 - len(first.unfinished)
    assert set(second.agents) == {"site-a2"}
    assert {d["ip"] for d in list_devices(store)} == {h.ip for h in bed.hosts}


def _handshake_without_certificate(address: str, ca: Path) -> None:
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    with socket.create_connection((host, int(port)), timeout=5) as raw, \
            context.wrap_socket(raw) as tls:
        tls.sendall(b"x")
        tls.recv(1)


def test_tls_admits_agents_and_clients_with_certificates_of_the_ca_only(
        loop: Loop, tmp_path: Path, block: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("camsweep.scale.cluster.CONNECT_TIMEOUT", 3.0)
    certs, rogue = tmp_path / "certs", tmp_path / "rogue"
    make_certificates(certs, ["agent-a"])
    make_certificates(rogue, ["agent-x"])
    tls = Cluster(loop, security("scheduler", *tls_files(certs, "scheduler")))
    try:
        assert tls.address.startswith("tls://")
        tls.agent("a", [f"{block}.0/24"], sec=security("worker", *tls_files(certs, "agent-a")),
                  slots=2)
        with pytest.raises(ClusterError, match="certificate comes from the scheduler's CA"):
            tls.agent("x", [f"{block}.0/24"], timeout=3,
                      sec=security("worker", *tls_files(rogue, "agent-x")))
        with pytest.raises(ClusterError):  # no TLS at all
            tls.agent("plain", [f"{block}.0/24"], timeout=3,
                      address=tls.address.replace("tls://", "tcp://"))
        with pytest.raises((ssl.SSLError, ConnectionError)):
            _handshake_without_certificate(tls.address, certs / "ca.pem")
        assert [w.name for w in tls.scheduler.workers.values()] == ["a"]

        with Testbed(hosts=2, base=f"{block}.1").running():
            scope = _scope(block)
            plan = authorise(parse_targets([f"{block}.1-2"]), scope)
            store = open_store(f"sqlite:///{tmp_path / 'tls.db'}")
            try:
                client_sec = security("client", *tls_files(certs, "client"))
                with open_client(tls.address, client_sec) as client:
                    result = scan_on_cluster(store, plan, scope, ScanOptions(limits=FAST),
                                             client)
            finally:
                store.dispose()
        assert result.scan.complete and result.agents == {"a": 2}
        rogue_client = security("client", *tls_files(rogue, "client"))
        with pytest.raises(ClusterError, match="cannot connect"), \
                open_client(tls.address, rogue_client):
            pass
    finally:
        tls.close()


def test_bulk_identification_runs_on_compute_workers_never_on_agents(
        cluster: Cluster, tmp_path: Path) -> None:
    cluster.agent("site-a", ["127.72.0.0/24"], slots=4)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(f'{{"id": "{i}", "evidence": {{"brand": "Dahua"}}}}\n'
                              for i in range(3000)))
    kb = load_kb()
    with open_client(cluster.address) as client:
        with source.open("rb") as reader, pytest.raises(
                ClusterError, match="no workers for bulk identification"):
            identify_jsonl(client, kb, reader, io.BytesIO())

        async def plain() -> Worker:
            w = Worker(cluster.address, nthreads=1, name="compute")
            await w
            return w

        cluster.agents.append(cluster.loop.run(plain()))
        out = io.BytesIO()
        with source.open("rb") as reader, get_task_stream(client) as stream:
            run = identify_jsonl(client, kb, reader, out, block=16 << 10)
    assert run.partitions >= 5 and out.getvalue().count(b'"manufacturer_id": "dahua"') == 3000
    assert {t["worker"] for t in stream.data} == {cluster.agents[-1].address}


def test_cli_scan_with_cluster(cluster: Cluster, block: str, tmp_path: Path) -> None:
    cluster.agent("site-a", [f"{block}.0/24"], slots=4)
    scope = tmp_path / "scope.txt"
    scope.write_text(f"{block}.0/24\n")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    base = ["--db", db, "scan", f"{block}.1-2", "--scope", str(scope), "--cluster",
            cluster.address, "--timeout", "1", "--retries", "0"]
    with Testbed(hosts=2, base=f"{block}.1").running():
        result = CliRunner().invoke(app, [*base, "--json"])
        assert result.exit_code == 0, result.output
        human = CliRunner().invoke(app, [*base, "--no-udp"])
        assert human.exit_code == 0, human.output
    data = json.loads(result.stdout)
    assert data["complete"] and data["responded"] == 2 and data["agents"] == {"site-a": 2}
    assert "hosts per agent: site-a 2" in human.output
    refused = CliRunner().invoke(app, [*base, "--multicast"])
    assert refused.exit_code != 0 and "--multicast" in str(refused.exception)

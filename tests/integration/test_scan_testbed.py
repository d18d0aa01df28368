"""Scan the emulated devices over real loopback sockets: every true maker found, white-label
included; merge with the register; resume; and nothing sent outside the scope."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from camsweep.cli import scan as scan_cli
from camsweep.cli.common import state
from camsweep.discover import ScanOptions, authorise, load_scope, parse_targets, scan, scan_async
from camsweep.discover import scanner as scanner_mod
from camsweep.discover.net import Limits, SocketTransport
from camsweep.discover.scope import ScopeGuard
from camsweep.errors import ScopeError
from camsweep.inventory.importer import import_file
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.queries import list_devices
from camsweep.testbed import TESTBED_CREDENTIALS, Testbed, all_profiles

_blocks = itertools.count()


def loopback_block() -> str:
    """A /24 in 127.0.0.0/8 of its own for each test (and each xdist worker): no clashes."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
    return f"127.{60 + worker}.{next(_blocks) % 250 + 1}"


FAST = Limits(timeout=1.0, retries=0, rate=5000, host_rate=500, concurrency=64)


def write_scope(tmp: Path, text: str) -> Path:
    path = tmp / "scope.txt"
    path.write_text(text)
    return path


@pytest.fixture
def bed() -> Iterator[Testbed]:
    block = loopback_block()
    testbed = Testbed(hosts=2 * len(all_profiles()), base=f"{block}.1")
    with testbed.running():
        yield testbed


def test_scan_finds_every_true_maker_and_merges_with_the_register(
        store: Store, bed: Testbed, tmp_path: Path) -> None:
    block = bed.hosts[0].ip.rsplit(".", 1)[0]
    hik, lorex = bed.hosts[0], next(h for h in bed.hosts if h.profile.id == "lorex-nvr")
    silent_ip = f"{block}.200"  # registered, inside the scanned range, nothing there
    (tmp_path / "sites.csv").write_text(
        "site_id,name,department,region,sensitivity\nS-1,Depot,Home Office,london,standard\n")
    (tmp_path / "assets.csv").write_text(
        "asset_id,site_id,device_type,brand,model,mac,ip\n"
        f"A-HIK,S-1,camera,Hikvision,{hik.model},{hik.mac},\n"  # merged by MAC
        f"A-LOREX,S-1,nvr,Lorex,,,{lorex.ip}\n"  # merged by IP within the site
        f"A-GONE,S-1,camera,Axis,P3245-LVE,,{silent_ip}\n")
    import_file(store, tmp_path / "sites.csv", "sites")
    import_file(store, tmp_path / "assets.csv", "assets")
    scope = load_scope(write_scope(tmp_path, f"# test lab\n{block}.0/24  # loopback lab\n"))
    plan = authorise(parse_targets([f"{block}.1-{block}.{len(bed.hosts)}", silent_ip]), scope)
    options = ScanOptions(credentials=TESTBED_CREDENTIALS, limits=FAST, site_id="S-1")
    result = scan(store, plan, scope, options)

    assert result.complete and result.hosts == len(bed.hosts) + 1
    assert result.stats.responded == len(bed.hosts)
    devices = {d["ip"]: d for d in list_devices(store)}
    wrong = [(h.ip, h.profile.id, h.maker, devices.get(h.ip, {}).get("manufacturer_id"))
             for h in bed.hosts if devices.get(h.ip, {}).get("manufacturer_id") != h.maker]
    assert not wrong, f"wrong maker for {wrong}"
    for host in bed.hosts:
        dev = devices[host.ip]
        assert dev["restricted"] is (None if host.maker is None
                                     else host.maker in ("hikvision", "dahua"))
    # White-label units: the label is the OEM's, the maker the true one.
    for profile_id, brand in (("lorex-nvr", "Lorex"), ("amcrest-ipc", "Amcrest"),
                              ("lts-ipc", "LTS")):
        host = next(h for h in bed.hosts if h.profile.id == profile_id)
        assert devices[host.ip]["brand"] == brand or devices[host.ip]["asset_id"]
    # Register merge: by MAC (no IP in the register), and by IP within the site.
    assert devices[hik.ip]["asset_id"] == "A-HIK"
    assert devices[hik.ip]["sources"] == ["register", "scan"]
    assert devices[lorex.ip]["asset_id"] == "A-LOREX"
    assert "unregistered" not in devices[hik.ip]["flags"]
    other = next(h for h in bed.hosts if h.profile.id == "axis-ipc")
    assert devices[other.ip]["asset_id"] is None
    assert devices[other.ip]["flags"] == ["unregistered"]
    assert devices[other.ip]["site_id"] == "S-1"
    assert devices[silent_ip]["flags"] == ["not_seen"]
    assert result.not_seen == 1
    with store.session() as s:
        obs = s.scalar(select(func.count()).select_from(m.Observation)) or 0
        verdicts = s.scalar(select(func.count()).select_from(m.Verdict)) or 0
        probes = set(s.scalars(select(m.Observation.probe).distinct()))
    assert obs == result.stats.observations > len(bed.hosts) * 4
    assert verdicts == len(bed.hosts)
    assert {"tcp", "http", "rtsp", "onvif", "wsd", "snmp", "isapi", "magicbox", "vapix",
            "ssdp", "upnp", "mdns", "tls", "banner"} <= probes


def test_credentials_go_only_to_servers_of_their_protocol(bed: Testbed, tmp_path: Path) -> None:
    block = bed.hosts[0].ip.rsplit(".", 1)[0]
    scope = load_scope(write_scope(tmp_path, f"{block}.0/24\n"))
    plan = authorise(parse_targets([f"{block}.1-{len(bed.hosts)}"]), scope)
    guard = ScopeGuard(scope, plan.hosts)
    options = ScanOptions(credentials=TESTBED_CREDENTIALS, limits=FAST)

    async def run() -> None:
        async with SocketTransport(guard, FAST) as t:
            await asyncio.gather(*(scanner_mod.scan_host(t, str(h), options) for h in plan.hosts))

    asyncio.run(run())
    for host in bed.hosts:
        got = {kind for kind, _ in bed.log.for_ip(host.ip)}
        if "onvif" not in host.data:
            assert "onvif-username-token" not in got, host.profile.id
        if "snmp" not in host.profile.udp:
            assert "snmp-community" not in got, host.profile.id
        assert "http-authorization" not in got  # no login is ever attempted on the web UI
    plain = [h for h in bed.hosts if h.profile.id == "plain-web"]
    assert plain and all(bed.log.for_ip(h.ip) == [] for h in plain)
    assert any(k == "snmp-community" for _, k, _ in bed.log.entries)
    assert any(k == "onvif-username-token" for _, k, _ in bed.log.entries)


def _listener(ip: str) -> tuple[socket.socket, socket.socket]:
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((ip, 80))
    tcp.listen(16)
    tcp.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((ip, 161))
    udp.setblocking(False)
    return tcp, udp


def _assert_silent(tcp: socket.socket, udp: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        tcp.accept()
    with pytest.raises(BlockingIOError):
        udp.recvfrom(2048)


def test_out_of_scope_target_is_refused_before_any_packet(store: Store, tmp_path: Path) -> None:
    block = loopback_block()
    outside = f"{block}.200"
    tcp, udp = _listener(outside)
    try:
        scope = load_scope(write_scope(tmp_path, f"{block}.0/25\n"))
        for targets in ([outside], [f"{block}.0/24"], [f"{block}.1", outside]):
            with pytest.raises(ScopeError, match="outside the authorised scope"):
                authorise(parse_targets(targets), scope)
        # The CLI refuses too, with the reason, and writes nothing.
        app = typer.Typer()
        scan_cli.register(app)
        app.command("noop")(lambda: None)
        state.db = store.url
        state._settings = None
        result = CliRunner().invoke(app, ["scan", outside, "--scope", str(tmp_path / "scope.txt")])
        assert result.exit_code != 0
        assert isinstance(result.exception, ScopeError)
        # Even a plan forged past authorise() is stopped at the socket by the guard.
        plan = authorise(parse_targets([f"{block}.1"]), scope)
        plan.hosts.append(__import__("ipaddress").ip_address(outside))
        with pytest.raises(ScopeError):
            asyncio.run(scan_async(store, plan, scope, ScanOptions(limits=FAST)))
        guard = ScopeGuard(scope, plan.hosts[:1])

        async def forged() -> None:
            async with SocketTransport(guard, FAST) as t:
                await t.connect(outside, 80)

        with pytest.raises(ScopeError):
            asyncio.run(forged())
        _assert_silent(tcp, udp)
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(m.ScanHost)) == 0
    finally:
        state.db = None
        state._settings = None
        tcp.close()
        udp.close()


def test_resume_skips_finished_hosts(store: Store, bed: Testbed, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    block = bed.hosts[0].ip.rsplit(".", 1)[0]
    scope = load_scope(write_scope(tmp_path, f"{block}.0/24\n"))
    plan = authorise(parse_targets([f"{block}.1-{len(bed.hosts)}"]), scope)
    monkeypatch.setattr(scanner_mod, "WRITE_BATCH", 2)
    limits = Limits(timeout=1.0, retries=0, concurrency=4)
    options = ScanOptions(credentials=TESTBED_CREDENTIALS, limits=limits)

    async def interrupted() -> None:
        task: asyncio.Task[object] | None = None

        def progress(done: int, total: int) -> None:
            if done >= 4 and task is not None:
                task.cancel()

        task = asyncio.ensure_future(scan_async(store, plan, scope, options, progress=progress))
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    with store.session() as s:
        done_first = set(s.scalars(select(m.ScanHost.ip).where(m.ScanHost.state == "done")))
        first = s.scalar(select(m.Source).where(m.Source.kind == "scan"))
    assert first is not None and first.finished_at is None
    assert 4 <= len(done_first) < len(bed.hosts)
    result = scan(store, plan, scope, options, resume=True)
    assert result.resumed and result.complete and result.source_id == first.id
    assert result.skipped == len(done_first)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Source)
                        .where(m.Source.kind == "scan")) == 1
        assert all(st == "done" for st in s.scalars(select(m.ScanHost.state)))
        # Each open port was connected once: resumed hosts were not probed again.
        per_host = s.execute(select(m.Observation.ip, func.count())
                             .where(m.Observation.probe == "tcp")
                             .group_by(m.Observation.ip)).all()
    for ip, count in per_host:
        assert count == len(bed.by_ip(ip).profile.ports), ip
    assert {d["ip"] for d in list_devices(store)} == {h.ip for h in bed.hosts}


def test_cli_scan_dry_run_and_json(store: Store, bed: Testbed, tmp_path: Path) -> None:
    block = bed.hosts[0].ip.rsplit(".", 1)[0]
    scope_file = tmp_path / "scope.yaml"
    scope_file.write_text(f"- cidr: {block}.0/24\n  owner: test lab\n  note: loopback\n")
    creds = tmp_path / "creds.yaml"
    creds.write_text("onvif: {username: admin, password: testbed-onvif-pass}\n"
                     "snmp: {community: testbed-ro}\n")
    creds.chmod(0o600)
    app = typer.Typer()
    scan_cli.register(app)
    app.command("noop")(lambda: None)
    state.db = store.url
    state._settings = None
    try:
        runner = CliRunner()
        dry = runner.invoke(app, ["scan", f"{block}.1-4", "--scope", str(scope_file),
                                  "--dry-run", "--json", "--credentials", str(creds)])
        assert dry.exit_code == 0, dry.output
        assert '"hosts"' in dry.output and "testbed-onvif-pass" not in dry.output
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(m.Source)) == 0
        run = runner.invoke(app, ["scan", f"{block}.1-4", "--scope", str(scope_file), "--json",
                                  "--credentials", str(creds), "--timeout", "1",
                                  "--retries", "0"])
        assert run.exit_code == 0, run.output
        assert '"responded": 4' in run.output
    finally:
        state.db = None
        state._settings = None
    makers = {d["ip"]: d["manufacturer_id"] for d in list_devices(store)}
    assert makers == {h.ip: h.maker for h in bed.hosts[:4]}

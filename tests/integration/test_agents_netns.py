"""Scan agents in their own network namespaces, each the only way to its own devices.

Layout (every namespace, link and address is created by this module and deleted after;
addresses exist only inside these namespaces, so nothing can reach another machine):

    hub  (scheduler, central `camsweep scan --cluster`)
     |- veth 10.250.1.1/30 <-> 10.250.1.2/30  a  (agent site-a; devices 10.20.0.x on lo)
     |- veth 10.250.2.1/30 <-> 10.250.2.2/30  b  (agent site-b; devices 10.21.0.x on lo)
    a - veth 10.251.1.2/30 <-> 10.251.1.1/30 - s - 10.251.2.1/30 <-> 10.251.2.2/30 - b
                                               s: shared devices 10.30.0.x on lo

The hub has no route to any device; a and b each reach their own devices and the shared
ones in s. CI runs as root.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from camsweep.scale.certs import make_certificates
from camsweep.store import open_store
from camsweep.store.queries import list_devices
from camsweep.testbed.profiles import profile

IP = shutil.which("ip") or "/usr/sbin/ip"
PORT = 8786
DEVICES = {
    "a": [("10.20.0.10", "hikvision-ipc"), ("10.20.0.11", "dahua-nvr"), ("10.20.0.12", "axis-ipc")],
    "b": [("10.21.0.10", "lorex-nvr"), ("10.21.0.11", "hanwha-ipc"), ("10.21.0.12", "lts-ipc")],
    "s": [("10.30.0.10", "dahua-ipc"), ("10.30.0.11", "bosch-ipc"),
          ("10.30.0.12", "amcrest-ipc"), ("10.30.0.13", "hikvision-nvr")],
}
AGENTS = {"a": ("site-a", "10.250.1.1", ["10.20.0.0/24", "10.30.0.0/16"]),
          "b": ("site-b", "10.250.2.1", ["10.21.0.0/24", "10.30.0.0/16"])}


def ip(*args: str) -> None:
    done = subprocess.run([IP, *args], capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class Sites:
    tag: str = field(default_factory=lambda: f"cx{os.getpid() % 100000}")
    spaces: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def ns(self, short: str) -> str:
        return f"{self.tag}-{short}"

    def exec(self, short: str, argv: Sequence[str], **options: object,
             ) -> subprocess.Popen[str]:
        process = subprocess.Popen([IP, "netns", "exec", self.ns(short), *argv], text=True,
                                   **options)  # type: ignore[call-overload]
        self.processes.append(process)
        return process

    def run(self, short: str, argv: Sequence[str], timeout: float = 300,
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([IP, "netns", "exec", self.ns(short), *argv], text=True,
                              capture_output=True, timeout=timeout, check=False)

    def _link(self, left: str, left_ip: str, right: str, right_ip: str, n: int) -> None:
        one, two = f"{self.tag}l{n}", f"{self.tag}r{n}"
        ip("link", "add", one, "type", "veth", "peer", "name", two)
        for end, short, address in ((one, left, left_ip), (two, right, right_ip)):
            ip("link", "set", end, "netns", self.ns(short))
            ip("-n", self.ns(short), "addr", "add", address, "dev", end)
            ip("-n", self.ns(short), "link", "set", end, "up")

    def __enter__(self) -> Sites:
        try:
            for short in ("hub", "a", "b", "s"):
                ip("netns", "add", self.ns(short))
                self.spaces.append(self.ns(short))
                ip("-n", self.ns(short), "link", "set", "lo", "up")
            self._link("hub", "10.250.1.1/30", "a", "10.250.1.2/30", 1)
            self._link("hub", "10.250.2.1/30", "b", "10.250.2.2/30", 2)
            self._link("a", "10.251.1.2/30", "s", "10.251.1.1/30", 3)
            self._link("b", "10.251.2.2/30", "s", "10.251.2.1/30", 4)
            ip("-n", self.ns("a"), "route", "add", "10.30.0.0/16", "via", "10.251.1.1")
            ip("-n", self.ns("b"), "route", "add", "10.30.0.0/16", "via", "10.251.2.1")
            starting = []
            for short, devices in DEVICES.items():
                for address, profile_id in devices:
                    ip("-n", self.ns(short), "addr", "add", f"{address}/32", "dev", "lo")
                    starting.append((self._device(short, address, profile_id, len(starting)),
                                     f"{profile_id} at {address}"))
            for process, what in starting:
                assert process.stdout is not None
                line = process.stdout.readline()
                if not line.startswith("ready"):
                    raise RuntimeError(f"device {what} did not start: {line}")
        except BaseException:
            self.close()
            raise
        return self

    def _device(self, short: str, address: str, profile_id: str, n: int,
                ) -> subprocess.Popen[str]:
        return self.exec(short, [sys.executable, "-m", "camsweep.testbed", "--profile",
                                 profile_id, "--ip", address, "--n", str(n)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def stop(self, process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(15)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)
        for name in reversed(self.spaces):
            for _ in range(5):
                try:
                    ip("netns", "delete", name)
                    break
                except RuntimeError:
                    time.sleep(0.2)
        self.spaces.clear()

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("certs")
    make_certificates(folder, ["agent-site-a", "agent-site-b"])
    return folder


@pytest.fixture(scope="module")
def sites(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    log = tmp_path_factory.mktemp("logs") / "scheduler.log"
    with Sites() as world, log.open("w") as sink:
        scheduler = world.exec("hub", [sys.executable, "-m", "camsweep", "scheduler", "--host",
                                       "0.0.0.0", "--port", str(PORT), "--tls-dir",
                                       str(certs)], stdout=subprocess.PIPE, stderr=sink)
        assert scheduler.stdout is not None
        line = scheduler.stdout.readline()
        assert line.startswith("scheduler listening at tls://"), line + log.read_text()
        yield world


def _wait_for(path: Path, text: str, process: subprocess.Popen[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return True
        if process.poll() is not None:
            return text in path.read_text(errors="replace")
        time.sleep(0.2)
    return False


@pytest.fixture
def start_agent(sites: Sites, certs: Path, tmp_path: Path,
                ) -> Iterator[Callable[..., tuple[subprocess.Popen[str], Path]]]:
    started: list[subprocess.Popen[str]] = []

    def start(short: str, *extra: str, tls_dir: Path | None = None, tls: bool = True,
              wait: bool = True) -> tuple[subprocess.Popen[str], Path]:
        name, scheduler, networks = AGENTS[short]
        log = tmp_path / f"{name}-{len(started)}.log"
        with log.open("w") as sink:
            process = sites.exec(short, [
                sys.executable, "-m", "camsweep", "agent", "--scheduler",
                f"tls://{scheduler}:{PORT}", "--name", name,
                *(a for net in networks for a in ("--networks", net)),
                *(["--tls-dir", str(tls_dir or certs)] if tls else []), *extra],
                stdout=sink, stderr=sink)
        started.append(process)
        if wait:
            assert _wait_for(log, f"agent {name} joined", process, 60), log.read_text()
        return process, log

    yield start
    for process in started:
        sites.stop(process)


def _scan(sites: Sites, certs: Path, db: Path, targets: list[str], scope: Path,
          *extra: str) -> subprocess.Popen[str]:
    return sites.exec("hub", [sys.executable, "-m", "camsweep", "--db", f"sqlite:///{db}",
                              "scan", *targets, "--scope", str(scope), "--cluster",
                              f"tls://127.0.0.1:{PORT}", "--tls-dir", str(certs), "--json",
                              "--timeout", "1", "--retries", "0", *extra],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _scope(tmp_path: Path) -> Path:
    path = tmp_path / "scope.txt"
    path.write_text("10.20.0.0/24  # site A\n10.21.0.0/24  # site B\n10.30.0.0/16  # shared\n")
    return path


def _agents_of(db: Path) -> dict[str, set[str]]:
    """Which agent each observation came through; read-only, so it can watch a scan that
    is still writing (and may still be creating its tables)."""
    out: dict[str, set[str]] = {}
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            rows = conn.execute("SELECT ip, payload FROM observations").fetchall()
    except sqlite3.OperationalError:
        return out
    for address, payload in rows:
        out.setdefault(address, set()).add(json.loads(payload).get("agent"))
    return out


def test_each_agent_finds_the_devices_only_it_can_reach(
        sites: Sites, certs: Path, start_agent: Callable[..., object], tmp_path: Path,
        ) -> None:
    for short in ("hub", "b"):  # the centre cannot reach site A's devices, nor can site B
        probe = sites.run(short, [sys.executable, "-c", "import socket; socket.create_connection"
                                  "(('10.20.0.10', 80), timeout=2)"])
        assert probe.returncode != 0 and "unreachable" in probe.stderr.lower(), probe.stderr
    start_agent("a")
    start_agent("b")
    db = tmp_path / "scan.db"
    scan = _scan(sites, certs, db, ["10.20.0.10-12", "10.21.0.10-12", "10.30.0.10-13"],
                 _scope(tmp_path))
    out, err = scan.communicate(timeout=300)
    assert scan.returncode == 0, err
    result = json.loads(out)
    assert result["complete"] and result["responded"] == 10
    assert sum(result["agents"].values()) == 10 and set(result["agents"]) == {"site-a",
                                                                               "site-b"}
    store = open_store(f"sqlite:///{db}")
    try:
        devices = {d["ip"]: d for d in list_devices(store)}
    finally:
        store.dispose()
    by_agent = _agents_of(db)
    for short, expected in (("a", {"site-a"}), ("b", {"site-b"}), ("s", None)):
        for address, profile_id in DEVICES[short]:
            assert devices[address]["manufacturer_id"] == profile(profile_id).maker, address
            assert "unregistered" in devices[address]["flags"]
            if expected is not None:
                assert by_agent[address] == expected, address
            else:
                assert len(by_agent[address]) == 1, address


WORKER_NAMES = """
import sys
from camsweep.scale.cluster import client_security, open_client
from pathlib import Path
with open_client(sys.argv[1], client_security(Path(sys.argv[2]))) as client:
    print(sorted(w["name"] for w in client.scheduler_info(n_workers=-1)["workers"].values()))
"""


def test_an_agent_without_a_certificate_from_the_ca_is_refused(
        sites: Sites, certs: Path,
        start_agent: Callable[..., tuple[subprocess.Popen[str], Path]], tmp_path: Path) -> None:
    rogue = tmp_path / "rogue"
    make_certificates(rogue, ["agent-site-b"])  # the right name, from another CA
    process, log = start_agent("b", "--join-timeout", "5", tls_dir=rogue, wait=False)
    plain, plain_log = start_agent("b", "--join-timeout", "5", "--insecure", tls=False,
                                   wait=False)
    for agent, text in ((process, log), (plain, plain_log)):
        assert agent.wait(60) != 0
        assert "could not join the scheduler" in text.read_text()
        assert "agent site-b joined" not in text.read_text()
    names = sites.run("hub", [sys.executable, "-c", WORKER_NAMES, f"tls://127.0.0.1:{PORT}",
                              str(certs)])
    assert names.returncode == 0, names.stderr
    assert names.stdout.strip() == "[]"


def test_a_killed_agent_has_its_hosts_finished_by_the_other(
        sites: Sites, certs: Path, start_agent: Callable[..., tuple[subprocess.Popen[str], Path]],
        tmp_path: Path) -> None:
    victim, _ = start_agent("a", "--slots", "1")
    start_agent("b", "--slots", "1")
    db = tmp_path / "kill.db"
    shared = [address for address, _ in DEVICES["s"]]
    scan = _scan(sites, certs, db, ["10.30.0.10-13"], _scope(tmp_path), "--no-udp",
                 "--ports", "80,554,8000,37777", "--host-rate", "2")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and scan.poll() is None:
        if db.exists() and any("site-a" in agents for agents in _agents_of(db).values()):
            break
        time.sleep(0.2)
    assert scan.poll() is None, "the scan ended before site-a finished a host"
    victim.kill()  # SIGKILL: no goodbye to the scheduler
    victim.wait(15)
    out, err = scan.communicate(timeout=300)
    assert scan.returncode == 0, err
    result = json.loads(out)
    assert result["complete"] and result["responded"] == len(shared)
    assert result["lost_agents"] == ["site-a"] and result["requeued"]
    by_agent = _agents_of(db)
    assert set(by_agent) == set(shared)
    for address in result["requeued"]:
        assert by_agent[address] == {"site-b"}, address
    assert result["agents"]["site-b"] >= len(result["requeued"])

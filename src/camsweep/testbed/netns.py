"""A private Ethernet for multicast and MAC tests: network namespaces joined by a bridge.

    with Lan(["hikvision-ipc", "dahua-ipc"]) as lan:   # needs root (CAP_NET_ADMIN)
        lan.run_scanner([...camsweep args...])

Layout: namespace `<tag>-lan` holds bridge `br0`; namespace `<tag>-scan` (the scanner) and
one namespace per device each get one end of a veth pair (`eth0`, the device's end carrying
the profile's vendor MAC), the other end enslaved to the bridge. Addresses are IPv4
link-local (169.254.0.0/16) and exist only inside these namespaces: no packet can reach the
host's own interfaces, let alone another machine. Everything is deleted on exit (deleting a
namespace deletes its veth ends).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from camsweep.testbed.profiles import host_mac, profile

SUBNET = "169.254.77"
SCANNER_HOST = 2
FIRST_DEVICE = 10


def _ip(*args: str) -> None:
    ip_cmd = shutil.which("ip") or "/usr/sbin/ip"
    done = subprocess.run([ip_cmd, *args], capture_output=True, text=True, timeout=30,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class LanDevice:
    namespace: str
    profile_id: str
    n: int
    ip: str
    mac: str
    process: subprocess.Popen[str] | None = field(default=None, repr=False)


class Lan:
    def __init__(self, profiles: Sequence[str], tag: str | None = None,
                 subnet: str = SUBNET) -> None:
        self.tag = tag or f"cs{os.getpid() % 100000}"
        self.subnet = subnet
        self.lan_ns = f"{self.tag}-lan"
        self.scan_ns = f"{self.tag}-scan"
        self.scanner_ip = f"{subnet}.{SCANNER_HOST}"
        self.devices = [
            LanDevice(f"{self.tag}-d{i}", pid, i, f"{subnet}.{FIRST_DEVICE + i}",
                      host_mac(profile(pid), i))
            for i, pid in enumerate(profiles)]
        self._namespaces: list[str] = []

    @property
    def network(self) -> str:
        return f"{self.subnet}.0/24"

    def _add_ns(self, name: str) -> None:
        _ip("netns", "add", name)
        self._namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def _attach(self, ns: str, index: int, address: str, mac: str | None) -> None:
        inner, outer = f"{self.tag}i{index}", f"{self.tag}o{index}"
        _ip("link", "add", inner, "type", "veth", "peer", "name", outer)
        _ip("link", "set", inner, "netns", ns)
        _ip("link", "set", outer, "netns", self.lan_ns)
        _ip("-n", ns, "link", "set", inner, "name", "eth0")
        if mac:
            _ip("-n", ns, "link", "set", "eth0", "address", mac)
        _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
        _ip("-n", self.lan_ns, "link", "set", outer, "master", "br0")
        _ip("-n", self.lan_ns, "link", "set", outer, "up")

    def __enter__(self) -> Lan:
        try:
            self._add_ns(self.lan_ns)
            _ip("-n", self.lan_ns, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.lan_ns, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0")
            _ip("-n", self.lan_ns, "link", "set", "br0", "up")
            self._add_ns(self.scan_ns)
            self._attach(self.scan_ns, 0, self.scanner_ip, None)
            for i, dev in enumerate(self.devices, start=1):
                self._add_ns(dev.namespace)
                self._attach(dev.namespace, i, dev.ip, dev.mac)
            for dev in self.devices:
                self._start_device(dev)
        except BaseException:
            self.close()
            raise
        return self

    def _start_device(self, dev: LanDevice) -> None:
        dev.process = subprocess.Popen(
            [shutil.which("ip") or "/usr/sbin/ip", "netns", "exec", dev.namespace,
             sys.executable, "-m", "camsweep.testbed", "--profile", dev.profile_id,
             "--ip", dev.ip, "--n", str(dev.n), "--mac", dev.mac, "--multicast", "eth0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert dev.process.stdout is not None
        line = dev.process.stdout.readline()
        if not line.startswith("ready"):
            err = dev.process.stderr.read() if dev.process.stderr else ""
            raise RuntimeError(f"testbed device {dev.profile_id} did not start: {line}{err}")

    def run(self, namespace: str, argv: Sequence[str], timeout: float = 300,
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([shutil.which("ip") or "/usr/sbin/ip", "netns", "exec",
                               namespace, *argv], capture_output=True, text=True,
                              timeout=timeout, check=False)

    def run_scanner(self, argv: Sequence[str], timeout: float = 300,
                    ) -> subprocess.CompletedProcess[str]:
        return self.run(self.scan_ns, argv, timeout)

    def close(self) -> None:
        for dev in self.devices:
            if dev.process is not None and dev.process.poll() is None:
                dev.process.terminate()
                try:
                    dev.process.wait(10)
                except subprocess.TimeoutExpired:
                    dev.process.kill()
                    dev.process.wait(10)
            if dev.process is not None:
                for stream in (dev.process.stdout, dev.process.stderr):
                    if stream is not None:
                        stream.close()
        for name in reversed(self._namespaces):
            for _ in range(5):
                try:
                    _ip("netns", "delete", name)
                    break
                except RuntimeError:
                    time.sleep(0.2)
        self._namespaces.clear()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

"""Multicast discovery and MAC addresses from the neighbour table, on a private Ethernet of
network namespaces that the test creates and deletes (IPv4 link-local addresses that exist
only inside those namespaces; CI runs as root)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from camsweep.store import models as m
from camsweep.store import open_store
from camsweep.store.queries import list_devices
from camsweep.testbed.netns import Lan

PROFILES = ["hikvision-ipc", "dahua-ipc", "axis-ipc"]


@pytest.fixture(scope="module")
def lan() -> Iterator[Lan]:
    with Lan(PROFILES) as network:
        yield network


def _scan(lan: Lan, tmp_path: Path, db: Path, *extra: str) -> dict[str, object]:
    scope = tmp_path / "scope.txt"
    scope.write_text(f"{lan.network}  # namespace-only test link\n")
    creds = tmp_path / "creds.yaml"
    creds.write_text("onvif: {username: admin, password: testbed-onvif-pass}\n")
    first, last = lan.devices[0].ip, lan.devices[-1].ip.rsplit(".", 1)[1]
    done = lan.run_scanner([sys.executable, "-m", "camsweep", "--db", f"sqlite:///{db}",
                            "scan", f"{first}-{last}", "--scope", str(scope), "--json",
                            "--timeout", "1", "--retries", "0", *extra])
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_macs_from_the_neighbour_table(lan: Lan, tmp_path: Path) -> None:
    db = tmp_path / "mac.db"
    result = _scan(lan, tmp_path, db, "--no-udp")
    assert result["responded"] == len(PROFILES)
    store = open_store(f"sqlite:///{db}")
    try:
        devices = {d["ip"]: d for d in list_devices(store)}
        with store.session() as s:
            neigh = {o.ip: o.mac for o in s.scalars(
                select(m.Observation).where(m.Observation.probe == "neigh"))}
    finally:
        store.dispose()
    for dev in lan.devices:
        assert neigh[dev.ip] == dev.mac  # the kernel's ARP entry, not the device's word
        assert devices[dev.ip]["mac"] == dev.mac
    makers = {devices[d.ip]["manufacturer_id"] for d in lan.devices}
    assert makers == {"hikvision", "dahua", "axis"}


def test_multicast_discovery_on_the_link(lan: Lan, tmp_path: Path) -> None:
    db = tmp_path / "mc.db"
    # No unicast UDP: whatever WS-Discovery, SSDP or mDNS says came from the multicast sweep.
    result = _scan(lan, tmp_path, db, "--no-udp", "--multicast")
    assert result["responded"] == len(PROFILES)
    store = open_store(f"sqlite:///{db}")
    try:
        with store.session() as s:
            rows = s.execute(select(m.Observation.ip, m.Observation.probe,
                                    m.Observation.payload)
                             .where(m.Observation.probe.in_(["wsd", "ssdp", "mdns"]))).all()
    finally:
        store.dispose()
    heard = {(ip, probe) for ip, probe, payload in rows if payload.get("via") == "multicast"}
    by_profile = {d.profile_id: d.ip for d in lan.devices}
    for dev in lan.devices:
        assert (dev.ip, "wsd") in heard, dev.profile_id
    assert (by_profile["axis-ipc"], "ssdp") in heard
    assert (by_profile["axis-ipc"], "mdns") in heard
    assert (by_profile["hikvision-ipc"], "mdns") in heard
    assert lan.scanner_ip not in {ip for ip, _ in heard}

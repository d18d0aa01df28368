"""On-link multicast discovery: WS-Discovery Probe, SSDP M-SEARCH and an mDNS query sent to
their groups from each local interface, answers gathered for a few seconds.

A multicast datagram reaches every host on the link, so it is sent only from an interface
whose whole network lies inside the authorised scope; answers from hosts that are not
targets of the scan are dropped unread. TTL 1: the datagrams never cross a router.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import shutil
import socket
import subprocess
from collections import defaultdict
from dataclasses import dataclass

from camsweep.discover.model import Answer
from camsweep.discover.probes import mdns, onvif, ssdp
from camsweep.discover.scope import Scope, ScopeGuard, Span

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalNetwork:
    interface: str
    address: str
    network: ipaddress.IPv4Network


def local_networks() -> list[LocalNetwork]:
    """IPv4 networks of this namespace's interfaces (loopback excluded), from `ip -json addr`."""
    ip_cmd = shutil.which("ip")
    if ip_cmd is None:
        return []
    done = subprocess.run([ip_cmd, "-json", "-4", "addr", "show"], capture_output=True,
                          text=True, timeout=10, check=False)
    try:
        rows = json.loads(done.stdout or "[]")
    except ValueError:
        return []
    out: list[LocalNetwork] = []
    for row in rows:
        if "LOOPBACK" in (row.get("flags") or []) or "UP" not in (row.get("flags") or []):
            continue
        for info in row.get("addr_info") or []:
            if info.get("family") == "inet" and info.get("local"):
                net = ipaddress.IPv4Network(f"{info['local']}/{info.get('prefixlen', 32)}",
                                            strict=False)
                out.append(LocalNetwork(str(row.get("ifname")), str(info["local"]), net))
    return out


def eligible(networks: list[LocalNetwork], scope: Scope) -> tuple[list[LocalNetwork],
                                                                 list[LocalNetwork]]:
    """(usable, refused): an interface qualifies only if its whole network is in scope."""
    usable: list[LocalNetwork] = []
    refused: list[LocalNetwork] = []
    for net in networks:
        span = Span(net.network.network_address, net.network.broadcast_address)
        (refused if scope.uncovered(span) else usable).append(net)
    return usable, refused


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: list[tuple[str, int, bytes]] = []

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.replies.append((str(addr[0]), int(addr[1]), data))


async def _sweep(net: LocalNetwork, wait: float) -> list[tuple[str, int, bytes]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((net.address, 0))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(net.address))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(_Collector, sock=sock)
    try:
        transport.sendto(onvif.wsd_probe(), (onvif.MULTICAST_V4, onvif.WSD_PORT))
        transport.sendto(ssdp.m_search(), (ssdp.MULTICAST_V4, ssdp.SSDP_PORT))
        transport.sendto(mdns.query(), (mdns.MULTICAST_V4, mdns.MDNS_PORT))
        await asyncio.sleep(wait)
    finally:
        transport.close()
    return collector.replies


def _answer(ip: str, port: int, data: bytes) -> Answer | None:
    if port == onvif.WSD_PORT:
        answer = onvif.wsd_answer(ip, data)
    elif port == ssdp.SSDP_PORT:
        fields = ssdp.parse_search_reply(data)
        answer = Answer("ssdp", ip, port=port, fields=dict(fields)) if fields else None
    elif port == mdns.MDNS_PORT:
        try:
            msg = mdns.parse(data)
        except (mdns.DnsError, ValueError, IndexError):
            return None
        answer = (Answer("mdns", ip, port=port, fields=mdns.summarise(msg))
                  if msg.is_response and msg.records else None)
    else:
        return None
    if answer is not None:
        answer.fields["via"] = "multicast"
    return answer


async def multicast_discover(scope: Scope, guard: ScopeGuard, wait: float = 2.0,
                             networks: list[LocalNetwork] | None = None,
                             ) -> dict[str, list[Answer]]:
    """Answers per target host from every eligible interface."""
    usable, refused = eligible(networks if networks is not None else local_networks(), scope)
    for net in refused:
        log.warning("no multicast on %s (%s): its network %s is not wholly inside the scope",
                    net.interface, net.address, net.network)
    results = await asyncio.gather(*(_sweep(net, wait) for net in usable))
    found: dict[str, list[Answer]] = defaultdict(list)
    for replies in results:
        for ip, port, data in replies:
            if not guard.allows(ip):
                continue  # on the link, but not a target: dropped unread
            answer = _answer(ip, port, data)
            if answer is not None:
                found[ip].append(answer)
    return dict(found)

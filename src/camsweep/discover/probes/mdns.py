"""mDNS / DNS-SD: the names a device gives itself (`AXIS P3245-LVE - ACCC8E000000`,
`HIKVISION DS-2CD2722FWD-IZS - 733050127`) and its TXT records.

A one-shot "legacy unicast" query (RFC 6762 section 6.7) is sent to the host's own port 5353,
so no multicast leaves the scanner; the device answers to the query's source port.
Service types asked: the DNS-SD enumeration name (RFC 6763 section 9) and the types cameras
announce (`_axis-video._tcp`, Axis; `_psia._tcp`, PSIA devices incl. Hikvision; `_http._tcp`,
`_rtsp._tcp`, `_onvif._tcp`, `_device-info._tcp`).
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field

from camsweep.discover.model import Answer
from camsweep.discover.probes.base import Transport

MDNS_PORT = 5353
MULTICAST_V4 = "224.0.0.251"
PTR, TXT, SRV, A, AAAA = 12, 16, 33, 1, 28
SERVICE_TYPES = ("_services._dns-sd._udp.local", "_axis-video._tcp.local", "_psia._tcp.local",
                 "_http._tcp.local", "_rtsp._tcp.local", "_onvif._tcp.local",
                 "_device-info._tcp.local")


class DnsError(ValueError):
    """Bytes that are not a DNS message."""


def encode_name(name: str) -> bytes:
    out = bytearray()
    for label in name.strip(".").split("."):
        raw = label.encode("utf-8")
        if not 0 < len(raw) < 64:
            raise DnsError(f"bad label in {name!r}")
        out.append(len(raw))
        out.extend(raw)
    return bytes(out + b"\x00")


def query(names: tuple[str, ...] = SERVICE_TYPES, qtype: int = PTR,
          ident: int | None = None) -> bytes:
    ident = secrets.randbelow(0xFFFF) + 1 if ident is None else ident
    head = struct.pack("!HHHHHH", ident, 0, len(names), 0, 0, 0)
    return head + b"".join(encode_name(n) + struct.pack("!HH", qtype, 1) for n in names)


def read_name(data: bytes, pos: int) -> tuple[str, int]:
    labels: list[str] = []
    end = None
    jumps = 0
    while True:
        if pos >= len(data):
            raise DnsError("name runs past the message")
        length = data[pos]
        if length == 0:
            pos += 1
            break
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(data) or jumps > 20:
                raise DnsError("bad compression pointer")
            if end is None:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | data[pos + 1]
            jumps += 1
            continue
        labels.append(data[pos + 1:pos + 1 + length].decode("utf-8", "replace"))
        pos += 1 + length
    return ".".join(labels), end if end is not None else pos


@dataclass
class Record:
    name: str
    rtype: int
    value: object


@dataclass
class DnsMessage:
    ident: int
    is_response: bool
    questions: list[tuple[str, int]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)


def parse(data: bytes) -> DnsMessage:
    if len(data) < 12:
        raise DnsError("short DNS message")
    ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    msg = DnsMessage(ident, bool(flags & 0x8000))
    pos = 12
    for _ in range(qd):
        name, pos = read_name(data, pos)
        qtype = struct.unpack("!H", data[pos:pos + 2])[0]
        msg.questions.append((name, qtype))
        pos += 4
    for _ in range(an + ns + ar):
        name, pos = read_name(data, pos)
        if pos + 10 > len(data):
            raise DnsError("truncated record")
        rtype, _cls, _ttl, length = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        rdata = data[pos:pos + length]
        value: object = rdata
        if rtype == PTR:
            value = read_name(data, pos)[0]
        elif rtype == SRV and length >= 7:
            value = (struct.unpack("!H", rdata[4:6])[0], read_name(data, pos + 6)[0])
        elif rtype == TXT:
            items = []
            i = 0
            while i < len(rdata):
                size = rdata[i]
                items.append(rdata[i + 1:i + 1 + size].decode("utf-8", "replace"))
                i += 1 + size
            value = items
        elif rtype == A and length == 4:
            value = ".".join(str(b) for b in rdata)
        msg.records.append(Record(name, rtype, value))
        pos += length
    return msg


def summarise(msg: DnsMessage) -> dict[str, object]:
    services: set[str] = set()
    instances: list[str] = []
    txt: dict[str, str] = {}
    hosts: set[str] = set()
    for rec in msg.records:
        if rec.rtype == PTR and isinstance(rec.value, str):
            if rec.name == "_services._dns-sd._udp.local":
                services.add(rec.value)
            elif rec.value not in instances:
                instances.append(rec.value)
                services.add(rec.name)
        elif rec.rtype == TXT and isinstance(rec.value, list):
            for item in rec.value:
                key, sep, val = str(item).partition("=")
                if sep and key:
                    txt.setdefault(key, val)
        elif rec.rtype == SRV and isinstance(rec.value, tuple):
            hosts.add(str(rec.value[1]))
        elif rec.rtype == A:
            hosts.add(rec.name)
    names = [i.split("._", 1)[0] for i in instances]
    return {"services": sorted(services), "instances": instances, "names": names,
            "txt": txt, "hosts": sorted(hosts)}


async def probe_mdns(t: Transport, ip: str) -> Answer | None:
    data = await t.datagram(ip, MDNS_PORT, query())
    if not data:
        return None
    try:
        msg = parse(data)
    except (DnsError, struct.error):
        return None
    if not msg.is_response or not msg.records:
        return None
    return Answer("mdns", ip, port=MDNS_PORT, fields=summarise(msg))


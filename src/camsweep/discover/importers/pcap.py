"""Packet captures (pcap and pcapng, via dpkt): what devices said on the wire.

Kept: MAC <-> IP pairs (ARP, and Ethernet source addresses, except MACs seen with many IPs,
which are routers), HTTP and RTSP response headers, WS-Discovery ProbeMatches, SSDP
replies and NOTIFYs, mDNS answers, DHCP host names and vendor classes. Nothing is sent.
A file that is not a capture, or whose records are cut short, is an error naming the record;
a packet of a protocol that does not parse is simply not evidence.
"""

from __future__ import annotations

import io
import socket
import struct
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dpkt  # type: ignore[import-untyped]

from camsweep.discover.importers import group_by_host
from camsweep.discover.model import Answer, HostReport, cap_text, normalise_mac
from camsweep.discover.probes import mdns
from camsweep.discover.probes.base import split_message
from camsweep.discover.probes.http import title_of
from camsweep.discover.probes.onvif import wsd_answer
from camsweep.discover.probes.ssdp import parse_search_reply
from camsweep.errors import InputError, RowError

ROUTER_IPS = 8  # a MAC seen as the source of more addresses than this is a gateway
DLT_EN10MB, DLT_LINUX_SLL = 1, 113


def _ip_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def _stamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def _http_like(ip: str, port: int, payload: bytes, when: datetime) -> Answer | None:
    parts = split_message(payload)
    if parts is None:
        return None
    status_line, headers, body = parts
    words = status_line.split()
    status = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
    if payload.startswith(b"RTSP/1.0"):
        return Answer("rtsp", ip, port=port, fields={"status": {"capture": status},
                                                     "headers": dict(headers)},
                      raw=cap_text(payload.split(b"\r\n\r\n")[0], 2048), observed_at=when)
    return Answer("http", ip, port=port, fields={
        "path": None, "status": status, "headers": dict(headers), "title": title_of(body),
        "body": cap_text(body, 4096), "via": "pcap"},
        raw=cap_text(payload.split(b"\r\n\r\n")[0], 2048), observed_at=when)


def _udp(ip: str, src_mac: str | None, sport: int, dport: int, data: bytes,
         when: datetime) -> list[Answer]:
    out: list[Answer] = []
    if sport == 3702:
        answer = wsd_answer(ip, data)
        if answer is not None:
            answer.observed_at = when
            out.append(answer)
    elif sport == 1900 or (dport == 1900 and data.startswith(b"NOTIFY")):
        fields = parse_search_reply(data.replace(b"NOTIFY * HTTP/1.1", b"HTTP/1.1 200 OK", 1))
        if fields is not None:
            out.append(Answer("ssdp", ip, port=1900, fields=dict(fields), observed_at=when))
    elif sport == 5353:
        try:
            msg = mdns.parse(data)
        except (mdns.DnsError, ValueError, IndexError):
            return out
        if msg.is_response and msg.records:
            summary = mdns.summarise(msg)
            if summary["names"]:
                out.append(Answer("mdns", ip, port=5353, fields=summary, observed_at=when))
    elif dport == 67 or sport == 67:
        out.extend(_dhcp(data, when))
    return out


def _dhcp(data: bytes, when: datetime) -> list[Answer]:
    try:
        msg = dpkt.dhcp.DHCP(data)
    except (dpkt.UnpackError, ValueError, IndexError):
        return []
    mac = normalise_mac(bytes(msg.chaddr[:6]))
    opts = dict(msg.opts)
    fields: dict[str, Any] = {"mac": mac, "via": "pcap"}
    if 12 in opts:
        fields["hostname"] = bytes(opts[12]).decode("utf-8", "replace")
    if 60 in opts:
        fields["vendor_class"] = bytes(opts[60]).decode("utf-8", "replace")
    ip = None
    if msg.yiaddr:
        ip = socket.inet_ntoa(msg.yiaddr.to_bytes(4, "big"))
    elif 50 in opts and len(opts[50]) == 4:
        ip = socket.inet_ntoa(bytes(opts[50]))
    elif msg.ciaddr:
        ip = socket.inet_ntoa(msg.ciaddr.to_bytes(4, "big"))
    if mac is None or len(fields) <= 2:
        return []
    return [Answer("dhcp", ip, fields=fields, mac=mac, observed_at=when)]


_PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


def _classic(data: bytes, name: str) -> tuple[int, list[tuple[float, bytes]]]:
    """Classic libpcap format, read here so a record cut short is noticed (and named)."""
    order, unit = _PCAP_MAGIC[data[:4]]
    if len(data) < 24:
        raise InputError.of(f"capture {name}", [RowError(name, None, None,
                                                         "pcap header is cut short")])
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0x0FFFFFFF
    frames: list[tuple[float, bytes]] = []
    pos = 24
    while pos < len(data):
        record = len(frames) + 1
        if pos + 16 > len(data):
            raise _cut(name, record)
        sec, frac, incl, _orig = struct.unpack(order + "IIII", data[pos:pos + 16])
        pos += 16
        if pos + incl > len(data) or incl > 262144:
            raise _cut(name, record)
        frames.append((sec + frac * unit, data[pos:pos + incl]))
        pos += incl
    return linktype, frames


def _cut(name: str, record: int) -> InputError:
    return InputError.of(f"capture {name}", [RowError(
        name, record, None, f"packet record {record} is cut short or corrupt")])


def _frames(path: Path) -> tuple[int, list[tuple[float, bytes]]]:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError.of(f"capture {name}", [RowError(name, None, None,
                                                         f"cannot read: {exc.strerror}")]) \
            from exc
    if data[:4] in _PCAP_MAGIC:
        linktype, frames = _classic(data, name)
    elif data[:4] == _PCAPNG_MAGIC:
        frames = []
        try:
            reader = dpkt.pcapng.Reader(io.BytesIO(data))
            linktype = int(reader.datalink())
            for ts, buf in reader:
                frames.append((float(ts), bytes(buf)))
        except (dpkt.NeedData, dpkt.UnpackError, ValueError, struct.error) as exc:
            raise _cut(name, len(frames) + 1) from exc
    else:
        raise InputError.of(f"capture {name}", [RowError(
            name, None, None, "not a pcap or pcapng file (unknown magic number)")])
    if linktype not in (DLT_EN10MB, DLT_LINUX_SLL):
        raise InputError.of(f"capture {name}", [RowError(
            name, None, None, f"link type {linktype} is not Ethernet or Linux cooked capture")])
    return linktype, frames


def read_pcap(path: Path) -> list[HostReport]:
    linktype, frames = _frames(path)
    answers: list[Answer] = []
    ips_of_mac: dict[str, set[str]] = defaultdict(set)
    arp_pairs: dict[str, str] = {}
    for ts, buf in frames:
        when = _stamp(ts)
        try:
            if linktype == DLT_EN10MB:
                frame = dpkt.ethernet.Ethernet(buf)
                src_mac = normalise_mac(bytes(frame.src))
            else:
                frame = dpkt.sll.SLL(buf)
                src_mac = normalise_mac(bytes(frame.hdr[:6])) if frame.hlen == 6 else None
        except (dpkt.UnpackError, ValueError, IndexError):
            continue
        packet = frame.data
        if isinstance(packet, dpkt.arp.ARP):
            mac = normalise_mac(bytes(packet.sha))
            if mac and packet.spa != b"\x00\x00\x00\x00":
                arp_pairs[_ip_text(bytes(packet.spa))] = mac
            continue
        if not isinstance(packet, dpkt.ip.IP | dpkt.ip6.IP6):
            continue
        ip = _ip_text(bytes(packet.src))
        if src_mac:
            ips_of_mac[src_mac].add(ip)
        segment = packet.data
        if isinstance(segment, dpkt.tcp.TCP):
            payload = bytes(segment.data)
            if payload.startswith((b"HTTP/1.", b"RTSP/1.0")):
                answer = _http_like(ip, int(segment.sport), payload, when)
                if answer is not None:
                    answers.append(answer)
        elif isinstance(segment, dpkt.udp.UDP):
            answers.extend(_udp(ip, src_mac, int(segment.sport), int(segment.dport),
                                bytes(segment.data), when))
    pairs = dict(arp_pairs)
    for mac, ips in ips_of_mac.items():
        if len(ips) <= ROUTER_IPS:
            for ip in ips:
                pairs.setdefault(ip, mac)
    for ip, mac in pairs.items():
        answers.append(Answer("neigh", ip, fields={"mac": mac, "via": "pcap"}, mac=mac))
    for answer in answers:
        if answer.mac is None and answer.ip in pairs:
            answer.mac = pairs[answer.ip]
    # Hosts that only appear as MAC/IP pairs are kept too: a camera that said nothing
    # identifiable still has its OUI.
    return group_by_host(answers)

"""The small interface every probe talks through, and the reply parsing probes share.

Probes never open sockets themselves: they call a `Transport`. The scanner passes the real
one (`camsweep.discover.net.SocketTransport`, which checks the scope before every packet);
unit tests pass `RecordedTransport` with device replies recorded from public sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from camsweep.discover.credentials import SnmpV3User


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: list[tuple[str, str]]  # as sent: original case and order, repeats kept
    body: bytes
    path: str

    def header(self, name: str) -> str | None:
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None

    def header_dict(self) -> dict[str, str]:
        """First value per header name, original case kept (Dahua's upper-case names are a tell)."""
        out: dict[str, str] = {}
        seen: set[str] = set()
        for key, value in self.headers:
            if key.lower() not in seen:
                seen.add(key.lower())
                out[key] = value
        return out

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Transport(Protocol):
    """Everything probes may do on the network. Implementations enforce scope and limits."""

    async def exchange(self, host: str, port: int, payload: bytes, *, tls: bool = False,
                       max_bytes: int = 65536, wait: float | None = None) -> bytes:
        """Connect, send `payload` (may be empty), return what arrives until the reply looks
        complete (an HTTP-style message), the peer closes, `max_bytes`, or `wait` seconds."""
        ...

    async def connect(self, host: str, port: int) -> bool:
        """True when a TCP connection is accepted (closed again at once)."""
        ...

    async def http(self, method: str, host: str, port: int, path: str, *, tls: bool = False,
                   headers: Mapping[str, str] | None = None, body: bytes | None = None,
                   ) -> HttpReply | None:
        """One HTTP request, no redirects followed, no proxies; None when nothing answers."""
        ...

    async def datagram(self, host: str, port: int, payload: bytes, *, wait: float | None = None,
                       ) -> bytes | None:
        """One UDP request, the first reply (after retries), or None."""
        ...

    async def peer_certificate(self, host: str, port: int) -> bytes | None:
        """The DER certificate the TLS server presents (not verified), or None."""
        ...

    async def snmp_v3_get(self, host: str, oids: list[str], user: SnmpV3User) -> dict[str, Any]:
        """Authenticated SNMPv3 GET; {oid: value} of what the agent returned (empty on failure)."""
        ...


class NoAnswerError(Exception):
    """A recorded transport has no reply for this request (the device would have been silent)."""


@dataclass
class RecordedTransport:
    """Replies recorded from real devices, keyed by what was asked; for unit tests and replays.

    Keys: ("tcp", port) -> bool, ("exchange", port) -> bytes, ("http", port, path) -> HttpReply
    (or ("http", port, method, path)), ("udp", port) -> bytes, ("cert", port) -> DER bytes,
    ("snmpv3", user) -> {oid: value}. A value may be a function of the request. A missing key
    is silence.
    """

    replies: dict[tuple[object, ...], object] = field(default_factory=dict)
    sent: list[tuple[str, int, bytes]] = field(default_factory=list)

    async def exchange(self, host: str, port: int, payload: bytes, *, tls: bool = False,
                       max_bytes: int = 65536, wait: float | None = None) -> bytes:
        self.sent.append((host, port, payload))
        reply = self.replies.get(("exchange", port))
        if callable(reply):
            reply = reply(payload)
        if not isinstance(reply, bytes):
            raise NoAnswerError(f"{host}:{port}")
        return reply[:max_bytes]

    async def connect(self, host: str, port: int) -> bool:
        return bool(self.replies.get(("tcp", port), False))

    async def http(self, method: str, host: str, port: int, path: str, *, tls: bool = False,
                   headers: Mapping[str, str] | None = None, body: bytes | None = None,
                   ) -> HttpReply | None:
        self.sent.append((host, port, f"{method} {path}\n".encode() + b"\n".join(
            f"{k}: {v}".encode() for k, v in (headers or {}).items()) + b"\n\n" + (body or b"")))
        reply = self.replies.get(("http", port, method, path)) or self.replies.get(
            ("http", port, path))
        if callable(reply):
            reply = reply(headers or {}, body or b"")
        return reply if isinstance(reply, HttpReply) else None

    async def datagram(self, host: str, port: int, payload: bytes, *, wait: float | None = None,
                       ) -> bytes | None:
        self.sent.append((host, port, payload))
        reply = self.replies.get(("udp", port))
        if callable(reply):
            reply = reply(payload)
        return reply if isinstance(reply, bytes) else None

    async def peer_certificate(self, host: str, port: int) -> bytes | None:
        reply = self.replies.get(("cert", port))
        return reply if isinstance(reply, bytes) else None

    async def snmp_v3_get(self, host: str, oids: list[str], user: SnmpV3User) -> dict[str, Any]:
        self.sent.append((host, 161, f"v3 {user.user} {' '.join(oids)}".encode()))
        reply = self.replies.get(("snmpv3", user.user))
        return dict(reply) if isinstance(reply, dict) else {}


def split_message(data: bytes) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """Status line, headers (order and case kept; folded lines joined) and body of an
    HTTP/RTSP/SSDP message; None when `data` is not one."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    lines = head.decode("iso-8859-1").replace("\r\n", "\n").split("\n")
    if not lines or not lines[0].strip():
        return None
    status = lines[0].strip()
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            key, value = headers[-1]
            headers[-1] = (key, f"{value} {line.strip()}")
            continue
        key, colon, value = line.partition(":")
        if colon and key.strip():
            headers.append((key.strip(), value.strip()))
    return status, headers, body


def message_complete(data: bytes) -> bool:
    """True once an HTTP-style message is whole: headers, then Content-Length bytes of body or
    a chunked body up to its last chunk. Without either, the body runs to the end of the
    connection (HTTP/1.1, RFC 9112 section 6.3), except for RTSP, SSDP and 1xx/204/304."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end].decode("iso-8859-1").lower()
    lines = head.split("\r\n")
    length = None
    chunked = False
    for line in lines[1:]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                length = 0
        elif key == "transfer-encoding" and "chunked" in value:
            chunked = True
    if chunked:
        return data.endswith(b"0\r\n\r\n") and len(data) > end + 4
    if length is not None:
        return len(data) >= end + 4 + length
    words = lines[0].split()
    status = words[1] if len(words) > 1 else ""
    return not lines[0].startswith("http/") or status[:1] == "1" or status in ("204", "304")

"""The real transport: sockets, with the scope checked and the rate limits applied per packet.

Every connection, request and datagram first asks the `ScopeGuard`; an address outside the
authorised targets raises `ScopeError` before a socket is even created. Then a global token
bucket and a per-host token bucket pace new connections and datagrams, and a per-host
semaphore bounds how many conversations one device has at once (cameras are small computers;
OT networks want gentle scans).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from camsweep.discover.credentials import SnmpV3User
from camsweep.discover.probes.base import HttpReply, message_complete
from camsweep.discover.probes.http import http_request, parse_http_reply
from camsweep.discover.scope import ScopeGuard

log = logging.getLogger(__name__)
MAX_BODY = 65536


@dataclass
class Limits:
    timeout: float = 2.0  # connect / reply timeout, seconds
    retries: int = 1  # extra attempts after a timeout (never after a refusal)
    rate: float = 2000.0  # new connections + datagrams per second, all hosts together
    host_rate: float = 50.0  # the same, per host
    host_concurrency: int = 4  # conversations with one host at once
    concurrency: int = 256  # hosts scanned at once


class TokenBucket:
    """`rate` tokens a second, bursts up to `burst`; `acquire` waits for a token."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = max(rate, 0.001)
        self.burst = burst if burst is not None else max(1.0, rate / 10)
        self.tokens = self.burst
        self.stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


def client_ssl_context() -> ssl.SSLContext:
    """No verification (factory certificates are self-signed) and old ciphers allowed: the
    certificate is read as evidence, never trusted."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


class _Datagram(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.reply: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if not self.reply.done():
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable: nobody there
        if not self.reply.done():
            self.reply.set_result(None)


@dataclass
class TransportStats:
    connections: int = 0
    datagrams: int = 0
    http_requests: int = 0
    refused_by_scope: int = 0
    per_host: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class SocketTransport:
    """The `Transport` of real scans. Use as an async context manager (owns an HTTP client)."""

    def __init__(self, guard: ScopeGuard, limits: Limits | None = None) -> None:
        self.guard = guard
        self.limits = limits or Limits()
        self.stats = TransportStats()
        self._bucket = TokenBucket(self.limits.rate)
        self._host_buckets: dict[str, TokenBucket] = {}
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._ssl = client_ssl_context()
        self._snmp_engine: Any = None

    async def __aenter__(self) -> SocketTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._snmp_engine is not None:
            self._snmp_engine.close_dispatcher()
            self._snmp_engine = None

    async def aforget(self, host: str) -> None:
        """Drop a finished host's limiter state."""
        self.forget(host)

    def forget(self, host: str) -> None:
        """Drop a finished host's limiter state (a /16 sweep must not keep 65k buckets)."""
        self._host_buckets.pop(host, None)
        self._host_slots.pop(host, None)

    def _slot(self, host: str) -> asyncio.Semaphore:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self.limits.host_concurrency)
        return slot

    async def _pace(self, host: str) -> None:
        if not self.guard.allows(host):
            self.stats.refused_by_scope += 1
        self.guard.check(host)
        bucket = self._host_buckets.get(host)
        if bucket is None:
            bucket = self._host_buckets[host] = TokenBucket(self.limits.host_rate)
        await bucket.acquire()
        await self._bucket.acquire()
        self.stats.per_host[host] += 1

    async def _open(self, host: str, port: int, tls: bool,
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        last: Exception = TimeoutError(f"{host}:{port}")
        for _ in range(self.limits.retries + 1):
            await self._pace(host)
            self.stats.connections += 1
            try:
                async with asyncio.timeout(self.limits.timeout):  # no extra task, unlike wait_for
                    return await asyncio.open_connection(
                        host, port, ssl=self._ssl if tls else None,
                        server_hostname="" if tls else None)
            except TimeoutError as exc:
                last = exc
        raise last

    async def connect(self, host: str, port: int) -> bool:
        async with self._slot(host):
            try:
                _, writer = await self._open(host, port, False)
            except (OSError, TimeoutError):
                return False
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True

    async def exchange(self, host: str, port: int, payload: bytes, *, tls: bool = False,
                       max_bytes: int = 65536, wait: float | None = None) -> bytes:
        async with self._slot(host):
            reader, writer = await self._open(host, port, tls)
            data = b""
            try:
                if payload:
                    writer.write(payload)
                    await writer.drain()
                deadline = time.monotonic() + (wait if wait is not None else self.limits.timeout)
                while len(data) < max_bytes:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        async with asyncio.timeout(left):
                            chunk = await reader.read(max_bytes - len(data))
                    except TimeoutError:
                        break
                    if not chunk:
                        break
                    data += chunk
                    if message_complete(data):
                        break
                    if wait is not None:  # a banner: take what follows promptly, then stop
                        deadline = min(deadline, time.monotonic() + 0.1)
            except (OSError, TimeoutError):
                pass
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
            return data

    async def http(self, method: str, host: str, port: int, path: str, *, tls: bool = False,
                   headers: Mapping[str, str] | None = None, body: bytes | None = None,
                   ) -> HttpReply | None:
        self.stats.http_requests += 1
        request = http_request(method, host, port, path, headers, body)
        try:
            data = await self.exchange(host, port, request, tls=tls, max_bytes=MAX_BODY + 16384)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            log.debug("http %s %s:%s%s: %s", method, host, port, path, exc)
            return None
        return parse_http_reply(data, path)

    async def datagram(self, host: str, port: int, payload: bytes, *, wait: float | None = None,
                       ) -> bytes | None:
        loop = asyncio.get_running_loop()
        async with self._slot(host):
            for _ in range(self.limits.retries + 1):
                await self._pace(host)
                self.stats.datagrams += 1
                try:
                    transport, proto = await loop.create_datagram_endpoint(
                        _Datagram, remote_addr=(host, port))
                except OSError:
                    return None
                try:
                    transport.sendto(payload)
                    limit = wait if wait is not None else self.limits.timeout
                    async with asyncio.timeout(limit):
                        return await asyncio.shield(proto.reply)
                except TimeoutError:
                    continue
                finally:
                    transport.close()
        return None

    async def peer_certificate(self, host: str, port: int) -> bytes | None:
        async with self._slot(host):
            try:
                _, writer = await self._open(host, port, True)
            except (OSError, TimeoutError, ssl.SSLError):
                return None
            try:
                sslobj = writer.get_extra_info("ssl_object")
                der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
                return bytes(der) if der else None
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()

    async def snmp_v3_get(self, host: str, oids: list[str], user: SnmpV3User) -> dict[str, Any]:
        from camsweep.discover import snmpv3

        async with self._slot(host):
            await self._pace(host)
            self.stats.datagrams += 1
            if self._snmp_engine is None:
                self._snmp_engine = snmpv3.engine()
            return await snmpv3.get(self._snmp_engine, host, oids, user, self.limits.timeout,
                                    self.limits.retries)

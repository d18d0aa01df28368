"""Many emulated devices at once, each on its own loopback address (or in a namespace).

    with Testbed(hosts=12).running() as bed:     # background thread, own event loop
        for host in bed.hosts: print(host.ip, host.profile.id, host.maker)

Hosts get consecutive addresses from `base` (default 127.20.0.1), skipping .0 and .255, and
profiles in turn. Linux routes all of 127.0.0.0/8 to the loopback interface, so no address
needs configuring and nothing can leave the machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from camsweep.discover.credentials import Credentials, OnvifCredentials, SnmpCredentials
from camsweep.testbed import servers
from camsweep.testbed.profiles import HostSpec, Profile, all_profiles, host_spec, profile

DEFAULT_BASE = "127.20.0.1"
# What the emulated devices accept; give these to the scanner to test authenticated probes.
TESTBED_CREDENTIALS = Credentials(
    onvif=OnvifCredentials("admin", "testbed-onvif-pass"),
    snmp=SnmpCredentials(community="testbed-ro"))
UDP_PORTS = {"wsd": 3702, "ssdp": 1900, "snmp": 161, "mdns": 5353}
_NAME_OIDS = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME,
              "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "L": NameOID.LOCALITY_NAME,
              "ST": NameOID.STATE_OR_PROVINCE_NAME, "C": NameOID.COUNTRY_NAME}


def addresses(base: str, count: int) -> list[str]:
    """`count` IPv4 addresses from `base` on, skipping .0 and .255."""
    out: list[str] = []
    value = int(ipaddress.IPv4Address(base))
    while len(out) < count:
        ip = ipaddress.IPv4Address(value)
        if ip.packed[3] not in (0, 255):
            out.append(str(ip))
        value += 1
    return out


@dataclass
class CredentialLog:
    """Every credential any emulated device received: (ip, kind, detail)."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, ip: str, kind: str, detail: str) -> None:
        with self._lock:
            self.entries.append((ip, kind, detail))

    def for_ip(self, ip: str) -> list[tuple[str, str]]:
        with self._lock:
            return [(k, d) for i, k, d in self.entries if i == ip]


class _Certificates:
    """Self-signed factory-style certificates, one per distinct subject, in a temp folder."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="camsweep-testbed-")
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._key_file = Path(self._dir.name) / "key.pem"
        self._key_file.write_bytes(self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self._contexts: dict[tuple[tuple[str, str], ...], ssl.SSLContext] = {}

    def context(self, subject: dict[str, str]) -> ssl.SSLContext:
        key = tuple(sorted((str(k), str(v)) for k, v in subject.items()))
        ctx = self._contexts.get(key)
        if ctx is not None:
            return ctx
        # RFC 4514 strings list the last RDN first: build C, ST, L, O, OU, CN so that the
        # subject reads "CN=...,OU=...,O=...,L=...,ST=...,C=..." like the real ones.
        order = ["C", "ST", "L", "O", "OU", "CN"]
        name = x509.Name([x509.NameAttribute(_NAME_OIDS[k], str(subject[k]))
                          for k in order if k in subject])
        now = datetime.now(UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=3650))
                .sign(self._key, hashes.SHA256()))
        cert_file = Path(self._dir.name) / f"cert{len(self._contexts)}.pem"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, self._key_file)
        self._contexts[key] = ctx
        return ctx

    def close(self) -> None:
        self._dir.cleanup()


def _factory(responder: servers.UdpResponder) -> Callable[[], servers.UdpResponder]:
    return lambda: responder


class Testbed:
    """Emulated devices on loopback addresses; start and stop them inside one event loop."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, hosts: int = 12, base: str = DEFAULT_BASE,
                 profiles: Sequence[str] | None = None,
                 credentials: Credentials = TESTBED_CREDENTIALS,
                 specs: Sequence[HostSpec] | None = None, multicast_interface: str | None = None,
                 ) -> None:
        chosen: list[Profile] = ([profile(p) for p in profiles] if profiles
                                 else list(all_profiles()))
        if specs is None:
            specs = [host_spec(chosen[i % len(chosen)], i, ip)
                     for i, ip in enumerate(addresses(base, hosts))]
        self.hosts: list[HostSpec] = list(specs)
        self.credentials = credentials
        self.multicast_interface = multicast_interface
        self.log = CredentialLog()
        self._servers: list[asyncio.base_events.Server] = []
        self._udp: list[asyncio.DatagramTransport] = []
        self._certs: _Certificates | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def by_ip(self, ip: str) -> HostSpec:
        return next(h for h in self.hosts if h.ip == ip)

    async def start(self) -> None:
        self._certs = _Certificates()
        onvif = self.credentials.onvif or OnvifCredentials("admin", "")
        community = (self.credentials.snmp.community if self.credentials.snmp else None) or ""
        for spec in self.hosts:
            device = servers.Device(spec, onvif.username, onvif.password, community,
                                    self.log.add)
            await self._start_host(device)

    async def _start_host(self, device: servers.Device) -> None:
        spec = device.spec
        for port in spec.profile.ports:
            if port in (80, 81, 88, 8080, 8081, 8899):
                handler, tls = servers.http_handler(device), None
            elif port in (443, 8443):
                assert self._certs is not None
                subject = spec.data.get("tls_subject") or {"CN": spec.ip}
                handler, tls = servers.http_handler(device), self._certs.context(subject)
            elif port in (554, 8554):
                handler, tls = servers.rtsp_handler(device), None
            elif port == 8000:
                handler, tls = servers.sdk_handler(device), None
            else:
                handler, tls = servers.silent_handler(device), None
            self._servers.append(await asyncio.start_server(handler, spec.ip, port, ssl=tls,
                                                            backlog=256, reuse_address=True))
        loop = asyncio.get_running_loop()
        answers = {"wsd": device.wsd, "ssdp": device.ssdp, "snmp": device.snmp,
                   "mdns": device.mdns}
        for name in spec.profile.udp:
            port = UDP_PORTS[name]
            sock = self._udp_socket(spec.ip, port, name)
            responder = servers.UdpResponder(answers[name])
            transport, _ = await loop.create_datagram_endpoint(_factory(responder), sock=sock)
            self._udp.append(transport)

    def _udp_socket(self, ip: str, port: int, name: str) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        group = {"wsd": "239.255.255.250", "ssdp": "239.255.255.250",
                 "mdns": "224.0.0.251"}.get(name)
        if self.multicast_interface and group:
            # Inside a namespace: listen on the port for any address and join the group on
            # our interface, as a real device does.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("0.0.0.0", port))
            mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(ip))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        else:
            sock.bind((ip, port))
        sock.setblocking(False)
        return sock

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        for transport in self._udp:
            transport.close()
        self._servers.clear()
        self._udp.clear()
        if self._certs is not None:
            self._certs.close()
            self._certs = None

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Start, wait for `stop` (or cancellation), stop."""
        await self.start()
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            await self.stop()

    @contextmanager
    def running(self) -> Iterator[Testbed]:
        """Serve from a background thread with its own event loop; stopped on exit."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        stop: dict[str, Any] = {}

        async def main() -> None:
            stop["event"] = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                await self.stop()
                return
            ready.set()
            try:
                await stop["event"].wait()
            finally:
                await self.stop()

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),),
                                  name="camsweep-testbed", daemon=True)
        thread.start()
        ready.wait(120)
        if failure:
            thread.join(30)
            loop.close()
            raise failure[0]
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop["event"].set)
            thread.join(60)
            loop.close()

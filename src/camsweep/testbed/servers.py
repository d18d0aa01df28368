"""Protocol servers of one emulated device: HTTP(S) with ONVIF and UPnP, RTSP, vendor TCP
ports, and the UDP responders (WS-Discovery, SSDP, SNMP, mDNS).

Replies follow the profile (`profiles.yaml`, with sources) and the public protocol
documents: HTTP/1.1 (RFC 9112), RTSP/1.0 (RFC 2326), SOAP 1.2 with the ONVIF device service
and the OASIS Username Token Profile, WS-Discovery 2005/04, UPnP Device Architecture 1.1,
SNMP (RFC 3416/3414), DNS-SD over mDNS (RFC 6762/6763).

Every credential a device receives is logged (`Device.log`), so tests can prove the scanner
only sends credentials where it should.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import struct
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any, cast
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from camsweep.discover.probes import snmp as ber
from camsweep.discover.probes.mdns import PTR, SRV, TXT, A, DnsError, encode_name
from camsweep.discover.probes.mdns import parse as parse_dns
from camsweep.discover.probes.onvif import password_digest
from camsweep.testbed.profiles import HostSpec, common

SOAP = "http://www.w3.org/2003/05/soap-envelope"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TT = "http://www.onvif.org/ver10/schema"
MAX_REQUEST = 65536
CREATED_SKEW = timedelta(minutes=5)

LogFn = Callable[[str, str, str], None]


def _soap(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP}" '
            f'xmlns:tds="{TDS}" xmlns:tt="{TT}" '
            'xmlns:ter="http://www.onvif.org/ver10/error">'
            f"<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


def _not_authorized() -> bytes:
    return _soap("<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>"
                 "<SOAP-ENV:Subcode><SOAP-ENV:Value>ter:NotAuthorized</SOAP-ENV:Value>"
                 "</SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text "
                 'xml:lang="en">Sender not Authorized</SOAP-ENV:Text></SOAP-ENV:Reason>'
                 "</SOAP-ENV:Fault>")


class Device:
    """One emulated host: the rendered profile and what every protocol answers."""

    def __init__(self, spec: HostSpec, username: str, password: str, community: str,
                 log: LogFn) -> None:
        self.spec = spec
        self.data = spec.data
        self.username = username
        self.password = password
        self.community = community
        self._log = log
        self.started = datetime.now(UTC)
        self.engine_id = self._engine_id()

    def log(self, kind: str, detail: str) -> None:
        self._log(self.spec.ip, kind, detail)

    # -- HTTP ----------------------------------------------------------------------------------

    def http(self, method: str, path: str, headers: dict[str, str],
             body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        web = self.data.get("http") or {}
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if auth:
            self.log("http-authorization", auth.split(" ", 1)[0])
        onvif = self.data.get("onvif")
        if onvif is not None and method == "POST" and path == common()["onvif_path"]:
            status, reply = self.onvif(body)
            return status, [("Content-Type", "application/soap+xml; charset=utf-8")], reply
        if method == "POST" and path == "/axis-cgi/basicdeviceinfo.cgi" and web.get("vapix"):
            return self._vapix(body)
        upnp = self.data.get("upnp")
        if method == "GET" and upnp and path == web.get("upnp_path"):
            return 200, [("Content-Type", 'text/xml; charset="utf-8"')], self._upnp(upnp)
        page = web.get("root") if path == "/" else (web.get("pages") or {}).get(path)
        if method == "GET" and page is not None:
            extra = [(str(k), str(v)) for k, v in page.get("headers") or []]
            return int(page.get("status", 200)), extra, str(page.get("body", "")).encode()
        return 404, [("Content-Type", "text/html")], b"<html><body>404 Not Found</body></html>"

    def http_head(self, status: int, extra: list[tuple[str, str]], length: int,
                  close: bool) -> bytes:
        web = self.data.get("http") or {}
        upper = bool(web.get("upper_case_headers"))
        reason = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
                  404: "Not Found", 405: "Method Not Allowed"}.get(status, "OK")
        lines = [f"HTTP/1.1 {status} {reason}"]
        if web.get("server"):
            lines.append(f"Server: {web['server']}")
        lines.append(f"Date: {formatdate(usegmt=True)}")
        lines.extend(f"{k}: {v}" for k, v in [*extra, *[tuple(h) for h in
                                                        web.get("extra_headers") or []]])
        if not any(k.lower() == "content-type" for k, _ in extra):
            lines.append("Content-Type: text/html")
        if upper:  # Dahua's own web server writes these names in capitals
            lines.append(f"CONTENT-LENGTH: {length}")
            lines.append("CONNECTION: close" if close else "CONNECTION: keep-alive")
        else:
            lines.append(f"Content-Length: {length}")
            lines.append("Connection: close" if close else "Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1")

    def _vapix(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        import json

        props = (self.data.get("http") or {}).get("vapix") or {}
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        if request.get("method") != "getAllUnrestrictedProperties":
            return 401, [("WWW-Authenticate", f'Digest realm="AXIS_{self.spec.serial}"')], b""
        reply = {"apiVersion": request.get("apiVersion", "1.0"),
                 "context": request.get("context", ""), "data": {"propertyList": props}}
        return 200, [("Content-Type", "application/json")], json.dumps(reply).encode()

    def _upnp(self, fields: dict[str, Any]) -> bytes:
        inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
        return ('<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
                "<specVersion><major>1</major><minor>0</minor></specVersion><device>"
                "<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>"
                f"{inner}<serialNumber>{escape(self.spec.serial or '')}</serialNumber>"
                f"<UDN>uuid:Upnp-BasicDevice-1_0-{self.data.get('model', '')}-{self.spec.mac}"
                "</UDN></device></root>").encode()

    # -- ONVIF ---------------------------------------------------------------------------------

    def _token_ok(self, root: Any) -> bool:
        fields: dict[str, str] = {}
        for element in root.iter():
            name = str(element.tag).rsplit("}", 1)[-1]
            if name in ("Username", "Password", "Nonce", "Created") and element.text:
                fields[name] = element.text.strip()
        if "Username" not in fields:
            return False
        self.log("onvif-username-token", fields["Username"])
        try:
            nonce = base64.b64decode(fields.get("Nonce", ""))
            created = datetime.strptime(fields.get("Created", ""), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return False
        if abs(created.replace(tzinfo=UTC) - datetime.now(UTC)) > CREATED_SKEW:
            return False
        expected = password_digest(nonce, fields["Created"], self.password)
        return fields["Username"] == self.username and fields.get("Password") == expected

    def onvif(self, body: bytes) -> tuple[int, bytes]:
        onvif = self.data["onvif"]
        try:
            root = fromstring(body)
        except (ParseError, DefusedXmlException, ValueError):
            return 400, _soap("<SOAP-ENV:Fault/>")
        body_el = next((c for c in root if str(c.tag).endswith("Body")), None)
        first = next(iter(body_el), None) if body_el is not None else None
        operation = str(first.tag).rsplit("}", 1)[-1] if first is not None else ""
        authorised = self._token_ok(root)
        if operation == "GetSystemDateAndTime":
            now = datetime.now(UTC)
            return 200, _soap(
                "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
                "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false"
                "</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
                f"<tt:UTCDateTime><tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}"
                f"</tt:Minute><tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>"
                f"{now.year}</tt:Year><tt:Month>{now.month}</tt:Month><tt:Day>{now.day}"
                "</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>"
                "</tds:GetSystemDateAndTimeResponse>")
        if onvif.get("auth") and not authorised:
            return 400, _not_authorized()
        if operation == "GetDeviceInformation":
            values = {"Manufacturer": onvif.get("Manufacturer", ""),
                      "Model": self.data.get("model") or "",
                      "FirmwareVersion": self.data.get("firmware") or "",
                      "SerialNumber": self.spec.serial or "",
                      "HardwareId": onvif.get("HardwareId", "")}
            inner = "".join(f"<tds:{k}>{escape(str(v))}</tds:{k}>" for k, v in values.items())
            return 200, _soap(f"<tds:GetDeviceInformationResponse>{inner}"
                              "</tds:GetDeviceInformationResponse>")
        if operation == "GetNetworkInterfaces":
            return 200, _soap(
                '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0">'
                "<tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name>"
                f"<tt:HwAddress>{self.spec.mac}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>"
                "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>")
        return 400, _soap("<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Receiver"
                          "</SOAP-ENV:Value></SOAP-ENV:Code></SOAP-ENV:Fault>")

    # -- RTSP ----------------------------------------------------------------------------------

    def rtsp(self, request: bytes) -> bytes:
        rtsp = self.data.get("rtsp") or {}
        text = request.decode("iso-8859-1")
        method = text.split(" ", 1)[0].upper()
        cseq = next((line.split(":", 1)[1].strip() for line in text.split("\r\n")
                     if line.lower().startswith("cseq:")), "0")
        lines = [f"CSeq: {cseq}"]
        if rtsp.get("server"):
            lines.append(f"Server: {rtsp['server']}")
        if method == "OPTIONS":
            status = "200 OK"
            lines.append(f"Public: {rtsp.get('public', 'OPTIONS, DESCRIBE')}")
        elif method == "DESCRIBE":
            status = "401 Unauthorized"
            nonce = hashlib.md5(f"{self.spec.ip}{cseq}".encode()).hexdigest()
            lines.append(f'WWW-Authenticate: Digest realm="{rtsp.get("realm", "")}", '
                         f'nonce="{nonce}", stale="FALSE"')
        else:
            status = "405 Method Not Allowed"
        lines.append(f"Date: {formatdate(usegmt=True)}")
        return ("RTSP/1.0 " + status + "\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode()

    # -- UDP responders ------------------------------------------------------------------------

    def wsd(self, data: bytes) -> bytes | None:
        onvif = self.data.get("onvif")
        if onvif is None or b"Probe" not in data:
            return None
        try:
            root = fromstring(data)
        except (ParseError, DefusedXmlException, ValueError):
            return None
        relates = next((e.text for e in root.iter() if str(e.tag).endswith("MessageID")), "")
        scopes = " ".join(onvif.get("scopes") or [])
        xaddr = f"http://{self.spec.ip}{common()['onvif_path']}"
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP}" '
            'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
            'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><SOAP-ENV:Header>'
            f"<wsa:MessageID>uuid:{uuid.uuid4()}</wsa:MessageID>"
            f"<wsa:RelatesTo>{escape(relates or '')}</wsa:RelatesTo>"
            '<wsa:To SOAP-ENV:mustUnderstand="true">'
            "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>"
            '<wsa:Action SOAP-ENV:mustUnderstand="true">'
            "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>"
            "</SOAP-ENV:Header><SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>"
            "<wsa:EndpointReference><wsa:Address>urn:uuid:"
            f"{uuid.uuid5(uuid.NAMESPACE_OID, self.spec.mac)}</wsa:Address>"
            "</wsa:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types>"
            f"<d:Scopes>{escape(scopes)}</d:Scopes><d:XAddrs>{xaddr}</d:XAddrs>"
            "<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches>"
            "</SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()

    def ssdp(self, data: bytes) -> bytes | None:
        web = self.data.get("http") or {}
        if not data.startswith(b"M-SEARCH") or not web.get("upnp_path"):
            return None
        text = data.decode("iso-8859-1")
        st = next((line.split(":", 1)[1].strip() for line in text.split("\r\n")
                   if line.upper().startswith("ST:")), "")
        if st not in ("ssdp:all", "upnp:rootdevice"):
            return None
        bare = self.spec.mac.replace(":", "")
        return ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
                f"LOCATION: http://{self.spec.ip}:80{web['upnp_path']}\r\n"
                "SERVER: Linux/4.9, UPnP/1.0, Portable SDK for UPnP devices/1.6.22\r\n"
                "ST: upnp:rootdevice\r\n"
                f"USN: uuid:Upnp-BasicDevice-1_0-{bare}::upnp:rootdevice\r\n\r\n").encode()

    def _engine_id(self) -> bytes:
        snmp = self.data.get("snmp") or {}
        enterprise = int(snmp.get("enterprise", 8072))
        mac = bytes.fromhex(self.spec.mac.replace(":", ""))
        return (0x80000000 | enterprise).to_bytes(4, "big") + b"\x03" + mac

    def snmp(self, data: bytes) -> bytes | None:
        snmp = self.data.get("snmp")
        if snmp is None:
            return None
        try:
            msg = ber.decode_message(data)
        except ber.BerError:
            return None
        if msg.version == 3:
            if msg.engine_id or msg.pdu is None:
                return None  # authenticated v3 is not emulated: silence, as for a wrong user
            uptime = int((datetime.now(UTC) - self.started).total_seconds())
            header = ber.sequence(ber.integer(msg.msg_id or 0), ber.integer(65507),
                                  ber.octets(b"\x00"), ber.integer(3))
            params = ber.usm_parameters(self.engine_id, 1, uptime)
            report = ber.encode_pdu(ber.REPORT, msg.pdu.request_id, [(
                ber.USM_UNKNOWN_ENGINE_IDS, ber.unsigned(1, ber.COUNTER32))])
            scoped = ber.sequence(ber.octets(self.engine_id), ber.octets(b""), report)
            return ber.sequence(ber.integer(3), header, ber.octets(params), scoped)
        if msg.community is not None:
            self.log("snmp-community", msg.community)
        if msg.community != self.community or msg.pdu is None or msg.pdu.tag != ber.GET:
            return None  # a wrong community gets no answer, as real agents do
        binds: list[tuple[str, bytes]] = []
        for name, _ in msg.pdu.varbinds:
            if name == ber.SYS_DESCR:
                binds.append((name, ber.octets(str(snmp.get("sysDescr", "")))))
            elif name == ber.SYS_OBJECT_ID:
                binds.append((name, ber.oid(str(snmp.get("sysObjectID", "0.0")))))
            else:
                binds.append((name, ber.tlv(ber.NO_SUCH_OBJECT, b"")))
        return ber.sequence(ber.integer(msg.version), ber.octets(msg.community),
                            ber.encode_pdu(ber.RESPONSE, msg.pdu.request_id, binds))

    def mdns(self, data: bytes) -> bytes | None:
        mdns = self.data.get("mdns")
        if mdns is None:
            return None
        try:
            query = parse_dns(data)
        except (DnsError, struct.error):
            return None
        if query.is_response:
            return None
        stype = str(mdns["type"])
        instance = f"{mdns['name']}.{stype}"
        host = f"{self.spec.mac.replace(':', '')}.local"
        asked = {name.lower() for name, _ in query.questions}
        records: list[bytes] = []

        def rr(name: str, rtype: int, rdata: bytes) -> bytes:
            return encode_name(name) + struct.pack("!HHIH", rtype, 1, 120, len(rdata)) + rdata

        if "_services._dns-sd._udp.local" in asked:
            records.append(rr("_services._dns-sd._udp.local", PTR, encode_name(stype)))
        if stype.lower() in asked:
            records.append(rr(stype, PTR, encode_name(instance)))
            records.append(rr(instance, SRV, struct.pack("!HHH", 0, 0, 80) + encode_name(host)))
            txt = b"".join(bytes([len(t.encode())]) + t.encode() for t in mdns.get("txt") or [])
            records.append(rr(instance, TXT, txt or b"\x00"))
            records.append(rr(host, A, bytes(int(p) for p in self.spec.ip.split("."))))
        if not records:
            return None
        questions = b"".join(encode_name(n) + struct.pack("!HH", t, 1)
                             for n, t in query.questions)
        head = struct.pack("!HHHHHH", query.ident, 0x8400, len(query.questions), len(records),
                           0, 0)
        return head + questions + b"".join(records)


# --- asyncio servers ---------------------------------------------------------------------------

async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str],
                                                                bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 3:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip()] = value.strip()
    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0")
                 or 0)
    try:
        body = await reader.readexactly(min(length, MAX_REQUEST)) if length else b""
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return parts[0].upper(), parts[1], headers, body


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ConnectionError):
        await writer.wait_closed()


def http_handler(device: Device) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                             Any]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, path, headers, body = request
                status, extra, payload = device.http(method, path, headers, body)
                close = (headers.get("Connection", "").lower() == "close"
                         or bool((device.data.get("http") or {}).get("upper_case_headers")))
                writer.write(device.http_head(status, extra, len(payload), close) + payload)
                await writer.drain()
                if close:
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            await _close(writer)
    return handle


def rtsp_handler(device: Device) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    break
                writer.write(device.rtsp(request))
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            await _close(writer)
    return handle


def sdk_handler(device: Device) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    """Hikvision SDK port: a 16-byte error frame for any input it does not understand."""
    reply = bytes.fromhex(str(common()["sdk_reply_hex"]))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(4096):
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            await _close(writer)
    return handle


def silent_handler(device: Device) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                               Any]:
    """A binary vendor port (Dahua 37777/37778) that waits for its own protocol."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(4096):
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            await _close(writer)
    return handle


class UdpResponder(asyncio.DatagramProtocol):
    def __init__(self, answer: Callable[[bytes], bytes | None]) -> None:
        self.answer = answer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = self.answer(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

"""ONVIF device service (GetDeviceInformation, GetNetworkInterfaces) and WS-Discovery Probe.

Hand-written SOAP rather than onvif-zeep-async: zeep parses the ONVIF WSDLs per device
(hundreds of milliseconds and lxml), while discovery needs four fixed envelopes.

Credentials are sent only to a host that first answered an anonymous
`GetSystemDateAndTime` (which the ONVIF Core Specification, section 5.9.4, requires devices to
serve without authentication) with a proper SOAP response: that answer is what identifies it
as an ONVIF device service. The WS-UsernameToken digest follows the OASIS Username Token
Profile 1.0: Base64(SHA-1(nonce + created + password)), `created` taken from the device's own
clock so a device with a wrong clock does not reject the token.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from camsweep.discover.credentials import OnvifCredentials
from camsweep.discover.model import Answer, cap_text, normalise_mac
from camsweep.discover.probes.base import HttpReply, Transport

DEVICE_PATH = "/onvif/device_service"
WSD_PORT = 3702
SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
TDS = "http://www.onvif.org/ver10/device/wsdl"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
          "#PasswordDigest")
B64 = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
       "#Base64Binary")
INFO_FIELDS = ("Manufacturer", "Model", "FirmwareVersion", "SerialNumber", "HardwareId")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def password_digest(nonce: bytes, created: str, password: str) -> str:
    return base64.b64encode(
        hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def security_header(username: str, password: str, created: datetime,
                    nonce: bytes | None = None) -> str:
    nonce = nonce if nonce is not None else os.urandom(16)
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<Security s:mustUnderstand="1" xmlns="{WSSE}"><UsernameToken>'
        f"<Username>{escape(username)}</Username>"
        f'<Password Type="{DIGEST}">{password_digest(nonce, stamp, password)}</Password>'
        f'<Nonce EncodingType="{B64}">{base64.b64encode(nonce).decode()}</Nonce>'
        f'<Created xmlns="{WSU}">{stamp}</Created>'
        "</UsernameToken></Security>"
    )


def envelope(operation: str, header: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP_NS}">'
        f"<s:Header>{header}</s:Header>"
        f'<s:Body><{operation} xmlns="{TDS}"/></s:Body></s:Envelope>'
    ).encode()


@dataclass
class Soap:
    """The first element of a SOAP Body, its leaf texts, and the fault code if it is a Fault."""

    operation: str
    texts: dict[str, str] = field(default_factory=dict)
    fault: str | None = None


def parse_soap(data: bytes) -> Soap | None:
    try:
        root = fromstring(data)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    if local(str(root.tag)) != "Envelope":
        return None
    body = next((c for c in root if local(str(c.tag)) == "Body"), None)
    first = next(iter(body), None) if body is not None else None
    if first is None:
        return None
    texts: dict[str, str] = {}
    for element in first.iter():
        text = (element.text or "").strip()
        if text:
            texts.setdefault(local(str(element.tag)), text)
    soap = Soap(local(str(first.tag)), texts)
    if soap.operation == "Fault":
        values = [(e.text or "").strip() for e in first.iter() if local(str(e.tag)) == "Value"]
        soap.fault = values[-1] if values else texts.get("Text", "Fault")
    return soap


def device_time(soap: Soap, fallback: datetime) -> datetime:
    """The device's UTC clock from GetSystemDateAndTimeResponse (its fields come in order)."""
    try:
        t = soap.texts
        return datetime(int(t["Year"]), int(t["Month"]), int(t["Day"]), int(t["Hour"]),
                        int(t["Minute"]), int(t["Second"]), tzinfo=UTC)
    except (KeyError, ValueError):
        return fallback


def _hw_address(data: bytes) -> str | None:
    try:
        root = fromstring(data)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    for element in root.iter():
        if local(str(element.tag)) == "HwAddress" and element.text:
            return normalise_mac(element.text.strip())
    return None


async def _post(t: Transport, ip: str, port: int, path: str, tls: bool, operation: str,
                header: str = "") -> HttpReply | None:
    action = f"{TDS}/{operation}"
    return await t.http("POST", ip, port, path, tls=tls, body=envelope(operation, header),
                        headers={"Content-Type": f'application/soap+xml; charset=utf-8; '
                                                 f'action="{action}"'})


def _soap_of(reply: HttpReply | None) -> Soap | None:
    return parse_soap(reply.body) if reply is not None and reply.body else None


async def probe_onvif(t: Transport, ip: str, port: int, *, path: str = DEVICE_PATH,
                      tls: bool = False, credentials: OnvifCredentials | None = None,
                      now: datetime | None = None) -> Answer | None:
    """Device information (and MAC) from the ONVIF device service, or None if there is none."""
    hello = await _post(t, ip, port, path, tls, "GetSystemDateAndTime")
    soap = _soap_of(hello)
    if soap is None or soap.operation != "GetSystemDateAndTimeResponse":
        return None  # not an ONVIF device service: nothing more is sent, credentials least of all
    clock = device_time(soap, now or datetime.now(UTC))
    started = now or datetime.now(UTC)

    def header() -> str:
        if credentials is None:
            return ""
        elapsed = (now or datetime.now(UTC)) - started
        return security_header(credentials.username, credentials.password,
                               clock + max(elapsed, timedelta(0)))

    fields: dict[str, object] = {"path": path, "authenticated": False}
    raw: list[str] = []
    info = await _post(t, ip, port, path, tls, "GetDeviceInformation")
    parsed = _soap_of(info)
    if (parsed is None or parsed.fault) and credentials is not None:
        info = await _post(t, ip, port, path, tls, "GetDeviceInformation", header())
        parsed = _soap_of(info)
        fields["authenticated"] = True
    if parsed is not None and parsed.operation == "GetDeviceInformationResponse":
        for name in INFO_FIELDS:
            if name in parsed.texts:
                fields[name] = parsed.texts[name]
        raw.append(cap_text(info.body if info else b"", 4096) or "")
    elif parsed is not None and parsed.fault:
        fields["fault"] = parsed.fault
    nets = await _post(t, ip, port, path, tls, "GetNetworkInterfaces", header())
    mac = _hw_address(nets.body) if nets is not None and nets.status == 200 else None
    if mac:
        fields["hw_address"] = mac
    return Answer("onvif", ip, port=port, fields=fields, raw="\n".join(raw) or None, mac=mac)


# --- WS-Discovery ------------------------------------------------------------------------------

WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
DN = "http://www.onvif.org/ver10/network/wsdl"
MULTICAST_V4 = "239.255.255.250"


def wsd_probe(message_id: str | None = None) -> bytes:
    """A WS-Discovery Probe for ONVIF NetworkVideoTransmitters (ONVIF Core 7.3)."""
    mid = message_id or f"uuid:{uuid.uuid4()}"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<e:Envelope xmlns:e="{SOAP_NS}" xmlns:w="{WSA}" xmlns:d="{WSD}" xmlns:dn="{DN}">'
        f"<e:Header><w:MessageID>{mid}</w:MessageID>"
        f'<w:To e:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>'
        f'<w:Action e:mustUnderstand="true">{WSD}/Probe</w:Action></e:Header>'
        f"<e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body>"
        f"</e:Envelope>"
    ).encode()


def parse_scopes(scopes: list[str]) -> dict[str, list[str]]:
    """`onvif://www.onvif.org/<key>/<value>` scopes as key -> values (URL-decoded)."""
    out: dict[str, list[str]] = {}
    for scope in scopes:
        parts = urlsplit(scope)
        if parts.scheme != "onvif":
            continue
        pieces = [p for p in parts.path.split("/") if p]
        if len(pieces) >= 2:
            out.setdefault(pieces[0].lower(), []).append(unquote("/".join(pieces[1:])))
    return out


def parse_probe_matches(data: bytes) -> list[dict[str, object]]:
    try:
        root: Element = fromstring(data)
    except (ParseError, DefusedXmlException, ValueError):
        return []
    matches: list[dict[str, object]] = []
    for element in root.iter():
        if local(str(element.tag)) != "ProbeMatch":
            continue
        texts: dict[str, str] = {}
        for child in element.iter():
            if child.text and child.text.strip():
                texts.setdefault(local(str(child.tag)), child.text.strip())
        scopes = texts.get("Scopes", "").split()
        matches.append({
            "address": texts.get("Address"),
            "types": texts.get("Types", "").split(),
            "scopes": scopes,
            "scope_values": parse_scopes(scopes),
            "xaddrs": texts.get("XAddrs", "").split(),
        })
    return matches


def wsd_answer(ip: str, data: bytes) -> Answer | None:
    matches = parse_probe_matches(data)
    if not matches:
        return None
    return Answer("wsd", ip, port=WSD_PORT, fields=matches[0], raw=cap_text(data, 4096))


async def probe_wsd(t: Transport, ip: str) -> Answer | None:
    """Unicast WS-Discovery Probe to the host's port 3702 (devices answer directed probes)."""
    data = await t.datagram(ip, WSD_PORT, wsd_probe())
    return wsd_answer(ip, data) if data else None


def onvif_endpoint(answer: Answer | None, ip: str) -> tuple[int, str, bool] | None:
    """(port, path, tls) of an XAddr on this very host; XAddrs naming other hosts are ignored."""
    if answer is None:
        return None
    xaddrs = answer.fields.get("xaddrs")
    for xaddr in xaddrs if isinstance(xaddrs, list) else []:
        parts = urlsplit(str(xaddr))
        if (parts.hostname or "").strip("[]") != ip or parts.scheme not in ("http", "https"):
            continue
        tls = parts.scheme == "https"
        return parts.port or (443 if tls else 80), parts.path or DEVICE_PATH, tls
    return None

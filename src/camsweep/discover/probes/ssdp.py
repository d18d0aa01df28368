"""SSDP M-SEARCH and the UPnP device description it points to.

Hand-written rather than async-upnp-client, which brings aiohttp for what is one UDP
datagram and one GET. Message formats: UPnP Device Architecture 1.1, sections 1.3.2 (search,
including the unicast form sent to a device's own address) and 2.3 (device description).
The description is fetched only from the host that answered, whatever LOCATION says.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from camsweep.discover.model import Answer, cap_text
from camsweep.discover.probes.base import Transport, split_message

SSDP_PORT = 1900
MULTICAST_V4 = "239.255.255.250"
UPNP_FIELDS = ("manufacturer", "manufacturerURL", "modelName", "modelNumber",
               "modelDescription", "friendlyName", "serialNumber", "UDN", "deviceType")


def m_search(host: str = MULTICAST_V4, st: str = "upnp:rootdevice", mx: int = 1) -> bytes:
    target = f"[{host}]" if ":" in host else host
    return (f"M-SEARCH * HTTP/1.1\r\nHOST: {target}:{SSDP_PORT}\r\n"
            f'MAN: "ssdp:discover"\r\nMX: {mx}\r\nST: {st}\r\n'
            "USER-AGENT: camsweep UPnP/1.1 camsweep/1\r\n\r\n").encode()


def parse_search_reply(data: bytes) -> dict[str, str] | None:
    parts = split_message(data)
    if parts is None:
        return None
    status, headers, _ = parts
    if not status.startswith("HTTP/") or " 200" not in status:
        return None
    values = {k.upper(): v for k, v in headers}
    if "LOCATION" not in values and "USN" not in values:
        return None
    return {"location": values.get("LOCATION", ""), "server": values.get("SERVER", ""),
            "st": values.get("ST", ""), "usn": values.get("USN", "")}


def parse_description(data: bytes) -> dict[str, str] | None:
    """The root device's fields from a UPnP description document."""
    try:
        root = fromstring(data)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    device = next((e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "device"), None)
    if device is None:
        return None
    out: dict[str, str] = {}
    for child in device:
        name = str(child.tag).rsplit("}", 1)[-1]
        if name in UPNP_FIELDS and child.text and child.text.strip():
            out[name] = child.text.strip()
    return out or None


def location_on_host(location: str, ip: str) -> tuple[int, str, bool] | None:
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or (parts.hostname or "").strip("[]") != ip:
        return None
    tls = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.port or (443 if tls else 80), path, tls


async def probe_ssdp(t: Transport, ip: str) -> list[Answer]:
    data = await t.datagram(ip, SSDP_PORT, m_search(ip))
    reply = parse_search_reply(data) if data else None
    if reply is None:
        return []
    answers = [Answer("ssdp", ip, port=SSDP_PORT, fields=dict(reply), raw=cap_text(data, 2048))]
    where = location_on_host(reply["location"], ip)
    if where is None:
        return answers
    port, path, tls = where
    desc = await t.http("GET", ip, port, path, tls=tls)
    fields = parse_description(desc.body) if desc is not None and desc.status == 200 else None
    if fields is not None and desc is not None:
        answers.append(Answer("upnp", ip, port=port, fields={**fields, "path": path},
                              raw=cap_text(desc.body, 4096)))
    return answers

"""HTTP(S): the landing page, and the read-only device-information documents cameras serve.

No credentials are ever sent here and no login form is touched. Besides `/`, three documents
that makers publish for integrators are asked for, each answered or refused by the device:
- Hikvision ISAPI `GET /ISAPI/System/deviceInfo` (XML; newer firmware answers 401 with its
  realm, which is evidence too) — public ISAPI documentation; real answers in
  maciej-or/hikvision_next `tests/fixtures/ISAPI/System.deviceInfo/*.xml`.
- Dahua `GET /cgi-bin/magicBox.cgi?action=getSystemInfo` (`key=value` lines) — Dahua HTTP API
  for IP cameras; real answers quoted in rroller/dahua `custom_components/dahua/__init__.py`.
- Axis VAPIX basic device information `POST /axis-cgi/basicdeviceinfo.cgi` with method
  `getAllUnrestrictedProperties`, which Axis documents as readable without authentication
  (developer.axis.com/vapix/network-video/basic-device-information/).
Redirects are followed only to a path on the same host and port: a `Location` naming another
host is recorded, never fetched.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from camsweep import __version__
from camsweep.discover.model import Answer, cap_text
from camsweep.discover.probes.base import HttpReply, Transport, split_message

HTTP_PORTS = frozenset({80, 81, 88, 8080, 8081, 8899})
TLS_PORTS = frozenset({443, 8443})
BODY_KEEP = 4096
MAX_REDIRECTS = 2

ISAPI_PATH = "/ISAPI/System/deviceInfo"
MAGICBOX_PATH = "/cgi-bin/magicBox.cgi?action=getSystemInfo"
VAPIX_PATH = "/axis-cgi/basicdeviceinfo.cgi"
VAPIX_BODY = json.dumps({"apiVersion": "1.0", "context": "camsweep",
                         "method": "getAllUnrestrictedProperties"}).encode()

USER_AGENT = f"camsweep/{__version__} (inventory scan; read-only)"

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


def title_of(body: bytes) -> str | None:
    match = _TITLE.search(body[:65536])
    if not match:
        return None
    text = html.unescape(match.group(1).decode("utf-8", "replace"))
    text = _SPACE.sub(" ", text).strip()
    return text or None


def http_request(method: str, host: str, port: int, path: str,
                 headers: Mapping[str, str] | None = None, body: bytes | None = None) -> bytes:
    """An HTTP/1.1 request that asks the server to close the connection after answering."""
    name = f"[{host}]" if ":" in host else host
    default = 443 if port == 443 else 80
    lines = [f"{method} {path} HTTP/1.1", f"Host: {name}" + (f":{port}" if port != default
                                                              else ""),
             f"User-Agent: {USER_AGENT}", "Accept: */*", "Connection: close"]
    lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1") + (body or b"")


def dechunk(data: bytes) -> bytes:
    """The body of a `Transfer-Encoding: chunked` message (RFC 9112 section 7.1); whatever
    arrived when the chunks are cut short."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            break
        try:
            size = int(data[pos:eol].split(b";", 1)[0].strip() or b"0", 16)
        except ValueError:
            break
        if size == 0:
            break
        out.extend(data[eol + 2:eol + 2 + size])
        pos = eol + 2 + size + 2
    return bytes(out)


def parse_http_reply(data: bytes, path: str) -> HttpReply | None:
    """An HttpReply from raw response bytes; None when they are not an HTTP response."""
    parts = split_message(data)
    if parts is None:
        return None
    status_line, headers, body = parts
    words = status_line.split()
    if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
        return None
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        body = dechunk(body)
    else:
        length = next((v for k, v in headers if k.lower() == "content-length"), None)
        if length is not None and length.strip().isdigit():
            body = body[:int(length.strip())]
    return HttpReply(int(words[1]), headers, body, path)


def http_answer(ip: str, port: int, reply: HttpReply, tls: bool) -> Answer:
    head = "\r\n".join([f"HTTP {reply.status} {reply.path}",
                        *(f"{k}: {v}" for k, v in reply.headers)])
    return Answer(
        "http", ip, port=port,
        fields={"path": reply.path, "status": reply.status, "tls": tls,
                "headers": reply.header_dict(), "title": title_of(reply.body),
                "body": cap_text(reply.body, BODY_KEEP)},
        raw=head,
    )


def same_host_path(location: str, ip: str, port: int) -> str | None:
    """The path to follow for a redirect, only when it stays on this host and port."""
    parts = urlsplit(location.strip())
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    if parts.netloc:
        host = (parts.hostname or "").strip("[]")
        if host != ip or (parts.port is not None and parts.port != port):
            return None
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    return path + (f"?{parts.query}" if parts.query else "")


async def probe_landing(t: Transport, ip: str, port: int, tls: bool) -> list[Answer]:
    """`GET /`, following same-host redirects (Hikvision sends `/` to `/doc/page/login.asp`)."""
    answers: list[Answer] = []
    path = "/"
    for _ in range(MAX_REDIRECTS + 1):
        reply = await t.http("GET", ip, port, path, tls=tls)
        if reply is None:
            break
        answers.append(http_answer(ip, port, reply, tls))
        location = reply.header("Location")
        if reply.status not in (301, 302, 303, 307, 308) or not location:
            break
        nxt = same_host_path(location, ip, port)
        if nxt is None or nxt == path:
            break
        path = nxt
    return answers


def parse_magicbox(text: str) -> dict[str, str] | None:
    """`key=value` lines of getSystemInfo; None when the reply is not that document."""
    fields: dict[str, str] = {}
    for line in text.replace("\r", "\n").split("\n"):
        key, sep, value = line.partition("=")
        if sep and key.strip() and " " not in key.strip():
            fields.setdefault(key.strip(), value.strip())
    return fields if {"deviceType", "serialNumber"} & set(fields) else None


def parse_vapix(body: bytes) -> dict[str, str] | None:
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None
    props = data.get("data", {}).get("propertyList") if isinstance(data, dict) else None
    if not isinstance(props, dict):
        return None
    return {str(k): str(v) for k, v in props.items() if isinstance(v, str | int | float)}


async def probe_device_info(t: Transport, ip: str, port: int, tls: bool) -> list[Answer]:
    """The three vendor device-information documents; each answer (even 401) is kept."""
    answers: list[Answer] = []
    isapi = await t.http("GET", ip, port, ISAPI_PATH, tls=tls,
                         headers={"Accept": "application/xml"})
    if isapi is not None and isapi.status != 404:
        answers.append(http_answer(ip, port, isapi, tls))
        if isapi.status == 200 and b"<DeviceInfo" in isapi.body:
            answers.append(Answer("isapi", ip, port=port, fields={"xml": cap_text(isapi.body)}))
    magic = await t.http("GET", ip, port, MAGICBOX_PATH, tls=tls)
    if magic is not None and magic.status != 404:
        answers.append(http_answer(ip, port, magic, tls))
        parsed = parse_magicbox(magic.text) if magic.status == 200 else None
        if parsed is not None:
            answers.append(Answer("magicbox", ip, port=port,
                                  fields={"text": cap_text(magic.body), "keys": parsed}))
    vapix = await t.http("POST", ip, port, VAPIX_PATH, tls=tls, body=VAPIX_BODY,
                         headers={"Content-Type": "application/json"})
    if vapix is not None and vapix.status not in (404, 405):
        answers.append(http_answer(ip, port, vapix, tls))
        props = parse_vapix(vapix.body) if vapix.status == 200 else None
        if props is not None:
            answers.append(Answer("vapix", ip, port=port, fields={"properties": props}))
    return answers

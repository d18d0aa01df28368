"""RTSP `OPTIONS` then `DESCRIBE` of the root URL, without credentials: the Server header and
the authentication realm are what identify the maker.

Real answers: Dahua `Server: Dahua Rtsp Server` (rapid7/recog `xml/rtsp_servers.xml`);
Hikvision answers OPTIONS without a Server header and DESCRIBE with
`401` + `WWW-Authenticate: Digest realm="IP Camera(C1214)"` (google/ExoPlayer#9800).
"""

from __future__ import annotations

from camsweep.discover.model import Answer
from camsweep.discover.probes.base import Transport, split_message

RTSP_PORTS = frozenset({554, 8554, 10554})
USER_AGENT = "camsweep"


def request(method: str, ip: str, port: int, cseq: int) -> bytes:
    host = f"[{ip}]" if ":" in ip else ip
    lines = [f"{method} rtsp://{host}:{port}/ RTSP/1.0", f"CSeq: {cseq}",
             f"User-Agent: {USER_AGENT}"]
    if method == "DESCRIBE":
        lines.append("Accept: application/sdp")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_reply(data: bytes) -> tuple[int, list[tuple[str, str]]] | None:
    parts = split_message(data)
    if parts is None:
        return None
    status_line, headers, _ = parts
    words = status_line.split()
    if len(words) < 2 or not words[0].startswith("RTSP/") or not words[1].isdigit():
        return None
    return int(words[1]), headers


async def probe_rtsp(t: Transport, ip: str, port: int) -> Answer | None:
    statuses: dict[str, int] = {}
    merged: dict[str, str] = {}
    raw: list[str] = []
    for cseq, method in enumerate(("OPTIONS", "DESCRIBE"), start=1):
        data = await t.exchange(ip, port, request(method, ip, port, cseq), max_bytes=16384)
        parsed = parse_reply(data)
        if parsed is None:
            if cseq == 1:
                return None
            break
        status, headers = parsed
        statuses[method] = status
        raw.append(data.split(b"\r\n\r\n", 1)[0].decode("iso-8859-1"))
        for key, value in headers:
            if key.lower() in ("cseq", "date", "content-length", "content-base"):
                continue
            if not any(k.lower() == key.lower() for k in merged):
                merged[key] = value
    return Answer("rtsp", ip, port=port, fields={"status": statuses, "headers": merged},
                  raw="\r\n\r\n".join(raw))

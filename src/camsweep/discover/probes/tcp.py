"""TCP connect on the camera ports, and a banner from ports that are neither web nor RTSP.

A banner probe waits for the device to speak first, then sends an empty line pair (nmap's
`GenericLines`): never a login. Hikvision's SDK port 8000 answers unknown input with a
16-byte error frame (nmap `nmap-service-probes`, "HikVision camera control" match), which the
banner keeps as escaped text.
"""

from __future__ import annotations

from camsweep.discover.model import Answer, printable
from camsweep.discover.probes.base import NoAnswerError, Transport

# At least the ports issue 4 names: web, RTSP, Hikvision SDK, Dahua DVRIP/DHIP, Xiongmai.
DEFAULT_PORTS: tuple[int, ...] = (80, 443, 554, 8000, 8080, 8443, 8899, 37777, 37778, 34567)
GENERIC_LINES = b"\r\n\r\n"


async def probe_connect(t: Transport, ip: str, port: int) -> Answer | None:
    if await t.connect(ip, port):
        return Answer("tcp", ip, port=port, fields={"open": True})
    return None


async def probe_banner(t: Transport, ip: str, port: int, wait: float = 0.3) -> Answer | None:
    """What the service says first, or in answer to an empty line pair; None when silent."""
    try:
        data = await t.exchange(ip, port, b"", max_bytes=1024, wait=wait)
        sent = ""
        if not data:
            data = await t.exchange(ip, port, GENERIC_LINES, max_bytes=1024, wait=wait * 2)
            sent = "GenericLines"
    except (NoAnswerError, OSError, TimeoutError):
        return None
    if not data:
        return None
    return Answer("banner", ip, port=port,
                  fields={"text": printable(data), "probe": sent or "NULL",
                          "http": data.startswith(b"HTTP/")},
                  raw=printable(data, 1024))

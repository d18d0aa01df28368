"""RTSP answers: the Server header and the authentication realm."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.extractors._common import fingerprint, header
from camsweep.identify.findings import Observations


def extract(ev: Evidence, obs: Observations) -> None:
    if ev.rtsp is None:
        return
    server = header(ev.rtsp.headers, "Server")
    if server:
        fingerprint(obs, "rtsp_server", server.strip())
    auth = header(ev.rtsp.headers, "WWW-Authenticate")
    if auth:
        fingerprint(obs, "http_wwwauth", auth.strip(), signal="rtsp_wwwauth")

"""HTTP answers: Server, WWW-Authenticate and other headers, title, body, answered path."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.extractors._common import fingerprint, header
from camsweep.identify.findings import Observations

MAX_BODY = 65536


def extract(ev: Evidence, obs: Observations) -> None:
    http = ev.http
    if http is None:
        return
    server = header(http.headers, "Server")
    if server:
        fingerprint(obs, "http_server", server.strip())
    auth = header(http.headers, "WWW-Authenticate")
    if auth:
        fingerprint(obs, "http_wwwauth", auth.strip())
    if http.headers:
        lines = "\n".join(f"{k}: {v}" for k, v in http.headers.items())
        fingerprint(obs, "http_header", lines)
    if http.title:
        fingerprint(obs, "http_title", http.title.strip())
    if http.body:
        fingerprint(obs, "http_body", http.body[:MAX_BODY])
    if http.path:
        fingerprint(obs, "http_path", http.path.strip())

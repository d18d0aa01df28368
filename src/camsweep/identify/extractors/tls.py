"""TLS certificates: factory default subjects and issuers name the maker."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.extractors._common import fingerprint
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    if ev.tls is None:
        return
    seen: set[str] = set()
    for value in (clean(ev.tls.subject), clean(ev.tls.issuer)):
        if value and value not in seen:
            seen.add(value)
            fingerprint(obs, "tls", value)

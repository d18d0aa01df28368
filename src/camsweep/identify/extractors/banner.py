"""Any other raw banner: telnet prompts, whole HTTP/RTSP replies; model numbers inside."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.extractors._common import fingerprint
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    value = clean(ev.banner)
    if value:
        fingerprint(obs, "banner", value)
        obs.models.append(("banner", value))

"""Cloud and P2P endpoints the device contacted: vendor clouds outlive relabelling."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify import findings as fam
from camsweep.identify.extractors._common import fingerprint
from camsweep.identify.findings import Observations


def extract(ev: Evidence, obs: Observations) -> None:
    for endpoint in sorted(set(ev.calls_home)):
        value = endpoint.strip()
        if value:
            fingerprint(obs, "calls_home", value, family=fam.CLOUD, feature="calls_home")

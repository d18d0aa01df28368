"""The register's firmware column: version grammars survive OEM relabelling."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    value = clean(ev.firmware)
    if value:
        obs.firmware.append(("firmware", value))

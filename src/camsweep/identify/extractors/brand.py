"""The register's brand column: a label, and sometimes brand and model in one cell."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    value = clean(ev.brand)
    if value:
        obs.labels.append(("brand", value))
        obs.models.append(("brand", value))

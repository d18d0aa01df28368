"""The register's model column: grammar input, and a brand mention when both share the cell."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    value = clean(ev.model)
    if value:
        obs.models.append(("model", value))
        obs.labels.append(("brand_in_model", value))
        obs.raw_models.append(value)

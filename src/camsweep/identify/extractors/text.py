"""Free text as typed in a register (description, notes): brands and models anywhere in it."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    value = clean(ev.text)
    if value:
        obs.labels.append(("text", value))
        obs.models.append(("text", value))

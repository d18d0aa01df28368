"""UPnP device description: manufacturer, vendor URL, model and descriptive names."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.extractors._common import fingerprint
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    info = ev.upnp
    if info is None:
        return
    manufacturer = clean(info.manufacturer)
    if manufacturer:
        obs.labels.append(("upnp_manufacturer", manufacturer))
    url = clean(info.manufacturerURL)
    if url:
        fingerprint(obs, "upnp", url)
    for value in (clean(info.modelName), clean(info.modelNumber)):
        if value:
            obs.models.append(("upnp", value))
            obs.raw_models.append(value)
    for value in (clean(info.friendlyName), clean(info.modelDescription)):
        if value:
            obs.labels.append(("upnp_description", value))
            obs.models.append(("upnp", value))

"""ONVIF GetDeviceInformation: manufacturer (often the OEM's label), model, firmware."""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify.findings import Observations
from camsweep.kb.normalise import clean


def extract(ev: Evidence, obs: Observations) -> None:
    info = ev.onvif
    if info is None:
        return
    manufacturer = clean(info.Manufacturer)
    if manufacturer:
        obs.labels.append(("onvif_manufacturer", manufacturer))
    model = clean(info.Model)
    if model:
        obs.models.append(("onvif", model))
        obs.raw_models.append(model)
    firmware = clean(info.FirmwareVersion)
    if firmware:
        obs.firmware.append(("onvif", firmware))

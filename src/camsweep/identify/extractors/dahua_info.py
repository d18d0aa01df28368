"""Dahua `magicBox.cgi?action=getSystemInfo`: key=value lines only Dahua firmware serves.

Lorex units answer `deviceType=31` with the real Dahua model in `updateSerial`
(rroller/dahua#79), so both keys are read and bare numbers are ignored.
"""

from __future__ import annotations

from camsweep.domain import Evidence
from camsweep.identify import findings as fam
from camsweep.identify.findings import Finding, Observations
from camsweep.identify.fusion import FUSION

SOURCE = "Dahua magicBox getSystemInfo (rroller/dahua:custom_components/dahua/client.py)"
KNOWN_KEYS = frozenset(
    {"deviceType", "serialNumber", "updateSerial", "hardwareVersion", "processor", "appAutoStart"}
)


def parse(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.replace("\r", "\n").split("\n"):
        key, sep, value = line.partition("=")
        if sep and key.strip() and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields


def extract(ev: Evidence, obs: Observations) -> None:
    if not ev.dahua_system_info:
        return
    fields = parse(ev.dahua_system_info)
    known = sorted(KNOWN_KEYS & set(fields))
    if not known:
        obs.findings.append(
            Finding("dahua_system_info", fam.INFO, "no getSystemInfo keys", None, 0.0, SOURCE)
        )
        return
    models = [
        fields[k]
        for k in ("updateSerial", "deviceType")
        if fields.get(k) and not fields[k].isdigit()
    ]
    obs.findings.append(
        Finding(
            "dahua_system_info",
            fam.PROTOCOL,
            ",".join(known),
            "dahua",
            FUSION.weight("dahua_system_info"),
            SOURCE,
            model=models[0] if models else None,
        )
    )
    for model in models:
        obs.models.append(("dahua_system_info", model))
    if models:
        obs.raw_models.append(models[0])
    version = fields.get("version")
    if version:
        obs.firmware.append(("dahua_system_info", version))

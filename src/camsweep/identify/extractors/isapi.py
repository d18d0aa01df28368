"""Hikvision ISAPI `/ISAPI/System/deviceInfo`: answering it at all is a Hikvision tell.

Parsed with defusedxml only: the XML comes from devices we do not trust. Both the
`isapi.org` and the `hikvision.com/ver20/XMLSchema` namespaces are accepted, because
many devices answer with the latter.
"""

from __future__ import annotations

from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from camsweep.domain import Evidence
from camsweep.identify import findings as fam
from camsweep.identify.findings import Finding, Observations
from camsweep.identify.fusion import FUSION

SOURCE = "Hikvision ISAPI deviceInfo (praetorian-inc/nerva:pkg/plugins/fingerprinters/hikvision.go)"
_DEVICE_TYPES = {
    "ipcamera": "camera",
    "ipdome": "camera",
    "ipzoom": "camera",
    "ptz": "camera",
    "camera": "camera",
    "nvr": "nvr",
    "dvr": "dvr",
    "dvs": "encoder",
    "hybirdnvr": "nvr",
    "hybridnvr": "nvr",
    "doorstation": "intercom",
    "indoorstation": "intercom",
    "villadoorstation": "intercom",
    "acs": "access_control",
    "accesscontrol": "access_control",
}


def parse(xml: str) -> tuple[str, dict[str, str]] | None:
    """(root tag, first text of each element by local name), or None if not XML."""
    try:
        root = fromstring(xml.strip().encode("utf-8"))
    except (ParseError, DefusedXmlException, ValueError):
        return None
    fields: dict[str, str] = {}
    for element in root.iter():
        name = str(element.tag).rsplit("}", 1)[-1]
        text = (element.text or "").strip()
        if text and name not in fields:
            fields[name] = text
    return str(root.tag), fields


def extract(ev: Evidence, obs: Observations) -> None:
    if not ev.isapi_device_info:
        return
    parsed = parse(ev.isapi_device_info)
    if parsed is None:
        obs.findings.append(
            Finding("isapi_device_info", fam.INFO, "unparseable XML", None, 0.0, SOURCE)
        )
        return
    tag, fields = parsed
    local = tag.rsplit("}", 1)[-1]
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    if local != "DeviceInfo" and "hikvision" not in namespace and "isapi" not in namespace:
        obs.findings.append(
            Finding(
                "isapi_device_info",
                fam.INFO,
                local,
                None,
                0.0,
                f"{SOURCE}: not a DeviceInfo document",
            )
        )
        return
    device_type = _DEVICE_TYPES.get(fields.get("deviceType", "").replace(" ", "").lower())
    model = fields.get("model")
    version = fields.get("firmwareVersion")
    released = fields.get("firmwareReleasedDate")
    firmware = f"{version} {released}" if version and released else version
    obs.findings.append(
        Finding(
            "isapi_device_info",
            fam.PROTOCOL,
            f"{local} ({namespace or 'no namespace'})",
            "hikvision",
            FUSION.weight("isapi_device_info"),
            SOURCE,
            device_type=device_type,
            model=model,
            firmware=firmware,
        )
    )
    manufacturer = fields.get("manufacturer")
    if manufacturer:
        obs.labels.append(("isapi_manufacturer", manufacturer))
    if model:
        obs.models.append(("isapi", model))
        obs.raw_models.append(model)
    if firmware:
        obs.firmware.append(("isapi", firmware))

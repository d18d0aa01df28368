"""Per-host evidence, assembled from answers in exactly the shape of `camsweep.domain.Evidence`.

Pure: answers in, Evidence out. Which answer fills which field:
- `open_ports` from `tcp` answers; `mac` from the neighbour table, ONVIF HwAddress, or a
  passive source; `ip` the host.
- `http` the landing page of the main web port (headers, title, body), with the
  `WWW-Authenticate` of a refused vendor path added when the landing page had none, and
  `path` set to the most telling vendor path the device answered (ISAPI, magicBox, VAPIX).
- `isapi_device_info` / `dahua_system_info` the raw documents; `rtsp` the RTSP headers;
  `onvif` GetDeviceInformation, else the WS-Discovery `hardware` scope as the model;
  `upnp` the SSDP description; `snmp` sysDescr/sysObjectID; `tls` the first certificate.
- `text` the names devices give themselves (WS-Discovery `name` scope, mDNS instance names,
  DHCP host names): free text, weighed as such by identify.
- `banner` everything else worth keeping (SDK-port replies, Axis VAPIX properties, the SNMP
  engine's enterprise number, nmap service strings), one line each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from camsweep.discover.model import Answer
from camsweep.domain import (
    Evidence,
    HttpEvidence,
    OnvifEvidence,
    RtspEvidence,
    SnmpEvidence,
    TlsEvidence,
    UpnpEvidence,
)

WEB_PREFERENCE = (80, 8080, 443, 8443, 81, 88, 8081, 8899, 8000)
VENDOR_PATHS = ("/ISAPI/", "/cgi-bin/magicBox.cgi", "/axis-cgi/")
TEXT_CAP = 2000
BANNER_CAP = 4000


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _web_rank(answer: Answer) -> tuple[int, int]:
    port = answer.port or 0
    rank = WEB_PREFERENCE.index(port) if port in WEB_PREFERENCE else len(WEB_PREFERENCE)
    return rank, port


def _http(answers: list[Answer]) -> HttpEvidence | None:
    web = [a for a in answers if a.probe == "http"]
    if not web:
        return None
    landing = [a for a in web if not any(str(a.fields.get("path", "")).startswith(p)
                                         for p in VENDOR_PATHS)]
    main = min(landing or web, key=_web_rank)
    # The last page of the landing redirect chain on that port is what a person would see.
    same_port = [a for a in landing if a.port == main.port]
    page = next((a for a in reversed(same_port) if a.fields.get("status") == 200),
                same_port[-1] if same_port else main)
    headers: dict[str, str] = {}

    def add(source: Answer, only: str | None = None) -> None:
        for key, value in (source.fields.get("headers") or {}).items():
            low = str(key).lower()
            if (only is None or low == only) and not any(k.lower() == low for k in headers):
                headers[str(key)] = str(value)

    add(page)
    add(main)
    for answer in web:  # a vendor path refused with a realm names the maker too
        add(answer, only="www-authenticate")
    path = page.fields.get("path")
    for prefix in VENDOR_PATHS:
        hit = next((a for a in web if str(a.fields.get("path", "")).startswith(prefix)
                    and a.fields.get("status") in (200, 401, 403)), None)
        if hit is not None:
            path = hit.fields.get("path")
            break
    status = page.fields.get("status")
    return HttpEvidence(status=status if isinstance(status, int) else None, headers=headers,
                        title=_str(page.fields.get("title")), body=_str(page.fields.get("body")),
                        path=_str(path))


def _onvif(answers: list[Answer]) -> OnvifEvidence | None:
    info = next((a for a in answers if a.probe == "onvif"
                 and any(k in a.fields for k in ("Manufacturer", "Model"))), None)
    if info is not None:
        return OnvifEvidence(**{k: _str(info.fields.get(k)) for k in (
            "Manufacturer", "Model", "FirmwareVersion", "SerialNumber", "HardwareId")})
    for answer in answers:
        scopes = answer.fields.get("scope_values") if answer.probe == "wsd" else None
        if isinstance(scopes, Mapping) and scopes.get("hardware"):
            return OnvifEvidence(Model=str(scopes["hardware"][0]))
    return None


def _names(answers: list[Answer]) -> list[str]:
    names: list[str] = []
    for answer in answers:
        values: Iterable[Any] = ()
        if answer.probe == "wsd":
            scopes = answer.fields.get("scope_values") or {}
            values = [*scopes.get("name", []), *scopes.get("mfr", []),
                      *scopes.get("manufacturer", [])]
        elif answer.probe == "mdns":
            values = answer.fields.get("names") or []
        elif answer.probe in ("dhcp", "hostname"):
            values = [answer.fields.get("hostname"), answer.fields.get("vendor_class")]
        elif answer.probe == "service":  # nmap's own label for the service, e.g. its product
            values = [answer.fields.get("product")]
        for value in values:
            text = _str(value)
            if text and text not in names:
                names.append(text)
    return names


def _banners(answers: list[Answer]) -> list[str]:
    lines: list[str] = []
    for a in answers:
        if a.probe == "banner" and not a.fields.get("http"):
            lines.append(f"{a.port}/tcp: {a.fields.get('text', '')}")
        elif a.probe == "vapix":
            props = a.fields.get("properties") or {}
            lines.append("VAPIX " + " ".join(f"{k}={v}" for k, v in props.items()))
        elif a.probe == "snmp" and a.fields.get("enterprise"):
            lines.append(f"SNMP engine enterprise {a.fields['enterprise']}")
        elif a.probe == "service":
            text = " ".join(str(a.fields[k]) for k in ("name", "product", "version", "extrainfo")
                            if a.fields.get(k))
            if text:
                lines.append(f"{a.port}/tcp: {text}")
        elif a.probe == "ssdp" and a.fields.get("server"):
            lines.append(f"SSDP SERVER: {a.fields['server']}")
    return lines


def evidence_for(answers: list[Answer], ip: str | None = None, mac: str | None = None,
                 register: Mapping[str, Any] | None = None) -> Evidence:
    """The Evidence of one host. `register` adds what a register says (brand, model, firmware)."""
    reg = register or {}
    ports = sorted({a.port for a in answers if a.probe == "tcp" and a.port is not None})
    mac = mac or next((a.mac for a in answers if a.mac), None)
    isapi = next((a.fields.get("xml") for a in answers if a.probe == "isapi"), None)
    dahua = next((a.fields.get("text") for a in answers if a.probe == "magicbox"), None)
    rtsp = next((a for a in answers if a.probe == "rtsp" and a.fields.get("headers")), None)
    snmp = next((a for a in answers if a.probe == "snmp"
                 and (a.fields.get("sysDescr") or a.fields.get("sysObjectID"))), None)
    upnp = next((a for a in answers if a.probe == "upnp"), None)
    tls = next((a for a in answers if a.probe == "tls"), None)
    names = _names(answers)
    banners = _banners(answers)
    data: dict[str, Any] = {
        "brand": _str(reg.get("brand")), "model": _str(reg.get("model")),
        "firmware": _str(reg.get("firmware")),
        "ip": ip, "mac": mac, "open_ports": ports,
        "http": _http(answers), "onvif": _onvif(answers),
        "isapi_device_info": _str(isapi), "dahua_system_info": _str(dahua),
        "rtsp": RtspEvidence(headers=dict(rtsp.fields["headers"])) if rtsp else None,
        "snmp": SnmpEvidence(sysDescr=_str(snmp.fields.get("sysDescr")),
                             sysObjectID=_str(snmp.fields.get("sysObjectID"))) if snmp else None,
        "upnp": UpnpEvidence(**{k: _str(upnp.fields.get(k)) for k in (
            "manufacturer", "manufacturerURL", "modelName", "modelNumber", "modelDescription",
            "friendlyName")}) if upnp else None,
        "tls": TlsEvidence(subject=_str(tls.fields.get("subject")),
                           issuer=_str(tls.fields.get("issuer"))) if tls else None,
        "text": " / ".join(names)[:TEXT_CAP] or None,
        "banner": "\n".join(banners)[:BANNER_CAP] or None,
    }
    return Evidence(**data)


def device_facts(answers: list[Answer]) -> dict[str, str]:
    """Serial, model and firmware as the device reports them (for merging and for the record)."""
    facts: dict[str, str] = {}
    for a in answers:
        f = a.fields
        pairs: tuple[tuple[str, Any], ...]
        if a.probe == "onvif":
            pairs = (("serial", f.get("SerialNumber")), ("model", f.get("Model")),
                     ("firmware", f.get("FirmwareVersion")))
        elif a.probe == "magicbox":
            keys = f.get("keys") or {}
            pairs = (("serial", keys.get("serialNumber")),
                     ("model", keys.get("updateSerial") or keys.get("deviceType")),
                     ("firmware", keys.get("version")))
        elif a.probe == "vapix":
            props = f.get("properties") or {}
            pairs = (("serial", props.get("SerialNumber")), ("model", props.get("ProdNbr")),
                     ("firmware", props.get("Version")))
        elif a.probe == "upnp":
            pairs = (("serial", f.get("serialNumber")), ("model", f.get("modelNumber")))
        else:
            continue
        for key, value in pairs:
            text = _str(value)
            if text and key not in facts and not (key == "model" and text.isdigit()):
                facts[key] = text.strip()
    isapi = next((a.fields.get("xml") for a in answers if a.probe == "isapi"), None)
    if isinstance(isapi, str):
        from camsweep.identify.extractors.isapi import parse

        parsed = parse(isapi)
        if parsed is not None:
            fields = parsed[1]
            for key, name in (("serial", "serialNumber"), ("model", "model"),
                              ("firmware", "firmwareVersion")):
                if fields.get(name):
                    facts.setdefault(key, fields[name])
    return facts

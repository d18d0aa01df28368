"""nmap XML (`-oX`): hosts, MACs, open ports, service strings and the scripts that quote the
device itself (`http-server-header`, `http-title`, `ssl-cert`, `snmp-sysdescr`,
`rtsp-methods`). Format: nmap's `docs/nmap.dtd`. Parsed with defusedxml."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import parse  # type: ignore[import-untyped]

from camsweep.discover.importers import group_by_host
from camsweep.discover.model import Answer, HostReport, normalise_mac
from camsweep.errors import InputError, RowError

# ssl-cert script table keys -> RFC 4514 attribute names.
_RDN = {"commonName": "CN", "organizationalUnitName": "OU", "organizationName": "O",
        "localityName": "L", "stateOrProvinceName": "ST", "countryName": "C"}
_RDN_ORDER = ("CN", "OU", "O", "L", "ST", "C")


def _dn(table: Element | None) -> str | None:
    if table is None:
        return None
    values = {_RDN[e.get("key", "")]: (e.text or "") for e in table.findall("elem")
              if e.get("key") in _RDN}
    return ",".join(f"{k}={values[k]}" for k in _RDN_ORDER if k in values) or None


def _script_answers(ip: str, port: int, scripts: list[Element]) -> list[Answer]:
    out: list[Answer] = []
    by_id = {s.get("id", ""): s for s in scripts}
    server = by_id.get("http-server-header")
    title = by_id.get("http-title")
    if server is not None or title is not None:
        headers = {"Server": (server.get("output") or "").strip()} if server is not None else {}
        title_text = None
        if title is not None:
            elem = title.find("elem[@key='title']")
            title_text = (elem.text if elem is not None else title.get("output")) or None
        out.append(Answer("http", ip, port=port, fields={"path": "/", "status": None,
                                                         "headers": headers,
                                                         "title": title_text, "via": "nmap"}))
    cert = by_id.get("ssl-cert")
    if cert is not None:
        subject = _dn(cert.find("table[@key='subject']"))
        issuer = _dn(cert.find("table[@key='issuer']"))
        if subject or issuer:
            out.append(Answer("tls", ip, port=port, fields={"subject": subject,
                                                            "issuer": issuer}))
    descr = by_id.get("snmp-sysdescr")
    if descr is not None and descr.get("output"):
        text = (descr.get("output") or "").strip().split("\n")[0].strip()
        out.append(Answer("snmp", ip, port=port, fields={"sysDescr": text}))
    return out


def _host(host: Element, index: int, name: str, errors: list[RowError]) -> list[Answer]:
    status = host.find("status")
    if status is not None and status.get("state") not in (None, "up"):
        return []
    ip = None
    mac = None
    vendor = None
    for addr in host.findall("address"):
        kind = addr.get("addrtype")
        if kind in ("ipv4", "ipv6") and ip is None:
            ip = addr.get("addr")
        elif kind == "mac":
            mac = normalise_mac(addr.get("addr"))
            vendor = addr.get("vendor")
    if ip is None and mac is None:
        errors.append(RowError(name, index, "address", "host has neither an IP nor a MAC"))
        return []
    answers: list[Answer] = []
    if mac:
        answers.append(Answer("neigh", ip, fields={"mac": mac, "vendor": vendor, "via": "nmap"},
                              mac=mac))
    for hostname in host.findall("hostnames/hostname"):
        if hostname.get("name"):
            answers.append(Answer("hostname", ip, fields={"hostname": hostname.get("name")}))
    for port in host.findall("ports/port"):
        state = port.find("state")
        if state is None or state.get("state") != "open":
            continue
        try:
            number = int(port.get("portid", ""))
        except ValueError:
            errors.append(RowError(name, index, "portid",
                                   f"port {port.get('portid')!r} is not a number"))
            continue
        if port.get("protocol", "tcp") == "tcp":
            answers.append(Answer("tcp", ip, port=number, fields={"open": True, "via": "nmap"}))
        service = port.find("service")
        if service is not None:
            fields: dict[str, Any] = {k: service.get(k) for k in (
                "name", "product", "version", "extrainfo", "devicetype") if service.get(k)}
            cpes = [c.text for c in service.findall("cpe") if c.text]
            if cpes:
                fields["cpe"] = cpes
            if fields:
                answers.append(Answer("service", ip, port=number, fields=fields))
        answers.extend(_script_answers(ip or "", number, port.findall("script")))
    return answers


def read_nmap(path: Path) -> list[HostReport]:
    name = str(path)
    try:
        tree = parse(str(path))
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise InputError.of(f"nmap file {name}", [RowError(
            name, line, None, f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})"
        )]) from exc
    except DefusedXmlException as exc:
        raise InputError.of(f"nmap file {name}", [RowError(
            name, None, None, f"refused unsafe XML ({exc.__class__.__name__})")]) from exc
    except OSError as exc:
        raise InputError.of(f"nmap file {name}", [RowError(name, None, None,
                                                           f"cannot read: {exc.strerror}")]) \
            from exc
    root = tree.getroot()
    if root.tag != "nmaprun":
        raise InputError.of(f"nmap file {name}", [RowError(
            name, None, None, f"root element is <{root.tag}>, not <nmaprun> (use nmap -oX)")])
    errors: list[RowError] = []
    answers: list[Answer] = []
    for index, host in enumerate(root.iter("host"), start=1):
        answers.extend(_host(host, index, name, errors))
    if errors:
        raise InputError.of(f"nmap file {name}", errors)
    return group_by_host(answers)

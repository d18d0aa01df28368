"""DHCP leases and ARP / MAC-address tables: which MAC had which address, and what it called
itself.

- ISC dhcpd `dhcpd.leases` (dhcpd.leases(5)): `lease IP { ... hardware ethernet MAC;
  client-hostname "NAME"; set vendor-class-identifier = "..."; }`.
- dnsmasq leases file: `EXPIRY MAC IP HOSTNAME CLIENT-ID` a line (`*` when unknown).
- ARP tables and switch MAC-address tables exported as CSV: a MAC column (any common header:
  `mac`, `mac address`, `hardware address`, `physical address`, ...), optionally an IP column,
  VLAN and port. Cisco's dotted `4419.b612.3456` and Windows' dashed MACs are accepted.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from datetime import UTC, datetime
from pathlib import Path

from camsweep.discover.importers import group_by_host, open_text
from camsweep.discover.model import Answer, HostReport, normalise_mac
from camsweep.errors import InputError, RowError

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+')


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _lease_time(day: str, clock: str) -> str | None:
    try:
        return datetime.strptime(f"{day} {clock}", "%Y/%m/%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _isc(text: str, name: str) -> list[Answer]:
    errors: list[RowError] = []
    answers: list[Answer] = []
    tokens: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        body = raw.split("#", 1)[0]
        tokens.extend((number, tok) for tok in _TOKEN.findall(body))
    i = 0
    while i < len(tokens):
        line, tok = tokens[i]
        if tok != "lease":
            # Other top-level statements (authoring-byte-order, server-duid, failover ...).
            while i < len(tokens) and tokens[i][1] not in (";", "{"):
                i += 1
            if i < len(tokens) and tokens[i][1] == "{":
                depth = 0
                while i < len(tokens):
                    depth += {"{": 1, "}": -1}.get(tokens[i][1], 0)
                    i += 1
                    if depth == 0:
                        break
                continue
            i += 1
            continue
        if i + 2 >= len(tokens) or tokens[i + 2][1] != "{":
            errors.append(RowError(name, line, None, "expected 'lease ADDRESS {'"))
            break
        ip = _ip(tokens[i + 1][1])
        if ip is None:
            errors.append(RowError(name, line, None,
                                   f"{tokens[i + 1][1]!r} is not an IP address"))
        i += 3
        fields: dict[str, str] = {}
        mac = None
        statement: list[str] = []
        closed = False
        while i < len(tokens):
            sub_line, sub = tokens[i]
            i += 1
            if sub == "}":
                closed = True
                break
            if sub != ";":
                statement.append(sub.strip('"'))
                continue
            if statement[:2] == ["hardware", "ethernet"] and len(statement) > 2:
                mac = normalise_mac(statement[2])
                if mac is None:
                    errors.append(RowError(name, sub_line, "hardware ethernet",
                                           f"{statement[2]!r} is not a MAC address"))
            elif statement[:1] == ["client-hostname"] and len(statement) > 1:
                fields["hostname"] = statement[1]
            elif statement[:2] == ["set", "vendor-class-identifier"] and len(statement) > 3:
                fields["vendor_class"] = statement[3]
            elif statement[:2] == ["binding", "state"] and len(statement) > 2:
                fields["state"] = statement[2]
            elif statement[:1] in (["starts"], ["ends"]) and len(statement) > 3:
                # When the address was bound (UTC): call-home matching reads leases as history.
                stamp = _lease_time(statement[2], statement[3])
                if stamp:
                    fields[statement[0]] = stamp
            statement = []
        if not closed:
            errors.append(RowError(name, line, None, "lease block is not closed with '}'"))
            break
        if ip is not None and (mac or fields):
            answers.append(Answer("dhcp", ip, fields={**fields, "mac": mac, "via": "dhcpd"},
                                  mac=mac))
    if errors:
        raise InputError.of(f"leases file {name}", errors)
    return answers


def _dnsmasq(text: str, name: str) -> list[Answer]:
    errors: list[RowError] = []
    answers: list[Answer] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if parts[0] == "duid":  # dnsmasq's DHCPv6 server DUID line
            continue
        if len(parts) < 4 or not parts[0].isdigit():
            errors.append(RowError(name, number, None, "expected 'EXPIRY MAC IP HOSTNAME "
                                                       "[CLIENT-ID]'"))
            continue
        mac = normalise_mac(parts[1])
        ip = _ip(parts[2])
        if mac is None:
            errors.append(RowError(name, number, "mac", f"{parts[1]!r} is not a MAC address"))
        if ip is None:
            errors.append(RowError(name, number, "ip", f"{parts[2]!r} is not an IP address"))
        if mac is None or ip is None:
            continue
        hostname = parts[3] if parts[3] != "*" else None
        fields: dict[str, str | None] = {"hostname": hostname, "mac": mac, "via": "dnsmasq"}
        if parts[0] != "0":  # the lease's expiry (epoch seconds); 0 means infinite
            fields["ends"] = datetime.fromtimestamp(int(parts[0]), UTC).replace(
                tzinfo=None).isoformat()
        answers.append(Answer("dhcp", ip, fields=fields, mac=mac))
    if errors:
        raise InputError.of(f"leases file {name}", errors)
    return answers


def read_dhcp(path: Path) -> list[HostReport]:
    text = open_text(path)
    name = str(path)
    isc = re.search(r"^\s*lease\s+\S+\s*\{", text, re.MULTILINE) is not None
    answers = _isc(text, name) if isc else _dnsmasq(text, name)
    if not answers:
        raise InputError.of(f"leases file {name}", [RowError(
            name, None, None, "no leases found (expected ISC dhcpd.leases or a dnsmasq leases "
                              "file)")])
    return group_by_host(answers)


_MAC_HEADERS = ("mac", "mac address", "macaddress", "mac_address", "hardware address",
                "hwaddress", "hw address", "physical address", "lladdr", "ethernet address")
_IP_HEADERS = ("ip", "ip address", "ipaddress", "ip_address", "address", "internet address",
               "ipv4 address", "host")
_VLAN_HEADERS = ("vlan", "vlan id", "vid")
_PORT_HEADERS = ("port", "ports", "interface", "iface", "device", "dev")


def _column(headers: list[str], names: tuple[str, ...]) -> int | None:
    low = [h.strip().lower() for h in headers]
    for name in names:
        if name in low:
            return low.index(name)
    return None


def read_arp(path: Path) -> list[HostReport]:
    text = open_text(path)
    name = str(path)
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError.of(f"ARP/MAC table {name}", [RowError(name, None, None, "file is empty")])
    headers = rows[0]
    mac_col = _column(headers, _MAC_HEADERS)
    if mac_col is None:
        raise InputError.of(f"ARP/MAC table {name}", [RowError(
            name, 1, None, f"no MAC column among {headers}; name one "
                           f"{', '.join(repr(h) for h in _MAC_HEADERS[:4])}")])
    ip_col = _column(headers, _IP_HEADERS)
    vlan_col = _column(headers, _VLAN_HEADERS)
    port_col = _column(headers, _PORT_HEADERS)
    errors: list[RowError] = []
    answers: list[Answer] = []
    for number, row in enumerate(rows[1:], start=2):
        def cell(col: int | None, row: list[str] = row) -> str:
            return row[col].strip() if col is not None and col < len(row) else ""

        raw_mac = cell(mac_col)
        mac = normalise_mac(raw_mac)
        if mac is None:
            if raw_mac.lower() in ("incomplete", "(incomplete)", "<incomplete>"):
                continue
            errors.append(RowError(name, number, headers[mac_col],
                                   f"{raw_mac!r} is not a MAC address"))
            continue
        ip = None
        if cell(ip_col):
            ip = _ip(cell(ip_col))
            if ip is None:
                errors.append(RowError(name, number, headers[ip_col or 0],
                                       f"{cell(ip_col)!r} is not an IP address"))
                continue
        fields = {"mac": mac, "vlan": cell(vlan_col) or None, "port": cell(port_col) or None,
                  "via": "arp" if ip_col is not None else "mac-table"}
        answers.append(Answer("neigh", ip, fields=fields, mac=mac))
    if errors:
        raise InputError.of(f"ARP/MAC table {name}", errors)
    if not answers:
        raise InputError.of(f"ARP/MAC table {name}", [RowError(name, None, None,
                                                               "no MAC addresses found")])
    return group_by_host(answers)

"""masscan output: JSON (`-oJ`, also newline-delimited `-oD`) and list (`-oL`) formats.

List lines (masscan `src/out-text.c`): `open tcp 80 192.0.2.1 1700000000` and
`banner tcp 80 192.0.2.1 1700000000 http <banner>`; `#` starts a comment. JSON records:
`{"ip": ..., "timestamp": ..., "ports": [{"port": 80, "proto": "tcp", "status": "open"}]}` or
with `"service": {"name": "http", "banner": ...}` for banners (masscan `src/out-json.c`).
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from camsweep.discover.importers import group_by_host, open_text
from camsweep.discover.model import Answer, HostReport
from camsweep.discover.probes.base import split_message
from camsweep.discover.probes.http import title_of
from camsweep.errors import InputError, RowError


def _valid_ip(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return None


def _banner_answers(ip: str, port: int, service: str, banner: str) -> list[Answer]:
    out = [Answer("banner", ip, port=port, fields={"text": banner[:2048], "service": service,
                                                   "http": False, "via": "masscan"})]
    text = banner.replace("\\r", "\r").replace("\\n", "\n")
    if service in ("http", "http.server") and text.startswith("HTTP/"):
        parts = split_message(text.encode("utf-8", "replace"))
        if parts is not None:
            status_line, headers, body = parts
            words = status_line.split()
            status = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
            out.append(Answer("http", ip, port=port, fields={
                "path": "/", "status": status, "headers": dict(headers),
                "title": title_of(body), "via": "masscan"}))
    elif service == "title":
        out.append(Answer("http", ip, port=port, fields={"path": "/", "headers": {},
                                                         "title": banner, "via": "masscan"}))
    return out


def _record(rec: Any, where: int, name: str, errors: list[RowError]) -> list[Answer]:
    if not isinstance(rec, dict):
        errors.append(RowError(name, where, None, "record is not a JSON object"))
        return []
    ip = _valid_ip(rec.get("ip"))
    if ip is None:
        errors.append(RowError(name, where, "ip", f"{rec.get('ip')!r} is not an IP address"))
        return []
    out: list[Answer] = []
    for port in rec.get("ports") or []:
        if not isinstance(port, dict) or not isinstance(port.get("port"), int):
            errors.append(RowError(name, where, "ports", "each port needs an integer 'port'"))
            continue
        number = int(port["port"])
        service = port.get("service")
        if isinstance(service, dict):
            out.extend(_banner_answers(ip, number, str(service.get("name", "")),
                                       str(service.get("banner", ""))))
        elif port.get("status", "open") == "open" and port.get("proto", "tcp") == "tcp":
            out.append(Answer("tcp", ip, port=number, fields={"open": True, "via": "masscan"}))
    return out


def _json(text: str, name: str) -> list[Answer]:
    errors: list[RowError] = []
    answers: list[Answer] = []
    stripped = text.strip()
    records: list[tuple[int, Any]] = []
    if stripped.startswith("["):
        # masscan -oJ has written a trailing comma before the closing bracket in some versions.
        cleaned = stripped.rstrip("]").rstrip().rstrip(",") + "]"
        try:
            data = json.loads(cleaned)
        except json.JSONDecodeError as exc:
            raise InputError.of(f"masscan file {name}", [RowError(
                name, exc.lineno, None, f"not valid JSON: {exc.msg}")]) from exc
        records = list(enumerate(data, start=1))
    else:
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip().rstrip(",")
            if not line:
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                errors.append(RowError(name, number, None, f"not valid JSON: {exc.msg}"))
    for where, rec in records:
        answers.extend(_record(rec, where, name, errors))
    if errors:
        raise InputError.of(f"masscan file {name}", errors)
    return answers


def _list(text: str, name: str) -> list[Answer]:
    errors: list[RowError] = []
    answers: list[Answer] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(" ", 6)
        kind = parts[0]
        if kind not in ("open", "banner") or len(parts) < 5:
            errors.append(RowError(name, number, None, "expected 'open PROTO PORT IP TIME' or "
                                                       "'banner PROTO PORT IP TIME SERVICE TEXT'"))
            continue
        ip = _valid_ip(parts[3])
        if ip is None or not parts[2].isdigit():
            errors.append(RowError(name, number, None, f"bad port or address in {line[:60]!r}"))
            continue
        port = int(parts[2])
        if kind == "open":
            if parts[1] == "tcp":
                answers.append(Answer("tcp", ip, port=port, fields={"open": True,
                                                                    "via": "masscan"}))
        elif len(parts) >= 6:
            answers.extend(_banner_answers(ip, port, parts[5], parts[6] if len(parts) > 6 else ""))
    if errors:
        raise InputError.of(f"masscan file {name}", errors)
    return answers


def read_masscan(path: Path) -> list[HostReport]:
    text = open_text(path)
    name = str(path)
    first = text.lstrip()[:1]
    answers = _json(text, name) if first in ("[", "{") else _list(text, name)
    if not answers:
        raise InputError.of(f"masscan file {name}", [RowError(
            name, None, None, "no open ports or banners found (expected masscan -oJ, -oD or "
                              "-oL output)")])
    return group_by_host(answers)

"""MAC addresses of on-link hosts from the kernel's neighbour table.

Reading the table sends nothing: after the scanner has spoken to a host on the same link,
the kernel has resolved its MAC (ARP for IPv4, NDP for IPv6). IPv4 comes from `/proc/net/arp`
(columns: IP address, HW type, Flags, HW address, Mask, Device; flag 0x2 = complete), IPv6
from `ip -json neigh` (iproute2). Both are read in the scanner's own network namespace.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path

from camsweep.discover.model import normalise_mac

PROC_ARP = Path("/proc/net/arp")
ATF_COM = 0x2


def parse_proc_arp(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 6:
            continue
        try:
            flags = int(parts[2], 16)
        except ValueError:
            continue
        mac = normalise_mac(parts[3])
        if flags & ATF_COM and mac:
            out[parts[0]] = mac
    return out


def parse_ip_neigh_json(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        rows = json.loads(text or "[]")
    except ValueError:
        return out
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        state = row.get("state") or []
        mac = normalise_mac(str(row.get("lladdr") or ""))
        if mac and row.get("dst") and not {"FAILED", "INCOMPLETE"} & set(state):
            out[str(row["dst"])] = mac
    return out


def neighbour_table(include_v6: bool = False) -> dict[str, str]:
    """IP -> MAC for every resolved neighbour of this network namespace."""
    table: dict[str, str] = {}
    with contextlib.suppress(OSError):
        table.update(parse_proc_arp(PROC_ARP.read_text(encoding="ascii", errors="replace")))
    ip_cmd = shutil.which("ip")
    if include_v6 and ip_cmd:
        done = subprocess.run([ip_cmd, "-json", "-6", "neigh"], capture_output=True, text=True,
                              timeout=10, check=False)
        if done.returncode == 0:
            table.update(parse_ip_neigh_json(done.stdout))
    return table

"""What discovery produces: one `Answer` per probe reply, gathered into a `HostReport` per host.

Active probes and passive importers produce the same values, so one merge path turns them
into observations, evidence, verdicts and devices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from camsweep.store.bulk import utcnow

# Raw bytes kept per observation: enough to re-read a banner or a device-info document,
# small enough that a /16 sweep does not bloat the store.
RAW_CAP = 8192


def cap_text(value: str | bytes | None, limit: int = RAW_CAP) -> str | None:
    """Text for storage: bytes decoded leniently, then cut to `limit` characters."""
    if value is None:
        return None
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return text if len(text) <= limit else text[:limit] + f"...[{len(text) - limit} more]"


def printable(data: bytes, limit: int = 256) -> str:
    """Banners as escaped text that pastes straight into a KB example. Text keeps its line
    breaks; binary data (any other control byte) has every control byte escaped."""
    chunk = data[:limit]
    binary = any(b < 9 or 13 < b < 32 or b in {11, 12} or b >= 127 for b in chunk)
    out = []
    for byte in chunk:
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif 32 <= byte < 127 or (not binary and ch in "\r\n\t"):
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


@dataclass
class Answer:
    """One reply from one probe (or one record of a passive source): an observation row."""

    probe: str  # tcp | http | tls | rtsp | onvif | wsd | ssdp | upnp | snmp | mdns | neigh | ...
    ip: str | None
    fields: dict[str, Any]
    port: int | None = None
    raw: str | None = None
    mac: str | None = None
    observed_at: datetime = field(default_factory=utcnow)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.fields)
        if self.port is not None:
            data.setdefault("port", self.port)
        if self.raw:
            data["raw"] = cap_text(self.raw)
        return data


@dataclass
class HostReport:
    """Everything one host (or one passive record set about one host) said."""

    ip: str | None
    answers: list[Answer] = field(default_factory=list)
    mac: str | None = None
    error: str | None = None
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def open_ports(self) -> list[int]:
        return sorted({a.port for a in self.answers if a.probe == "tcp" and a.port is not None})

    @property
    def responded(self) -> bool:
        return bool(self.answers)

    def add(self, answer: Answer | None) -> None:
        if answer is not None:
            self.answers.append(answer)
            if answer.mac and not self.mac:
                self.mac = answer.mac


_HEX = frozenset("0123456789abcdef")


def normalise_mac(value: str | bytes | None) -> str | None:
    """Any separator or none, any case -> aa:bb:cc:dd:ee:ff (as registers are stored); else None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        if len(value) != 6:
            return None
        return ":".join(f"{b:02x}" for b in value)
    bare = "".join(ch for ch in value.lower() if ch not in ":-. ")
    if len(bare) != 12 or not set(bare) <= _HEX or bare == "000000000000":
        return None
    return ":".join(bare[i:i + 2] for i in range(0, 12, 2))

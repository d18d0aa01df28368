"""Device profiles of the testbed (`profiles.yaml`), rendered for one emulated host."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROFILES_FILE = Path(__file__).with_name("profiles.yaml")


@dataclass(frozen=True)
class Profile:
    id: str
    maker: str | None
    label: str
    data: dict[str, Any] = field(repr=False, hash=False, compare=False)

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.data.get("ports", ()))

    @property
    def udp(self) -> tuple[str, ...]:
        return tuple(str(s) for s in self.data.get("udp", ()))


@cache
def _load() -> tuple[dict[str, Any], tuple[Profile, ...]]:
    raw = yaml.safe_load(PROFILES_FILE.read_text(encoding="utf-8"))
    profiles = tuple(Profile(p["id"], p.get("maker"), p.get("label", p["id"]), p)
                     for p in raw["profiles"])
    return raw.get("common", {}), profiles


def common() -> dict[str, Any]:
    return _load()[0]


def all_profiles() -> tuple[Profile, ...]:
    return _load()[1]


def profile(profile_id: str) -> Profile:
    for p in all_profiles():
        if p.id == profile_id:
            return p
    known = ", ".join(p.id for p in all_profiles())
    raise KeyError(f"unknown testbed profile {profile_id!r}; known: {known}")


def host_mac(prof: Profile, n: int) -> str:
    oui = str(prof.data.get("oui", "02:00:00"))
    value = (n + 1) & 0xFFFFFF
    return f"{oui}:{value >> 16 & 0xFF:02x}:{value >> 8 & 0xFF:02x}:{value & 0xFF:02x}"


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(value: Any, values: dict[str, Any]) -> Any:
    """Fill `{placeholders}` in every string of a nested structure."""
    if isinstance(value, str):
        return value.format_map(_Values(values))
    if isinstance(value, list):
        return [render(v, values) for v in value]
    if isinstance(value, dict):
        return {k: render(v, values) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class HostSpec:
    """One emulated device: a profile rendered with its own address, MAC and serial."""

    ip: str
    n: int
    profile: Profile
    mac: str
    serial: str | None
    data: dict[str, Any] = field(repr=False, hash=False, compare=False)

    @property
    def maker(self) -> str | None:
        return self.profile.maker

    @property
    def model(self) -> str | None:
        value = self.data.get("model")
        return str(value) if value else None

    @property
    def firmware(self) -> str | None:
        value = self.data.get("firmware")
        return str(value) if value else None


def host_spec(prof: Profile, n: int, ip: str, mac: str | None = None) -> HostSpec:
    mac = mac or host_mac(prof, n)
    base: dict[str, Any] = {"ip": ip, "n": n, "mac": mac, "MAC": mac.upper(),
                            "macbare": mac.replace(":", "").upper(),
                            "model": prof.data.get("model") or ""}
    serial_template = prof.data.get("serial")
    serial = str(serial_template).format_map(_Values(base)) if serial_template else None
    base["serial"] = serial or ""
    data = render({k: v for k, v in prof.data.items() if k != "serial"}, base)
    return HostSpec(ip, n, prof, mac, serial, data)

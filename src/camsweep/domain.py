"""Plain typed values shared by every step (import, identify, assess, plan, ...).

Pure core functions take and return these; the store maps them to tables. Field
names follow the contracts in design.md because users and benchmarks read them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DeviceType(StrEnum):
    camera = "camera"
    nvr = "nvr"
    dvr = "dvr"
    encoder = "encoder"
    intercom = "intercom"
    access_control = "access_control"
    other = "other"


class Sensitivity(StrEnum):
    """Site classes from design.md; policies may add more (kept as plain strings)."""

    sensitive = "sensitive"
    standard = "standard"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Model):
    name: str


class Site(_Model):
    site_id: str
    name: str
    department: str
    region: str
    sensitivity: str = Sensitivity.standard.value
    postcode: str | None = None


class Device(_Model):
    """A device as recorded in a register or found by a scan."""

    asset_id: str | None = None
    site_id: str | None = None
    device_type: DeviceType | None = None
    brand: str | None = None
    model: str | None = None
    serial: str | None = None
    mac: str | None = None
    ip: str | None = None
    firmware: str | None = None
    install_date: date | None = None


DEVICE_FIELDS: tuple[str, ...] = tuple(
    n for n in Device.model_fields if n not in ("asset_id",)
)
SITE_FIELDS: tuple[str, ...] = tuple(Site.model_fields)


class Observation(_Model):
    """Raw evidence about a device: what a source said, and when."""

    source: str  # register | scan | nmap | masscan | pcap | dhcp | arp | dns | flows
    probe: str | None = None  # e.g. http, rtsp, onvif, snmp
    observed_at: datetime
    ip: str | None = None
    mac: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


# --- identification (batch contract in design.md) ---------------------------


class HttpEvidence(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True)
    status: int | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    title: str | None = None
    body: str | None = None
    path: str | None = None


class RtspEvidence(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True)
    headers: dict[str, str] = Field(default_factory=dict)


class OnvifEvidence(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True)
    Manufacturer: str | None = None
    Model: str | None = None
    FirmwareVersion: str | None = None
    SerialNumber: str | None = None
    HardwareId: str | None = None


class SnmpEvidence(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True)
    sysDescr: str | None = None
    sysObjectID: str | None = None


class UpnpEvidence(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True)
    manufacturer: str | None = None
    manufacturerURL: str | None = None
    modelName: str | None = None
    modelNumber: str | None = None
    modelDescription: str | None = None
    friendlyName: str | None = None


class TlsEvidence(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True)
    subject: str | None = None
    issuer: str | None = None


class Evidence(_Model):
    """Everything known about one device; every field optional."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    brand: str | None = None
    model: str | None = None
    firmware: str | None = None  # register column; vendors keep their version grammar on OEM units
    text: str | None = None
    mac: str | None = None
    ip: str | None = None
    open_ports: list[int] = Field(default_factory=list)
    http: HttpEvidence | None = None
    rtsp: RtspEvidence | None = None
    onvif: OnvifEvidence | None = None
    isapi_device_info: str | None = None
    dahua_system_info: str | None = None
    snmp: SnmpEvidence | None = None
    upnp: UpnpEvidence | None = None
    tls: TlsEvidence | None = None
    banner: str | None = None
    calls_home: list[str] = Field(default_factory=list)


class Claim(_Model):
    """One weighted statement an extractor drew from one piece of evidence."""

    signal: str
    value: str
    points_to: str | None
    weight: float
    source: str


class Verdict(_Model):
    """The fused answer for one device (output contract of `identify --jsonl`)."""

    manufacturer_id: str | None = None
    manufacturer: str | None = None
    brand: str | None = None
    oem_of: str | None = None
    device_type: str | None = None
    model: str | None = None
    firmware: str | None = None
    restricted: bool | None = None
    confidence: float = 0.0
    evidence: list[Claim] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    kb_version: str | None = None

"""What the evaluator knows about one device: plain values, no database rows.

`DeviceFacts` is the input of the pure evaluator (one device, with its site). A
`Profile` is the part of it that decisions depend on: devices with equal profiles get
the same statuses and finding templates, so a million devices cost one evaluation per
distinct profile. Identifiers, dates and the identification summary stay per device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from camsweep.policy.vulns import VulnKey


@dataclass(frozen=True, slots=True)
class ComponentFact:
    """One part in a hardware bill of materials, at `depth` below the device (1 = direct)."""

    name: str
    supplier: str | None
    maker: str | None  # KB slug when the supplier or manufacturer name resolves
    country: str | None
    depth: int
    path: str  # "device > board > SoC", for the reason chain


@dataclass(frozen=True, slots=True)
class ProductBom:
    key: str
    product: str
    manufacturer: str | None
    source: str
    components: tuple[ComponentFact, ...]


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    asset_id: str | None = None
    site_id: str | None = None
    department: str | None = None
    region: str | None = None
    sensitivity: str | None = None  # None: the device's site is unknown
    organisation_type: str | None = None
    device_type: str | None = None
    manufacturer_id: str | None = None
    oem_of: str | None = None
    restricted: bool | None = None
    confidence: float | None = None
    brand: str | None = None
    model: str | None = None
    firmware: str | None = None
    install_date: date | None = None
    recorded_date: date | None = None
    calls_home: bool | None = None
    on_core_network: bool | None = None
    internet_exposed: bool | None = None
    bom: str | None = None  # key of a ProductBom in the context
    evidence: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything a decision reads, reduced to what can differ between decisions."""

    manufacturer_id: str | None
    oem_of: str | None
    restricted: bool | None
    conf_bucket: int  # how many of the policies' confidence thresholds the device reaches
    device_type: str | None
    sensitivity: str | None
    organisation_type: str | None
    install_bucket: int | None  # how many install-date breakpoints are on or before install
    calls_home: bool | None
    on_core_network: bool | None
    internet_exposed: bool | None
    vulns: VulnKey
    bom: str | None
    waivers: tuple[str, ...]  # keys of id-selected exemptions/waivers naming this device

"""Typed shape of every knowledge-base file.

The YAML under `kb/data/` is edited by hand; these models are the contract it must
meet. They forbid unknown keys so a typo in a field name fails loudly instead of
silently dropping a fact, and every fact-bearing entry requires a `source`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from camsweep.domain import DeviceType

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

Slug = Annotated[str, Field(pattern=SLUG_RE.pattern, min_length=2, max_length=40)]
Source = Annotated[str, Field(min_length=8)]
Weight = Annotated[float, Field(ge=0.0, le=1.0)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]

RELATIONS = ("own_brand", "subsidiary", "white_label_oem", "former_subsidiary")
Relation = Literal["own_brand", "subsidiary", "white_label_oem", "former_subsidiary"]
Status = Literal["confirmed", "alleged"]
ListingName = Literal[
    "fcc_covered_list",
    "ndaa_889",
    "us_entity_list",
    "dod_1237",
    "dod_1260h",
    "us_eo_13959",
    "uk_sensitive_sites",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- manufacturers.yaml -------------------------------------------------------


class Listing(_Strict):
    """A public government list naming the company, with the date it took effect."""

    name: ListingName
    date: date
    note: str | None = None
    source: Source


class Control(_Strict):
    """Who controls the company: a parent, a controlling or state shareholder."""

    entity: Slug
    relation: Literal["parent", "controlling_shareholder", "state_shareholder"]
    share: Annotated[float, Field(gt=0.0, le=100.0)] | None = None
    state_owned: bool = False
    as_of: str | None = None
    source: Source


class Manufacturer(_Strict):
    """A company: a camera maker, a brand owner, or a parent that controls one."""

    slug: Slug
    name: str
    kind: Literal["maker", "brand_owner", "parent"] = "maker"
    legal_names: list[str] = Field(default_factory=list)
    native_names: list[str] = Field(default_factory=list)
    jurisdiction: Country
    jurisdiction_source: Source
    controlled_by: list[Control] = Field(default_factory=list)
    listings: list[Listing] = Field(default_factory=list)
    note: str | None = None


class ManufacturersFile(_Strict):
    manufacturers: list[Manufacturer]


# --- brands.yaml --------------------------------------------------------------


class BrandMaker(_Strict):
    """One maker behind a brand; `share` is the prior that a unit of the brand is theirs."""

    maker: Slug
    relation: Relation
    share: Weight
    status: Status = "confirmed"
    since: date | None = None
    until: date | None = None
    evidence: str
    source: Source


class Brand(_Strict):
    id: Slug
    name: str
    owner: Slug | None = None
    aliases: list[str] = Field(default_factory=list)
    lookalikes: list[str] = Field(default_factory=list)
    makers: list[BrandMaker] = Field(min_length=1)
    note: str | None = None

    @field_validator("makers")
    @classmethod
    def _shares_at_most_one(cls, makers: list[BrandMaker]) -> list[BrandMaker]:
        total = sum(m.share for m in makers)
        if total > 1.0001:
            raise ValueError(
                f"maker shares add up to {total:.2f}; they are priors and must be <= 1"
            )
        return makers


class BrandsFile(_Strict):
    lookalikes: list[str] = Field(default_factory=list)
    common_words: list[str] = Field(default_factory=list)
    brands: list[Brand]


# --- models.yaml --------------------------------------------------------------


class ModelExample(_Strict):
    value: str
    matches: bool = True
    model: str | None = None
    device_type: DeviceType | None = None
    series: str | None = None
    brand: str | None = None


class ModelRule(_Strict):
    """A model-number grammar for one maker or one OEM line that keeps its OEM's numbering."""

    id: str
    maker: Slug
    brand: Slug | None = None
    pattern: str
    description: str
    device_type: DeviceType | None = None
    device_types: dict[str, DeviceType] = Field(default_factory=dict)
    series: str | None = None
    weight: Weight
    requires_brand: list[Slug] = Field(default_factory=list)
    source: Source
    examples: list[ModelExample] = Field(min_length=1)
    counterexamples: list[str] = Field(default_factory=list)


class ModelsFile(_Strict):
    rules: list[ModelRule]


# --- fingerprints/*.yaml ------------------------------------------------------

FINGERPRINT_FIELDS = (
    "http_server",
    "http_title",
    "http_body",
    "http_path",
    "http_wwwauth",
    "http_header",
    "rtsp_server",
    "tls",
    "snmp_sysobjectid",
    "snmp_sysdescr",
    "upnp",
    "firmware",
    "banner",
    "calls_home",
)
FingerprintField = Literal[
    "http_server",
    "http_title",
    "http_body",
    "http_path",
    "http_wwwauth",
    "http_header",
    "rtsp_server",
    "tls",
    "snmp_sysobjectid",
    "snmp_sysdescr",
    "upnp",
    "firmware",
    "banner",
    "calls_home",
]
CAPTURES = ("model", "firmware", "version")


class FingerprintExample(_Strict):
    value: str
    maker: Slug | None = None
    device_type: DeviceType | None = None
    captures: dict[str, str] = Field(default_factory=dict)


class FingerprintRule(_Strict):
    id: str
    pattern: str
    description: str
    maker: Slug
    device_type: DeviceType | None = None
    weight: Weight
    extracts: list[Literal["model", "firmware", "version"]] = Field(default_factory=list)
    source: Source
    examples: list[FingerprintExample] = Field(min_length=1)
    counterexamples: list[str] = Field(default_factory=list)


class FingerprintFile(_Strict):
    field: FingerprintField
    description: str
    rules: list[FingerprintRule]


# --- ports.yaml ---------------------------------------------------------------


class PortExample(_Strict):
    open_ports: list[int]
    matches: bool


class PortRule(_Strict):
    """A set of ports that together are characteristic of one maker's protocol stack."""

    id: str
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(min_length=1)
    maker: Slug
    device_type: DeviceType | None = None
    weight: Weight
    description: str
    source: Source
    examples: list[PortExample] = Field(min_length=1)


class PortsFile(_Strict):
    rules: list[PortRule]


# --- OUI registry mapping -----------------------------------------------------


class RegistrantRule(_Strict):
    """Exact IEEE registrant names that belong to one brand (never substrings)."""

    brand: Slug
    names: list[str] = Field(min_length=1)
    source: Source


class OuiRegistrantsFile(_Strict):
    registrants: list[RegistrantRule]
    module_vendors: list[str] = Field(default_factory=list)
    module_vendors_source: Source


class OuiAddition(_Strict):
    """A block newer than netaddr's bundled registry snapshot, or a hard negative."""

    prefix: Annotated[str, Field(pattern=r"^[0-9A-F]{6}(?:[0-9A-F]|[0-9A-F]{3})?$")]
    registrant: str
    country: Country
    brand: Slug | None = None
    source: Source


class OuiAdditionsFile(_Strict):
    additions: list[OuiAddition]


# --- manifest.yaml ------------------------------------------------------------


class DataSource(_Strict):
    """A bundled list: where it came from and how many entries it must at least have."""

    file: str
    source: Source
    retrieved: date | None = None
    min_count: int = Field(ge=1)


class Manifest(_Strict):
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    datasets: dict[str, DataSource]

"""What extractors produce and fusion consumes.

A `Finding` is a `Claim` plus what the claim implies beyond the maker (brand as sold,
device type, model, firmware) and which evidence family it belongs to. Families exist
because claims inside one family are not independent: a register that says "Hikvision"
in both the brand and the description column has said it once, not twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from camsweep.domain import Claim
from camsweep.kb import KnowledgeBase

LABEL = "label"  # what a person or a device's self-description calls it
MODEL = "model"  # model-number grammar
OUI = "oui"  # IEEE registrant of the MAC
PROTOCOL = "protocol"  # protocol surface, headers, certificates, SNMP trees
PORTS = "ports"
FIRMWARE = "firmware"
CLOUD = "cloud"  # vendor cloud / P2P endpoints contacted
INFO = "info"  # recorded for the reader, carries no weight


@dataclass(frozen=True)
class Finding:
    signal: str
    family: str
    value: str
    maker: str | None
    weight: float
    source: str
    brand: str | None = None
    device_type: str | None = None
    model: str | None = None
    firmware: str | None = None

    def claim(self) -> Claim:
        # Built from checked values only, so pydantic validation is skipped (hot path).
        return Claim.model_construct(
            signal=self.signal,
            value=self.value,
            points_to=self.maker,
            weight=round(self.weight, 3),
            source=self.source,
        )


@dataclass
class Observations:
    """Texts gathered from every evidence field before label and model matching run."""

    kb: KnowledgeBase
    findings: list[Finding] = field(default_factory=list)
    labels: list[tuple[str, str]] = field(default_factory=list)  # (signal, text)
    models: list[tuple[str, str]] = field(default_factory=list)  # (field, text)
    firmware: list[tuple[str, str]] = field(default_factory=list)  # (field, text)
    raw_models: list[str] = field(
        default_factory=list
    )  # model strings as the device/register gave them

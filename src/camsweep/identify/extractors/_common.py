"""Helpers every extractor shares: turning fingerprint hits into findings."""

from __future__ import annotations

from camsweep.identify import findings as fam
from camsweep.identify.findings import Finding, Observations
from camsweep.identify.fusion import FUSION
from camsweep.kb.match import fingerprint_hits

MAX_VALUE = 160


def short(value: str) -> str:
    """Claims quote evidence; a whole HTML body would drown the evidence trail."""
    value = " ".join(value.split())
    return value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…"


def fingerprint(
    obs: Observations,
    field: str,
    value: str,
    *,
    signal: str | None = None,
    family: str = fam.PROTOCOL,
    feature: str = "fingerprint",
) -> None:
    """Run one fingerprint file over one value and record every rule that fires."""
    for hit in fingerprint_hits(obs.kb, field, value):
        captures = dict(hit.captures)
        rule = hit.rule
        obs.findings.append(
            Finding(
                signal=signal or field,
                family=family,
                value=short(value),
                maker=rule.maker,
                weight=FUSION.weight(feature) * rule.weight,
                source=f"fingerprints/{field}.yaml:{rule.id} ({rule.source})",
                device_type=rule.device_type.value if rule.device_type else None,
                model=captures.get("model"),
                firmware=short(value) if family == fam.FIRMWARE else None,
            )
        )


def header(headers: dict[str, str], name: str) -> str | None:
    """Header lookup that ignores case, as HTTP and RTSP do."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None

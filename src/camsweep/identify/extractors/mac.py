"""MAC address: the IEEE registrant of its prefix, mapped to a brand by exact name."""

from __future__ import annotations

from functools import lru_cache

from camsweep.domain import Evidence
from camsweep.identify import findings as fam
from camsweep.identify.findings import Finding, Observations
from camsweep.identify.fusion import FUSION
from camsweep.kb import KnowledgeBase
from camsweep.kb.match import oui_key, oui_lookup
from camsweep.kb.model import DERIVED_PREFIX
from camsweep.kb.normalise import clean

_LOCAL_BIT = 0x02


def _pretty(prefix: str) -> str:
    pairs = [prefix[i : i + 2] for i in range(0, len(prefix), 2)]
    return ":".join(pairs)


@lru_cache(maxsize=65536)
def oui_findings(kb: KnowledgeBase, key: str) -> tuple[Finding, ...]:
    """Findings for one OUI key (see `camsweep.kb.match.oui_key`)."""
    if int(key[:2], 16) & _LOCAL_BIT:
        return (
            Finding(
                "oui",
                fam.INFO,
                _pretty(key[:6]),
                None,
                0.0,
                "locally administered (randomised) MAC: no registrant",
            ),
        )
    entry = oui_lookup(kb, key)
    if entry is None:
        return (
            Finding(
                "oui",
                fam.INFO,
                _pretty(key[:6]),
                None,
                0.0,
                "prefix not in the IEEE registry snapshot",
            ),
        )
    where = f"IEEE {entry.prefix} '{entry.registrant}' {entry.country}".rstrip()
    pretty = _pretty(entry.prefix)
    if entry.brand:
        return tuple(
            Finding(
                "oui",
                fam.OUI,
                pretty,
                maker.maker,
                FUSION.weight("oui") * maker.share,
                f"{where} -> brand {entry.brand} -> {maker.maker} ({maker.relation})",
                brand=entry.brand,
            )
            for maker in kb.brands[entry.brand].makers
        )
    if entry.module:
        return (
            Finding(
                "oui",
                fam.INFO,
                pretty,
                None,
                0.0,
                f"{where}: network-module vendor, says nothing about the device maker",
            ),
        )
    if entry.key:
        return (
            Finding(
                "oui",
                fam.OUI,
                pretty,
                DERIVED_PREFIX + entry.key,
                FUSION.weight("oui_derived"),
                f"{where} (uncurated registrant; jurisdiction derived from the registry)",
            ),
        )
    return (
        Finding("oui", fam.INFO, pretty, None, 0.0, f"{where}: registrant without a usable name"),
    )


def oui_class(kb: KnowledgeBase, key: str) -> tuple[object, ...]:
    """What verdicts can depend on besides quoted values: equal classes, equal decisions."""
    return tuple((f.family, f.maker, f.weight, f.brand) for f in oui_findings(kb, key))


def extract(ev: Evidence, obs: Observations) -> None:
    value = clean(ev.mac)
    if not value:
        return
    key = oui_key(obs.kb, value)
    if key is not None:
        obs.findings.extend(oui_findings(obs.kb, key))

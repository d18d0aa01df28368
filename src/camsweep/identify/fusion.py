"""Fusion: weighted findings in, one verdict out.

Algorithm `camsweep-fuse/1`:

1. Each finding's weight is `feature weight x rule weight x relation share`; the
   feature weights are declared in `FUSION` below, so a change of weights is a diff.
2. Per candidate maker, findings of one family count once (the strongest), because
   they restate each other; families then combine by noisy-OR:
   `score = 1 - prod(1 - best_in_family)`.
3. The best maker wins if its score reaches `threshold`, beats the runner-up by
   `min_margin`, and its confidence (step 4) still reaches `threshold`. A runner-up
   that only a label (or an OUI registered to a brand) supports, where that brand is
   known to carry the winner's hardware, is *explained* (white label), not a conflict.
4. `confidence = score x (1 - conflict_penalty x unexplained runner-up score)`.
5. Otherwise the verdict abstains on the maker. It still says `restricted: true`
   (or `false`) when every candidate with weight is (or is not) subject to the PRC
   NIL and together they reach the threshold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from camsweep.domain import Claim, Verdict
from camsweep.identify import findings as fam
from camsweep.identify.findings import Finding
from camsweep.kb import KnowledgeBase

_FEATURES: dict[str, float] = {
    # labels: what the register or the device calls itself
    "brand": 0.90,
    "brand_in_model": 0.85,
    "onvif_manufacturer": 0.85,
    "upnp_manufacturer": 0.85,
    "isapi_manufacturer": 0.85,
    "text": 0.80,
    "upnp_description": 0.70,
    "snmp_text": 0.60,
    "brand_registry": 0.50,  # brand equals an uncurated IEEE registrant's short name
    # technical evidence
    "model": 1.00,
    "oui": 0.85,
    "oui_derived": 0.40,
    "isapi_device_info": 0.97,
    "dahua_system_info": 0.95,
    "fingerprint": 1.00,
    "ports": 1.00,
    "firmware": 1.00,
    "calls_home": 1.00,
}
_MODIFIERS: dict[str, float] = {
    "fuzzy": 0.85,  # brand matched within a bounded edit distance
    "common_word": 0.5,  # brand alias that is also an everyday word, seen in free text
}


@dataclass(frozen=True)
class FusionModel:
    name: str
    version: str
    features: Mapping[str, float]
    modifiers: Mapping[str, float]
    threshold: float = 0.5
    min_margin: float = 0.15
    conflict_penalty: float = 0.7
    conflict_floor: float = 0.2

    @property
    def id(self) -> str:
        return f"{self.name}/{self.version}"

    def weight(self, feature: str) -> float:
        return self.features[feature]


FUSION = FusionModel(
    name="camsweep-fuse",
    version="1",
    features=MappingProxyType(_FEATURES),
    modifiers=MappingProxyType(_MODIFIERS),
)

_EXPLAINABLE = frozenset({fam.LABEL, fam.OUI})


@dataclass
class _Candidate:
    maker: str
    families: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        if finding.weight > self.families.get(finding.family, 0.0):
            self.families[finding.family] = finding.weight

    @property
    def score(self) -> float:
        remaining = 1.0
        for weight in self.families.values():
            remaining *= 1.0 - weight
        return min(1.0 - remaining, 0.999)


def _candidates(findings: Iterable[Finding]) -> list[_Candidate]:
    table: dict[str, _Candidate] = {}
    for finding in findings:
        if finding.maker is None or finding.weight <= 0.0 or finding.family == fam.INFO:
            continue
        table.setdefault(finding.maker, _Candidate(finding.maker)).add(finding)
    return sorted(table.values(), key=lambda c: (-c.score, c.maker))


def _explained(kb: KnowledgeBase, loser: _Candidate, winner: str) -> str | None:
    """Why a label-only runner-up is no contradiction: its brand resells the winner."""
    if any(f.family not in _EXPLAINABLE for f in loser.findings):
        return None
    for finding in loser.findings:
        if finding.brand is None:
            return None
        relation = kb.brand_owner_makes(finding.brand, winner)
        if relation is None:
            return None
    brand = loser.findings[0].brand
    assert brand is not None
    relation = kb.brand_owner_makes(brand, winner)
    return f"'{kb.brands[brand].name}' is a brand known to carry {winner} hardware ({relation})"


def _brand_as_sold(findings: list[Finding], winner: str | None) -> str | None:
    labels = [f for f in findings if f.family == fam.LABEL and f.brand]
    if labels:
        strongest = max(labels, key=lambda f: (FUSION.features.get(f.signal, 0.0), f.weight))
        return strongest.brand
    for finding in findings:
        if finding.family == fam.MODEL and finding.brand and finding.maker == winner:
            return finding.brand
    for finding in findings:
        if finding.family == fam.OUI and finding.brand and finding.brand != winner:
            return finding.brand
    return None


_PICKED = ("device_type", "model", "firmware")


def _picks(findings: list[Finding], winner: str | None) -> list[str | None]:
    """Device type, model and firmware as stated by the winner's findings: model grammar
    first, then the strongest, then the longest value (one pass over the findings)."""
    best: list[tuple[bool, bool, float, int] | None] = [None, None, None]
    values: list[str | None] = [None, None, None]
    for f in findings:
        for i, candidate in enumerate((f.device_type, f.model, f.firmware)):
            if not candidate:
                continue
            rank = (f.maker != winner, f.family != fam.MODEL, -f.weight, -len(candidate))
            current = best[i]
            if current is None or rank < current:
                best[i], values[i] = rank, candidate
    return values


def ordered(findings: list[Finding]) -> list[Finding]:
    """Evidence trail order: strongest first; one entry per (signal, value, maker)."""
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for finding in sorted(findings, key=lambda f: (-f.weight, f.signal, f.value)):
        key = (finding.signal, finding.value, finding.maker)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


@lru_cache(maxsize=262144)
def _claim(finding: Finding) -> Claim:
    return finding.claim()


@dataclass(frozen=True)
class Decision:
    """What the findings decide, whatever values they quote (cached per signature)."""

    maker: str | None
    manufacturer: str | None
    brand: str | None
    oem_of: str | None
    restricted: bool | None
    confidence: float
    conflicts: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    device_type: str | None
    model: str | None
    firmware: str | None
    trail: tuple[Finding, ...]


def _decide(findings: list[Finding], kb: KnowledgeBase) -> Decision:
    model = FUSION
    ranked = _candidates(findings)
    conflicts: list[str] = []
    winner: _Candidate | None = None
    unexplained = 0.0
    if ranked and ranked[0].score >= model.threshold:
        top = ranked[0]
        rivals = []
        for other in ranked[1:]:
            reason = _explained(kb, other, top.maker)
            signals = ", ".join(sorted({f.signal for f in other.findings}))
            if reason is not None:
                if other.score >= model.conflict_floor:
                    conflicts.append(
                        f"{signals} -> {other.maker} ({other.score:.2f}), but {reason}: "
                        f"likely white-label {top.maker}"
                    )
                continue
            rivals.append(other)
            if other.score >= model.conflict_floor:
                conflicts.append(
                    f"{signals} -> {other.maker} ({other.score:.2f}) disagrees with "
                    f"{top.maker} ({top.score:.2f})"
                )
        unexplained = rivals[0].score if rivals else 0.0
        confident = top.score * (1.0 - model.conflict_penalty * unexplained) >= model.threshold
        if top.score - unexplained >= model.min_margin and confident:
            winner = top
        else:
            rival = rivals[0].maker if rivals else "-"
            conflicts.append(
                f"ambiguous: {top.maker} ({top.score:.2f}) vs {rival} ({unexplained:.2f}); "
                "more evidence needed"
            )

    brand_id = _brand_as_sold(findings, winner.maker if winner else None)
    brand_name = kb.brands[brand_id].name if brand_id and brand_id in kb.brands else None
    if winner is not None:
        info = kb.maker(winner.maker)
        oem_of = None
        if brand_id is not None:
            owner = kb.brands[brand_id].owner or brand_id
            relation = kb.brand_owner_makes(brand_id, winner.maker)
            if owner != winner.maker and relation not in ("own_brand", "subsidiary"):
                oem_of = winner.maker
                if relation is None:
                    conflicts.append(
                        f"label '{brand_name}' has no recorded OEM relation with {winner.maker}"
                    )
        return Decision(
            maker=winner.maker,
            manufacturer=info.name if info else winner.maker,
            brand=brand_name,
            oem_of=oem_of,
            restricted=info.subject_to_prc_nil if info else None,
            confidence=round(winner.score * (1.0 - model.conflict_penalty * unexplained), 3),
            conflicts=tuple(conflicts),
        )

    restricted: bool | None = None
    confidence = 0.0
    weighty = [c for c in ranked if c.score >= model.conflict_floor]
    if weighty:
        infos = [kb.maker(c.maker) for c in weighty]
        mass = 1.0
        for c in weighty:
            mass *= 1.0 - c.score
        if (
            all(i is not None and i.subject_to_prc_nil for i in infos)
            and 1.0 - mass >= model.threshold
        ):
            restricted = True
            confidence = round(min(1.0 - mass, 0.999) * (1.0 - model.conflict_penalty * 0.5), 3)
            conflicts.append(
                "maker undetermined, but every candidate ("
                + ", ".join(c.maker for c in weighty)
                + ") is subject to the PRC NIL"
            )
        elif (
            all(i is not None and i.subject_to_prc_nil is False for i in infos)
            and 1.0 - mass >= model.threshold
        ):
            restricted = False
            confidence = round(min(1.0 - mass, 0.999) * (1.0 - model.conflict_penalty * 0.5), 3)
            conflicts.append(
                "maker undetermined, but no candidate ("
                + ", ".join(c.maker for c in weighty)
                + ") is subject to the PRC NIL"
            )
        elif not conflicts:
            conflicts.append(
                "evidence too thin: " + ", ".join(f"{c.maker} ({c.score:.2f})" for c in weighty)
            )
    return Decision(None, None, brand_name, None, restricted, confidence, tuple(conflicts))


Signature = tuple[tuple[str, str, str | None, float, str | None], ...]


@lru_cache(maxsize=131072)
def _decide_cached(signature: Signature, kb: KnowledgeBase) -> Decision:
    return _decide(
        [Finding(sig, fam_, "", maker, w, "", brand) for sig, fam_, maker, w, brand in signature],
        kb,
    )


def decide(findings: list[Finding], kb: KnowledgeBase, raw_model: str | None = None) -> Outcome:
    """Decision (cached on the findings with quoted values left out) plus the quoted values."""
    signature = tuple((f.signal, f.family, f.maker, f.weight, f.brand) for f in findings)
    decision = _decide_cached(signature, kb)
    device_type, model, firmware = _picks(findings, decision.maker)
    return Outcome(
        decision=decision,
        device_type=device_type,
        model=model or raw_model,
        firmware=firmware,
        trail=tuple(ordered(findings)),
    )


def to_verdict(outcome: Outcome, kb: KnowledgeBase) -> Verdict:
    d = outcome.decision
    # Every field is built from checked values, so validation is skipped (hot path).
    return Verdict.model_construct(
        manufacturer_id=d.maker,
        manufacturer=d.manufacturer,
        brand=d.brand,
        oem_of=d.oem_of,
        device_type=outcome.device_type,
        model=outcome.model,
        firmware=outcome.firmware,
        restricted=d.restricted,
        confidence=d.confidence,
        evidence=[_claim(f) for f in outcome.trail],
        conflicts=list(d.conflicts),
        kb_version=kb.version,
    )


def fuse(findings: list[Finding], kb: KnowledgeBase, raw_model: str | None = None) -> Verdict:
    return to_verdict(decide(findings, kb, raw_model), kb)


def candidate_scores(findings: list[Finding]) -> dict[str, float]:
    """Scores per candidate maker, for explanations and tests."""
    out: dict[str, float] = defaultdict(float)
    for candidate in _candidates(findings):
        out[candidate.maker] = round(candidate.score, 3)
    return dict(out)

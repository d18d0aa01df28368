"""The per-record engine: evidence in, verdict out, KB passed in, nothing else touched.

Extractors gather texts and direct findings; then three passes apply the KB to the
gathered texts: brand mentions (labels), model grammars (which may need a brand named
first, e.g. Lorex "E891AB"), and firmware grammars. Fusion makes the verdict.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

from camsweep.domain import Evidence, Verdict
from camsweep.identify import findings as fam
from camsweep.identify.extractors import EXTRACTORS
from camsweep.identify.extractors._common import fingerprint, short
from camsweep.identify.extractors.mac import oui_findings
from camsweep.identify.findings import Finding, Observations
from camsweep.identify.fusion import FUSION, fuse
from camsweep.kb import KnowledgeBase
from camsweep.kb.match import BrandMention, brand_mentions, model_hits, oui_key
from camsweep.kb.model import DERIVED_PREFIX
from camsweep.kb.normalise import clean, model_form, registrant_key

# Label signals whose text is free-form: everyday words there are weaker evidence.
FREE_TEXT = frozenset({"text", "upnp_description", "brand_in_model"})


def _mention_factor(kb: KnowledgeBase, signal: str, mention: BrandMention) -> float:
    factor = FUSION.modifiers["fuzzy"] if mention.how == "fuzzy" else 1.0
    # A mention's surface is already folded: removing spaces gives its squashed form.
    if signal in FREE_TEXT and mention.surface.replace(" ", "") in kb.common_words:
        factor *= FUSION.modifiers["common_word"]
    return factor


@lru_cache(maxsize=65536)
def label_findings(kb: KnowledgeBase, signal: str, text: str) -> tuple[Finding, ...]:
    """Findings from brand names in one label text (cached: registers repeat spellings)."""
    out: list[Finding] = []
    mentions = brand_mentions(kb, text)
    if not mentions and signal == "brand":
        key = registrant_key(text)
        entry = kb.registrant_keys.get(key) if key else None
        if entry is not None:
            out.append(
                Finding(
                    "brand",
                    fam.LABEL,
                    short(text),
                    DERIVED_PREFIX + key,
                    FUSION.weight("brand_registry"),
                    f"IEEE registrant '{entry.registrant}' {entry.country} (uncurated; derived)",
                )
            )
    for mention in mentions:
        factor = _mention_factor(kb, signal, mention)
        brand = kb.brands[mention.brand]
        for maker in brand.makers:
            out.append(
                Finding(
                    signal,
                    fam.LABEL,
                    short(text),
                    maker.maker,
                    FUSION.weight(signal) * maker.share * factor,
                    f"brands.yaml:{brand.id} '{mention.surface}' ({mention.how}) -> {maker.maker} "
                    f"{maker.relation}, {maker.status} ({maker.source})",
                    brand=brand.id,
                )
            )
    return tuple(out)


@lru_cache(maxsize=65536)
def model_findings(
    kb: KnowledgeBase, field: str, text: str, named: frozenset[str]
) -> tuple[Finding, ...]:
    """Findings from model grammars in one text, given the brands already named."""
    out = []
    for hit in model_hits(kb, text):
        rule = hit.rule
        if rule.requires_brand and not named.intersection(rule.requires_brand):
            continue
        out.append(
            Finding(
                "model",
                fam.MODEL,
                hit.model,
                rule.maker,
                FUSION.weight("model") * rule.weight,
                f"models.yaml:{rule.id} via {field} ({rule.source})",
                brand=rule.brand,
                device_type=hit.device_type,
                model=hit.model,
            )
        )
    return tuple(out)


@lru_cache(maxsize=16384)
def firmware_findings(kb: KnowledgeBase, field: str, text: str) -> tuple[Finding, ...]:
    obs = Observations(kb)
    fingerprint(
        obs,
        "firmware",
        text,
        signal="firmware" if field == "firmware" else f"firmware:{field}",
        family=fam.FIRMWARE,
        feature="firmware",
    )
    if not obs.findings:
        obs.findings.append(
            Finding(
                "firmware",
                fam.INFO,
                short(text),
                None,
                0.0,
                "no firmware grammar matched",
                firmware=short(text),
            )
        )
    return tuple(obs.findings)


def _labels(obs: Observations) -> None:
    for signal, text in obs.labels:
        obs.findings.extend(label_findings(obs.kb, signal, text))


def _models(obs: Observations) -> None:
    named = frozenset(f.brand for f in obs.findings if f.brand and f.family in (fam.LABEL, fam.OUI))
    for field, text in obs.models:
        obs.findings.extend(model_findings(obs.kb, field, text, named))


def _firmware(obs: Observations) -> None:
    for field, text in obs.firmware:
        obs.findings.extend(firmware_findings(obs.kb, field, text))


def findings_for(evidence: Evidence, kb: KnowledgeBase) -> tuple[list[Finding], str | None]:
    """All findings for one record, and the model string as first reported."""
    obs = Observations(kb)
    for extract in EXTRACTORS:
        extract(evidence, obs)
    _labels(obs)
    _models(obs)
    _firmware(obs)
    raw_model = model_form(obs.raw_models[0]) if obs.raw_models else None
    return obs.findings, raw_model


def register_findings(
    kb: KnowledgeBase,
    brand: str | None,
    model: str | None,
    text: str | None,
    firmware: str | None,
    mac: str | None,
) -> tuple[list[Finding], str | None]:
    """`findings_for` for evidence that has only register columns, without the generic
    extractor pass (the bulk path's hot loop); same findings, same order."""
    brand, model, text, firmware = clean(brand), clean(model), clean(text), clean(firmware)
    found: list[Finding] = []
    if mac:
        key = oui_key(kb, mac)
        if key is not None:
            found.extend(oui_findings(kb, key))
    if brand:
        found.extend(label_findings(kb, "brand", brand))
    if model:
        found.extend(label_findings(kb, "brand_in_model", model))
    if text:
        found.extend(label_findings(kb, "text", text))
    named = frozenset(f.brand for f in found if f.brand and f.family in (fam.LABEL, fam.OUI))
    for field, value in (("brand", brand), ("model", model), ("text", text)):
        if value:
            found.extend(model_findings(kb, field, value, named))
    if firmware:
        found.extend(firmware_findings(kb, "firmware", firmware))
    return found, model_form(model) if model else None


def identify(evidence: Evidence, kb: KnowledgeBase) -> Verdict:
    """The true maker of one device, whether it is restricted, and why."""
    found, raw_model = findings_for(evidence, kb)
    return fuse(found, kb, raw_model)


def evidence_key(evidence: Evidence, kb: KnowledgeBase) -> str:
    """What the engine reads of a record: the IP is never read, and of the MAC only the
    registry prefix, so records differing only there share one verdict."""
    data = evidence.model_dump(mode="json", exclude={"ip"}, exclude_defaults=True)
    if evidence.mac is not None:
        data["mac"] = oui_key(kb, evidence.mac)
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def identify_many(evidences: Iterable[Evidence], kb: KnowledgeBase) -> list[Verdict]:
    """Verdicts in input order; evidence that reads the same is identified once."""
    cache: dict[str, Verdict] = {}
    out = []
    for evidence in evidences:
        key = evidence_key(evidence, kb)
        verdict = cache.get(key)
        if verdict is None:
            verdict = identify(evidence, kb)
            cache[key] = verdict
        out.append(verdict)
    return out

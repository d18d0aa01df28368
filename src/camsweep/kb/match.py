"""How KB entries apply to a value: brand mentions, model grammars, fingerprints, ports, OUIs.

These live next to the data (not in the engine) so `kb validate` runs every example
through exactly the code that identification uses. Results are cached per KB object
and per distinct input string: registers repeat the same brand and model spellings
hundreds of thousands of times.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from camsweep.kb.model import CompiledFingerprint, KnowledgeBase, OuiEntry
from camsweep.kb.normalise import fold, mac_hex, model_form
from camsweep.kb.schema import FingerprintRule, ModelRule, PortRule

MAX_NGRAM = 8
MIN_FUZZY_LEN = 5


@dataclass(frozen=True)
class BrandMention:
    brand: str
    surface: str
    how: str  # exact | native | fuzzy
    distance: int = 0


@dataclass(frozen=True)
class ModelHit:
    rule: ModelRule
    model: str
    device_type: str | None
    series: str | None
    span: tuple[int, int]


@dataclass(frozen=True)
class FingerprintHit:
    rule: FingerprintRule
    field: str
    captures: tuple[tuple[str, str], ...]


def _fuzzy_cutoff(length: int) -> int:
    return 1 if length < 8 else 2


def _fuzzy(kb: KnowledgeBase, token: str) -> tuple[str, int] | None:
    """Closest alias within a small OSA distance, same first letter, never a look-alike word."""
    if len(token) < MIN_FUZZY_LEN or not token.isalpha() or token in kb.lookalike_words:
        return None
    cutoff = _fuzzy_cutoff(len(token))
    best: tuple[str, int] | None = None
    for alias in kb.fuzzy_aliases.get(token[0], ()):
        if abs(len(alias) - len(token)) > cutoff:
            continue
        distance = OSA.distance(token, alias, score_cutoff=cutoff)
        if distance <= min(cutoff, _fuzzy_cutoff(len(alias))) and (
            best is None or distance < best[1]
        ):
            best = (alias, distance)
    return best


@lru_cache(maxsize=262144)
def brand_mentions(kb: KnowledgeBase, text: str) -> tuple[BrandMention, ...]:
    """Brands named in `text`: native script, exact folded n-grams, then bounded misspellings."""
    raw = unicodedata.normalize("NFKC", text)
    mentions: list[BrandMention] = []
    if not raw.isascii():
        for phrase in kb.lookalike_phrases:
            if not phrase.isascii():
                raw = raw.replace(phrase, " ")
        for alias, brand in kb.cjk_aliases:
            if alias in raw:
                mentions.append(BrandMention(brand, alias, "native"))
                raw = raw.replace(alias, " ")
    folded = f" {fold(raw)} "
    for phrase in kb.lookalike_phrases:
        if phrase.isascii() and phrase in folded:
            folded = folded.replace(f" {phrase} ", "  ")
    tokens = folded.split()
    used = [False] * len(tokens)
    # Greedy longest match walking a prefix set, so "hik vision" meets alias "hikvision".
    for i in range(len(tokens)):
        if used[i]:
            continue
        key = ""
        best: tuple[int, str] | None = None
        for j in range(i, min(len(tokens), i + MAX_NGRAM)):
            key += tokens[j]
            if key not in kb.alias_prefixes:
                break
            found = kb.alias_index.get(key)
            if found is not None and not (j == i and key in kb.lookalike_words):
                best = (j, found)
        if best is not None:
            end, brand = best
            mentions.append(BrandMention(brand, " ".join(tokens[i : end + 1]), "exact"))
            for k in range(i, end + 1):
                used[k] = True
    for n in (2, 1):
        for i in range(len(tokens) - n + 1):
            if any(used[i : i + n]):
                continue
            candidate = "".join(tokens[i : i + n])
            if len(candidate) < MIN_FUZZY_LEN or not candidate.isalpha():
                continue
            hit = _fuzzy(kb, candidate)
            if hit is not None:
                alias, distance = hit
                mentions.append(
                    BrandMention(
                        kb.alias_index[alias], " ".join(tokens[i : i + n]), "fuzzy", distance
                    )
                )
                for j in range(i, i + n):
                    used[j] = True
    return tuple(mentions)


@lru_cache(maxsize=262144)
def model_hits(kb: KnowledgeBase, text: str) -> tuple[ModelHit, ...]:
    """Every model grammar that matches somewhere in `text` (callers apply requires_brand)."""
    form = model_form(text)
    hits = []
    candidates = set(kb.unfiltered_rules)
    for literal, indexes in kb.rules_by_literal.items():
        if literal in form:
            candidates.update(indexes)
    for index in sorted(candidates):
        compiled = kb.model_rules[index]
        match = compiled.regex.search(form)
        if match is None:
            continue
        rule = compiled.rule
        groups = match.groupdict()
        kind = groups.get("kind")
        device_type = rule.device_types.get(kind, None) if kind else None
        device_type = device_type or rule.device_type
        hits.append(
            ModelHit(
                rule=rule,
                model=match.group(0),
                device_type=device_type.value if device_type else None,
                series=groups.get("series") or rule.series,
                span=match.span(),
            )
        )
    return tuple(hits)


def _apply(rule: CompiledFingerprint, value: str) -> FingerprintHit | None:
    match = rule.regex.search(value)
    if match is None:
        return None
    captures = tuple(sorted((k, v) for k, v in match.groupdict().items() if v is not None))
    return FingerprintHit(rule=rule.rule, field=rule.field, captures=captures)


@lru_cache(maxsize=131072)
def fingerprint_hits(kb: KnowledgeBase, field: str, value: str) -> tuple[FingerprintHit, ...]:
    hits = (_apply(rule, value) for rule in kb.fingerprints.get(field, ()))
    return tuple(h for h in hits if h is not None)


@lru_cache(maxsize=4096)
def port_hits(kb: KnowledgeBase, ports: frozenset[int]) -> tuple[PortRule, ...]:
    return tuple(rule for rule in kb.port_rules if set(rule.ports) <= ports)


def oui_key(kb: KnowledgeBase, mac: str) -> str | None:
    """The longest assigned prefix a MAC could fall under: what the OUI lookup depends on."""
    digits = mac_hex(mac)
    if len(digits) < 6:
        return None
    return digits[:9] if digits[:6] in kb.oui_split else digits[:6]


@lru_cache(maxsize=65536)
def oui_lookup(kb: KnowledgeBase, key: str) -> OuiEntry | None:
    """Registry entry for a key from `oui_key` (MA-S/IAB, then MA-M, then MA-L)."""
    for length in (9, 7, 6):
        if len(key) >= length:
            entry = kb.oui.get(key[:length])
            if entry is not None:
                return entry
    return None


def clear_caches() -> None:
    for cached in (brand_mentions, model_hits, fingerprint_hits, port_hits, oui_lookup):
        cached.cache_clear()

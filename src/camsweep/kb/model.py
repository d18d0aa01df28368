"""The loaded knowledge base: references resolved, patterns compiled, indexes built.

Everything the engine asks of the KB is a dictionary lookup or a compiled regex here,
so identification never re-reads YAML and never resolves a slug twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from camsweep.kb.oui import OuiRow
from camsweep.kb.schema import (
    Brand,
    FingerprintRule,
    Manufacturer,
    ModelRule,
    PortRule,
)

OuiEntry = OuiRow  # one registry assignment, as loaded

DERIVED_PREFIX = "ieee-"
# NIL applies to PRC entities; Hong Kong and Macau registrants are left undetermined.
UNDETERMINED_JURISDICTIONS = frozenset({"HK", "MO"})


@dataclass(frozen=True)
class CompiledModelRule:
    rule: ModelRule
    regex: re.Pattern[str]
    literals: tuple[str, ...] = ()  # every match contains one of these: a cheap pre-test


@dataclass(frozen=True)
class CompiledFingerprint:
    field: str
    rule: FingerprintRule
    regex: re.Pattern[str]


@dataclass(frozen=True)
class MakerInfo:
    """What a verdict needs to know about a maker, curated or derived from the registry."""

    slug: str
    name: str
    jurisdiction: str
    derived: bool
    subject_to_prc_nil: bool | None
    nil_reason: str


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """Hashed by identity, so engine caches can key on the KB object itself."""

    version: str
    manufacturers: dict[str, Manufacturer]
    makers: dict[str, MakerInfo]
    brands: dict[str, Brand]
    model_rules: tuple[CompiledModelRule, ...]
    model_literals: frozenset[str]
    rules_by_literal: dict[str, tuple[int, ...]]  # literal -> indexes of rules needing it
    unfiltered_rules: tuple[int, ...]  # rules without a literal: always tried
    fingerprints: dict[str, tuple[CompiledFingerprint, ...]]
    port_rules: tuple[PortRule, ...]
    oui: dict[str, OuiEntry]
    oui_split: frozenset[str]
    registrant_keys: dict[str, OuiEntry]
    alias_index: dict[str, str]
    alias_prefixes: frozenset[str]
    cjk_aliases: tuple[tuple[str, str], ...]
    fuzzy_aliases: dict[str, tuple[str, ...]]  # by first letter
    lookalike_phrases: tuple[str, ...]
    lookalike_words: frozenset[str]
    common_words: frozenset[str]
    files: dict[str, str] = field(default_factory=dict)

    def maker(self, slug: str) -> MakerInfo | None:
        """Curated maker, or one derived from an IEEE registrant (slug `ieee-<key>`)."""
        info = self.makers.get(slug)
        if info is not None or not slug.startswith(DERIVED_PREFIX):
            return info
        entry = self.registrant_keys.get(slug[len(DERIVED_PREFIX) :])
        if entry is None:
            return None
        return derived_maker(entry)

    def brand_owner_makes(self, brand_id: str, maker: str) -> str | None:
        """The relation by which `maker` stands behind `brand_id`, if the KB records one."""
        brand = self.brands.get(brand_id)
        if brand is None:
            return None
        for relation in brand.makers:
            if relation.maker == maker:
                return relation.relation
        return None


def derived_maker(entry: OuiEntry) -> MakerInfo:
    country = entry.country
    if country == "CN":
        nil: bool | None = True
        reason = f"IEEE registrant address in {country} (derived from the registry, not curated)"
    elif not country or country in UNDETERMINED_JURISDICTIONS:
        nil = None
        reason = f"IEEE registrant country '{country or 'unknown'}' does not settle it (derived)"
    else:
        nil = False
        reason = f"IEEE registrant address in {country} (derived from the registry, not curated)"
    return MakerInfo(
        slug=DERIVED_PREFIX + entry.key,
        name=entry.registrant,
        jurisdiction=country,
        derived=True,
        subject_to_prc_nil=nil,
        nil_reason=reason,
    )

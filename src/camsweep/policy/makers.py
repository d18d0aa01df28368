"""Maker facts a policy needs, read from the knowledge base once: jurisdiction, whether the
PRC National Intelligence Law reaches the company, who controls it, what it controls,
which brands it stands behind, and which public lists name it (with dates and sources).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from camsweep.kb import KnowledgeBase

CONTROL_RELATIONS = frozenset({"parent", "controlling_shareholder"})


@dataclass(frozen=True)
class Listing:
    name: str
    date: date
    source: str
    via: str | None  # the controlling company the listing belongs to, if not the maker itself


class MakerDirectory:
    """Read-only lookups over the KB; every answer comes with the words to explain it."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.version = kb.version
        self._parents: dict[str, list[tuple[str, str]]] = {}
        self._children: dict[str, list[str]] = {}
        for slug, company in kb.manufacturers.items():
            for ctl in company.controlled_by:
                if ctl.relation in CONTROL_RELATIONS:
                    self._parents.setdefault(slug, []).append((ctl.entity, ctl.relation))
                    self._children.setdefault(ctl.entity, []).append(slug)

    def known(self, slug: str) -> bool:
        return slug in self.kb.manufacturers or self.kb.maker(slug) is not None

    def name(self, slug: str) -> str:
        info = self.kb.maker(slug)
        return info.name if info else slug

    def nil(self, slug: str) -> tuple[bool | None, str]:
        """Whether the PRC National Intelligence Law reaches the maker, and why (KB)."""
        info = self.kb.maker(slug)
        if info is None:
            return None, f"'{slug}' is not in the knowledge base"
        return info.subject_to_prc_nil, info.nil_reason

    def jurisdiction(self, slug: str) -> str | None:
        info = self.kb.maker(slug)
        return info.jurisdiction if info else None

    def ancestors(self, slug: str) -> list[tuple[str, str]]:
        """Controllers up the chain (parent, controlling shareholder), nearest first."""
        out: list[tuple[str, str]] = []
        seen = {slug}
        frontier = [slug]
        while frontier:
            nxt: list[str] = []
            for s in frontier:
                for parent, relation in self._parents.get(s, []):
                    if parent not in seen:
                        seen.add(parent)
                        out.append((parent, relation))
                        nxt.append(parent)
            frontier = nxt
        return out

    def descendants(self, slug: str) -> list[str]:
        out: list[str] = []
        seen = {slug}
        frontier = [slug]
        while frontier:
            nxt: list[str] = []
            for s in frontier:
                for child in self._children.get(s, []):
                    if child not in seen:
                        seen.add(child)
                        out.append(child)
                        nxt.append(child)
            frontier = nxt
        return out

    def closure(self, entities: Iterable[str], include: Iterable[str]) -> dict[str, str]:
        """Every maker slug the named entities reach, with how: `subsidiaries` (companies
        they control), `affiliates` (their controllers and those controllers' other
        companies), `brands` (companies selling only the entities' own or subsidiary brands)."""
        wanted = set(include)
        out: dict[str, str] = {}
        for entity in entities:
            out.setdefault(entity, f"{self.name(entity)} is named by the policy")
            if "subsidiaries" in wanted:
                for child in self.descendants(entity):
                    out.setdefault(child, f"{self.name(child)} is controlled by "
                                          f"{self.name(entity)} (subsidiary)")
            if "affiliates" in wanted:
                for parent, relation in self.ancestors(entity):
                    out.setdefault(parent, f"{self.name(parent)} controls {self.name(entity)} "
                                           f"({relation.replace('_', ' ')}; affiliate)")
                    for sibling in self.descendants(parent):
                        out.setdefault(sibling, f"{self.name(sibling)} shares controller "
                                                f"{self.name(parent)} with {self.name(entity)} "
                                                "(affiliate)")
        if "brands" in wanted:
            for brand_id in self.brands_of(set(out)):
                owner = self.kb.brands[brand_id].owner
                if owner and owner not in out and owner in self.kb.manufacturers:
                    out[owner] = (f"{self.name(owner)} owns brand '{self.kb.brands[brand_id].name}'"
                                  " made only by a named entity (brand)")
        return out

    def brands_of(self, makers: set[str]) -> list[str]:
        """Brands whose every recorded maker is in `makers` as own brand or subsidiary."""
        out = []
        for brand_id, brand in sorted(self.kb.brands.items()):
            rels = [m for m in brand.makers if m.relation in ("own_brand", "subsidiary")]
            if rels and all(m.maker in makers for m in brand.makers):
                out.append(brand_id)
        return out

    def listings(self, slug: str, as_of: date) -> dict[str, Listing]:
        """Public lists naming the maker or a company controlling it, in force on `as_of`."""
        out: dict[str, Listing] = {}
        chain = [(slug, None)] + [(p, p) for p, _rel in self.ancestors(slug)]
        for company_slug, via in chain:
            company = self.kb.manufacturers.get(company_slug)
            if company is None:
                continue
            for listing in company.listings:
                if listing.date <= as_of and listing.name not in out:
                    out[listing.name] = Listing(listing.name, listing.date, listing.source, via)
        return out

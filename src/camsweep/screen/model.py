"""The screening graph as plain values: parties (nodes), ties (edges) and listings.

Both the bundled data (compiled from YAML through FollowTheMoney) and imported
OpenSanctions-style files end up here, through `collect()`, which reads FtM entity
dictionaries (`{"id", "schema", "properties": {...}}`). Lean on purpose: a million
imported entities must fit comfortably in memory.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from camsweep.errors import ScreenError

# FollowTheMoney schemata screened as parties, and what kind of query each can answer.
PARTY_SCHEMATA: dict[str, str] = {
    "Company": "company",
    "Organization": "company",
    "LegalEntity": "company",
    "PublicBody": "company",
    "Person": "person",
}
NAME_PROPS: tuple[str, ...] = ("name", "alias", "weakAlias", "previousName", "abbreviation")
# Identifiers compared exactly (after folding) when a query carries one.
ID_PROPS: tuple[str, ...] = (
    "registrationNumber", "leiCode", "uscCode", "taxNumber", "vatCode", "innCode", "ogrnCode",
    "dunsCode", "isinCode", "permId", "uniqueEntityId", "cageCode", "idNumber", "swiftBic",
    "ticker", "wikidataId",
)
# Topics that make an imported entity a restricted root by itself.
RESTRICTED_TOPICS: frozenset[str] = frozenset(
    {"sanction", "sanction.linked", "sanction.control", "export.control", "debarment", "mil"}
)


@dataclass(frozen=True, slots=True)
class Listing:
    """One appearance on a public list (an FtM Sanction)."""

    list_id: str
    program: str
    authority: str
    date: str | None
    end: str | None
    listed_as: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class Edge:
    """A tie: `ownership` (src owns dst), `brand` (dst is a brand of src), `link` (other)."""

    id: str
    kind: str
    src: str
    dst: str
    role: str
    pct: float | None = None
    start: str | None = None
    end: str | None = None
    source: str | None = None


@dataclass(slots=True)
class Node:
    """A party that can be screened against."""

    id: str
    schema: str
    caption: str
    countries: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    identifiers: tuple[tuple[str, str], ...] = ()
    marks: tuple[str, ...] = ()
    brand: bool = False
    dataset: str = "bundled"
    listings: list[Listing] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return PARTY_SCHEMATA.get(self.schema, "company")

    @property
    def restricted(self) -> bool:
        """A root of restriction: on a list, or carrying a restricted topic."""
        return bool(self.listings) or any(t in RESTRICTED_TOPICS for t in self.topics)


@dataclass
class Collected:
    """What one batch of FtM entities contributes to the graph."""

    nodes: list[Node] = field(default_factory=list)
    names: list[tuple[str, str, str]] = field(default_factory=list)  # (node id, kind, name)
    edges: list[Edge] = field(default_factory=list)
    listings: list[tuple[str, Listing]] = field(default_factory=list)  # (entity id, listing)
    skipped: dict[str, int] = field(default_factory=dict)


def fold_identifier(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def _first(props: Mapping[str, Any], name: str) -> str | None:
    values = props.get(name)
    if isinstance(values, list) and values:
        v = values[0]
        return v if isinstance(v, str) else None
    return None


def _all(props: Mapping[str, Any], name: str) -> list[str]:
    values = props.get(name)
    if not isinstance(values, list):
        return []
    return [v for v in values if isinstance(v, str) and v.strip()]


def _pct(props: Mapping[str, Any]) -> float | None:
    raw = _first(props, "percentage")
    if raw is None:
        return None
    try:
        return float(raw.replace("%", "").replace(",", ".").strip())
    except ValueError:
        return None


def _ref(value: Any) -> str | None:
    """An entity reference: a plain id, or a nested entity dict (OpenSanctions 'nested')."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _refs(props: Mapping[str, Any], name: str) -> list[str]:
    values = props.get(name)
    if not isinstance(values, list):
        return []
    return [r for r in (_ref(v) for v in values) if r]


def collect(entities: Iterable[Mapping[str, Any]], dataset: str,
            marks: Mapping[str, tuple[str, ...]] | None = None) -> Collected:
    """FtM entity dicts -> nodes, names, edges, listings. Unknown schemata are counted,
    not fatal: an OpenSanctions export holds addresses, positions, vessels, ..."""
    out = Collected()
    enabled = gc.isenabled()
    gc.disable()  # a million entity dicts: no cyclic-GC rescans while reading them
    try:
        for data in entities:
            _collect_one(data, dataset, marks or {}, out)
    finally:
        if enabled:
            gc.enable()
    return out


def _collect_one(data: Mapping[str, Any], dataset: str, marks: Mapping[str, tuple[str, ...]],
                 out: Collected) -> None:
    eid = data.get("id")
    schema = data.get("schema")
    props = data.get("properties") or {}
    if not isinstance(eid, str) or not isinstance(schema, str) or not isinstance(props, dict):
        raise ScreenError("an entity needs a string 'id', a string 'schema' and a "
                          "'properties' object")
    if schema in PARTY_SCHEMATA:
        names = [(kind, value) for kind in NAME_PROPS for value in _all(props, kind)]
        caption = data.get("caption") if isinstance(data.get("caption"), str) else None
        if not names and caption:
            names = [("name", caption)]
        if not names:
            out.skipped["no name"] = out.skipped.get("no name", 0) + 1
            return
        countries = tuple(dict.fromkeys(
            c.lower() for p in ("country", "jurisdiction", "mainCountry") for c in _all(props, p)))
        idents = tuple((p, fold_identifier(v)) for p in ID_PROPS for v in _all(props, p)
                       if len(fold_identifier(v)) >= 4)
        node = Node(
            id=eid, schema=schema, caption=str(caption or names[0][1]), countries=countries,
            topics=tuple(_all(props, "topics")), identifiers=idents,
            marks=tuple(marks.get(eid, ())),
            brand="brand" in (c.lower() for c in _all(props, "classification")),
            dataset=dataset,
        )
        out.nodes.append(node)
        for kind, value in names:
            out.names.append((eid, kind, value))
        # Organization.parent: an ownership-like tie without a stake recorded.
        for parent in _refs(props, "parent"):
            out.edges.append(Edge(f"{eid}>parent>{parent}", "ownership", parent, eid,
                                  "parent organisation"))
        return
    if schema == "Ownership":
        for owner in _refs(props, "owner"):
            for asset in _refs(props, "asset"):
                out.edges.append(Edge(
                    eid, "ownership", owner, asset,
                    _first(props, "role") or _first(props, "ownershipType") or "owner",
                    _pct(props), _first(props, "startDate"), _first(props, "endDate"),
                    _first(props, "sourceUrl")))
        return
    if schema in ("UnknownLink", "Associate", "Directorship", "Membership", "Succession",
                  "Representation", "Control"):
        src_prop, dst_prop = {
            "UnknownLink": ("subject", "object"), "Associate": ("person", "associate"),
            "Directorship": ("director", "organization"), "Membership": ("member", "organization"),
            "Succession": ("predecessor", "successor"), "Representation": ("agent", "client"),
            "Control": ("controller", "controlled"),
        }[schema]
        role = _first(props, "role") or schema.lower()
        kind = "brand" if role.lower() == "brand" else "link"
        if schema == "Control":
            kind = "ownership"
        for src in _refs(props, src_prop):
            for dst in _refs(props, dst_prop):
                out.edges.append(Edge(eid, kind, src, dst, role, None,
                                      _first(props, "startDate"), _first(props, "endDate"),
                                      _first(props, "sourceUrl")))
        return
    if schema == "Sanction":
        listing = Listing(
            list_id=_first(props, "programId") or _first(props, "program") or "unknown",
            program=_first(props, "program") or _first(props, "programId") or "sanction",
            authority=_first(props, "authority") or "",
            date=(_first(props, "listingDate") or _first(props, "startDate")
                  or _first(props, "date")),
            end=_first(props, "endDate"),
            listed_as=_first(props, "description"),
            source=_first(props, "sourceUrl"),
        )
        for target in _refs(props, "entity"):
            out.listings.append((target, listing))
        return
    out.skipped[schema] = out.skipped.get(schema, 0) + 1


def iter_nodes(collections: Iterable[Collected]) -> Iterator[Node]:
    for c in collections:
        yield from c.nodes

"""The ownership graph: who owns, controls or brands whom, and how a matched party links to a
restricted one, expanded to a configurable depth.

Paths are monotone, so they read as a sentence:
- up (the matched party is owned by, is a brand of, or is tied to someone): the party is a
  `subsidiary` / `brand` / `affiliate` of the restricted entity it reaches;
- down (the matched party owns someone): it is the `parent` of the restricted entity.
A path that goes up and then down (a sister company, a later buyer of a divested unit) is not
followed: that would flag every company that ever bought anything from a listed group.
Ended ties (an `endDate` before the as-of date) make the relation `affiliate`, marked former.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from camsweep.screen.model import Collected, Edge, Listing, Node

RELATION_RANK = {"self": 0, "subsidiary": 1, "brand": 2, "parent": 3, "affiliate": 4}
CONTROL_WORDS = ("control", "subsidiary", "wholly", "parent", "state owner", "majority")


@dataclass(frozen=True)
class GraphPolicy:
    """Tunable: how deep to expand and what stake counts as control."""

    max_depth: int = 4
    control_pct: float = 50.0     # at or above: subsidiary / parent
    minority_pct: float = 10.0    # at or above (below control): affiliate; below: ignored
    include_former: bool = True   # ended ties still flag, as `affiliate` (former)
    as_of: date | None = None     # None: today


@dataclass(frozen=True)
class Step:
    edge: Edge
    via: str          # node id reached by this step
    kind: str         # subsidiary | brand | parent | affiliate
    former: bool


@dataclass(frozen=True)
class Link:
    """How a party relates to a restricted entity."""

    relation: str
    target: str
    steps: tuple[Step, ...] = ()

    @property
    def hops(self) -> int:
        return len(self.steps)

    @property
    def former(self) -> bool:
        return any(s.former for s in self.steps)


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    up: dict[str, list[Edge]] = field(default_factory=lambda: defaultdict(list))
    down: dict[str, list[Edge]] = field(default_factory=lambda: defaultdict(list))
    edge_count: int = 0
    _cache: dict[tuple[str, GraphPolicy], Link | None] = field(default_factory=dict)

    def add(self, collected: Collected) -> None:
        for node in collected.nodes:
            self.nodes[node.id] = node
        for edge in collected.edges:
            self.add_edge(edge)
        self.add_listings(collected.listings)
        self._cache.clear()

    def add_edge(self, edge: Edge) -> None:
        # "up" from the owned/branded/linked party (dst) to the owner (src).
        self.up[edge.dst].append(edge)
        self.down[edge.src].append(edge)
        self.edge_count += 1

    def add_listings(self, listings: Iterable[tuple[str, Listing]]) -> None:
        for target, listing in listings:
            node = self.nodes.get(target)
            if node is not None and listing not in node.listings:
                node.listings.append(listing)

    def remove_dataset(self, dataset: str) -> None:
        drop = {nid for nid, n in self.nodes.items() if n.dataset == dataset}
        for nid in drop:
            del self.nodes[nid]
        self._cache.clear()

    # --- relation -------------------------------------------------------------------

    def _step_kind(self, edge: Edge, direction: str, policy: GraphPolicy) -> str | None:
        if edge.kind == "brand":
            return "brand" if direction == "up" else None
        if edge.kind == "link":
            return "affiliate"
        role = edge.role.lower()
        controlling = any(w in role for w in CONTROL_WORDS)
        pct = edge.pct
        if pct is None or pct >= policy.control_pct or controlling:
            return "subsidiary" if direction == "up" else "parent"
        if pct >= policy.minority_pct:
            return "affiliate"
        return None

    def _ended(self, edge: Edge, today: str) -> bool:
        return bool(edge.end) and str(edge.end) <= today

    def link(self, node_id: str, policy: GraphPolicy) -> Link | None:
        """The closest restricted entity this party links to within `max_depth`, or None."""
        key = (node_id, policy)
        if key in self._cache:
            return self._cache[key]
        found = self._search(node_id, policy)
        self._cache[key] = found
        return found

    def _search(self, node_id: str, policy: GraphPolicy) -> Link | None:
        node = self.nodes.get(node_id)
        if node is None:
            return None
        if node.restricted:
            return Link("self", node_id)
        today = (policy.as_of or date.today()).isoformat()
        best: Link | None = None
        for direction in ("up", "down"):
            found = self._walk(node_id, direction, policy, today)
            if found is not None and (best is None or _better(found, best)):
                best = found
        return best

    def _walk(self, start: str, direction: str, policy: GraphPolicy, today: str) -> Link | None:
        frontier: list[tuple[str, tuple[Step, ...]]] = [(start, ())]
        seen = {start}
        edges = self.up if direction == "up" else self.down
        for _depth in range(policy.max_depth):
            hits: list[Link] = []
            nxt: list[tuple[str, tuple[Step, ...]]] = []
            for current, path in frontier:
                for edge in edges.get(current, ()):
                    other = edge.src if direction == "up" else edge.dst
                    if edge.kind == "link" and other == current:
                        other = edge.dst
                    if other in seen:
                        continue
                    kind = self._step_kind(edge, direction, policy)
                    if kind is None:
                        continue
                    if edge.kind == "link" and path:
                        continue  # a tie only counts as the first step
                    former = self._ended(edge, today)
                    if former and (not policy.include_former or direction == "down"):
                        continue
                    step = Step(edge, other, kind, former)
                    new_path = (*path, step)
                    target = self.nodes.get(other)
                    if target is not None and target.restricted:
                        hits.append(Link(_relation(new_path, direction), other, new_path))
                    else:
                        nxt.append((other, new_path))
                    seen.add(other)
            if hits:
                return min(hits, key=lambda h: RELATION_RANK[h.relation])
            frontier = nxt
            if not frontier:
                break
        # Links are symmetric: a tie recorded from the other side also counts as a first step.
        if direction == "up":
            for edge in self.down.get(start, ()):
                if edge.kind == "link":
                    target = self.nodes.get(edge.dst)
                    if target is not None and target.restricted:
                        step = Step(edge, edge.dst, "affiliate", self._ended(edge, today))
                        return Link("affiliate", edge.dst, (step,))
        return None


def _relation(path: tuple[Step, ...], direction: str) -> str:
    kinds = [s.kind for s in path]
    if any(s.former for s in path) or "affiliate" in kinds:
        return "affiliate"
    if direction == "down":
        return "parent"
    return "brand" if kinds[0] == "brand" else "subsidiary"


def _better(a: Link, b: Link) -> bool:
    return (RELATION_RANK[a.relation], a.hops) < (RELATION_RANK[b.relation], b.hops)

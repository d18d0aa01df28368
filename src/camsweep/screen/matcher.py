"""The named, versioned scoring algorithm and the screening entry points.

    from camsweep.screen import Screener
    screener = Screener.bundled()
    result = screener.screen("Hikvision UK Ltd", country="GB")
    result.match, result.entity, result.relation, result.score, result.explanation

Scoring (`camsweep-name-v1`), per candidate name:

    score = sum(w * sim for aligned tokens)
            / (sum(w for aligned) + lambda_q * sum(w unaligned query)
               + lambda_r * sum(w unaligned result))

Tokens are aligned exactly, by joining neighbours ("hik vision" = "hikvision"), by one
adjacent transposition (length >= 5) or by one edit (length >= 7). `w` is the token class
weight (distinctive 1.0, generic 0.35); next to a coined mark ("hikvision") extra query words
weigh `coined_extra`. Qualifiers then adjust: country agreement/disagreement, a location in
the name that differs, a generic-only name without its place. An identifier match scores
`identifier` outright. A party is reported when its name score reaches `threshold` and the
ownership graph links it to a restricted entity; the reported score is the name score times
the link factor. Every weight and threshold is in `ALGORITHM`, so a change is a visible diff.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from rapidfuzz.distance import Levenshtein
from rigour.text import metaphone

from camsweep.screen.graph import Graph, GraphPolicy, Link
from camsweep.screen.index import FUZZY_MIN_LEN, TRANSPOSE_MIN_LEN, NameIndex, is_transposition
from camsweep.screen.model import NAME_PROPS, Collected
from camsweep.screen.normalise import (
    LOCATIONS,
    PARTICLES,
    SECTOR,
    NameForm,
    country_code,
    normalise,
    skeleton,
    token_class,
)


@dataclass(frozen=True)
class Algorithm:
    """Declared weights and thresholds; `name` and `version` go into every result."""

    name: str = "camsweep-name-v1"
    version: str = "1.0"
    # token classes
    w_distinctive: float = 1.0
    w_generic: float = 0.35
    w_number: float = 1.0
    w_particle: float = 0.1   # de, da, la, van ...: articles in names, and pinyin syllables
    # alignment similarities
    sim_joined: float = 1.0
    sim_transposition: float = 0.85
    sim_edit: float = 0.75
    sim_phonetic_bonus: float = 0.10
    # unaligned words: how much they count against a match
    lambda_query: float = 1.0
    lambda_result: float = 0.35
    coined_extra: float = 0.2
    sector_extra: float = 0.4   # extra technology/security words beside a matched name
    # qualifiers
    country_mismatch: float = -0.12
    country_mismatch_coined: float = -0.03  # a coined mark is the group's wherever it is
    country_mismatch_weak: float = -0.20  # persons and generic-only names
    location_mismatch: float = -0.05
    generic_without_place: float = 0.6    # factor
    identifier: float = 0.98
    # link factors
    hop_factor: float = 0.97
    affiliate_factor: float = 0.92
    former_factor: float = 0.90
    # decisions
    threshold: float = 0.80
    review_threshold: float = 0.65
    candidates: int = 12

    def weights(self) -> dict[str, float]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, float)}


ALGORITHM = Algorithm()
PARALLEL_MIN = 4000  # batches smaller than this are screened in-process
_WORKER: Screener | None = None
FREEZE_AT = 100_000  # parties in one batch beyond which the built index is gc.freeze()-d


@dataclass(frozen=True)
class Query:
    id: str | None
    name: str
    country: str | None = None
    kind: str | None = None  # company | brand | person
    identifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameScore:
    score: float
    notes: tuple[str, ...]
    name_idx: int
    extra_query: int = 0  # query words left unaligned (beside a coined mark)
    agreement: float = 0.0  # tie-break: shared places and countries


@dataclass
class ScreenResult:
    """One screening answer; `as_contract()` is the design.md batch output."""

    id: str | None
    query: str
    match: bool
    entity_id: str | None = None
    entity: str | None = None
    relation: str | None = None
    score: float = 0.0
    explanation: list[str] = field(default_factory=list)
    matched_id: str | None = None
    matched_name: str | None = None
    algorithm: str = ALGORITHM.name
    data_version: str | None = None
    listings: list[dict[str, Any]] = field(default_factory=list)

    def as_contract(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "match": self.match,
            "entity_id": self.entity_id,
            "entity": self.entity,
            "relation": self.relation,
            "score": round(self.score, 4),
            "explanation": self.explanation,
            "matched_id": self.matched_id,
            "matched_name": self.matched_name,
            "algorithm": f"{self.algorithm}",
            "data_version": self.data_version,
        }

    def as_dict(self) -> dict[str, Any]:
        out = self.as_contract()
        out["query"] = self.query
        out["listings"] = self.listings
        return out


def _w(token: str, algo: Algorithm) -> float:
    if token in PARTICLES:
        return algo.w_particle
    cls = token_class(token)
    if cls == "generic":
        return algo.w_generic
    if cls == "number":
        return algo.w_number
    return algo.w_distinctive


def _find_run(seq: Sequence[str], used: set[int], target: str) -> list[int] | None:
    """Indexes of a run of unused neighbours in `seq` that join to `target`."""
    for i in range(len(seq)):
        if i in used or not target.startswith(seq[i]):
            continue
        joined = seq[i]
        run = [i]
        j = i + 1
        while len(joined) < len(target) and j < len(seq) and j not in used:
            joined += seq[j]
            run.append(j)
            j += 1
        if joined == target and len(run) > 1:
            return run
    return None


def score_name(q: NameForm, core: tuple[str, ...], marks: set[str],
               algo: Algorithm = ALGORITHM) -> tuple[float, list[str], bool, int]:
    """Name similarity in 0..1, what aligned, whether a coined mark aligned, and how many
    query words stayed unaligned."""
    qt, rt = q.core, core
    q_used: set[int] = set()
    r_used: set[int] = set()
    num = 0.0
    den = 0.0
    notes: list[str] = []
    coined = False
    r_pos = {t: i for i, t in enumerate(rt)}
    for i, t in enumerate(qt):
        j = r_pos.get(t)
        if j is not None and j not in r_used:
            q_used.add(i)
            r_used.add(j)
            w = _w(t, algo)
            num += w
            den += w
            coined = coined or t in marks
    # joined neighbours, both ways
    for i, t in enumerate(qt):
        if i in q_used:
            continue
        run = _find_run(rt, r_used, t)
        if run:
            q_used.add(i)
            r_used.update(run)
            w = _w(t, algo)
            num += w * algo.sim_joined
            den += w
            notes.append(f"'{t}' = '{' '.join(rt[k] for k in run)}' joined")
            coined = coined or t in marks
    for j, t in enumerate(rt):
        if j in r_used:
            continue
        run = _find_run(qt, q_used, t)
        if run:
            r_used.add(j)
            q_used.update(run)
            w = _w(t, algo)
            num += w * algo.sim_joined
            den += w
            notes.append(f"'{' '.join(qt[k] for k in run)}' = '{t}' joined")
            coined = coined or t in marks
    # one transposition or one edit, long distinctive words only
    for i, t in enumerate(qt):
        if i in q_used or t.isdigit() or len(t) < TRANSPOSE_MIN_LEN:
            continue
        for j, u in enumerate(rt):
            if j in r_used or u.isdigit():
                continue
            sim = 0.0
            if is_transposition(t, u):
                sim = algo.sim_transposition
                how = "transposed letters"
            elif min(len(t), len(u)) >= FUZZY_MIN_LEN and \
                    Levenshtein.distance(t, u, score_cutoff=1) <= 1:
                sim = algo.sim_edit
                how = "one edit"
                if skeleton(t) == skeleton(u) or metaphone(t) == metaphone(u):
                    sim += algo.sim_phonetic_bonus
                    how += ", same phonetic key"
            if sim:
                q_used.add(i)
                r_used.add(j)
                w = _w(t, algo)
                num += w * sim
                den += w
                notes.append(f"'{t}' ~ '{u}' ({how})")
                coined = coined or u in marks
                break
    extra_q = [t for i, t in enumerate(qt) if i not in q_used]
    extra_r = [t for j, t in enumerate(rt) if j not in r_used]
    # Extra query words cost less beside a coined mark, and sector words ("Dahua *Vision*
    # Technology") cost less once a distinctive word has aligned; "Dahua *Group*" pays full.
    anchored = any(token_class(qt[i]) != "generic" for i in q_used)
    for t in extra_q:
        factor = algo.coined_extra if coined else (
            algo.sector_extra if anchored and t in SECTOR else 1.0)
        den += algo.lambda_query * factor * _w(t, algo)
    den += algo.lambda_result * sum(_w(t, algo) for t in extra_r)
    if extra_q:
        notes.append("words not in the listed name: " + ", ".join(extra_q)
                     + (" (beside a coined mark)" if coined else ""))
    if extra_r:
        notes.append("listed words not given: " + ", ".join(extra_r))
    if den <= 0 or num <= 0:
        return 0.0, notes, coined, len(extra_q)
    return num / den, notes, coined, len(extra_q)


class Screener:
    """The graph, its index and the algorithm: everything `screen()` needs, kept in memory."""

    def __init__(self, algorithm: Algorithm = ALGORITHM, policy: GraphPolicy | None = None,
                 data_version: str = "empty") -> None:
        self.algo = algorithm
        self.policy = policy or GraphPolicy()
        self.graph = Graph()
        self.index = NameIndex()
        self.data_version = data_version
        self.datasets: dict[str, int] = {}

    # --- building -------------------------------------------------------------------

    @classmethod
    def bundled(cls, algorithm: Algorithm = ALGORITHM, policy: GraphPolicy | None = None
                ) -> Screener:
        from camsweep.screen.dataset import load_bundled
        from camsweep.screen.model import collect

        data = load_bundled()
        screener = cls(algorithm, policy, data.version)
        screener.add(collect(data.to_dicts(), "bundled", data.marks), curated=True)
        return screener

    def add(self, collected: Collected, *, curated: bool = False) -> None:
        # Millions of small long-lived objects: the cyclic GC would rescan them over and
        # over while they are built and on every later allocation burst. Build without
        # it and, for a big import, move them out of its sight (gc.freeze): the index
        # lives as long as the process and holds no cycles.
        enabled = gc.isenabled()
        gc.disable()
        try:
            self.graph.add(collected)
            self.index.add(collected, deletion_keys=curated)
        finally:
            if enabled:
                gc.enable()
        if len(collected.nodes) >= FREEZE_AT:
            gc.freeze()
        for node in collected.nodes:
            self.datasets[node.dataset] = self.datasets.get(node.dataset, 0) + 1

    def drop_dataset(self, dataset: str) -> int:
        """Remove every party of one dataset (e.g. "bundled" before a --replace import)."""
        ids = [nid for nid, n in self.graph.nodes.items() if n.dataset == dataset]
        self.index.drop_nodes(ids)
        self.graph.remove_dataset(dataset)
        self.datasets.pop(dataset, None)
        return len(ids)

    def with_policy(self, policy: GraphPolicy) -> Screener:
        clone = Screener(self.algo, policy, self.data_version)
        clone.graph, clone.index, clone.datasets = self.graph, self.index, self.datasets
        return clone

    # --- screening ------------------------------------------------------------------

    def screen(self, name: str, country: str | None = None, kind: str | None = None,
               identifiers: Iterable[str] = (), id: str | None = None) -> ScreenResult:
        return self.screen_query(Query(id, name, country, kind, tuple(identifiers)))

    def screen_many(self, queries: Iterable[Query], workers: int = 1) -> list[ScreenResult]:
        """Results in input order; a repeated query is screened once. With `workers` > 1 a
        large batch is split over forked processes that share the built index."""
        batch = list(queries)
        if workers > 1 and len(batch) >= PARALLEL_MIN and \
                "fork" in multiprocessing.get_all_start_methods():
            global _WORKER  # noqa: PLW0603  (read by the forked children only)
            _WORKER = self
            size = max(500, -(-len(batch) // (workers * 4)))
            chunks = [batch[i:i + size] for i in range(0, len(batch), size)]
            try:
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    parts = pool.map(_screen_chunk, chunks)
            finally:
                _WORKER = None
            return [r for part in parts for r in part]
        return self._screen_serial(batch)

    def _screen_serial(self, queries: Iterable[Query]) -> list[ScreenResult]:
        cache: dict[tuple[str, str | None, str | None, tuple[str, ...]], ScreenResult] = {}
        out = []
        for q in queries:
            key = (q.name, q.country, q.kind, q.identifiers)
            hit = cache.get(key)
            if hit is None:
                hit = self.screen_query(replace(q, id=None))
                cache[key] = hit
            res = ScreenResult(**{**hit.__dict__, "id": q.id,
                                  "explanation": list(hit.explanation)})
            out.append(res)
        return out

    def screen_query(self, q: Query) -> ScreenResult:
        algo = self.algo
        person = q.kind == "person"
        form = normalise(q.name, person)
        result = ScreenResult(id=q.id, query=q.name, match=False, data_version=self.data_version,
                              algorithm=f"{algo.name}@{algo.version}")
        if not form.core:
            result.explanation.append("no identifying words in the name (only legal forms, "
                                      "places or punctuation)")
            return result
        country = country_code(q.country) if q.country else None
        q_countries = set(form.countries)
        if country:
            q_countries.add(country)
        names, id_nodes = self.index.candidates(form, algo.candidates, q.identifiers)
        best: dict[int, tuple[float, NameScore]] = {}  # node pos -> (score, detail)
        folded = _fold(form.text)
        for idx in names:
            pos = self.index.name_node[idx]
            if not self._kind_ok(pos, q.kind):
                continue
            s, notes, extra = self._score_candidate(form, idx, q_countries)
            if s < algo.review_threshold - 0.15:
                continue
            agree = self._agreement(form, folded, idx, pos, q_countries)
            if pos not in best or (s, agree) > (best[pos][0], best[pos][1].agreement):
                best[pos] = (s, NameScore(s, tuple(notes), idx, extra, agree))
        for pos in id_nodes:
            detail = best.get(pos)
            id_notes = ("identifier matches", *(detail[1].notes if detail else ()))
            idx = detail[1].name_idx if detail else -1
            if detail is None or detail[0] < algo.identifier:
                best[pos] = (algo.identifier, NameScore(algo.identifier, id_notes, idx))
        return self._decide(result, form, best, q_countries)

    def _agreement(self, form: NameForm, folded: str, idx: int, pos: int,
                   q_countries: set[str]) -> float:
        """Equal scores: prefer the name with the query's own places and country."""
        agree = 0.0
        if folded == _fold(self.index.name_text[idx]):
            agree += 2.0
        if set(form.locations) & set(self.index.name_loc[idx]):
            agree += 1.0
        node = self.graph.nodes.get(self.index.node_ids[pos])
        if node is not None and q_countries & set(node.countries):
            agree += 1.0
        return agree

    def _kind_ok(self, pos: int, kind: str | None) -> bool:
        if kind is None:
            return True
        is_person = pos in self.index.persons
        return is_person if kind == "person" else not is_person

    def _score_candidate(self, form: NameForm, idx: int, q_countries: set[str]
                         ) -> tuple[float, list[str], int]:
        algo = self.algo
        core = self.index.name_core[idx]
        s, notes, coined, extra = score_name(form, core, self.index.marks, algo)
        if s <= 0:
            return 0.0, notes, extra
        node = self.graph.nodes.get(self.index.node_ids[self.index.name_node[idx]])
        weak = all(token_class(t) == "generic" for t in core) or (
            node is not None and node.schema == "Person")
        r_loc = self.index.name_loc[idx]
        if weak and r_loc and not set(r_loc) & set(form.locations):
            s *= algo.generic_without_place
            notes.append("a name of generic words only, without its place "
                         f"({', '.join(r_loc)})")
        if form.locations and r_loc and not set(form.locations) & set(r_loc):
            s += algo.location_mismatch
            notes.append(f"place in the name differs ({', '.join(form.locations)} vs "
                         f"{', '.join(r_loc)})")
        # A place the listed name lacks ("Dahua Technology Poland") is the pattern of a
        # national subsidiary, not of a namesake: no country penalty then.
        added_place = bool(set(form.locations) - set(r_loc))
        if (node is not None and q_countries and node.countries and not added_place
                and not q_countries & set(node.countries)):
            penalty = (algo.country_mismatch_weak if weak else
                       algo.country_mismatch_coined if coined else algo.country_mismatch)
            s += penalty
            notes.append(f"country differs ({', '.join(sorted(q_countries))} vs "
                         f"{', '.join(node.countries)})")
        return max(0.0, min(1.0, s)), notes, extra

    def _link_factor(self, link: Link) -> float:
        algo = self.algo
        if link.relation == "self":
            return 1.0
        factor = algo.hop_factor ** max(0, link.hops - 1)
        if link.relation == "affiliate":
            factor *= algo.affiliate_factor
        if link.former:
            factor *= algo.former_factor
        return factor

    def _decide(self, result: ScreenResult, form: NameForm,
                best: Mapping[int, tuple[float, NameScore]], q_countries: set[str]
                ) -> ScreenResult:
        algo = self.algo
        ranked = sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)
        linked: list[tuple[float, float, int, NameScore, Link]] = []
        unlinked: list[tuple[float, int, NameScore]] = []
        for pos, (s, detail) in ranked:
            node_id = self.index.node_ids[pos]
            link = self.graph.link(node_id, self.policy)
            if link is None:
                unlinked.append((s, pos, detail))
                continue
            link = self._infer_subsidiary(link, form, detail, node_id, q_countries)
            linked.append((s * self._link_factor(link), s, pos, detail, link))
        linked.sort(key=lambda t: (round(t[0], 4), t[3].agreement, -_rank(t[4])), reverse=True)
        top = linked[0] if linked else None
        if top is not None and top[1] >= algo.threshold:
            final, s, pos, detail, link = top
            return self._fill(result, final, s, pos, detail, link, match=True)
        # No match: say why, with the nearest names.
        if top is not None and top[1] >= algo.review_threshold:
            final, s, pos, detail, link = top
            self._fill(result, final, s, pos, detail, link, match=False)
            result.explanation.insert(0, f"near miss below the threshold {algo.threshold:.2f}: "
                                         "review by hand")
            result.entity_id = result.entity = result.relation = None
            return result
        result.score = 0.0
        nearest = [(s, pos, d) for s, pos, d in unlinked if s >= algo.threshold]
        if nearest:
            s, pos, detail = nearest[0]
            node = self.graph.nodes[self.index.node_ids[pos]]
            result.explanation.append(
                f"name matches '{self.index.name_text[detail.name_idx]}' ({node.id}, "
                f"{s:.2f}), which links to no restricted entity within {self.policy.max_depth} "
                "steps")
            result.matched_id, result.matched_name = node.id, node.caption
        elif top is not None:
            result.explanation.append(
                f"closest restricted name: '{self.index.name_text[top[3].name_idx]}' "
                f"({top[1]:.2f} < {algo.review_threshold:.2f})"
                + (f"; {top[3].notes[-1]}" if top[3].notes else ""))
        else:
            result.explanation.append("no listed or linked name shares a distinctive word")
        return result

    def _infer_subsidiary(self, link: Link, form: NameForm, detail: NameScore, node_id: str,
                          q_countries: set[str]) -> Link:
        """'Hikvision Italia S.r.l.' matching Hikvision itself: a national subsidiary or
        branch not in the data. Say so instead of calling it Hikvision."""
        if link.relation != "self" or detail.name_idx < 0:
            return link
        r_loc = set(self.index.name_loc[detail.name_idx])
        node = self.graph.nodes[node_id]
        new_places = set(form.locations) - r_loc
        foreign = {LOCATIONS.get(p, "") for p in new_places} - set(node.countries) - {""}
        regional = {p for p in new_places if not LOCATIONS.get(p)}
        if foreign or regional or detail.extra_query:
            return Link("subsidiary", link.target, ())
        return link

    def _fill(self, result: ScreenResult, final: float, s: float, pos: int, detail: NameScore,
              link: Link, match: bool) -> ScreenResult:
        node = self.graph.nodes[self.index.node_ids[pos]]
        target = self.graph.nodes[link.target]
        result.match = match
        result.score = round(final, 4)
        result.entity_id = target.id
        result.entity = target.caption
        result.relation = link.relation
        result.matched_id = node.id
        result.matched_name = node.caption
        matched_text = self.index.name_text[detail.name_idx] if detail.name_idx >= 0 else None
        expl = result.explanation
        kind = NAME_PROPS[self.index.name_kind[detail.name_idx]] if detail.name_idx >= 0 else ""
        if matched_text is not None:
            expl.append(f"name matches {kind} '{matched_text}' of {node.caption} [{node.id}] "
                        f"({s:.2f})")
        expl.extend(detail.notes)
        if link.relation == "self":
            expl.append(f"{target.caption} is itself listed")
        elif not link.steps:
            expl.append(f"the name is {target.caption}'s with a place or words added: "
                        "likely a subsidiary, branch or group company not in the data "
                        "(verify in a company register)")
        else:
            for step in link.steps:
                expl.append(_describe(step, self.graph))
        for listing in target.listings:
            when = listing.date or "date unknown"
            as_ = f" as '{listing.listed_as}'" if listing.listed_as else ""
            expl.append(f"listed: {listing.program} since {when}{as_}"
                        + (f" [{listing.source}]" if listing.source else ""))
            result.listings.append({"list": listing.list_id, "program": listing.program,
                                    "date": listing.date, "listed_as": listing.listed_as,
                                    "source": listing.source})
        if link.relation != "self" and link.steps:
            expl.append(f"relation: {link.relation} ({link.hops} step(s); link factor "
                        f"{self._link_factor(link):.2f})")
        return result


def _screen_chunk(chunk: list[Query]) -> list[ScreenResult]:
    """Runs in a forked worker: the parent's screener is already in memory."""
    if _WORKER is None:
        raise RuntimeError("screening worker started without a screener")
    return _WORKER._screen_serial(chunk)


def _fold(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _rank(link: Link) -> int:
    from camsweep.screen.graph import RELATION_RANK

    return RELATION_RANK[link.relation]


def _describe(step: Any, graph: Graph) -> str:
    edge = step.edge
    src = graph.nodes.get(edge.src)
    dst = graph.nodes.get(edge.dst)
    s_name = src.caption if src else edge.src
    d_name = dst.caption if dst else edge.dst
    pct = f" {edge.pct:g}% of" if edge.pct is not None else ""
    when = ""
    if edge.start or edge.end:
        when = f" ({edge.start or '?'} to {edge.end or 'now'})"
    former = " [ended]" if step.former else ""
    src_note = f" [{edge.source}]" if edge.source else ""
    if edge.kind == "brand":
        return f"'{d_name}' is a brand of {s_name}{when}{former}{src_note}"
    if edge.kind == "link":
        return f"{s_name} - {d_name}: {edge.role}{when}{former}{src_note}"
    return f"{s_name} owns{pct} {d_name} ({edge.role}){when}{former}{src_note}"


def today() -> date:
    return date.today()


def parse_query(obj: Mapping[str, Any], line: int | None = None) -> Query:
    """A batch input object -> Query; raises ValueError with a readable reason."""
    if not isinstance(obj, Mapping):
        raise ValueError("each line must be a JSON object")
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'name' is required and must be a non-empty string")
    if len(name) > 1000:
        raise ValueError("'name' is longer than 1,000 characters")
    country = obj.get("country")
    if country is not None and not isinstance(country, str):
        raise ValueError("'country' must be a string (ISO code or name)")
    kind = obj.get("kind")
    if kind is not None and kind not in ("company", "brand", "person"):
        raise ValueError("'kind' must be company, brand or person")
    raw_ids = obj.get("identifiers") or []
    if isinstance(raw_ids, str):
        raw_ids = [raw_ids]
    if isinstance(raw_ids, Mapping):
        raw_ids = list(raw_ids.values())
    for key in ("registration_number", "lei", "registrationNumber", "leiCode"):
        if isinstance(obj.get(key), str):
            raw_ids = [*raw_ids, obj[key]]
    ids = tuple(str(v) for v in raw_ids if isinstance(v, str | int))
    qid = obj.get("id")
    _ = line
    return Query(None if qid is None else str(qid), name, country, kind, ids)

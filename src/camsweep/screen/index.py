"""The blocking index: from a query's tokens to the few names worth scoring.

Keys (all strings, one dict):
- each identity token of a name (distinctive words and numbers; generic words only for
  names made of nothing else);
- `=` + the squashed core ("hikvision" for "Hik Vision"), so split and joined spellings meet;
- identifiers: `@` + the folded value.
Fuzzy reach without a posting per typo: the vocabulary (distinct tokens, not postings) is
keyed by a consonant skeleton ("hkvsn") and, for the small curated data, by deletion
neighbourhoods; a query token finds vocabulary words within one edit, then their postings.
A posting list is an int when it holds one name (most do), else a list: a million
entities fit in a few hundred MB.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from camsweep.screen.model import NAME_PROPS, Collected, fold_identifier
from camsweep.screen.normalise import NameForm, normalise, skeleton, token_class

KIND_CODES = {kind: i for i, kind in enumerate(NAME_PROPS)}
FUZZY_MIN_LEN = 7          # fuzzy (one edit) only for tokens at least this long
TRANSPOSE_MIN_LEN = 5      # adjacent transposition for tokens at least this long
MAX_POSTINGS = 20000       # tokens in more names than this are not used to find candidates
MAX_FIRST = 2000           # a lone word in more names than this is read as a whole name
BOOST_ONLY = 200           # ... nor, once rarer keys found some, tokens in more than this
PAIR_TOKENS = 5            # pairs of the first this-many distinctive words are indexed
SMALL_POSTINGS = 64        # single words this rare are read even when pairs exist
KEEP_FRACTION = 0.5        # candidates below this share of the best blocking weight are dropped


def _add(postings: dict[str, int | list[int]], key: str, value: int) -> None:
    current = postings.get(key)
    if current is None:
        postings[key] = value
    elif isinstance(current, int):
        if current != value:
            postings[key] = [current, value]
    elif current[-1] != value:
        current.append(value)


def _iter(posting: int | list[int] | None) -> Iterable[int]:
    if posting is None:
        return ()
    if isinstance(posting, int):
        return (posting,)
    return posting


def _size(posting: int | list[int] | None) -> int:
    if posting is None:
        return 0
    return 1 if isinstance(posting, int) else len(posting)


def _pair(a: str, b: str) -> str:
    return "&" + (f"{a} {b}" if a < b else f"{b} {a}")


def deletions(token: str) -> list[str]:
    return [token[:i] + token[i + 1:] for i in range(len(token))]


def is_transposition(a: str, b: str) -> bool:
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] \
        and a[diff[1]] == b[diff[0]]


@dataclass
class NameIndex:
    """Names of every party, in parallel arrays, plus the postings that reach them."""

    node_ids: list[str] = field(default_factory=list)
    node_pos: dict[str, int] = field(default_factory=dict)
    name_node: list[int] = field(default_factory=list)
    name_text: list[str] = field(default_factory=list)
    name_core: list[tuple[str, ...]] = field(default_factory=list)
    name_loc: list[tuple[str, ...]] = field(default_factory=list)
    name_kind: bytearray = field(default_factory=bytearray)
    name_pen: list[float] = field(default_factory=list)  # tie-break: -0.01 per core word
    postings: dict[str, int | list[int]] = field(default_factory=dict)
    skeletons: dict[str, str | list[str]] = field(default_factory=dict)
    deletion_map: dict[str, set[str]] = field(default_factory=dict)
    marks: set[str] = field(default_factory=set)
    persons: set[int] = field(default_factory=set)  # node positions of Person entities
    live: bytearray = field(default_factory=bytearray)  # node position -> still present

    def __len__(self) -> int:
        return len(self.name_text)

    # --- building -------------------------------------------------------------------

    def add(self, collected: Collected, *, deletion_keys: bool) -> None:
        """Index one batch. `deletion_keys` for small, curated data (fuzzier reach)."""
        person_ids = {n.id for n in collected.nodes if n.schema == "Person"}
        for node in collected.nodes:
            pos = self.node_pos.get(node.id)
            if pos is None:
                pos = len(self.node_ids)
                self.node_ids.append(node.id)
                self.node_pos[node.id] = pos
                self.live.append(1)
            else:
                self.live[pos] = 1
            if node.schema == "Person":
                self.persons.add(pos)
            self.marks.update(node.marks)
            for _prop, value in node.identifiers:
                _add(self.postings, "@" + value, -1 - pos)  # negative: a node, not a name
        for node_id, kind, text in collected.names:
            self._add_name(self.node_pos[node_id], kind, text, node_id in person_ids,
                           deletion_keys)

    def _add_name(self, pos: int, kind: str, text: str, person: bool, deletion_keys: bool) -> None:
        form = normalise(text, person)
        if not form.core:
            return
        idx = len(self.name_text)
        self.name_node.append(pos)
        self.name_text.append(text)
        self.name_core.append(form.core)
        self.name_loc.append(form.locations)
        self.name_kind.append(KIND_CODES.get(kind, 1))
        self.name_pen.append(-0.01 * len(form.core))
        all_generic = all(token_class(t) == "generic" for t in form.core)
        for token in form.core:
            if all_generic or token_class(token) != "generic":
                self._token(token, idx, deletion_keys)
        distinct = [t for t in form.core if token_class(t) != "generic"]
        for i, a in enumerate(distinct[:PAIR_TOKENS]):
            for b in distinct[i + 1:PAIR_TOKENS]:
                _add(self.postings, _pair(a, b), idx)
        if len(distinct) == 1 and not all_generic:
            # A one-word name ("Bado Trading Ltd"): its word with each generic word, so a
            # query for a common word plus "trading" need not read every "bado".
            for g in form.core:
                if g != distinct[0]:
                    _add(self.postings, _pair(distinct[0], g), idx)
        if len(form.core) > 1:
            _add(self.postings, "=" + form.squashed, idx)
        joined = "".join(distinct)
        if joined and (joined != form.squashed or len(form.core) == 1):
            _add(self.postings, "=" + joined, idx)

    def _token(self, token: str, idx: int, deletion_keys: bool) -> None:
        new = token not in self.postings
        _add(self.postings, token, idx)
        if not new or token.isdigit() or len(token) < TRANSPOSE_MIN_LEN:
            return
        key = skeleton(token)
        cur = self.skeletons.get(key)
        if cur is None:
            self.skeletons[key] = token
        elif isinstance(cur, str):
            self.skeletons[key] = [cur, token]
        else:
            cur.append(token)
        if deletion_keys and len(token) >= FUZZY_MIN_LEN:
            for d in deletions(token):
                self.deletion_map.setdefault(d, set()).add(token)

    def drop_nodes(self, node_ids: Iterable[str]) -> None:
        """Hide parties (a `--replace` import); their postings are skipped when read."""
        for nid in node_ids:
            pos = self.node_pos.get(nid)
            if pos is not None:
                self.live[pos] = 0

    # --- lookup ---------------------------------------------------------------------

    def similar_tokens(self, token: str) -> list[tuple[str, str]]:
        """Vocabulary words within one edit of `token`: (word, how)."""
        if token.isdigit() or len(token) < TRANSPOSE_MIN_LEN:
            return []
        out: dict[str, str] = {}
        cur = self.skeletons.get(skeleton(token))
        words = [cur] if isinstance(cur, str) else (cur or [])
        n = len(token)
        same = [w for w in words if len(w) == n and w != token]
        for word in same:
            if is_transposition(token, word):
                out[word] = "transposition"
        if n >= FUZZY_MIN_LEN and words:
            near = [w for w in words if abs(len(w) - n) <= 1 and len(w) >= FUZZY_MIN_LEN]
            for word, _dist, _i in process.extract(token, near, scorer=Levenshtein.distance,
                                                   score_cutoff=1, limit=None):
                if word != token:
                    out.setdefault(word, "edit")
        if len(token) >= FUZZY_MIN_LEN and self.deletion_map:
            cands: set[str] = set(self.deletion_map.get(token, ()))
            for d in deletions(token):
                cands.update(self.deletion_map.get(d, ()))
                if d in self.postings and len(d) >= FUZZY_MIN_LEN:
                    cands.add(d)
            for word in cands:
                if word != token and word not in out and \
                        Levenshtein.distance(token, word, score_cutoff=1) <= 1:
                    out[word] = "edit"
        return list(out.items())

    def candidates(self, form: NameForm, limit: int, identifiers: Iterable[str] = ()
                   ) -> tuple[list[int], set[int]]:
        """Top names by blocking weight, and node positions reached by an identifier."""
        weights: dict[int, float] = {}
        id_nodes: set[int] = set()
        for ident in identifiers:
            for p in _iter(self.postings.get("@" + fold_identifier(ident))):
                if p < 0 and self.live[-1 - p]:
                    id_nodes.add(-1 - p)
        core = form.core
        keys: list[tuple[str, float]] = []
        all_generic = all(token_class(t) == "generic" for t in core)
        distinct = [t for t in core if token_class(t) != "generic"]
        variants: list[list[str]] = []
        for token in (core if all_generic else distinct):
            forms = [token]
            if token not in self.postings:  # a known word is taken as spelt right
                forms.extend(word for word, _how in self.similar_tokens(token))
            variants.append(forms)
        generic = [t for t in core if token_class(t) == "generic"]
        if len(distinct) < 2 or all_generic:
            for forms in variants:
                size = _size(self.postings.get(forms[0]))
                common = size > BOOST_ONLY and not all_generic and forms[0] not in self.marks
                if common and generic:
                    # A common word with generic words: names that lack those words cannot
                    # reach the threshold (each costs its full weight), so read the pairs.
                    keys.extend((_pair(forms[0], g), 1.5) for g in generic)
                elif common and size > MAX_FIRST and "=" + forms[0] in self.postings:
                    # A very common word alone: the names that are just that word first;
                    # thousands of longer ones would tie and be cut at random anyway.
                    keys.append(("=" + forms[0], 1.0))
                else:
                    keys.append((forms[0], 1.0))
                keys.extend((f, 0.8) for f in forms[1:])
        else:
            # Two or more distinctive words: a name must share two of them (in any order)
            # to reach the threshold, so pairs find candidates; single words only when
            # they are coined marks or rare enough to be cheap (near-miss explanations).
            for i, a_forms in enumerate(variants[:PAIR_TOKENS]):
                for b_forms in variants[i + 1:PAIR_TOKENS]:
                    for a in a_forms:
                        for b in b_forms:
                            keys.append((_pair(a, b), 2.0))
            for forms in variants:
                for f in forms:
                    if f in self.marks or _size(self.postings.get(f)) <= SMALL_POSTINGS:
                        keys.append((f, 1.0 if f == forms[0] else 0.8))
        if len(core) > 1:
            keys.append(("=" + form.squashed, 2.0))
            if len(distinct) > 1:
                squashed_distinct = "".join(distinct)
                keys.append(("=" + squashed_distinct, 2.0))
                keys.append((squashed_distinct, 1.5))
            for n in (2, 3):
                for i in range(len(core) - n + 1):
                    joined = "".join(core[i:i + n])
                    keys.append((joined, 1.5))
                    keys.append(("=" + joined, 1.5))
        usable = [(k, w, self.postings.get(k)) for k, w in keys]
        found = sorted(((k, w, p) for k, w, p in usable if p is not None),
                       key=lambda u: _size(u[2]))
        if not found:
            return [], id_nodes
        # Rarest keys first. A name can only reach the threshold if it shares the query's
        # rare words, so a common word (over BOOST_ONLY names) is not read once rarer
        # words have found candidates.
        live = self.live
        node_of = self.name_node
        pen = self.name_pen  # equal weights: the shorter name first
        get = weights.get
        for n, (_key, w, posting) in enumerate(found):
            size = _size(posting)
            if n and size > BOOST_ONLY and weights:
                break
            if size > MAX_POSTINGS and n:
                break
            idf = w / (1.0 + math.log10(size))
            # Name postings are never negative (node postings live under "@" keys only).
            if isinstance(posting, int):
                weights[posting] = get(posting, pen[posting]) + idf
            else:
                for idx in posting:
                    weights[idx] = get(idx, pen[idx]) + idf
        if len(weights) <= limit:
            return [i for i in weights if live[node_of[i]]], id_nodes
        ranked = sorted(weights.items(), key=itemgetter(1), reverse=True)
        # Names far below the best blocking weight cannot outscore it on the name.
        floor = ranked[0][1] * KEEP_FRACTION
        out: list[int] = []
        for idx, weight in ranked:
            if weight < floor or len(out) >= limit:
                break
            if live[node_of[idx]]:
                out.append(idx)
        return out, id_nodes

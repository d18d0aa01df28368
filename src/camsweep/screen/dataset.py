"""The bundled restricted-entity data: hand-edited YAML compiled into FollowTheMoney entities.

`load_bundled()` reads `data/sources.yaml` and `data/entities.yaml`, checks every fact has a
source that exists, every reference resolves and the manifest's minimum counts hold, and
returns `BundledData`: the FtM entities (as `followthemoney` proxies), the per-fact citations,
and the coined marks the matcher needs. Errors name the file and the entity/field.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import fingerprints
import yaml
from followthemoney import model
from followthemoney.proxy import EntityProxy

from camsweep.errors import ScreenError
from camsweep.screen.normalise import LEGAL_FORMS, normalise

DATA_DIR = Path(__file__).parent / "data"
DATASET = "camsweep"
PARTY_FIELDS = ("alias", "weakAlias", "previousName", "abbreviation")
SCALAR_PROPS = ("ticker", "isinCode", "registrationNumber", "uscCode", "leiCode", "website")
ENTITY_KEYS = frozenset({"id", "schema", "s", "name", "country", "marks", "listings", "owners",
                         "brand_of", "links", "classification", *PARTY_FIELDS, *SCALAR_PROPS})


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str | None
    ref: str | None
    publisher: str
    date: str
    label: str

    @property
    def cite(self) -> str:
        return self.url or self.ref or self.title


@dataclass(frozen=True)
class ListInfo:
    id: str
    name: str
    authority: str
    program: str
    topic: str
    source: str


@dataclass(frozen=True)
class Citation:
    entity_id: str
    prop: str
    value: str
    source: str


@dataclass
class BundledData:
    version: str
    digest: str
    sources: dict[str, Source]
    lists: dict[str, ListInfo]
    entities: list[EntityProxy]
    citations: list[Citation]
    marks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def cited(self, entity_id: str) -> list[Citation]:
        return [c for c in self.citations if c.entity_id == entity_id]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.entities]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScreenError(f"{path}: cannot read screening data ({exc})") from exc
    if not isinstance(data, dict):
        raise ScreenError(f"{path}: expected a mapping at the top level")
    return data


class _Compiler:
    def __init__(self, file: str, sources: dict[str, Source], lists: dict[str, ListInfo]):
        self.file = file
        self.sources = sources
        self.lists = lists
        self.entities: dict[str, EntityProxy] = {}
        self.citations: list[Citation] = []
        self.marks: dict[str, tuple[str, ...]] = {}
        self.refs: list[tuple[str, str, str]] = []  # (from entity, field, to entity)

    def fail(self, where: str, message: str) -> ScreenError:
        return ScreenError(f"{self.file}: {where}: {message}")

    def source(self, where: str, value: Any, default: str | None) -> str:
        sid = value if value is not None else default
        if not isinstance(sid, str) or not sid:
            raise self.fail(where, "fact without a source (give `s:` on it or on the entity)")
        if sid not in self.sources:
            raise self.fail(where, f"unknown source '{sid}' (add it to sources.yaml)")
        return sid

    def add(self, proxy: EntityProxy, where: str, prop: str, value: Any, source: str) -> None:
        if value is None or value == "":
            return
        text = str(value)
        try:
            proxy.add(prop, text, quiet=False)
        except Exception as exc:  # followthemoney raises InvalidData and friends
            raise self.fail(where, f"{prop}={text!r} rejected by FollowTheMoney ({exc})") from exc
        src = self.sources[source]
        if src.url:
            proxy.add("sourceUrl", src.url, quiet=True)
        self.citations.append(Citation(str(proxy.id), prop, text, source))

    def make(self, schema: str, eid: str, where: str) -> EntityProxy:
        if eid in self.entities:
            raise self.fail(where, f"duplicate id '{eid}'")
        try:
            proxy = model.make_entity(schema)
        except Exception as exc:
            raise self.fail(where, f"unknown FollowTheMoney schema '{schema}'") from exc
        proxy.id = eid
        proxy.add("publisher", "camsweep bundled screening data", quiet=True)
        self.entities[eid] = proxy
        return proxy

    def party(self, raw: dict[str, Any]) -> None:
        eid = raw.get("id")
        if not isinstance(eid, str) or not eid.startswith("cs-"):
            raise self.fail(f"entity {raw.get('name')!r}", "needs an id starting with 'cs-'")
        unknown = set(raw) - ENTITY_KEYS
        if unknown:
            raise self.fail(eid, f"unknown field(s) {sorted(unknown)}")
        schema = str(raw.get("schema", "Company"))
        if schema not in ("Company", "Organization", "PublicBody", "Person", "LegalEntity"):
            raise self.fail(eid, f"schema '{schema}' is not a party schema")
        default = raw.get("s")
        proxy = self.make(schema, eid, eid)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(eid, "needs a `name`")
        self.add(proxy, eid, "name", name, self.source(f"{eid}.name", None, default))
        for prop in PARTY_FIELDS:
            for item in raw.get(prop) or []:
                value, sid = ((item.get("v"), item.get("s")) if isinstance(item, dict)
                              else (item, None))
                if not isinstance(value, str) or not value.strip():
                    raise self.fail(f"{eid}.{prop}", f"not a name: {item!r}")
                form = normalise(value, person=schema == "Person")
                if not form.core or all(t in LEGAL_FORMS for t in form.core) or (
                        len(form.squashed) < 3 and not form.han):
                    raise self.fail(f"{eid}.{prop}", f"{value!r} has no identifying words "
                                    "(a YAML comma inside an unquoted name?)")
                self.add(proxy, eid, prop, value, self.source(f"{eid}.{prop}", sid, default))
        country = raw.get("country")
        if country:
            self.add(proxy, eid, "country", country, self.source(f"{eid}.country", None, default))
        for prop in SCALAR_PROPS:
            for value in raw.get(prop) or []:
                self.add(proxy, eid, prop, value, self.source(f"{eid}.{prop}", None, default))
        if raw.get("classification"):
            self.add(proxy, eid, "classification", raw["classification"],
                     self.source(f"{eid}.classification", None, default))
        marks = raw.get("marks") or []
        if marks:
            squashed = normalise(" ".join(proxy.get("name") + proxy.get("alias"))).squashed
            for mark in marks:
                if mark not in squashed:
                    raise self.fail(f"{eid}.marks", f"mark '{mark}' appears in none of its names")
            self.marks[eid] = tuple(marks)
        for i, listing in enumerate(raw.get("listings") or []):
            self.listing(eid, proxy, i, listing, default)
        for i, own in enumerate(raw.get("owners") or []):
            self.ownership(eid, i, own, default)
        if raw.get("brand_of"):
            self.brand(eid, raw["brand_of"], default)
        for i, link in enumerate(raw.get("links") or []):
            self.link(eid, i, link, default)

    def listing(self, eid: str, party: EntityProxy, i: int, raw: dict[str, Any],
                default: str | None) -> None:
        where = f"{eid}.listings[{i}]"
        info = self.lists.get(str(raw.get("list")))
        if info is None:
            raise self.fail(where, f"unknown list '{raw.get('list')}' (see `lists:`)")
        if not raw.get("date"):
            raise self.fail(where, "a listing needs a date")
        sid = self.source(where, raw.get("s"), info.source)
        proxy = self.make("Sanction", f"{eid}-listing-{info.id}", where)
        self.add(proxy, where, "entity", eid, sid)
        self.add(proxy, where, "authority", info.authority, sid)
        self.add(proxy, where, "program", info.name, sid)
        self.add(proxy, where, "programId", info.id, sid)
        self.add(proxy, where, "listingDate", raw["date"], sid)
        self.add(proxy, where, "startDate", raw["date"], sid)
        self.add(proxy, where, "endDate", raw.get("end"), sid)
        self.add(proxy, where, "description", raw.get("as"), sid)
        self.add(proxy, where, "summary", raw.get("note"), sid)
        self.add(party, where, "topics", info.topic, sid)
        self.add(party, where, "program", info.name, sid)
        _ = default

    def ownership(self, eid: str, i: int, raw: dict[str, Any], default: str | None) -> None:
        where = f"{eid}.owners[{i}]"
        owner = raw.get("owner")
        if not isinstance(owner, str):
            raise self.fail(where, "needs `owner`")
        sid = self.source(where, raw.get("s"), default)
        proxy = self.make("Ownership", f"{eid}-owned-by-{owner}", where)
        self.refs.append((eid, where, owner))
        self.add(proxy, where, "owner", owner, sid)
        self.add(proxy, where, "asset", eid, sid)
        self.add(proxy, where, "role", raw.get("role") or "owner", sid)
        if raw.get("pct") is not None:
            self.add(proxy, where, "percentage", raw["pct"], sid)
        self.add(proxy, where, "startDate", raw.get("start"), sid)
        self.add(proxy, where, "endDate", raw.get("end"), sid)

    def brand(self, eid: str, raw: dict[str, Any], default: str | None) -> None:
        where = f"{eid}.brand_of"
        owner = raw.get("owner")
        if not isinstance(owner, str):
            raise self.fail(where, "needs `owner`")
        sid = self.source(where, raw.get("s"), default)
        proxy = self.make("UnknownLink", f"{eid}-brand-of-{owner}", where)
        self.refs.append((eid, where, owner))
        self.add(proxy, where, "subject", owner, sid)
        self.add(proxy, where, "object", eid, sid)
        self.add(proxy, where, "role", "brand", sid)
        self.add(proxy, where, "startDate", raw.get("start"), sid)
        self.add(proxy, where, "endDate", raw.get("end"), sid)

    def link(self, eid: str, i: int, raw: dict[str, Any], default: str | None) -> None:
        where = f"{eid}.links[{i}]"
        other = raw.get("other")
        if not isinstance(other, str) or not raw.get("role"):
            raise self.fail(where, "needs `other` and `role`")
        sid = self.source(where, raw.get("s"), default)
        proxy = self.make("UnknownLink", f"{eid}-link-{other}", where)
        self.refs.append((eid, where, other))
        self.add(proxy, where, "subject", eid, sid)
        self.add(proxy, where, "object", other, sid)
        self.add(proxy, where, "role", raw["role"], sid)


def load_from(folder: Path) -> BundledData:
    """Compile and check the data in `folder` (tests point this at fixtures)."""
    manifest = _read(folder / "manifest.yaml")
    files = manifest.get("files") or {}
    src_path = folder / str(files.get("sources", "sources.yaml"))
    ent_path = folder / str(files.get("entities", "entities.yaml"))
    raw_sources = _read(src_path).get("sources") or {}
    sources: dict[str, Source] = {}
    for sid, s in raw_sources.items():
        if not isinstance(s, dict) or not s.get("title") or not (s.get("url") or s.get("ref")):
            raise ScreenError(f"{src_path.name}: source '{sid}' needs a title and a url or ref")
        if s.get("label") not in ("V", "R", "K"):
            raise ScreenError(f"{src_path.name}: source '{sid}' needs label V, R or K")
        sources[sid] = Source(sid, str(s["title"]), s.get("url"), s.get("ref"),
                              str(s.get("publisher", "")), str(s.get("date", "")), s["label"])
    raw = _read(ent_path)
    lists: dict[str, ListInfo] = {}
    for lid, li in (raw.get("lists") or {}).items():
        for key in ("name", "authority", "program", "topic", "s"):
            if not li.get(key):
                raise ScreenError(f"{ent_path.name}: list '{lid}' needs `{key}`")
        if li["s"] not in sources:
            raise ScreenError(f"{ent_path.name}: list '{lid}': unknown source '{li['s']}'")
        lists[lid] = ListInfo(lid, li["name"], li["authority"], li["program"], li["topic"], li["s"])
    compiler = _Compiler(ent_path.name, sources, lists)
    for item in raw.get("entities") or []:
        if not isinstance(item, dict):
            raise ScreenError(f"{ent_path.name}: every entity must be a mapping")
        compiler.party(item)
    for eid, where, target in compiler.refs:
        if target not in compiler.entities:
            raise compiler.fail(where, f"refers to unknown entity '{target}' (from {eid})")
    _check_unique_names(compiler)
    entities = list(compiler.entities.values())
    _check_minimum(manifest, entities, ent_path.name)
    digest = hashlib.sha256(src_path.read_bytes() + ent_path.read_bytes()).hexdigest()[:12]
    return BundledData(
        version=f"{manifest.get('version', '0')}+{digest}",
        digest=digest,
        sources=sources,
        lists=lists,
        entities=entities,
        citations=compiler.citations,
        marks=compiler.marks,
    )


_UNBRACKET = str.maketrans({"(": " ", ")": " ", "（": " ", "）": " "})


def _check_unique_names(compiler: _Compiler) -> None:
    """A legal name (by its `fingerprints` key) belongs to one party: two parties sharing
    one would make every match on it ambiguous."""
    owner: dict[str, str] = {}
    for proxy in compiler.entities.values():
        if not proxy.schema.is_a("LegalEntity"):
            continue
        for prop in ("name", "alias", "previousName"):
            for value in proxy.get(prop, quiet=True):
                # fingerprints drops bracketed text; "(UK)" is identity here.
                key = fingerprints.generate(value.translate(_UNBRACKET))
                if not key:
                    continue
                other = owner.setdefault(key, str(proxy.id))
                if other != proxy.id:
                    raise compiler.fail(f"{proxy.id}.{prop}", f"'{value}' is also a name of "
                                        f"{other} (same fingerprint '{key}')")


def _check_minimum(manifest: dict[str, Any], entities: list[EntityProxy], file: str) -> None:
    minimum = manifest.get("minimum") or {}
    schemata = Counter(e.schema.name for e in entities)
    parties = sum(schemata[s] for s in ("Company", "Organization", "PublicBody", "Person",
                                        "LegalEntity"))
    brands = sum(1 for e in entities if "brand" in e.get("classification", quiet=True))
    per_list = Counter(lid for e in entities if e.schema.name == "Sanction"
                       for lid in e.get("programId"))
    found = {"entities": parties, "sanctions": schemata["Sanction"],
             "ownerships": schemata["Ownership"], "brands": brands}
    problems = [f"{key}: {found[key]} < {minimum[key]}" for key in found
                if key in minimum and found[key] < int(minimum[key])]
    for lid, floor in (minimum.get("lists") or {}).items():
        if per_list[lid] < int(floor):
            problems.append(f"list {lid}: {per_list[lid]} < {floor}")
    if problems:
        raise ScreenError(f"{file}: fewer facts than the manifest requires ({'; '.join(problems)});"
                          " data was lost or the manifest needs a reviewed update")


@lru_cache(maxsize=1)
def load_bundled() -> BundledData:
    """The packaged data, compiled once per process."""
    return load_from(DATA_DIR)

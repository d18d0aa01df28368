"""Call-home endpoints: the sourced list in `data/endpoints.yaml`, compiled for fast matching.

A log line names a host (a DNS query, a firewall's hostname column) or an address and port (a
flow). `EndpointIndex.match_name` walks the name's label suffixes from the longest down and
answers with the most specific entry in a few dictionary look-ups, so matching costs the same
whether the list holds thirty entries or three thousand. Bulk callers match each distinct
name once (`match_names`) and filter their batches on the result.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from camsweep.errors import KnowledgeBaseError
from camsweep.kb.loader import data_dir, read_yaml
from camsweep.kb.schema import Slug, Source

FILE_NAME = "endpoints.yaml"
_PORT = re.compile(r"^(?:(tcp|udp)/)?(\d{1,5})$")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")
_GLOB = re.compile(r"^[a-z0-9_-]*\*[a-z0-9_-]*$")

Kind = Literal["cloud", "p2p", "relay", "push", "ddns", "update", "time", "dns", "app"]
Confidence = Literal["vendor", "traffic", "client", "blocklist"]
PortText = Annotated[str, Field(pattern=_PORT.pattern)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointSpec(_Strict):
    """One service of one maker, as `endpoints.yaml` states it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+\.[a-z0-9.-]+$")]
    suffixes: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    globs: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    ports: list[PortText] = Field(default_factory=list)
    ports_required: bool = False
    maker: Slug
    service: str
    kind: Kind
    caller: Literal["device", "app"] = "device"
    identifies_maker: bool = True
    confidence: Confidence
    source: Source
    examples: list[str] = Field(min_length=1)
    near_misses: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_match(self) -> EndpointSpec:
        if not (self.suffixes or self.names or self.globs or self.addresses):
            raise ValueError("an endpoint needs suffixes, names, globs or addresses")
        if self.ports_required and not self.ports:
            raise ValueError("ports_required needs ports")
        return self


class EndpointsFile(_Strict):
    source: Source
    min_count: int = Field(ge=1)
    endpoints: list[EndpointSpec]


@dataclass(frozen=True)
class Endpoint:
    """A compiled entry: what a match reports."""

    id: str
    maker: str
    service: str
    kind: str
    caller: str
    confidence: str
    identifies_maker: bool
    ports: frozenset[tuple[str | None, int]]
    ports_required: bool
    source: str

    @property
    def attributable(self) -> bool:
        """Recorded against the device that made the call (apps and PCs are not devices)."""
        return self.caller == "device"

    def port_matches(self, port: int | None, proto: str | None = None) -> bool:
        if port is None:
            return False
        proto = proto.lower() if proto else None
        return any(p == port and (want is None or proto is None or want == proto)
                   for want, p in self.ports)

    @property
    def port_labels(self) -> list[str]:
        return sorted(f"{proto}/{port}" if proto else str(port) for proto, port in self.ports)


def normalise_name(name: str) -> str:
    """Query names as logs write them: any case, maybe a trailing root dot or spaces."""
    return name.strip().rstrip(".").lower()


@dataclass(frozen=True)
class EndpointIndex:
    """Suffix, exact-name, glob and address tables over the compiled endpoints."""

    endpoints: tuple[Endpoint, ...]
    exact: dict[str, int]
    suffix: dict[str, int]
    globs: dict[str, tuple[tuple[re.Pattern[str], int], ...]]  # parent suffix -> label globs
    addresses: dict[str, int]
    source: str
    # The last two labels of every name the list can match: a name whose last two labels are
    # not among these matches nothing, which a vectorised filter can tell first.
    tails: tuple[str, ...]

    def candidates(self, names: pl.Series) -> pl.Series:
        """The names (distinct, as given) whose tail could match: one pass in Polars."""
        unique = names.drop_nulls().unique()
        tail = unique.str.extract(r"([^.\s]+\.[^.\s]+)\.?\s*$", 1).str.to_lowercase()
        return unique.filter(tail.is_in(self.tails))

    def match_name(self, name: str) -> Endpoint | None:
        """The most specific endpoint for a host name, or None."""
        host = normalise_name(name)
        if not host:
            return None
        hit = self.exact.get(host)
        if hit is not None:
            return self.endpoints[hit]
        start = 0
        previous = -1
        while True:
            tail = host[start:]
            hit = self.suffix.get(tail)
            if hit is not None:
                return self.endpoints[hit]
            if previous >= 0 and tail in self.globs:
                label = host[previous:start - 1]
                for regex, index in self.globs[tail]:
                    if regex.fullmatch(label):
                        return self.endpoints[index]
            dot = host.find(".", start)
            if dot < 0:
                return None
            previous, start = start, dot + 1

    def match_names(self, names: Iterable[str]) -> dict[str, Endpoint]:
        """The names (as given) that match, each with its endpoint."""
        out: dict[str, Endpoint] = {}
        for name in names:
            if name:
                hit = self.match_name(name)
                if hit is not None:
                    out[name] = hit
        return out

    def match_address(self, address: str, port: int | None = None,
                      proto: str | None = None) -> Endpoint | None:
        """A documented address; one with `ports_required` only on one of its ports."""
        index = self.addresses.get(address)
        if index is None:
            return None
        endpoint = self.endpoints[index]
        if endpoint.ports_required and not endpoint.port_matches(port, proto):
            return None
        return endpoint

    def by_id(self, endpoint_id: str) -> Endpoint:
        return next(e for e in self.endpoints if e.id == endpoint_id)


def _check_name(value: str, where: str) -> str:
    name = normalise_name(value)
    labels = name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise KnowledgeBaseError(f"{where}: {value!r} is not a DNS name")
    return name


def _glob(value: str, where: str) -> tuple[str, re.Pattern[str]]:
    label, _, parent = normalise_name(value).partition(".")
    if not _GLOB.match(label) or not parent:
        raise KnowledgeBaseError(f"{where}: {value!r}: a glob is one '*' in the leftmost label")
    _check_name(parent, where)
    body = re.escape(label).replace(r"\*", "[a-z0-9_-]*")
    return parent, re.compile(body)


def _parse_port(text: str) -> tuple[str | None, int]:
    found = _PORT.match(text)
    assert found is not None  # the schema checked the pattern
    port = int(found.group(2))
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} out of range")
    return found.group(1), port


def compile_endpoints(spec: EndpointsFile, known_makers: set[str] | None = None,
                      file: str = FILE_NAME) -> EndpointIndex:
    """Check references and overlaps, then build the look-up tables."""
    endpoints: list[Endpoint] = []
    exact: dict[str, int] = {}
    suffix: dict[str, int] = {}
    globs: dict[str, list[tuple[re.Pattern[str], int]]] = {}
    addresses: dict[str, int] = {}
    seen_ids: set[str] = set()

    def claim(table: dict[str, int], key: str, index: int, where: str) -> None:
        other = table.get(key)
        if other is not None and other != index:
            raise KnowledgeBaseError(f"{where}: {key!r} is also in {endpoints[other].id}")
        table[key] = index

    for i, entry in enumerate(spec.endpoints):
        where = f"{file}: field 'endpoints.{i}' ({entry.id})"
        if entry.id in seen_ids:
            raise KnowledgeBaseError(f"{where}.id: duplicate id")
        seen_ids.add(entry.id)
        if known_makers is not None and entry.maker not in known_makers:
            raise KnowledgeBaseError(f"{where}.maker: unknown slug '{entry.maker}'")
        try:
            ports = frozenset(_parse_port(p) for p in entry.ports)
        except ValueError as exc:
            raise KnowledgeBaseError(f"{where}.ports: {exc}") from exc
        index = len(endpoints)
        endpoints.append(Endpoint(entry.id, entry.maker, entry.service, entry.kind, entry.caller,
                                  entry.confidence, entry.identifies_maker, ports,
                                  entry.ports_required, entry.source))
        for name in entry.names:
            claim(exact, _check_name(name, f"{where}.names"), index, f"{where}.names")
        for name in entry.suffixes:
            claim(suffix, _check_name(name, f"{where}.suffixes"), index, f"{where}.suffixes")
        for pattern in entry.globs:
            parent, regex = _glob(pattern, f"{where}.globs")
            globs.setdefault(parent, []).append((regex, index))
        for address in entry.addresses:
            try:
                text = str(ipaddress.ip_address(address))
            except ValueError as exc:
                raise KnowledgeBaseError(f"{where}.addresses: {address!r} is not an IP "
                                         "address") from exc
            claim(addresses, text, index, f"{where}.addresses")
    if len(endpoints) < spec.min_count:
        raise KnowledgeBaseError(f"{file}: field 'min_count': {len(endpoints)} endpoints, fewer "
                                 f"than {spec.min_count}; it shrank, check the source")
    tails = sorted({".".join(k.split(".")[-2:]) for k in [*exact, *suffix, *globs]})
    return EndpointIndex(tuple(endpoints), exact, suffix,
                         {k: tuple(v) for k, v in globs.items()}, addresses, spec.source,
                         tuple(tails))


def load_endpoints_from(path: Path, known_makers: set[str] | None = None) -> EndpointIndex:
    try:
        spec = read_yaml(path, EndpointsFile)
    except ValidationError as exc:  # pragma: no cover - read_yaml wraps these already
        raise KnowledgeBaseError(f"{path.name}: {exc}") from exc
    return compile_endpoints(spec, known_makers, path.name)


@lru_cache(maxsize=2)
def load_endpoints(path: str | None = None) -> EndpointIndex:
    """The bundled endpoint list, checked against the KB's maker slugs, loaded once."""
    from camsweep.kb import load_kb

    kb = load_kb()
    return load_endpoints_from(Path(path) if path else data_dir() / FILE_NAME,
                               set(kb.manufacturers))


# --- examples as tests -------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointCase:
    """One example (must match its entry) or near-miss (must match nothing)."""

    endpoint: str
    value: str
    must_match: bool

    def run(self, index: EndpointIndex) -> str | None:
        """None when the case holds, else what went wrong."""
        host, _, port_text = self.value.rpartition(":") if _is_address_port(self.value) \
            else (self.value, "", "")
        if host and _is_ip(host):
            hit = index.match_address(host, int(port_text) if port_text else None)
        else:
            hit = index.match_name(self.value)
        if self.must_match:
            if hit is None:
                return "expected a match, got none"
            if hit.id != self.endpoint:
                return f"matched {hit.id} instead"
            return None
        return None if hit is None else f"near-miss matched {hit.id}"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_address_port(text: str) -> bool:
    host, sep, port = text.rpartition(":")
    return bool(sep) and port.isdigit() and _is_ip(host)


def endpoint_cases(path: Path | None = None) -> list[EndpointCase]:
    spec = read_yaml(path or data_dir() / FILE_NAME, EndpointsFile)
    return [EndpointCase(e.id, value, must)
            for e in spec.endpoints
            for value, must in [*((v, True) for v in e.examples),
                                *((v, False) for v in e.near_misses)]]


def validate_endpoints(index: EndpointIndex | None = None,
                       path: Path | None = None) -> tuple[int, list[str]]:
    """Run every example and near-miss; returns (cases run, failures as 'file: id: value: why')."""
    index = index or load_endpoints()
    cases = endpoint_cases(path)
    failures = []
    for case in cases:
        problem = case.run(index)
        if problem:
            failures.append(f"{FILE_NAME}: {case.endpoint}: {case.value!r}: {problem}")
    return len(cases), failures

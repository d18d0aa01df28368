"""The authorised scope, scan targets, and the refusal of anything outside the scope.

A scope file lists what may be probed, one entry a line: a CIDR (`10.1.0.0/24`), a range
(`10.1.0.10-10.1.0.50`, or `10.1.0.10-50`) or a single address; `#` starts a comment. Or YAML:
a list of `{cidr, owner, note}` mappings (`cidr` may also hold a range or an address, and an
optional `site` names the site_id the network belongs to, so a scan can merge by IP within it).

Targets (CIDRs, ranges, addresses, host names, or `@FILE` with one target a line) are expanded
and checked against the scope *before* anything is sent: `authorise()` raises `ScopeError`
naming every target that is not wholly inside the scope, and returns nothing in that case.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from camsweep.errors import InputError, RowError, ScopeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# A scan of more hosts than this is almost always a typo (a /8 for a /24); refuse it early.
MAX_TARGETS = 1 << 20


@dataclass(frozen=True)
class Span:
    """An inclusive range of addresses of one IP version."""

    first: IPAddress
    last: IPAddress

    def __post_init__(self) -> None:
        if self.first.version != self.last.version:
            raise ValueError("range mixes IPv4 and IPv6")
        if int(self.last) < int(self.first):
            raise ValueError(f"range end {self.last} is before its start {self.first}")

    @property
    def size(self) -> int:
        return int(self.last) - int(self.first) + 1

    def contains(self, ip: IPAddress) -> bool:
        return ip.version == self.first.version and int(self.first) <= int(ip) <= int(self.last)

    def covers(self, other: Span) -> bool:
        return self.contains(other.first) and self.contains(other.last)

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


def parse_span(text: str) -> Span:
    """A CIDR, an `a-b` range (b may be just the last octet) or one address."""
    value = text.strip()
    if not value:
        raise ValueError("empty entry")
    if "-" in value:
        left, right = (p.strip() for p in value.split("-", 1))
        first = ipaddress.ip_address(left)
        if first.version == 4 and right.isdigit():
            right = ".".join([*left.split(".")[:3], right])
        return Span(first, ipaddress.ip_address(right))
    if "/" in value:
        net = ipaddress.ip_network(value, strict=False)
        return Span(net.network_address, net.broadcast_address)
    ip = ipaddress.ip_address(value)
    return Span(ip, ip)


@dataclass(frozen=True)
class ScopeEntry:
    span: Span
    owner: str | None = None
    note: str | None = None
    site: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Scope:
    """What the operator is authorised to probe, and where that authority was written down."""

    entries: tuple[ScopeEntry, ...]
    path: str = "(scope)"

    def entry_for(self, ip: IPAddress) -> ScopeEntry | None:
        for entry in self.entries:
            if entry.span.contains(ip):
                return entry
        return None

    def contains(self, ip: IPAddress | str) -> bool:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        return self.entry_for(addr) is not None

    def uncovered(self, span: Span) -> list[Span]:
        """The parts of `span` that no scope entry covers (empty when it is wholly inside)."""
        same = (e.span for e in self.entries if e.span.first.version == span.first.version)
        pieces = sorted(same, key=lambda s: int(s.first))
        gaps: list[Span] = []
        cursor = int(span.first)
        end = int(span.last)
        make = type(span.first)
        for piece in pieces:
            if int(piece.last) < cursor:
                continue
            if int(piece.first) > end:
                break
            if int(piece.first) > cursor:
                gaps.append(Span(make(cursor), make(int(piece.first) - 1)))
            cursor = max(cursor, int(piece.last) + 1)
            if cursor > end:
                break
        if cursor <= end:
            gaps.append(Span(make(cursor), make(end)))
        return gaps

    def site_for(self, ip: IPAddress) -> str | None:
        entry = self.entry_for(ip)
        return entry.site if entry else None

    def networks(self) -> list[Span]:
        return [e.span for e in self.entries]


def _is_yaml(text: str, path: Path) -> bool:
    if path.suffix.lower() in (".yaml", ".yml"):
        return True
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            return stripped.startswith("- ") or stripped == "-"
    return False


def _yaml_entries(text: str, name: str) -> tuple[list[ScopeEntry], list[RowError]]:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError.of(f"scope file {name}", [RowError(name, row, None,
                                                            f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, list):
        raise InputError.of(f"scope file {name}", [RowError(
            name, None, None, "YAML scope must be a list of {cidr, owner, note} mappings")])
    entries: list[ScopeEntry] = []
    errors: list[RowError] = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict) or "cidr" not in item:
            errors.append(RowError(name, i, "cidr", "each item needs a 'cidr' key"))
            continue
        unknown = set(item) - {"cidr", "owner", "note", "site"}
        if unknown:
            errors.append(RowError(name, i, None, f"unknown key(s) {sorted(unknown)}; "
                                                  "known: cidr, owner, note, site"))
            continue
        try:
            span = parse_span(str(item["cidr"]))
        except ValueError as exc:
            errors.append(RowError(name, i, "cidr", f"{item['cidr']!r}: {exc}"))
            continue

        def opt(key: str, item: dict[str, Any] = item) -> str | None:
            value = item.get(key)
            return None if value is None else str(value)

        entries.append(ScopeEntry(span, opt("owner"), opt("note"), opt("site"), i))
    return entries, errors


def _text_entries(text: str, name: str) -> tuple[list[ScopeEntry], list[RowError]]:
    entries: list[ScopeEntry] = []
    errors: list[RowError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        body, _, comment = raw.partition("#")
        value = body.strip()
        if not value:
            continue
        try:
            entries.append(ScopeEntry(parse_span(value), note=comment.strip() or None,
                                      line=number))
        except ValueError as exc:
            errors.append(RowError(name, number, None, f"{value!r} is not a CIDR, range or "
                                                       f"address ({exc})"))
    return entries, errors


def parse_scope(text: str, name: str = "(scope)", path: Path | None = None) -> Scope:
    """Parse scope text; any bad line makes the whole scope an error (nothing is authorised)."""
    as_yaml = _is_yaml(text, path or Path(name))
    entries, errors = _yaml_entries(text, name) if as_yaml else _text_entries(text, name)
    if errors:
        raise InputError.of(f"scope file {name}", errors)
    if not entries:
        raise ScopeError(f"scope file {name} authorises nothing: add one CIDR, range or address "
                         "per line")
    return Scope(tuple(entries), name)


def load_scope(path: Path | str) -> Scope:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScopeError(f"cannot read scope file {file}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputError.of(f"scope file {file}", [RowError(str(file), None, None,
                                                            "not UTF-8 text")]) from exc
    return parse_scope(text, str(file), file)


# --- targets ---------------------------------------------------------------------------------

Resolver = Callable[[str], list[IPAddress]]


def resolve_name(name: str) -> list[IPAddress]:
    """Addresses of a host name from the system resolver (which asks DNS, not the target)."""
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ScopeError(f"target {name!r}: cannot resolve host name ({exc.strerror})") from exc
    seen: dict[str, IPAddress] = {}
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        seen.setdefault(str(addr), addr)
    return list(seen.values())


@dataclass(frozen=True)
class Target:
    text: str  # as the user wrote it
    spans: tuple[Span, ...]


def _target_lines(spec: str) -> Iterator[str]:
    if spec.startswith("@"):
        file = Path(spec[1:])
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScopeError(f"cannot read target file {file}: {exc.strerror}") from exc
        for raw in text.splitlines():
            value = raw.split("#", 1)[0].strip()
            if value:
                yield value
        return
    yield from spec.replace(",", " ").split()


def parse_targets(specs: Iterable[str], resolver: Resolver = resolve_name) -> list[Target]:
    """Targets as written; host names are resolved (that asks the DNS resolver, not the host)."""
    out: list[Target] = []
    for spec in specs:
        for value in _target_lines(spec):
            try:
                out.append(Target(value, (parse_span(value),)))
                continue
            except ValueError:
                pass
            if not any(c.isalpha() for c in value) or "/" in value:
                raise ScopeError(f"target {value!r} is not an address, CIDR, range or host name")
            out.append(Target(value, tuple(Span(a, a) for a in resolver(value))))
    return out


def _expand(span: Span) -> Iterator[IPAddress]:
    make = type(span.first)
    first, last = int(span.first), int(span.last)
    for value in range(first, last + 1):
        yield make(value)


def _hosts(target: Target) -> Iterator[IPAddress]:
    # A whole IPv4 network given as a CIDR skips its network and broadcast addresses.
    for span in target.spans:
        if "/" in target.text and span.first.version == 4 and span.size > 2:
            make = type(span.first)
            inner = Span(make(int(span.first) + 1), make(int(span.last) - 1))
            yield from _expand(inner)
        else:
            yield from _expand(span)


@dataclass
class Authorised:
    """Targets that passed the scope check, expanded to hosts, in order and without repeats."""

    hosts: list[IPAddress] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


def authorise(targets: Sequence[Target], scope: Scope, limit: int = MAX_TARGETS) -> Authorised:
    """Every host of every target, or `ScopeError` naming whatever lies outside the scope.

    Nothing is returned unless *all* targets are wholly inside the scope: a half-authorised
    scan is a mistake to fix, not a scan to run partly.
    """
    if not targets:
        raise ScopeError("no targets given: name addresses, CIDRs, ranges or host names")
    refused: list[str] = []
    total = 0
    for target in targets:
        for span in target.spans:
            gaps = scope.uncovered(span)
            if gaps:
                shown = ", ".join(str(g) for g in gaps[:5]) + (" ..." if len(gaps) > 5 else "")
                refused.append(f"{target.text} ({shown})" if str(span) != shown else target.text)
            total += span.size
    if refused:
        raise ScopeError(
            f"refused: {len(refused)} target(s) outside the authorised scope {scope.path}: "
            + "; ".join(refused[:20]) + (" ..." if len(refused) > 20 else "")
            + ". Nothing was sent. Add the networks to the scope file only if you are "
            "authorised to probe them.")
    if total > limit:
        raise ScopeError(f"{total} addresses to scan is more than the limit of {limit}: "
                         "split the scan or narrow the targets")
    seen: set[IPAddress] = set()
    out = Authorised(targets=list(targets))
    for target in targets:
        for host in _hosts(target):
            if host not in seen:
                seen.add(host)
                out.hosts.append(host)
    return out


class ScopeGuard:
    """The last check before a packet: every probe asks it, so nothing can slip past.

    `authorise()` decides what a scan may touch; the guard enforces it at the socket, for
    addresses learnt during the scan too (a redirect, an XAddr, an SSDP LOCATION).
    """

    def __init__(self, scope: Scope, hosts: Iterable[IPAddress]) -> None:
        self.scope = scope
        self._hosts = frozenset(str(h) for h in hosts)

    def allows(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return str(ip) in self._hosts and self.scope.contains(ip)

    def check(self, host: str) -> None:
        if not self.allows(host):
            raise ScopeError(f"{host} is not an authorised target of this scan; nothing was sent")

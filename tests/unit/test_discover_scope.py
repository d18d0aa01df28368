"""Scope files, target expansion, and refusal of anything outside the scope (no packets here:
the addresses are documentation ranges, RFC 5737, used as data only)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from camsweep.discover.scope import (
    ScopeGuard,
    Span,
    authorise,
    load_scope,
    parse_scope,
    parse_span,
    parse_targets,
)
from camsweep.errors import InputError, ScopeError

TEXT_SCOPE = """\
# estates network, authorised by ticket CHG-1234
192.0.2.0/25          # cameras, building A
198.51.100.10-198.51.100.20
203.0.113.7
"""

YAML_SCOPE = """\
- cidr: 192.0.2.0/24
  owner: Estates
  note: CCTV VLAN
  site: S-1
- {cidr: 198.51.100.10-20, owner: Estates, note: recorders}
"""


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_text_scope_lines_comments_and_kinds() -> None:
    scope = parse_scope(TEXT_SCOPE, "scope.txt")
    assert [str(e.span) for e in scope.entries] == [
        "192.0.2.0-192.0.2.127", "198.51.100.10-198.51.100.20", "203.0.113.7"]
    assert scope.entries[0].note == "cameras, building A"
    assert scope.entries[0].line == 2
    assert scope.contains("192.0.2.127") and not scope.contains("192.0.2.128")
    assert scope.contains("203.0.113.7") and not scope.contains("203.0.113.8")


def test_yaml_scope_with_owner_note_and_site(tmp_path: Path) -> None:
    path = tmp_path / "scope.yaml"
    path.write_text(YAML_SCOPE)
    scope = load_scope(path)
    assert scope.entries[0].owner == "Estates" and scope.entries[0].site == "S-1"
    assert str(scope.entries[1].span) == "198.51.100.10-198.51.100.20"
    assert scope.site_for(ip("192.0.2.9")) == "S-1"
    assert scope.site_for(ip("198.51.100.11")) is None


def test_yaml_detected_without_extension() -> None:
    scope = parse_scope(YAML_SCOPE, "scope")
    assert len(scope.entries) == 2


@pytest.mark.parametrize(("text", "line"), [
    ("192.0.2.0/24\nnot-a-network\n", 2),
    ("192.0.2.0/24\n192.0.2.20-192.0.2.10\n", 2),
    ("192.0.2.300\n", 1),
])
def test_bad_scope_line_is_an_error_naming_the_line(text: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        parse_scope(text, "scope.txt")
    assert info.value.errors[0].row == line
    assert "scope.txt" in str(info.value.errors[0])


def test_bad_yaml_scope_items() -> None:
    with pytest.raises(InputError) as info:
        parse_scope("- cidr: 192.0.2.0/24\n  colour: blue\n- owner: x\n", "s.yaml")
    assert [e.row for e in info.value.errors] == [1, 2]


def test_empty_scope_authorises_nothing() -> None:
    with pytest.raises(ScopeError, match="authorises nothing"):
        parse_scope("# nothing yet\n\n", "scope.txt")


def test_spans() -> None:
    assert parse_span("192.0.2.10-20") == Span(ip("192.0.2.10"), ip("192.0.2.20"))
    assert parse_span("192.0.2.0/30").size == 4
    assert parse_span("2001:db8::1").size == 1
    with pytest.raises(ValueError, match="mixes"):
        parse_span("192.0.2.1-2001:db8::1")


def test_targets_expand_in_order_without_repeats_and_skip_network_broadcast() -> None:
    scope = parse_scope("192.0.2.0/24\n")
    plan = authorise(parse_targets(["192.0.2.0/30", "192.0.2.2", "192.0.2.5-6"]), scope)
    assert [str(h) for h in plan.hosts] == ["192.0.2.1", "192.0.2.2", "192.0.2.5", "192.0.2.6"]


def test_target_file_and_host_names(tmp_path: Path) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text("# lab\n192.0.2.1\ncam-1.example.test  # resolved by the resolver\n")
    resolved = parse_targets([f"@{listing}"], resolver=lambda name: [ip("192.0.2.9")])
    assert [t.text for t in resolved] == ["192.0.2.1", "cam-1.example.test"]
    plan = authorise(resolved, parse_scope("192.0.2.0/24\n"))
    assert [str(h) for h in plan.hosts] == ["192.0.2.1", "192.0.2.9"]


def test_any_target_outside_refuses_the_whole_scan() -> None:
    scope = parse_scope(TEXT_SCOPE)
    with pytest.raises(ScopeError) as info:
        authorise(parse_targets(["192.0.2.1", "192.0.2.0/24", "203.0.113.8"]), scope)
    message = str(info.value)
    assert "2 target(s) outside" in message
    assert "192.0.2.128-192.0.2.255" in message and "203.0.113.8" in message
    assert "Nothing was sent" in message


def test_a_range_covered_by_two_entries_is_inside() -> None:
    scope = parse_scope("192.0.2.0/25\n192.0.2.128/25\n")
    assert authorise(parse_targets(["192.0.2.0/24"]), scope).hosts[-1] == ip("192.0.2.254")
    assert scope.uncovered(parse_span("192.0.2.0-192.0.3.0")) == [Span(ip("192.0.3.0"),
                                                                      ip("192.0.3.0"))]


def test_too_many_targets_and_none() -> None:
    scope = parse_scope("10.0.0.0/8\n")
    with pytest.raises(ScopeError, match="more than the limit"):
        authorise(parse_targets(["10.0.0.0/8"]), scope, limit=1000)
    with pytest.raises(ScopeError, match="no targets"):
        authorise([], scope)


def test_guard_allows_only_authorised_hosts_inside_the_scope() -> None:
    scope = parse_scope("192.0.2.0/24\n")
    guard = ScopeGuard(scope, [ip("192.0.2.5")])
    assert guard.allows("192.0.2.5")
    assert not guard.allows("192.0.2.6")  # in scope, but not a target of this scan
    assert not guard.allows("198.51.100.1")
    assert not guard.allows("camera.example.test")
    with pytest.raises(ScopeError, match="nothing was sent"):
        guard.check("198.51.100.1")


def test_bad_target_text() -> None:
    with pytest.raises(ScopeError, match="not an address"):
        parse_targets(["192.0.2.0/99"])

"""The call-home endpoint list: every example and near-miss runs; the loader guards the data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.errors import KnowledgeBaseError
from camsweep.kb import data_dir, load_kb
from camsweep.kb.endpoints import (
    FILE_NAME,
    EndpointCase,
    EndpointsFile,
    compile_endpoints,
    endpoint_cases,
    load_endpoints,
    normalise_name,
    validate_endpoints,
)
from camsweep.kb.match import fingerprint_hits

CASES = endpoint_cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.endpoint}:{c.value}" for c in CASES])
def test_example(case: EndpointCase) -> None:
    assert case.run(load_endpoints()) is None


def test_examples_cover_every_entry_and_validate_reports_none_failing() -> None:
    index = load_endpoints()
    assert {c.endpoint for c in CASES if c.must_match} == {e.id for e in index.endpoints}
    count, failures = validate_endpoints(index)
    assert count == len(CASES) > 100 and failures == []


def test_device_endpoints_identify_their_maker() -> None:
    """What import records as a call home must also be evidence identify can weigh."""
    kb, index = load_kb(), load_endpoints()
    for case in (c for c in CASES if c.must_match):
        endpoint = index.by_id(case.endpoint)
        if not (endpoint.attributable and endpoint.identifies_maker):
            continue
        value = normalise_name(case.value)
        makers = {h.rule.maker for h in fingerprint_hits(kb, "calls_home", value)}
        assert endpoint.maker in makers, f"{case.value}: no calls_home fingerprint for it"


def test_longest_match_wins_and_labels_are_whole() -> None:
    index = load_endpoints()
    assert index.match_name("dev.hik-connect.com").id == "hikvision.hik-connect-register"
    assert index.match_name("api.hik-connect.com").caller == "app"
    assert index.match_name("a.b.lbs.dev.hik-connect.com.") is not None
    assert index.match_name("notdev.hik-connect.com") is None
    assert index.match_name("p2p12.reolink.com").id == "reolink.p2p"
    assert index.match_name("cdn.p2p12.reolink.com").id == "reolink.p2p"
    assert index.match_name("www.reolink.com") is None and index.match_name("") is None
    assert index.match_address("114.114.114.114", 53, "udp") is not None
    assert index.match_address("114.114.114.114", 53, "tcp") is not None
    assert index.match_address("114.114.114.114", None) is None


def _spec() -> dict[str, object]:
    loaded = yaml.safe_load((data_dir() / FILE_NAME).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _entry(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "test.one", "suffixes": ["one.example.com"],
                               "maker": "hikvision", "service": "test", "kind": "cloud",
                               "confidence": "vendor", "source": "https://example.org/doc",
                               "examples": ["one.example.com"]}
    return {**base, **changes}


@pytest.mark.parametrize(("entries", "min_count", "message"), [
    ([_entry(), _entry()], 1, "duplicate id"),
    ([_entry(), _entry(id="test.two")], 1, "is also in test.one"),
    ([_entry(suffixes=["not a name"])], 1, "is not a DNS name"),
    ([_entry(globs=["a*b*.example.com"], suffixes=[])], 1, "one '\\*' in the leftmost"),
    ([_entry(maker="nobody")], 1, "unknown slug 'nobody'"),
    ([_entry(addresses=["300.1.1.1"], suffixes=[])], 1, "is not an IP address"),
    ([_entry()], 2, "fewer than 2; it shrank"),
])
def test_loader_refuses_bad_data(entries: list[dict[str, object]], min_count: int,
                                 message: str) -> None:
    spec = EndpointsFile.model_validate({"source": "hand-curated, tests", "min_count": min_count,
                                         "endpoints": entries})
    with pytest.raises(KnowledgeBaseError, match=message):
        compile_endpoints(spec, set(load_kb().manufacturers))


def test_schema_needs_sources_and_something_to_match(tmp_path: Path) -> None:
    from camsweep.kb.endpoints import load_endpoints_from

    spec = _spec()
    entries = spec["endpoints"]
    assert isinstance(entries, list)
    del entries[0]["source"]
    path = tmp_path / FILE_NAME
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="source"):
        load_endpoints_from(path)
    with pytest.raises(ValueError, match="needs suffixes, names, globs or addresses"):
        EndpointsFile.model_validate({"source": "hand-curated, tests", "min_count": 1,
                                      "endpoints": [_entry(suffixes=[])]})


def test_kb_validate_runs_the_endpoint_examples() -> None:
    result = CliRunner().invoke(app, ["kb", "validate"])
    assert result.exit_code == 0, result.output
    assert f"{len(load_endpoints().endpoints)} call-home endpoints" in result.output

"""Every bundled policy's example devices, and every vulnerability example, as a test."""

from __future__ import annotations

import pytest

from camsweep.kb import load_kb
from camsweep.policy import bundled_policies, load_vulnerabilities, run_examples
from camsweep.policy.selftest import run_example
from camsweep.policy.vulns import self_test

POLICIES = bundled_policies()
CASES = [(pid, i) for pid, lp in sorted(POLICIES.items()) for i in range(len(lp.policy.examples))]


@pytest.mark.parametrize(("policy_id", "index"), CASES,
                         ids=[f"{p}#{i + 1}" for p, i in CASES])
def test_policy_example(policy_id: str, index: int) -> None:
    lp = POLICIES[policy_id]
    result = run_example(lp, index, lp.policy.examples[index], load_kb(), load_vulnerabilities())
    assert result.ok, f"{lp.policy.examples[index].name}: {result.problems}"


def test_every_bundled_policy_has_examples_and_citations() -> None:
    expected = {"uk-wms-2022", "uk-sensitive-sites-removal", "us-ndaa-889",
                "us-fcc-covered-list", "au-commonwealth-2023", "programme-template"}
    assert expected <= set(POLICIES)
    for lp in POLICIES.values():
        assert len(lp.policy.examples) >= 4, lp.id
        assert all(c.url.startswith("http") for c in lp.policy.legal_basis.citations)
        assert all(r.cite for r in lp.policy.rules)


def test_examples_cover_every_status() -> None:
    statuses = {ex.expect.status for lp in POLICIES.values() for ex in lp.policy.examples}
    assert statuses == {"non_compliant", "compliant", "needs_survey", "exempt"}


def test_run_examples_reports_each() -> None:
    lp = POLICIES["uk-wms-2022"]
    results = run_examples(lp, load_kb(), load_vulnerabilities())
    assert len(results) == len(lp.policy.examples) and all(r.ok for r in results)


def test_vulnerability_examples_pass_and_list_is_guarded() -> None:
    index = load_vulnerabilities()
    assert self_test(index) == []
    assert len(index.data.vulnerabilities) >= index.data.min_count
    cves = {v.cve for v in index.data.vulnerabilities}
    assert {"CVE-2021-36260", "CVE-2017-7921", "CVE-2021-33044", "CVE-2021-33045"} <= cves
    for v in index.data.vulnerabilities:
        assert v.sources and v.kev.source

"""Every example and counterexample in the knowledge base runs as its own test."""

from __future__ import annotations

import pytest

from camsweep.kb import load_kb
from camsweep.kb.validate import ExampleCase, example_cases

CASES = example_cases(load_kb())


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}:{c.rule}:{c.value}" for c in CASES])
def test_example(case: ExampleCase) -> None:
    failures = case.run(load_kb())
    assert not failures, "\n".join(str(f) for f in failures)


def test_every_rule_has_examples() -> None:
    kb = load_kb()
    assert all(r.rule.examples for r in kb.model_rules)
    assert all(fp.rule.examples for rules in kb.fingerprints.values() for fp in rules)
    assert len(CASES) > 400

"""Run every example and counterexample in the KB through the matching code.

Loading already checks the schema and every reference; this checks behaviour: a rule
must match what its examples say and extract what they expect, must not match its
counterexamples, and no look-alike word may resolve to a brand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from camsweep.kb.match import brand_mentions, fingerprint_hits, model_hits, port_hits
from camsweep.kb.model import KnowledgeBase


@dataclass(frozen=True)
class ExampleFailure:
    file: str
    rule: str
    value: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.rule}: {self.value!r}: {self.problem}"


@dataclass(frozen=True)
class ExampleCase:
    """One example, runnable on its own (the test suite parametrises over these)."""

    file: str
    rule: str
    value: str
    kind: str  # model | fingerprint | port | lookalike | alias

    def run(self, kb: KnowledgeBase) -> list[ExampleFailure]:
        return list(_RUNNERS[self.kind](kb, self))


def _fail(case: ExampleCase, problem: str) -> ExampleFailure:
    return ExampleFailure(case.file, case.rule, case.value, problem)


def _run_model(kb: KnowledgeBase, case: ExampleCase) -> Iterator[ExampleFailure]:
    rule = next(c.rule for c in kb.model_rules if c.rule.id == case.rule)
    hits = {h.rule.id: h for h in model_hits(kb, case.value)}
    counter = case.value in rule.counterexamples
    example = None if counter else next(e for e in rule.examples if e.value == case.value)
    brand_ok = not rule.requires_brand or (
        example is not None and example.brand in rule.requires_brand
    )
    hit = hits.get(rule.id) if brand_ok else None
    should_match = example is not None and example.matches
    if not should_match:
        if hit is not None:
            yield _fail(case, f"must not match, but matched {hit.model!r}")
        return
    assert example is not None
    if hit is None:
        yield _fail(case, "expected a match, got none")
        return
    for name, expected, got in (
        ("model", example.model, hit.model),
        (
            "device_type",
            example.device_type.value if example.device_type else None,
            hit.device_type,
        ),
        ("series", example.series, hit.series),
    ):
        if expected is not None and expected != got:
            yield _fail(case, f"{name}: expected {expected!r}, got {got!r}")
    for other in hits.values():
        if (
            other.rule.maker != rule.maker
            and not other.rule.requires_brand
            and other.rule.weight >= rule.weight
        ):
            yield _fail(
                case,
                f"also matched by {other.rule.id} ({other.rule.maker}) at equal or higher weight",
            )


def _run_fingerprint(kb: KnowledgeBase, case: ExampleCase) -> Iterator[ExampleFailure]:
    field = case.file.removeprefix("fingerprints/").removesuffix(".yaml")
    compiled = next(c for c in kb.fingerprints[field] if c.rule.id == case.rule)
    rule = compiled.rule
    hit = next((h for h in fingerprint_hits(kb, field, case.value) if h.rule.id == rule.id), None)
    if case.value in rule.counterexamples:
        if hit is not None:
            yield _fail(case, "counterexample matched")
        return
    example = next(e for e in rule.examples if e.value == case.value)
    if hit is None:
        yield _fail(case, "expected a match, got none")
        return
    captures = dict(hit.captures)
    for name, expected in example.captures.items():
        if captures.get(name) != expected:
            yield _fail(case, f"capture {name}: expected {expected!r}, got {captures.get(name)!r}")
    if example.maker is not None and example.maker != rule.maker:
        yield _fail(case, f"maker: expected {example.maker}, rule says {rule.maker}")


def _run_port(kb: KnowledgeBase, case: ExampleCase) -> Iterator[ExampleFailure]:
    rule = next(r for r in kb.port_rules if r.id == case.rule)
    for example in rule.examples:
        if str(example.open_ports) != case.value:
            continue
        matched = rule in port_hits(kb, frozenset(example.open_ports))
        if matched != example.matches:
            yield _fail(case, f"expected matches={example.matches}, got {matched}")


def _run_lookalike(kb: KnowledgeBase, case: ExampleCase) -> Iterator[ExampleFailure]:
    mentions = brand_mentions(kb, case.value)
    if mentions:
        yield _fail(case, f"look-alike resolved to brand(s) {[m.brand for m in mentions]}")


def _run_alias(kb: KnowledgeBase, case: ExampleCase) -> Iterator[ExampleFailure]:
    brands = {m.brand for m in brand_mentions(kb, case.value)}
    if case.rule not in brands:
        yield _fail(case, f"alias does not resolve to its brand (got {sorted(brands)})")


_RUNNERS = {
    "model": _run_model,
    "fingerprint": _run_fingerprint,
    "port": _run_port,
    "lookalike": _run_lookalike,
    "alias": _run_alias,
}


def example_cases(kb: KnowledgeBase) -> list[ExampleCase]:
    cases: list[ExampleCase] = []
    for compiled in kb.model_rules:
        rule = compiled.rule
        values = [e.value for e in rule.examples] + list(rule.counterexamples)
        cases += [ExampleCase("models.yaml", rule.id, v, "model") for v in values]
    for field, rules in kb.fingerprints.items():
        for fp in rules:
            values = [e.value for e in fp.rule.examples] + list(fp.rule.counterexamples)
            cases += [
                ExampleCase(f"fingerprints/{field}.yaml", fp.rule.id, v, "fingerprint")
                for v in values
            ]
    for port_rule in kb.port_rules:
        cases += [
            ExampleCase("ports.yaml", port_rule.id, str(e.open_ports), "port")
            for e in port_rule.examples
        ]
    words = sorted(kb.lookalike_words) + list(kb.lookalike_phrases)
    cases += [ExampleCase("brands.yaml", "lookalikes", w, "lookalike") for w in words]
    for brand in kb.brands.values():
        cases += [
            ExampleCase("brands.yaml", brand.id, a, "alias") for a in [brand.name, *brand.aliases]
        ]
    return cases


def validate_kb(kb: KnowledgeBase) -> tuple[int, list[ExampleFailure]]:
    """Run every example; returns (examples run, failures)."""
    cases = example_cases(kb)
    failures = [f for case in cases for f in case.run(kb)]
    return len(cases), failures

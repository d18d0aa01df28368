"""A policy file's examples are its tests: each example device must get the stated status
and exactly the stated findings (`camsweep policy test FILE`, and a parametrised pytest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from camsweep.kb import KnowledgeBase
from camsweep.policy.engine import DeviceAssessment, evaluate, prepare
from camsweep.policy.facts import ComponentFact, DeviceFacts, ProductBom
from camsweep.policy.loader import LoadedPolicy, merge_params
from camsweep.policy.schema import Example, ExampleDevice, ExpectedFinding
from camsweep.policy.vulns import VulnerabilityIndex

EXAMPLE_CONFIDENCE = 0.95
EXAMPLE_BOM = "example-bom"


@dataclass(frozen=True)
class ExampleResult:
    policy: str
    index: int
    name: str
    problems: tuple[str, ...]
    assessment: DeviceAssessment

    @property
    def ok(self) -> bool:
        return not self.problems


def example_facts(d: ExampleDevice) -> tuple[DeviceFacts, tuple[ProductBom, ...]]:
    confidence = d.confidence
    if confidence is None and (d.manufacturer_id or d.restricted):
        confidence = EXAMPLE_CONFIDENCE
    boms: tuple[ProductBom, ...] = ()
    if d.components is not None:
        parts = tuple(ComponentFact(c.name, c.supplier, c.maker, c.country, c.depth,
                                    f"{d.model or 'device'} > {c.name}") for c in d.components)
        boms = (ProductBom(EXAMPLE_BOM, d.model or "device", d.manufacturer_id,
                           "example BOM", parts),)
    facts = DeviceFacts(
        asset_id=d.asset_id, site_id=d.site_id, department=d.department, region=d.region,
        sensitivity=d.sensitivity, organisation_type=d.organisation_type,
        device_type=d.device_type, manufacturer_id=d.manufacturer_id, oem_of=d.oem_of,
        restricted=d.restricted, confidence=confidence, brand=d.brand, model=d.model,
        firmware=d.firmware, install_date=d.install_date, recorded_date=d.recorded_date,
        calls_home=d.calls_home, on_core_network=d.on_core_network,
        internet_exposed=d.internet_exposed, bom=EXAMPLE_BOM if boms else None,
    )
    return facts, boms


Got = tuple[str, str, date | None, int, tuple[str, ...]]


def _compare(kind: str, expected: list[ExpectedFinding], got: list[Got]) -> list[str]:
    problems = []
    want = {(e.rule, e.action) for e in expected}
    have = {(g[0], g[1]) for g in got}
    for rule, action in sorted(want - have):
        problems.append(f"expected {kind} finding {rule}/{action} is missing")
    for rule, action in sorted(have - want):
        problems.append(f"unexpected {kind} finding {rule}/{action}")
    by_key = {(g[0], g[1]): g for g in got}
    for e in expected:
        g = by_key.get((e.rule, e.action))
        if g is None:
            continue
        deadline, priority, reasons = g[2], g[3], g[4]
        if e.deadline is not None:
            want_deadline = None if e.deadline == "none" else e.deadline
            if deadline != want_deadline:
                problems.append(f"{e.rule}/{e.action}: deadline {deadline}, expected "
                                f"{want_deadline}")
        if e.priority is not None and priority != e.priority:
            problems.append(f"{e.rule}/{e.action}: priority {priority}, expected {e.priority}")
        if e.priority_at_least is not None and priority < e.priority_at_least:
            problems.append(f"{e.rule}/{e.action}: priority {priority}, expected at least "
                            f"{e.priority_at_least}")
        if e.reason_contains and not any(e.reason_contains in r for r in reasons):
            problems.append(f"{e.rule}/{e.action}: no reason mentions {e.reason_contains!r}")
    return problems


def run_example(lp: LoadedPolicy, index: int, ex: Example, kb: KnowledgeBase,
                vulns: VulnerabilityIndex) -> ExampleResult:
    facts, boms = example_facts(ex.device)
    ctx = prepare([lp], kb, vulns, ex.as_of, merge_params([lp], ex.params),
                  waivers=[(w, "example") for w in ex.waivers], boms=boms)
    result = evaluate(facts, ctx)
    problems: list[str] = []
    if result.status != ex.expect.status:
        problems.append(f"status {result.status}, expected {ex.expect.status}")
    mandatory = [(f.rule, f.action, f.deadline, f.priority, f.reasons)
                 for f in result.findings if f.mandatory]
    advisory = [(f.rule, f.action, f.deadline, f.priority, f.reasons)
                for f in result.findings if not f.mandatory]
    if ex.expect.findings is not None:
        problems += _compare("mandatory", ex.expect.findings, mandatory)
    if ex.expect.advisory is not None:
        problems += _compare("advisory", ex.expect.advisory, advisory)
    return ExampleResult(lp.id, index, ex.name, tuple(problems), result)


def run_examples(lp: LoadedPolicy, kb: KnowledgeBase,
                 vulns: VulnerabilityIndex) -> list[ExampleResult]:
    return [run_example(lp, i, ex, kb, vulns) for i, ex in enumerate(lp.policy.examples)]

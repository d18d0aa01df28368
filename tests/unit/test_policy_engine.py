"""The pure evaluator: determinism, monotonicity, batch == one-by-one, BOM depth, waivers."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from camsweep.errors import PolicyError
from camsweep.kb import load_kb
from camsweep.policy import (
    AssessContext,
    DeviceFacts,
    bundled_policies,
    evaluate,
    evaluate_frame,
    frame_of,
    load_bom,
    load_vulnerabilities,
    merge_params,
    model_key,
    prepare,
)
from camsweep.policy.engine import (
    STATUS_RANK,
    add_business_days,
    finding_reasons,
    identification_line,
)
from camsweep.policy.schema import Waiver

AS_OF = date(2025, 1, 15)
ALL = list(bundled_policies().values())
MAKERS = [None, "hikvision", "dahua", "axis", "swann", "lorex", "uniview", "tvt", "hanwha",
          "huawei", "not-in-kb"]
FIRMWARE = [None, "V5.5.3 build 190725", "V5.4.0 build 160401", "V5.7.3 build 220112",
            "2.800.0000016.12.R", "V2.800.0000016.0.R, Build Date: 2020-11-24", "1.1.1.23"]
MODELS = [None, "DS-2CD2032F-I", "DS-2CD2143G0-I", "IPC-HFW3441T-ZAS", "NVR5216-16P-4KS2E"]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def context(policies: list = ALL, as_of: date = AS_OF, **params: object) -> AssessContext:  # type: ignore[type-arg]
    values = merge_params(policies, {"programme_deadline": "2027-06-30", **params})
    return prepare(policies, load_kb(), load_vulnerabilities(), as_of, values)


CTX = context()
dates = st.one_of(st.none(), st.dates(min_value=date(2010, 1, 1), max_value=date(2026, 12, 31)))
tri = st.sampled_from([None, True, False])
devices = st.builds(
    DeviceFacts,
    asset_id=st.sampled_from(["A-1", "A-2", "EXAMPLE-EVIDENCE-1", None]),
    site_id=st.sampled_from(["S-1", "HA-BARTON", None]),
    department=st.sampled_from(["Home Office", None]),
    region=st.just("london"),
    sensitivity=st.sampled_from(["sensitive", "standard", "cni", None]),
    organisation_type=st.sampled_from([None, "central_government", "federal_agency",
                                       "federal_contractor", "grant_recipient",
                                       "commonwealth_entity", "local_authority"]),
    device_type=st.sampled_from([None, "camera", "nvr", "dvr", "intercom", "access_control",
                                 "other"]),
    manufacturer_id=st.sampled_from(MAKERS),
    oem_of=st.sampled_from([None, None, "hikvision", "dahua"]),
    restricted=tri,
    confidence=st.one_of(st.none(), st.floats(0.0, 1.0)),
    model=st.sampled_from(MODELS),
    firmware=st.sampled_from(FIRMWARE),
    install_date=dates,
    recorded_date=dates,
    calls_home=tri,
    on_core_network=tri,
    internet_exposed=tri,
)


def summary(result: object) -> tuple[str, list[tuple[object, ...]]]:
    assert hasattr(result, "status") and hasattr(result, "findings")
    return result.status, sorted(
        (f.policy, f.rule, f.action, f.deadline, f.priority, f.mandatory, f.reasons)
        for f in result.findings)


@SETTINGS
@given(device=devices)
def test_assessment_is_deterministic(device: DeviceFacts) -> None:
    first = summary(evaluate(device, CTX))
    assert summary(evaluate(device, CTX)) == first
    assert summary(evaluate(device, context())) == first  # a fresh context, cold caches


def _more_restricted(d: DeviceFacts, how: str) -> DeviceFacts:
    if how == "maker":
        return dataclasses.replace(d, manufacturer_id="hikvision", restricted=True,
                                   confidence=max(d.confidence or 0.0, 0.99))
    if how == "confidence" and d.manufacturer_id in ("hikvision", "dahua"):
        # more certainty that it is a maker every bundled policy restricts
        return dataclasses.replace(d, confidence=1.0)
    if how == "restricted_flag":
        return dataclasses.replace(d, restricted=True)
    if how == "calls_home":
        return dataclasses.replace(d, calls_home=True)
    if how == "vulnerable_firmware" and d.manufacturer_id == "hikvision":
        return dataclasses.replace(d, model="DS-2CD2143G0-I", firmware="V5.5.3 build 190725")
    return d


@SETTINGS
@given(device=devices, how=st.sampled_from(["maker", "confidence", "restricted_flag",
                                            "calls_home", "vulnerable_firmware"]))
def test_restricted_evidence_never_makes_a_device_compliant(device: DeviceFacts,
                                                            how: str) -> None:
    before = evaluate(device, CTX)
    after = evaluate(_more_restricted(device, how), CTX)
    if before.status != "compliant":
        assert after.status != "compliant", (how, before.status, after.findings)
    if how == "maker" and before.status == "non_compliant":
        assert STATUS_RANK[after.status] >= STATUS_RANK["exempt"]


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(devices, min_size=1, max_size=40), seed=st.integers(0, 1000))
def test_batch_evaluation_equals_one_by_one(batch: list[DeviceFacts], seed: int) -> None:
    frame = frame_of(batch)
    ctx = context()
    out = evaluate_frame(frame, ctx)
    statuses = dict(out.statuses.select("row", "status").iter_rows())
    vkey = dict(out.statuses.select("row", "vkey").iter_rows())
    got: dict[int, list[tuple[object, ...]]] = {}
    for row, tid, mtext, deadline, priority, vulnerable, exposed in out.findings.iter_rows():
        t, f = out.templates[tid], batch[row]
        reasons = finding_reasons(t, identification_line(f, ctx.makers), out.maker_text[mtext],
                                  out.vuln_text[vkey[row]], f.install_date, f.recorded_date,
                                  deadline, ctx.as_of)
        got.setdefault(row, []).append((t.policy, t.rule, t.action, deadline, priority,
                                        vulnerable, exposed, reasons))
    singles = context()  # its own caches: each path picks its own representatives
    for i, device in enumerate(batch):
        one = evaluate(device, singles)
        assert statuses[i] == one.status
        assert sorted(got.get(i, [])) == sorted(
            (f.policy, f.rule, f.action, f.deadline, f.priority, f.vulnerable, f.exposed,
             f.reasons) for f in one.findings)
    shuffled = list(range(len(batch)))
    random.Random(seed).shuffle(shuffled)
    again = evaluate_frame(frame_of([batch[i] for i in shuffled]), context())
    again_status = dict(again.statuses.select("row", "status").iter_rows())
    assert [again_status[j] for j in range(len(batch))] == [statuses[i] for i in shuffled]


def test_profiles_are_shared() -> None:
    facts = [DeviceFacts(asset_id=f"A-{i}", manufacturer_id="hikvision", confidence=0.9,
                         sensitivity="sensitive", install_date=date(2019, 1, 1 + i % 28))
             for i in range(500)]
    ctx = context()
    out = evaluate_frame(frame_of(facts), ctx)
    assert out.profiles == len(ctx.keyers)  # one key per policy: no date crosses a breakpoint
    assert out.statuses["status"].unique().to_list() == ["non_compliant"]


def test_business_days_match_polars() -> None:
    assert add_business_days(date(2024, 3, 1), 1) == date(2024, 3, 4)  # Friday -> Monday
    assert add_business_days(date(2024, 3, 2), 1) == date(2024, 3, 4)  # Saturday -> Monday
    assert add_business_days(date(2024, 3, 4), 10) == date(2024, 3, 18)


def test_waiver_is_capped_by_the_policy_limit() -> None:
    ndaa = [bundled_policies()["us-ndaa-889"]]
    waiver = Waiver(reference="W-889", asset_ids=["A-1"], granted_by="agency head",
                    expires=date(2030, 1, 1), reason="laydown filed")
    device = DeviceFacts(asset_id="A-1", manufacturer_id="hikvision", confidence=0.95,
                         organisation_type="federal_agency", install_date=date(2020, 5, 1))
    early = prepare(ndaa, load_kb(), load_vulnerabilities(), date(2021, 6, 1), {},
                    waivers=[(waiver, "test")])
    res = evaluate(device, early)
    assert res.status == "exempt" and "capped at 2022-08-13" in res.notes[0]
    late = prepare(ndaa, load_kb(), load_vulnerabilities(), date(2023, 1, 1), {},
                   waivers=[(waiver, "test")])
    res = evaluate(device, late)
    assert res.status == "non_compliant"
    assert any("expired on 2022-08-13" in r for r in res.findings[0].reasons)


def test_waiver_for_an_unselected_policy_is_refused() -> None:
    waiver = Waiver(reference="W", policy="us-ndaa-889", site_ids=["S"], granted_by="x",
                    reason="y")
    with pytest.raises(PolicyError, match="not selected"):
        prepare([bundled_policies()["uk-wms-2022"]], load_kb(), load_vulnerabilities(),
                AS_OF, {}, waivers=[(waiver, "test")])


def _bom(spec: str = "1.6") -> dict[str, object]:
    return {
        "bomFormat": "CycloneDX", "specVersion": spec, "version": 1,
        "metadata": {"component": {
            "type": "device", "bom-ref": "cam", "name": "AXIS P3265-LVE",
            "manufacturer": {"name": "Axis Communications"},
            "components": [{"type": "device", "bom-ref": "board", "name": "main board",
                            "supplier": {"name": "Example Boards"}}]}},
        "components": [
            {"type": "device", "bom-ref": "soc", "name": "Hi3516 SoC",
             "manufacturer": {"name": "HiSilicon", "address": {"country": "CN"}},
             "components": [{"type": "firmware", "bom-ref": "boot", "name": "bootloader"}]},
            {"type": "device", "bom-ref": "psu", "name": "PSU",
             "supplier": {"name": "Power Co", "address": {"country": "TW"}}},
        ],
        "dependencies": [{"ref": "board", "dependsOn": ["soc"]}],
    }


def test_cyclonedx_bom_import_and_depth(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(_bom()))
    bom = load_bom(path, load_kb())
    assert bom.key == model_key("AXIS P3265-LVE") == "AXISP3265-LVE"
    depth = {c.name: c.depth for c in bom.components}
    assert depth == {"main board": 1, "PSU": 1, "Hi3516 SoC": 1, "bootloader": 2}
    soc = next(c for c in bom.components if c.name == "Hi3516 SoC")
    assert (soc.maker, soc.country) == ("hisilicon", "CN")
    template = [bundled_policies()["programme-template"]]
    device = DeviceFacts(asset_id="A-9", manufacturer_id="axis", confidence=0.95,
                         sensitivity="standard", model="AXIS P3265-LVE",
                         install_date=date(2022, 1, 1), bom=bom.key)
    for bom_depth, expected in ((1, 1), (3, 1)):
        values = merge_params(template, {"bom_depth": bom_depth})
        ctx = prepare(template, load_kb(), load_vulnerabilities(), AS_OF, values, boms=[bom])
        res = evaluate(device, ctx)
        hits = [f for f in res.findings if f.rule == "prc-components"]
        assert len(hits) == expected and not hits[0].mandatory
        assert any(f"examined to depth {bom_depth}" in r for r in hits[0].reasons)
    no_bom = dataclasses.replace(device, bom=None)
    assert not [f for f in evaluate(no_bom, ctx).findings if f.rule == "prc-components"]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda b: b.update(specVersion="1.4"), "specVersion 1.4 is not supported"),
    (lambda b: b.update(bomFormat="SPDX"), "not a CycloneDX BOM"),
    (lambda b: b.pop("metadata"), "metadata.component is missing"),
])
def test_bad_boms_are_refused(tmp_path: Path, mutate: object, message: str) -> None:
    doc = _bom()
    assert callable(mutate)
    mutate(doc)
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(PolicyError, match=message):
        load_bom(path, load_kb())


def test_reason_chain_names_evidence_rule_and_citation() -> None:
    device = DeviceFacts(asset_id="A-1", site_id="S-1", manufacturer_id="dahua",
                         confidence=0.91, sensitivity="sensitive",
                         organisation_type="central_government", brand="Dahua",
                         evidence=("brand 'Dahua' -> dahua (0.90)",))
    ctx = context([bundled_policies()["uk-sensitive-sites-removal"]])
    res = evaluate(device, ctx)
    (finding,) = res.findings
    assert finding.action == "remove" and finding.deadline == date(2025, 4, 30)
    text = "\n".join(finding.reasons)
    assert "identified as Dahua Technology (dahua), confidence 0.91" in text
    assert "brand 'Dahua' -> dahua (0.90)" in text
    assert "rule 'remove-by-april-2025' (mandatory)" in text
    assert "https://" in text and "firmware unknown" in text
    assert finding.contract()["deadline"] == "2025-04-30"

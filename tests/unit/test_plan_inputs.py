"""Planner inputs: resources.yaml, assess findings, plan.json; errors name file and field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from camsweep.errors import InputError
from camsweep.plan import load_findings, load_plan, load_resources, parse_findings, write_plan
from camsweep.plan.items import RISK_MAX, PlanItem, merge_duplicates, risk_points
from camsweep.plan.resources import Calendar
from camsweep.plan.schema import Assignment, Plan, Shortfall, Unscheduled
from camsweep.sample import dump_resources, make_resources

GOOD = {
    "start": "2027-01-04",
    "horizon_weeks": 104,
    "regions": [{"id": "london", "crews": 3, "crew_capacity": 25}],
    "unit_costs": {"camera": 650, "nvr": 1800, "dvr": 1200, "encoder": 500, "intercom": 700,
                   "access_control": 900, "other": 500},
    "budgets": [{"from": "2027-01-04", "to": "2027-04-05", "amount": 250000}],
    "blackouts": [{"from": "2027-12-20", "to": "2028-01-03", "region": None}],
}


def write(tmp_path: Path, data: object, name: str = "resources.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_design_md_example_loads(tmp_path: Path) -> None:
    res = load_resources(write(tmp_path, GOOD))
    assert res.regions[0].weekly_capacity == 75
    assert res.unit_cost("nvr") == 1800 and res.unit_cost("thermal") == 500
    assert res.public.threshold == 10 and not res.public.sensitivity_breakdown


def test_sample_resources_load(tmp_path: Path) -> None:
    text = dump_resources(make_resources(["london", "wales"], {"london": 900, "wales": 100},
                                         500_000))
    path = tmp_path / "r.yaml"
    path.write_text(text)
    res = load_resources(path)
    assert [r.id for r in res.regions] == ["london", "wales"] and res.budgets


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"start": "2027-01-05"}, "start", "plans start on a Monday"),
    ({"regions": [{"id": "x", "crews": -1, "crew_capacity": 5}]}, "regions.0.crews",
     "greater than or equal to 0"),
    ({"regions": [{"id": "x", "crews": 1}]}, "regions.0.crew_capacity", "Field required"),
    ({"horizon_weeks": 0}, "horizon_weeks", "greater than or equal to 1"),
    ({"unit_costs": {"camera": -5}}, "unit_costs", "negative"),
    ({"budgets": [{"from": "2027-02-01", "to": "2027-01-01", "amount": 5}]}, "budgets.0",
     "must be after"),
    ({"budgets": [{"from": "2027-01-04", "to": "2027-03-01", "amount": 5},
                  {"from": "2027-02-01", "to": "2027-04-01", "amount": 5}]}, None, "overlap"),
    ({"blackouts": [{"from": "2027-01-04", "to": "2027-01-11", "region": "mars"}]}, None,
     "unknown region"),
    ({"crews": 3}, "crews", "Extra inputs"),
])
def test_errors_name_file_and_field(
    tmp_path: Path, change: dict[str, object], field: str | None, words: str
) -> None:
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(InputError) as caught:
        load_resources(path)
    assert str(path) in str(caught.value)
    assert any(e.file == str(path) and (field is None or e.column == field) and words in e.reason
               for e in caught.value.errors), caught.value.errors


def test_unreadable_resources(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_resources(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("start: [")
    with pytest.raises(InputError, match="not valid YAML"):
        load_resources(bad)
    with pytest.raises(InputError, match="mapping"):
        load_resources(write(tmp_path, [1, 2]))


def test_calendar_weeks_blackouts_budgets(tmp_path: Path) -> None:
    res = load_resources(write(tmp_path, {**GOOD, "blackouts": [
        {"from": "2027-01-13", "to": "2027-01-14", "region": None},  # Wednesday of week 1
        {"from": "2027-01-25", "to": "2027-02-08", "region": "london"},  # weeks 3 and 4
    ]}))
    cal = Calendar.build(res)
    assert cal.capacity["london"][:6] == (75, 0, 75, 0, 0, 75)
    assert cal.budget_of_week[0] == 0 and cal.budget_of_week[12] == 0
    assert cal.budget_of_week[13] is None  # 2027-04-05 is outside [from, to)
    assert cal.budget_cents == (25_000_000,)
    # a deadline is met by a week that ends (Sunday) on or before it
    assert cal.deadline_week(date(2027, 2, 8)) == 4  # weeks 0..4 end by 7 Feb
    assert cal.deadline_week(date(2027, 2, 7)) == 4
    assert cal.deadline_week(date(2027, 2, 6)) == 3
    assert cal.deadline_week(date(2027, 1, 1)) < 0


def test_spread_segments_without_budgets(tmp_path: Path) -> None:
    cal = Calendar.build(load_resources(write(tmp_path, {**GOOD, "budgets": []})))
    assert [(s.first, s.stop) for s in cal.segments][:2] == [(0, 13), (13, 26)]
    assert all(s.budget is None for s in cal.segments)


ASSESS = {
    "as_of": "2026-06-01", "kb_version": "x", "policies": [], "devices": [],
    "findings": [
        {"asset_id": "A1", "site_id": "S1", "policy": "uk", "rule": "r1", "action": "remove",
         "deadline": "2027-06-30", "priority": 80,
         "reasons": ["maker hikvision", "internet-exposed on port 80"]},
        {"asset_id": "A2", "site_id": "S1", "policy": "uk", "rule": "r2", "action": "disconnect",
         "deadline": None, "priority": 50, "reasons": []},
        {"asset_id": "A3", "site_id": "S2", "policy": "uk", "rule": "r1", "action": "remove",
         "deadline": None, "priority": "high", "reasons": ["firmware in range of CVE-2021-36260"],
         "region": "london", "department": "HO", "sensitivity": "sensitive",
         "device_type": "nvr", "exposed": False},
    ],
}


def test_assess_findings_keep_removals_and_extra_keys(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(ASSESS))
    items = load_findings(path)
    assert [i.asset_id for i in items] == ["A1", "A3"]
    a1, a3 = items
    assert a1.exposed and not a1.vulnerable and a1.deadline == date(2027, 6, 30)
    assert a1.missing() == ["region", "department", "sensitivity", "device_type"]
    assert a3.vulnerable and not a3.exposed  # an explicit key beats the reasons
    assert a3.priority == 3 and a3.is_recorder and a3.sensitive and a3.missing() == []
    assert parse_findings(ASSESS["findings"]) == items  # a bare list works too


def test_bad_findings_name_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"findings": [
        {"asset_id": "A", "action": "remove", "deadline": "soon"},
        {"asset_id": "B", "action": "remove", "priority": "whenever"},
        {"asset_id": "C"},
    ]}))
    with pytest.raises(InputError) as caught:
        load_findings(path)
    where = {(e.row, e.column) for e in caught.value.errors}
    assert where == {(0, "findings.deadline"), (1, "findings.priority"), (2, "findings.action")}
    with pytest.raises(InputError, match="findings"):
        parse_findings({"devices": []}, "x.json")
    path.write_text("{")
    with pytest.raises(InputError, match="not valid JSON"):
        load_findings(path)


def test_risk_points_and_merging() -> None:
    items = [
        PlanItem(asset_id="plain", priority=0),
        PlanItem(asset_id="worst", sensitivity="cni", exposed=True, vulnerable=True, priority=10),
        PlanItem(asset_id="mid", sensitivity="standard", priority=5),
    ]
    assert risk_points(items) == [1, RISK_MAX, 3]
    merged, duplicates = merge_duplicates([
        PlanItem(asset_id="A", deadline=date(2028, 1, 1), policy="late", priority=9),
        PlanItem(asset_id="A", deadline=date(2027, 1, 1), policy="early", exposed=True,
                 region="london"),
        PlanItem(asset_id=None), PlanItem(asset_id=None),
    ])
    assert duplicates == 1 and len(merged) == 3
    a = merged[0]
    assert (a.policy, a.deadline, a.priority, a.exposed, a.region) == (
        "early", date(2027, 1, 1), 9, True, "london")


def test_plan_json_round_trip(tmp_path: Path) -> None:
    plan = Plan(
        feasible=False, status="late", solve_seconds=1.5,
        assignments=[Assignment(asset_id="A", site_id="S", region="r",
                                week_start=date(2027, 1, 4), cost=650.0, deadline=None,
                                policy="p", done=True)],
        unscheduled=[Unscheduled(asset_id="B", reason="why")],
        shortfall=[Shortfall(region="r", from_=date(2027, 1, 4), to=date(2027, 2, 8),
                             extra_crew_weeks=5)],
        summary={"gap": 0.01},
    )
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    raw = json.loads(path.read_text())
    assert raw["assignments"][0] == {"asset_id": "A", "site_id": "S", "region": "r",
                                     "week_start": "2027-01-04", "cost": 650, "deadline": None,
                                     "policy": "p", "done": True}
    assert raw["shortfall"][0]["from"] == "2027-01-04"
    assert load_plan(path) == plan
    path.write_text(json.dumps({"feasible": True}))
    with pytest.raises(InputError, match="not a plan"):
        load_plan(path)

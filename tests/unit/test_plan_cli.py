"""`camsweep plan` as a user meets it: files in, plan.json, public timeline and chart out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.plan.sample import demand, sample_findings
from camsweep.sample import (
    UNIT_COSTS,
    build_assets,
    dump_resources,
    make_resources,
    make_sites,
    write_sample,
)

runner = CliRunner()


def findings_json(path: Path, *, with_sites: bool = True, sites: int = 12,
                  devices: int = 300, seed: int = 5) -> Path:
    site_rows = make_sites(sites, seed)
    items = sample_findings(site_rows, build_assets(site_rows, devices, seed), seed)
    per_region, cost = demand(items, UNIT_COSTS)
    (path / "resources.yaml").write_text(
        dump_resources(make_resources(sorted(per_region), per_region, cost)))
    rows = []
    for it in items:
        row: dict[str, object] = {
            "asset_id": it.asset_id, "site_id": it.site_id, "policy": it.policy,
            "rule": it.rule, "action": "remove",
            "deadline": it.deadline.isoformat() if it.deadline else None,
            "priority": it.priority, "reasons": [],
        }
        if with_sites:
            row |= {"region": it.region, "department": it.department,
                    "sensitivity": it.sensitivity, "device_type": it.device_type}
        rows.append(row)
    out = path / "findings.json"
    out.write_text(json.dumps({"as_of": "2026-12-01", "findings": rows}))
    return out


def test_plan_writes_contract_public_timeline_and_chart(tmp_path: Path) -> None:
    findings = findings_json(tmp_path)
    res = runner.invoke(app, [
        "plan", "--resources", str(tmp_path / "resources.yaml"), "--findings", str(findings),
        "--out", str(tmp_path / "plan.json"), "--public-out", str(tmp_path / "public.json"),
        "--chart", str(tmp_path / "gantt.png"), "--time-limit", "2", "--json",
    ])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] in ("feasible", "optimal") and out["diff"] is None
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert list(plan) == ["feasible", "status", "solve_seconds", "assignments", "unscheduled",
                          "shortfall", "summary"]
    assert len(plan["assignments"]) == 300 and plan["unscheduled"] == []
    public = (tmp_path / "public.json").read_text() + (tmp_path / "public.csv").read_text()
    assert not any(a["site_id"] in public for a in plan["assignments"])
    assert (tmp_path / "gantt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(out["files"]) == sorted(str(tmp_path / n) for n in
                                          ("plan.json", "public.json", "public.csv", "gantt.png"))


def test_replan_prints_the_diff(tmp_path: Path) -> None:
    findings = findings_json(tmp_path)
    base = ["plan", "--resources", str(tmp_path / "resources.yaml"), "--findings",
            str(findings), "--time-limit", "1"]
    assert runner.invoke(app, [*base, "--out", str(tmp_path / "one.json")]).exit_code == 0
    data = json.loads(findings.read_text())
    data["findings"] = data["findings"][:-20]
    findings.write_text(json.dumps(data))
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "two.json"), "--from-current",
                              str(tmp_path / "one.json"), "--freeze-weeks", "4"])
    assert res.exit_code == 0, res.output
    assert "Changes against the current plan" in res.output and "20 removed" in res.output
    two = json.loads((tmp_path / "two.json").read_text())
    assert two["summary"]["diff"]["removed"] == 20
    assert two["summary"]["replan"]["freeze_weeks"] == 4


def test_findings_without_sites_are_completed_from_the_store(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'camsweep.db'}"
    write_sample(tmp_path / "sample", sites=12, devices=300, seed=5)
    for kind in ("sites", "assets"):
        res = runner.invoke(app, ["--db", db, "import", kind,
                                  str(tmp_path / "sample" / f"{kind}.csv")])
        assert res.exit_code == 0, res.output
    findings = findings_json(tmp_path, with_sites=False)
    res = runner.invoke(app, ["--db", db, "plan", "--resources", str(tmp_path / "resources.yaml"),
                              "--findings", str(findings), "--out", str(tmp_path / "plan.json"),
                              "--time-limit", "1", "--json"])
    assert res.exit_code == 0, res.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    sites = {line.split(",")[0]: line.split(",")[3] for line in
             (tmp_path / "sample" / "sites.csv").read_text().splitlines()[1:]}
    assert plan["assignments"] and all(a["region"] == sites[a["site_id"]]
                                       for a in plan["assignments"])
    assert len(plan["assignments"]) + len(plan["unscheduled"]) == 300


def test_plan_tells_what_to_do_when_inputs_are_missing(tmp_path: Path) -> None:
    findings = findings_json(tmp_path)
    res = runner.invoke(app, ["plan", "--resources", str(tmp_path / "resources.yaml"),
                              "--out", str(tmp_path / "p.json")])
    assert res.exit_code != 0 and "--findings" in str(res.exception)
    res = runner.invoke(app, ["plan", "--resources", str(tmp_path / "resources.yaml"),
                              "--findings", str(findings), "--out", str(tmp_path / "p.json"),
                              "--freeze-weeks", "3"])
    assert res.exit_code != 0 and "--from-current" in str(res.exception)


@pytest.mark.slow
def test_bad_resources_is_a_message_with_file_and_field(tmp_path: Path) -> None:
    findings = findings_json(tmp_path, devices=20)
    bad = tmp_path / "bad.yaml"
    bad.write_text((tmp_path / "resources.yaml").read_text().replace("start: 2027-01-04",
                                                                     "start: 2027-01-05"))
    proc = subprocess.run(
        [sys.executable, "-m", "camsweep", "plan", "--resources", str(bad), "--findings",
         str(findings), "--out", str(tmp_path / "p.json")],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(bad) in proc.stderr and "start" in proc.stderr and "Monday" in proc.stderr

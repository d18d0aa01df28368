"""Stored plans: what `camsweep plan` saves is what work orders, web and reports read back."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from test_plan_cli import findings_json
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.sample import write_sample
from camsweep.store import Store
from camsweep.store.models import Site
from camsweep.store.plans import latest_plan_id, load_plan, save_plan

runner = CliRunner()


def test_plan_saved_by_the_cli_reads_back_whole_and_per_site(
        store: Store, store_url: str, tmp_path: Path) -> None:
    write_sample(tmp_path / "sample", sites=12, devices=300, seed=5)
    for kind in ("sites", "assets"):
        res = runner.invoke(app, ["--db", store_url, "import", kind,
                                  str(tmp_path / "sample" / f"{kind}.csv")])
        assert res.exit_code == 0, res.output
    assert latest_plan_id(store) is None and load_plan(store) is None
    findings = findings_json(tmp_path)
    res = runner.invoke(app, ["--db", store_url, "plan", "--resources",
                              str(tmp_path / "resources.yaml"), "--findings", str(findings),
                              "--out", str(tmp_path / "plan.json"), "--time-limit", "1",
                              "--save", "--json"])
    assert res.exit_code == 0, res.output
    plan_id = json.loads(res.stdout)["plan_id"]
    assert plan_id == latest_plan_id(store)
    written = json.loads((tmp_path / "plan.json").read_text())
    stored = load_plan(store)
    assert stored is not None and stored["id"] == plan_id
    for key in ("feasible", "status", "shortfall", "summary"):
        assert stored[key] == written[key]
    strip = [{k: v for k, v in a.items() if k not in ("device_pk", "site_pk")}
             for a in stored["assignments"]]
    assert strip == written["assignments"]
    assert all(a["device_pk"] and a["site_pk"] for a in stored["assignments"])
    assert stored["public"] and not any(a["site_id"] in json.dumps(stored["public"])
                                        for a in written["assignments"])
    with store.session() as s:
        site = s.scalars(select(Site).where(Site.site_id == written["assignments"][0]["site_id"])
                         ).one()
    mine = load_plan(store, site_pks=[site.id])
    assert mine is not None and mine["assignments"]
    assert {a["site_id"] for a in mine["assignments"]} == {site.site_id}
    assert len(mine["assignments"]) == sum(a["site_id"] == site.site_id
                                           for a in written["assignments"])


def test_unscheduled_rows_keep_their_reason_and_new_runs_become_latest(store: Store) -> None:
    doc = {"feasible": False, "status": "incomplete", "solve_seconds": 0.5,
           "assignments": [{"asset_id": "A1", "site_id": None, "region": "north",
                            "week_start": "2027-01-04", "cost": 650, "deadline": None,
                            "policy": "uk-wms-2022", "done": True}],
           "unscheduled": [{"asset_id": "A2", "reason": "region 'x' has no crews"}],
           "shortfall": [], "summary": {"scheduled": 1}}
    resources = {"start": "2027-01-04", "horizon_weeks": 10}
    first = save_plan(store, doc, resources=resources)
    second = save_plan(store, {**doc, "status": "late"}, resources=resources)
    assert second > first == load_plan(store, first)["id"]  # type: ignore[index]
    latest = load_plan(store)
    assert latest is not None and latest["status"] == "late"
    assert latest["unscheduled"] == [{"asset_id": "A2", "reason": "region 'x' has no crews",
                                      "device_pk": None, "site_pk": None}]
    assert latest["assignments"][0]["done"] is True
    assert load_plan(store, 999) is None

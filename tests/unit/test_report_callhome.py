"""Reports show, per site, which devices call home, where and since when (issue #11)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from sqlalchemy import select

from camsweep.discover.callhome import import_logs
from camsweep.inventory.importer import import_file
from camsweep.report import build_report
from camsweep.sample import write_sample
from camsweep.sample_dns import write_dns_log
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.callhome import callhome_by_site


def test_return_and_site_dossier_list_the_devices_that_call_home(
        store: Store, tmp_path: Path) -> None:
    write_sample(tmp_path, sites=8, devices=400, seed=11, truth=True)
    import_file(store, tmp_path / "sites.csv", "sites")
    import_file(store, tmp_path / "assets.csv", "assets")
    assets = pl.read_csv(tmp_path / "assets.csv", infer_schema=False).join(
        pl.read_csv(tmp_path / "truth.csv", infer_schema=False), on="asset_id"
    ).with_columns(pl.col("restricted") == "true")
    log = write_dns_log(tmp_path / "dns.log", assets, 11)
    import_logs(store, "dns", [log.path])
    everything = callhome_by_site(store)
    assert everything

    central = json.loads(build_report(store, "return", fmt="json")[0])
    assert len(central["tables"]["call_home"]["rows"]) == len(everything)

    with store.session() as s:
        site = s.scalars(select(m.Site).where(m.Site.site_id == everything[0].site_id)).one()
        dept = s.scalars(select(m.Department.name)
                         .where(m.Department.id == site.department_id)).one()
        dept_sites = set(s.scalars(select(m.Site.site_id)
                                   .where(m.Site.department_id == site.department_id)))
    mine = json.loads(build_report(store, "return", department=dept, fmt="json")[0])
    rows = mine["tables"]["call_home"]["rows"]
    expected = [r for r in everything if r.site_id in dept_sites]
    assert rows and len(rows) == len(expected)

    dossier = json.loads(build_report(store, "dossier", subject=f"site:{site.site_id}",
                                      fmt="json")[0])
    rows = dossier["tables"]["call_home"]["rows"]
    assert sorted(r["endpoint"] for r in rows) == sorted(
        r.endpoint for r in everything if r.site_id == site.site_id)

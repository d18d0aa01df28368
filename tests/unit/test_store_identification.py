"""`identify --all`: every device gets a stored verdict with its evidence and KB version."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.inventory.importer import import_file
from camsweep.kb import load_kb
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.identification import identify_store

SITES = ("site_id,name,department,region,sensitivity\n"
         "HO-0001,Marsham Street,Home Office,london,sensitive\n")
ASSETS = (
    "asset_id,site_id,brand,model,mac\n"
    "A-1,HO-0001,hik vision,DS-2CD2143G2-I,\n"
    "A-2,HO-0001,Honeywell,H4W4PER3,bc:32:5f:00:00:01\n"
    "A-3,HO-0001,Axis,P3265-LVE,ac:cc:8e:01:02:03\n"
    "A-4,HO-0001,,,\n"
)


def _load(store: Store, tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text(SITES)
    (tmp_path / "a.csv").write_text(ASSETS)
    import_file(store, tmp_path / "s.csv", "sites")
    import_file(store, tmp_path / "a.csv", "assets")


def test_identify_store_records_verdicts(store: Store, tmp_path: Path) -> None:
    _load(store, tmp_path)
    kb = load_kb()
    run = identify_store(store, kb)
    assert run.devices == 4 and run.kb_version == kb.version
    with store.session() as s:
        devs = {d.asset_id: d for d in s.scalars(select(m.Device))}
        verdicts = s.scalars(select(m.Verdict)).all()
    assert (devs["A-1"].manufacturer_id, devs["A-1"].restricted) == ("hikvision", True)
    assert (devs["A-2"].manufacturer_id, devs["A-2"].restricted) == ("dahua", True)
    assert (devs["A-3"].manufacturer_id, devs["A-3"].restricted) == ("axis", False)
    assert devs["A-4"].manufacturer_id is None and devs["A-4"].restricted is None
    assert len(verdicts) == 4 and all(v.kb_version == kb.version for v in verdicts)
    a2 = next(v for v in verdicts if v.device_pk == devs["A-2"].id)
    assert a2.oem_of == "dahua" and any(c["signal"] == "model" for c in a2.evidence)
    assert [w[0] for w in run.white_label] == ["A-2"]
    identify_store(store, kb)  # a second run adds history, the current answer stays
    with store.session() as s:
        assert len(s.scalars(select(m.Verdict)).all()) == 8


def test_identify_all_cli(tmp_path: Path) -> None:
    from camsweep.store import open_store

    db = f"sqlite:///{tmp_path / 'c.db'}"
    store = open_store(db)
    _load(store, tmp_path)
    store.dispose()
    res = CliRunner().invoke(app, ["--db", db, "identify", "--all", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["devices"] == 4 and out["by_maker"]["hikvision"] == 1
    assert out["white_label"][0]["asset_id"] == "A-2"
    res = CliRunner().invoke(app, ["--db", db, "devices", "list", "--maker", "axis", "--json"])
    assert [d["asset_id"] for d in json.loads(res.stdout)] == ["A-3"]

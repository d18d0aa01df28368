"""Assessment against a real store (SQLite and PostgreSQL): runs, findings, diffs, roll-ups."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from camsweep.assess import assess_store, load_waivers, open_removal_findings, save_waiver
from camsweep.assess.report import findings_table, write_csv, write_json
from camsweep.errors import PolicyError
from camsweep.policy.schema import Waiver
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import utcnow

UK = ["uk-wms-2022", "uk-sensitive-sites-removal"]
PARAMS = {"organisation_type": "central_government", "programme_deadline": "2026-03-31"}
AS_OF = date(2024, 6, 1)
# asset_id, site, maker, restricted, confidence, device_type, install_date, model, firmware
DEVICES = [
    ("A-1", "S-SENS", "hikvision", True, 0.97, "camera", date(2019, 5, 1), "DS-2CD2143G0-I",
     "V5.5.3 build 190725"),
    ("A-2", "S-SENS", "dahua", True, 0.93, "nvr", date(2023, 2, 1), None, None),
    ("A-3", "S-SENS", "axis", False, 0.96, "camera", date(2020, 1, 1), None, None),
    ("A-4", "S-SENS", None, None, 0.0, "camera", None, None, None),
    ("A-5", "S-STD", "hikvision", True, 0.95, "camera", date(2018, 3, 1), None, None),
    ("A-6", "S-STD", "bosch", False, 0.9, "camera", date(2021, 1, 1), None, None),
    ("A-7", None, "hikvision", True, 0.9, "camera", None, None, None),
]


def build_estate(store: Store) -> None:
    now = utcnow()
    with store.session() as s:
        src = m.Source(kind="assets", name="test", rows=len(DEVICES), created=len(DEVICES),
                       updated=0, unchanged=0, started_at=now)
        dept = m.Department(name="Home Office")
        s.add_all([src, dept])
        s.flush()
        sites = {}
        for sid, sens in (("S-SENS", "sensitive"), ("S-STD", "standard")):
            sites[sid] = m.Site(site_id=sid, name=sid, department_id=dept.id, region="london",
                                sensitivity=sens, source_id=src.id, created_at=now,
                                updated_at=now)
            s.add(sites[sid])
        s.flush()
        for aid, site, maker, restricted, conf, dtype, installed, model, fw in DEVICES:
            dev = m.Device(asset_id=aid, site_pk=sites[site].id if site else None,
                           device_type=dtype, brand=maker.title() if maker else None,
                           model=model, firmware=fw, install_date=installed, source_id=src.id,
                           created_at=now, updated_at=now, manufacturer_id=maker,
                           restricted=restricted, confidence=conf)
            s.add(dev)
            s.flush()
            if maker:
                s.add(m.Verdict(device_pk=dev.id, manufacturer_id=maker, restricted=restricted,
                                confidence=conf, kb_version="test",
                                evidence=[{"signal": "brand", "value": maker.title(),
                                           "points_to": maker, "weight": 0.9,
                                           "source": "brands.yaml"}],
                                created_at=now))
        s.commit()


def status_of(result: object, asset_id: str) -> str:
    devices = result.devices
    return str(devices.filter(devices["asset_id"] == asset_id)["status"][0])


def test_assess_saves_findings_and_answers_the_contract(store: Store, tmp_path: Path) -> None:
    build_estate(store)
    result = assess_store(store, UK, AS_OF, params=PARAMS)
    assert result.run_id is not None
    expected = {"A-1": "non_compliant", "A-2": "non_compliant", "A-3": "compliant",
                "A-4": "needs_survey", "A-5": "non_compliant", "A-6": "compliant",
                "A-7": "non_compliant"}
    assert {a: status_of(result, a) for a in expected} == expected
    doc = result.contract()
    assert set(doc) == {"as_of", "kb_version", "policies", "devices", "findings"}
    assert doc["as_of"] == "2024-06-01" and [p["id"] for p in doc["policies"]] == UK
    assert all(set(d) == {"asset_id", "site_id", "status"} for d in doc["devices"])
    assert all(set(f) == {"asset_id", "site_id", "policy", "rule", "action", "deadline",
                          "priority", "reasons"} for f in doc["findings"])
    removals = {(f["asset_id"], f["rule"]): f for f in doc["findings"] if f["action"] == "remove"}
    assert removals[("A-1", "remove-by-april-2025")]["deadline"] == "2025-04-30"
    assert removals[("A-2", "stop-install")]["deadline"] == "2026-03-31"
    a1 = removals[("A-1", "remove-by-april-2025")]
    assert any("CVE-2021-36260" in r for r in a1["reasons"])
    assert any("brand 'Hikvision' -> hikvision (0.90)" in r for r in a1["reasons"])
    assert not any(f["asset_id"] == "A-3" for f in doc["findings"])
    assert ("A-4", "survey") in {(f["asset_id"], f["action"]) for f in doc["findings"]}
    advisory = result.contract(include_advisory=True)["findings"]
    assert len(advisory) > len(doc["findings"])

    with store.session() as s:
        run = s.get(m.AssessmentRun, result.run_id)
        assert run is not None and run.as_of == AS_OF and run.kb_version == result.kb_version
        assert [p["id"] for p in run.policies] == UK and run.params["organisation_type"]
        assert run.opened == s.scalar(select(func.count(m.Finding.id)))
        assert s.scalar(select(func.count()).select_from(m.DeviceStatus)) == len(DEVICES)
    assert result.diff.previous_run is None and len(result.diff.new) == run.opened

    planner = open_removal_findings(store)
    assert {f["asset_id"] for f in planner} == {"A-1", "A-2"}
    first = next(f for f in planner if f["asset_id"] == "A-1")
    assert first["region"] == "london" and first["sensitivity"] == "sensitive"
    assert first["vulnerable"] is True and first["device_type"] == "camera"

    rollup = result.rollup("sensitivity")
    sens = rollup.filter(rollup["sensitivity"] == "sensitive").row(0, named=True)
    assert sens["devices"] == 4 and sens["non_compliant"] == 2 and sens["to_remove"] == 2
    assert sens["needs_survey"] == 1 and sens["next_deadline"] == date(2025, 4, 30)
    assert result.rollup("site_id")["site_id"].to_list()[0] == "S-SENS"
    with pytest.raises(PolicyError):
        result.rollup("colour")
    (milestone, _final) = result.milestones
    assert milestone.affected_sites == 1 and milestone.clear_sites == 0
    assert milestone.verdict(AS_OF) == "behind"

    explained = result.explain("A-1")
    assert explained["status"] == "non_compliant" and explained["findings"][0]["reasons"]
    write_json(result, tmp_path / "a.json")
    assert json.loads((tmp_path / "a.json").read_text()) == doc
    write_csv(result, tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text().startswith("asset_id,site_id,department")
    assert findings_table(result).height == len(doc["findings"])


def test_rerun_shows_new_closed_and_changed(store: Store) -> None:
    build_estate(store)
    first = assess_store(store, UK, AS_OF, params=PARAMS)
    again = assess_store(store, UK, AS_OF, params=PARAMS)
    assert again.diff.previous_run == first.run_id
    assert (len(again.diff.new), len(again.diff.closed), len(again.diff.changed)) == (0, 0, 0)
    assert again.diff.unchanged == len(first.findings)

    # The KB (or identification) changes its mind about A-5; A-4 is identified as Dahua.
    with store.session() as s:
        s.execute(update(m.Device).where(m.Device.asset_id == "A-5")
                  .values(manufacturer_id="axis", restricted=False))
        s.execute(update(m.Device).where(m.Device.asset_id == "A-4")
                  .values(manufacturer_id="dahua", restricted=True, confidence=0.9))
        s.commit()
    later = assess_store(store, UK, date(2025, 6, 1), params=PARAMS)
    closed = {(c["asset_id"], c["rule"]) for c in later.diff.closed}
    new = {(c["asset_id"], c["rule"]) for c in later.diff.new}
    assert ("A-5", "core-network") in closed and ("A-4", "survey") in closed
    assert ("A-4", "core-network") in new
    changed = {(c.asset_id, c.rule): c for c in later.diff.changed}
    moved = changed[("A-1", "remove-by-april-2025")]
    assert moved.after["priority"] > moved.before["priority"]  # overdue by now
    assert status_of(later, "A-5") == "compliant"
    with store.session() as s:
        rows = s.execute(select(m.Finding.status, m.Finding.closed_run_id, m.Finding.previous,
                                m.Finding.changed_run_id, m.Finding.rule)
                         .join(m.Device, m.Device.id == m.Finding.device_pk)
                         .where(m.Device.asset_id.in_(["A-5", "A-1"]))).all()
    for status, closed_run, previous, changed_run, rule in rows:
        if status == "closed":
            assert closed_run == later.run_id
        if rule == "remove-by-april-2025":
            assert changed_run == later.run_id and previous["priority"] < 100

    # A run of one policy leaves the other policy's findings alone.
    only = assess_store(store, ["uk-wms-2022"], date(2025, 6, 1), params=PARAMS)
    assert not [c for c in only.diff.closed if c["policy"] == "uk-sensitive-sites-removal"]
    assert {f["policy"] for f in open_removal_findings(store)} >= {"uk-sensitive-sites-removal"}


def test_dry_run_saves_nothing(store: Store) -> None:
    build_estate(store)
    result = assess_store(store, UK, AS_OF, params=PARAMS, save_run=False)
    assert result.run_id is None and result.diff.new
    with store.session() as s:
        assert s.scalar(select(func.count(m.AssessmentRun.id))) == 0
        assert s.scalar(select(func.count(m.Finding.id))) == 0


def test_stored_and_programme_waivers_make_devices_exempt(store: Store, tmp_path: Path) -> None:
    build_estate(store)
    save_waiver(store, Waiver(reference="W-1", asset_ids=["A-5"], granted_by="DSO",
                              expires=date(2026, 1, 1), reason="replacement contracted"))
    with pytest.raises(PolicyError, match="already exists"):
        save_waiver(store, Waiver(reference="W-1", site_ids=["S"], granted_by="x", reason="y"))
    assert [w.reference for w in load_waivers(store)] == ["W-1"]
    prog = tmp_path / "programme.yaml"
    prog.write_text(
        "programme: {name: Test}\n"
        "policies: [uk-wms-2022]\n"
        "params: {programme_deadline: 2026-03-31}\n"
        "organisation_types: {Home Office: central_government}\n"
        "waivers:\n"
        "  - {reference: P-1, policy: uk-wms-2022, asset_ids: [A-2], granted_by: Board,\n"
        "     reason: lease, expires: 2024-01-01}\n")
    result = assess_store(store, None, AS_OF, programme=prog)
    assert [p["id"] for p in result.policies] == ["uk-wms-2022"]
    assert status_of(result, "A-5") == "exempt"
    assert any("waived by W-1" in n for n in result.notes[result.devices.filter(
        result.devices["asset_id"] == "A-5")["row"][0]])
    assert status_of(result, "A-2") == "non_compliant"  # its waiver expired
    a2 = result.explain("A-2")["findings"]
    assert any("waiver P-1 expired on 2024-01-01" in r for f in a2 for r in f["reasons"])
    with store.session() as s:
        notes = s.scalars(select(m.DeviceStatus.notes).join(
            m.Device, m.Device.id == m.DeviceStatus.device_pk).where(
            m.Device.asset_id == "A-5")).one()
        assert notes and "W-1" in notes[0]


def test_default_policies_and_empty_store(store: Store) -> None:
    result = assess_store(store, as_of=AS_OF)
    assert result.devices.is_empty() and result.contract()["findings"] == []
    assert "programme-template" not in {p["id"] for p in result.policies}
    assert result.status_counts == {"non_compliant": 0, "needs_survey": 0, "exempt": 0,
                                    "compliant": 0}

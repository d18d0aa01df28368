"""Work orders on SQLite and PostgreSQL, made the way a user makes them: registers imported,
devices identified, assessed and planned, the plan stored; then generated, re-planned,
moved through the lifecycle with real evidence files, scoped per department, and the audit
chain verified after it all. Addresses are RFC 5737 documentation addresses used as data."""

from __future__ import annotations

import functools
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select

from camsweep.errors import PlanError, TransitionError
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import utcnow
from camsweep.track.attachments import Attachment, EvidenceStore
from camsweep.track.audit import iter_audit, verify_audit
from camsweep.track.lifecycle import STATES, edges
from camsweep.track.workorders import (
    generate_work_orders,
    get_work_order,
    list_work_orders,
    read_attachment,
    transition,
)

SITES = ("site_id,name,department,region,sensitivity\n"
         "S-1,Depot,Home Office,london,sensitive\n"
         "S-2,Court,Justice,leeds,sensitive\n"
         "S-3,Office,Justice,leeds,standard\n"
         "S-4,Store,Justice,york,sensitive\n")
ASSETS = ("asset_id,site_id,device_type,brand,model,serial,mac,ip\n"
          "A-1,S-1,camera,Hikvision,DS-2CD2386G2-IU,,44:19:b6:00:00:01,192.0.2.10\n"
          "A-2,S-1,nvr,Dahua,NVR4108HS-8P-4KS2,,,192.0.2.11\n"
          "A-3,S-1,camera,Axis,P3245-LV,,,192.0.2.12\n"
          "A-4,S-2,camera,Hikvision,DS-2CD2043G2-I,,,192.0.2.20\n"
          "A-5,S-3,dvr,Dahua,XVR5108HS,,,192.0.2.30\n"
          "A-6,S-4,camera,Hikvision,DS-2CD2043G2-I,,,192.0.2.40\n")
UNIT_COSTS = ("unit_costs: {camera: 650, nvr: 1800, dvr: 1200, encoder: 500, intercom: 700, "
              "access_control: 900, other: 500}\n")
ONE_A_WEEK = ("start: 2027-01-04\nhorizon_weeks: 30\nregions:\n"
              "  - {id: london, crews: 1, crew_capacity: 1}\n"
              "  - {id: leeds, crews: 1, crew_capacity: 1}\n" + UNIT_COSTS)
WITH_YORK = ("start: 2027-02-01\nhorizon_weeks: 30\nregions:\n"
             "  - {id: london, crews: 1, crew_capacity: 1}\n"
             "  - {id: leeds, crews: 1, crew_capacity: 1}\n"
             "  - {id: york, crews: 1, crew_capacity: 1}\n" + UNIT_COSTS)
POLICIES = ["uk-wms-2022", "programme-template"]
PARAMS = {"organisation_type": "central_government", "programme_deadline": "2028-06-30"}
DEADLINE = date(2028, 6, 30)
ACTOR = "j.surveyor"


@functools.cache
def kb() -> Any:
    from camsweep.kb import load_kb

    return load_kb()


def jpeg(colour: tuple[int, int, int] = (10, 120, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(out, format="JPEG")
    return out.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]"
       b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


@dataclass
class Estate:
    store: Store
    folder: Path
    evidence: EvidenceStore
    devices: dict[str, int]
    sites: dict[str, int]

    def plan(self, resources: str = ONE_A_WEEK) -> int:
        """Assess and plan as `camsweep assess` and `camsweep plan` do; store the plan."""
        from camsweep.assess import assess_store, open_removal_findings
        from camsweep.plan import load_resources, make_plan, parse_findings
        from camsweep.store.plans import save_plan

        assess_store(self.store, POLICIES, date(2026, 12, 1), params=PARAMS, kb=kb())
        path = self.folder / "resources.yaml"
        path.write_text(resources)
        res = load_resources(path)
        plan = make_plan(parse_findings(open_removal_findings(self.store), "store"), res,
                         time_limit=2)
        return save_plan(self.store, plan.to_json(), resources=res.model_dump(mode="json"))

    def wo(self, asset_id: str) -> int:
        with self.store.session() as s:
            return int(s.scalar(select(m.WorkOrder.id).where(
                m.WorkOrder.device_pk == self.devices[asset_id])))

    def department(self, name: str) -> list[int]:
        with self.store.session() as s:
            return list(s.scalars(select(m.Site.id).join(
                m.Department, m.Department.id == m.Site.department_id)
                .where(m.Department.name == name)))

    def remove(self, asset_id: str, at: datetime | None = None) -> None:
        transition(self.store, ACTOR, self.wo(asset_id), "removed", at=at,
                   attachment=Attachment("IMG_0001.jpg", "image/jpeg", jpeg()),
                   evidence=self.evidence)


def build(store: Store, folder: Path) -> Estate:
    from camsweep.inventory.importer import import_file
    from camsweep.store.identification import identify_store

    (folder / "sites.csv").write_text(SITES)
    (folder / "assets.csv").write_text(ASSETS)
    import_file(store, folder / "sites.csv", "sites")
    import_file(store, folder / "assets.csv", "assets")
    identify_store(store, kb())
    with store.session() as s:
        devices = {a: pk for a, pk in s.execute(select(m.Device.asset_id, m.Device.id)) if a}
        sites = dict(s.execute(select(m.Site.site_id, m.Site.id)).all())
    return Estate(store, folder, EvidenceStore(folder / "evidence"), devices, sites)


@pytest.fixture
def estate(store: Store, tmp_path: Path) -> Estate:
    return build(store, tmp_path)


def states(e: Estate) -> dict[str, tuple[str, date | None, str | None]]:
    rows, total = list_work_orders(e.store, per_page=100)
    assert total == len(rows)
    return {str(r.asset_id): (r.state, r.planned_week, r.reason) for r in rows}


def audit_actions(store: Store) -> list[str]:
    return [a.action for a in iter_audit(store)]


# --- generation -------------------------------------------------------------------------------


def test_generate_from_the_stored_plan(estate: Estate) -> None:
    plan_id = estate.plan()
    assert generate_work_orders(estate.store, "planner", plan_id) == 4
    got = states(estate)
    assert set(got) == {"A-1", "A-2", "A-4", "A-6"}  # A-3 (Axis), A-5 (standard site): none
    assert {a: s for a, (s, _, _) in got.items()} == {
        "A-1": "scheduled", "A-2": "scheduled", "A-4": "scheduled", "A-6": "identified"}
    weeks = {a: w for a, (_, w, _) in got.items()}
    assert weeks["A-6"] is None and all(w and w.weekday() == 0 for a, w in weeks.items()
                                        if a != "A-6")
    assert {weeks["A-1"], weeks["A-2"]} == {date(2027, 1, 4), date(2027, 1, 11)}  # 1 a week
    assert got["A-6"][2] == "region 'york' is not in resources.yaml regions"

    rows, _ = list_work_orders(estate.store)
    view = next(r for r in rows if r.asset_id == "A-6")
    assert (view.site_id, view.region, view.deadline, view.plan_id) == (
        "S-4", "york", DEADLINE, plan_id)  # deadline from the finding: the plan has none
    assert [r.asset_id for r in rows][-1] == "A-6"  # unplanned last

    detail = get_work_order(estate.store, view.id)
    assert detail is not None and detail.next_states == ("removed", "cancelled")
    assert [(e.kind, e.from_state, e.to_state, e.actor) for e in detail.events] == [
        ("created", None, "identified", "planner")]
    assert "not scheduled" in str(detail.events[0].note)

    # the same plan again changes nothing and writes nothing
    assert generate_work_orders(estate.store, "planner") == 0
    assert audit_actions(estate.store) == ["workorders.generate"]
    entry = next(iter_audit(estate.store, "plan", str(plan_id)))
    assert (entry.details["created"], entry.details["transition"]) == (4, 0)
    assert verify_audit(estate.store) == []


def test_replan_moves_weeks_without_duplicates_and_keeps_history(estate: Estate) -> None:
    from camsweep.assess import save_waiver
    from camsweep.policy.schema import Waiver

    first = estate.plan()
    generate_work_orders(estate.store, "planner", first)
    before = states(estate)
    estate.remove("A-1", at=utcnow() - timedelta(hours=1))  # done work: no plan moves it
    save_waiver(estate.store, Waiver(reference="W-2027-01", asset_ids=["A-4"],
                                     granted_by="Permanent Secretary",
                                     reason="replacement contract signed"))
    second = estate.plan(WITH_YORK)
    assert second > first
    changed = generate_work_orders(estate.store, "planner", second)
    after = states(estate)
    assert set(after) == set(before)  # nothing duplicated
    assert after["A-1"] == ("removed", before["A-1"][1], None)
    assert after["A-2"][0] == "scheduled" and after["A-2"][1] >= date(2027, 2, 1)
    assert after["A-6"][0] == "scheduled" and after["A-6"][1] is not None
    assert after["A-4"][0] == "cancelled" and "closed or waived" in str(after["A-4"][2])
    assert changed == 3

    a2 = get_work_order(estate.store, estate.wo("A-2"))
    assert a2 is not None
    assert [e.kind for e in a2.events] == ["created", "replanned"]
    moved = a2.events[1]
    assert moved.note and f"plan {second} moved it from the week of {before['A-2'][1]}" \
        in moved.note
    assert moved.details and moved.details["plan_id"] == second
    a6 = get_work_order(estate.store, estate.wo("A-6"))
    assert a6 is not None
    assert [(e.from_state, e.to_state) for e in a6.events] == [
        (None, "identified"), ("identified", "scheduled")]
    assert a6.reason is None

    entry = [a for a in iter_audit(estate.store) if a.action == "workorders.generate"][-1]
    assert entry.object_id == str(second)
    assert sorted(t[1:] for t in entry.details["transitions"]) == [
        ["identified", "scheduled"], ["scheduled", "cancelled"]]
    assert generate_work_orders(estate.store, "planner", second) == 0
    with pytest.raises(PlanError, match=f"already follow plan {second}"):
        generate_work_orders(estate.store, "planner", first)
    with pytest.raises(PlanError, match="no stored plan 999"):
        generate_work_orders(estate.store, "planner", 999)
    assert verify_audit(estate.store) == []


def test_generate_needs_a_plan_and_an_actor(store: Store) -> None:
    with pytest.raises(PlanError, match="run 'camsweep plan' first"):
        generate_work_orders(store, "planner")
    with pytest.raises(TransitionError, match="who is acting"):
        generate_work_orders(store, "  ")


# --- transitions ------------------------------------------------------------------------------


def test_recorder_lifecycle_with_evidence(estate: Estate) -> None:
    generate_work_orders(estate.store, "planner", estate.plan())
    wo = estate.wo("A-2")  # a Dahua NVR: footage on its disks
    photo = jpeg()
    removed_at = utcnow() - timedelta(hours=2)
    view = transition(estate.store, ACTOR, wo, "removed", note="taken down from comms room",
                      attachment=Attachment("IMG_2041.JPG", "image/jpeg", photo),
                      at=removed_at, evidence=estate.evidence)
    assert (view.state, view.removed_at) == ("removed", removed_at)

    for kwargs, message in (
        ({}, "needs its method"),
        ({"disposal_method": "recycled", "certificate_ref": "C-1"}, "must be 'wiped' or"),
        ({"disposal_method": "wiped"}, "certificate"),
    ):
        with pytest.raises(TransitionError, match=message):
            transition(estate.store, ACTOR, wo, "disposed", evidence=estate.evidence,
                       **kwargs)  # type: ignore[arg-type]
    transition(estate.store, "k.disposals", wo, "disposed", disposal_method="Destroyed",
               certificate_ref="WEEE-DEST-2027-0113",
               attachment=Attachment("certificate.pdf", "application/pdf", PDF),
               evidence=estate.evidence)
    with pytest.raises(TransitionError, match=r"no scan since its removal .* 192\.0\.2\.11"):
        transition(estate.store, ACTOR, wo, "verified", evidence=estate.evidence)

    detail = get_work_order(estate.store, wo)
    assert detail is not None and detail.state == "disposed"
    assert detail.ip == "192.0.2.11" and detail.manufacturer_id == "dahua"
    removal, disposal = detail.events[1], detail.events[2]
    assert (removal.actor, removal.at, removal.attachment_name, removal.attachment_type,
            removal.attachment_size) == (ACTOR, removed_at, "IMG_2041.JPG", "image/jpeg",
                                         len(photo))
    assert (disposal.disposal_method, disposal.certificate_ref, disposal.attachment_type) == (
        "destroyed", "WEEE-DEST-2027-0113", "application/pdf")
    assert read_attachment(estate.store, str(removal.attachment_sha256),
                           evidence=estate.evidence) == ("image/jpeg", photo)
    assert read_attachment(estate.store, str(disposal.attachment_sha256),
                           evidence=estate.evidence) == ("application/pdf", PDF)

    audit = list(iter_audit(estate.store, "work_order", str(wo)))
    assert [(a.actor, a.details["from"], a.details["to"]) for a in audit] == [
        (ACTOR, "scheduled", "removed"), ("k.disposals", "removed", "disposed")]
    assert audit[0].details["attachment"]["sha256"] == removal.attachment_sha256
    assert audit[1].details["disposal"] == {"method": "destroyed",
                                            "certificate_ref": "WEEE-DEST-2027-0113"}
    assert [e.audit_seq for e in detail.events[1:]] == [a.seq for a in audit]
    assert verify_audit(estate.store) == []


def test_refused_transitions_write_nothing(estate: Estate) -> None:
    generate_work_orders(estate.store, "planner", estate.plan())
    wo = estate.wo("A-1")
    entries = len(audit_actions(estate.store))
    photo = Attachment("p.jpg", "image/jpeg", jpeg())
    refusals = [
        ({"to_state": "disposed", "disposal_method": "destroyed"},
         f"work order {wo} is 'scheduled'; 'disposed' needs 'removed' first"),
        ({"to_state": "removed"}, "needs a photo"),
        ({"to_state": "removed", "attachment": Attachment("c.pdf", "application/pdf", PDF)},
         "a removal needs a photo; the attachment is application/pdf"),
        ({"to_state": "removed", "attachment": Attachment("x.jpg", "image/jpeg", b"MZ\x90")},
         "not a JPEG"),
        ({"to_state": "removed", "attachment": Attachment("x.jpg", "image/jpeg", b"")},
         "empty file"),
        ({"to_state": "removed", "attachment": photo, "certificate_ref": "C-9"},
         "certificate reference belongs to a disposal"),
        ({"to_state": "removed", "attachment": photo, "at": utcnow() + timedelta(hours=2)},
         "in the future"),
        ({"to_state": "verified"}, "'verified' needs 'disposed' first"),
        ({"to_state": "scheduled"}, "already 'scheduled'"),
        ({"to_state": "cancelled"}, "needs a note"),
        ({"to_state": "finished"}, "'finished' is not a work-order state"),
    ]
    for kwargs, message in refusals:
        with pytest.raises(TransitionError) as err:
            transition(estate.store, ACTOR, wo, evidence=estate.evidence,
                       **kwargs)  # type: ignore[arg-type]
        assert message in str(err.value)
    with pytest.raises(TransitionError, match="no work order 999999"):
        transition(estate.store, ACTOR, 999999, "removed", attachment=photo,
                   evidence=estate.evidence)
    with pytest.raises(TransitionError, match="who is acting"):
        transition(estate.store, "", wo, "removed", attachment=photo, evidence=estate.evidence)
    assert len(audit_actions(estate.store)) == entries
    detail = get_work_order(estate.store, wo)
    assert detail is not None and detail.state == "scheduled" and len(detail.events) == 1
    assert not (estate.folder / "evidence").exists()  # refused evidence is not kept

    # a removal in the past is fine; a later change cannot be dated before it
    estate.remove("A-1", at=utcnow() - timedelta(days=1))
    with pytest.raises(TransitionError, match="before its last recorded change"):
        transition(estate.store, ACTOR, wo, "disposed", disposal_method="recycled",
                   at=utcnow() - timedelta(days=2), evidence=estate.evidence)


def test_reopen_cancel_and_reinstate(estate: Estate) -> None:
    generate_work_orders(estate.store, "planner", estate.plan())
    wo = estate.wo("A-1")
    estate.remove("A-1")
    view = transition(estate.store, ACTOR, wo, "scheduled",
                      note="photo shows A-3 (Axis): the wrong camera was taken down",
                      evidence=estate.evidence)
    assert (view.state, view.removed_at) == ("scheduled", None)
    view = transition(estate.store, ACTOR, wo, "cancelled", note="moved to a new site")
    assert (view.state, view.reason) == ("cancelled", "moved to a new site")
    with pytest.raises(TransitionError, match="reinstate it first"):
        estate.remove("A-1")
    view = transition(estate.store, ACTOR, wo, "scheduled", note="back")
    assert (view.state, view.reason) == ("scheduled", None)
    detail = get_work_order(estate.store, wo)
    assert detail is not None
    assert [e.to_state for e in detail.events] == [
        "scheduled", "removed", "scheduled", "cancelled", "scheduled"]
    assert verify_audit(estate.store) == []


# --- department scoping -----------------------------------------------------------------------


def test_a_department_sees_and_moves_only_its_own(estate: Estate) -> None:
    generate_work_orders(estate.store, "planner", estate.plan())
    home = estate.department("Home Office")
    justice = estate.department("Justice")
    rows, total = list_work_orders(estate.store, site_pks=home)
    assert total == 2 and {r.asset_id for r in rows} == {"A-1", "A-2"}
    rows, total = list_work_orders(estate.store, site_pks=justice, state="identified")
    assert total == 1 and rows[0].asset_id == "A-6"
    assert list_work_orders(estate.store, site_pks=[]) == ([], 0)

    theirs = estate.wo("A-4")
    assert get_work_order(estate.store, theirs, site_pks=home) is None
    assert get_work_order(estate.store, theirs, site_pks=justice) is not None
    photo = Attachment("p.jpg", "image/jpeg", jpeg())
    with pytest.raises(TransitionError, match=f"^no work order {theirs}$"):
        transition(estate.store, ACTOR, theirs, "removed", attachment=photo, site_pks=home,
                   evidence=estate.evidence)
    view = transition(estate.store, ACTOR, theirs, "removed", attachment=photo,
                      site_pks=justice, evidence=estate.evidence)
    sha = get_work_order(estate.store, view.id)
    assert sha is not None and sha.events[-1].attachment_sha256
    digest = str(sha.events[-1].attachment_sha256)
    with pytest.raises(TransitionError, match="no attachment"):
        read_attachment(estate.store, digest, site_pks=home, evidence=estate.evidence)
    assert read_attachment(estate.store, digest, site_pks=justice,
                           evidence=estate.evidence)[0] == "image/jpeg"


def test_paging_and_filters(estate: Estate) -> None:
    generate_work_orders(estate.store, "planner", estate.plan())
    page1, total = list_work_orders(estate.store, per_page=3)
    page2, _ = list_work_orders(estate.store, per_page=3, page=2)
    assert total == 4 and len(page1) == 3 and len(page2) == 1
    assert {r.id for r in page1} | {r.id for r in page2} == {estate.wo(a) for a in
                                                           ("A-1", "A-2", "A-4", "A-6")}
    weeks = [r.planned_week for r in page1]
    assert weeks == sorted(w for w in weeks if w is not None)
    assert list_work_orders(estate.store, state=" Scheduled ")[1] == 3
    with pytest.raises(TransitionError, match="not a work-order state"):
        list_work_orders(estate.store, state="done")


# --- random sequences against the store -------------------------------------------------------

# Weighted towards the moves that go somewhere, so deep states are reached often.
ATTEMPTS = st.lists(st.tuples(
    st.sampled_from([*STATES, "removed", "disposed", "bogus"]),
    st.sampled_from([None, "why", "why"]),
    st.sampled_from([None, "photo", "photo", "pdf", "junk"]),
    st.sampled_from([None, "wiped", "recycled"]),
    st.sampled_from([None, "CERT-1", "CERT-1"]),
    st.sampled_from([False, False, False, True]),  # disposal fields sent with another move
), max_size=12)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(device_type=st.sampled_from(["camera", "nvr"]), attempts=ATTEMPTS)
def test_random_transitions_keep_the_store_consistent(
        store: Store, tmp_path: Path, device_type: str,
        attempts: list[tuple[str, str | None, str | None, str | None, str | None, bool]]
) -> None:
    now = utcnow() - timedelta(days=1)
    with store.session() as s, s.begin():
        src = m.Source(kind="assets", name="t", rows=1, started_at=now)
        s.add(src)
        s.flush()
        dev = m.Device(device_type=device_type, source_id=src.id, created_at=now,
                       updated_at=now)
        s.add(dev)
        s.flush()
        wo = m.WorkOrder(device_pk=dev.id, state="scheduled", planned_week=date(2027, 1, 4),
                         created_at=now, updated_at=now)
        s.add(wo)
        s.flush()
        wo_id = wo.id
    files = EvidenceStore(tmp_path / "ev")
    payloads = {"photo": Attachment("a.jpg", "image/jpeg", jpeg()),
                "pdf": Attachment("c.pdf", "application/pdf", PDF),
                "junk": Attachment("a.jpg", "image/jpeg", b"\x00junk")}
    state, moves = "scheduled", 0
    for to, note, kind, sent_method, sent_cert, stray in attempts:
        method, cert = (sent_method, sent_cert) if to == "disposed" or stray else (None, None)
        try:
            view = transition(store, "prop", wo_id, to, note=note,
                              attachment=payloads[kind] if kind else None,
                              disposal_method=method, certificate_ref=cert, evidence=files)
        except TransitionError as exc:
            assert str(exc)
            continue
        assert view.state in edges(state) and view.state == to
        if to == "removed":
            assert kind == "photo"
        if to == "disposed" and device_type == "nvr":
            assert method == "wiped" and cert
        if to != "disposed":
            assert method is None and cert is None
        assert to != "verified"  # no scan ever saw this device: it can never be verified
        state, moves = to, moves + 1
    event(f"ended {state}")
    detail = get_work_order(store, wo_id)
    assert detail is not None and detail.state == state
    transitions = [e for e in detail.events if e.kind == "transition"]
    assert len(transitions) == moves
    for e in transitions:
        assert e.from_state is not None and e.to_state in edges(e.from_state)
    assert len(list(iter_audit(store, "work_order", str(wo_id)))) == moves
    assert verify_audit(store) == []


# --- the CLI ----------------------------------------------------------------------------------


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from camsweep.cli.app import app
    from camsweep.store import open_store

    db = f"sqlite:///{tmp_path / 'c.db'}"
    store = open_store(db)
    try:
        estate = build(store, tmp_path)
        estate.plan()
    finally:
        store.dispose()
    monkeypatch.setenv("CAMSWEEP_EVIDENCE_DIR", str(tmp_path / "evidence"))
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["--db", db, "workorders", *args])

    res = run("generate")
    assert res.exit_code != 0 and "who is acting" in str(res.exception)
    monkeypatch.setenv("CAMSWEEP_ACTOR", "ann")
    res = run("generate", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"changed": 4, "work_orders": 4}
    res = run("list", "--department", "Home Office", "--json")
    listed = json.loads(res.stdout)
    assert listed["total"] == 2
    wo = next(i["id"] for i in listed["items"] if i["asset_id"] == "A-1")
    assert run("list", "--site", "S-9").exit_code != 0

    photo = tmp_path / "IMG_0007.jpg"
    photo.write_bytes(jpeg())
    wrong = tmp_path / "photo.jpg"
    wrong.write_bytes(b"%!PS-Adobe-3.0\n")
    res = run("transition", str(wo), "disposed", "--method", "recycled")
    assert res.exit_code == 1 and "needs 'removed' first" in str(res.exception)
    res = run("transition", str(wo), "removed", "--attach", str(wrong))
    assert res.exit_code == 1 and "not a JPEG" in str(res.exception)
    res = run("transition", str(wo), "removed", "--attach", str(photo), "--note", "done",
              "--at", (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["state"] == "removed"
    res = run("show", str(wo), "--json")
    shown = json.loads(res.stdout)
    sha = shown["events"][-1]["attachment_sha256"]
    assert shown["events"][-1]["attachment_name"] == "IMG_0007.jpg"
    assert run("show", str(wo)).exit_code == 0
    out = tmp_path / "copy.jpg"
    assert run("attachment", sha, "--out", str(out)).exit_code == 0
    assert out.read_bytes() == photo.read_bytes()
    res = run("alerts", "--as-of", "2027-03-01", "--json")
    kinds = {(a["kind"], a["asset_id"]) for a in json.loads(res.stdout)}
    assert ("slipping", "A-2") in kinds and ("slipping", "A-1") not in kinds
    res = run("verify", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout) == []
    audit = runner.invoke(app, ["--db", db, "audit", "verify", "--json"])
    assert audit.exit_code == 0 and json.loads(audit.stdout)["ok"] is True
    assert run("show", "424242").exit_code == 1
    store = open_store(db)
    try:
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(m.WorkOrderEvent)) == 5
    finally:
        store.dispose()


# --- reconciling a plan with the work orders, pure ----------------------------------------------


def test_plan_rows_fold_per_device() -> None:
    from camsweep.track.workorders import Planned, planned_by_device

    d = date.fromisoformat
    rows = [(1, d("2027-02-01"), d("2027-06-30"), "b", None),
            (1, d("2027-01-11"), d("2027-03-31"), "a", None),
            (None, d("2027-01-04"), None, "a", None),
            (2, d("2027-01-04"), None, "a", None),
            (3, None, None, None, "no crews"),
            (1, None, None, None, "second finding over budget"),
            (None, None, None, None, "unknown asset"),
            (4, None, None, None, None)]
    got = planned_by_device(rows, {2: date(2028, 1, 1), 3: date(2027, 9, 30)})
    assert got == {
        1: Planned(1, date(2027, 1, 11), date(2027, 3, 31), "a", None),
        2: Planned(2, date(2027, 1, 4), date(2028, 1, 1), "a", None),
        3: Planned(3, None, date(2027, 9, 30), None, "no crews"),
        4: Planned(4, None, None, None, "not scheduled"),
    }


def test_reconcile_moves_only_what_the_plan_changes() -> None:
    from camsweep.track.workorders import Current, Planned, reconcile

    w1, w2 = date(2027, 1, 4), date(2027, 1, 11)

    def cur(pk: int, state: str, week: date | None = w1) -> Current:
        return Current(100 + pk, pk, state, week, DEADLINE, "p", None)

    current = {1: cur(1, "scheduled"), 2: cur(2, "scheduled"), 3: cur(3, "identified", None),
               4: cur(4, "scheduled"), 5: cur(5, "cancelled"), 6: cur(6, "removed"),
               7: cur(7, "scheduled"), 8: cur(8, "verified")}
    planned = {1: Planned(1, w1, DEADLINE, "p", None),  # unchanged
               2: Planned(2, w2, DEADLINE, "p", None),  # moved
               3: Planned(3, w2, DEADLINE, "p", None),  # now schedulable
               4: Planned(4, None, DEADLINE, None, "no crews"),  # no longer schedulable
               5: Planned(5, w2, DEADLINE, "p", None),  # back in the plan
               6: Planned(6, w2, DEADLINE, "p", None),  # done: left alone
               9: Planned(9, w2, DEADLINE, "p", None)}  # new
    changes = reconcile(current, planned, wanted={1, 2, 3, 4, 5, 6, 8, 9}, plan_id=7)
    got = {c.device_pk: (c.kind, c.from_state, c.state, c.planned_week) for c in changes}
    assert got == {
        2: ("replanned", "scheduled", "scheduled", w2),
        3: ("transition", "identified", "scheduled", w2),
        4: ("transition", "scheduled", "identified", None),
        5: ("transition", "cancelled", "scheduled", w2),
        7: ("transition", "scheduled", "cancelled", w1),  # no open finding any more
        9: ("created", None, "scheduled", w2),
    }
    notes = {c.device_pk: c.note for c in changes}
    assert notes[2] == f"plan 7 moved it from the week of {w1} to the week of {w2}"
    assert notes[4] == "plan 7 could not schedule it: no crews"
    kept = reconcile(current, planned, wanted={7}, plan_id=7)  # 7 still has its finding
    assert {c.device_pk for c in kept} == {2, 3, 4, 5, 9}


def test_changes_made_meanwhile_are_not_overwritten(estate: Estate) -> None:
    from camsweep.track.workorders import (
        Current,
        _apply,
        _plan_rows,
        planned_by_device,
        reconcile,
    )

    plan_id = estate.plan()
    generate_work_orders(estate.store, "planner", plan_id)
    with estate.store.engine.connect() as conn:
        planned = planned_by_device(_plan_rows(conn, plan_id), {})
    stale_empty = reconcile({}, planned, set(), plan_id)  # as if read before the first run
    with pytest.raises(TransitionError, match="generated by someone else"), \
            estate.store.engine.begin() as conn:
        _apply(conn, stale_empty, plan_id, utcnow())
    estate.remove("A-6")  # a person records a removal while a plan is being applied
    pk = estate.devices["A-6"]
    stale = {pk: Current(estate.wo("A-6"), pk, "identified", None, None, None, "no crews")}
    moves = reconcile(stale, {}, set(), plan_id)  # cancels what it believes is open
    assert moves and moves[0].state == "cancelled"
    with pytest.raises(TransitionError, match="changed by someone else"), \
            estate.store.engine.begin() as conn:
        _apply(conn, moves, plan_id, utcnow())
    assert states(estate)["A-6"][0] == "removed"


def test_two_people_recording_the_same_removal_at_once(estate: Estate) -> None:
    import threading

    generate_work_orders(estate.store, "planner", estate.plan())
    wo = estate.wo("A-4")
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def record(who: str) -> None:
        start.wait()
        try:
            transition(estate.store, who, wo, "removed", evidence=estate.evidence,
                       attachment=Attachment(f"{who}.jpg", "image/jpeg", jpeg()))
            outcomes.append("ok")
        except TransitionError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=record, args=(f"crew-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    assert all("already 'removed'" in o or "changed by someone else" in o
               for o in outcomes if o != "ok"), outcomes
    detail = get_work_order(estate.store, wo)
    assert detail is not None and [e.to_state for e in detail.events] == ["scheduled",
                                                                          "removed"]
    assert verify_audit(estate.store) == []

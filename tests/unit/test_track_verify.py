"""Re-scan verification and seen-again alerts against scan results written the way discovery
writes them: a scan run (`sources` kind `scan`) with its target hosts in `scan_hosts`, host
reports merged by `discover.merge.Merger`, then `mark_not_seen` for a complete run.
Addresses are RFC 5737 documentation addresses used as data; nothing is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update
from test_track_workorders import ACTOR, Estate, build, kb

from camsweep.discover.merge import Merger
from camsweep.discover.model import Answer, HostReport
from camsweep.errors import TransitionError
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import insert_many, utcnow
from camsweep.track.alerts import alerts
from camsweep.track.audit import iter_audit, verify_audit
from camsweep.track.verify import Gone, Sighting, SilentScan, judge
from camsweep.track.workorders import (
    generate_work_orders,
    get_work_order,
    transition,
    verify_work_orders,
)

NVR_IP, CAM_IP = "192.0.2.11", "192.0.2.10"


@pytest.fixture
def estate(store: Store, tmp_path: Path) -> Estate:
    e = build(store, tmp_path)
    generate_work_orders(store, "planner", e.plan())
    return e


def scan(store: Store, *, answering: Mapping[str, list[Answer]] | None = None,
         silent: Sequence[str] = (), site_id: str | None = None,
         started_at: datetime | None = None) -> int:
    """One complete scan run, as `camsweep scan` records it."""
    answering = answering or {}
    hosts = [*answering, *silent]
    with store.engine.begin() as conn:
        source_id = int(conn.execute(insert(m.Source).values(
            kind="scan", name=f"rescan {' '.join(hosts)}", rows=len(hosts), created=0,
            updated=0, unchanged=0, started_at=started_at or utcnow(),
            options={"targets": hosts, "site_id": site_id})).inserted_primary_key[0])  # type: ignore[index]
        insert_many(conn, "scan_hosts", ("source_id", "ip", "state", "answers"),
                    ((source_id, h, "pending", 0) for h in hosts))
    merger = Merger(store, source_id, kb=kb(), site_id=site_id)
    merger.write([HostReport(ip, answers=a) for ip, a in answering.items()]
                 + [HostReport(ip) for ip in silent], scan=True)
    merger.mark_not_seen(hosts)
    with store.engine.begin() as conn:
        conn.execute(update(m.Source).where(m.Source.id == source_id)
                     .values(finished_at=utcnow()))
    return source_id


def hikvision_answers(ip: str = CAM_IP) -> list[Answer]:
    return [Answer("tcp", ip, port=80, fields={"open": True}),
            Answer("onvif", ip, port=80, fields={"Manufacturer": "HIKVISION",
                                                 "Model": "DS-2CD2386G2-IU"},
                   mac="44:19:b6:00:00:01")]


def removed_and_disposed(e: Estate, asset_id: str, removed_at: datetime | None = None) -> int:
    wo = e.wo(asset_id)
    e.remove(asset_id, at=removed_at)
    transition(e.store, ACTOR, wo, "disposed", disposal_method="destroyed",
               certificate_ref="DEST-1", evidence=e.evidence)
    return wo


def test_verified_after_a_later_scan_finds_nothing(estate: Estate) -> None:
    early = scan(estate.store, silent=[NVR_IP])  # before the removal: proves nothing
    wo = removed_and_disposed(estate, "A-2")
    with pytest.raises(TransitionError, match=r"no scan since its removal"):
        transition(estate.store, ACTOR, wo, "verified", evidence=estate.evidence)
    later = scan(estate.store, silent=[NVR_IP])
    assert later != early
    [(wo_id, ok, why)] = verify_work_orders(estate.store, "auditor")
    assert (wo_id, ok) == (wo, True) and f"scan #{later}" in why and NVR_IP in why

    detail = get_work_order(estate.store, wo)
    assert detail is not None and detail.state == "verified"
    event = detail.events[-1]
    assert event.actor == "auditor" and event.details is not None
    assert event.details["verification"]["kind"] == "scan_silent"
    assert event.details["verification"]["source_id"] == later
    audit = list(iter_audit(estate.store, "work_order", str(wo)))[-1]
    assert audit.details["verification"]["source_id"] == later
    assert verify_audit(estate.store) == []
    assert verify_work_orders(estate.store, "auditor") == []  # nothing left to verify


def test_not_seen_counts_when_the_run_began_before_the_removal(estate: Estate) -> None:
    began = utcnow() - timedelta(hours=3)
    wo = removed_and_disposed(estate, "A-2", utcnow() - timedelta(hours=2))
    scan(estate.store, silent=[NVR_IP], started_at=began)  # a long run, done after removal
    with estate.store.session() as s:
        not_seen = s.scalar(select(m.Device.not_seen_at).where(m.Device.asset_id == "A-2"))
    assert not_seen is not None
    view = transition(estate.store, ACTOR, wo, "verified", evidence=estate.evidence)
    assert view.state == "verified"
    detail = get_work_order(estate.store, wo)
    assert detail is not None and detail.events[-1].details == {
        "verification": {"kind": "not_seen", "ip": NVR_IP, "at": not_seen.isoformat()}}


def test_a_scan_of_another_sites_network_proves_nothing(estate: Estate) -> None:
    wo = removed_and_disposed(estate, "A-2", utcnow() - timedelta(hours=1))
    scan(estate.store, silent=[NVR_IP], site_id="S-2")  # same address, the court's LAN
    [(_, ok, why)] = verify_work_orders(estate.store, ACTOR)
    assert not ok and "no scan since its removal" in why
    assert get_work_order(estate.store, wo).state == "disposed"  # type: ignore[union-attr]
    scan(estate.store, silent=[NVR_IP], site_id="S-1")
    assert verify_work_orders(estate.store, ACTOR)[0][1] is True


def test_a_removed_device_seen_again_raises_an_alert_and_moves_nothing(estate: Estate) -> None:
    removed_at = utcnow() - timedelta(hours=1)
    wo = removed_and_disposed(estate, "A-1", removed_at)
    today = utcnow().date()
    assert [a for a in alerts(estate.store, today) if a.kind == "seen_again"] == []
    scan(estate.store, answering={CAM_IP: hikvision_answers()})
    found = [a for a in alerts(estate.store, today) if a.kind == "seen_again"]
    assert [(a.wo_id, a.asset_id, a.site_id, a.since, a.state) for a in found] == [
        (wo, "A-1", "S-1", today, "disposed")]
    assert "was seen on the network" in found[0].message
    assert not any(a.kind == "seen_again" for a in alerts(estate.store,
                                                         today - timedelta(days=1)))
    home = estate.department("Home Office")
    justice = estate.department("Justice")
    assert any(a.kind == "seen_again" for a in alerts(estate.store, today, site_pks=home))
    assert not any(a.kind == "seen_again" for a in alerts(estate.store, today,
                                                         site_pks=justice))

    detail = get_work_order(estate.store, wo)
    assert detail is not None and detail.state == "disposed"  # the sighting moved nothing
    scan(estate.store, silent=[CAM_IP])  # even a later silent scan cannot outweigh it
    with pytest.raises(TransitionError, match=r"seen on the network at .* after its removal"):
        transition(estate.store, ACTOR, wo, "verified", evidence=estate.evidence)
    transition(estate.store, ACTOR, wo, "scheduled", note="A-1 still answers: wrong camera",
               evidence=estate.evidence)
    assert not any(a.kind == "seen_again" for a in alerts(estate.store, today))
    assert verify_audit(estate.store) == []


# --- the judgement, pure ----------------------------------------------------------------------

T = datetime(2027, 1, 5, 10, 0)


def scan_at(minutes: int, site: str | None = None, sid: int = 1) -> SilentScan:
    return SilentScan(sid, f"run {sid}", T + timedelta(minutes=minutes), site)


@pytest.mark.parametrize(("device", "silent", "ok", "text"), [
    (Sighting(1, "192.0.2.1", "S-1", None, None), [scan_at(5)], True, "scan #1"),
    (Sighting(1, "192.0.2.1", "S-1", None, None), [scan_at(-5)], False, "no scan since"),
    (Sighting(1, "192.0.2.1", "S-1", None, None), [scan_at(5, "S-2")], False, "no scan"),
    (Sighting(1, "192.0.2.1", None, None, None), [scan_at(5, "S-2")], True, "scan #1"),
    (Sighting(1, "192.0.2.1", "S-1", T - timedelta(days=3), T + timedelta(hours=1)), [],
     True, "marked it not seen"),
    (Sighting(1, "192.0.2.1", "S-1", T + timedelta(minutes=1), None), [scan_at(5)], False,
     "seen on the network"),
    (Sighting(1, None, "S-1", None, None), [], False, "no known network address"),
])
def test_judge(device: Sighting, silent: list[SilentScan], ok: bool, text: str) -> None:
    gone = judge(device, T, silent)
    assert gone.ok is ok and text in gone.reason


def test_judge_prefers_the_latest_scan_and_needs_a_removal() -> None:
    device = Sighting(1, "192.0.2.1", "S-1", None, T + timedelta(hours=2))
    gone = judge(device, T, [scan_at(5, sid=3), scan_at(50, sid=4), scan_at(20, sid=5)])
    assert gone.ok and gone.evidence["source_id"] == 4 and gone.evidence["kind"] == "scan_silent"
    assert judge(device, None, []) == Gone(False, "no removal is recorded, so there is "
                                                  "nothing to verify")

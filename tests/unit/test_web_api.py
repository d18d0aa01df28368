"""The JSON API over a real two-department estate, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web_estate import (
    DEPT_A,
    PASSWORD,
    Estate,
    TestClient,
    estate_fixture,
    make_app,
    png_bytes,
)

from camsweep.track.audit import iter_audit, verify_audit

estate = estate_fixture("api")


@pytest.fixture(scope="module")
def client(estate: Estate) -> Iterator[TestClient]:
    with TestClient(make_app(estate.store, estate.root)) as c:
        yield c


def get(client: TestClient, estate: Estate, user: str, path: str, **params: Any) -> Any:
    response = client.get(path, headers=estate.headers(user), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_token_flow_and_me(client: TestClient, estate: Estate) -> None:
    bad = client.post("/api/token", data={"username": "viewer-a", "password": "wrong password!"})
    assert bad.status_code == 401
    assert bad.json() == {"detail": "wrong user name or password"}
    ok = client.post("/api/token", data={"username": "viewer-a", "password": PASSWORD})
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "bearer" and body["access_token"].startswith("csw_")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "viewer-a"
    assert me.json()["department"] == DEPT_A
    assert me.json()["capabilities"] == ["read"]
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer csw_nonsense"}
                      ).status_code == 401


def test_sites_are_scoped_to_the_department(client: TestClient, estate: Estate) -> None:
    mine = get(client, estate, "viewer-a", "/api/sites")
    assert [s["site_id"] for s in mine["items"]] == ["A-001", "A-002"]
    assert mine["total"] == 2
    assert {s["department"] for s in mine["items"]} == {DEPT_A}
    everything = get(client, estate, "central", "/api/sites")
    assert everything["total"] == 3
    detail = get(client, estate, "viewer-a", "/api/sites/A-001")
    assert detail["devices"] == 3 and detail["by_type"] == {"camera": 2, "nvr": 1}
    hidden = client.get("/api/sites/B-001", headers=estate.headers("viewer-a"))
    absent = client.get("/api/sites/Z-999", headers=estate.headers("viewer-a"))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"].replace("B-001", "X") == absent.json()["detail"].replace(
        "Z-999", "X")


def test_device_search_filters_and_pages(client: TestClient, estate: Estate) -> None:
    allmine = get(client, estate, "viewer-a", "/api/devices")
    assert allmine["total"] == 5
    assert all(d["asset_id"].startswith("A-") for d in allmine["items"])
    hik = get(client, estate, "viewer-a", "/api/devices", q="hikvision")
    assert sorted(d["asset_id"] for d in hik["items"]) == ["A-CAM-1", "A-NVR-1"]
    everyone_hik = get(client, estate, "central", "/api/devices", maker="hikvision")
    assert {d["asset_id"] for d in everyone_hik["items"]} >= {"A-CAM-1", "A-NVR-1", "B-CAM-1"}
    by_ip = get(client, estate, "viewer-a", "/api/devices", q="10.1.0.2")
    assert [d["asset_id"] for d in by_ip["items"]] == ["A-CAM-2"]
    other_ip = get(client, estate, "viewer-a", "/api/devices", q="10.9.0.1")
    assert other_ip["total"] == 0  # B's device is not found by A, even by its address
    page2 = get(client, estate, "viewer-a", "/api/devices", per_page=2, page=2)
    assert page2["page"] == 2 and len(page2["items"]) == 2 and page2["total"] == 5
    assert page2["pages"] == 3
    site = get(client, estate, "central", "/api/devices", site_id="B-001")
    assert sorted(d["asset_id"] for d in site["items"]) == ["B-CAM-1", "B-CAM-2", "B-NVR-1"]
    statuses = {d["status"] for d in allmine["items"]}
    assert statuses <= {"non_compliant", "needs_survey", "compliant", "exempt", "unassessed"}
    non = get(client, estate, "viewer-a", "/api/devices", status="non_compliant")
    assert non["total"] >= 1 and all(d["status"] == "non_compliant" for d in non["items"])
    assert client.get("/api/devices", params={"status": "bogus"},
                      headers=estate.headers("viewer-a")).status_code == 422
    wild = get(client, estate, "viewer-a", "/api/devices", q="%")
    assert wild["total"] == 0  # LIKE wildcards are literal


def test_device_detail_shows_identification_evidence(client: TestClient, estate: Estate
                                                     ) -> None:
    d = get(client, estate, "viewer-a", "/api/devices/A-CAM-4")
    assert d["fields"]["brand"] == "Lorex"
    assert d["verdict"]["manufacturer_id"] == "dahua"  # a white-label Dahua
    assert d["verdict"]["restricted"] is True
    assert d["claims"] and all({"signal", "value", "points_to"} <= set(c) for c in d["claims"])
    assert any(o["field"] == "brand" and o["source"] == "assets:assets.csv" for o in d["origins"])
    assert client.get("/api/devices/B-CAM-1", headers=estate.headers("viewer-a")
                      ).status_code == 404
    assert get(client, estate, "central", "/api/devices/B-CAM-1")["site"]["department"] \
        == "Department B"


def test_findings_carry_reasons_and_are_scoped(client: TestClient, estate: Estate) -> None:
    mine = get(client, estate, "surveyor-a", "/api/findings", action="remove", per_page=200)
    assert mine["total"] >= 3
    assert all(f["site_id"].startswith("A-") for f in mine["items"])
    assert all(f["reasons"] for f in mine["items"])
    theirs = get(client, estate, "surveyor-b", "/api/findings", action="remove", per_page=200)
    assert theirs["total"] >= 2 and all(f["site_id"] == "B-001" for f in theirs["items"])
    both = get(client, estate, "central", "/api/findings", action="remove", per_page=200)
    assert both["total"] == mine["total"] + theirs["total"]


def test_plan_is_scoped(client: TestClient, estate: Estate) -> None:
    whole = get(client, estate, "central", "/api/plan")
    mine = get(client, estate, "viewer-a", "/api/plan")
    assert {a["site_id"] for a in mine["assignments"]} == {"A-001"}
    assert len(whole["assignments"]) > len(mine["assignments"])
    assert mine["summary"]["scheduled"] == len(mine["assignments"])
    assert "method" not in mine["summary"]  # the solver's organisation-wide view stays central
    assert all("device_pk" not in a and "site_pk" not in a for a in whole["assignments"])
    assert set(whole) >= {"feasible", "status", "assignments", "unscheduled", "shortfall",
                          "summary", "start", "horizon_weeks"}


def test_work_orders_transition_with_photo(client: TestClient, estate: Estate) -> None:
    listing = get(client, estate, "surveyor-a", "/api/workorders")
    assert listing["total"] == 3
    assert {w["site_id"] for w in listing["items"]} == {"A-001"}
    wo = next(w for w in listing["items"] if w["asset_id"] == "A-CAM-1")
    theirs = get(client, estate, "surveyor-b", "/api/workorders")["items"][0]
    url = f"/api/workorders/{wo['id']}/transition"
    # a viewer may not record work; another department's work order does not exist for A
    assert client.post(url, data={"to_state": "removed"},
                       headers=estate.headers("viewer-a")).status_code == 403
    assert client.post(f"/api/workorders/{theirs['id']}/transition",
                       data={"to_state": "removed"}, files={"file": ("p.png", png_bytes(),
                                                                     "image/png")},
                       headers=estate.headers("surveyor-a")).status_code == 404
    no_photo = client.post(url, data={"to_state": "removed"},
                           headers=estate.headers("surveyor-a"))
    assert no_photo.status_code == 409 and "photo" in no_photo.json()["detail"]
    fake = client.post(url, data={"to_state": "removed"},
                       files={"file": ("p.png", b"not a png at all", "image/png")},
                       headers=estate.headers("surveyor-a"))
    assert fake.status_code == 409
    done = client.post(url, data={"to_state": "removed", "note": "taken down"},
                       files={"file": ("photo.png", png_bytes(), "image/png")},
                       headers=estate.headers("surveyor-a"))
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "removed"
    detail = get(client, estate, "viewer-a", f"/api/workorders/{wo['id']}")
    event = detail["events"][-1]
    assert event["actor"] == "surveyor-a" and event["attachment_type"] == "image/png"
    photo = client.get(f"/api/workorders/{wo['id']}/attachments/{event['attachment_sha256']}",
                       headers=estate.headers("viewer-a"))
    assert photo.status_code == 200 and photo.content == png_bytes()
    assert client.get(f"/api/workorders/{wo['id']}/attachments/{event['attachment_sha256']}",
                      headers=estate.headers("viewer-b")).status_code == 404
    entries = [e for e in iter_audit(estate.store) if e.actor == "surveyor-a"]
    assert any(str(wo["id"]) in e.object_id for e in entries)
    assert verify_audit(estate.store) == []


def test_generate_is_central_only_and_idempotent(client: TestClient, estate: Estate) -> None:
    assert client.post("/api/workorders/generate",
                       headers=estate.headers("department-admin-a")).status_code == 403
    again = client.post("/api/workorders/generate", headers=estate.headers("central"))
    assert again.status_code == 200 and again.json() == {"changed": 0}


def test_alerts_and_screening(client: TestClient, estate: Estate) -> None:
    late = get(client, estate, "viewer-a", "/api/alerts", as_of="2029-01-01")
    assert late and all(a["site_id"].startswith("A-") for a in late)
    result = get(client, estate, "viewer-b", "/api/screen", name="Hikvision UK Limited",
                 country="GB")
    assert result["match"] is True and result["explanation"]
    clean = get(client, estate, "viewer-b", "/api/screen", name="Brightwater Facilities Ltd")
    assert clean["match"] is False


def test_audit_verify_is_central_only(client: TestClient, estate: Estate) -> None:
    assert client.get("/api/audit/verify", headers=estate.headers("department-admin-a")
                      ).status_code == 403
    body = get(client, estate, "central", "/api/audit/verify")
    assert body["ok"] is True and body["entries"] > 0


def test_nul_and_huge_inputs_are_refused_not_crashing(client: TestClient, estate: Estate
                                                     ) -> None:
    h = estate.headers("viewer-a")
    assert client.get("/api/devices", params={"q": "a\x00b"}, headers=h).status_code == 422
    assert client.get("/api/devices", params={"page": 10**20}, headers=h).status_code == 422
    assert client.get("/api/workorders/99999999999999", headers=h).status_code == 422
    wo = get(client, estate, "surveyor-a", "/api/workorders")["items"][0]["id"]
    assert client.post(f"/api/workorders/{wo}/transition", data={
        "to_state": "cancelled", "note": "a\x00b"},
        headers=estate.headers("surveyor-a")).status_code == 422
    assert client.post("/api/token", data={"username": "viewer-a\x00",
                                           "password": PASSWORD}).status_code == 401

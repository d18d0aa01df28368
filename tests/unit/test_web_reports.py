"""Reports downloaded from the web app: the CLI's documents, scoped to the caller's
department and logged in the audit log (issue #9)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from web_estate import Estate, TestClient, estate_fixture, login, make_app

from camsweep.track.audit import iter_audit

estate = estate_fixture("reports")


@pytest.fixture(scope="module")
def app(estate: Estate) -> Any:
    return make_app(estate.store, estate.root)


def signed_in(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    login(client, username)
    return client


def test_a_department_return_holds_only_its_own_sites(app: Any) -> None:
    mine = signed_in(app, "department-admin-a").get("/reports/return?format=json")
    assert mine.status_code == 200 and mine.headers["content-type"].startswith(
        "application/json")
    assert "attachment" in mine.headers["content-disposition"]
    text = mine.text
    assert "Department A" in text
    assert "Beta Court" not in text and "B-001" not in text and "B-CAM" not in text
    central = signed_in(app, "central").get("/reports/return?format=json")
    assert central.status_code == 200
    assert json.loads(central.text)["scope"] != json.loads(text)["scope"]


def test_dossiers_are_404_outside_the_department(app: Any) -> None:
    client = signed_in(app, "viewer-a")
    assert client.get("/reports/dossier/B-CAM-1?format=json").status_code == 404
    assert client.get("/reports/site-dossier/B-001?format=json").status_code == 404
    own = client.get("/reports/dossier/A-CAM-1?format=pdf")
    assert own.status_code == 200 and own.content[:5] == b"%PDF-"
    site = client.get("/reports/site-dossier/A-001?format=json")
    assert site.status_code == 200 and "A-CAM-1" in site.text and "B-CAM" not in site.text
    assert signed_in(app, "central").get("/reports/dossier/B-CAM-1?format=json"
                                         ).status_code == 200


def test_public_timeline_csv_and_bad_requests(app: Any, estate: Estate) -> None:
    client = signed_in(app, "surveyor-b")
    got = client.get("/reports/public-timeline?format=csv")
    assert got.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
    assert names and all(n.endswith(".csv") for n in names)
    assert client.get("/reports/nonsense").status_code == 404
    assert client.get("/reports/return?format=docx").status_code in (400, 422)
    logged = [e for e in iter_audit(estate.store, object_type="report")
              if e.actor == "surveyor-b"]
    assert logged and logged[-1].action == "report.export"
    assert logged[-1].details["format"] == "csv"


def test_reports_page_links_every_format(app: Any) -> None:
    page = signed_in(app, "viewer-b").get("/reports")
    assert page.status_code == 200
    for fmt in ("pdf", "xlsx", "csv", "json", "html"):
        assert f"/reports/return?format={fmt}" in page.text


def test_site_page_shows_which_devices_call_home(app: Any, estate: Estate,
                                                  tmp_path: Any) -> None:
    from callhome_logs import at, zeek_dns
    from camsweep.discover.callhome import import_logs

    log = tmp_path / "dns.log"
    log.write_text(zeek_dns([(at(0), "10.1.0.1", "litedev.hik-connect.com", "52.1.2.3"),
                             (at(5), "10.1.0.1", "litedev.hik-connect.com", "52.1.2.3"),
                             (at(9), "10.9.0.3", "www.easy4ipcloud.com", None)]))
    import_logs(estate.store, "dns", [log])
    client = signed_in(app, "viewer-a")
    page = client.get("/sites/A-001")
    assert page.status_code == 200
    assert "litedev.hik-connect.com" in page.text and "A-CAM-1" in page.text
    assert "easy4ipcloud" not in page.text  # department B's recorder, another site
    assert "calling vendor clouds" in client.get("/sites/A-002").text
    assert "litedev" not in client.get("/sites/A-002").text
    other = signed_in(app, "viewer-b").get("/sites/B-001")
    assert "www.easy4ipcloud.com" in other.text and "hik-connect" not in other.text

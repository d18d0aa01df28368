"""Reports from a real store (SQLite and PostgreSQL): every file opened and checked against it.

One small sample estate per backend goes through the whole pipeline (import, identify,
assess with a waiver, plan under tight resources so the plan has a shortfall, work orders
with a removal and a disposal, a screening case); the tests then read each report back —
PDF text with pypdf, XLSX with openpyxl, CSV from the ZIP, JSON — and compare its figures
with queries of their own against the store.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select
from typer.testing import CliRunner

from camsweep.assess import assess_store, open_removal_findings, save_waiver
from camsweep.cli.app import app
from camsweep.errors import ReportError
from camsweep.inventory.importer import import_file
from camsweep.kb import load_kb
from camsweep.plan import make_plan, parse_findings, parse_resources
from camsweep.plan.outputs import public_for
from camsweep.policy.loader import bundled_policies
from camsweep.policy.schema import Waiver
from camsweep.report import CONTENT_TYPES, build_report, make_report
from camsweep.report.output import write_report
from camsweep.sample import write_sample
from camsweep.screen import Screener
from camsweep.screen.cases import (
    attach_document,
    attach_record,
    decide,
    open_case,
    require_actor,
)
from camsweep.store import Store, open_store
from camsweep.store import models as m
from camsweep.store.identification import identify_store
from camsweep.store.plans import load_plan, save_plan
from camsweep.track.attachments import EvidenceStore
from camsweep.track.audit import iter_audit, verify_audit
from camsweep.track.workorders import Attachment, generate_work_orders, list_work_orders, transition

runner = CliRunner()
AS_OF = date(2026, 12, 1)
PARAMS = {"organisation_type": "central_government", "programme_deadline": "2028-06-30"}
ACTOR = "r.lee"


def png_photo() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def tight_resources(regions: list[str]) -> dict[str, Any]:
    """Half a year, one small crew per region: some removals must be late (a shortfall)."""
    return {
        "start": "2028-01-03", "horizon_weeks": 52,
        "regions": [{"id": r, "crews": 1, "crew_capacity": 1} for r in regions],
        "unit_costs": {"camera": 650, "nvr": 1800, "dvr": 1200, "encoder": 500,
                       "intercom": 700, "access_control": 900, "other": 500},
        "budgets": [{"from": "2028-01-03", "to": "2028-07-03", "amount": 40000},
                    {"from": "2028-07-03", "to": "2029-01-01", "amount": 40000}],
        "blackouts": [{"from": "2028-12-18", "to": "2029-01-01", "region": None}],
    }


@dataclass
class Estate:
    store: Store
    url: str
    out: Path
    plan: dict[str, Any]
    department: str  # has sensitive sites and removals
    removed_asset: str  # a work order taken to 'disposed' (recorder) or 'removed'
    removed_site: str
    waiver_ref: str
    case_ref: str
    document_sha: str


def _build(store: Store, url: str, out: Path) -> Estate:
    write_sample(out, sites=24, devices=1000, seed=3)
    import_file(store, out / "sites.csv", "sites")
    import_file(store, out / "assets.csv", "assets")
    kb = load_kb()
    identify_store(store, kb)
    with store.session() as s:
        restricted = s.execute(
            select(m.Department.name, m.Device.asset_id)
            .join(m.Site, m.Site.id == m.Device.site_pk)
            .join(m.Department, m.Department.id == m.Site.department_id)
            .where(m.Site.sensitivity == "sensitive", m.Device.restricted.is_(True))
            .order_by(m.Device.asset_id)).all()
    by_dept = Counter(d for d, _ in restricted)
    department = by_dept.most_common(1)[0][0]
    other = next(a for d, a in restricted if d != department)
    save_waiver(store, Waiver(reference="WVR-OTHER-1", asset_ids=[str(other)],
                              granted_by="Other department SRO", reason="lease ends in March"))
    assess_store(store, ["uk-wms-2022", "programme-template"], AS_OF, params=PARAMS, kb=kb)
    items = parse_findings(open_removal_findings(store), "test store")
    resources = parse_resources(tight_resources(sorted({i.region for i in items if i.region})))
    plan = make_plan(items, resources, time_limit=1.0)
    save_plan(store, plan.to_json(), resources=resources.model_dump(mode="json"),
              public=public_for(plan, items, resources).as_dict(), actor="test")
    generate_work_orders(store, ACTOR)
    doc = load_plan(store)
    assert doc is not None
    with store.session() as s:
        dept_sites = set(s.scalars(select(m.Site.id).join(m.Department).where(
            m.Department.name == department)))
        types = dict(s.execute(select(m.Device.id, m.Device.device_type)).all())
    mine = [a for a in doc["assignments"] if a["site_pk"] in dept_sites]
    pick = next((a for a in mine if types[a["device_pk"]] in ("nvr", "dvr")), mine[0])
    orders, _ = list_work_orders(store, site_pks=[pick["site_pk"]], per_page=500)
    wo = next(o for o in orders if o.device_pk == pick["device_pk"])
    evidence = EvidenceStore(out / "evidence")
    transition(store, ACTOR, wo.id, "removed", note="taken down by crew 2",
               attachment=Attachment("ceiling.png", "image/png", png_photo()), evidence=evidence)
    transition(store, ACTOR, wo.id, "disposed", certificate_ref="WEEE-CERT-0042",
               disposal_method="destroyed", evidence=evidence)
    actor = require_actor("p.buyer")
    hit = Screener.bundled().screen("Hikvision UK Ltd", country="GB").as_dict()
    case = open_case(store, actor, "Hikvision UK Ltd", country="GB", screening=hit)
    letter = out / "supplier-letter.txt"
    letter.write_text("We supply Hikvision equipment under the EZVIZ brand.\n")
    attached = attach_document(store, actor, case.ref, letter, evidence, "supplier's letter")
    attach_record(store, actor, case.ref, "note", {"text": "called the supplier"})
    decide(store, actor, case.ref, "exclude", "subsidiary of a listed manufacturer",
           decided_on=date(2026, 11, 2))
    return Estate(store, url, out, doc, department, pick["asset_id"], pick["site_id"],
                  "WVR-OTHER-1", case.ref, str(attached.sha256))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def estate(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Estate]:
    out = tmp_path_factory.mktemp(f"estate-{request.param}")
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{out / 'camsweep.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        name = server.create_database()
        url = server.url(name)
    store = open_store(url)
    try:
        yield _build(store, url, out)
    finally:
        store.dispose()
        if name is not None:
            request.getfixturevalue("pg_server").drop_database(name)


# --- reading files back ------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_images(data: bytes) -> int:
    """Distinct images (pages share one resource dictionary, so each lists them all)."""
    return len({i.name for page in PdfReader(io.BytesIO(data)).pages for i in page.images})


def xlsx_sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def zip_csvs(data: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {Path(n).name: list(csv.DictReader(io.StringIO(z.read(n).decode())))
                for n in z.namelist()}


def report_json(store: Store, kind: str, **kw: Any) -> dict[str, Any]:
    data, content_type, _ = build_report(store, kind, fmt="json", **kw)
    assert content_type == "application/json"
    out: dict[str, Any] = json.loads(data)
    return out


def rows(doc: dict[str, Any], table: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = doc["tables"][table]["rows"]
    return out


# --- what the store says, asked independently ------------------------------------------


def site_pks_of(store: Store, department: str) -> set[int]:
    with store.session() as s:
        return set(s.scalars(select(m.Site.id).join(m.Department)
                             .where(m.Department.name == department)))


def maker_status_counts(store: Store, site_pks: set[int] | None) -> Counter[tuple[str, str]]:
    with store.session() as s:
        q = (select(m.Device.manufacturer_id, m.DeviceStatus.status)
             .outerjoin(m.DeviceStatus, m.DeviceStatus.device_pk == m.Device.id))
        if site_pks is not None:
            q = q.where(m.Device.site_pk.in_(site_pks))
        return Counter((maker or "(undetermined)", status or "not_assessed")
                       for maker, status in s.execute(q))


def open_findings(store: Store, site_pks: set[int] | None) -> Counter[tuple[str, str, str]]:
    with store.session() as s:
        q = select(m.Finding.policy_id, m.Finding.rule, m.Finding.action).where(
            m.Finding.status == "open")
        if site_pks is not None:
            q = q.where(m.Finding.site_pk.in_(site_pks))
        return Counter(tuple(r) for r in s.execute(q))  # type: ignore[misc]


def site_names_and_ids(store: Store, *, sensitive_only: bool = False) -> list[str]:
    with store.session() as s:
        q = select(m.Site.site_id, m.Site.name, m.Site.postcode)
        if sensitive_only:
            q = q.where(m.Site.sensitivity == "sensitive")
        return [v for row in s.execute(q) for v in row if v]


STATUSES = ("non_compliant", "compliant", "needs_survey", "exempt", "not_assessed")


def _maker_rows(doc: dict[str, Any]) -> Counter[tuple[str, str]]:
    got: Counter[tuple[str, str]] = Counter()
    for r in rows(doc, "devices_by_maker_status"):
        if r["maker"] != "total":
            for st in STATUSES:
                if r[st]:
                    got[(r["maker"], st)] = r[st]
    return got


# --- the return ------------------------------------------------------------------------------


def test_central_return_figures_match_the_store(estate: Estate) -> None:
    doc = report_json(estate.store, "return")
    assert doc["scope"].startswith("All departments")
    assert _maker_rows(doc) == maker_status_counts(estate.store, None)
    total = rows(doc, "devices_by_maker_status")[-1]
    with estate.store.session() as s:
        devices = s.scalar(select(func.count(m.Device.id)))
        restricted = s.scalar(select(func.count(m.Device.id))
                              .where(m.Device.restricted.is_(True)))
    assert (total["maker"], total["devices"], total["restricted"]) == ("total", devices,
                                                                        restricted)
    found = Counter({(r["policy"], r["rule"], r["action"]): r["findings"]
                     for r in rows(doc, "findings_by_policy_rule") if r["policy"] != "total"})
    assert found == open_findings(estate.store, None)
    progress = rows(doc, "plan_progress_by_quarter")
    assert progress[-1]["scheduled"] == len(estate.plan["assignments"])
    assert progress[-1]["cost"] == pytest.approx(sum(a["cost"] for a in estate.plan["assignments"]))
    assert progress[-1]["done"] == 1, "the disposed work order counts as done"
    waivers = {r["reference"]: r for r in rows(doc, "waivers")}
    assert waivers[estate.waiver_ref]["covers"] == "1 device(s)"
    prov = doc["provenance"]
    assert prov["kb_version"] == load_kb().version
    bundled = bundled_policies()
    assert {(p["id"], p["version"]) for p in prov["policies"]} == {
        (pid, bundled[pid].policy.version) for pid in ("uk-wms-2022", "programme-template")}
    assert prov["plan"]["id"] == estate.plan["id"] and prov["assessment_as_of"] == "2026-12-01"
    assert doc["sign_off"][0]["signatories"][0] == "Prepared by"


def test_department_return_holds_only_that_department(estate: Estate) -> None:
    mine = site_pks_of(estate.store, estate.department)
    doc = report_json(estate.store, "return", department=estate.department.upper())
    assert doc["scope"] == f"Department: {estate.department}"
    assert _maker_rows(doc) == maker_status_counts(estate.store, mine)
    found = Counter({(r["policy"], r["rule"], r["action"]): r["findings"]
                     for r in rows(doc, "findings_by_policy_rule") if r["policy"] != "total"})
    assert found == open_findings(estate.store, mine)
    mine_plan = [a for a in estate.plan["assignments"] if a["site_pk"] in mine]
    progress = rows(doc, "plan_progress_by_quarter")[-1]
    assert (progress["scheduled"], progress["done"]) == (len(mine_plan), 1)
    assert rows(doc, "waivers") == [], "another department's waiver stays out"
    web = report_json(estate.store, "return", site_pks=mine)
    assert web["title"] == "Compliance return: selected sites"
    assert _maker_rows(web) == _maker_rows(doc)
    with estate.store.session() as s:
        others = list(s.scalars(select(m.Site.site_id).where(m.Site.id.not_in(mine))))
        mine_ids = list(s.scalars(select(m.Site.site_id).where(m.Site.id.in_(mine))))
    xlsx, _, name = build_report(estate.store, "return", department=estate.department,
                                 fmt="xlsx")
    assert name == f"return-{estate.department.lower().replace(' ', '-')}.xlsx"
    text = json.dumps(doc) + json.dumps(xlsx_sheets(xlsx), default=str)
    assert mine_ids and not any(f'"{sid}"' in text for sid in others)


def test_return_xlsx_pdf_and_csv_agree_with_the_json(estate: Estate) -> None:
    doc = report_json(estate.store, "return")
    sheets = xlsx_sheets(build_report(estate.store, "return", fmt="xlsx")[0])
    assert next(iter(sheets)) == "About"
    makers = sheets["Devices by maker status"]
    header = makers[0]
    assert header[0] == "Maker (KB id)" and header[-1] == "Devices"
    by_maker = {r[0]: r for r in makers[1:]}
    for r in rows(doc, "devices_by_maker_status"):
        assert by_maker[r["maker"]][-1] == r["devices"]
        assert isinstance(by_maker[r["maker"]][-1], int), "numbers stay numbers"
    book = load_workbook(io.BytesIO(build_report(estate.store, "return", fmt="xlsx")[0]))
    ws = book["Devices by maker status"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    assert ws.column_dimensions["B"].width > 10
    about = {r[0]: r[1] for r in sheets["About"] if r[0]}
    assert about["Knowledge base"] == load_kb().version

    files = zip_csvs(build_report(estate.store, "return", fmt="csv")[0])
    assert "about.csv" in files and "devices_by_maker_status.csv" in files
    csv_total = files["devices_by_maker_status.csv"][-1]
    assert int(csv_total["devices"]) == rows(doc, "devices_by_maker_status")[-1]["devices"]

    text = pdf_text(build_report(estate.store, "return", fmt="pdf")[0])
    assert "Compliance return: all departments" in text
    version = bundled_policies()["uk-wms-2022"].policy.version
    assert load_kb().version in text and f"uk-wms-2022 {version}" in text
    assert f"plan {estate.plan['id']}" in text
    total = rows(doc, "devices_by_maker_status")[-1]
    assert f"{total['devices']:,}" in text and "Signatures" in text


# --- the timeline ------------------------------------------------------------------------------


def test_timeline_totals_shortfall_and_chart(estate: Estate) -> None:
    doc = report_json(estate.store, "timeline")
    plan = estate.plan
    regions = rows(doc, "removals_by_region_quarter")
    assert regions[-1]["total"] == len(plan["assignments"])
    per_region = Counter(a["region"] for a in plan["assignments"])
    assert {r["region"]: r["total"] for r in regions[:-1]} == dict(per_region)
    cost = rows(doc, "cost_by_quarter")
    assert cost[-1]["cost"] == pytest.approx(sum(a["cost"] for a in plan["assignments"]))
    assert plan["shortfall"], "the tight resources must leave a shortfall to report"
    short = rows(doc, "crew_shortfall")
    assert short[-1]["extra_crew_weeks"] == sum(s["extra_crew_weeks"] for s in plan["shortfall"])
    spend = rows(doc, "spend_by_budget_period")
    assert sum(r["planned"] for r in spend) == pytest.approx(cost[-1]["cost"])

    pdf = build_report(estate.store, "timeline", fmt="pdf")[0]
    text = pdf_text(pdf)
    assert "Removal timeline: all departments" in text and "Extra crew-weeks" in text
    assert pdf_images(pdf) >= 2, "Gantt chart and cost chart as static images"
    html = build_report(estate.store, "timeline", fmt="html")[0].decode()
    assert "Plotly.newPlot" in html and "<script src=" not in html, "plotly.js is inlined"
    assert "cdn.plot.ly" not in html.split("</script>", 1)[1]


def test_department_timeline_keeps_to_its_sites(estate: Estate) -> None:
    mine = site_pks_of(estate.store, estate.department)
    doc = report_json(estate.store, "timeline", department=estate.department)
    expected = [a for a in estate.plan["assignments"] if a["site_pk"] in mine]
    assert rows(doc, "removals_by_region_quarter")[-1]["total"] == len(expected)
    assert "spend_by_budget_period" not in doc["tables"], "budgets are the organisation's"
    regions = {a["region"] for a in expected}
    assert {r["region"] for r in rows(doc, "crew_shortfall")[:-1]} <= regions


# --- the public timeline ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv", "json", "html"])
def test_public_timeline_names_no_site(estate: Estate, fmt: str) -> None:
    data, content_type, name = build_report(estate.store, "public-timeline", fmt=fmt)
    assert content_type == CONTENT_TYPES[fmt] and name.startswith("public-timeline-all")
    if fmt == "pdf":
        text = pdf_text(data)
    elif fmt == "xlsx":
        text = json.dumps(xlsx_sheets(data), default=str)
    elif fmt == "csv":
        text = json.dumps(zip_csvs(data))
    else:
        text = data.decode()
    forbidden = site_names_and_ids(estate.store)
    assert forbidden and not [s for s in forbidden if s in text]
    assert "Public removal timeline" in text


def test_public_timeline_is_the_planners_protected_table(estate: Estate) -> None:
    doc = report_json(estate.store, "public-timeline")
    assert doc["public"] is True
    stored = estate.plan["public"]
    cells = rows(doc, "cells")
    expected = [(t["name"], r["row"], q, c["value"], c["status"])
                for t in stored["tables"] for r in t["rows"] for q, c in r["cells"].items()]
    assert [(c["table"], c["row"], c["quarter"], c["value"], c["status"]) for c in cells] \
        == expected
    statuses = Counter(c["status"] for c in cells)
    assert statuses["suppressed"] and statuses["rounded"], "the sample exercises protection"
    assert all(c["value"] is None for c in cells if c["status"] == "suppressed")
    assert all(c["value"] % 5 == 0 for c in cells if c["status"] == "rounded")
    dept = report_json(estate.store, "public-timeline", department=estate.department)
    assert {r["row"] for r in rows(dept, "by_department")} == {estate.department}
    assert {c["row"] for c in rows(dept, "cells")} == {estate.department}


# --- dossiers ------------------------------------------------------------------------------


def test_device_dossier_holds_the_evidence_chain(estate: Estate) -> None:
    doc = report_json(estate.store, "dossier", subject=estate.removed_asset)
    assert doc["facts"]["device"]["Asset id"] == estate.removed_asset
    with estate.store.session() as s:
        dev = s.scalars(select(m.Device).where(m.Device.asset_id == estate.removed_asset)).one()
        verdict = s.scalars(select(m.Verdict).where(m.Verdict.device_pk == dev.id)
                            .order_by(m.Verdict.id.desc())).first()
        n_findings = s.scalar(select(func.count(m.Finding.id))
                              .where(m.Finding.device_pk == dev.id))
    assert verdict is not None
    claims = rows(doc, "claims")
    assert [c["source"] for c in claims] == [c["source"] for c in verdict.evidence]
    assert rows(doc, "verdicts")[0]["maker"] == dev.manufacturer_id
    assert len(rows(doc, "findings")) == n_findings
    clauses = {(r["policy"], r["rule"]): r for r in rows(doc, "rules_cited")}
    remove = clauses[("uk-wms-2022", "stop-install")] if ("uk-wms-2022", "stop-install") \
        in clauses else next(iter(clauses.values()))
    assert remove["clause"] and any("https://" in c for c in remove["citations"])
    events = rows(doc, "work_order_events")
    assert [e["to_state"] for e in events if e["event"] == "transition"] == ["removed",
                                                                           "disposed"]
    assert rows(doc, "disposal_certificates")[0]["certificate_ref"] == "WEEE-CERT-0042"
    audit = rows(doc, "audit")
    assert [a["action"] for a in audit].count("workorder.transition") == 2
    chain = {e.seq: e.hash for e in iter_audit(estate.store)}
    assert all(chain[a["seq"]] == a["hash"] for a in audit)
    plan_rows = rows(doc, "plan")
    assert plan_rows and plan_rows[0]["asset_id"] == estate.removed_asset

    text = pdf_text(build_report(estate.store, "dossier", subject=estate.removed_asset,
                                 fmt="pdf")[0])
    assert estate.removed_asset in text and "WEEE-CERT-0042" in text
    assert "Rules applied, as their policies state them" in text


def test_site_dossier_lists_every_device(estate: Estate) -> None:
    doc = report_json(estate.store, "dossier", subject=f"site:{estate.removed_site}")
    with estate.store.session() as s:
        assets = set(s.scalars(select(m.Device.asset_id).join(m.Site)
                               .where(m.Site.site_id == estate.removed_site)))
        n_findings = s.scalar(select(func.count(m.Finding.id)).join(
            m.Device, m.Device.id == m.Finding.device_pk).join(
            m.Site, m.Site.id == m.Device.site_pk).where(m.Site.site_id == estate.removed_site))
    devices = {r["asset_id"]: r for r in rows(doc, "devices")}
    assert set(devices) == assets and doc["facts"]["site"]["Devices"] == len(assets)
    assert devices[estate.removed_asset]["work_order"] == "disposed"
    planned = {a["asset_id"]: a["week_start"] for a in estate.plan["assignments"]
               if a["site_id"] == estate.removed_site}
    assert {a: r["planned_week"] for a, r in devices.items() if r["planned_week"]} == planned
    assert sum(r["findings"] for r in rows(doc, "findings_by_rule")) == n_findings
    assert [e["to_state"] for e in rows(doc, "work_order_events")
            if e["event"] == "transition"] == ["removed", "disposed"]
    xlsx = xlsx_sheets(build_report(estate.store, "dossier", subject=estate.removed_site,
                                    fmt="xlsx")[0])
    assert len(xlsx["Devices"]) == len(assets) + 1


def test_dossier_outside_the_department_is_not_found(estate: Estate) -> None:
    mine = site_pks_of(estate.store, estate.department)
    with estate.store.session() as s:
        other = s.scalar(select(m.Device.asset_id).where(m.Device.site_pk.not_in(mine))
                         .limit(1))
    assert other is not None
    with pytest.raises(ReportError, match="no device or site"):
        make_report(estate.store, "dossier", subject=other, department=estate.department)
    with pytest.raises(ReportError, match="no device or site"):
        make_report(estate.store, "dossier", subject=other, site_pks=mine)
    assert make_report(estate.store, "dossier", subject=other).kind == "dossier"
    with pytest.raises(ReportError, match="not a department"):
        make_report(estate.store, "return", department="Ministry of Nothing")


# --- the screening case file --------------------------------------------------------------


def test_screening_case_file(estate: Estate) -> None:
    doc = report_json(estate.store, "screening", subject=estate.case_ref.lower())
    assert doc["facts"]["case"]["Reference"] == estate.case_ref
    evidence = rows(doc, "evidence")
    assert [e["kind"] for e in evidence] == ["screening", "document", "note"]
    assert evidence[1]["sha256"] == estate.document_sha
    assert rows(doc, "screening_results")[0]["relation"] == "subsidiary"
    assert rows(doc, "decisions")[0]["decision"] == "exclude"
    assert rows(doc, "exclusions")[0]["status"] == "active"
    text = pdf_text(build_report(estate.store, "screening", subject=estate.case_ref)[0])
    assert estate.case_ref in text and "Hikvision UK Ltd" in text
    assert estate.document_sha[:20] in text.replace("\n", "")
    assert "subsidiary of a listed manufacturer" in text


# --- the command line ----------------------------------------------------------------------


def test_cli_writes_each_format_and_logs_the_export(estate: Estate, tmp_path: Path) -> None:
    db = ["--db", estate.url]
    res = runner.invoke(app, [*db, "report", "return", "--department", estate.department,
                              "--out", str(tmp_path / "ret.xlsx"), "--actor", ACTOR])
    assert res.exit_code == 0, res.output
    assert xlsx_sheets((tmp_path / "ret.xlsx").read_bytes())["About"][1][0] == (
        f"Department: {estate.department}")
    entries = list(iter_audit(estate.store, "report"))
    assert entries[-1].action == "report.export" and entries[-1].actor == ACTOR
    assert entries[-1].details["files"] == ["ret.xlsx"]

    res = runner.invoke(app, [*db, "report", "timeline", "--format", "csv",
                              "--out", str(tmp_path / "tl")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "tl" / "about.csv").is_file()
    assert (tmp_path / "tl" / "removals_by_region_quarter.csv").is_file()

    res = runner.invoke(app, [*db, "report", "public-timeline", "--out",
                              str(tmp_path / "pub.zip")])
    assert res.exit_code == 0 and "cells.csv" in zip_csvs((tmp_path / "pub.zip").read_bytes())

    res = runner.invoke(app, [*db, "report", "dossier", estate.removed_asset,
                              "--out", str(tmp_path / "d.json")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "d.json").read_text())["report"] == "dossier"
    assert verify_audit(estate.store) == []


def test_cli_refuses_what_it_cannot_do(estate: Estate, tmp_path: Path) -> None:
    db = ["--db", estate.url]
    cases = [
        (["report", "return", "--out", str(tmp_path / "r.csv"), "--format", "csv"], ".zip"),
        (["report", "return", "--out", str(tmp_path / "r.pdf"), "--department", "Nope"],
         "not a department"),
        (["report", "dossier", "--out", str(tmp_path / "d.pdf")], "needs a subject"),
        (["report", "annual", "--out", str(tmp_path / "a.pdf")], "unknown report"),
        (["report", "screening", estate.case_ref, "--out", str(tmp_path / "c.pdf")],
         "--actor"),
        (["report", "return", "--out", str(tmp_path / "r.pdf"), "--format", "docx"],
         "choose one of"),
    ]
    for args, message in cases:
        res = runner.invoke(app, [*db, *args])
        assert res.exit_code != 0, args
        text = str(res.exception) + res.output
        assert message in text, (args, text)
    assert not list(tmp_path.iterdir()), "nothing written on refusal"


def test_case_export_pdf(estate: Estate, tmp_path: Path) -> None:
    out = tmp_path / "case.pdf"
    res = runner.invoke(app, ["--db", estate.url, "case", "export", estate.case_ref,
                              "--format", "pdf", "--out", str(out), "--actor", "p.buyer"])
    assert res.exit_code == 0, res.output
    assert estate.case_ref in pdf_text(out.read_bytes())
    last = list(iter_audit(estate.store, "case", estate.case_ref))[-1]
    assert (last.action, last.details["format"]) == ("case.export", "pdf")


def test_demo_step_writes_and_lists_the_documents(estate: Estate, tmp_path: Path) -> None:
    from camsweep.demo import DEMO_REPORTS, DemoResult, _reports

    said: list[str] = []
    result = DemoResult(out_dir=tmp_path, db_url=estate.url)
    _reports(estate.store, tmp_path, result, said.append)
    assert said and said[0].startswith("8.")
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(
        name for _, name, _ in DEMO_REPORTS)
    assert set(result.outputs) == {label for _, _, label in DEMO_REPORTS}
    sheets = xlsx_sheets(result.outputs["return (XLSX)"].read_bytes())
    assert sheets["About"][0][0] == "Compliance return: all departments"
    public = json.loads(result.outputs["public timeline (JSON)"].read_text())
    assert public["public"] is True and public["tables"]["cells"]["rows"]


def test_write_report_is_whole_or_nothing(estate: Estate, tmp_path: Path) -> None:
    report = make_report(estate.store, "public-timeline")
    target = tmp_path / "deep" / "pub.pdf"
    assert write_report(report, target) == [target]
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in target.parent.iterdir()] == ["pub.pdf"]

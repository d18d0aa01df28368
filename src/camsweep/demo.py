"""The end-to-end demo on a bundled sample estate; each finished capability adds a step."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from camsweep.inventory.importer import ImportResult, import_file
from camsweep.sample import write_sample
from camsweep.store import Store, open_store
from camsweep.store.identification import IdentifyRun, identify_store
from camsweep.store.queries import EstateSummary, estate_summary

DEMO_SEED = 2023
DEMO_SITES = 50
DEMO_DEVICES = 3000
DEMO_AS_OF = date(2026, 12, 1)
# A department's own programme (the bundled template, as a user would copy it) next to the
# UK stop-install statement; the deadline leaves the planner a tight but feasible window.
DEMO_POLICIES = ("uk-wms-2022", "programme-template")
DEMO_PLAN_SECONDS = 5.0
DEMO_PARAMS = {"organisation_type": "central_government", "programme_deadline": "2028-06-30"}


@dataclass
class DemoResult:
    out_dir: Path
    db_url: str
    imports: list[ImportResult] = field(default_factory=list)
    summary: EstateSummary | None = None
    identification: IdentifyRun | None = None
    truth_agreement: tuple[int, int, int] | None = None  # agree, total, restricted missed
    assessment: Any = None
    explained: str | None = None
    plan: Any = None
    plan_id: int | None = None
    screened: list[Any] = field(default_factory=list)
    bid: Any = None
    outputs: dict[str, Path] = field(default_factory=dict)
    call_home: Any = None
    tracking: TrackingResult | None = None


def _truth_agreement(out_dir: Path, store: Store) -> tuple[int, int, int]:
    """How the verdicts compare with the generator's ground truth (makers it knows)."""
    import polars as pl

    from camsweep.store.queries import DeviceFilter, list_devices

    truth = pl.read_csv(out_dir / "truth.csv", infer_schema=False)
    got = pl.DataFrame(list_devices(store, DeviceFilter()))
    both = truth.join(got.select("asset_id", "manufacturer_id", "restricted"), on="asset_id")
    agree = both.filter(pl.col("manufacturer_id") == pl.col("manufacturer_id_right")).height
    missed = both.filter((pl.col("restricted") == "true")
                         & ~pl.col("restricted_right").fill_null(False)).height
    return agree, both.height, missed


def run_demo(out_dir: Path, db_url: str | None = None, *,
             say: Callable[[str], None] = lambda _m: None) -> DemoResult:
    """Generate the sample estate and run every finished step of the pipeline on it."""
    from camsweep.assess import assess_store
    from camsweep.kb import load_kb

    out_dir.mkdir(parents=True, exist_ok=True)
    if db_url is None:
        db_file = out_dir / "camsweep.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"
    result = DemoResult(out_dir=out_dir, db_url=db_url)
    say(f"1. sample estate: {DEMO_SITES} sites, {DEMO_DEVICES} devices (seed {DEMO_SEED})")
    write_sample(out_dir, sites=DEMO_SITES, devices=DEMO_DEVICES, seed=DEMO_SEED, truth=True)
    for name in ("sites.csv", "assets.csv", "resources.yaml", "truth.csv"):
        result.outputs[name] = out_dir / name
    store: Store = open_store(db_url)
    try:
        say("2. import the site list and the asset register")
        result.imports.append(import_file(store, out_dir / "sites.csv", "sites"))
        result.imports.append(import_file(store, out_dir / "assets.csv", "assets"))
        result.summary = estate_summary(store)
        result.call_home = _call_home(store, out_dir, result, say)
        say("3. identify the true maker of every device")
        kb = load_kb()
        result.identification = identify_store(store, kb)
        result.truth_agreement = _truth_agreement(out_dir, store)
        say(f"4. assess against {', '.join(DEMO_POLICIES)}")
        assessment = assess_store(store, list(DEMO_POLICIES), DEMO_AS_OF, params=DEMO_PARAMS,
                                  kb=kb)
        result.assessment = assessment
        path = out_dir / "assessment.json"
        path.write_text(json.dumps(assessment.contract(), indent=2, default=str) + "\n",
                        encoding="utf-8")
        result.outputs["assessment.json"] = path
        result.explained = _pick_example(result)
        say("5. plan the removals within crews, budget and deadlines")
        result.plan = _plan(store, out_dir, result)
        result.tracking = _track(store, out_dir, result, say)
        say("7. screen suppliers and a bid against the restricted-entity graph")
        result.screened, result.bid = _screen(out_dir, kb, result)
        _reports(store, out_dir, result, say)
    finally:
        store.dispose()
    return result


def _plan(store: Store, out_dir: Path, result: DemoResult) -> Any:
    from camsweep.assess import open_removal_findings
    from camsweep.plan import load_resources, make_plan, parse_findings
    from camsweep.plan.outputs import public_for, write_outputs
    from camsweep.store.plans import save_plan

    items = parse_findings(open_removal_findings(store), "demo store")
    resources = load_resources(out_dir / "resources.yaml")
    plan = make_plan(items, resources, time_limit=DEMO_PLAN_SECONDS)
    public = public_for(plan, items, resources)
    files = write_outputs(plan, items, resources, out_dir / "plan.json",
                          public_out=out_dir / "public-timeline.json",
                          chart=out_dir / "timeline.png", public=public)
    result.plan_id = save_plan(store, plan.to_json(), resources=resources.model_dump(mode="json"),
                               public=public.as_dict(), actor="demo")
    for path in files:
        result.outputs[path.name] = path
    return plan


DEMO_CREW = "demo surveyor"
DEMO_ALERTS_AFTER_WEEKS = 8  # alerts as they would stand this far into the programme


@dataclass
class TrackingResult:
    work_orders: int
    site_id: str
    removed: list[str]
    disposed: list[str]
    states: dict[str, int]
    alerts_as_of: date
    alerts: dict[str, int]
    audit_entries: int
    audit_problems: list[str]


def _photo(asset_id: str) -> bytes:
    """A small PNG standing in for the crew's photo of the removed device."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig = plt.figure(figsize=(2.4, 1.6), dpi=60)
    fig.text(0.5, 0.5, f"removed\n{asset_id}", ha="center", va="center", fontsize=12)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _track(store: Store, out_dir: Path, result: DemoResult,
           say: Callable[[str], None]) -> TrackingResult:
    """Work orders from the stored plan; the first site's crew removes everything there with
    photos, recorders are destroyed against a certificate; alerts and the audit chain."""
    from collections import Counter
    from datetime import timedelta

    from camsweep.track.alerts import alerts
    from camsweep.track.attachments import Attachment, EvidenceStore
    from camsweep.track.audit import iter_audit, verify_audit
    from camsweep.track.workorders import generate_work_orders, list_work_orders, transition

    say("6. track the removals: work orders, removals with photos, secure disposal, alerts")
    evidence = EvidenceStore.configured(out_dir / "evidence")
    result.outputs["evidence (photos)"] = evidence.folder
    made = generate_work_orders(store, DEMO_CREW, result.plan_id)
    first, _ = list_work_orders(store, state="scheduled", per_page=1)
    site_pk, site_id = first[0].site_pk, first[0].site_id or ""
    at_site, _ = list_work_orders(store, site_pks=[site_pk] if site_pk is not None else None,
                                  state="scheduled", per_page=500)
    removed: list[str] = []
    disposed: list[str] = []
    for wo in at_site:
        asset = wo.asset_id or f"device {wo.device_pk}"
        transition(store, DEMO_CREW, wo.id, "removed", note="removed by the demo crew",
                   attachment=Attachment(f"{asset}.png", "image/png", _photo(asset)),
                   evidence=evidence)
        removed.append(asset)
        recorder = (wo.device_type or "").lower() in ("nvr", "dvr")
        transition(store, DEMO_CREW, wo.id, "disposed",
                   disposal_method="destroyed" if recorder else "recycled",
                   certificate_ref=f"WEEE-DEMO-{wo.id:05d}" if recorder else None,
                   note="storage shredded on site" if recorder else "sent to WEEE recycling",
                   evidence=evidence)
        disposed.append(asset)
    states: Counter[str] = Counter()
    page, total = 1, 1
    while (page - 1) * 500 < total:
        rows, total = list_work_orders(store, page=page, per_page=500)
        states.update(r.state for r in rows)
        page += 1
    weeks = [a.week_start for a in result.plan.assignments] if result.plan else []
    start = min(weeks, default=DEMO_AS_OF)
    as_of = start + timedelta(weeks=DEMO_ALERTS_AFTER_WEEKS)
    raised = Counter(a.kind for a in alerts(store, as_of))
    problems = verify_audit(store)
    entries = sum(1 for _ in iter_audit(store))
    return TrackingResult(made, site_id, removed, disposed, dict(states), as_of, dict(raised),
                          entries, problems)


# Names as they reach a procurement team: legal names, native script, subsidiaries, a clean
# supplier, and an unrelated look-alike that must not match.
DEMO_SUPPLIERS = (
    ("Hangzhou Hikvision Digital Technology Co., Ltd.", "CN"),
    ("浙江大华技术股份有限公司", "CN"),
    ("Hikvision UK Limited", "GB"),
    ("EZVIZ Inc.", "US"),
    ("Axis Communications AB", "SE"),
    ("Hikari Trading Limited", "GB"),
    ("Brightwater Facilities Services Ltd", "GB"),
)
DEMO_BID_SUPPLIER = "Brightwater Facilities Services Ltd"
DEMO_BID_PRODUCTS = 120


def _screen(out_dir: Path, kb: Any, result: DemoResult) -> tuple[list[Any], Any]:
    """Screen supplier names, then a bid whose product list comes from the sample register."""
    import polars as pl

    from camsweep.screen.bid import read_bid, screen_bid
    from camsweep.screen.matcher import Screener

    screener = Screener.bundled()
    screened = [screener.screen(name, country) for name, country in DEMO_SUPPLIERS]
    assets = pl.read_csv(out_dir / "assets.csv", infer_schema=False)
    rows = assets.filter(pl.col("brand").is_not_null() | pl.col("model").is_not_null()).head(
        DEMO_BID_PRODUCTS)
    bid_path = out_dir / "bid.json"
    bid_path.write_text(json.dumps({
        "supplier": {"name": DEMO_BID_SUPPLIER, "country": "GB"},
        "products": [{"brand": b, "model": m, "quantity": 1}
                     for b, m in rows.select("brand", "model").iter_rows()],
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    result.outputs["bid.json"] = bid_path
    return screened, screen_bid(read_bid(bid_path), screener, kb)


def _pick_example(result: DemoResult) -> str | None:
    """A white-label device with a removal finding: the case that shows why identify matters."""
    findings = result.assessment.contract()["findings"] if result.assessment else []
    removals = {f["asset_id"] for f in findings if f["action"] == "remove"}
    run = result.identification
    for asset, *_ in run.white_label if run else []:
        if asset in removals:
            return asset
    return next(iter(sorted(removals)), None)


DEMO_UNMASKED_SHOWN = 5


def _call_home(store: Store, out_dir: Path, result: DemoResult,
               say: Callable[[str], None]) -> Any:
    """A day of the estate's DNS traffic: who calls a vendor cloud, and who that unmasks."""
    import polars as pl

    from camsweep.discover.callhome import import_logs, unmasked_by_traffic
    from camsweep.sample_dns import write_dns_log

    say("2b. import a day of DNS logs: devices that call vendor clouds and P2P services")
    assets = pl.read_csv(out_dir / "assets.csv", infer_schema=False).join(
        pl.read_csv(out_dir / "truth.csv", infer_schema=False), on="asset_id"
    ).with_columns(pl.col("restricted") == "true")
    log = write_dns_log(out_dir / "dns.log", assets, DEMO_SEED)
    result.outputs["dns.log"] = log.path
    summary = import_logs(store, "dns", [log.path])
    say(f"   {summary.lines:,} DNS lines: {summary.devices} device(s) call home "
        f"({summary.created} in no register, now listed as unregistered), "
        f"{summary.restricted} restricted; endpoints: "
        + ", ".join(f"{e} {n:,}" for e, n in summary.endpoints.most_common(4)))
    unmasked = unmasked_by_traffic(store)
    say(f"   {len(unmasked)} white-label device(s) unmasked only by their traffic:")
    for u in unmasked[:DEMO_UNMASKED_SHOWN]:
        said = f"register says {u.label!r}" if u.asset_id else "in no register"
        say(f"     {u.asset_id or u.ip}: {said}; calls {', '.join(u.endpoints)} -> {u.maker}")
    return summary


# (report kind, file under reports/, label in the demo's list of outputs)
DEMO_REPORTS = (
    ("return", "return.pdf", "return (PDF)"), ("return", "return.xlsx", "return (XLSX)"),
    ("timeline", "timeline.pdf", "timeline (PDF)"),
    ("public-timeline", "public-timeline.zip", "public timeline (CSV)"),
    ("public-timeline", "public-timeline.json", "public timeline (JSON)"),
    ("public-timeline", "public-timeline.pdf", "public timeline (PDF)"),
)


def _reports(store: Store, out_dir: Path, result: DemoResult,
             say: Callable[[str], None]) -> None:
    """The documents the programme ends in: the central return, the timeline, and the
    public timeline (redacted) as CSV, JSON and PDF."""
    from camsweep.report import make_report
    from camsweep.report.output import write_report

    say("8. write the compliance return, the timeline and the public timeline")
    built: dict[str, Any] = {}
    for kind, name, label in DEMO_REPORTS:
        if kind not in built:
            built[kind] = make_report(store, kind)
        result.outputs[label], = write_report(built[kind], out_dir / "reports" / name)

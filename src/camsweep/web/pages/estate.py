"""Read-only pages: dashboard, sites, devices, findings, plan, scans."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from camsweep.store import models as m
from camsweep.store.callhome import callhome_by_site
from camsweep.track.alerts import alerts
from camsweep.web import charts
from camsweep.web.api.params import AssetKey, PageNo, RowId, SiteKey, Text
from camsweep.web.deps import PageUser, get_store
from camsweep.web.queries.dashboard import build_dashboard, data_version
from camsweep.web.queries.devices import (
    STATUSES,
    DeviceFilter,
    get_device,
    makers,
    search_devices,
)
from camsweep.web.queries.findings import FindingFilter, list_findings, policies
from camsweep.web.queries.paging import Paging
from camsweep.web.queries.plan import plan_for, region_load, timeline
from camsweep.web.queries.scans import get_scan, list_scans
from camsweep.web.queries.scope import site_pks
from camsweep.web.queries.sites import SiteFilter, get_site, list_sites, regions
from camsweep.web.render import render

router = APIRouter(include_in_schema=False)
OptText = Annotated[Text | None, Query(max_length=200)]
PAGE_SIZE = 50


def _blank(value: str | None) -> str | None:
    return value if value and value.strip() else None


@router.get("/")
async def dashboard(request: Request, active: PageUser) -> Response:
    store, principal = get_store(request), active.principal
    today = datetime.now(UTC).date()
    cache = request.app.state.dashboard_cache
    version = await run_in_threadpool(data_version, store)
    d = await run_in_threadpool(cache.get, (principal.department_id, principal.central, today),
                                version, lambda: build_dashboard(store, principal, today))
    figures = {"makers": charts.makers_chart(d), "status": charts.status_chart(d),
               "sensitivity": charts.sensitivity_chart(d),
               "burn": charts.burn_down_chart(d.burn_down)}
    return render(request, "dashboard.html", {"title": "Dashboard", "d": d,
                                              "figures": figures, "charts": True})


@router.get("/sites")
def sites(request: Request, active: PageUser, q: OptText = None, region: OptText = None,
          sensitivity: OptText = None, page: PageNo = 1) -> Response:
    store = get_store(request)
    f = SiteFilter(_blank(q), _blank(region), _blank(sensitivity))
    result = list_sites(store, active.principal, f, Paging.of(page, PAGE_SIZE))
    return render(request, "sites.html", {"title": "Sites", "result": result, "f": f,
                                          "regions": regions(store, active.principal)})


@router.get("/sites/{site_id}")
def site(request: Request, active: PageUser, site_id: SiteKey) -> Response:
    store = get_store(request)
    found = get_site(store, active.principal, site_id)
    if found is None:
        raise HTTPException(404)
    with store.session() as session:
        pk = session.scalar(select(m.Site.id).where(m.Site.site_id == found.site_id))
    calls = callhome_by_site(store, [pk] if pk is not None else [])
    return render(request, "site.html", {"title": f"Site {found.site_id}", "s": found,
                                         "calls": calls})


@router.get("/devices")
def devices(request: Request, active: PageUser, q: OptText = None, site_id: OptText = None,
            maker: OptText = None, status: OptText = None, device_type: OptText = None,
            page: PageNo = 1) -> Response:
    store = get_store(request)
    f = DeviceFilter(_blank(q), _blank(site_id), _blank(maker),
                     status if status in STATUSES else None, _blank(device_type))
    result = search_devices(store, active.principal, f, Paging.of(page, PAGE_SIZE))
    return render(request, "devices.html", {
        "title": "Devices", "result": result, "f": f, "statuses": STATUSES,
        "makers": makers(store, active.principal)})


@router.get("/devices/{asset_id}")
def device(request: Request, active: PageUser, asset_id: AssetKey) -> Response:
    found = get_device(get_store(request), active.principal, asset_id)
    if found is None:
        raise HTTPException(404)
    return render(request, "device.html", {"title": f"Device {asset_id}", "d": found})


@router.get("/findings")
def findings(request: Request, active: PageUser, status: OptText = "open",
             action: OptText = None, policy: OptText = None, site_id: OptText = None,
             page: PageNo = 1) -> Response:
    store = get_store(request)
    wanted = None if status in (None, "", "all") else status
    f = FindingFilter(wanted, _blank(action), _blank(policy), _blank(site_id))
    result = list_findings(store, active.principal, f, Paging.of(page, PAGE_SIZE))
    return render(request, "findings.html", {
        "title": "Findings", "result": result, "f": f, "status": status or "all",
        "policies": policies(store)})


@router.get("/plan")
def plan(request: Request, active: PageUser) -> Response:
    found = plan_for(get_store(request), active.principal)
    context: dict[str, object] = {"title": "Removal plan", "plan": found, "charts": True}
    if found is not None:
        weeks, series = timeline(found)
        loads = region_load(found)
        context.update({
            "loads": loads,
            "figures": {"timeline": charts.timeline_chart(weeks, series),
                        "regions": charts.region_chart(loads)},
            "unscheduled": found["unscheduled"][:200],
        })
    return render(request, "plan.html", context)


@router.get("/scans")
def scans(request: Request, active: PageUser, page: PageNo = 1) -> Response:
    result = list_scans(get_store(request), active.principal, Paging.of(page, PAGE_SIZE))
    return render(request, "scans.html", {"title": "Scans", "result": result})


@router.get("/scans/{scan_id}")
def scan(request: Request, active: PageUser, scan_id: RowId, page: PageNo = 1) -> Response:
    found = get_scan(get_store(request), active.principal, scan_id,
                     Paging.of(page, PAGE_SIZE * 2))
    if found is None:
        raise HTTPException(404)
    row, hosts = found
    return render(request, "scan.html", {"title": f"Scan {scan_id}", "scan": row,
                                         "result": hosts})


@router.get("/alerts")
def alert_page(request: Request, active: PageUser) -> Response:
    store = get_store(request)
    found = alerts(store, datetime.now(UTC).date(), site_pks=site_pks(store, active.principal))
    return render(request, "alerts.html", {"title": "Alerts", "alerts": found})

"""Report downloads: the same documents as `camsweep report`, scoped to the caller's
department (another department's device or site is a 404), each download audit-logged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response

from camsweep.errors import ReportError
from camsweep.report import FORMATS, build_report
from camsweep.report.build import log_export
from camsweep.web.api.params import Text
from camsweep.web.deps import PageUser, get_store, page_cap
from camsweep.web.queries.scope import site_pks
from camsweep.web.render import render
from camsweep.web.roles import Cap, Principal
from camsweep.web.sessions import ActiveSession

router = APIRouter(include_in_schema=False)
Procurement = Annotated[ActiveSession, Depends(page_cap(Cap.CASES))]
Format = Annotated[str, Query(pattern="^(" + "|".join(FORMATS) + ")$")]
# (kind, title, what it is) for the reports page; dossiers are linked from devices and sites
ESTATE_REPORTS = (
    ("return", "Compliance return",
     "Estate summary, devices by true maker and status, findings by policy, plan and "
     "progress, call-home traffic, waivers, sign-off."),
    ("timeline", "Removal timeline", "Gantt-style timeline per region and quarter, cost by "
     "period, any shortfall."),
    ("public-timeline", "Public timeline", "The redacted timeline, safe to publish."),
)


def _download(request: Request, principal: Principal, kind: str, subject: str | None,
              fmt: str) -> Response:
    store = get_store(request)
    try:
        content, content_type, filename = build_report(
            store, kind, subject=subject, fmt=fmt, site_pks=site_pks(store, principal),
            department=None if principal.central else principal.department)
    except ReportError as exc:
        raise HTTPException(404 if subject else 409, str(exc)) from exc
    log_export(store, principal.username, kind,
               subject or principal.department or "all", fmt, [filename])
    return Response(content, media_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/reports")
def reports(request: Request, active: PageUser) -> Response:
    return render(request, "reports.html", {
        "title": "Reports", "reports": ESTATE_REPORTS, "formats": FORMATS})


@router.get("/reports/dossier/{asset_id}")
def device_dossier(request: Request, active: PageUser,
                   asset_id: Annotated[Text, Path(max_length=100)],
                   format: Format = "html") -> Response:
    return _download(request, active.principal, "dossier", f"device:{asset_id}", format)


@router.get("/reports/site-dossier/{site_id}")
def site_dossier(request: Request, active: PageUser,
                 site_id: Annotated[Text, Path(max_length=100)],
                 format: Format = "html") -> Response:
    return _download(request, active.principal, "dossier", f"site:{site_id}", format)


@router.get("/cases/{ref}/report")
def case_file(request: Request, active: Procurement,
              ref: Annotated[Text, Path(max_length=40)],
              format: Format = "html") -> Response:
    return _download(request, active.principal, "screening", ref, format)


@router.get("/reports/{kind}")
def estate_report(request: Request, active: PageUser,
                  kind: Annotated[Text, Path(max_length=20)],
                  format: Format = "html") -> Response:
    if kind not in {k for k, _t, _d in ESTATE_REPORTS}:
        raise HTTPException(404, f"no report {kind!r}")
    return _download(request, active.principal, kind, None, format)

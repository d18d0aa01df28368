"""Sites, devices and findings, scoped to the caller's department."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request

from camsweep.web.api.models import (
    SECURED,
    DeviceDetailOut,
    ErrorOut,
    PageOut,
)
from camsweep.web.api.params import AssetKey, DeviceStatus, PageNo, PerPage, SiteKey, Text
from camsweep.web.deps import ApiUser, get_store
from camsweep.web.queries.devices import DeviceFilter, DeviceRow, get_device, search_devices
from camsweep.web.queries.findings import FindingFilter, FindingRow, list_findings
from camsweep.web.queries.paging import Paging
from camsweep.web.queries.sites import SiteDetail, SiteFilter, SiteRow, get_site, list_sites

router = APIRouter(prefix="/api", tags=["estate"], responses=SECURED)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}

OptText = Annotated[Text | None, Query(max_length=200)]


@router.get("/sites", response_model=PageOut[SiteRow])
def sites(request: Request, principal: ApiUser, q: OptText = None, region: OptText = None,
          sensitivity: OptText = None, page: PageNo = 1, per_page: PerPage = 50
          ) -> Any:
    """Sites with device counts; `q` searches site id, name and postcode."""
    return list_sites(get_store(request), principal, SiteFilter(q, region, sensitivity),
                      Paging.of(page, per_page))


@router.get("/sites/{site_id}", response_model=SiteDetail, responses=NOT_FOUND)
def site(request: Request, principal: ApiUser, site_id: SiteKey) -> Any:
    """One site, with its devices by true maker, status and type."""
    found = get_site(get_store(request), principal, site_id)
    if found is None:
        raise HTTPException(404, f"no site {site_id!r}")
    return found


@router.get("/devices", response_model=PageOut[DeviceRow])
def devices(
    request: Request, principal: ApiUser,
    q: Annotated[Text | None, Query(max_length=200, description=(
        "Free text over brand, model, true maker, asset id and serial; exact MAC or IP."))] = None,
    site_id: OptText = None,
    maker: Annotated[Text | None, Query(max_length=60, description="True maker slug, e.g. "
                                        "hikvision.")] = None,
    status: Annotated[DeviceStatus | None, Query(description="Assessment status")] = None,
    device_type: OptText = None,
    restricted: bool | None = None,
    page: PageNo = 1, per_page: PerPage = 50,
) -> Any:
    """Devices, searched and filtered, one page at a time."""
    return search_devices(get_store(request), principal,
                          DeviceFilter(q, site_id, maker, status, device_type, restricted),
                          Paging.of(page, per_page))


@router.get("/devices/{asset_id}", response_model=DeviceDetailOut, responses=NOT_FOUND)
def device(request: Request, principal: ApiUser, asset_id: AssetKey) -> dict[str, Any]:
    """One device: its fields and where each came from, the newest identification with
    every claim behind it, and its findings with their reasons."""
    found = get_device(get_store(request), principal, asset_id)
    if found is None:
        raise HTTPException(404, f"no device {asset_id!r}")
    return found.as_dict()


@router.get("/findings", response_model=PageOut[FindingRow])
def findings(request: Request, principal: ApiUser,
             status: Annotated[Literal["open", "closed", "all"],
                               Query(description="open (default), closed, or all")] = "open",
             action: OptText = None, policy: OptText = None, site_id: OptText = None,
             asset_id: OptText = None, page: PageNo = 1, per_page: PerPage = 50
             ) -> Any:
    """Findings, most urgent first, each with its reason chain."""
    wanted = None if status == "all" else status
    return list_findings(get_store(request), principal,
                         FindingFilter(wanted, action, policy, site_id, asset_id),
                         Paging.of(page, per_page))

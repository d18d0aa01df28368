"""Work orders and alerts: list, read, move through the lifecycle with evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Path,
    Query,
    Request,
    UploadFile,
)
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUpload

from camsweep.track.alerts import Alert, alerts
from camsweep.track.attachments import Attachment
from camsweep.track.lifecycle import DISPOSAL_METHODS, STATES
from camsweep.track.workorders import generate_work_orders, list_work_orders
from camsweep.web.api.models import (
    SECURED,
    ErrorOut,
    GeneratedOut,
    PageOut,
    WorkOrderDetailOut,
    WorkOrderOut,
)
from camsweep.web.api.params import PageNo, PerPage, RowId, Text, WorkOrderState
from camsweep.web.deps import ApiUser, api_cap, get_config, get_store
from camsweep.web.queries.paging import Page, Paging
from camsweep.web.queries.scope import site_pks
from camsweep.web.roles import Cap, Principal
from camsweep.web.workorder_access import (
    attachment_bytes,
    parse_day,
    record,
    visible_work_order,
)

router = APIRouter(prefix="/api", tags=["work orders"], responses=SECURED)
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}}
# Alert arithmetic works in weeks around `as_of`; nothing is planned outside this window, so
# a date beyond it answers as its edge does (and never overflows the calendar).
EARLIEST, LATEST = date(1900, 1, 1), date(9999, 1, 1)
Recorder = Annotated[Principal, Depends(api_cap(Cap.RECORD_WORK))]
Generator = Annotated[Principal, Depends(api_cap(Cap.GENERATE_WORK))]


@router.get("/workorders", response_model=PageOut[WorkOrderOut])
def work_orders(request: Request, principal: ApiUser,
                state: Annotated[WorkOrderState | None, Query()] = None,
                page: PageNo = 1, per_page: PerPage = 50) -> Any:
    """Work orders, soonest planned week first."""
    store = get_store(request)
    paging = Paging.of(page, per_page)
    items, total = list_work_orders(store, site_pks=site_pks(store, principal), state=state,
                                    page=paging.page, per_page=paging.per_page)
    return Page(items, total, paging.page, paging.per_page)


@router.post("/workorders/generate", response_model=GeneratedOut, responses=ERRORS)
def generate(request: Request, principal: Generator) -> GeneratedOut:
    """Create or update work orders from the newest stored plan (central admins)."""
    changed = generate_work_orders(get_store(request), principal.username)
    request.app.state.dashboard_cache.clear()
    return GeneratedOut(changed=changed)


@router.get("/workorders/{wo_id}", response_model=WorkOrderDetailOut, responses=ERRORS)
def work_order(request: Request, principal: ApiUser, wo_id: RowId) -> Any:
    """One work order with every event and the moves it may make next."""
    return visible_work_order(request, principal, wo_id)


@router.post("/workorders/{wo_id}/transition", response_model=WorkOrderOut, responses=ERRORS)
async def move(
    request: Request, principal: Recorder, wo_id: RowId,
    to_state: Annotated[Text, Form(min_length=1, max_length=20,
                                  description="One of: " + ", ".join(STATES))],
    note: Annotated[Text, Form(max_length=4000)] = "",
    certificate_ref: Annotated[Text, Form(max_length=200)] = "",
    disposal_method: Annotated[Text, Form(max_length=30, description="One of: "
                                         + ", ".join(DISPOSAL_METHODS))] = "",
    happened_on: Annotated[Text, Form(max_length=10, json_schema_extra={"format": "date"},
                                     description="When it happened, YYYY-MM-DD (default "
                                                 "today)")] = "",
    file: Annotated[UploadFile | str | None, File(
        description="Photo (JPEG, PNG, WebP, HEIC) or PDF; a removal needs a photo")] = None,
) -> Any:
    """Record a lifecycle move with its evidence; refused with the reason (409) when the
    move is not allowed or the evidence is missing or wrong."""
    limit = get_config(request).max_evidence_bytes
    attachment = None
    if isinstance(file, StarletteUpload) and file.filename:
        data = await file.read(limit + 1)
        attachment = Attachment(file.filename, file.content_type or "", data)
    elif isinstance(file, str) and file:  # a part without a file name: its bytes still count
        attachment = Attachment("file", "", file.encode("utf-8")[:limit + 1])
    return await run_in_threadpool(
        record, request, principal, wo_id, to_state, note=note.strip() or None,
        attachment=attachment, certificate_ref=certificate_ref.strip() or None,
        disposal_method=disposal_method.strip() or None, happened=parse_day(happened_on))


@router.get("/workorders/{wo_id}/attachments/{sha256}", responses=ERRORS,
            response_class=Response)
def attachment(request: Request, principal: ApiUser, wo_id: RowId,
               sha256: Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")]) -> Response:
    """An attachment's bytes, served as a download."""
    name, media_type, data = attachment_bytes(request, principal, wo_id, sha256)
    return Response(data, media_type=media_type, headers={
        "content-disposition": f"attachment; filename=\"{_ascii(name)}\""})


@router.get("/alerts", response_model=list[Alert])
def alert_list(request: Request, principal: ApiUser,
               as_of: Annotated[str | None, Query(
                   pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"},
                   description="YYYY-MM-DD; default today")] = None) -> Any:
    """Work slipping past its planned week or deadline; removed devices seen again."""
    store = get_store(request)
    day = datetime.now(UTC).date()
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError as exc:
            raise RequestValidationError([{"loc": ("query", "as_of"), "type": "date_parsing",
                                           "msg": f"{as_of!r} is not a calendar date",
                                           "input": as_of}]) from exc
    day = min(max(day, EARLIEST), LATEST)
    return alerts(store, day, site_pks=site_pks(store, principal))


def _ascii(name: str) -> str:
    return "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_"
                   for ch in name)

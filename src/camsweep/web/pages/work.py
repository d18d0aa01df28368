"""Work order pages: the list, one work order with its history, and recording a move."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from camsweep.errors import CamsweepError, TransitionError
from camsweep.track.attachments import Attachment
from camsweep.track.lifecycle import DISPOSAL_METHODS, STATES
from camsweep.track.workorders import generate_work_orders, list_work_orders
from camsweep.web.api.params import PageNo, RowId, Text
from camsweep.web.deps import PageUser, get_config, get_store, page_write
from camsweep.web.queries.paging import Page, Paging
from camsweep.web.queries.scope import site_pks
from camsweep.web.render import redirect, render
from camsweep.web.roles import Cap
from camsweep.web.sessions import ActiveSession
from camsweep.web.workorder_access import (
    attachment_bytes,
    parse_day,
    record,
    visible_work_order,
)

router = APIRouter(include_in_schema=False)
Recorder = Annotated[ActiveSession, Depends(page_write(Cap.RECORD_WORK))]
Generator = Annotated[ActiveSession, Depends(page_write(Cap.GENERATE_WORK))]
PAGE_SIZE = 50


@router.get("/workorders")
def work_orders(request: Request, active: PageUser,
                state: Annotated[Text | None, Query(max_length=20)] = None,
                page: PageNo = 1) -> Response:
    store = get_store(request)
    wanted = state if state in STATES else None
    paging = Paging.of(page, PAGE_SIZE)
    items, total = list_work_orders(store, site_pks=site_pks(store, active.principal),
                                    state=wanted, page=paging.page, per_page=paging.per_page)
    return render(request, "workorders.html", {
        "title": "Work orders", "result": Page(items, total, paging.page, paging.per_page),
        "state": wanted, "states": STATES})


def _detail_page(request: Request, active: ActiveSession, wo_id: int, *,
                 error: str | None = None, status: int = 200) -> Response:
    detail = visible_work_order(request, active.principal, wo_id)
    return render(request, "workorder.html", {
        "title": f"Work order {wo_id}", "wo": detail, "error": error,
        "methods": DISPOSAL_METHODS, "today": datetime.now(UTC).date().isoformat(),
        "may_record": active.principal.may(Cap.RECORD_WORK)}, status=status)


@router.get("/workorders/{wo_id}")
def work_order(request: Request, active: PageUser, wo_id: RowId) -> Response:
    return _detail_page(request, active, wo_id)


@router.post("/workorders/{wo_id}/transition")
async def move(request: Request, active: Recorder, wo_id: RowId,
               to_state: Annotated[Text, Form(max_length=20)] = "",
               note: Annotated[Text, Form(max_length=4000)] = "",
               certificate_ref: Annotated[Text, Form(max_length=200)] = "",
               disposal_method: Annotated[Text, Form(max_length=30)] = "",
               happened_on: Annotated[Text, Form(max_length=10)] = "",
               file: Annotated[UploadFile | None, File()] = None) -> Response:
    limit = get_config(request).max_evidence_bytes
    attachment = None
    if file is not None and file.filename:
        data = await file.read(limit + 1)
        attachment = Attachment(file.filename, file.content_type or "", data)
    try:
        view = await run_in_threadpool(
            record, request, active.principal, wo_id, to_state, note=note.strip() or None,
            attachment=attachment, certificate_ref=certificate_ref.strip() or None,
            disposal_method=disposal_method.strip() or None, happened=parse_day(happened_on))
    except TransitionError as exc:
        return _detail_page(request, active, wo_id, error=str(exc), status=409)
    return redirect(f"/workorders/{wo_id}", f"Work order {wo_id} is now '{view.state}'.")


@router.get("/workorders/{wo_id}/attachments/{sha256}")
def attachment(request: Request, active: PageUser, wo_id: RowId,
               sha256: Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")]) -> Response:
    name, media_type, data = attachment_bytes(request, active.principal, wo_id, sha256)
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in name)
    return Response(data, media_type=media_type,
                    headers={"content-disposition": f'inline; filename="{safe}"',
                             "content-security-policy": "default-src 'none'; sandbox"})


@router.post("/workorders/generate")
def generate(request: Request, active: Generator) -> Response:
    try:
        changed = generate_work_orders(get_store(request), active.principal.username)
    except CamsweepError as exc:
        raise HTTPException(409, str(exc)) from exc
    request.app.state.dashboard_cache.clear()
    return redirect("/workorders", f"{changed} work order(s) created or updated from the "
                    "newest plan.")

"""Register uploads: upload -> dry run with every row error -> confirm (or discard)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from camsweep.errors import InputError
from camsweep.store.models import AuditLog
from camsweep.web.api.params import Text
from camsweep.web.deps import get_config, get_store, page_cap, page_write
from camsweep.web.imports import (
    KINDS,
    Pending,
    check_upload,
    commit_upload,
    discard,
    display_errors,
    load_pending,
    save_upload,
)
from camsweep.web.render import redirect, render
from camsweep.web.roles import Cap
from camsweep.web.sessions import ActiveSession

router = APIRouter(include_in_schema=False)
Importer = Annotated[ActiveSession, Depends(page_cap(Cap.IMPORT))]
ImportWriter = Annotated[ActiveSession, Depends(page_write(Cap.IMPORT))]
PendingId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,64}$")]
RECENT = 20
ERRORS_SHOWN = 500


def _recent(request: Request, active: ActiveSession) -> list[AuditLog]:
    """Recent imports, from the audit log (a department admin sees its department's)."""
    with get_store(request).session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action.in_(
            ["import.sites", "import.assets"])).order_by(AuditLog.seq.desc())
            .limit(RECENT * 10)).all()
    mine = [r for r in rows if active.principal.central
            or r.details.get("department") == active.principal.department]
    return mine[:RECENT]


@router.get("/imports")
def imports(request: Request, active: Importer) -> Response:
    return render(request, "imports.html", {"title": "Imports", "kinds": KINDS,
                                            "recent": _recent(request, active)})


def _review(request: Request, active: ActiveSession, pending: Pending, *,
            status: int = 200) -> Response:
    result = check_upload(get_store(request), active.principal, pending)
    errors = display_errors(result, pending.filename)
    return render(request, "import_review.html", {
        "title": f"Check {pending.filename}", "pending": pending, "result": result,
        "errors": errors[:ERRORS_SHOWN], "error_count": len(errors)},
        status=status if not errors else 422)


@router.post("/imports")
async def upload(request: Request, active: ImportWriter,
                 kind: Annotated[Text, Form(max_length=10)] = "",
                 file: Annotated[UploadFile | None, File()] = None) -> Response:
    if kind not in KINDS:
        raise HTTPException(422, f"choose what the file is: {' or '.join(KINDS)}")
    if file is None or not file.filename:
        raise HTTPException(422, "choose a file to upload")
    config = get_config(request)
    spooled = file.file  # already on local disk (or memory): read it in a worker thread

    def chunks() -> Iterator[bytes]:
        spooled.seek(0)
        yield from iter(lambda: spooled.read(1 << 20), b"")

    pending = await run_in_threadpool(save_upload, config.upload_dir, active.principal,
                                      kind, file.filename, chunks(),
                                      config.max_register_bytes)
    return await run_in_threadpool(_review, request, active, pending)


def _pending(request: Request, active: ActiveSession, pid: str) -> Pending:
    pending = load_pending(get_config(request).upload_dir, active.principal, pid)
    if pending is None:
        raise HTTPException(404, "this upload is gone (confirmed, discarded or expired); "
                                 "upload the file again")
    return pending


@router.post("/imports/{pid}/confirm")
def confirm(request: Request, active: ImportWriter, pid: PendingId) -> Response:
    pending = _pending(request, active, pid)
    try:
        result = commit_upload(get_store(request), active.principal, pending)
    except InputError:
        return _review(request, active, pending)
    discard(get_config(request).upload_dir, pid)
    request.app.state.dashboard_cache.clear()
    return redirect("/imports", f"Imported {pending.filename}: {result.created} new, "
                    f"{result.updated} updated ({result.changes} field changes), "
                    f"{result.unchanged} unchanged.")


@router.post("/imports/{pid}/discard")
def drop(request: Request, active: ImportWriter, pid: PendingId) -> Response:
    pending = _pending(request, active, pid)
    discard(get_config(request).upload_dir, pending.id)
    return redirect("/imports", f"{pending.filename} was not imported.")

"""Supplier screening for everyone signed in; cases for the procurement capability only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from camsweep.errors import ScreenError
from camsweep.screen.cases import get_case, list_cases
from camsweep.web.api.params import Text
from camsweep.web.deps import PageUser, get_store, page_cap
from camsweep.web.render import render
from camsweep.web.roles import Cap
from camsweep.web.screening import screener_for
from camsweep.web.sessions import ActiveSession

router = APIRouter(include_in_schema=False)
Procurement = Annotated[ActiveSession, Depends(page_cap(Cap.CASES))]
CASE_STATUSES = ("open", "decided", "closed")


@router.get("/screening")
async def screening(request: Request, active: PageUser,
                    name: Annotated[Text | None, Query(max_length=500)] = None,
                    country: Annotated[Text | None, Query(max_length=2)] = None) -> Response:
    result = None
    if name and name.strip():
        screener = await run_in_threadpool(screener_for, request.app.state, get_store(request))
        result = await run_in_threadpool(screener.screen, name.strip(),
                                         (country or "").strip() or None)
    return render(request, "screening.html", {"title": "Supplier screening", "result": result,
                                              "name": name or "", "country": country or ""})


@router.get("/cases")
def cases(request: Request, active: Procurement,
          status: Annotated[Text | None, Query(max_length=20)] = None) -> Response:
    wanted = status if status in CASE_STATUSES else None
    return render(request, "cases.html", {"title": "Cases", "status": wanted,
                                          "statuses": CASE_STATUSES,
                                          "cases": list_cases(get_store(request), wanted)})


@router.get("/cases/{ref}")
def case(request: Request, active: Procurement,
         ref: Annotated[str, Path(max_length=20, pattern=r"^[A-Za-z0-9-]+$")]) -> Response:
    try:
        detail = get_case(get_store(request), ref)
    except ScreenError as exc:
        raise HTTPException(404, str(exc)) from exc
    return render(request, "case.html", {"title": f"Case {detail.case.ref}", "c": detail})

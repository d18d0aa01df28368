"""The one place errors become HTTP: JSON for the API, a page for browsers."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from camsweep.errors import (
    AccountError,
    CamsweepError,
    InputError,
    PlanError,
    ScreenError,
    TransitionError,
)
from camsweep.web.deps import LoginRequired

STATUS: list[tuple[type[CamsweepError], int]] = [
    (InputError, 422),
    (TransitionError, 409),
    (PlanError, 409),
    (AccountError, 400),
    (ScreenError, 400),
]


def status_for(exc: CamsweepError) -> int:
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def error_body(exc: CamsweepError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, InputError) and exc.errors:
        body["errors"] = [e.__dict__ for e in exc.errors]
    return body


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _page(request: Request, status: int, message: str) -> Response:
    from camsweep.web.render import render

    return render(request, "error.html", {"status": status, "message": message,
                                          "title": HTTPStatus(status).phrase}, status=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    @app.exception_handler(CamsweepError)
    async def camsweep_error(request: Request, exc: CamsweepError) -> Response:
        status = status_for(exc)
        if is_api(request):
            return JSONResponse(error_body(exc), status_code=status)
        return _page(request, status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request) or exc.status_code in (405,):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        detail = exc.detail if isinstance(exc, HTTPException) else str(exc.detail)
        if exc.status_code == 404:
            detail = "There is nothing here, or nothing you may see."
        return _page(request, exc.status_code, str(detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                  for e in exc.errors()]
        if is_api(request):
            return JSONResponse({"detail": errors}, status_code=422)
        text = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}"
                         for e in errors)
        return _page(request, 422, f"The request was not valid: {text}")

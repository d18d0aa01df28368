"""Server-rendered pages: the Jinja environment, the context every page gets, flash notes."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from camsweep import __version__
from camsweep.web.roles import ROLE_LABELS, Cap, Principal

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "camsweep_flash"

# (path, label, capability) in menu order; a link shows only to those who may open it.
NAV: tuple[tuple[str, str, Cap], ...] = (
    ("/", "Dashboard", Cap.READ),
    ("/sites", "Sites", Cap.READ),
    ("/devices", "Devices", Cap.READ),
    ("/findings", "Findings", Cap.READ),
    ("/plan", "Plan", Cap.READ),
    ("/workorders", "Work orders", Cap.READ),
    ("/scans", "Scans", Cap.READ),
    ("/reports", "Reports", Cap.READ),
    ("/imports", "Imports", Cap.IMPORT),
    ("/screening", "Screening", Cap.READ),
    ("/cases", "Cases", Cap.CASES),
    ("/audit", "Audit log", Cap.AUDIT),
    ("/users", "Users", Cap.MANAGE_USERS),
)


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def _when(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _json_script(value: Any) -> Markup:
    """JSON safe inside <script type="application/json"> (no '</script>' breakout)."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters["num"] = _num
    env.filters["when"] = _when
    env.filters["json_script"] = _json_script
    env.globals["version"] = __version__
    env.globals["role_labels"] = {r.value: label for r, label in ROLE_LABELS.items()}
    return templates


def nav_for(principal: Principal | None) -> list[tuple[str, str]]:
    if principal is None:
        return []
    return [(path, label) for path, label, cap in NAV if principal.may(cap)]


def page_url(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (paging links keep the filters)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + (f"?{urlencode(params)}" if params else "")


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    principal: Principal | None = getattr(request.state, "principal", None)
    active = getattr(request.state, "session", None)
    flash = request.cookies.get(FLASH_COOKIE)
    ctx: dict[str, Any] = {
        "principal": principal,
        "csrf": active.csrf if active is not None else None,
        "nav": nav_for(principal),
        "path": request.url.path,
        "flash": unquote(flash)[:500] if flash else None,
        "page_url": lambda **kw: page_url(request, **kw),
        "Cap": Cap,
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str | None = None) -> Response:
    """Post/redirect/get, with a one-shot note for the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash[:500]), max_age=60, httponly=True,
                            samesite="lax", path="/")
    return response

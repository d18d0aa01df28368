"""Sign in and sign out.

The sign-in form predates any session, so it carries its own CSRF defence: a random value
in a cookie that the form must echo (a cross-site form cannot read or set that cookie).
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from camsweep.store.bulk import utcnow
from camsweep.web.accounts import authenticate
from camsweep.web.api.params import Text
from camsweep.web.credentials import new_csrf, same
from camsweep.web.deps import (
    CSRF_PROBLEM,
    client_address,
    get_config,
    get_store,
    page_write,
    secure_cookies,
    session_cookie_name,
)
from camsweep.web.render import redirect, render
from camsweep.web.roles import Cap
from camsweep.web.sessions import ActiveSession, end_session, resolve_session, start_session

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "camsweep_login"


def safe_next(target: str | None) -> str:
    """Only a path on this site: never '//evil.example' or 'https://...'."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, next_url: str, error: str | None = None,
                status: int = 200, username: str = "") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_csrf()
    response = render(request, "login.html", {"title": "Sign in", "next": safe_next(next_url),
                                              "login_csrf": token, "error": error,
                                              "username": username}, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=secure_cookies(request), path="/login", max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request,
               next_url: Annotated[str, Query(alias="next", max_length=2000)] = "/"
               ) -> Response:
    token = request.cookies.get(session_cookie_name(request))
    if resolve_session(get_store(request), token, get_config(request).session) is not None:
        return redirect(safe_next(next_url))
    return _login_page(request, next_url)


@router.post("/login")
async def login(request: Request, username: Annotated[Text, Form(max_length=200)] = "",
                password: Annotated[Text, Form(max_length=1024)] = "",
                csrf_token: Annotated[Text, Form(max_length=200)] = "",
                next_url: Annotated[Text, Form(alias="next", max_length=2000)] = "/",
                ) -> Response:
    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(request, next_url, CSRF_PROBLEM, status=403, username=username)
    store, config = get_store(request), get_config(request)
    client = client_address(request)
    outcome = await run_in_threadpool(authenticate, store, username, password, client,
                                      policy=config.throttle, hasher=config.hasher)
    if outcome.user is None:
        if outcome.locked_until is not None:
            minutes = max(1, math.ceil((outcome.locked_until - utcnow()).total_seconds() / 60))
            return _login_page(request, next_url, "Too many failed sign-ins. Try again in "
                               f"{minutes} minute(s).", status=429, username=username)
        return _login_page(request, next_url, "Wrong user name or password.", status=401,
                           username=username)
    cookie, _csrf = await run_in_threadpool(
        start_session, store, outcome.user.id, client, request.headers.get("user-agent"),
        config.session)
    response = redirect(safe_next(next_url))
    response.set_cookie(session_cookie_name(request), cookie, httponly=True, samesite="lax",
                        secure=secure_cookies(request), path="/",
                        max_age=int(config.session.lifetime.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request,
           active: Annotated[ActiveSession, Depends(page_write(Cap.READ))]) -> Response:
    end_session(get_store(request), active.id, active.principal.username,
                client_address(request))
    response = redirect("/login", "You have signed out.")
    response.delete_cookie(session_cookie_name(request), path="/",
                           secure=secure_cookies(request), httponly=True, samesite="lax")
    return response

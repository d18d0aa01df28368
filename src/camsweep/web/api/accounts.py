"""Signing in for the API (OAuth2 password flow) and who am I."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from camsweep.store.bulk import utcnow
from camsweep.web.accounts import LOGIN_TOKEN_NAME, authenticate, create_token
from camsweep.web.api.models import SECURED, ErrorOut, MeOut, TokenOut
from camsweep.web.deps import ApiUser, client_address, get_config, get_store
from camsweep.web.roles import Cap

router = APIRouter(prefix="/api", tags=["accounts"])

API_TOKEN_LIFETIME = timedelta(hours=12)


@router.post("/token", response_model=TokenOut,
             responses={400: {"model": ErrorOut}, 401: {"model": ErrorOut},
                        429: {"model": ErrorOut}})
async def token(request: Request,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut | JSONResponse:
    """Exchange a user name and password for a bearer token valid for 12 hours."""
    store, config = get_store(request), get_config(request)
    outcome = await run_in_threadpool(
        authenticate, store, form.username, form.password, client_address(request),
        policy=config.throttle, hasher=config.hasher, channel="api")
    if outcome.user is None:
        if outcome.locked_until is not None:
            wait = max(1, math.ceil((outcome.locked_until - utcnow()).total_seconds()))
            return JSONResponse({"detail": "too many failed sign-ins; try again in "
                                           f"{math.ceil(wait / 60)} minute(s)"},
                                status_code=429, headers={"Retry-After": str(wait)})
        return JSONResponse({"detail": "wrong user name or password"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    secret, view = await run_in_threadpool(
        create_token, store, outcome.user.username, outcome.user.username, LOGIN_TOKEN_NAME,
        expires_in=API_TOKEN_LIFETIME, audit_action="token.issue")
    return TokenOut(access_token=secret, expires_at=view.expires_at)


@router.get("/me", response_model=MeOut, responses=SECURED)
def me(principal: ApiUser) -> MeOut:
    """The signed-in account: role, department and what it may do."""
    return MeOut(username=principal.username, role=principal.role.value,
                 department=principal.department, procurement=principal.procurement,
                 capabilities=[c.value for c in Cap if principal.may(c)])

"""The signed-in user's own account: password and API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from camsweep.errors import AccountError
from camsweep.web.accounts import (
    check_password,
    create_token,
    list_tokens,
    reset_password,
    revoke_token,
)
from camsweep.web.api.params import RowId, Text
from camsweep.web.deps import PageUser, get_config, get_store, page_write
from camsweep.web.render import redirect, render
from camsweep.web.roles import Cap
from camsweep.web.sessions import ActiveSession

router = APIRouter(include_in_schema=False)
Writer = Annotated[ActiveSession, Depends(page_write(Cap.READ))]
TOKEN_DAYS = (30, 90, 365)


def _page(request: Request, active: ActiveSession, *, new_token: str | None = None,
          error: str | None = None, status: int = 200) -> Response:
    tokens = list_tokens(get_store(request), active.principal.username)
    return render(request, "account.html", {
        "title": "Your account", "tokens": tokens, "new_token": new_token, "error": error,
        "token_days": TOKEN_DAYS}, status=status)


@router.get("/account")
def account(request: Request, active: PageUser) -> Response:
    return _page(request, active)


@router.post("/account/password")
async def change_password(request: Request, active: Writer,
                          current: Annotated[Text, Form(max_length=1024)] = "",
                          new: Annotated[Text, Form(max_length=1024)] = "",
                          repeat: Annotated[Text, Form(max_length=1024)] = "") -> Response:
    """Changing one's password needs the current one and ends every session (this too)."""
    store, config = get_store(request), get_config(request)
    ok = await run_in_threadpool(check_password, store, active.principal.username, current,
                                 policy=config.throttle, hasher=config.hasher)
    if not ok:
        return _page(request, active, error="The current password is wrong.", status=400)
    if new != repeat:
        return _page(request, active, error="The two new passwords differ.", status=400)
    try:
        await run_in_threadpool(reset_password, store, active.principal.username,
                                active.principal.username, new, hasher=config.hasher)
    except AccountError as exc:
        return _page(request, active, error=str(exc), status=400)
    return redirect("/login", "Password changed. Sign in again with the new one.")


@router.post("/account/tokens")
def new_api_token(request: Request, active: Writer,
                  name: Annotated[Text, Form(max_length=100)] = "",
                  days: Annotated[int, Form(ge=1, le=365)] = 90) -> Response:
    try:
        secret, _view = create_token(get_store(request), active.principal.username,
                                     active.principal.username, name,
                                     expires_in=timedelta(days=days))
    except AccountError as exc:
        return _page(request, active, error=str(exc), status=400)
    return _page(request, active, new_token=secret)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_api_token(request: Request, active: Writer, token_id: RowId) -> Response:
    try:
        revoke_token(get_store(request), active.principal.username, token_id,
                     owner=active.principal.username)
    except AccountError as exc:
        raise HTTPException(404, "no such token") from exc
    return redirect("/account", f"Token {token_id} revoked.")

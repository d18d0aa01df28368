"""Request dependencies: the store, the principal (bearer token for the API, session cookie
for pages), capability checks and CSRF. Every route names what it needs here, so the access
rule of a route is visible in its signature.

No `from __future__ import annotations` here: FastAPI reads the dependency closures'
annotations at run time, and a postponed one naming a closure variable cannot be resolved.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer

from camsweep.store import Store
from camsweep.web.accounts import resolve_token
from camsweep.web.config import WebConfig
from camsweep.web.credentials import same
from camsweep.web.roles import Cap, Principal
from camsweep.web.sessions import ActiveSession, resolve_session

SESSION_COOKIE = "camsweep_session"
SECURE_SESSION_COOKIE = "__Host-camsweep_session"  # __Host-: Secure, Path=/, no Domain

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)


class LoginRequired(Exception):  # noqa: N818 (control flow, not an error)
    """A page needs a signed-in user; the handler redirects to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_config(request: Request) -> WebConfig:
    config: WebConfig = request.app.state.config
    return config


def secure_cookies(request: Request) -> bool:
    configured = get_config(request).secure_cookies
    return configured if configured is not None else request.url.scheme == "https"


def session_cookie_name(request: Request) -> str:
    return SECURE_SESSION_COOKIE if secure_cookies(request) else SESSION_COOKIE


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- API --------------------------------------------------------------------------------


def api_principal(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    if not token:
        raise HTTPException(401, "not signed in: send 'Authorization: Bearer TOKEN' (POST "
                                 "/api/token, or `camsweep user token create`)",
                            headers={"WWW-Authenticate": "Bearer"})
    principal = resolve_token(get_store(request), token)
    if principal is None:
        raise HTTPException(401, "this token is unknown, expired or revoked",
                            headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = principal
    return principal


def api_cap(cap: Cap) -> Callable[..., Principal]:
    def check(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        if not principal.may(cap):
            raise HTTPException(403, f"your role ({principal.role.value}) may not do this")
        return principal

    return check


ApiUser = Annotated[Principal, Depends(api_cap(Cap.READ))]


# --- pages ------------------------------------------------------------------------------


def page_session(request: Request) -> ActiveSession:
    token = request.cookies.get(session_cookie_name(request))
    active = resolve_session(get_store(request), token, get_config(request).session)
    if active is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    request.state.principal = active.principal
    request.state.session = active
    return active


def page_cap(cap: Cap) -> Callable[..., ActiveSession]:
    def check(active: Annotated[ActiveSession, Depends(page_session)]) -> ActiveSession:
        if not active.principal.may(cap):
            raise HTTPException(403, f"your role ({active.principal.role.value}) may not "
                                     "open this page")
        return active

    return check


CSRF_FIELD = "csrf_token"
CSRF_PROBLEM = ("this form has expired or did not come from this site; reload the page and "
                "try again")


def page_write(cap: Cap) -> Callable[..., Awaitable[ActiveSession]]:
    """A state-changing form post: the capability and the session's CSRF token."""

    async def check(request: Request,
                    active: Annotated[ActiveSession, Depends(page_cap(cap))]) -> ActiveSession:
        form = await request.form()
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not same(sent, active.csrf):
            raise HTTPException(403, CSRF_PROBLEM)
        return active

    return check


PageUser = Annotated[ActiveSession, Depends(page_cap(Cap.READ))]

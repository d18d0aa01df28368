"""Administration: the audit log (central admins) and accounts (department and central)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from camsweep.errors import AccountError
from camsweep.store.models import Department
from camsweep.track.audit import head, verify_audit
from camsweep.web.accounts import (
    UserView,
    add_user,
    find_user,
    list_users,
    reset_password,
    set_disabled,
)
from camsweep.web.api.params import PageNo, Text
from camsweep.web.deps import get_config, get_store, page_cap, page_write
from camsweep.web.queries.audit import audit_page, object_types
from camsweep.web.queries.paging import Paging
from camsweep.web.render import redirect, render
from camsweep.web.roles import Cap, Principal, Role, parse_role
from camsweep.web.sessions import ActiveSession

router = APIRouter(include_in_schema=False)
Auditor = Annotated[ActiveSession, Depends(page_cap(Cap.AUDIT))]
Manager = Annotated[ActiveSession, Depends(page_cap(Cap.MANAGE_USERS))]
ManagerWrite = Annotated[ActiveSession, Depends(page_write(Cap.MANAGE_USERS))]
UserName = Annotated[str, Path(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9._@-]+$")]
OptText = Annotated[Text | None, Query(max_length=200)]


@router.get("/audit")
def audit(request: Request, active: Auditor, object_type: OptText = None,
          actor: OptText = None, action: OptText = None, page: PageNo = 1) -> Response:
    store = get_store(request)
    result = audit_page(store, Paging.of(page, 100), object_type=object_type or None,
                        actor=actor or None, action=action or None)
    return render(request, "audit.html", {
        "title": "Audit log", "result": result, "types": object_types(store),
        "filters": {"object_type": object_type or "", "actor": actor or "",
                    "action": action or ""}, "verified": None})


@router.get("/audit/verify")
async def audit_verify(request: Request, active: Auditor) -> Response:
    """Verification only reads, so it is a GET: it changes nothing."""
    store = get_store(request)
    problems = await run_in_threadpool(verify_audit, store)
    last = head(store)
    result = audit_page(store, Paging.of(1, 100))
    return render(request, "audit.html", {
        "title": "Audit log", "result": result, "types": object_types(store),
        "filters": {"object_type": "", "actor": "", "action": ""},
        "verified": {"ok": not problems, "problems": problems,
                     "entries": last.seq if last else 0, "head": last.hash if last else None}})


def _departments(request: Request, principal: Principal) -> list[str]:
    if not principal.central:
        return [principal.department] if principal.department else []
    with get_store(request).session() as s:
        return list(s.scalars(select(Department.name).order_by(Department.name)))


def _users_page(request: Request, active: ActiveSession, *, error: str | None = None,
                status: int = 200) -> Response:
    p = active.principal
    users = list_users(get_store(request), p.department_id, all_departments=p.central)
    roles = [r for r in Role if p.central or r is not Role.CENTRAL_ADMIN]
    return render(request, "users.html", {
        "title": "Users", "users": users, "roles": roles, "error": error,
        "departments": _departments(request, p)}, status=status)


def _managed(request: Request, principal: Principal, username: str) -> UserView:
    """An account the principal manages; any other is not found (no probing for names)."""
    user = find_user(get_store(request), username)
    if user is None or not (principal.central or user.department_id == principal.department_id):
        raise HTTPException(404, f"no user {username!r}")
    if user.role == Role.CENTRAL_ADMIN.value and not principal.central:
        raise HTTPException(404, f"no user {username!r}")
    return user


@router.get("/users")
def users(request: Request, active: Manager) -> Response:
    return _users_page(request, active)


@router.post("/users")
async def create(request: Request, active: ManagerWrite,
                 username: Annotated[Text, Form(max_length=100)] = "",
                 role: Annotated[Text, Form(max_length=30)] = "",
                 department: Annotated[Text, Form(max_length=200)] = "",
                 procurement: Annotated[bool, Form()] = False,
                 password: Annotated[Text, Form(max_length=1024)] = "") -> Response:
    p = active.principal
    parsed = parse_role(role)
    if parsed is None:
        return _users_page(request, active, error="Choose a role.", status=400)
    if p.central:
        dept = None if parsed is Role.CENTRAL_ADMIN else (department.strip() or None)
    elif p.may_grant(parsed, p.department_id, procurement):
        dept = p.department
    else:
        return _users_page(request, active, status=403, error=(
            "You can create viewers, surveyors and department admins of your own department "
            "only, without the procurement flag."))
    try:
        made = await run_in_threadpool(
            add_user, get_store(request), p.username, username, role, password,
            department=dept, procurement=procurement, hasher=get_config(request).hasher)
    except AccountError as exc:
        return _users_page(request, active, error=str(exc), status=400)
    return redirect("/users", f"User {made.username} created.")


@router.post("/users/{username}/disable")
def disable(request: Request, active: ManagerWrite, username: UserName) -> Response:
    user = _managed(request, active.principal, username)
    if user.id == active.principal.user_id:
        return _users_page(request, active, error="You cannot disable yourself.", status=400)
    set_disabled(get_store(request), active.principal.username, user.username, True)
    return redirect("/users", f"User {user.username} disabled; their sessions and tokens "
                    "are ended.")


@router.post("/users/{username}/enable")
def enable(request: Request, active: ManagerWrite, username: UserName) -> Response:
    user = _managed(request, active.principal, username)
    set_disabled(get_store(request), active.principal.username, user.username, False)
    return redirect("/users", f"User {user.username} enabled.")


@router.post("/users/{username}/reset")
async def reset(request: Request, active: ManagerWrite, username: UserName,
                password: Annotated[Text, Form(max_length=1024)] = "") -> Response:
    user = _managed(request, active.principal, username)
    try:
        await run_in_threadpool(reset_password, get_store(request), active.principal.username,
                                user.username, password, hasher=get_config(request).hasher)
    except AccountError as exc:
        return _users_page(request, active, error=str(exc), status=400)
    return redirect("/users", f"New password set for {user.username}; their sessions ended.")

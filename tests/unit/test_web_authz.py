"""Authorisation matrix: every route of the app x every role x both departments.

The matrix is generated from the app's own route table, so a route added without an entry
in RULES fails `test_every_route_has_a_rule`. For each (principal, route, department of the
object) the expected answer follows from the rule alone:
  public -> served to anyone; anonymous -> 401 (API) or a redirect to sign in (pages);
  capability missing -> 403; another department's object -> 404, exactly as if absent;
  otherwise served (any answer but 401/403/404 and never a server error).
Every state-changing page form is also tried without its CSRF token and must be refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import insert, select
from starlette.routing import Mount, Route
from web_estate import (
    DEPT_A,
    DEPT_B,
    FAST_HASHER,
    PASSWORD,
    Estate,
    TestClient,
    csrf_of,
    estate_fixture,
    login,
    make_app,
    png_bytes,
)

from camsweep.screen.cases import Actor, open_case
from camsweep.store import models as m
from camsweep.track.attachments import Attachment
from camsweep.track.workorders import list_work_orders, transition
from camsweep.web.accounts import add_user
from camsweep.web.roles import Cap, Role


@dataclass(frozen=True)
class Rule:
    cap: Cap | None  # None: public
    scope: str = "none"  # none | dept (object of a department) | nobody (belongs to no one)
    data: dict[str, Any] | None = None  # form fields for a POST (besides the CSRF token)


R, W, IMP, U = Cap.READ, Cap.RECORD_WORK, Cap.IMPORT, Cap.MANAGE_USERS
NOTHING = {"to_state": "nonsense"}  # allowed callers get a refusal that changes nothing

RULES: dict[tuple[str, str], Rule] = {
    # public
    ("GET", "/api/openapi.json"): Rule(None),
    ("GET", "/docs"): Rule(None),
    ("GET", "/login"): Rule(None),
    ("POST", "/login"): Rule(None, data={"username": "viewer-b", "password": PASSWORD}),
    ("POST", "/api/token"): Rule(None, data={"username": "viewer-a", "password": PASSWORD}),
    ("GET", "/static/vendor/plotly.min.js"): Rule(None),
    # API
    ("GET", "/api/me"): Rule(R),
    ("GET", "/api/sites"): Rule(R),
    ("GET", "/api/sites/{site_id}"): Rule(R, "dept"),
    ("GET", "/api/devices"): Rule(R),
    ("GET", "/api/devices/{asset_id}"): Rule(R, "dept"),
    ("GET", "/api/findings"): Rule(R),
    ("GET", "/api/plan"): Rule(R),
    ("GET", "/api/workorders"): Rule(R),
    ("GET", "/api/workorders/{wo_id}"): Rule(R, "dept"),
    ("POST", "/api/workorders/{wo_id}/transition"): Rule(W, "dept", NOTHING),
    ("GET", "/api/workorders/{wo_id}/attachments/{sha256}"): Rule(R, "dept"),
    ("POST", "/api/workorders/generate"): Rule(Cap.GENERATE_WORK),
    ("GET", "/api/alerts"): Rule(R),
    ("GET", "/api/screen"): Rule(R),
    ("GET", "/api/audit/verify"): Rule(Cap.AUDIT),
    # pages
    ("POST", "/logout"): Rule(R),
    ("GET", "/account"): Rule(R),
    ("POST", "/account/password"): Rule(R, data={"current": "wrong", "new": "x", "repeat": "y"}),
    ("POST", "/account/tokens"): Rule(R, data={"name": ""}),
    ("POST", "/account/tokens/{token_id}/revoke"): Rule(R, "nobody"),
    ("GET", "/"): Rule(R),
    ("GET", "/sites"): Rule(R),
    ("GET", "/sites/{site_id}"): Rule(R, "dept"),
    ("GET", "/devices"): Rule(R),
    ("GET", "/devices/{asset_id}"): Rule(R, "dept"),
    ("GET", "/findings"): Rule(R),
    ("GET", "/plan"): Rule(R),
    ("GET", "/scans"): Rule(R),
    ("GET", "/scans/{scan_id}"): Rule(R, "dept"),
    ("GET", "/alerts"): Rule(R),
    ("GET", "/workorders"): Rule(R),
    ("GET", "/workorders/{wo_id}"): Rule(R, "dept"),
    ("POST", "/workorders/{wo_id}/transition"): Rule(W, "dept", NOTHING),
    ("GET", "/workorders/{wo_id}/attachments/{sha256}"): Rule(R, "dept"),
    ("POST", "/workorders/generate"): Rule(Cap.GENERATE_WORK),
    ("GET", "/imports"): Rule(IMP),
    ("POST", "/imports"): Rule(IMP, data={"kind": "bogus"}),
    ("POST", "/imports/{pid}/confirm"): Rule(IMP, "nobody"),
    ("POST", "/imports/{pid}/discard"): Rule(IMP, "nobody"),
    ("GET", "/audit"): Rule(Cap.AUDIT),
    ("GET", "/audit/verify"): Rule(Cap.AUDIT),
    ("GET", "/users"): Rule(U),
    ("POST", "/users"): Rule(U, data={"username": "", "role": "", "password": ""}),
    ("POST", "/users/{username}/disable"): Rule(U, "dept"),
    ("POST", "/users/{username}/enable"): Rule(U, "dept"),
    ("POST", "/users/{username}/reset"): Rule(U, "dept", {"password": "short"}),
    ("GET", "/screening"): Rule(R),
    ("GET", "/cases"): Rule(Cap.CASES),
    ("GET", "/cases/{ref}"): Rule(Cap.CASES),
    ("GET", "/cases/{ref}/report"): Rule(Cap.CASES),
    ("GET", "/reports"): Rule(R),
    ("GET", "/reports/{kind}"): Rule(R),
    ("GET", "/reports/dossier/{asset_id}"): Rule(R, "dept"),
    ("GET", "/reports/site-dossier/{site_id}"): Rule(R, "dept"),
}

PRINCIPALS: list[tuple[str | None, Role | None, str | None, bool]] = [
    (None, None, None, False),  # anonymous
    ("viewer-a", Role.VIEWER, "a", False),
    ("surveyor-a", Role.SURVEYOR, "a", False),
    ("department-admin-a", Role.DEPARTMENT_ADMIN, "a", False),
    ("viewer-b", Role.VIEWER, "b", False),
    ("surveyor-b", Role.SURVEYOR, "b", False),
    ("department-admin-b", Role.DEPARTMENT_ADMIN, "b", False),
    ("central", Role.CENTRAL_ADMIN, None, False),
    ("buyer-a", Role.VIEWER, "a", True),
]


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            continue
        inner = getattr(route, "original_router", None)  # FastAPI's included-router node
        if inner is not None:
            yield from _walk(inner.routes, prefix + route.include_context.prefix)
            continue
        assert isinstance(route, APIRoute | Route), route
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                yield method, prefix + route.path


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, whatever router declared it."""
    return sorted(set(_walk(app.routes)))


def may(role: Role, procurement: bool, cap: Cap) -> bool:
    """The test's own statement of the role model (not the app's table)."""
    if cap is Cap.CASES:
        return procurement
    granted = {
        Role.VIEWER: {Cap.READ},
        Role.SURVEYOR: {Cap.READ, Cap.RECORD_WORK},
        Role.DEPARTMENT_ADMIN: {Cap.READ, Cap.RECORD_WORK, Cap.IMPORT, Cap.MANAGE_USERS},
        Role.CENTRAL_ADMIN: set(Cap) - {Cap.CASES},
    }
    return cap in granted[role]


def expected(rule: Rule, role: Role | None, dept: str | None, procurement: bool,
             target: str, api: bool) -> str:
    if rule.cap is None:
        return "ok"
    if role is None:
        return "unauthenticated" if api else "login"
    if not may(role, procurement, rule.cap):
        return "forbidden"
    if rule.scope == "nobody":
        return "absent"
    if rule.scope == "dept" and role is not Role.CENTRAL_ADMIN and target != dept:
        return "absent"
    return "ok"


def outcome(status: int, location: str | None) -> str:
    assert status < 500, f"server error {status}"
    if status == 401:
        return "unauthenticated"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "absent"
    if status == 303 and (location or "").startswith("/login?next="):
        return "login"
    return "ok"


@dataclass
class World:
    estate: Estate
    app: FastAPI
    objects: dict[str, dict[str, str]]  # department tag -> path parameter values


def _scan(store: Any, device_asset: str) -> int:
    with store.engine.begin() as conn:
        pk = conn.execute(select(m.Device.id).where(m.Device.asset_id == device_asset)).scalar()
        now = datetime.now(UTC).replace(tzinfo=None)
        source = conn.execute(insert(m.Source).values(
            kind="scan", name=f"scan of {device_asset}", rows=1, started_at=now,
            finished_at=now).returning(m.Source.id)).scalar_one()
        conn.execute(insert(m.ScanHost).values(source_id=source, ip="10.0.0.1", state="done",
                                               answers=2, device_pk=pk, finished_at=now))
        return int(source)


def _objects(estate: Estate) -> dict[str, dict[str, str]]:
    store = estate.store
    orders, _ = list_work_orders(store, per_page=100)
    case = open_case(store, Actor("buyer-a"), "Hikvision UK Limited", country="GB")
    out: dict[str, dict[str, str]] = {}
    for tag, dept, site, asset, removed in (("a", DEPT_A, "A-001", "A-CAM-2", "A-CAM-1"),
                                            ("b", DEPT_B, "B-001", "B-CAM-2", "B-CAM-1")):
        wo = next(w for w in orders if w.asset_id == removed)
        transition(store, f"surveyor-{tag}", wo.id, "removed", note="matrix",
                   attachment=Attachment("p.png", "image/png", png_bytes()),
                   evidence=_evidence(estate))
        add_user(store, "test", f"victim-{tag}", "viewer", PASSWORD, department=dept,
                 hasher=FAST_HASHER)
        out[tag] = {"site_id": site, "asset_id": asset, "wo_id": str(wo.id),
                    "sha256": _sha(png_bytes()), "scan_id": str(_scan(store, asset)),
                    "username": f"victim-{tag}", "ref": case.ref,
                    "pid": "x" * 32, "token_id": "999999", "kind": "return"}
    return out


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _evidence(estate: Estate) -> Any:
    from camsweep.track.attachments import EvidenceStore

    return EvidenceStore(estate.root / "evidence")


estate = estate_fixture("matrix")


@pytest.fixture(scope="module")
def world(estate: Estate) -> World:
    return World(estate, make_app(estate.store, estate.root), _objects(estate))


def test_every_route_has_a_rule(world: World) -> None:
    routes = set(route_table(world.app))
    missing = sorted(routes - set(RULES))
    stale = sorted(set(RULES) - routes)
    assert not missing, f"routes without an access rule in RULES: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


def _request(client: TestClient, method: str, path: str, rule: Rule, api: bool,
             csrf: str | None) -> Any:
    if method == "GET":
        return client.get(path, follow_redirects=False)
    data = dict(rule.data or {})
    if path == "/login":  # the sign-in form's own CSRF token, from its cookie
        client.get("/login")
        data["csrf_token"] = client.cookies.get("camsweep_login")
    elif csrf is not None and not api:
        data["csrf_token"] = csrf
    return client.post(path, data=data, follow_redirects=False)


def _client(world: World, user: str | None) -> tuple[TestClient, str | None]:
    client = TestClient(world.app)
    if user is None:
        return client, None
    client.headers["Authorization"] = f"Bearer {world.estate.tokens[user]}"
    login(client, user)
    return client, csrf_of(client)


def test_matrix(world: World) -> None:
    problems: list[str] = []
    checked = 0
    routes = route_table(world.app)
    # signing out ends the session the other pages need, and signing in replaces it: last
    routes.sort(key=lambda r: (r == ("POST", "/login"), r == ("POST", "/logout")))
    for user, role, dept, procurement in PRINCIPALS:
        client, csrf = _client(world, user)
        with client:
            for method, template in routes:
                rule = RULES[(method, template)]
                api = template.startswith("/api/")
                for target in ("a", "b"):
                    path = re.sub(r"\{(\w+)\}", lambda g, t=target: world.objects[t][g.group(1)],
                                  template)
                    if method == "GET" and template == "/api/screen":
                        path += "?name=Axis"
                    response = _request(client, method, path, rule, api, csrf)
                    got = outcome(response.status_code, response.headers.get("location"))
                    want = expected(rule, role, dept, procurement, target, api)
                    checked += 1
                    if got != want:
                        problems.append(f"{user or 'anonymous'} {method} {path}: expected "
                                        f"{want}, got {got} ({response.status_code})")
                    if "{" not in template:
                        break  # no object: one department's worth is the whole answer
    assert not problems, "\n".join(problems)
    assert checked > 9 * len(RULES)


def test_every_form_post_needs_the_csrf_token(world: World) -> None:
    posts = [(m_, p) for m_, p in route_table(world.app)
             if m_ == "POST" and not p.startswith("/api/") and p != "/login"]
    assert len(posts) >= 10
    client, _csrf = _client(world, "central")
    client.headers.pop("Authorization")
    with client:
        for _method, template in posts:
            path = re.sub(r"\{(\w+)\}", lambda g: world.objects["a"][g.group(1)], template)
            data = dict(RULES[("POST", template)].data or {})
            missing = client.post(path, data=data, follow_redirects=False)
            forged = client.post(path, data={**data, "csrf_token": "forged"},
                                 follow_redirects=False)
            assert missing.status_code == 403, (template, missing.status_code)
            assert forged.status_code == 403, (template, forged.status_code)
        assert client.get("/account").status_code == 200  # the session itself still works


def test_api_ignores_session_cookies(world: World) -> None:
    """The API takes bearer tokens only, so no cross-site request can ride on a cookie."""
    client, _csrf = _client(world, "central")
    client.headers.pop("Authorization")
    with client:
        assert client.get("/account").status_code == 200
        assert client.get("/api/me").status_code == 401

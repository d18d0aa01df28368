"""The server-rendered pages: sign-in, cookies, CSRF, headers, imports, users, work orders
and the audit log, over a real estate on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select, update
from web_estate import (
    DEPT_A,
    FAST_HASHER,
    PASSWORD,
    SITES_CSV,
    Estate,
    TestClient,
    csrf_of,
    estate_fixture,
    login,
    make_app,
    png_bytes,
)

from camsweep.store.models import ApiToken, AuditLog, Device, User, WebSession
from camsweep.track.audit import iter_audit
from camsweep.track.workorders import list_work_orders
from camsweep.web.accounts import add_user
from camsweep.web.throttle import ThrottlePolicy

estate = estate_fixture("pages")


@pytest.fixture(scope="module")
def app(estate: Estate) -> Any:
    return make_app(estate.store, estate.root,
                    throttle=ThrottlePolicy(per_user=3, per_client=8))


def signed_in(app: Any, user: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app)
    login(client, user, password)
    return client


class Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.urls: list[str] = []
        self.inline_handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
        for name, value in attrs:
            if name in ("src", "href", "action") and value:
                self.urls.append(value)
            if name.startswith("on"):
                self.inline_handlers.append(f"{tag} {name}")


PAGES = ["/", "/sites", "/sites/A-001", "/devices", "/devices/A-CAM-4", "/findings", "/plan",
         "/workorders", "/scans", "/alerts", "/imports", "/screening?name=Dahua", "/users",
         "/account", "/audit", "/docs"]


def test_sign_in_sets_a_hardened_session_cookie(app: Any) -> None:
    client = TestClient(app)
    assert client.get("/devices", follow_redirects=False).headers["location"] \
        == "/login?next=/devices"
    client.get("/login")
    token = client.cookies.get("camsweep_login")
    wrong = client.post("/login", data={"username": "viewer-b", "password": "nope nope nope",
                                        "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    forged = client.post("/login", data={"username": "viewer-b", "password": PASSWORD,
                                         "csrf_token": "forged"})
    assert forged.status_code == 403
    ok = client.post("/login", data={"username": "viewer-b", "password": PASSWORD,
                                     "csrf_token": token, "next": "//evil.example/x"},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # no open redirect
    cookie = next(h for h in ok.headers.get_list("set-cookie")
                  if h.startswith("camsweep_session="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http here; see the https test
    assert client.get("/").status_code == 200


def test_secure_cookies_over_https(estate: Estate) -> None:
    client = TestClient(make_app(estate.store, estate.root), base_url="https://testserver")
    client.get("/login")
    ok = client.post("/login", data={"username": "viewer-b", "password": PASSWORD,
                                     "csrf_token": client.cookies.get("camsweep_login")},
                     follow_redirects=False)
    cookie = next(h for h in ok.headers.get_list("set-cookie") if "_session=" in h)
    assert cookie.startswith("__Host-camsweep_session=") and "secure" in cookie.lower()
    assert ok.headers["strict-transport-security"].startswith("max-age=")


def test_logout_ends_the_session_server_side(app: Any, estate: Estate) -> None:
    client = signed_in(app, "viewer-b")
    stolen = client.cookies.get("camsweep_session")
    out = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert out.status_code == 303
    replay = TestClient(app)
    replay.cookies.set("camsweep_session", stolen or "")
    assert replay.get("/", follow_redirects=False).status_code == 303
    assert any(e.action == "logout" and e.actor == "viewer-b" for e in iter_audit(estate.store))


def test_throttling_locks_a_name_then_a_client(app: Any, estate: Estate) -> None:
    def attempt(user: str, password: str) -> int:
        client = TestClient(app)  # each from the same client address
        client.get("/login")
        return client.post("/login", data={"username": user, "password": password,
                                           "csrf_token": client.cookies.get("camsweep_login")},
                           follow_redirects=False).status_code

    assert [attempt("surveyor-b", "wrong password 1") for _ in range(3)] == [401, 401, 429]
    assert attempt("surveyor-b", PASSWORD) == 429  # locked: even the right password waits
    assert attempt("department-admin-b", PASSWORD) == 303  # other names still sign in
    statuses = [attempt(f"nobody{i}", "wrong password 2") for i in range(6)]
    assert statuses[-1] == 429  # the client address hit its limit over many names
    assert attempt("department-admin-b", PASSWORD) == 429
    actions = [e.action for e in iter_audit(estate.store, "user", "surveyor-b")]
    assert actions.count("login.failed") == 3 and "login.locked" in actions
    from camsweep.store.models import LoginThrottle

    with estate.store.session() as s:
        s.execute(LoginThrottle.__table__.delete())
        s.commit()


def test_security_headers_and_no_inline_or_remote_scripts(app: Any) -> None:
    client = signed_in(app, "central")
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        csp = page.headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]+)", csp)
        assert script_src and "unsafe-inline" not in script_src.group(1)
        assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        parsed = Scripts()
        parsed.feed(page.text)
        for script in parsed.scripts:
            assert script.get("src") or script.get("type") == "application/json", (path, script)
        assert not parsed.inline_handlers, (path, parsed.inline_handlers)
        remote = [u for u in parsed.urls if re.match(r"^(https?:)?//", u)]
        assert not remote, (path, remote)
    api = client.get("/api/openapi.json")
    assert api.headers["x-content-type-options"] == "nosniff"
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert len(js.content) > 1_000_000


def test_docs_work_offline(app: Any) -> None:
    docs = TestClient(app).get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "/api/devices/{asset_id}" in docs.text
    assert "swagger" not in docs.text.lower()


def test_dashboard_is_scoped(app: Any) -> None:
    def stat(client: TestClient, name: str) -> int:
        found = re.search(rf'id="stat-{name}"[^>]*>([\d,]+)<', client.get("/").text)
        assert found
        return int(found.group(1).replace(",", ""))

    assert stat(signed_in(app, "viewer-a"), "devices") == 5
    assert stat(signed_in(app, "viewer-b"), "devices") == 3
    assert stat(signed_in(app, "central"), "devices") >= 8


def upload(client: TestClient, kind: str, name: str, text: str) -> Any:
    return client.post("/imports", data={"kind": kind, "csrf_token": csrf_of(client, "/imports")},
                       files={"file": (name, text.encode(), "text/csv")})


HEADER = "Asset Tag,Site Code,Type,Make,Model No,MAC Address,IP,Install Date\n"


def test_import_check_then_confirm(app: Any, estate: Estate) -> None:
    admin = signed_in(app, "department-admin-a")
    bad = upload(admin, "assets", "more.csv", HEADER
                 + "A-NEW-1,A-002,Dome cam,Hikvision,DS-2CD1023G0E-I,zz:zz,10.2.0.9,01/01/2022\n"
                 + "A-NEW-2,A-002,Bullet,Axis,P1455-LE,,10.2.0.10,01/01/2022\n")
    assert bad.status_code == 422
    assert "not a MAC address" in bad.text and 'id="confirm"' not in bad.text
    good = upload(admin, "assets", "more.csv", HEADER
                  + "A-NEW-1,A-002,Dome cam,Hikvision,DS-2CD1023G0E-I,,10.2.0.9,01/01/2022\n"
                  + "A-NEW-2,A-002,Bullet,Axis,P1455-LE,,10.2.0.10,01/01/2022\n")
    assert good.status_code == 200 and 'id="confirm"' in good.text
    assert "2 new" in good.text
    with estate.store.session() as s:
        assert s.scalar(select(Device.id).where(Device.asset_id == "A-NEW-1")) is None
    pid = re.search(r'/imports/([\w-]+)/confirm', good.text)
    assert pid
    # another admin, even central, cannot confirm someone else's upload
    other = signed_in(app, "central")
    stolen = other.post(f"/imports/{pid.group(1)}/confirm",
                        data={"csrf_token": csrf_of(other, "/imports")})
    assert stolen.status_code == 404
    done = admin.post(f"/imports/{pid.group(1)}/confirm",
                      data={"csrf_token": csrf_of(admin, "/imports")}, follow_redirects=False)
    assert done.status_code == 303
    assert "2 new" in admin.get(done.headers["location"]).text
    with estate.store.session() as s:
        assert s.scalar(select(Device.id).where(Device.asset_id == "A-NEW-1")) is not None
    entry = [e for e in iter_audit(estate.store) if e.action == "import.assets"][-1]
    assert entry.actor == "department-admin-a" and entry.details["department"] == DEPT_A
    assert entry.details["created"] == 2 and entry.details["file"] == "more.csv"


def test_department_admin_cannot_import_into_another_department(app: Any) -> None:
    admin = signed_in(app, "department-admin-a")
    page = upload(admin, "assets", "sneaky.csv", HEADER
                  + "A-SNK-1,B-001,camera,Axis,P1455-LE,,,\n"
                  + "A-SNK-2,Z-404,camera,Axis,P1455-LE,,,\n"
                  + "B-CAM-2,A-001,camera,Axis,P1455-LE,,,\n")
    assert page.status_code == 422
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>(\w*)</td><td>([^<]*)</td>",
                      page.text)
    reasons = {int(r): (c, why) for r, c, why in rows}
    # B-001 exists but is B's: the answer reads exactly like the missing Z-404
    assert reasons[2][1].replace("B-001", "X") == reasons[3][1].replace("Z-404", "X")
    assert reasons[4][0] == "asset_id" and "cannot see" in reasons[4][1]
    sites = upload(admin, "sites", "sites.csv", SITES_CSV)
    assert sites.status_code == 422 and "your own department" in sites.text
    assert "already used by another department" in sites.text


def test_work_order_removal_with_photo(app: Any, estate: Estate) -> None:
    orders, _ = list_work_orders(estate.store, per_page=100)
    wo = next(w for w in orders if w.asset_id == "A-NVR-1")
    surveyor = signed_in(app, "surveyor-a")
    page = surveyor.get(f"/workorders/{wo.id}")
    assert page.status_code == 200 and 'id="transition"' in page.text
    csrf = csrf_of(surveyor, f"/workorders/{wo.id}")
    refused = surveyor.post(f"/workorders/{wo.id}/transition",
                            data={"to_state": "removed", "csrf_token": csrf})
    assert refused.status_code == 409 and "photo" in refused.text
    done = surveyor.post(f"/workorders/{wo.id}/transition",
                         data={"to_state": "removed", "note": "out", "csrf_token": csrf},
                         files={"file": ("nvr.png", png_bytes(), "image/png")},
                         follow_redirects=False)
    assert done.status_code == 303
    after = surveyor.get(done.headers["location"]).text
    assert 'id="wo-state">removed<' in after and "nvr.png" in after
    sha = re.search(r"/attachments/([0-9a-f]{64})", after)
    assert sha
    photo = surveyor.get(f"/workorders/{wo.id}/attachments/{sha.group(1)}")
    assert photo.content == png_bytes() and "sandbox" in photo.headers[
        "content-security-policy"]
    assert signed_in(app, "surveyor-b").get(f"/workorders/{wo.id}").status_code == 404
    viewer = signed_in(app, "viewer-a").get(f"/workorders/{wo.id}").text
    assert 'id="transition"' not in viewer


def test_users_are_managed_within_the_department(app: Any, estate: Estate) -> None:
    admin = signed_in(app, "department-admin-a")
    csrf = csrf_of(admin, "/users")
    made = admin.post("/users", data={"username": "new-surveyor", "role": "surveyor",
                                      "department": "Department B", "password": PASSWORD,
                                      "csrf_token": csrf}, follow_redirects=False)
    assert made.status_code == 303
    listing = admin.get("/users").text
    assert "new-surveyor" in listing and "viewer-b" not in listing
    assert re.search(r"new-surveyor</td><td>Surveyor</td><td>Department A<", listing)
    central = admin.post("/users", data={"username": "sneaky", "role": "central_admin",
                                         "password": PASSWORD, "csrf_token": csrf})
    assert central.status_code == 403
    assert admin.post("/users/viewer-b/disable", data={"csrf_token": csrf}).status_code == 404
    victim = signed_in(app, "new-surveyor")
    assert victim.get("/").status_code == 200
    off = admin.post("/users/new-surveyor/disable", data={"csrf_token": csrf},
                     follow_redirects=False)
    assert off.status_code == 303
    assert victim.get("/", follow_redirects=False).status_code == 303  # its session ended
    actions = [e.action for e in iter_audit(estate.store, "user", "new-surveyor")]
    assert actions[:1] == ["user.add"] and "user.disable" in actions


def test_account_tokens_shown_once_and_revocable(app: Any, estate: Estate) -> None:
    me = signed_in(app, "viewer-a")
    page = me.post("/account/tokens", data={"name": "script", "days": "30",
                                            "csrf_token": csrf_of(me)})
    token = re.search(r'id="new-token">(csw_[\w-]+)<', page.text)
    assert token
    assert token.group(1) not in me.get("/account").text  # shown once
    with estate.store.session() as s:
        hashes = list(s.scalars(select(ApiToken.token_hash)))
    assert token.group(1) not in hashes and all(len(h) == 64 for h in hashes)
    api = TestClient(app)
    assert api.get("/api/me", headers={"Authorization": f"Bearer {token.group(1)}"}
                   ).status_code == 200
    token_id = re.findall(r"/account/tokens/(\d+)/revoke", me.get("/account").text)[-1]
    me.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(me)})
    assert api.get("/api/me", headers={"Authorization": f"Bearer {token.group(1)}"}
                   ).status_code == 401


def test_password_change_ends_sessions(app: Any, estate: Estate) -> None:
    add_user(estate.store, "test", "changer", "viewer", PASSWORD, department=DEPT_A,
             hasher=FAST_HASHER)
    first, second = signed_in(app, "changer"), signed_in(app, "changer")
    wrong = first.post("/account/password", data={
        "current": "not it", "new": "a new long password", "repeat": "a new long password",
        "csrf_token": csrf_of(first)})
    assert wrong.status_code == 400
    assert [e.action for e in iter_audit(estate.store, "user", "changer")][-1] \
        == "password.check_failed"
    ok = first.post("/account/password", data={
        "current": PASSWORD, "new": "a new long password", "repeat": "a new long password",
        "csrf_token": csrf_of(first)}, follow_redirects=False)
    assert ok.status_code == 303
    assert second.get("/", follow_redirects=False).status_code == 303
    signed_in(app, "changer", "a new long password")
    with estate.store.session() as s:
        states = s.execute(select(WebSession.revoked_at).join(User, User.id == WebSession.user_id)
                           .where(User.username == "changer")).scalars().all()
    assert sum(r is None for r in states) == 1 and sum(r is not None for r in states) == 2


def test_audit_page_verifies_and_catches_tampering(app: Any, estate: Estate) -> None:
    central = signed_in(app, "central")
    intact = central.get("/audit/verify")
    assert 'id="verify-result"' in intact.text and "Intact" in intact.text
    assert signed_in(app, "department-admin-a").get("/audit").status_code == 403
    with estate.store.engine.begin() as conn:
        original = conn.execute(select(AuditLog.actor).where(AuditLog.seq == 2)).scalar_one()
        conn.execute(update(AuditLog).where(AuditLog.seq == 2).values(actor="mallory"))
    try:
        broken = central.get("/audit/verify")
        assert "Broken" in broken.text and "seq 2" in broken.text
    finally:
        with estate.store.engine.begin() as conn:
            conn.execute(update(AuditLog).where(AuditLog.seq == 2).values(actor=original))
    assert "Intact" in central.get("/audit/verify").text

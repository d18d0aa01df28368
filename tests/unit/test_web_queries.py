"""The pure parts of the web app: roles, paging, text patterns, burn-down, plan shapes,
throttle arithmetic, the dashboard cache, redirects and the API's enumerations."""

from __future__ import annotations

import os
import threading
import time
from datetime import date, datetime, timedelta
from typing import get_args

import pytest

from camsweep.errors import AccountError
from camsweep.track.lifecycle import STATES
from camsweep.web.api.params import DeviceStatus, WorkOrderState
from camsweep.web.credentials import check_password_policy
from camsweep.web.headers import CSP
from camsweep.web.imports import _safe_name
from camsweep.web.pages.docs import operations
from camsweep.web.pages.login import safe_next
from camsweep.web.queries.dashboard import Dashboard, DashboardCache, burn_down, monday
from camsweep.web.queries.devices import STATUSES
from camsweep.web.queries.paging import MAX_PER_PAGE, Page, Paging
from camsweep.web.queries.plan import region_load, scoped_summary, timeline
from camsweep.web.queries.text import like_pattern
from camsweep.web.roles import Cap, Principal, Role
from camsweep.web.throttle import Count, ThrottlePolicy, after_failure


def principal(role: Role, dept: int | None = 1, procurement: bool = False) -> Principal:
    return Principal(1, "u", role, dept, "D" if dept else None, procurement)


def test_roles_grant_what_the_issue_says() -> None:
    viewer, surveyor = principal(Role.VIEWER), principal(Role.SURVEYOR)
    admin, central = principal(Role.DEPARTMENT_ADMIN), principal(Role.CENTRAL_ADMIN, None)
    assert viewer.may(Cap.READ) and not viewer.may(Cap.RECORD_WORK)
    assert surveyor.may(Cap.RECORD_WORK) and not surveyor.may(Cap.IMPORT)
    assert admin.may(Cap.IMPORT) and admin.may(Cap.MANAGE_USERS)
    assert not admin.may(Cap.AUDIT) and not admin.may(Cap.GENERATE_WORK)
    assert central.may(Cap.AUDIT) and not central.may(Cap.CASES)
    assert principal(Role.VIEWER, procurement=True).may(Cap.CASES)
    assert admin.may_grant(Role.SURVEYOR, 1, False)
    assert not admin.may_grant(Role.SURVEYOR, 2, False)
    assert not admin.may_grant(Role.CENTRAL_ADMIN, 1, False)
    assert not admin.may_grant(Role.VIEWER, 1, True)
    assert not surveyor.may_grant(Role.VIEWER, 1, False)
    assert central.may_grant(Role.CENTRAL_ADMIN, None, True)


def test_api_enumerations_match_the_domain() -> None:
    assert set(get_args(WorkOrderState)) == set(STATES)
    assert set(get_args(DeviceStatus)) == set(STATUSES)


def test_paging() -> None:
    assert Paging.of(None, None) == Paging(1, 50)
    assert Paging.of(0, 10_000) == Paging(1, MAX_PER_PAGE)
    assert Paging.of(3, 20).offset == 40
    page = Page(list(range(7)), 107, 3, 50)
    assert (page.pages, page.first, page.last) == (3, 101, 107)
    assert Page([], 0, 1, 50).as_dict() == {"items": [], "total": 0, "page": 1,
                                            "per_page": 50, "pages": 1}


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern(" Hik ") == "%hik%"
    assert like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"


@pytest.mark.parametrize(("target", "expected"), [
    ("/devices?q=x", "/devices?q=x"), ("//evil.example/", "/"), ("https://evil.example", "/"),
    ("/\\evil", "/"), ("", "/"), (None, "/"), ("devices", "/")])
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_throttle_arithmetic() -> None:
    policy = ThrottlePolicy(per_user=3, window=timedelta(minutes=15),
                            lockout=timedelta(minutes=5))
    t0 = datetime(2027, 1, 1, 12)
    first = after_failure(None, 3, policy, t0)
    assert first == Count(1, t0, None)
    second = after_failure(first, 3, policy, t0 + timedelta(minutes=1))
    third = after_failure(second, 3, policy, t0 + timedelta(minutes=2))
    assert third.locked_until == t0 + timedelta(minutes=7)
    later = after_failure(third, 3, policy, t0 + timedelta(minutes=20))
    assert later.failures == 1 and later.window_start == t0 + timedelta(minutes=20)


def test_password_policy() -> None:
    check_password_policy("a long enough one", "bob")
    for bad, name in (("short", "bob"), ("x" * 1025, "bob"), ("Bobbybobbybob", "bobbybobbybob")):
        with pytest.raises(AccountError):
            check_password_policy(bad, name)


def test_burn_down() -> None:
    w1, w2, w3 = date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 18)
    out = burn_down({w1: 2, w2 + timedelta(days=2): 3, w3: 1}, {w1 + timedelta(days=4): 1},
                    today=w2 + timedelta(days=1), plan_id=9)
    assert out.weeks == [w1, w2, w3] and out.total == 6 and out.removed == 1
    assert out.planned_remaining == [4, 1, 0]
    assert out.actual_remaining == [5, 5, None]  # nothing is known of next week yet
    assert burn_down({}, {}, today=w1).weeks == []
    assert monday(date(2027, 1, 10)) == w1


PLAN = {
    "assignments": [
        {"asset_id": "a", "site_id": "S1", "region": "north", "week_start": "2027-01-04",
         "deadline": "2027-01-01", "cost": 650.0},
        {"asset_id": "b", "site_id": "S1", "region": "north", "week_start": "2027-01-04",
         "deadline": None, "cost": 1800.0},
        {"asset_id": "c", "site_id": "S2", "region": "london", "week_start": "2027-01-11",
         "deadline": "2028-01-01", "cost": 650.0},
    ],
    "unscheduled": [{"asset_id": "d", "reason": "no crew"}],
    "resources": {"regions": [{"id": "north", "crews": 2, "crew_capacity": 5}]},
}


def test_plan_shapes() -> None:
    assert scoped_summary(PLAN) == {"scheduled": 3, "unscheduled": 1, "cost": 3100.0,
                                    "late": 1, "regions": {"north": 2, "london": 1}}
    weeks, series = timeline(PLAN)
    assert weeks == ["2027-01-04", "2027-01-11"]
    assert series == {"london": [0, 1], "north": [2, 0]}
    loads = {r.region: r for r in region_load(PLAN)}
    assert loads["north"].weekly_capacity == 10 and loads["north"].peak == 2
    assert loads["north"].late == 1 and loads["north"].peak_share == 0.2
    assert loads["london"].weekly_capacity is None and loads["london"].peak_week == "2027-01-11"


def test_dashboard_cache_follows_the_data_version() -> None:
    calls: list[int] = []

    def compute() -> Dashboard:
        calls.append(1)
        time.sleep(0.05)
        return Dashboard(devices=len(calls))

    cache = DashboardCache(ttl=60)
    threads = [threading.Thread(target=cache.get, args=("k", (1,), compute)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1  # eight concurrent misses, one computation
    assert cache.get("k", (1,), compute).devices == 1
    assert cache.get("k", (2,), compute).devices == 2  # the data changed
    assert cache.get("other", (2,), compute).devices == 3  # another department
    cache.clear()
    assert cache.get("k", (2,), compute).devices == 4
    off = DashboardCache(ttl=0)
    off.get("k", (1,), compute)
    off.get("k", (1,), compute)
    assert len(calls) == 6


def test_csp_forbids_inline_script_and_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


def test_docs_operations_flatten_the_spec() -> None:
    spec = {"paths": {"/api/x/{id}": {"get": {
        "summary": "One x", "security": [{"OAuth2PasswordBearer": []}],
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/X"}}}}}}}}}
    [op] = operations(spec)
    assert op["method"] == "GET" and op["secured"] is True
    assert op["params"][0]["type"] == "integer"
    assert op["responses"] == [{"status": "200", "description": "ok", "type": "X"}]


def test_upload_names_are_tamed() -> None:
    assert _safe_name("../../etc/passwd.csv") == "passwd.csv"
    assert _safe_name("C:\\temp\\Reg ister (1).xlsx") == "Reg ister _1_.xlsx"
    assert _safe_name("...") == "register.csv"


def test_password_hashing_is_bounded_in_parallel() -> None:
    """A burst of sign-ins queues for argon2 (64 MiB each) instead of taking a gigabyte."""
    from concurrent.futures import ThreadPoolExecutor

    from argon2 import PasswordHasher

    from camsweep.web.credentials import hash_password, verify_password

    class Counting(PasswordHasher):
        def __init__(self) -> None:
            super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
            self.lock = threading.Lock()
            self.now = self.peak = 0

        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                time.sleep(0.01)
                return super().verify(hash, password)
            finally:
                with self.lock:
                    self.now -= 1

    hasher = Counting()
    stored = hash_password("a long enough one", hasher)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: verify_password(
            stored if i % 2 else None, "a long enough one", hasher), range(32)))
    assert results == [bool(i % 2) for i in range(32)]
    assert 1 <= hasher.peak <= max(2, os.cpu_count() or 2)

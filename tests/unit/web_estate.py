"""A small two-department estate for the web tests, built through the real pipeline
(import -> identify -> assess -> plan -> work orders) and accounts for every role.

Department A has two sites, department B one; each holds restricted and unrestricted
devices, so every scoped answer differs between the two and from the whole.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from camsweep.store import Store

with warnings.catch_warnings():  # starlette asks for the httpx2 fork; plain httpx still works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

__all__ = ["TestClient"]

DEPT_A, DEPT_B = "Department A", "Department B"
PASSWORD = "correct horse battery staple"
# Cheap argon2id for tests (the hash format carries its parameters; production uses the
# RFC 9106 defaults). Same algorithm and code path, a fraction of the CPU.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

SITES_CSV = """site_id,name,department,region,sensitivity,postcode
A-001,Alpha House,Department A,london,sensitive,SW1A 2AA
A-002,Alpha Depot,Department A,north,standard,M1 1AA
B-001,Beta Court,Department B,london,sensitive,EC1A 1BB
"""

ASSETS_CSV = """asset_id,site_id,device_type,brand,model,serial,mac,ip,firmware,install_date
A-CAM-1,A-001,camera,Hikvision,DS-2CD2143G0-I,SNA1,44:19:b6:00:00:01,10.1.0.1,,01/02/2019
A-CAM-2,A-001,camera,Dahua,IPC-HDW2431T-AS,SNA2,,10.1.0.2,,2020-03-04
A-NVR-1,A-001,nvr,Hikvision,DS-7608NI-K2,SNA3,,10.1.0.3,,2018-05-06
A-CAM-3,A-002,camera,Axis,P3245-V,SNA4,,10.2.0.1,,2021-01-01
A-CAM-4,A-002,camera,Lorex,LNB8005,SNA5,,10.2.0.2,,2019-07-08
B-CAM-1,B-001,camera,Hikvision,DS-2CD2T47G1-L,SNB1,,10.9.0.1,,2019-01-01
B-CAM-2,B-001,camera,Axis,M3106-L,SNB2,,10.9.0.2,,2021-02-02
B-NVR-1,B-001,nvr,Dahua,NVR4108HS,SNB3,,10.9.0.3,,2018-03-03
"""

RESOURCES: dict[str, Any] = {
    "start": "2027-01-04", "horizon_weeks": 52,
    "regions": [{"id": "london", "crews": 1, "crew_capacity": 2},
                {"id": "north", "crews": 1, "crew_capacity": 2}],
    "unit_costs": {"camera": 650, "nvr": 1800, "dvr": 1200, "encoder": 500, "intercom": 700,
                   "access_control": 900, "other": 500},
}

ROLES = ("viewer", "surveyor", "department_admin")


@dataclass
class Estate:
    store: Store
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> bearer token

    @staticmethod
    def user(role: str, dept: str | None) -> str:
        return "central" if role == "central_admin" else f"{role.replace('_', '-')}-{dept}"

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def write_registers(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    sites, assets = folder / "sites.csv", folder / "assets.csv"
    sites.write_text(SITES_CSV, encoding="utf-8")
    assets.write_text(ASSETS_CSV, encoding="utf-8")
    return sites, assets


def plan_and_track(store: Store) -> None:
    """Assess, plan and generate work orders, as the CLI would."""
    from camsweep.assess import assess_store, open_removal_findings
    from camsweep.demo import DEMO_AS_OF, DEMO_PARAMS, DEMO_POLICIES
    from camsweep.kb import load_kb
    from camsweep.plan import make_plan, parse_findings, parse_resources
    from camsweep.store.identification import identify_store
    from camsweep.store.plans import save_plan
    from camsweep.track.workorders import generate_work_orders

    kb = load_kb()
    identify_store(store, kb)
    assess_store(store, list(DEMO_POLICIES), DEMO_AS_OF, params=DEMO_PARAMS, kb=kb)
    items = parse_findings(open_removal_findings(store), "test store")
    resources = parse_resources(RESOURCES, "resources")
    plan = make_plan(items, resources, time_limit=5)
    save_plan(store, plan.to_json(), resources=resources.model_dump(mode="json"), actor="test")
    generate_work_orders(store, "test")


def add_accounts(estate: Estate) -> None:
    from camsweep.web.accounts import add_user, create_token

    store = estate.store
    specs: list[tuple[str, str, str | None, bool]] = [
        (Estate.user(role, tag), role, dept, False)
        for tag, dept in (("a", DEPT_A), ("b", DEPT_B)) for role in ROLES]
    specs += [("central", "central_admin", None, False),
              ("buyer-a", "viewer", DEPT_A, True)]
    for name, role, dept, procurement in specs:
        add_user(store, "test", name, role, PASSWORD, department=dept,
                 procurement=procurement, hasher=FAST_HASHER)
        estate.tokens[name], _ = create_token(store, "test", name, "tests")


def build_estate(store: Store, folder: Path) -> Estate:
    from camsweep.inventory.importer import import_file

    sites, assets = write_registers(folder)
    import_file(store, sites, "sites")
    import_file(store, assets, "assets")
    plan_and_track(store)
    estate = Estate(store, folder)
    add_accounts(estate)
    return estate


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form (with its CSRF cookie)."""
    page = client.get("/login")
    assert page.status_code == 200
    token = client.cookies.get("camsweep_login")
    done = client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, "next": "/"},
                       follow_redirects=False)
    assert done.status_code == 303, done.text


def csrf_of(client: TestClient, path: str = "/account") -> str:
    import re

    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def open_backend(request: Any, tmp_path_factory: Any) -> Any:
    """A store on the backend named by `request.param`, for module-scoped fixtures (the
    shared `store` fixture is per test; an estate is too dear to rebuild for each)."""
    from camsweep.store import open_store

    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("web-sqlite")
        store = open_store(f"sqlite:///{folder / 'camsweep.db'}")
        try:
            yield store
        finally:
            store.dispose()
        return
    server = request.getfixturevalue("pg_server")
    name = server.create_database()
    store = open_store(server.url(name))
    try:
        yield store
    finally:
        store.dispose()
        server.drop_database(name)


def make_app(store: Store, folder: Path, **config: Any) -> Any:
    from camsweep.web.app import create_app
    from camsweep.web.config import WebConfig

    settings = {"hasher": FAST_HASHER, "upload_dir": folder / "uploads",
                "evidence_dir": folder / "evidence", "cache_seconds": 0.0, **config}
    return create_app(store, WebConfig(**settings))


# Smallest valid files of each kind the evidence checks accept, made here, not copied.
def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def estate_fixture(label: str) -> Any:
    """A module-scoped estate on each backend, as a fixture for a test module:
    `estate = estate_fixture("api")`."""
    import pytest

    @pytest.fixture(scope="module", params=["sqlite", "postgres"])
    def estate(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Any:
        for store in open_backend(request, tmp_path_factory):
            yield build_estate(store, tmp_path_factory.mktemp(label))

    return estate

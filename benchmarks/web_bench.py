"""Web latency on a national estate: 210,000 devices, 20 concurrent clients (issue 7).

    .venv/bin/python benchmarks/web_bench.py [--devices 210000] [--sites 8000] [--clients 20]
        [--requests 300] [--db PATH] [--workers 1]

Builds the estate the way a user would (sample registers -> import -> identify -> assess ->
plan -> work orders, a few hundred removals recorded through the lifecycle), or reuses the
store at --db when it already holds that many devices. Then starts `camsweep serve` on a
free loopback port and sends --requests requests of each kind, spread over --clients
concurrent httpx clients, twice: with the dashboard cache off (every request computes its
aggregates) and on (the default: kept per department until the store's data changes).
Prints p50/p99 latency
of the dashboard page (central admin: the whole estate, the worst case), of a department
admin's dashboard, and of device searches through the API (free text, filters, pages), and
each server process's peak memory. Target: dashboard under 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

TARGET_MS = 300.0
PASSWORD = "benchmark password 1"
SEARCHES = ["hik", "dahua", "axis", "DS-2CD", "lorex", "bosch", "NVR", "ip camera", "10.1",
            "HO-00001", "uniview", "hanwha"]


def say(text: str) -> None:
    print(text, flush=True)


def timed(label: str, fn: Callable[[], Any]) -> Any:
    t = time.perf_counter()
    out = fn()
    say(f"  {label}: {time.perf_counter() - t:.1f} s")
    return out


def build(db_url: str, folder: Path, devices: int, sites: int, seed: int) -> None:
    from sqlalchemy import func, select

    from camsweep.assess import assess_store, open_removal_findings
    from camsweep.demo import DEMO_AS_OF, DEMO_PARAMS, DEMO_POLICIES
    from camsweep.inventory.importer import import_file
    from camsweep.kb import load_kb
    from camsweep.plan import load_resources, make_plan, parse_findings
    from camsweep.sample import write_sample
    from camsweep.store import open_store
    from camsweep.store.identification import identify_store
    from camsweep.store.models import Device
    from camsweep.store.plans import save_plan
    from camsweep.track.attachments import Attachment, EvidenceStore
    from camsweep.track.workorders import generate_work_orders, list_work_orders, transition

    store = open_store(db_url)
    try:
        with store.session() as s:
            have = int(s.scalar(select(func.count(Device.id))) or 0)
        if have >= devices:
            say(f"reusing the store: {have:,} devices")
            return
        say(f"building an estate of {devices:,} devices at {sites:,} sites")
        timed("sample registers", lambda: write_sample(folder, sites=sites, devices=devices,
                                                       seed=seed))
        timed("import sites", lambda: import_file(store, folder / "sites.csv", "sites"))
        timed("import assets", lambda: import_file(store, folder / "assets.csv", "assets"))
        kb = load_kb()
        timed("identify", lambda: identify_store(store, kb))
        timed("assess", lambda: assess_store(store, list(DEMO_POLICIES), DEMO_AS_OF,
                                             params=DEMO_PARAMS, kb=kb))
        items = parse_findings(open_removal_findings(store), "bench")
        resources = load_resources(folder / "resources.yaml")
        plan = timed(f"plan {len(items):,} removals",
                     lambda: make_plan(items, resources, time_limit=60))
        save_plan(store, plan.to_json(), resources=resources.model_dump(mode="json"),
                  actor="bench")
        timed("work orders", lambda: generate_work_orders(store, "bench"))
        orders, _ = list_work_orders(store, state="scheduled", per_page=200)
        evidence = EvidenceStore.configured(folder / "evidence")
        photo = _png()

        def removals() -> None:
            now = datetime.now(UTC)
            for i, wo in enumerate(orders):
                transition(store, "bench", wo.id, "removed", note="bench",
                           attachment=Attachment("p.png", "image/png", photo),
                           at=now - timedelta(days=i % 60), evidence=evidence)

        timed(f"record {len(orders)} removals", removals)
    finally:
        store.dispose()


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def accounts(db_url: str) -> tuple[str, str]:
    """A central admin and an admin of the biggest department; (central token, dept name)."""
    from sqlalchemy import func, select

    from camsweep.store import open_store
    from camsweep.store.models import Department, Device, Site
    from camsweep.web.accounts import add_user, create_token, find_user

    store = open_store(db_url)
    try:
        with store.session() as s:
            dept = s.execute(select(Department.name, func.count(Device.id))
                             .join(Site, Site.department_id == Department.id)
                             .join(Device, Device.site_pk == Site.id)
                             .group_by(Department.name).order_by(func.count(Device.id).desc())
                             ).first()
        assert dept is not None
        for name, role, department in (("bench-central", "central_admin", None),
                                       ("bench-dept", "department_admin", dept[0])):
            if find_user(store, name) is None:
                add_user(store, "bench", name, role, PASSWORD, department=department)
        token, _ = create_token(store, "bench", "bench-central", "web bench")
        return token, f"{dept[0]} ({dept[1]:,} devices)"
    finally:
        store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_url: str, folder: Path, cache: float, workers: int
                 ) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "CAMSWEEP_DASHBOARD_CACHE_SECONDS": str(cache),
           "CAMSWEEP_EVIDENCE_DIR": str(folder / "evidence"),
           "CAMSWEEP_UPLOAD_DIR": str(folder / "uploads")}
    exe = Path(sys.executable).parent / "camsweep"
    proc = subprocess.Popen([str(exe), "--db", db_url, "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("camsweep serve did not start")


async def signed_in(client: httpx.AsyncClient, user: str) -> None:
    form = await client.get("/login")
    token = client.cookies.get("camsweep_login")
    assert form.status_code == 200 and token
    done = await client.post("/login", data={"username": user, "password": PASSWORD,
                                             "csrf_token": token})
    assert done.status_code in (200, 303), done.status_code


async def load(base: str, clients: int, per_client: int, make: Callable[[int], str],
               headers: dict[str, str], user: str | None) -> list[float]:
    times: list[float] = []

    async def one(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
            if user:
                await signed_in(client, user)
            for i in range(per_client):
                t = time.perf_counter()
                response = await client.get(make(n * per_client + i))
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, (response.status_code, response.text[:200])

    await asyncio.gather(*(one(n) for n in range(clients)))
    return times


def search_url(i: int) -> str:
    rng = random.Random(i)
    kind = i % 4
    if kind == 0:
        return f"/api/devices?q={rng.choice(SEARCHES)}&page={rng.randint(1, 5)}"
    if kind == 1:
        return f"/api/devices?maker={rng.choice(['hikvision', 'dahua', 'axis'])}" \
               f"&status=non_compliant&page={rng.randint(1, 20)}"
    if kind == 2:
        return f"/api/devices?q={rng.choice(SEARCHES)}&per_page=100"
    return f"/api/devices?page={rng.randint(1, 2000)}&per_page=50"


def peak_mb(pid: int) -> str:
    """VmHWM of the server and its workers (Linux), as '210 MB' or '190/230 MB'."""
    import psutil

    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    peaks = []
    for p in procs:
        try:
            status = Path(f"/proc/{p.pid}/status").read_text(encoding="ascii")
        except OSError:
            continue
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        if found:
            peaks.append(f"{int(found.group(1)) / 1024:.0f}")
    return "/".join(peaks) + " MB"


def report(label: str, times: list[float]) -> float:
    cuts = statistics.quantiles(times, n=100)
    p50, p99 = cuts[49], cuts[98]
    say(f"  {label:<34} n={len(times):>5}  p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  "
        f"max {max(times):8.1f} ms")
    return p50


def cold(base: str, user: str) -> float:
    """One client alone: the dashboard as it computes from nothing (cache off)."""
    with httpx.Client(base_url=base, timeout=120) as client:
        client.get("/login")
        client.post("/login", data={"username": user, "password": PASSWORD,
                                    "csrf_token": client.cookies.get("camsweep_login")})
        times = []
        for _ in range(10):
            t = time.perf_counter()
            assert client.get("/").status_code == 200
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=210_000)
    parser.add_argument("--sites", type=int, default=8_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300, help="per client and kind")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", type=Path, default=None,
                        help="SQLite file to build or reuse (default: a temporary one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="camsweep-web-bench-") as tmp:
        folder = Path(tmp)
        db_path = args.db or folder / "camsweep.db"
        db_url = f"sqlite:///{db_path.resolve()}"
        build(db_url, folder, args.devices, args.sites, args.seed)
        token, dept = accounts(db_url)
        per = max(args.requests // args.clients, 1)
        say(f"\n{args.clients} concurrent clients x {per} requests per kind; "
            f"uvicorn workers: {args.workers}; department admin of {dept}; "
            f"load average {os.getloadavg()[0]:.2f}")
        for cache in (0.0, 300.0):
            proc, base = start_server(db_url, folder, cache, args.workers)
            try:
                say("\ndashboard cache " + ("off (every request computes):" if not cache else
                                             "on (per data version, the default):"))
                if not cache:
                    alone = cold(base, "bench-central")
                    say(f"  single client, central dashboard   median {alone:8.1f} ms")
                for label, user in (("dashboard (central admin)", "bench-central"),
                                    ("dashboard (department admin)", "bench-dept")):
                    times = asyncio.run(load(base, args.clients, per, lambda _i: "/", {}, user))
                    report(label, times)
                times = asyncio.run(load(base, args.clients, per, search_url,
                                         {"Authorization": f"Bearer {token}"}, None))
                report("device search (API)", times)
                say(f"  peak resident memory per server process: {peak_mb(proc.pid)}")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        say(f"\ntarget: dashboard under {TARGET_MS:.0f} ms")


if __name__ == "__main__":
    main()

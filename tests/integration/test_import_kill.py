"""An import killed with SIGKILL half-way leaves the store exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from camsweep.inventory.importer import import_file
from camsweep.store import open_store

ROWS = 400_000
SCRIPT = (
    "import sys; from camsweep.store import open_store; "
    "from camsweep.inventory.importer import import_file; "
    "import_file(open_store(sys.argv[1]), sys.argv[2], 'assets')"
)


def _big_register(path: Path) -> None:
    with path.open("w") as fh:
        fh.write("asset_id,site_id,device_type,brand,model,mac,install_date\n")
        for i in range(ROWS):
            fh.write(f"K-{i},S-{i % 2},camera,Hikvision,DS-2CD2143G2-I,"
                     f"4419b6{i:06x},01/02/2020\n")


def _counts(url: str) -> tuple[int, int, int]:
    store = open_store(url)
    try:
        with store.engine.connect() as c:
            return tuple(int(c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                         for t in ("devices", "sources", "field_history"))  # type: ignore[return-value]
    finally:
        store.dispose()


def _mid_write(url: str, db_file: Path | None) -> bool:
    """True once the importer is inside its write transaction."""
    if db_file is not None:
        wal = Path(f"{db_file}-wal")
        return wal.exists() and wal.stat().st_size > 4 * 1024 * 1024
    store = open_store(url, migrate=False)
    try:
        with store.engine.connect() as c:
            n = c.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class r ON l.relation = r.oid "
                "WHERE r.relname = 'devices' AND l.mode = 'RowExclusiveLock' "
                "AND l.pid <> pg_backend_pid()")).scalar_one()
        return bool(n)
    finally:
        store.dispose()


@pytest.mark.slow
def test_kill_9_mid_import_leaves_store_unchanged(store_url: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,name,department,region,sensitivity\n"
                     "S-0,Alpha,Dept A,london,sensitive\nS-1,Beta,Dept B,wales,standard\n")
    small = tmp_path / "small.csv"
    small.write_text("asset_id,site_id,brand\nP-1,S-0,Axis\n")
    store = open_store(store_url)
    import_file(store, sites, "sites")
    import_file(store, small, "assets")
    store.dispose()
    before = _counts(store_url)
    reg = tmp_path / "big.csv"
    _big_register(reg)
    db_file = tmp_path / "camsweep.db" if store_url.startswith("sqlite") else None
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, store_url, str(reg)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not _mid_write(store_url, db_file):
            assert proc.poll() is None, f"import ended before it could be killed: {proc.stderr}"
            assert time.monotonic() < deadline, "import never started writing"
            time.sleep(0.05)
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        assert proc.stderr is not None
        proc.stderr.close()
    assert _counts(store_url) == before
    # and the store still works: the same import now succeeds
    store = open_store(store_url)
    try:
        res = import_file(store, reg, "assets")
        assert res.created == ROWS
    finally:
        store.dispose()
    assert _counts(store_url)[0] == before[0] + ROWS

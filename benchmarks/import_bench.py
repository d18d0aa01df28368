"""Import a 1,000,000-device sample register into SQLite; print rows/s and peak memory.

Target (issue 2): >= 50,000 rows/s with peak memory under 2 GiB. The import runs in a child
process so its peak resident memory is measured alone, not with the generator's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(out: Path, db: str) -> None:
    from camsweep.inventory.importer import import_file
    from camsweep.store import open_store

    store = open_store(db)
    import_file(store, out / "sites.csv", "sites")
    t0 = time.perf_counter()
    first = import_file(store, out / "assets.csv", "assets")
    t1 = time.perf_counter()
    again = import_file(store, out / "assets.csv", "assets")
    t2 = time.perf_counter()
    store.dispose()
    print(json.dumps({
        "rows": first.created, "seconds": t1 - t0, "reimport_seconds": t2 - t1,
        "reimport_unchanged": again.unchanged,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", nargs=2, metavar=("DIR", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    from camsweep.sample import write_sample

    with tempfile.TemporaryDirectory(prefix="camsweep-bench-") as tmp:
        out = Path(tmp)
        t = time.perf_counter()
        write_sample(out, sites=args.sites, devices=args.devices, seed=args.seed)
        gen = time.perf_counter() - t
        size = (out / "assets.csv").stat().st_size / 2**20
        db = f"sqlite:///{out / 'bench.db'}"
        res = subprocess.run([sys.executable, __file__, "--child", str(out), db],
                             check=True, capture_output=True, text=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
    rate = r["rows"] / r["seconds"]
    print(f"register: {args.devices:,} devices at {args.sites:,} sites, {size:.0f} MiB CSV "
          f"(generated in {gen:.1f}s)")
    print(f"import:   {r['rows']:,} rows in {r['seconds']:.1f}s = {rate:,.0f} rows/s "
          f"(target >= 50,000)")
    print(f"re-import of the same file: {r['reimport_seconds']:.1f}s, "
          f"{r['reimport_unchanged']:,} unchanged")
    print(f"peak memory of the import process: {r['peak_rss_mib']:,.0f} MiB (target < 2048)")


if __name__ == "__main__":
    main()

"""Bulk identification benchmark: a 1,000,000-row register, CSV in, results out.

Prints rows/s and peak memory. The register comes from `camsweep sample` (run in a child
process, so the peak memory reported here is the identification pipeline's alone), or
from `--register FILE`. Target: >= 300,000 rows/s on a 2-core machine.

    .venv/bin/python benchmarks/identify_bench.py [--rows 1000000] [--out csv|parquet]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TARGET_ROWS_PER_S = 300_000


def make_register(directory: Path, rows: int, seed: int) -> Path:
    sites = max(1, min(rows // 500, 5000))
    code = (
        "import sys; from pathlib import Path; from camsweep.sample import write_sample; "
        "write_sample(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(directory), str(sites), str(rows), str(seed)], check=True
    )
    return directory / "assets.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--register", type=Path, help="Use this CSV register instead of a sample.")
    parser.add_argument("--out", choices=("csv", "parquet"), default="csv")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="camsweep-bench-") as tmp:
        folder = Path(tmp)
        if args.register:
            register = args.register
        else:
            started = time.perf_counter()
            register = make_register(folder, args.rows, args.seed)
            print(f"generated {register} in {time.perf_counter() - started:.1f}s")
        output = folder / f"results.{args.out}"

        import polars as pl

        from camsweep.identify.bulk import identify_frame
        from camsweep.kb import load_kb

        started = time.perf_counter()
        # The KB loads in a thread while Polars (which releases the GIL) reads the CSV.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(load_kb)
            frame = pl.read_csv(register, infer_schema=False)
            kb = pending.result()
        read = time.perf_counter()
        result = identify_frame(frame, kb)
        identified = time.perf_counter()
        if args.out == "parquet":
            result.write_parquet(output)
        else:
            result.write_csv(output)
        done = time.perf_counter()

    rows = result.height
    total = done - started
    rate = rows / total
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mib = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime
    restricted = int(result.get_column("restricted").sum())
    print(f"rows             {rows:,}")
    print(f"kb load + read   {read - started:.2f}s  (kb {kb.version})")
    print(f"identify (bulk)  {identified - read:.2f}s")
    print(f"write {args.out:<10} {done - identified:.2f}s")
    print(f"total            {total:.2f}s")
    print(f"rows/s           {rate:,.0f}  (target {TARGET_ROWS_PER_S:,})")
    print(f"cpu time         {cpu:.2f}s (user+sys, whole process incl. imports)")
    print(f"peak memory      {peak_mib:,.0f} MiB")
    print(f"restricted       {restricted:,} ({restricted / max(rows, 1):.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

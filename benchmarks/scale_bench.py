"""Bulk identification on Dask against the single-process bulk path, on one register.

Prints rows/s of both, their CPU seconds, the peak memory of each Dask worker and of the
single process, and the machine's load average while each ran (on a shared machine the
CPU the other processes take decides more than anything here), and checks that both
outputs are byte-identical. The register comes from `camsweep sample` (in a child
process) or `--register FILE`; the single-process run happens in a child process too, so
each peak is its own. Targets: each worker below 2 GiB whatever the register size, and no
slower than the single process on this 2-core machine.

    .venv/bin/python benchmarks/scale_bench.py [--rows 10000000] [--register FILE]
        [--block-mb N] [--workers 2] [--threads] [--skip-local]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER_LIMIT_MIB = 2048

SINGLE = """
import json, resource, sys, time
from concurrent.futures import ThreadPoolExecutor
import polars as pl
from camsweep.identify.bulk import identify_frame
from camsweep.kb import load_kb
started = time.perf_counter()
with ThreadPoolExecutor(max_workers=1) as pool:
    pending = pool.submit(load_kb)
    frame = pl.read_csv(sys.argv[1], infer_schema=False)
    kb = pending.result()
result = identify_frame(frame, kb)
result.write_csv(sys.argv[2])
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"rows": result.height, "seconds": time.perf_counter() - started,
                  "peak_mib": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime}))
"""


def make_register(directory: Path, rows: int, seed: int) -> Path:
    sites = max(1, min(rows // 500, 5000))
    code = ("import sys; from pathlib import Path; from camsweep.sample import write_sample; "
            "write_sample(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), "
            "int(sys.argv[4]))")
    subprocess.run([sys.executable, "-c", code, str(directory), str(sites), str(rows),
                    str(seed)], check=True)
    return directory / "assets.csv"


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 24):
            h.update(block)
    return h.hexdigest()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_dask(register: Path, out: Path, workers: int, block: int | None, processes: bool,
             ) -> dict[str, object]:
    from camsweep.identify.bulk import identify_frame  # noqa: F401 (warm import, as a CLI run)
    from camsweep.kb import load_kb
    from camsweep.scale.bulk import identify_register
    from camsweep.scale.cluster import open_client

    started = time.perf_counter()
    kb = load_kb()
    with open_client(None, workers=workers, processes=processes) as client:
        ready = time.perf_counter()
        run = identify_register(client, kb, register, renames={}, out=out, block=block,
                                shared=True)
        peaks = client.run(peak_mib)
        cpu = sum(client.run(cpu_seconds).values()) if processes else 0.0
    done = time.perf_counter()
    return {"rows": run.rows, "partitions": run.partitions, "workers": run.workers,
            "seconds": done - started, "cluster_start": ready - started,
            "identify": run.seconds, "worker_peaks": sorted(peaks.values()),
            "client_peak": peak_mib(), "cpu": cpu + cpu_seconds()}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--register", type=Path, help="Use this CSV register.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--block-mb", type=int, default=0,
                        help="Partition size (default: chosen from the register's size).")
    parser.add_argument("--threads", action="store_true",
                        help="One in-process worker with --workers threads.")
    parser.add_argument("--skip-local", action="store_true",
                        help="Only the Dask run (no comparison).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="camsweep-scale-") as tmp:
        folder = Path(tmp)
        register = args.register
        if register is None:
            started = time.perf_counter()
            register = make_register(folder, args.rows, args.seed)
            print(f"generated {register} ({register.stat().st_size / 2**20:,.0f} MiB) in "
                  f"{time.perf_counter() - started:.1f}s", flush=True)
        dask_out, local_out = folder / "dask.csv", folder / "local.csv"
        load_before = os.getloadavg()[0]
        figures = run_dask(register, dask_out, args.workers, args.block_mb << 20 or None,
                           not args.threads)
        dask_load = (load_before + os.getloadavg()[0]) / 2
        rows = int(figures["rows"])  # type: ignore[call-overload]
        dask_rate = rows / float(figures["seconds"])  # type: ignore[arg-type]
        peaks: list[float] = figures["worker_peaks"]  # type: ignore[assignment]
        print(f"rows                 {rows:,}")
        print(f"dask: {figures['workers']} worker(s), {figures['partitions']} partitions")
        print(f"dask total           {figures['seconds']:.1f}s  (cluster start "
              f"{figures['cluster_start']:.1f}s)  -> {dask_rate:,.0f} rows/s")
        print("dask worker peaks    " + ", ".join(f"{p:,.0f} MiB" for p in peaks)
              + f"  (limit {WORKER_LIMIT_MIB:,} MiB: "
              + ("ok" if max(peaks) < WORKER_LIMIT_MIB else "EXCEEDED") + ")")
        print(f"dask client peak     {figures['client_peak']:,.0f} MiB; cpu (all processes) "
              f"{figures['cpu']:.1f}s; machine load ~{dask_load:.1f}", flush=True)
        if args.skip_local:
            return 0
        load_before = os.getloadavg()[0]
        done = subprocess.run([sys.executable, "-c", SINGLE, str(register), str(local_out)],
                              check=True, capture_output=True, text=True)
        local_load = (load_before + os.getloadavg()[0]) / 2
        local = json.loads(done.stdout.strip().splitlines()[-1])
        local_rate = local["rows"] / local["seconds"]
        print(f"single-process total {local['seconds']:.1f}s  -> {local_rate:,.0f} rows/s  "
              f"(peak {local['peak_mib']:,.0f} MiB, cpu {local['cpu']:.1f}s; machine load "
              f"~{local_load:.1f})")
        print(f"dask / single        {dask_rate / local_rate:.2f}x")
        same = digest(dask_out) == digest(local_out)
        print(f"outputs identical    {'yes' if same else 'NO'}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

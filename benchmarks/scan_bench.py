"""Scan benchmark: camsweep's scanner vs `nmap -sV` over the same emulated hosts and ports.

    .venv/bin/python benchmarks/scan_bench.py [--hosts 1000] [--base 127.30.0.1] [--skip-nmap]

Starts the testbed (`camsweep testbed up`) in its own process on loopback addresses, scans it
with camsweep into a fresh SQLite store, then runs Debian's nmap with `-sV` over the same hosts
and TCP ports and identifies its XML report with the same engine (`camsweep import nmap`'s
reader). Prints hosts/s, time to full identification (every host's verdict in the store) and
identification accuracy (true maker found) for both, and the speed ratio. Only loopback
addresses are ever probed; the testbed and everything else are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from camsweep.discover import Limits, ScanOptions, authorise, parse_scope, parse_targets, scan
from camsweep.discover.evidence import evidence_for
from camsweep.discover.importers.nmap import read_nmap
from camsweep.discover.probes.tcp import DEFAULT_PORTS
from camsweep.identify import identify
from camsweep.kb import load_kb
from camsweep.store import open_store
from camsweep.store.queries import list_devices
from camsweep.testbed import TESTBED_CREDENTIALS


def start_testbed(hosts: int, base: str) -> tuple[subprocess.Popen[str], list[dict[str, object]]]:
    proc = subprocess.Popen([sys.executable, "-m", "camsweep", "testbed", "up", "--hosts",
                             str(hosts), "--base", base, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    while True:
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise RuntimeError("the testbed exited before listing its hosts")
        lines.append(line)
        if line.rstrip() == "]":
            break
    return proc, json.loads("".join(lines))


def accuracy(found: dict[str, str | None], truth: dict[str, str | None]) -> float:
    return sum(1 for ip, maker in truth.items() if found.get(ip) == maker) / len(truth)


def run_camsweep(hosts: list[str], first: str, last: str, workdir: Path,
                 ) -> tuple[float, dict[str, str | None], dict[str, object]]:
    scope = parse_scope(f"{first}-{last}\n", "bench-scope")
    plan = authorise(parse_targets([f"{first}-{last}"]), scope)
    store = open_store(f"sqlite:///{workdir / 'bench.db'}")
    options = ScanOptions(credentials=TESTBED_CREDENTIALS,
                          limits=Limits(timeout=2.0, retries=1, rate=5000, host_rate=100,
                                        concurrency=512))
    try:
        started = time.monotonic()
        result = scan(store, plan, scope, options)
        seconds = time.monotonic() - started
        makers = {d["ip"]: d["manufacturer_id"] for d in list_devices(store)}
    finally:
        store.dispose()
    return seconds, makers, result.as_dict()


def run_nmap(hosts: list[str], workdir: Path,
             timeout: float) -> tuple[float, float, dict[str, str | None]]:
    nmap = shutil.which("nmap")
    if nmap is None:
        raise SystemExit("nmap is not installed: run scripts/system-deps.sh (Debian's nmap)")
    targets = workdir / "targets.txt"
    targets.write_text("\n".join(hosts) + "\n")
    report = workdir / "nmap.xml"
    ports = ",".join(str(p) for p in DEFAULT_PORTS)
    started = time.monotonic()
    # nmap's defaults service-scan ~100 hosts per group with ~40 probes in flight, and a silent
    # vendor port (Dahua 37777) costs it ~20 minutes of probe timeouts: 1,000 hosts would take
    # hours. One host group and enough parallelism for every port at once is nmap at its
    # fastest on this workload, so the ratio printed is conservative.
    group = str(len(hosts))
    subprocess.run([nmap, "-sV", "-Pn", "-n", "-T4", "--min-hostgroup", group,
                    "--min-parallelism", str(min(len(hosts), 1000)), "-p", ports,
                    "-iL", str(targets), "-oX", str(report)],
                   check=True, capture_output=True, timeout=timeout)
    scanned = time.monotonic() - started
    kb = load_kb()
    makers: dict[str, str | None] = {}
    for rep in read_nmap(report):
        if rep.ip:
            makers[rep.ip] = identify(evidence_for(rep.answers, ip=rep.ip, mac=rep.mac),
                                      kb).manufacturer_id
    return scanned, time.monotonic() - started, makers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--base", default="127.30.0.1")
    parser.add_argument("--skip-nmap", action="store_true")
    parser.add_argument("--nmap-timeout", type=float, default=5400.0,
                        help="seconds nmap may take before the benchmark gives up")
    args = parser.parse_args()
    if not args.base.startswith("127."):
        raise SystemExit("the benchmark only runs on loopback addresses")
    proc, listing = start_testbed(args.hosts, args.base)
    try:
        truth = {str(h["ip"]): (str(h["maker"]) if h["maker"] else None) for h in listing}
        hosts = list(truth)
        with tempfile.TemporaryDirectory(prefix="camsweep-bench-") as tmp:
            workdir = Path(tmp)
            ours, found, result = run_camsweep(hosts, hosts[0], hosts[-1], workdir)
            ours_acc = accuracy(found, truth)
            print(f"hosts: {len(hosts)} emulated ({len({h['profile'] for h in listing})} "
                  f"profiles), TCP ports {','.join(map(str, DEFAULT_PORTS))}")
            print(f"camsweep scan: {ours:.1f} s to full identification, "
                  f"{len(hosts) / ours:.1f} hosts/s, true maker for {ours_acc:.1%} "
                  f"({result['observations']} observations, {result['verdicts']} verdicts)")
            if args.skip_nmap:
                return
            scanned, total, nmap_found = run_nmap(hosts, workdir, args.nmap_timeout)
            nmap_acc = accuracy(nmap_found, truth)
            print(f"nmap -sV:      {scanned:.1f} s scan + {total - scanned:.1f} s identification "
                  f"= {total:.1f} s, {len(hosts) / total:.1f} hosts/s, true maker for "
                  f"{nmap_acc:.1%}")
            print(f"ratio: camsweep is {total / ours:.1f}x faster than nmap -sV "
                  f"(target >= 5x) at {'equal or better' if ours_acc >= nmap_acc else 'WORSE'}"
                  f" identification ({ours_acc:.1%} vs {nmap_acc:.1%})")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


if __name__ == "__main__":
    os.environ.setdefault("CI", "1")  # no progress bars in benchmark output
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    main()

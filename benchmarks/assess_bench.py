"""Assessment throughput: a synthetic estate of N devices under every bundled policy.

    .venv/bin/python benchmarks/assess_bench.py [--devices 1000000] [--seed 7]

Builds the device frame in memory (makers, types, sites' sensitivity, organisation types,
install and record dates spread over years, firmware strings in the makers' own grammars
drawn from pools of 400 per maker, network flags), then times
`camsweep.policy.evaluate_frame`: statuses and findings with resolved deadlines and
priorities for every device. Prints devices/s, findings/s, the number of distinct policy
keys evaluated, the load average (the machine is shared) and peak memory.
Target: >= 200,000 devices/s for 1,000,000 devices.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import date

import numpy as np
import polars as pl

from camsweep.kb import load_kb
from camsweep.policy import (
    bundled_policies,
    evaluate_frame,
    load_vulnerabilities,
    merge_params,
    prepare,
)
from camsweep.policy.batch import FRAME_SCHEMA

MAKERS = {  # share of devices; None = identification abstained
    "hikvision": 0.24, "dahua": 0.06, "uniview": 0.02, "tiandy": 0.02, "huawei": 0.01,
    "swann": 0.01, "lorex": 0.01, "tvt": 0.005, "axis": 0.2, "hanwha": 0.12, "bosch": 0.09,
    "i-pro": 0.06, "avigilon": 0.04, "vivotek": 0.03, "mobotix": 0.02, None: 0.055,
}
TYPES = {"camera": 0.78, "nvr": 0.07, "dvr": 0.03, "encoder": 0.02, "intercom": 0.04,
         "access_control": 0.04, "other": 0.01, None: 0.01}
SENSITIVITY = {"standard": 0.69, "sensitive": 0.25, "cni": 0.05, None: 0.01}
ORG = {"central_government": 0.5, "federal_agency": 0.1, "federal_contractor": 0.1,
       "grant_recipient": 0.05, "commonwealth_entity": 0.1, "local_authority": 0.1, None: 0.05}
HIK_MODELS = ["DS-2CD2143G0-I", "DS-2CD2032F-I", "DS-2CD2142FWD-IS", "DS-2DF8225IX-AEL",
              "DS-7608NI-K2"]
DAHUA_MODELS = ["IPC-HFW3441T-ZAS", "IPC-HFW2431S-S-S2", "NVR5216-16P-4KS2E", "VTO6521H"]
# Distinct firmware strings per maker, drawn Zipf-like (a few versions dominate, as in real
# registers; the sample estate generator uses 8 per brand and device category).
FIRMWARE_POOL = 400


def _choice(rng: np.random.Generator, table: dict[str | None, float], n: int) -> list[str | None]:
    keys = list(table)
    p = np.array(list(table.values()), dtype=float)
    picks = rng.choice(len(keys), size=n, p=p / p.sum())
    return [keys[i] for i in picks]


def _dates(rng: np.random.Generator, start: date, end: date, n: int, blank: float) -> pl.Series:
    days = rng.integers(start.toordinal(), end.toordinal(), size=n)
    epoch = date(1970, 1, 1).toordinal()
    s = pl.Series(days - epoch, dtype=pl.Int32).cast(pl.Date)
    mask = pl.Series(rng.random(n) < blank)
    return pl.select(pl.when(mask).then(None).otherwise(s)).to_series()


def estate(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    makers = pl.Series("manufacturer_id", _choice(rng, MAKERS, n), dtype=pl.String)
    conf = np.where(rng.random(n) < 0.08, rng.uniform(0.3, 0.7, n), rng.uniform(0.7, 1.0, n))
    hik_pool = [f"V5.{4 + i % 4}.{i % 21} build {b:06d}" for i, b in enumerate(
        rng.integers(160101, 231231, size=FIRMWARE_POOL))]
    dahua_pool = [f"V2.800.0000016.{i % 40}.R, Build Date: 20{b // 10000:02d}-"
                  f"{b // 100 % 100 % 12 + 1:02d}-{b % 28 + 1:02d}" if i % 2 else
                  f"2.800.0000016.{i % 40}.R"
                  for i, b in enumerate(rng.integers(160101, 231231, size=FIRMWARE_POOL))]
    ranks = np.arange(1, FIRMWARE_POOL + 1)
    zipf = (1.0 / ranks) / (1.0 / ranks).sum()
    pick = rng.choice(FIRMWARE_POOL, size=n, p=zipf)
    hik_model = rng.integers(0, len(HIK_MODELS), size=n)
    dahua_model = rng.integers(0, len(DAHUA_MODELS), size=n)
    has_fw = rng.random(n) < 0.5
    maker_list = makers.to_list()
    firmware = [hik_pool[pick[i]] if has_fw[i] and mk == "hikvision" else
                dahua_pool[pick[i]] if has_fw[i] and mk == "dahua" else
                ("1.4.2" if has_fw[i] and mk else None)
                for i, mk in enumerate(maker_list)]
    model = [HIK_MODELS[hik_model[i]] if mk == "hikvision" else
             DAHUA_MODELS[dahua_model[i]] if mk == "dahua" else None
             for i, mk in enumerate(maker_list)]
    frame = pl.DataFrame({
        "row": pl.Series(np.arange(n), dtype=pl.Int64),
        "asset_id": pl.Series([f"A-{i:07d}" for i in range(n)], dtype=pl.String),
        "site_id": pl.Series([f"S-{i:05d}" for i in rng.integers(0, 20_000, size=n)]),
        "department": pl.Series([f"D-{i:02d}" for i in rng.integers(0, 40, size=n)]),
        "region": pl.Series([f"R-{i}" for i in rng.integers(0, 12, size=n)]),
        "sensitivity": pl.Series(_choice(rng, SENSITIVITY, n), dtype=pl.String),
        "organisation_type": pl.Series(_choice(rng, ORG, n), dtype=pl.String),
        "device_type": pl.Series(_choice(rng, TYPES, n), dtype=pl.String),
        "manufacturer_id": makers,
        "oem_of": pl.Series([None] * n, dtype=pl.String),
        "restricted": pl.Series([None] * n, dtype=pl.Boolean),
        "confidence": pl.Series(np.round(conf, 3)),
        "brand": pl.Series([None] * n, dtype=pl.String),
        "model": pl.Series(model, dtype=pl.String),
        "firmware": pl.Series(firmware, dtype=pl.String),
        "install_date": _dates(rng, date(2012, 1, 1), date(2025, 1, 1), n, 0.1),
        "recorded_date": _dates(rng, date(2023, 1, 1), date(2025, 1, 1), n, 0.0),
        "calls_home": _tri(rng, n, [0.8, 0.05, 0.15]),
        "on_core_network": _tri(rng, n, [0.7, 0.1, 0.2]),
        "internet_exposed": _tri(rng, n, [0.9, 0.02, 0.08]),
        "bom": pl.Series([None] * n, dtype=pl.String),
    })
    return frame.select([pl.col(c).cast(t) for c, t in FRAME_SCHEMA.items()])


def _tri(rng: np.random.Generator, n: int, p: list[float]) -> pl.Series:
    """Unknown / true / false with the given shares."""
    pick = rng.choice(3, size=n, p=p)
    values = pl.Series(pick == 1)
    return pl.select(pl.when(pl.Series(pick == 0)).then(None).otherwise(values)).to_series()


def peak_mib() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 1024 if sys.platform != "darwin" else usage / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2025-01-06")
    args = parser.parse_args()

    t0 = time.perf_counter()
    frame = estate(args.devices, args.seed)
    t1 = time.perf_counter()
    policies = list(bundled_policies().values())
    kb, vulns = load_kb(), load_vulnerabilities()
    t2 = time.perf_counter()
    ctx = prepare(policies, kb, vulns, date.fromisoformat(args.as_of),
                  merge_params(policies, {"programme_deadline": "2027-12-31"}))
    t3 = time.perf_counter()
    stages: dict[str, float] = {}
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    result = evaluate_frame(frame, ctx, stages)
    t4 = time.perf_counter()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)

    n = frame.height
    findings = result.findings.height
    secs = t4 - t3
    counts = dict(result.statuses.group_by("status").len().iter_rows())
    print(f"estate: {n:,} devices generated in {t1 - t0:.1f} s; KB and vulnerability list "
          f"loaded in {t2 - t1:.2f} s")
    print(f"policies: {', '.join(p.id for p in policies)} (compiled in {t3 - t2:.3f} s)")
    print(f"assessed {n:,} devices in {secs:.2f} s: {n / secs:,.0f} devices/s, "
          f"{findings:,} findings ({findings / secs:,.0f} findings/s), "
          f"{result.profiles:,} distinct policy keys evaluated")
    print("stages: " + ", ".join(f"{name} {secs:.2f} s" for name, secs in stages.items()))
    print(f"CPU time {cpu:.2f} s (all threads); wall {secs:.2f} s")
    print("statuses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    print(f"peak memory (max RSS): {peak_mib():,.0f} MiB; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")


if __name__ == "__main__":
    main()

"""A day of synthetic DNS traffic for a sample estate, as a Zeek `dns.log` (`sample --dns`).

What a site resolver sees in a day: the estate's devices that have their vendor cloud or P2P
service switched on (a quarter of them) resolving it every few minutes, their time servers
every hour, staff PCs resolving everyday names and now and then a vendor's app API, and at
a few sites a camera nobody registered calling Dahua's P2P service. Every register entry
of a Hikvision or Dahua unit that says nothing telling of its maker calls its vendor's
service: the white label that only its traffic unmasks.

Deterministic for a seed, like the rest of the sample; answers use documentation address
ranges (RFC 5737), so nothing here points at a real host.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

DNS_DAY = date(2026, 11, 30)
CLOUD_SHARE = 0.25
ZEEK_DNS_FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
                   "trans_id", "rtt", "query", "qclass", "qclass_name", "qtype", "qtype_name",
                   "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z", "answers", "TTLs",
                   "rejected")
ZEEK_DNS_TYPES = ("time", "string", "addr", "port", "addr", "port", "enum", "count", "interval",
                  "string", "count", "string", "count", "string", "count", "string", "bool",
                  "bool", "bool", "bool", "count", "vector[string]", "vector[interval]", "bool")
RESOLVER = "10.255.0.53"

# What each maker's devices resolve (name, seconds between lookups, answers).
CLOUD: dict[str, tuple[tuple[str, int, str], ...]] = {
    "hikvision": (("litedev.hik-connect.com", 300, "203.0.113.10,203.0.113.11"),
                  ("time.ys7.com", 3600, "203.0.113.20")),
    "dahua": (("www.easy4ipcloud.com", 600, "198.51.100.30"),),
    "uniview": (("en.ezcloud.uniview.com", 900, "198.51.100.40"),),
    "xiongmai": (("pub-cfg.secu100.net", 600, "198.51.100.50"),),
    "tvt": (("c2.autonat.com", 900, "198.51.100.60"),),
    "reolink": (("p2p3.reolink.com", 600, "198.51.100.70"),),
    "hanwha": (("config.prod.wra1.wisenetcloud.com", 1800, "192.0.2.80"),),
    "verkada": (("api.control.verkada.com", 600, "192.0.2.90"),),
}
OFFICE_NAMES = ("outlook.office365.com", "login.microsoftonline.com", "www.gov.uk",
                "teams.microsoft.com", "www.bbc.co.uk", "update.googleapis.com",
                "time.windows.com", "ocsp.digicert.com")
APP_NAMES = ("apiieu.hik-connect.com", "app-v3.easy4ipcloud.com")


@dataclass(frozen=True)
class DnsSample:
    path: Path
    lines: int
    callers: int
    white_label: list[str]  # asset_ids unmasked only by their traffic
    unregistered: list[str]  # addresses of cameras in no register


def zeek_header(opened: datetime, path: str = "dns") -> str:
    return (f"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            f"#path\t{path}\n#open\t{opened:%Y-%m-%d-%H-%M-%S}\n"
            f"#fields\t{chr(9).join(ZEEK_DNS_FIELDS)}\n#types\t{chr(9).join(ZEEK_DNS_TYPES)}\n")


def zeek_close(closed: datetime) -> str:
    return f"#close\t{closed:%Y-%m-%d-%H-%M-%S}\n"


def zeek_dns_line(ts: float, uid: str, client: str, query: str, answers: str | None,
                  port: int = 53000, trans_id: int = 1) -> str:
    """One record; `answers` None writes Zeek's unset mark."""
    ttls = ",".join("300.0" for _ in answers.split(",")) if answers else "-"
    return (f"{ts:.6f}\t{uid}\t{client}\t{port}\t{RESOLVER}\t53\tudp\t{trans_id}"
            f"\t0.012\t{query}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0"
            f"\t{answers or '-'}\t{ttls}\tF\n")


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _series(rng: random.Random, client: str, name: str, every: int, answers: str,
            start: float) -> Iterator[tuple[float, str, str, str | None]]:
    t = start + rng.uniform(0, every)
    while t < start + 86_400:
        yield t, client, name, answers
        t += every * rng.uniform(0.9, 1.1)


def register_silent(assets: pl.DataFrame) -> list[str]:
    """Asset ids of restricted units whose register row alone does not give them away
    (no brand, an OEM label the KB cannot place, a MAC that says nothing): the white labels."""
    from camsweep.identify import identify_many
    from camsweep.kb import load_kb
    from camsweep.store.identification import register_evidence

    rows = assets.filter(pl.col("ip").is_not_null() & pl.col("restricted")
                         & pl.col("manufacturer_id").is_in(list(CLOUD)))
    cols = rows.select("brand", "model", "mac", "firmware", "ip").iter_rows()
    verdicts = identify_many([register_evidence(*r) for r in cols], load_kb())
    return sorted(a for a, v in zip(rows.get_column("asset_id").to_list(), verdicts,
                                    strict=True) if not v.restricted)


def build_records(assets: pl.DataFrame, seed: int, day: date = DNS_DAY
                  ) -> tuple[list[tuple[float, str, str, str | None]], list[str], list[str]]:
    """(ts, client, query, answers) records of the day, plus the white-label asset ids and
    the unregistered cameras' addresses."""
    rng = random.Random(f"camsweep-sample:{seed}:dns")
    start = _epoch(day)
    records: list[tuple[float, str, str, str | None]] = []
    # One log for the whole estate: an address two sites both use would be ambiguous.
    with_ip = assets.filter(pl.col("ip").is_not_null() & pl.col("ip").is_unique()).sort(
        "asset_id")
    white = register_silent(with_ip)
    for asset_id, ip, maker in with_ip.select("asset_id", "ip", "manufacturer_id").iter_rows():
        endpoints = CLOUD.get(maker or "")
        if not endpoints or (asset_id not in white and rng.random() >= CLOUD_SHARE):
            continue
        for name, every, answers in endpoints:
            records += _series(rng, ip, name, every, answers, start)
    unregistered = _unregistered(with_ip, rng, set(assets.get_column("ip").drop_nulls()))
    for ip in unregistered:
        records += _series(rng, ip, "www.easy4ipcloud.com", 600, "198.51.100.30", start)
    records += _office(rng, start, max(5, with_ip.height // 60))
    records.sort()
    return records, white, unregistered


def _unregistered(with_ip: pl.DataFrame, rng: random.Random, used: set[str]) -> list[str]:
    """An address at about one site in twenty that no register row holds: a camera someone
    put in."""
    out: list[str] = []
    sites = with_ip.group_by("site_id", maintain_order=True).agg(pl.col("ip").first())
    for _site, ip in sites.sort("site_id").iter_rows():
        candidate = f"{ip.rsplit('.', 1)[0]}.252"
        if rng.random() < 0.05 and candidate not in used:
            out.append(candidate)
    if not out and sites.height:
        out.append(f"{sites.get_column('ip')[0].rsplit('.', 1)[0]}.253")
    return out


def _office(rng: random.Random, start: float, pcs: int
            ) -> Iterable[tuple[float, str, str, str | None]]:
    for n in range(pcs):
        client = f"10.200.{n // 250}.{n % 250 + 2}"
        for _ in range(rng.randint(40, 120)):
            name = rng.choice(OFFICE_NAMES)
            yield start + rng.uniform(8 * 3600, 18 * 3600), client, name, "192.0.2.1"
        if rng.random() < 0.2:
            yield (start + rng.uniform(8 * 3600, 18 * 3600), client, rng.choice(APP_NAMES),
                   "192.0.2.2")


def write_dns_log(path: Path, assets: pl.DataFrame, seed: int, day: date = DNS_DAY
                  ) -> DnsSample:
    """Write the day's Zeek dns.log for the estate in `assets` (with its truth columns)."""
    records, white, unregistered = build_records(assets, seed, day)
    opened = datetime(day.year, day.month, day.day)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(zeek_header(opened))
        for i, (ts, client, query, answers) in enumerate(records):
            fh.write(zeek_dns_line(ts, f"C{seed % 10_000:04d}{i:011d}", client, query, answers,
                                   40_000 + i % 20_000, i % 65_536))
        fh.write(zeek_close(opened + timedelta(days=1)))
    cloud = {name for names in CLOUD.values() for name, _e, _a in names}
    callers = len({c for _t, c, q, _a in records if q in cloud})
    return DnsSample(path, len(records), callers, white, unregistered)

"""Screen 100,000 supplier names against the bundled graph plus a 1,000,000-entity imported
FollowTheMoney file; print names/s, load time and peak memory.

Target (issue 8): >= 2,000 names/s. The file is synthetic but shaped like OpenSanctions
exports: companies with legal forms, places and industry words over a large vocabulary,
persons, Ownership links and Sanction listings. The supplier names mix real restricted names
and their variants, names drawn from the imported file (some with typos), and fresh
synthetic names that should match nothing. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

SYLLABLES = [
    "ba", "bo", "ca", "co", "da", "de", "di", "do", "fa", "fe", "fi", "ga", "go", "ha", "he",
    "hi", "ho", "ja", "jo", "ka", "ke", "ki", "ko", "la", "le", "li", "lo", "lu", "ma", "me",
    "mi", "mo", "mu", "na", "ne", "ni", "no", "nu", "pa", "pe", "pi", "po", "ra", "re", "ri",
    "ro", "ru", "sa", "se", "si", "so", "su", "ta", "te", "ti", "to", "tu", "va", "ve", "vi",
    "vo", "wa", "we", "xa", "ya", "yo", "za", "ze", "zo", "an", "en", "in", "on", "ar", "er",
    "or", "el", "al", "il", "tra", "tri", "bra", "bri", "cla", "cle", "dra", "dre", "fra", "fre",
    "gra", "gre", "pla", "ple", "pra", "pre", "sta", "ste", "sto", "vel", "vol", "mar", "ver",
    "lin", "ton", "ley", "son", "ham", "ford", "field", "wood", "stone", "bridge",
]
INDUSTRY = [
    "Trading", "Technology", "Systems", "Solutions", "Services", "Electronics", "Engineering",
    "Logistics", "Holdings", "Group", "International", "Industrial", "Security", "Networks",
    "Digital", "Consulting", "Manufacturing", "Energy", "Capital", "Imports", "Supplies",
    "Software", "Communications",
]
PLACES = [
    "Shenzhen", "Guangzhou", "Shanghai", "Beijing", "Ningbo", "Xiamen", "London", "Manchester",
    "Bristol", "Leeds", "Hamburg", "Munich", "Lyon", "Milan", "Madrid", "Warsaw", "Dubai",
    "Singapore", "Sydney", "Toronto", "Texas", "Ohio", "Istanbul", "Mumbai",
]
LEGAL = [
    "Ltd", "Limited", "LLC", "Inc.", "GmbH", "S.A.", "S.r.l.", "B.V.", "Pty", "Ltd", "Co.,",
    "Ltd.", "PLC", "Sp.", "z", "o.o.", "AG", "Corp.", "LLP", "SAS",
]
COUNTRIES = [
    "cn", "gb", "us", "de", "fr", "it", "es", "pl", "ae", "sg", "au", "ca", "in", "tr", "ru",
    "ir", "kp",
]
TOPICS = ("sanction", "export.control", "debarment", "role.pep", "crime", "poi")

BRANDS = ["Hikvision", "Dahua Technology", "Hytera", "Huawei Technologies", "ZTE", "Uniview",
          "Tiandy", "EZVIZ", "Kedacom", "HiLook", "Imou", "Sepura"]
REAL = [
    "Hikvision UK Ltd", "HIKVISION", "Hangzhou Hikvision Digital Technology Co Ltd",
    "Dahua Technology UK Limited", "Zhejiang Dahua Technology Co., Ltd.", "EZVIZ Inc.",
    "杭州海康威视数字技术股份有限公司", "浙江大华技术股份有限公司", "Haikang Weishi",
    "Hytera Communications Corp. Ltd.", "Sepura Limited", "Huawei Technologies (UK) Co., Ltd",
    "ZTE Corporation", "Uniview", "Tiandy Technologies", "Kedacom", "Lorex Technology Inc.",
    "Hikvision Deutschland GmbH", "Dahua Technology Italy S.r.l.", "CETC", "HiLook", "Imou",
    "Dahua Scale", "Hikari Tsushin Inc.", "Unisys Corporation", "Axis Communications AB",
    "Tiandi Science & Technology Co., Ltd.", "Keda Industrial Group Co., Ltd.",
    "United Overseas Bank Limited", "Bosch Security Systems GmbH", "Hanwha Vision Co., Ltd.",
]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def company_name(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.4:
        parts.append(rng.choice(PLACES))
    parts.append(word(rng))
    if rng.random() < 0.5:
        parts.append(word(rng))
    parts.extend(rng.sample(INDUSTRY, rng.randint(0, 2)))
    parts.append(rng.choice(LEGAL))
    return " ".join(parts)


def person_name(rng: random.Random) -> str:
    return f"{word(rng)} {word(rng)}"


def typo(rng: random.Random, name: str) -> str:
    words = name.split()
    long = [i for i, w in enumerate(words) if len(w) >= 8]
    if not long:
        return name
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    words[i] = w[:j] + w[j + 1:]
    return " ".join(words)


def generate_entities(path: Path, n: int, rng: random.Random) -> list[str]:
    """Write n FtM entities; return a sample of the party names written."""
    sample: list[str] = []
    parties: list[str] = []
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        while written < n:
            eid = f"syn-{written}"
            roll = rng.random()
            if roll < 0.80 or not parties:
                is_person = rng.random() < 0.2
                name = person_name(rng) if is_person else company_name(rng)
                props: dict[str, list[str]] = {"name": [name],
                                               "country": [rng.choice(COUNTRIES)]}
                if rng.random() < 0.2:
                    props["alias"] = [company_name(rng) if not is_person else person_name(rng)]
                if rng.random() < 0.05:
                    props["topics"] = [rng.choice(TOPICS)]
                if rng.random() < 0.1:
                    props["registrationNumber"] = [f"{rng.randrange(10**7, 10**8)}"]
                entity = {"id": eid, "schema": "Person" if is_person else "Company",
                          "properties": props}
                parties.append(eid)
                if len(sample) < 50_000 and rng.random() < 0.1:
                    sample.append(name)
            elif roll < 0.95:
                entity = {"id": eid, "schema": "Ownership", "properties": {
                    "owner": [rng.choice(parties)], "asset": [rng.choice(parties)],
                    "percentage": [str(rng.choice((10, 25, 51, 75, 100)))]}}
            else:
                entity = {"id": eid, "schema": "Sanction", "properties": {
                    "entity": [rng.choice(parties)], "program": ["Synthetic programme"],
                    "authority": ["Synthetic authority"], "startDate": ["2024-01-01"]}}
            fh.write(json.dumps(entity) + "\n")
            written += 1
    return sample


def supplier_names(n: int, sample: list[str], rng: random.Random) -> list[str]:
    names = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.15:
            names.append(rng.choice(REAL))
        elif roll < 0.30:
            names.append(f"{rng.choice(BRANDS)} {rng.choice(PLACES)} {rng.choice(LEGAL)}")
        elif roll < 0.50 and sample:
            names.append(rng.choice(sample))
        elif roll < 0.60 and sample:
            names.append(typo(rng, rng.choice(sample)))
        else:
            names.append(company_name(rng))
    return names


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--names", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--target", type=float, default=2000.0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes sharing the index (forked after it is built)")
    args = ap.parse_args()

    from camsweep.screen.imports import add_entities, iter_file_entities
    from camsweep.screen.matcher import Query, Screener

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "entities.jsonl"
        t0 = time.perf_counter()
        sample = generate_entities(path, args.entities, rng)
        names = supplier_names(args.names, sample, rng)
        t1 = time.perf_counter()
        screener = Screener.bundled()
        added = add_entities(screener, iter_file_entities(path), "imported")
        loaded = time.perf_counter()
        queries = [Query(str(i), name) for i, name in enumerate(names)]
        t2 = time.perf_counter()
        results = screener.screen_many(queries, workers=args.workers)
        t3 = time.perf_counter()
        # One process on one core, on a fifth of the names, for the per-core figure.
        part = queries[: max(1, len(queries) // 5)]
        c2 = time.process_time()
        screener.screen_many(part, workers=1)
        c3 = time.process_time()
    matches = sum(1 for r in results if r.match)
    rate = len(names) / (t3 - t2)
    print(f"generated {args.entities:,} FtM entities and {len(names):,} names in {t1 - t0:.1f} s")
    print(f"loaded bundled + {added:,} imported parties ({len(screener.index):,} names) in "
          f"{loaded - t1:.1f} s")
    cpu_rate = len(part) / (c3 - c2)
    print(f"screened {len(names):,} names in {t3 - t2:.1f} s with {args.workers} process(es): "
          f"{rate:,.0f} names/s wall clock (target >= {args.target:,.0f}); {matches:,} matches")
    print(f"one process: {cpu_rate:,.0f} names/s of CPU time ({len(part):,} names)")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory {peak_mib():,.0f} MiB (largest worker {children:,.0f} MiB, mostly "
          "pages shared with the parent)")
    if rate < args.target:
        print("BELOW TARGET", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

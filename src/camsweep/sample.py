"""Synthetic estates for demos, tests and benchmarks (`camsweep sample`).

Real facilities registers are what camsweep must survive, and real ones cannot be shared. So
this module writes registers that look like them (brand typos, OEM labels, Chinese names, brand
and model in one cell, blanks, mixed date formats) while every row stays valid for the importer.
With `truth` it also says what each device really is, so identification can be scored.

Sites, their make-up and the resources file are small: one loop per site with
`random.Random`. Device rows are built column by column with Polars from precomputed choice
tables, because benchmarks ask for a million rows in seconds. Every random stream is seeded from
the user's seed and a phase name, so the same seed gives the same bytes, and the site list does
not change when only the device count does.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from camsweep.errors import ConfigError, KnowledgeBaseError

SITE_COLUMNS: tuple[str, ...] = (
    "site_id",
    "name",
    "department",
    "region",
    "sensitivity",
    "postcode",
)
ASSET_COLUMNS: tuple[str, ...] = (
    "asset_id", "site_id", "device_type", "brand", "model",
    "serial", "mac", "ip", "firmware", "install_date",
)  # fmt: skip
TRUTH_COLUMNS: tuple[str, ...] = ("asset_id", "manufacturer_id", "restricted", "white_label")
REGION_IDS: tuple[str, ...] = (
    "london", "south_east", "south_west", "east", "east_midlands", "west_midlands",
    "north_west", "north_east", "yorkshire", "scotland", "wales", "northern_ireland",
)  # fmt: skip
UNIT_COSTS: dict[str, int] = {
    "camera": 650, "nvr": 1800, "dvr": 1200, "encoder": 500,
    "intercom": 700, "access_control": 900, "other": 500,
}  # fmt: skip

# Device serials, MACs and IPs are unique by construction up to this many rows.
MAX_DEVICES = 10_000_000
MAX_SITES = 100_000
PLAN_START = date(2027, 1, 4)  # a Monday, as in design.md
HORIZON_WEEKS = 104
# The UK government stopped installing Chinese-made cameras at sensitive sites on 24 Nov 2022.
RESTRICTED_LAST_INSTALL = date(2022, 11, 24)
# Analogue CCTV (DVR + coax cameras) stopped being bought around 2019.
ANALOGUE_LAST_YEAR = 2019

_EPOCH = date(1970, 1, 1)
_DATA_FILE = "sample_data.yaml"
_REGION_SETS: dict[str, frozenset[str]] = {
    "all": frozenset(REGION_IDS),
    "great_britain": frozenset(REGION_IDS) - {"northern_ireland"},
    "england_wales": frozenset(REGION_IDS) - {"northern_ireland", "scotland"},
    "england": frozenset(REGION_IDS) - {"northern_ireland", "scotland", "wales"},
}
_ALPHABETS: dict[str, str] = {
    "digits": "0123456789",
    "alnum": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "hex": "0123456789ABCDEF",
}
_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters Royal Mail uses
_HEX_OUI = re.compile(r"[0-9A-F]{6}")
_PERMUTE_MULTIPLIER = 2_654_435_761  # Knuth's prime: coprime to every 2^a 3^b 5^c alphabet power


# --------------------------------------------------------------------------- bundled data


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionSpec(_Strict):
    weight: float = Field(gt=0)
    crew_capacity: int = Field(gt=0)
    towns: tuple[str, ...] = Field(min_length=1)


class SiteKind(_Strict):
    name: str
    weight: float = Field(gt=0)
    size: float = Field(gt=0)
    sensitive: float = Field(ge=0, le=1)


class DepartmentSpec(_Strict):
    code: str
    name: str
    weight: float = Field(gt=0)
    regions: str | tuple[str, ...]
    asset_tag: str
    kinds: tuple[SiteKind, ...] = Field(min_length=1)

    def region_ids(self) -> frozenset[str]:
        if isinstance(self.regions, str):
            return _REGION_SETS[self.regions]
        return frozenset(self.regions)


class SerialSpec(_Strict):
    prefix: str = ""
    alphabet: Literal["digits", "alnum", "hex"] = "digits"
    width: int = Field(default=8, ge=1, le=24)
    mac: bool = False
    model_share: float = Field(default=0.0, ge=0, le=1)
    model_infix: str = ""


class BrandSpec(_Strict):
    maker: str
    restricted: bool
    white_label: bool
    evidence: str
    weight: float = Field(ge=0)
    cloud: bool = False
    install: tuple[int, int]
    spellings: dict[str, int] = Field(min_length=1)
    ouis: tuple[str, ...]
    serial: SerialSpec
    firmware: dict[str, tuple[str, ...]]
    models: dict[str, tuple[str, ...]] = Field(min_length=1)

    @field_validator("ouis")
    @classmethod
    def _ouis_are_hex(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [oui for oui in value if not _HEX_OUI.fullmatch(oui)]
        if bad:
            raise ValueError(f"OUIs must be 6 upper-case hex digits: {bad}")
        return value


class SampleData(_Strict):
    """The word lists and grammars in sample_data.yaml, validated once."""

    regions: dict[str, RegionSpec]
    departments: tuple[DepartmentSpec, ...]
    categories: dict[str, str]
    device_types: dict[str, dict[str, int]]
    presence: dict[str, dict[str, float]]
    roles: dict[str, dict[str, float]]
    brands: dict[str, BrandSpec]
    # Holders of YAML anchors; their content is reached through the aliases above.
    grammars: dict[str, Any] = Field(default_factory=dict)
    hikvision_ouis: tuple[str, ...] = ()
    dahua_ouis: tuple[str, ...] = ()


@cache
def load_data() -> SampleData:
    """Read the bundled word lists; a broken file is a packaging bug, named precisely."""
    text = files("camsweep").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    try:
        data = SampleData.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise KnowledgeBaseError(f"{_DATA_FILE} is malformed: {exc}") from exc
    _check_references(data)
    return data


def _check_references(data: SampleData) -> None:
    """Fail at load, not mid-generation, when a name points nowhere."""
    problems: list[str] = []
    categories = set(data.categories)
    for table in ("device_types", "presence"):
        missing = categories - set(getattr(data, table))
        if missing:
            problems.append(f"{table} lacks {sorted(missing)}")
    for role, weights in data.roles.items():
        problems += [f"roles.{role}: unknown brand {b}" for b in weights if b not in data.brands]
    for name, brand in data.brands.items():
        extra = set(brand.models) - categories
        if extra:
            problems.append(f"brands.{name}.models: unknown categories {sorted(extra)}")
        problems += _serial_problems(name, brand.serial)
    for dept in data.departments:
        unknown = dept.region_ids() - set(data.regions)
        if unknown:
            problems.append(f"departments.{dept.code}: unknown regions {sorted(unknown)}")
    if set(data.regions) != set(REGION_IDS):
        problems.append(f"regions must be exactly {list(REGION_IDS)}")
    if problems:
        raise KnowledgeBaseError(f"{_DATA_FILE}: " + "; ".join(problems))


def _serial_problems(name: str, spec: SerialSpec) -> list[str]:
    if spec.mac:
        return []
    alphabet = _ALPHABETS[spec.alphabet]
    unique, per_draw = _serial_layout(alphabet, spec.width)
    if len(alphabet) ** spec.width < MAX_DEVICES:
        return [f"brands.{name}.serial: too narrow to be unique"]
    if spec.width - unique > per_draw * _FILLER_DRAWS:
        return [f"brands.{name}.serial: too wide for the random filler"]
    return []


# --------------------------------------------------------------------------- templates

_SLOT = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"(\d+)\.\.(\d+)(?::(\d+))?")
_TEMPLATE_DATES = (date(2016, 1, 1).toordinal(), date(2024, 12, 31).toordinal())


def expand(template: str, rng: random.Random, **names: str) -> str:
    """Fill one template (syntax at the top of sample_data.yaml) with random choices."""

    def fill(match: re.Match[str]) -> str:
        slot: str = match.group(1)
        if slot in names:
            return names[slot]
        if slot.startswith("date:"):
            return date.fromordinal(rng.randint(*_TEMPLATE_DATES)).strftime(slot[5:])
        bounds = _RANGE.fullmatch(slot)
        if bounds:
            low, high, width = bounds.group(1, 2, 3)
            return str(rng.randint(int(low), int(high))).zfill(int(width or 0))
        return rng.choice(slot.split("|"))

    return _SLOT.sub(fill, template)


def _pool(templates: Sequence[str], rng: random.Random, size: int) -> list[str]:
    """Distinct strings from a grammar: the handful of models an estate actually bought."""
    seen: dict[str, None] = {}
    for _ in range(size * 8):
        if len(seen) >= size:
            break
        seen.setdefault(expand(rng.choice(templates), rng), None)
    return list(seen)


def _zipf(values: Sequence[str]) -> list[tuple[str, int]]:
    """A few best-sellers and a long tail, as in any real purchasing history."""
    return [(value, max(1, 1000 // (rank + 1))) for rank, value in enumerate(values)]


# --------------------------------------------------------------------------- sites


@dataclass(frozen=True)
class SiteRecord:
    """One generated site, with what the device phase needs beyond the CSV columns."""

    site_id: str
    name: str
    department: str
    region: str
    sensitivity: str
    postcode: str
    asset_tag: str
    size: float  # relative number of devices


@dataclass(frozen=True)
class _Town:
    name: str
    outwards: tuple[str, ...]


def _parse_town(entry: str) -> _Town:
    """`Name|AREA|lo-hi` or `Name|OUT1,OUT2`: compact in YAML, explicit here."""
    parts = entry.split("|")
    if len(parts) == 3:
        low, high = (int(x) for x in parts[2].split("-"))
        return _Town(parts[0], tuple(f"{parts[1]}{d}" for d in range(low, high + 1)))
    return _Town(parts[0], tuple(parts[1].split(",")))


def _postcode(town: _Town, rng: random.Random) -> str:
    letters = rng.choice(_POSTCODE_LETTERS) + rng.choice(_POSTCODE_LETTERS)
    return f"{rng.choice(town.outwards)} {rng.randint(0, 9)}{letters}"


def _unique_name(name: str, used: set[str]) -> str:
    """Two offices in one town are told apart the way estates teams do it: by building."""
    for suffix in ("", " Annex", " (Block B)", " North", " South", " (Unit 2)"):
        if name + suffix not in used:
            return name + suffix
    number = 2
    while f"{name} {number}" in used:
        number += 1
    return f"{name} {number}"


def make_sites(count: int, seed: int, data: SampleData | None = None) -> list[SiteRecord]:
    """Sites spread over regions and departments, about a quarter of them sensitive."""
    data = data or load_data()
    rng = _rng(seed, "sites")
    towns = {rid: [_parse_town(t) for t in spec.towns] for rid, spec in data.regions.items()}
    regions = list(data.regions)
    region_weights = [data.regions[r].weight for r in regions]
    drafts: list[tuple[DepartmentSpec, SiteKind, str, str, str, float]] = []
    used: set[str] = set()
    for _ in range(count):
        region = rng.choices(regions, region_weights)[0]
        depts = [d for d in data.departments if region in d.region_ids()]
        dept = rng.choices(depts, [d.weight for d in depts])[0]
        kind = rng.choices(dept.kinds, [k.weight for k in dept.kinds])[0]
        town = rng.choice(towns[region])
        name = _unique_name(expand(kind.name, rng, town=town.name), used)
        used.add(name)
        size = kind.size * rng.lognormvariate(0.0, 0.5)
        drafts.append((dept, kind, region, name, _postcode(town, rng), size))
    sensitive = _pick_sensitive([kind.sensitive for _, kind, *_ in drafts], rng)
    numbers: dict[str, int] = {}
    sites: list[SiteRecord] = []
    for index, (dept, _kind, region, name, postcode, size) in enumerate(drafts):
        numbers[dept.code] = numbers.get(dept.code, 0) + 1
        sites.append(
            SiteRecord(
                site_id=f"{dept.code}-{numbers[dept.code]:04d}",
                name=name,
                department=dept.name,
                region=region,
                sensitivity="sensitive" if index in sensitive else "standard",
                postcode=postcode,
                asset_tag=dept.asset_tag,
                size=size,
            )
        )
    sites.sort(key=lambda s: (s.site_id.split("-")[0], int(s.site_id.split("-")[1])))
    return sites


def _pick_sensitive(propensity: Sequence[float], rng: random.Random) -> set[int]:
    """Exactly 22-28% sensitive, prisons and bases first: a share that never drifts with luck.

    Weighted sampling without replacement (Efraimidis-Spirakis keys).
    """
    share = rng.uniform(0.22, 0.28)
    keys = [rng.random() ** (1.0 / max(p, 0.01)) for p in propensity]
    order = sorted(range(len(keys)), key=lambda i: (-keys[i], i))
    return set(order[: round(len(keys) * share)])


# --------------------------------------------------------------------------- site make-up


@dataclass(frozen=True)
class _Group:
    """Devices of one brand and category at one site, bought together."""

    site: int
    brand: int
    category: int
    count: int
    model_r: int
    firmware_r: int
    day: int  # usual install day (days since 1970)
    low: int  # earliest install day for one-off replacements
    high: int


class _Catalogue:
    """Brands and roles indexed for quick per-site choices."""

    def __init__(self, data: SampleData) -> None:
        self.data = data
        self.names = list(data.brands)
        self.brands = [data.brands[n] for n in self.names]
        self.categories = list(data.categories)
        self.cat = {c: i for i, c in enumerate(self.categories)}
        main = [(i, b.weight) for i, b in enumerate(self.brands) if b.weight > 0]
        self.main = [i for i, _ in main]
        self.main_weights = [w for _, w in main]
        self.index = {n: i for i, n in enumerate(self.names)}
        self._roles: dict[tuple[str, str], tuple[list[int], list[float]]] = {}

    def has(self, brand: int, category: str) -> bool:
        return category in self.brands[brand].models

    def from_role(self, role: str, category: str, rng: random.Random) -> int:
        """A specialist supplier for `category`; the main-vendor table when none fits."""
        brands, weights = self._role_table(role, category)
        return rng.choices(brands, weights)[0]

    def _role_table(self, role: str, category: str) -> tuple[list[int], list[float]]:
        """Filtered once per (role, category): thousands of sites ask the same question."""
        key = (role, category)
        if key not in self._roles:
            table = [(self.index[b], w) for b, w in self.data.roles.get(role, {}).items()]
            table = [(b, w) for b, w in table if self.has(b, category)]
            if not table:
                main = zip(self.main, self.main_weights, strict=True)
                table = [(b, w) for b, w in main if self.has(b, category)]
            self._roles[key] = ([b for b, _ in table], [w for _, w in table])
        return self._roles[key]

    def pick(self, category: str, preferred: Sequence[int], role: str, rng: random.Random) -> int:
        for brand in preferred:
            if self.has(brand, category):
                return brand
        return self.from_role(role, category, rng)


def _split_counts(total: int, weights: Sequence[float]) -> list[int]:
    """Largest-remainder rounding: integer shares that add up exactly."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def allocate_devices(total: int, sizes: Sequence[float]) -> list[int]:
    """Devices per site in proportion to size; every site gets one when there are enough."""
    if total >= len(sizes):
        return [1 + n for n in _split_counts(total - len(sizes), sizes)]
    return _split_counts(total, sizes)


def _site_mix(count: int, rng: random.Random, cloud: bool) -> dict[str, int]:
    """How many devices of each category a site of `count` devices has.

    One recorder per 8-16 cameras, so bigger sites have more; a quarter of sites keep a
    legacy analogue DVR with its coax cameras; doors and intercoms are a small share.
    """
    mix = dict.fromkeys(("access_control", "intercom", "other", "encoder"), 0)
    if count >= 8:
        mix["access_control"] = round(count * rng.uniform(0.0, 0.08))
    if count >= 10:
        mix["intercom"] = round(count * rng.uniform(0.0, 0.04))
    if count >= 30:
        mix["other"] = round(count * rng.uniform(0.0, 0.02))
    if count >= 60 and rng.random() < 0.15:
        mix["encoder"] = rng.randint(1, 3)
    rest = count - sum(mix.values())
    ratio = rng.uniform(8.0, 16.0)
    recorders = 0 if rest < 3 or cloud else max(1, round(rest / (ratio + 1.0)))
    cameras = rest - recorders
    dvrs = analog = 0
    if recorders and rng.random() < 0.25:
        dvrs = max(1, round(recorders * rng.uniform(0.2, 0.7)))
        analog = min(cameras, round(dvrs * ratio))
    ptz = round((cameras - analog) * rng.uniform(0.0, 0.06))
    mix.update(
        camera=cameras - analog - ptz, ptz=ptz, analog=analog, nvr=recorders - dvrs, dvr=dvrs
    )
    return mix


def _site_groups(site: int, count: int, cat: _Catalogue, rng: random.Random) -> list[_Group]:
    """Brands per category for one site: a main vendor, a few others, specialists for doors."""
    main = rng.choices(cat.main, cat.main_weights)[0]
    mix = _site_mix(count, rng, cat.brands[main].cloud)
    cameras = mix["camera"]
    seconds = [rng.choices(cat.main, cat.main_weights)[0] for _ in range(_extra_vendors(cameras))]
    main_share = rng.uniform(0.55, 0.95) if seconds else 1.0
    shares = [main_share] + [(1.0 - main_share) / max(len(seconds), 1)] * len(seconds)
    vendors = [main, *seconds]
    counts: dict[tuple[int, str], int] = {}
    for brand, n in zip(vendors, _split_counts(cameras, shares), strict=True):
        counts[(brand, "camera")] = counts.get((brand, "camera"), 0) + n
    analogue = [main] if rng.random() < 0.6 and cat.has(main, "dvr") else []
    analog_brand = cat.pick("analog", analogue, "analog", rng)
    picks = {
        "ptz": cat.pick("ptz", vendors, "camera", rng),
        "nvr": cat.pick("nvr", [main], "recorder", rng),
        "analog": analog_brand,
        "dvr": analog_brand if cat.has(analog_brand, "dvr") else cat.pick("dvr", [], "analog", rng),
        "encoder": cat.pick("encoder", [main] if rng.random() < 0.5 else [], "encoder", rng),
        "intercom": cat.pick("intercom", [main] if rng.random() < 0.4 else [], "intercom", rng),
        "access_control": cat.pick(
            "access_control", [main] if rng.random() < 0.2 else [], "access_control", rng
        ),
        "other": cat.pick("other", [main], "other", rng),
    }
    for category, brand in picks.items():
        if mix[category]:
            counts[(brand, category)] = counts.get((brand, category), 0) + mix[category]
    return [
        _new_group(site, brand, category, n, cat, rng)
        for (brand, category), n in counts.items()
        if n > 0
    ]


def _extra_vendors(cameras: int) -> int:
    """Big sites grew over years and several contracts, so they mix more makers."""
    if cameras > 100:
        return 3
    if cameras > 30:
        return 2
    return 1 if cameras > 5 else 0


def _new_group(
    site: int, brand: int, category: str, count: int, cat: _Catalogue, rng: random.Random
) -> _Group:
    low, high = _install_window(cat.brands[brand], category)
    day = rng.randint(low, max(low, high - 90))
    return _Group(
        site=site,
        brand=brand,
        category=cat.cat[category],
        count=count,
        model_r=rng.getrandbits(32),
        firmware_r=rng.getrandbits(32),
        day=day,
        low=low,
        high=high,
    )


def _install_window(brand: BrandSpec, category: str) -> tuple[int, int]:
    """Years the brand was bought, ending at the 2022 stop for restricted makers."""
    first, last = brand.install
    end = date(last, 12, 31)
    if brand.restricted:
        end = min(end, RESTRICTED_LAST_INSTALL)
    if category in ("analog", "dvr"):
        first = min(first, 2010)
        end = min(end, date(ANALOGUE_LAST_YEAR, 12, 31))
    return (date(first, 1, 1) - _EPOCH).days, (end - _EPOCH).days


# --------------------------------------------------------------------------- vector helpers


def _rng(seed: int, phase: str) -> random.Random:
    """One stream per phase, so changing one phase's size leaves the others' output alone."""
    return random.Random(f"camsweep-sample:{seed}:{phase}")


def _random_u32(rng: random.Random, n: int) -> pl.Series:
    """n uniform 32-bit integers in one call: bytes from the seeded stream, read as an array."""
    buf = rng.randbytes(4 * n)
    if sys.byteorder == "big":  # read the same numbers on every machine
        words = array("I")
        words.frombytes(buf)
        words.byteswap()
        buf = words.tobytes()
    arrow = pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(buf)])
    return pl.Series("r", arrow, dtype=pl.UInt32)


def _blank_unless(values: pl.Series, keep: pl.Series) -> pl.Series:
    return pl.select(pl.when(keep).then(values)).to_series()


def _where(mask: pl.Series, yes: pl.Series, no: pl.Series) -> pl.Series:
    return pl.select(pl.when(mask).then(yes).otherwise(no)).to_series()


def _concat(parts: Sequence[pl.Series | str]) -> pl.Series:
    exprs = [pl.lit(p) if isinstance(p, str) else p for p in parts]
    return pl.select(pl.concat_str(exprs)).to_series()


def _percent(r: pl.Series, digit: int) -> pl.Series:
    """The `digit`-th base-100 digit of a random column: four independent 1% dice per draw."""
    shifted: pl.Series = r // (100**digit)
    return shifted % 100


@dataclass(frozen=True)
class _Choices:
    """Weighted choice tables for many keys, flattened so a column of keys picks in one pass."""

    values: pl.Series
    ends: pl.Series  # cumulative weight at the end of each option
    starts: pl.Series  # per key: where its table starts in weight space
    totals: pl.Series  # per key: its table's total weight (0 = empty table)

    @classmethod
    def build(cls, tables: Sequence[Sequence[tuple[str, int]]]) -> _Choices:
        values: list[str] = []
        ends: list[int] = []
        starts: list[int] = []
        totals: list[int] = []
        acc = 0
        for table in tables:
            starts.append(acc)
            for value, weight in table:
                if weight > 0:
                    acc += weight
                    values.append(value)
                    ends.append(acc)
            totals.append(acc - starts[-1])
        return cls(
            values=pl.Series(values, dtype=pl.String),
            ends=pl.Series(ends, dtype=pl.UInt64),
            starts=pl.Series(starts, dtype=pl.UInt64),
            totals=pl.Series(totals, dtype=pl.UInt64),
        )

    def index(self, keys: pl.Series, rand: pl.Series) -> pl.Series:
        """Global option index per row; null where the key's table is empty."""
        total = self.totals.gather(keys)
        point = self.starts.gather(keys) + rand % total.clip(lower_bound=1)
        found = self.ends.search_sorted(point, side="right")
        found = found.clip(upper_bound=max(len(self.ends) - 1, 0))
        return _blank_unless(found, total > 0)

    def pick(self, keys: pl.Series, rand: pl.Series) -> pl.Series:
        return self.values.gather(self.index(keys, rand))


# MAC styles as written in registers: (separator, lower case, weight).
_MAC_STYLES: tuple[tuple[str, bool, int], ...] = (
    (":", False, 34), (":", True, 10), ("-", False, 16), ("-", True, 8),
    (".", True, 9), (".", False, 2), ("", False, 15), ("", True, 6),
)  # fmt: skip


def _styled_oui(oui: str, sep: str, lower: bool) -> str:
    text = oui.lower() if lower else oui
    if sep == ".":
        return f"{text[:4]}.{text[4:]}"
    return sep.join((text[0:2], text[2:4], text[4:6]))


class _Tables:
    """Everything the row phase picks from, drawn once per estate from the seed."""

    def __init__(self, cat: _Catalogue, rng: random.Random) -> None:
        data = cat.data
        n_cat = len(cat.categories)
        self.spellings = _Choices.build([list(b.spellings.items()) for b in cat.brands])
        model_tables: list[list[tuple[str, int]]] = []
        firmware_tables: list[list[tuple[str, int]]] = []
        for brand in cat.brands:
            for category in cat.categories:
                grammar = brand.models.get(category, ())
                model_tables.append(_zipf(_pool(grammar, rng, 12)) if grammar else [])
                fw = brand.firmware.get(category) or brand.firmware.get("default", ())
                firmware_tables.append(_zipf(_pool(fw, rng, 8)) if fw and grammar else [])
        self.models = _Choices.build(model_tables)
        self.firmware = _Choices.build(firmware_tables)
        self.device_types = _Choices.build(
            [list(data.device_types[c].items()) for c in cat.categories]
        )
        self.ouis = _Choices.build([[(o, 1) for o in b.ouis] for b in cat.brands])
        styled = [_styled_oui(o, s, low) for o in self.ouis.values for s, low, _ in _MAC_STYLES]
        self.oui_styled = pl.Series(styled, dtype=pl.String)
        self.mac_styles = _Choices.build([[(str(i), w) for i, (_, _, w) in enumerate(_MAC_STYLES)]])
        self.n_cat = n_cat
        self.presence = {
            field: pl.Series(
                [round(data.presence[c].get(field, 0.0) * 1000) for c in cat.categories],
                dtype=pl.UInt64,
            )
            for field in ("mac", "ip", "firmware", "serial", "install_date", "device_type")
        }
        self.serial_prefixes = [_pool([b.serial.prefix or ""], rng, 24) for b in cat.brands]
        self.serial_infixes = [
            _pool([b.serial.model_infix], rng, 24) if b.serial.model_infix else [""]
            for b in cat.brands
        ]
        self.makers = pl.Series([b.maker for b in cat.brands], dtype=pl.String)
        self.restricted = pl.Series([b.restricted for b in cat.brands], dtype=pl.Boolean)
        self.white_label = pl.Series([b.white_label for b in cat.brands], dtype=pl.Boolean)


_HEX_BYTES = pl.Series([f"{v:02X}" for v in range(256)] + [f"{v:02x}" for v in range(256)])


def _permute24(index: pl.Series) -> pl.Series:
    """A fixed shuffle of 0..2^24-1: unique MAC tails that do not count up visibly."""
    mask = 1 << 24
    x = (index * 0x9E3779 + 0x7F4A7C) % mask
    x = x ^ (x // 4096)
    x = (x * 0x2545F5) % mask
    return x ^ (x // 8192)


def _encode(values: pl.Series, alphabet: str, width: int) -> pl.Series:
    """Fixed-width numerals in an alphabet, most significant first."""
    chars = pl.Series(list(alphabet), dtype=pl.String)
    base = len(alphabet)
    return _concat([chars.gather((values // base**k) % base) for k in reversed(range(width))])


_FILLER_DRAWS = 3


def _serial_layout(alphabet: str, width: int) -> tuple[int, int]:
    """(unique digits, filler digits per 32-bit draw): the unique part must cover MAX_DEVICES."""
    base = len(alphabet)
    unique = min(width, math.ceil(math.log(MAX_DEVICES, base) - 1e-9))
    return unique, int(32 * math.log(2) / math.log(base))


def _serial_body(
    index: pl.Series, rand: Sequence[pl.Series], alphabet: str, width: int
) -> pl.Series:
    """Random-looking filler, then a permuted row number: unique, yet not sequential."""
    base = len(alphabet)
    unique_width, per_draw = _serial_layout(alphabet, width)
    space = base**unique_width
    unique = _encode((index * _PERMUTE_MULTIPLIER + 7919) % space, alphabet, unique_width)
    parts: list[pl.Series | str] = []
    remaining = width - unique_width
    for r in rand:
        if remaining <= 0:
            break
        take = min(per_draw, remaining)
        parts.append(_encode(r % base**take, alphabet, take))
        remaining -= take
    return _concat([*parts, unique])


# --------------------------------------------------------------------------- device rows

# One independent random column per decision, drawn in this order from the "rows" stream.
_DRAWS: tuple[str, ...] = (
    "spelling", "style", "model", "oui", "mac_style", "mac_keep", "firmware", "firmware_keep",
    "device_type", "device_type_keep", "serial", "serial_keep", "ip_keep", "date",
    "install_date_keep", "filler1", "filler2", "filler3",
)  # fmt: skip


@dataclass(frozen=True)
class _Rows:
    """Row-aligned integer columns the string columns are computed from."""

    index: pl.Series  # global row number
    group: pl.Series
    site: pl.Series
    brand: pl.Series
    category: pl.Series
    rank: pl.Series  # row number within its site
    draws: dict[str, pl.Series]

    def __len__(self) -> int:
        return len(self.index)


def _expand_groups(groups: Sequence[_Group], site_counts: Sequence[int], seed: int) -> _Rows:
    """One row per device, sites in order, devices shuffled within each site."""
    counts = pl.Series([g.count for g in groups], dtype=pl.UInt32)
    frame = pl.DataFrame({"g": pl.Series(range(len(groups)), dtype=pl.UInt32), "n": counts})
    gid = frame.select(pl.col("g").repeat_by("n")).explode("g")["g"]
    site = pl.Series([g.site for g in groups], dtype=pl.UInt32).gather(gid)
    order = (
        pl.DataFrame({"s": site, "k": _random_u32(_rng(seed, "shuffle"), len(gid))})
        .with_row_index("i")
        .sort(["s", "k", "i"])["i"]
    )
    gid = gid.gather(order)
    site = site.gather(order)
    starts = [0, *itertools.accumulate(site_counts)][:-1]
    index = pl.Series(range(len(gid)), dtype=pl.UInt64)
    row_rng = _rng(seed, "rows")
    return _Rows(
        index=index,
        group=gid,
        site=site,
        brand=pl.Series([g.brand for g in groups], dtype=pl.UInt32).gather(gid),
        category=pl.Series([g.category for g in groups], dtype=pl.UInt32).gather(gid),
        rank=index - pl.Series(starts, dtype=pl.UInt64).gather(site),
        draws={name: _random_u32(row_rng, len(gid)) for name in _DRAWS},
    )


def _group_column(groups: Sequence[_Group], attr: str, rows: _Rows) -> pl.Series:
    return pl.Series([getattr(g, attr) for g in groups], dtype=pl.UInt64).gather(rows.group)


def _kept(tables: _Tables, field: str, rows: _Rows) -> pl.Series:
    """Whether this row's `field` was filled in, at the category's usual rate."""
    return rows.draws[f"{field}_keep"] % 1000 < tables.presence[field].gather(rows.category)


def _brand_and_model(
    tables: _Tables, groups: Sequence[_Group], rows: _Rows
) -> tuple[pl.DataFrame, pl.Series]:
    """Brand and model cells as people fill them in.

    Both (64%), brand only (14%), model only (10%), both in the model cell (10%), neither (2%);
    3% of models typed in lower case. Returns the two cells and the clean model.
    """
    draws = rows.draws
    spelling = tables.spellings.pick(rows.brand, draws["spelling"])
    same_buy = _percent(draws["style"], 1) < 75  # most devices at a site share the model bought
    model_r = _where(same_buy, _group_column(groups, "model_r", rows), draws["model"])
    model = tables.models.pick(rows.brand * tables.n_cat + rows.category, model_r)
    frame = pl.DataFrame(
        {"s": _percent(draws["style"], 0), "low": _percent(draws["style"], 2) < 3,
         "b": spelling, "m": model}
    )  # fmt: skip
    typed = pl.when("low").then(pl.col("m").str.to_lowercase()).otherwise("m")
    s = pl.col("s")
    cells = frame.select(
        brand=pl.when(s < 78).then("b"),
        model=pl.when((s < 64) | s.is_between(78, 87))
        .then(typed)
        .when(s.is_between(88, 97))
        .then(pl.concat_str([pl.col("b"), pl.lit(" "), typed])),
        neither=s >= 98,
    )
    return cells, model


def _macs(tables: _Tables, rows: _Rows) -> tuple[pl.Series, pl.Series]:
    """(as written, bare upper-case) MACs: the maker's OUIs, a unique tail, a register's style."""
    oui = tables.ouis.index(rows.brand, rows.draws["oui"]).cast(pl.UInt64)
    zeros = pl.repeat(0, len(rows), dtype=pl.UInt32, eager=True)
    style = tables.mac_styles.index(zeros, rows.draws["mac_style"]).cast(pl.UInt64)
    tail = _permute24(rows.index)
    octets = [tail // 65536, (tail // 256) % 256, tail % 256]
    lower = pl.Series([int(low) for _, low, _ in _MAC_STYLES], dtype=pl.UInt64).gather(style)
    outer = pl.Series([s if s in ":-" else "" for s, _, _ in _MAC_STYLES]).gather(style)
    middle = pl.Series([s for s, _, _ in _MAC_STYLES]).gather(style)
    hexes = [_HEX_BYTES.gather(octet + lower * 256) for octet in octets]
    prefix = tables.oui_styled.gather(oui * len(_MAC_STYLES) + style)
    written = _concat([prefix, outer, hexes[0], middle, hexes[1], outer, hexes[2]])
    bare = _concat([tables.ouis.values.gather(oui), *(_HEX_BYTES.gather(o) for o in octets)])
    return written, bare


def _serials(
    cat: _Catalogue, tables: _Tables, rows: _Rows, model: pl.Series, mac_bare: pl.Series
) -> pl.Series:
    """Serials in each maker's shape, brand by brand (each has its own grammar)."""
    out = pl.repeat(None, len(rows), dtype=pl.String, eager=True)
    fillers = [f"filler{i + 1}" for i in range(_FILLER_DRAWS)]
    for b, brand in enumerate(cat.brands):
        where = (rows.brand == b).arg_true()
        if where.is_empty():
            continue
        spec = brand.serial
        if spec.mac:
            out = out.scatter(where, mac_bare.gather(where))
            continue
        draw = rows.draws["serial"].gather(where)
        prefixes = pl.Series(tables.serial_prefixes[b], dtype=pl.String)
        body = _serial_body(
            rows.index.gather(where),
            [rows.draws[f].gather(where) for f in fillers],
            _ALPHABETS[spec.alphabet],
            spec.width,
        )
        value = _concat([prefixes.gather(draw % len(prefixes)), body])
        if spec.model_share > 0:  # Hikvision style: model + date + batch code + short serial
            infixes = pl.Series(tables.serial_infixes[b], dtype=pl.String)
            stem = model.gather(where).str.extract(r"^(\S+)")
            long = _concat([stem, infixes.gather((draw // 64) % len(infixes)), value])
            use_long = (draw // 4096) % 1000 < round(spec.model_share * 1000)
            value = _where(use_long & long.is_not_null(), long, value)
        out = out.scatter(where, value)
    return out


def _ip_bases(site_counts: Sequence[int], rng: random.Random) -> list[int]:
    """A private block per site: small sites often on 192.168.x, others carved from 10/8, 172.16/12.

    Blocks never overlap in 10/8 and 172.16/12, so addresses are unique within each site.
    """
    bases: list[int] = []
    next10 = next172 = 0  # /24 blocks handed out so far
    for n in site_counts:
        blocks = max(1, math.ceil(n / 250))
        choice = rng.random()
        gap = rng.randint(0, 3)
        if n <= 250 and choice < 0.35:
            bases.append((192 << 24) | (168 << 16) | (rng.randint(0, 254) << 8))
        elif choice < 0.55 and next172 + gap + blocks <= 4096:
            bases.append((172 << 24) | (16 << 16) | ((next172 + gap) << 8))
            next172 += gap + blocks
        else:
            bases.append((10 << 24) | (((next10 + gap) % 65536) << 8))
            next10 += gap + blocks
    return bases


def _ips(site_counts: Sequence[int], rows: _Rows, seed: int) -> pl.Series:
    """Dotted quads from each site's block, 250 hosts (.2-.251) per /24; never contacted."""
    bases = pl.Series(_ip_bases(site_counts, _rng(seed, "ip")), dtype=pl.UInt64)
    ip = bases.gather(rows.site) + (rows.rank // 250) * 256 + 2 + rows.rank % 250
    octets = [((ip // (1 << shift)) % 256).cast(pl.String) for shift in (24, 16, 8, 0)]
    return _concat([octets[0], ".", octets[1], ".", octets[2], ".", octets[3]])


def _install_dates(groups: Sequence[_Group], rows: _Rows) -> pl.Series:
    """Mostly the group's install project, some one-off replacements; UK or ISO format."""
    draw = rows.draws["date"]
    base = _group_column(groups, "day", rows)
    low = _group_column(groups, "low", rows)
    span = _group_column(groups, "high", rows) - low + 1
    one_off = _percent(draw, 0) >= 85
    days = _where(one_off, low + (draw // 10_000) % span, base + (draw // 10_000) % 90)
    dates = days.cast(pl.Int32).cast(pl.Date)
    uk = _percent(draw, 1) < 55
    return _where(uk, dates.dt.strftime("%d/%m/%Y"), dates.dt.strftime("%Y-%m-%d"))


def build_assets(
    sites: Sequence[SiteRecord], devices: int, seed: int, data: SampleData | None = None
) -> pl.DataFrame:
    """The assets register, plus truth (manufacturer_id, restricted, white_label) and the
    region and canonical device type that resources.yaml is sized from."""
    cat = _Catalogue(data or load_data())
    site_counts = allocate_devices(devices, [s.size for s in sites])
    rng = _rng(seed, "devices")
    groups: list[_Group] = []
    for index, n in enumerate(site_counts):
        if n:
            groups += _site_groups(index, n, cat, rng)
    if not groups:
        return _empty_assets()
    tables = _Tables(cat, _rng(seed, "tables"))
    rows = _expand_groups(groups, site_counts, seed)
    cells, model = _brand_and_model(tables, groups, rows)
    mac, mac_bare = _macs(tables, rows)
    has_oui = tables.ouis.totals.gather(rows.brand) > 0
    can_mac = tables.presence["mac"].gather(rows.category) > 0
    keep_mac = has_oui & (_kept(tables, "mac", rows) | (cells["neither"] & can_mac))
    same_fw = _percent(rows.draws["firmware_keep"], 1) < 80
    fw_r = _where(same_fw, _group_column(groups, "firmware_r", rows), rows.draws["firmware"])
    firmware = tables.firmware.pick(rows.brand * tables.n_cat + rows.category, fw_r)
    device_type = tables.device_types.pick(rows.category, rows.draws["device_type"])
    tags = pl.Series([s.asset_tag for s in sites], dtype=pl.String).gather(rows.site)
    kinds = pl.Series([cat.data.categories[c] for c in cat.categories], dtype=pl.String)
    return pl.DataFrame(
        {
            "asset_id": _concat([tags, (rows.index + 1).cast(pl.String).str.zfill(7)]),
            "site_id": pl.Series([s.site_id for s in sites], dtype=pl.String).gather(rows.site),
            "device_type": _blank_unless(device_type, _kept(tables, "device_type", rows)),
            "brand": cells["brand"],
            "model": cells["model"],
            "serial": _blank_unless(
                _serials(cat, tables, rows, model, mac_bare), _kept(tables, "serial", rows)
            ),
            "mac": _blank_unless(mac, keep_mac),
            "ip": _blank_unless(_ips(site_counts, rows, seed), _kept(tables, "ip", rows)),
            "firmware": _blank_unless(firmware, _kept(tables, "firmware", rows)),
            "install_date": _blank_unless(
                _install_dates(groups, rows), _kept(tables, "install_date", rows)
            ),
            "manufacturer_id": tables.makers.gather(rows.brand),
            "restricted": tables.restricted.gather(rows.brand),
            "white_label": tables.white_label.gather(rows.brand),
            "region": pl.Series([s.region for s in sites], dtype=pl.String).gather(rows.site),
            "kind": kinds.gather(rows.category),
        }
    )


def _empty_assets() -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {c: pl.String() for c in ASSET_COLUMNS}
    schema.update(manufacturer_id=pl.String(), restricted=pl.Boolean(), white_label=pl.Boolean())
    schema.update(region=pl.String(), kind=pl.String())
    return pl.DataFrame(schema=schema)


# --------------------------------------------------------------------------- resources


def _monday_on_or_before(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _blackouts(start: date, end: date, regions: set[str]) -> list[dict[str, Any]]:
    """Christmas fortnights everywhere, and the Twelfth of July week in Northern Ireland."""
    out: list[dict[str, Any]] = []
    for year in range(start.year - 1, end.year + 1):
        begin = _monday_on_or_before(date(year, 12, 24))
        if begin < end and begin + timedelta(days=14) > start:
            out.append({"from": begin, "to": begin + timedelta(days=14), "region": None})
        twelfth = _monday_on_or_before(date(year, 7, 12))
        if "northern_ireland" in regions and start <= twelfth < end:
            out.append(
                {"from": twelfth, "to": twelfth + timedelta(days=7), "region": "northern_ireland"}
            )
    return sorted(out, key=lambda b: (b["from"], b["region"] or ""))


def make_resources(
    regions: Sequence[str], demand: dict[str, int], cost: int, data: SampleData | None = None
) -> dict[str, Any]:
    """resources.yaml sized so the restricted estate fits, but only just.

    Crews clear each region's restricted devices in about 60 of the 104 weeks, and each
    quarter's budget pays for about a fifth of the total: both bind, neither makes it infeasible.
    """
    data = data or load_data()
    end = PLAN_START + timedelta(weeks=HORIZON_WEEKS)
    target_weeks = 60
    rows: list[dict[str, Any]] = []
    for region in (r for r in REGION_IDS if r in set(regions)):
        need = demand.get(region, 0)
        capacity = data.regions[region].crew_capacity
        crews = max(1, math.ceil(need / (capacity * target_weeks)))
        if crews == 1:
            capacity = max(1, min(capacity, math.ceil(need / target_weeks)))
        rows.append({"id": region, "crews": crews, "crew_capacity": capacity})
    quarter = max(5_000, math.ceil(cost * 1.1 / 5 / 1_000) * 1_000)
    quarters = [PLAN_START + timedelta(weeks=13 * q) for q in range(HORIZON_WEEKS // 13 + 1)]
    budgets = [
        {"from": begin, "to": end, "amount": quarter} for begin, end in itertools.pairwise(quarters)
    ]
    return {
        "start": PLAN_START,
        "horizon_weeks": HORIZON_WEEKS,
        "regions": rows,
        "unit_costs": dict(UNIT_COSTS),
        "budgets": budgets,
        "blackouts": _blackouts(PLAN_START, end, set(regions)),
    }


class _PlainDumper(yaml.SafeDumper):
    """Safe YAML without anchors: a date shared by two budget periods is written twice."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_resources(resources: dict[str, Any]) -> str:
    """resources.yaml text: plain block YAML, keys in contract order."""
    return yaml.dump(resources, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)


def _demand(assets: pl.DataFrame) -> tuple[dict[str, int], int]:
    """Restricted devices per region, and what removing them all costs."""
    restricted = assets.filter(pl.col("restricted"))
    per_region = restricted.group_by("region").len()
    demand = dict(zip(per_region["region"].to_list(), per_region["len"].to_list(), strict=True))
    per_kind = restricted.group_by("kind").len()
    cost = sum(UNIT_COSTS[k] * n for k, n in zip(per_kind["kind"], per_kind["len"], strict=True))
    return demand, int(cost)


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class SampleFiles:
    """What `write_sample` wrote, and the counts a person wants to see."""

    out_dir: Path
    sites_csv: Path
    assets_csv: Path
    resources_yaml: Path
    truth_csv: Path | None
    sites: int
    devices: int
    sensitive_sites: int
    departments: int
    regions: int
    restricted_devices: int
    dns_log: Path | None = None  # a day of Zeek dns.log for the estate (`--dns`)

    @property
    def files(self) -> list[Path]:
        paths = [self.sites_csv, self.assets_csv, self.resources_yaml]
        return (paths + ([self.truth_csv] if self.truth_csv else [])
                + ([self.dns_log] if self.dns_log else []))

    def summary(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "sites": self.sites,
            "devices": self.devices,
            "sensitive_sites": self.sensitive_sites,
            "departments": self.departments,
            "regions": self.regions,
            "restricted_devices": self.restricted_devices,
            "files": [str(p) for p in self.files],
        }


StepCallback = Callable[[int, int, str], None]


def write_sample(
    out_dir: Path,
    sites: int,
    devices: int,
    seed: int,
    *,
    truth: bool = False,
    dns: bool = False,
    on_step: StepCallback | None = None,
) -> SampleFiles:
    """Write sites.csv, assets.csv, resources.yaml (and truth.csv, and with `dns` a day of
    Zeek dns.log) for one seed.

    `on_step(done, total, label)` is called as each stage starts, for a progress bar.
    """
    _check_sizes(sites, devices)
    labels = ["sites", "devices", "assets.csv", "resources.yaml"] + (["truth.csv"] if truth else [])
    labels += ["dns.log"] if dns else []

    def step(label: str) -> None:
        if on_step:
            on_step(labels.index(label), len(labels), label)

    out_dir.mkdir(parents=True, exist_ok=True)
    step("sites")
    site_rows = make_sites(sites, seed)
    sites_csv = out_dir / "sites.csv"
    pl.DataFrame(
        {c: [getattr(s, c) for s in site_rows] for c in SITE_COLUMNS},
        schema=dict.fromkeys(SITE_COLUMNS, pl.String),
    ).write_csv(sites_csv)
    step("devices")
    assets = build_assets(site_rows, devices, seed)
    step("assets.csv")
    assets_csv = out_dir / "assets.csv"
    assets.select(ASSET_COLUMNS).write_csv(assets_csv)
    step("resources.yaml")
    demand, cost = _demand(assets)
    used_regions = sorted({s.region for s in site_rows})
    resources_yaml = out_dir / "resources.yaml"
    resources = make_resources(used_regions, demand, cost)
    resources_yaml.write_text(dump_resources(resources), encoding="utf-8")
    truth_csv: Path | None = None
    if truth:
        step("truth.csv")
        truth_csv = out_dir / "truth.csv"
        assets.select(TRUTH_COLUMNS).write_csv(truth_csv)
    dns_log: Path | None = None
    if dns:
        from camsweep.sample_dns import write_dns_log

        step("dns.log")
        dns_log = write_dns_log(out_dir / "dns.log", assets, seed).path
    if on_step:
        on_step(len(labels), len(labels), "done")
    return SampleFiles(
        out_dir=out_dir,
        sites_csv=sites_csv,
        assets_csv=assets_csv,
        resources_yaml=resources_yaml,
        truth_csv=truth_csv,
        sites=len(site_rows),
        devices=assets.height,
        sensitive_sites=sum(s.sensitivity == "sensitive" for s in site_rows),
        departments=len({s.department for s in site_rows}),
        regions=len(used_regions),
        restricted_devices=int(assets["restricted"].sum()),
        dns_log=dns_log,
    )


def _check_sizes(sites: int, devices: int) -> None:
    if not 1 <= sites <= MAX_SITES:
        raise ConfigError(f"--sites must be between 1 and {MAX_SITES:,}; got {sites:,}")
    if not 0 <= devices <= MAX_DEVICES:
        raise ConfigError(f"--devices must be between 0 and {MAX_DEVICES:,}; got {devices:,}")

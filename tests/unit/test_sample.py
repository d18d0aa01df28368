"""Sample estates: deterministic, messy like real registers, and still valid for the importer."""

from __future__ import annotations

import csv
import ipaddress
import itertools
import json
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from camsweep.errors import ConfigError
from camsweep.inventory.normalise import device_type_of
from camsweep.sample import (
    ASSET_COLUMNS,
    REGION_IDS,
    SITE_COLUMNS,
    TRUTH_COLUMNS,
    UNIT_COSTS,
    SampleFiles,
    allocate_devices,
    build_assets,
    expand,
    load_data,
    make_sites,
    write_sample,
)

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$")
SITE_ID = re.compile(r"^[A-Z]+-\d{4,}$")
RESTRICTED_MAKERS = {"hikvision", "dahua", "uniview", "tiandy", "huawei"}


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> SampleFiles:
    """One mid-sized estate with truth, shared by the read-only tests."""
    return write_sample(tmp_path_factory.mktemp("estate"), 300, 30_000, 11, truth=True)


@pytest.fixture(scope="module")
def sites(estate: SampleFiles) -> pl.DataFrame:
    return _csv(estate.sites_csv)


@pytest.fixture(scope="module")
def assets(estate: SampleFiles) -> pl.DataFrame:
    return _csv(estate.assets_csv)


@pytest.fixture(scope="module")
def truth(estate: SampleFiles) -> pl.DataFrame:
    assert estate.truth_csv is not None
    return _csv(estate.truth_csv)


@pytest.fixture(scope="module")
def resources(estate: SampleFiles) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(estate.resources_yaml.read_text(encoding="utf-8"))
    return loaded


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", 40, 2_000, 5, truth=True)
    second = write_sample(tmp_path / "b", 40, 2_000, 5, truth=True)
    for one, two in zip(first.files, second.files, strict=True):
        assert one.read_bytes() == two.read_bytes(), one.name


def test_different_seed_differs(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", 40, 2_000, 5)
    second = write_sample(tmp_path / "b", 40, 2_000, 6)
    assert first.sites_csv.read_bytes() != second.sites_csv.read_bytes()
    assert first.assets_csv.read_bytes() != second.assets_csv.read_bytes()


def test_sites_do_not_depend_on_device_count(tmp_path: Path) -> None:
    small = write_sample(tmp_path / "a", 25, 100, 9)
    large = write_sample(tmp_path / "b", 25, 5_000, 9)
    assert small.sites_csv.read_bytes() == large.sites_csv.read_bytes()


# --------------------------------------------------------------------------- shape


def test_headers_exact(estate: SampleFiles) -> None:
    assert estate.truth_csv is not None
    for path, columns in (
        (estate.sites_csv, SITE_COLUMNS),
        (estate.assets_csv, ASSET_COLUMNS),
        (estate.truth_csv, TRUTH_COLUMNS),
    ):
        with path.open(encoding="utf-8", newline="") as fh:
            assert tuple(next(csv.reader(fh))) == columns


def test_summary_counts_match_files(
    estate: SampleFiles, sites: pl.DataFrame, assets: pl.DataFrame
) -> None:
    assert estate.sites == sites.height == 300
    assert estate.devices == assets.height == 30_000
    assert estate.sensitive_sites == sites.filter(pl.col("sensitivity") == "sensitive").height
    assert estate.departments == sites["department"].n_unique()
    assert estate.regions == sites["region"].n_unique()
    summary = estate.summary()
    assert summary["files"] == [str(p) for p in estate.files]
    json.dumps(summary)


def test_asset_ids_unique_and_sites_resolve(sites: pl.DataFrame, assets: pl.DataFrame) -> None:
    assert assets["asset_id"].null_count() == 0
    assert assets["asset_id"].n_unique() == assets.height
    assert sites["site_id"].n_unique() == sites.height
    assert set(assets["site_id"].to_list()) <= set(sites["site_id"].to_list())


def test_site_columns_plausible(sites: pl.DataFrame) -> None:
    assert all(SITE_ID.match(s) for s in sites["site_id"])
    assert set(sites["region"]) <= set(REGION_IDS)
    assert set(sites["sensitivity"]) == {"sensitive", "standard"}
    assert all(POSTCODE.match(p) for p in sites["postcode"])
    assert sites["name"].n_unique() == sites.height
    known = {d.name for d in load_data().departments}
    assert set(sites["department"]) <= known
    assert sites["department"].n_unique() >= 10


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("count", [20, 200])
def test_sensitive_share(seed: int, count: int) -> None:
    generated = make_sites(count, seed)
    share = sum(s.sensitivity == "sensitive" for s in generated) / count
    assert 0.2 <= share <= 0.3


def test_sensitive_sites_are_mostly_the_obvious_ones() -> None:
    generated = make_sites(400, 8)
    prisons = [s for s in generated if s.name.startswith(("HMP ", "HMYOI "))]
    jobcentres = [s for s in generated if s.name.endswith("Jobcentre Plus")]
    assert prisons and jobcentres
    assert sum(s.sensitivity == "sensitive" for s in prisons) / len(prisons) > 0.7
    assert sum(s.sensitivity == "sensitive" for s in jobcentres) / len(jobcentres) < 0.2


def test_department_regions_respected() -> None:
    for site in make_sites(500, 3):
        if site.department in ("DfE", "DHSC", "Defra"):
            assert site.region not in ("scotland", "wales", "northern_ireland")
        if site.department == "Northern Ireland Office":
            assert site.region == "northern_ireland"


# --------------------------------------------------------------------------- messy but valid


def test_macs_varied_yet_valid(assets: pl.DataFrame) -> None:
    macs = assets["mac"].drop_nulls()
    bare = macs.str.replace_all(r"[:\-.]", "")
    assert bare.str.contains(r"^[0-9A-Fa-f]{12}$").all()
    assert bare.str.to_lowercase().n_unique() == len(bare)
    shapes = set(macs.str.replace_all(r"[0-9A-Fa-f]", "h").unique())
    assert shapes == {"hh:hh:hh:hh:hh:hh", "hh-hh-hh-hh-hh-hh", "hhhh.hhhh.hhhh", "hhhhhhhhhhhh"}
    assert macs.str.contains("[a-f]").any()
    assert macs.str.contains("[A-F]").any()
    assert not (macs.str.contains("[a-f]") & macs.str.contains("[A-F]")).any()
    assert 0.2 <= assets["mac"].null_count() / assets.height <= 0.45


def test_dates_in_two_formats(assets: pl.DataFrame) -> None:
    dates = assets["install_date"].drop_nulls().to_list()
    uk = [d for d in dates if re.fullmatch(r"\d{2}/\d{2}/\d{4}", d)]
    iso = [d for d in dates if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d)]
    assert len(uk) + len(iso) == len(dates)
    assert len(uk) > len(dates) / 4 and len(iso) > len(dates) / 4
    parsed = [datetime.strptime(d, "%d/%m/%Y").date() for d in uk]
    parsed += [date.fromisoformat(d) for d in iso]
    assert min(parsed) >= date(2009, 1, 1)
    assert max(parsed) <= date(2025, 12, 31)
    assert assets["install_date"].null_count() > 0


def test_ips_private_and_unique_per_site(assets: pl.DataFrame) -> None:
    with_ip = assets.filter(pl.col("ip").is_not_null())
    assert 0.3 < with_ip.height / assets.height < 0.8
    assert all(ipaddress.IPv4Address(ip).is_private for ip in with_ip["ip"])
    duplicates = with_ip.group_by("site_id").agg(dup=pl.col("ip").is_duplicated().any())
    assert not duplicates["dup"].any()


def test_serials_unique(assets: pl.DataFrame) -> None:
    serials = assets["serial"].drop_nulls()
    assert serials.n_unique() == len(serials)
    assert 0.6 < len(serials) / assets.height < 0.95


def test_brand_and_model_cells_messy(assets: pl.DataFrame) -> None:
    brand, model = assets["brand"], assets["model"]
    assert (brand.is_null() & model.is_not_null()).any()  # model only
    assert (brand.is_not_null() & model.is_null()).any()  # brand only
    combined = model.str.contains(r"^(Hikvision|HIKVISION|Dahua|Axis|Bosch) \S")
    assert (brand.is_null() & combined).any()  # brand and model in one cell
    spellings = set(brand.drop_nulls())
    assert {"Hikvision", "HIKVISION", "Dahua", "DAHUA"} <= spellings
    assert spellings & {"Hikvison", "Hikvsion", "Hikivision", "hik vision", "dahau", "Dahau"}
    assert spellings & {"海康威视", "大华", "大华股份"}
    assert spellings & {"Lorex", "Amcrest", "HiLook", "HiWatch", "EZVIZ", "LTS", "Interlogix"}
    assert spellings & {"Hanwha", "Bosch", "Avigilon", "Mobotix", "Vivotek", "Pelco"}


def test_device_types_map_cleanly_for_the_importer() -> None:
    frame = build_assets(make_sites(60, 4), 4_000, 4)
    typed = frame.filter(pl.col("device_type").is_not_null())
    pairs = typed.select("device_type", "kind").unique().rows()
    assert {k for _, k in pairs} >= {"camera", "nvr", "access_control"}
    for text, kind in pairs:
        assert device_type_of(text).value == kind, text
    assert frame["device_type"].null_count() > 0


def _rows_for(assets: pl.DataFrame, brand_id: str) -> pl.DataFrame:
    spellings = list(load_data().brands[brand_id].spellings)
    return assets.filter(pl.col("brand").is_in(spellings))


@pytest.mark.parametrize(
    ("brand_id", "model_pattern"),
    [
        ("hikvision", r"^i?ds-[0-9a-z]"),
        ("dahua", r"^(dhi?-)?(ipc|sd|hac|nvr|xvr|hcvr|nvs|vto|vth|asi|asr|asc|pfs|nkb)"),
        ("axis", r"^[a-z]{1,2}\d{4}"),
        ("hanwha", r"^[a-z]{3}-"),
        ("lorex", r"^(ln[bez]\d|n8\d|lnr|d8\d|lbv|b\d{3})"),
    ],
)
def test_models_follow_maker_grammar(
    assets: pl.DataFrame, brand_id: str, model_pattern: str
) -> None:
    models = _rows_for(assets, brand_id)["model"].drop_nulls()
    assert len(models) > 0
    assert models.str.to_lowercase().str.contains(model_pattern).all(), models.head(5).to_list()


@pytest.mark.parametrize(
    ("brand_id", "firmware_pattern"),
    [
        ("hikvision", r"^V\d\.\d+\.\d+ build \d{6}$"),
        ("dahua", r"^V?[234]\.\d{3}\.[0-9A-Z]{7}\.\d+\.R"),
    ],
)
def test_firmware_follows_maker_format(
    assets: pl.DataFrame, brand_id: str, firmware_pattern: str
) -> None:
    firmware = _rows_for(assets, brand_id)["firmware"].drop_nulls()
    assert len(firmware) > 0
    assert firmware.str.contains(firmware_pattern).all(), firmware.head(5).to_list()


@pytest.mark.parametrize("brand_id", ["hikvision", "dahua", "axis", "uniview"])
def test_macs_use_the_makers_ouis(assets: pl.DataFrame, brand_id: str) -> None:
    ouis = set(load_data().brands[brand_id].ouis)
    macs = _rows_for(assets, brand_id)["mac"].drop_nulls()
    prefixes = macs.str.replace_all(r"[:\-.]", "").str.to_uppercase().str.slice(0, 6)
    assert len(prefixes) > 0
    assert set(prefixes) <= ouis


def test_recorders_per_camera(assets: pl.DataFrame) -> None:
    frame = build_assets(make_sites(300, 11), 30_000, 11)
    assert frame["asset_id"].to_list() == assets["asset_id"].to_list()  # the fixture's estate
    per_site = frame.group_by("site_id").agg(
        cameras=(pl.col("kind") == "camera").sum(),
        recorders=pl.col("kind").is_in(["nvr", "dvr"]).sum(),
        devices=pl.len(),
    )
    cameras, recorders = int(per_site["cameras"].sum()), int(per_site["recorders"].sum())
    assert 7 <= cameras / recorders <= 18
    big = per_site.filter(pl.col("devices") >= 150)["recorders"].to_list()
    small = per_site.filter(pl.col("devices") < 30)["recorders"].to_list()
    assert big and small
    assert sum(big) / len(big) > 3 * sum(small) / len(small)


# --------------------------------------------------------------------------- truth


def test_truth_consistent(assets: pl.DataFrame, truth: pl.DataFrame) -> None:
    assert truth["asset_id"].to_list() == assets["asset_id"].to_list()
    assert set(truth["restricted"]) == {"true", "false"}
    makers = truth.select("manufacturer_id", "restricted").unique().rows()
    for maker, restricted in makers:
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", maker)
        assert (restricted == "true") == (maker in RESTRICTED_MAKERS), maker
    white = truth.filter(pl.col("white_label") == "true")
    assert white.height > 0
    assert set(white["manufacturer_id"]) <= {"hikvision", "dahua"}


def test_truth_matches_labels(assets: pl.DataFrame, truth: pl.DataFrame) -> None:
    joined = assets.join(truth, on="asset_id")
    lorex = joined.filter(pl.col("brand").is_in(["Lorex", "LOREX"]))
    assert lorex.height > 0
    assert set(lorex["manufacturer_id"]) == {"dahua"}
    assert set(lorex["white_label"]) == {"true"}
    axis = joined.filter(pl.col("brand") == "Axis")
    assert set(axis["manufacturer_id"]) == {"axis"}
    assert set(axis["restricted"]) == {"false"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_restricted_share(seed: int) -> None:
    frame = build_assets(make_sites(300, seed), 30_000, seed)
    share = frame["restricted"].sum() / frame.height
    assert 0.25 <= share <= 0.40


# --------------------------------------------------------------------------- resources


def test_resources_shape(resources: dict[str, Any], sites: pl.DataFrame) -> None:
    assert list(resources) == [
        "start", "horizon_weeks", "regions", "unit_costs", "budgets", "blackouts",
    ]  # fmt: skip
    start = resources["start"]
    assert isinstance(start, date) and start.weekday() == 0
    assert resources["horizon_weeks"] > 0
    regions = {r["id"]: r for r in resources["regions"]}
    assert set(sites["region"]) <= set(regions)
    for row in resources["regions"]:
        assert set(row) == {"id", "crews", "crew_capacity"}
        assert row["crews"] >= 1 and row["crew_capacity"] >= 1
    assert resources["unit_costs"] == UNIT_COSTS


def test_budgets_and_blackouts(resources: dict[str, Any]) -> None:
    start = resources["start"]
    end = start + timedelta(weeks=resources["horizon_weeks"])
    budgets = resources["budgets"]
    assert budgets[0]["from"] == start and budgets[-1]["to"] == end
    for before, after in itertools.pairwise(budgets):
        assert before["to"] == after["from"]
    assert all(b["amount"] > 0 and b["from"].weekday() == 0 for b in budgets)
    blackouts = resources["blackouts"]
    christmas = [b for b in blackouts if b["region"] is None]
    assert len(christmas) == 2
    for b in blackouts:
        assert b["from"] < b["to"] and b["from"].weekday() == 0 and b["to"].weekday() == 0
        assert b["region"] is None or b["region"] in REGION_IDS
        if b["region"] is None:
            assert b["from"].month == 12 and date(b["from"].year, 12, 25) < b["to"]


def test_resources_plannable_but_tight(
    resources: dict[str, Any], assets: pl.DataFrame, truth: pl.DataFrame
) -> None:
    joined = assets.join(truth, on="asset_id").filter(pl.col("restricted") == "true")
    sites = {s.site_id: s.region for s in make_sites(300, 11)}
    demand: dict[str, int] = {}
    for site_id in joined["site_id"]:
        demand[sites[site_id]] = demand.get(sites[site_id], 0) + 1
    weeks = resources["horizon_weeks"] - 2 * len(resources["blackouts"])
    for row in resources["regions"]:
        capacity = row["crews"] * row["crew_capacity"] * weeks
        need = demand.get(row["id"], 0)
        assert capacity >= need, row
        if need > 200:
            assert capacity < 3 * need, row
    total_budget = sum(b["amount"] for b in resources["budgets"])
    assert total_budget >= joined.height * min(UNIT_COSTS.values())
    first_quarter = resources["budgets"][0]["amount"]
    assert first_quarter < joined.height * max(UNIT_COSTS.values())


def test_resources_yaml_is_plain(estate: SampleFiles) -> None:
    text = estate.resources_yaml.read_text(encoding="utf-8")
    assert "&id" not in text and "*id" not in text and "#" not in text
    assert text.startswith("start: ")


# --------------------------------------------------------------------------- edges and API


def test_zero_devices(tmp_path: Path) -> None:
    files = write_sample(tmp_path, 3, 0, 1, truth=True)
    assert files.devices == 0
    assert files.assets_csv.read_text(encoding="utf-8").strip() == ",".join(ASSET_COLUMNS)
    loaded = yaml.safe_load(files.resources_yaml.read_text(encoding="utf-8"))
    assert len(loaded["regions"]) == files.regions


def test_fewer_devices_than_sites(tmp_path: Path) -> None:
    files = write_sample(tmp_path, 30, 10, 2)
    assert files.devices == 10
    assert _csv(files.assets_csv)["asset_id"].n_unique() == 10


@pytest.mark.parametrize(("n_sites", "n_devices"), [(0, 10), (-1, 10), (5, -1)])
def test_bad_sizes_refused(tmp_path: Path, n_sites: int, n_devices: int) -> None:
    with pytest.raises(ConfigError):
        write_sample(tmp_path, n_sites, n_devices, 1)


def test_progress_callback_reaches_the_end(tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    write_sample(tmp_path, 5, 50, 1, truth=True, on_step=lambda d, t, s: calls.append((d, t, s)))
    assert [d for d, _, _ in calls] == list(range(len(calls)))
    assert calls[-1][0] == calls[-1][1] == len(calls) - 1


@given(
    st.integers(min_value=0, max_value=5_000),
    st.lists(st.floats(min_value=0.01, max_value=500), min_size=1, max_size=60),
)
def test_allocate_devices_exact(total: int, sizes: list[float]) -> None:
    counts = allocate_devices(total, sizes)
    assert sum(counts) == total
    assert len(counts) == len(sizes)
    if total >= len(sizes):
        assert min(counts) >= 1


def test_expand_template() -> None:
    rng = random.Random(1)
    assert expand("DS-{7604|7608}NI-K{1..2}", rng) in {
        f"DS-{c}NI-K{k}" for c in ("7604", "7608") for k in (1, 2)
    }
    assert re.fullmatch(r"7\.80\.\d{4}", expand("7.80.{1..150:4}", rng))
    assert re.fullmatch(r"V5\.7\.15 build \d{6}", expand("V5.7.15 build {date:%y%m%d}", rng))
    assert expand("{|-S2}", rng) in {"", "-S2"}
    assert expand("HMP {town}", rng, town="Bootle") == "HMP Bootle"


def test_every_grammar_expands() -> None:
    rng = random.Random(3)
    for name, brand in load_data().brands.items():
        for category, templates in brand.models.items():
            for template in templates:
                value = expand(template, rng)
                assert value and "{" not in value and "}" not in value, (name, category)


def test_large_estate_stays_unique(tmp_path: Path) -> None:
    frame = build_assets(make_sites(800, 21), 200_000, 21)
    macs = frame["mac"].drop_nulls().str.replace_all(r"[:\-.]", "").str.to_lowercase()
    assert macs.n_unique() == len(macs)
    serials = frame["serial"].drop_nulls()
    assert serials.n_unique() == len(serials)
    assert frame["asset_id"].n_unique() == frame.height == 200_000


# --------------------------------------------------------------------------- CLI


def test_cli_json(tmp_path: Path) -> None:
    from camsweep.cli.app import app

    out = tmp_path / "estate"
    result = CliRunner().invoke(
        app,
        ["sample", "--sites", "6", "--devices", "120", "--seed", "3", "--out", str(out),
         "--truth", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["sites"] == 6 and summary["devices"] == 120
    names = {Path(p).name for p in summary["files"]}
    assert names == {"sites.csv", "assets.csv", "resources.yaml", "truth.csv"}
    assert all(Path(p).is_file() for p in summary["files"])
    assert {"sensitive_sites", "departments", "regions"} <= set(summary)


def test_cli_table_and_bad_option(tmp_path: Path) -> None:
    from camsweep.cli.app import app

    runner = CliRunner()
    ok = runner.invoke(app, ["sample", "--sites", "2", "--devices", "10", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "sites.csv" in ok.stdout and "devices" in ok.stdout
    bad = runner.invoke(app, ["sample", "--sites", "0", "--out", str(tmp_path)])
    assert bad.exit_code != 0

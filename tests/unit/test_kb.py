"""The knowledge-base loader: schema, references, sources, generated data, NIL derivation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from camsweep.errors import KnowledgeBaseError
from camsweep.kb import build_oui, data_dir, load_from, load_kb
from camsweep.kb.loader import read_yaml
from camsweep.kb.match import brand_mentions, oui_key, oui_lookup
from camsweep.kb.oui import GENERATED_NAME, build_table, parse_registry
from camsweep.kb.schema import OuiRegistrantsFile


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pristine copy of the packaged KB that tests may break."""
    root = tmp_path_factory.mktemp("kb") / "data"
    shutil.copytree(data_dir(), root)
    return root


def _broken(kb_copy: Path, tmp_path: Path, file: str, edit: str, old: str) -> Path:
    root = tmp_path / "data"
    shutil.copytree(kb_copy, root)
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {file}"
    path.write_text(text.replace(old, edit, 1), encoding="utf-8")
    return root


def test_loads_with_version_and_counts() -> None:
    kb = load_kb()
    version, _, digest = kb.version.partition("+")
    assert version.count(".") == 2 and len(digest) == 12
    assert len(kb.manufacturers) >= 40 and len(kb.brands) >= 40
    assert len(kb.oui) > 39000
    assert load_kb() is kb  # cached


def test_generated_oui_table_is_current() -> None:
    rules = read_yaml(data_dir() / "oui_registrants.yaml", OuiRegistrantsFile)
    committed = (data_dir() / GENERATED_NAME).read_text(encoding="utf-8")
    assert committed == build_table(rules), (
        "generated/oui.tsv is stale: run `camsweep kb build-oui`"
    )


def test_build_oui_writes_the_table(kb_copy: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(kb_copy, root)
    (root / GENERATED_NAME).unlink()
    path, rows = build_oui(root)
    assert path.is_file() and rows > 39000
    assert load_from(root).version.split("+")[0] == load_kb().version.split("+")[0]


def test_registry_parser_reads_ranges() -> None:
    text = (
        "00-50-C2   (hex)   Genetec Inc.\n"
        "BE7000-BE7FFF     (base 16)   Genetec Inc.\n"
        "    2280 Alfred-Nobel Blvd\n    \n    CA\n\n"
        "44-19-B6   (hex)\t\tHangzhou Hikvision Digital Technology Co.,Ltd.\n"
        "4419B6     (base 16)\t\tHangzhou Hikvision Digital Technology Co.,Ltd.\n"
        "\t\t\t\tHangzhou\n\t\t\t\tCN\n"
    )
    entries = list(parse_registry(text))
    assert [(e.prefix, e.country) for e in entries] == [("0050C2BE7", "CA"), ("4419B6", "CN")]


def test_registrants_map_by_exact_name_only() -> None:
    kb = load_kb()
    hik = [e for e in kb.oui.values() if e.brand == "hikvision"]
    dahua = [e for e in kb.oui.values() if e.brand == "dahua"]
    assert len(hik) >= 81 and len(dahua) >= 31
    assert all("dahua" in e.registrant.lower() for e in dahua)
    scale = oui_lookup(kb, "402C761")
    assert scale is not None and scale.brand == ""
    key = oui_key(kb, "40:2C:76:1F:FF:FF")
    assert key == "402C761FF"


def test_module_vendor_blocks_are_flagged() -> None:
    entry = oui_lookup(load_kb(), "20F41B")
    assert entry is not None and entry.module


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("hikvision", True),
        ("dahua", True),
        ("milesight", True),
        ("reolink", True),
        ("swann", True),
        ("lorex", False),
        ("axis", False),
        ("vivotek", False),
        ("hanwha", False),
        ("honeywell", False),
    ],
)
def test_nil_is_derived_from_jurisdiction_and_control(slug: str, expected: bool) -> None:
    info = load_kb().maker(slug)
    assert info is not None and info.subject_to_prc_nil is expected, info


def test_derived_maker_from_registry() -> None:
    info = load_kb().maker("ieee-sunell")
    assert (
        info is not None and info.derived and info.jurisdiction == "CN" and info.subject_to_prc_nil
    )


def test_every_fact_has_a_source() -> None:
    data = yaml.safe_load((data_dir() / "manufacturers.yaml").read_text(encoding="utf-8"))
    for company in data["manufacturers"]:
        assert company["jurisdiction_source"]
        for fact in company.get("listings", []) + company.get("controlled_by", []):
            assert fact["source"], company["slug"]


@pytest.mark.parametrize(
    "text",
    ["Dahlia", "Axia", "Shanghai Dahua Scale Factory", "上海大华衡器", "Busch", "Lorem ipsum"],
)
def test_lookalikes_name_no_brand(text: str) -> None:
    assert brand_mentions(load_kb(), text) == ()


@pytest.mark.parametrize(
    ("text", "brand"),
    [
        ("HIK-VISION", "hikvision"),
        ("hik vision", "hikvision"),
        ("Hikvison", "hikvision"),
        ("Ｈｉｋｖｉｓｉｏｎ", "hikvision"),
        ("大华", "dahua"),
        ("Dahau", "dahua"),
        ("Axis Communications", "axis"),
        ("Honeywel", "honeywell"),
        ("ソニー", "sony"),
        ("Zhejiang Dahua Technology Co., Ltd.", "dahua"),
    ],
)
def test_brand_spellings(text: str, brand: str) -> None:
    assert brand in {m.brand for m in brand_mentions(load_kb(), text)}


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "brands.yaml",
            "maker: hikvision\n        relation: own_brand",
            "maker: hikvisoin\n        relation: own_brand",
            "brands.yaml: field 'hikvision.makers.maker': unknown slug 'hikvisoin'",
        ),
        (
            "models.yaml",
            "pattern: 'DS[- ]?2CD(?P<series>",
            "pattern: 'DS[- ]?2CD(?P<series",
            "models.yaml: field 'rules.0'",
        ),
        ("fingerprints/http_server.yaml", "extracts: [version]", "extracts: [model]", "extracts"),
        (
            "manifest.yaml",
            "min_count: 39000",
            "min_count: 99000",
            "manifest.yaml: field 'datasets.oui.min_count'",
        ),
        (
            "manufacturers.yaml",
            "jurisdiction: SE\n",
            "jurisdiction: Sweden\n",
            "manufacturers.yaml: field 'manufacturers.",
        ),
        (
            "oui_additions.yaml",
            "brand: hikvision",
            "brand: hickvision",
            "oui_additions.yaml: field 'additions.0.brand'",
        ),
    ],
)
def test_errors_name_file_and_field(
    kb_copy: Path, tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    root = _broken(kb_copy, tmp_path, file, new, old)
    with pytest.raises(KnowledgeBaseError) as info:
        load_from(root)
    assert message in str(info.value)


def test_duplicate_alias_is_refused(kb_copy: Path, tmp_path: Path) -> None:
    root = _broken(
        kb_copy,
        tmp_path,
        "brands.yaml",
        "aliases: [Reolink, Reo Link, Lorex,",
        "aliases: [Reolink, Reo Link,",
    )
    with pytest.raises(KnowledgeBaseError, match="also names brand"):
        load_from(root)

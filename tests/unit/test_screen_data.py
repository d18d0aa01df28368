"""The bundled entity graph: valid FollowTheMoney, every fact sourced, floors enforced."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from followthemoney import model

from camsweep.errors import ScreenError
from camsweep.screen.dataset import DATA_DIR, load_bundled, load_from


def test_bundled_data_is_valid_ftm() -> None:
    data = load_bundled()
    assert data.version.startswith("2026.")
    ids = {e.id for e in data.entities}
    for entity in data.entities:
        again = model.get_proxy(entity.to_dict())  # round-trips through the FtM model
        assert again.id == entity.id
        for prop, values in entity.properties.items():
            ftm_prop = entity.schema.get(prop)
            assert ftm_prop is not None
            if ftm_prop.type.name == "entity":
                assert set(values) <= ids, (entity.id, prop, values)


def test_every_fact_has_a_known_source() -> None:
    data = load_bundled()
    cited = {(c.entity_id, c.prop) for c in data.citations}
    for entity in data.entities:
        for prop in entity.properties:
            if prop in ("sourceUrl", "publisher"):
                continue
            assert (entity.id, prop) in cited, (entity.id, prop)
    assert {c.source for c in data.citations} <= set(data.sources)
    for source in data.sources.values():
        assert source.url or source.ref
        assert source.label in ("V", "R", "K")


def test_listings_have_dates_and_lists() -> None:
    data = load_bundled()
    sanctions = [e for e in data.entities if e.schema.name == "Sanction"]
    assert len(sanctions) >= 60
    for s in sanctions:
        assert s.get("listingDate"), s.id
        assert s.get("programId")[0] in data.lists
        assert s.get("sourceUrl"), s.id
    programmes = {s.get("programId")[0] for s in sanctions}
    assert {"us-fcc-covered", "us-ndaa-889", "us-bis-el", "us-dod-1260h",
            "us-ns-cmic"} <= programmes


def test_required_entities_are_there() -> None:
    names = {n for e in load_bundled().entities for n in e.get("name", quiet=True)}
    for required in ("Hikvision UK Limited", "Dahua Technology UK Limited",
                     "Dahua Technology USA Inc.", "Hangzhou EZVIZ Network Co., Ltd.",
                     "China Electronics Technology Group Corporation",
                     "China Electronics Technology HIK Group Co., Ltd.",
                     "Huawei Technologies (UK) Co., Ltd", "Sepura Limited"):
        assert required in names


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_a_shrunk_file_fails_to_load(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "entities.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entity in data["entities"]:
        entity.pop("listings", None)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScreenError, match="fewer facts than the manifest requires"):
        load_from(folder)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e[0].update({"s": "nowhere"}), "unknown source 'nowhere'"),
        (lambda e: e[0].update({"owners": [{"owner": "cs-missing", "role": "x"}]}),
         "unknown entity 'cs-missing'"),
        (lambda e: e[0].update({"alias": ["Ltd."]}), "no identifying words"),
        (lambda e: e[0].update({"marks": ["zzzz"]}), "appears in none of its names"),
        (lambda e: e[0].update({"listings": [{"list": "us-fcc-covered"}]}), "needs a date"),
        (lambda e: e[0].update({"colour": "red"}), "unknown field"),
        (lambda e: e[0]["alias"].append("Zhejiang Dahua Technology Co., Ltd."),
         "is also a name of"),
    ],
)
def test_errors_name_file_and_entity(tmp_path: Path, edit: object, message: str) -> None:
    folder = _copy(tmp_path)
    path = folder / "entities.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data["entities"])  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScreenError, match=message) as err:
        load_from(folder)
    assert "entities.yaml" in str(err.value) and "cs-hikvision" in str(err.value)

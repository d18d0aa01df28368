"""`camsweep identify` and `camsweep kb` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.cli.identify import canonical_columns

runner = CliRunner()


def test_identify_free_text_json() -> None:
    result = runner.invoke(app, ["identify", "Lorex LNB8005", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["manufacturer_id"], data["restricted"], data["oem_of"]) == ("dahua", True, "dahua")


def test_identify_mac_human() -> None:
    result = runner.invoke(app, ["identify", "--mac", "44:19:b6:00:00:01"])
    assert result.exit_code == 0, result.output
    assert "hikvision" in result.stdout and "restricted" in result.stdout


def test_identify_brand_model_options() -> None:
    result = runner.invoke(app, ["identify", "--brand", "Axis", "--model", "M3024-LVE", "--json"])
    assert json.loads(result.stdout)["restricted"] is False


def test_identify_needs_evidence() -> None:
    result = runner.invoke(app, ["identify"])
    assert result.exit_code != 0


def test_identify_jsonl_file(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "1", "evidence": {"brand": "Dahua"}})
        + "\nbroken\n"
        + json.dumps({"id": "3", "evidence": {"brand": "Bosch"}})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["identify", "--jsonl", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x.get("manufacturer_id") for x in lines] == ["dahua", None, "bosch"]
    assert "error" in lines[1]


def test_identify_jsonl_stdin_stdout() -> None:
    line = json.dumps({"id": "x", "evidence": {"model": "DS-2CD2143G2-I"}}) + "\n"
    result = runner.invoke(app, ["identify", "--jsonl", "-"], input=line)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["manufacturer_id"] == "hikvision"


def test_identify_register_to_parquet(tmp_path: Path) -> None:
    register = tmp_path / "assets.csv"
    pl.DataFrame(
        {
            "asset_id": ["A1", "A2"],
            "Make": ["Lorex", "Axis"],
            "Model Number": ["LNB8005", "P1214-E"],
            "MAC Address": ["", "00:40:8C:01:02:03"],
        }
    ).write_csv(register)
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["identify", "--csv", str(register), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert frame.get_column("asset_id").to_list() == ["A1", "A2"]
    assert frame.get_column("manufacturer_id").cast(pl.String).to_list() == ["dahua", "axis"]
    assert "Make" in frame.columns


def test_identify_register_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["identify", "--csv", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code != 0


def test_canonical_columns() -> None:
    assert canonical_columns(["Make", "Model Number", "mac"]) == {
        "Make": "brand",
        "Model Number": "model",
    }


def test_kb_validate() -> None:
    result = runner.invoke(app, ["kb", "validate"])
    assert result.exit_code == 0, result.output
    assert "examples passed" in result.stdout


def test_kb_show_company_and_brand() -> None:
    result = runner.invoke(app, ["kb", "show", "hikvision", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["subject_to_prc_nil"] is True and data["company"]["jurisdiction"] == "CN"
    assert any(row["brand"] == "ezviz" for row in data["stands_behind_brands"])
    lorex = runner.invoke(app, ["kb", "show", "lorex", "--json"])
    relations = {m["maker"]: m["relation"] for m in json.loads(lorex.stdout)["brand"]["makers"]}
    assert relations["dahua"] == "former_subsidiary"
    human = runner.invoke(app, ["kb", "show", "dahua"])
    assert human.exit_code == 0 and "Dahua" in human.stdout


def test_kb_show_unknown() -> None:
    result = runner.invoke(app, ["kb", "show", "nosuchmaker"])
    assert result.exit_code != 0

"""The command line as a user meets it: help, version, import, errors, devices, demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from camsweep import __version__
from camsweep.cli.app import app

runner = CliRunner()
SITES = ("site_id,name,department,region,sensitivity,postcode\n"
         "HO-0001,Marsham Street,Home Office,london,sensitive,SW1P 4DF\n")
ASSETS = ("asset_id,site_id,brand,model,mac\n"
          "A-1,HO-0001,Hikvision,DS-2CD2143G2-I,44:19:b6:00:00:01\n")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point, so error mapping and exit codes are what users get."""
    return subprocess.run([sys.executable, "-m", "camsweep", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_version_and_help() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and __version__ in res.output
    for cmd in ([], ["import"], ["import", "assets"], ["devices", "list"], ["demo"], ["sample"],
                ["db", "upgrade"]):
        res = runner.invoke(app, [*cmd, "--help"])
        assert res.exit_code == 0, (cmd, res.output)
        assert "Usage" in res.output


def test_import_and_list_json(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "assets.csv").write_text(ASSETS)
    assert runner.invoke(app, ["--db", db, "import", "sites", str(tmp_path / "sites.csv")]
                         ).exit_code == 0
    res = runner.invoke(app, ["--db", db, "import", "assets", str(tmp_path / "assets.csv"),
                              "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["created"] == 1
    res = runner.invoke(app, ["--db", db, "devices", "list", "--json"])
    rows = json.loads(res.stdout)
    assert rows[0]["asset_id"] == "A-1" and rows[0]["site_id"] == "HO-0001"
    assert rows[0]["mac"] == "44:19:b6:00:00:01" and rows[0]["sources"] == ["register"]


def test_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    bad = tmp_path / "bad.csv"
    bad.write_text("asset_id,site_id,mac\nA-1,NOPE,zz\nA-2,NOPE,\n")
    errors_out = tmp_path / "errors.csv"
    res = cli("--db", db, "import", "assets", str(bad), "--errors-out", str(errors_out))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "row 2" in res.stderr and "'mac'" in res.stderr and "nothing was imported" in res.stderr
    lines = errors_out.read_text().splitlines()
    assert lines[0] == "file,row,column,reason" and len(lines) == 4
    res = cli("--db", db, "import", "assets", str(tmp_path / "missing.csv"))
    assert res.returncode == 2 and "file not found" in res.stderr
    res = cli("--db", "nonsense://", "devices", "list")
    assert res.returncode == 1 and "Traceback" not in res.stderr


def test_dry_run_shows_mapping_and_exit_code(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    (tmp_path / "sites.csv").write_text(SITES.replace("site_id", "Site Code"))
    res = runner.invoke(app, ["--db", db, "import", "sites", str(tmp_path / "sites.csv"),
                              "--dry-run"])
    assert res.exit_code == 0
    assert "Site Code" in res.stdout and "would import 1" in res.stdout
    res = runner.invoke(app, ["--db", db, "devices", "list", "--json"])
    assert json.loads(res.stdout) == []


@pytest.mark.parametrize("bad", ["nocolumn", "x=notafield"])
def test_bad_map_option(tmp_path: Path, bad: str) -> None:
    (tmp_path / "a.csv").write_text(ASSETS)
    res = cli("--db", f"sqlite:///{tmp_path / 's.db'}", "import", "assets",
              str(tmp_path / "a.csv"), "--map", bad)
    assert res.returncode == 2 and "--map" in res.stderr


def test_demo_imports_the_sample_estate(tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert "Estate:" in res.stdout and "3000 devices" in res.stdout
    assert "by true maker" in res.stdout and "White-label finds" in res.stdout
    assert "Assessment run #1" in res.stdout
    contract = json.loads((tmp_path / "demo" / "assessment.json").read_text())
    assert any(f["action"] == "remove" for f in contract["findings"])
    plan = json.loads((tmp_path / "demo" / "plan.json").read_text())
    removals = {f["asset_id"] for f in contract["findings"] if f["action"] == "remove"
                and f["policy"] == "programme-template"}
    planned = {a["asset_id"] for a in plan["assignments"]} | {
        u["asset_id"] for u in plan["unscheduled"]}
    assert removals <= planned
    assert (tmp_path / "demo" / "timeline.png").stat().st_size > 10_000
    assert "Supplier screening" in res.stdout
    assert "is clean, but" in res.stdout and "white-label Dahua" in res.stdout
    assert (tmp_path / "demo" / "camsweep.db").exists()
    assert "Tracking:" in res.stdout and "chain intact" in res.stdout
    assert "disposed" in res.stdout.split("work orders by state:")[1].splitlines()[0]
    photos = list((tmp_path / "demo" / "evidence").rglob("*.png"))
    assert photos and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in photos)


def test_device_show_reports_provenance_and_history(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "a1.csv").write_text(ASSETS)
    (tmp_path / "a2.csv").write_text(ASSETS.replace("DS-2CD2143G2-I", "DS-2CD2143G2-IS"))
    for args in (["import", "sites", "sites.csv"], ["import", "assets", "a1.csv"],
                 ["import", "assets", "a2.csv"]):
        res = runner.invoke(app, ["--db", db, *args[:2], str(tmp_path / args[2])])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", db, "devices", "show", "A-1", "--json"])
    data = json.loads(res.stdout)
    assert data["device"]["model"] == "DS-2CD2143G2-IS"
    assert data["provenance"]["model"]["name"].endswith("a2.csv")
    assert data["provenance"]["brand"]["name"].endswith("a1.csv")
    assert data["history"] == [{
        "field": "model", "old": "DS-2CD2143G2-I", "new": "DS-2CD2143G2-IS",
        "source": f"assets:{tmp_path / 'a2.csv'}", "changed_at": data["history"][0]["changed_at"]}]
    res = cli("--db", db, "devices", "show", "NOPE")
    assert res.returncode == 1 and "no device with asset_id 'NOPE'" in res.stderr

"""`camsweep assess` and `camsweep policy waiver` as a user runs them (SQLite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_assess_store import build_estate
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.store import open_store

runner = CliRunner()
ARGS = ["assess", "--policy", "uk-wms-2022", "--policy", "uk-sensitive-sites-removal",
        "--param", "organisation_type=central_government", "--as-of", "2024-06-01"]


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = open_store(url)
    try:
        build_estate(store)
    finally:
        store.dispose()
    return url


def test_assess_json_is_the_contract(db: str, tmp_path: Path) -> None:
    out, csv = tmp_path / "a.json", tmp_path / "f.csv"
    res = runner.invoke(app, ["--db", db, *ARGS, "--json", "--out", str(out), "--csv", str(csv)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) == {"as_of", "kb_version", "policies", "devices", "findings"}
    assert json.loads(out.read_text()) == doc
    assert len(csv.read_text().splitlines()) == len(doc["findings"]) + 1
    statuses = {d["asset_id"]: d["status"] for d in doc["devices"]}
    assert statuses["A-1"] == "non_compliant" and statuses["A-4"] == "needs_survey"
    assert {f["action"] for f in doc["findings"]} == {"remove", "disconnect", "survey"}


def test_assess_human_output_rollup_diff_and_explain(db: str) -> None:
    res = runner.invoke(app, ["--db", db, *ARGS])
    assert res.exit_code == 0, res.output
    assert "By department" in res.output and "By sensitivity class" in res.output
    assert "first assessment of these policies" in res.output
    assert "milestone uk-sensitive-sites-removal" in res.output
    res = runner.invoke(app, ["--db", db, *ARGS[:-1], "2025-06-01", "--explain", "A-1"])
    assert res.exit_code == 0, res.output
    assert "since run #1 (as of 2024-06-01)" in res.output and "changed" in res.output
    assert "A-1 at S-SENS (Home Office, sensitive): non_compliant" in res.output
    assert "remove-by-april-2025" in res.output and "overdue" in res.output
    res = runner.invoke(app, ["--db", db, *ARGS, "--dry-run"])
    assert res.exit_code == 0 and "dry run (not saved)" in res.output


def test_assess_errors_are_messages(db: str) -> None:
    base = [sys.executable, "-m", "camsweep", "--db", db, "assess"]
    for extra, message in ((["--as-of", "June"], "--as-of 'June': use YYYY-MM-DD"),
                           (["--param", "programme_deadline"], "write NAME=VALUE"),
                           (["--param", "deadline=2027-01-01"], "unknown parameter 'deadline'"),
                           (["--policy", "no-such-policy"], "unknown policy 'no-such-policy'")):
        proc = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=120,
                              check=False)
        assert proc.returncode != 0
        assert message in proc.stderr and "Traceback" not in proc.stderr


def test_waiver_commands(db: str) -> None:
    res = runner.invoke(app, ["--db", db, "policy", "waiver", "add", "--reference", "W-9",
                              "--asset", "A-5", "--granted-by", "DSO", "--reason", "lease",
                              "--expires", "2026-01-01"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", db, "policy", "waiver", "list", "--json"])
    assert json.loads(res.stdout)[0]["reference"] == "W-9"
    res = runner.invoke(app, ["--db", db, *ARGS, "--json"])
    statuses = {d["asset_id"]: d["status"] for d in json.loads(res.stdout)["devices"]}
    assert statuses["A-5"] == "exempt"
    res = runner.invoke(app, ["--db", db, "policy", "waiver", "add", "--reference", "W-10",
                              "--granted-by", "DSO", "--reason", "nothing named"])
    assert res.exit_code != 0 and "names asset_ids" in str(res.exception)

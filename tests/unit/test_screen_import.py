"""Importing OpenSanctions-style FtM files into the store, and screening against them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.errors import InputError
from camsweep.screen.imports import bundled_replaced, import_entities, load_screener, reset_imports
from camsweep.store import Store
from camsweep.store.models import ScreenEntity
from camsweep.track.audit import iter_audit

# Shaped like an OpenSanctions export: nested and plain references, topics, a Sanction.
ENTITIES = [
    {"id": "os-1", "schema": "Company", "caption": "Norvexa Imaging Co., Ltd.",
     "properties": {"name": ["Norvexa Imaging Co., Ltd."], "country": ["cn"],
                    "topics": ["export.control"], "registrationNumber": ["91330100MA2B0XXX1"]}},
    {"id": "os-2", "schema": "Company", "properties": {"name": ["Quelbrook Distribution Ltd"],
                                                      "country": ["gb"]}},
    {"id": "os-3", "schema": "Ownership", "properties": {
        "owner": [{"id": "os-1", "schema": "Company", "properties": {}}], "asset": ["os-2"],
        "percentage": ["100"]}},
    {"id": "os-4", "schema": "Person", "properties": {"name": ["Ilvana Morocz"]}},
    {"id": "os-5", "schema": "Sanction", "properties": {
        "entity": ["os-4"], "program": ["Test programme"], "authority": ["Test"],
        "listingDate": ["2025-01-01"]}},
    {"id": "os-6", "schema": "Address", "properties": {"full": ["1 Road"]}},
]


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_import_extends_the_bundled_data(store: Store, tmp_path: Path) -> None:
    report = import_entities(store, _write(tmp_path / "e.jsonl", ENTITIES), actor="ann")
    assert (report.entities, report.added, report.updated) == (6, 6, 0)
    assert report.by_schema["Company"] == 2 and report.parties == 3
    assert report.listings == 1 and report.ownerships == 1 and report.restricted_parties >= 1
    assert "added 6" in report.summary()
    s = load_screener(store)
    r = s.screen("Quelbrook Distribution Limited")
    assert (r.match, r.entity_id, r.relation) == (True, "os-1", "subsidiary")
    assert s.screen("Ilvana Morocz", kind="person").relation == "self"
    assert s.screen("Anything", identifiers=["91330100MA2B0XXX1"]).entity_id == "os-1"
    assert s.screen("Hikvision UK Ltd").match  # bundled data still there
    again = import_entities(store, tmp_path / "e.jsonl")
    assert (again.added, again.updated) == (0, 6)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ScreenEntity)) == 6
    assert [e.action for e in iter_audit(store)] == ["screen.data.import"] * 2


def test_replace_drops_the_bundled_data(store: Store, tmp_path: Path) -> None:
    import_entities(store, _write(tmp_path / "a.jsonl", ENTITIES[:1]))
    report = import_entities(store, _write(tmp_path / "b.jsonl", ENTITIES[1:3]), replace=True)
    assert report.bundled == "replaced" and report.replaced_imported == 1
    assert bundled_replaced(store)
    s = load_screener(store)
    assert not s.screen("Hikvision UK Ltd").match
    assert not s.screen("Norvexa Imaging").match
    assert reset_imports(store) == 2
    assert load_screener(store).screen("Hikvision UK Ltd").match


def test_malformed_lines_are_named_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    rows: list[object] = [
        ENTITIES[0],
        "{broken",
        {"schema": "Company", "properties": {}},
        {"id": "x", "schema": "Spaceship", "properties": {}},
        {"id": "y", "schema": "Company", "properties": {"colour": ["red"]}},
        {"id": "z", "schema": "Company", "properties": {"name": "not a list"}},
        [1, 2],
    ]
    with pytest.raises(InputError) as err:
        import_entities(store, _write(tmp_path / "bad.jsonl", rows))
    reasons = {e.row: e.reason for e in err.value.errors}
    assert set(reasons) == {2, 3, 4, 5, 6, 7}
    assert "not valid JSON" in reasons[2] and "'id'" in reasons[3]
    assert "Spaceship" in reasons[4] and "colour" in reasons[5] and "list" in reasons[6]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ScreenEntity)) == 0


def test_dry_run_writes_nothing(store: Store, tmp_path: Path) -> None:
    report = import_entities(store, _write(tmp_path / "e.jsonl", ENTITIES), dry_run=True)
    assert report.added == 6 and report.dry_run
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ScreenEntity)) == 0


def test_screen_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 's.db'}"
    res = runner.invoke(app, ["--db", db, "screen", "Hikvision UK Ltd", "--country", "GB",
                              "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["match"] and out["relation"] == "subsidiary"
    assert not (tmp_path / "s.db").exists()  # screening a name creates no store
    res = runner.invoke(app, ["--db", db, "screen", "Unknown Holdings", "--id", "GB00B1ZBLD47",
                              "--json"])
    assert json.loads(res.stdout)["matched_id"] == "cs-sepura"
    res = runner.invoke(app, ["--db", db, "screen", "Dahua Scale"])
    assert res.exit_code == 0 and "no match" in res.stdout
    src = _write(tmp_path / "in.jsonl", [{"id": "1", "name": "EZVIZ"}, "oops",
                                         {"id": "3", "name": "Unisys"}])
    dst = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["--db", db, "screen", "--jsonl", str(src), "--out", str(dst)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in dst.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["1", None, "3"]
    assert lines[0]["relation"] == "brand" and "error" in lines[1] and not lines[2]["match"]
    res = runner.invoke(app, ["--db", db, "screen", "--jsonl", "-"],
                        input='{"id": "s", "name": "Hytera"}\n')
    assert json.loads(res.stdout)["entity_id"] == "cs-hytera"
    data = _write(tmp_path / "e.jsonl", ENTITIES)
    res = runner.invoke(app, ["--db", db, "screen", "data", "import", str(data), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["added"] == 6
    res = runner.invoke(app, ["--db", db, "screen", "Quelbrook Distribution Ltd", "--json"])
    assert json.loads(res.stdout)["entity_id"] == "os-1"
    res = runner.invoke(app, ["--db", db, "screen", "data", "info", "--json"])
    info = json.loads(res.stdout)
    assert info["datasets"]["imported"] == 3 and "us-fcc-covered" in info["bundled_lists"]
    res = runner.invoke(app, ["--db", db, "screen", "data", "export"])
    assert res.exit_code == 0 and '"cs-hikvision"' in res.stdout
    res = runner.invoke(app, ["--db", db, "screen"])
    assert res.exit_code in (0, 2) and "Usage" in res.output
    res = runner.invoke(app, ["--db", db, "screen", "--help"])
    assert "bid" in res.output and "data" in res.output

"""Bids: supplier and subcontractors by name, products through identification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.errors import InputError
from camsweep.screen import Screener
from camsweep.screen.bid import read_bid, screen_bid

# Product rows as bids list them; makers per the identification KB (Lorex and Honeywell
# units of these models are Dahua-made, the Hikvision one is Hikvision's own).
PRODUCTS = [
    {"brand": "Lorex", "model": "LNB8005", "quantity": 40},
    {"brand": "Honeywell", "model": "HBD2PR1", "quantity": 10},
    {"brand": "Hikvision", "model": "DS-2CD2143G2-I", "quantity": 5},
    {"brand": "Axis", "model": "P3245", "quantity": 20},
    {"brand": "Bosch", "model": "NBN-73013", "quantity": 2},
]


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener.bundled()


def test_json_bid(tmp_path: Path, screener: Screener) -> None:
    path = tmp_path / "bid.json"
    path.write_text(json.dumps({
        "supplier": {"name": "Northgate Security Ltd", "country": "GB"},
        "subcontractors": ["Hikvision UK Ltd", {"name": "Acme Cabling Ltd"}],
        "products": PRODUCTS,
    }))
    report = screen_bid(read_bid(path), screener)
    roles = [(p.role, r.match) for p, r in report.parties]
    assert roles == [("supplier", False), ("subcontractor", True), ("subcontractor", False)]
    s = report.summary
    assert (s["rows"], s["units"], s["restricted_rows"], s["white_label_rows"]) == (5, 77, 3, 2)
    makers = {m["maker"]: m for m in s["by_maker"]}
    dahua = next(m for name, m in makers.items() if "Dahua" in name)
    assert (dahua["rows"], dahua["white_label_rows"], dahua["units"]) == (2, 2, 50)
    assert report.headline.startswith("supplier Northgate Security Ltd is clean, but ")
    assert "white-label" in report.headline and "Dahua" in report.headline
    assert "Hikvision UK Ltd matches" in report.headline
    assert report.flagged
    as_dict = report.as_dict()
    assert as_dict["products"][0]["white_label"] is True
    assert as_dict["parties"][1]["relation"] == "subsidiary"


def test_csv_bid_with_type_column(tmp_path: Path, screener: Screener) -> None:
    path = tmp_path / "bid.csv"
    path.write_text(
        "Type,Name,Country,Make,Model No,Qty\n"
        "supplier,Dahua Technology UK Ltd,GB,,,\n"
        "subcontractor,Acme Cabling Ltd,GB,,,\n"
        "product,,,Axis,P3245,3\n"
        "product,,,Bosch,NBN-73013,1\n"
    )
    report = screen_bid(read_bid(path), screener)
    assert report.parties[0][1].match and report.parties[0][1].entity_id == "cs-dahua"
    assert report.summary["restricted_rows"] == 0
    assert "none of its 2 products is from a restricted maker" in report.headline


def test_xlsx_bid_with_supplier_option(tmp_path: Path, screener: Screener) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Manufacturer", "Model", "Quantity"])
    ws.append(["Lorex", "LNB8005", 4])
    ws.append(["Axis", "P3245", 1])
    path = tmp_path / "bid.xlsx"
    wb.save(path)
    report = screen_bid(read_bid(path, supplier="Clean Supplier Ltd",
                                 subcontractors=["EZVIZ Inc."]), screener)
    assert [p.role for p, _ in report.parties] == ["supplier", "subcontractor"]
    assert report.parties[1][1].relation == "brand"
    assert report.summary["restricted_rows"] == 1


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.json", "{oops", "not valid JSON"),
        ("list.json", "[1, 2]", "must be an object"),
        ("rows.json", json.dumps({"products": [{"quantity": 1}]}), "brand, model or description"),
        ("qty.csv", "brand,model,qty\nAxis,P3245,many\n", "not a number"),
        ("type.csv", "type,name,brand\nrobot,x,\n", "row type 'robot'"),
        ("nohead.csv", "colour,size\nred,big\n", "no product columns"),
        ("empty.json", "{}", "names no supplier"),
    ],
)
def test_malformed_bids(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_bid(path)


def test_bid_cli(tmp_path: Path) -> None:
    path = tmp_path / "bid.json"
    path.write_text(json.dumps({"supplier": "Northgate Security Ltd", "products": PRODUCTS}))
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'b.db'}"
    res = runner.invoke(app, ["--db", db, "screen", "bid", str(path)])
    assert res.exit_code == 0, res.output
    assert "FLAGGED" in res.stdout and "white-label" in res.stdout
    res = runner.invoke(app, ["--db", db, "screen", "bid", str(path), "--json"])
    assert json.loads(res.stdout)["summary"]["restricted_rows"] == 3

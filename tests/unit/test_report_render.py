"""The renderers on a hand-made report: what each format promises, without a store."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from camsweep.errors import ReportError
from camsweep.report.model import (
    BarChart,
    Column,
    Facts,
    Provenance,
    Report,
    Section,
    SignOff,
    Table,
    Text,
    display,
    slug,
)
from camsweep.report.output import format_for, write_report
from camsweep.report.to_csv import render_csv_zip
from camsweep.report.to_html import html_text, render_html
from camsweep.report.to_json import render_json
from camsweep.report.to_pdf import render_pdf
from camsweep.report.to_xlsx import render_xlsx

HOSTILE = "<script>alert(1)</script>"
FORMULA = "=HYPERLINK(\"http://example.invalid\",\"click\")"


def sample_report() -> Report:
    devices = Table(
        "devices", "Devices",
        [Column("asset_id", "Asset"), Column("brand", "Brand"), Column("count", "Count", "int"),
         Column("cost", "Cost", "money"), Column("installed", "Installed", "date")],
        [["HO/0001", HOSTILE, 3, 1950.0, date(2021, 5, 4)],
         ["HO/0002", FORMULA, 1, 650.5, None]],
        total=["total", "", 4, 2600.5, ""], note="Costs are estimates.")
    return Report(
        kind="return", title="Test return", scope="Department: Home Office",
        provenance=Provenance(generated_at=datetime(2026, 11, 27, 9, 30),
                              data_as_of=datetime(2026, 11, 26, 18, 0), assessment_run=4,
                              assessment_as_of=date(2026, 11, 26), kb_version="1.2.3",
                              policies=[{"id": "uk-wms-2022", "version": "1.0.0",
                                         "sha256": "abc123"}],
                              plan_id=7, plan_created_at="2026-11-26T19:00:00",
                              plan_status="feasible"),
        sections=[
            Section("Summary", [Facts("summary", "Summary", [("Sites", 12),
                                                             ("Planned cost", 2600.5)]),
                                Text(["Plain words & <b>no markup</b>."]), devices]),
            Section("Charts", [BarChart("cost_chart", "Cost by quarter", ["2027-Q1", "2027-Q2"],
                                        [("cost", [1950.0, 650.5])], "cost")]),
            Section("Sign-off", [SignOff("Signatures", ["Prepared by", "Approved by"])]),
        ],
        stem="return-home-office")


def test_table_checks_its_shape() -> None:
    with pytest.raises(ValueError, match="snake"):
        Table("Bad Key", "t", [Column("a", "A")], [])
    with pytest.raises(ValueError, match="2 values for 1 columns"):
        Table("t", "t", [Column("a", "A")], [[1, 2]])
    report = sample_report()
    report.sections[0].blocks.append(Table("devices", "again", [Column("a", "A")], []))
    with pytest.raises(ValueError, match="not unique"):
        report.tables()


def test_display_and_slug() -> None:
    assert display(None) == "–" and display(True) == "yes"
    assert display(1234567, "int") == "1,234,567" and display(0.256, "percent") == "25.6%"
    assert display(2600.5, "money") == "2,600.50" and display(2600.0) == "2,600"
    assert display(date(2027, 1, 4)) == "2027-01-04" and display(["a", "b"]) == "a; b"
    assert slug("MOJ/SEC/0000208") == "moj-sec-0000208" and slug("///") == "report"


def test_html_escapes_store_text_and_inlines_plotly() -> None:
    page = render_html(sample_report()).decode()
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;no markup&lt;/b&gt;" in page
    assert "Plotly.newPlot(\"c-cost_chart\"" in page
    assert "<script src" not in page and len(page) > 1_000_000, "plotly.js is inlined"
    printed = html_text(sample_report(), print_mode=True)
    assert "data:image/png;base64," in printed and "Plotly" not in printed
    for label in ("Knowledge base", "1.2.3", "uk-wms-2022 1.0.0 (sha256 abc123)",
                  "plan 7 made 2026-11-26T19:00:00, status feasible"):
        assert label in printed


def test_pdf_has_the_text_and_the_chart() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(sample_report())))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for expected in ("Test return", "Department: Home Office", "HO/0001", "2,600.50",
                     "Knowledge base", "1.2.3", "Prepared by", "Approved by", HOSTILE):
        assert expected in text, expected
    assert len({i.name for p in reader.pages for i in p.images}) == 1, "the one chart"
    assert reader.metadata is not None and reader.metadata.title == "Test return"


def test_xlsx_about_sheet_header_and_safe_text() -> None:
    book = load_workbook(io.BytesIO(render_xlsx(sample_report())))
    assert book.sheetnames == ["About", "Devices"]
    about = [r for r in book["About"].iter_rows(values_only=True) if r[0]]
    assert about[0][0] == "Test return" and ("Knowledge base", "1.2.3") in about
    assert ("Sites", 12) in about and ("Prepared by", None) in about
    assert ("Devices", "Costs are estimates.") in about
    ws = book["Devices"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:E3"
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("1A4DA6")
    assert ws["B3"].value == FORMULA and ws["B3"].data_type == "s", "never a formula"
    assert ws["C2"].value == 3 and ws["D3"].number_format == "#,##0.00"
    assert ws["E2"].value == datetime(2021, 5, 4) and ws["E2"].number_format == "yyyy-mm-dd"
    assert ws["A4"].value == "total" and ws["A4"].font.bold
    assert ws.column_dimensions["B"].width >= len(FORMULA)


def test_csv_zip_and_json() -> None:
    with zipfile.ZipFile(io.BytesIO(render_csv_zip(sample_report()))) as z:
        names = z.namelist()
        assert names == ["return-home-office/about.csv", "return-home-office/devices.csv"]
        about = list(csv.reader(io.StringIO(z.read(names[0]).decode())))
        devices = list(csv.DictReader(io.StringIO(z.read(names[1]).decode())))
    assert ["provenance", "Knowledge base", "1.2.3"] in about
    assert ["summary", "Sites", "12"] in about
    assert devices[0] == {"asset_id": "HO/0001", "brand": HOSTILE, "count": "3",
                          "cost": "1950.0", "installed": "2021-05-04"}
    assert devices[-1]["asset_id"] == "total"
    doc = json.loads(render_json(sample_report()))
    assert doc["provenance"]["policies"][0]["version"] == "1.0.0"
    assert doc["provenance"]["plan"] == {"id": 7, "created_at": "2026-11-26T19:00:00",
                                         "status": "feasible"}
    assert doc["tables"]["devices"]["rows"][1]["installed"] is None
    assert doc["facts"]["summary"] == {"Sites": 12, "Planned cost": 2600.5}
    assert doc["sign_off"][0]["fields"] == ["Name", "Role", "Signature", "Date"]


def test_output_formats_and_paths(tmp_path: Path) -> None:
    assert format_for(Path("r.xlsx"), None) == "xlsx"
    assert format_for(Path("r.zip"), None) == "csv"
    assert format_for(Path("r"), None) == "pdf"
    assert format_for(Path("r.bin"), "JSON") == "json"
    with pytest.raises(ReportError, match=r"\.zip"):
        format_for(Path("r.csv"), "csv")
    with pytest.raises(ReportError, match="--format csv"):
        format_for(Path("r.zip"), "pdf")
    written = write_report(sample_report(), tmp_path / "csv-out", "csv")
    assert sorted(p.name for p in written) == ["about.csv", "devices.csv"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError, match="cannot write"):
        write_report(sample_report(), blocker / "r.json")

"""XLSX: an `About` sheet (provenance, facts, notes, sign-off), then one sheet per table.

Sheets are named from the table keys (`devices_by_maker_status` becomes "Devices by maker
status"), the same names as the CSV files, so scripts find them whichever format they read.

Each table sheet has a styled header row, frozen panes under it, a filter, widths fitted to
the content, and real numbers and dates (not text), so the figures can be summed and sorted.
Text that looks like a formula is stored as text: register cells are user input.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from camsweep.report.model import ColumnKind, Report, Table, display

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1A4DA6")
BOLD = Font(bold=True)
MAX_WIDTH = 60
FORMATS: dict[str, str] = {"int": "#,##0", "money": "#,##0.00", "float": "0.00",
                           "percent": "0.0%", "date": "yyyy-mm-dd",
                           "datetime": "yyyy-mm-dd hh:mm:ss"}


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | datetime | date):
        return value
    if isinstance(value, list | tuple):
        value = "; ".join(display(v) for v in value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _put(ws: Any, row: int, col: int, value: Any, kind: ColumnKind = "text") -> Any:
    cell = ws.cell(row=row, column=col)
    value = _value(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif kind in FORMATS and value is not None:
        cell.number_format = FORMATS[kind]
    return cell


def _fit(ws: Any, widths: dict[int, int]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(MAX_WIDTH, max(8, width + 2))


def _sheet_titles(tables: list[Table]) -> list[str]:
    used = {"about"}
    titles = []
    for t in tables:
        base = t.key.replace("_", " ").capitalize()[:31]
        title, n = base, 2
        while title.lower() in used:
            suffix = f" ({n})"
            title, n = base[:31 - len(suffix)] + suffix, n + 1
        used.add(title.lower())
        titles.append(title)
    return titles


def _about(ws: Any, report: Report) -> None:
    ws.title = "About"
    _put(ws, 1, 1, report.title).font = Font(bold=True, size=14)
    _put(ws, 2, 1, report.scope)
    row = 4
    blocks: list[tuple[str, list[tuple[str, Any]]]] = [
        ("About this report", report.provenance.items())]
    blocks += [(f.title or f.key, list(f.items)) for f in report.facts()]
    notes = [(t.title, t.note) for t in report.tables() if t.note]
    if notes:
        blocks.append(("Notes", notes))
    for title, items in blocks:
        _put(ws, row, 1, title).font = BOLD
        row += 1
        for label, value in items:
            _put(ws, row, 1, label)
            _put(ws, row, 2, value).alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
        row += 1
    for sign in report.sign_offs():
        _put(ws, row, 1, sign.title).font = BOLD
        row += 1
        if sign.statement:
            _put(ws, row, 1, sign.statement)
            row += 1
        for who in sign.signatories:
            _put(ws, row, 1, who).font = BOLD
            row += 1
            for name in sign.fields:
                _put(ws, row, 1, name)
                _put(ws, row, 2, "")
                row += 1
            row += 1
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100


def _table_sheet(ws: Any, table: Table) -> None:
    widths: dict[int, int] = {}
    for j, column in enumerate(table.columns, start=1):
        cell = _put(ws, 1, j, column.label)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=False)
        widths[j] = len(column.label)
    for i, row in enumerate(table.all_rows(), start=2):
        bold = table.total is not None and i == len(table.rows) + 2
        for j, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
            cell = _put(ws, i, j, value, column.kind)
            if bold:
                cell.font = BOLD
            widths[j] = max(widths[j], len(display(value, column.kind)))
    ws.freeze_panes = "A2"
    if table.columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    _fit(ws, widths)


def render_xlsx(report: Report) -> bytes:
    workbook = Workbook()
    _about(workbook.active, report)
    tables = report.tables()
    for table, title in zip(tables, _sheet_titles(tables), strict=True):
        _table_sheet(workbook.create_sheet(title), table)
    workbook.properties.title = report.title
    workbook.properties.creator = "camsweep"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

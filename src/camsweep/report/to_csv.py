"""CSV: one file per table, always with `about.csv` (provenance, scope and facts) beside them.

A report of several tables cannot be one CSV, and a CSV without its as-of time and versions
is a figure nobody can check; so CSV output is a set of files, delivered as a ZIP archive
(`--out NAME.zip`, and always for web downloads) or written into a folder (`--out DIR`).
Values are written as they are, for machines: a spreadsheet opened on a CSV may treat text
starting with `=` as a formula, so people should be given the XLSX instead.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from camsweep.report.model import Report, plain

ABOUT = "about"


def _text(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return buffer.getvalue()


def _cell(value: object) -> object:
    value = plain(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_files(report: Report) -> dict[str, str]:
    """File name -> CSV text, `about.csv` first."""
    about: list[list[object]] = [["section", "item", "value"],
                                 ["report", "kind", report.kind],
                                 ["report", "title", report.title],
                                 ["report", "scope", report.scope]]
    about += [["provenance", label, value] for label, value in report.provenance.items()]
    for facts in report.facts():
        about += [[facts.key, label, value] for label, value in facts.items]
    files = {f"{ABOUT}.csv": _text(about)}
    for table in report.tables():
        files[f"{table.key}.csv"] = _text([[c.key for c in table.columns], *table.all_rows()])
    return files


def render_csv_zip(report: Report) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in csv_files(report).items():
            info = zipfile.ZipInfo(f"{report.stem}/{name}",
                                   date_time=report.provenance.generated_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def write_csv_dir(report: Report, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in csv_files(report).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written

"""Writing a report to a path: the format from `--format` or the file's suffix.

Files are written whole or not at all (a temporary file renamed into place), so a report
killed half-way never leaves a truncated PDF where the last good one was.
"""

from __future__ import annotations

from pathlib import Path

from camsweep.errors import ReportError
from camsweep.files import write_atomic
from camsweep.report.build import FORMATS, renderer
from camsweep.report.model import Report

BY_SUFFIX = {".pdf": "pdf", ".xlsx": "xlsx", ".json": "json", ".html": "html", ".htm": "html",
             ".zip": "csv"}


def format_for(out: Path, fmt: str | None) -> str:
    """The format asked for, else the one `out`'s suffix names, else PDF."""
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise ReportError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    else:
        fmt = BY_SUFFIX.get(out.suffix.lower(), "pdf")
    if fmt == "csv" and out.suffix.lower() == ".csv":
        raise ReportError(f"--out {out}: a CSV report is one file per table plus about.csv; "
                          "give a .zip name, or a folder to write them into")
    if fmt != "csv" and out.suffix.lower() == ".zip":
        raise ReportError(f"--out {out}: a .zip holds the CSV format; use --format csv")
    return fmt


def write_report(report: Report, out: Path, fmt: str | None = None) -> list[Path]:
    """Render and write; returns the paths written (several for CSV into a folder)."""
    fmt = format_for(out, fmt)
    try:
        if fmt == "csv" and out.suffix.lower() != ".zip":
            from camsweep.report.to_csv import write_csv_dir

            return write_csv_dir(report, out)
        write_atomic(out, renderer(fmt)(report))
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return [out]

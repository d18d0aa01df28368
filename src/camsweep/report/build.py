"""`build_report`: a report of any kind, in any format, as bytes; what the CLI and web call.

    data, content_type, filename = build_report(store, "return", department="DWP", fmt="xlsx")

CSV comes as a ZIP archive of one file per table plus `about.csv` (see `to_csv`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Final

from camsweep.errors import ReportError
from camsweep.report.model import Report
from camsweep.report.scope import resolve_scope
from camsweep.store import Store

KINDS: Final = ("return", "timeline", "public-timeline", "dossier", "screening")
FORMATS: Final = ("pdf", "xlsx", "csv", "json", "html")
CONTENT_TYPES: Final = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}
SUFFIXES: Final = {"pdf": ".pdf", "xlsx": ".xlsx", "csv": ".zip", "json": ".json",
                   "html": ".html"}


def make_report(store: Store, kind: str, *, department: str | None = None,
                subject: str | None = None, site_pks: Collection[int] | None = None) -> Report:
    """The report's data model, scoped to the department and/or the sites given."""
    if kind not in KINDS:
        raise ReportError(f"unknown report {kind!r}: choose one of {', '.join(KINDS)}")
    if kind == "screening":
        from camsweep.report.screening import build_screening

        return build_screening(store, subject)
    scope = resolve_scope(store, department, site_pks)
    if kind == "return":
        from camsweep.report.returns import build_return

        return build_return(store, scope)
    if kind == "timeline":
        from camsweep.report.timeline import build_timeline

        return build_timeline(store, scope)
    if kind == "public-timeline":
        from camsweep.report.public_timeline import build_public_timeline

        return build_public_timeline(store, scope)
    from camsweep.report.dossier import build_dossier

    return build_dossier(store, scope, subject)


def renderer(fmt: str) -> Callable[[Report], bytes]:
    if fmt == "pdf":
        from camsweep.report.to_pdf import render_pdf

        return render_pdf
    if fmt == "xlsx":
        from camsweep.report.to_xlsx import render_xlsx

        return render_xlsx
    if fmt == "csv":
        from camsweep.report.to_csv import render_csv_zip

        return render_csv_zip
    if fmt == "json":
        from camsweep.report.to_json import render_json

        return render_json
    if fmt == "html":
        from camsweep.report.to_html import render_html

        return render_html
    raise ReportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def build_report(store: Store, kind: str, *, department: str | None = None,
                 subject: str | None = None, fmt: str = "pdf",
                 site_pks: Collection[int] | None = None) -> tuple[bytes, str, str]:
    """(content, content type, file name) of one report in one format."""
    render = renderer(fmt)
    report = make_report(store, kind, department=department, subject=subject,
                         site_pks=site_pks)
    return render(report), CONTENT_TYPES[fmt], report.stem + SUFFIXES[fmt]


def log_export(store: Store, who: str, kind: str, what: str, fmt: str,
               files: Sequence[str]) -> None:
    """Reports leave the system: each export is logged in the audit log, whoever asked."""
    from camsweep.track.audit import append_audit

    if kind == "screening":
        object_type, object_id, action = "case", what.strip().upper(), "case.export"
    else:
        object_type, object_id, action = "report", f"{kind}:{what}", "report.export"
    with store.engine.begin() as conn:
        append_audit(conn, who, action, object_type, object_id,
                     {"format": fmt, "files": list(files)})

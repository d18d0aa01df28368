"""PDF: the print version of the HTML page, laid out by WeasyPrint.

Charts are Matplotlib PNGs (no script runs in a PDF). WeasyPrint needs Debian's pango
(installed by `make system-deps`); a missing library is reported as such, not as a trace.
"""

from __future__ import annotations

import logging

from camsweep.errors import ReportError
from camsweep.report.model import Report
from camsweep.report.to_html import html_text


def render_pdf(report: Report) -> bytes:
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except OSError as exc:  # cffi raises OSError when pango or harfbuzz is absent
        raise ReportError(f"PDF output needs WeasyPrint's system libraries (pango): {exc}; "
                          "run 'make system-deps'") from exc
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = HTML(string=html_text(report, print_mode=True))
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):
        raise ReportError("WeasyPrint returned no PDF")
    return pdf

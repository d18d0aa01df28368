"""Reports from the store: compliance returns, the removal timeline and its public version,
device and site dossiers, screening case files — as PDF, XLSX, CSV, JSON or HTML.

Builders (one module per kind) turn the store into a plain `Report`; renderers (`to_*`)
turn a `Report` into bytes. See docs/reports.md.
"""

from camsweep.report.build import CONTENT_TYPES, FORMATS, KINDS, build_report, make_report
from camsweep.report.model import Report

__all__ = ["CONTENT_TYPES", "FORMATS", "KINDS", "Report", "build_report", "make_report"]

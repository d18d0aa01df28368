"""What a report is, before it is rendered: plain data every renderer reads the same way.

A report builder queries the store once and returns a `Report`; the HTML, PDF, XLSX, CSV and
JSON renderers never touch the store. So the figures in a PDF and in the XLSX of the same
report cannot disagree, and a test can check the model instead of parsing five formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from camsweep.plan.resources import Resources
from camsweep.plan.schema import Plan

ColumnKind = Literal["text", "int", "money", "float", "percent", "date", "datetime", "hash",
                     "url"]
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass
class Table:
    """Rows of plain values; `key` names the sheet, the CSV file and the JSON member."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    note: str | None = None
    total: list[Any] | None = None  # a totals row, shown apart and exported last

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"table key {self.key!r} must be lower_snake_case")
        width = len(self.columns)
        for row in [*self.rows, *([self.total] if self.total is not None else [])]:
            if len(row) != width:
                raise ValueError(f"table {self.key}: a row has {len(row)} values for "
                                 f"{width} columns")

    def all_rows(self) -> list[list[Any]]:
        return [*self.rows, *([self.total] if self.total is not None else [])]

    def records(self) -> list[dict[str, Any]]:
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.all_rows()]


@dataclass
class Facts:
    """Labelled single values: a device's fields, a plan's headline figures."""

    key: str
    title: str | None
    items: list[tuple[str, Any]]


@dataclass
class Text:
    paragraphs: list[str]
    title: str | None = None


@dataclass(frozen=True)
class GanttChart:
    """The planner's timeline; drawn by `plan.chart` for print and by Plotly for HTML."""

    key: str
    title: str
    plan: Plan
    resources: Resources


@dataclass(frozen=True)
class BarChart:
    key: str
    title: str
    categories: list[str]
    series: list[tuple[str, list[float]]]
    y_label: str
    stacked: bool = False


Chart = GanttChart | BarChart


@dataclass
class SignOff:
    """Blank lines for the people who sign the return; rendered, never filled in."""

    title: str
    signatories: list[str]
    fields: tuple[str, ...] = ("Name", "Role", "Signature", "Date")
    statement: str | None = None


Block = Table | Facts | Text | GanttChart | BarChart | SignOff


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Provenance:
    """Where a report's figures come from, stated on every report."""

    generated_at: datetime
    data_as_of: datetime | None = None
    assessment_run: int | None = None
    assessment_as_of: date | None = None
    kb_version: str | None = None
    policies: list[dict[str, Any]] = field(default_factory=list)  # id, version, sha256
    plan_id: int | None = None
    plan_created_at: str | None = None
    plan_status: str | None = None
    extra: list[tuple[str, str]] = field(default_factory=list)
    kinds: tuple[str, ...] = ("data", "assessment", "kb", "policies", "plan")

    def items(self) -> list[tuple[str, str]]:
        """Human-readable lines, in the order a reader checks them."""
        out: list[tuple[str, str]] = [("Generated", _stamp(self.generated_at))]
        if "data" in self.kinds:
            out.append(("Data as of", _stamp(self.data_as_of) if self.data_as_of
                        else "no imports or scans recorded"))
        if "assessment" in self.kinds:
            out.append(("Assessment", f"run {self.assessment_run}, as of "
                        f"{self.assessment_as_of}" if self.assessment_run is not None
                        else "not assessed"))
        if "kb" in self.kinds:
            out.append(("Knowledge base", self.kb_version or "not recorded"))
        if "policies" in self.kinds:
            out.append(("Policies", "; ".join(
                f"{p['id']} {p.get('version') or '?'}"
                + (f" (sha256 {p['sha256']})" if p.get("sha256") else "")
                for p in self.policies) or "none"))
        if "plan" in self.kinds:
            out.append(("Plan", f"plan {self.plan_id} made {self.plan_created_at}, status "
                        f"{self.plan_status}" if self.plan_id is not None else "no stored plan"))
        return [*out, *self.extra]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"generated_at": self.generated_at.isoformat()}
        if "data" in self.kinds:
            out["data_as_of"] = self.data_as_of.isoformat() if self.data_as_of else None
        if "assessment" in self.kinds:
            out["assessment_run"] = self.assessment_run
            out["assessment_as_of"] = (self.assessment_as_of.isoformat()
                                       if self.assessment_as_of else None)
        if "kb" in self.kinds:
            out["kb_version"] = self.kb_version
        if "policies" in self.kinds:
            out["policies"] = self.policies
        if "plan" in self.kinds:
            out["plan"] = ({"id": self.plan_id, "created_at": self.plan_created_at,
                            "status": self.plan_status} if self.plan_id is not None else None)
        for label, value in self.extra:
            out[_snake(label)] = value
        return out


@dataclass
class Report:
    kind: str
    title: str
    scope: str  # who the figures cover: "Department: DWP", "All departments (central return)"
    provenance: Provenance
    sections: list[Section]
    stem: str  # file name without suffix
    public: bool = False  # safe to publish: renderers add nothing from the store either

    def blocks(self) -> Iterator[Block]:
        for section in self.sections:
            yield from section.blocks

    def tables(self) -> list[Table]:
        tables = [b for b in self.blocks() if isinstance(b, Table)]
        keys = [t.key for t in tables]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"report {self.kind}: table keys {dupes} are not unique")
        return tables

    def facts(self) -> list[Facts]:
        return [b for b in self.blocks() if isinstance(b, Facts)]

    def sign_offs(self) -> list[SignOff]:
        return [b for b in self.blocks() if isinstance(b, SignOff)]


def _stamp(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat(sep=" ") + (
        "" if value.tzinfo else " UTC")


def slug(text: str) -> str:
    """A file-name-safe form of a department, asset or case id."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"


def _snake(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def plain(value: Any) -> Any:
    """A value as JSON, CSV and spreadsheets hold it (dates as ISO text, nothing exotic)."""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def display(value: Any, kind: ColumnKind = "text") -> str:
    """A value as a person reads it in HTML and PDF."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "money" and isinstance(value, int | float):
        return f"{value:,.2f}" if value % 1 else f"{value:,.0f}"
    if kind == "int" and isinstance(value, int | float):
        return f"{value:,.0f}"
    if kind == "percent" and isinstance(value, int | float):
        return f"{100 * value:.1f}%"
    if kind == "float" and isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, float) and kind == "text":
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if kind == "datetime" and isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "; ".join(display(v) for v in value)
    return str(value)

"""The public timeline: removals per department and quarter, safe to publish.

What it never contains: site names, addresses or site ids (it is built from counts only), a
small count (a cell below `threshold` is suppressed), or an exact count that involves sensitive
sites (such a cell is published rounded to a multiple of `rounding`).

Suppression alone is not enough when totals are published: a row total minus the other cells
gives back a suppressed cell. Read the table with its margins as a bipartite graph, rows and
columns as nodes and every hidden cell as an edge; a hidden cell's value follows from the
published ones exactly when its edge is a bridge (it lies on no cycle of hidden cells). So
complementary hiding adds, for each bridge, the cheapest rectangle of cells that puts it on a
cycle, until no bridge is left: first among suppressed cells (suppressing more), then among all
hidden cells (rounding more). With `sensitivity_breakdown`, a second table gives counts per
sensitivity class and quarter, protected the same way and linked to the first through the
quarter totals they share.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from camsweep.plan.items import STANDARD, PlanItem
from camsweep.plan.resources import PublicConfig
from camsweep.plan.schema import Plan

CellStatus = Literal["exact", "rounded", "suppressed"]
TOTAL = "total"
UNKNOWN_DEPARTMENT = "(not recorded)"
MARGIN_COST = 3.0  # hiding a total costs more than hiding a cell of the same size


@dataclass
class Table:
    """A count table with margins: the last row and the last column are totals."""

    name: str
    rows: list[str]
    columns: list[str]
    counts: list[list[int]]  # (rows + 1) x (columns + 1), margins included
    sensitive: list[list[int]]  # how much of each count is at sensitive sites
    status: list[list[CellStatus]]

    @classmethod
    def build(
        cls, name: str, rows: list[str], columns: list[str],
        cells: dict[tuple[str, str], tuple[int, int]],
    ) -> Table:
        r, c = len(rows), len(columns)
        counts = [[0] * (c + 1) for _ in range(r + 1)]
        sensitive = [[0] * (c + 1) for _ in range(r + 1)]
        for i, row in enumerate(rows):
            for j, col in enumerate(columns):
                n, s = cells.get((row, col), (0, 0))
                for ii, jj in ((i, j), (i, c), (r, j), (r, c)):
                    counts[ii][jj] += n
                    sensitive[ii][jj] += s
        status: list[list[CellStatus]] = [["exact"] * (c + 1) for _ in range(r + 1)]
        return cls(name, rows, columns, counts, sensitive, status)

    def hidden(self, i: int, j: int, *, only_suppressed: bool) -> bool:
        st = self.status[i][j]
        return st == "suppressed" if only_suppressed else st != "exact"

    def published(self, i: int, j: int, rounding: int) -> int | None:
        st = self.status[i][j]
        if st == "suppressed":
            return None
        n = self.counts[i][j]
        return (n + rounding // 2) // rounding * rounding if st == "rounded" else n


def protect(tables: Sequence[Table], config: PublicConfig) -> None:
    """Primary suppression and rounding, then complementary hiding until nothing is exposed.

    The tables share their last row (totals per quarter): hiding it in one hides it in all.
    """
    for t in tables:
        for i, row in enumerate(t.counts):
            for j, n in enumerate(row):
                if 0 < n < config.threshold:
                    t.status[i][j] = "suppressed"
                elif t.sensitive[i][j] > 0:
                    t.status[i][j] = "rounded"
    while True:
        changed = False
        for t in tables:
            changed |= _close(t, only_suppressed=True)
            changed |= _close(t, only_suppressed=False)
        changed |= _link(tables)
        if not changed:
            return


def _link(tables: Sequence[Table]) -> bool:
    """The shared quarter totals take the most hidden status any table gives them."""
    if len(tables) < 2:
        return False
    rank = {"exact": 0, "rounded": 1, "suppressed": 2}
    changed = False
    width = len(tables[0].columns) + 1
    for j in range(width):
        worst = max((t.status[-1][j] for t in tables), key=rank.__getitem__)
        for t in tables:
            if t.status[-1][j] != worst:
                t.status[-1][j] = worst
                changed = True
    return changed


def _close(t: Table, *, only_suppressed: bool) -> bool:
    """Hide rectangles until no hidden cell is a bridge; True if anything changed."""
    new_status: CellStatus = "suppressed" if only_suppressed else "rounded"
    changed = False
    while True:
        bridge = next(_bridges(t, only_suppressed=only_suppressed), None)
        if bridge is None:
            return changed
        i, j = bridge
        best: tuple[float, int, int] | None = None
        for ii in range(len(t.counts)):
            for jj in range(len(t.counts[0])):
                if ii == i or jj == j:
                    continue
                cost = sum(
                    _cost(t, a, b) for a, b in ((i, jj), (ii, j), (ii, jj))
                    if not t.hidden(a, b, only_suppressed=only_suppressed)
                )
                if best is None or cost < best[0]:
                    best = (cost, ii, jj)
        if best is None:  # a 1 x 1 table has no rectangle: hide it all
            for a in range(len(t.counts)):
                for b in range(len(t.counts[0])):
                    t.status[a][b] = "suppressed"
            return True
        _, ii, jj = best
        for a, b in ((i, jj), (ii, j), (ii, jj)):
            if not t.hidden(a, b, only_suppressed=only_suppressed):
                t.status[a][b] = new_status
                changed = True


def _cost(t: Table, i: int, j: int) -> float:
    margin = i == len(t.counts) - 1 or j == len(t.counts[0]) - 1
    return (1 + t.counts[i][j]) * (MARGIN_COST if margin else 1.0)


def _bridges(t: Table, *, only_suppressed: bool) -> Iterator[tuple[int, int]]:
    """Hidden cells that lie on no cycle of hidden cells (rows and columns as nodes)."""
    rows, cols = len(t.counts), len(t.counts[0])
    edges = [(i, j) for i in range(rows) for j in range(cols)
             if t.hidden(i, j, only_suppressed=only_suppressed)]
    adjacency: dict[int, list[int]] = defaultdict(list)
    for i, j in edges:
        adjacency[i].append(rows + j)
        adjacency[rows + j].append(i)
    for i, j in edges:
        if not _connected_without(adjacency, i, rows + j):
            yield i, j


def _connected_without(adjacency: dict[int, list[int]], a: int, b: int) -> bool:
    """Is b reachable from a without the edge a-b? (A row and a column share one cell.)"""
    seen = {a}
    stack = [n for n in adjacency[a] if n != b]
    while stack:
        node = stack.pop()
        if node == b:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(n for n in adjacency[node] if n not in seen)
    return False


def quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _quarters(first: date, last: date) -> list[str]:
    out = []
    year, q = first.year, (first.month - 1) // 3
    while (year, q) <= (last.year, (last.month - 1) // 3):
        out.append(f"{year}-Q{q + 1}")
        q += 1
        if q == 4:
            year, q = year + 1, 0
    return out


@dataclass
class PublicTimeline:
    config: PublicConfig
    tables: list[Table]

    def as_dict(self) -> dict[str, Any]:
        return {
            "description": "Planned removals per quarter. Counts below the threshold are "
                           "withheld; counts that include sensitive sites are rounded; further "
                           "cells are withheld or rounded so that none can be worked out from "
                           "the totals.",
            "threshold": self.config.threshold,
            "rounding": self.config.rounding,
            "tables": [self._table(t) for t in self.tables],
        }

    def _table(self, t: Table) -> dict[str, Any]:
        def cell(i: int, j: int) -> dict[str, Any]:
            return {"value": t.published(i, j, self.config.rounding), "status": t.status[i][j]}

        columns = [*t.columns, TOTAL]
        return {
            "name": t.name,
            "quarters": t.columns,
            "rows": [
                {"row": row, "cells": {col: cell(i, j) for j, col in enumerate(columns)}}
                for i, row in enumerate([*t.rows, TOTAL])
            ],
        }

    def rows(self) -> list[dict[str, Any]]:
        """Long format: one row per table cell (what the CSV holds)."""
        out = []
        for t in self.tables:
            for i, row in enumerate([*t.rows, TOTAL]):
                for j, col in enumerate([*t.columns, TOTAL]):
                    out.append({"table": t.name, "row": row, "quarter": col,
                                "value": t.published(i, j, self.config.rounding),
                                "status": t.status[i][j]})
        return out

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["table", "row", "quarter", "value", "status"],
                                lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({**row, "value": "" if row["value"] is None else row["value"]})
        return buffer.getvalue()

    def write(self, path: Path) -> list[Path]:
        """JSON at `path` and CSV beside it (same name, .csv)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        json_path = path if path.suffix.lower() != ".csv" else path.with_suffix(".json")
        csv_path = json_path.with_suffix(".csv")
        json_path.write_text(json.dumps(self.as_dict(), indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
        csv_path.write_text(self.to_csv(), encoding="utf-8")
        return [json_path, csv_path]


def public_timeline(
    plan: Plan, items: Sequence[PlanItem], config: PublicConfig | None = None
) -> PublicTimeline:
    """Counts per department (and, if allowed, per sensitivity class) and quarter."""
    config = config or PublicConfig()
    info = {item.asset_id: item for item in items if item.asset_id is not None}
    by_department: dict[tuple[str, str], tuple[int, int]] = {}
    by_class: dict[tuple[str, str], tuple[int, int]] = {}
    departments: set[str] = set()
    classes: set[str] = set()
    for a in plan.assignments:
        item = info.get(a.asset_id)
        department = (item.department if item else None) or UNKNOWN_DEPARTMENT
        sensitivity = (item.sensitivity if item else None) or STANDARD
        sensitive = int(item.sensitive) if item else 0
        q = quarter(a.week_start)
        n, s = by_department.get((department, q), (0, 0))
        by_department[(department, q)] = (n + 1, s + sensitive)
        n, s = by_class.get((sensitivity, q), (0, 0))
        by_class[(sensitivity, q)] = (n + 1, s + sensitive)
        departments.add(department)
        classes.add(sensitivity)
    starts = [a.week_start for a in plan.assignments]
    quarters = _quarters(min(starts), max(starts)) if starts else []
    tables = [Table.build("by_department", sorted(departments), quarters, by_department)]
    if config.sensitivity_breakdown:
        tables.append(Table.build("by_sensitivity", sorted(classes), quarters, by_class))
    protect(tables, config)
    return PublicTimeline(config, tables)

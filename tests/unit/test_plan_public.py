"""The public timeline leaks no site, no small count and no exact count for sensitive sites."""

from __future__ import annotations

import json
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from camsweep.plan import Assignment, Plan, PlanItem
from camsweep.plan.public import PublicTimeline, Table, public_timeline
from camsweep.plan.resources import PublicConfig

START = date(2027, 1, 4)


def plan_of(rows: list[tuple[str, str, str, int]]) -> tuple[Plan, list[PlanItem]]:
    """rows: (site_id, department, sensitivity, week) -> a plan and its items."""
    items, assignments = [], []
    for n, (site, department, sensitivity, week) in enumerate(rows):
        asset = f"ASSET-{n:05}"
        items.append(PlanItem(asset_id=asset, site_id=site, region="r", department=department,
                              sensitivity=sensitivity, device_type="camera"))
        assignments.append(Assignment(asset_id=asset, site_id=site, region="r",
                                      week_start=START + timedelta(weeks=week), cost=650,
                                      deadline=None, policy="p"))
    plan = Plan(feasible=True, status="feasible", solve_seconds=0, assignments=assignments,
                unscheduled=[], shortfall=[])
    return plan, items


def determined(tables: list[Table]) -> list[tuple[str, int, int]]:
    """Hidden cells whose exact value follows from the published exact values and the
    totals' linear relations (including the quarter totals the tables share)."""
    unknowns: dict[tuple[int, int, int], int] = {}
    for t_index, t in enumerate(tables):
        for i, row in enumerate(t.status):
            for j, status in enumerate(row):
                if status != "exact":
                    unknowns[(t_index, i, j)] = len(unknowns)
    equations: list[list[Fraction]] = []

    def relation(cells: list[tuple[int, int, int, int]]) -> None:
        """sum(sign * cell) == 0, known cells folded into the constant."""
        coefficients = [Fraction(0)] * (len(unknowns) + 1)
        for t_index, i, j, sign in cells:
            key = (t_index, i, j)
            if key in unknowns:
                coefficients[unknowns[key]] += sign
            else:
                coefficients[-1] -= sign * tables[t_index].counts[i][j]
        if any(coefficients[:-1]):
            equations.append(coefficients)

    for t_index, t in enumerate(tables):
        rows, cols = len(t.counts), len(t.counts[0])
        for i in range(rows):
            relation([(t_index, i, j, 1) for j in range(cols - 1)] + [(t_index, i, cols - 1, -1)])
        for j in range(cols):
            relation([(t_index, i, j, 1) for i in range(rows - 1)] + [(t_index, rows - 1, j, -1)])
    for t_index in range(1, len(tables)):
        for j in range(len(tables[0].counts[0])):
            relation([(0, len(tables[0].counts) - 1, j, 1),
                      (t_index, len(tables[t_index].counts) - 1, j, -1)])
    basis = _row_reduce([e[:-1] for e in equations])
    out = []
    for (t_index, i, j), k in unknowns.items():
        unit = [Fraction(0)] * len(unknowns)
        unit[k] = Fraction(1)
        if _in_span(basis, unit):
            out.append((tables[t_index].name, i, j))
    return out


def _row_reduce(rows: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    basis: list[tuple[int, list[Fraction]]] = []
    for row in rows:
        reduced = _reduce(basis, row)
        pivot = next((c for c, v in enumerate(reduced) if v), None)
        if pivot is not None:
            scale = reduced[pivot]
            basis.append((pivot, [v / scale for v in reduced]))
    return basis


def _reduce(basis: list[tuple[int, list[Fraction]]], row: list[Fraction]) -> list[Fraction]:
    row = list(row)
    for pivot, b in basis:
        if row[pivot]:
            factor = row[pivot]
            row = [x - factor * y for x, y in zip(row, b, strict=True)]
    return row


def _in_span(basis: list[tuple[int, list[Fraction]]], vector: list[Fraction]) -> bool:
    # reduce repeatedly: the basis rows are not fully reduced against each other
    for _ in range(len(basis) + 1):
        vector = _reduce(basis, vector)
    return not any(vector)


def check_safe(timeline: PublicTimeline, items: list[PlanItem], text: str) -> None:
    config = timeline.config
    for it in items:
        assert it.site_id and it.site_id not in text
        assert it.asset_id and it.asset_id not in text
    for t in timeline.tables:
        for i, row in enumerate(t.status):
            for j, status in enumerate(row):
                n = t.counts[i][j]
                published = t.published(i, j, config.rounding)
                if status == "exact":
                    assert n == 0 or n >= config.threshold, (t.name, i, j, n)
                    assert t.sensitive[i][j] == 0, "an exact count involves sensitive sites"
                    assert published == n
                elif status == "suppressed":
                    assert published is None
                else:
                    assert published is not None and published % config.rounding == 0
                    assert abs(published - n) <= config.rounding / 2
    assert determined(timeline.tables) == []


def build(rows: list[tuple[str, str, str, int]], **config: Any) -> tuple[PublicTimeline, str,
                                                                          list[PlanItem]]:
    plan, items = plan_of(rows)
    timeline = public_timeline(plan, items, PublicConfig(**config))
    text = json.dumps(timeline.as_dict()) + timeline.to_csv()
    return timeline, text, items


def test_small_cell_is_suppressed_with_its_complements() -> None:
    rows = [("SITE-A1", "Alpha", "standard", 0)] * 30 + [("SITE-A2", "Alpha", "standard", 14)] * 3
    rows += [("SITE-B1", "Beta", "standard", 0)] * 25 + [("SITE-B2", "Beta", "standard", 14)] * 40
    timeline, text, items = build(rows)
    check_safe(timeline, items, text)
    t = timeline.tables[0]
    assert t.columns == ["2027-Q1", "2027-Q2"]
    statuses = [row[:] for row in t.status]
    assert statuses[0][1] == "suppressed"  # Alpha, Q2: 3 removals
    # alone it would be the row total minus Q1: its complement goes too
    assert sum(s == "suppressed" for s in statuses[0]) >= 2
    assert sum(row[1] == "suppressed" for row in statuses) >= 2


def test_sensitive_counts_are_never_exact() -> None:
    rows = [("HQ-SECRET", "Defence", "sensitive", 0)] * 40
    rows += [("DEPOT-9", "Defence", "standard", 0)] * 25
    rows += [("DEPOT-9", "Defence", "standard", 20)] * 30
    rows += [("OFFICE-1", "Revenue", "standard", 0)] * 50
    rows += [("OFFICE-1", "Revenue", "standard", 20)] * 60
    for breakdown in (False, True):
        timeline, text, items = build(rows, sensitivity_breakdown=breakdown)
        check_safe(timeline, items, text)
        assert len(timeline.tables) == (2 if breakdown else 1)
        assert "HQ-SECRET" not in text
    by_class = timeline.tables[1]
    i = by_class.rows.index("sensitive")
    for j, status in enumerate(by_class.status[i]):
        assert by_class.counts[i][j] == 0 or status != "exact"


def test_the_checker_finds_a_cell_the_totals_give_away() -> None:
    """Without complementary suppression one hidden cell is the total minus the rest."""
    t = Table.build("t", ["Alpha", "Beta"], ["Q1", "Q2"],
                    {("Alpha", "Q1"): (3, 0), ("Alpha", "Q2"): (30, 0),
                     ("Beta", "Q1"): (20, 0), ("Beta", "Q2"): (40, 0)})
    t.status[0][0] = "suppressed"
    assert determined([t]) == [("t", 0, 0)]
    for i, j in ((0, 1), (1, 0), (1, 1)):
        t.status[i][j] = "suppressed"
    assert determined([t]) == []


def test_written_json_and_csv(tmp_path: Path) -> None:
    rows = [("S1", "Alpha", "standard", w) for w in range(30) for _ in range(3)]
    timeline, _, _ = build(rows)
    paths = timeline.write(tmp_path / "public.json")
    assert [p.name for p in paths] == ["public.json", "public.csv"]
    data = json.loads(paths[0].read_text())
    assert data["threshold"] == 10 and data["tables"][0]["name"] == "by_department"
    header = paths[1].read_text().splitlines()[0]
    assert header == "table,row,quarter,value,status"


def test_empty_plan() -> None:
    timeline, text, items = build([])
    check_safe(timeline, items, text)


departments = st.sampled_from(["Alpha", "Beta", "Gamma", "Delta"])
sites = st.integers(0, 11).map(lambda n: f"SITE-{n:03}-X")


@st.composite
def plans(draw: st.DrawFn) -> list[tuple[str, str, str, int]]:
    site_department = {f"SITE-{n:03}-X": draw(departments) for n in range(12)}
    site_class = {s: draw(st.sampled_from(["standard", "standard", "sensitive", "cni"]))
                  for s in site_department}
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        site = draw(sites)
        n = draw(st.integers(1, 40))
        week = draw(st.integers(0, 60))
        rows += [(site, site_department[site], site_class[site], week)] * n
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(), st.integers(2, 15), st.booleans())
def test_property_public_timeline_leaks_nothing(
    rows: list[tuple[str, str, str, int]], threshold: int, breakdown: bool
) -> None:
    timeline, text, items = build(rows, threshold=threshold, sensitivity_breakdown=breakdown)
    check_safe(timeline, items, text)
    # totals still add up where everything is published exactly
    for t in timeline.tables:
        for i, row in enumerate(t.status):
            if all(s == "exact" for s in row):
                assert sum(t.counts[i][:-1]) == t.counts[i][-1]

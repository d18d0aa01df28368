"""resources.yaml (design.md "Plan"): crews, unit costs, budgets, blackouts; one typed loader.

The loader reports every problem at once, each naming the file and the field
(`resources.yaml, column 'regions.2.crews': ...`), and nothing downstream re-checks.

`Calendar` turns the file into the week grid the planner works on: week `w` starts on
`start + 7w` (a Monday) and runs to Sunday. A blackout blacks out every week it touches; a
budget period owns the weeks whose Monday falls in `[from, to)`; weeks no period owns have no
spending cap.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from camsweep.errors import InputError, RowError

MAX_HORIZON_WEEKS = 520  # ten years of weeks: beyond that a plan is not a plan
SPREAD_BLOCK_WEEKS = 13  # spending is smoothed per quarter when no budget periods are given
CENTS = 100  # money is planned in whole cents so that budgets hold exactly


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RegionCrews(_Strict):
    """One region's removal crews: `crews x crew_capacity` removals a week."""

    id: str = Field(min_length=1)
    crews: int = Field(ge=0)
    crew_capacity: int = Field(ge=1, description="removals per crew per week")

    @property
    def weekly_capacity(self) -> int:
        return self.crews * self.crew_capacity


class Budget(_Strict):
    """A spending cap for the weeks whose Monday falls in `[from, to)`."""

    from_: date = Field(alias="from")
    to: date
    amount: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Budget:
        if self.to <= self.from_:
            raise ValueError(f"'to' ({self.to}) must be after 'from' ({self.from_})")
        return self


class Blackout(_Strict):
    """No work in any week that overlaps `[from, to)`; `region: null` means every region."""

    from_: date = Field(alias="from")
    to: date
    region: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Blackout:
        if self.to <= self.from_:
            raise ValueError(f"'to' ({self.to}) must be after 'from' ({self.from_})")
        return self


class PublicConfig(_Strict):
    """How the public (redacted) timeline is built; see plan.public."""

    threshold: int = Field(default=10, ge=1, description="cells below this are suppressed")
    rounding: int = Field(default=5, ge=2, description="base that sensitive counts round to")
    sensitivity_breakdown: bool = Field(
        default=False, description="publish counts per sensitivity class (rounded)"
    )


class Resources(_Strict):
    """The whole resources file, validated and cross-checked."""

    start: date
    horizon_weeks: int = Field(ge=1, le=MAX_HORIZON_WEEKS)
    regions: tuple[RegionCrews, ...] = Field(min_length=1)
    unit_costs: dict[str, float] = Field(min_length=1)
    budgets: tuple[Budget, ...] = ()
    blackouts: tuple[Blackout, ...] = ()
    public: PublicConfig = PublicConfig()

    @field_validator("start")
    @classmethod
    def _monday(cls, value: date) -> date:
        if value.weekday() != 0:
            monday = value - timedelta(days=value.weekday())
            raise ValueError(f"{value} is a {value:%A}; plans start on a Monday (e.g. {monday})")
        return value

    @field_validator("unit_costs")
    @classmethod
    def _costs(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, v in value.items() if v < 0)
        if bad:
            raise ValueError(f"unit costs cannot be negative: {bad}")
        return value

    @model_validator(mode="after")
    def _cross_check(self) -> Resources:
        ids = [r.id for r in self.regions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"regions: duplicate id(s) {dupes}")
        unknown = sorted({b.region for b in self.blackouts if b.region and b.region not in ids})
        if unknown:
            raise ValueError(f"blackouts: unknown region(s) {unknown}; regions are {ids}")
        periods = sorted(self.budgets, key=lambda b: b.from_)
        for before, after in itertools.pairwise(periods):
            if after.from_ < before.to:
                raise ValueError(
                    f"budgets: periods [{before.from_}, {before.to}) and "
                    f"[{after.from_}, {after.to}) overlap"
                )
        return self

    @property
    def end(self) -> date:
        """The first day after the horizon."""
        return self.start + timedelta(weeks=self.horizon_weeks)

    def region(self, region_id: str) -> RegionCrews | None:
        return _region_index(self.regions).get(region_id)

    def unit_cost(self, device_type: str | None) -> float | None:
        """The cost of removing one device of this type; `other` covers the rest."""
        if device_type and device_type in self.unit_costs:
            return self.unit_costs[device_type]
        return self.unit_costs.get("other")


@lru_cache(maxsize=16)
def _region_index(regions: tuple[RegionCrews, ...]) -> dict[str, RegionCrews]:
    return {r.id: r for r in regions}


def _field_path(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def parse_resources(data: Any, source: str = "resources.yaml") -> Resources:
    """Validate already-parsed data; every error names `source` and the field."""
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: expected a mapping with start, horizon_weeks, regions, unit_costs, "
            "budgets, blackouts",
            [RowError(source, None, None, "the top level is not a mapping")],
        )
    try:
        return Resources.model_validate(data)
    except ValidationError as exc:
        errors = [
            RowError(source, None, _field_path(err["loc"]), err["msg"]) for err in exc.errors()
        ]
        first = errors[0]
        raise InputError(
            f"{source}: {len(errors)} error(s) in the resources file "
            f"(first: {first.column}: {first.reason}); fix them and run again",
            errors,
        ) from exc


def load_resources(path: Path) -> Resources:
    """Read and validate resources.yaml."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the resources file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from exc
    return parse_resources(data, str(path))


def dump_resources(resources: Resources) -> dict[str, Any]:
    """The file's content as plain data (dates as ISO strings), keys in contract order."""
    return resources.model_dump(mode="json", by_alias=True)


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class Segment:
    """A run of weeks `[first, stop)` that share one budget period (or none)."""

    first: int
    stop: int
    budget: int | None  # index into Calendar.budget_cents, None = uncapped

    @property
    def weeks(self) -> int:
        return self.stop - self.first


@dataclass(frozen=True)
class Calendar:
    """The week grid: capacity per region and week, budget period and segment per week."""

    start: date
    weeks: int
    capacity: dict[str, tuple[int, ...]]  # removals per week; 0 in blackouts
    crew_capacity: dict[str, int]
    budget_of_week: tuple[int | None, ...]
    budget_cents: tuple[int, ...]
    budget_spans: tuple[tuple[date, date], ...]
    segments: tuple[Segment, ...]
    segment_of_week: tuple[int, ...]

    @classmethod
    def build(cls, resources: Resources) -> Calendar:
        weeks = resources.horizon_weeks
        start = resources.start
        capacity: dict[str, tuple[int, ...]] = {}
        for region in resources.regions:
            open_weeks = [True] * weeks
            for blackout in resources.blackouts:
                if blackout.region in (None, region.id):
                    for w in _weeks_touching(start, weeks, blackout.from_, blackout.to):
                        open_weeks[w] = False
            capacity[region.id] = tuple(region.weekly_capacity if ok else 0 for ok in open_weeks)
        budgets = sorted(resources.budgets, key=lambda b: b.from_)
        budget_of_week: list[int | None] = [None] * weeks
        for index, budget in enumerate(budgets):
            first, stop = _weeks_starting_in(start, weeks, budget.from_, budget.to)
            for w in range(first, stop):
                budget_of_week[w] = index
        segments = _segments(budget_of_week, bool(budgets))
        segment_of_week = [0] * weeks
        for index, seg in enumerate(segments):
            for w in range(seg.first, seg.stop):
                segment_of_week[w] = index
        return cls(
            start=start,
            weeks=weeks,
            capacity=capacity,
            crew_capacity={r.id: r.crew_capacity for r in resources.regions},
            budget_of_week=tuple(budget_of_week),
            budget_cents=tuple(round(b.amount * CENTS) for b in budgets),
            budget_spans=tuple((b.from_, b.to) for b in budgets),
            segments=tuple(segments),
            segment_of_week=tuple(segment_of_week),
        )

    def week_start(self, week: int) -> date:
        return self.start + timedelta(weeks=week)

    def week_of(self, day: date) -> int:
        """The week (possibly outside the horizon) that contains `day`."""
        return (day - self.start).days // 7

    def deadline_week(self, deadline: date) -> int:
        """The last week that ends (Sunday) on or before the deadline; may be negative."""
        return ((deadline - self.start).days - 6) // 7

    def open_weeks(self, region: str) -> list[int]:
        return [w for w, cap in enumerate(self.capacity[region]) if cap > 0]


def _weeks_touching(start: date, weeks: int, first: date, stop: date) -> range:
    """Weeks `[start+7w, start+7w+7)` that overlap `[first, stop)`."""
    lo = max(0, (first - start).days // 7)
    hi = min(weeks, -(-(stop - start).days // 7))
    return range(lo, max(lo, hi))


def _weeks_starting_in(start: date, weeks: int, first: date, stop: date) -> tuple[int, int]:
    """Weeks whose Monday is in `[first, stop)`, clipped to the horizon."""
    lo = min(weeks, max(0, -(-(first - start).days // 7)))
    hi = min(weeks, max(0, -(-(stop - start).days // 7)))
    return lo, max(lo, hi)


def _segments(budget_of_week: Sequence[int | None], has_budgets: bool) -> list[Segment]:
    """Budget periods and the gaps between them; quarters (13 weeks) when there are no budgets."""
    weeks = len(budget_of_week)
    if not has_budgets:
        return [
            Segment(first, min(weeks, first + SPREAD_BLOCK_WEEKS), None)
            for first in range(0, weeks, SPREAD_BLOCK_WEEKS)
        ]
    out: list[Segment] = []
    first = 0
    for w in range(1, weeks + 1):
        if w == weeks or budget_of_week[w] != budget_of_week[first]:
            out.append(Segment(first, w, budget_of_week[first]))
            first = w
    return out

"""From items and resources to the arrays the solvers work on.

Each schedulable device becomes a `Device` row; devices are aggregated into `Chunk`s (a run of
one site's devices, at most `size` of them, removed in the same week) and per region into
classes of identical devices for the lower bound. Everything here is pure and deterministic.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from camsweep.plan.items import RISK_MAX, PlanItem
from camsweep.plan.resources import CENTS, Calendar, Resources

NO_DEADLINE = 1 << 30  # a deadline week no plan can miss
TARGET_CHUNKS = 6000  # per region: above this, devices are grouped into larger chunks


@dataclass(frozen=True)
class Weights:
    """Objective weights; each level outweighs what any single device can gain on the next.

    Minimise  unscheduled * U + late_weeks * L + overdue_weeks * O + risk_weeks * R
              + extra_visits * V + peak * S
    where late_weeks are weeks late on deadlines that can still be met when the plan starts,
    overdue_weeks weeks late on deadlines already past then (so a deadline that can be met
    comes before shortening a lateness that cannot be avoided), risk_weeks sums risk points x
    week number (1-based) over removals, and peak is the highest spending rate over budget
    periods (or quarters), in thousands a week. A device left out counts U on top of being
    removed in the week after the horizon (so leaving out risky or overdue work costs more).
    """

    horizon: int
    risk: int = 100
    visit: int = 40  # moving one chunk changes at most two visits: 2 x 40 < one risk point-week
    spread: int = 1
    coupled: int = 1  # most devices one recorder's deadline binds (see `coupling`)

    @property
    def overdue(self) -> int:
        """A device-week late on a past deadline outweighs any device's risk term."""
        return self.risk * RISK_MAX * (self.horizon + 1)

    @property
    def late(self) -> int:
        """A device-week late on a deadline that could be met outweighs every overdue week it
        could buy: a recorder late by a week frees that week for all the devices at its site
        that its deadline held, so it must outweigh `coupled` overdue weeks."""
        return (self.coupled + 1) * self.overdue

    @property
    def unscheduled(self) -> int:
        """One device left out costs more than any device's lateness over the whole horizon."""
        return self.late * (self.horizon + 1)

    def lateness(self, deadline: int) -> int:
        """Weight of one week late on this deadline week (negative: past when the plan starts)."""
        return self.overdue if deadline < 0 else self.late

    def left_out(self, risk: int, deadline: int) -> int:
        """The objective of one device left out of the plan."""
        late = 0 if deadline == NO_DEADLINE else max(0, self.horizon - deadline)
        return (self.unscheduled + self.lateness(deadline) * late
                + self.risk * risk * (self.horizon + 1))

    def as_dict(self) -> dict[str, int]:
        return {
            "unscheduled_device": self.unscheduled,
            "late_device_week": self.late,
            "overdue_device_week": self.overdue,
            "risk_point_week": self.risk,
            "extra_site_visit": self.visit,
            "peak_spend_per_1000_a_week": self.spread,
            "deadline_coupling": self.coupled,
        }


SPREAD_UNIT = 1000 * CENTS  # the spread term counts thousands (of currency) a week


@dataclass(slots=True)
class Device:
    """One schedulable device, in the units the solvers use."""

    item: int  # index into the merged items
    region: str
    site: str
    cost: int  # cents
    risk: int
    deadline: int  # own deadline week, NO_DEADLINE when none
    due: int  # effective deadline week: a site's other devices are due by its recorders'
    recorder: bool
    lb: int = 0  # earliest week (after a frozen camera at the same site)
    ub: int = NO_DEADLINE  # latest week (before a frozen recorder at the same site)
    need: int = NO_DEADLINE  # the week by which it must go for every deadline that can be met


@dataclass(slots=True)
class Chunk:
    """Devices of one site removed together in one week; `prev` chains a site's chunks."""

    region: str
    site: str
    devices: list[int]
    n: int
    cost: int
    risk: int
    lateness: tuple[tuple[int, int], ...]  # (deadline week, devices) for devices with deadlines
    due: int
    prev: int | None
    lb: int
    ub: int
    next: int | None = None
    preferred: int = NO_DEADLINE  # its week in the current plan, when re-planning

    def objective(self, week: int, weights: Weights) -> int:
        """Lateness and risk terms of removing this chunk in `week`."""
        late = sum(weights.lateness(d) * n * max(0, week - d) for d, n in self.lateness)
        return late + weights.risk * self.risk * (week + 1)

    def left_out(self, weights: Weights) -> int:
        """The objective of leaving this chunk out: U each, as if removed after the horizon."""
        return weights.unscheduled * self.n + self.objective(weights.horizon, weights)


@dataclass
class RegionProblem:
    """One region's share of the work, its free capacity and its budget per period."""

    region: str
    chunks: list[Chunk]
    capacity: list[int]  # free removals per week after frozen work
    budget: dict[int, int] = field(default_factory=dict)  # budget period -> cents available
    required: set[int] = field(default_factory=set)  # chunks that must stay in the plan


def chunk_size(devices: int, weekly_capacity: int) -> int:
    """Devices per chunk: 1 for small regions, larger for big ones, never over a quarter-week."""
    wanted = max(1, math.ceil(devices / TARGET_CHUNKS))
    return max(1, min(wanted, weekly_capacity // 4))


def build_chunks(
    devices: Sequence[Device], region: str, indices: Sequence[int], size: int
) -> list[Chunk]:
    """Chunks for one region: per site, devices in removal order, cut every `size` devices.

    Removal order within a site: everything but recorders first (deadlines that can still be
    met before those already past, then earliest effective deadline, own deadline, highest
    risk), recorders last, so a recorder never goes before the cameras it serves.
    """
    by_site: dict[str, list[int]] = defaultdict(list)
    for i in indices:
        by_site[devices[i].site].append(i)
    chunks: list[Chunk] = []
    for site in sorted(by_site):
        members = sorted(
            by_site[site],
            key=lambda i: (devices[i].recorder, devices[i].deadline < 0, devices[i].due,
                           devices[i].deadline, -devices[i].risk, i),
        )
        prev: int | None = None
        for start in range(0, len(members), size):
            part = members[start : start + size]
            deadlines = Counter(devices[i].deadline for i in part)
            chunk = Chunk(
                region=region,
                site=site,
                devices=part,
                n=len(part),
                cost=sum(devices[i].cost for i in part),
                risk=sum(devices[i].risk for i in part),
                lateness=tuple(sorted((d, n) for d, n in deadlines.items() if d != NO_DEADLINE)),
                due=min(devices[i].due for i in part),
                prev=prev,
                lb=max(devices[i].lb for i in part),
                ub=min(devices[i].ub for i in part),
            )
            if prev is not None:
                chunks[prev].next = len(chunks)
            prev = len(chunks)
            chunks.append(chunk)
    return chunks


def cost_cents(resources: Resources, item: PlanItem) -> int | None:
    unit = resources.unit_cost(item.device_type)
    return None if unit is None else round(unit * CENTS)


def coupling(devices: Sequence[Device]) -> int:
    """The most devices that one site's recorder deadline (one that can be met) binds: the
    recorder and every other device at its site, which must go no later than it."""
    per_site = Counter(d.site for d in devices)
    bound = {d.site for d in devices if d.recorder and 0 <= d.deadline < NO_DEADLINE}
    return max((per_site[site] for site in bound), default=1)


def effective_deadlines(devices: list[Device]) -> None:
    """A site's non-recorders are due no later than its earliest-due recorder (a recorder
    deadline already past when the plan starts binds nothing: it cannot be met anyway)."""
    recorder_due: dict[str, int] = {}
    for d in devices:
        if d.recorder and d.deadline >= 0:
            recorder_due[d.site] = min(recorder_due.get(d.site, NO_DEADLINE), d.deadline)
    for d in devices:
        own = d.deadline if d.deadline >= 0 else NO_DEADLINE
        if d.recorder:
            d.due, d.need = d.deadline, own
        else:
            site = recorder_due.get(d.site, NO_DEADLINE)
            d.due, d.need = min(d.deadline, site), min(own, site)


def free_capacity(
    calendar: Calendar, used: dict[str, Counter[int]]
) -> dict[str, list[int]]:
    """Weekly capacity left after fixed (frozen or done) removals."""
    return {
        region: [max(0, cap - used.get(region, Counter())[w]) for w, cap in enumerate(caps)]
        for region, caps in calendar.capacity.items()
    }

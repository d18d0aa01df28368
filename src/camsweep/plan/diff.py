"""What changed between two plans: the diff `camsweep plan --from-current` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from camsweep.plan.schema import Plan


@dataclass(frozen=True)
class Move:
    asset_id: str
    before: date | None  # None = was unscheduled
    after: date | None  # None = now unscheduled


@dataclass
class PlanDiff:
    moved: list[Move] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # in the new plan only
    removed: list[str] = field(default_factory=list)  # in the old plan only
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "moved": [
                {"asset_id": m.asset_id,
                 "from": m.before.isoformat() if m.before else None,
                 "to": m.after.isoformat() if m.after else None}
                for m in self.moved
            ],
            "added": self.added,
            "removed": self.removed,
            "unchanged": self.unchanged,
        }

    def counts(self) -> dict[str, int]:
        return {"moved": len(self.moved), "added": len(self.added),
                "removed": len(self.removed), "unchanged": self.unchanged}


def _weeks(plan: Plan) -> dict[str, date | None]:
    out: dict[str, date | None] = {a.asset_id: a.week_start for a in plan.assignments}
    for u in plan.unscheduled:
        if u.asset_id is not None:
            out.setdefault(u.asset_id, None)
    return out


def diff_plans(old: Plan, new: Plan) -> PlanDiff:
    """Moved (another week, or in/out of the schedule), added, removed, unchanged."""
    before, after = _weeks(old), _weeks(new)
    diff = PlanDiff()
    for asset_id, week in after.items():
        if asset_id not in before:
            diff.added.append(asset_id)
        elif before[asset_id] != week:
            diff.moved.append(Move(asset_id, before[asset_id], week))
        else:
            diff.unchanged += 1
    diff.removed = [asset_id for asset_id in before if asset_id not in after]
    diff.added.sort()
    diff.removed.sort()
    diff.moved.sort(key=lambda m: m.asset_id)
    return diff

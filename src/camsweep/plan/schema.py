"""plan.json (design.md "Plan"): the schedule the planner returns and re-reads.

`{"feasible", "status", "solve_seconds", "assignments": [{"asset_id", "site_id", "region",
"week_start", "cost", "deadline", "policy"}], "unscheduled": [{"asset_id", "reason"}],
"shortfall": [{"region", "from", "to", "extra_crew_weeks"}], "summary": {...}}`.

An assignment whose removal has been carried out may carry `"done": true`; re-planning keeps it
where it is. The key is written only when true, so a fresh plan has exactly the contract's keys.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from camsweep.errors import InputError, RowError

Status = Literal["optimal", "feasible", "late", "incomplete", "empty"]
STATUS_TEXT: dict[str, str] = {
    "optimal": "every deadline met; proven optimal",
    "feasible": "every deadline met",
    "late": "some deadlines cannot be met with these resources; lateness is minimised",
    "incomplete": "some removals do not fit in the horizon with these resources",
    "empty": "nothing to plan",
}


class Assignment(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    asset_id: str
    site_id: str | None
    region: str
    week_start: date
    cost: float
    deadline: date | None
    policy: str | None
    done: bool = False


class Unscheduled(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    asset_id: str | None
    reason: str


class Shortfall(BaseModel):
    """Extra crew-weeks a region needs in `[from, to)` to meet the deadlines that fall there."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    region: str
    from_: date = Field(alias="from")
    to: date
    extra_crew_weeks: int


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feasible: bool
    status: Status
    solve_seconds: float
    assignments: list[Assignment]
    unscheduled: list[Unscheduled]
    shortfall: list[Shortfall]
    summary: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """plan.json content: contract keys, ISO dates, `done` only where true."""
        out = self.model_dump(mode="json", by_alias=True)
        for row, assignment in zip(out["assignments"], self.assignments, strict=True):
            if not assignment.done:
                del row["done"]
            row["cost"] = _number(assignment.cost)
        return out


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


def write_plan(plan: Plan, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan.to_json(), indent=1, ensure_ascii=False) + "\n", "utf-8")


def load_plan(path: Path) -> Plan:
    """Read a plan.json written earlier (for `--from-current`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the plan ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        errors = [
            RowError(str(path), None, ".".join(str(p) for p in e["loc"]), e["msg"])
            for e in exc.errors()
        ]
        raise InputError(
            f"{path}: not a plan written by 'camsweep plan' ({len(errors)} error(s), "
            f"first: {errors[0].column}: {errors[0].reason})",
            errors,
        ) from exc

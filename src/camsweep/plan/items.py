"""What the planner schedules: one `PlanItem` per open removal finding.

`load_findings` reads the JSON that `camsweep assess --json` writes (design.md "Assess") and
keeps the findings whose `action` is `remove`. A finding may carry extra keys that assess does
not promise: `region`, `department`, `sensitivity`, `device_type`, and `exposed` /
`vulnerable` flags. What a finding lacks, the CLI fills from the store; the planner itself
never touches a database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from camsweep.errors import InputError, RowError

REMOVE = "remove"
RECORDERS = frozenset({"nvr", "dvr"})
CAMERAS = frozenset({"camera"})
STANDARD = "standard"  # the one sensitivity class that is not sensitive

# Risk points (integers, so the solver's objective stays exact). See docs/planning.md.
RISK_BASE = 1
RISK_SENSITIVE = 4  # any sensitivity class other than `standard` (sensitive, cni, ...)
RISK_EXPOSED = 2  # reachable from the internet
RISK_VULNERABLE = 2  # firmware with a known exploited vulnerability
RISK_PRIORITY_MAX = 4  # the policy's priority, scaled to 0..4 across the findings planned
RISK_MAX = RISK_BASE + RISK_SENSITIVE + RISK_EXPOSED + RISK_VULNERABLE + RISK_PRIORITY_MAX

PRIORITY_WORDS: dict[str, float] = {
    "none": 0, "low": 1, "medium": 2, "moderate": 2, "high": 3, "critical": 4, "urgent": 4,
}
_EXPOSED = re.compile(r"internet[- ]?(exposed|facing|reachable)|exposed to the internet", re.I)
_VULNERABLE = re.compile(r"\bKEV\b|\bCVE-\d{4}-\d{4,}\b|known exploited|vulnerab", re.I)


class PlanItem(BaseModel):
    """One device to remove, with what the planner needs to know about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asset_id: str | None
    site_id: str | None = None
    region: str | None = None
    department: str | None = None
    sensitivity: str | None = None
    device_type: str | None = None
    policy: str | None = None
    rule: str | None = None
    deadline: date | None = None
    priority: float = 0.0
    exposed: bool = False
    vulnerable: bool = False

    @property
    def sensitive(self) -> bool:
        return bool(self.sensitivity) and self.sensitivity != STANDARD

    @property
    def is_recorder(self) -> bool:
        return self.device_type in RECORDERS

    @property
    def is_camera(self) -> bool:
        return self.device_type in CAMERAS

    def missing(self) -> list[str]:
        """Fields the store may still fill in."""
        names = ("region", "department", "sensitivity", "device_type")
        return [name for name in names if getattr(self, name) is None]


class AssessFinding(BaseModel):
    """A finding as `camsweep assess --json` writes it, plus the optional planning keys."""

    model_config = ConfigDict(extra="ignore")

    asset_id: str | None = None
    site_id: str | None = None
    policy: str | None = None
    rule: str | None = None
    action: str
    deadline: date | None = None
    priority: float | str | None = None
    reasons: list[str] = Field(default_factory=list)
    region: str | None = None
    department: str | None = None
    sensitivity: str | None = None
    device_type: str | None = None
    exposed: bool | None = None
    vulnerable: bool | None = None

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, str) and value.strip().lower() not in PRIORITY_WORDS:
            try:
                return float(value)
            except ValueError as exc:
                words = ", ".join(PRIORITY_WORDS)
                raise ValueError(
                    f"priority {value!r} is neither a number nor one of {words}"
                ) from exc
        return value

    def to_item(self) -> PlanItem:
        text = " ".join(self.reasons)
        exposed, vulnerable = self.exposed, self.vulnerable
        if exposed is None:
            exposed = bool(text) and _EXPOSED.search(text) is not None
        if vulnerable is None:
            vulnerable = bool(text) and _VULNERABLE.search(text) is not None
        return PlanItem(
            asset_id=self.asset_id,
            site_id=self.site_id,
            region=self.region,
            department=self.department,
            sensitivity=self.sensitivity,
            device_type=self.device_type,
            policy=self.policy,
            rule=self.rule,
            deadline=self.deadline,
            priority=priority_value(self.priority),
            exposed=exposed,
            vulnerable=vulnerable,
        )


_FINDINGS = TypeAdapter(list[AssessFinding])


def priority_value(value: float | str | None) -> float:
    """A policy priority as a number, higher = more urgent; words map to 0..4."""
    if value is None:
        return 0.0
    if isinstance(value, str):
        word = value.strip().lower()
        return PRIORITY_WORDS[word] if word in PRIORITY_WORDS else float(word)
    return float(value)


def parse_findings(data: Any, source: str = "findings") -> list[PlanItem]:
    """The removal findings in assess output (an object with `findings`, or a bare list)."""
    rows = data.get("findings") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise InputError(
            f"{source}: expected the JSON that 'camsweep assess --json' writes, "
            "an object with a 'findings' list",
            [RowError(source, None, "findings", "missing or not a list")],
        )
    try:
        findings = _FINDINGS.validate_python(rows)
    except ValidationError as exc:
        errors = [
            RowError(source, int(e["loc"][0]),
                     ".".join(["findings", *(str(p) for p in e["loc"][1:])]), e["msg"])
            for e in exc.errors()
        ]
        raise InputError(
            f"{source}: {len(errors)} error(s) in the findings (first: {errors[0]}); "
            "fix them and run again",
            errors,
        ) from exc
    return [finding.to_item() for finding in findings if finding.action == REMOVE]


def load_findings(path: Path) -> list[PlanItem]:
    """Read `camsweep assess --json` output and return its open removal findings."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the findings file ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc
    return parse_findings(data, str(path))


def risk_points(items: Sequence[PlanItem]) -> list[int]:
    """Integer risk per item, 1..RISK_MAX; policy priority is min-max scaled over the items."""
    priorities = [item.priority for item in items]
    low = min(priorities, default=0.0)
    span = max(priorities, default=0.0) - low
    out: list[int] = []
    for item in items:
        scaled = round(RISK_PRIORITY_MAX * (item.priority - low) / span) if span > 0 else 0
        out.append(
            RISK_BASE
            + RISK_SENSITIVE * item.sensitive
            + RISK_EXPOSED * item.exposed
            + RISK_VULNERABLE * item.vulnerable
            + scaled
        )
    return out


def merge_duplicates(items: Iterable[PlanItem]) -> tuple[list[PlanItem], int]:
    """One item per asset: several removal findings for a device become the most urgent one.

    The earliest deadline wins (with its policy and rule); priority, exposure and vulnerability
    take the most severe value. Items without an asset_id are kept as they are.
    """
    merged: dict[str, PlanItem] = {}
    order: list[PlanItem | str] = []
    duplicates = 0
    for item in items:
        if item.asset_id is None:
            order.append(item)
            continue
        seen = merged.get(item.asset_id)
        if seen is None:
            merged[item.asset_id] = item
            order.append(item.asset_id)
            continue
        duplicates += 1
        first, second = sorted((seen, item), key=_urgency)
        merged[item.asset_id] = first.model_copy(
            update={
                "priority": max(seen.priority, item.priority),
                "exposed": seen.exposed or item.exposed,
                "vulnerable": seen.vulnerable or item.vulnerable,
                **{k: getattr(second, k) for k in first.missing() if getattr(second, k)},
            }
        )
    return [merged[x] if isinstance(x, str) else x for x in order], duplicates


def _urgency(item: PlanItem) -> tuple[date, float]:
    return (item.deadline or date.max, -item.priority)

"""Assessment against the store: devices in, findings and statuses saved, changes shown.

The decisions themselves are made by the pure evaluator in `camsweep.policy`; this package
reads devices, sites and departments, runs it, saves the run record (policy ids and
versions, KB version, as-of date, parameters) with the findings, and compares with what
the previous run left open (new, closed, changed findings). `open_removal_findings` is what
the planner schedules.
"""

from __future__ import annotations

from camsweep.assess.load import load_waivers, save_waiver
from camsweep.assess.persist import Change, Diff
from camsweep.assess.runner import (
    ROLLUP_KEYS,
    AssessmentResult,
    MilestoneStatus,
    assess_store,
    open_removal_findings,
)

__all__ = [
    "ROLLUP_KEYS",
    "AssessmentResult",
    "Change",
    "Diff",
    "MilestoneStatus",
    "assess_store",
    "load_waivers",
    "open_removal_findings",
    "save_waiver",
]

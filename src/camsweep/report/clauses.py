"""A finding's rule as its policy states it: title, clause and citations.

Findings store the policy id and version, not the text; the text comes from the policy file
the assessment ran (recorded in `assessment_runs.policies`), else the bundled policy of that
id. When the version found differs from the one the finding was made under, the report says
so rather than quoting a clause that may have changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from camsweep.errors import CamsweepError
from camsweep.policy.loader import LoadedPolicy, bundled_policies, load_policy_file


@dataclass(frozen=True)
class RuleText:
    policy: str
    version: str | None  # version of the text quoted
    rule: str
    title: str
    clause: str
    citations: tuple[str, ...]  # "document, url (date)"
    mismatch: str | None = None  # set when the quoted version is not the finding's


@lru_cache(maxsize=32)
def _from_file(path: str) -> LoadedPolicy | None:
    try:
        return load_policy_file(Path(path))
    except (CamsweepError, OSError):
        return None


def _policy(policy_id: str, files: Mapping[str, str]) -> LoadedPolicy | None:
    bundled = bundled_policies().get(policy_id)
    path = files.get(policy_id)
    if path and not path.startswith("policies/") and Path(path).is_file():
        loaded = _from_file(path)
        if loaded is not None and loaded.id == policy_id:
            return loaded
    return bundled


def policy_files(runs_policies: Iterable[Iterable[Mapping[str, Any]]]) -> dict[str, str]:
    """Policy id -> the file an assessment run read it from (newest run last wins)."""
    out: dict[str, str] = {}
    for policies in runs_policies:
        for p in policies:
            if p.get("id") and p.get("file"):
                out[str(p["id"])] = str(p["file"])
    return out


def rule_text(policy_id: str, version: str | None, rule_id: str,
              files: Mapping[str, str]) -> RuleText:
    lp = _policy(policy_id, files)
    if lp is None:
        return RuleText(policy_id, None, rule_id, rule_id, "(policy text not available: "
                        "neither a bundled policy nor a readable file)", ())
    rule = next((r for r in lp.policy.rules if r.id == rule_id), None)
    if rule is None:
        return RuleText(policy_id, lp.policy.version, rule_id, rule_id,
                        f"(rule not in {policy_id} {lp.policy.version})", ())
    by_id = {c.id: c for c in lp.policy.legal_basis.citations}
    citations = tuple(
        f"{c.document}, {c.url}" + (f" ({c.date})" if c.date else "")
        for c in (by_id.get(ref) for ref in rule.cite) if c is not None)
    mismatch = (f"quoted from {policy_id} {lp.policy.version}; the finding was made under "
                f"{version}" if version and version != lp.policy.version else None)
    return RuleText(policy_id, lp.policy.version, rule_id, rule.title, rule.clause, citations,
                    mismatch)

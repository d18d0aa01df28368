"""The as-of time, knowledge-base and policy versions and plan run behind a report.

Findings still open may come from more than one assessment run (a run assesses some
policies and leaves other policies' findings alone), so the policies stated are those of
every run that last confirmed an open finding in scope, plus the newest run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from camsweep.report.model import Provenance
from camsweep.report.scope import Scope
from camsweep.store import Store
from camsweep.store import models as m


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def data_as_of(store: Store) -> datetime | None:
    """When the newest import or scan that fed the store finished."""
    with store.session() as session:
        value = session.scalar(select(func.max(func.coalesce(m.Source.finished_at,
                                                             m.Source.started_at))))
    return value if isinstance(value, datetime) else None


def store_provenance(store: Store, scope: Scope, plan: Mapping[str, Any] | None) -> Provenance:
    with store.session() as session:
        latest = session.scalar(select(m.AssessmentRun).order_by(m.AssessmentRun.id.desc())
                                .limit(1))
        run_ids = set(session.scalars(
            select(m.Finding.last_run_id).distinct()
            .where(m.Finding.status == "open", scope.sites(m.Finding.site_pk))))
        if latest is not None:
            run_ids.add(latest.id)
        runs = session.scalars(select(m.AssessmentRun).where(
            m.AssessmentRun.id.in_(sorted(run_ids))).order_by(m.AssessmentRun.id)).all()
        policies: dict[str, dict[str, Any]] = {}
        for run in runs:  # oldest first: a newer run's version of a policy wins
            for p in run.policies or []:
                policies[str(p.get("id"))] = {"id": p.get("id"), "version": p.get("version"),
                                              "sha256": p.get("sha256")}
    return Provenance(
        generated_at=now(),
        data_as_of=data_as_of(store),
        assessment_run=latest.id if latest else None,
        assessment_as_of=latest.as_of if latest else None,
        kb_version=latest.kb_version if latest else None,
        policies=sorted(policies.values(), key=lambda p: str(p["id"])),
        plan_id=int(plan["id"]) if plan else None,
        plan_created_at=str(plan["created_at"])[:19] if plan else None,
        plan_status=str(plan["status"]) if plan else None,
    )

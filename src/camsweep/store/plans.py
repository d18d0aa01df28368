"""Stored plans: `camsweep plan` saves every run so work orders, the web app and reports all
read the one plan that was made, not a file that may have moved or been edited."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select

from camsweep.store.bulk import insert_many, utcnow
from camsweep.store.db import Store
from camsweep.store.models import Device, PlanAssignment, PlanRun, Site

IN_CHUNK = 500
COLUMNS = ("device_pk", "site_pk", "asset_id", "site_id", "region", "week_start", "cost",
           "deadline", "policy", "done", "reason")


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _keys(session: Any, model: Any, column: Any, ids: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(ids), IN_CHUNK):
        rows = session.execute(select(column, model.id)
                               .where(column.in_(ids[start:start + IN_CHUNK])))
        out.update(dict(rows.all()))
    return out


def save_plan(store: Store, doc: dict[str, Any], *, resources: dict[str, Any],
              public: dict[str, Any] | None = None, actor: str = "cli") -> int:
    """Store a plan.json document as a new run; returns its id. All or nothing."""
    assignments = doc.get("assignments", [])
    unscheduled = doc.get("unscheduled", [])
    with store.session() as session, session.begin():
        asset_ids = sorted({a["asset_id"] for a in [*assignments, *unscheduled]
                            if a.get("asset_id")})
        devices = _keys(session, Device, Device.asset_id, asset_ids)
        site_ids = sorted({a["site_id"] for a in assignments if a.get("site_id")})
        sites = _keys(session, Site, Site.site_id, site_ids)
        device_sites: dict[int, int | None] = {}
        pks = sorted(set(devices.values()))
        for start in range(0, len(pks), IN_CHUNK):
            rows = session.execute(select(Device.id, Device.site_pk)
                                   .where(Device.id.in_(pks[start:start + IN_CHUNK])))
            device_sites.update(dict(rows.all()))
        run = PlanRun(
            created_at=utcnow(), actor=actor, start=_date(resources["start"]),
            horizon_weeks=int(resources["horizon_weeks"]), feasible=bool(doc["feasible"]),
            status=str(doc["status"]), solve_seconds=float(doc["solve_seconds"]),
            summary=doc.get("summary", {}), shortfall=doc.get("shortfall", []),
            resources=resources, public=public,
        )
        session.add(run)
        session.flush()

        def table_rows() -> Iterator[tuple[Any, ...]]:
            for a in assignments:
                device = devices.get(a["asset_id"])
                site = sites.get(a.get("site_id") or "") or device_sites.get(device or -1)
                yield (device, site, a["asset_id"], a.get("site_id"), a["region"],
                       _date(a["week_start"]), float(a["cost"]), _date(a.get("deadline")),
                       a.get("policy"), bool(a.get("done", False)), None)
            for u in unscheduled:
                device = devices.get(u.get("asset_id") or "")
                yield (device, device_sites.get(device or -1), u.get("asset_id"), None, None,
                       None, None, None, None, False, u["reason"])

        insert_many(session.connection(), "plan_assignments", COLUMNS, table_rows(),
                    constants={"plan_id": run.id})
        return run.id


def latest_plan_id(store: Store) -> int | None:
    with store.session() as session:
        return session.scalar(select(func.max(PlanRun.id)))


def load_plan(store: Store, plan_id: int | None = None, *,
              site_pks: Collection[int] | None = None) -> dict[str, Any] | None:
    """A stored run in plan.json shape (plus `id`, `created_at`, `start`, `horizon_weeks`,
    `resources`, `public`, and `device_pk`/`site_pk` per row); `site_pks` keeps only those
    sites' rows, for a department's view. None when there is no such plan."""
    plan_id = plan_id if plan_id is not None else latest_plan_id(store)
    if plan_id is None:
        return None
    with store.session() as session:
        run = session.get(PlanRun, plan_id)
        if run is None:
            return None
        query = (select(PlanAssignment).where(PlanAssignment.plan_id == plan_id)
                 .order_by(PlanAssignment.id))
        if site_pks is not None:
            query = query.where(PlanAssignment.site_pk.in_(list(site_pks)))
        assignments: list[dict[str, Any]] = []
        unscheduled: list[dict[str, Any]] = []
        for row in session.scalars(query):
            if row.week_start is None:
                unscheduled.append({"asset_id": row.asset_id, "reason": row.reason,
                                    "device_pk": row.device_pk, "site_pk": row.site_pk})
                continue
            entry: dict[str, Any] = {
                "asset_id": row.asset_id, "site_id": row.site_id, "region": row.region,
                "week_start": _iso(row.week_start), "cost": row.cost,
                "deadline": _iso(row.deadline), "policy": row.policy,
                "device_pk": row.device_pk, "site_pk": row.site_pk,
            }
            if row.done:
                entry["done"] = True
            assignments.append(entry)
        return {
            "id": run.id, "created_at": run.created_at.isoformat(), "actor": run.actor,
            "start": _iso(run.start), "horizon_weeks": run.horizon_weeks,
            "feasible": run.feasible, "status": run.status, "solve_seconds": run.solve_seconds,
            "assignments": assignments, "unscheduled": unscheduled,
            "shortfall": run.shortfall, "summary": run.summary,
            "resources": run.resources, "public": run.public,
        }

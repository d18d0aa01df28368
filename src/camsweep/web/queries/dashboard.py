"""Dashboard aggregates: the estate by true maker, status and sensitivity, and the burn-down.

One grouped scan of the devices answers all three breakdowns (a few hundred groups come
back, never the devices), so the page stays fast with hundreds of thousands of devices.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, String, cast, func, select, type_coerce

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.web.queries.devices import UNASSESSED
from camsweep.web.queries.scope import scoped
from camsweep.web.roles import Principal

TOP_MAKERS = 12


@dataclass
class BurnDown:
    weeks: list[date] = field(default_factory=list)
    planned_remaining: list[int] = field(default_factory=list)
    actual_remaining: list[int | None] = field(default_factory=list)
    total: int = 0
    removed: int = 0
    plan_id: int | None = None


@dataclass
class Dashboard:
    devices: int = 0
    restricted: int = 0
    sites: int = 0
    open_removals: int = 0
    by_maker: list[tuple[str, int, int]] = field(default_factory=list)  # maker, all, restricted
    by_status: list[tuple[str, int]] = field(default_factory=list)
    by_sensitivity: list[tuple[str, int, int]] = field(default_factory=list)
    burn_down: BurnDown = field(default_factory=BurnDown)
    work_orders: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        b = self.burn_down
        return {
            "devices": self.devices, "restricted": self.restricted, "sites": self.sites,
            "open_removals": self.open_removals,
            "by_maker": [{"maker": k, "devices": n, "restricted": r}
                         for k, n, r in self.by_maker],
            "by_status": dict(self.by_status),
            "by_sensitivity": [{"sensitivity": k, "devices": n, "restricted": r}
                               for k, n, r in self.by_sensitivity],
            "work_orders": self.work_orders,
            "burn_down": {"plan_id": b.plan_id, "total": b.total, "removed": b.removed,
                          "weeks": [w.isoformat() for w in b.weeks],
                          "planned_remaining": b.planned_remaining,
                          "actual_remaining": b.actual_remaining},
        }


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def burn_down(planned: dict[date, int], removed: dict[date, int], today: date,
              plan_id: int | None = None) -> BurnDown:
    """Remaining removals per week, as planned and as done (pure).

    Weeks run from the earliest planned or done week to the later of the last planned week
    and today's; the actual line stops at the current week.
    """
    total = sum(planned.values())
    if not planned and not removed:
        return BurnDown(plan_id=plan_id)
    by_week_done: Counter[date] = Counter()
    for day, n in removed.items():
        by_week_done[monday(day)] += n
    by_week_plan: Counter[date] = Counter()
    for day, n in planned.items():
        by_week_plan[monday(day)] += n
    weeks_known = sorted(set(by_week_plan) | set(by_week_done))
    start, end = weeks_known[0], max(weeks_known[-1], monday(today))
    out = BurnDown(total=total, removed=sum(removed.values()), plan_id=plan_id)
    plan_left, done_left = total, total
    week = start
    while week <= end:
        plan_left -= by_week_plan.get(week, 0)
        done_left -= by_week_done.get(week, 0)
        out.weeks.append(week)
        out.planned_remaining.append(plan_left)
        out.actual_remaining.append(done_left if week <= monday(today) else None)
        week += timedelta(days=7)
    return out


def _breakdowns(s: Any, principal: Principal, d: Dashboard) -> None:
    """Makers and sensitivity from one index-only scan (ix_devices_site_maker) grouped per
    site, joined to the small sites table in Python; statuses from `device_status`."""
    sites = scoped(select(m.Site.id, m.Site.sensitivity), principal, m.Site.id)
    sensitivity: dict[int, str] = {}
    for pk, cls in s.execute(sites):
        sensitivity[pk] = cls
    per_site = scoped(
        select(m.Device.site_pk, m.Device.manufacturer_id, m.Device.restricted,
               func.count())
        .group_by(m.Device.site_pk, m.Device.manufacturer_id, m.Device.restricted),
        principal, m.Device.site_pk)
    makers: Counter[str] = Counter()
    makers_restricted: Counter[str] = Counter()
    sens: Counter[str] = Counter()
    sens_restricted: Counter[str] = Counter()
    for site_pk, maker, restricted, n in s.execute(per_site):
        key = maker or "(undetermined)"
        cls = sensitivity.get(site_pk) or "(no site)"
        makers[key] += n
        sens[cls] += n
        if restricted:
            makers_restricted[key] += n
            sens_restricted[cls] += n
            d.restricted += n
        d.devices += n
    if principal.central:
        by_status = select(m.DeviceStatus.status, func.count()).group_by(m.DeviceStatus.status)
    else:
        by_status = scoped(
            select(m.DeviceStatus.status, func.count())
            .join(m.Device, m.Device.id == m.DeviceStatus.device_pk)
            .group_by(m.DeviceStatus.status), principal, m.Device.site_pk)
    statuses: Counter[str] = Counter({str(k): int(n) for k, n in s.execute(by_status)})
    assessed = sum(statuses.values())
    if d.devices > assessed:
        statuses[UNASSESSED] += d.devices - assessed
    top = makers.most_common(TOP_MAKERS)
    shown = {k for k, _ in top}
    rest = sum(n for k, n in makers.items() if k not in shown)
    d.by_maker = [(k, n, makers_restricted[k]) for k, n in top]
    if rest:
        d.by_maker.append(("(other makers)", rest, sum(
            n for k, n in makers_restricted.items() if k not in shown)))
    d.by_status = statuses.most_common()
    d.by_sensitivity = [(k, n, sens_restricted[k]) for k, n in sens.most_common()]


def build_dashboard(store: Store, principal: Principal, today: date) -> Dashboard:
    d = Dashboard()
    with store.session() as s:
        _breakdowns(s, principal, d)
        d.sites = int(s.scalar(scoped(select(func.count(m.Site.id)), principal, m.Site.id))
                      or 0)
        d.open_removals = int(s.scalar(scoped(
            select(func.count(m.Finding.id)).where(m.Finding.status == "open",
                                                   m.Finding.action == "remove"),
            principal, m.Finding.site_pk)) or 0)
        plan_id = s.scalar(select(func.max(m.PlanRun.id)))
        planned: dict[date, int] = {}
        if plan_id is not None:
            rows = s.execute(scoped(
                select(m.PlanAssignment.week_start, func.count(m.PlanAssignment.id))
                .where(m.PlanAssignment.plan_id == plan_id,
                       m.PlanAssignment.week_start.is_not(None))
                .group_by(m.PlanAssignment.week_start), principal, m.PlanAssignment.site_pk))
            planned = {w: int(n) for w, n in rows if w is not None}
        removed_day = _day_of(m.WorkOrder.removed_at, store.dialect)
        removed = {_as_date(day): int(n) for day, n in s.execute(_work_orders(
            select(removed_day, func.count(m.WorkOrder.id))
            .where(m.WorkOrder.removed_at.is_not(None)).group_by(removed_day), principal))
            if day is not None}
        d.work_orders = {str(k): int(n) for k, n in s.execute(_work_orders(
            select(m.WorkOrder.state, func.count(m.WorkOrder.id))
            .group_by(m.WorkOrder.state), principal))}
    d.burn_down = burn_down(planned, removed, today, plan_id)
    return d


def _work_orders(stmt: Any, principal: Principal) -> Any:
    """Work orders reach a department through their device's site (no join for central)."""
    if principal.central:
        return stmt
    return scoped(stmt.join(m.Device, m.WorkOrder.device_pk == m.Device.id), principal,
                  m.Device.site_pk)


def _day_of(column: Any, dialect: str) -> Any:
    """The calendar day of a timestamp, grouped in SQL (SQLite has no DATE type: text)."""
    if dialect == "sqlite":
        return type_coerce(func.date(column), String)
    return cast(column, Date)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def data_version(store: Store) -> tuple[Any, ...]:
    """A key that changes whenever anything the dashboard counts may have changed: every
    import and scan adds a source, identification a verdict, assessment a run, planning a
    plan, and every work-order change an event. Each part is one index lookup."""
    parts = [select(func.max(col)).scalar_subquery() for col in (
        m.Source.id, m.Verdict.id, m.AssessmentRun.id, m.PlanRun.id, m.WorkOrderEvent.id)]
    with store.session() as s:
        return tuple(s.execute(select(*parts)).one())


class DashboardCache:
    """Dashboard aggregates per department, kept while the store's data version stays the
    same (so every worker process sees a change at once) and at most `ttl` seconds. Misses
    for one key compute once, however many requests arrive together."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._keys: dict[Any, threading.Lock] = {}
        self._values: dict[Any, tuple[float, Any, Dashboard]] = {}

    def _fresh(self, key: Any, version: Any) -> Dashboard | None:
        hit = self._values.get(key)
        if hit and hit[1] == version and time.monotonic() - hit[0] < self.ttl:
            return hit[2]
        return None

    def get(self, key: Any, version: Any, compute: Callable[[], Dashboard]) -> Dashboard:
        if self.ttl <= 0:
            return compute()
        with self._lock:
            hit = self._fresh(key, version)
            if hit is not None:
                return hit
            key_lock = self._keys.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._fresh(key, version)
            if hit is not None:
                return hit
            value = compute()
            with self._lock:
                self._values[key] = (time.monotonic(), version, value)
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

"""Alerts: work that slips, and devices that come back.

- `slipping`: not removed by the end of its planned week (weeks start on Monday, so the
  alert starts on the Monday after).
- `past_deadline`: not removed by its deadline (the alert starts the day after).
- `seen_again`: recorded as removed (or disposed, or verified) but a scan or network source
  saw the device after the removal. The work order does not move: someone has to look.

Alerts are computed, never stored: they are a question about the store on a given day.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.track.lifecycle import DONE_STATES, OPEN_STATES
from camsweep.track.verify import seen_after

KINDS = ("seen_again", "past_deadline", "slipping")  # most urgent first


@dataclass(frozen=True)
class Alert:
    kind: str
    wo_id: int
    asset_id: str | None
    site_id: str | None
    message: str
    since: date
    state: str = ""


@dataclass(frozen=True)
class AlertFacts:
    wo_id: int
    state: str
    asset_id: str | None
    site_id: str | None
    planned_week: date | None
    deadline: date | None
    removed_at: datetime | None
    last_seen_at: datetime | None


def _label(f: AlertFacts) -> str:
    device = f.asset_id or f"unregistered device at {f.site_id or 'no site'}"
    return f"work order {f.wo_id} ({device})"


def alerts_for(facts: Iterable[AlertFacts], as_of: date) -> list[Alert]:
    out: list[Alert] = []
    for f in facts:
        if f.state in OPEN_STATES:
            if f.planned_week is not None and as_of >= f.planned_week + timedelta(days=7):
                since = f.planned_week + timedelta(days=7)
                out.append(Alert("slipping", f.wo_id, f.asset_id, f.site_id,
                                 f"{_label(f)} was planned for the week of {f.planned_week} "
                                 f"and is still '{f.state}'", since, f.state))
            if f.deadline is not None and as_of > f.deadline:
                out.append(Alert("past_deadline", f.wo_id, f.asset_id, f.site_id,
                                 f"{_label(f)} is past its deadline of {f.deadline} and is "
                                 f"still '{f.state}'", f.deadline + timedelta(days=1), f.state))
        elif (f.state in DONE_STATES and seen_after(f.last_seen_at, f.removed_at)
              and f.last_seen_at is not None and f.last_seen_at.date() <= as_of):
            assert f.removed_at is not None
            out.append(Alert("seen_again", f.wo_id, f.asset_id, f.site_id,
                             f"{_label(f)} is '{f.state}' (removed "
                             f"{f.removed_at:%Y-%m-%d %H:%M}) but was seen on the network at "
                             f"{f.last_seen_at:%Y-%m-%d %H:%M}", f.last_seen_at.date(), f.state))
    out.sort(key=lambda a: (KINDS.index(a.kind), a.since, a.wo_id))
    return out


def alerts(store: Store, as_of: date, *, site_pks: Collection[int] | None = None) -> list[Alert]:
    """Every alert on `as_of`, most urgent kind first, oldest first within a kind."""
    wo = m.WorkOrder
    slipping_from = as_of - timedelta(days=7)
    query = (
        select(wo.id, wo.state, m.Device.asset_id, m.Site.site_id, wo.planned_week, wo.deadline,
               wo.removed_at, m.Device.last_seen_at)
        .join(m.Device, m.Device.id == wo.device_pk)
        .outerjoin(m.Site, m.Site.id == m.Device.site_pk)
        .where(or_(
            and_(wo.state.in_(sorted(OPEN_STATES)),
                 or_(wo.planned_week <= slipping_from, wo.deadline < as_of)),
            and_(wo.state.in_(sorted(DONE_STATES)), m.Device.last_seen_at > wo.removed_at),
        ))
    )
    if site_pks is not None:
        query = query.where(m.Device.site_pk.in_(list(site_pks)))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return alerts_for((AlertFacts(*r) for r in rows), as_of)

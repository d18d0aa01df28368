"""Work-order progress and history, read through `camsweep.track.workorders`.

The module is looked up at run time: reporting was built alongside tracking, and an install
without it still gets every report, with progress taken from the plan's own `done` marks and
the work-order sections saying that tracking is not available.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from camsweep.store import Store

DONE_STATES = frozenset({"removed", "disposed", "verified"})
MOVED_STATES = DONE_STATES | {"cancelled"}
PAGE = 500  # the tracker's largest page


def _module() -> Any | None:
    try:
        return importlib.import_module("camsweep.track.workorders")
    except ImportError:
        return None


@dataclass
class WorkOrderHistory:
    id: int
    state: str
    planned_week: Any
    deadline: Any
    reason: str | None
    events: list[dict[str, Any]] = field(default_factory=list)


def _views(module: Any, store: Store, site_pks: Collection[int] | None) -> Iterator[Any]:
    page, seen = 1, 0
    while True:
        views, total = module.list_work_orders(store, site_pks=site_pks, page=page,
                                               per_page=PAGE)
        yield from views
        seen += len(views)
        if not views or seen >= total:
            return
        page += 1


def states_by_device(store: Store, site_pks: Collection[int] | None) -> dict[int, str] | None:
    """Each device's work-order state; None when tracking is not available."""
    module = _module()
    if module is None:
        return None
    return {int(v.device_pk): str(v.state) for v in _views(module, store, site_pks)
            if v.device_pk is not None}


def _event(event: Any) -> dict[str, Any]:
    names = ("kind", "at", "actor", "from_state", "to_state", "note", "attachment_name",
             "attachment_type", "attachment_size", "attachment_sha256", "certificate_ref",
             "disposal_method")
    return {name: getattr(event, name, None) for name in names}


def histories(store: Store, site_pk: int | None, device_pks: Collection[int], *,
              events_for: Collection[str] | None = None
              ) -> dict[int, list[WorkOrderHistory]] | None:
    """Work orders of these devices (at one site, or anywhere when `site_pk` is None) with
    every event, oldest first, or only for work orders in `events_for` states (a site's
    hundreds of untouched orders would cost a query each); None without tracking."""
    module = _module()
    if module is None:
        return None
    wanted = set(device_pks)
    out: dict[int, list[WorkOrderHistory]] = {}
    for v in _views(module, store, [site_pk] if site_pk is not None else None):
        if v.device_pk not in wanted:
            continue
        detail = (module.get_work_order(store, v.id)
                  if events_for is None or v.state in events_for else None)
        events = list(getattr(detail, "events", None) or []) if detail is not None else []
        out.setdefault(int(v.device_pk), []).append(WorkOrderHistory(
            int(v.id), str(v.state), v.planned_week, v.deadline, getattr(v, "reason", None),
            [_event(e) for e in events]))
    return out

"""Work orders: made from the stored plan, moved through the lifecycle with evidence, read back
per department.

`generate_work_orders` turns a stored plan into one work order per device and, run again
after a re-plan, moves weeks instead of duplicating; devices the planner could not place get
a work order in `identified` with its reason; a work order whose device no longer has an open
removal finding is cancelled. Work already done is never touched by a plan.

`transition` is the only way a person moves a work order: the lifecycle
(`camsweep.track.lifecycle`) decides, evidence files are checked by content and stored by
hash (`camsweep.track.attachments`), verification asks the scan results
(`camsweep.track.verify`), and every change is an event plus an audit-log entry in the same
transaction. Every read takes `site_pks` (None: all) so a department sees only its sites; a
work order outside them is reported exactly as one that does not exist.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import Connection, Select, func, insert, select, update

from camsweep.errors import PlanError, TransitionError
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import insert_many, utcnow
from camsweep.track.alerts import Alert, alerts
from camsweep.track.attachments import (
    EXTENSIONS,
    Attachment,
    CheckedAttachment,
    EvidenceStore,
    check_attachment,
)
from camsweep.track.audit import append_audit
from camsweep.track.lifecycle import (
    CANCELLED,
    DISPOSED,
    DONE_STATES,
    IDENTIFIED,
    OPEN_STATES,
    REMOVED,
    SCHEDULED,
    STATES,
    VERIFIED,
    Evidence,
    Situation,
    check,
    next_states,
    normalise_method,
    normalise_state,
)
from camsweep.track.verify import Gone, check_gone

__all__ = [
    "Alert", "Attachment", "Change", "Current", "Planned", "WorkOrderDetail",
    "WorkOrderEventView", "WorkOrderView",
    "alerts", "generate_work_orders", "get_work_order", "list_work_orders", "planned_by_device",
    "read_attachment", "reconcile", "transition", "verify_work_orders",
]

MAX_PER_PAGE = 500
CLOCK_SKEW = timedelta(minutes=5)
WO = m.WorkOrder
EV = m.WorkOrderEvent


# --- views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkOrderView:
    id: int
    device_pk: int
    asset_id: str | None
    site_pk: int | None
    site_id: str | None
    region: str | None
    planned_week: date | None
    deadline: date | None
    state: str
    reason: str | None
    updated_at: datetime
    device_type: str | None = None
    policy: str | None = None
    plan_id: int | None = None
    removed_at: datetime | None = None


@dataclass(frozen=True)
class WorkOrderEventView:
    id: int
    kind: str  # created | replanned | transition
    at: datetime
    recorded_at: datetime
    actor: str
    from_state: str | None
    to_state: str
    note: str | None
    attachment_name: str | None
    attachment_type: str | None
    attachment_size: int | None
    attachment_sha256: str | None
    certificate_ref: str | None
    disposal_method: str | None
    details: dict[str, Any] | None
    audit_seq: int | None


@dataclass(frozen=True)
class WorkOrderDetail(WorkOrderView):
    """The work order, what is known of its device on site, its events (oldest first) and the
    moves a user may try next."""

    events: tuple[WorkOrderEventView, ...] = ()
    next_states: tuple[str, ...] = ()
    ip: str | None = None
    mac: str | None = None
    serial: str | None = None
    brand: str | None = None
    model: str | None = None
    manufacturer_id: str | None = None
    last_seen_at: datetime | None = None
    not_seen_at: datetime | None = None


_VIEW_COLS = (WO.id, WO.device_pk, m.Device.asset_id, m.Device.site_pk, m.Site.site_id,
              m.Site.region, WO.planned_week, WO.deadline, WO.state, WO.reason, WO.updated_at,
              m.Device.device_type, WO.policy, WO.plan_id, WO.removed_at)
_DEVICE_COLS = (m.Device.ip, m.Device.mac, m.Device.serial, m.Device.brand, m.Device.model,
                m.Device.manufacturer_id, m.Device.last_seen_at, m.Device.not_seen_at)


Cols = TypeVarTuple("Cols")


def _scoped(query: Select[*Cols], site_pks: Collection[int] | None
            ) -> Select[*Cols]:
    query = (query.join(m.Device, m.Device.id == WO.device_pk)
             .outerjoin(m.Site, m.Site.id == m.Device.site_pk))
    if site_pks is not None:
        query = query.where(m.Device.site_pk.in_(list(site_pks)))
    return query


def _event_view(e: m.WorkOrderEvent) -> WorkOrderEventView:
    return WorkOrderEventView(
        e.id, e.kind, e.at, e.recorded_at, e.actor, e.from_state, e.to_state, e.note,
        e.attachment_name, e.attachment_type, e.attachment_size, e.attachment_sha256,
        e.certificate_ref, e.disposal_method, e.details, e.audit_seq)


def list_work_orders(store: Store, *, site_pks: Collection[int] | None = None,
                     state: str | None = None, page: int = 1, per_page: int = 50,
                     ) -> tuple[list[WorkOrderView], int]:
    """One page of work orders (soonest planned week first, unplanned last) and the total."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    query = _scoped(select(*_VIEW_COLS), site_pks)
    counted = _scoped(select(func.count(WO.id)), site_pks)
    if state:
        wanted = normalise_state(state)
        if wanted not in STATES:
            raise TransitionError(f"'{state}' is not a work-order state "
                                  f"(states: {', '.join(STATES)})")
        query = query.where(WO.state == wanted)
        counted = counted.where(WO.state == wanted)
    query = (query.order_by(WO.planned_week.is_(None), WO.planned_week, WO.id)
             .limit(per_page).offset((page - 1) * per_page))
    with store.engine.connect() as conn:
        total = int(conn.execute(counted).scalar_one())
        rows = conn.execute(query).all()
    return [WorkOrderView(*r) for r in rows], total


def get_work_order(store: Store, wo_id: int, *, site_pks: Collection[int] | None = None
                   ) -> WorkOrderDetail | None:
    with store.session() as session:
        row = session.execute(_scoped(select(*_VIEW_COLS), site_pks)
                              .where(WO.id == wo_id)).first()
        if row is None:
            return None
        view = WorkOrderView(*row)
        device = session.execute(select(*_DEVICE_COLS)
                                 .where(m.Device.id == view.device_pk)).one()
        events = tuple(_event_view(e) for e in session.scalars(
            select(EV).where(EV.work_order_id == wo_id).order_by(EV.id)))
    situation = Situation(view.id, view.state, view.device_type, view.planned_week)
    return WorkOrderDetail(**vars(view), events=events, next_states=next_states(situation),
                           ip=device.ip, mac=device.mac, serial=device.serial,
                           brand=device.brand, model=device.model,
                           manufacturer_id=device.manufacturer_id,
                           last_seen_at=device.last_seen_at, not_seen_at=device.not_seen_at)


def read_attachment(store: Store, sha256: str, *, site_pks: Collection[int] | None = None,
                    evidence: EvidenceStore | None = None) -> tuple[str, bytes]:
    """(media type, bytes) of an attachment of a work order the caller may see."""
    sha = sha256.strip().lower()
    query = _scoped(select(EV.attachment_type).join(WO, WO.id == EV.work_order_id), site_pks)
    with store.engine.connect() as conn:
        media_type = conn.execute(query.where(EV.attachment_sha256 == sha).limit(1)).scalar()
    if media_type is None or media_type not in EXTENSIONS:
        raise TransitionError(f"no attachment {sha256}")
    return media_type, (evidence or EvidenceStore.configured()).read(sha, EXTENSIONS[media_type])


# --- generation from the plan -----------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """What one plan says of one device (several findings of a device: the earliest week)."""

    device_pk: int
    week: date | None
    deadline: date | None
    policy: str | None
    reason: str | None


@dataclass(frozen=True)
class Current:
    """A work order as it stands, as far as planning is concerned."""

    id: int
    device_pk: int
    state: str
    planned_week: date | None
    deadline: date | None
    policy: str | None
    reason: str | None


@dataclass(frozen=True)
class Change:
    """One work order created or changed by a plan, with the note its event will carry."""

    device_pk: int
    wo_id: int | None  # None: a new work order
    kind: str  # created | replanned | transition
    from_state: str | None
    state: str
    planned_week: date | None
    deadline: date | None
    policy: str | None
    reason: str | None
    note: str


PlanRow = tuple[int | None, date | None, date | None, str | None, str | None]


def planned_by_device(rows: Iterable[PlanRow], deadlines: Mapping[int, date | None]
                      ) -> dict[int, Planned]:
    """A plan's rows (device pk, week, deadline, policy, reason) folded per device: the
    earliest week wins; an unscheduled device's deadline comes from its open findings (the
    plan keeps none for it). Rows without a device (an asset the store does not hold) drop."""
    weeks: dict[int, list[tuple[date, date | None, str | None]]] = {}
    reasons: dict[int, str] = {}
    for pk, week, deadline, policy, reason in rows:
        if pk is None:
            continue
        if week is not None:
            weeks.setdefault(pk, []).append((week, deadline, policy))
        else:
            reasons.setdefault(pk, reason or "not scheduled")
    out: dict[int, Planned] = {}
    for pk, found in weeks.items():
        week, _, policy = min(found, key=lambda r: (r[0], r[2] or ""))
        known = [d for _, d, _ in found if d is not None]
        out[pk] = Planned(pk, week, min(known) if known else deadlines.get(pk), policy, None)
    for pk, reason in reasons.items():
        if pk not in out:
            out[pk] = Planned(pk, None, deadlines.get(pk), None, reason)
    return out


def _plan_rows(conn: Connection, plan_id: int) -> list[PlanRow]:
    pa = m.PlanAssignment
    rows = conn.execute(select(pa.device_pk, pa.week_start, pa.deadline, pa.policy, pa.reason)
                        .where(pa.plan_id == plan_id)).all()
    return [(pk, week, deadline, policy, reason) for pk, week, deadline, policy, reason in rows]


def reconcile(current: Mapping[int, Current], planned: Mapping[int, Planned],
              wanted: Collection[int], plan_id: int) -> list[Change]:
    """What a plan changes: new work orders, moved weeks, and the system's own transitions
    (schedule, unschedule, cancel, reinstate). Done work is left alone. Pure."""
    changes: list[Change] = []
    for pk in sorted(planned):
        p = planned[pk]
        target = SCHEDULED if p.week is not None else IDENTIFIED
        cur = current.get(pk)
        if cur is None:
            changes.append(Change(pk, None, "created", None, target, p.week, p.deadline,
                                   p.policy, p.reason,
                                   f"plan {plan_id}: " + (f"week of {p.week}" if p.week
                                                          else f"not scheduled: {p.reason}")))
            continue
        if cur.state in DONE_STATES:
            continue
        if cur.state == CANCELLED:
            note = f"plan {plan_id} includes it again"
        elif cur.state != target:
            note = (f"plan {plan_id} scheduled it for the week of {p.week}" if p.week else
                    f"plan {plan_id} could not schedule it: {p.reason}")
        elif (cur.planned_week, cur.deadline, cur.policy, cur.reason) != (
                p.week, p.deadline, p.policy, p.reason):
            note = (f"plan {plan_id} moved it from the week of {cur.planned_week} to the week "
                    f"of {p.week}" if cur.planned_week != p.week
                    else f"plan {plan_id} changed its deadline, policy or reason")
            changes.append(Change(pk, cur.id, "replanned", cur.state, cur.state, p.week,
                                   p.deadline, p.policy, p.reason, note))
            continue
        else:
            continue
        check(Situation(cur.id, cur.state, None, p.week), target, Evidence(note=note))
        changes.append(Change(pk, cur.id, "transition", cur.state, target, p.week, p.deadline,
                               p.policy, p.reason, note))
    for pk in sorted(set(current) - set(planned)):
        cur = current[pk]
        if cur.state in OPEN_STATES and pk not in wanted:
            note = (f"the device has no open removal finding (not in plan {plan_id}): the "
                    "finding was closed or waived")
            check(Situation(cur.id, cur.state), CANCELLED, Evidence(note=note))
            changes.append(Change(pk, cur.id, "transition", cur.state, CANCELLED,
                                   cur.planned_week, cur.deadline, cur.policy, note, note))
    return changes


def _open_removal_deadlines(conn: Connection) -> dict[int, date | None]:
    f = m.Finding
    rows = conn.execute(select(f.device_pk, func.min(f.deadline))
                        .where(f.status == "open", f.action == "remove")
                        .group_by(f.device_pk)).all()
    return {int(pk): d for pk, d in rows}


def _writer(conn: Connection) -> None:
    """On SQLite, take the write lock before reading what the write depends on: a reader that
    upgrades after another writer committed fails at once instead of waiting its turn."""
    if conn.dialect.name == "sqlite":
        conn.execute(update(WO).where(WO.id == -1).values(state=WO.state))


def _require_actor(actor: str | None) -> str:
    if not actor or not actor.strip():
        raise TransitionError("work orders need to know who is acting: pass --actor NAME or "
                              "set CAMSWEEP_ACTOR")
    return actor.strip()


def _digest(rows: Iterable[Any]) -> str:
    text = json.dumps(list(rows), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def generate_work_orders(store: Store, actor: str, plan_id: int | None = None) -> int:
    """Create or update work orders from a stored plan (default: the newest); returns how many
    were created or changed. Running it again on the same plan changes nothing."""
    from camsweep.store.plans import latest_plan_id

    who = _require_actor(actor)
    pid = plan_id if plan_id is not None else latest_plan_id(store)
    now = utcnow()
    with store.engine.begin() as conn:
        _writer(conn)
        if pid is None or conn.execute(select(m.PlanRun.id).where(m.PlanRun.id == pid)
                                       ).scalar() is None:
            raise PlanError(f"there is no stored plan {plan_id}" if plan_id is not None else
                            "there is no stored plan: run 'camsweep plan' first")
        newest = conn.execute(select(func.max(WO.plan_id))).scalar()
        if newest is not None and pid < newest:
            raise PlanError(f"work orders already follow plan {newest}; plan {pid} is older "
                            "and would move them back")
        deadlines = _open_removal_deadlines(conn)
        current = {r.device_pk: Current(r.id, r.device_pk, r.state, r.planned_week,
                                         r.deadline, r.policy, r.reason)
                   for r in conn.execute(select(WO.id, WO.device_pk, WO.state, WO.planned_week,
                                                WO.deadline, WO.policy, WO.reason)).all()}
        changes = reconcile(current, planned_by_device(_plan_rows(conn, pid), deadlines),
                            deadlines, pid)
        if not changes:
            return 0
        ids = _apply(conn, changes, pid, now)
        events = [(ids[c.device_pk], c.kind, who, c.from_state, c.state, c.note,
                   json.dumps({"plan_id": pid, "planned_week": _iso(c.planned_week),
                               "deadline": _iso(c.deadline), "reason": c.reason},
                              sort_keys=True))
                  for c in changes]
        counts = {k: sum(1 for c in changes if c.kind == k)
                  for k in ("created", "replanned", "transition")}
        entry = append_audit(conn, who, "workorders.generate", "plan", str(pid), {
            "plan_id": pid, **counts,
            "events_sha256": _digest([e[0], e[1], e[3], e[4], e[6]] for e in events),
            "transitions": [[ids[c.device_pk], c.from_state, c.state]
                            for c in changes if c.kind == "transition"],
        }, at=now)
        insert_many(conn, "work_order_events", _EVENT_COLS, events,
                    constants={"at": _stamp(now), "recorded_at": _stamp(now),
                               "audit_seq": entry.seq})
    return len(changes)


_EVENT_COLS = ("work_order_id", "kind", "actor", "from_state", "to_state", "note", "details")
_WO_COLS = ("device_pk", "state", "planned_week", "deadline", "policy", "reason")


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _stamp(value: datetime) -> str:
    """A timestamp as the store keeps it (the form SQLAlchemy writes on SQLite)."""
    return f"{value:%Y-%m-%d %H:%M:%S.%f}"


def _apply(conn: Connection, changes: list[Change], plan_id: int, now: datetime
           ) -> dict[int, int]:
    """Write the changes in bulk; device pk -> work order id. Refuses, writing nothing, if a
    person moved one of them (or another run created one) while the plan was applied."""
    ids = {c.device_pk: c.wo_id for c in changes if c.wo_id is not None}
    new = [(c.device_pk, c.state, _iso(c.planned_week), _iso(c.deadline), c.policy, c.reason)
           for c in changes if c.wo_id is None]
    if new:
        try:
            insert_many(conn, "work_orders", _WO_COLS, new, constants={
                "plan_id": plan_id, "created_at": _stamp(now), "updated_at": _stamp(now)})
        except conn.dialect.loaded_dbapi.IntegrityError as exc:  # raw driver error
            raise TransitionError("work orders were generated by someone else at the same "
                                  "time; nothing was written, run it again") from exc
        wanted = {row[0] for row in new}
        ids.update({pk: i for pk, i in conn.execute(select(WO.device_pk, WO.id)).all()
                    if pk in wanted})
    moved = [(c.state, _iso(c.planned_week), _iso(c.deadline), c.policy, c.reason, c.wo_id,
              c.from_state) for c in changes if c.wo_id is not None]
    if moved:
        ph = "?" if conn.dialect.name == "sqlite" else "%s"
        sql = (f"UPDATE work_orders SET state = {ph}, planned_week = {ph}, deadline = {ph}, "
               f"policy = {ph}, reason = {ph}, plan_id = {plan_id:d}, "
               f"updated_at = '{_stamp(now)}' WHERE id = {ph} AND state = {ph}")
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        try:
            cur.executemany(sql, moved)
            done = cur.rowcount  # both drivers sum an executemany's rows
        finally:
            cur.close()
        if done != len(moved):
            raise TransitionError("work orders were changed by someone else while the plan was "
                                  "applied; nothing was written, run it again")
    return {pk: i for pk, i in ids.items() if i is not None}


# --- transitions ------------------------------------------------------------------------------


def _naive_utc(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    when = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at
    if when > now + CLOCK_SKEW:
        raise TransitionError(f"{when.isoformat(sep=' ', timespec='minutes')} UTC is in the "
                              "future; record what has happened")
    return when


def _clean(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def _misplaced(to: str, certificate_ref: str | None, method: str | None) -> str | None:
    if to != DISPOSED and (certificate_ref or method):
        what = "a disposal method" if method else "a certificate reference"
        return f"{what} belongs to a disposal, not to '{to}'"
    return None


def transition(store: Store, actor: str, wo_id: int, to_state: str, *,
               note: str | None = None, attachment: Attachment | None = None,
               certificate_ref: str | None = None, disposal_method: str | None = None,
               at: datetime | None = None, site_pks: Collection[int] | None = None,
               evidence: EvidenceStore | None = None) -> WorkOrderView:
    """Move a work order, or raise `TransitionError` saying why not.

    `at` is when it happened (default now; never in the future, never before the previous
    transition); the event also keeps when it was recorded. An attachment is checked by its
    content and stored by hash before the change commits.
    """
    who = _require_actor(actor)
    to = normalise_state(to_state)
    files = evidence or EvidenceStore.configured()
    checked = check_attachment(attachment, files.max_bytes) if attachment is not None else None
    note, cert = _clean(note), _clean(certificate_ref)
    method = normalise_method(disposal_method)
    misplaced = _misplaced(to, cert, method)
    if misplaced:
        raise TransitionError(f"work order {wo_id}: {misplaced}")
    with store.engine.begin() as conn:
        _writer(conn)
        now = utcnow()
        when = _naive_utc(at, now)
        row = conn.execute(_scoped(select(WO.state, WO.device_pk, WO.planned_week,
                                          WO.removed_at, m.Device.device_type,
                                          m.Device.asset_id), site_pks)
                           .where(WO.id == wo_id)).first()
        if row is None:
            raise TransitionError(f"no work order {wo_id}")
        gone: Gone | None = None
        if to == VERIFIED and row.state == DISPOSED:
            gone = check_gone(conn, row.device_pk, row.removed_at)
        check(Situation(wo_id, row.state, row.device_type, row.planned_week), to, Evidence(
            note=note, attachment_type=checked.media_type if checked else None,
            certificate_ref=cert, disposal_method=method, gone=bool(gone and gone.ok),
            gone_problem=gone.reason if gone and not gone.ok else None))
        last = conn.execute(select(func.max(EV.at)).where(
            EV.work_order_id == wo_id, EV.kind == "transition")).scalar()
        if last is not None and when < last:
            raise TransitionError(f"work order {wo_id}: {when:%Y-%m-%d %H:%M} is before its "
                                  f"last recorded change ({last:%Y-%m-%d %H:%M})")
        if checked is not None:
            files.put_bytes(checked.data, checked.sha256, checked.ext)
        values: dict[str, Any] = {"state": to, "updated_at": now}
        if to == REMOVED:
            values["removed_at"] = when
        elif to in OPEN_STATES and row.state in DONE_STATES:
            values["removed_at"] = None
        if to == CANCELLED or (to == IDENTIFIED and row.state == SCHEDULED):
            values["reason"] = note
        elif row.state == CANCELLED:
            values["reason"] = None
        moved = conn.execute(update(WO).where(WO.id == wo_id, WO.state == row.state)
                             .values(**values)).rowcount
        if moved != 1:
            raise TransitionError(f"work order {wo_id} was changed by someone else meanwhile; "
                                  "look at it again and retry")
        details = _transition_details(row.asset_id, row.device_pk, row.state, to, when, note,
                                      checked, cert, method, gone)
        entry = append_audit(conn, who, "workorder.transition", "work_order", str(wo_id),
                             details, at=now)
        conn.execute(insert(EV).values(
            work_order_id=wo_id, kind="transition", at=when, recorded_at=now, actor=who,
            from_state=row.state, to_state=to, note=note,
            attachment_name=checked.filename if checked else None,
            attachment_type=checked.media_type if checked else None,
            attachment_size=checked.size if checked else None,
            attachment_sha256=checked.sha256 if checked else None,
            certificate_ref=cert, disposal_method=method,
            details={"verification": gone.evidence} if gone is not None else None,
            audit_seq=entry.seq))
        view = conn.execute(_scoped(select(*_VIEW_COLS), None).where(WO.id == wo_id)).one()
    return WorkOrderView(*view)


def _transition_details(asset_id: str | None, device_pk: int, was: str, to: str,
                        when: datetime, note: str | None, checked: CheckedAttachment | None,
                        cert: str | None, method: str | None, gone: Gone | None
                        ) -> dict[str, Any]:
    details: dict[str, Any] = {"asset_id": asset_id, "device_pk": device_pk, "from": was,
                               "to": to, "at": when.isoformat(), "note": note}
    if checked is not None:
        details["attachment"] = {"name": checked.filename, "type": checked.media_type,
                                 "size": checked.size, "sha256": checked.sha256}
    if cert or method:
        details["disposal"] = {"method": method, "certificate_ref": cert}
    if gone is not None:
        details["verification"] = gone.evidence
    return details


def verify_work_orders(store: Store, actor: str, *, site_pks: Collection[int] | None = None
                       ) -> list[tuple[int, bool, str]]:
    """Try every disposed work order against the scan results: (id, verified?, why)."""
    with store.engine.connect() as conn:
        rows = conn.execute(_scoped(select(WO.id, WO.device_pk, WO.removed_at), site_pks)
                            .where(WO.state == DISPOSED).order_by(WO.id)).all()
        judged = [(wo_id, check_gone(conn, pk, removed)) for wo_id, pk, removed in rows]
    out: list[tuple[int, bool, str]] = []
    for wo_id, gone in judged:
        if not gone.ok:
            out.append((wo_id, False, gone.reason))
            continue
        try:
            transition(store, actor, wo_id, VERIFIED, site_pks=site_pks)
        except TransitionError as exc:  # moved by someone meanwhile, or evidence changed
            out.append((wo_id, False, str(exc)))
        else:
            out.append((wo_id, True, gone.reason))
    return out

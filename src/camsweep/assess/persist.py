"""Saving an assessment: the run record, findings opened / kept / changed / closed, statuses.

A finding is identified by (device, policy, rule, action). Against the findings still open
for the policies assessed, a new run's findings are *new* (no open row), *changed* (open row,
different digest of policy version, deadline, priority and reasons), *unchanged*, or the
open row is *closed* (the run no longer finds it). Findings of policies not in the run are
left alone. Everything is written in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, delete, insert, select, update

from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import insert_many, update_many, utcnow

FINDING_KEY = ("device_pk", "policy", "rule", "action")
_INSERT_COLS = ("device_pk", "site_pk", "asset_id", "policy_id", "policy_version", "rule",
                "action", "mandatory", "deadline", "priority", "vulnerable", "exposed",
                "reasons", "digest", "status", "first_run_id", "last_run_id")
_CHANGE_COLS = ("policy_version", "mandatory", "deadline", "priority", "vulnerable", "exposed",
                "reasons", "digest", "last_run_id", "changed_run_id", "previous")


@dataclass
class Change:
    asset_id: str | None
    site_id: str | None
    policy: str
    rule: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class Diff:
    """What changed since the findings the previous run(s) left open."""

    previous_run: int | None = None
    previous_as_of: date | None = None
    previous_kb: str | None = None
    previous_policies: list[dict[str, Any]] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> dict[str, Any]:
        return {"previous_run": self.previous_run,
                "previous_as_of": self.previous_as_of.isoformat() if self.previous_as_of else None,
                "new": len(self.new), "closed": len(self.closed), "changed": len(self.changed),
                "unchanged": self.unchanged}


def previous_run(conn: Connection, policy_ids: Sequence[str]) -> m.AssessmentRun | None:
    """The newest run that assessed any of these policies."""
    rows = conn.execute(select(m.AssessmentRun.__table__).order_by(
        m.AssessmentRun.id.desc())).mappings()
    wanted = set(policy_ids)
    for row in rows:
        if wanted & {p.get("id") for p in row["policies"] or []}:
            return m.AssessmentRun(**dict(row))
    return None


def _open(conn: Connection, policy_ids: Sequence[str]) -> pl.DataFrame:
    f = m.Finding
    stmt = (select(f.id, f.device_pk, f.asset_id, f.site_pk, f.policy_id, f.rule, f.action,
                   f.digest, f.deadline, f.priority, f.policy_version, f.reasons)
            .where(f.status == "open", f.policy_id.in_(list(policy_ids))))
    rows = [(*r[:-1], json.dumps(r[-1], ensure_ascii=False)) for r in conn.execute(stmt)]
    schema = {"id": pl.Int64, "device_pk": pl.Int64, "asset_id": pl.String, "site_pk": pl.Int64,
              "policy": pl.String, "rule": pl.String, "action": pl.String,
              "old_digest": pl.String, "old_deadline": pl.Date, "old_priority": pl.Int64,
              "old_version": pl.String, "old_reasons": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _site_ids(conn: Connection) -> dict[int, str]:
    return {int(pk): str(sid) for pk, sid in conn.execute(select(m.Site.id, m.Site.site_id))}


def compare(conn: Connection, findings: pl.DataFrame, policy_ids: Sequence[str]
            ) -> tuple[Diff, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(diff, new rows, changed rows with old id, closed ids) against the open findings."""
    old = _open(conn, policy_ids)
    cols = list(FINDING_KEY)
    joined = findings.join(old.drop("asset_id", "site_pk"), on=cols, how="left",
                           nulls_equal=True, maintain_order="left")
    new_rows = joined.filter(pl.col("id").is_null())
    kept = joined.filter(pl.col("id").is_not_null())
    changed = kept.filter(pl.col("digest") != pl.col("old_digest"))
    closed = old.join(findings.select(cols), on=cols, how="anti", nulls_equal=True)
    prev = previous_run(conn, policy_ids)
    sites = _site_ids(conn)
    diff = Diff(
        previous_run=prev.id if prev else None, previous_as_of=prev.as_of if prev else None,
        previous_kb=prev.kb_version if prev else None,
        previous_policies=list(prev.policies) if prev else [],
        new=[{k: r[k] for k in ("asset_id", "site_id", "policy", "rule", "action", "deadline")}
             for r in new_rows.iter_rows(named=True)],
        closed=[{"asset_id": r["asset_id"], "site_id": sites.get(r["site_pk"] or -1),
                 "policy": r["policy"], "rule": r["rule"], "action": r["action"]}
                for r in closed.iter_rows(named=True)],
        changed=[Change(r["asset_id"], r["site_id"], r["policy"], r["rule"], r["action"],
                        {"deadline": r["old_deadline"], "priority": r["old_priority"],
                         "policy_version": r["old_version"]},
                        {"deadline": r["deadline"], "priority": r["priority"],
                         "policy_version": r["policy_version"]})
                 for r in changed.iter_rows(named=True)],
        unchanged=kept.height - changed.height,
    )
    return diff, new_rows, changed, closed


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def save(store: Store, *, as_of: date, kb_version: str, policies: list[dict[str, Any]],
         params: dict[str, Any], options: dict[str, Any], devices: pl.DataFrame,
         findings: pl.DataFrame, notes: dict[int, list[str]]) -> tuple[int, Diff]:
    """Write the run; `findings` has FINDING_KEY plus the values, `reasons` and `digest`."""
    policy_ids = [p["id"] for p in policies]
    started = utcnow()
    counts = {s: int(n) for s, n in devices.group_by("status").len().iter_rows()}
    with store.engine.begin() as conn:
        diff, new_rows, changed, closed = compare(conn, findings, policy_ids)
        key = conn.execute(insert(m.AssessmentRun).values(
            started_at=started, as_of=as_of, kb_version=kb_version, policies=policies,
            params=params, options=options, devices=devices.height, findings=findings.height,
            opened=len(diff.new), closed=len(diff.closed), changed=len(diff.changed),
            status_counts=counts)).inserted_primary_key
        assert key is not None
        run_id = int(key[0])
        update_many(conn, "findings", ("status", "closed_run_id"),
                    (("closed", run_id, fid) for fid in closed["id"].to_list()))
        conn.execute(update(m.Finding).where(
            m.Finding.status == "open", m.Finding.policy_id.in_(policy_ids)
        ).values(last_run_id=run_id))
        update_many(conn, "findings", _CHANGE_COLS, (
            (r["policy_version"], r["mandatory"], _iso(r["deadline"]), r["priority"],
             r["vulnerable"], r["exposed"], json.dumps(r["reasons"], ensure_ascii=False),
             r["digest"], run_id, run_id,
             json.dumps({"deadline": _iso(r["old_deadline"]), "priority": r["old_priority"],
                         "policy_version": r["old_version"],
                         "reasons": json.loads(r["old_reasons"])},
                        ensure_ascii=False),
             r["id"]) for r in changed.iter_rows(named=True)))
        insert_many(conn, "findings", _INSERT_COLS, (
            (r["device_pk"], r["site_pk"], r["asset_id"], r["policy"], r["policy_version"],
             r["rule"], r["action"], r["mandatory"], _iso(r["deadline"]), r["priority"],
             r["vulnerable"], r["exposed"], json.dumps(r["reasons"], ensure_ascii=False),
             r["digest"], "open", run_id, run_id) for r in new_rows.iter_rows(named=True)))
        conn.execute(delete(m.DeviceStatus))
        insert_many(conn, "device_status", ("device_pk", "run_id", "status", "notes"), (
            (pk, run_id, status,
             json.dumps(notes[row], ensure_ascii=False) if row in notes else None)
            for row, pk, status in devices.select("row", "device_pk", "status").iter_rows()))
        conn.execute(update(m.AssessmentRun).where(m.AssessmentRun.id == run_id)
                     .values(finished_at=utcnow()))
    return run_id, diff


def dry_compare(store: Store, findings: pl.DataFrame, policy_ids: Sequence[str]) -> Diff:
    with store.engine.connect() as conn:
        return compare(conn, findings, policy_ids)[0]


def affected_sites(store: Store, policy_id: str) -> set[int]:
    """Sites that have had a mandatory removal finding under the policy, in any run."""
    with store.engine.connect() as conn:
        return {int(pk) for (pk,) in conn.execute(
            select(m.Finding.site_pk).distinct().where(
                m.Finding.policy_id == policy_id, m.Finding.action == "remove",
                m.Finding.mandatory.is_(True))) if pk is not None}

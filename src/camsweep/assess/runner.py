"""Assess the devices in a store: load, evaluate (pure, `camsweep.policy`), save, compare.

    from camsweep.assess import assess_store
    result = assess_store(store, ["uk-wms-2022"], date(2025, 1, 6),
                          params={"organisation_type": "central_government"})
    result.contract()          # design.md "Assess" JSON
    result.rollup("department")

The store path keeps the evaluator pure: devices are read into a Polars frame, the
evaluator returns statuses and findings as frames, and only then is anything written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from camsweep.assess.load import load_devices, load_evidence, load_waivers
from camsweep.assess.persist import Diff, affected_sites, dry_compare, save
from camsweep.errors import PolicyError
from camsweep.kb import KnowledgeBase, load_kb
from camsweep.policy.batch import evaluate_frame
from camsweep.policy.bom import load_bom
from camsweep.policy.engine import (
    AssessContext,
    FindingTemplate,
    finding_reasons,
    identification_line,
    prepare,
)
from camsweep.policy.facts import DeviceFacts, ProductBom
from camsweep.policy.loader import (
    LoadedPolicy,
    default_policy_ids,
    load_programme,
    load_vulnerabilities,
    merge_params,
    resolve_policies,
)
from camsweep.policy.schema import STATUSES, Waiver
from camsweep.store import Store
from camsweep.store.bulk import utcnow

ROLLUP_KEYS = ("site_id", "department", "sensitivity", "region")


@dataclass
class MilestoneStatus:
    policy: str
    by: date
    target: float
    description: str
    affected_sites: int
    clear_sites: int

    @property
    def share(self) -> float:
        return self.clear_sites / self.affected_sites if self.affected_sites else 1.0

    def verdict(self, as_of: date) -> str:
        met = self.share >= self.target
        if as_of <= self.by:
            return "on track" if met else "behind"
        return "met" if met else "missed"


@dataclass
class AssessmentResult:
    """One assessment: statuses per device, findings with reasons, the diff and the run id."""

    run_id: int | None
    as_of: date
    kb_version: str
    policies: list[dict[str, Any]]
    params: dict[str, Any]
    devices: pl.DataFrame
    findings: pl.DataFrame
    notes: dict[int, list[str]]
    diff: Diff
    profiles: int
    milestones: list[MilestoneStatus] = field(default_factory=list)

    @property
    def status_counts(self) -> dict[str, int]:
        counts = dict(self.devices.group_by("status").len().iter_rows())
        return {s: int(counts.get(s, 0)) for s in STATUSES}

    def contract(self, include_advisory: bool = False) -> dict[str, Any]:
        """The `camsweep assess --json` object of design.md "Assess"."""
        found = self.findings if include_advisory else self.findings.filter(pl.col("mandatory"))
        return {
            "as_of": self.as_of.isoformat(),
            "kb_version": self.kb_version,
            "policies": [{k: p[k] for k in ("id", "version", "title", "jurisdiction")}
                         for p in self.policies],
            "devices": [{"asset_id": a, "site_id": s, "status": st} for a, s, st in
                        self.devices.select("asset_id", "site_id", "status").iter_rows()],
            "findings": [
                {"asset_id": r["asset_id"], "site_id": r["site_id"], "policy": r["policy"],
                 "rule": r["rule"], "action": r["action"],
                 "deadline": r["deadline"].isoformat() if r["deadline"] else None,
                 "priority": r["priority"], "reasons": list(r["reasons"])}
                for r in found.iter_rows(named=True)],
        }

    def rollup(self, key: str) -> pl.DataFrame:
        """Per site, department, sensitivity class or region: statuses and open work."""
        if key not in ROLLUP_KEYS:
            raise PolicyError(f"roll-up by {key!r}: choose one of {', '.join(ROLLUP_KEYS)}")
        dev = self.devices.with_columns(pl.col(key).fill_null("(unknown)"))
        counts = dev.group_by(key).agg(
            pl.len().alias("devices"),
            *((pl.col("status") == s).sum().alias(s) for s in STATUSES))
        work = self.findings.filter(pl.col("mandatory")).with_columns(
            pl.col(key).fill_null("(unknown)"))
        removals = work.filter(pl.col("action") == "remove").group_by(key).agg(
            pl.col("device_pk").n_unique().alias("to_remove"),
            pl.col("deadline").min().alias("next_deadline"),
            (pl.col("deadline") < pl.lit(self.as_of)).sum().alias("overdue"))
        surveys = work.filter(pl.col("action") == "survey").group_by(key).agg(
            pl.col("device_pk").n_unique().alias("to_survey"))
        out = counts.join(removals, on=key, how="left").join(surveys, on=key, how="left")
        return out.with_columns(
            pl.col("to_remove").fill_null(0), pl.col("overdue").fill_null(0),
            pl.col("to_survey").fill_null(0),
        ).sort(["non_compliant", "devices", key], descending=[True, True, False])

    def explain(self, asset_id: str) -> dict[str, Any]:
        """One device's status, findings and full reason chains (advisory ones included)."""
        dev = self.devices.filter(pl.col("asset_id") == asset_id)
        if dev.is_empty():
            raise PolicyError(f"asset {asset_id!r} is not in the store")
        row = dev.row(0, named=True)
        found = self.findings.filter(pl.col("row") == row["row"]).sort(
            ["mandatory", "priority"], descending=[True, True])
        return {
            "asset_id": asset_id, "site_id": row["site_id"], "department": row["department"],
            "sensitivity": row["sensitivity"], "status": row["status"],
            "findings": [{"policy": r["policy"], "policy_version": r["policy_version"],
                          "rule": r["rule"], "action": r["action"],
                          "mandatory": r["mandatory"],
                          "deadline": r["deadline"].isoformat() if r["deadline"] else None,
                          "priority": r["priority"], "reasons": list(r["reasons"])}
                         for r in found.iter_rows(named=True)],
            "notes": self.notes.get(row["row"], []),
        }


def _digest(r: Mapping[str, Any]) -> str:
    payload = json.dumps([r["policy_version"], r["mandatory"],
                          r["deadline"].isoformat() if r["deadline"] else None, r["priority"],
                          list(r["reasons"])], ensure_ascii=False)
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def _reasons(found: pl.DataFrame, templates: Sequence[FindingTemplate], facts: pl.DataFrame,
             evidence: Mapping[int, tuple[str, ...]], vuln_text: Sequence[tuple[str, ...]],
             maker_text: Sequence[tuple[str, ...]], ctx: AssessContext) -> list[list[str]]:
    """Full reason chains: identification, the template's shared reasons, firmware, deadline."""
    by_row: dict[int, tuple[DeviceFacts, str]] = {}
    names = [c for c in DeviceFacts.__dataclass_fields__ if c not in ("evidence",)
             and c in facts.columns]
    wanted = set(found["row"].to_list())
    for rec in facts.filter(pl.col("row").is_in(sorted(wanted))).iter_rows(named=True):
        f = DeviceFacts(**{k: rec[k] for k in names},
                        evidence=evidence.get(rec["device_pk"], ()))
        by_row[rec["row"]] = (f, identification_line(f, ctx.makers))
    out: list[list[str]] = []
    for row, tid, deadline, vkey, mtext in found.select(
            "row", "tid", "deadline", "vkey", "mtext").iter_rows():
        f, ident = by_row[row]
        out.append(list(finding_reasons(templates[tid], ident, maker_text[mtext],
                                        vuln_text[vkey], f.install_date, f.recorded_date,
                                        deadline, ctx.as_of)))
    return out


def _json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else str(v) if not isinstance(
        v, int | float | str | bool | type(None)) else v for k, v in params.items()}


def _milestones(store: Store | None, policies: Sequence[LoadedPolicy],
                findings: pl.DataFrame, as_of: date) -> list[MilestoneStatus]:
    out: list[MilestoneStatus] = []
    for lp in policies:
        if not lp.policy.milestones:
            continue
        work = findings.filter((pl.col("policy") == lp.id) & (pl.col("action") == "remove")
                               & pl.col("mandatory") & pl.col("site_pk").is_not_null())
        still = set(work["site_pk"].to_list())
        affected = still | (affected_sites(store, lp.id) if store is not None else set())
        for ms in lp.policy.milestones:
            out.append(MilestoneStatus(lp.id, ms.by, ms.share_of_sites, ms.description,
                                       len(affected), len(affected - still)))
    return out


def assess_store(store: Store, policies: Sequence[str] | None = None,
                 as_of: date | None = None, *, params: Mapping[str, Any] | None = None,
                 programme: Path | None = None, bom_files: Sequence[Path] = (),
                 kb: KnowledgeBase | None = None, save_run: bool = True) -> AssessmentResult:
    """Assess every device in the store under the chosen policies (ids or policy files;
    default: the programme's, else every bundled policy that is not a template), save the
    run and its findings (unless `save_run` is false) and compare with what was open."""
    as_of = as_of or utcnow().date()
    kb = kb or load_kb()
    vulns = load_vulnerabilities()
    prog = load_programme(programme) if programme is not None else None
    if policies:
        chosen = resolve_policies(policies)
    elif prog is not None:
        chosen = list(prog.policies)
    else:
        chosen = resolve_policies(default_policy_ids())
    values = merge_params(chosen, prog.programme.params if prog else {}, params or {})
    waivers: list[tuple[Waiver, str]] = [(w, "store") for w in load_waivers(store)]
    if prog is not None:
        waivers += [(w, Path(prog.file).name) for w in prog.programme.waivers]
    boms: list[ProductBom] = [load_bom(Path(p), kb) for p in bom_files]
    ctx = prepare(chosen, kb, vulns, as_of, values, waivers=waivers, boms=boms)
    frame = load_devices(store, prog.programme.organisation_types if prog else None, boms)
    batch = evaluate_frame(frame, ctx)

    info = frame.select("row", "device_pk", "site_pk", "asset_id", "site_id", "department",
                        "region", "sensitivity", "device_type", "manufacturer_id")
    devices = info.join(batch.statuses.select("row", "status"), on="row", how="left",
                        maintain_order="left")
    tmpl = pl.DataFrame({
        "tid": pl.Series(range(len(batch.templates)), dtype=pl.Int32),
        **{name: pl.Series([getattr(t, name) for t in batch.templates], dtype=pl.String)
           for name in ("policy", "policy_version", "rule", "action")},
        "mandatory": pl.Series([t.mandatory for t in batch.templates], dtype=pl.Boolean),
    })
    found = batch.findings.join(tmpl, on="tid", how="left", maintain_order="left").join(
        info, on="row", how="left", maintain_order="left").join(
        batch.statuses.select("row", "vkey"), on="row", how="left", maintain_order="left")
    evidence = load_evidence(store, found["device_pk"].unique().to_list())
    reasons = _reasons(found, batch.templates, frame, evidence, batch.vuln_text,
                       batch.maker_text, ctx)
    found = found.with_columns(pl.Series("reasons", reasons, dtype=pl.List(pl.String)))
    found = found.with_columns(pl.Series(
        "digest", [_digest(r) for r in found.select(
            "policy_version", "mandatory", "deadline", "priority", "reasons"
        ).iter_rows(named=True)], dtype=pl.String))
    found = found.sort(["row", "policy", "rule", "action"])
    notes: dict[int, list[str]] = {}
    for row, note in batch.notes.iter_rows():
        notes.setdefault(row, []).append(note)
    policy_info = [{"id": lp.id, "version": lp.policy.version, "title": lp.policy.title,
                    "jurisdiction": lp.policy.jurisdiction, "file": lp.file, "sha256": lp.sha256}
                   for lp in chosen]
    options: dict[str, Any] = {
        "programme": prog.file if prog else None,
        "boms": [b.source for b in boms],
        "waivers": [f"{w.reference} ({origin})" for w, origin in waivers],
        "profiles": batch.profiles,
    }
    json_params = _json_params(values)
    if save_run:
        run_id, diff = save(store, as_of=as_of, kb_version=kb.version, policies=policy_info,
                            params=json_params, options=options, devices=devices,
                            findings=found, notes=notes)
    else:
        run_id, diff = None, dry_compare(store, found, [p["id"] for p in policy_info])
    return AssessmentResult(
        run_id=run_id, as_of=as_of, kb_version=kb.version, policies=policy_info,
        params=json_params, devices=devices, findings=found, notes=notes, diff=diff,
        profiles=batch.profiles, milestones=_milestones(store, chosen, found, as_of),
    )


def open_removal_findings(store: Store, policies: Sequence[str] | None = None, *,
                          actions: Sequence[str] = ("remove",),
                          include_advisory: bool = False) -> list[dict[str, Any]]:
    """Open findings for the planner, as `assess --json` findings plus the optional planning
    keys `plan.items` reads (region, department, sensitivity, device_type, exposed,
    vulnerable) and `finding_id`. One device may have several (one per policy and rule)."""
    from sqlalchemy import select

    from camsweep.store import models as m

    f = m.Finding
    stmt = (select(f.id, f.asset_id, m.Site.site_id, m.Site.region, m.Department.name,
                   m.Site.sensitivity, m.Device.device_type, f.policy_id, f.rule, f.action,
                   f.deadline, f.priority, f.reasons, f.exposed, f.vulnerable)
            .join(m.Device, m.Device.id == f.device_pk)
            .outerjoin(m.Site, m.Site.id == f.site_pk)
            .outerjoin(m.Department, m.Department.id == m.Site.department_id)
            .where(f.status == "open", f.action.in_(list(actions)))
            .order_by(f.deadline, f.priority.desc(), f.id))
    if not include_advisory:
        stmt = stmt.where(f.mandatory.is_(True))
    if policies:
        stmt = stmt.where(f.policy_id.in_(list(policies)))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [{"finding_id": r[0], "asset_id": r[1], "site_id": r[2], "policy": r[7],
             "rule": r[8], "action": r[9],
             "deadline": r[10].isoformat() if r[10] else None, "priority": r[11],
             "reasons": list(r[12] or []), "region": r[3], "department": r[4],
             "sensitivity": r[5], "device_type": r[6], "exposed": bool(r[13]),
             "vulnerable": bool(r[14])} for r in rows]

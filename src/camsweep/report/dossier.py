"""The dossier of one device or one site: the whole evidence chain behind a removal.

For a device: where each field came from, every observation, each identification with the
claims and sources that made it, the findings with the clauses and citations of the rules
they apply, the plan's slot, work-order history with the disposal certificate, and the
audit-log entries that touch it. For a site: the same per device, summarised, with the rules
cited once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from camsweep.errors import ReportError
from camsweep.report.callhome import callhome_table
from camsweep.report.clauses import policy_files, rule_text
from camsweep.report.model import Column, Facts, Report, Section, Table, Text, slug
from camsweep.report.provenance import store_provenance
from camsweep.report.scope import Scope
from camsweep.report.workorders import MOVED_STATES, WorkOrderHistory, histories
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.plans import load_plan
from camsweep.store.queries import device_detail

PAYLOAD_CHARS = 400
WORK_ORDER_TYPES = ("work_order", "workorder", "work-order")


@dataclass(frozen=True)
class Subject:
    kind: str  # device | site
    pk: int
    key: str  # asset_id or site_id
    site_pk: int | None


def resolve_subject(store: Store, subject: str | None, scope: Scope) -> Subject:
    """`device:ID`, `site:ID`, or a bare id tried as an asset id, then as a site id."""
    if not subject or not subject.strip():
        raise ReportError("a dossier needs a subject: an asset id or a site id "
                          "(e.g. 'camsweep report dossier HO-0000001')")
    text = subject.strip()
    kind, _, key = text.partition(":")
    if kind not in ("device", "site") or not key:
        kind, key = "", text
    with store.session() as session:
        if kind in ("", "device"):
            row = session.execute(select(m.Device.id, m.Device.site_pk)
                                  .where(m.Device.asset_id == key)).first()
            if row is not None and scope.allows(row[1]):
                return Subject("device", int(row[0]), key, row[1])
        if kind in ("", "site"):
            pk = session.scalar(select(m.Site.id).where(m.Site.site_id == key))
            if pk is not None and scope.allows(pk):
                return Subject("site", int(pk), key, int(pk))
    where = f" in {scope.label.lower()}" if not scope.central else ""
    raise ReportError(f"no device or site {text!r}{where} (asset ids and site ids are as in "
                      "the registers; prefix with device: or site: if one could be either)")


def _json(value: Any, limit: int = PAYLOAD_CHARS) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _claims(evidence: Any) -> list[dict[str, Any]]:
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except json.JSONDecodeError:
            return []
    return [c for c in evidence or [] if isinstance(c, dict)]


def audit_table(store: Store, objects: Iterable[tuple[str, str]]) -> Table:
    wanted = set(objects)
    ids = sorted({i for _, i in wanted})
    rows: list[list[Any]] = []
    with store.session() as session:
        for start in range(0, len(ids), 500):
            for e in session.scalars(select(m.AuditLog)
                                     .where(m.AuditLog.object_id.in_(ids[start:start + 500]))):
                if (e.object_type, e.object_id) in wanted:
                    rows.append([e.seq, e.at, e.actor, e.action,
                                 f"{e.object_type} {e.object_id}", _json(e.details), e.hash])
    rows.sort(key=lambda r: r[0])
    return Table(
        "audit", "Audit-log entries",
        [Column("seq", "Seq", "int"), Column("at", "At (UTC)", "datetime"),
         Column("actor", "Actor"), Column("action", "Action"), Column("object", "Object"),
         Column("details", "Details"), Column("hash", "Entry hash", "hash")], rows,
        note="Entries are hash-chained; 'camsweep audit verify' checks the whole chain.")


def _findings_blocks(store: Store, device_pks: list[int], *, per_device: bool) -> list[Any]:
    f = m.Finding
    with store.session() as session:
        rows: list[Any] = []
        for start in range(0, len(device_pks), 500):
            rows += session.execute(
                select(f, m.Device.asset_id).join(m.Device, m.Device.id == f.device_pk)
                .where(f.device_pk.in_(device_pks[start:start + 500]))
                .order_by(f.status.desc(), f.deadline, f.policy_id, f.rule)).all()
        files = policy_files(session.scalars(select(m.AssessmentRun.policies)
                                             .order_by(m.AssessmentRun.id)))
    findings = []
    reasons = []
    cited: dict[tuple[str, str], Any] = {}
    summary: dict[tuple[Any, ...], list[Any]] = {}
    for fd, asset in rows:
        text = rule_text(fd.policy_id, fd.policy_version, fd.rule, files)
        cited.setdefault((fd.policy_id, fd.rule), text)
        if per_device:
            findings.append([asset, fd.policy_id, fd.policy_version, fd.rule, text.title,
                             fd.action, fd.mandatory, fd.status, fd.deadline, fd.priority,
                             fd.first_run_id, fd.closed_run_id])
            reasons += [[fd.policy_id, fd.rule, n, r] for n, r in
                        enumerate(fd.reasons or [], start=1)]
            continue
        key = (fd.policy_id, fd.policy_version, fd.rule, text.title, fd.action, fd.mandatory,
               fd.status)
        entry = summary.setdefault(key, [0, set(), None])
        entry[0] += 1
        entry[1].add(asset)
        if fd.deadline is not None and (entry[2] is None or fd.deadline < entry[2]):
            entry[2] = fd.deadline
    blocks: list[Any]
    if per_device:
        blocks = [
            Table("findings", "Findings",
                  [Column("asset_id", "Asset"), Column("policy", "Policy"),
                   Column("version", "Version"), Column("rule", "Rule"),
                   Column("title", "Rule title"), Column("action", "Action"),
                   Column("mandatory", "Mandatory"), Column("status", "Status"),
                   Column("deadline", "Deadline", "date"), Column("priority", "Priority", "int"),
                   Column("opened_run", "Opened in run", "int"),
                   Column("closed_run", "Closed in run", "int")], findings),
            Table("finding_reasons", "Why: each finding's reason chain",
                  [Column("policy", "Policy"), Column("rule", "Rule"),
                   Column("step", "Step", "int"), Column("reason", "Reason")], reasons)]
    else:
        blocks = [Table(
            "findings_by_rule", "Findings at the site, by rule",
            [Column("policy", "Policy"), Column("version", "Version"), Column("rule", "Rule"),
             Column("title", "Rule title"), Column("action", "Action"),
             Column("mandatory", "Mandatory"), Column("status", "Status"),
             Column("findings", "Findings", "int"), Column("devices", "Devices", "int"),
             Column("first_deadline", "First deadline", "date")],
            [[*key, n, len(assets), first]
             for key, (n, assets, first) in sorted(summary.items(),
                                                   key=lambda kv: (kv[0][6] != "open",
                                                                   kv[0][0], kv[0][2]))],
            note="Each device's findings, with their reason chains, are in its own dossier.")]
    blocks.append(Table(
        "rules_cited", "Rules applied, as their policies state them",
        [Column("policy", "Policy"), Column("version", "Text of version"),
         Column("rule", "Rule"), Column("title", "Title"), Column("clause", "Clause"),
         Column("citations", "Citations", "url")],
        [[t.policy, t.version, t.rule, t.title,
          t.clause + (f" ({t.mismatch})" if t.mismatch else ""), list(t.citations)]
         for t in cited.values()]))
    return blocks


def _plan_rows(store: Store, device_pks: set[int], site_pk: int | None) -> list[list[Any]]:
    doc = load_plan(store, site_pks=[site_pk] if site_pk is not None else None)
    if doc is None:
        return []
    rows = [[a["asset_id"], a["week_start"], a["region"], a["cost"], a["deadline"],
             a.get("policy"), bool(a.get("done")), None]
            for a in doc["assignments"] if a.get("device_pk") in device_pks]
    rows += [[u["asset_id"], None, None, None, None, None, False, u["reason"]]
             for u in doc["unscheduled"] if u.get("device_pk") in device_pks]
    return rows


def _plan_table(store: Store, device_pks: set[int], site_pk: int | None) -> Any:
    return Table(
        "plan", "Removal plan (latest stored plan)",
        [Column("asset_id", "Asset"), Column("week_start", "Week of", "date"),
         Column("region", "Region"), Column("cost", "Cost", "money"),
         Column("deadline", "Deadline", "date"), Column("policy", "Policy"),
         Column("done", "Done"), Column("unscheduled", "Not schedulable because")],
        sorted(_plan_rows(store, device_pks, site_pk), key=lambda r: (str(r[1]), str(r[0]))))


def _work_order_blocks(orders: list[tuple[str, WorkOrderHistory]] | None, *,
                       site: bool = False) -> list[Any]:
    if orders is None:
        return [Text(["Work-order tracking is not available in this store; no history."])]
    rows = [[asset, h.id, h.state, h.planned_week, h.deadline, h.reason]
            for asset, h in orders]
    events = [[asset, h.id, e["at"], e["kind"], e["actor"], e["from_state"], e["to_state"],
               e["note"],
               e["attachment_name"], e["attachment_sha256"], e["certificate_ref"]]
              for asset, h in orders for e in h.events]
    certificates = [[asset, h.id, e["at"], e["disposal_method"], e["certificate_ref"],
                     e["actor"]]
                    for asset, h in orders for e in h.events if e.get("certificate_ref")]
    blocks = [] if site else [
        Table("work_orders", "Work orders",
              [Column("asset_id", "Asset"), Column("work_order", "Work order", "int"),
               Column("state", "State"), Column("planned_week", "Planned week", "date"),
               Column("deadline", "Deadline", "date"), Column("reason", "Flag")], rows)]
    return [
        *blocks,
        Table("work_order_events", "Work-order history",
              [Column("asset_id", "Asset"), Column("work_order", "Work order", "int"),
               Column("at", "At (UTC)", "datetime"), Column("event", "Event"),
               Column("actor", "By"), Column("from_state", "From"),
               Column("to_state", "To"), Column("note", "Note"),
               Column("attachment", "Evidence file"),
               Column("attachment_sha256", "Evidence sha256", "hash"),
               Column("certificate_ref", "Certificate")], events,
              note="Shown for work orders that have moved past scheduling; a device's own "
                   "dossier has its full history." if site else None),
        Table("disposal_certificates", "Disposal certificates",
              [Column("asset_id", "Asset"), Column("work_order", "Work order", "int"),
               Column("at", "Recorded (UTC)", "datetime"), Column("method", "Method"),
               Column("certificate_ref", "Certificate reference"),
               Column("recorded_by", "Recorded by")], certificates,
              note="Recorders (NVR, DVR) need a disposal method and a certificate: their "
                   "storage may hold footage."),
    ]


def _device_sections(store: Store, subject: Subject) -> list[Section]:
    with store.session() as session:
        dev = session.get(m.Device, subject.pk)
        assert dev is not None
        site = session.get(m.Site, dev.site_pk) if dev.site_pk is not None else None
        dept = session.get(m.Department, site.department_id) if site is not None else None
        status = session.get(m.DeviceStatus, dev.id)
        sources = {s.id: s for s in session.scalars(select(m.Source))}
        observations = session.scalars(select(m.Observation)
                                       .where(m.Observation.device_pk == dev.id)
                                       .order_by(m.Observation.observed_at,
                                                 m.Observation.id)).all()
        verdicts = session.scalars(select(m.Verdict).where(m.Verdict.device_pk == dev.id)
                                   .order_by(m.Verdict.id.desc())).all()
    detail = device_detail(store, subject.key)
    assert detail is not None
    facts = Facts("device", "Device", [
        ("Asset id", dev.asset_id), ("Site", f"{site.site_id}: {site.name}" if site else None),
        ("Department", dept.name if dept else None), ("Region", site.region if site else None),
        ("Sensitivity", site.sensitivity if site else None), ("Device type", dev.device_type),
        ("Brand (as recorded)", dev.brand), ("Model", dev.model), ("Serial", dev.serial),
        ("MAC", dev.mac), ("IP", dev.ip), ("Firmware", dev.firmware),
        ("Installed", dev.install_date), ("True maker", dev.manufacturer_id),
        ("Restricted maker", dev.restricted),
        ("Confidence", f"{dev.confidence:.2f}" if dev.confidence is not None else None),
        ("First seen on the network", dev.first_seen_at),
        ("Last seen on the network", dev.last_seen_at),
        ("Silent since", dev.not_seen_at),
        ("Assessed status", status.status if status else "not assessed"),
        ("Status notes", list(status.notes or []) if status else None),
    ])
    origins = Table(
        "field_sources", "Where each field came from",
        [Column("field", "Field"), Column("value", "Value"), Column("source", "Source"),
         Column("source_name", "File or scan"), Column("set_at", "Set at (UTC)", "datetime")],
        [[o.field, o.value, o.source_kind, o.source_name, o.set_at] for o in detail.origins])
    history = Table(
        "field_history", "Field changes",
        [Column("field", "Field"), Column("old", "Old"), Column("new", "New"),
         Column("source", "Source"), Column("changed_at", "Changed at (UTC)", "datetime")],
        [[h["field"], h["old"], h["new"], h["source"], h["changed_at"]]
         for h in detail.history])
    obs = Table(
        "observations", "Observations",
        [Column("observed_at", "Observed (UTC)", "datetime"), Column("source", "Source"),
         Column("probe", "Probe"), Column("ip", "IP"), Column("mac", "MAC"),
         Column("payload", "What was seen")],
        [[o.observed_at, f"{sources[o.source_id].kind}: {sources[o.source_id].name}"
          if o.source_id in sources else o.source_id, o.probe, o.ip, o.mac, _json(o.payload)]
         for o in observations],
        note=f"Payloads longer than {PAYLOAD_CHARS} characters are cut; the store holds them "
             "whole.")
    ident = Table(
        "verdicts", "Identifications (newest first)",
        [Column("at", "At (UTC)", "datetime"), Column("maker", "True maker"),
         Column("brand", "Brand"), Column("oem_of", "Made by (white label)"),
         Column("device_type", "Type"), Column("model", "Model"),
         Column("restricted", "Restricted"), Column("confidence", "Confidence", "float"),
         Column("kb_version", "KB version")],
        [[v.created_at, v.manufacturer_id, v.brand, v.oem_of, v.device_type, v.model,
          v.restricted, v.confidence, v.kb_version] for v in verdicts])
    newest = verdicts[0] if verdicts else None
    claims = Table(
        "claims", "Claims behind the newest identification",
        [Column("signal", "Signal"), Column("value", "Value"), Column("points_to", "Points to"),
         Column("weight", "Weight", "float"), Column("source", "Source")],
        [[c.get("signal"), c.get("value"), c.get("points_to"),
          float(c["weight"]) if isinstance(c.get("weight"), int | float) else None,
          c.get("source")] for c in _claims(newest.evidence if newest else [])])
    found = histories(store, dev.site_pk, [dev.id])
    wo = ([(subject.key, h) for h in found.get(dev.id, [])] if found is not None else None)
    sections = [
        Section("Device", [facts, origins, history]),
        Section("Observations", [obs]),
        Section("Identification", [ident, claims]),
        Section("Findings and the rules they apply", _findings_blocks(store, [dev.id],
                                                                      per_device=True)),
        Section("Plan and work orders", [_plan_table(store, {dev.id}, dev.site_pk),
                                         *_work_order_blocks(wo)]),
    ]
    wo_ids = [str(h.id) for _, h in wo or []]
    objects = [("device", subject.key), *((t, i) for t in WORK_ORDER_TYPES for i in wo_ids)]
    sections.append(Section("Audit trail", [audit_table(store, objects)]))
    return sections


def _site_sections(store: Store, subject: Subject) -> list[Section]:
    with store.session() as session:
        site = session.get(m.Site, subject.pk)
        assert site is not None
        dept = session.get(m.Department, site.department_id)
        devices = session.execute(
            select(m.Device, m.DeviceStatus.status)
            .outerjoin(m.DeviceStatus, m.DeviceStatus.device_pk == m.Device.id)
            .where(m.Device.site_pk == site.id).order_by(m.Device.asset_id, m.Device.id)).all()
        open_counts = dict(session.execute(
            select(m.Finding.device_pk, func.count(m.Finding.id))
            .where(m.Finding.site_pk == site.id, m.Finding.status == "open")
            .group_by(m.Finding.device_pk)).all())
        hist = session.scalars(select(m.FieldHistory).where(
            m.FieldHistory.entity == "site", m.FieldHistory.entity_pk == site.id)
            .order_by(m.FieldHistory.id.desc())).all()
    pks = [d.id for d, _ in devices]
    by_status = Counter(st or "not_assessed" for _, st in devices)
    facts = Facts("site", "Site", [
        ("Site id", site.site_id), ("Name", site.name),
        ("Department", dept.name if dept else None), ("Region", site.region),
        ("Sensitivity", site.sensitivity), ("Postcode", site.postcode),
        ("Devices", len(devices)),
        ("Restricted-maker devices", sum(1 for d, _ in devices if d.restricted)),
        *((f"Status: {k.replace('_', ' ')}", n) for k, n in sorted(by_status.items())),
    ])
    history = Table(
        "field_history", "Site record changes",
        [Column("field", "Field"), Column("old", "Old"), Column("new", "New"),
         Column("changed_at", "Changed at (UTC)", "datetime")],
        [[h.field, h.old_value, h.new_value, h.changed_at] for h in hist])
    assets = {d.id: d.asset_id or f"#{d.id}" for d, _ in devices}
    found = histories(store, site.id, pks, events_for=MOVED_STATES)
    orders: list[tuple[str, WorkOrderHistory]] | None = (
        [(assets[pk], h) for pk in pks for h in found.get(pk, [])] if found is not None
        else None)
    state = {asset: h.state for asset, h in orders or []}
    planned = {r[0]: r for r in _plan_rows(store, set(pks), site.id)}
    device_table = Table(
        "devices", "Devices at the site",
        [Column("asset_id", "Asset"), Column("device_type", "Type"), Column("brand", "Brand"),
         Column("model", "Model"), Column("maker", "True maker"),
         Column("restricted", "Restricted"), Column("status", "Status"),
         Column("open_findings", "Open findings", "int"),
         Column("planned_week", "Planned week", "date"),
         Column("work_order", "Work-order state")],
        [[assets[d.id], d.device_type, d.brand, d.model, d.manufacturer_id, d.restricted,
          st or "not assessed", int(open_counts.get(d.id, 0)),
          planned[assets[d.id]][1] if assets[d.id] in planned else None,
          state.get(assets[d.id])] for d, st in devices],
        note="Planned week: in the latest stored plan (blank when not planned); the "
             "work-order state is the tracker's.")
    wo_ids = [str(h.id) for _, h in orders or []]
    objects = [("site", site.site_id), *(("device", a) for a in assets.values()),
               *((t, i) for t in WORK_ORDER_TYPES for i in wo_ids)]
    return [
        Section("Site", [facts, history]),
        Section("Devices", [device_table]),
        Section("Call-home traffic", [callhome_table(store, [site.id])]),
        Section("Findings and the rules they apply",
                _findings_blocks(store, pks, per_device=False)),
        Section("Work orders", _work_order_blocks(orders, site=True)),
        Section("Audit trail", [audit_table(store, objects)]),
    ]


def build_dossier(store: Store, scope: Scope, subject_text: str | None) -> Report:
    subject = resolve_subject(store, subject_text, scope)
    plan = load_plan(store, site_pks=[subject.site_pk] if subject.site_pk is not None
                     else None)
    site_scope = Scope(scope.department, frozenset({subject.site_pk})
                       if subject.site_pk is not None else None, scope.label)
    provenance = store_provenance(store, site_scope, plan)
    if subject.kind == "device":
        sections = _device_sections(store, subject)
        title = f"Dossier: device {subject.key}"
    else:
        sections = _site_sections(store, subject)
        title = f"Dossier: site {subject.key}"
    return Report("dossier", title, scope.label, provenance, sections,
                  f"dossier-{subject.kind}-{slug(subject.key)}")

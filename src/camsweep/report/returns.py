"""The compliance return: what a department sends the centre (or the centre's own roll-up).

Estate summary, devices by true maker and assessed status, open findings by policy and
rule, the plan against progress per quarter, waivers and exemptions in force, and a block
for the people who sign it. Every figure is a SQL aggregate over the scope's sites, so a
return for a 100,000-device estate costs a handful of grouped queries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import and_, case, distinct, func, select

from camsweep.plan.public import quarter
from camsweep.policy.schema import STATUSES
from camsweep.report.callhome import callhome_table
from camsweep.report.clauses import policy_files, rule_text
from camsweep.report.model import (
    Column,
    Facts,
    Report,
    Section,
    SignOff,
    Table,
    Text,
    slug,
)
from camsweep.report.planview import PlanView, plan_facts, scoped_plan, unscheduled_table
from camsweep.report.provenance import store_provenance
from camsweep.report.scope import Scope
from camsweep.report.workorders import DONE_STATES, states_by_device
from camsweep.store import Store
from camsweep.store import models as m

NOT_ASSESSED = "not_assessed"
UNDETERMINED = "(undetermined)"
SIGNATORIES = ("Prepared by", "Approved by (senior responsible owner)",
               "Departmental security officer")


def maker_names() -> dict[str, str]:
    from camsweep.kb import load_kb

    return {slug: mf.name for slug, mf in load_kb().manufacturers.items()}


def _estate(store: Store, scope: Scope) -> list[Any]:
    with store.session() as s:
        rows = s.execute(
            select(m.Site.sensitivity, func.count(distinct(m.Site.id)), func.count(m.Device.id))
            .outerjoin(m.Device, m.Device.site_pk == m.Site.id)
            .where(scope.sites(m.Site.id))
            .group_by(m.Site.sensitivity).order_by(m.Site.sensitivity)).all()
        regions = s.scalar(select(func.count(distinct(m.Site.region)))
                           .where(scope.sites(m.Site.id))) or 0
        unsited = (s.scalar(select(func.count(m.Device.id)).where(m.Device.site_pk.is_(None)))
                   or 0) if scope.central else 0
        depts = s.scalar(select(func.count(distinct(m.Site.department_id)))
                         .where(scope.sites(m.Site.id))) or 0
    table = Table(
        "estate_by_sensitivity", "Sites and devices by sensitivity class",
        [Column("sensitivity", "Sensitivity class"), Column("sites", "Sites", "int"),
         Column("devices", "Devices", "int")],
        [[sens, int(n_sites), int(n_dev)] for sens, n_sites, n_dev in rows],
        total=["total", sum(int(r[1]) for r in rows), sum(int(r[2]) for r in rows)],
        note="Sensitivity classes come from the department's site list; camsweep never "
             "derives them.")
    facts = [("Departments", depts), ("Sites", table.total[1] if table.total else 0),
             ("Regions", regions), ("Devices at sites", table.total[2] if table.total else 0)]
    if scope.central:
        facts.append(("Devices with no site (found by scans)", unsited))
    return [Facts("estate", "Estate", facts), table]


def _makers(store: Store, scope: Scope) -> Table:
    status = func.coalesce(m.DeviceStatus.status, NOT_ASSESSED)
    with store.session() as s:
        rows = s.execute(
            select(m.Device.manufacturer_id, status, func.count(m.Device.id),
                   func.sum(case((m.Device.restricted.is_(True), 1), else_=0)))
            .outerjoin(m.DeviceStatus, m.DeviceStatus.device_pk == m.Device.id)
            .where(scope.sites(m.Device.site_pk))
            .group_by(m.Device.manufacturer_id, status)).all()
    names = maker_names()
    statuses = [*STATUSES, NOT_ASSESSED]
    counts: dict[str | None, Counter[str]] = defaultdict(Counter)
    restricted: Counter[str | None] = Counter()
    for maker, st, n, r in rows:
        counts[maker][st] += int(n)
        restricted[maker] += int(r or 0)
    order = sorted(counts, key=lambda k: (-sum(counts[k].values()), k or "~"))
    body = [[maker or UNDETERMINED, names.get(maker or "", "") if maker else "",
             restricted[maker], *(counts[maker][st] for st in statuses),
             sum(counts[maker].values())] for maker in order]
    total = ["total", "", sum(restricted.values()),
             *(sum(c[st] for c in counts.values()) for st in statuses),
             sum(sum(c.values()) for c in counts.values())]
    return Table(
        "devices_by_maker_status", "Devices by true maker and status",
        [Column("maker", "Maker (KB id)"), Column("maker_name", "Maker"),
         Column("restricted", "Restricted", "int"),
         *(Column(st, st.replace("_", " ").capitalize(), "int") for st in statuses),
         Column("devices", "Devices", "int")],
        body, total=total,
        note="The true maker is the company that made the hardware, whatever brand it is "
             "sold under. Restricted: the maker or whoever controls it is subject to the PRC "
             "National Intelligence Law (knowledge-base fact). Status is from the newest "
             "assessment of each device.")


def _findings(store: Store, scope: Scope, as_of: date) -> Table:
    f = m.Finding
    with store.session() as s:
        rows = s.execute(
            select(f.policy_id, f.policy_version, f.rule, f.action, f.mandatory,
                   func.count(f.id), func.count(distinct(f.device_pk)),
                   func.sum(case((and_(f.deadline.is_not(None), f.deadline < as_of), 1),
                                 else_=0)),
                   func.min(f.deadline))
            .where(f.status == "open", scope.sites(f.site_pk))
            .group_by(f.policy_id, f.policy_version, f.rule, f.action, f.mandatory)
            .order_by(f.policy_id, f.rule, f.action)).all()
        files = policy_files(s.scalars(select(m.AssessmentRun.policies)
                                       .order_by(m.AssessmentRun.id)))
    body = []
    for policy, version, rule, action, mandatory, n, devices, overdue, first in rows:
        text = rule_text(policy, version, rule, files)
        body.append([policy, version, rule, text.title, action, bool(mandatory), int(n),
                     int(devices), int(overdue or 0), first])
    return Table(
        "findings_by_policy_rule", "Open findings by policy and rule",
        [Column("policy", "Policy"), Column("version", "Version"), Column("rule", "Rule"),
         Column("title", "Rule title"), Column("action", "Action"),
         Column("mandatory", "Mandatory"), Column("findings", "Findings", "int"),
         Column("devices", "Devices", "int"), Column("overdue", "Overdue", "int"),
         Column("next_deadline", "Next deadline", "date")],
        body,
        total=["total", "", "", "", "", "", sum(r[6] for r in body), "", sum(r[8] for r in body),
               ""],
        note=f"Overdue: deadline before the assessment date ({as_of}). A device may have "
             "findings under several rules.")


def _progress(view: PlanView | None, states: dict[int, str] | None) -> list[Any]:
    if view is None:
        return [Text(["No plan is stored. Run 'camsweep plan --resources FILE --out "
                      "plan.json' to schedule the removals."])]
    plan = view.plan
    pks = view.device_pks()
    rows: dict[str, list[float]] = {}
    for a, pk in zip(plan.assignments, pks, strict=True):
        q = quarter(a.week_start)
        row = rows.setdefault(q, [0, 0.0, 0])
        row[0] += 1
        row[1] += a.cost
        done = (states.get(pk, "") in DONE_STATES) if states and pk is not None else a.done
        row[2] += int(done)
    body = [[q, int(n), cost, int(done), int(n - done)]
            for q, (n, cost, done) in sorted(rows.items())]
    source = ("work-order states (removed, disposed or verified)" if states
              else "the plan's own 'done' marks (work-order tracking holds no records)")
    facts = plan_facts(view)
    facts.items.append(("Done so far", sum(r[3] for r in body)))
    table = Table(
        "plan_progress_by_quarter", "Removals scheduled and done, by quarter",
        [Column("quarter", "Quarter"), Column("scheduled", "Scheduled", "int"),
         Column("cost", "Planned cost", "money"), Column("done", "Done", "int"),
         Column("remaining", "Remaining", "int")],
        body,
        total=["total", sum(r[1] for r in body), sum(r[2] for r in body),
               sum(r[3] for r in body), sum(r[4] for r in body)],
        note=f"Done: from {source}.")
    blocks: list[Any] = [facts, table]
    if plan.unscheduled:
        blocks.append(unscheduled_table(view))
    return blocks


def _waivers(store: Store, scope: Scope, as_of: date) -> list[Any]:
    with store.session() as s:
        waivers = s.scalars(select(m.Waiver).order_by(m.Waiver.reference)).all()
        site_ids = set(s.scalars(select(m.Site.site_id).where(scope.sites(m.Site.id))))
        exempt = s.execute(
            select(m.Device.asset_id, m.Site.site_id, m.DeviceStatus.notes)
            .join(m.DeviceStatus, m.DeviceStatus.device_pk == m.Device.id)
            .outerjoin(m.Site, m.Site.id == m.Device.site_pk)
            .where(m.DeviceStatus.status == "exempt", scope.sites(m.Device.site_pk))
            .order_by(m.Device.asset_id)).all()
        assets: set[str] = set()
        wanted = sorted({a for w in waivers for a in (w.asset_ids or [])})
        for start in range(0, len(wanted), 500):
            assets.update(a for a in s.scalars(
                select(m.Device.asset_id)
                .where(m.Device.asset_id.in_(wanted[start:start + 500]),
                       scope.sites(m.Device.site_pk))) if a)
    dept = (scope.department or "").lower()
    rows = []
    for w in waivers:
        if scope.central:
            n_sites, n_assets, depts = len(w.site_ids or []), len(w.asset_ids or []), \
                list(w.departments or [])
        else:
            n_sites = len(set(w.site_ids or []) & site_ids)
            n_assets = len(set(w.asset_ids or []) & assets)
            depts = ([scope.department or ""]
                     if dept in {d.lower() for d in w.departments or []} else [])
            if not (n_sites or n_assets or depts):
                continue
        covers = [*(["departments: " + ", ".join(depts)] if depts else []),
                  *([f"{n_sites} site(s)"] if n_sites else []),
                  *([f"{n_assets} device(s)"] if n_assets else [])]
        state = "expired" if w.expires is not None and w.expires < as_of else "in force"
        rows.append([w.reference, w.policy_id or "all", ", ".join(w.rules or []) or "all",
                     "; ".join(covers), w.granted_by, w.granted_on, w.expires, state, w.reason])
    waiver_table = Table(
        "waivers", "Waivers",
        [Column("reference", "Reference"), Column("policy", "Policy"), Column("rules", "Rules"),
         Column("covers", "Covers"), Column("granted_by", "Granted by"),
         Column("granted_on", "Granted on", "date"), Column("expires", "Expires", "date"),
         Column("state", f"State on {as_of}"), Column("reason", "Reason")], rows)
    exempt_table = Table(
        "exempt_devices", "Devices exempt from every finding",
        [Column("asset_id", "Asset"), Column("site_id", "Site"), Column("why", "Why")],
        [[a, site, "; ".join(str(n) for n in notes or [])] for a, site, notes in exempt])
    return [waiver_table, exempt_table]


def build_return(store: Store, scope: Scope) -> Report:
    view = scoped_plan(store, scope)
    provenance = store_provenance(store, scope, view.doc if view else None)
    as_of = provenance.assessment_as_of or provenance.generated_at.date()
    states = states_by_device(store, scope.site_pks)
    name = scope.who
    sections = [
        Section("Estate summary", _estate(store, scope)),
        Section("Devices by true maker and status", [_makers(store, scope)]),
        Section("Findings by policy and rule", [_findings(store, scope, as_of)]),
        Section("Plan and progress", _progress(view, states)),
        Section("Call-home traffic", [callhome_table(store, scope.site_pks)]),
        Section("Exceptions and waivers", _waivers(store, scope, as_of)),
        Section("Sign-off", [SignOff(
            "Signatures", list(SIGNATORIES),
            statement=f"We confirm that this return is a true account of the surveillance "
                      f"equipment of {name} and of the programme to remove it, as of the "
                      "date stated above.")]),
    ]
    stem = f"return-{slug(scope.stem)}"
    return Report("return", f"Compliance return: {name}", scope.label, provenance, sections,
                  stem)


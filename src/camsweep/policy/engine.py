"""Pure evaluation: devices x policies -> statuses and findings (no DB, network or files).

`prepare()` compiles policies against a knowledge base, an assessment date and parameter
values into an `AssessContext`. `evaluate(facts, ctx)` assesses one device;
`batch.evaluate_frame(frame, ctx)` assesses a Polars frame of devices. Both go through
`policy_outcome`, once per policy and per `PolicyKeyer` key: the equivalence class of the
device under that policy (what the policy's decision reads, nothing more). What is per
device (deadlines counted from install or record dates, priority points, the words of the
reason chain) is added by `finish` here and column-wise in `batch`, from the same formulas;
a property test holds the two paths to the same answers.

Logic is three-valued where facts can be missing: a maker that is unknown (or identified
below the policy's confidence threshold) and a site that is unknown make a rule's
applicability *unknown*; a device for which some mandatory rule would apply if the
unknown turned out restricted `needs_survey`: never `compliant`, never a removal.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from camsweep.errors import PolicyError
from camsweep.kb import KnowledgeBase
from camsweep.policy.facts import ComponentFact, DeviceFacts, ProductBom, Profile
from camsweep.policy.loader import BUILTIN_PARAMS, LoadedPolicy, coerce_param
from camsweep.policy.makers import MakerDirectory
from camsweep.policy.schema import (
    Citation,
    ComponentMatch,
    ComponentRule,
    DeadlineSpec,
    Duration,
    MakerCriterion,
    NoNewInstallAction,
    ParamRef,
    PriorityWeights,
    RelativeDeadline,
    ReplaceAtEndOfLifeAction,
    Rule,
    Scope,
    Waiver,
    When,
)
from camsweep.policy.vulns import VulnerabilityIndex, VulnKey

Tri = bool | None
STATUS_RANK = {"compliant": 0, "exempt": 1, "needs_survey": 2, "non_compliant": 3}
REMEDY_ACTION = {"remove": "remove", "disconnect": "disconnect", "survey": "survey"}
ACTION_OF_TYPE = {"remove": "remove", "disconnect": "disconnect",
                  "replace_at_end_of_life": "replace_at_end_of_life",
                  "block_egress": "block_egress", "report": "report"}


def and3(*values: Tri) -> Tri:
    if any(v is False for v in values):
        return False
    if all(v is True for v in values):
        return True
    return None


def add_business_days(start: date, n: int) -> date:
    """`n` weekdays after `start` (a weekend start counts from the Friday before)."""
    day = start
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


# --- deadlines ------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One candidate deadline: a fixed date, or a step after a per-device event."""

    event: str | None = None  # install | recorded; None for a fixed date
    fixed: date | None = None
    duration: Duration | None = None
    business_days: int | None = None

    def resolve(self, install: date | None, recorded: date | None) -> date | None:
        if self.event is None:
            return self.fixed
        start = install if self.event == "install" else recorded
        if start is None:
            return None
        if self.business_days is not None:
            return add_business_days(start, self.business_days)
        assert self.duration is not None
        return self.duration.add_to(start)

    def describe(self) -> str:
        if self.event is None:
            return self.fixed.isoformat() if self.fixed else "none"
        step = (f"{self.business_days} business day(s)" if self.business_days is not None
                else str(self.duration))
        return f"{self.event} date + {step}"


@dataclass(frozen=True)
class DeadlinePlan:
    """The earliest of its terms that can be worked out for a device."""

    terms: tuple[Term, ...] = ()
    note: str = "no deadline is set"

    @property
    def relative(self) -> bool:
        return any(t.event is not None for t in self.terms)

    @property
    def fixed(self) -> date | None:
        dates = [t.fixed for t in self.terms if t.event is None and t.fixed is not None]
        return min(dates) if dates else None

    def resolve(self, install: date | None, recorded: date | None) -> date | None:
        dates = [d for t in self.terms if (d := t.resolve(install, recorded)) is not None]
        return min(dates) if dates else None

    def explain(self, install: date | None, recorded: date | None) -> str | None:
        """Per-device arithmetic behind a relative deadline, for the reason chain."""
        if not self.relative:
            return None
        parts = []
        for t in self.terms:
            if t.event is None:
                continue
            start = install if t.event == "install" else recorded
            got = t.resolve(install, recorded)
            if got is None:
                parts.append(f"{t.event} date unknown, so '{t.describe()}' cannot be worked out")
            else:
                parts.append(f"{t.event} date {start} + "
                             f"{t.describe().split(' + ', 1)[1]} = {got}")
        final = self.resolve(install, recorded)
        fixed = self.fixed
        if fixed is not None:
            parts.append(f"or the fixed date {fixed}; earliest applies: {final}")
        return "deadline: " + "; ".join(parts)


def _merge_plans(plans: Iterable[DeadlinePlan], note: str) -> DeadlinePlan:
    terms: list[Term] = []
    for plan in plans:
        for t in plan.terms:
            if t not in terms:
                terms.append(t)
    return DeadlinePlan(tuple(terms), note)


# --- compiled policy ------------------------------------------------------------------


@dataclass(frozen=True)
class CWhen:
    sensitivity: frozenset[str] | None = None
    organisation_types: frozenset[str] | None = None
    device_types: frozenset[str] | None = None
    installed_on_or_after: date | None = None
    installed_before: date | None = None
    calls_home: bool | None = None
    internet_exposed: bool | None = None
    on_core_network: bool | None = None
    vulnerable: bool | None = None


@dataclass(frozen=True)
class CRule:
    id: str
    title: str
    mandatory: bool
    priority: int
    action_type: str
    output_action: str
    when: CWhen
    install_from: date | None
    plan: DeadlinePlan
    service_life: tuple[tuple[str, Duration], ...] = ()
    eol_cap: date | None = None
    text: tuple[str, ...] = ()
    component: ComponentMatch | None = None

    def plan_for(self, device_type: str | None) -> DeadlinePlan:
        if self.action_type != "replace_at_end_of_life":
            return self.plan
        lives = dict(self.service_life)
        life = lives.get(device_type or "", lives["default"])
        terms: list[Term] = [Term(event="install", duration=life)]
        if self.eol_cap is not None:
            terms.append(Term(fixed=self.eol_cap))
        cap = f", not later than {self.eol_cap}" if self.eol_cap else ""
        return DeadlinePlan(tuple(terms), f"end of service life: install date + {life}{cap}")


@dataclass(frozen=True)
class CExempt:
    """A compiled exemption (from the policy) or waiver (policy, programme or store)."""

    key: str
    kind: str  # exemption | waiver
    label: str
    has_ids: bool
    when: CWhen | None
    rules: frozenset[str] | None
    expires: date | None
    active: bool
    note: str


@dataclass(frozen=True)
class IdSelector:
    key: str
    asset_ids: frozenset[str]
    site_ids: frozenset[str]
    departments: frozenset[str]
    regions: frozenset[str]

    def selects(self, f: DeviceFacts) -> bool:
        return bool((f.asset_id and f.asset_id in self.asset_ids)
                    or (f.site_id and f.site_id in self.site_ids)
                    or (f.department and f.department in self.departments)
                    or (f.region and f.region in self.regions))


class MakerMatcher:
    """A policy's restricted-maker criteria resolved against the KB; answers are cached."""

    def __init__(self, criteria: Sequence[MakerCriterion], makers: MakerDirectory,
                 as_of: date) -> None:
        self.criteria = tuple(criteria)
        self.makers = makers
        self.as_of = as_of
        self.closures = [makers.closure(c.entities or (), c.include) if c.entities else {}
                         for c in self.criteria]
        self.uses_nil = any(c.subject_to_prc_nil for c in self.criteria)
        self._cache: dict[tuple[str, str | None], tuple[Tri, tuple[str, ...]]] = {}

    def describe(self) -> list[str]:
        out = []
        for c, closure in zip(self.criteria, self.closures, strict=True):
            if c.subject_to_prc_nil:
                out.append("makers subject to the PRC National Intelligence Law (per the KB: "
                           "PRC-headquartered or controlled by a PRC company)")
            elif c.entities:
                out.append("named entities " + ", ".join(c.entities)
                           + (f" incl. {', '.join(c.include)}" if c.include else "")
                           + ": " + ", ".join(sorted(closure)))
            elif c.listed_on:
                out.append("makers (or their controllers) on " + ", ".join(c.listed_on))
            elif c.jurisdictions:
                out.append("makers headquartered in " + ", ".join(c.jurisdictions))
        return out

    def _one(self, c: MakerCriterion, closure: Mapping[str, str], slug: str,
             oem_of: str | None) -> tuple[Tri, str | None]:
        name = self.makers.name(slug)
        if c.subject_to_prc_nil:
            subject, why = self.makers.nil(slug)
            if subject is True:
                return True, f"{name} is subject to the PRC National Intelligence Law: {why}"
            if subject is None:
                return None, (f"the knowledge base cannot settle whether the PRC NIL reaches "
                              f"{name}: {why}")
            return False, None
        if c.entities:
            if slug in closure:
                return True, closure[slug]
            if oem_of and oem_of in closure:
                return True, (f"sold under another label, made by {self.makers.name(oem_of)}: "
                              f"{closure[oem_of]}")
            return False, None
        if c.listed_on:
            found = self.makers.listings(slug, self.as_of)
            for listing in c.listed_on:
                hit = found.get(listing)
                if hit is not None:
                    via = (f" (via {self.makers.name(hit.via)}, which controls it)"
                           if hit.via else "")
                    return True, (f"{name} is on the {listing.replace('_', ' ')} list since "
                                  f"{hit.date}{via} [{hit.source}]")
            return False, None
        jurisdiction = self.makers.jurisdiction(slug)
        if jurisdiction is None:
            return None, f"'{slug}' is not in the knowledge base: jurisdiction unknown"
        if jurisdiction in (c.jurisdictions or ()):
            return True, f"{name} is headquartered in {jurisdiction}"
        return False, None

    def evaluate(self, slug: str, oem_of: str | None) -> tuple[Tri, tuple[str, ...]]:
        key = (slug, oem_of)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        answers = [self._one(c, closure, slug, oem_of)
                   for c, closure in zip(self.criteria, self.closures, strict=True)]
        if any(v is True for v, _ in answers):
            result: tuple[Tri, tuple[str, ...]] = (
                True, tuple(why for v, why in answers if v is True and why))
        elif any(v is None for v, _ in answers):
            result = (None, tuple(why for v, why in answers if v is None and why))
        else:
            result = (False, (f"{self.makers.name(slug)} is not a restricted maker under this "
                              "policy",))
        self._cache[key] = result
        return result


@dataclass
class CompiledPolicy:
    lp: LoadedPolicy
    in_force: bool
    conf_threshold: float
    scope: CWhen
    makers: MakerMatcher
    rules: tuple[CRule, ...]
    component_rules: tuple[CRule, ...]
    max_depth: int
    exempts: tuple[CExempt, ...]
    weights: PriorityWeights
    citations: Mapping[str, Citation]

    @property
    def id(self) -> str:
        return self.lp.policy.id

    @property
    def version(self) -> str:
        return self.lp.policy.version


# --- context --------------------------------------------------------------------------


@dataclass
class AssessContext:
    as_of: date
    kb_version: str
    makers: MakerDirectory
    vulns: VulnerabilityIndex
    policies: tuple[CompiledPolicy, ...]
    params: Mapping[str, Any]
    thresholds: tuple[float, ...]
    breakpoints: tuple[date, ...]
    boms: Mapping[str, ProductBom]
    selectors: tuple[IdSelector, ...]
    keyers: tuple[PolicyKeyer, ...] = ()
    by_id: dict[str, CompiledPolicy] = field(default_factory=dict, repr=False)
    outcomes: dict[tuple[int, tuple[int, ...]], PolicyOutcome] = field(default_factory=dict,
                                                                        repr=False)
    _vuln_reasons: dict[VulnKey, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @property
    def default_organisation_type(self) -> str | None:
        value = self.params.get("organisation_type")
        return str(value) if value else None

    def conf_bucket(self, confidence: float | None) -> int:
        if confidence is None:
            return 0
        return sum(1 for t in self.thresholds if confidence >= t)

    def install_bucket(self, install: date | None) -> int | None:
        if install is None:
            return None
        return bisect_right(self.breakpoints, install)

    def on_or_after(self, bucket: int | None, when: date) -> bool:
        if bucket is None:
            return False
        return bucket > self.breakpoints.index(when)

    def conf_ok(self, bucket: int, threshold: float) -> bool:
        return bucket > self.thresholds.index(threshold)

    def vuln_reasons(self, key: VulnKey) -> tuple[str, ...]:
        hit = self._vuln_reasons.get(key)
        if hit is None:
            hit = tuple(self.vulns.reasons(key))
            self._vuln_reasons[key] = hit
        return hit

    def profile_of(self, f: DeviceFacts) -> Profile:
        return Profile(
            manufacturer_id=f.manufacturer_id, oem_of=f.oem_of, restricted=f.restricted,
            conf_bucket=self.conf_bucket(f.confidence), device_type=f.device_type,
            sensitivity=f.sensitivity,
            organisation_type=(f.organisation_type if f.organisation_type is not None
                               else self.default_organisation_type),
            install_bucket=self.install_bucket(f.install_date), calls_home=f.calls_home,
            on_core_network=f.on_core_network, internet_exposed=f.internet_exposed,
            vulns=self.vulns.match(f.manufacturer_id, f.device_type, f.model, f.firmware),
            bom=f.bom if f.bom in self.boms else None,
            waivers=tuple(s.key for s in self.selectors if s.selects(f)),
        )


def _resolve_date(ref: date | ParamRef | None, params: Mapping[str, Any]) -> date | None:
    if ref is None or isinstance(ref, date):
        return ref
    value = params.get(ref.param)
    return value if isinstance(value, date) else None


def _plan(spec: DeadlineSpec | None, lp: LoadedPolicy, params: Mapping[str, Any],
          as_of: date) -> DeadlinePlan:
    if spec is None:
        return DeadlinePlan((), "the measure sets no deadline for this action")
    if isinstance(spec, date):
        return DeadlinePlan((Term(fixed=spec),), f"deadline {spec} set by the measure")
    if isinstance(spec, ParamRef):
        value = params.get(spec.param)
        if not isinstance(value, date):
            return DeadlinePlan((), f"no firm date in the measure: set --param "
                                    f"{spec.param}=YYYY-MM-DD (or in a programme file)")
        return DeadlinePlan((Term(fixed=value),), f"deadline {value} from programme "
                                                  f"parameter {spec.param}")
    assert isinstance(spec, RelativeDeadline)
    step_text = (f"{spec.within_business_days} business day(s)"
                 if spec.within_business_days is not None else str(spec.within))
    terms: list[Term] = []
    if spec.after in ("install", "recorded"):
        terms.append(Term(event=spec.after, duration=spec.within,
                          business_days=spec.within_business_days))
    else:
        start = lp.policy.effective.from_ if spec.after == "effective" else as_of
        step = Term(event="install", duration=spec.within,
                    business_days=spec.within_business_days)
        terms.append(Term(fixed=step.resolve(start, None)))
    note = f"deadline: within {step_text} of the {spec.after.replace('_', ' ')} date"
    cap = _resolve_date(spec.not_later_than, params)
    if cap is not None:
        terms.append(Term(fixed=cap))
        note += f", and not later than {cap}"
    elif isinstance(spec.not_later_than, ParamRef):
        note += f" (cap parameter {spec.not_later_than.param} not set)"
    return DeadlinePlan(tuple(terms), note)


def _cwhen(w: When | Scope, params: Mapping[str, Any]) -> CWhen:
    def fs(values: Sequence[str] | None) -> frozenset[str] | None:
        return frozenset(values) if values else None

    if isinstance(w, Scope):
        return CWhen(sensitivity=fs(w.sensitivity), organisation_types=fs(w.organisation_types),
                     device_types=fs(w.device_types))
    return CWhen(
        sensitivity=fs(w.sensitivity), organisation_types=fs(w.organisation_types),
        device_types=fs(w.device_types),
        installed_on_or_after=_resolve_date(w.installed_on_or_after, params),
        installed_before=_resolve_date(w.installed_before, params),
        calls_home=w.calls_home, internet_exposed=w.internet_exposed,
        on_core_network=w.on_core_network, vulnerable=w.vulnerable,
    )


def _cite_lines(cites: Sequence[str], citations: Mapping[str, Citation]) -> list[str]:
    out = []
    for cid in cites:
        c = citations[cid]
        when = f" ({c.date.isoformat()})" if c.date else ""
        out.append(f"source: {c.document}{when} {c.url}")
    return out


def _compile_rule(rule: Rule | ComponentRule, lp: LoadedPolicy, params: Mapping[str, Any],
                  as_of: date, citations: Mapping[str, Citation], where: tuple[str | int, ...]
                  ) -> CRule:
    action = rule.action
    install_from = None
    output = ACTION_OF_TYPE.get(action.type, action.type)
    service_life: tuple[tuple[str, Duration], ...] = ()
    eol_cap = None
    if isinstance(action, NoNewInstallAction):
        install_from = _resolve_date(action.from_, params)
        if install_from is None:
            raise PolicyError(f"{lp.where((*where, 'action', 'from'))}: parameter "
                              f"'{getattr(action.from_, 'param', '?')}' has no value: set it "
                              "with --param or in a programme file")
        output = REMEDY_ACTION[action.remedy]
    if isinstance(action, ReplaceAtEndOfLifeAction):
        service_life = tuple(sorted(action.service_life.items()))
        eol_cap = _resolve_date(action.not_later_than, params)
        plan = DeadlinePlan()
    else:
        plan = _plan(getattr(action, "deadline", None), lp, params, as_of)
    kind = "mandatory" if rule.mandatory else "advisory"
    text = (f"{lp.policy.id} v{lp.policy.version}, rule '{rule.id}' ({kind}): {rule.clause}",
            *_cite_lines(rule.cite, citations))
    when = _cwhen(rule.when, params) if isinstance(rule, Rule) else CWhen()
    return CRule(
        id=rule.id, title=rule.title, mandatory=rule.mandatory, priority=rule.priority,
        action_type=action.type, output_action=output, when=when, install_from=install_from,
        plan=plan, service_life=service_life, eol_cap=eol_cap, text=text,
        component=rule.match if isinstance(rule, ComponentRule) else None,
    )


def _compile_exempts(lp: LoadedPolicy, waivers: Sequence[tuple[Waiver, str]],
                     params: Mapping[str, Any], as_of: date,
                     selectors: list[IdSelector]) -> tuple[CExempt, ...]:
    p = lp.policy
    out: list[CExempt] = []
    for ex in p.exemptions:
        key = f"{p.id}:exemption:{ex.id}"
        sel = ex.applies_to
        if sel.has_ids:
            selectors.append(IdSelector(key, frozenset(sel.asset_ids), frozenset(sel.site_ids),
                                        frozenset(sel.departments), frozenset(sel.regions)))
        active = ex.expires is None or ex.expires >= as_of
        until = f" until {ex.expires}" if ex.expires else ""
        out.append(CExempt(
            key=key, kind="exemption", label=ex.id, has_ids=sel.has_ids,
            when=_cwhen(sel.when, params) if sel.when else None,
            rules=frozenset(ex.rules) if ex.rules is not None else None, expires=ex.expires,
            active=active,
            note=(f"exempt under {p.id} exemption '{ex.id}'{until}: {ex.reason}" if active else
                  f"{p.id} exemption '{ex.id}' expired on {ex.expires}; not applied"),
        ))
    limit = p.waiver_limit.latest_expiry if p.waiver_limit else None
    for w, origin in [*((w, "policy file") for w in p.waivers), *waivers]:
        key = f"waiver:{origin}:{w.reference}"
        selectors.append(IdSelector(key, frozenset(w.asset_ids), frozenset(w.site_ids),
                                    frozenset(w.departments), frozenset()))
        expires = w.expires
        capped = ""
        if limit is not None and (expires is None or expires > limit):
            expires = limit
            capped = f" (capped at {limit}, the latest expiry {p.id} allows)"
        active = expires is None or expires >= as_of
        until = f" until {expires}{capped}" if expires else " (no expiry)"
        out.append(CExempt(
            key=key, kind="waiver", label=w.reference, has_ids=True, when=None,
            rules=frozenset(w.rules) if w.rules is not None else None, expires=expires,
            active=active,
            note=(f"waived by {w.reference} ({origin}), granted by {w.granted_by}{until}: "
                  f"{w.reason}" if active else
                  f"waiver {w.reference} expired on {expires}{capped}; not applied"),
        ))
    return tuple(out)


def prepare(policies: Sequence[LoadedPolicy], kb: KnowledgeBase, vulns: VulnerabilityIndex,
            as_of: date, params: Mapping[str, Any] | None = None,
            waivers: Sequence[tuple[Waiver, str]] = (),
            boms: Sequence[ProductBom] = ()) -> AssessContext:
    """Compile `policies` for one assessment. `params` are already coerced (see
    `loader.merge_params`); `waivers` pairs each extra waiver with where it came from."""
    if not policies:
        raise PolicyError("no policy selected")
    makers = MakerDirectory(kb)
    given = dict(params or {})
    compiled: list[CompiledPolicy] = []
    selectors: list[IdSelector] = []
    breakpoints: set[date] = set()
    for lp in policies:
        p = lp.policy
        values: dict[str, Any] = {}
        for name, spec in {**BUILTIN_PARAMS, **p.parameters}.items():
            values[name] = given[name] if name in given else coerce_param(name, spec, spec.default)
        for i, crit in enumerate(p.restricted_makers.any_of):
            for j, slug in enumerate(crit.entities or ()):
                if slug not in kb.manufacturers:
                    where = lp.where(("restricted_makers", "any_of", i, "entities", j))
                    raise PolicyError(f"{where}: "
                                      f"'{slug}' is not a maker in the knowledge base "
                                      f"{kb.version}")
        if p.components:
            for i, crule in enumerate(p.components.rules):
                for j, slug in enumerate(crule.match.makers or ()):
                    if slug not in kb.manufacturers:
                        where = lp.where(("components", "rules", i, "match", "makers", j))
                        raise PolicyError(f"{where}: "
                                          f"'{slug}' is not a maker in the knowledge base")
        citations = {c.id: c for c in p.legal_basis.citations}
        rules = tuple(_compile_rule(r, lp, values, as_of, citations, ("rules", i))
                      for i, r in enumerate(p.rules))
        crules: tuple[CRule, ...] = ()
        depth = 0
        if p.components:
            crules = tuple(_compile_rule(r, lp, values, as_of, citations,
                                         ("components", "rules", i))
                           for i, r in enumerate(p.components.rules))
            raw = p.components.max_depth
            depth_value = values.get(raw.param) if isinstance(raw, ParamRef) else raw
            if depth_value is None:
                raise PolicyError(f"{lp.where(('components', 'max_depth'))}: parameter "
                                  f"'{getattr(raw, 'param', '?')}' has no value")
            depth = int(depth_value)
        exempts = _compile_exempts(lp, [(w, o) for w, o in waivers if w.policy in (None, p.id)],
                                   values, as_of, selectors)
        for when in [r.when for r in rules] + [ex.when for ex in exempts if ex.when]:
            breakpoints.update(d for d in (when.installed_on_or_after, when.installed_before)
                               if d is not None)
        breakpoints.update(r.install_from for r in rules if r.install_from is not None)
        in_force = p.effective.from_ <= as_of and (p.effective.to is None or as_of < p.effective.to)
        compiled.append(CompiledPolicy(
            lp=lp, in_force=in_force, conf_threshold=float(values["min_confidence"]),
            scope=_cwhen(p.scope, values),
            makers=MakerMatcher(p.restricted_makers.any_of, makers, as_of),
            rules=rules, component_rules=crules, max_depth=depth,
            exempts=exempts,
            weights=p.priority, citations=citations,
        ))
    for w, origin in waivers:
        if w.policy is not None and w.policy not in {c.id for c in compiled}:
            raise PolicyError(f"waiver {w.reference} ({origin}) names policy '{w.policy}', "
                              "which is not selected")
    ctx = AssessContext(
        as_of=as_of, kb_version=kb.version, makers=makers, vulns=vulns,
        policies=tuple(compiled), params=given,
        thresholds=tuple(sorted({c.conf_threshold for c in compiled})),
        breakpoints=tuple(sorted(breakpoints)), boms={b.key: b for b in boms},
        selectors=tuple(selectors),
    )
    ctx.keyers = tuple(PolicyKeyer(i, cp, ctx) for i, cp in enumerate(compiled))
    ctx.by_id = {cp.id: cp for cp in compiled}
    return ctx


# --- evaluation of one policy ---------------------------------------------------------------


@dataclass(frozen=True)
class FindingTemplate:
    """A finding as a policy produces it for a class of devices. The per-device parts
    (deadline counted from an event, the priority points of the device's site, type,
    exposure and firmware, the vulnerability lines of its reasons) are added by `finish`."""

    policy: str
    policy_version: str
    rule: str
    action: str
    mandatory: bool
    plan: DeadlinePlan
    base: int  # the policy's weight plus the rule's adjustment
    pct: int  # 100, or the advisory factor in percent
    overdue: int  # points added once the deadline has passed (before `pct`)
    reasons: tuple[str, ...]


# What a policy's outcome means for the device's status, most severe first.
LEVEL_VIOLATION, LEVEL_SURVEY, LEVEL_WAIVED, LEVEL_NONE = 3, 2, 1, 0
STATUS_OF_LEVEL = {LEVEL_VIOLATION: "non_compliant", LEVEL_SURVEY: "needs_survey",
                   LEVEL_WAIVED: "exempt", LEVEL_NONE: "compliant"}


@dataclass(frozen=True)
class PolicyOutcome:
    findings: tuple[FindingTemplate, ...]
    notes: tuple[str, ...]
    level: int


NOTHING = PolicyOutcome((), (), LEVEL_NONE)


def _in(values: frozenset[str] | None, value: str | None) -> Tri:
    if values is None:
        return True
    if value is None:
        return None
    return value in values


def _when(w: CWhen, p: Profile, ctx: AssessContext, vulnerable: bool,
          notes: list[str]) -> Tri:
    results: list[Tri] = [_in(w.sensitivity, p.sensitivity)]
    org = _in(w.organisation_types, p.organisation_type)
    if org is None:
        notes.append("organisation type not recorded: assumed in scope (set --param "
                     "organisation_type=... or map departments in a programme file)")
        org = True
    dev = _in(w.device_types, p.device_type)
    if dev is None:
        notes.append("device type not recorded: assumed to be surveillance equipment in scope")
        dev = True
    results += [org, dev]
    if w.installed_on_or_after is not None:
        results.append(ctx.on_or_after(p.install_bucket, w.installed_on_or_after))
    if w.installed_before is not None:
        results.append(p.install_bucket is not None
                       and not ctx.on_or_after(p.install_bucket, w.installed_before))
    for flag, value in ((w.calls_home, p.calls_home), (w.internet_exposed, p.internet_exposed),
                        (w.on_core_network, p.on_core_network)):
        if flag is not None:
            results.append(value is flag)
    if w.vulnerable is not None:
        results.append(vulnerable is w.vulnerable)
    return and3(*results)


def _action_fires(r: CRule, p: Profile, ctx: AssessContext) -> tuple[bool, str | None]:
    if r.install_from is not None:
        if p.install_bucket is None:
            return False, None
        if not ctx.on_or_after(p.install_bucket, r.install_from):
            return False, None
        return True, f"installed on or after {r.install_from}, when new installs were stopped"
    if r.action_type == "disconnect":
        if p.on_core_network is False:
            return False, None
        if p.on_core_network is None:
            return True, ("network placement not recorded: confirm it is isolated from core "
                          "networks, or disconnect it")
        return True, "recorded as connected to a core network"
    if r.action_type == "block_egress" and p.calls_home is False:
        return False, None
    return True, None


def _component_hits(r: CRule, bom: ProductBom, depth: int, makers: MakerDirectory
                    ) -> tuple[list[ComponentFact], int]:
    match = r.component
    assert match is not None
    hits = []
    beyond = 0
    for c in bom.components:
        if c.depth > depth:
            beyond += 1
            continue
        if match.makers is not None:
            ok = c.maker is not None and c.maker in match.makers
        elif match.countries is not None:
            ok = c.country is not None and c.country in match.countries
        else:
            ok = (makers.nil(c.maker)[0] is True) if c.maker else c.country == "CN"
        if ok:
            hits.append(c)
    return hits, beyond


def _exempt_for(cp: CompiledPolicy, rule_id: str, p: Profile, ctx: AssessContext,
                vulnerable: bool) -> tuple[CExempt | None, list[str]]:
    expired: list[str] = []
    for ex in cp.exempts:
        if ex.rules is not None and rule_id not in ex.rules:
            continue
        if ex.has_ids and ex.key not in p.waivers:
            continue
        if ex.when is not None and _when(ex.when, p, ctx, vulnerable, []) is not True:
            continue
        if not ex.active:
            expired.append(ex.note)
            continue
        return ex, expired
    return None, expired


def maker_state(cp: CompiledPolicy, p: Profile, ctx: AssessContext
                ) -> tuple[Tri, tuple[str, ...]]:
    """Whether the policy restricts the device's maker: True, False, or unknown (None)."""
    if p.manufacturer_id is None:
        if (p.restricted is True and cp.makers.uses_nil
                and ctx.conf_ok(p.conf_bucket, cp.conf_threshold)):
            return True, ("maker not settled, but every candidate maker is subject to the PRC "
                          "National Intelligence Law (identification)",)
        return None, ("maker not identified: the evidence does not settle who made it",)
    if not ctx.conf_ok(p.conf_bucket, cp.conf_threshold):
        return None, (f"identified as {ctx.makers.name(p.manufacturer_id)} with confidence "
                      f"below this policy's threshold {cp.conf_threshold:.2f}",)
    return cp.makers.evaluate(p.manufacturer_id, p.oem_of)


def policy_outcome(cp: CompiledPolicy, p: Profile, ctx: AssessContext) -> PolicyOutcome:
    """What one policy requires of one device (a representative of its class)."""
    if not cp.in_force:
        return NOTHING
    scope_notes: list[str] = []
    vulnerable = ctx.vulns.worst(p.vulns) == "affected"
    scope = _when(cp.scope, p, ctx, vulnerable, scope_notes)
    if scope is False:
        return NOTHING
    maker, _maker_reasons = maker_state(cp, p, ctx)  # the words are added per device
    site_reason = () if p.sensitivity is not None else (
        "site not known, so neither is its sensitivity class: locate the device",)
    w = cp.weights
    out: list[FindingTemplate] = []
    notes: list[str] = []
    hypothetical: list[tuple[CRule, DeadlinePlan]] = []

    def emit(rule_id: str, action: str, mandatory: bool, plan: DeadlinePlan, prio: int,
             reasons: tuple[str, ...]) -> None:
        ex, expired = _exempt_for(cp, rule_id, p, ctx, vulnerable)
        if ex is not None:
            notes.append(f"{cp.id} rule '{rule_id}' ({action}): {ex.note}")
            return
        pct = 100 if mandatory else round(w.advisory_factor * 100)
        out.append(FindingTemplate(cp.id, cp.version, rule_id, action, mandatory, plan,
                                   w.policy + prio, pct, w.overdue, (*reasons, *expired)))

    for r in cp.rules:
        rule_notes: list[str] = []
        cond = _when(r.when, p, ctx, vulnerable, rule_notes)
        if cond is False:
            continue
        fires, fire_reason = _action_fires(r, p, ctx)
        if not fires:
            continue
        plan = r.plan_for(p.device_type)
        state = and3(scope, maker, cond)
        if state is True:
            reasons = (*dict.fromkeys(scope_notes + rule_notes), *r.text,
                       *((fire_reason,) if fire_reason else ()), plan.note)
            emit(r.id, r.output_action, r.mandatory, plan, r.priority, reasons)
        elif state is None and r.mandatory:
            hypothetical.append((r, plan))
    if hypothetical:
        plan = _merge_plans((pl_ for _r, pl_ in hypothetical),
                            "deadline: the earliest deadline among the rules the survey settles")
        would = [f"if confirmed, {cp.id} rule '{r.id}' requires {r.output_action}: {r.title}"
                 for r, _ in hypothetical]
        reasons = (*site_reason, "a survey or scan must settle it before any removal is planned",
                   *would, *dict.fromkeys(scope_notes), plan.note)
        emit("survey", "survey", True, plan, 0, reasons)
    if cp.component_rules and p.bom is not None:
        bom = ctx.boms[p.bom]
        for r in cp.component_rules:
            hits, beyond = _component_hits(r, bom, cp.max_depth, ctx.makers)
            if not hits:
                continue
            parts = [f"component {c.path} (supplier {c.supplier or 'unknown'}, maker "
                     f"{c.maker or 'unresolved'}, country {c.country or 'unknown'}, depth "
                     f"{c.depth})" for c in hits]
            depth_note = (f"BOM {bom.source} examined to depth {cp.max_depth} (policy "
                          f"parameter); {beyond} deeper component(s) not examined")
            plan = r.plan_for(p.device_type)
            emit(r.id, r.output_action, r.mandatory, plan, r.priority,
                 (*parts, depth_note, *r.text, plan.note))
    if any(f.mandatory and f.action != "survey" for f in out):
        level = LEVEL_VIOLATION
    elif any(f.action == "survey" for f in out):
        level = LEVEL_SURVEY
    elif notes:
        level = LEVEL_WAIVED
    else:
        level = LEVEL_NONE
    return PolicyOutcome(tuple(out), tuple(notes), level)


# --- the equivalence classes a policy sees -------------------------------------------------


class PolicyKeyer:
    """Reduces a device to what one policy's decision reads, as small integer codes.

    Two devices with equal keys get the same `PolicyOutcome`: each field is replaced by its
    class (membership in every value list the policy mentions, the service-life entry that
    applies, whether it is unknown), the install date by the number of the policy's dates
    on or before it, and flags are kept only if the policy tests them. When the policy
    cannot restrict the maker and reads no BOM, the key is the maker state alone. Priority,
    deadlines and vulnerability reasons are per device and are not in the key.
    """

    NULL = 0  # code of a masked or unknown value; real classes are numbered from 1

    def __init__(self, index: int, cp: CompiledPolicy, ctx: AssessContext) -> None:
        self.index = index
        self.cp = cp
        whens = [cp.scope, *(r.when for r in cp.rules),
                 *(ex.when for ex in cp.exempts if ex.when is not None)]
        self.sens_sets = [w.sensitivity for w in whens if w.sensitivity is not None]
        self.org_sets = [w.organisation_types for w in whens if w.organisation_types is not None]
        self.type_sets = [w.device_types for w in whens if w.device_types is not None]
        self.lives = frozenset(t for r in (*cp.rules, *cp.component_rules)
                               for t, _ in r.service_life if t != "default")
        dates = {d for w in whens for d in (w.installed_on_or_after, w.installed_before)
                 if d is not None}
        dates |= {r.install_from for r in cp.rules if r.install_from is not None}
        self.dates = tuple(sorted(dates))
        self.date_index = tuple(ctx.breakpoints.index(d) for d in self.dates)
        self.uses_calls = any(w.calls_home is not None for w in whens) or any(
            r.action_type == "block_egress" for r in cp.rules)
        self.uses_internet = any(w.internet_exposed is not None for w in whens)
        self.uses_core = any(w.on_core_network is not None for w in whens) or any(
            r.action_type == "disconnect" for r in cp.rules)
        self.uses_vuln = any(w.vulnerable is not None for w in whens)
        self.uses_bom = bool(cp.component_rules)
        self.waiver_keys = tuple(ex.key for ex in cp.exempts if ex.has_ids)
        self._codes: dict[str, dict[Any, int]] = {"maker": {}, "sens": {}, "org": {},
                                                  "type": {}, "bom": {}, "waivers": {}}
        self.quiet: set[int] = set()  # maker codes under which nothing can fire

    def _code(self, table: str, value: Any) -> int:
        codes = self._codes[table]
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(codes) + 1
        return code

    def maker_code(self, p: Profile, ctx: AssessContext) -> int:
        tri = maker_state(self.cp, p, ctx)[0]
        code = self._code("maker", tri)
        if tri is False and not self.uses_bom:
            self.quiet.add(code)
        return code

    def sens_code(self, value: str | None) -> int:
        return self._code("sens", (value is None, *(value in s for s in self.sens_sets)))

    def org_code(self, value: str | None) -> int:
        return self._code("org", (value is None, *(value in s for s in self.org_sets)))

    def type_code(self, value: str | None) -> int:
        life = value if value in self.lives else "default"
        return self._code("type", (value is None, life,
                                   *(value in s for s in self.type_sets)))

    def install_code(self, bucket: int | None) -> int:
        if bucket is None:
            return self.NULL
        return 1 + sum(1 for i in self.date_index if bucket > i)

    @staticmethod
    def tri_code(value: bool | None) -> int:
        return 1 if value is None else 2 if value else 3

    def waiver_code(self, waivers: tuple[str, ...]) -> int:
        return self._code("waivers", tuple(k for k in waivers if k in self.waiver_keys))

    def key(self, p: Profile, ctx: AssessContext) -> tuple[int, ...]:
        maker = self.maker_code(p, ctx)
        if not self.cp.in_force or maker in self.quiet:
            return (maker,)
        return (
            maker,
            self.sens_code(p.sensitivity),
            self.org_code(p.organisation_type),
            self.type_code(p.device_type),
            self.install_code(p.install_bucket),
            self.tri_code(p.calls_home) if self.uses_calls else self.NULL,
            self.tri_code(p.internet_exposed) if self.uses_internet else self.NULL,
            self.tri_code(p.on_core_network) if self.uses_core else self.NULL,
            (2 if ctx.vulns.worst(p.vulns) == "affected" else 1) if self.uses_vuln
            else self.NULL,
            self._code("bom", p.bom) if self.uses_bom else self.NULL,
            self.waiver_code(p.waivers),
        )


def outcome_for(keyer: PolicyKeyer, p: Profile, ctx: AssessContext) -> PolicyOutcome:
    key = (keyer.index, keyer.key(p, ctx))
    hit = ctx.outcomes.get(key)
    if hit is None:
        hit = ctx.outcomes[key] = policy_outcome(keyer.cp, p, ctx)
    return hit


# --- priority -----------------------------------------------------------------------------


def device_points(w: PriorityWeights, p: Profile, worst_vuln: str | None) -> int:
    """The part of a priority that belongs to the device: site class, type, exposure, firmware."""
    points = w.sensitivity.get(p.sensitivity or "", 0) + w.device_type.get(p.device_type or "", 0)
    if p.internet_exposed:
        points += w.exposure.internet_exposed
    if p.on_core_network:
        points += w.exposure.on_core_network
    if p.calls_home:
        points += w.exposure.calls_home
    if worst_vuln is not None:
        points += getattr(w.vulnerability, worst_vuln)
    return points


def priority_score(t: FindingTemplate, points: int, overdue: bool) -> int:
    """Algorithm priority-v1: (weights that apply) x pct / 100, rounded half up, clamped to
    0..100; an overdue finding gets the policy's overdue points (scaled the same way)."""
    score = max(0, min(100, ((t.base + points) * t.pct + 50) // 100))
    if overdue:
        score = min(100, score + (t.overdue * t.pct + 50) // 100)
    return score


# --- one device -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    asset_id: str | None
    site_id: str | None
    policy: str
    policy_version: str
    rule: str
    action: str
    deadline: date | None
    priority: int
    mandatory: bool
    reasons: tuple[str, ...]
    vulnerable: bool = False  # firmware in the affected range of a known exploited vulnerability
    exposed: bool = False  # recorded as reachable from the internet

    def contract(self) -> dict[str, Any]:
        """The design.md `assess --json` finding object."""
        return {"asset_id": self.asset_id, "site_id": self.site_id, "policy": self.policy,
                "rule": self.rule, "action": self.action,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "priority": self.priority, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class DeviceAssessment:
    asset_id: str | None
    site_id: str | None
    status: str
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]

    @property
    def actionable(self) -> tuple[Finding, ...]:
        """Mandatory findings and surveys (advisory ones excluded)."""
        return tuple(f for f in self.findings if f.mandatory)


def identification_line(f: DeviceFacts, makers: MakerDirectory) -> str:
    if f.manufacturer_id:
        conf = f"{f.confidence:.2f}" if f.confidence is not None else "not graded"
        who = (f"identified as {makers.name(f.manufacturer_id)} ({f.manufacturer_id}), "
               f"confidence {conf}")
        if f.oem_of:
            who += f", sold under another label (OEM of {f.oem_of})"
    elif f.restricted:
        who = "maker not settled; identification found every candidate restricted"
    else:
        who = "maker not identified"
    recorded = ", ".join(f"{k} {v!r}" for k, v in (("brand", f.brand), ("model", f.model),
                                                   ("firmware", f.firmware)) if v)
    text = "identification: " + who + (f"; recorded {recorded}" if recorded else "")
    if f.evidence:
        text += "; evidence: " + "; ".join(f.evidence)
    return text


def finding_reasons(t: FindingTemplate, ident: str, maker_text: Sequence[str],
                    vuln_text: Sequence[str], install: date | None, recorded: date | None,
                    deadline: date | None, as_of: date) -> tuple[str, ...]:
    """The full reason chain: identification and what it means under the policy, the rule
    and its sources, the firmware, the deadline's working."""
    extra = t.plan.explain(install, recorded)
    overdue = (f"overdue: the deadline {deadline} has passed",) \
        if deadline is not None and deadline < as_of else ()
    return (ident, *maker_text, *t.reasons, *vuln_text, *((extra,) if extra else ()),
            *overdue)


def finish(t: FindingTemplate, f: DeviceFacts, p: Profile, ctx: AssessContext,
           ident: str) -> Finding:
    """A template made concrete for one device: deadline, priority and full reasons."""
    deadline = t.plan.resolve(f.install_date, f.recorded_date)
    overdue = deadline is not None and deadline < ctx.as_of
    worst = ctx.vulns.worst(p.vulns)
    priority = priority_score(t, device_points(ctx.by_id[t.policy].weights, p, worst), overdue)
    maker_text = maker_state(ctx.by_id[t.policy], p, ctx)[1]
    reasons = finding_reasons(t, ident, maker_text, ctx.vuln_reasons(p.vulns), f.install_date,
                              f.recorded_date, deadline, ctx.as_of)
    return Finding(f.asset_id, f.site_id, t.policy, t.policy_version, t.rule, t.action,
                   deadline, priority, t.mandatory, reasons, worst == "affected",
                   p.internet_exposed is True)


def evaluate(f: DeviceFacts, ctx: AssessContext) -> DeviceAssessment:
    """Assess one device under every policy in the context (pure)."""
    p = ctx.profile_of(f)
    outcomes = [outcome_for(k, p, ctx) for k in ctx.keyers]
    level = max((o.level for o in outcomes), default=LEVEL_NONE)
    ident = identification_line(f, ctx.makers)
    findings = tuple(finish(t, f, p, ctx, ident) for o in outcomes for t in o.findings)
    notes = tuple(n for o in outcomes for n in o.notes)
    return DeviceAssessment(f.asset_id, f.site_id, STATUS_OF_LEVEL[level], findings, notes)

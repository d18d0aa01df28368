"""Read policy, programme and vulnerability files; every error names file, line and field.

Loading checks the schema (pydantic) and the references inside a file (citations,
parameters, rule ids in exemptions and examples). References to the knowledge base
(maker slugs) are checked when policies are compiled against a KB (`engine.prepare`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from camsweep.errors import PolicyError
from camsweep.policy.schema import (
    ACTIONS,
    Duration,
    Parameter,
    ParamRef,
    Policy,
    Programme,
    VulnerabilityFile,
)
from camsweep.policy.vulns import VulnerabilityIndex, self_test
from camsweep.policy.yamlmarks import Marks, load_marked

M = TypeVar("M", bound=BaseModel)
VULNERABILITIES = "vulnerabilities.yaml"
RESERVED_RULES = frozenset({"survey"})

BUILTIN_PARAMS: dict[str, Parameter] = {
    "min_confidence": Parameter(
        type="number", default=0.6,
        description="identification confidence below which a device needs a survey or scan"),
    "organisation_type": Parameter(
        type="string", default=None,
        description="organisation type of the whole estate (a programme file may set one "
                    "per department)"),
    "programme_deadline": Parameter(
        type="date", default=None,
        description="the programme's deadline where a policy sets no firm date"),
}


def policies_dir() -> Path:
    return Path(str(resources.files("camsweep.policy") / "policies"))


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    file: str
    marks: Marks = field(repr=False)
    sha256: str

    @property
    def id(self) -> str:
        return self.policy.id

    def where(self, loc: Sequence[str | int]) -> str:
        return f"{self.file}:{self.marks.line(loc)}: field '{_dotted(loc)}'"


@dataclass(frozen=True)
class LoadedProgramme:
    programme: Programme
    file: str
    marks: Marks = field(repr=False)
    policies: tuple[LoadedPolicy, ...]


def _dotted(loc: Iterable[str | int]) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read the file ({exc})") from exc


def parse_marked(text: str, file: str, model: type[M]) -> tuple[M, Marks]:
    """Validate YAML text against `model`; errors carry `file:line: field 'a.b'`."""
    try:
        raw, marks = load_marked(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"{file}:{line}: not valid YAML ({problem})") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"{file}:1: expected a mapping at the top of the file")
    try:
        return model.model_validate(raw), marks
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc = (*loc, "type")  # the discriminator is what is wrong
            lines.append(f"{file}:{marks.line(loc)}: field '{_dotted(loc)}': {err['msg']}")
        raise PolicyError(
            lines[0] + (f" (and {len(lines) - 1} more error(s))" if len(lines) > 1 else ""),
            lines) from exc


def coerce_param(name: str, spec: Parameter, value: Any) -> Any:
    """A parameter value of the declared type; strings from the command line are parsed."""
    if value is None:
        return None
    try:
        if spec.type == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if spec.type == "number":
            return float(value)
        if spec.type == "integer":
            return int(value)
        if spec.type == "duration":
            return value if isinstance(value, Duration) else Duration.parse(str(value))
        return str(value)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"parameter {name}={value!r} is not a valid {spec.type}"
                          f"{' (YYYY-MM-DD)' if spec.type == 'date' else ''}") from exc


Loc = tuple[str | int, ...]


def _param_refs(obj: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    if isinstance(obj, ParamRef):
        yield loc, obj.param
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            alias = type(obj).model_fields[name].alias or name
            yield from _param_refs(getattr(obj, name), (*loc, alias))
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _param_refs(item, (*loc, i))
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _param_refs(item, (*loc, str(key)))


def check_policy(lp: LoadedPolicy) -> list[str]:
    """References inside one policy file; each problem located to a line."""
    p = lp.policy
    problems: list[str] = []
    cites = {c.id for c in p.legal_basis.citations}
    if len(cites) != len(p.legal_basis.citations):
        problems.append(f"{lp.where(('legal_basis', 'citations'))}: duplicate citation id")
    rule_ids: set[str] = set()
    all_rules: list[tuple[Loc, str, list[str]]] = [
        (("rules", i), r.id, r.cite) for i, r in enumerate(p.rules)]
    if p.components:
        all_rules += [(("components", "rules", i), r.id, r.cite)
                      for i, r in enumerate(p.components.rules)]
    for loc, rid, rule_cites in all_rules:
        if rid in rule_ids or rid in RESERVED_RULES:
            problems.append(f"{lp.where((*loc, 'id'))}: rule id '{rid}' is "
                            f"{'reserved' if rid in RESERVED_RULES else 'used twice'}")
        rule_ids.add(rid)
        for j, c in enumerate(rule_cites):
            if c not in cites:
                problems.append(f"{lp.where((*loc, 'cite', j))}: unknown citation '{c}' "
                                f"(known: {', '.join(sorted(cites))})")
    named: list[tuple[Loc, list[str]]] = [
        (("exemptions", i), e.cite) for i, e in enumerate(p.exemptions)]
    named += [(("milestones", i), m.cite) for i, m in enumerate(p.milestones)]
    if p.waiver_limit:
        named.append((("waiver_limit",), p.waiver_limit.cite))
    for loc, cite_list in named:
        for j, c in enumerate(cite_list):
            if c not in cites:
                problems.append(f"{lp.where((*loc, 'cite', j))}: unknown citation '{c}'")
    for i, exemption in enumerate(p.exemptions):
        for j, r in enumerate(exemption.rules or []):
            if r not in rule_ids | RESERVED_RULES:
                problems.append(f"{lp.where(('exemptions', i, 'rules', j))}: unknown rule '{r}'")
    for i, w in enumerate(p.waivers):
        if w.policy not in (None, p.id):
            problems.append(f"{lp.where(('waivers', i, 'policy'))}: a waiver in policy "
                            f"'{p.id}' cannot name policy '{w.policy}'")
        for j, r in enumerate(w.rules or []):
            if r not in rule_ids | RESERVED_RULES:
                problems.append(f"{lp.where(('waivers', i, 'rules', j))}: unknown rule '{r}'")
    declared = {**BUILTIN_PARAMS, **p.parameters}
    for loc, name in _param_refs(p):
        if name not in declared:
            problems.append(f"{lp.where(loc)}: unknown parameter '{name}'; declare it under "
                            "'parameters' (built in: " + ", ".join(sorted(BUILTIN_PARAMS)) + ")")
    for name, spec in p.parameters.items():
        try:
            coerce_param(name, spec, spec.default)
        except PolicyError as exc:
            problems.append(f"{lp.where(('parameters', name, 'default'))}: {exc}")
    if p.effective.to is not None and p.effective.to <= p.effective.from_:
        problems.append(f"{lp.where(('effective', 'to'))}: 'to' must be after 'from'")
    for i, ex in enumerate(p.examples):
        for kind in ("findings", "advisory"):
            for j, f in enumerate(getattr(ex.expect, kind) or []):
                if f.rule not in rule_ids | RESERVED_RULES:
                    problems.append(f"{lp.where(('examples', i, 'expect', kind, j, 'rule'))}: "
                                    f"unknown rule '{f.rule}'")
                if f.action not in ACTIONS:
                    problems.append(f"{lp.where(('examples', i, 'expect', kind, j, 'action'))}: "
                                    f"unknown action '{f.action}' (one of {', '.join(ACTIONS)})")
        for name in ex.params:
            if name not in declared:
                problems.append(f"{lp.where(('examples', i, 'params', name))}: unknown "
                                f"parameter '{name}'")
    return problems


def load_policy_text(text: str, file: str) -> LoadedPolicy:
    policy, marks = parse_marked(text, file, Policy)
    lp = LoadedPolicy(policy, file, marks, hashlib.sha256(text.encode()).hexdigest()[:12])
    problems = check_policy(lp)
    if problems:
        raise PolicyError(problems[0] + (f" (and {len(problems) - 1} more error(s))"
                                         if len(problems) > 1 else ""), problems)
    return lp


def load_policy_file(path: Path) -> LoadedPolicy:
    return load_policy_text(_read_text(path), str(path))


def bundled_policy_files() -> list[Path]:
    return sorted(p for p in policies_dir().glob("*.yaml") if p.name != VULNERABILITIES)


@lru_cache(maxsize=1)
def _bundled() -> tuple[LoadedPolicy, ...]:
    out = []
    for path in bundled_policy_files():
        out.append(load_policy_text(_read_text(path), f"policies/{path.name}"))
    ids = [lp.id for lp in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise PolicyError(f"bundled policies: id(s) {dupes} used by more than one file")
    return tuple(out)


def bundled_policies() -> dict[str, LoadedPolicy]:
    """The policies shipped with camsweep, by id."""
    return {lp.id: lp for lp in _bundled()}


def default_policy_ids() -> list[str]:
    """What `assess` runs when no policy is named: every bundled policy except templates."""
    return [lp.id for lp in _bundled() if lp.policy.status not in ("template", "superseded")]


def resolve_policies(refs: Sequence[str], base: Path | None = None) -> list[LoadedPolicy]:
    """Policy ids (bundled) or paths to policy files, in the order given, without repeats."""
    bundled = bundled_policies()
    out: list[LoadedPolicy] = []
    seen: set[str] = set()
    for ref in refs:
        if ref in bundled:
            lp = bundled[ref]
        else:
            path = Path(ref)
            if base is not None and not path.is_absolute():
                path = base / path
            if not path.suffix or not path.is_file():
                raise PolicyError(f"unknown policy '{ref}': not a bundled policy id "
                                  f"({', '.join(sorted(bundled))}) nor a policy file")
            lp = load_policy_file(path)
        if lp.id in seen:
            raise PolicyError(f"policy '{lp.id}' is selected twice")
        seen.add(lp.id)
        out.append(lp)
    return out


def load_programme(path: Path) -> LoadedProgramme:
    programme, marks = parse_marked(_read_text(path), str(path), Programme)
    policies = tuple(resolve_policies(programme.policies, base=path.parent))
    ids = {lp.id for lp in policies}
    for i, w in enumerate(programme.waivers):
        if w.policy is not None and w.policy not in ids:
            raise PolicyError(f"{path}:{marks.line(('waivers', i, 'policy'))}: field "
                              f"'waivers.{i}.policy': '{w.policy}' is not one of the "
                              f"programme's policies ({', '.join(sorted(ids))})")
    return LoadedProgramme(programme, str(path), marks, policies)


def merge_params(policies: Sequence[LoadedPolicy], *layers: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values, later layers winning, coerced; an undeclared name is an error."""
    declared: dict[str, Parameter] = dict(BUILTIN_PARAMS)
    for lp in policies:
        declared.update(lp.policy.parameters)
    values: dict[str, Any] = {}
    for layer in layers:
        for name, value in layer.items():
            if name not in declared:
                raise PolicyError(f"unknown parameter '{name}'; the selected policies declare: "
                                  + ", ".join(sorted(declared)))
            values[name] = coerce_param(name, declared[name], value)
    return values


def parse_param_args(items: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` strings from the command line."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise PolicyError(f"--param {item!r}: write NAME=VALUE, e.g. "
                              "programme_deadline=2027-12-31")
        out[name.strip()] = value.strip()
    return out


@lru_cache(maxsize=4)
def load_vulnerabilities(path: str | None = None) -> VulnerabilityIndex:
    """The bundled known-exploited-vulnerability list (or another file), self-tested."""
    file = Path(path) if path else policies_dir() / VULNERABILITIES
    name = str(file) if path else f"policies/{VULNERABILITIES}"
    data, marks = parse_marked(_read_text(file), name, VulnerabilityFile)
    if len(data.vulnerabilities) < data.min_count:
        raise PolicyError(f"{name}:{marks.line(('min_count',))}: field 'min_count': the list "
                          f"has {len(data.vulnerabilities)} entries, fewer than "
                          f"{data.min_count}; it shrank, check the source")
    cves = [v.cve for v in data.vulnerabilities]
    if len(set(cves)) != len(cves):
        raise PolicyError(f"{name}: a CVE is listed twice")
    index = VulnerabilityIndex(data, name)
    failures = self_test(index)
    if failures:
        raise PolicyError(failures[0], failures)
    return index

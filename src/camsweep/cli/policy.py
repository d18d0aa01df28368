"""`camsweep policy list|show|validate|test|vulns|waiver`: the policies as code."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, print_json
from camsweep.errors import PolicyError

if TYPE_CHECKING:
    from camsweep.policy import LoadedPolicy

def _today() -> date:
    from camsweep.store.bulk import utcnow

    return utcnow().date()


policy_app = typer.Typer(help="List, inspect, validate and test policies.", no_args_is_help=True)
waiver_app = typer.Typer(help="Record and list waivers that assessments apply.",
                         no_args_is_help=True)


def _load(ref: str) -> LoadedPolicy:
    from camsweep.policy import bundled_policies, load_policy_file

    bundled = bundled_policies()
    if ref in bundled:
        return bundled[ref]
    path = Path(ref)
    if not path.is_file():
        raise PolicyError(f"'{ref}' is neither a bundled policy id ({', '.join(sorted(bundled))}) "
                          "nor a policy file")
    return load_policy_file(path)


@policy_app.command("list")
def policy_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The bundled policies: id, version, status, jurisdiction, title."""
    from camsweep.policy import bundled_policies

    rows = [{"id": lp.id, "version": lp.policy.version, "status": lp.policy.status,
             "jurisdiction": lp.policy.jurisdiction, "effective": lp.policy.effective.from_,
             "rules": len(lp.policy.rules), "examples": len(lp.policy.examples),
             "title": lp.policy.title} for lp in bundled_policies().values()]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} bundled polic{'y' if len(rows) == 1 else 'ies'}")
    for col in ("id", "version", "status", "jurisdiction", "effective", "rules", "title"):
        table.add_column(col, no_wrap=col in ("id", "effective"))
    for r in rows:
        table.add_row(*(str(r[c]) for c in ("id", "version", "status", "jurisdiction",
                                            "effective", "rules", "title")))
    console.print(table)


@policy_app.command("show")
def policy_show(
    ref: str = typer.Argument(..., help="A bundled policy id or a policy file."),
    as_json: bool = typer.Option(False, "--json", help="Print the policy as JSON."),
) -> None:
    """Everything a policy says: basis and citations, scope, makers, rules, parameters."""
    from camsweep.kb import load_kb
    from camsweep.policy import load_vulnerabilities, prepare

    lp = _load(ref)
    p = lp.policy
    if as_json:
        print_json(p.model_dump(mode="json", by_alias=True))
        return
    ctx = prepare([lp], load_kb(), load_vulnerabilities(), _today())
    console.print(f"[bold]{p.id}[/] v{p.version} ({p.status}, {p.jurisdiction}): {p.title}",
                  highlight=False)
    console.print(p.summary, highlight=False)
    console.print(f"\n[bold]Legal basis[/] ({p.legal_basis.kind}): {p.legal_basis.summary}",
                  highlight=False)
    for c in p.legal_basis.citations:
        console.print(f"  [{c.id}] {c.document} ({c.date or 'undated'}) {c.url}",
                      highlight=False, soft_wrap=True)
    console.print(f"\n[bold]Effective[/] from {p.effective.from_}"
                  + (f" to {p.effective.to}" if p.effective.to else ""), highlight=False)
    scope = p.scope
    console.print("[bold]Scope[/]: sensitivity " + (", ".join(scope.sensitivity) or "any")
                  + "; organisation types " + (", ".join(scope.organisation_types) or "any")
                  + "; device types " + (", ".join(scope.device_types) or "any"),
                  highlight=False)
    console.print("[bold]Restricted makers[/]:", highlight=False)
    for line in ctx.policies[0].makers.describe():
        console.print(f"  - {line}", highlight=False, soft_wrap=True)
    table = Table(title="Rules")
    for col in ("rule", "kind", "when", "action", "deadline"):
        table.add_column(col)
    compiled = {r.id: r for r in ctx.policies[0].rules}
    for r in p.rules:
        cr = compiled[r.id]
        when = ", ".join(f"{k}={v}" for k, v in r.when.model_dump(exclude_none=True).items())
        table.add_row(r.id, "mandatory" if r.mandatory else "advisory", when or "-",
                      cr.output_action if cr.action_type != "no_new_install"
                      else f"no_new_install from {cr.install_from} -> {cr.output_action}",
                      cr.plan_for(None).note)
    console.print(table)
    if p.components:
        console.print(f"[bold]Components[/]: BOM depth {p.components.max_depth}; rules "
                      + ", ".join(r.id for r in p.components.rules), highlight=False)
    if p.parameters:
        console.print("[bold]Parameters[/]:", highlight=False)
        for name, spec in p.parameters.items():
            console.print(f"  {name} ({spec.type}, default {spec.default}): {spec.description}",
                          highlight=False)
    for ms in p.milestones:
        console.print(f"[bold]Milestone[/] {ms.by}: {ms.share_of_sites:.0%} of sites - "
                      f"{ms.description}", highlight=False)
    if p.waiver_limit:
        console.print(f"[bold]Waivers[/] may not run past {p.waiver_limit.latest_expiry}",
                      highlight=False)
    console.print(f"{len(p.examples)} example(s); run them with `camsweep policy test {ref}`",
                  highlight=False)


@policy_app.command("validate")
def policy_validate(
    files: list[Path] = typer.Argument(..., help="Policy or programme files to check."),
) -> None:
    """Check files against the schema and the knowledge base; errors give file:line:field."""
    from camsweep.kb import load_kb
    from camsweep.policy import load_policy_file, load_programme, load_vulnerabilities, prepare
    from camsweep.policy.loader import merge_params

    kb = load_kb()
    vulns = load_vulnerabilities()
    problems: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read the file ({exc.strerror})") from exc
        try:
            if text.lstrip().startswith("programme:") or "\nprogramme:" in text:
                prog = load_programme(path)
                prepare(list(prog.policies), kb, vulns, _today(),
                        merge_params(list(prog.policies), prog.programme.params))
            else:
                lp = load_policy_file(path)
                prepare([lp], kb, vulns, _today())
        except PolicyError as exc:
            problems.extend(exc.errors)
            continue
        console.print(f"[green]ok[/] {path}", highlight=False)
    if problems:
        raise PolicyError(problems[0] + (f" (and {len(problems) - 1} more error(s))"
                                         if len(problems) > 1 else ""), problems)


@policy_app.command("test")
def policy_test(
    refs: list[str] = typer.Argument(None, help="Policy ids or files (default: all bundled)."),
    verbose: bool = typer.Option(False, "--show", help="Print each example's findings."),
) -> None:
    """Run the example devices in each policy and compare with the expected findings."""
    from camsweep.kb import load_kb
    from camsweep.policy import bundled_policies, load_vulnerabilities, run_examples

    kb = load_kb()
    vulns = load_vulnerabilities()
    loaded = [_load(r) for r in refs] if refs else list(bundled_policies().values())
    failed = total = 0
    for lp in loaded:
        for res in run_examples(lp, kb, vulns):
            total += 1
            mark = "[green]pass[/]" if res.ok else "[red]FAIL[/]"
            console.print(f"{mark} {lp.id} #{res.index + 1}: {res.name}", highlight=False)
            for problem in res.problems:
                console.print(f"      {problem}", highlight=False)
            if verbose or not res.ok:
                for f in res.assessment.findings:
                    kind = "" if f.mandatory else " (advisory)"
                    console.print(f"      got {f.rule}/{f.action}{kind} deadline {f.deadline} "
                                  f"priority {f.priority}", highlight=False)
            failed += not res.ok
    console.print(f"{total - failed} passed, {failed} failed", highlight=False)
    if failed:
        raise typer.Exit(1)


@policy_app.command("vulns")
def policy_vulns(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The bundled known-exploited-vulnerability list and its firmware ranges."""
    from camsweep.policy import load_vulnerabilities

    data = load_vulnerabilities().data
    if as_json:
        print_json(data.model_dump(mode="json"))
        return
    table = Table(title=f"Known exploited vulnerabilities (CISA KEV {data.catalog_version}, "
                        f"retrieved {data.retrieved})")
    for col in ("cve", "makers", "KEV added", "due", "ranges", "name"):
        table.add_column(col, no_wrap=col in ("cve", "KEV added", "due"))
    for v in data.vulnerabilities:
        table.add_row(v.cve, ", ".join(v.makers), str(v.kev.date_added), str(v.kev.due_date),
                      str(len(v.affected)) if v.affected else "none (check)", v.name)
    console.print(table)


@waiver_app.command("add")
def waiver_add(
    reference: str = typer.Option(..., "--reference", help="The waiver's reference (unique)."),
    granted_by: str = typer.Option(..., "--granted-by", help="Who granted it."),
    reason: str = typer.Option(..., "--reason", help="Why."),
    assets: list[str] = typer.Option([], "--asset", help="An asset_id it covers (repeatable)."),
    sites: list[str] = typer.Option([], "--site", help="A site_id it covers (repeatable)."),
    departments: list[str] = typer.Option([], "--department", help="A department it covers."),
    policy: str | None = typer.Option(None, "--policy", help="Only this policy."),
    rules: list[str] = typer.Option([], "--rule", help="Only these rules (repeatable)."),
    expires: str | None = typer.Option(None, "--expires", help="Expiry date, YYYY-MM-DD."),
    granted_on: str | None = typer.Option(None, "--granted-on", help="Date granted."),
) -> None:
    """Record a waiver in the store; the next `camsweep assess` applies it."""
    from pydantic import ValidationError

    from camsweep.assess import save_waiver
    from camsweep.policy.schema import Waiver

    try:
        waiver = Waiver(reference=reference, policy=policy, rules=rules or None,
                        asset_ids=assets, site_ids=sites, departments=departments,
                        granted_by=granted_by, reason=reason,
                        expires=date.fromisoformat(expires) if expires else None,
                        granted_on=date.fromisoformat(granted_on) if granted_on else None)
    except (ValidationError, ValueError) as exc:
        raise PolicyError(f"waiver {reference}: {exc}") from exc
    with cli_store() as store:
        save_waiver(store, waiver)
    console.print(f"waiver {reference} recorded", highlight=False)


@waiver_app.command("list")
def waiver_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Waivers recorded in the store."""
    from camsweep.assess import load_waivers

    with cli_store() as store:
        waivers = load_waivers(store)
    if as_json:
        print_json([w.model_dump(mode="json") for w in waivers])
        return
    table = Table(title=f"{len(waivers)} waiver(s)")
    for col in ("reference", "policy", "covers", "granted_by", "expires", "reason"):
        table.add_column(col)
    for w in waivers:
        covers = ", ".join([*w.asset_ids, *w.site_ids, *w.departments])
        table.add_row(w.reference, w.policy or "any", covers, w.granted_by,
                      str(w.expires or "-"), w.reason)
    console.print(table)


def register(app: typer.Typer) -> None:
    policy_app.add_typer(waiver_app, name="waiver")
    app.add_typer(policy_app, name="policy")

"""`camsweep kb validate|show|build-oui`: check, explain and rebuild the knowledge base."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from camsweep.cli.common import console, err_console, print_json
from camsweep.errors import KnowledgeBaseError

kb_app = typer.Typer(help="Check, explain and rebuild the knowledge base.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(kb_app, name="kb")


@kb_app.command("validate")
def validate() -> None:
    """Load the KB (schema, references, minimum counts) and run every example in it."""
    from camsweep.kb import load_kb, validate_kb
    from camsweep.kb.endpoints import load_endpoints, validate_endpoints

    load_kb.cache_clear()
    load_endpoints.cache_clear()
    kb = load_kb()
    count, failures = validate_kb(kb)
    endpoint_count, endpoint_failures = validate_endpoints(load_endpoints())
    count += endpoint_count
    problems = [*(str(f) for f in failures), *endpoint_failures]
    for failure in problems:
        err_console.print(f"[red]FAIL[/] {failure}", highlight=False)
    if problems:
        raise KnowledgeBaseError(
            f"{len(problems)} of {count} examples failed; fix the rules or the examples above"
        )
    console.print(
        f"knowledge base {kb.version}: {len(kb.manufacturers)} companies, {len(kb.brands)} brands, "
        f"{len(kb.model_rules)} model rules, "
        f"{sum(len(v) for v in kb.fingerprints.values())} fingerprints, "
        f"{len(kb.oui)} OUI blocks, {len(load_endpoints().endpoints)} call-home endpoints; "
        f"{count} examples passed",
        highlight=False,
    )


@kb_app.command("build-oui")
def build_oui_command() -> None:
    """Rebuild generated/oui.tsv from the IEEE registry bundled with netaddr."""
    from camsweep.kb import build_oui

    path, rows = build_oui()
    console.print(f"wrote {rows} registry blocks to {path}", highlight=False)


def explain(slug: str) -> dict[str, Any]:
    """Everything the KB says about a company or brand, with sources (for `kb show`)."""
    from camsweep.kb import load_kb

    kb = load_kb()
    company = kb.manufacturers.get(slug)
    brand = kb.brands.get(slug)
    info = kb.maker(slug)
    if company is None and brand is None and info is None:
        raise KnowledgeBaseError(
            f"no company or brand '{slug}' in the KB; slugs look like hikvision, dahua, axis"
        )
    out: dict[str, Any] = {"slug": slug, "kb_version": kb.version}
    if info is not None:
        out["company"] = (
            company.model_dump(mode="json", exclude_defaults=True)
            if company
            else {
                "name": info.name,
                "jurisdiction": info.jurisdiction,
                "derived_from": "IEEE registry",
            }
        )
        out["subject_to_prc_nil"] = info.subject_to_prc_nil
        out["nil_reason"] = info.nil_reason
        out["stands_behind_brands"] = [
            {
                "brand": b.id,
                "relation": m.relation,
                "share": m.share,
                "status": m.status,
                "source": m.source,
            }
            for b in kb.brands.values()
            for m in b.makers
            if m.maker == slug
        ]
        out["model_rules"] = [r.rule.id for r in kb.model_rules if r.rule.maker == slug]
        out["fingerprints"] = [
            fp.rule.id
            for rules in kb.fingerprints.values()
            for fp in rules
            if fp.rule.maker == slug
        ]
        out["oui_blocks"] = sum(
            1
            for e in kb.oui.values()
            if e.brand and any(m.maker == slug for m in kb.brands[e.brand].makers)
        )
    if brand is not None:
        out["brand"] = brand.model_dump(mode="json", exclude_defaults=True)
    return out


@kb_app.command("show")
def show(
    slug: str = typer.Argument(
        ..., help="Company or brand slug, e.g. hikvision, lorex, ieee-sunell."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Explain a KB entry: facts, listings, brands and relations, each with its source."""
    data = explain(slug)
    if as_json:
        print_json(data)
        return
    company = data.get("company", {})
    if company:
        console.print(
            f"[bold]{company.get('name')}[/] ({slug})  jurisdiction {company.get('jurisdiction')}",
            highlight=False,
        )
        for name in company.get("legal_names", []) + company.get("native_names", []):
            console.print(f"  also: {name}", highlight=False)
        if company.get("jurisdiction_source"):
            console.print(
                f"  jurisdiction source: {company['jurisdiction_source']}", highlight=False
            )
        for ctl in company.get("controlled_by", []):
            console.print(
                f"  controlled by {ctl['entity']} ({ctl['relation']}) — {ctl['source']}",
                highlight=False,
            )
        for listing in company.get("listings", []):
            console.print(
                f"  listed: {listing['name']} since {listing['date']} — {listing['source']}",
                highlight=False,
            )
        verdict = {True: "[bold red]yes[/]", False: "[green]no[/]", None: "[yellow]undetermined[/]"}
        console.print(
            f"  subject to PRC NIL: {verdict[data['subject_to_prc_nil']]} — {data['nil_reason']}"
        )
        console.print(
            f"  OUI blocks: {data['oui_blocks']}; "
            f"model rules: {', '.join(data['model_rules']) or '-'}"
        )
    if data.get("stands_behind_brands"):
        table = Table("brand", "relation", "share", "status", "source", title="brands it makes")
        for row in data["stands_behind_brands"]:
            table.add_row(
                row["brand"], row["relation"], f"{row['share']:.2f}", row["status"], row["source"]
            )
        console.print(table)
    brand = data.get("brand")
    if brand:
        table = Table(
            "maker",
            "relation",
            "share",
            "status",
            "evidence",
            "source",
            title=f"brand {brand['name']}",
        )
        for m in brand["makers"]:
            table.add_row(
                m["maker"],
                m["relation"],
                f"{m['share']:.2f}",
                m.get("status", "confirmed"),
                m["evidence"],
                m["source"],
            )
        console.print(table)

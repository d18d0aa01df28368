"""`camsweep screen`, `camsweep case`, `camsweep exclusions`: screening suppliers and bids,
investigation cases, the exclusion register. Thin: every command calls `camsweep.screen`."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url

from camsweep.cli.common import cli_store, console, err_console, print_json, state
from camsweep.errors import InputError, ScreenError
from camsweep.store import Store, open_store


class DefaultToName(typer.core.TyperGroup):
    """`camsweep screen NAME` and `camsweep screen --jsonl IN` run the hidden `name` command;
    `bid` and `data` stay subcommands."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["name", *args]
        return super().parse_args(ctx, args)


screen_app = typer.Typer(
    cls=DefaultToName,
    help="Screen a supplier name, a JSONL batch or a bid against the restricted-entity graph.\n\n"
         "camsweep screen NAME [--country GB] [--json] | camsweep screen --jsonl IN [--out OUT]",
    no_args_is_help=True,
)
data_app = typer.Typer(help="The screening data: bundled graph and imported FtM files.",
                       no_args_is_help=True)
case_app = typer.Typer(help="Investigation cases (procurement role; --actor or CAMSWEEP_ACTOR).",
                       no_args_is_help=True)
exclusions_app = typer.Typer(help="The exclusion register (procurement role).",
                             no_args_is_help=True)


def register(app: typer.Typer) -> None:
    screen_app.add_typer(data_app, name="data")
    app.add_typer(screen_app, name="screen")
    app.add_typer(case_app, name="case")
    app.add_typer(exclusions_app, name="exclusions")


# --- helpers ----------------------------------------------------------------------------


def _store_if_present() -> Store | None:
    """The store, but never create an empty SQLite file just to screen a name."""
    url = state.settings.db
    try:
        parsed = make_url(url)
    except Exception:  # open_store reports a bad URL properly
        return open_store(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:") and not Path(db).exists():
            return None
    return open_store(url)


def _screener(depth: int | None = None, threshold: float | None = None,
              include_former: bool = True) -> Any:
    from dataclasses import replace

    from camsweep.screen import ALGORITHM, GraphPolicy
    from camsweep.screen.imports import load_screener

    algo = ALGORITHM if threshold is None else replace(ALGORITHM, threshold=threshold)
    policy = GraphPolicy(max_depth=depth if depth is not None else GraphPolicy().max_depth,
                         include_former=include_former)
    store = _store_if_present()
    try:
        return load_screener(store, algorithm=algo, policy=policy)
    finally:
        if store is not None:
            store.dispose()


def _actor(actor: str | None, role: str | None) -> Any:
    from camsweep.screen.cases import require_actor

    return require_actor(actor or os.environ.get("CAMSWEEP_ACTOR"),
                         role or os.environ.get("CAMSWEEP_ROLE"))


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ScreenError(f"{option} '{value}' is not a date (YYYY-MM-DD)") from exc


def _write_out(text: str, out: str | None) -> None:
    if out in (None, "-"):
        sys.stdout.write(text)
        return
    try:
        Path(str(out)).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from exc
    err_console.print(f"wrote {out}")


def _show_result(result: Any) -> None:
    verdict = "[bold red]MATCH[/]" if result.match else "[green]no match[/]"
    console.print(f"{verdict}  {escape(result.query)}", highlight=False)
    if result.match:
        console.print(f"entity      {result.entity} [{result.entity_id}]", markup=False,
                      highlight=False)
        console.print(f"relation    {result.relation}", markup=False, highlight=False)
        console.print(f"matched     {result.matched_name} [{result.matched_id}]",
                      markup=False, highlight=False)
    console.print(f"score       {result.score:.2f}   {result.algorithm}   data "
                  f"{result.data_version}", markup=False, highlight=False)
    for line in result.explanation:
        console.print(f"  - {line}", markup=False, highlight=False, soft_wrap=True)


# --- screen -----------------------------------------------------------------------------

ACTOR_OPT = typer.Option(None, "--actor", help="Who is acting (env CAMSWEEP_ACTOR).")
ROLE_OPT = typer.Option(None, "--role", help="Role of the actor (env CAMSWEEP_ROLE; "
                                             "default procurement).")


@screen_app.command("name", hidden=True)
def screen_name(
    name: str | None = typer.Argument(None, help="A supplier, brand or person name."),
    country: str | None = typer.Option(None, "--country", help="ISO country of the supplier."),
    kind: str | None = typer.Option(None, "--kind", help="company, brand or person."),
    ident: list[str] = typer.Option([], "--id", help="A registration number, LEI, ticker, "
                                    "ISIN ... (repeatable); in a batch: \"identifiers\": [...]."),
    jsonl: str | None = typer.Option(None, "--jsonl",
                                     help="Batch: JSONL of {id, name, country?, kind?}; "
                                          "'-' for stdin."),
    out: str | None = typer.Option(None, "--out", help="Batch output file; '-' for stdout."),
    depth: int | None = typer.Option(None, "--depth", min=0, max=10,
                                     help="Ownership steps to follow (default 4)."),
    threshold: float | None = typer.Option(None, "--threshold", min=0.0, max=1.0,
                                           help="Name score needed for a match (default 0.80)."),
    workers: int = typer.Option(min(os.cpu_count() or 1, 4), "--workers", min=1, max=32,
                                help="Processes for a batch (default: cores, at most 4)."),
    no_former: bool = typer.Option(False, "--no-former",
                                   help="Ignore ended ownership (divested units)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Screen one name, or a JSONL batch (design.md contract)."""
    if jsonl is None and not name:
        raise InputError("give a NAME to screen, or --jsonl FILE for a batch")
    if kind is not None and kind not in ("company", "brand", "person"):
        raise InputError("--kind must be company, brand or person")
    screener = _screener(depth, threshold, not no_former)
    if jsonl is not None:
        _run_batch(jsonl, out, screener, workers)
        return
    assert name is not None
    result = screener.screen(name, country=country, kind=kind, identifiers=ident)
    if as_json:
        print_json(result.as_dict())
        return
    _show_result(result)


def _run_batch(source: str, out: str | None, screener: Any, workers: int) -> None:
    from camsweep.screen.batch import run_jsonl

    with ExitStack() as stack:
        if source == "-":
            stream: Any = sys.stdin
        else:
            try:
                stream = stack.enter_context(Path(source).open(encoding="utf-8"))
            except OSError as exc:
                raise InputError(f"cannot read {source}: {exc.strerror}") from exc
        handle: Any = sys.stdout
        if out not in (None, "-"):
            try:
                handle = stack.enter_context(Path(str(out)).open("w", encoding="utf-8"))
            except OSError as exc:
                raise InputError(f"cannot write {out}: {exc.strerror}") from exc
        for line in run_jsonl(stream, screener, workers):
            handle.write(line + "\n")


@screen_app.command("bid")
def screen_bid_command(
    file: Path = typer.Argument(..., help="The bid: JSON, CSV or XLSX."),
    supplier: str | None = typer.Option(None, "--supplier", help="Supplier name (tables "
                                        "without a type column)."),
    subcontractor: list[str] = typer.Option([], "--subcontractor", help="A subcontractor "
                                            "(repeatable)."),
    country: str | None = typer.Option(None, "--country", help="Supplier's country."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    out: str | None = typer.Option(None, "--out", help="Write the JSON report to a file."),
) -> None:
    """Screen a bid: supplier and subcontractors by name, products by identification."""
    from camsweep.screen.bid import read_bid, screen_bid

    bid = read_bid(file, supplier, subcontractor, country)
    report = screen_bid(bid, _screener())
    if as_json or out:
        import json

        text = json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"
        if out:
            _write_out(text, out)
        else:
            sys.stdout.write(text)
        if out is None:
            return
    console.print(("[bold red]FLAGGED[/]  " if report.flagged else "[green]clean[/]  ")
                  + report.headline, highlight=False, soft_wrap=True)
    table = Table("role", "name", "match", "entity", "relation", "score")
    for party, r in report.parties:
        table.add_row(party.role, party.name, "yes" if r.match else "no", r.entity or "-",
                      r.relation or "-", f"{r.score:.2f}")
    if report.parties:
        console.print(table)
    makers = report.summary.get("by_maker") or []
    if makers:
        mt = Table("true maker", "product rows", "of which white-label", "units")
        for m in makers:
            mt.add_row(m["maker"], str(m["rows"]), str(m["white_label_rows"]), str(m["units"]))
        console.print(mt)


# --- screen data --------------------------------------------------------------------------


@data_app.command("import")
def data_import(
    file: Path = typer.Argument(..., help="FollowTheMoney entities, one JSON object a line."),
    replace: bool = typer.Option(False, "--replace",
                                 help="Replace the bundled data and earlier imports."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count; write nothing."),
    actor: str | None = ACTOR_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import an OpenSanctions-style FtM file (extends the bundled data, or --replace)."""
    from camsweep.screen.imports import import_entities

    with cli_store() as store:
        report = import_entities(store, file, replace=replace, dry_run=dry_run,
                                 actor=actor or os.environ.get("CAMSWEEP_ACTOR"))
    if as_json:
        print_json(report.as_dict())
        return
    console.print(report.summary(), highlight=False, soft_wrap=True)


@data_app.command("info")
def data_info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """What the screener holds: bundled version, lists, imported entities."""
    from collections import Counter

    from camsweep.screen.dataset import load_bundled

    data = load_bundled()
    screener = _screener()
    per_list = Counter(lid for e in data.entities if e.schema.name == "Sanction"
                       for lid in e.get("programId"))
    info = {
        "data_version": screener.data_version,
        "algorithm": f"{screener.algo.name}@{screener.algo.version}",
        "threshold": screener.algo.threshold,
        "parties": len(screener.graph.nodes),
        "names": len(screener.index),
        "datasets": screener.datasets,
        "bundled_lists": {lid: {"name": data.lists[lid].name, "listings": n}
                          for lid, n in sorted(per_list.items())},
        "sources": len(data.sources),
    }
    if as_json:
        print_json(info)
        return
    for key, value in info.items():
        console.print(f"{key:<14} {value}", highlight=False, soft_wrap=True)


@data_app.command("export")
def data_export(out: str | None = typer.Option(None, "--out", help="File; default stdout.")
                ) -> None:
    """Write the bundled graph as FollowTheMoney JSON lines."""
    import json

    from camsweep.screen.dataset import load_bundled

    text = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n"
                   for e in load_bundled().to_dicts())
    _write_out(text, out)


@data_app.command("reset")
def data_reset(actor: str | None = ACTOR_OPT) -> None:
    """Forget every import: screen against the bundled data alone."""
    from camsweep.screen.imports import reset_imports

    with cli_store() as store:
        n = reset_imports(store, actor or os.environ.get("CAMSWEEP_ACTOR"))
    console.print(f"removed {n} imported entities; bundled data only")


# --- cases ------------------------------------------------------------------------------


@case_app.command("open")
def case_open(
    subject: str = typer.Argument(..., help="The supplier's name."),
    country: str | None = typer.Option(None, "--country", help="Two-letter ISO country."),
    title: str | None = typer.Option(None, "--title", help="Case title."),
    no_screen: bool = typer.Option(False, "--no-screen",
                                   help="Do not screen the subject and attach the result."),
    actor: str | None = ACTOR_OPT,
    role: str | None = ROLE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON."),
) -> None:
    """Open an investigation case, from a screening of the subject."""
    from dataclasses import asdict

    from camsweep.screen.cases import open_case

    who = _actor(actor, role)
    screening = None
    if not no_screen:
        screening = _screener().screen(subject, country=country).as_dict()
    with cli_store() as store:
        case = open_case(store, who, subject, country=country, title=title, screening=screening)
    if as_json:
        print_json(asdict(case))
        return
    hit = (f"; screening: {case.relation} of {case.entity} ({case.score:.2f})"
           if case.relation else "; screening: no match" if screening else "")
    console.print(f"opened {case.ref}: {case.subject}{hit}", highlight=False)


@case_app.command("list")
def case_list(
    status: str | None = typer.Option(None, "--status", help="open, monitoring or decided."),
    actor: str | None = ACTOR_OPT,
    role: str | None = ROLE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List cases."""
    from dataclasses import asdict

    from camsweep.screen.cases import list_cases

    _actor(actor, role)
    with cli_store() as store:
        cases = list_cases(store, status)
    if as_json:
        print_json([asdict(c) for c in cases])
        return
    table = Table("case", "subject", "status", "link", "opened", "by")
    for c in cases:
        link = f"{c.relation} of {c.entity}" if c.relation else "-"
        table.add_row(c.ref, c.subject, c.status, link, c.opened_at[:10], c.opened_by)
    console.print(table)


@case_app.command("show")
def case_show(
    ref: str = typer.Argument(..., help="Case reference, e.g. CASE-000001."),
    actor: str | None = ACTOR_OPT,
    role: str | None = ROLE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a case: evidence, decisions, exclusions and its audit trail."""
    from camsweep.screen.cases import get_case

    _actor(actor, role)
    with cli_store() as store:
        detail = get_case(store, ref)
    if as_json:
        print_json(detail.as_dict())
        return
    c = detail.case
    console.print(f"{c.ref}  {c.title}  [{c.status}]", highlight=False)
    console.print(f"subject   {c.subject} ({c.subject_country or '-'})", highlight=False)
    if c.relation:
        console.print(f"link      {c.relation} of {c.entity} [{c.entity_id}] score {c.score}",
                      highlight=False)
    for e in detail.evidence:
        what = e.filename or e.description or e.kind
        console.print(f"evidence  #{e.id} {e.kind}: {what}"
                      + (f" ({e.size:,} bytes, sha256 {e.sha256[:12]}…)" if e.sha256 and e.size
                         else "") + f" by {e.added_by} {e.added_at[:16]}", highlight=False)
    for d in detail.decisions:
        console.print(f"decision  {d.decision} by {d.decided_by} on {d.decided_on}, effective "
                      f"{d.effective_from} to {d.effective_to or 'open-ended'}: {d.reasons}",
                      highlight=False, soft_wrap=True)
    for x in detail.exclusions:
        console.print(f"exclusion {x.status}: {x.effective_from} to "
                      f"{x.effective_to or 'open-ended'}", highlight=False)
    for a in detail.audit:
        console.print(f"audit     #{a['seq']} {a['at'][:19]} {a['actor']} {a['action']}",
                      highlight=False)


@case_app.command("attach")
def case_attach(
    ref: str = typer.Argument(..., help="Case reference."),
    files: list[Path] = typer.Argument(None, help="Documents (PDF, images, Office, text)."),
    screening: str | None = typer.Option(None, "--screening",
                                         help="Screen this name now and attach the result."),
    note: str | None = typer.Option(None, "--note", help="Attach a note."),
    description: str | None = typer.Option(None, "--description", help="What the evidence is."),
    evidence_dir: str | None = typer.Option(None, "--evidence-dir",
                                            help="Where documents are kept (env "
                                                 "CAMSWEEP_EVIDENCE_DIR)."),
    max_bytes: int | None = typer.Option(None, "--max-bytes", min=1,
                                         help="Largest accepted document (default 25 MiB)."),
    actor: str | None = ACTOR_OPT,
    role: str | None = ROLE_OPT,
) -> None:
    """Attach documents, a screening result or a note to a case."""
    from camsweep.screen.cases import attach_document, attach_record
    from camsweep.track.attachments import EvidenceStore

    who = _actor(actor, role)
    if not files and not screening and not note:
        raise InputError("nothing to attach: give FILES, --screening NAME or --note TEXT")
    result = _screener().screen(screening).as_dict() if screening else None
    with cli_store() as store:
        evidence = EvidenceStore.configured(evidence_dir, max_bytes)
        for path in files or []:
            row = attach_document(store, who, ref, path, evidence, description)
            console.print(f"attached #{row.id} {row.filename} ({row.media_type}, {row.size:,} "
                          f"bytes, sha256 {row.sha256})", highlight=False)
        if result is not None:
            row = attach_record(store, who, ref, "screening", result,
                                description or f"screening of {screening}")
            console.print(f"attached #{row.id} screening of {screening}: "
                          f"{'match' if result['match'] else 'no match'}", highlight=False)
        if note:
            row = attach_record(store, who, ref, "note", {"text": note}, description)
            console.print(f"attached #{row.id} note", highlight=False)


@case_app.command("decide")
def case_decide(
    ref: str = typer.Argument(..., help="Case reference."),
    decision: str = typer.Option(..., "--decision", help="exclude, do_not_exclude or monitor."),
    reason: str = typer.Option(..., "--reason", help="The reasons for the decision."),
    by: str | None = typer.Option(None, "--by", help="Deciding person (default: the actor)."),
    on: str | None = typer.Option(None, "--on", help="Decision date (default today)."),
    effective_from: str | None = typer.Option(None, "--from", help="Effective from (default: "
                                              "the decision date)."),
    effective_to: str | None = typer.Option(None, "--to", help="Effective until (exclusive; "
                                            "default open-ended)."),
    review_on: str | None = typer.Option(None, "--review-on", help="Review date (monitor)."),
    actor: str | None = ACTOR_OPT,
    role: str | None = ROLE_OPT,
) -> None:
    """Record a decision: exclude, do not exclude, or monitor."""
    from camsweep.screen.cases import decide

    who = _actor(actor, role)
    with cli_store() as store:
        row = decide(store, who, ref, decision, reason, decided_by=by,
                     decided_on=_date(on, "--on"), effective_from=_date(effective_from, "--from"),
                     effective_to=_date(effective_to, "--to"),
                     review_on=_date(review_on, "--review-on"))
    console.print(f"{ref.upper()}: {row.decision} by {row.decided_by} on {row.decided_on}, "
                  f"effective {row.effective_from} to {row.effective_to or 'open-ended'}",
                  highlight=False)


@case_app.command("export")
def case_export(
    ref: str = typer.Argument(..., help="Case reference."),
    fmt: str = typer.Option("json", "--format", help="json, csv or pdf."),
    out: str | None = typer.Option(None, "--out", help="File; default stdout."),
    actor: str | None = ACTOR_OPT,
    role: str | None = ROLE_OPT,
) -> None:
    """Export a case (JSON in full, CSV as a timeline, PDF as the case file)."""
    from camsweep.screen.cases import case_csv, case_json, get_case, record_export

    who = _actor(actor, role)
    if fmt not in ("json", "csv", "pdf"):
        raise InputError("--format must be json, csv or pdf")
    with cli_store() as store:
        detail = get_case(store, ref)
        if fmt == "pdf":
            from camsweep.report.screening import build_screening
            from camsweep.report.to_pdf import render_pdf

            pdf = render_pdf(build_screening(store, detail.case.ref))
        else:
            text = case_json(detail) if fmt == "json" else case_csv(detail)
        record_export(store, who, "case", detail.case.ref, fmt, 1)
    if fmt != "pdf":
        _write_out(text, out)
    elif out in (None, "-"):
        sys.stdout.buffer.write(pdf)
    else:
        Path(str(out)).write_bytes(pdf)
        err_console.print(f"wrote {out}")


# --- exclusions ---------------------------------------------------------------------------


@exclusions_app.command("list")
def exclusions_list(
    as_of: str | None = typer.Option(None, "--as-of", help="Register as of this date."),
    include_ended: bool = typer.Option(False, "--all", help="Include ended exclusions."),
    actor: str | None = ACTOR_OPT,
    role: str | None = ROLE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the exclusion register (active and future; --all for ended too)."""
    from dataclasses import asdict

    from camsweep.screen.cases import list_exclusions

    _actor(actor, role)
    with cli_store() as store:
        rows = list_exclusions(store, _date(as_of, "--as-of"), include_ended)
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    table = Table("case", "supplier", "country", "from", "to", "status", "decided by")
    for r in rows:
        table.add_row(r.case, r.supplier, r.supplier_country or "-", r.effective_from,
                      r.effective_to or "open-ended", r.status, r.decided_by)
    console.print(table)


@exclusions_app.command("export")
def exclusions_export(
    fmt: str = typer.Option("csv", "--format", help="csv or json."),
    out: str | None = typer.Option(None, "--out", help="File; default stdout."),
    as_of: str | None = typer.Option(None, "--as-of", help="Register as of this date."),
    include_ended: bool = typer.Option(False, "--all", help="Include ended exclusions."),
    actor: str | None = ACTOR_OPT,
    role: str | None = ROLE_OPT,
) -> None:
    """Export the exclusion register as CSV or JSON."""
    from camsweep.screen.cases import (
        exclusions_csv,
        exclusions_json,
        list_exclusions,
        record_export,
    )

    who = _actor(actor, role)
    if fmt not in ("json", "csv"):
        raise InputError("--format must be csv or json (PDF comes with the reports)")
    with cli_store() as store:
        rows = list_exclusions(store, _date(as_of, "--as-of"), include_ended)
        record_export(store, who, "exclusions", "register", fmt, len(rows))
    _write_out(exclusions_csv(rows) if fmt == "csv" else exclusions_json(rows), out)

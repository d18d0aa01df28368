"""`camsweep audit verify|show`: check the hash-chained audit log and read it."""

from __future__ import annotations

import typer

from camsweep.cli.common import cli_store, console, print_json
from camsweep.errors import CamsweepError

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


class AuditBrokenError(CamsweepError):
    """The audit chain does not verify."""

    exit_code = 3


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    head: str | None = typer.Option(None, "--head", help="A head hash recorded earlier: it must "
                                    "still be in the chain."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recompute every hash and link; exit 3 and list the problems when the chain is broken."""
    from camsweep.track.audit import head as chain_head
    from camsweep.track.audit import verify_audit

    with cli_store() as store:
        problems = verify_audit(store, head)
        last = chain_head(store)
    if as_json:
        print_json({"ok": not problems, "entries": last.seq if last else 0,
                    "head": last.hash if last else None, "problems": problems})
    else:
        for p in problems:
            console.print(f"[red]broken:[/] {p}", highlight=False)
        if not problems:
            console.print(f"audit log intact: {last.seq if last else 0} entries; head "
                          f"{last.hash if last else '-'}", highlight=False)
    if problems:
        raise AuditBrokenError(f"audit log broken: {len(problems)} problem(s)")


@audit_app.command("show")
def audit_show(
    object_type: str | None = typer.Option(None, "--type", help="Only this object type."),
    object_id: str | None = typer.Option(None, "--id", help="Only this object id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List audit entries, oldest first."""
    from camsweep.track.audit import iter_audit

    with cli_store() as store:
        entries = list(iter_audit(store, object_type, object_id))
    if as_json:
        print_json([e.__dict__ for e in entries])
        return
    for e in entries:
        console.print(f"#{e.seq} {e.at.isoformat()[:19]} {e.actor} {e.action} "
                      f"{e.object_type}:{e.object_id} {e.hash[:12]}", highlight=False)

"""`camsweep workorders generate|list|show|transition|verify|alerts|attachment`: removal
tracking from the terminal. Thin: every command calls `camsweep.track.workorders`."""

from __future__ import annotations

import mimetypes
import os
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, print_json
from camsweep.errors import InputError, TransitionError

if TYPE_CHECKING:
    from camsweep.store import Store

workorders_app = typer.Typer(
    help="Work orders: generate from the plan, record removals with evidence, verify, alerts.",
    no_args_is_help=True)

ACTOR_OPT = typer.Option(None, "--actor", help="Who is acting (env CAMSWEEP_ACTOR).")
JSON_OPT = typer.Option(False, "--json", help="Print JSON.")
SITE_OPT = typer.Option(None, "--site", help="Only this site_id (repeatable).")
DEPT_OPT = typer.Option(None, "--department", help="Only this department's sites.")


def register(app: typer.Typer) -> None:
    app.add_typer(workorders_app, name="workorders")


def _actor(actor: str | None) -> str:
    who = actor or os.environ.get("CAMSWEEP_ACTOR")
    if not who or not who.strip():
        raise TransitionError("work orders need to know who is acting: pass --actor NAME or "
                              "set CAMSWEEP_ACTOR")
    return who.strip()


def _site_pks(store: Store, sites: list[str] | None, department: str | None
              ) -> list[int] | None:
    """The scope the options ask for; None when they ask for none (everything)."""
    from sqlalchemy import select

    from camsweep.store.models import Department, Site

    if not sites and not department:
        return None
    query = select(Site.id, Site.site_id)
    if department:
        query = query.join(Department, Department.id == Site.department_id).where(
            Department.name == department)
    if sites:
        query = query.where(Site.site_id.in_(sites))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    if department and not rows:
        raise InputError(f"no sites for department '{department}'"
                         + (f" among {', '.join(sites)}" if sites else ""))
    missing = sorted(set(sites or []) - {s for _, s in rows})
    if missing:
        raise InputError(f"unknown site_id(s) {', '.join(missing)}"
                         + (f" in department '{department}'" if department else ""))
    return [pk for pk, _ in rows]


@workorders_app.command("generate")
def generate(
    plan: int | None = typer.Option(None, "--plan", help="Stored plan id (default: newest)."),
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Create or update one work order per planned device; re-running moves weeks."""
    from camsweep.track.workorders import generate_work_orders, list_work_orders

    who = _actor(actor)
    with cli_store() as store:
        changed = generate_work_orders(store, who, plan)
        _, total = list_work_orders(store, per_page=1)
    if as_json:
        print_json({"changed": changed, "work_orders": total})
    else:
        console.print(f"{changed:,} work order(s) created or changed; {total:,} in all",
                      highlight=False)


@workorders_app.command("list")
def list_(
    state: str | None = typer.Option(None, "--state", help="Only work orders in this state."),
    site: list[str] | None = SITE_OPT,
    department: str | None = DEPT_OPT,
    page: int = typer.Option(1, "--page", min=1),
    per_page: int = typer.Option(50, "--per-page", min=1, max=500),
    as_json: bool = JSON_OPT,
) -> None:
    """List work orders, soonest planned week first."""
    from camsweep.track.workorders import list_work_orders

    with cli_store() as store:
        rows, total = list_work_orders(store, site_pks=_site_pks(store, site, department),
                                       state=state, page=page, per_page=per_page)
    if as_json:
        print_json({"items": [asdict(r) for r in rows], "total": total, "page": page})
        return
    table = Table(title=f"work orders {len(rows)} of {total:,} (page {page})")
    cols = ("id", "asset_id", "site_id", "region", "device_type", "planned_week", "deadline",
            "state", "reason")
    for col in cols:
        table.add_column(col)
    for r in rows:
        d = asdict(r)
        table.add_row(*("" if d[c] is None else str(d[c]) for c in cols))
    console.print(table)


@workorders_app.command("show")
def show(wo_id: int = typer.Argument(..., help="Work order id."), as_json: bool = JSON_OPT
         ) -> None:
    """One work order: device, planned week, state, every event with its evidence."""
    from camsweep.track.workorders import get_work_order

    with cli_store() as store:
        detail = get_work_order(store, wo_id)
    if detail is None:
        raise TransitionError(f"no work order {wo_id} ('camsweep workorders list' shows them)")
    if as_json:
        print_json(asdict(detail))
        return
    console.print(
        f"work order {detail.id}: {detail.asset_id or '(unregistered)'} at "
        f"{detail.site_id or '-'} ({detail.region or '-'}), {detail.device_type or 'device'} "
        f"{detail.brand or ''} {detail.model or ''} ip {detail.ip or '-'}\n"
        f"state {detail.state}; week of {detail.planned_week or '-'}; deadline "
        f"{detail.deadline or '-'}" + (f"; {detail.reason}" if detail.reason else "")
        + f"\nnext: {', '.join(detail.next_states) or '-'}", highlight=False)
    table = Table(title="events")
    for col in ("at", "actor", "change", "note", "evidence"):
        table.add_column(col)
    for e in detail.events:
        evidence = [f"{e.attachment_name} ({e.attachment_type}, {e.attachment_size:,} bytes, "
                    f"sha256 {e.attachment_sha256})" if e.attachment_sha256 else "",
                    f"{e.disposal_method}" if e.disposal_method else "",
                    f"certificate {e.certificate_ref}" if e.certificate_ref else "",
                    str((e.details or {}).get("verification") or "")]
        table.add_row(e.at.isoformat(sep=" ", timespec="minutes"), e.actor,
                      f"{e.from_state or '-'} -> {e.to_state}" if e.kind != "replanned"
                      else "re-planned", e.note or "", "; ".join(x for x in evidence if x))
    console.print(table)


@workorders_app.command("transition")
def transition_cmd(
    wo_id: int = typer.Argument(..., help="Work order id."),
    state: str = typer.Argument(..., help="The state to move it to."),
    note: str | None = typer.Option(None, "--note", help="What happened, or why."),
    attach: Path | None = typer.Option(
        None, "--attach", help="Evidence: a photo (JPEG, PNG, WebP, HEIC) or a PDF.",
        exists=True, dir_okay=False),
    certificate: str | None = typer.Option(
        None, "--certificate", help="Disposal: the wipe or destruction certificate reference."),
    method: str | None = typer.Option(
        None, "--method", help="Disposal: wiped, destroyed, recycled or returned."),
    at: datetime | None = typer.Option(
        None, "--at", help="When it happened (UTC unless an offset is given; default now).",
        formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]),
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Move a work order; refused with the reason when the lifecycle or evidence says no."""
    from camsweep.track.attachments import Attachment, EvidenceStore
    from camsweep.track.workorders import transition

    who = _actor(actor)
    files = EvidenceStore.configured()
    attachment = None
    if attach is not None:
        size = attach.stat().st_size
        if size > files.max_bytes:  # refuse before reading a huge file into memory
            raise TransitionError(f"{attach}: {size:,} bytes is over the {files.max_bytes:,}"
                                  "-byte limit for evidence (CAMSWEEP_EVIDENCE_MAX_BYTES)")
        attachment = Attachment(attach.name, mimetypes.guess_type(attach.name)[0] or "",
                                attach.read_bytes())
    with cli_store() as store:
        view = transition(store, who, wo_id, state, note=note, attachment=attachment,
                          certificate_ref=certificate, disposal_method=method, at=at,
                          evidence=files)
    if as_json:
        print_json(asdict(view))
    else:
        console.print(f"work order {view.id} ({view.asset_id or 'unregistered'}) is now "
                      f"'{view.state}'", highlight=False)


@workorders_app.command("verify")
def verify_cmd(
    actor: str | None = ACTOR_OPT,
    site: list[str] | None = SITE_OPT,
    department: str | None = DEPT_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Verify every disposed work order that a later scan shows gone."""
    from camsweep.track.workorders import verify_work_orders

    who = _actor(actor)
    with cli_store() as store:
        results = verify_work_orders(store, who, site_pks=_site_pks(store, site, department))
    if as_json:
        print_json([{"id": i, "verified": ok, "reason": why} for i, ok, why in results])
        return
    for wo_id, ok, why in results:
        mark = "[green]verified[/]" if ok else "[yellow]not yet[/]"
        console.print(f"work order {wo_id}: {mark}: {why}", highlight=False)
    done = sum(1 for _, ok, _ in results if ok)
    console.print(f"{done} of {len(results)} disposed work order(s) verified", highlight=False)


@workorders_app.command("alerts")
def alerts_cmd(
    as_of: datetime | None = typer.Option(None, "--as-of", formats=["%Y-%m-%d"],
                                          help="The day to judge (default today, UTC)."),
    site: list[str] | None = SITE_OPT,
    department: str | None = DEPT_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Work slipping past its planned week or deadline; removed devices seen again."""
    from camsweep.track.alerts import alerts

    day: date = as_of.date() if as_of else datetime.now(UTC).date()
    with cli_store() as store:
        found = alerts(store, day, site_pks=_site_pks(store, site, department))
    if as_json:
        print_json([asdict(a) for a in found])
        return
    for a in found:
        colour = {"seen_again": "red", "past_deadline": "red"}.get(a.kind, "yellow")
        console.print(f"[{colour}]{a.kind}[/] since {a.since}: {a.message}", highlight=False)
    console.print(f"{len(found)} alert(s) on {day}", highlight=False)


@workorders_app.command("attachment")
def attachment_cmd(
    sha256: str = typer.Argument(..., help="The attachment's sha256 (see 'show')."),
    out: Path = typer.Option(..., "--out", help="Write the file here."),
) -> None:
    """Copy an attachment out of the evidence folder, checked against its hash."""
    from camsweep.track.workorders import read_attachment

    with cli_store() as store:
        media_type, data = read_attachment(store, sha256)
    out.write_bytes(data)
    console.print(f"{out}: {media_type}, {len(data):,} bytes", highlight=False)

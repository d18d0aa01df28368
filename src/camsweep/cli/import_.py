"""`camsweep import sites|assets FILE`: registers into the store, all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

import typer
from rich.table import Table

from camsweep.cli.common import (
    cli_store,
    console,
    err_console,
    print_errors,
    print_json,
    progress,
)
from camsweep.errors import InputError, RowError
from camsweep.inventory.importer import ImportResult, import_file, iter_errors_csv
from camsweep.inventory.mapping import parse_overrides

import_app = typer.Typer(help="Import registers, site lists and network data.",
                         no_args_is_help=True)


def _write_errors(errors: list[RowError], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(iter_errors_csv(errors))


def _show(result: ImportResult) -> None:
    if result.dry_run:
        table = Table(title=f"Column mapping for {result.path}")
        table.add_column("column in file")
        table.add_column("field")
        for header, fld in result.mapping:
            table.add_row(header or "(blank)", fld)
        console.print(table)
    if result.errors:
        err_console.print(f"[bold red]{len(result.errors)} error(s)[/] in {result.path}:")
        print_errors(result.errors)
        return
    verb = "would import" if result.dry_run else "imported"
    console.print(
        f"{verb} {result.rows} {result.kind} rows from {result.path}: "
        f"{result.created} new, {result.updated} updated ({result.changes} field changes), "
        f"{result.unchanged} unchanged"
        + (f", {result.blank_rows} blank rows skipped" if result.blank_rows else "")
        + f" in {result.seconds:.1f}s"
    )


def _run(kind: Literal["sites", "assets"], file: Path, mapping: list[str], sheet: str | None,
         dry_run: bool, errors_out: Path | None, as_json: bool) -> None:
    overrides = parse_overrides(mapping, kind)
    with cli_store() as store, progress() as bar:
        task = bar.add_task(f"importing {kind}", total=None)

        def tick(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{step} {kind}", completed=done, total=total or None)

        try:
            result = import_file(store, file, kind, overrides=overrides, sheet=sheet,
                                 dry_run=dry_run, progress=tick)
        except InputError as exc:
            if errors_out and exc.errors:
                _write_errors(exc.errors, errors_out)
                err_console.print(f"all {len(exc.errors)} errors written to {errors_out}")
            raise
    if errors_out and result.errors:
        _write_errors(result.errors, errors_out)
    if as_json:
        print_json(result.as_dict())
    else:
        _show(result)
    if result.errors:
        raise typer.Exit(2)


MapOpt = typer.Option([], "--map", help="Map a column to a field: 'COLUMN=FIELD' (repeatable).")
SheetOpt = typer.Option(None, "--sheet", help="XLSX sheet name (default: the first sheet).")
DryOpt = typer.Option(False, "--dry-run", help="Show the mapping and the errors; write nothing.")
ErrOpt = typer.Option(None, "--errors-out", help="Write every error to this CSV file.")
JsonOpt = typer.Option(False, "--json", help="Print the result as JSON.")
FileArg = typer.Argument(..., help="CSV (UTF-8, UTF-8 BOM or cp1252; , or ;) or XLSX file.")


@import_app.command("sites")
def import_sites(file: Path = FileArg, map_: list[str] = MapOpt, sheet: str | None = SheetOpt,
                 dry_run: bool = DryOpt, errors_out: Path | None = ErrOpt,
                 as_json: bool = JsonOpt) -> None:
    """Import a site list: site_id, name, department, region, sensitivity, postcode."""
    _run("sites", file, map_, sheet, dry_run, errors_out, as_json)


@import_app.command("assets")
def import_assets(file: Path = FileArg, map_: list[str] = MapOpt, sheet: str | None = SheetOpt,
                  dry_run: bool = DryOpt, errors_out: Path | None = ErrOpt,
                  as_json: bool = JsonOpt) -> None:
    """Import an asset register: asset_id, site_id, device_type, brand, model, serial, mac, ip,
    firmware, install_date."""
    _run("assets", file, map_, sheet, dry_run, errors_out, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")

"""`camsweep identify`: one device from the command line, a JSONL batch, or a whole register."""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, err_console, print_json, progress
from camsweep.domain import Evidence, Verdict
from camsweep.errors import InputError

# Register headers people use for the evidence columns the bulk path reads.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "brand": ("brand", "make", "vendor", "brand name"),
    "model": ("model", "model number", "model no", "model_no", "model_number", "part number"),
    "mac": ("mac", "mac address", "mac_address", "macaddress"),
    "firmware": ("firmware", "firmware version", "firmware_version", "fw"),
    "text": ("text", "description", "notes", "comments", "asset description"),
}


def register(app: typer.Typer) -> None:
    app.command("identify")(identify_command)


def identify_command(
    query: str | None = typer.Argument(
        None, help='Free text as in a register, e.g. "Lorex LNB8005".'
    ),
    brand: str | None = typer.Option(None, "--brand", help="Brand as recorded."),
    model: str | None = typer.Option(None, "--model", help="Model as recorded."),
    mac: str | None = typer.Option(None, "--mac", help="MAC address (any notation)."),
    firmware: str | None = typer.Option(None, "--firmware", help="Firmware version string."),
    ports: list[int] = typer.Option([], "--port", help="An open TCP port (repeatable)."),
    jsonl: str | None = typer.Option(
        None, "--jsonl", help="Batch: JSONL file of {id, evidence}; '-' for stdin."
    ),
    csv: Path | None = typer.Option(
        None, "--csv", help="Bulk: a CSV or Parquet register (brand/model/mac/... columns)."
    ),
    out: str | None = typer.Option(
        None, "--out", help="Output file (.jsonl; .csv or .parquet with --csv); '-' for stdout."
    ),
    all_: bool = typer.Option(
        False, "--all", help="Re-identify every device in the store and record the verdicts."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
    engine: str = typer.Option(
        "local", "--engine", help="local: this process; dask: partitions on a Dask cluster "
        "(--scheduler, else a LocalCluster of one worker process per core)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler ADDRESS (implies --engine dask)."
    ),
    tls_dir: Path | None = typer.Option(
        None, "--tls-dir", envvar="CAMSWEEP_TLS_DIR",
        help="Certificates from `camsweep agent certs` (ca.pem, client.pem, client-key.pem).",
    ),
    parquet_out: Path | None = typer.Option(
        None, "--parquet-out", help="With --csv: write a partitioned Parquet data set to DIR."
    ),
) -> None:
    """Name the true maker of a device and say whether it is subject to the PRC NIL."""
    from camsweep.kb import load_kb

    if sum(bool(x) for x in (jsonl, csv, all_)) > 1:
        raise InputError("use one of --jsonl, --csv or --all")
    if engine not in ("local", "dask"):
        raise InputError(f"--engine must be local or dask, not {engine!r}")
    distributed = engine == "dask" or scheduler is not None
    if (distributed and not (jsonl or csv)) or (parquet_out and (not csv or out)):
        raise InputError("--engine dask and --scheduler work with --jsonl or --csv; "
                         "--parquet-out with --csv and instead of --out")
    if all_:
        _run_store(load_kb(), as_json)
        return
    if csv and distributed:
        _run_register_dask(csv, out, parquet_out, scheduler, tls_dir)
        return
    if csv:
        _run_register(csv, out, parquet_out)
        return
    kb = load_kb()
    if jsonl and distributed:
        from camsweep.scale.commands import jsonl_file

        jsonl_file(jsonl, out, kb, scheduler=scheduler, tls_dir=tls_dir)
        return
    if jsonl:
        _run_jsonl(jsonl, out, kb)
        return
    evidence = Evidence(
        text=query, brand=brand, model=model, mac=mac, firmware=firmware, open_ports=ports
    )
    if evidence == Evidence():
        raise InputError(
            "nothing to identify: give free text, --brand/--model/--mac, --jsonl or --csv"
        )
    from camsweep.identify import identify
    from camsweep.identify.batch import verdict_record

    verdict = identify(evidence, kb)
    if as_json:
        print_json(verdict_record(None, verdict) | {"id": None})
        return
    _show(verdict)


def _run_store(kb: Any, as_json: bool) -> None:
    from camsweep.store.identification import identify_store

    with cli_store() as store, progress() as bar:
        task = bar.add_task("identifying devices", total=None)
        run = identify_store(store, kb, progress=lambda d, t: bar.update(
            task, completed=d, total=t))
    if as_json:
        print_json({"devices": run.devices, "kb_version": run.kb_version,
                    "restricted": run.restricted, "undetermined": run.abstained,
                    "by_maker": dict(run.by_maker.most_common()),
                    "white_label": [dict(zip(("asset_id", "label", "maker", "why"), w,
                                             strict=True)) for w in run.white_label]})
        return
    show_identify_run(run)


def show_identify_run(run: Any, limit: int = 10) -> None:
    """Counts by true maker and the white-label finds (also used by the demo)."""
    table = Table(title=f"{run.devices} devices by true maker (KB {run.kb_version})")
    table.add_column("true maker")
    table.add_column("devices", justify="right")
    for maker, n in run.by_maker.most_common():
        table.add_row(maker, str(n))
    console.print(table)
    console.print(f"restricted (subject to the PRC NIL): {run.restricted}; undetermined: "
                  f"{run.abstained}; with conflicting evidence: {run.conflicts}")
    if run.white_label:
        wl = Table(title=f"White-label finds ({len(run.white_label)}; first {limit})")
        for col in ("asset_id", "label as recorded", "true maker", "why"):
            wl.add_column(col)
        for asset, label, maker, why in run.white_label[:limit]:
            wl.add_row(asset, label, maker, why if len(why) <= 90 else why[:87] + "...")
        console.print(wl)


def _show(verdict: Verdict) -> None:
    restricted = {True: "[bold red]yes[/]", False: "[green]no[/]", None: "[yellow]undetermined[/]"}
    maker = verdict.manufacturer or "[yellow]not determined[/]"
    console.print(f"maker       {maker} ({verdict.manufacturer_id or '-'})")
    for label, value in (
        ("brand", verdict.brand),
        ("oem of", verdict.oem_of),
        ("device", verdict.device_type),
        ("model", verdict.model),
        ("firmware", verdict.firmware),
    ):
        if value:
            console.print(f"{label:<11} {value}", highlight=False)
    console.print(f"restricted  {restricted[verdict.restricted]} (PRC National Intelligence Law)")
    console.print(f"confidence  {verdict.confidence:.2f}   kb {verdict.kb_version}")
    if verdict.evidence:
        table = Table("signal", "value", "points to", "weight", "source", show_lines=False)
        for claim in verdict.evidence:
            table.add_row(
                claim.signal,
                claim.value,
                claim.points_to or "-",
                f"{claim.weight:.2f}",
                claim.source,
            )
        console.print(table)
    for conflict in verdict.conflicts:
        console.print(f"[yellow]note:[/] {conflict}", highlight=False)


def _open_lines(path: str) -> Any:
    if path == "-":
        return sys.stdin
    try:
        return Path(path).open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def _run_jsonl(source: str, out: str | None, kb: Any) -> None:
    from camsweep.identify.batch import run_jsonl

    with ExitStack() as stack:
        stream = _open_lines(source)
        if stream is not sys.stdin:
            stack.enter_context(stream)
        handle: Any = sys.stdout
        if out not in (None, "-"):
            try:
                handle = stack.enter_context(Path(str(out)).open("w", encoding="utf-8"))
            except OSError as exc:
                raise InputError(f"cannot write {out}: {exc.strerror}") from exc
        for line in run_jsonl(stream, kb):
            handle.write(line + "\n")


def canonical_columns(columns: list[str]) -> dict[str, str]:
    """Renames that give the register the evidence column names the bulk path reads."""
    lowered = {c.strip().lower(): c for c in columns}
    renames: dict[str, str] = {}
    for canonical, synonyms in SYNONYMS.items():
        if canonical in columns:
            continue
        for name in synonyms:
            original = lowered.get(name)
            if original is not None and original not in renames:
                renames[original] = canonical
                break
    return renames


def _run_register_dask(path: Path, out: str | None, parquet_out: Path | None,
                       scheduler: str | None, tls_dir: Path | None) -> None:
    from camsweep.kb import load_kb
    from camsweep.scale.commands import register_file

    if (not out or out == "-") and parquet_out is None:
        raise InputError("--csv needs --out FILE.csv or FILE.parquet, or --parquet-out DIR")
    started = time.perf_counter()
    run = register_file(path, out, parquet_out, load_kb(), canonical_columns,
                        scheduler=scheduler, tls_dir=tls_dir)
    seconds = time.perf_counter() - started  # with the cluster's start, as a user waits
    err_console.print(
        f"{run.rows} rows identified in {seconds:.1f}s ({run.rows / max(seconds, 1e-9):,.0f} "
        f"rows/s) on {run.workers} Dask worker(s), {run.partitions} partition(s); "
        f"{run.restricted} restricted; wrote {parquet_out or out}", highlight=False)


def _run_register(path: Path, out: str | None, parquet_out: Path | None = None) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import polars as pl

    from camsweep.identify.bulk import identify_frame
    from camsweep.kb import load_kb

    if (not out or out == "-") and parquet_out is None:
        raise InputError("--csv needs --out FILE.csv or FILE.parquet, or --parquet-out DIR")
    if not path.is_file():
        raise InputError(f"register not found: {path}")
    started = time.perf_counter()
    # The KB loads in a thread while Polars (which releases the GIL) reads the register.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(load_kb)
        try:
            frame = (
                pl.read_parquet(path)
                if path.suffix == ".parquet"
                else pl.read_csv(path, infer_schema=False)
            )
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InputError(f"cannot read register {path}: {exc}") from exc
        kb = pending.result()
    renames = canonical_columns(frame.columns)
    result = identify_frame(frame.rename(renames), kb).rename({v: k for k, v in renames.items()})
    try:
        if parquet_out is not None:
            from camsweep.scale.sinks import write_parquet_parts

            write_parquet_parts(result, parquet_out)
        elif out and out.endswith(".parquet"):
            result.write_parquet(out)
        elif out:
            result.write_csv(out)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"cannot write {parquet_out or out}: {exc}") from exc
    seconds = time.perf_counter() - started
    restricted = result.get_column("restricted").sum()
    err_console.print(
        f"{result.height} rows identified in {seconds:.1f}s "
        f"({result.height / max(seconds, 1e-9):,.0f} rows/s); {restricted} restricted; "
        f"wrote {parquet_out or out}",
        highlight=False,
    )

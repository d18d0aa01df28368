"""`camsweep sample`: write a synthetic estate for demos, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from camsweep.cli.common import console, print_json, progress
from camsweep.sample import MAX_DEVICES, MAX_SITES, SampleFiles, write_sample


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)


def sample(
    sites: int = typer.Option(50, "--sites", min=1, max=MAX_SITES, help="Number of sites."),
    devices: int = typer.Option(
        3000, "--devices", min=0, max=MAX_DEVICES, help="Number of devices across all sites."
    ),
    seed: int = typer.Option(1, "--seed", help="Same seed, same files, byte for byte."),
    out: Path = typer.Option(
        Path("sample"), "--out", file_okay=False, help="Directory to write the files into."
    ),
    truth: bool = typer.Option(
        False, "--truth", help="Also write truth.csv: each device's real maker, for scoring."
    ),
    dns: bool = typer.Option(
        False, "--dns", help="Also write dns.log: a day of Zeek DNS logs for the estate."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write sites.csv, assets.csv and resources.yaml: a messy, realistic, synthetic estate."""
    with progress() as bar:
        task = bar.add_task("sample", total=None)

        def step(done: int, total: int, label: str) -> None:
            bar.update(task, description=f"writing {label}", completed=done, total=total)

        files = write_sample(out, sites, devices, seed, truth=truth, dns=dns, on_step=step)
    if as_json:
        print_json(files.summary())
    else:
        _show(files)


def _show(files: SampleFiles) -> None:
    table = Table(title=f"Sample estate in {files.out_dir}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("sites", files.sites),
        ("sensitive sites", files.sensitive_sites),
        ("departments", files.departments),
        ("regions", files.regions),
        ("devices", files.devices),
        ("restricted devices (truth)", files.restricted_devices),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    for path in files.files:
        console.print(f"wrote {path}")

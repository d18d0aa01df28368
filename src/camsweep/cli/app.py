"""Root of the `camsweep` command: global options and the one place errors are mapped."""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from camsweep import __version__
from camsweep.cli.common import err_console, print_errors, state
from camsweep.errors import CamsweepError, InputError

# Each module defines `register(app)`; add a command group by adding its module here.
COMMAND_MODULES: tuple[str, ...] = (
    "camsweep.cli.import_",
    "camsweep.cli.devices",
    "camsweep.cli.sample",
    "camsweep.cli.demo",
    "camsweep.cli.db",
    "camsweep.cli.identify",
    "camsweep.cli.kb",
    "camsweep.cli.scan",
    "camsweep.cli.agent",
    "camsweep.cli.import_network",
    "camsweep.cli.import_logs",
    "camsweep.cli.testbed",
    "camsweep.cli.policy",
    "camsweep.cli.assess",
    "camsweep.cli.screen",
    "camsweep.cli.audit",
    "camsweep.cli.plan",
    "camsweep.cli.report",
    "camsweep.cli.workorders",
    "camsweep.cli.user",
    "camsweep.cli.serve",
)

app = typer.Typer(
    name="camsweep",
    help="Find, identify and remove restricted surveillance equipment; screen its suppliers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"camsweep {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db: str | None = typer.Option(
        None, "--db",
        help="SQLAlchemy URL of the store (env CAMSWEEP_DB; default sqlite:///./camsweep.db).",
    ),
    verbose: bool = typer.Option(False, "-v", "--verbose",
                                 help="Log what happens; tracebacks on error."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """camsweep: inventory, discover, identify, assess, plan, track, screen, report."""
    state.configure(db=db, verbose=verbose)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Console entry point: CamsweepError becomes a message and an exit code, never a traceback."""
    try:
        app()
    except CamsweepError as exc:
        if state.verbose:
            err_console.print_exception()
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        if isinstance(exc, InputError) and len(exc.errors) > 1:
            print_errors(exc.errors)
        sys.exit(exc.exit_code)

"""What every command shares: settings, consoles, JSON output, progress, error mapping."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from camsweep.config import Settings, load_settings

if TYPE_CHECKING:
    from camsweep.store import Store

console = Console(soft_wrap=True)  # paths and ids must not be folded in pipes
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class State:
    """Global options, filled by the root callback."""

    db: str | None = None
    verbose: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def configure(self, *, db: str | None, verbose: bool) -> None:
        """Called once per invocation (also per CliRunner call in tests): nothing carries over."""
        self.db, self.verbose, self._settings = db, verbose, None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings({"db": self.db, "verbose": self.verbose or None})
        return self._settings


state = State()


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def progress_enabled() -> bool:
    """Bars only for a person at a terminal: quiet in pipes and CI."""
    import os

    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress() -> Iterator[Progress]:
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not progress_enabled(),
        transient=True,
    )
    with bar:
        yield bar


@contextmanager
def cli_store() -> Iterator[Store]:
    """The store named by --db / CAMSWEEP_DB / camsweep.toml, closed when the command ends."""
    from camsweep.store import open_store

    store = open_store(state.settings.db)
    try:
        yield store
    finally:
        store.dispose()


MAX_ERRORS_SHOWN = 50


def print_errors(errors: Sequence[object]) -> None:
    """Row errors, capped: a register with 100,000 bad rows must not flood the terminal."""
    for line in errors[:MAX_ERRORS_SHOWN]:
        err_console.print(f"  {line}", highlight=False, soft_wrap=True)
    if len(errors) > MAX_ERRORS_SHOWN:
        err_console.print(f"  ... and {len(errors) - MAX_ERRORS_SHOWN} more "
                          "(use --errors-out FILE for the full list)")


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)

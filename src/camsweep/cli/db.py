"""`camsweep db upgrade|current`: the store's schema, by migration only."""

from __future__ import annotations

import typer

from camsweep.cli.common import console, state
from camsweep.store import open_store

db_app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the store or migrate it to the newest schema."""
    store = open_store(state.settings.db)
    store.dispose()
    console.print(f"store {state.settings.db} is at the newest schema")


@db_app.command("current")
def db_current() -> None:
    """Print the store's schema revision."""
    from alembic.runtime.migration import MigrationContext

    store = open_store(state.settings.db, migrate=False)
    try:
        with store.engine.connect() as conn:
            rev = MigrationContext.configure(conn).get_current_revision()
    finally:
        store.dispose()
    console.print(rev or "(empty store: run 'camsweep db upgrade')")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")

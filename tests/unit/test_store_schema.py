"""The schema only changes by migration: the ORM models and the migrations must agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from camsweep.store import Store
from camsweep.store.models import Base


def test_migrations_match_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_open_is_idempotent_and_at_head(store: Store) -> None:
    from camsweep.store import open_store

    again = open_store(store.url)  # second open: nothing to migrate, nothing breaks
    try:
        tables = set(inspect(again.engine).get_table_names())
    finally:
        again.dispose()
    assert {"sites", "devices", "observations", "verdicts", "field_history", "sources",
            "departments", "alembic_version"} <= tables

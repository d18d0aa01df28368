"""Bulk writes: rows and failures pass through the prefetching thread intact."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

from camsweep.store import Store, bulk


def _rows(n: int, fail_at: int | None = None) -> Iterator[tuple[str]]:
    for i in range(n):
        if i == fail_at:
            raise ValueError("bad row source")
        yield (f"Dept {i}",)


def test_insert_many_writes_every_row_in_order(store: Store,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "BATCH", 7)  # many small batches through the thread
    with store.engine.begin() as conn:
        assert bulk.insert_many(conn, "departments", ["name"], _rows(100)) == 100
        names = [r[0] for r in conn.execute(text("SELECT name FROM departments ORDER BY id"))]
    assert names == [f"Dept {i}" for i in range(100)]


def test_producer_error_reaches_the_caller(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "BATCH", 5)
    with pytest.raises(ValueError, match="bad row source"), store.engine.begin() as conn:
        bulk.insert_many(conn, "departments", ["name"], _rows(100, fail_at=42))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM departments")).scalar() == 0
    assert not [t for t in threading.enumerate() if t.name == "camsweep-bulk-rows"]


def test_write_error_does_not_strand_the_producer(store: Store,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "BATCH", 3)
    dupes = [("Same",)] * 50  # the unique name index refuses the second row
    # The DBAPI's own error surfaces: these writes bypass SQLAlchemy's wrapping.
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)), \
            store.engine.begin() as conn:
        bulk.insert_many(conn, "departments", ["name"], iter(dupes))
    assert not [t for t in threading.enumerate() if t.name == "camsweep-bulk-rows"]

"""Fast bulk writes inside an open SQLAlchemy transaction.

The ORM is too slow for a million register rows; these go straight to the DBAPI cursor of
the same connection (so they join the caller's transaction): executemany on SQLite, COPY on
PostgreSQL. Values arrive already as DB-ready scalars (ISO strings for dates).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine

BATCH = 50_000


def utcnow() -> datetime:
    """Naive UTC, as stored (design.md: times are UTC in storage)."""
    return datetime.now(UTC).replace(tzinfo=None)


def frame_rows(frame: pl.DataFrame) -> Iterator[tuple[Any, ...]]:
    """Row tuples built column-wise in C: several times faster than `DataFrame.iter_rows`."""
    for chunk in frame.iter_slices(BATCH):
        yield from zip(*(col.to_list() for col in chunk.iter_columns()), strict=True)


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.name == "sqlite" else "%s"


def _batches(rows: Iterable[Sequence[Any]]) -> Iterable[list[Sequence[Any]]]:
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _literal(value: Any) -> str:
    """SQL text for a constant the caller made (ids, timestamps), never for user data."""
    if value is None:
        return "NULL"
    if isinstance(value, bool | int | float):
        return str(int(value)) if isinstance(value, bool) else repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert_many(conn: Connection, table: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]], constants: Mapping[str, Any] | None = None) -> int:
    """Insert rows; `constants` are columns with one value for every row (a source id, a
    timestamp): on SQLite they go into the statement once instead of being bound per row."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    consts = dict(constants or {})
    names = [*columns, *consts]
    cols = ", ".join(names)
    count = 0
    if conn.dialect.name == "postgresql":
        tail = tuple(consts.values())
        cur = raw.cursor()
        try:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *tail) if tail else row)
                    count += 1
        finally:
            cur.close()
        return count
    values = [_placeholder(conn)] * len(columns) + [_literal(v) for v in consts.values()]
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(values)})"
    cur = raw.cursor()
    try:
        for batch in _prefetched(_batches(rows)):
            cur.executemany(sql, batch)
            count += len(batch)
    finally:
        cur.close()
    return count


def _prefetched(batches: Iterable[list[Sequence[Any]]]) -> Iterator[list[Sequence[Any]]]:
    """Build the next batch on a second thread while SQLite writes this one.

    sqlite3 releases the GIL inside each step, so making row tuples (Polars to Python)
    overlaps with the B-tree work instead of alternating with it.
    """
    import queue
    import threading

    done = object()
    stop = threading.Event()
    box: queue.Queue[Any] = queue.Queue(maxsize=2)

    def hand_over(item: Any) -> None:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for batch in batches:
                hand_over(batch)
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer, re-raised there
            hand_over(exc)
            return
        hand_over(done)

    worker = threading.Thread(target=produce, name="camsweep-bulk-rows", daemon=True)
    worker.start()
    try:
        while (item := box.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # a failed write must not leave the producer blocked
        worker.join()


def update_many(conn: Connection, table: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]], key: str = "id") -> int:
    """Each row is (*values for `columns`, key value)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    ph = _placeholder(conn)
    sets = ", ".join(f"{c} = {ph}" for c in columns)
    sql = f"UPDATE {table} SET {sets} WHERE {key} = {ph}"
    count = 0
    cur = raw.cursor()
    try:
        for batch in _batches(rows):
            cur.executemany(sql, batch)
            count += len(batch)
    finally:
        cur.close()
    return count


BIG_LOAD = 100_000
_CACHE_KIB = 256 * 1024


@contextmanager
def bulk_load(conn: Connection, table: str, new_rows: int, existing_rows: int) -> Iterator[None]:
    """Make a large SQLite load fast without changing what is stored.

    A bigger page cache, and for loads that dwarf the table, secondary indexes dropped and
    rebuilt afterwards (a sorted build beats a million random B-tree inserts). SQLite DDL is
    transactional, so a failure or a kill still rolls all of it back.
    """
    if conn.dialect.name != "sqlite" or new_rows < BIG_LOAD:
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size=-{_CACHE_KIB}")
    indexes: list[tuple[str, str]] = []
    if new_rows > existing_rows:
        indexes = [(n, sql) for n, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL", (table,)).all()]
        for name, _sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)
    finally:
        conn.exec_driver_sql("PRAGMA cache_size=-2000")


@contextmanager
def bulk_transaction(engine: Engine, expected_rows: int) -> Iterator[Connection]:
    """One transaction for a load; on SQLite, foreign keys are not re-checked row by row.

    Callers validate every reference before writing (imports resolve site ids inside this
    transaction), so the per-row parent lookups SQLite would do are pure cost. The pragma only
    takes effect outside a transaction, hence set before BEGIN and restored after.
    """
    relax = engine.dialect.name == "sqlite" and expected_rows >= BIG_LOAD
    with engine.connect() as conn:
        if relax:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()  # ends SQLAlchemy's autobegun transaction; SQLite never began one
        try:
            with conn.begin():
                yield conn
        finally:
            if relax:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()

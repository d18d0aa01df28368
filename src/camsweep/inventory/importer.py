"""Import a sites list or an asset register: read -> map -> validate -> diff -> write once.

Nothing is written unless every row is valid. The write is a single transaction, so an import
that fails, or is killed half-way, leaves the store exactly as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection, Select, insert, select, update

from camsweep.errors import InputError, RowError
from camsweep.files import sha256_file
from camsweep.inventory.mapping import FIELDS, REQUIRED, Mapping, map_headers
from camsweep.inventory.readers import read_table
from camsweep.inventory.validate import normalise_frame
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import (
    bulk_load,
    bulk_transaction,
    frame_rows,
    insert_many,
    update_many,
    utcnow,
)

Kind = Literal["sites", "assets"]
Progress = Callable[[str, int, int], None]
Check = Callable[[Connection, pl.DataFrame], list[RowError]]
OnWrite = Callable[[Connection, "ImportResult"], None]

# Fields compared and written, in user terms (site_id / department names, not surrogate keys).
_TRACKED: dict[str, tuple[str, ...]] = {
    "sites": ("name", "department", "region", "sensitivity", "postcode"),
    "assets": ("site_id", "device_type", "brand", "model", "serial", "mac", "ip", "firmware",
               "install_date"),
}
_KEY = {"sites": "site_id", "assets": "asset_id"}
_ENTITY = {"sites": "site", "assets": "device"}


@dataclass
class ImportResult:
    path: str
    kind: str
    rows: int = 0
    blank_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: int = 0  # field-level changes recorded in history
    errors: list[RowError] = field(default_factory=list)
    mapping: list[tuple[str, str]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    encoding: str | None = None
    sheet: str | None = None
    dry_run: bool = False
    source_id: int | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "dry_run": self.dry_run, "rows": self.rows,
            "blank_rows": self.blank_rows, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "field_changes": self.changes,
            "mapping": dict(self.mapping), "unmapped": self.unmapped,
            "errors": [e.__dict__ for e in self.errors], "source_id": self.source_id,
            "seconds": round(self.seconds, 3),
        }


def _mapped_frame(raw_frame: pl.DataFrame, mapping: Mapping, kind: Kind,
                  first_row: int) -> tuple[pl.DataFrame, int]:
    cols = {f: pl.col(f"c{i}") for f, i in mapping.columns.items()}
    fields = FIELDS[kind]
    frame = raw_frame.select(
        [cols.get(f, pl.lit(None, dtype=pl.String)).alias(f) for f in fields]
    ).with_row_index("_row", offset=first_row).with_columns(pl.col("_row").cast(pl.Int64))
    blank = frame.select(pl.all_horizontal([pl.col(f).is_null() for f in fields])).to_series()
    return frame.filter(~blank), int(blank.sum())


def _existing(conn: Connection, kind: Kind) -> pl.DataFrame:
    """Current rows in user terms, keyed like the file, with their surrogate `id`.

    Fetched in chunks straight from the DBAPI cursor into Polars: a million stored devices
    must not become a million Python row objects at once.
    """
    stmt: Select[*tuple[Any, ...]]
    if kind == "sites":
        stmt = select(m.Site.id, m.Site.site_id, m.Site.name, m.Department.name.label("department"),
                      m.Site.region, m.Site.sensitivity, m.Site.postcode).join(m.Department)
    else:
        stmt = select(m.Device.id, m.Device.asset_id, m.Site.site_id, m.Device.device_type,
                      m.Device.brand, m.Device.model, m.Device.serial, m.Device.mac, m.Device.ip,
                      m.Device.firmware, m.Device.install_date
                      ).outerjoin(m.Site).where(m.Device.asset_id.is_not(None))
    names = [c.name for c in stmt.selected_columns]
    schema = {n: (pl.Int64 if n == "id" else pl.String) for n in names}
    sql = str(stmt.compile(dialect=conn.dialect))
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cur = raw.cursor()
    frames: list[pl.DataFrame] = []
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(100_000):
            if kind == "assets":  # dates come back as text (SQLite) or date objects (psycopg)
                rows = [(*r[:-1], None if r[-1] is None else str(r[-1])) for r in rows]
            frames.append(pl.DataFrame(rows, schema=schema, orient="row"))
    finally:
        cur.close()
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    if kind == "assets":
        frame = frame.with_columns(pl.col("install_date").str.to_date("%Y-%m-%d"))
    return frame


def _site_keys(conn: Connection) -> dict[str, int]:
    return {s: i for i, s in conn.execute(select(m.Site.id, m.Site.site_id)).all()}


@dataclass
class _Diff:
    new: pl.DataFrame
    changed: pl.DataFrame  # id + merged values of every tracked field
    history: list[tuple[int, str, str | None, str | None]]
    unchanged: int


def _as_text(col: pl.Series) -> pl.Series:
    return col.cast(pl.String) if col.dtype != pl.String else col


def _diff(frame: pl.DataFrame, existing: pl.DataFrame, kind: Kind) -> _Diff:
    """A blank cell means 'the register says nothing', so it never clears a stored value."""
    key, tracked = _KEY[kind], _TRACKED[kind]
    joined = frame.join(existing, on=key, how="left", suffix="_old")
    new = joined.filter(pl.col("id").is_null()).select(frame.columns)
    old = joined.filter(pl.col("id").is_not_null())
    changed_masks = {
        f: pl.col(f).is_not_null()
        & (pl.col(f"{f}_old").is_null() | (pl.col(f) != pl.col(f"{f}_old")))
        for f in tracked
    }
    old = old.with_columns([mask.alias(f"_chg_{f}") for f, mask in changed_masks.items()])
    any_change = pl.any_horizontal([pl.col(f"_chg_{f}") for f in tracked])
    changed = old.filter(any_change)
    history: list[tuple[int, str, str | None, str | None]] = []
    for f in tracked:
        part = changed.filter(pl.col(f"_chg_{f}"))
        if part.height:
            ids = part["id"].to_list()
            olds = _as_text(part[f"{f}_old"]).to_list()
            news = _as_text(part[f]).to_list()
            history.extend(zip(ids, [f] * len(ids), olds, news, strict=True))
    merged = changed.select(
        [pl.col("id")] + [pl.coalesce(pl.col(f), pl.col(f"{f}_old")).alias(f) for f in tracked]
    )
    return _Diff(new=new, changed=merged, history=history, unchanged=old.height - changed.height)


def import_file(
    store: Store,
    path: Path | str,
    kind: Kind,
    *,
    overrides: dict[str, str] | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    check: Check | None = None,
    on_write: OnWrite | None = None,
) -> ImportResult:
    """Validate every row, then write all of it in one transaction (or nothing).

    In a dry run errors are returned in the result; otherwise they raise `InputError`.
    `check` adds the caller's own row errors (the web app's department scoping) over the
    normalised rows; `on_write` runs in the write transaction (to audit the import with it).
    """
    started = time.perf_counter()
    path = Path(path)
    tick = progress or (lambda _s, _d, _t: None)
    raw = read_table(path, sheet=sheet)
    mapping = map_headers(str(path), raw.headers, kind, overrides)
    frame, blank = _mapped_frame(raw.frame, mapping, kind, raw.first_row)
    result = ImportResult(path=str(path), kind=kind, rows=frame.height, blank_rows=blank,
                          mapping=mapping.describe(), unmapped=mapping.unmapped,
                          encoding=None if raw.sheet else raw.encoding, sheet=raw.sheet,
                          dry_run=dry_run)
    tick("validating", 0, frame.height)
    frame, errors = normalise_frame(str(path), frame, list(FIELDS[kind]), REQUIRED[kind],
                                    _KEY[kind])
    if frame.height == 0 and not errors:
        errors.append(RowError(str(path), None, None, "has a header row but no data rows"))
    with bulk_transaction(store.engine, frame.height) as conn:
        if kind == "assets":
            errors.extend(_unknown_sites(str(path), frame, _site_keys(conn)))
        if check is not None:
            errors.extend(check(conn, frame))
        errors.sort(key=lambda e: (e.row or 0, e.column or ""))
        if errors:
            result.errors = errors
            result.seconds = time.perf_counter() - started
            if dry_run:
                return result
            raise InputError.of(str(path), errors)
        diff = _diff(frame, _existing(conn, kind), kind)
        result.created, result.updated = diff.new.height, diff.changed.height
        result.unchanged, result.changes = diff.unchanged, len(diff.history)
        if not dry_run:
            result.source_id = _write(conn, path, kind, diff, mapping, tick)
            if on_write is not None:
                on_write(conn, result)
    result.seconds = time.perf_counter() - started
    return result


def _unknown_sites(path: str, frame: pl.DataFrame, sites: dict[str, int]) -> list[RowError]:
    bad = frame.filter(pl.col("site_id").is_not_null()
                       & ~pl.col("site_id").is_in(list(sites)))
    return [RowError(path, r, "site_id", f"unknown site {s!r}: import it with "
                     "'camsweep import sites' first")
            for r, s in bad.select("_row", "site_id").iter_rows()]


def _write(conn: Connection, path: Path, kind: Kind, diff: _Diff, mapping: Mapping,
           tick: Progress) -> int:
    now = utcnow()
    source_id = conn.execute(
        insert(m.Source).values(
            kind=kind, name=str(path), sha256=sha256_file(path), rows=diff.new.height
            + diff.changed.height + diff.unchanged, created=diff.new.height,
            updated=diff.changed.height, unchanged=diff.unchanged, started_at=now,
            finished_at=None, options={"mapping": dict(mapping.describe())})
        .returning(m.Source.id)
    ).scalar_one()
    stamp = now.isoformat(sep=" ")
    if kind == "sites":
        dept_ids = _departments(conn, pl.concat([diff.new["department"],
                                                 diff.changed["department"]]))
        new = diff.new.with_columns(pl.col("department").replace_strict(dept_ids,
                                                                         return_dtype=pl.Int64))
        cols = ["site_id", "name", "department_id", "region", "sensitivity", "postcode"]
        rows = new.select("site_id", "name", "department", "region", "sensitivity", "postcode")
        insert_many(conn, "sites", [*cols, "source_id", "created_at", "updated_at"],
                    ((*r, source_id, stamp, stamp) for r in rows.iter_rows()))
        upd = diff.changed.with_columns(pl.col("department").replace_strict(
            dept_ids, return_dtype=pl.Int64))
        update_many(conn, "sites", [*cols[1:], "updated_at"],
                    ((*r[1:], stamp, r[0]) for r in upd.select(
                        "id", "name", "department", "region", "sensitivity", "postcode"
                    ).iter_rows()))
    else:
        site_pk = _site_keys(conn)
        cols = ["asset_id", "site_pk", "device_type", "brand", "model", "serial", "mac", "ip",
                "firmware", "install_date"]

        def ready(df: pl.DataFrame) -> pl.DataFrame:
            return df.with_columns(
                pl.col("site_id").replace_strict(site_pk, return_dtype=pl.Int64),
                pl.col("install_date").cast(pl.String),
            )

        new = ready(diff.new).select("asset_id", *_TRACKED["assets"])
        stamps = {"source_id": source_id, "created_at": stamp, "updated_at": stamp}
        done = 0
        with bulk_load(conn, "devices", new.height, diff.changed.height + diff.unchanged):
            for chunk in new.iter_slices(100_000):
                insert_many(conn, "devices", cols, frame_rows(chunk), stamps)
                done += chunk.height
                tick("writing", done, new.height)
        upd = ready(diff.changed).select("id", *_TRACKED["assets"])
        update_many(conn, "devices", [*cols[1:], "updated_at"],
                    ((*r[1:], stamp, r[0]) for r in upd.iter_rows()))
    insert_many(conn, "field_history",
                ["entity", "entity_pk", "field", "old_value", "new_value", "source_id",
                 "changed_at"],
                ((_ENTITY[kind], pk, f, o, n, source_id, stamp) for pk, f, o, n in diff.history))
    conn.execute(update(m.Source).where(m.Source.id == source_id).values(finished_at=utcnow()))
    return int(source_id)


def _departments(conn: Connection, names: pl.Series) -> dict[str, int]:
    have = {n: i for i, n in conn.execute(select(m.Department.id, m.Department.name)).all()}
    missing = [n for n in names.drop_nulls().unique().sort().to_list() if n not in have]
    if missing:
        insert_many(conn, "departments", ["name"], ((n,) for n in missing))
        have = {n: i for i, n in conn.execute(select(m.Department.id, m.Department.name)).all()}
    return have


def iter_errors_csv(errors: list[RowError]) -> Iterator[list[str]]:
    yield ["file", "row", "column", "reason"]
    for e in errors:
        yield [e.file, "" if e.row is None else str(e.row), e.column or "", e.reason]


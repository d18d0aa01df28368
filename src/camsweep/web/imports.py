"""Register uploads through the web: check (a dry run the user reads), then confirm.

An upload is kept server-side under a random id until it is confirmed or abandoned; the
confirm step re-runs every check on the same bytes (their sha256 is pinned), because the
store may have changed in between. A department admin may only import its own
department's sites and assets: rows naming another department's sites or ids are errors,
worded exactly as for sites that do not exist, so nothing about other departments leaks
beyond the fact that an id is taken.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection, select

from camsweep.errors import InputError, RowError
from camsweep.inventory.importer import ImportResult, _unknown_sites, import_file
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.track.audit import append_audit
from camsweep.web.roles import Principal

Kind = Literal["sites", "assets"]
KINDS: tuple[Kind, ...] = ("sites", "assets")
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
PENDING_SECONDS = 6 * 3600
_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class Pending:
    id: str
    kind: Kind
    path: Path
    filename: str
    sha256: str
    size: int
    user_id: int


def _safe_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "register.csv"
    return base[-120:]


def save_upload(upload_dir: Path, principal: Principal, kind: Kind, filename: str,
                chunks: Iterator[bytes], max_bytes: int) -> Pending:
    name = _safe_name(filename)
    if not name.lower().endswith(SUFFIXES):
        raise InputError(f"{name}: a register must be a CSV or XLSX file "
                         f"({', '.join(SUFFIXES)})")
    _sweep(upload_dir)
    pid = secrets.token_urlsafe(24)
    folder = upload_dir / pid
    folder.mkdir(parents=True, mode=0o700)
    path = folder / name
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as fh:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(f"{name}: larger than the {max_bytes:,}-byte upload limit")
                digest.update(chunk)
                fh.write(chunk)
        if size == 0:
            raise InputError(f"{name}: the file is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    pending = Pending(pid, kind, path, filename, digest.hexdigest(), size, principal.user_id)
    (folder / "upload.json").write_text(json.dumps(
        {"kind": kind, "name": name, "filename": filename, "sha256": pending.sha256,
         "size": size, "user_id": principal.user_id}), encoding="utf-8")
    return pending


def load_pending(upload_dir: Path, principal: Principal, pid: str) -> Pending | None:
    """The caller's own pending upload, or None (someone else's is as good as absent)."""
    if not _ID.match(pid or ""):
        return None
    meta_path = upload_dir / pid / "upload.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != principal.user_id or meta.get("kind") not in KINDS:
        return None
    path = upload_dir / pid / meta["name"]
    if not path.is_file():
        return None
    return Pending(pid, meta["kind"], path, meta["filename"], meta["sha256"], meta["size"],
                   principal.user_id)


def discard(upload_dir: Path, pid: str) -> None:
    if _ID.match(pid or ""):
        shutil.rmtree(upload_dir / pid, ignore_errors=True)


def _sweep(upload_dir: Path) -> None:
    """Abandoned uploads go after a few hours."""
    if not upload_dir.is_dir():
        upload_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        return
    cutoff = time.time() - PENDING_SECONDS
    for folder in upload_dir.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


# --- department scoping -------------------------------------------------------------------


def _scope_sites(path: str, principal: Principal, conn: Connection, frame: pl.DataFrame
                 ) -> list[RowError]:
    errors: list[RowError] = []
    mine = principal.department or ""
    wrong = frame.filter(pl.col("department").is_not_null() & (pl.col("department") != mine))
    errors.extend(RowError(path, r, "department", f"department {d!r}: you can import sites of "
                           f"your own department ({mine!r}) only")
                  for r, d in wrong.select("_row", "department").iter_rows())
    ids = frame["site_id"].drop_nulls().unique().to_list()
    taken = _taken(conn, m.Site.site_id, m.Site.department_id, ids, principal)
    errors.extend(RowError(path, r, "site_id", f"site id {s!r} is already used by another "
                           "department; choose another id")
                  for r, s in frame.filter(pl.col("site_id").is_in(sorted(taken)))
                  .select("_row", "site_id").iter_rows())
    return errors


def _scope_assets(path: str, principal: Principal, conn: Connection, frame: pl.DataFrame
                  ) -> list[RowError]:
    everywhere = {s for (s,) in conn.execute(select(m.Site.site_id))}
    mine = {s: 0 for (s,) in conn.execute(select(m.Site.site_id)
                                          .where(m.Site.department_id == principal.department_id))}
    # Sites that exist but are another department's read exactly like sites that do not
    # exist; those that truly do not exist the importer reports already.
    errors = [e for e in _unknown_sites(path, frame, mine)
              if _site_of(frame, e.row) in everywhere]
    ids = frame["asset_id"].drop_nulls().unique().to_list()
    taken = _taken_devices(conn, ids, principal)
    errors.extend(RowError(path, r, "asset_id", f"asset id {a!r} is already used in a "
                           "register you cannot see; choose another id")
                  for r, a in frame.filter(pl.col("asset_id").is_in(sorted(taken)))
                  .select("_row", "asset_id").iter_rows())
    return errors


def _site_of(frame: pl.DataFrame, row: int | None) -> Any:
    hit = frame.filter(pl.col("_row") == row)["site_id"]
    return hit[0] if len(hit) else None


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _taken(conn: Connection, key: Any, dept_col: Any, ids: list[Any],
           principal: Principal) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(ids):
        out.update(str(k) for k, d in conn.execute(select(key, dept_col).where(key.in_(chunk)))
                   if d != principal.department_id)
    return out


def _taken_devices(conn: Connection, ids: list[Any], principal: Principal) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(ids):
        rows = conn.execute(select(m.Device.asset_id, m.Site.department_id)
                            .outerjoin(m.Site, m.Device.site_pk == m.Site.id)
                            .where(m.Device.asset_id.in_(chunk)))
        out.update(str(a) for a, d in rows if d != principal.department_id)
    return out


def _run(store: Store, principal: Principal, pending: Pending, *, dry_run: bool
         ) -> ImportResult:
    label = str(pending.path)
    check = None
    if not principal.central:
        scope = _scope_sites if pending.kind == "sites" else _scope_assets

        def check(conn: Connection, frame: pl.DataFrame) -> list[RowError]:
            return scope(label, principal, conn, frame)

    def audit(conn: Connection, result: ImportResult) -> None:
        append_audit(conn, principal.username, f"import.{pending.kind}", "source",
                     str(result.source_id),
                     {"file": pending.filename, "sha256": pending.sha256,
                      "rows": result.rows, "created": result.created,
                      "updated": result.updated, "unchanged": result.unchanged,
                      "field_changes": result.changes, "department": principal.department,
                      "via": "web"})

    return import_file(store, pending.path, pending.kind, dry_run=dry_run, check=check,
                       on_write=None if dry_run else audit)


def check_upload(store: Store, principal: Principal, pending: Pending) -> ImportResult:
    """The dry run: mapping, counts and every row error; nothing is written."""
    return _run(store, principal, pending, dry_run=True)


def commit_upload(store: Store, principal: Principal, pending: Pending) -> ImportResult:
    """Write it (all or nothing), audited in the same transaction; raises `InputError`."""
    h = hashlib.sha256(pending.path.read_bytes()).hexdigest()
    if h != pending.sha256:
        raise InputError(f"{pending.filename}: the uploaded file changed on the server; "
                         "upload it again")
    return _run(store, principal, pending, dry_run=False)


def display_errors(result: ImportResult, filename: str) -> list[RowError]:
    """Row errors naming the file as the user knows it, not the server's copy."""
    return [RowError(filename, e.row, e.column, e.reason) for e in result.errors]

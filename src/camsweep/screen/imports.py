"""Importing OpenSanctions-style FollowTheMoney entity files (JSON lines), and building the
screener a store asks for: the bundled graph (unless replaced) plus every imported entity.

Imports are all or nothing: every line is checked first (JSON object, string `id`, a schema
FollowTheMoney knows, properties that schema has, values that are lists of strings or nested
entities); any malformed line means nothing is written and each error names its line.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from followthemoney import model
from sqlalchemy import delete, func, insert, select, update

from camsweep.errors import InputError, RowError
from camsweep.screen.graph import GraphPolicy
from camsweep.screen.matcher import ALGORITHM, Algorithm, Screener
from camsweep.screen.model import PARTY_SCHEMATA, RESTRICTED_TOPICS, collect
from camsweep.store import Store
from camsweep.store.models import ScreenEntity, ScreenImport
from camsweep.track.audit import append_audit

BATCH = 5000
MAX_ERRORS = 1000


@lru_cache(maxsize=256)
def schema_props(name: str) -> frozenset[str] | None:
    schema = model.get(name)
    if schema is None:
        return None
    return frozenset(schema.properties)


def check_entity(obj: Any) -> str | None:
    """None when `obj` is a well-formed FtM entity dict, else the reason it is not."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    eid = obj.get("id")
    if not isinstance(eid, str) or not eid.strip():
        return "'id' must be a non-empty string"
    if len(eid) > 255:
        return "'id' is longer than 255 characters"
    schema = obj.get("schema")
    if not isinstance(schema, str):
        return "'schema' must be a string"
    props_ok = schema_props(schema)
    if props_ok is None:
        return f"unknown FollowTheMoney schema '{schema}'"
    props = obj.get("properties", {})
    if not isinstance(props, dict):
        return "'properties' must be an object"
    for prop, values in props.items():
        if prop not in props_ok:
            return f"schema {schema} has no property '{prop}'"
        if not isinstance(values, list):
            return f"property '{prop}' must be a list"
        for v in values:
            nested = isinstance(v, dict) and isinstance(v.get("id"), str)
            if not isinstance(v, str) and not nested:
                return f"property '{prop}' holds a {type(v).__name__}, not a string"
    return None


def iter_lines(stream: IO[str]) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed object or None, error or None); blank lines are skipped."""
    for number, line in enumerate(stream, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        yield number, obj, check_entity(obj)


def iter_file_entities(path: Path) -> Iterator[dict[str, Any]]:
    """Well-formed entities of a file, raising InputError at the first malformed line."""
    with path.open(encoding="utf-8") as fh:
        for number, obj, error in iter_lines(fh):
            if error is not None:
                raise InputError(f"{path}: line {number}: {error}",
                                 [RowError(str(path), number, None, error)])
            yield obj


@dataclass
class ImportReport:
    file: str
    sha256: str
    mode: str
    lines: int = 0
    entities: int = 0
    added: int = 0
    updated: int = 0
    by_schema: dict[str, int] = field(default_factory=dict)
    parties: int = 0
    restricted_parties: int = 0
    listings: int = 0
    ownerships: int = 0
    replaced_imported: int = 0
    bundled: str = "kept"
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {s}" for s, n in sorted(self.by_schema.items(),
                                                        key=lambda kv: -kv[1]))
        verb = "would add" if self.dry_run else "added"
        return (f"{self.file}: {self.entities} entities ({kinds}); {verb} {self.added}, "
                f"updated {self.updated}; {self.parties} parties of which "
                f"{self.restricted_parties} restricted by topic or listing; {self.listings} "
                f"listings, {self.ownerships} ownership ties; bundled data {self.bundled}")


def _validate(path: Path) -> tuple[ImportReport, list[RowError]]:
    digest = hashlib.sha256()
    errors: list[RowError] = []
    counts: Counter[str] = Counter()
    report = ImportReport(str(path), "", "extend")
    sanctioned: set[str] = set()
    restricted_topic = 0
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    with fh:
        for number, obj, error in iter_lines(fh):
            report.lines = number
            if error is not None:
                if len(errors) < MAX_ERRORS:
                    errors.append(RowError(str(path), number, None, error))
                continue
            digest.update(json.dumps(obj, sort_keys=True).encode())
            schema = obj["schema"]
            counts[schema] += 1
            props = obj.get("properties", {})
            if schema in PARTY_SCHEMATA and RESTRICTED_TOPICS & set(props.get("topics", [])):
                restricted_topic += 1
            if schema == "Sanction":
                for target in props.get("entity", []):
                    sanctioned.add(target if isinstance(target, str) else target["id"])
    report.sha256 = digest.hexdigest()
    report.entities = sum(counts.values())
    report.by_schema = dict(counts)
    report.parties = sum(n for s, n in counts.items() if s in PARTY_SCHEMATA)
    report.restricted_parties = max(restricted_topic, len(sanctioned))
    report.listings = counts["Sanction"]
    report.ownerships = counts["Ownership"]
    if report.entities == 0 and not errors:
        errors.append(RowError(str(path), None, None, "no entities in the file"))
    return report, errors


def import_entities(store: Store, path: Path, *, replace: bool = False, actor: str | None = None,
                    dry_run: bool = False) -> ImportReport:
    """Check the whole file, then write it in one transaction (nothing on any error)."""
    report, errors = _validate(path)
    if errors:
        raise InputError.of(f"{path}", errors)
    report.mode = "replace" if replace else "extend"
    report.bundled = "replaced" if replace else "kept"
    report.dry_run = dry_run
    now = datetime.now(UTC).replace(tzinfo=None)
    who = actor or getpass.getuser()
    with store.engine.begin() as conn:
        if replace:
            report.replaced_imported = conn.execute(
                select(func.count()).select_from(ScreenEntity)).scalar_one()
            if not dry_run:
                conn.execute(delete(ScreenEntity))
        elif conn.execute(select(func.count()).select_from(ScreenImport)
                          .where(ScreenImport.mode == "replace")).scalar_one():
            report.bundled = "replaced by an earlier import"
        import_id = None
        if not dry_run:
            import_id = conn.execute(insert(ScreenImport).values(
                file=str(path), sha256=report.sha256, mode=report.mode, entities=report.entities,
                added=0, updated=0, summary={}, actor=who, imported_at=now,
            ).returning(ScreenImport.id)).scalar_one()
        batch: list[dict[str, Any]] = []
        for obj in iter_file_entities(path):
            batch.append(obj)
            if len(batch) >= BATCH:
                _write(conn, batch, import_id, report, dry_run)
                batch = []
        if batch:
            _write(conn, batch, import_id, report, dry_run)
        if dry_run:
            conn.rollback()
            return report
        conn.execute(update(ScreenImport)
                     .where(ScreenImport.id == import_id)
                     .values(added=report.added, updated=report.updated,
                             summary=report.as_dict()))
        append_audit(conn, who, "screen.data.import", "screen_import", str(import_id),
                     report.as_dict(), at=now)
    return report


def _caption(obj: dict[str, Any]) -> str | None:
    if isinstance(obj.get("caption"), str):
        return str(obj["caption"])
    names = obj.get("properties", {}).get("name") or []
    return names[0] if names and isinstance(names[0], str) else None


def _write(conn: Any, batch: list[dict[str, Any]], import_id: int | None, report: ImportReport,
           dry_run: bool) -> None:
    by_id: dict[str, dict[str, Any]] = {}
    for obj in batch:
        by_id[obj["id"]] = obj  # a later line for the same id wins
    ids = list(by_id)
    existing: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        existing.update(conn.execute(select(ScreenEntity.entity_id)
                                     .where(ScreenEntity.entity_id.in_(chunk))).scalars())
    report.updated += len(existing)
    report.added += len(ids) - len(existing)
    if dry_run:
        return
    for i in range(0, len(ids), 500):
        chunk = [e for e in ids[i:i + 500] if e in existing]
        if chunk:
            conn.execute(delete(ScreenEntity).where(ScreenEntity.entity_id.in_(chunk)))
    conn.execute(insert(ScreenEntity), [
        {"entity_id": eid, "schema": obj["schema"], "caption": _caption(obj), "data": obj,
         "import_id": import_id} for eid, obj in by_id.items()
    ])


def reset_imports(store: Store, actor: str | None = None) -> int:
    """Forget every import: back to the bundled data alone."""
    with store.engine.begin() as conn:
        n = conn.execute(select(func.count()).select_from(ScreenEntity)).scalar_one()
        conn.execute(delete(ScreenEntity))
        conn.execute(delete(ScreenImport))
        append_audit(conn, actor or getpass.getuser(), "screen.data.reset", "screen_import",
                     "*", {"entities_removed": n})
    return int(n)


def bundled_replaced(store: Store) -> bool:
    with store.session() as session:
        return bool(session.scalar(select(func.count()).select_from(ScreenImport)
                                   .where(ScreenImport.mode == "replace")))


def iter_stored(store: Store) -> Iterator[dict[str, Any]]:
    with store.engine.connect() as conn:
        result = conn.execution_options(yield_per=10000).execute(
            select(ScreenEntity.data).order_by(ScreenEntity.id))
        for (data,) in result:
            yield data


def load_screener(store: Store | None, *, algorithm: Algorithm = ALGORITHM,
                  policy: GraphPolicy | None = None) -> Screener:
    """Bundled data (unless an import replaced it) plus everything imported into `store`."""
    if store is None or not bundled_replaced(store):
        screener = Screener.bundled(algorithm, policy)
    else:
        screener = Screener(algorithm, policy, "imported")
    if store is not None:
        add_entities(screener, iter_stored(store), "imported")
    return screener


def add_entities(screener: Screener, entities: Iterable[dict[str, Any]], dataset: str) -> int:
    collected = collect(entities, dataset)
    screener.add(collected)
    if collected.nodes:
        screener.data_version = f"{screener.data_version}+{dataset}:{len(collected.nodes)}"
    return len(collected.nodes)

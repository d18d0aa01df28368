"""The batch contract of design.md (`identify --jsonl`), over lines in and lines out.

Pure: the caller opens files or streams. One output line per input record, in order,
with the same `id`; a malformed line yields `{"id", "error"}` and the run goes on.
Blank lines carry no record and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import ValidationError

from camsweep.domain import Evidence, Verdict
from camsweep.identify.engine import identify
from camsweep.kb import KnowledgeBase
from camsweep.kb.match import oui_key


def verdict_record(record_id: Any, verdict: Verdict) -> dict[str, Any]:
    """The output object of the contract, plus firmware, conflicts and KB version."""
    return {
        "id": record_id,
        "manufacturer_id": verdict.manufacturer_id,
        "manufacturer": verdict.manufacturer,
        "brand": verdict.brand,
        "oem_of": verdict.oem_of,
        "device_type": verdict.device_type,
        "model": verdict.model,
        "firmware": verdict.firmware,
        "restricted": verdict.restricted,
        "confidence": verdict.confidence,
        "evidence": [c.model_dump() for c in verdict.evidence],
        "conflicts": verdict.conflicts,
        "kb_version": verdict.kb_version,
    }


def _error(record_id: Any, line_no: int, message: str) -> dict[str, Any]:
    return {"id": record_id, "error": f"line {line_no}: {message}"}


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"evidence.{where}: {first['msg']}"


def _cache_key(raw: dict[str, Any], kb: KnowledgeBase) -> str:
    """Evidence with the MAC cut down to the registry prefix the engine reads, so that
    devices differing only in their MAC suffix share one engine run."""
    mac = raw.get("mac")
    if isinstance(mac, str):
        key = oui_key(kb, mac)
        raw = {**raw, "mac": key}
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)


def _parse(line: str, line_no: int) -> tuple[Any, dict[str, Any] | None, dict[str, Any] | None]:
    """(id, evidence object, error record) for one input line."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return (
            None,
            None,
            _error(None, line_no, f"not valid JSON ({exc.msg} at column {exc.colno})"),
        )
    if not isinstance(obj, dict):
        return None, None, _error(None, line_no, "expected a JSON object with 'id' and 'evidence'")
    record_id = obj.get("id")
    if not isinstance(record_id, str | int) or isinstance(record_id, bool):
        return record_id, None, _error(record_id, line_no, "'id' must be a string")
    raw = obj.get("evidence", {})
    if not isinstance(raw, dict):
        return record_id, None, _error(record_id, line_no, "'evidence' must be an object")
    return record_id, raw, None


def _verdicts(
    lines: Iterable[str], kb: KnowledgeBase, first_line: int = 1
) -> Iterator[tuple[Any, Verdict | None, dict[str, Any] | None, str]]:
    cache: dict[str, Verdict | dict[str, Any]] = {}
    for line_no, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        record_id, raw, error = _parse(line, line_no)
        if raw is None:
            yield record_id, None, error, ""
            continue
        key = _cache_key(raw, kb)
        cached = cache.get(key)
        if cached is None:
            try:
                cached = identify(Evidence.model_validate(raw), kb)
            except ValidationError as exc:
                cached = {"message": _first_error(exc)}
            cache[key] = cached
        if isinstance(cached, dict):
            yield record_id, None, _error(record_id, line_no, cached["message"]), key
        else:
            yield record_id, cached, None, key


def run_records(lines: Iterable[str], kb: KnowledgeBase) -> Iterator[dict[str, Any]]:
    """Output objects for input lines; evidence that only differs in a MAC's device
    part (or not at all) is identified once."""
    for record_id, verdict, error, _key in _verdicts(lines, kb):
        if verdict is not None:
            yield verdict_record(record_id, verdict)
        elif error is not None:
            yield error


def run_jsonl(lines: Iterable[str], kb: KnowledgeBase, first_line: int = 1) -> Iterator[str]:
    """Output lines (JSON, no trailing newline) for input lines; `first_line` numbers the
    first of them in error messages (a partition of a larger file starts further on)."""
    serialized: dict[str, str] = {}
    for record_id, verdict, error, key in _verdicts(lines, kb, first_line):
        if verdict is None:
            if error is not None:
                yield json.dumps(error, ensure_ascii=False)
            continue
        body = serialized.get(key)
        if body is None:
            record = verdict_record(None, verdict)
            del record["id"]
            body = json.dumps(record, ensure_ascii=False)[1:]
            serialized[key] = body
        yield '{"id": ' + json.dumps(record_id, ensure_ascii=False) + ", " + body

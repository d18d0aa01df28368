"""The batch contract of design.md: one JSON object per input line, one per output line, same
order, same `id`. A malformed line yields an output line with `error`; the run goes on."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from camsweep.screen.matcher import Query, Screener, parse_query

CHUNK = 2000
PARALLEL_CHUNK = 40000  # lines per round when worker processes share the work


def _error_line(number: int, obj: Any, reason: str) -> str:
    qid = obj.get("id") if isinstance(obj, dict) else None
    return json.dumps({"id": None if qid is None else str(qid), "match": False,
                       "entity_id": None, "entity": None, "relation": None, "score": 0.0,
                       "explanation": [], "error": f"line {number}: {reason}"},
                      ensure_ascii=False)


def run_jsonl(lines: Iterable[str], screener: Screener, workers: int = 1) -> Iterator[str]:
    """Screen each input line; yields output lines (without newlines) in input order."""
    pending: list[tuple[int, Query | None, str | None]] = []
    chunk = PARALLEL_CHUNK if workers > 1 else CHUNK

    def flush() -> Iterator[str]:
        queries = [q for _, q, _ in pending if q is not None]
        results = iter(screener.screen_many(queries, workers=workers))
        for _number, q, error_line in pending:
            if q is None:
                assert error_line is not None
                yield error_line
            else:
                yield json.dumps(next(results).as_contract(), ensure_ascii=False)
        pending.clear()

    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        obj: Any = None
        try:
            obj = json.loads(text)
            query = parse_query(obj, number)
        except json.JSONDecodeError as exc:
            pending.append((number, None, _error_line(number, None,
                                                      f"not valid JSON ({exc.msg})")))
        except ValueError as exc:
            pending.append((number, None, _error_line(number, obj, str(exc))))
        else:
            pending.append((number, query, None))
        if len(pending) >= chunk:
            yield from flush()
    yield from flush()

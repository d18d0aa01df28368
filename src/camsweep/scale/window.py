"""Results of many Dask tasks, in submission order, with a bounded number outstanding.

Tasks are submitted lazily, at most `window` at a time counting both those still running
and those finished but waiting for an earlier one; results are fetched as soon as they
finish (so workers drop them) and handed out in order. Memory on the client is therefore
`window` results at most, and on the workers `window` partitions at most, whatever the
length of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from camsweep.scale.dask_api import Completed, Fut, release


def ordered_results(submit: Iterable[Callable[[], Fut]], window: int) -> Iterator[Any]:
    """Yield each task's result in the order of `submit` (each item starts one task)."""
    if window < 1:
        raise ValueError("window must be at least 1")
    pending = iter(submit)
    position: dict[Any, int] = {}
    ready: dict[int, Any] = {}
    running = Completed()
    submitted = written = 0

    def top_up() -> None:
        nonlocal submitted
        while submitted - written < window:
            start = next(pending, None)
            if start is None:
                return
            future = start()
            position[future.key] = submitted
            submitted += 1
            running.add(future)

    top_up()
    try:
        for future in running:
            ready[position.pop(future.key)] = future.result()
            release(future)
            while written in ready:
                yield ready.pop(written)
                written += 1
            top_up()
    finally:
        running.clear()

"""The parts of Dask distributed camsweep calls, with types.

distributed ships `py.typed` but leaves many public functions unannotated, which strict
mypy refuses to call from typed code. Each such call is made here once, with the types
camsweep relies on, instead of a `type: ignore` at every use.
"""

from __future__ import annotations

from typing import Any

from distributed import Client, Future, LocalCluster, Worker, WorkerPlugin, as_completed
from distributed.security import Security

Fut = Future[Any]


def make_security(**fields: Any) -> Security:
    return Security(**fields)  # type: ignore[no-untyped-call]


def local_cluster(**options: Any) -> LocalCluster:
    return LocalCluster(**options)  # type: ignore[no-untyped-call]


def make_client(address: Any, **options: Any) -> Client:
    return Client(address, **options)  # type: ignore[no-untyped-call]


def close(client: Client) -> None:
    client.close()  # type: ignore[no-untyped-call]


def nthreads(client: Client) -> dict[str, int]:
    """Worker address -> threads, for the workers connected now."""
    return dict(client.nthreads())  # type: ignore[no-untyped-call]


def workers(client: Client) -> dict[str, dict[str, Any]]:
    """Worker address -> the scheduler's record of it (name, resources, nthreads, ...)."""
    info = client.scheduler_info(n_workers=-1)
    return dict(info.get("workers", {}))


def scatter(client: Client, data: Any, *, workers: list[str] | None = None) -> Fut:
    """`data` onto one of `workers` (any if None), unhashed (a partition is sent once)."""
    future = client.scatter(data, workers=workers, hash=False)  # type: ignore[no-untyped-call]
    assert isinstance(future, Future)
    return future


def install(client: Client, plugin: WorkerPlugin) -> None:
    """A worker plugin on every worker now and on every worker that joins later."""
    client.register_plugin(plugin, name=getattr(plugin, "name", None))


def uninstall(client: Client, name: str) -> None:
    client.unregister_worker_plugin(name)  # type: ignore[no-untyped-call]


def release(future: Fut) -> None:
    """Drop the client's hold on a result so the worker can free it."""
    future.release()  # type: ignore[no-untyped-call]


def exception(future: Fut) -> BaseException | None:
    """Why a task failed (None if it did not)."""
    error = future.exception()  # type: ignore[no-untyped-call]
    assert error is None or isinstance(error, BaseException)
    return error


async def finished(worker: Worker) -> None:
    """Until the worker has closed (stopped, or lost its scheduler)."""
    await worker.finished()  # type: ignore[no-untyped-call]


def cancel(client: Client, futures: list[Fut]) -> None:
    client.cancel(futures)  # type: ignore[no-untyped-call]


def processing(client: Client) -> dict[str, list[Any]]:
    """Worker address -> keys of the tasks it is running or holds ready to run."""
    return {k: list(v) for k, v in client.processing().items()}  # type: ignore[no-untyped-call]


class Completed:
    """`as_completed` with types: futures in the order they finish; more may be added."""

    def __init__(self) -> None:
        self._inner = as_completed()  # type: ignore[no-untyped-call]

    def add(self, future: Fut) -> None:
        self._inner.add(future)  # type: ignore[no-untyped-call]

    def clear(self) -> None:
        self._inner.clear()  # type: ignore[no-untyped-call]

    def count(self) -> int:
        return int(self._inner.count())  # type: ignore[no-untyped-call]

    def __iter__(self) -> Completed:
        return self

    def __next__(self) -> Fut:
        future = next(self._inner)
        assert isinstance(future, Future)
        return future

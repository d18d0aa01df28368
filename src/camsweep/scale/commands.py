"""What `camsweep identify --engine dask` does, callable without the CLI.

Opens the files (`-` is stdin/stdout), connects to the scheduler or starts a
LocalCluster with one worker process per core, and runs the partitioned path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

from distributed import Client

from camsweep.errors import InputError
from camsweep.kb import KnowledgeBase
from camsweep.scale.bulk import BulkRun, identify_jsonl, identify_register, register_columns
from camsweep.scale.cluster import client_security, open_client


def local_workers() -> int:
    """One worker process per core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


@contextmanager
def cluster(scheduler: str | None, tls_dir: Path | None) -> Iterator[Client]:
    with open_client(scheduler, client_security(tls_dir), workers=local_workers()) as client:
        yield client


def _binary(path: str, write: bool, stack: ExitStack) -> BinaryIO:
    if path == "-":
        return sys.stdout.buffer if write else sys.stdin.buffer
    try:
        return stack.enter_context(Path(path).open("wb" if write else "rb"))
    except OSError as exc:
        raise InputError(f"cannot {'write' if write else 'read'} {path}: {exc.strerror}") \
            from exc


def jsonl_file(source: str, out: str | None, kb: KnowledgeBase, *, scheduler: str | None,
               tls_dir: Path | None) -> BulkRun:
    """`identify --jsonl SOURCE --out OUT --engine dask`."""
    with ExitStack() as stack:
        reader = _binary(source, False, stack)
        writer = _binary(out or "-", True, stack)
        with cluster(scheduler, tls_dir) as client:
            run = identify_jsonl(client, kb, reader, writer, name=source,
                                 shared=scheduler is None)
        writer.flush()
        return run


def register_file(path: Path, out: str | None, parquet_dir: Path | None, kb: KnowledgeBase,
                  renames_for: Callable[[list[str]], dict[str, str]], *,
                  scheduler: str | None, tls_dir: Path | None) -> BulkRun:
    """`identify --csv REGISTER --engine dask` to a file or a partitioned Parquet directory."""
    if not path.is_file():
        raise InputError(f"register not found: {path}")
    renames = renames_for(register_columns(path))
    with cluster(scheduler, tls_dir) as client:
        return identify_register(client, kb, path, renames=renames,
                                 out=Path(out) if out else None, parquet_dir=parquet_dir,
                                 shared=scheduler is None)

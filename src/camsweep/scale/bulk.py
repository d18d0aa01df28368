"""Bulk identification on Dask: the input streamed in partitions, the output written in order.

    with open_client(None) as client:          # a LocalCluster, one worker process per core
        run = identify_jsonl(client, kb, source, sink, shared=True)

The client cuts the input into record-aligned partitions (`chunks`) and runs the
single-process core on each on a worker (`tasks`); the knowledge base goes to every
worker once per run, as a worker plugin. At most `window` partitions are outstanding,
and results are written (`sinks`) as soon as all earlier ones are, so the output is the
single-process output, line for line, and memory is bounded on both sides whatever the
input size. Scan agents connected to the same scheduler never get bulk work.

Where the workers share the client's file system (`shared`, true of a LocalCluster),
partitions travel as byte ranges of the input file and results as part files in a
temporary directory beside the output, which the client appends with a kernel copy or
renames into place: the data never passes through the client's Python objects or the
Dask comms. Otherwise (a remote scheduler) the bytes are scattered and gathered.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client

from camsweep.errors import InputError
from camsweep.kb import KnowledgeBase
from camsweep.scale import tasks
from camsweep.scale.chunks import Chunk, arrow_partitions, csv_partitions, line_chunks
from camsweep.scale.cluster import ClusterError
from camsweep.scale.dask_api import Fut, install, nthreads, scatter, uninstall, workers
from camsweep.scale.routes import agents
from camsweep.scale.sinks import PARQUET_ROWS, Sink, StreamSink, is_parquet, open_sink
from camsweep.scale.window import ordered_results

ProgressFn = Callable[[int], None]


@dataclass
class BulkRun:
    rows: int
    restricted: int
    partitions: int
    workers: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


MIN_BLOCK = 4 << 20
MAX_BLOCK = 128 << 20
# A register partition's memory on a worker follows its rows (verdict columns are added
# to every row) more than its bytes: a million rows peak near 1 GiB, half the 2 GiB bound.
# Fewer, bigger partitions cost less CPU in total (each repeats the per-distinct-value
# work), so partitions are as big as this allows.
MAX_ROWS = 1_000_000
MAX_LINES = 250_000  # JSONL: each output line (verdict and evidence trail) is ~1 KB


def block_size(total: int | None, workers: int, row_bytes: float | None = None,
               rows: int = MAX_ROWS) -> int:
    """Partition size in bytes: at most `rows` rows of `row_bytes` and MAX_BLOCK, and a
    partition count that is a multiple of the workers and at least two each when the
    input allows, so no worker is left to finish the last partition alone."""
    cap = MAX_BLOCK if row_bytes is None else min(MAX_BLOCK, int(rows * row_bytes))
    if total is None:
        return max(MIN_BLOCK, cap)
    # A partition ends at the last record that fits, so it falls short of its size by part
    # of a record; a margin keeps those shortfalls from adding up to one more partition.
    lanes = max(1, workers)
    count = max(2 * lanes, -(-total // max(1, cap - cap // 64)))
    count = -(-count // lanes) * lanes
    share = -(-total // count)
    return max(MIN_BLOCK, share + share // 64)


def row_bytes(stream: BinaryIO, sample: int = 1 << 20) -> float | None:
    """Average bytes per line over the first `sample` bytes of a seekable stream."""
    try:
        start = stream.tell()
        head = stream.read(sample)
        stream.seek(start)
    except (OSError, io.UnsupportedOperation):
        return None
    lines = head.count(b"\n")
    return len(head) / lines if lines else None


def _size(stream: BinaryIO) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, io.UnsupportedOperation, AttributeError):
        return None


@dataclass(frozen=True)
class Transfer:
    """How partitions reach workers and results come back (see the module docstring)."""

    source: Path | None = None  # the input file, when workers can read it themselves
    spill: Path | None = None  # a directory for part files, when workers can write there

    def send(self, client: Client, chunk: Chunk, workers: list[str]) -> tasks.FileRange | Fut:
        if self.source is not None and chunk.offset >= 0:
            return tasks.FileRange(str(self.source), chunk.offset, chunk.size)
        return scatter(client, chunk.data, workers=workers)

    @property
    def reads_files(self) -> bool:
        """Whether workers read the input themselves (so the client need not keep it)."""
        return self.source is not None


@contextmanager
def transfer(shared: bool, source: Path | None, near: Path | None) -> Iterator[Transfer]:
    """A `Transfer` for one run; its spill directory is made in `near` (the output's
    directory, so parts move into place by rename) and removed afterwards."""
    if not shared:
        yield Transfer()
        return
    with tempfile.TemporaryDirectory(prefix=".camsweep-parts-", dir=near) as spill:
        yield Transfer(source, Path(spill))


# (KB plugin name, partition, its data, the workers that may run it) -> the task
Start = Callable[[str, Chunk, "tasks.FileRange | Fut", list[str]], Fut]


def compute_workers(client: Client) -> dict[str, int]:
    """Workers that may run bulk tasks, with their threads: all but scan agents, which sit
    in remote sites to probe, not to crunch registers."""
    scanning = {a.address for a in agents(workers(client))}
    found = {w: n for w, n in sorted(nthreads(client).items()) if w not in scanning}
    if not found:
        raise ClusterError("the cluster has no workers for bulk identification (only scan "
                           "agents); start some with `dask worker SCHEDULER --tls-...`")
    return found


def _run(client: Client, kb: KnowledgeBase, partitions: Iterator[Chunk], start: Start,
         sink: Sink, name: str, move: Transfer, window: int | None,
         progress: ProgressFn | None, threads: dict[str, int]) -> BulkRun:
    started = time.perf_counter()
    crunchers = list(threads)
    shipped = f"camsweep-kb-{uuid.uuid4().hex[:12]}"
    install(client, tasks.KbPlugin(kb, shipped))
    count = 0

    def submissions() -> Iterator[Callable[[], Fut]]:
        nonlocal count
        for chunk in partitions:
            count += 1

            def submit(chunk: Chunk = chunk) -> Fut:
                return start(shipped, chunk, move.send(client, chunk, crunchers), crunchers)

            yield submit

    rows = restricted = 0
    try:
        for part in ordered_results(submissions(), window or 2 * sum(threads.values())):
            sink.write(part)
            rows += part.rows
            restricted += part.restricted
            if progress:
                progress(rows)
    except InputError as exc:
        raise InputError(f"{name}, {exc}") from exc
    finally:
        sink.close()
        uninstall(client, shipped)
    return BulkRun(rows, restricted, count, len(crunchers), time.perf_counter() - started)


def _spill(move: Transfer) -> str | None:
    return None if move.spill is None else str(move.spill)


def identify_jsonl(client: Client, kb: KnowledgeBase, source: BinaryIO, sink: BinaryIO, *,
                   name: str = "input", shared: bool = False, block: int | None = None,
                   window: int | None = None, progress: ProgressFn | None = None) -> BulkRun:
    """`identify --jsonl` on the cluster: `sink` receives the same bytes a local run writes.

    With `shared`, a `source` or `sink` that is a named file is read or written by the
    workers directly."""
    written = _file_of(sink)
    with transfer(shared, _file_of(source), written.parent if written else None) as move:
        spill = _spill(move)

        def start(shipped: str, chunk: Chunk, data: tasks.FileRange | Fut, on: list[str],
                  ) -> Fut:
            return client.submit(tasks.identify_lines, shipped, data, chunk.first_line,
                                 chunk.index, spill, pure=False, workers=on)

        threads = compute_workers(client)
        size = block or block_size(_size(source), sum(threads.values()), row_bytes(source),
                                   MAX_LINES)
        chunks = line_chunks(source, size, keep=not move.reads_files)
        return _run(client, kb, chunks, start, StreamSink(sink), name, move, window,
                    progress, threads)


def _file_of(stream: BinaryIO) -> Path | None:
    """The regular file behind a stream (None for pipes, terminals, memory)."""
    name = getattr(stream, "name", None)
    if not isinstance(name, str) or not Path(name).is_file():
        return None
    return Path(name).resolve()


def register_columns(path: Path) -> list[str]:
    """The column names of a CSV or Parquet register, reading only its header or footer."""
    try:
        if is_parquet(path):
            return list(pq.ParquetFile(str(path)).schema_arrow.names)
        with path.open("rb") as stream:
            header = csv_partitions(stream, 1 << 16).header
        return pl.read_csv(header, infer_schema=False, n_rows=0).columns
    except (OSError, pl.exceptions.PolarsError, pa.ArrowException) as exc:
        raise InputError(f"cannot read register {path}: {exc}") from exc


def identify_register(client: Client, kb: KnowledgeBase, path: Path, *,
                      renames: dict[str, str], out: Path | None = None,
                      parquet_dir: Path | None = None, shared: bool = False,
                      block: int | None = None, rows: int = PARQUET_ROWS,
                      window: int | None = None, progress: ProgressFn | None = None,
                      ) -> BulkRun:
    """`identify --csv` on the cluster: a CSV or Parquet register in; `out` (.csv or
    .parquet) or a partitioned Parquet directory out; rows in input order."""
    try:
        source = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read register {path}: {exc.strerror}") from exc
    near = parquet_dir if parquet_dir is not None else out.parent if out is not None else None
    with source, open_sink(out, parquet_dir) as (sink, output), \
            transfer(shared, path.resolve(), near) as move:
        threads = compute_workers(client)
        if is_parquet(path):
            header, partitions = b"", arrow_partitions(str(path), rows)
        else:
            size = block or block_size(_size(source), sum(threads.values()),
                                       row_bytes(source))
            split = csv_partitions(source, size, keep=not move.reads_files)
            header, partitions = split.header, split.chunks
        job = tasks.TableJob("arrow" if is_parquet(path) else "csv", output, header, renames,
                             _spill(move))

        def start(shipped: str, chunk: Chunk, data: tasks.FileRange | Fut, on: list[str],
                  ) -> Fut:
            return client.submit(tasks.identify_table, shipped, job, chunk.index, data,
                                 pure=False, workers=on)

        return _run(client, kb, partitions, start, sink, str(path), move, window, progress,
                    threads)

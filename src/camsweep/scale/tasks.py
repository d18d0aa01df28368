"""What a Dask worker runs for bulk identification: one partition in, its output out.

The functions are the single-process pure core (`identify.batch.run_jsonl`,
`identify.bulk.identify_frame`) applied to one partition, so the distributed run cannot
drift from the local one. Inputs and outputs are single buffers (JSONL or CSV text, Arrow
IPC, Parquet), never lists of Python objects, so moving them costs a memory copy, not a
pickle per row. On a cluster that shares the client's file system (a LocalCluster) they
do not move at all: a worker reads its byte range of the input file itself and leaves
its output in a part file for the client to append.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple

import polars as pl
import pyarrow as pa
from distributed import WorkerPlugin, get_worker

from camsweep.errors import InputError
from camsweep.kb import KnowledgeBase
from camsweep.scale.chunks import ipc_bytes, line_count

log = logging.getLogger(__name__)
_received: list[str] = []


class KbPlugin(WorkerPlugin):
    """The client's knowledge base, installed on every worker once per run.

    Workers identify with exactly the KB the client loaded (same version, same output as
    a local run). Dask pickles a plugin once and hands it to each worker as it is
    registered (and to workers that join later), so the KB crosses the wire once per
    worker, not once per task; unpickling is counted to show it.
    """

    def __init__(self, kb: KnowledgeBase, name: str) -> None:
        self.kb = kb
        self.name = name

    def __getstate__(self) -> dict[str, Any]:
        return {"kb": self.kb, "name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.kb = state["kb"]
        self.name = state["name"]
        _received.append(self.kb.version)
        log.info("knowledge base %s received (pid %d)", self.kb.version, os.getpid())


def kb_receipts() -> list[str]:
    """KB versions this process has unpickled, in order (one per run on a worker)."""
    return list(_received)


def shipped_kb(name: str) -> KnowledgeBase:
    """The knowledge base the run `name` installed on this worker."""
    plugin = get_worker().plugins.get(name)
    if not isinstance(plugin, KbPlugin):
        raise RuntimeError(f"worker has no knowledge base for run {name}")
    return plugin.kb


class Part(NamedTuple):
    """What a worker sends back for one partition: counts (restricted is counted for
    registers only), and the output bytes, or the part file that holds them."""

    rows: int
    restricted: int
    payload: bytes
    path: str | None = None


@dataclass(frozen=True)
class FileRange:
    """A partition's bytes, left in the input file for the worker to read."""

    path: str
    offset: int
    length: int

    def read(self) -> bytes:
        with Path(self.path).open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read(self.length)
        if len(data) != self.length:
            raise InputError(f"{self.path} changed while it was being read")
        return data


Input = bytes | FileRange


def _bytes(data: Input) -> bytes:
    return data.read() if isinstance(data, FileRange) else data


Writer = Callable[[BinaryIO], object]


def _emit(write: Writer, index: int, spill: str | None) -> tuple[bytes, str | None]:
    """The output in memory, or with `spill` (a directory on the client's file system) in
    a part file there, written under a temporary name and renamed so it is whole when
    seen: (bytes, None) or (b"", path)."""
    if spill is None:
        buffer = io.BytesIO()
        write(buffer)
        return buffer.getvalue(), None
    final = Path(spill) / f"part-{index:06d}"
    partial = final.with_name(final.name + ".partial")
    with partial.open("wb") as handle:
        write(handle)
    partial.replace(final)
    return b"", str(final)


def identify_lines(kb_name: str, source: Input, first_line: int, index: int,
                   spill: str | None = None) -> Part:
    """A JSONL partition: output lines exactly as `identify --jsonl` writes them, written
    as they are made (a partition's output is several times its input)."""
    from camsweep.identify.batch import run_jsonl

    data = _bytes(source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + line_count(data, exc.start)
        raise InputError(f"line {line}: not UTF-8 text") from exc
    del data
    kb = shipped_kb(kb_name)
    count = 0

    def write(handle: BinaryIO) -> None:
        nonlocal count
        for line in run_jsonl(io.StringIO(text, newline=None), kb, first_line):
            handle.write(line.encode("utf-8") + b"\n")
            count += 1

    payload, path = _emit(write, index, spill)
    return Part(count, 0, payload, path)


Output = Literal["csv", "parquet", "arrow"]


@dataclass(frozen=True)
class TableJob:
    """How to read a register partition and what to write back.

    `header` is the CSV header record put in front of each CSV partition (empty for
    Arrow input); `renames` maps register headers to the evidence column names the bulk
    path reads (and back afterwards); `output` is CSV text (the header only on the first
    partition), a Parquet file, or an Arrow IPC stream for the client to write.
    """

    source: Literal["csv", "arrow"]
    output: Output
    header: bytes = b""
    renames: dict[str, str] = field(default_factory=dict)
    spill: str | None = None


def read_partition(job: TableJob, data: bytes) -> pl.DataFrame:
    if job.source == "csv":
        return pl.read_csv(job.header + data, infer_schema=False)
    frame = pl.from_arrow(pa.ipc.open_stream(data).read_all())
    assert isinstance(frame, pl.DataFrame)
    return frame


def identify_table(kb_name: str, job: TableJob, index: int, source: Input) -> Part:
    """A register partition with the verdict columns appended."""
    from camsweep.identify.bulk import identify_frame

    frame = read_partition(job, _bytes(source))
    back = {v: k for k, v in job.renames.items()}
    result = identify_frame(frame.rename(job.renames), shipped_kb(kb_name)).rename(back)
    restricted = int(result.get_column("restricted").sum())
    payload, path = _emit(partition_writer(result, job.output, index == 0), index, job.spill)
    return Part(result.height, restricted, payload, path)


def partition_writer(result: pl.DataFrame, output: Output, first: bool) -> Writer:
    """How one partition's result is written: CSV (the header on the first only), a
    Parquet file, or an Arrow IPC stream."""
    if output == "csv":
        return lambda handle: result.write_csv(handle, include_header=first)
    if output == "parquet":
        return result.write_parquet
    return lambda handle: handle.write(ipc_bytes(result.to_arrow()))

"""Where bulk results go, partition by partition, in input order.

CSV and JSONL text is appended to one stream (from a part file by a kernel copy when the
worker left one); Arrow partitions become row groups of one Parquet file; Parquet
partitions become the parts of a partitioned data set. The same sinks serve the local
engine's `--parquet-out`, so both engines write the same data set.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from camsweep.errors import InputError
from camsweep.scale import tasks

PARQUET_ROWS = 250_000


def _append_file(stream: BinaryIO, path: Path) -> None:
    """Append a file's bytes to `stream` with the kernel copying, where it can."""
    stream.flush()
    with path.open("rb") as source:
        size = os.fstat(source.fileno()).st_size
        copied = 0
        # A pipe, another file system on an old kernel, or no fileno: copy the rest here.
        with contextlib.suppress(OSError, io.UnsupportedOperation, AttributeError):
            while copied < size:
                done = os.copy_file_range(source.fileno(), stream.fileno(), size - copied)
                if done == 0:
                    break
                copied += done
        if copied < size:
            source.seek(copied)
            shutil.copyfileobj(source, stream, 1 << 20)


class Sink(Protocol):
    def write(self, part: tasks.Part) -> None: ...

    def close(self) -> None: ...


class StreamSink:
    """Text output (JSONL, CSV) appended to a binary stream as partitions arrive."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def write(self, part: tasks.Part) -> None:
        if part.path is None:
            self.stream.write(part.payload)
            return
        path = Path(part.path)
        try:
            _append_file(self.stream, path)
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        self.stream.flush()


class ParquetFileSink:
    """One Parquet file from the partitions' Arrow IPC streams, a row group or more each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, part: tasks.Part) -> None:
        if part.path is None:
            table = pa.ipc.open_stream(part.payload).read_all()
        else:
            with pa.memory_map(part.path) as source:
                table = pa.ipc.open_stream(source).read_all()
            Path(part.path).unlink(missing_ok=True)
        if self._writer is None:
            self._writer = pq.ParquetWriter(str(self.path), table.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class ParquetDirSink:
    """A partitioned Parquet data set: `part-000000.parquet`, ... in input order.

    Each part appears whole (renamed from a temporary name); parts of an earlier run in
    the directory are an error, not a mix.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        old = sorted(directory.glob("part-*.parquet"))
        if old:
            raise InputError(f"{directory} already holds {len(old)} part file(s) "
                             f"({old[0].name}, ...): choose an empty directory")
        self.directory = directory
        self.parts = 0

    def write(self, part: tasks.Part) -> None:
        final = self.directory / f"part-{self.parts:06d}.parquet"
        if part.path is None:
            partial = final.with_suffix(".parquet.partial")
            partial.write_bytes(part.payload)
            partial.replace(final)
        else:
            shutil.move(part.path, final)
        self.parts += 1

    def close(self) -> None:
        return None


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet"


@contextmanager
def open_sink(out: Path | None, parquet_dir: Path | None) -> Iterator[tuple[Sink, tasks.Output]]:
    """Where a register's results go, and the form workers should send them in: CSV text
    to append, Arrow to write into one Parquet file, or whole Parquet parts."""
    if (out is None) == (parquet_dir is None):
        raise InputError("give one output: a .csv or .parquet file, or a Parquet directory")
    if parquet_dir is not None:
        yield ParquetDirSink(parquet_dir), "parquet"
        return
    assert out is not None
    if is_parquet(out):
        yield ParquetFileSink(out), "arrow"
        return
    try:
        stream = out.open("wb")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from exc
    with stream:
        yield StreamSink(stream), "csv"


def write_parquet_parts(frame: pl.DataFrame, directory: Path, rows: int = PARQUET_ROWS) -> int:
    """A frame as the partitioned Parquet data set the distributed path writes; parts."""
    sink = ParquetDirSink(directory)
    for offset in range(0, max(frame.height, 1), rows):
        buffer = io.BytesIO()
        frame.slice(offset, rows).write_parquet(buffer)
        sink.write(tasks.Part(0, 0, buffer.getvalue()))
    return sink.parts

"""Cutting an input file into partitions without reading it whole.

A partition boundary must fall where the single-process reader would also end a record,
or the partitions would not add up to the same records: after a line terminator for
JSONL (never between the CR and LF of one CRLF), after a newline outside quotes for CSV
(a quoted cell may hold newlines; RFC 4180 escapes a quote by doubling it, so a newline
ends a record exactly when an even number of quotes precedes it), and between row
batches for Parquet. Reading is sequential in blocks of about `size` bytes, so memory
stays at a few blocks whatever the file size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_BLOCK = 64 << 20


@dataclass(frozen=True)
class Chunk:
    """One partition: its place in the input, the input line it starts on, where its bytes
    start in the file and how many there are, and the bytes themselves unless the caller
    only wanted them located (a worker on the same file system reads them itself).
    Row batches have no byte range (offset -1)."""

    index: int
    first_line: int
    data: bytes
    offset: int = -1
    length: int = -1

    @property
    def size(self) -> int:
        return self.length if self.length >= 0 else len(self.data)


Buffer = bytes | bytearray


def line_count(data: Buffer, end: int | None = None) -> int:
    """Lines ended in `data[:end]` under universal newlines (LF, CRLF or a lone CR)."""
    stop = len(data) if end is None else end
    return (data.count(b"\n", 0, stop) + data.count(b"\r", 0, stop)
            - data.count(b"\r\n", 0, stop))


def _line_cut(block: Buffer, filled: int) -> int:
    """Where the last whole line of `block[:filled]` ends (0: none yet). A CR as the very
    last byte may be the first half of a CRLF, so it does not end a line until more is
    read."""
    lf = block.rfind(b"\n", 0, filled)
    cr = block.rfind(b"\r", 0, filled)
    if cr == filled - 1:
        cr = block.rfind(b"\r", 0, cr)
    return max(lf, cr) + 1


def _record_cut(block: Buffer, filled: int) -> int:
    """Just past the last newline of `block[:filled]` outside quotes (0: none). The block
    starts at a record boundary, so quotes before a newline are counted from its start."""
    end = block.rfind(b"\n", 0, filled)
    while end >= 0 and block.count(b'"', 0, end) % 2:
        end = block.rfind(b"\n", 0, end)
    return end + 1


def _header_cut(block: Buffer, filled: int) -> int:
    """Just past the first newline outside quotes (0: none)."""
    end = block.find(b"\n", 0, filled)
    while end >= 0 and block.count(b'"', 0, end) % 2:
        end = block.find(b"\n", end + 1, filled)
    return end + 1


class _Reader:
    """A stream read into one reusable buffer, consumed from the front: a partition is cut
    at the last record end in a full buffer, and the rest moves to the front for the next
    read. No allocation per block, so scanning a file costs about what reading it does."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.buffer = bytearray(max(1, size))
        self.filled = 0
        self.offset = 0  # of buffer[0] in the input
        self.ended = False

    def fill(self) -> None:
        while self.filled < len(self.buffer) and not self.ended:
            with memoryview(self.buffer) as view, view[self.filled:] as free:
                count = self.stream.readinto(free)  # type: ignore[attr-defined]
            if not count:
                self.ended = True
            else:
                self.filled += count

    def grow(self) -> None:
        """Make room when one record is longer than the buffer."""
        self.buffer.extend(bytes(len(self.buffer)))

    def take(self, end: int, keep: bool) -> bytes:
        data = b""
        if keep:
            with memoryview(self.buffer) as view:
                data = bytes(view[:end])
        rest = self.filled - end
        self.buffer[:rest] = self.buffer[end:self.filled]
        self.filled = rest
        self.offset += end
        return data

    def cut(self, find: Callable[[Buffer, int], int]) -> int:
        """Fill, then find a cut; grow and retry while a record outruns the buffer."""
        while True:
            self.fill()
            if self.ended:
                return self.filled
            end = find(self.buffer, self.filled)
            if end:
                return end
            self.grow()


def line_chunks(stream: BinaryIO, size: int = DEFAULT_BLOCK, keep: bool = True,
                ) -> Iterator[Chunk]:
    """Line-aligned partitions of a text stream (JSONL), each numbered by its first line."""
    reader = _Reader(stream, size)
    line, index = 1, 0
    while True:
        end = reader.cut(_line_cut)
        if end == 0:
            return
        lines = line_count(reader.buffer, end)
        offset = reader.offset
        yield Chunk(index, line, reader.take(end, keep), offset, end)
        index += 1
        line += lines


@dataclass
class CsvPartitions:
    """A CSV file as its header record and record-aligned partitions of the rest.

    Each partition is parsed on its own with the header in front, so a partition must
    never end inside a quoted cell. A register with no rows is one empty partition.
    """

    header: bytes
    chunks: Iterator[Chunk]


def csv_partitions(stream: BinaryIO, size: int = DEFAULT_BLOCK, keep: bool = True,
                   ) -> CsvPartitions:
    reader = _Reader(stream, size)
    header = reader.take(reader.cut(_header_cut), keep=True)

    def body() -> Iterator[Chunk]:
        index = 0
        while True:
            end = reader.cut(_record_cut)
            if end or index == 0:
                offset = reader.offset
                yield Chunk(index, 0, reader.take(end, keep), offset, end)
                index += 1
            if reader.ended and reader.filled == 0:
                return

    return CsvPartitions(header, body())


def arrow_partitions(path: str, rows: int) -> Iterator[Chunk]:
    """Row batches of a Parquet file as Arrow IPC streams (one buffer each, no Python
    objects per row), read a batch at a time."""
    source = pq.ParquetFile(path)
    index = 0
    for batch in source.iter_batches(batch_size=rows):
        yield Chunk(index, 0, ipc_bytes(pa.Table.from_batches([batch])))
        index += 1
    if index == 0:
        yield Chunk(0, 0, ipc_bytes(source.schema_arrow.empty_table()))


def ipc_bytes(table: pa.Table) -> bytes:
    """An Arrow table as one IPC stream buffer."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())

"""Partitions of an input add up to exactly the records the single-process reader sees."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from camsweep.scale.chunks import arrow_partitions, csv_partitions, line_chunks, line_count
from camsweep.scale.tasks import FileRange

_cell_text = st.text(alphabet='a,"\n\r é', max_size=8)
_cell = st.one_of(
    st.just(""),
    st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True),
    _cell_text.map(lambda t: '"' + t.replace('"', '""') + '"'),
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    columns = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(_cell, min_size=columns, max_size=columns), max_size=25))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    header = ",".join(f"c{i}" for i in range(columns))
    lines = [header, *(",".join(r) for r in rows)]
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    return text.encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(csv_files(), st.integers(1, 64))
def test_csv_partitions_hold_whole_records(data: bytes, size: int) -> None:
    parts = csv_partitions(io.BytesIO(data), size)
    chunks = list(parts.chunks)
    assert parts.header + b"".join(c.data for c in chunks) == data
    for chunk in chunks:  # each partition's bytes are where its offset says
        assert data[chunk.offset:chunk.offset + chunk.size] == chunk.data
    located = list(csv_partitions(io.BytesIO(data), size, keep=False).chunks)
    assert [(c.offset, c.size) for c in located] == [(c.offset, c.size) for c in chunks]
    assert all(c.data == b"" for c in located)
    whole = pl.read_csv(data, infer_schema=False)
    pieces = [pl.read_csv(parts.header + c.data, infer_schema=False) for c in chunks]
    assert pl.concat(pieces).equals(whole)


def test_a_quoted_newline_never_ends_a_partition() -> None:
    data = b'id,note\n1,"first\nsecond"\n2,"x"\n3,y\n'
    cuts = [c.data for c in csv_partitions(io.BytesIO(data), 6).chunks]
    assert cuts[0].startswith(b'1,"first\nsecond"\n') and len(cuts) > 1
    assert b"".join(cuts) == data[len(b"id,note\n"):]
    assert all(cut.endswith(b"\n") and cut.count(b'"') % 2 == 0 for cut in cuts)


def test_a_header_only_register_is_one_empty_partition() -> None:
    parts = csv_partitions(io.BytesIO(b"brand,model\n"), 4)
    assert parts.header == b"brand,model\n"
    assert [c.data for c in parts.chunks] == [b""]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(['{"id": "a"}', "x", "", "  ", "é"]), max_size=20),
       st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=20, max_size=20),
       st.booleans(), st.integers(1, 40))
def test_line_chunks_number_lines_as_text_mode_does(lines: list[str], ends: list[str],
                                                    last_end: bool, size: int) -> None:
    text = "".join(line + end for line, end in zip(lines, ends, strict=False))
    if not last_end and lines:
        text = text.rstrip("\r\n") if text.endswith(("\n", "\r")) else text
    data = text.encode("utf-8")
    chunks = list(line_chunks(io.BytesIO(data), size))
    assert b"".join(c.data for c in chunks) == data
    expected = list(io.StringIO(text, newline=None))
    got: list[tuple[int, str]] = []
    for chunk in chunks:
        assert not chunk.data.startswith(b"\n") or chunk.index == 0 or not chunks[
            chunk.index - 1].data.endswith(b"\r")  # a CRLF is never split
        got += list(enumerate(io.StringIO(chunk.data.decode("utf-8"), newline=None),
                              start=chunk.first_line))
    assert [line for _, line in got] == expected
    assert [n for n, _ in got] == list(range(1, len(expected) + 1))


def test_line_count_counts_each_terminator_once() -> None:
    assert line_count(b"a\r\nb\rc\n\n") == 4
    assert line_count(b"no end") == 0


def test_file_range_reads_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"0123456789")
    assert FileRange(str(path), 3, 4).read() == b"3456"


def test_arrow_partitions_are_row_batches_in_order(tmp_path: Path) -> None:
    path = tmp_path / "register.parquet"
    table = pa.table({"brand": [f"b{i}" for i in range(1000)]})
    pq.write_table(table, path, row_group_size=300)
    parts = list(arrow_partitions(str(path), 256))
    frames = [pl.from_arrow(pa.ipc.open_stream(p.data).read_all()) for p in parts]
    assert [p.index for p in parts] == list(range(len(parts)))
    assert pl.concat(frames).get_column("brand").to_list() == table.column("brand").to_pylist()

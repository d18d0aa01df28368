"""Streaming what network logs record: chunks of whole lines, malformed-line accounting, times.

Logs run to gigabytes and come rotated and gzipped, so nothing here holds a file: `LogFile`
yields byte chunks that end on a line break, each with the number of its first line, and
hashes the file as it goes (a re-import is recognised without a second read). Readers hand
chunks to Polars or Arrow whole; a line that does not parse is counted and kept with its file
and line number in `LineErrors` (all of them streamed to `--errors-out`), never dropped.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import polars as pl

from camsweep.errors import InputError, RowError

CHUNK_BYTES = 8 << 20
HEAD_BYTES = 64 << 10
KEEP_ERRORS = 1000
TEXT_SHOWN = 200
GZIP_MAGIC = b"\x1f\x8b"

Progress = Callable[[int], None]  # raw (on-disk) bytes consumed since the last call


@dataclass(frozen=True)
class Chunk:
    """Whole lines of one file: `data` starts at line `first_line` (1-based)."""

    data: bytes
    first_line: int
    lines: int


class _Hashing(io.RawIOBase):
    """Hashes and counts the raw bytes a (gzip) reader pulls through it.

    Hashing runs on a worker thread (hashlib lets go of the GIL), so it overlaps parsing
    instead of adding to it; one worker keeps the blocks in order.
    """

    def __init__(self, raw: IO[bytes], on_bytes: Progress | None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.raw = raw
        self.digest = hashlib.sha256()
        self.on_bytes = on_bytes
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        self._pending: Any = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n:
            if self._pending is not None:  # one block in flight: memory stays bounded
                self._pending.result()
            self._pending = self._worker.submit(self.digest.update, data)
        if self.on_bytes and n:
            self.on_bytes(n)
        return n

    def hexdigest(self) -> str:
        self._worker.shutdown(wait=True)
        return self.digest.hexdigest()


def count_byte(data: bytes, byte: int) -> int:
    """Occurrences of one byte value, vectorised (bytes.count is a byte-at-a-time loop)."""
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == byte))


def count_lines(data: bytes) -> int:
    return count_byte(data, 10)


def find_line_start(data: bytes, char: bytes, start: int = 0) -> int:
    """Offset of the first line at or after `start` that begins with `char`, or -1.

    memchr for the character, then a look at the byte before: many times faster than
    searching for newline+char when newlines are everywhere and `char` almost nowhere.
    """
    i = data.find(char, start)
    while i > 0 and data[i - 1] != 10:
        i = data.find(char, i + 1)
    return i


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


class LogFile:
    """One input file, plain or gzip (by content, not by name)."""

    def __init__(self, path: Path, chunk_bytes: int | None = None) -> None:
        self.path = path
        self.name = str(path)
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES
        try:
            self.size = path.stat().st_size
            self.gzip = is_gzip(path)
        except OSError as exc:
            raise InputError.of(self.name, [RowError(self.name, None, None,
                                                     f"cannot read: {exc.strerror}")]) from exc
        self.sha256: str | None = None
        self.lines = 0

    def head(self, size: int = HEAD_BYTES) -> bytes:
        """The first bytes of the (decompressed) text, for format detection."""
        try:
            with (gzip.open(self.path, "rb") if self.gzip else self.path.open("rb")) as fh:
                return bytes(fh.read(size))
        except (OSError, EOFError) as exc:
            raise InputError.of(self.name, [RowError(self.name, None, None,
                                                     f"cannot read: {exc}")]) from exc

    def chunks(self, on_bytes: Progress | None = None) -> Iterator[Chunk]:
        """Chunks of whole lines; sets `sha256` and `lines` once the file is read through."""
        with self.path.open("rb") as raw:
            hashing = _Hashing(raw, on_bytes)
            reader: Any = (gzip.GzipFile(fileobj=io.BufferedReader(hashing, 1 << 20))
                                 if self.gzip else io.BufferedReader(hashing, 1 << 20))
            line = 1
            rest = b""
            try:
                while True:
                    block = reader.read(self.chunk_bytes)
                    if not block:
                        break
                    cut = block.rfind(b"\n") + 1
                    if cut == 0:
                        rest += block
                        continue
                    data = rest + block[:cut] if rest else block[:cut]
                    rest = block[cut:]
                    n = count_lines(data)
                    yield Chunk(data, line, n)
                    line += n
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise InputError.of(self.name, [RowError(
                    self.name, line, None, f"cannot read past line {line}: {exc}")]) from exc
            if rest:
                yield Chunk(rest + b"\n", line, 1)
                line += 1
            self.sha256 = hashing.hexdigest()
            self.lines = line - 1


@dataclass
class LineErrors:
    """Every malformed line counted; the first `keep` kept; all written to `out` if given."""

    out: Path | None = None
    keep: int = KEEP_ERRORS
    count: int = 0
    kept: list[RowError] = field(default_factory=list)
    _fh: IO[str] | None = None
    _writer: Any = None

    def add(self, file: str, line: int | None, reason: str, text: str | None = None,
            column: str | None = None) -> None:
        self.count += 1
        error = RowError(file, line, column, reason if text is None
                         else f"{reason}: {text[:TEXT_SHOWN]!r}")
        if len(self.kept) < self.keep:
            self.kept.append(error)
        if self.out is not None:
            if self._writer is None:
                self._fh = self.out.open("w", newline="", encoding="utf-8")
                self._writer = csv.writer(self._fh)
                self._writer.writerow(["file", "row", "column", "reason", "text"])
            self._writer.writerow([file, "" if line is None else line, column or "", reason,
                                   "" if text is None else text])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def lines_frame(chunk: Chunk) -> pl.Series:
    """One string per line (blank lines as ""), row i being line `first_line + i`."""
    text = chunk.data.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return pl.Series("line", [s[:-1] if s.endswith("\r") else s for s in lines],
                     dtype=pl.String)


def line_numbers(chunk: Chunk, mask: pl.Series) -> list[int]:
    """File line numbers of the rows where `mask` holds (rows map 1:1 to the chunk's lines)."""
    return [chunk.first_line + int(i) for i in mask.arg_true().to_list()]


# --- times --------------------------------------------------------------------------------

_ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y/%m/%d %H:%M:%S%.f",
                "%d/%m/%Y %H:%M:%S%.f", "%Y-%m-%dT%H:%M%.f")
_OFFSET_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z")
_UTC_DTYPE = pl.Datetime("us")


def naive_utc(expr: pl.Expr, tz: str) -> pl.Expr:
    """Local times in `tz` as naive UTC (a time that does not exist there becomes null)."""
    if tz == "UTC":
        return expr
    return (expr.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC").dt.replace_time_zone(None))


def epoch_expr(col: str) -> pl.Expr:
    """Epoch seconds, milliseconds or microseconds (told apart by size) as naive UTC."""
    num = pl.col(col).cast(pl.Float64, strict=False)
    micros = (pl.when(num > 1e14).then(num).when(num > 1e11).then(num * 1e3)
              .otherwise(num * 1e6))
    return pl.from_epoch(micros.round(0).cast(pl.Int64, strict=False), time_unit="us")


def parse_times(frame: pl.DataFrame, col: str, tz: str = "UTC") -> pl.Series:
    """Any common log time in `col` as naive UTC datetimes; null where none fits.

    Epoch numbers, ISO 8601 with `Z` or an offset (converted), and ISO-like local times
    (read in `tz`). Each format is tried on the whole column at once.
    """
    source = frame.get_column(col)
    if source.dtype in (pl.Float64, pl.Int64, pl.Float32, pl.Int32):
        return frame.select(epoch_expr(col)).to_series().alias("ts")
    text = pl.col(col).str.strip_chars()
    attempts: list[pl.Expr] = [
        pl.when(text.str.contains(r"^\d{9,17}(?:\.\d*)?$")).then(epoch_expr(col)),
        pl.when(text.str.ends_with("Z")).then(
            text.str.strip_suffix("Z").str.replace("T", " ", literal=True)
            .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")),
    ]
    for fmt in _OFFSET_FORMATS:
        attempts.append(text.str.to_datetime(fmt, strict=False, time_unit="us")
                        .dt.convert_time_zone("UTC").dt.replace_time_zone(None))
    for fmt in _ISO_FORMATS:
        attempts.append(naive_utc(text.str.to_datetime(fmt, strict=False, time_unit="us"), tz))
    out = frame.select(pl.coalesce([a.cast(_UTC_DTYPE) for a in attempts]).alias("ts"))
    return out.to_series()


def syslog_times(frame: pl.DataFrame, col: str, reference: date, tz: str = "UTC") -> pl.Series:
    """`Nov 27 10:00:01` (no year, as syslog and dnsmasq write it) as naive UTC.

    The year is the reference date's (the file's modification time), or the year before
    for a month after the reference month: a log rolled over New Year.
    """
    text = pl.col(col).str.replace_all(r"\s+", " ")
    parsed = [(pl.lit(str(year)) + " " + text).str.to_datetime(
        "%Y %b %d %H:%M:%S%.f", strict=False, time_unit="us") for year in
        (reference.year, reference.year - 1)]
    limit = datetime(reference.year, reference.month, reference.day) + _DAY
    local = pl.when(parsed[0] > pl.lit(limit)).then(parsed[1]).otherwise(parsed[0])
    return frame.select(naive_utc(local, tz).alias("ts")).to_series()


_DAY = datetime(2000, 1, 2) - datetime(2000, 1, 1)


def check_timezone(tz: str) -> str:
    """An IANA zone name (or UTC), checked before any file is read."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"--tz {tz!r} is not a time zone; use an IANA name such as "
                         "Europe/London, or UTC") from exc
    return tz


# --- what readers yield ---------------------------------------------------------------------


@dataclass
class LogBatch:
    """Records of one chunk, in the shapes matching works on (any part may be absent).

    - `queries`: ts, client, query, answers (comma-separated, nullable): who asked for what.
    - `flows`: ts, src, dst, dport (Int64), proto, host (nullable): who talked to where.
    - `bindings`: ts, ip, mac: DHCP acknowledgements seen in the same log.
    - `replies`: name, address: what the resolver answered (dnsmasq `reply`/`cached` lines).
    """

    queries: pl.DataFrame | None = None
    flows: pl.DataFrame | None = None
    bindings: pl.DataFrame | None = None
    replies: pl.DataFrame | None = None
    # Typing and checking every record of a large log costs more than matching it, so
    # readers may leave `ts` (and other fields) raw and say here how to finish the records
    # that matched: types, unset marks, malformed values reported with their lines.
    finish: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    def finished(self, frame: pl.DataFrame) -> pl.DataFrame:
        return self.finish(frame) if self.finish is not None else frame


@dataclass(frozen=True)
class ReadOptions:
    tz: str = "UTC"
    reference: date | None = None  # for year-less syslog times; default the file's mtime


def file_date(path: Path) -> date:
    return datetime.fromtimestamp(path.stat().st_mtime).date()


# --- Zeek (TSV with #fields headers, or JSON lines) ----------------------------------------

ZEEK_UNSET = ("-", "(empty)")


def zeek_value(col: str) -> pl.Expr:
    """A Zeek field with its unset marks as nulls."""
    return pl.when(~pl.col(col).is_in(ZEEK_UNSET)).then(pl.col(col)).alias(col)


def _split_comments(chunk: Chunk) -> list[tuple[bool, bytes, int]]:
    """(is_comment, bytes, first line) runs: Zeek headers stand between runs of records."""
    data = chunk.data
    if find_line_start(data, b"#") < 0:
        return [(False, data, chunk.first_line)]
    runs: list[tuple[bool, bytes, int]] = []
    pos, line = 0, chunk.first_line
    while pos < len(data):
        comment = data.startswith(b"#", pos)
        if comment:  # a run of header lines: up to the first line not starting with '#'
            end = pos
            while end < len(data) and data.startswith(b"#", end):
                end = data.find(b"\n", end) + 1 or len(data)
        else:
            found = find_line_start(data, b"#", pos)
            end = len(data) if found < 0 else found
        runs.append((comment, data[pos:end], line))
        line += count_lines(data[pos:end])
        pos = end
    return runs


class ZeekHeader:
    """The `#fields` (and `#path`) of the records that follow, updated as headers recur."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: list[str] = []
        self.path: str | None = None

    def read(self, data: bytes, first_line: int) -> None:
        for offset, raw in enumerate(data.decode("utf-8", "replace").splitlines()):
            key, _, value = raw.partition("\t")
            if key == "#separator" and value.strip() not in ("\\x09", "\t"):
                raise InputError.of(f"Zeek log {self.name}", [RowError(
                    self.name, first_line + offset, None,
                    f"separator {value.strip()!r} is not supported; Zeek's default is a tab")])
            if key == "#fields":
                self.fields = value.split("\t")
            elif key == "#path":
                self.path = value.strip()


Keep = Callable[[pl.Series], pl.Series]  # a key column -> which of its rows are wanted


def zeek_tsv(file: LogFile, wanted: list[str], errors: LineErrors,
             on_bytes: Progress | None = None, key: str | None = None,
             keep: Keep | None = None) -> Iterator[pl.DataFrame]:
    """Frames of the `wanted` fields as raw strings, plus each record's file `line`.

    Records with too few or too many fields, or before any `#fields` header, are counted as
    malformed with their line numbers and left out. Zeek's unset marks (`-`, `(empty)`) stay
    as written: readers clear them only on the few records that match. With `key` and
    `keep`, only the key field is parsed for every record; the other fields are read only
    for the records `keep` wants (typing every field of every record costs more than the rest
    of the import together).
    """
    header = ZeekHeader(file.name)
    for chunk in file.chunks(on_bytes):
        for comment, data, first in _split_comments(chunk):
            if comment:
                header.read(data, first)
                continue
            if not header.fields:
                for offset, line in enumerate(data.decode("utf-8", "replace").splitlines()):
                    if line.strip():
                        errors.add(file.name, first + offset, "record before any #fields "
                                   "header (not a Zeek TSV log?)", line)
                continue
            missing = [w for w in wanted if w not in header.fields]
            if missing:
                raise InputError.of(f"Zeek log {file.name}", [RowError(
                    file.name, first, None, f"#fields has no {', '.join(missing)} "
                    f"(path {header.path or 'unknown'}); is this the right log?")])
            frame = _zeek_segment(file.name, data, first, header.fields, wanted, errors,
                                  key if keep is not None else None, keep)
            if frame.height:
                yield frame


def _zeek_segment(name: str, data: bytes, first: int, fields: list[str], wanted: list[str],
                  errors: LineErrors, key: str | None = None,
                  keep: Keep | None = None) -> pl.DataFrame:
    parsed = [key] if key is not None else wanted
    index = [fields.index(w) for w in parsed]
    last = len(fields) - 1
    projection = sorted({*index, last})
    try:
        raw = pl.read_csv(io.BytesIO(data), separator="\t", has_header=False, quote_char=None,
                          columns=projection, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.PolarsError:  # e.g. a short first line fixed the width too narrow
        raw = None
    # Polars takes the width from the first line and refuses longer lines after it; a shorter
    # (or blank) line leaves the last field empty. So a first line of the right width and no
    # empty last field prove the whole chunk; otherwise go line by line.
    first_tabs = data.count(b"\t", 0, data.find(b"\n"))
    if raw is None or raw.get_column(f"column_{last}").null_count() or first_tabs != last:
        frame = _zeek_segment_slow(name, data, first, fields, wanted, errors)
        return frame.filter(keep(frame.get_column(key))) if key and keep else frame
    frame = raw.select(*(pl.col(f"column_{i}").alias(w) for i, w in zip(index, parsed,
                                                                          strict=True)),
                       pl.int_range(first, first + pl.len(), dtype=pl.Int64).alias("line"))
    if key is None or keep is None:
        return frame
    return _fields_of_rows(data, keep(frame.get_column(key)).arg_true().to_list(), first,
                           fields, wanted)


def _fields_of_rows(data: bytes, rows: list[int], first: int, fields: list[str],
                    wanted: list[str]) -> pl.DataFrame:
    """The `wanted` fields of some rows (row i = line i of the chunk): their lines are cut
    out of the bytes and parsed again, all at once."""
    import numpy as np

    schema = {**dict.fromkeys(wanted, pl.String), "line": pl.Int64}
    if not rows:
        return pl.DataFrame(schema=schema)
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    picked = np.asarray(rows, dtype=np.int64)
    stops = ends[picked].tolist()
    starts = np.where(picked > 0, ends[np.maximum(picked - 1, 0)] + 1, 0).tolist()
    blob = b"\n".join([data[a:b] for a, b in zip(starts, stops, strict=True)]) + b"\n"
    index = [fields.index(w) for w in wanted]
    raw = pl.read_csv(io.BytesIO(blob), separator="\t", has_header=False, quote_char=None,
                      columns=sorted(set(index)), infer_schema=False, encoding="utf8-lossy")
    return raw.select(*(pl.col(f"column_{i}").str.strip_suffix("\r").alias(w)
                        for i, w in zip(index, wanted, strict=True)),
                      pl.Series("line", [first + r for r in rows], dtype=pl.Int64))


def _zeek_segment_slow(name: str, data: bytes, first: int, fields: list[str],
                       wanted: list[str], errors: LineErrors) -> pl.DataFrame:
    """Line by line, for the rare chunk with a line of too many fields."""
    rows: list[list[Any]] = []
    for offset, line in enumerate(data.decode("utf-8", "replace").splitlines()):
        parts = line.split("\t")
        if len(parts) == len(fields):
            rows.append([*(parts[fields.index(w)] for w in wanted), first + offset])
        elif line.strip():
            errors.add(name, first + offset, f"expected {len(fields)} tab-separated fields, "
                       f"got {len(parts)}", line)
    return pl.DataFrame(rows, schema={**dict.fromkeys(wanted, pl.String), "line": pl.Int64},
                        orient="row")


def zeek_json(file: LogFile, wanted: list[str], errors: LineErrors,
              on_bytes: Progress | None = None) -> Iterator[pl.DataFrame]:
    """As `zeek_tsv`, for Zeek's JSON-lines output (LogAscii::use_json)."""
    import json

    schema: dict[str, Any] = {w: pl.List(pl.String) if w == "answers" else pl.String
                              for w in wanted}
    for chunk in file.chunks(on_bytes):
        frame: pl.DataFrame | None = None
        if b"\n\n" not in chunk.data and not chunk.data.startswith(b"\n"):
            try:
                frame = pl.read_ndjson(io.BytesIO(chunk.data), schema=schema)
            except pl.exceptions.PolarsError:
                frame = None
        if frame is not None and frame.height == chunk.lines:
            frame = frame.with_columns(pl.int_range(chunk.first_line, chunk.first_line
                                                    + pl.len(), dtype=pl.Int64).alias("line"))
        else:
            rows: list[dict[str, Any]] = []
            for offset, line in enumerate(chunk.data.decode("utf-8", "replace").splitlines()):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    errors.add(file.name, chunk.first_line + offset,
                               f"not a JSON object ({exc.msg})", line)
                    continue
                if not isinstance(record, dict):
                    errors.add(file.name, chunk.first_line + offset, "not a JSON object", line)
                    continue
                rows.append({**{w: _json_text(record.get(w)) for w in wanted},
                             "line": chunk.first_line + offset})
            frame = pl.DataFrame(rows, schema={**dict.fromkeys(wanted, pl.String),
                                               "line": pl.Int64})
        yield frame.with_columns(_list_to_text(w) for w in wanted
                                 if frame.schema[w] != pl.String)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _list_to_text(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.List(pl.String)).list.join(",").alias(col)


# --- CSV with a header row (firewall exports, nfdump, IPFIX, Pi-hole FTL) ------------------


def csv_header(file: LogFile) -> tuple[list[str], str]:
    """Column names and delimiter from the first line."""
    head = file.head().decode("utf-8-sig", "replace")
    first = head.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise InputError.of(f"CSV file {file.name}", [RowError(
            file.name, 1, None, "the first line must be the header row")])
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d])
    names = next(csv.reader([first], delimiter=delimiter))
    return [n.strip() for n in names], delimiter


class RowLines:
    """Maps a parsed frame's row indices back to file lines, past the rows the parser skipped."""

    def __init__(self, first: int, skipped: list[int]) -> None:
        self.first = first
        self.skipped = sorted(skipped)

    def series(self, height: int) -> pl.Series:
        """The file line of every row, as a column."""
        if not self.skipped:
            return pl.int_range(self.first, self.first + height, dtype=pl.Int64, eager=True)
        return pl.Series(self(list(range(height))), dtype=pl.Int64)

    def __call__(self, rows: list[int]) -> list[int]:
        out = []
        for i in rows:
            physical = i + 1
            for gone in self.skipped:  # few: the malformed rows of one chunk
                if gone <= physical:
                    physical += 1
                else:
                    break
            out.append(self.first + physical - 1)
        return out


def csv_frames(file: LogFile, columns: list[str], wanted: list[str], delimiter: str,
               errors: LineErrors, on_bytes: Progress | None = None,
               trailer: str | None = None) -> Iterator[tuple[pl.DataFrame, RowLines]]:
    """Frames of the `wanted` columns (strings), each with a map from row to file line.

    Rows with the wrong number of fields are malformed. `trailer` names a line after which
    everything is a footer (nfdump's `Summary`), not records.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    footer = False
    for chunk in file.chunks(on_bytes):
        data, first = chunk.data, chunk.first_line
        if first == 1:
            cut = data.find(b"\n") + 1
            data, first = data[cut:], 2
        if footer or not data:
            continue
        skipped: list[int] = []
        footer_row: list[int] = []

        def invalid(row: Any, first: int = first, skipped: list[int] = skipped,
                    footer_row: list[int] = footer_row) -> str:
            text = row.text or ""
            skipped.append(row.number)
            if trailer is not None and text.strip() == trailer and not footer_row:
                footer_row.append(row.number)
            if text.strip() and not footer_row:
                errors.add(file.name, first + row.number - 1,
                           f"expected {len(columns)} fields, got {row.actual_columns}", text)
            return "skip"

        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(column_names=columns, use_threads=False,
                                               block_size=len(data) + 1024),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=invalid,
                                                 ignore_empty_lines=False),
                convert_options=pacsv.ConvertOptions(
                    include_columns=wanted, column_types=dict.fromkeys(wanted, pa.string()),
                    strings_can_be_null=True, null_values=[""]))
        except pa.ArrowInvalid as exc:
            raise InputError.of(f"CSV file {file.name}", [RowError(
                file.name, first, None, f"cannot parse from this line on: {exc}")]) from exc
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        lines = RowLines(first, skipped)
        if footer_row:
            footer = True
            end = footer_row[0] + first - 1
            keep = sum(1 for line in lines(list(range(frame.height))) if line < end)
            frame = frame.head(keep)
        yield frame, lines

"""Turn a CSV or XLSX register into a table of strings, or fail naming file and row.

Everything is read as text: registers hold asset tags like 00123 and MACs like 4419B6...
that type inference would mangle.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import polars as pl

from camsweep.errors import InputError, RowError

CHUNK_ROWS = 100_000
MAX_CELL = 10_000  # characters; longer cells are not register data
SNIFF_BYTES = 64 * 1024
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class RawTable:
    """Cells as stripped strings (empty -> null); `first_row` is the sheet row of data row 0."""

    path: str
    headers: list[str]
    frame: pl.DataFrame
    first_row: int = 2
    encoding: str = "utf-8"
    delimiter: str | None = None
    sheet: str | None = None


def _fail(path: str, reason: str, row: int | None = None) -> InputError:
    return InputError(f"{path}: {reason}", [RowError(path, row, None, reason)])


def read_table(path: Path, *, sheet: str | None = None) -> RawTable:
    name = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except FileNotFoundError as exc:
        raise _fail(name, "file not found") from exc
    except IsADirectoryError as exc:
        raise _fail(name, "is a folder, not a file") from exc
    except OSError as exc:
        raise _fail(name, f"cannot read ({exc.strerror})") from exc
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if sheet is not None:
        raise _fail(name, "--sheet applies to XLSX files only")
    return _read_csv(path, head)


# --- CSV ----------------------------------------------------------------------------


def _encoding(path: str, data: bytes) -> tuple[str, int]:
    """Pick UTF-8 (with or without BOM), UTF-16 (BOM) or cp1252; return codec and BOM length."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 0
    if b"\x00" in data:
        raise _fail(path, "is a binary file, not a CSV or XLSX register")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte sequence cut by the sniff window is still UTF-8
        if exc.start < len(data) - 4:
            return "cp1252", 0
    return "utf-8", 0


def _delimiter(first_line: str) -> str:
    counts = dict.fromkeys((",", ";", "\t"), 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean(cell: str) -> str | None:
    cell = cell.strip()
    return cell or None


def _read_csv(path: Path, head: bytes) -> RawTable:
    """Polars' native reader for speed; Python's csv module to pinpoint what is wrong."""
    name = str(path)
    if not head.strip():
        raise _fail(name, "file is empty: expected a header row and data rows")
    encoding, bom = _encoding(name, head)
    data = path.read_bytes()[bom:]
    if encoding == "utf-8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "cp1252"  # the first non-UTF-8 byte was past the sniffed head
    if encoding != "utf-8":
        try:
            data = data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(name, f"is neither UTF-8 nor Windows-1252 text (byte {exc.start})") from exc
    first_line = data[: data.find(b"\n")].decode("utf-8", errors="replace")
    delimiter = _delimiter(first_line)
    parsed = _polars_csv(data, delimiter)
    if parsed is None:
        parsed = _python_csv(name, data, delimiter)
    headers, frame = parsed
    _check_last_row(name, data, delimiter, len(headers), frame.height + 1)
    return RawTable(name, headers, frame, encoding=encoding, delimiter=delimiter)


def _polars_csv(data: bytes, delimiter: str) -> tuple[list[str], pl.DataFrame] | None:
    try:
        raw = pl.read_csv(io.BytesIO(data), has_header=False, infer_schema=False,
                          separator=delimiter, quote_char='"', truncate_ragged_lines=False,
                          raise_if_empty=True)
    except (pl.exceptions.PolarsError, ValueError):
        return None
    raw = raw.rename({c: f"c{i}" for i, c in enumerate(raw.columns)})
    headers = [(h or "").strip() for h in raw.row(0)]
    body = raw.slice(1)
    cleaned = body.with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c in body.columns
    )
    too_long = cleaned.select(
        pl.any_horizontal(pl.col(c).str.len_chars() > MAX_CELL for c in body.columns)
    ).to_series().fill_null(False)
    if too_long.any():
        return None  # the Python path names the rows
    return headers, cleaned


def _python_csv(name: str, data: bytes, delimiter: str) -> tuple[list[str], pl.DataFrame]:
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter,
                        quotechar='"', strict=True)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        raise _fail(name, "file is empty: expected a header row and data rows") from None
    except csv.Error as exc:
        raise _fail(name, f"malformed CSV header: {exc}", 1) from exc
    try:
        chunks = list(_csv_chunks(name, reader, len(headers)))
    except csv.Error as exc:
        raise _fail(name, f"malformed CSV: {exc} (unbalanced quotes or a truncated file?)",
                    reader.line_num) from exc
    return headers, pl.concat(chunks) if chunks else _empty(headers)


def _check_last_row(name: str, data: bytes, delimiter: str, width: int, row: int) -> None:
    """A file cut off mid-row ends without a newline and with too few fields."""
    if data.endswith((b"\n", b"\r")):
        return
    tail = data[data.rfind(b"\n") + 1:].decode("utf-8", errors="replace")
    fields = next(csv.reader([tail], delimiter=delimiter), [])
    if 0 < len(fields) < width:
        raise InputError.of(name, [RowError(name, row, None, f"has {len(fields)} fields but "
                                            f"the header has {width} (file truncated?)")])


def _empty(headers: list[str]) -> pl.DataFrame:
    return pl.DataFrame({f"c{i}": pl.Series([], dtype=pl.String) for i in range(len(headers))})


def _csv_chunks(name: str, reader: Iterator[list[str]], width: int) -> Iterator[pl.DataFrame]:
    rows: list[list[str | None]] = []
    errors: list[RowError] = []
    record = 1
    for raw in reader:
        record += 1
        if not raw or (len(raw) == 1 and not raw[0].strip()):
            rows.append([None] * width)  # keeps row numbers aligned with the sheet
            continue
        if len(raw) > width:
            if any(c.strip() for c in raw[width:]):
                errors.append(RowError(name, record, None,
                                       f"has {len(raw)} fields but the header has {width}"))
                if len(errors) > 1000:
                    break
                continue
            raw = raw[:width]  # noqa: PLW2901 - trailing empty cells from spreadsheet exports
        elif len(raw) < width:
            raw = raw + [""] * (width - len(raw))  # noqa: PLW2901 - short rows mean blank cells
        if any(len(c) > MAX_CELL for c in raw):
            errors.append(RowError(name, record, None,
                                   f"a cell is longer than {MAX_CELL} characters"))
            continue
        rows.append([_clean(c) for c in raw])
        if len(rows) >= CHUNK_ROWS:
            yield _frame(rows, width)
            rows = []
    if errors:
        raise InputError.of(name, errors)
    if rows:
        yield _frame(rows, width)


def _frame(rows: list[list[str | None]], width: int) -> pl.DataFrame:
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
    return pl.DataFrame({f"c{i}": pl.Series(cols[i], dtype=pl.String) for i in range(width)})


# --- XLSX ---------------------------------------------------------------------------


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return _clean(str(value))


def _read_xlsx(path: Path, sheet: str | None) -> RawTable:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    name = str(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise _fail(name, f"is not a readable XLSX workbook (corrupt or truncated: {exc})") from exc
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise _fail(name, f"has no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows_iter = ws.iter_rows(values_only=True)
        header_row = next(rows_iter, None)
        if header_row is None or all(v is None for v in header_row):
            raise _fail(name, f"sheet {ws.title!r} is empty: expected a header row")
        headers = [(_cell_text(v) or "") for v in header_row]
        width = len(headers)
        rows: list[list[str | None]] = []
        errors: list[RowError] = []
        for i, values in enumerate(rows_iter, start=2):
            cells = [_cell_text(v) for v in values[:width]]
            cells += [None] * (width - len(cells))
            if any(v is not None for v in values[width:]):
                errors.append(RowError(name, i, None, "has values beyond the header's columns"))
            if any(c is not None and len(c) > MAX_CELL for c in cells):
                errors.append(RowError(name, i, None,
                                       f"a cell is longer than {MAX_CELL} characters"))
            rows.append(cells)
        if errors:
            raise InputError.of(name, errors)
        title = ws.title
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _fail(name, f"is not a readable XLSX workbook (corrupt or truncated: {exc})") from exc
    finally:
        wb.close()
    while rows and all(c is None for c in rows[-1]):
        rows.pop()
    frame = _frame(rows, width) if rows else _empty(headers)
    return RawTable(name, headers, frame, sheet=title)

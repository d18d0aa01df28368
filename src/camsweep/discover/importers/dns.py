"""DNS query logs as query records: who asked for which name, when, and what came back.

Formats (auto-detected; `--format` overrides):
- `zeek`: Zeek `dns.log`, TSV with `#fields` headers or JSON lines (`ts`, `id.orig_h`,
  `query`, `answers`).
- `bind`: BIND 9 query logging (`querylog yes`), to a file (`27-Nov-2026 10:00:01.123
  client @0x.. 10.1.2.3#5353 (name): query: name IN A +E(0)K (10.0.0.1)`), through syslog, or
  with ISO 8601 times.
- `dnsmasq` (also `pihole`: Pi-hole's pihole.log is dnsmasq's): `query[A] NAME from IP`;
  `reply`/`cached NAME is ADDRESS` lines give answers, and `DHCPACK(if) IP MAC` lines (when
  dnsmasq is also the DHCP server) give the address bindings of that same log.
- `pihole-ftl`: Pi-hole FTL's `queries` table exported as CSV (`sqlite3 -header -csv
  pihole-FTL.db "SELECT * FROM queries"`): `timestamp` (epoch), `domain`, `client`.

Readers stream: each chunk of the file becomes one `LogBatch`, with every record's file line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import polars as pl

from camsweep.discover.importers.logstream import (
    Keep,
    LineErrors,
    LogBatch,
    LogFile,
    Progress,
    ReadOptions,
    csv_frames,
    csv_header,
    epoch_expr,
    file_date,
    lines_frame,
    naive_utc,
    parse_times,
    syslog_times,
    zeek_json,
    zeek_tsv,
    zeek_value,
)
from camsweep.errors import InputError, RowError

DNS_FORMATS = ("zeek", "bind", "dnsmasq", "pihole", "pihole-ftl")
QUERY_COLUMNS = ("ts", "client", "query", "answers", "line")

_SYSLOG_TS = r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}"
_ISO_TS = r"\d{4}-\d{2}-\d{2}T\S+"
_BIND = re.compile(
    r"^(?:(?P<ts_bind>\d{1,2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)"
    rf"|(?P<ts_sys>{_SYSLOG_TS})(?: \S+)? named\[\d+\]:|(?P<ts_iso>{_ISO_TS})) "
    r".*?client (?:@0x[0-9a-fA-F]+ )?(?P<client>[0-9A-Fa-f:.]+)#\d+(?: \([^)]*\))?: "
    r"(?:view [^:]+: )?query: (?P<query>\S+) \S+ (?P<qtype>\S+)")
_DNSMASQ = re.compile(
    rf"^(?:(?P<ts_sys>{_SYSLOG_TS})|(?P<ts_iso>{_ISO_TS}))(?: \S+)? "
    r"dnsmasq(?:-dhcp)?\[\d+\]: (?P<msg>.*)$")
_DNSMASQ_QUERY = re.compile(
    r"^(?:\d+ \S+/\d+ )?query\[(?P<qtype>[^\]]+)\] (?P<query>\S+) from (?P<client>\S+)$")
_DNSMASQ_REPLY = re.compile(
    r"^(?:\d+ \S+/\d+ )?(?:reply|cached|cached-stale) (?P<rname>\S+) is "
    r"(?P<raddr>[0-9A-Fa-f:.]+)$")
_DNSMASQ_ACK = re.compile(
    r"^(?:\d+ )?DHCPACK\([^)]*\) (?P<aip>[0-9.]+) "
    r"(?P<amac>[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5})")
_FTL_COLUMNS = ("timestamp", "domain", "client")


def detect_dns_format(file: LogFile) -> str:
    """The format of a DNS log from its first lines."""
    head = file.head().decode("utf-8-sig", "replace")
    lines = [line for line in head.splitlines()[:50] if line.strip()]
    first = lines[0] if lines else ""
    if first.startswith("#separator") or "#path\tdns" in head:
        return "zeek"
    if first.lstrip().startswith("{") and '"query"' in first:
        return "zeek"
    if any(_BIND.search(line) for line in lines):
        return "bind"
    if any(_DNSMASQ.search(line) for line in lines):
        return "dnsmasq"
    header = {c.strip().strip('"').lower() for c in re.split(r"[,;\t]", first)}
    if set(_FTL_COLUMNS) <= header:
        return "pihole-ftl"
    raise InputError.of(f"DNS log {file.name}", [RowError(
        file.name, 1, None, "format not recognised; expected one of "
        f"{', '.join(DNS_FORMATS)} (name it with --format)")])


def read_dns(file: LogFile, fmt: str, errors: LineErrors, opts: ReadOptions | None = None,
             on_bytes: Progress | None = None, keep: Keep | None = None) -> Iterator[LogBatch]:
    """Query records (and dnsmasq's bindings and replies) of one log, chunk by chunk.

    `keep(query names)` may say early which records are wanted; readers that can use it
    (Zeek TSV) then skip reading the rest of the others.
    """
    opts = opts or ReadOptions()
    if fmt == "zeek":
        yield from _zeek(file, errors, opts, on_bytes, keep)
    elif fmt == "bind":
        yield from _bind(file, errors, opts, on_bytes)
    elif fmt in ("dnsmasq", "pihole"):
        yield from _dnsmasq(file, errors, opts, on_bytes)
    elif fmt == "pihole-ftl":
        yield from _ftl(file, errors, opts, on_bytes)
    else:
        raise InputError(f"unknown DNS log format {fmt!r}; use one of {', '.join(DNS_FORMATS)}")


def report_missing(frame: pl.DataFrame, required: dict[str, str], file: str,
                   errors: LineErrors) -> pl.DataFrame:
    """Rows lacking a required value are malformed: reported, then dropped from the batch."""
    bad = pl.any_horizontal(pl.col(c).is_null() for c in required)
    missing = frame.filter(bad)
    for row in missing.iter_rows(named=True):
        what = next(c for c in required if row[c] is None)
        errors.add(file, row["line"], required[what])
    return frame.filter(~bad) if missing.height else frame


def _zeek(file: LogFile, errors: LineErrors, opts: ReadOptions,
          on_bytes: Progress | None, keep: Keep | None) -> Iterator[LogBatch]:
    wanted = ["ts", "id.orig_h", "query", "answers"]
    as_json = file.head(4096).lstrip().startswith(b"{")

    def finish(frame: pl.DataFrame) -> pl.DataFrame:
        ts = parse_times(frame, "ts", opts.tz) if as_json else frame.select(
            epoch_expr("ts")).to_series()
        out = frame.with_columns(ts.alias("ts"), zeek_value("client"), zeek_value("answers"))
        return report_missing(out, {"ts": "ts: missing or not a time",
                                    "client": "id.orig_h: missing client address"},
                              file.name, errors)

    frames = (zeek_json(file, wanted, errors, on_bytes) if as_json
              else zeek_tsv(file, wanted, errors, on_bytes, "query", keep))
    for frame in frames:
        yield LogBatch(queries=frame.rename({"id.orig_h": "client"}), finish=finish)


def _lines_matching(file: LogFile, on_bytes: Progress | None, pattern: re.Pattern[str],
                    group: str, errors: LineErrors, reason: str) -> Iterator[pl.DataFrame]:
    """Each chunk's lines split into the pattern's groups; lines the pattern does not fit
    (where `group` is empty) are malformed, blank lines are not."""
    for chunk in file.chunks(on_bytes):
        lines = lines_frame(chunk)
        frame = pl.DataFrame({"text": lines}).with_columns(
            pl.int_range(chunk.first_line, chunk.first_line + lines.len(), dtype=pl.Int64)
            .alias("line"),
            pl.col("text").str.extract_groups(pattern.pattern).alias("m")).unnest("m")
        bad = pl.col(group).is_null() & (pl.col("text").str.strip_chars() != "")
        for line, text in frame.filter(bad).select("line", "text").iter_rows():
            errors.add(file.name, line, reason, text)
        yield frame.filter(pl.col(group).is_not_null())


def _times(frame: pl.DataFrame, opts: ReadOptions, file: LogFile, **formats: str) -> pl.Series:
    """Coalesce the time columns a line format may use (syslog, BIND's own, ISO)."""
    reference = opts.reference or file_date(file.path)
    parts: list[pl.Series] = []
    for col, kind in formats.items():
        if kind == "syslog":
            parts.append(syslog_times(frame, col, reference, opts.tz))
        elif kind == "bind":
            parts.append(frame.select(pl.col(col).str.to_datetime(
                "%d-%b-%Y %H:%M:%S%.f", strict=False, time_unit="us")).to_series()
                if opts.tz == "UTC" else _local_bind(frame, col, opts.tz))
        else:
            parts.append(parse_times(frame, col, opts.tz))
    return pl.DataFrame([p.alias(str(i)) for i, p in enumerate(parts)]).select(
        pl.coalesce(pl.all()).alias("ts")).to_series()


def _local_bind(frame: pl.DataFrame, col: str, tz: str) -> pl.Series:
    local = pl.col(col).str.to_datetime("%d-%b-%Y %H:%M:%S%.f", strict=False, time_unit="us")
    return frame.select(naive_utc(local, tz)).to_series()


def _bind(file: LogFile, errors: LineErrors, opts: ReadOptions,
          on_bytes: Progress | None) -> Iterator[LogBatch]:
    for parts in _lines_matching(file, on_bytes, _BIND, "query", errors,
                                 "not a BIND query-log line"):
        ts = _times(parts, opts, file, ts_bind="bind", ts_sys="syslog", ts_iso="iso")
        out = parts.select(ts.alias("ts"), "client", "query", pl.lit(None, pl.String)
                           .alias("answers"), "line")
        yield LogBatch(queries=report_missing(out, {"ts": "time not understood"},
                                              file.name, errors))


def _dnsmasq(file: LogFile, errors: LineErrors, opts: ReadOptions,
             on_bytes: Progress | None) -> Iterator[LogBatch]:
    for lines in _lines_matching(file, on_bytes, _DNSMASQ, "msg", errors,
                                 "not a dnsmasq log line"):
        parts = lines.with_columns(
            pl.col("msg").str.extract_groups(_DNSMASQ_QUERY.pattern).alias("q"),
            pl.col("msg").str.extract_groups(_DNSMASQ_REPLY.pattern).alias("r"),
            pl.col("msg").str.extract_groups(_DNSMASQ_ACK.pattern).alias("a"),
        ).unnest("q", "r", "a")
        useful = parts.filter(pl.col("query").is_not_null() | pl.col("aip").is_not_null())
        ts = _times(useful, opts, file, ts_sys="syslog", ts_iso="iso")
        useful = report_missing(useful.with_columns(ts.alias("ts")),
                                {"ts": "time not understood"}, file.name, errors)
        queries = useful.filter(pl.col("query").is_not_null()).select(
            "ts", "client", "query", pl.lit(None, pl.String).alias("answers"), "line")
        bindings = useful.filter(pl.col("aip").is_not_null()).select(
            "ts", pl.col("aip").alias("ip"), pl.col("amac").alias("mac"))
        replies = parts.filter(pl.col("rname").is_not_null()).select(
            pl.col("rname").alias("name"), pl.col("raddr").alias("address"))
        yield LogBatch(queries=queries, bindings=bindings if bindings.height else None,
                       replies=replies if replies.height else None)


def _ftl(file: LogFile, errors: LineErrors, opts: ReadOptions,
         on_bytes: Progress | None) -> Iterator[LogBatch]:
    columns, delimiter = csv_header(file)
    low = {c.lower(): c for c in columns}
    if not all(c in low for c in _FTL_COLUMNS):
        raise InputError.of(f"Pi-hole FTL export {file.name}", [RowError(
            file.name, 1, None, f"needs columns {', '.join(_FTL_COLUMNS)}; found {columns}")])
    wanted = [low[c] for c in _FTL_COLUMNS]
    for raw, lines in csv_frames(file, columns, wanted, delimiter, errors, on_bytes):
        frame = raw.rename(dict(zip(wanted, _FTL_COLUMNS, strict=True)))
        out = frame.select(parse_times(frame, "timestamp", opts.tz).alias("ts"),
                           pl.col("client"), pl.col("domain").alias("query"),
                           pl.lit(None, pl.String).alias("answers"),
                           lines.series(frame.height).alias("line"))
        yield LogBatch(queries=report_missing(out, {"ts": "timestamp: not a time",
                                                    "client": "client: missing"},
                                              file.name, errors))

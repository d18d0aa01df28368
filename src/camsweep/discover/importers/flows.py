"""Flow records as who-talked-to-where records: time, source, destination, port, protocol.

Formats (auto-detected; `--format` overrides):
- `zeek`: Zeek `conn.log`, TSV with `#fields` headers or JSON lines (`ts`, `id.orig_h`,
  `id.resp_h`, `id.resp_p`, `proto`).
- `nfdump`: `nfdump -o csv` (`ts,te,td,sa,da,sp,dp,pr,...`, then a `Summary` footer).
- `ipfix`: IPFIX records exported as CSV under their information-element names
  (`flowStartMilliseconds`, `sourceIPv4Address`, `destinationIPv4Address`,
  `destinationTransportPort`, `protocolIdentifier`, and the IPv6 forms).
- `firewall`: any firewall or proxy CSV export; columns are found by header synonyms (a
  time, a source address, a destination address and/or a host name, optionally a
  destination port and protocol). A `date` and a `time` column are joined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import polars as pl

from camsweep.discover.importers.dns import report_missing
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
    parse_times,
    zeek_json,
    zeek_tsv,
    zeek_value,
)
from camsweep.errors import InputError, RowError

FLOW_FORMATS = ("zeek", "nfdump", "ipfix", "firewall")

# Header synonyms, compared after lower-casing and dropping everything but letters and digits.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "datetime", "receivetime", "starttime", "eventtime",
           "generatedtime", "timegenerated", "logtime", "firstseen", "start", "flowstart",
           "flowstartmilliseconds", "flowstartseconds", "flowstartmicroseconds",
           "flowstartnanoseconds", "eventtimestamp"),
    "src": ("src", "srcip", "srcaddr", "srcaddress", "sourceip", "sourceaddress", "source",
            "sa", "clientip", "idorigh", "srcipaddr", "sourceipv4address",
            "sourceipv6address", "client"),
    "dst": ("dst", "dstip", "dstaddr", "dstaddress", "destinationip", "destinationaddress",
            "destination", "da", "destip", "serverip", "idresph", "dstipaddr",
            "destinationipv4address", "destinationipv6address", "remoteip"),
    "dport": ("dstport", "dport", "dp", "dpt", "destinationport", "destport", "serverport",
              "idrespp", "destinationtransportport", "remoteport"),
    "proto": ("proto", "protocol", "ipprotocol", "pr", "protocolidentifier", "transport"),
    "host": ("hostname", "host", "domain", "fqdn", "url", "dsthost", "destinationhost",
             "destinationhostname", "servername", "sni", "query", "dstname",
             "destinationdomain", "httphost", "urldomain", "dsthostname"),
}
_IPFIX_MARKERS = ("sourceipv4address", "sourceipv6address", "destinationipv4address",
                  "destinationipv6address", "flowstartmilliseconds", "protocolidentifier")
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp"}
_URL_HOST = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/]*@)?(\[[^\]]+\]|[^/:?#\s]+)"


def norm_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def detect_flow_format(file: LogFile) -> str:
    head = file.head().decode("utf-8-sig", "replace")
    first = head.split("\n", 1)[0]
    if first.startswith("#separator") or "#path\tconn" in head:
        return "zeek"
    if first.lstrip().startswith("{") and '"id.resp_h"' in first:
        return "zeek"
    headers = [norm_header(h) for h in re.split(r"[,;\t|]", first)]
    if headers[:5] == ["ts", "te", "td", "sa", "da"]:
        return "nfdump"
    if any(h in _IPFIX_MARKERS for h in headers):
        return "ipfix"
    found = _map_columns(list(re.split(r"[,;\t|]", first)))
    if "src" in found and ("dst" in found or "host" in found):
        return "firewall"
    raise InputError.of(f"flow log {file.name}", [RowError(
        file.name, 1, None, "format not recognised; expected one of "
        f"{', '.join(FLOW_FORMATS)} (name it with --format)")])


def _map_columns(columns: list[str]) -> dict[str, list[str]]:
    """Canonical field -> the file's columns for it, best synonym first (IPv4 before IPv6)."""
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(norm_header(col.strip().strip('"')), col)
    out: dict[str, list[str]] = {}
    for field, names in SYNONYMS.items():
        hits = [by_norm[n] for n in names if n in by_norm]
        if hits:
            out[field] = hits
    return out


def read_flows(file: LogFile, fmt: str, errors: LineErrors, opts: ReadOptions | None = None,
               on_bytes: Progress | None = None, keep: Keep | None = None
               ) -> Iterator[LogBatch]:
    """Flow records of one file, chunk by chunk; `keep(destinations)` as for `read_dns`."""
    opts = opts or ReadOptions()
    if fmt == "zeek":
        yield from _zeek(file, errors, opts, on_bytes, keep)
    elif fmt in ("nfdump", "ipfix", "firewall"):
        yield from _csv(file, fmt, errors, opts, on_bytes)
    else:
        raise InputError(f"unknown flow format {fmt!r}; use one of {', '.join(FLOW_FORMATS)}")


def _finisher(file: LogFile, errors: LineErrors, opts: ReadOptions,
              epoch: bool = False) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Types, unset marks and checks for the records that matched (see `LogBatch.finish`)."""

    def finish(frame: pl.DataFrame) -> pl.DataFrame:
        ts = (frame.select(epoch_expr("ts")).to_series() if epoch
              else parse_times(frame, "ts", opts.tz))
        proto = pl.col("proto").str.strip_chars().str.to_lowercase()
        frame = frame.with_columns(
            ts.alias("ts"),
            pl.col("dport").str.strip_chars().cast(pl.Float64, strict=False).cast(
                pl.Int64, strict=False),
            pl.coalesce(proto.replace(_PROTOCOLS), proto).alias("proto"),
            pl.col("host").str.extract(_URL_HOST, 1).str.strip_chars("[]").alias("host"),
            pl.col("src").str.strip_chars(), pl.col("dst").str.strip_chars(),
        ).with_columns(zeek_value(c) for c in ("src", "dst", "proto", "host"))
        return report_missing(frame, {"ts": "time: missing or not a time",
                                      "src": "source address: missing"}, file.name, errors)

    return finish


def _zeek(file: LogFile, errors: LineErrors, opts: ReadOptions,
          on_bytes: Progress | None, keep: Keep | None) -> Iterator[LogBatch]:
    wanted = ["ts", "id.orig_h", "id.resp_h", "id.resp_p", "proto"]
    as_json = file.head(4096).lstrip().startswith(b"{")
    finish = _finisher(file, errors, opts, epoch=not as_json)
    frames = (zeek_json(file, wanted, errors, on_bytes) if as_json
              else zeek_tsv(file, wanted, errors, on_bytes, "id.resp_h", keep))
    for frame in frames:
        yield LogBatch(flows=frame.select(
            "ts", pl.col("id.orig_h").alias("src"), pl.col("id.resp_h").alias("dst"),
            pl.col("id.resp_p").alias("dport"), "proto", pl.lit(None, pl.String).alias("host"),
            "line"), finish=finish)


def _csv(file: LogFile, fmt: str, errors: LineErrors, opts: ReadOptions,
         on_bytes: Progress | None) -> Iterator[LogBatch]:
    columns, delimiter = csv_header(file)
    found = _map_columns(columns)
    low = {norm_header(c): c for c in columns}
    split_time = "date" in low and "time" in low and (
        "ts" not in found or norm_header(found["ts"][0]) == "time")
    if split_time:  # Fortinet and others: the date and the time of day in two columns
        found["ts"] = [low["date"], low["time"]]
    missing = [f for f in ("ts", "src") if f not in found]
    if missing or not ({"dst", "host"} & set(found)):
        need = missing or ["a destination address or host name"]
        raise InputError.of(f"{fmt} CSV {file.name}", [RowError(
            file.name, 1, None, f"no column for {', '.join(need)} among {columns}; "
            "rename the header (e.g. timestamp, src_ip, dst_ip, dst_port, protocol, hostname)")])
    wanted = sorted({c for cols in found.values() for c in cols}, key=columns.index)
    trailer = "Summary" if fmt == "nfdump" else None
    finish = _finisher(file, errors, opts)
    for frame, lines in csv_frames(file, columns, wanted, delimiter, errors, on_bytes, trailer):
        def pick(field: str, frame: pl.DataFrame = frame) -> pl.Expr:
            cols = found.get(field)
            if not cols:
                return pl.lit(None, pl.String).alias(field)
            if field == "ts" and split_time:
                return (pl.col(cols[0]) + " " + pl.col(cols[1])).alias(field)
            return pl.coalesce([pl.col(c) for c in cols]).alias(field)

        flows = frame.select(*(pick(f) for f in SYNONYMS),
                             lines.series(frame.height).alias("line"))
        nowhere = pl.col("dst").is_null() & pl.col("host").is_null()
        for line in flows.filter(nowhere).get_column("line").to_list():
            errors.add(file.name, line, "neither a destination address nor a host name")
        yield LogBatch(flows=flows.filter(~nowhere), finish=finish)

"""Call-home detection: DNS and flow logs -> `calls_home` observations on the devices that called.

The flow, for one `camsweep import dns|flows` run:

1. Stream each file in chunks (`importers.dns` / `importers.flows`); match each distinct
   query or host name once against the endpoint list (`kb.endpoints`), and drop every record
   that matched nothing before any per-record work. Flow destinations match addresses the
   matched names resolved to (DNS answers of this import and of earlier imports) or that the
   endpoint list documents, with the endpoint's ports as the hint that settles it.
2. Tie each remaining record to a hardware address at the record's time: the newest DHCP or
   ARP binding of its client address at or before that time (leases and neighbour tables
   already in the store, and DHCPACK lines of the log itself), an as-of join per batch.
3. Aggregate per (file, client, MAC, endpoint): first seen, last seen, count, ports.
4. At the end, in one transaction: a `Source` per file, a device per caller (by MAC, else the
   device that holds the address now; callers in no register become `unregistered`
   devices), one observation per device, endpoint and file; then re-identify those devices,
   so a vendor cloud unmasks a relabelled box.

Memory holds the aggregates and the name cache, never the log: it is flat in the log's size.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection, insert, select, update

from camsweep.discover.importers.logstream import LineErrors, LogBatch, LogFile, ReadOptions
from camsweep.discover.model import normalise_mac
from camsweep.errors import InputError, RowError
from camsweep.kb.endpoints import Endpoint, EndpointIndex, load_endpoints, normalise_name
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import insert_many, utcnow
from camsweep.store.callhome import PROBE

Kind = Literal["dns", "flows"]
Progress = Callable[[int, int], None]  # bytes read so far, bytes in all files
NAME_CACHE = 500_000
COMPACT_EVERY = 32
ADDRESSES_KEPT = 16
_OBS_COLS = ("device_pk", "source_id", "probe", "observed_at", "ip", "mac", "payload")
_CHUNK = 500
_AGG_SCHEMA: dict[str, Any] = {
    "file": pl.Int32, "client": pl.String, "mac": pl.String, "endpoint": pl.Int64,
    "name": pl.String, "first": pl.Datetime("us"), "last": pl.Datetime("us"),
    "count": pl.UInt32, "ports": pl.List(pl.String), "via": pl.List(pl.String)}
_BINDING_SCHEMA: dict[str, Any] = {"ip": pl.String, "start": pl.Datetime("us"),
                                   "end": pl.Datetime("us"), "mac": pl.String}


@dataclass
class FileReport:
    path: str
    format: str
    kind: Kind
    lines: int = 0
    malformed: int = 0
    matched: int = 0
    sha256: str | None = None
    source_id: int | None = None
    skipped: str | None = None


@dataclass
class _Agg:
    first: datetime
    last: datetime
    count: int
    ports: set[str] = field(default_factory=set)
    via: set[str] = field(default_factory=set)


@dataclass
class CallHomeSummary:
    kind: Kind
    files: list[FileReport]
    errors: list[RowError]
    malformed: int = 0
    matched: int = 0
    app_records: int = 0
    observations: int = 0
    devices: int = 0
    created: int = 0
    unattributed: int = 0
    reidentified: int = 0
    restricted: int = 0
    endpoints: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "dry_run": self.dry_run, "lines": self.lines,
            "malformed": self.malformed, "matched_records": self.matched,
            "app_records": self.app_records, "observations": self.observations,
            "devices": self.devices, "devices_created": self.created,
            "unattributed": self.unattributed, "restricted": self.restricted,
            "seconds": round(self.seconds, 3),
            "endpoints": dict(self.endpoints.most_common()),
            "files": [{"path": f.path, "format": f.format, "lines": f.lines,
                       "malformed": f.malformed, "matched": f.matched, "sha256": f.sha256,
                       "source_id": f.source_id, "skipped": f.skipped} for f in self.files],
            "errors": [str(e) for e in self.errors],
        }


def _ip(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


class CallHomeImport:
    """One import run: feed it files (DNS logs before the flow logs they explain), then
    `write()`, or `summary()` for a dry run."""

    def __init__(self, store: Store, kind: Kind, *, endpoints: EndpointIndex | None = None,
                 site_id: str | None = None, tz: str = "UTC", errors_out: Path | None = None,
                 progress: Progress | None = None, kb: Any = None) -> None:
        self.store = store
        self.kind = kind  # what the run is mainly about, for its summary
        self.index = endpoints or load_endpoints()
        self.site_id = site_id
        self.opts = ReadOptions(tz=tz)
        self.errors = LineErrors(errors_out)
        self.progress = progress
        self.kb = kb
        self.files: list[FileReport] = []
        self.started = time.monotonic()
        self._names: dict[str, int] = {}  # normalised name -> endpoint index, -1 for none
        self._parts: list[pl.DataFrame] = []  # per-batch aggregates, folded now and then
        self._client_ip: dict[str, str | None] = {}
        self._book: dict[str, tuple[int, str]] = {}  # address -> (endpoint index, name)
        self._app = 0
        self._bytes_total = 0
        self._bytes_done = 0
        self._site_pk = self._check_site()
        self._bindings = self._stored_bindings()
        self._learn_stored_addresses()

    # -- set-up --------------------------------------------------------------------------

    def _check_site(self) -> int | None:
        if self.site_id is None:
            return None
        with self.store.engine.connect() as conn:
            pk = conn.execute(select(m.Site.id).where(m.Site.site_id == self.site_id)).scalar()
        if pk is None:
            raise InputError(f"--site {self.site_id!r} is not in the store; import the site "
                             "list first or leave --site out")
        return int(pk)

    def _stored_bindings(self) -> pl.DataFrame:
        """Which MAC held which address from when: leases, ARP tables, scans in the store."""
        rows: list[tuple[Any, ...]] = []
        with self.store.engine.connect() as conn:
            for ip, mac, seen, probe, payload in conn.execute(
                    select(m.Observation.ip, m.Observation.mac, m.Observation.observed_at,
                           m.Observation.probe, m.Observation.payload)
                    .where(m.Observation.ip.is_not(None), m.Observation.mac.is_not(None),
                           m.Observation.probe.in_(("dhcp", "neigh")))):
                start, end = seen, None
                if probe == "dhcp" and isinstance(payload, dict):
                    start = _stamp(payload.get("starts")) or seen
                    end = _stamp(payload.get("ends"))
                rows.append((ip, start, end, mac))
            rows += [(ip, seen, None, mac) for ip, mac, seen in conn.execute(
                select(m.Observation.ip, m.Observation.mac, m.Observation.observed_at)
                .where(m.Observation.ip.is_not(None), m.Observation.mac.is_not(None),
                       m.Observation.probe.not_in(("dhcp", "neigh", PROBE)))
                .distinct())]
        frame = pl.DataFrame(rows, schema=_BINDING_SCHEMA, orient="row")
        return frame.unique().sort("start")

    def _learn_stored_addresses(self) -> None:
        """Addresses earlier DNS imports saw the endpoints' names resolve to."""
        with self.store.engine.connect() as conn:
            for (payload,) in conn.execute(select(m.Observation.payload)
                                           .where(m.Observation.probe == PROBE)):
                if not isinstance(payload, dict):
                    continue
                name = str(payload.get("endpoint", ""))
                index = self._match(name)
                if index is None:
                    continue
                for address in payload.get("addresses") or []:
                    self._book.setdefault(str(address), (index, name))

    # -- matching ------------------------------------------------------------------------

    def _match(self, name: str) -> int | None:
        host = normalise_name(name)
        cached = self._names.get(host)
        if cached is None:
            hit = self.index.match_name(host)
            cached = -1 if hit is None else self.index.endpoints.index(hit)
            if len(self._names) >= NAME_CACHE:
                self._names.clear()
            self._names[host] = cached
        return None if cached < 0 else cached

    def _endpoint(self, index: int) -> Endpoint:
        return self.index.endpoints[index]

    # -- reading -------------------------------------------------------------------------

    def expect(self, paths: list[Path]) -> None:
        """Announce files still to come, so progress counts against all of them."""
        self._bytes_total += sum(p.stat().st_size for p in paths)

    def add_files(self, paths: list[Path], fmt: str | None = None,
                  kind: Kind | None = None) -> None:
        """Read every file (in the order given); `fmt` None detects each file's format."""
        from camsweep.discover.importers.dns import detect_dns_format, read_dns
        from camsweep.discover.importers.flows import detect_flow_format, read_flows

        kind = kind or self.kind
        files = [LogFile(p) for p in paths]
        if not self._bytes_total:
            self._bytes_total = sum(f.size for f in files)
        for file in files:
            detect = detect_dns_format if kind == "dns" else detect_flow_format
            read = read_dns if kind == "dns" else read_flows
            report = FileReport(file.name, fmt or detect(file), kind)
            self.files.append(report)
            before = self.errors.count
            keep = self._keep_names if kind == "dns" else self._keep_addresses
            for batch in read(file, report.format, self.errors, self.opts, self._tick, keep):
                report.matched += self._feed(batch, len(self.files) - 1)
            report.lines, report.sha256 = file.lines, file.sha256
            report.malformed = self.errors.count - before

    def _keep_names(self, names: pl.Series) -> pl.Series:
        """A superset of the names that can match, in one Aho-Corasick pass: the exact
        matching runs later on the few records it keeps."""
        return names.str.contains_any(list(self.index.tails), ascii_case_insensitive=True)

    def _keep_addresses(self, addresses: pl.Series) -> pl.Series:
        return addresses.is_in([*self._book, *self.index.addresses])

    def _tick(self, n: int) -> None:
        self._bytes_done += n
        if self.progress:
            self.progress(self._bytes_done, self._bytes_total)

    def _feed(self, batch: LogBatch, file_index: int) -> int:
        if batch.bindings is not None:
            self._add_bindings(batch.bindings)
        if batch.replies is not None:
            self._learn_replies(batch.replies)
        matched = 0
        if batch.queries is not None and batch.queries.height:
            matched += self._queries(batch, batch.queries, file_index)
        if batch.flows is not None and batch.flows.height:
            matched += self._flows(batch, batch.flows, file_index)
        return matched

    def _add_bindings(self, frame: pl.DataFrame) -> None:
        rows = []
        for ts, raw_ip, raw_mac in frame.iter_rows():
            ip, mac = _ip(raw_ip), normalise_mac(raw_mac)
            if ip and mac:
                rows.append((ip, ts, None, mac))
        if rows:
            new = pl.DataFrame(rows, schema=_BINDING_SCHEMA, orient="row")
            self._bindings = pl.concat([self._bindings, new]).unique().sort("start")

    def _learn_replies(self, frame: pl.DataFrame) -> None:
        for name, address in frame.unique().iter_rows():
            index = self._match(name)
            ip = _ip(address)
            if index is not None and ip:
                self._book.setdefault(ip, (index, normalise_name(name)))

    def _names_frame(self, names: pl.Series) -> pl.DataFrame:
        """Distinct raw names of a batch that match, with endpoint index and clean name."""
        rows = []
        for raw in self.index.candidates(names).to_list():
            index = self._match(raw)
            if index is not None:
                rows.append((raw, index, normalise_name(raw)))
        return pl.DataFrame(rows, schema={"raw": pl.String, "endpoint": pl.Int64,
                                          "name": pl.String}, orient="row")

    def _callers_only(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Drop app services (phones and PCs use them; they say nothing about a device)."""
        app = [i for i, e in enumerate(self.index.endpoints) if not e.attributable]
        is_app = pl.col("endpoint").is_in(app)
        self._app += int(frame.select(is_app.sum()).item())
        return frame.filter(~is_app)

    def _clients(self, frame: pl.DataFrame, col: str, file_index: int) -> pl.DataFrame:
        """Canonical client addresses; a record whose client is no address is malformed."""
        for raw in frame.get_column(col).unique().to_list():
            if raw not in self._client_ip:
                self._client_ip[raw] = _ip(raw)
        lookup = {raw: self._client_ip[raw] for raw in frame.get_column(col).unique()}
        frame = frame.with_columns(pl.col(col).replace_strict(lookup, default=None,
                                                              return_dtype=pl.String)
                                   .alias("client"))
        bad = frame.filter(pl.col("client").is_null())
        for raw, line in bad.select(col, "line").iter_rows():
            self.errors.add(self.files[file_index].path, line,
                            f"{col}: {raw!r} is not an IP address")
        return frame.filter(pl.col("client").is_not_null())

    def _queries(self, batch: LogBatch, frame: pl.DataFrame, file_index: int) -> int:
        names = self._names_frame(frame.get_column("query"))
        if not names.height:
            return 0
        hits = frame.filter(pl.col("query").is_in(names.get_column("raw").to_list())).join(
            names, left_on="query", right_on="raw", how="inner")
        hits = self._callers_only(hits)
        if not hits.height:
            return 0
        hits = batch.finished(hits)
        hits = self._clients(hits.rename({"client": "client_raw"}), "client_raw", file_index)
        self._learn_answers(hits)
        self._aggregate(hits.with_columns(pl.lit(None, pl.String).alias("port"),
                                          pl.lit("dns").alias("via")), file_index)
        return hits.height

    def _learn_answers(self, hits: pl.DataFrame) -> None:
        answers = (hits.filter(pl.col("answers").is_not_null())
                   .select("endpoint", "name", pl.col("answers").str.split(","))
                   .explode("answers").unique())
        for index, name, answer in answers.iter_rows():
            ip = _ip(answer)
            if ip:
                self._book.setdefault(ip, (int(index), name))

    def _flows(self, batch: LogBatch, frame: pl.DataFrame, file_index: int) -> int:
        candidates = frame.filter(
            pl.col("host").is_not_null() | pl.col("dst").is_in(list(self._book))
            | pl.col("dst").is_in(list(self.index.addresses)))
        if not candidates.height:
            return 0
        candidates = batch.finished(candidates)
        rows = []
        for ts, src, dst, dport, proto, host, line in candidates.select(
                "ts", "src", "dst", "dport", "proto", "host", "line").iter_rows():
            hit = self._flow_endpoint(dst, dport, proto, host)
            if hit is not None:
                port = f"{proto}/{dport}" if proto and dport is not None else (
                    str(dport) if dport is not None else None)
                rows.append((ts, src, hit[1], hit[0], port, line))
        if not rows:
            return 0
        hits = pl.DataFrame(rows, schema={"ts": pl.Datetime("us"), "client_raw": pl.String,
                                          "name": pl.String, "endpoint": pl.Int64,
                                          "port": pl.String, "line": pl.Int64}, orient="row")
        hits = self._callers_only(hits)
        hits = self._clients(hits, "client_raw", file_index)
        self._aggregate(hits.with_columns(pl.lit("flow").alias("via")), file_index)
        return hits.height

    def _flow_endpoint(self, dst: str | None, port: int | None, proto: str | None,
                       host: str | None) -> tuple[int, str] | None:
        if host:
            index = self._match(host)
            if index is not None:
                return index, normalise_name(host)
        address = _ip(dst)
        if address is None:
            return None
        documented = self.index.match_address(address, port, proto)
        if documented is not None:
            return self.index.endpoints.index(documented), address
        learned = self._book.get(address)
        if learned is None:
            return None
        endpoint = self._endpoint(learned[0])
        # An address a name resolved to may be shared hosting: the endpoint's ports settle it.
        if endpoint.ports and not endpoint.port_matches(port, proto):
            return None
        return learned

    def _aggregate(self, hits: pl.DataFrame, file_index: int) -> None:
        """As-of join on DHCP/ARP bindings, then fold the batch into the run's aggregates."""
        hits = hits.sort("ts")
        if self._bindings.height:
            hits = hits.join_asof(self._bindings, left_on="ts", right_on="start",
                                  by_left="client", by_right="ip", strategy="backward")
            hits = hits.with_columns(
                pl.when(pl.col("end").is_null() | (pl.col("ts") <= pl.col("end")))
                .then(pl.col("mac")).alias("mac"))
        else:
            hits = hits.with_columns(pl.lit(None, pl.String).alias("mac"))
        grouped = hits.group_by("client", "mac", "endpoint", "name").agg(
            pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"),
            pl.len().alias("count"), pl.col("port").drop_nulls().unique().alias("ports"),
            pl.col("via").unique().alias("via")).with_columns(pl.lit(file_index).alias("file"))
        self._parts.append(grouped)
        if len(self._parts) >= COMPACT_EVERY:
            self._parts = [self._compact()]

    def _compact(self) -> pl.DataFrame:
        """The batches' aggregates folded into one frame (memory: callers x endpoints)."""
        if not self._parts:
            return pl.DataFrame(schema=_AGG_SCHEMA)
        return pl.concat(self._parts, how="diagonal_relaxed").group_by(
            "file", "client", "mac", "endpoint", "name").agg(
            pl.col("first").min(), pl.col("last").max(), pl.col("count").sum(),
            pl.col("ports").list.explode(keep_nulls=False, empty_as_null=False).unique(),
            pl.col("via").list.explode(keep_nulls=False, empty_as_null=False).unique())

    @property
    def _agg(self) -> dict[tuple[int, str, str | None, int, str], _Agg]:
        merged = self._compact()
        self._parts = [merged]
        return {(file, client, mac, int(index), name):
                _Agg(first, last, int(count), set(ports), set(via))
                for client, mac, index, name, file, first, last, count, ports, via
                in merged.select("client", "mac", "endpoint", "name", "file", "first", "last",
                                 "count", "ports", "via").iter_rows()}

    # -- writing -------------------------------------------------------------------------

    def summary(self, *, dry_run: bool = True) -> CallHomeSummary:
        self.errors.close()  # the errors file is complete once reading is done
        out = CallHomeSummary(self.kind, self.files, self.errors.kept, self.errors.count,
                              sum(f.matched for f in self.files), self._app, dry_run=dry_run)
        for (_f, _c, _m, index, _n), agg in self._agg.items():
            out.endpoints[self._endpoint(index).id] += agg.count
        out.seconds = time.monotonic() - self.started
        return out

    def write(self) -> CallHomeSummary:
        """Everything read so far, into the store in one transaction; then re-identify."""
        from camsweep.kb import load_kb
        from camsweep.store.identification import identify_store

        summary = self.summary(dry_run=False)
        now = utcnow()
        with self.store.engine.begin() as conn:
            self._skip_reimports(conn)
            keep = {i for i, f in enumerate(self.files) if f.skipped is None}
            aggs = {k: v for k, v in self._agg.items() if k[0] in keep}
            for i in sorted(keep):
                self.files[i].source_id = self._source(conn, self.files[i], now)
            ordered = sorted(aggs.items(), key=lambda kv: kv[1].first)
            callers = list(dict.fromkeys((k[1], k[2]) for k, _a in ordered))
            owners = _Owners(conn, self._site_pk, callers)
            owner = {c: owners.resolve(*c) for c in callers}
            fresh = [c for c in callers if owner[c] == "new"]
            first_file = {(k[1], k[2]): k[0] for k, _a in reversed(ordered)}
            owner.update(owners.create(fresh, now, [self.files[first_file[c]].source_id or 0
                                                    for c in fresh]))
            per_device: dict[tuple[int, int, str, int], _Agg] = {}
            clients: dict[tuple[int, int, str, int], tuple[str, str | None]] = {}
            for (file_index, client, mac, index, name), agg in ordered:
                pk = owner[client, mac]
                if not isinstance(pk, int):
                    summary.unattributed += agg.count
                    continue
                key = (pk, file_index, name, index)
                have = per_device.get(key)
                if have is None:
                    per_device[key] = _Agg(agg.first, agg.last, agg.count, set(agg.ports),
                                           set(agg.via))
                else:
                    have.first, have.last = min(have.first, agg.first), max(have.last, agg.last)
                    have.count += agg.count
                    have.ports.update(agg.ports)
                    have.via.update(agg.via)
                clients[key] = (client, mac)
            resolved: dict[tuple[int, str], list[str]] = {}
            for address, (index, name) in self._book.items():
                resolved.setdefault((index, name), []).append(address)
            rows = [self._observation(key, agg, clients[key], resolved)
                    for key, agg in per_device.items()]
            summary.observations = insert_many(conn, "observations", _OBS_COLS, rows)
            seen = sorted({key[0] for key in per_device})
            for i in range(0, len(seen), _CHUNK):
                conn.execute(update(m.Device).where(m.Device.id.in_(seen[i:i + _CHUNK]))
                             .values(last_seen_at=now, updated_at=now))
                conn.execute(update(m.Device).where(m.Device.id.in_(seen[i:i + _CHUNK]),
                                                    m.Device.first_seen_at.is_(None))
                             .values(first_seen_at=now))
            summary.devices, summary.created = len(seen), owners.created
        if seen:
            run = identify_store(self.store, self.kb or load_kb(), device_pks=seen)
            summary.reidentified, summary.restricted = run.devices, run.restricted
        summary.seconds = time.monotonic() - self.started
        return summary

    def _skip_reimports(self, conn: Connection) -> None:
        """A file already imported (same content, same kind) adds nothing the second time."""
        for report in self.files:
            if report.sha256 is None:
                continue
            earlier = conn.execute(select(m.Source.id).where(
                m.Source.kind == report.kind, m.Source.sha256 == report.sha256)).scalar()
            if earlier is not None:
                report.skipped = f"already imported as source #{earlier}"

    def _source(self, conn: Connection, report: FileReport, now: datetime) -> int:
        options = {"format": report.format, "malformed": report.malformed, "tz": self.opts.tz,
                   **({"site_id": self.site_id} if self.site_id else {})}
        result = conn.execute(insert(m.Source).values(
            kind=report.kind, name=report.path, sha256=report.sha256, rows=report.lines,
            created=0, updated=0, unchanged=0, started_at=now, finished_at=utcnow(),
            options=options))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def _observation(self, key: tuple[int, int, str, int], agg: _Agg,
                     client: tuple[str, str | None],
                     resolved: dict[tuple[int, str], list[str]]) -> tuple[Any, ...]:
        import json

        pk, file_index, name, index = key
        endpoint = self._endpoint(index)
        addresses = sorted(resolved.get((index, name), []))
        payload = {
            "endpoint": name, "endpoint_id": endpoint.id, "service": endpoint.service,
            "maker": endpoint.maker, "kind": endpoint.kind, "confidence": endpoint.confidence,
            "identifies_maker": endpoint.identifies_maker,
            "documented_ports": endpoint.port_labels, "ports": sorted(agg.ports),
            "via": sorted(agg.via), "first_seen": agg.first.isoformat(),
            "last_seen": agg.last.isoformat(), "count": agg.count,
            "addresses": addresses[:ADDRESSES_KEPT], "client_ip": client[0],
            "log_source": [self.files[file_index].path],
            "log_format": self.files[file_index].format,
        }
        return (pk, self.files[file_index].source_id, PROBE, agg.last.isoformat(sep=" "),
                client[0], client[1], json.dumps(payload, ensure_ascii=False))


def _stamp(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        return None


class _Owners:
    """Which device a caller is: by MAC, else the device holding the address now, else new.

    Candidates for every caller are read up front in a few IN queries, and new devices are
    inserted in one statement: a log naming thousands of devices costs a handful of
    round trips, not thousands.
    """

    def __init__(self, conn: Connection, site_pk: int | None,
                 callers: list[tuple[str, str | None]]) -> None:
        self.conn = conn
        self.site_pk = site_pk
        self.created = 0
        self._by_mac: dict[str, int] = {}
        self._by_ip: dict[str, list[tuple[int, int | None, str | None]]] = {}
        macs = sorted({mac for _c, mac in callers if mac})
        ips = sorted({client for client, _m in callers})
        for i in range(0, len(macs), _CHUNK):
            for pk, _site, mac, _ip in self._rows(m.Device.mac.in_(macs[i:i + _CHUNK])):
                self._by_mac.setdefault(str(mac), pk)
        for i in range(0, len(ips), _CHUNK):
            for pk, site, mac, ip in self._rows(m.Device.ip.in_(ips[i:i + _CHUNK])):
                self._by_ip.setdefault(str(ip), []).append((pk, site, mac))

    def _rows(self, where: Any) -> list[tuple[int, int | None, str | None, str | None]]:
        stmt = select(m.Device.id, m.Device.site_pk, m.Device.mac, m.Device.ip).where(
            where).order_by(m.Device.asset_id.is_(None), m.Device.id)
        if self.site_pk is not None:
            stmt = stmt.where((m.Device.site_pk == self.site_pk) | m.Device.site_pk.is_(None))
        return [(int(r[0]), r[1], r[2], r[3]) for r in self.conn.execute(stmt)]

    def resolve(self, client: str, mac: str | None) -> int | Literal["new"] | None:
        """A device's pk; None when the address is ambiguous; "new" when nobody has it."""
        if mac is not None and mac in self._by_mac:
            return self._by_mac[mac]
        rows = [r for r in self._by_ip.get(client, []) if mac is None or r[2] in (None, mac)]
        if not rows:
            return "new"
        # The same private address at two sites is two devices: do not guess which.
        return rows[0][0] if len({r[1] for r in rows}) == 1 else None

    def create(self, callers: list[tuple[str, str | None]], now: datetime,
               source_ids: list[int]) -> dict[tuple[str, str | None], int]:
        """Insert one unregistered device per new caller (one per MAC, else per address)."""
        keys: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        for (client, mac), source_id in zip(callers, source_ids, strict=True):
            key = mac or client
            if key not in keys:
                keys[key] = len(rows)
                rows.append({"asset_id": None, "site_pk": self.site_pk, "ip": client,
                             "mac": mac, "source_id": source_id, "created_at": now,
                             "updated_at": now, "first_seen_at": now, "last_seen_at": now})
        if not rows:
            return {}
        pks = self.conn.execute(insert(m.Device).returning(
            m.Device.id, sort_by_parameter_order=True), rows).scalars().all()
        self.created = len(rows)
        return {(client, mac): int(pks[keys[mac or client]]) for client, mac in callers}


def import_logs(store: Store, kind: Kind, paths: list[Path], *, fmt: str | None = None,
                dns_paths: list[Path] | None = None, dns_format: str | None = None,
                site_id: str | None = None, tz: str = "UTC", errors_out: Path | None = None,
                dry_run: bool = False, progress: Progress | None = None,
                endpoints: EndpointIndex | None = None, kb: Any = None) -> CallHomeSummary:
    """Import DNS (`kind="dns"`) or flow logs; for flows, `dns_paths` are read first so the
    flows can be matched on the addresses those names resolved to in the same run."""
    from camsweep.discover.importers.logstream import check_timezone

    check_timezone(tz)
    if not paths:
        raise InputError("no files given")
    extra = list(dns_paths or [])
    missing = [p for p in [*extra, *paths] if not p.is_file()]
    if missing:
        raise InputError.of("log files", [RowError(str(p), None, None, "no such file")
                                          for p in missing])
    run = CallHomeImport(store, kind, endpoints=endpoints, site_id=site_id, tz=tz,
                         errors_out=errors_out, progress=progress, kb=kb)
    run.expect([*extra, *paths])
    if extra:
        run.add_files(extra, dns_format, kind="dns")
    run.add_files(paths, fmt, kind=kind)
    return run.summary(dry_run=True) if dry_run else run.write()


@dataclass(frozen=True)
class Unmasked:
    """A device whose register entry did not give its maker away, and whose traffic did."""

    device_pk: int
    asset_id: str | None
    ip: str | None
    label: str  # what the register says: brand and model, or "(nothing)"
    maker: str
    endpoints: tuple[str, ...]


def unmasked_by_traffic(store: Store, kb: Any = None) -> list[Unmasked]:
    """Devices the register alone leaves unattributed (or unrestricted) that their calls
    home attribute to a restricted maker: identify once without, once with, the traffic."""
    from camsweep.identify import identify_many
    from camsweep.kb import load_kb
    from camsweep.store.callhome import calls_home_evidence, devices_calling_home
    from camsweep.store.identification import register_evidence

    kb = kb or load_kb()
    out: list[Unmasked] = []
    with store.engine.connect() as conn:
        pks = devices_calling_home(conn)
        for i in range(0, len(pks), _CHUNK):
            chunk = pks[i:i + _CHUNK]
            calls = calls_home_evidence(conn, chunk)
            rows = conn.execute(select(m.Device.id, m.Device.asset_id, m.Device.brand,
                                       m.Device.model, m.Device.mac, m.Device.firmware,
                                       m.Device.ip).where(m.Device.id.in_(chunk))
                                .order_by(m.Device.id)).all()
            plain = [register_evidence(r[2], r[3], r[4], r[5], r[6]) for r in rows]
            traffic = [e.model_copy(update={"calls_home": calls.get(r[0], [])})
                       for e, r in zip(plain, rows, strict=True)]
            before, after = identify_many(plain, kb), identify_many(traffic, kb)
            for r, was, now in zip(rows, before, after, strict=True):
                if now.restricted and not was.restricted and now.manufacturer_id:
                    label = " ".join(str(v) for v in (r[2], r[3]) if v) or "(nothing)"
                    names = tuple(sorted({v.split(":")[0] for v in calls.get(r[0], [])}))
                    out.append(Unmasked(r[0], r[1], r[6], label, now.manufacturer_id, names))
    return out

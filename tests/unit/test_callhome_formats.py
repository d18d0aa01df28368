"""Log readers: every format, malformed lines with their line numbers, rotation, gzip, times."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from callhome_logs import (
    at,
    bind,
    dnsmasq,
    firewall,
    ftl_csv,
    ipfix,
    nfdump,
    zeek_conn,
    zeek_conn_json,
    zeek_dns,
    zeek_dns_json,
)
from camsweep.discover.importers.dns import detect_dns_format, read_dns
from camsweep.discover.importers.flows import detect_flow_format, read_flows
from camsweep.discover.importers.logstream import (
    LineErrors,
    LogBatch,
    LogFile,
    ReadOptions,
    find_line_start,
    parse_times,
    syslog_times,
)
from camsweep.errors import InputError
from camsweep.sample_dns import write_dns_log

HIK = "litedev.hik-connect.com"
QUERIES = [(at(0), "10.1.0.50", HIK, "203.0.113.10,203.0.113.11"),
           (at(5), "10.1.0.51", "www.gov.uk", "192.0.2.1"),
           (at(10), "10.1.0.50", "www.easy4ipcloud.com", None)]
FLOWS = [(at(0), "10.1.0.50", "203.0.113.10", 8666, "tcp"),
         (at(1), "10.1.0.51", "192.0.2.1", 443, "tcp"),
         (at(2), "10.1.0.52", "114.114.114.114", 53, "udp")]
OPTS = ReadOptions(reference=date(2026, 12, 1))


def _write(tmp_path: Path, name: str, text: str, *, gz: bool = False) -> Path:
    path = tmp_path / name
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _dns(path: Path, fmt: str | None = None, chunk: int = 1 << 20,
         opts: ReadOptions = OPTS) -> tuple[pl.DataFrame, LineErrors, list[LogBatch]]:
    file = LogFile(path, chunk_bytes=chunk)
    errors = LineErrors()
    batches = list(read_dns(file, fmt or detect_dns_format(file), errors, opts))
    frames = [b.finished(b.queries) for b in batches if b.queries is not None]
    return pl.concat(frames).sort("line"), errors, batches


def _flows(path: Path, fmt: str | None = None, chunk: int = 1 << 20
           ) -> tuple[pl.DataFrame, LineErrors]:
    file = LogFile(path, chunk_bytes=chunk)
    errors = LineErrors()
    batches = list(read_flows(file, fmt or detect_flow_format(file), errors, OPTS))
    frames = [b.finished(b.flows) for b in batches if b.flows is not None]
    return pl.concat(frames).sort("line"), errors


def _triples(frame: pl.DataFrame) -> list[tuple[datetime, str, str]]:
    return [(t, c, q) for t, c, q in frame.select("ts", "client", "query").iter_rows()]


EXPECTED = [(w, c, q) for w, c, q, _a in QUERIES]


# --- DNS formats ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "text"), [
    ("zeek", zeek_dns(QUERIES)),
    ("zeek", zeek_dns_json(QUERIES)),
    ("zeek", zeek_dns_json(QUERIES, iso=True)),
    ("bind", bind(QUERIES, "file")),
    ("bind", bind(QUERIES, "syslog")),
    ("bind", bind(QUERIES, "iso")),
    ("dnsmasq", dnsmasq(QUERIES)),
    ("pihole-ftl", ftl_csv(QUERIES)),
], ids=["zeek-tsv", "zeek-json", "zeek-json-iso", "bind-file", "bind-syslog", "bind-iso",
        "dnsmasq", "pihole-ftl"])
def test_every_dns_format_is_detected_and_read(tmp_path: Path, fmt: str, text: str) -> None:
    path = _write(tmp_path, "log", text)
    assert detect_dns_format(LogFile(path)) == fmt
    frame, errors, _ = _dns(path)
    assert errors.count == 0, errors.kept
    got = _triples(frame)
    if fmt == "pihole-ftl":  # FTL keeps whole seconds
        got = [(t.replace(microsecond=0), c, q) for t, c, q in got]
    assert got == EXPECTED


def test_zeek_answers_are_kept_for_flow_matching(tmp_path: Path) -> None:
    for text in (zeek_dns(QUERIES), zeek_dns_json(QUERIES)):
        frame, _, _ = _dns(_write(tmp_path, "a.log", text))
        assert frame.get_column("answers").to_list() == ["203.0.113.10,203.0.113.11",
                                                         "192.0.2.1", None]


def test_zeek_malformed_lines_are_counted_with_line_numbers(tmp_path: Path) -> None:
    good = zeek_dns(QUERIES, close=False)
    bad_fields = "1796025600.0\tCshort\t10.1.0.9\t53"
    too_many = zeek_dns(QUERIES[:1]).splitlines()[8] + "\textra\tfields"
    bad_time = zeek_dns(QUERIES[:1]).splitlines()[8].replace("1796025600.000000", "yesterday",
                                                             1)
    text = good + "\n".join([bad_fields, too_many, bad_time]) + "\n"
    path = _write(tmp_path, "dns.log", text)
    frame, errors, _ = _dns(path, chunk=300)  # many chunks: numbering must survive them
    assert _triples(frame) == EXPECTED
    lines = {e.row: e.reason for e in errors.kept}
    assert errors.count == 3
    assert "expected 24 tab-separated fields, got 4" in lines[12]
    assert "got 26" in lines[13]
    assert lines[14].startswith("ts:")


def test_rotated_zeek_logs_concatenated_and_gzipped(tmp_path: Path) -> None:
    """`cat dns.00:00:00.log dns.01:00:00.log | gzip`: headers recur mid-file."""
    text = zeek_dns(QUERIES[:2]) + zeek_dns(QUERIES[2:])
    path = _write(tmp_path, "dns.log.gz", text, gz=True)
    file = LogFile(path)
    assert file.gzip and detect_dns_format(file) == "zeek"
    frame, errors, _ = _dns(path, chunk=256)
    assert errors.count == 0 and _triples(frame) == EXPECTED
    assert frame.get_column("line").to_list() == [9, 10, 20]
    assert file.sha256 is None  # set once a read goes through the whole file
    list(read_dns(file, "zeek", LineErrors()))
    assert file.lines == text.count("\n") and file.sha256 and len(file.sha256) == 64


def test_zeek_json_broken_lines(tmp_path: Path) -> None:
    text = zeek_dns_json(QUERIES[:2]) + '{"ts": 1796025600.0, "query": \n[1, 2]\n' \
        + zeek_dns_json(QUERIES[2:])
    frame, errors, _ = _dns(_write(tmp_path, "j.log", text))
    assert _triples(frame) == EXPECTED
    assert [e.row for e in errors.kept] == [3, 4]
    assert "not a JSON object" in errors.kept[1].reason


def test_bind_and_dnsmasq_garbage_lines(tmp_path: Path) -> None:
    frame, errors, _ = _dns(_write(tmp_path, "b.log", bind(QUERIES) + "rndc: reload\n"))
    assert _triples(frame) == EXPECTED and [e.row for e in errors.kept] == [4]
    text = dnsmasq(QUERIES, extra=["garbage line", ""])
    frame, errors, _ = _dns(_write(tmp_path, "d.log", text))
    assert _triples(frame) == EXPECTED
    assert errors.count == 1 and "not a dnsmasq log line" in errors.kept[0].reason


def test_dnsmasq_dhcp_acks_and_replies(tmp_path: Path) -> None:
    acks = [(at(-1), "10.1.0.50", "AA:BB:CC:00:00:01")]
    _, errors, batches = _dns(_write(tmp_path, "p.log", dnsmasq(QUERIES, acks)), "pihole")
    bindings = pl.concat([b.bindings for b in batches if b.bindings is not None])
    replies = pl.concat([b.replies for b in batches if b.replies is not None])
    assert errors.count == 0
    assert bindings.rows() == [(at(-1), "10.1.0.50", "AA:BB:CC:00:00:01")]
    assert ("litedev.hik-connect.com", "203.0.113.11") in replies.rows()


def test_ftl_short_rows(tmp_path: Path) -> None:
    frame, errors, _ = _dns(_write(tmp_path, "f.csv", ftl_csv(QUERIES, extra=["99,17"])))
    assert len(frame) == 3 and [e.row for e in errors.kept] == [5]


def test_unknown_dns_format_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.txt", "hello\nworld\n")
    with pytest.raises(InputError, match="format not recognised"):
        detect_dns_format(LogFile(path))


def test_bind_local_time_zone(tmp_path: Path) -> None:
    summer = [(datetime(2026, 7, 1, 9, 0), "10.1.0.50", HIK, None)]
    frame, _, _ = _dns(_write(tmp_path, "b.log", bind(summer)),
                       opts=ReadOptions(tz="Europe/London"))
    assert frame.get_column("ts").to_list() == [datetime(2026, 7, 1, 8, 0)]


# --- flow formats ---------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "text"), [
    ("zeek", zeek_conn(FLOWS)),
    ("zeek", zeek_conn_json(FLOWS)),
    ("nfdump", nfdump(FLOWS)),
    ("ipfix", ipfix(FLOWS)),
    ("firewall", firewall(FLOWS)),
], ids=["zeek-tsv", "zeek-json", "nfdump", "ipfix", "firewall"])
def test_every_flow_format_is_detected_and_read(tmp_path: Path, fmt: str, text: str) -> None:
    path = _write(tmp_path, "flows", text)
    assert detect_flow_format(LogFile(path)) == fmt
    frame, errors = _flows(path)
    assert errors.count == 0, errors.kept
    assert frame.select("ts", "src", "dst", "dport", "proto").rows() == FLOWS


def test_nfdump_summary_footer_is_not_malformed_but_a_short_row_is(tmp_path: Path) -> None:
    path = _write(tmp_path, "n.csv", nfdump(FLOWS, extra=["2026-11-30 08:09:00,oops"]))
    frame, errors = _flows(path, chunk=200)
    assert len(frame) == 3
    assert [e.row for e in errors.kept] == [5]


def test_firewall_hosts_from_urls_and_missing_destinations(tmp_path: Path) -> None:
    text = firewall(FLOWS, hosts=["dev.hik-connect.com", None, None],
                    extra=["2026-11-30;08:05:00;10.1.0.53;;;;", "not;a;row"])
    frame, errors = _flows(_write(tmp_path, "fw.csv", text))
    assert frame.get_column("host").to_list() == ["dev.hik-connect.com", None, None]
    assert {e.row: e.reason for e in errors.kept} == {
        5: "neither a destination address nor a host name",
        6: "expected 7 fields, got 3: 'not;a;row'"}


def test_firewall_without_needed_columns_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "fw.csv", "when,who\n2026-11-30,x\n")
    with pytest.raises(InputError, match="format not recognised"):
        detect_flow_format(LogFile(path))
    with pytest.raises(InputError, match="no column for"):
        list(read_flows(LogFile(path), "firewall", LineErrors(), OPTS))


def test_zeek_conn_malformed(tmp_path: Path) -> None:
    frame, errors = _flows(_write(tmp_path, "c.log", zeek_conn(FLOWS, extra=["1\t2\t3"])))
    assert len(frame) == 3 and [e.row for e in errors.kept] == [12]


# --- streaming pieces -----------------------------------------------------------------------


def test_errors_file_gets_every_malformed_line(tmp_path: Path) -> None:
    out = tmp_path / "errors.csv"
    errors = LineErrors(out, keep=2)
    for n in range(5):
        errors.add("f.log", n + 1, "bad", f"text {n}")
    errors.close()
    assert errors.count == 5 and len(errors.kept) == 2
    rows = out.read_text().splitlines()
    assert rows[0] == "file,row,column,reason,text" and rows[-1] == "f.log,5,,bad,text 4"


def test_chunks_keep_line_numbers_and_last_line_without_newline(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.log", "a\nbb\nccc\n" * 50 + "last")
    chunks = list(LogFile(path, chunk_bytes=7).chunks())
    assert b"".join(c.data for c in chunks) == ("a\nbb\nccc\n" * 50 + "last\n").encode()
    line = 1
    for chunk in chunks:
        assert chunk.first_line == line
        line += chunk.lines
    assert line == 152


def test_line_start_search() -> None:
    data = b"a#b\n#c\nd\n#"
    assert find_line_start(data, b"#") == 4
    assert find_line_start(data, b"#", 5) == 9
    assert find_line_start(b"#x", b"#") == 0 and find_line_start(b"x#", b"#") == -1


def test_times() -> None:
    frame = pl.DataFrame({"t": ["1796025600.25", "2026-11-30T08:00:00Z",
                                "2026-11-30T09:00:00+01:00", "2026-11-30 08:00:00", "nonsense",
                                "1796025600250"]})
    got = parse_times(frame, "t").to_list()
    assert got[:4] == [datetime(2026, 11, 30, 8, 0, 0, 250000), datetime(2026, 11, 30, 8),
                       datetime(2026, 11, 30, 8), datetime(2026, 11, 30, 8)]
    assert got[4] is None and got[5] == datetime(2026, 11, 30, 8, 0, 0, 250000)
    year_end = pl.DataFrame({"t": ["Dec 31 23:59:59", "Jan  1 00:00:01"]})
    assert syslog_times(year_end, "t", date(2027, 1, 1)).to_list() == [
        datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1, 0, 0, 1)]


# --- the sample's DNS log -------------------------------------------------------------------


def test_sample_dns_log_is_deterministic_and_readable(tmp_path: Path) -> None:
    from camsweep.sample import build_assets, make_sites

    assets = build_assets(make_sites(50, 2023), 3000, 2023)
    one = write_dns_log(tmp_path / "one.log", assets, 2023)
    two = write_dns_log(tmp_path / "two.log", assets, 2023)
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.white_label and one.unregistered and one.callers > 50
    frame, errors, _ = _dns(one.path)
    assert errors.count == 0 and len(frame) == one.lines
    white_ips = set(assets.filter(pl.col("asset_id").is_in(one.white_label))
                    .get_column("ip").to_list())
    assert white_ips <= set(frame.get_column("client").to_list())


def test_zeek_keep_reads_only_the_wanted_records(tmp_path: Path) -> None:
    """With `keep`, unwanted records are never split; wanted ones keep fields and lines."""
    text = zeek_dns(QUERIES, close=False) + "1\t2\t3\n" + zeek_dns(QUERIES[:1]).splitlines()[8] \
        + "\textra\n" + zeek_dns(QUERIES).split("#types")[1].split("\n", 1)[1]
    path = _write(tmp_path, "k.log", text)
    for chunk in (150, 1 << 20):
        file = LogFile(path, chunk_bytes=chunk)
        errors = LineErrors()
        kept = [b.finished(b.queries) for b in read_dns(
            file, "zeek", errors, OPTS, keep=lambda s: s.str.contains("hik-connect"))
            if b.queries is not None]
        frame = pl.concat(kept)
        assert frame.select("client", "query", "answers", "line").rows() == [
            ("10.1.0.50", HIK, "203.0.113.10,203.0.113.11", 9),
            ("10.1.0.50", HIK, "203.0.113.10,203.0.113.11", 14)]
        assert sorted(e.row for e in errors.kept) == [12, 13]


def test_sample_cli_writes_the_dns_log_when_asked(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from camsweep.cli.app import app

    runner = CliRunner()
    for out in ("a", "b"):
        result = runner.invoke(app, ["sample", "--sites", "8", "--devices", "400", "--seed", "5",
                                     "--dns", "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "dns.log").read_bytes() == (tmp_path / "b" / "dns.log").read_bytes()
    frame, errors, _ = _dns(tmp_path / "a" / "dns.log")
    assert errors.count == 0 and frame.height > 100
    plain = runner.invoke(app, ["sample", "--sites", "8", "--devices", "400", "--out",
                                str(tmp_path / "c")])
    assert plain.exit_code == 0 and not (tmp_path / "c" / "dns.log").exists()

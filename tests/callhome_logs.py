"""Writers for every log format call-home import reads, from plain records, for tests.

Each writer produces the format as the tool writes it (field order, headers, time style),
so a test states records and checks what import makes of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from camsweep.sample_dns import zeek_close, zeek_dns_line, zeek_header

T0 = datetime(2026, 11, 30, 8, 0, 0)  # naive UTC, as stored
Query = tuple[datetime, str, str, str | None]  # when, client, name, answers ("a,b" or None)
Flow = tuple[datetime, str, str, int, str]  # when, source, destination, port, protocol

CONN_FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
               "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig",
               "local_resp", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes",
               "resp_pkts", "resp_ip_bytes", "tunnel_parents")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def epoch(when: datetime) -> float:
    return when.replace(tzinfo=UTC).timestamp()


def zeek_dns(queries: Sequence[Query], extra: Sequence[str] = (), close: bool = True) -> str:
    """Zeek dns.log TSV; `extra` lines are appended raw (malformed ones, say)."""
    body = "".join(zeek_dns_line(epoch(w), f"C{i:08d}", c, q, a)
                   for i, (w, c, q, a) in enumerate(queries))
    return (zeek_header(T0) + body + "".join(line + "\n" for line in extra)
            + (zeek_close(T0 + timedelta(days=1)) if close else ""))


def zeek_dns_json(queries: Sequence[Query], iso: bool = False) -> str:
    lines = []
    for i, (w, c, q, a) in enumerate(queries):
        record: dict[str, object] = {
            "ts": w.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if iso else epoch(w), "uid": f"C{i}",
            "id.orig_h": c, "id.orig_p": 40000 + i, "id.resp_h": "10.255.0.53",
            "id.resp_p": 53, "proto": "udp", "query": q, "qtype_name": "A"}
        if a:
            record["answers"] = a.split(",")
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


def bind(queries: Sequence[Query], style: str = "file") -> str:
    out = []
    for i, (w, c, q, _a) in enumerate(queries):
        tail = f"client @0x7f3a{i:08x} {c}#{50000 + i} ({q}): query: {q} IN A +E(0)K (10.255.0.53)"
        if style == "file":
            out.append(f"{w:%d-%b-%Y %H:%M:%S}.{w.microsecond // 1000:03d} queries: info: {tail}")
        elif style == "syslog":
            out.append(f"{w:%b} {w.day:2d} {w:%H:%M:%S} ns1 named[812]: {tail}")
        else:
            out.append(f"{w:%Y-%m-%dT%H:%M:%S}.000Z {tail}")
    return "\n".join(out) + "\n"


def _syslog(w: datetime) -> str:
    return f"{w:%b} {w.day:2d} {w:%H:%M:%S}"


def dnsmasq(queries: Sequence[Query], acks: Sequence[tuple[datetime, str, str]] = (),
            extra: Sequence[str] = ()) -> str:
    """dnsmasq (and pihole.log): DHCPACK lines, then queries with their forwarded/reply lines,
    all in time order."""
    events: list[tuple[datetime, str]] = []
    for w, ip, mac in acks:
        events.append((w, f"{_syslog(w)} dnsmasq-dhcp[311]: DHCPACK(eth0) {ip} {mac} cam"))
    for w, c, q, a in queries:
        events.append((w, f"{_syslog(w)} dnsmasq[311]: query[A] {q} from {c}"))
        events.append((w, f"{_syslog(w)} dnsmasq[311]: forwarded {q} to 9.9.9.9"))
        for address in (a or "").split(","):
            if address:
                events.append((w, f"{_syslog(w)} dnsmasq[311]: reply {q} is {address}"))
    events.sort(key=lambda e: e[0])
    return "\n".join([*(e[1] for e in events), *extra]) + "\n"


def ftl_csv(queries: Sequence[Query], extra: Sequence[str] = ()) -> str:
    rows = ["id,timestamp,type,status,domain,client,forward,additional_info,reply_type,"
            "reply_time,dnssec"]
    rows += [f'{i},{int(epoch(w))},1,2,{q},{c},"9.9.9.9#53",,4,0.012,0'
             for i, (w, c, q, _a) in enumerate(queries, start=1)]
    return "\n".join([*rows, *extra]) + "\n"


def zeek_conn(flows: Sequence[Flow], extra: Sequence[str] = ()) -> str:
    header = (zeek_header(T0, "conn").split("#fields")[0]
              + "#fields\t" + "\t".join(CONN_FIELDS) + "\n#types\t"
              + "\t".join("string" for _ in CONN_FIELDS) + "\n")
    body = "".join(
        f"{epoch(w):.6f}\tC{i}\t{s}\t{45000 + i}\t{d}\t{p}\t{proto}\t-\t1.0\t100\t200\tSF\tT\tF"
        f"\t0\tShADadFf\t5\t400\t4\t500\t-\n" for i, (w, s, d, p, proto) in enumerate(flows))
    return header + body + "".join(line + "\n" for line in extra) + zeek_close(T0)


def zeek_conn_json(flows: Sequence[Flow]) -> str:
    return "".join(json.dumps({"ts": epoch(w), "uid": f"C{i}", "id.orig_h": s,
                               "id.orig_p": 45000 + i, "id.resp_h": d, "id.resp_p": p,
                               "proto": proto, "conn_state": "SF"}) + "\n"
                   for i, (w, s, d, p, proto) in enumerate(flows))


def nfdump(flows: Sequence[Flow], extra: Sequence[str] = ()) -> str:
    rows = ["ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das"]
    rows += [f"{w:%Y-%m-%d %H:%M:%S},{w + timedelta(seconds=2):%Y-%m-%d %H:%M:%S},2.000,{s},{d},"
             f"{45000 + i},{p},{proto.upper()},.AP.SF,0,0,5,400,0,0,1,2,0,0"
             for i, (w, s, d, p, proto) in enumerate(flows)]
    rows += list(extra)
    rows += ["Summary", "flows,bytes,packets,avg_bps,avg_pps,avg_bpp",
             f"{len(flows)},{400 * len(flows)},{5 * len(flows)},1600,2,80"]
    return "\n".join(rows) + "\n"


def ipfix(flows: Sequence[Flow]) -> str:
    rows = ["flowStartMilliseconds,flowEndMilliseconds,sourceIPv4Address,"
            "destinationIPv4Address,sourceTransportPort,destinationTransportPort,"
            "protocolIdentifier,octetDeltaCount"]
    rows += [f"{int(epoch(w) * 1000)},{int(epoch(w) * 1000) + 500},{s},{d},{45000 + i},{p},"
             f"{ {'tcp': 6, 'udp': 17}[proto] },400"
             for i, (w, s, d, p, proto) in enumerate(flows)]
    return "\n".join(rows) + "\n"


def firewall(flows: Sequence[Flow], hosts: Sequence[str | None] | None = None,
             extra: Sequence[str] = ()) -> str:
    """A Fortinet-like export: date and time in two columns, a URL column, semicolons."""
    rows = ["date;time;Source address;Destination address;Destination Port;Protocol;URL"]
    names = hosts or [None] * len(flows)
    rows += [f"{w:%Y-%m-%d};{w:%H:%M:%S};{s};{d};{p};{proto};"
             f"{'https://' + h + '/api/v1' if h else ''}"
             for (w, s, d, p, proto), h in zip(flows, names, strict=True)]
    return "\n".join([*rows, *extra]) + "\n"

"""Passive importers: nmap XML, masscan JSON/list, pcap/pcapng, DHCP leases, ARP/MAC tables.
Malformed files are errors naming the file, the line or record, and the reason; they import
nothing. Addresses are RFC 5737 documentation addresses (data only, nothing is sent)."""

from __future__ import annotations

import socket
from pathlib import Path

import dpkt  # type: ignore[import-untyped]
import pytest
from sqlalchemy import func, select

from camsweep.discover.importers import import_network
from camsweep.discover.importers.leases import read_arp, read_dhcp
from camsweep.discover.importers.masscan import read_masscan
from camsweep.discover.importers.nmap import read_nmap
from camsweep.discover.importers.pcap import read_pcap
from camsweep.discover.model import HostReport
from camsweep.errors import InputError
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.queries import list_devices

# nmap -sV -oX (docs/nmap.dtd); the product label is nmap-service-probes' "Hikvision IP camera
# httpd" match, the script outputs quote the device (App-webs/, the recog-listed certificate).
NMAP_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sV -oX - 192.0.2.0/24" version="7.94">
<host><status state="up" reason="arp-response"/>
<address addr="192.0.2.64" addrtype="ipv4"/>
<address addr="44:19:B6:12:34:56" addrtype="mac" vendor="Hangzhou Hikvision Digital Technology"/>
<hostnames><hostname name="cam-yard.example.test" type="PTR"/></hostnames>
<ports>
<port protocol="tcp" portid="80"><state state="open" reason="syn-ack"/>
<service name="http" product="Hikvision IP camera httpd" method="probed" conf="10"/>
<script id="http-server-header" output="App-webs/"><elem>App-webs/</elem></script>
<script id="http-title" output="Site doesn&apos;t have a title"/></port>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack"/>
<service name="https" tunnel="ssl"/>
<script id="ssl-cert" output="Subject: commonName=www.hikvision.com">
<table key="subject"><elem key="commonName">www.hikvision.com</elem>
<elem key="organizationalUnitName">DVRNVR</elem><elem key="organizationName">HIKVISION</elem>
<elem key="countryName">CN</elem></table></script></port>
<port protocol="tcp" portid="8000"><state state="open" reason="syn-ack"/></port>
<port protocol="tcp" portid="9999"><state state="closed" reason="reset"/></port>
</ports></host>
<host><status state="down" reason="no-response"/><address addr="192.0.2.65" addrtype="ipv4"/>
</host>
<host><status state="up"/><address addr="192.0.2.108" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="554"><state state="open"/>
<service name="rtsp" product="Dahua IP camera rtspd"/></port>
<port protocol="tcp" portid="37777"><state state="open"/></port></ports></host>
</nmaprun>
"""


def write(tmp: Path, name: str, text: str | bytes) -> Path:
    path = tmp / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def by_ip(reports: list[HostReport]) -> dict[str | None, HostReport]:
    return {r.ip: r for r in reports}


def test_nmap_hosts_ports_services_and_scripts(tmp_path: Path) -> None:
    reports = by_ip(read_nmap(write(tmp_path, "scan.xml", NMAP_XML)))
    assert set(reports) == {"192.0.2.64", "192.0.2.108"}  # the down host is left out
    hik = reports["192.0.2.64"]
    assert hik.mac == "44:19:b6:12:34:56"
    assert hik.open_ports == [80, 443, 8000]
    http = next(a for a in hik.answers if a.probe == "http")
    assert http.fields["headers"] == {"Server": "App-webs/"}
    tls = next(a for a in hik.answers if a.probe == "tls")
    assert tls.fields["subject"] == "CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,C=CN"
    assert reports["192.0.2.108"].open_ports == [554, 37777]


@pytest.mark.parametrize(("text", "reason"), [
    ("<nmaprun><host>", "not well-formed"),
    ("<?xml version='1.0'?><report/>", "not <nmaprun>"),
    ("<nmaprun><host><status state='up'/><ports/></host></nmaprun>", "neither an IP nor a MAC"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><nmaprun>&a;</nmaprun>', "unsafe"),
])
def test_nmap_malformed(tmp_path: Path, text: str, reason: str) -> None:
    path = write(tmp_path, "bad.xml", text)
    with pytest.raises(InputError) as info:
        read_nmap(path)
    assert reason in str(info.value.errors[0]) and str(path) in str(info.value.errors[0])


# masscan src/out-json.c and src/out-text.c formats.
_OPEN = '"ports": [ {"port": %d, "proto": "tcp", "status": "open", "reason": "syn-ack"} ]'
_BANNER = ('"ports": [ {"port": 80, "proto": "tcp", "service": {"name": "http", "banner": '
           '"HTTP/1.1 302 Found\\r\\nServer: App-webs/\\r\\nLocation: /doc/page/login.asp'
           '\\r\\n\\r\\n"} } ]')
MASSCAN_JSON = (
    "[\n"
    f'{{   "ip": "192.0.2.64",   "timestamp": "1700000000", {_OPEN % 80} }},\n'
    f'{{   "ip": "192.0.2.64",   "timestamp": "1700000001", {_BANNER} }},\n'
    f'{{   "ip": "192.0.2.108",   "timestamp": "1700000002", {_OPEN % 37777} }},\n'
    "]\n"
)
MASSCAN_LIST = """#masscan
open tcp 80 192.0.2.64 1700000000
open tcp 554 192.0.2.108 1700000000
banner tcp 80 192.0.2.64 1700000001 http HTTP/1.1 200 OK\\r\\nServer: DNVRS-Webs\\r\\n\\r\\n
# end
"""


def test_masscan_json_with_trailing_comma_and_banners(tmp_path: Path) -> None:
    reports = by_ip(read_masscan(write(tmp_path, "m.json", MASSCAN_JSON)))
    hik = reports["192.0.2.64"]
    assert hik.open_ports == [80]
    http = next(a for a in hik.answers if a.probe == "http")
    assert http.fields["headers"]["Server"] == "App-webs/" and http.fields["status"] == 302
    assert reports["192.0.2.108"].open_ports == [37777]


def test_masscan_list_and_ndjson(tmp_path: Path) -> None:
    reports = by_ip(read_masscan(write(tmp_path, "m.txt", MASSCAN_LIST)))
    assert reports["192.0.2.108"].open_ports == [554]
    http = next(a for a in reports["192.0.2.64"].answers if a.probe == "http")
    assert http.fields["headers"]["Server"] == "DNVRS-Webs"
    nd = ('{"ip": "192.0.2.7", "ports": [{"port": 8000, "proto": "tcp", "status": "open"}]}\n')
    assert read_masscan(write(tmp_path, "m.ndjson", nd))[0].open_ports == [8000]


@pytest.mark.parametrize(("name", "text", "line"), [
    ("bad.json", '[\n{"ip": "192.0.2.1", "ports": [}\n]', 2),
    ("bad2.json", '[{"ip": "999.0.2.1", "ports": []}]', 1),
    ("bad.txt", "open tcp 80 192.0.2.1 1\nopen tcp eighty 192.0.2.2 1\n", 2),
    ("bad2.txt", "hello world\n", 1),
])
def test_masscan_malformed(tmp_path: Path, name: str, text: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        read_masscan(write(tmp_path, name, text))
    assert info.value.errors[0].row == line


def test_masscan_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no open ports"):
        read_masscan(write(tmp_path, "empty.txt", "#masscan\n# end\n"))


# dhcpd.leases(5) grammar; dnsmasq's leases file (dnsmasq src/lease.c writes these fields).
ISC_LEASES = """# The format of this file is documented in the dhcpd.leases(5) manual page.
authoring-byte-order little-endian;
server-duid "\\000\\001\\000\\001";
lease 192.0.2.64 {
  starts 4 2026/11/26 09:00:00;
  ends 4 2026/11/26 21:00:00;
  binding state active;
  hardware ethernet 44:19:b6:12:34:56;
  uid "\\001D\\031\\266\\0224V";
  set vendor-class-identifier = "udhcp 1.19.4";
  client-hostname "HIKVISION";
}
lease 192.0.2.108 {
  hardware ethernet 3c:ef:8c:01:02:03;
  client-hostname "IPC";
}
"""
DNSMASQ = """1764320000 44:19:b6:12:34:56 192.0.2.64 HIKVISION 01:44:19:b6:12:34:56
1764320000 ac:cc:8e:00:00:01 192.0.2.70 * *
duid 00:01:00:01:2c:00:00:00:52:54:00:00:00:01
"""


def test_isc_and_dnsmasq_leases(tmp_path: Path) -> None:
    isc = by_ip(read_dhcp(write(tmp_path, "dhcpd.leases", ISC_LEASES)))
    assert isc["192.0.2.64"].mac == "44:19:b6:12:34:56"
    fields = isc["192.0.2.64"].answers[0].fields
    assert fields["hostname"] == "HIKVISION" and fields["vendor_class"] == "udhcp 1.19.4"
    assert isc["192.0.2.108"].mac == "3c:ef:8c:01:02:03"
    masq = by_ip(read_dhcp(write(tmp_path, "dnsmasq.leases", DNSMASQ)))
    assert masq["192.0.2.70"].mac == "ac:cc:8e:00:00:01"
    assert masq["192.0.2.70"].answers[0].fields["hostname"] is None


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("lease 192.0.2.64 {\n  hardware ethernet zz:zz;\n}\n", 2, "not a MAC"),
    ("lease 192.0.2.64 {\n  hardware ethernet 44:19:b6:12:34:56;\n", 1, "not closed"),
    ("lease nowhere {\n}\n", 1, "not an IP"),
    ("1764320000 44:19:b6:12:34:56 192.0.2.300 cam *\n", 1, "not an IP"),
    ("soon 44:19:b6:12:34:56 192.0.2.3 cam *\n", 1, "EXPIRY MAC IP"),
])
def test_leases_malformed(tmp_path: Path, text: str, line: int, reason: str) -> None:
    with pytest.raises(InputError) as info:
        read_dhcp(write(tmp_path, "leases", text))
    error = info.value.errors[0]
    assert error.row == line and reason in error.reason


ARP_CSV = """Internet Address,Physical Address,Type,Interface
192.0.2.64,44-19-b6-12-34-56,dynamic,eth0
192.0.2.99,(incomplete),,eth0
192.0.2.108,3c-ef-8c-01-02-03,dynamic,eth0
"""
CISCO_MAC_TABLE = """Vlan;Mac Address;Type;Ports
20;4419.b612.3456;DYNAMIC;Gi1/0/7
20;accc.8e00.0001;DYNAMIC;Gi1/0/8
"""


def test_arp_table_and_switch_mac_table(tmp_path: Path) -> None:
    arp = by_ip(read_arp(write(tmp_path, "arp.csv", ARP_CSV)))
    assert set(arp) == {"192.0.2.64", "192.0.2.108"}
    assert arp["192.0.2.64"].mac == "44:19:b6:12:34:56"
    table = read_arp(write(tmp_path, "mac.csv", CISCO_MAC_TABLE))
    assert [(r.ip, r.mac) for r in table] == [(None, "44:19:b6:12:34:56"),
                                              (None, "ac:cc:8e:00:00:01")]
    assert table[0].answers[0].fields["port"] == "Gi1/0/7"


@pytest.mark.parametrize(("text", "row", "reason"), [
    ("ip,mac\n192.0.2.1,44:19:b6:12:34:56\n192.0.2.2,xx\n", 3, "not a MAC"),
    ("ip,mac\n192.0.2.1x,44:19:b6:12:34:56\n", 2, "not an IP"),
    ("address,vendor\n192.0.2.1,acme\n", 1, "no MAC column"),
])
def test_arp_malformed(tmp_path: Path, text: str, row: int, reason: str) -> None:
    with pytest.raises(InputError) as info:
        read_arp(write(tmp_path, "arp.csv", text))
    error = info.value.errors[0]
    assert error.row == row and reason in error.reason


# --- pcap ------------------------------------------------------------------------------------

HIK_MAC = bytes.fromhex("4419b6123456")
SCANNER_MAC = bytes.fromhex("525400000001")


def _eth(src: bytes, dst: bytes, ip_src: str, ip_dst: str, l4: dpkt.Packet) -> bytes:
    proto = dpkt.ip.IP_PROTO_TCP if isinstance(l4, dpkt.tcp.TCP) else dpkt.ip.IP_PROTO_UDP
    ip = dpkt.ip.IP(src=socket.inet_aton(ip_src), dst=socket.inet_aton(ip_dst), p=proto, data=l4)
    ip.len = len(bytes(ip))
    return bytes(dpkt.ethernet.Ethernet(src=src, dst=dst, type=dpkt.ethernet.ETH_TYPE_IP,
                                        data=ip))


def capture_frames() -> list[bytes]:
    http = dpkt.tcp.TCP(sport=80, dport=50000, flags=dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH,
                        data=b"HTTP/1.1 302 Found\r\nServer: App-webs/\r\nLocation: "
                             b"/doc/page/login.asp\r\nContent-Length: 0\r\n\r\n")
    rtsp = dpkt.tcp.TCP(sport=554, dport=50001, data=b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: "
                                                      b"Dahua Rtsp Server\r\n\r\n")
    dhcp = dpkt.dhcp.DHCP(chaddr=HIK_MAC + b"\x00" * 10, op=dpkt.dhcp.DHCP_OP_REQUEST,
                          opts=[(dpkt.dhcp.DHCP_OPT_MSGTYPE, bytes([dpkt.dhcp.DHCPREQUEST])),
                                (dpkt.dhcp.DHCP_OPT_REQ_IP, socket.inet_aton("192.0.2.64")),
                                (dpkt.dhcp.DHCP_OPT_HOSTNAME, b"HIKVISION")])
    udp = dpkt.udp.UDP(sport=68, dport=67, data=bytes(dhcp))
    udp.ulen = len(bytes(udp))
    arp = dpkt.arp.ARP(sha=bytes.fromhex("3cef8c010203"), spa=socket.inet_aton("192.0.2.108"),
                       tha=b"\x00" * 6, tpa=socket.inet_aton("192.0.2.1"), op=dpkt.arp.ARP_OP_REPLY)
    return [
        _eth(HIK_MAC, SCANNER_MAC, "192.0.2.64", "192.0.2.1", http),
        _eth(bytes.fromhex("3cef8c010203"), SCANNER_MAC, "192.0.2.108", "192.0.2.1", rtsp),
        _eth(HIK_MAC, b"\xff" * 6, "0.0.0.0", "255.255.255.255", udp),
        bytes(dpkt.ethernet.Ethernet(src=bytes.fromhex("3cef8c010203"), dst=SCANNER_MAC,
                                     type=dpkt.ethernet.ETH_TYPE_ARP, data=arp)),
        b"\x00\x01garbage that is no protocol at all",
    ]


def write_capture(path: Path, ng: bool = False) -> Path:
    with path.open("wb") as fh:
        writer = dpkt.pcapng.Writer(fh) if ng else dpkt.pcap.Writer(fh)
        for i, frame in enumerate(capture_frames()):
            writer.writepkt(frame, ts=1764320000 + i)
    return path


@pytest.mark.parametrize("ng", [False, True])
def test_pcap_and_pcapng(tmp_path: Path, ng: bool) -> None:
    reports = by_ip(read_pcap(write_capture(tmp_path / ("c.pcapng" if ng else "c.pcap"), ng)))
    hik = reports["192.0.2.64"]
    assert hik.mac == "44:19:b6:12:34:56"
    probes = {a.probe for a in hik.answers}
    assert {"http", "dhcp", "neigh"} <= probes
    assert next(a for a in hik.answers if a.probe == "http").fields["headers"]["Server"] \
        == "App-webs/"
    dahua = reports["192.0.2.108"]
    assert dahua.mac == "3c:ef:8c:01:02:03"
    assert next(a for a in dahua.answers if a.probe == "rtsp").fields["headers"]["Server"] \
        == "Dahua Rtsp Server"


def test_pcap_malformed(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a pcap"):
        read_pcap(write(tmp_path, "x.pcap", b"this is not a capture file at all"))
    good = write_capture(tmp_path / "cut.pcap").read_bytes()
    with pytest.raises(InputError) as info:
        read_pcap(write(tmp_path, "cut2.pcap", good[:-10]))
    assert "cut short" in info.value.errors[0].reason and info.value.errors[0].row == 5


# --- into the store --------------------------------------------------------------------------

def test_import_identifies_merges_and_labels_sources(store: Store, tmp_path: Path) -> None:
    nmap = import_network(store, "nmap", write(tmp_path, "scan.xml", NMAP_XML), read_nmap)
    assert nmap.hosts == 2 and nmap.stats.created == 2
    leases = import_network(store, "dhcp", write(tmp_path, "dhcpd.leases", ISC_LEASES),
                            read_dhcp)
    assert leases.stats.created == 0 and leases.stats.updated == 2  # same MAC / IP: merged
    devices = {d["ip"]: d for d in list_devices(store)}
    assert devices["192.0.2.64"]["manufacturer_id"] == "hikvision"
    assert devices["192.0.2.64"]["sources"] == ["nmap", "dhcp"]
    assert devices["192.0.2.64"]["flags"] == ["unregistered"]
    assert devices["192.0.2.108"]["manufacturer_id"] == "dahua"
    with store.session() as s:
        kinds = sorted(s.scalars(select(m.Source.kind)))
        assert kinds == ["dhcp", "nmap"]
        assert (s.scalar(select(func.count()).select_from(m.Observation)) or 0) > 6


def test_malformed_import_writes_nothing(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        import_network(store, "arp", write(tmp_path, "arp.csv", "ip,mac\n192.0.2.1,nope\n"),
                       read_arp)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Source)) == 0
        assert s.scalar(select(func.count()).select_from(m.Device)) == 0
    dry = import_network(store, "arp", write(tmp_path, "ok.csv", ARP_CSV), read_arp,
                         dry_run=True)
    assert dry.hosts == 2 and dry.source_id is None
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Source)) == 0


def test_cli_import_commands(store: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from camsweep.cli.app import app
    from camsweep.cli.common import state

    runner = CliRunner()
    try:
        ok = runner.invoke(app, ["--db", store.url, "import", "nmap",
                                 str(write(tmp_path, "scan.xml", NMAP_XML)), "--json"])
        assert ok.exit_code == 0, ok.output
        assert '"devices_created": 2' in ok.output
        bad = runner.invoke(app, ["--db", store.url, "import", "dhcp",
                                  str(write(tmp_path, "leases", "garbage here\n"))])
        assert bad.exit_code != 0 and isinstance(bad.exception, InputError)
        dry = runner.invoke(app, ["--db", store.url, "import", "arp",
                                  str(write(tmp_path, "arp.csv", ARP_CSV)), "--dry-run"])
        assert dry.exit_code == 0 and "would import 2 host(s)" in dry.output
    finally:
        state.db = None
        state._settings = None
    with store.session() as s:
        assert sorted(s.scalars(select(m.Source.kind))) == ["nmap"]


def test_port_lists() -> None:
    from camsweep.cli.scan import parse_ports
    from camsweep.errors import ConfigError

    assert parse_ports("80,443, 8000-8002,80") == (80, 443, 8000, 8001, 8002)
    assert parse_ports(None)[:3] == (80, 443, 554)
    for bad in ("http", "0", "9000-70000"):
        with pytest.raises(ConfigError):
            parse_ports(bad)

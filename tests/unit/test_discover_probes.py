"""Probe parsers and conversations on recorded device replies (each with its public source),
through `RecordedTransport`: no sockets. Addresses are RFC 5737 documentation addresses."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from camsweep.discover.credentials import OnvifCredentials, SnmpCredentials, SnmpV3User
from camsweep.discover.model import normalise_mac, printable
from camsweep.discover.probes import http as http_probe
from camsweep.discover.probes import mdns, neigh, onvif, rtsp, snmp, ssdp, tcp, tls
from camsweep.discover.probes.base import HttpReply, RecordedTransport, split_message

IP = "192.0.2.64"
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# google/ExoPlayer#9800: a Hikvision camera's RTSP answers (OPTIONS without Server header,
# DESCRIBE 401 with the "IP Camera(C1214)" realm, Digest then Basic).
HIK_OPTIONS = (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, "
               b"TEARDOWN, SET_PARAMETER, GET_PARAMETER\r\nDate:  Tue, Dec 21 2021 12:08:36 GMT"
               b"\r\n\r\n")
HIK_DESCRIBE = (b'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="IP '
                b'Camera(C1214)", nonce="0191a41d87c28cd52b3e9c8adc99291c", stale="FALSE"\r\n'
                b'WWW-Authenticate: Basic realm="IP Camera(C1214)"\r\nDate:  Tue, Dec 21 2021 '
                b"12:08:36 GMT\r\n\r\n")
# rapid7/recog xml/rtsp_servers.xml: "Dahua Rtsp Server".
DAHUA_OPTIONS = (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Dahua Rtsp Server\r\nPublic: OPTIONS, "
                 b"DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, TEARDOWN\r\n\r\n")


def test_rtsp_hikvision_realm_and_no_server() -> None:
    replies = iter([HIK_OPTIONS, HIK_DESCRIBE])
    t = RecordedTransport({("exchange", 554): lambda payload: next(replies)})
    answer = run(rtsp.probe_rtsp(t, IP, 554))
    assert answer is not None
    assert answer.fields["status"] == {"OPTIONS": 200, "DESCRIBE": 401}
    headers = answer.fields["headers"]
    assert "Server" not in headers
    assert headers["WWW-Authenticate"].startswith('Digest realm="IP Camera(C1214)"')
    sent = [p for _, _, p in t.sent]
    assert sent[0].startswith(b"OPTIONS rtsp://192.0.2.64:554/ RTSP/1.0\r\nCSeq: 1")
    assert b"Authorization" not in b"".join(sent)


def test_rtsp_dahua_server_and_non_rtsp_port() -> None:
    t = RecordedTransport({("exchange", 554): DAHUA_OPTIONS})
    answer = run(rtsp.probe_rtsp(t, IP, 554))
    assert answer is not None and answer.fields["headers"]["Server"] == "Dahua Rtsp Server"
    web = RecordedTransport({("exchange", 554): b"HTTP/1.1 400 Bad Request\r\n\r\n"})
    assert run(rtsp.probe_rtsp(web, IP, 554)) is None


# Shape of maciej-or/hikvision_next tests/fixtures/ISAPI/System.deviceInfo/ipc.xml (values ours).
ISAPI_XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<DeviceInfo version="2.0" '
             b'xmlns="http://www.hikvision.com/ver20/XMLSchema">\n<deviceName>yard</deviceName>\n'
             b"<model>DS-2CD2386G2-IU</model>\n<serialNumber>DS-2CD2386G2-IU20240101AAWRJ0000001"
             b"</serialNumber>\n<firmwareVersion>V5.7.14</firmwareVersion>\n"
             b"<firmwareReleasedDate>build 231028</firmwareReleasedDate>\n"
             b"<deviceType>IPCamera</deviceType>\n<manufacturer>hikvision</manufacturer>\n"
             b"</DeviceInfo>")
# rroller/dahua custom_components/dahua/__init__.py: a Lorex NVR's getSystemInfo.
LOREX_SYSINFO = (b"deviceType=31\r\nprocessor=ST7108\r\nserialNumber=ND0219110NNNNN\r\n"
                 b"updateSerial=DHI-NVR4108HS-8P-4KS2\r\n")
# developer.axis.com basic device information: getAllUnrestrictedProperties answer shape.
VAPIX_JSON = (b'{"apiVersion":"1.3","context":"camsweep","data":{"propertyList":{"Brand":"AXIS",'
              b'"ProdNbr":"P3245-LVE","ProdType":"Network Camera","SerialNumber":"ACCC8E000001",'
              b'"Version":"10.12.182"}}}')


def reply(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None,
          path: str = "/") -> HttpReply:
    return HttpReply(status, headers or [], body, path)


def test_landing_follows_same_host_redirects_only() -> None:
    t = RecordedTransport({
        ("http", 80, "/"): reply(302, headers=[("Server", "App-webs/"),
                                               ("Location", f"http://{IP}/doc/page/login.asp")]),
        ("http", 80, "/doc/page/login.asp"): reply(200, b"<html><title> Login </title></html>",
                                                   [("Server", "App-webs/")],
                                                   "/doc/page/login.asp"),
    })
    answers = run(http_probe.probe_landing(t, IP, 80, False))
    assert [a.fields["path"] for a in answers] == ["/", "/doc/page/login.asp"]
    assert answers[1].fields["title"] == "Login"
    assert http_probe.same_host_path("http://198.51.100.1/x", IP, 80) is None
    assert http_probe.same_host_path("//198.51.100.1/x", IP, 80) is None
    assert http_probe.same_host_path(f"http://{IP}:8080/x", IP, 80) is None
    assert http_probe.same_host_path("index.html?a=1", IP, 80) == "/index.html?a=1"
    assert http_probe.same_host_path("ftp://x/y", IP, 80) is None


def test_device_info_documents() -> None:
    t = RecordedTransport({
        ("http", 80, http_probe.ISAPI_PATH): reply(200, ISAPI_XML, path=http_probe.ISAPI_PATH),
        ("http", 80, http_probe.MAGICBOX_PATH): reply(200, LOREX_SYSINFO,
                                                      path=http_probe.MAGICBOX_PATH),
        ("http", 80, "POST", http_probe.VAPIX_PATH): reply(200, VAPIX_JSON,
                                                           path=http_probe.VAPIX_PATH),
    })
    answers = {a.probe: a for a in run(http_probe.probe_device_info(t, IP, 80, False))}
    assert "DS-2CD2386G2-IU" in answers["isapi"].fields["xml"]
    assert answers["magicbox"].fields["keys"]["updateSerial"] == "DHI-NVR4108HS-8P-4KS2"
    assert answers["vapix"].fields["properties"]["ProdNbr"] == "P3245-LVE"
    assert not any(b"Authorization" in p for _, _, p in t.sent)


def test_device_info_refusals_and_absence() -> None:
    auth = [("WWW-Authenticate", 'Digest realm="IP Camera(C6248)"')]
    t = RecordedTransport({
        ("http", 80, http_probe.ISAPI_PATH): reply(401, headers=auth,
                                                   path=http_probe.ISAPI_PATH),
        ("http", 80, http_probe.MAGICBOX_PATH): reply(404, path=http_probe.MAGICBOX_PATH),
    })
    answers = run(http_probe.probe_device_info(t, IP, 80, False))
    assert [(a.probe, a.fields["status"]) for a in answers] == [("http", 401)]
    assert http_probe.parse_magicbox("<html>not it</html>") is None
    assert http_probe.parse_vapix(b"[1]") is None


def test_title_extraction() -> None:
    assert http_probe.title_of(b"<HTML><TITLE>WEB  SERVICE\n</TITLE>") == "WEB SERVICE"
    assert http_probe.title_of(b"<title>A &amp; B</title>") == "A & B"
    assert http_probe.title_of(b"<title></title>") is None


# --- ONVIF -----------------------------------------------------------------------------------

NOW = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)


def _time_reply() -> bytes:
    return (b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/'
            b'ver10/schema"><s:Body><tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>'
            b"<tt:UTCDateTime><tt:Time><tt:Hour>9</tt:Hour><tt:Minute>58</tt:Minute><tt:Second>0"
            b"</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year><tt:Month>11</tt:Month>"
            b"<tt:Day>28</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>"
            b"</tds:GetSystemDateAndTimeResponse></s:Body></s:Envelope>")


FAULT = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code>'
         b"<s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode>"
         b"</s:Code></s:Fault></s:Body></s:Envelope>")
INFO = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif'
        b'.org/ver10/device/wsdl"><s:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>'
        b"Dahua</tds:Manufacturer><tds:Model>IPC-HDW5831R-ZE</tds:Model><tds:FirmwareVersion>"
        b"2.800.0000016.0.R, Build Date 2020-06-05</tds:FirmwareVersion><tds:SerialNumber>"
        b"4X7C5A1ZAG21L3F</tds:SerialNumber><tds:HardwareId>1.00</tds:HardwareId>"
        b"</tds:GetDeviceInformationResponse></s:Body></s:Envelope>")
NETS = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif'
        b'.org/ver10/schema"><s:Body><x><tt:Info><tt:HwAddress>3C-EF-8C-01-02-03</tt:HwAddress>'
        b"</tt:Info></x></s:Body></s:Envelope>")


def onvif_device(password: str) -> Any:
    """An ONVIF device service that wants a valid UsernameToken for everything but the time."""
    def answer(headers: dict[str, str], body: bytes) -> HttpReply:
        action = headers["Content-Type"].rsplit("/", 1)[-1].rstrip('"')
        if action == "GetSystemDateAndTime":
            return reply(200, _time_reply())
        token = onvif.parse_soap(body)
        if b"UsernameToken" not in body or token is None:
            return reply(400, FAULT)
        nonce = base64.b64decode(body.split(b"<Nonce")[1].split(b">")[1].split(b"<")[0])
        created = body.split(b"<Created")[1].split(b">")[1].split(b"<")[0].decode()
        digest = body.split(b"PasswordDigest\">")[1].split(b"<")[0].decode()
        if digest != onvif.password_digest(nonce, created, password):
            return reply(400, FAULT)
        return reply(200, INFO if action == "GetDeviceInformation" else NETS)
    return answer


def test_onvif_sends_credentials_only_after_the_device_identified_itself() -> None:
    t = RecordedTransport({("http", 80, onvif.DEVICE_PATH): onvif_device("s3cret-pass")})
    creds = OnvifCredentials("admin", "s3cret-pass")
    answer = run(onvif.probe_onvif(t, IP, 80, credentials=creds, now=NOW))
    assert answer is not None
    assert answer.fields["Manufacturer"] == "Dahua"
    assert answer.fields["authenticated"] is True
    assert answer.mac == "3c:ef:8c:01:02:03"
    bodies = [p for _, _, p in t.sent]
    assert b"UsernameToken" not in bodies[0] and b"UsernameToken" not in bodies[1]
    # Created follows the device's clock (2 minutes behind ours), not ours.
    assert b"2026-11-28T09:58:00Z" in bodies[2]
    assert b"s3cret-pass" not in b"".join(bodies)  # only the digest travels


def test_onvif_not_a_device_service_gets_nothing() -> None:
    t = RecordedTransport({("http", 80, onvif.DEVICE_PATH): reply(
        200, b"<html><title>Welcome to nginx!</title></html>")})
    creds = OnvifCredentials("admin", "s3cret-pass")
    assert run(onvif.probe_onvif(t, IP, 80, credentials=creds, now=NOW)) is None
    assert len(t.sent) == 1 and b"UsernameToken" not in t.sent[0][2]


def test_onvif_without_credentials_records_the_refusal() -> None:
    t = RecordedTransport({("http", 80, onvif.DEVICE_PATH): onvif_device("x" * 8)})
    answer = run(onvif.probe_onvif(t, IP, 80, now=NOW))
    assert answer is not None and answer.fields["fault"] == "ter:NotAuthorized"
    assert "Manufacturer" not in answer.fields


def test_username_token_digest_matches_the_oasis_formula() -> None:
    nonce = b"\x01" * 16
    header = onvif.security_header("ad<min", "pw", NOW + timedelta(seconds=5), nonce)
    expected = base64.b64encode(hashlib.sha1(nonce + b"2026-11-28T10:00:05Zpw").digest())
    assert expected.decode() in header
    assert "<Username>ad&lt;min</Username>" in header


# Jazea/Onvif.Core#55: a Hanwha Vision ProbeMatch (abridged; scopes carry the manufacturer).
HANWHA_PROBE_MATCH = b"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"
 xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"
 xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><SOAP-ENV:Header>
<wsa:RelatesTo>uuid:9ac9a12f-be37-4767-9333-50aa933026ea</wsa:RelatesTo></SOAP-ENV:Header>
<SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference>
<wsa:Address>urn:uuid:b0bc3602-35b7-cb46-b51c-714db0a9f0a4</wsa:Address></wsa:EndpointReference>
<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>
<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/hardware/XNV-6080R
onvif://www.onvif.org/name/XNV-6080R onvif://www.onvif.org/manufacturer/Hanwha%20Vision</d:Scopes>
<d:XAddrs>http://192.0.2.64/onvif/device_service http://198.51.100.9/onvif/device_service</d:XAddrs>
</d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>"""


def test_ws_discovery_probe_match() -> None:
    t = RecordedTransport({("udp", 3702): HANWHA_PROBE_MATCH})
    answer = run(onvif.probe_wsd(t, IP))
    assert answer is not None
    scopes = answer.fields["scope_values"]
    assert scopes["hardware"] == ["XNV-6080R"]
    assert scopes["manufacturer"] == ["Hanwha Vision"]
    assert onvif.onvif_endpoint(answer, IP) == (80, "/onvif/device_service", False)
    assert onvif.onvif_endpoint(answer, "203.0.113.1") is None  # never follow other hosts
    probe = t.sent[0][2]
    assert b"dn:NetworkVideoTransmitter" in probe and b"/discovery/Probe" in probe


# --- SSDP / UPnP -----------------------------------------------------------------------------

# home-assistant/core#46822: the headers of a real SSDP search reply (values shortened).
SSDP_REPLY = (b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
              b"LOCATION: http://192.0.2.64:9080\r\nSERVER: Linux/4.9.125, UPnP/1.0, Portable SDK "
              b"for UPnP devices\r\nST: upnp:rootdevice\r\nUSN: uuid:NFANDROID2::upnp:rootdevice"
              b"\r\n\r\n")
# home-assistant/core#57243: an AVM FRITZ!Box description document (abridged).
FRITZ_DESC = b"""<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major>
<minor>0</minor></specVersion><device>
<deviceType>urn:schemas-upnp-org:device:avmnexus:1</deviceType>
<friendlyName>FRITZ!Box 7530</friendlyName><manufacturer>AVM Berlin</manufacturer>
<manufacturerURL>http://www.avm.de</manufacturerURL>
<modelDescription>FRITZ!Box 7530</modelDescription>
<modelName>FRITZ!Box 7530</modelName><modelNumber>avme</modelNumber>
<UDN>uuid:535502409-bccb-40e7-8e6c-2C91ABD34194</UDN>
<deviceList><device><manufacturer>inner</manufacturer></device></deviceList></device></root>"""


def test_ssdp_search_and_description_from_the_same_host_only() -> None:
    t = RecordedTransport({("udp", 1900): SSDP_REPLY,
                           ("http", 9080, "/"): reply(200, FRITZ_DESC)})
    answers = run(ssdp.probe_ssdp(t, IP))
    assert [a.probe for a in answers] == ["ssdp", "upnp"]
    assert answers[1].fields["manufacturer"] == "AVM Berlin"
    assert answers[1].fields["modelNumber"] == "avme"
    assert b"HOST: 192.0.2.64:1900" in t.sent[0][2]
    elsewhere = RecordedTransport({("udp", 1900): SSDP_REPLY.replace(b"192.0.2.64",
                                                                     b"198.51.100.2")})
    assert [a.probe for a in run(ssdp.probe_ssdp(elsewhere, IP))] == ["ssdp"]
    assert len(elsewhere.sent) == 1  # LOCATION on another host is never fetched


# --- SNMP ------------------------------------------------------------------------------------

DAHUA_ENGINE = (0x80000000 | 1004849).to_bytes(4, "big") + b"\x03" + bytes.fromhex("3cef8c010203")


def v3_report(engine: bytes, msg_id: int, request_id: int) -> bytes:
    header = snmp.sequence(snmp.integer(msg_id), snmp.integer(65507), snmp.octets(b"\x00"),
                           snmp.integer(3))
    pdu = snmp.encode_pdu(snmp.REPORT, request_id, [(snmp.USM_UNKNOWN_ENGINE_IDS,
                                                     snmp.unsigned(7, snmp.COUNTER32))])
    return snmp.sequence(snmp.integer(3), header, snmp.octets(snmp.usm_parameters(engine, 4, 99)),
                         snmp.sequence(snmp.octets(engine), snmp.octets(b""), pdu))


# librenms/librenms#8126: a Dahua DH-NVR's walk (sysDescr "NVR", sysObjectID in 1004849).
def v2c_response(request: bytes) -> bytes:
    msg = snmp.decode_message(request)
    assert msg.pdu is not None
    if msg.community != "ro-secret":
        return b""
    binds = [(snmp.SYS_DESCR, snmp.octets("NVR")),
             (snmp.SYS_OBJECT_ID, snmp.oid("1.3.6.1.4.1.1004849.3.2.10"))]
    return snmp.sequence(snmp.integer(1), snmp.octets(msg.community),
                         snmp.encode_pdu(snmp.RESPONSE, msg.pdu.request_id, binds))


def snmp_agent(request: bytes) -> bytes:
    msg = snmp.decode_message(request)
    if msg.version == 3:
        assert msg.pdu is not None and msg.user == "" and msg.engine_id == b""
        return v3_report(DAHUA_ENGINE, msg.msg_id or 0, msg.pdu.request_id)
    return v2c_response(request)


def test_snmp_v2c_after_engine_discovery() -> None:
    t = RecordedTransport({("udp", 161): snmp_agent})
    answer = run(snmp.probe_snmp(t, IP, SnmpCredentials(community="ro-secret")))
    assert answer is not None
    assert answer.fields["enterprise"] == 1004849
    assert answer.fields["sysDescr"] == "NVR"
    assert answer.fields["sysObjectID"] == "1.3.6.1.4.1.1004849.3.2.10"
    assert b"ro-secret" not in t.sent[0][2]  # the first datagram carries no credential
    assert b"ro-secret" in t.sent[1][2]


def test_snmp_no_agent_no_community() -> None:
    t = RecordedTransport({})
    assert run(snmp.probe_snmp(t, IP, SnmpCredentials(community="ro-secret"))) is None
    assert len(t.sent) == 1 and b"ro-secret" not in t.sent[0][2]
    garbage = RecordedTransport({("udp", 161): b"\x30\x03\x02\x01"})
    assert run(snmp.probe_snmp(garbage, IP, SnmpCredentials(community="ro-secret"))) is None
    assert len(garbage.sent) == 1


def test_snmp_v3_goes_through_the_usm_client() -> None:
    user = SnmpV3User("monitor", "auth-secret-1", "priv-secret-1")
    t = RecordedTransport({("udp", 161): snmp_agent, ("snmpv3", "monitor"): {
        snmp.SYS_DESCR: "NVR", snmp.SYS_OBJECT_ID: "1.3.6.1.4.1.1004849.3.2.10"}})
    answer = run(snmp.probe_snmp(t, IP, SnmpCredentials(v3=user)))
    assert answer is not None and answer.fields["version"] == "v3"
    assert answer.fields["sysDescr"] == "NVR"
    assert "auth-secret-1" not in repr(user)


@pytest.mark.parametrize("dotted", ["1.3.6.1.2.1.1.2.0", "1.3.6.1.4.1.1004849.3.2.10",
                                    "2.999.16384.4294967295"])
def test_ber_oid_round_trip(dotted: str) -> None:
    tag, value, _ = snmp.read_tlv(snmp.oid(dotted))
    assert tag == snmp.OID and snmp.decode_oid(value) == dotted


def test_ber_lengths_and_integers() -> None:
    long = snmp.octets(b"x" * 300)
    assert long[:4] == b"\x04\x82\x01\x2c"
    for n in (0, 127, 128, -1, 2**31):
        assert snmp.decode_value(*snmp.read_tlv(snmp.integer(n))[:2]) == n
    with pytest.raises(snmp.BerError):
        snmp.read_tlv(b"\x04\x05ab")
    assert snmp.engine_enterprise(DAHUA_ENGINE) == 1004849
    assert snmp.engine_enterprise(b"\x00\x01") is None


# --- mDNS ------------------------------------------------------------------------------------

def mdns_reply(query: bytes) -> bytes:
    """An Axis camera's DNS-SD answer to a legacy unicast query (RFC 6762 6.7)."""
    asked = mdns.parse(query)
    inst = "AXIS P3245-LVE - ACCC8E000001._axis-video._tcp.local"

    def rr(name: str, rtype: int, rdata: bytes) -> bytes:
        return mdns.encode_name(name) + bytes([0, rtype, 0, 1, 0, 0, 0, 120, 0, len(rdata)]) \
            + rdata

    records = [rr("_axis-video._tcp.local", mdns.PTR, mdns.encode_name(inst)),
               rr(inst, mdns.TXT, b"\x17macaddress=ACCC8E000001")]
    head = asked.ident.to_bytes(2, "big") + b"\x84\x00\x00\x00" + len(records).to_bytes(2, "big")
    return head + b"\x00\x00\x00\x00" + b"".join(records)


def test_mdns_legacy_unicast_names() -> None:
    t = RecordedTransport({("udp", 5353): mdns_reply})
    answer = run(mdns.probe_mdns(t, IP))
    assert answer is not None
    assert answer.fields["names"] == ["AXIS P3245-LVE - ACCC8E000001"]
    assert answer.fields["txt"] == {"macaddress": "ACCC8E000001"}
    query = mdns.parse(t.sent[0][2])
    assert ("_axis-video._tcp.local", mdns.PTR) in query.questions and not query.is_response


def test_dns_name_compression_and_loops() -> None:
    data = b"\x00" * 12 + b"\x03abc\x05local\x00" + b"\xc0\x0c"
    assert mdns.read_name(data, 12) == ("abc.local", 23)
    assert mdns.read_name(data, 23) == ("abc.local", 25)
    with pytest.raises(mdns.DnsError):
        mdns.read_name(b"\x00" * 12 + b"\xc0\x0c", 12)


# --- TLS, banners, neighbours ----------------------------------------------------------------

def hik_certificate() -> bytes:
    """Self-signed, with the subject rapid7/recog xml/x509_subjects.xml lists for Hikvision."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(oid, value) for oid, value in (
        (NameOID.COUNTRY_NAME, "CN"), (NameOID.STATE_OR_PROVINCE_NAME, "ZheJiang"),
        (NameOID.LOCALITY_NAME, "HangZhou"), (NameOID.ORGANIZATION_NAME, "HIKVISION"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "DVRNVR"), (NameOID.COMMON_NAME, "www.hikvision.com"))])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_tls_subject_in_recog_order() -> None:
    t = RecordedTransport({("cert", 443): hik_certificate()})
    answer = run(tls.probe_tls(t, IP, 443))
    assert answer is not None
    assert answer.fields["subject"] == ("CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,L=HangZhou,"
                                        "ST=ZheJiang,C=CN")
    assert tls.describe_certificate(b"not der") is None


def test_banner_sdk_port() -> None:
    frame = bytes.fromhex("000000100000000d0000000d00000000")  # nmap "HikVision camera control"
    calls = iter([b"", frame])
    t = RecordedTransport({("exchange", 8000): lambda payload: next(calls)})
    answer = run(tcp.probe_banner(t, IP, 8000))
    assert answer is not None and answer.fields["probe"] == "GenericLines"
    assert answer.fields["text"] == "\\x00\\x00\\x00\\x10\\x00\\x00\\x00\\x0d\\x00\\x00\\x00\\x0d" \
                                    "\\x00\\x00\\x00\\x00"
    assert printable(b"a\\b") == "a\\\\b"


# Linux /proc/net/arp (format of the kernel's arp_seq_show).
PROC_ARP = """IP address       HW type     Flags       HW address            Mask     Device
192.0.2.64       0x1         0x2         44:19:b6:12:34:56     *        eth0
192.0.2.65       0x1         0x0         00:00:00:00:00:00     *        eth0
192.0.2.66       0x1         0x2         3c:ef:8c:01:02:03     *        eth0
"""


def test_neighbour_tables() -> None:
    assert neigh.parse_proc_arp(PROC_ARP) == {"192.0.2.64": "44:19:b6:12:34:56",
                                              "192.0.2.66": "3c:ef:8c:01:02:03"}
    ip_json = ('[{"dst":"2001:db8::5","dev":"eth0","lladdr":"ac:cc:8e:00:00:01",'
               '"state":["REACHABLE"]},{"dst":"2001:db8::6","dev":"eth0","state":["FAILED"]}]')
    assert neigh.parse_ip_neigh_json(ip_json) == {"2001:db8::5": "ac:cc:8e:00:00:01"}
    assert neigh.parse_ip_neigh_json("not json") == {}


@pytest.mark.parametrize(("raw", "mac"), [
    ("44-19-B6-12-34-56", "44:19:b6:12:34:56"), ("4419.b612.3456", "44:19:b6:12:34:56"),
    ("4419b6123456", "44:19:b6:12:34:56"), ("00:00:00:00:00:00", None), ("zz", None),
    (b"\x44\x19\xb6\x12\x34\x56", "44:19:b6:12:34:56"), (None, None)])
def test_normalise_mac(raw: str | bytes | None, mac: str | None) -> None:
    assert normalise_mac(raw) == mac


def test_split_message_folds_and_keeps_case() -> None:
    parts = split_message(b"HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 0\r\nX-A: one\r\n two\r\n\r\n")
    assert parts == ("HTTP/1.1 200 OK", [("CONTENT-LENGTH", "0"), ("X-A", "one two")], b"")
    assert split_message(b"") is None


def test_http_client_request_and_reply_parsing() -> None:
    request = http_probe.http_request("POST", IP, 8080, "/x", {"Content-Type": "a/b"}, b"{}")
    assert request.startswith(b"POST /x HTTP/1.1\r\nHost: 192.0.2.64:8080\r\n")
    assert b"Connection: close\r\n" in request and request.endswith(b"Content-Length: 2\r\n\r\n{}")
    # Dahua-style upper-case names, kept as sent (nmap-service-probes "Dahua webcam httpd").
    raw = (b"HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 5\r\nCONNECTION: close\r\n\r\nhello trailing")
    parsed = http_probe.parse_http_reply(raw, "/")
    assert parsed is not None and parsed.body == b"hello"
    assert parsed.header_dict() == {"CONTENT-LENGTH": "5", "CONNECTION": "close"}
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\n\r\n")
    reply_ = http_probe.parse_http_reply(chunked, "/")
    assert reply_ is not None and reply_.body == b"Wikipedia "
    assert http_probe.parse_http_reply(b"RTSP/1.0 200 OK\r\n\r\n", "/") is None


def test_message_completeness() -> None:
    from camsweep.discover.probes.base import message_complete

    assert message_complete(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert not message_complete(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok")
    assert not message_complete(b"HTTP/1.1 200 OK\r\n\r\nbody until close")
    assert message_complete(b"HTTP/1.1 304 Not Modified\r\n\r\n")
    assert message_complete(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
    assert not message_complete(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n")
    assert message_complete(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")

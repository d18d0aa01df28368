"""Evidence assembly (pure), credentials loading, multicast eligibility, testbed profiles, and
the store merge: register match by MAC, serial, IP within a site; flags; observations.
Addresses are RFC 5737 documentation addresses used as data; nothing is sent."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from camsweep.discover.credentials import from_env, load_credentials
from camsweep.discover.evidence import device_facts, evidence_for
from camsweep.discover.merge import Merger
from camsweep.discover.model import Answer, HostReport
from camsweep.discover.multicast import LocalNetwork, eligible
from camsweep.discover.scope import parse_scope
from camsweep.errors import ConfigError
from camsweep.inventory.importer import import_file
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.bulk import utcnow
from camsweep.store.queries import list_devices
from camsweep.testbed import all_profiles, host_spec, profile

IP = "192.0.2.64"


def hik_answers(ip: str = IP) -> list[Answer]:
    return [
        Answer("tcp", ip, port=80, fields={"open": True}),
        Answer("tcp", ip, port=8000, fields={"open": True}),
        Answer("http", ip, port=80, fields={"path": "/", "status": 302,
                                            "headers": {"Server": "App-webs/",
                                                        "Location": "/doc/page/login.asp"}}),
        Answer("http", ip, port=80, fields={"path": "/doc/page/login.asp", "status": 200,
                                            "headers": {"Server": "App-webs/"},
                                            "title": "Login", "body": "<html/>"}),
        Answer("http", ip, port=80, fields={
            "path": "/ISAPI/System/deviceInfo", "status": 401,
            "headers": {"WWW-Authenticate": 'Digest realm="IP Camera(C6248)"'}}),
        Answer("onvif", ip, port=80, fields={"Manufacturer": "HIKVISION",
                                             "Model": "DS-2CD2386G2-IU",
                                             "SerialNumber": "DS-2CD2386G2-IU20240101AAWRJ1",
                                             "FirmwareVersion": "V5.7.14 build 231028"},
               mac="44:19:b6:00:00:01"),
        Answer("wsd", ip, port=3702, fields={"scope_values": {
            "name": ["HIKVISION DS-2CD2386G2-IU"], "hardware": ["DS-2CD2386G2-IU"]}}),
        Answer("banner", ip, port=8000, fields={"text": "\\x00\\x00\\x00\\x10", "http": False}),
        Answer("snmp", ip, port=161, fields={"enterprise": 39165}),
    ]


def test_evidence_fields_follow_the_contract() -> None:
    ev = evidence_for(hik_answers(), ip=IP)
    assert ev.ip == IP and ev.mac == "44:19:b6:00:00:01"
    assert ev.open_ports == [80, 8000]
    assert ev.http is not None
    assert ev.http.path == "/ISAPI/System/deviceInfo"  # the vendor path the device answered
    assert ev.http.title == "Login" and ev.http.status == 200
    assert ev.http.headers["Server"] == "App-webs/"
    assert ev.http.headers["WWW-Authenticate"].startswith("Digest realm")
    assert ev.onvif is not None and ev.onvif.Manufacturer == "HIKVISION"
    assert ev.text == "HIKVISION DS-2CD2386G2-IU"
    assert ev.banner is not None and "8000/tcp" in ev.banner and "enterprise 39165" in ev.banner


def test_evidence_wsd_model_when_onvif_refused_and_register_fields() -> None:
    answers = [a for a in hik_answers() if a.probe != "onvif"]
    ev = evidence_for(answers, register={"brand": "Hikvision", "model": None,
                                         "firmware": "V5.7.14"})
    assert ev.onvif is not None and ev.onvif.Model == "DS-2CD2386G2-IU"
    assert ev.brand == "Hikvision" and ev.firmware == "V5.7.14" and ev.model is None


def test_device_facts_prefer_device_documents() -> None:
    magic = Answer("magicbox", IP, fields={"keys": {"deviceType": "31",
                                                   "serialNumber": "ND0219110NNNNN",
                                                   "updateSerial": "DHI-NVR4108HS-8P-4KS2"}})
    assert device_facts([magic]) == {"serial": "ND0219110NNNNN",
                                     "model": "DHI-NVR4108HS-8P-4KS2"}
    isapi = Answer("isapi", IP, fields={"xml": "<DeviceInfo><model>DS-7608NXI-I2</model>"
                                               "<serialNumber>S1</serialNumber></DeviceInfo>"})
    assert device_facts([isapi])["serial"] == "S1"


def test_credentials_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text("onvif: {username: admin, password: pw-123456}\n"
                    "snmp:\n  community: ro-1\n  v3: {user: mon, auth_key: authkey-1, "
                    "priv_key: privkey-1, auth_protocol: sha256}\n")
    path.chmod(0o600)
    creds = load_credentials(path)
    assert creds.onvif is not None and creds.onvif.password == "pw-123456"
    assert creds.snmp is not None and creds.snmp.v3 is not None
    assert creds.snmp.v3.auth_protocol == "SHA256"
    assert "pw-123456" not in repr(creds) and "ro-1" not in repr(creds)
    assert creds.describe() == ["onvif user 'admin'", "snmp v2c community", "snmp v3 user 'mon'"]
    env = from_env({"CAMSWEEP_ONVIF_USERNAME": "u", "CAMSWEEP_ONVIF_PASSWORD": "p",
                    "CAMSWEEP_SNMP_COMMUNITY": "c"})
    assert env.onvif is not None and env.snmp is not None and env.snmp.community == "c"
    assert load_credentials(None, env={}).empty


@pytest.mark.parametrize(("text", "message"), [
    ("onvif: {username: admin}\n", "onvif.password"),
    ("ssh: {}\n", "unknown section"),
    ("snmp: {v3: {user: u, priv_key: longenough}}\n", "without auth_key"),
    ("snmp: {v3: {user: u, auth_key: short}}\n", "at least 8"),
    ("snmp: {v3: {user: u, auth_key: longenough, auth_protocol: XYZ}}\n", "auth_protocol"),
    ("- a list\n", "must be a mapping"),
])
def test_bad_credentials(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_credentials(path)


def test_multicast_only_from_networks_wholly_in_scope() -> None:
    scope = parse_scope("192.0.2.0/25\n")
    inside = LocalNetwork("eth0", "192.0.2.2", ipaddress.IPv4Network("192.0.2.0/26"))
    wider = LocalNetwork("eth1", "192.0.2.3", ipaddress.IPv4Network("192.0.2.0/24"))
    usable, refused = eligible([inside, wider], scope)
    assert usable == [inside] and refused == [wider]


def test_testbed_profiles_render_per_host() -> None:
    ids = {p.id for p in all_profiles()}
    assert {"hikvision-ipc", "dahua-ipc", "lorex-nvr", "amcrest-ipc", "lts-ipc", "axis-ipc",
            "hanwha-ipc", "bosch-ipc"} <= ids
    spec = host_spec(profile("lorex-nvr"), 5, "127.20.0.6")
    assert spec.mac == "00:1f:54:00:00:06"
    assert spec.serial == "ND021911000005"
    page = spec.data["http"]["pages"]["/cgi-bin/magicBox.cgi?action=getSystemInfo"]
    assert "serialNumber=ND021911000005" in page["body"]
    assert spec.maker == "dahua"
    with pytest.raises(KeyError, match="unknown testbed profile"):
        profile("nope")


# --- merge into the store ----------------------------------------------------------------------

SITES = "site_id,name,department,region,sensitivity\nS-1,Depot,Home Office,london,standard\n" \
        "S-2,Court,Justice,leeds,sensitive\n"
ASSETS = ("asset_id,site_id,device_type,brand,model,serial,mac,ip\n"
          "A-MAC,S-1,camera,Hikvision,,,44:19:b6:00:00:01,\n"
          "A-SER,S-1,nvr,Dahua,,6G000001PAG7F3E,,\n"
          "A-IP1,S-1,camera,Axis,,,,192.0.2.70\n"
          "A-IP2,S-2,camera,Axis,,,,192.0.2.70\n"
          "A-GONE,S-1,camera,Axis,,,,192.0.2.99\n")


def _source(store: Store) -> int:
    with store.engine.begin() as conn:
        return int(conn.execute(insert(m.Source).values(
            kind="scan", name="test", rows=0, created=0, updated=0, unchanged=0,
            started_at=utcnow())).inserted_primary_key[0])  # type: ignore[index]


def test_merge_by_mac_serial_ip_within_site_and_flags(store: Store, tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "assets.csv").write_text(ASSETS)
    import_file(store, tmp_path / "sites.csv", "sites")
    import_file(store, tmp_path / "assets.csv", "assets")
    merger = Merger(store, _source(store), site_id="S-1")
    magic = Answer("magicbox", "192.0.2.108", fields={
        "keys": {"serialNumber": "6G000001PAG7F3E", "deviceType": "NVR4108HS-8P-4KS2"},
        "text": "deviceType=NVR4108HS-8P-4KS2\nserialNumber=6G000001PAG7F3E\n"})
    reports = [
        HostReport(IP, answers=hik_answers()),  # MAC known from ONVIF -> A-MAC
        HostReport("192.0.2.108", answers=[magic]),  # serial -> A-SER
        HostReport("192.0.2.70", answers=[Answer("tcp", "192.0.2.70", port=80,
                                                 fields={"open": True})]),  # IP in S-1
        HostReport("192.0.2.71", answers=[Answer("tcp", "192.0.2.71", port=554,
                                                 fields={"open": True})]),  # new
        HostReport("192.0.2.99"),  # silent
    ]
    stats = merger.write(reports)
    assert (stats.hosts, stats.responded, stats.updated, stats.created) == (5, 4, 3, 1)
    assert stats.verdicts == 4 and stats.observations == sum(len(r.answers) for r in reports)
    assert merger.mark_not_seen([r.ip for r in reports if r.ip]) == 1
    devices = {d["asset_id"] or d["ip"]: d for d in list_devices(store)}
    assert devices["A-MAC"]["ip"] == IP and devices["A-MAC"]["manufacturer_id"] == "hikvision"
    assert devices["A-MAC"]["sources"] == ["register", "scan"]
    assert devices["A-SER"]["ip"] == "192.0.2.108"
    assert devices["A-SER"]["manufacturer_id"] == "dahua"
    assert devices["A-IP1"]["sources"] == ["register", "scan"]
    assert devices["A-IP2"]["sources"] == ["register"]  # same IP, other site: not merged
    assert devices["192.0.2.71"]["flags"] == ["unregistered"]
    assert devices["192.0.2.71"]["site_id"] == "S-1"
    assert devices["A-GONE"]["flags"] == ["not_seen"]
    with store.session() as s:
        changes = {(h.field, h.new_value) for h in s.scalars(select(m.FieldHistory))
                   .all() if h.entity == "device"}
        serials = s.scalar(select(m.Device.serial).where(m.Device.asset_id == "A-MAC"))
        payload = s.scalar(select(m.Observation.payload).where(m.Observation.probe == "banner"))
    assert ("ip", IP) in changes and serials == "DS-2CD2386G2-IU20240101AAWRJ1"
    assert payload is not None and payload["port"] == 8000


def test_rescan_finds_the_same_device_again(store: Store) -> None:
    first = Merger(store, _source(store))
    first.write([HostReport(IP, answers=hik_answers())])
    second = Merger(store, _source(store))
    stats = second.write([HostReport(IP, answers=hik_answers())])
    assert (stats.created, stats.updated) == (0, 1)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Device)) == 1
        assert s.scalar(select(func.count()).select_from(m.Verdict)) == 2


def test_oversized_payload_is_capped() -> None:
    from camsweep.discover.merge import PAYLOAD_CAP, payload_json

    small = Answer("http", IP, port=80, fields={"title": "x"})
    assert payload_json(small) == '{"title": "x", "port": 80}'
    huge = Answer("wsd", IP, port=3702, fields={"scopes": ["onvif://x/" + "a" * 100] * 1000})
    capped = payload_json(huge)
    assert len(capped) < PAYLOAD_CAP and '"truncated": true' in capped

"""Call-home import into the store (SQLite and PostgreSQL): who called, unmasking, assess."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from callhome_logs import T0, at, dnsmasq, firewall, nfdump, zeek_conn, zeek_dns
from camsweep.cli.app import app
from camsweep.discover.callhome import import_logs, unmasked_by_traffic
from camsweep.discover.importers import import_network
from camsweep.discover.importers.leases import read_dhcp
from camsweep.inventory.importer import import_file
from camsweep.kb import load_kb
from camsweep.store import Store
from camsweep.store import models as m
from camsweep.store.callhome import callhome_by_site, calls_home_for
from camsweep.store.identification import identify_store
from camsweep.store.queries import DeviceFilter, device_detail, list_devices

SITES = ("site_id,name,department,region,sensitivity\n"
         "S-1,Marsham Street,Home Office,london,sensitive\n"
         "S-2,Croydon,Home Office,london,standard\n")
ASSETS = ("asset_id,site_id,device_type,brand,model,mac,ip\n"
          "A-1,S-1,camera,Axis,P3265-LVE,ac:cc:8e:00:00:01,\n"
          "A-2,S-1,camera,Axis,P3265-LVE,ac:cc:8e:00:00:02,\n"
          "W-1,S-1,camera,Generic,IPC-4MP,,10.1.0.60\n"
          "D-1,S-1,camera,Axis,M3106,,10.9.0.5\n"
          "D-2,S-2,camera,Axis,M3106,,10.9.0.5\n")
HIK = "litedev.hik-connect.com"
DAHUA = "www.easy4ipcloud.com"
LEASES = """
lease 10.1.0.50 {
  starts 1 2026/11/30 08:00:00;
  ends 1 2026/11/30 12:00:00;
  hardware ethernet ac:cc:8e:00:00:01;
}
lease 10.1.0.50 {
  starts 1 2026/11/30 12:00:00;
  ends 1 2026/11/30 20:00:00;
  hardware ethernet ac:cc:8e:00:00:02;
}
"""


@pytest.fixture
def estate(store: Store, tmp_path: Path) -> Store:
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "assets.csv").write_text(ASSETS)
    import_file(store, tmp_path / "sites.csv", "sites")
    import_file(store, tmp_path / "assets.csv", "assets")
    return store


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _calls(store: Store) -> dict[str, list[tuple[str, int]]]:
    """asset_id (or ip for unregistered devices) -> [(endpoint, count)]."""
    with store.engine.connect() as conn:
        devices = {pk: asset or ip for pk, asset, ip in conn.execute(
            select(m.Device.id, m.Device.asset_id, m.Device.ip))}
        calls = calls_home_for(conn, list(devices))
    return {devices[pk]: [(c.endpoint, c.count) for c in cs] for pk, cs in calls.items()}


def test_dhcp_change_mid_log_gives_each_device_its_own_calls(estate: Store,
                                                             tmp_path: Path) -> None:
    import_network(estate, "dhcp", _write(tmp_path, "dhcpd.leases", LEASES), read_dhcp)
    log = zeek_dns([(at(60), "10.1.0.50", HIK, "203.0.113.10"),       # 09:00: A-1 holds it
                    (at(90), "10.1.0.50", HIK, "203.0.113.10"),
                    (at(300), "10.1.0.50", DAHUA, "198.51.100.30")])  # 13:00: A-2 does
    summary = import_logs(estate, "dns", [_write(tmp_path, "dns.log", log)])
    assert _calls(estate) == {"A-1": [(HIK, 2)], "A-2": [(DAHUA, 1)]}
    assert summary.devices == 2 and summary.created == 0 and summary.malformed == 0
    with estate.engine.connect() as conn:
        obs = conn.execute(select(m.Observation.mac, m.Observation.payload).where(
            m.Observation.probe == "calls_home", m.Observation.mac.is_not(None))).all()
    first = next(p for mac, p in obs if mac == "ac:cc:8e:00:00:01")
    assert (first["first_seen"], first["last_seen"]) == (at(60).isoformat(),
                                                         at(90).isoformat())
    assert first["addresses"] == ["203.0.113.10"] and first["service"]


def test_dhcp_acks_in_the_same_dnsmasq_log(estate: Store, tmp_path: Path) -> None:
    acks = [(at(0), "10.1.0.70", "ac:cc:8e:00:00:02"), (at(100), "10.1.0.70",
                                                        "ac:cc:8e:00:00:01")]
    text = dnsmasq([(at(10), "10.1.0.70", HIK, None), (at(110), "10.1.0.70", DAHUA, None)],
                   acks)
    import_logs(estate, "dns", [_write(tmp_path, "pihole.log", text)], fmt="pihole")
    assert _calls(estate) == {"A-2": [(HIK, 1)], "A-1": [(DAHUA, 1)]}


def test_unregistered_callers_become_devices_at_the_given_site(estate: Store,
                                                               tmp_path: Path) -> None:
    log = zeek_dns([(at(0), "10.1.0.99", DAHUA, None), (at(1), "10.1.0.99", DAHUA, None),
                    (at(2), "10.1.0.98", "api.hik-connect.com", None),   # a phone app
                    (at(3), "10.1.0.97", "www.gov.uk", None)])
    summary = import_logs(estate, "dns", [_write(tmp_path, "dns.log", log)], site_id="S-2")
    assert summary.created == 1 and summary.app_records == 1
    new = list_devices(estate, DeviceFilter(unregistered=True))
    assert len(new) == 1
    device = new[0]
    assert (device["ip"], device["site_id"]) == ("10.1.0.99", "S-2")
    assert device["flags"] == ["unregistered", "calls_home"] and "dns" in device["sources"]
    assert device["calls_home"][0]["endpoint"] == DAHUA and device["calls_home"][0]["count"] == 2
    assert (device["manufacturer_id"], device["restricted"]) == ("dahua", True)


def test_identification_unmasks_a_relabelled_box(estate: Store, tmp_path: Path) -> None:
    kb = load_kb()
    identify_store(estate, kb)
    before = {d["asset_id"]: d for d in list_devices(estate)}
    assert before["W-1"]["restricted"] is not True
    log = zeek_dns([(at(0), "10.1.0.60", HIK, None), (at(5), "10.1.0.60", "time.ys7.com", None)])
    import_logs(estate, "dns", [_write(tmp_path, "dns.log", log)], kb=kb)
    after = {d["asset_id"]: d for d in list_devices(estate)}
    assert (after["W-1"]["manufacturer_id"], after["W-1"]["restricted"]) == ("hikvision", True)
    unmasked = unmasked_by_traffic(estate, kb)
    assert [(u.asset_id, u.maker) for u in unmasked] == [("W-1", "hikvision")]
    assert HIK in unmasked[0].endpoints and unmasked[0].label == "Generic IPC-4MP"
    identify_store(estate, kb)  # the full re-identification keeps the traffic as evidence
    with estate.engine.connect() as conn:
        pk = conn.execute(select(m.Device.id).where(m.Device.asset_id == "W-1")).scalar_one()
        verdict = conn.execute(select(m.Verdict.manufacturer_id, m.Verdict.evidence).where(
            m.Verdict.device_pk == pk).order_by(m.Verdict.id.desc()).limit(1)).one()
    assert verdict[0] == "hikvision"
    assert any(c["signal"] == "calls_home" for c in verdict[1])


def test_assess_sees_calls_home_and_raises_priority(estate: Store, tmp_path: Path) -> None:
    from camsweep.assess import assess_store
    from camsweep.assess.load import load_devices

    assets = ("asset_id,site_id,device_type,brand,model,ip,install_date\n"
              "H-1,S-2,camera,Hikvision,DS-2CD2143G2-I,10.2.0.1,2023-01-10\n"
              "H-2,S-2,camera,Hikvision,DS-2CD2143G2-I,10.2.0.2,2023-01-10\n")
    import_file(estate, _write(tmp_path, "more.csv", assets), "assets")
    kb = load_kb()
    identify_store(estate, kb)
    import_logs(estate, "dns", [_write(tmp_path, "dns.log", zeek_dns(
        [(at(0), "10.2.0.1", HIK, None)]))], kb=kb)
    frame = load_devices(estate)
    flags = dict(zip(frame.get_column("asset_id"), frame.get_column("calls_home"), strict=True))
    assert flags["H-1"] is True and flags["H-2"] is None and flags["A-1"] is None
    result = assess_store(estate, ["programme-template"], date(2026, 12, 1), kb=kb)
    findings = result.contract()["findings"]
    egress = [f for f in findings if f["action"] == "block_egress"]
    assert [f["asset_id"] for f in egress] == ["H-1"]
    removal = {f["asset_id"]: f["priority"] for f in findings if f["rule"] == "replace-standard"}
    assert removal["H-1"] > removal["H-2"]


def test_plan_takes_only_removals() -> None:
    from camsweep.plan import parse_findings

    base = {"asset_id": "H-1", "site_id": "S-2", "region": "london", "deadline": "2027-06-30",
            "priority": 70, "policy": "programme-template", "device_type": "camera"}
    items = parse_findings([{**base, "action": "block_egress", "rule": "block-egress"},
                            {**base, "action": "remove", "rule": "stop-install"}], "test")
    assert [i.asset_id for i in items] == ["H-1"] and len(items) == 1


def test_flows_match_dns_answers_with_port_hints(estate: Store, tmp_path: Path) -> None:
    dns = zeek_dns([(at(0), "10.7.0.1", HIK, "lbs.example.elb,203.0.113.10")])
    flows = zeek_conn([(at(1), "10.7.0.2", "203.0.113.10", 8666, "tcp"),    # port fits
                       (at(2), "10.7.0.3", "203.0.113.10", 443, "tcp"),     # shared host?
                       (at(3), "10.7.0.4", "114.114.114.114", 53, "udp"),   # documented
                       (at(4), "10.7.0.5", "114.114.114.114", 443, "tcp"),  # not DNS
                       (at(5), "10.7.0.6", "192.0.2.9", 8666, "tcp")])      # port alone
    summary = import_logs(estate, "flows", [_write(tmp_path, "conn.log", flows)],
                          dns_paths=[_write(tmp_path, "dns.log", dns)])
    calls = _calls(estate)
    assert calls == {"10.7.0.1": [(HIK, 1)], "10.7.0.2": [(HIK, 1)],
                     "10.7.0.4": [("114.114.114.114", 1)]}
    assert [f.kind for f in summary.files] == ["dns", "flows"]
    with estate.engine.connect() as conn:
        kinds = conn.execute(select(m.Source.kind).order_by(m.Source.id)).scalars().all()
    assert kinds[-2:] == ["dns", "flows"]
    # A later flow import still knows the address from the stored DNS observation.
    later = nfdump([(at(30), "10.7.0.8", "203.0.113.10", 8555, "tcp")])
    import_logs(estate, "flows", [_write(tmp_path, "nf.csv", later)])
    assert _calls(estate)["10.7.0.8"] == [(HIK, 1)]


def test_firewall_host_names_match_without_dns(estate: Store, tmp_path: Path) -> None:
    text = firewall([(at(0), "10.1.0.60", "198.51.100.77", 443, "tcp")],
                    hosts=["pub-cfg.secu100.net"])
    import_logs(estate, "flows", [_write(tmp_path, "fw.csv", text)])
    assert _calls(estate) == {"W-1": [("pub-cfg.secu100.net", 1)]}


def test_shared_private_address_is_not_guessed(estate: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "dns.log", zeek_dns([(at(0), "10.9.0.5", DAHUA, None)]))
    summary = import_logs(estate, "dns", [path])
    assert summary.unattributed == 1 and _calls(estate) == {}
    summary = import_logs(estate, "dns", [path], site_id="S-2")
    assert summary.files[0].skipped and "already imported" in (summary.files[0].skipped or "")
    path2 = _write(tmp_path, "dns2.log", zeek_dns([(at(1), "10.9.0.5", DAHUA, None)]))
    import_logs(estate, "dns", [path2], site_id="S-2")
    assert _calls(estate) == {"D-2": [(DAHUA, 1)]}


def test_reimport_adds_nothing_and_imports_merge(estate: Store, tmp_path: Path) -> None:
    one = _write(tmp_path, "d1.log", zeek_dns([(at(0), "10.1.0.60", HIK, None)]))
    two = _write(tmp_path, "d2.log", zeek_dns([(at(200), "10.1.0.60", HIK, None),
                                               (at(10), "10.1.0.60", HIK, None)]))
    import_logs(estate, "dns", [one])
    again = import_logs(estate, "dns", [one, two])
    assert again.files[0].skipped and again.files[1].skipped is None
    rows = callhome_by_site(estate)
    assert [(r.site_id, r.asset_id, r.endpoint, r.count) for r in rows] == [
        ("S-1", "W-1", HIK, 3)]
    assert (rows[0].first_seen, rows[0].last_seen) == (at(0), at(200))
    with estate.engine.connect() as conn:
        s1 = conn.execute(select(m.Site.id).where(m.Site.site_id == "S-1")).scalar_one()
        s2 = conn.execute(select(m.Site.id).where(m.Site.site_id == "S-2")).scalar_one()
    assert len(callhome_by_site(estate, [s1])) == 1
    assert callhome_by_site(estate, [s2]) == [] and callhome_by_site(estate, []) == []


def test_cli_import_dns_with_malformed_lines(store_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--db", store_url]
    assert runner.invoke(app, [*db, "import", "sites",
                               str(_write(tmp_path, "s.csv", SITES))]).exit_code == 0
    assert runner.invoke(app, [*db, "import", "assets",
                               str(_write(tmp_path, "a.csv", ASSETS))]).exit_code == 0
    log = zeek_dns([(at(0), "10.1.0.60", HIK, None)], extra=["garbage"])
    errors = tmp_path / "errors.csv"
    result = runner.invoke(app, [*db, "import", "dns", str(_write(tmp_path, "dns.log", log)),
                                 "--errors-out", str(errors)])
    assert result.exit_code == 0, result.output
    assert "1 malformed" in result.output and "dns.log, row 10" in result.output
    assert "garbage" in errors.read_text()
    result = runner.invoke(app, [*db, "devices", "list", "--calls-home", "--json"])
    listed = json.loads(result.stdout)
    assert [d["asset_id"] for d in listed] == ["W-1"]
    assert listed[0]["calls_home"][0]["maker"] == "hikvision"
    shown = runner.invoke(app, [*db, "devices", "show", "W-1"], env={"COLUMNS": "200"})
    # Rich folds and shortens cells to the console's width, which the runner does not set
    assert "Calls home" in " ".join(shown.output.split())
    shown = runner.invoke(app, [*db, "devices", "show", "W-1", "--json"])
    assert json.loads(shown.stdout)["calls_home"][0]["endpoint"] == HIK
    result = runner.invoke(app, [*db, "import", "flows", str(_write(tmp_path, "nf.csv", nfdump(
        [(T0, "10.1.0.60", "114.114.114.114", 53, "udp")]))), "--json"])
    assert json.loads(result.stdout)["observations"] == 1
    result = runner.invoke(app, [*db, "import", "dns", str(tmp_path / "missing.log")])
    assert result.exit_code != 0


def test_devices_show_lists_call_home(estate: Store, tmp_path: Path) -> None:
    import_logs(estate, "dns", [_write(tmp_path, "dns.log", zeek_dns(
        [(at(0), "10.1.0.60", HIK, None), (at(9), "10.1.0.60", "time.ys7.com", None)]))])
    detail = device_detail(estate, "W-1")
    assert detail is not None
    assert [c["endpoint"] for c in detail.calls_home] == [HIK, "time.ys7.com"]


def test_sample_estate_dns_log_unmasks_white_labels(store: Store, tmp_path: Path) -> None:
    """The demo's step: a day of the sample estate's DNS traffic, imported after the register."""
    from camsweep.sample import write_sample
    from camsweep.sample_dns import write_dns_log

    files = write_sample(tmp_path, sites=50, devices=3000, seed=2023, truth=True)
    import_file(store, files.sites_csv, "sites")
    import_file(store, files.assets_csv, "assets")
    import polars as pl

    assets = pl.read_csv(files.assets_csv, infer_schema=False).join(
        pl.read_csv(tmp_path / "truth.csv", infer_schema=False), on="asset_id"
    ).with_columns(pl.col("restricted") == "true")
    log = write_dns_log(tmp_path / "dns.log", assets, 2023)
    summary = import_logs(store, "dns", [log.path])
    assert summary.malformed == 0 and summary.unattributed == 0
    assert summary.created == len(log.unregistered) and summary.app_records > 0
    unmasked = unmasked_by_traffic(store)
    registered = {u.asset_id for u in unmasked if u.asset_id}
    # Register rows that hid their maker, now attributed by their traffic, and truly so.
    # (Some white labels stay unattributed: identify abstains where a model number also
    # reads as another maker's brand, e.g. Interlogix "TVT-5601".)
    assert len(registered) >= 4 and registered <= set(log.white_label)
    truth = dict(assets.select("asset_id", "manufacturer_id").iter_rows())
    assert all(u.maker == truth[u.asset_id] for u in unmasked if u.asset_id)
    assert {u.ip for u in unmasked if u.asset_id is None} <= set(log.unregistered)
    listed = {d["asset_id"] for d in list_devices(store, DeviceFilter(calls_home=True))}
    assert set(log.white_label) <= listed


def test_cli_refuses_bad_options(store_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    path = _write(tmp_path, "dns.log", zeek_dns([(at(0), "10.1.0.60", HIK, None)]))
    result = runner.invoke(app, ["--db", store_url, "import", "dns", str(path), "--tz", "Mars"])
    assert result.exit_code != 0 and "not a time zone" in str(result.exception or result.output)
    result = runner.invoke(app, ["--db", store_url, "import", "dns", str(path), "--site", "NOPE"])
    assert result.exit_code != 0 and "NOPE" in str(result.exception or result.output)
    result = runner.invoke(app, ["--db", store_url, "import", "dns", str(path),
                                 "--format", "syslog"])
    assert result.exit_code != 0 and "unknown DNS log format" in str(result.exception
                                                                    or result.output)


def test_many_small_chunks_fold_into_the_same_aggregates(estate: Store, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Aggregates are folded every few batches; the totals must not depend on where."""
    from camsweep.discover import callhome
    from camsweep.discover.importers import logstream

    queries = [(at(i), "10.1.0.60", HIK if i % 3 else "time.ys7.com", None) for i in range(90)]
    monkeypatch.setattr(logstream, "CHUNK_BYTES", 400)
    monkeypatch.setattr(callhome, "COMPACT_EVERY", 3)
    summary = import_logs(estate, "dns", [_write(tmp_path, "dns.log", zeek_dns(queries))])
    assert summary.matched == 90
    assert _calls(estate) == {"W-1": [("time.ys7.com", 30), (HIK, 60)]}

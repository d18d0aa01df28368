"""The per-record engine: claims, fusion, conflicts, abstention, parsers."""

from __future__ import annotations

import pytest

from camsweep.domain import Evidence, HttpEvidence, OnvifEvidence, RtspEvidence
from camsweep.identify import FUSION, candidate_scores, findings_for, identify, identify_many
from camsweep.kb import load_kb


def run(**fields: object) -> object:
    return identify(Evidence.model_validate(fields), load_kb())


def test_lorex_model_is_white_label_dahua() -> None:
    v = identify(Evidence(text="Lorex LNB8005"), load_kb())
    assert (v.manufacturer_id, v.restricted, v.brand, v.oem_of, v.device_type, v.model) == (
        "dahua",
        True,
        "Lorex",
        "dahua",
        "camera",
        "LNB8005",
    )
    assert any(c.signal == "model" and "lorex.ln" in c.source for c in v.evidence)


def test_honeywell_label_with_dahua_evidence_is_surfaced() -> None:
    v = identify(
        Evidence(brand="Honeywell", mac="4C:11:BF:00:00:01", open_ports=[80, 554, 37777]), load_kb()
    )
    assert v.manufacturer_id == "dahua" and v.restricted is True
    assert v.brand == "Honeywell" and v.oem_of == "dahua"
    assert any("white-label dahua" in c for c in v.conflicts)
    assert {c.signal for c in v.evidence} >= {"brand", "oui", "ports"}


def test_contradicting_label_is_a_conflict_not_hidden() -> None:
    v = identify(Evidence(brand="Axis", mac="44:19:B6:00:00:01"), load_kb())
    assert v.manufacturer_id is None and v.restricted is None
    assert any("ambiguous" in c for c in v.conflicts)


def test_mac_alone_names_the_registrant() -> None:
    v = identify(Evidence(mac="44:19:b6:00:00:01"), load_kb())
    assert v.manufacturer_id == "hikvision" and v.restricted is True
    assert v.evidence[0].value == "44:19:B6"


@pytest.mark.parametrize("mac", ["4419B6000001", "44-19-B6-00-00-01", "4419.b600.0001", "44:19:B6"])
def test_mac_notations(mac: str) -> None:
    assert identify(Evidence(mac=mac), load_kb()).manufacturer_id == "hikvision"


@pytest.mark.parametrize(
    "evidence",
    [
        {"brand": "Dahlia"},
        {"brand": "Axia"},
        {"brand": "IP Camera"},
        {"model": "IPC"},
        {"brand": "Shanghai Dahua Scale Factory"},
        {"open_ports": [8000]},
        {"mac": "02:00:00:00:00:01"},
        {},
    ],
)
def test_abstains_on_thin_or_look_alike_evidence(evidence: dict[str, object]) -> None:
    v = identify(Evidence.model_validate(evidence), load_kb())
    assert v.manufacturer_id is None and v.restricted is None and v.confidence == 0.0


def test_brand_and_model_in_one_field() -> None:
    v = identify(Evidence(brand="Hikvision DS-2CD2143G2-I"), load_kb())
    assert (
        v.manufacturer_id == "hikvision"
        and v.model == "DS-2CD2143G2-I"
        and v.device_type == "camera"
    )


def test_model_inside_description() -> None:
    v = identify(Evidence(text="Car park camera 3 (IPC-HFW4433F-ZSA), replaced 2021"), load_kb())
    assert v.manufacturer_id == "dahua" and v.model == "IPC-HFW4433F-ZSA"


@pytest.mark.parametrize(
    "brand", ["Hikvison", "HIK-VISION", "hik vision", "海康威视", "Hangzhou Hikvision"]
)
def test_messy_spellings(brand: str) -> None:
    assert identify(Evidence(brand=brand), load_kb()).manufacturer_id == "hikvision"


def test_fuzzy_match_is_recorded_and_weighed_lower() -> None:
    exact = identify(Evidence(brand="Hikvision"), load_kb())
    fuzzy = identify(Evidence(brand="Hikvison"), load_kb())
    assert "(fuzzy)" in fuzzy.evidence[0].source
    assert fuzzy.evidence[0].weight < exact.evidence[0].weight


def test_subsidiary_brand_is_not_oem() -> None:
    v = identify(Evidence(brand="EZVIZ", model="CS-C6N-A0-1C2WFR"), load_kb())
    assert v.manufacturer_id == "hikvision" and v.brand == "EZVIZ" and v.oem_of is None


def test_all_prc_candidates_restrict_without_naming_a_maker() -> None:
    v = identify(Evidence(brand="ANNKE"), load_kb())
    assert v.manufacturer_id is None and v.restricted is True
    assert "subject to the PRC NIL" in v.conflicts[0]


def test_uncurated_registrant_gets_a_derived_jurisdiction() -> None:
    v = identify(Evidence(brand="Sunell"), load_kb())
    assert v.manufacturer_id == "ieee-sunell" and v.restricted is True
    assert "derived" in v.evidence[0].source


ISAPI = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<DeviceInfo version="2.0" xmlns="http://www.{ns}/ver20/XMLSchema">'
    "<deviceName>Gate</deviceName><model>DS-7608NI-K2</model>"
    "<firmwareVersion>V4.30.085</firmwareVersion>"
    "<firmwareReleasedDate>build 200916</firmwareReleasedDate>"
    "<deviceType>NVR</deviceType></DeviceInfo>"
)


@pytest.mark.parametrize("namespace", ["hikvision.com", "isapi.org"])
def test_isapi_device_info(namespace: str) -> None:
    v = identify(Evidence(isapi_device_info=ISAPI.replace("{ns}", namespace)), load_kb())
    assert (v.manufacturer_id, v.device_type, v.model, v.firmware) == (
        "hikvision",
        "nvr",
        "DS-7608NI-K2",
        "V4.30.085 build 200916",
    )


def test_isapi_rejects_entity_expansion() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        "<DeviceInfo>&b;</DeviceInfo>"
    )
    v = identify(Evidence(isapi_device_info=bomb), load_kb())
    assert v.manufacturer_id is None
    assert v.evidence and v.evidence[0].points_to is None


def test_dahua_system_info_on_a_lorex_recorder() -> None:
    info = (
        "deviceType=31\r\nhardwareVersion=1.00\r\nserialNumber=ND021811019863\r\n"
        "updateSerial=DHI-NVR4108HS-8P-4KS2"
    )
    v = identify(Evidence(brand="Lorex", dahua_system_info=info), load_kb())
    assert (v.manufacturer_id, v.oem_of, v.device_type, v.model) == (
        "dahua",
        "dahua",
        "nvr",
        "DHI-NVR4108HS-8P-4KS2",
    )


def test_network_fingerprints() -> None:
    http = HttpEvidence(status=200, headers={"server": "App-webs/"}, title="", body="")
    assert identify(Evidence(http=http), load_kb()).manufacturer_id == "hikvision"
    rtsp = RtspEvidence(headers={"Server": "Dahua Rtsp Server"})
    assert identify(Evidence(rtsp=rtsp), load_kb()).manufacturer_id == "dahua"


def test_onvif_oem_label_with_dahua_firmware() -> None:
    onvif = OnvifEvidence(
        Manufacturer="Amcrest", Model="IP4M-1051", FirmwareVersion="V2.620.00AC000.3.R"
    )
    v = identify(Evidence(onvif=onvif), load_kb())
    assert (v.manufacturer_id, v.brand, v.oem_of, v.firmware) == (
        "dahua",
        "Amcrest",
        "dahua",
        "V2.620.00AC000.3.R",
    )


def test_verdict_records_kb_version_and_rule_ids() -> None:
    kb = load_kb()
    v = identify(Evidence(model="DS-2CD2143G2-I"), kb)
    assert v.kb_version == kb.version
    assert v.evidence[0].source.startswith("models.yaml:hikvision.ds-2cd")


def test_identify_many_keeps_order_and_reuses_answers() -> None:
    evidences = [Evidence(brand="Axis"), Evidence(brand="Dahua"), Evidence(brand="Axis")]
    verdicts = identify_many(evidences, load_kb())
    assert [v.manufacturer_id for v in verdicts] == ["axis", "dahua", "axis"]
    assert verdicts[0] is verdicts[2]


def test_fusion_model_is_named_and_declares_weights() -> None:
    assert FUSION.id == "camsweep-fuse/1"
    assert FUSION.weight("isapi_device_info") > FUSION.weight("oui") > FUSION.weight("oui_derived")
    found, _ = findings_for(Evidence(brand="Lorex"), load_kb())
    scores = candidate_scores(found)
    assert scores["dahua"] > scores["lorex"]


def test_identify_many_shares_verdicts_only_when_the_engine_reads_the_same() -> None:
    kb = load_kb()
    evidences = [
        Evidence(brand="Dahua", mac="4C:11:BF:00:00:01", ip="10.0.0.1"),
        Evidence(brand="Dahua", mac="4c-11-bf-99-99-99", ip="10.0.0.2"),
        Evidence(brand="Dahua", mac="44:19:B6:00:00:01"),
    ]
    verdicts = identify_many(evidences, kb)
    assert verdicts[0] is verdicts[1] and verdicts[2] is not verdicts[0]
    for evidence, verdict in zip(evidences, verdicts, strict=True):
        assert verdict == identify(evidence, kb)

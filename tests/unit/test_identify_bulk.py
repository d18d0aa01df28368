"""The bulk (Polars) path gives, row for row, what the per-record engine gives."""

from __future__ import annotations

import json

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from camsweep.domain import Evidence
from camsweep.identify import identify
from camsweep.identify.batch import run_jsonl, run_records, verdict_record
from camsweep.identify.bulk import RESULT_COLUMNS, frame_evidence, identify_frame, result_row
from camsweep.kb import load_kb

BRANDS = [
    "Hikvision",
    "HIKVISION",
    "hik vision",
    "Hikvison",
    "Dahua",
    "大华",
    "Lorex",
    "LOREX",
    "Honeywell",
    "Axis",
    "Axis Communications",
    "Dahlia",
    "Annke",
    "EZVIZ",
    "Amcrest",
    "Uniview",
    "UNV",
    "Bosch",
    "Shanghai Dahua Scale Factory",
    "IP Camera",
    "Sunell",
    "",
    " ",
    "Hikvision DS-2CD2143G2-I",
    "Hikvision Dahua",
    "DAHUA hikvision",
    "Lorex E891AB",
]
MODELS = [
    "DS-2CD2143G2-I",
    "ds-2cd2143g2-i",
    "DS‐7608NI-K2",
    "IPC-HDW5831R-ZE",
    "LNB8005",
    "E891AB",
    "IP2M-841",
    "M3024-LVE",
    "NVR4108HS-8P-4KS2",
    "NVR1004H",
    "IPC",
    "HBD2PR2",
    "QNP-6250R",
    "",
    "FLEXIDOME IP 5000i",
    "IPC2224SE-DF40K-WL-I0",
    "unknown",
    "Honeywell HBD1PR1",
]
MACS = [
    "44:19:B6:00:00:01",
    "4419b6aabbcc",
    "4C-11-BF-01-02-03",
    "00:40:8C:00:00:01",
    "40:2C:76:10:00:01",
    "00:50:C2:BE:70:01",
    "02:11:22:33:44:55",
    "20:F4:1B:00:00:01",
    "00:1F:54:00:00:09",
    "zz",
    "",
    "E4D58B112233",
    "EC:71:DB:00:00:01",
    "00:1C:27:00:00:01",
]
FIRMWARE = [
    "V5.5.82 build 190220",
    "V5.7.15 build 230313",
    "V2.800.0000016.0.R",
    "2.420.AC00.18.R",
    "7.10.0095",
    "",
    "IPC_G6103-B0009P30D1803",
    "v2.1.0.2144_23042803",
]
TEXTS = [
    "",
    "spare",
    "Lorex LNB8005 in car park",
    "rotation axis 360",
    "海康威视 网络摄像机",
    "Dahua IPC-HFW4433F-ZSA",
]

cells = st.one_of(st.none(), st.sampled_from(BRANDS))
rows = st.fixed_dictionaries(
    {
        "brand": st.one_of(st.none(), st.sampled_from(BRANDS), st.text(max_size=12)),
        "model": st.one_of(
            st.none(),
            st.sampled_from(MODELS),
            st.text(alphabet="ABDHINPSV0123456789- ", max_size=14),
        ),
        "mac": st.one_of(
            st.none(),
            st.sampled_from(MACS),
            st.from_regex(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", fullmatch=True),
            st.text(max_size=20),
        ),
        "firmware": st.one_of(st.none(), st.sampled_from(FIRMWARE)),
        "text": st.one_of(st.none(), st.sampled_from(TEXTS)),
    }
)


def _per_record(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    kb = load_kb()
    return [result_row(identify(e, kb)) for e in frame_evidence(frame)]


def _bulk(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    out = identify_frame(frame, load_kb())
    cols = [c for c in RESULT_COLUMNS if c != "kb_version"]
    return [
        tuple(r)
        for r in out.select(
            [
                pl.col(c).cast(pl.String) if out.schema[c] == pl.Categorical else pl.col(c)
                for c in cols
            ]
        ).iter_rows()
    ]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows, min_size=1, max_size=40))
def test_bulk_equals_per_record(records: list[dict[str, str | None]]) -> None:
    frame = pl.DataFrame(
        records, schema=dict.fromkeys(["brand", "model", "mac", "firmware", "text"], pl.String)
    )
    assert _bulk(frame) == _per_record(frame)


def test_bulk_keeps_rows_columns_and_order() -> None:
    frame = pl.DataFrame(
        {
            "asset_id": ["a1", "a2", "a3", "a4"],
            "brand": ["Lorex", None, "Axis", "Lorex"],
            "model": ["LNB8005", "DS-2CD2143G2-I", "M3024-LVE", "LNB8005"],
            "mac": [None, "44:19:B6:00:00:01", "00:40:8C:00:00:02", None],
        }
    )
    out = identify_frame(frame, load_kb())
    assert out.get_column("asset_id").to_list() == ["a1", "a2", "a3", "a4"]
    assert out.get_column("manufacturer_id").cast(pl.String).to_list() == [
        "dahua",
        "hikvision",
        "axis",
        "dahua",
    ]
    assert out.get_column("restricted").to_list() == [True, True, False, True]
    assert set(RESULT_COLUMNS) <= set(out.columns)
    assert out.get_column("kb_version").unique().to_list() == [load_kb().version]


def test_bulk_without_evidence_columns() -> None:
    out = identify_frame(pl.DataFrame({"asset_id": ["x"]}), load_kb())
    assert out.get_column("manufacturer_id").to_list() == [None]


def test_jsonl_contract_keeps_order_ids_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"id": "a", "evidence": {"brand": "Lorex", "model": "LNB8005"}}),
        "{not json",
        json.dumps({"id": "c", "evidence": {"open_ports": "x"}}),
        "",
        json.dumps({"id": "d", "evidence": {"mac": "44:19:b6:00:00:01"}}),
        json.dumps(["no", "object"]),
        json.dumps({"evidence": {}}),
    ]
    out = [json.loads(line) for line in run_jsonl(lines, load_kb())]
    assert [o.get("id") for o in out] == ["a", None, "c", "d", None, None]
    assert out[0]["manufacturer_id"] == "dahua" and out[0]["oem_of"] == "dahua"
    assert "error" in out[1] and "line 2" in out[1]["error"]
    assert "open_ports" in out[2]["error"]
    assert out[3]["manufacturer_id"] == "hikvision" and out[3]["evidence"][0]["signal"] == "oui"
    assert "error" in out[4] and "error" in out[5]
    keys = {
        "id",
        "manufacturer_id",
        "manufacturer",
        "brand",
        "oem_of",
        "device_type",
        "model",
        "restricted",
        "confidence",
        "evidence",
    }
    assert keys <= set(out[0])


def test_jsonl_matches_per_record() -> None:
    kb = load_kb()
    evidence = {"brand": "Honeywell", "mac": "4C:11:BF:00:00:01", "open_ports": [37777, 554]}
    (record,) = run_records([json.dumps({"id": 7, "evidence": evidence})], kb)
    verdict = identify(Evidence.model_validate(evidence), kb)
    assert record["id"] == 7 and record["manufacturer_id"] == verdict.manufacturer_id
    assert record["confidence"] == verdict.confidence


@settings(max_examples=40, deadline=None)
@given(st.lists(rows, min_size=1, max_size=25))
def test_jsonl_cache_is_exact(records: list[dict[str, str | None]]) -> None:
    kb = load_kb()
    lines = [
        json.dumps({"id": str(i), "evidence": {k: v for k, v in r.items() if v is not None}})
        for i, r in enumerate(records)
    ]
    expected = [
        json.loads(
            json.dumps(
                verdict_record(
                    str(i),
                    identify(
                        Evidence.model_validate({k: v for k, v in r.items() if v is not None}), kb
                    ),
                )
            )
        )
        for i, r in enumerate(records)
    ]
    assert [json.loads(line) for line in run_jsonl(lines, kb)] == expected

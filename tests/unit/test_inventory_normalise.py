"""Normalisers: every accepted spelling, and the values that must be refused."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from camsweep.domain import DeviceType
from camsweep.inventory import normalise


@pytest.mark.parametrize("raw", ["44:19:B6:12:34:56", "44-19-b6-12-34-56", "4419.b612.3456",
                                 "4419B6123456", "44 19 b6 12 34 56", "44:19:b6:12:34:56"])
def test_mac_separators_and_case(raw: str) -> None:
    out, bad = normalise.mac(pl.Series("mac", [raw]))
    assert out.to_list() == ["44:19:b6:12:34:56"]
    assert not bad.any()


@pytest.mark.parametrize("raw", ["44:19:b6:12:34", "44:19:b6:12:34:56:78", "zz:19:b6:12:34:56",
                                 "n/a", "4419b612345g"])
def test_mac_malformed(raw: str) -> None:
    out, bad = normalise.mac(pl.Series("mac", [raw]))
    assert out.to_list() == [None]
    assert bad.to_list() == [True]


@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", "", "."]), st.booleans())
def test_mac_roundtrip(raw: bytes, sep: str, upper: bool) -> None:
    hexs = raw.hex()
    text = sep.join(hexs[i:i + 2] for i in range(0, 12, 2))
    if upper:
        text = text.upper()
    out, bad = normalise.mac(pl.Series("mac", [text]))
    assert out[0] == ":".join(hexs[i:i + 2] for i in range(0, 12, 2))
    assert not bad[0]


def test_ip_v4_v6_and_bad() -> None:
    col = pl.Series("ip", ["192.0.2.10", "2001:DB8::10", "192.0.2.256", "010.0.0.1", "camera",
                           None, "[2001:db8::1]"])
    out, bad = normalise.ip(col)
    assert out.to_list() == ["192.0.2.10", "2001:db8::10", None, None, None, None, "2001:db8::1"]
    assert bad.to_list() == [False, False, True, True, True, False, False]


def test_dates_uk_first_and_iso() -> None:
    col = pl.Series("d", ["04/03/2021", "4/3/2021", "04-03-2021", "04.03.2021", "2021-03-04",
                          "2021-03-04 00:00:00", "04/03/21"])
    out, bad = normalise.uk_date(col)
    assert set(out.to_list()) == {date(2021, 3, 4)}
    assert not bad.any()


@pytest.mark.parametrize("raw", ["31/02/2020", "2021-13-01", "13/13/2013", "yesterday",
                                 "01/01/1960", "01/01/2999", "2021/03/04x"])
def test_dates_refused(raw: str) -> None:
    out, bad = normalise.uk_date(pl.Series("d", [raw]), today=date(2026, 1, 1))
    assert out.to_list() == [None]
    assert bad.to_list() == [True]


@pytest.mark.parametrize(("text", "expected"), [
    ("IP Camera", "camera"), ("Dome", "camera"), ("bullet cam", "camera"), ("PTZ", "camera"),
    ("NVR 16ch", "nvr"), ("Network Video Recorder", "nvr"), ("DVR", "dvr"), ("XVR 8ch", "dvr"),
    ("Door station", "intercom"), ("Video doorbell", "intercom"),
    ("Access reader", "access_control"),
    ("access_control", "access_control"), ("Encoder", "encoder"), ("PoE switch", "other"),
    ("camera", "camera"), ("door station camera", "intercom"),
])
def test_device_types_from_free_text(text: str, expected: str) -> None:
    assert normalise.device_type_of(text) == DeviceType(expected)


def test_device_type_does_not_match_inside_words() -> None:
    # "cam" must not fire inside "scamp"; "acs" not inside "racks"
    assert normalise.device_type_of("Scamp racks") == DeviceType.other

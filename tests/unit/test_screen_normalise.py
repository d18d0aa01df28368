"""Name normalisation: legal forms, places, generic words, Chinese script and pinyin."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camsweep.screen.normalise import country_code, normalise, skeleton, token_class


@pytest.mark.parametrize(
    ("text", "core", "locations"),
    [
        ("HIKVISION UK LIMITED", ("hikvision",), ("uk",)),
        ("Huawei Technologies (UK) Co., Limited", ("huawei", "technology"), ("uk",)),
        ("Hikvision Europe B.V.", ("hikvision",), ("europe",)),
        ("Hikvision Poland Sp. z o.o.", ("hikvision",), ("poland",)),
        ("Hikvision Italy S.r.l.", ("hikvision",), ("italy",)),
        ("Zhejiang Dahua Technology Co., Ltd. (Dahua)", ("dahua", "technology"), ("zhejiang",)),
        ("Teltronic S.A.U.", ("teltronic",), ()),
        ("Dahua Technology USA Inc.", ("dahua", "technology"), ("usa",)),
        ("Dahua Technology United States", ("dahua", "technology"), ("usa",)),
        ("Zhejiang Dahua Keji Gufen Youxian Gongsi", ("dahua", "technology"), ("zhejiang",)),
        ("Huawei Investment & Holding Co., Ltd.", ("huawei", "investment", "holdings"), ()),
    ],
)
def test_latin_names(text: str, core: tuple[str, ...], locations: tuple[str, ...]) -> None:
    form = normalise(text)
    assert form.core == core
    assert form.locations == locations


@pytest.mark.parametrize(
    ("text", "core", "locations"),
    [
        ("杭州海康威视数字技术股份有限公司", ("haikangweishi", "digital", "technology"),
         ("hangzhou",)),
        ("杭州海康威視數字技術股份有限公司", ("haikangweishi", "digital", "technology"),
         ("hangzhou",)),
        ("浙江大华技术股份有限公司", ("dahua", "technology"), ("zhejiang",)),
        ("中国电子科技集团公司", ("technology", "electronics", "group"), ("china",)),
        ("中興通訊股份有限公司", ("zhongxing", "communications"), ()),
        ("大华银行", ("dahuayinxing",), ()),  # ICU reads 行 as xing: one token all the same
    ],
)
def test_chinese_script(text: str, core: tuple[str, ...], locations: tuple[str, ...]) -> None:
    form = normalise(text)
    assert form.han
    assert set(form.core) == set(core)
    assert form.locations == locations


def test_pinyin_meets_chinese_script() -> None:
    han = normalise("杭州海康威视数字技术股份有限公司")
    pinyin = normalise("Hangzhou Haikang Weishi Shuzi Jishu Gufen Youxian Gongsi")
    assert "".join(pinyin.distinctive) == "".join(han.distinctive) == "haikangweishi"
    assert set(pinyin.core) - set(pinyin.distinctive) == {"digital", "technology"}


def test_token_classes_and_keys() -> None:
    assert token_class("technology") == "generic"
    assert token_class("hikvision") == "distinctive"
    assert token_class("52") == "number"
    assert skeleton("hikvision") == skeleton("hikvison") == "hkvsn"
    assert normalise("Hik Vision").squashed == "hikvision"


def test_persons_keep_every_token() -> None:
    assert normalise("Fu Liquan", person=True).core == ("fu", "liquan")
    assert normalise("Chen Co", person=True).core == ("chen", "co")


def test_place_only_names_keep_their_place() -> None:
    assert normalise("China").core == ("china",)
    assert normalise("Ltd").core == ("ltd",)


@pytest.mark.parametrize(("value", "code"), [("GB", "gb"), ("uk", "gb"), ("United Kingdom", "gb"),
                                             ("China", "cn"), ("Atlantis", None), (None, None)])
def test_country_code(value: str | None, code: str | None) -> None:
    assert country_code(value) == code


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_normalise_never_fails(text: str) -> None:
    form = normalise(text)
    assert all(t and t == t.lower() for t in form.core)
    assert len(form.core) == len(set(form.core))

"""Text folding shared by the OUI builder, the loader and the identification engine.

Registers spell makers every way a person can ("HIK-VISION", "hik vision", full-width letters);
folding first makes those spellings one key, so the KB lists each name once and every
matcher (exact, edit distance, registrant index) agrees on what "the same" means.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
# Han, kana and Hangul: matched as substrings because these scripts do not separate words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d_]")
_SPACES = re.compile(r"\s+")
_NOT_HEX = re.compile(r"[^0-9A-Fa-f]")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case-, width- and punctuation-insensitive form: words separated by one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


def squash(text: str) -> str:
    """Folded form without spaces, so "hik vision" and "hikvision" compare equal."""
    return fold(text).replace(" ", "")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


@lru_cache(maxsize=65536)
def model_form(text: str) -> str:
    """Model numbers as vendors print them: upper case, ASCII dashes, single spaces."""
    value = unicodedata.normalize("NFKC", text).upper()
    value = _DASHES.sub("-", value)
    return _SPACES.sub(" ", value).strip(" \t\"'`.,;:")


def registrant_form(name: str) -> str:
    """IEEE registrant names compared exactly, after width/case/space folding only."""
    value = unicodedata.normalize("NFKC", name).casefold()
    return _SPACES.sub(" ", value).strip(" .,")


def mac_hex(mac: str) -> str:
    """Hex digits of a MAC in any notation (colons, dashes, Cisco dots), upper case.

    Non-hex characters go first, then case: the bulk path does the same in Polars,
    and only ASCII survives, so both agree on every input.
    """
    return _NOT_HEX.sub("", mac).upper()


def clean(value: str | None) -> str | None:
    """Blank register cells and whitespace-only strings carry no evidence."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


# Words that say what kind of company a registrant is, not which one; removed to derive
# the short name a register would use ("Shenzhen Sunell Technology Corporation" -> "sunell").
REGISTRANT_NOISE = frozenset(
    [
        "co",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "company",
        "llc",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "srl",
        "bv",
        "b",
        "v",
        "ab",
        "oy",
        "as",
        "kg",
        "kk",
        "nv",
        "pty",
        "pvt",
        "private",
        "spa",
        "s",
        "p",
        "a",
        "sdn",
        "bhd",
        "jsc",
        "ooo",
        "zao",
        "the",
        "of",
        "and",
        "technology",
        "technologies",
        "tech",
        "electronic",
        "electronics",
        "electric",
        "electrical",
        "digital",
        "network",
        "networks",
        "networking",
        "communication",
        "communications",
        "system",
        "systems",
        "science",
        "sciences",
        "information",
        "info",
        "intelligent",
        "intelligence",
        "smart",
        "software",
        "international",
        "group",
        "holding",
        "holdings",
        "industrial",
        "industries",
        "industry",
        "manufacturing",
        "manufacture",
        "products",
        "product",
        "trading",
        "enterprise",
        "enterprises",
        "development",
        "solutions",
        "solution",
        "services",
        "service",
        "iot",
        "security",
        "video",
        "vision",
        "imaging",
        "camera",
        "cameras",
        "devices",
        "device",
        "equipment",
        "shares",
        "share",
        "stock",
        "by",
        "generic",
        "unknown",
        "none",
        "other",
        "various",
        "misc",
        "nvr",
        "dvr",
        "cctv",
        "ipc",
        "shenzhen",
        "hangzhou",
        "shanghai",
        "beijing",
        "guangzhou",
        "guangdong",
        "zhejiang",
        "jiangsu",
        "xiamen",
        "fujian",
        "suzhou",
        "tianjin",
        "ningbo",
        "wuhan",
        "chengdu",
        "dongguan",
        "zhuhai",
        "foshan",
        "nanjing",
        "qingdao",
        "hefei",
        "hong",
        "kong",
        "taiwan",
        "taipei",
        "china",
        "chinese",
        "hk",
    ]
)


def registrant_key(name: str) -> str:
    """The distinctive part of a registrant's name, or "" when nothing distinctive is left."""
    words = [w for w in fold(name).split() if w not in REGISTRANT_NOISE and not w.isdigit()]
    key = "".join(words)
    return key if len(key) >= 4 else ""

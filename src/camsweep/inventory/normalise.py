"""Vectorised normalisers for register columns.

Each takes a column of stripped strings (null = blank) and returns the normalised column and
a mask of cells that are present but invalid; callers turn the mask into row errors.
Pure functions over Polars series, so the same code serves 30 rows and 1,000,000.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date

import polars as pl

from camsweep.domain import DeviceType

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
MIN_YEAR = 1970


def text(col: pl.Series, max_len: int) -> tuple[pl.Series, pl.Series]:
    """Collapse inner whitespace; a cell over `max_len` characters is invalid."""
    messy = col.str.contains(r"\s\s|[^\S ]").any()  # a cheap scan saves a costly rewrite
    out = col.str.replace_all(r"\s+", " ") if messy else col
    return out, out.str.len_chars().fill_null(0) > max_len


def mac(col: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Any separator (: - . space) or none, any case -> aa:bb:cc:dd:ee:ff."""
    bare = col.str.to_lowercase().str.replace_all(r"[:\-.\s]", "")
    ok = bare.str.contains(r"^[0-9a-f]{12}$")
    parts = [bare.str.slice(i, 2) for i in range(0, 12, 2)]
    joined = pl.select(pl.concat_str(parts, separator=":")).to_series()
    out = pl.select(pl.when(ok).then(joined).otherwise(None)).to_series()
    return out.alias(col.name), col.is_not_null() & ~ok.fill_null(True)


def _ip_slow(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return None


def ip(col: pl.Series) -> tuple[pl.Series, pl.Series]:
    """IPv4 checked by pattern (no leading zeros, as `ipaddress` rules); IPv6 via `ipaddress`."""
    v4 = col.str.contains(_IPV4).fill_null(False)
    other = col.is_not_null() & ~v4
    out = col.clone()
    if other.any():
        fixed = col.filter(other).map_elements(_ip_slow, return_dtype=pl.String)
        out = out.scatter(other.arg_true(), fixed)
    return out, col.is_not_null() & out.is_null()


def _parts_to_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    s = pl.concat_str([y, m.str.zfill(2), d.str.zfill(2)], separator="-")
    return s.str.to_date("%Y-%m-%d", strict=False)


def uk_date(col: pl.Series, *, today: date | None = None) -> tuple[pl.Series, pl.Series]:
    """ISO yyyy-mm-dd (optionally with a time) or UK dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, dd/mm/yy.

    Never US month-first: a register kept in the UK that says 04/03/2021 means 4 March.
    """
    today = today or date.today()
    frame = pl.DataFrame({"v": col})
    iso = pl.col("v").str.extract_groups(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+)?$")
    uk = pl.col("v").str.extract_groups(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})$")
    uk_year = uk.struct.field("3")
    uk_year = pl.when(uk_year.str.len_chars() == 2).then("20" + uk_year).otherwise(uk_year)
    parsed = frame.select(
        pl.coalesce(
            _parts_to_date(iso.struct.field("1"), iso.struct.field("2"), iso.struct.field("3")),
            _parts_to_date(uk_year, uk.struct.field("2"), uk.struct.field("1")),
        ).alias("d")
    ).to_series()
    plausible = (parsed.dt.year() >= MIN_YEAR) & (parsed <= pl.lit(today))
    out = pl.select(pl.when(plausible).then(parsed).otherwise(None)).to_series()
    return out.alias(col.name), col.is_not_null() & out.is_null()


# Order matters: the first rule whose word occurs wins ("door station camera" is an intercom).
_TYPE_RULES: tuple[tuple[DeviceType, tuple[str, ...]], ...] = (
    (DeviceType.intercom, ("intercom", "door station", "doorstation", "door entry", "doorbell",
                           "door bell", "indoor station", "indoor monitor", "video door", "vto",
                           "vth", "villa station", "entry panel")),
    (DeviceType.access_control, ("access control", "access_control", "access", "card reader",
                                 "reader", "turnstile", "face terminal", "fingerprint",
                                 "door controller", "acs")),
    (DeviceType.dvr, ("dvr", "xvr", "hcvr", "tribrid", "digital video recorder", "hdcvi recorder",
                      "analogue recorder", "analog recorder")),
    (DeviceType.nvr, ("nvr", "network video recorder", "video recorder", "recorder", "vms server",
                      "storage server")),
    (DeviceType.encoder, ("encoder", "video server", "dvs", "decoder")),
    (DeviceType.camera, ("camera", "cam", "ipc", "dome", "bullet", "ptz", "turret", "fisheye",
                         "fish-eye", "cctv", "thermal", "anpr", "lpr", "eyeball", "box", "pinhole",
                         "panoramic", "speed dome", "multisensor", "multi-sensor")),
)
_WORD_CACHE: dict[str, re.Pattern[str]] = {}


def device_type_of(value: str) -> DeviceType:
    """Free text -> one of the seven types; anything unrecognised is `other`, not an error."""
    low = value.lower().replace("_", " ")
    for dtype in DeviceType:
        if low == dtype.value.replace("_", " "):
            return dtype
    for dtype, words in _TYPE_RULES:
        for word in words:
            pat = _WORD_CACHE.get(word)
            if pat is None:
                pat = _WORD_CACHE[word] = re.compile(rf"(?<![a-z]){re.escape(word)}")
            if pat.search(low):
                return dtype
    return DeviceType.other


def device_type(col: pl.Series) -> tuple[pl.Series, pl.Series]:
    uniques = col.drop_nulls().unique().to_list()
    table = {u: device_type_of(u).value for u in uniques}
    out = col.replace_strict(table, default=None, return_dtype=pl.String)
    return out, pl.Series([False] * len(col), dtype=pl.Boolean)


def sensitivity(col: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Lower-case slug; policies may define classes beyond sensitive/standard (e.g. `cni`)."""
    out = col.str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
    ok = out.str.contains(r"^[a-z][a-z0-9_]{0,39}$")
    return out, col.is_not_null() & ~ok.fill_null(True)


def postcode(col: pl.Series) -> tuple[pl.Series, pl.Series]:
    out = col.str.to_uppercase().str.replace_all(r"\s+", " ")
    return out, out.str.len_chars().fill_null(0) > 20

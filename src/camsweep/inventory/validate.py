"""Per-field rules for sites and assets: normalise every column, collect every row error."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from camsweep.errors import RowError
from camsweep.inventory import normalise

Normaliser = Callable[[pl.Series], tuple[pl.Series, pl.Series]]

_LIMITS = {"site_id": 100, "asset_id": 100, "name": 300, "department": 200, "region": 100,
           "brand": 300, "model": 300, "serial": 200, "firmware": 200}

_RULES: dict[str, tuple[Normaliser, str]] = {
    "mac": (normalise.mac, "not a MAC address (expected 12 hex digits, e.g. 44:19:b6:12:34:56)"),
    "ip": (normalise.ip, "not an IP address (e.g. 192.0.2.10 or 2001:db8::10)"),
    "install_date": (normalise.uk_date, "not a date: use dd/mm/yyyy or yyyy-mm-dd, "
                                        f"between {normalise.MIN_YEAR} and today"),
    "device_type": (normalise.device_type, "unknown device type"),
    "sensitivity": (normalise.sensitivity, "not a sensitivity class (e.g. sensitive, standard)"),
    "postcode": (normalise.postcode, "postcode longer than 20 characters"),
}


def _rule(field: str) -> tuple[Normaliser, str]:
    if field in _RULES:
        return _RULES[field]
    limit = _LIMITS.get(field, 300)

    def norm(col: pl.Series) -> tuple[pl.Series, pl.Series]:
        return normalise.text(col, limit)

    return norm, f"longer than {limit} characters"


def _by_unique(norm: Normaliser, col: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Registers repeat themselves (brands, models, dates): normalise each distinct value once."""
    if len(col) < 10_000:
        return norm(col)
    uniques = col.unique()
    if len(uniques) > len(col) // 4:
        return norm(col)
    value, bad = norm(uniques)
    lookup = pl.DataFrame({"k": uniques, "v": value, "b": bad})
    joined = pl.DataFrame({"k": col}).join(lookup, on="k", how="left", nulls_equal=True,
                                           maintain_order="left")
    return joined["v"].alias(col.name), joined["b"].fill_null(False)


def _show(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def normalise_frame(path: str, frame: pl.DataFrame, fields: list[str], required: tuple[str, ...],
                    key: str) -> tuple[pl.DataFrame, list[RowError]]:
    """`frame` has the mapped fields as string columns and `_row`; returns normalised + errors."""
    errors: list[RowError] = []
    rows = frame["_row"]
    out: dict[str, pl.Series] = {"_row": rows}
    for field in fields:
        col = frame[field]
        norm, reason = _rule(field)
        value, bad = _by_unique(norm, col)
        out[field] = value.alias(field)
        if bad.any():
            for r, v in zip(rows.filter(bad).to_list(), col.filter(bad).to_list(), strict=True):
                errors.append(RowError(path, r, field, f"{_show(v)} is {reason}"
                                       if not reason.startswith(("not", "unknown"))
                                       else f"{_show(v)}: {reason}"))
        if field in required:
            for r in rows.filter(col.is_null()).to_list():
                errors.append(RowError(path, r, field, f"{field} is required but blank"))
    result = pl.DataFrame(out)
    dup = result.filter(pl.col(key).is_not_null() & pl.col(key).is_duplicated())
    if dup.height:
        first = dup.group_by(key).agg(pl.col("_row").min().alias("first"))
        later = dup.join(first, on=key).filter(pl.col("_row") != pl.col("first"))
        for r, k, f in later.select("_row", key, "first").iter_rows():
            errors.append(RowError(path, r, key, f"duplicate {key} {_show(k)} (first at row {f})"))
    return result, errors

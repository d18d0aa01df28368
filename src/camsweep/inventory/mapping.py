"""Header mapping: the many ways registers name a column, onto canonical fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from camsweep.errors import InputError, RowError

SITE_FIELDS = ("site_id", "name", "department", "region", "sensitivity", "postcode")
ASSET_FIELDS = ("asset_id", "site_id", "device_type", "brand", "model", "serial", "mac", "ip",
                "firmware", "install_date")
REQUIRED = {
    "sites": ("site_id", "name", "department", "region", "sensitivity"),
    "assets": ("asset_id", "site_id"),
}
FIELDS = {"sites": SITE_FIELDS, "assets": ASSET_FIELDS}

# Keys are headers after `_key` (lower case, letters and digits only).
_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "sites": {
        "site_id": ("siteid", "sitecode", "siteref", "sitereference", "locationcode",
                    "locationid", "buildingcode", "buildingid", "propertyref", "site"),
        "name": ("name", "sitename", "locationname", "buildingname", "property", "propertyname",
                 "location", "building"),
        "department": ("department", "dept", "organisation", "organization", "org",
                       "owningdepartment", "ministry", "agency", "body"),
        "region": ("region", "area", "estateregion", "zone"),
        "sensitivity": ("sensitivity", "sensitivityclass", "classification", "siteclass",
                        "securityclass", "category", "sitecategory", "sensitive"),
        "postcode": ("postcode", "postalcode", "zip", "zipcode", "post code"),
    },
    "assets": {
        "asset_id": ("assetid", "assettag", "assetno", "assetnumber", "assetref", "tag",
                     "tagno", "equipmentid", "deviceid", "id", "ref", "asset"),
        "site_id": ("siteid", "sitecode", "siteref", "location", "locationcode", "locationid",
                    "site", "buildingcode", "building"),
        "device_type": ("devicetype", "type", "equipmenttype", "assettype", "category",
                        "devicecategory", "kind", "equipment", "description"),
        "brand": ("brand", "make", "manufacturer", "mfr", "vendor", "brandname", "maker",
                  "manufacturername"),
        "model": ("model", "modelno", "modelnumber", "modelname", "partno", "partnumber",
                  "productcode", "product"),
        "serial": ("serial", "serialno", "serialnumber", "sn", "sno", "serialnum"),
        "mac": ("mac", "macaddress", "macaddr", "hardwareaddr", "hardwareaddress", "hwaddr",
                "ethernetaddress", "physicaladdress"),
        "ip": ("ip", "ipaddress", "ipaddr", "ipv4", "ipv4address", "address", "hostip"),
        "firmware": ("firmware", "firmwareversion", "fw", "fwversion", "softwareversion",
                     "version"),
        "install_date": ("installdate", "installed", "dateinstalled", "installationdate",
                         "commissioned", "commissioningdate", "datecommissioned", "fitteddate"),
    },
}


def _key(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", header.lower())


@dataclass
class Mapping:
    """Column index -> canonical field, and what was left unmapped."""

    columns: dict[str, int] = field(default_factory=dict)  # field -> column index
    headers: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    def describe(self) -> list[tuple[str, str]]:
        by_index = {i: f for f, i in self.columns.items()}
        return [(h, by_index.get(i, "-")) for i, h in enumerate(self.headers)]


def parse_overrides(items: list[str], kind: str) -> dict[str, str]:
    """`--map "Cam Make=brand"` pairs, checked against the canonical fields."""
    out: dict[str, str] = {}
    for item in items:
        col, sep, fld = item.rpartition("=")
        col, fld = col.strip(), fld.strip()
        if not sep or not col or not fld:
            raise InputError(f"--map {item!r}: expected COLUMN=FIELD, e.g. 'Cam Make=brand'")
        if fld not in FIELDS[kind]:
            raise InputError(f"--map {item!r}: unknown field {fld!r}; {kind} fields are "
                             + ", ".join(FIELDS[kind]))
        out[col] = fld
    return out


def map_headers(path: str, headers: list[str], kind: str,
                overrides: dict[str, str] | None = None) -> Mapping:
    """Exact canonical names first, then overrides, then synonyms; clashes are errors."""
    overrides = overrides or {}
    errors: list[RowError] = []
    mapping = Mapping(headers=list(headers))
    synonyms = _SYNONYMS[kind]
    lookup: dict[str, str] = {}
    for fld in synonyms:
        lookup[_key(fld)] = fld
    for fld, keys in synonyms.items():
        for k in keys:
            lookup.setdefault(_key(k), fld)
    by_override = {_key(k): v for k, v in overrides.items()}
    seen_headers: dict[str, int] = {}
    for i, header in enumerate(headers):
        k = _key(header)
        if not header:
            continue
        if k in seen_headers:
            errors.append(RowError(path, 1, header, f"duplicate column header (also column "
                                                    f"{seen_headers[k] + 1})"))
            continue
        seen_headers[k] = i
    for col in overrides:
        if _key(col) not in seen_headers:
            errors.append(RowError(path, 1, col, "--map names a column the file does not have; "
                                                 f"columns: {', '.join(h for h in headers if h)}"))
    assigned: dict[str, int] = {}
    # Two passes so an exact or overridden name wins over a synonym of another column.
    for exact_pass in (True, False):
        for k, i in seen_headers.items():
            if i in assigned.values():
                continue
            if k in by_override:
                fld = by_override[k]
            elif exact_pass:
                fld = next((f for f in FIELDS[kind] if _key(f) == k), "")
            else:
                fld = lookup.get(k, "")
            if not fld:
                continue
            if fld in assigned:
                if exact_pass or k in by_override:
                    errors.append(RowError(path, 1, headers[i], f"maps to {fld!r}, as does column "
                                           f"{headers[assigned[fld]]!r}; use --map to choose"))
                continue
            assigned[fld] = i
    mapping.columns = assigned
    mapping.unmapped = [headers[i] for k, i in seen_headers.items() if i not in assigned.values()]
    for fld in REQUIRED[kind]:
        if fld not in assigned:
            errors.append(RowError(path, 1, None, f"no column for required field {fld!r} "
                                   f"(headers: {', '.join(h for h in headers if h)}); "
                                   f"use --map 'COLUMN={fld}'"))
    if errors:
        raise InputError(f"{path}: cannot map the header row", errors)
    return mapping

"""Screening a bid: its supplier and subcontractors by name, its products by identification.

A bid file is JSON, CSV or XLSX:
- JSON: `{"supplier": "Name" | {"name", "country"}, "subcontractors": [...],
  "products": [{"brand", "model", "description"?, "quantity"?}]}`;
- CSV/XLSX: one row per line of the bid. With a `type` column, rows are `supplier`,
  `subcontractor` (name in `name`, optional `country`) or `product` (`brand`, `model`,
  `description`, `quantity`); without one every row is a product and the parties come from
  `--supplier` / `--subcontractor`. Header synonyms (Make, Manufacturer, Model No, Qty, ...)
  are understood.

Products go through `camsweep.identify` (true maker, white-label included), so the answer
reads: "supplier X is clean, but 40 of its 120 products are white-label Dahua".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camsweep.errors import InputError, RowError
from camsweep.screen.matcher import Query, Screener, ScreenResult

SYNONYMS: dict[str, tuple[str, ...]] = {
    "type": ("type", "row type", "line type", "kind", "role", "party type", "record"),
    "name": ("name", "company", "party", "supplier name", "organisation", "organization",
             "legal name", "bidder"),
    "country": ("country", "country code", "jurisdiction"),
    "brand": ("brand", "make", "manufacturer", "vendor", "brand name", "oem"),
    "model": ("model", "model number", "model no", "model_no", "model_number", "part number",
              "part no", "sku", "product code"),
    "description": ("description", "item", "product", "product description", "text", "notes"),
    "quantity": ("quantity", "qty", "units", "count", "number"),
}
SUPPLIER_WORDS = frozenset({"supplier", "bidder", "tenderer", "prime", "contractor", "main"})
SUBCONTRACTOR_WORDS = frozenset({"subcontractor", "sub-contractor", "sub contractor", "subcontract",
                                 "sub"})
PRODUCT_WORDS = frozenset({"product", "item", "line", "goods", ""})


@dataclass(frozen=True)
class BidParty:
    role: str  # supplier | subcontractor
    name: str
    country: str | None = None


@dataclass(frozen=True)
class BidProduct:
    row: int
    brand: str | None
    model: str | None
    description: str | None
    quantity: int


@dataclass
class Bid:
    source: str
    parties: list[BidParty] = field(default_factory=list)
    products: list[BidProduct] = field(default_factory=list)

    @property
    def supplier(self) -> BidParty | None:
        return next((p for p in self.parties if p.role == "supplier"), None)


@dataclass
class ProductResult:
    product: BidProduct
    manufacturer_id: str | None
    manufacturer: str | None
    brand: str | None
    oem_of: str | None
    restricted: bool | None
    confidence: float

    @property
    def white_label(self) -> bool:
        return self.oem_of is not None

    def as_dict(self) -> dict[str, Any]:
        p = self.product
        return {"row": p.row, "brand": p.brand, "model": p.model, "description": p.description,
                "quantity": p.quantity, "manufacturer_id": self.manufacturer_id,
                "manufacturer": self.manufacturer, "brand_as_sold": self.brand,
                "oem_of": self.oem_of, "white_label": self.white_label,
                "restricted": self.restricted, "confidence": round(self.confidence, 3)}


@dataclass
class BidReport:
    source: str
    parties: list[tuple[BidParty, ScreenResult]]
    products: list[ProductResult]
    kb_version: str | None
    headline: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return any(r.match for _, r in self.parties) or bool(self.summary.get("restricted_rows"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "headline": self.headline,
            "flagged": self.flagged,
            "parties": [{"role": p.role, "name": p.name, "country": p.country,
                         **r.as_contract()} for p, r in self.parties],
            "summary": self.summary,
            "products": [p.as_dict() for p in self.products],
            "kb_version": self.kb_version,
        }


def _fail(source: str, reason: str, row: int | None = None, column: str | None = None
          ) -> InputError:
    return InputError(f"{source}: {reason}", [RowError(source, row, column, reason)])


def _quantity(raw: Any, source: str, row: int) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 1
    try:
        value = float(str(raw).replace(",", "").strip())
    except ValueError as exc:
        raise _fail(source, f"quantity '{raw}' is not a number", row, "quantity") from exc
    if value < 0 or value != int(value):
        raise _fail(source, f"quantity '{raw}' must be a whole number >= 0", row, "quantity")
    return int(value)


def _party(raw: Any, role: str, source: str) -> BidParty:
    if isinstance(raw, str) and raw.strip():
        return BidParty(role, raw.strip())
    if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"].strip():
        country = raw.get("country")
        return BidParty(role, raw["name"].strip(), country if isinstance(country, str) else None)
    raise _fail(source, f"a {role} must be a name or {{\"name\": ..., \"country\": ...}}")


def read_bid(path: Path, supplier: str | None = None, subcontractors: Sequence[str] = (),
             country: str | None = None) -> Bid:
    source = str(path)
    bid = _read_json(path) if path.suffix.lower() == ".json" else _read_table(path)
    if supplier:
        bid.parties = [p for p in bid.parties if p.role != "supplier"]
        bid.parties.insert(0, BidParty("supplier", supplier.strip(), country))
    bid.parties.extend(BidParty("subcontractor", s.strip()) for s in subcontractors if s.strip())
    if not bid.parties and not bid.products:
        raise _fail(source, "the bid names no supplier, subcontractor or product")
    return bid


def _read_json(path: Path) -> Bid:
    source = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise _fail(source, f"cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise _fail(source, f"not valid JSON ({exc.msg}, line {exc.lineno})", exc.lineno) from exc
    if not isinstance(data, dict):
        raise _fail(source, "a JSON bid must be an object with supplier, subcontractors, products")
    bid = Bid(source)
    if data.get("supplier") is not None:
        bid.parties.append(_party(data["supplier"], "supplier", source))
    for sub in data.get("subcontractors") or []:
        bid.parties.append(_party(sub, "subcontractor", source))
    products = data.get("products") or []
    if not isinstance(products, list):
        raise _fail(source, "'products' must be a list")
    errors: list[RowError] = []
    for i, item in enumerate(products, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(source, i, None, "a product must be an object"))
            continue
        brand, model, desc = (item.get(k) for k in ("brand", "model", "description"))
        if not any(isinstance(v, str) and v.strip() for v in (brand, model, desc)):
            errors.append(RowError(source, i, None,
                                   "a product needs a brand, model or description"))
            continue
        try:
            qty = _quantity(item.get("quantity"), source, i)
        except InputError as exc:
            errors.extend(exc.errors)
            continue
        bid.products.append(BidProduct(i, _text(brand), _text(model), _text(desc), qty))
    if errors:
        raise InputError.of(source, errors)
    return bid


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _read_table(path: Path) -> Bid:
    from camsweep.inventory.readers import read_table

    table = read_table(path)
    source = str(path)
    # The frame's columns are positional (c0, c1, ...); headers are kept beside it.
    lowered = {h.strip().lower(): f"c{i}" for i, h in enumerate(table.headers) if h}
    header_of = {f"c{i}": h for i, h in enumerate(table.headers)}
    column: dict[str, str] = {}
    for canon, names in SYNONYMS.items():
        for name in names:
            if name in lowered:
                column[canon] = lowered[name]
                break
    if not ({"brand", "model", "description"} & set(column)) and "name" not in column:
        raise _fail(source, "no product columns (brand, model, description) and no name column; "
                    f"headers found: {', '.join(table.headers)}")
    bid = Bid(source)
    errors: list[RowError] = []
    rows = table.frame.to_dicts()
    for i, row in enumerate(rows):
        number = table.first_row + i

        def cell(canon: str, row: dict[str, Any] = row) -> str | None:
            col = column.get(canon)
            return _text(row.get(col)) if col else None

        kind = (cell("type") or "").lower()
        if kind in SUPPLIER_WORDS or kind in SUBCONTRACTOR_WORDS:
            party_name = cell("name")
            if not party_name:
                name_col = header_of.get(column.get("name", ""), "name")
                errors.append(RowError(source, number, name_col, f"a {kind} row needs a name"))
                continue
            role = "supplier" if kind in SUPPLIER_WORDS else "subcontractor"
            bid.parties.append(BidParty(role, party_name, cell("country")))
            continue
        if kind and kind not in PRODUCT_WORDS:
            errors.append(RowError(source, number, header_of.get(column.get("type", "")),
                                   f"row type '{kind}' is not supplier, subcontractor or product"))
            continue
        brand, model, desc = cell("brand"), cell("model"), cell("description")
        if not (brand or model or desc):
            if any(v not in (None, "") for v in row.values()):
                errors.append(RowError(source, number, None,
                                       "a product row needs a brand, model or description"))
            continue
        try:
            qty = _quantity(cell("quantity"), source, number)
        except InputError as exc:
            errors.extend(exc.errors)
            continue
        bid.products.append(BidProduct(number, brand, model, desc, qty))
    if errors:
        raise InputError.of(source, errors)
    return bid


def screen_bid(bid: Bid, screener: Screener, kb: Any | None = None) -> BidReport:
    """Parties through the matcher, products through identification; a one-line headline."""
    from camsweep.domain import Evidence
    from camsweep.identify import identify_many

    if kb is None:
        from camsweep.kb import load_kb

        kb = load_kb()
    parties = [(p, screener.screen_query(Query(p.role, p.name, p.country, "company")))
               for p in bid.parties]
    evidences = [Evidence(brand=p.brand, model=p.model, text=p.description) for p in bid.products]
    verdicts = identify_many(evidences, kb)
    products = [
        ProductResult(p, v.manufacturer_id, v.manufacturer, v.brand, v.oem_of, v.restricted,
                      v.confidence)
        for p, v in zip(bid.products, verdicts, strict=True)
    ]
    report = BidReport(bid.source, parties, products, getattr(kb, "version", None))
    report.summary = _summarise(products)
    report.headline = _headline(bid, parties, report.summary)
    return report


def _summarise(products: Sequence[ProductResult]) -> dict[str, Any]:
    rows = len(products)
    units = sum(p.product.quantity for p in products)
    restricted = [p for p in products if p.restricted]
    by_maker: Counter[str] = Counter()
    white: Counter[str] = Counter()
    units_by_maker: Counter[str] = Counter()
    for p in restricted:
        maker = p.manufacturer or p.manufacturer_id or "unknown maker"
        by_maker[maker] += 1
        units_by_maker[maker] += p.product.quantity
        if p.white_label:
            white[maker] += 1
    undetermined = sum(1 for p in products if p.restricted is None)
    return {
        "rows": rows,
        "units": units,
        "restricted_rows": len(restricted),
        "restricted_units": sum(p.product.quantity for p in restricted),
        "white_label_rows": sum(white.values()),
        "undetermined_rows": undetermined,
        "by_maker": [
            {"maker": m, "rows": n, "white_label_rows": white[m], "units": units_by_maker[m]}
            for m, n in by_maker.most_common()
        ],
    }


def _headline(bid: Bid, parties: Sequence[tuple[BidParty, ScreenResult]],
              summary: dict[str, Any]) -> str:
    bad: list[str] = []
    good: list[str] = []
    supplier = next(((p, r) for p, r in parties if p.role == "supplier"), None)
    if supplier is None:
        head = "no supplier named"
    else:
        p, r = supplier
        head = (f"supplier {p.name} matches {r.entity} ({r.relation}, {r.score:.2f})" if r.match
                else f"supplier {p.name} is clean")
    subs = [(p, r) for p, r in parties if p.role == "subcontractor"]
    for p, r in subs:
        if r.match:
            bad.append(f"subcontractor {p.name} matches {r.entity} ({r.relation})")
    clean_subs = sum(1 for _, r in subs if not r.match)
    if clean_subs:
        good.append(f"{clean_subs} subcontractor(s) clean")
    rows = summary["rows"]
    makers = summary["by_maker"]
    if rows and makers:
        labels = []
        for m in makers:
            if m["white_label_rows"] == m["rows"]:
                labels.append(f"white-label {m['maker']}")
            elif m["white_label_rows"]:
                labels.append(f"{m['maker']} ({m['white_label_rows']} of them white-label)")
            else:
                labels.append(m["maker"])
        lead = f"{summary['restricted_rows']} of its {rows} products are"
        if len(makers) == 1:
            bad.append(f"{lead} {labels[0]}")
        else:
            bad.append(f"{lead} from restricted makers: " + ", ".join(
                f"{m['rows']} {label}" for m, label in zip(makers, labels, strict=True)))
    elif rows:
        good.append(f"none of its {rows} products is from a restricted maker"
                    + (f" ({summary['undetermined_rows']} undetermined)"
                       if summary["undetermined_rows"] else ""))
    text = head
    if bad:
        text += (", but " if supplier is not None and not supplier[1].match else "; ") \
            + "; ".join(bad)
    if good:
        text += "; " + "; ".join(good)
    return text

"""Bulk identification over Polars frames: registers of a million rows in seconds.

A register repeats itself: the same brand spellings, model numbers, MAC prefixes and
firmware strings over and over. So rows are reduced to *evidence keys*, each key goes
through the same pure engine once, and the answers are joined back.

Each evidence cell is replaced by a representative of its *class*: two cells are in
one class when they yield the same findings up to the quoted value ("HIKVISION" and
"Hik Vision" name the same brand; two MAC prefixes of one registrant; two firmware
strings of one grammar). Model numbers stay distinct up to case and dash style, because
the normalised model is an output. The bulk output leaves out what only a quoted value
could change (the firmware echo; label, OUI and firmware values in the evidence
summary), so every output column equals what `identify()` gives for that row (a
property test checks it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from camsweep.domain import Evidence, Verdict
from camsweep.identify.engine import firmware_findings, label_findings, register_findings
from camsweep.identify.extractors.mac import oui_class
from camsweep.identify.findings import Finding
from camsweep.identify.fusion import Outcome, decide
from camsweep.kb import KnowledgeBase
from camsweep.kb.match import model_hits
from camsweep.kb.normalise import clean, model_form

TEXT_COLUMNS = ("brand", "model", "text")
FIRMWARE_COLUMN = "firmware"
MAC_COLUMN = "mac"
RESULT_COLUMNS = (
    "manufacturer_id",
    "manufacturer",
    "identified_brand",
    "oem_of",
    "identified_device_type",
    "identified_model",
    "restricted",
    "confidence",
    "conflicts",
    "evidence",
    "kb_version",
)
# Text results are categorical: a million rows share a few thousand distinct answers,
# so joins move 32-bit codes instead of strings.
RESULT_SCHEMA: dict[str, pl.DataType] = {
    "manufacturer_id": pl.Categorical(),
    "manufacturer": pl.Categorical(),
    "identified_brand": pl.Categorical(),
    "oem_of": pl.Categorical(),
    "identified_device_type": pl.Categorical(),
    "identified_model": pl.Categorical(),
    "restricted": pl.Boolean(),
    "confidence": pl.Float64(),
    "conflicts": pl.Categorical(),
    "evidence": pl.Categorical(),
}
_KEY = "__key_"
_COMBINED = "__key_combined"
EVIDENCE_SUMMARY = 4
# Claims quoted in the summary: model numbers only (everything else is a class member).
_QUOTED = ("model",)


def _mac_key_exprs(kb: KnowledgeBase, column: str, target: str) -> tuple[pl.Expr, pl.Expr]:
    """The engine's `oui_key()`, vectorised: hex digits, then 9 or 6 of them (two steps)."""
    digits = pl.col(column).cast(pl.String).str.replace_all("[^0-9A-Fa-f]", "").str.to_uppercase()
    hexes = pl.col(target)
    first6 = hexes.str.slice(0, 6)
    key = (
        pl.when(hexes.str.len_bytes() < 6)
        .then(pl.lit(None, dtype=pl.String))
        .when(first6.is_in(sorted(kb.oui_split)))
        .then(hexes.str.slice(0, 9))
        .otherwise(first6)
    )
    return digits.alias(target), key.alias(target)


def summarise(trail: Sequence[tuple[str, str, str | None, float]]) -> str:
    """A short evidence trail for one CSV cell: (signal, value, maker, weight), strongest first."""
    parts = []
    for signal, value, maker, weight in trail[:EVIDENCE_SUMMARY]:
        if maker is None:
            continue
        quoted = f":{value}" if signal in _QUOTED else ""
        parts.append(f"{signal}{quoted}->{maker}({round(weight, 3):.2f})")
    return " | ".join(parts)


def result_row(verdict: Verdict) -> tuple[object, ...]:
    """The bulk output columns of one verdict (kb_version is added per frame)."""
    return (
        verdict.manufacturer_id,
        verdict.manufacturer,
        verdict.brand,
        verdict.oem_of,
        verdict.device_type,
        verdict.model,
        verdict.restricted,
        verdict.confidence,
        "; ".join(verdict.conflicts) or None,
        summarise([(c.signal, c.value, c.points_to, c.weight) for c in verdict.evidence]) or None,
    )


def _outcome_row(outcome: Outcome) -> tuple[object, ...]:
    d = outcome.decision
    return (
        d.maker,
        d.manufacturer,
        d.brand,
        d.oem_of,
        outcome.device_type,
        outcome.model,
        d.restricted,
        d.confidence,
        "; ".join(d.conflicts) or None,
        summarise([(f.signal, f.value, f.maker, f.weight) for f in outcome.trail]) or None,
    )


def evidence_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in (*TEXT_COLUMNS, FIRMWARE_COLUMN, MAC_COLUMN) if c in frame.columns]


def _decision_class(found: tuple[Finding, ...]) -> tuple[object, ...]:
    return tuple((f.signal, f.family, f.maker, f.weight, f.brand, f.device_type) for f in found)


def _hits_class(kb: KnowledgeBase, text: str) -> tuple[object, ...]:
    return tuple((h.rule.id, h.model, h.device_type, h.series) for h in model_hits(kb, text))


def _text_classifier(kb: KnowledgeBase, column: str) -> Callable[[str | None], object]:
    """Class of a brand/model/text cell: its label findings and model hits."""
    signal = {"brand": "brand", "model": "brand_in_model", "text": "text"}[column]

    def classify(value: str | None) -> object:
        text = clean(value)
        if text is None:
            return None
        labels = _decision_class(label_findings(kb, signal, text))
        if column == "model":
            return (model_form(text), labels, _hits_class(kb, text))
        return (labels, _hits_class(kb, text))

    return classify


def _representatives(
    values: list[str | None], classify: Callable[[str | None], object]
) -> dict[str | None, str | None]:
    """Map each value to the first value of its class (same class, same decision)."""
    first: dict[object, str | None] = {}
    out: dict[str | None, str | None] = {}
    for value in values:
        cls = classify(value)
        out[value] = first.setdefault(cls, value)
    return out


def _firmware_class(kb: KnowledgeBase) -> Callable[[str | None], object]:
    def classify(value: str | None) -> object:
        text = clean(value)
        return _decision_class(firmware_findings(kb, "firmware", text)) if text else None

    return classify


def _cell_mappings(
    frame: pl.DataFrame, kb: KnowledgeBase, columns: list[str]
) -> dict[str, dict[str | None, str | None]]:
    """Representatives of every distinct brand, model, text and firmware cell."""
    out = {}
    for column in columns:
        if column == MAC_COLUMN:
            continue
        values = frame.get_column(column).cast(pl.String).unique().sort(nulls_last=True)
        classify = (
            _firmware_class(kb) if column == FIRMWARE_COLUMN else _text_classifier(kb, column)
        )
        out[column] = _representatives(values.to_list(), classify)
    return out


def _class_ids(
    values: pl.Series, mapping: dict[str | None, str | None], name: str
) -> tuple[pl.Series, list[str | None]]:
    """Each row's class as a small integer, and the representative value of each class."""
    representatives: list[str | None] = [None]
    index: dict[str | None, int] = {None: 0}
    for value in sorted({v for v in mapping.values() if v is not None}):
        index[value] = len(representatives)
        representatives.append(value)
    known = [k for k in mapping if k is not None]
    ids = values.replace_strict(
        known, [index[mapping[k]] for k in known], default=0, return_dtype=pl.UInt32
    )
    return ids.fill_null(0).alias(name), representatives


def identify_frame(frame: pl.DataFrame, kb: KnowledgeBase) -> pl.DataFrame:
    """The frame with verdict columns appended, row order kept.

    Each evidence column becomes a small integer class id per row (Polars maps the
    column's distinct values, which Python classifies once); the distinct tuples of
    ids (tens of thousands) each get one engine run; the answers join back on the ids.
    Cells are classified in a helper thread while Polars (which releases the GIL)
    computes MAC keys, so both cores are busy.
    """
    columns = evidence_columns(frame)
    cells: dict[str, pl.Series] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_cell_mappings, frame, kb, columns)
        if MAC_COLUMN in columns:
            target = f"{_KEY}{MAC_COLUMN}"
            digits, key = _mac_key_exprs(kb, MAC_COLUMN, target)
            cells[MAC_COLUMN] = frame.lazy().select(digits).select(key).collect().get_column(target)
        for column in columns:
            if column != MAC_COLUMN:
                cells[column] = frame.get_column(column).cast(pl.String)
        mappings = pending.result()
    if MAC_COLUMN in columns:
        macs = cells[MAC_COLUMN].unique().sort(nulls_last=True).to_list()
        mappings[MAC_COLUMN] = _representatives(macs, lambda k: oui_class(kb, k) if k else None)
    id_columns: list[pl.Series] = []
    representatives: dict[str, list[str | None]] = {}
    for column in columns:
        ids, reps = _class_ids(cells[column], mappings[column], f"{_KEY}{column}")
        id_columns.append(ids)
        representatives[column] = reps
    if not id_columns:
        id_columns.append(pl.Series(f"{_KEY}none", [0] * frame.height, dtype=pl.UInt32))
    # One 64-bit key per row (mixed radix over the class counts) when it fits, so the
    # dedupe and the join run on a single integer column.
    sizes = [len(representatives[c]) for c in columns] or [1]
    combined = pl.lit(0, dtype=pl.UInt64)
    if math.prod(sizes) < 2**63:
        for series, size in zip(id_columns, sizes, strict=True):
            combined = combined * size + pl.lit(series).cast(pl.UInt64)
        keyed = pl.DataFrame(id_columns).with_columns(combined.alias(_COMBINED))
        keys = [_COMBINED]
    else:
        keyed = pl.DataFrame(id_columns)
        keys = [s.name for s in id_columns]
    unique = keyed.unique(subset=keys)
    rows = []
    id_names = [s.name for s in id_columns]
    for row_ids in unique.select(id_names).iter_rows():
        value = {c: representatives[c][i] for c, i in zip(columns, row_ids, strict=False)}
        found, raw_model = register_findings(
            kb,
            value.get("brand"),
            value.get("model"),
            value.get("text"),
            value.get(FIRMWARE_COLUMN),
            value.get(MAC_COLUMN),
        )
        rows.append(_outcome_row(decide(found, kb, raw_model)))
    answers = pl.concat(
        [unique.select(keys), pl.DataFrame(rows, schema=RESULT_SCHEMA, orient="row")],
        how="horizontal",
    )
    clash = [c for c in RESULT_COLUMNS if c in frame.columns]
    base = (frame.drop(clash) if clash else frame).with_columns(keyed.select(keys))
    joined = base.join(answers, on=keys, how="left", maintain_order="left")
    return joined.drop(keys).with_columns(pl.lit(kb.version).alias("kb_version"))


def _evidence(values: dict[str, object]) -> Evidence:
    fields = {k: (v if isinstance(v, str) else None) for k, v in values.items()}
    return Evidence(**fields)


def frame_evidence(frame: pl.DataFrame) -> list[Evidence]:
    """Per-row Evidence exactly as the register gives it (for per-record runs and checks)."""
    columns = evidence_columns(frame)
    if not columns:
        return [Evidence() for _ in range(frame.height)]
    return [
        _evidence(dict(zip(columns, values, strict=False)))
        for values in frame.select([pl.col(c).cast(pl.String) for c in columns]).iter_rows()
    ]

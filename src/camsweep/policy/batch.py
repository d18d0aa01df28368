"""Many devices at once: the same decisions as `engine.evaluate`, column-wise.

For each policy, every device is reduced to its `PolicyKeyer` key (integer codes computed
as Polars expressions), the distinct keys are evaluated once with `engine.policy_outcome`
on a representative device, and the outcomes are joined back. What is per device (the
deadline counted from an install or record date, the priority points of site, type,
exposure and firmware) is then computed with Polars expressions from the same formulas.
A million devices reduce to a few thousand policy keys.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from camsweep.policy.engine import (
    LEVEL_NONE,
    STATUS_OF_LEVEL,
    AssessContext,
    FindingTemplate,
    PolicyKeyer,
    PolicyOutcome,
    maker_state,
    policy_outcome,
)
from camsweep.policy.facts import DeviceFacts, Profile
from camsweep.policy.vulns import VulnKey

FRAME_SCHEMA: dict[str, Any] = {
    "row": pl.Int64, "asset_id": pl.String, "site_id": pl.String, "department": pl.String,
    "region": pl.String, "sensitivity": pl.String, "organisation_type": pl.String,
    "device_type": pl.String, "manufacturer_id": pl.String, "oem_of": pl.String,
    "restricted": pl.Boolean, "confidence": pl.Float64, "brand": pl.String, "model": pl.String,
    "firmware": pl.String, "install_date": pl.Date, "recorded_date": pl.Date,
    "calls_home": pl.Boolean, "on_core_network": pl.Boolean, "internet_exposed": pl.Boolean,
    "bom": pl.String,
}
NULL_TEXT = "\x00"  # stands for null in replace() mappings
MAX_COMPOSITE = 1 << 62


def frame_of(facts: Sequence[DeviceFacts]) -> pl.DataFrame:
    """DeviceFacts as the frame `evaluate_frame` takes (rows numbered from 0)."""
    cols: dict[str, list[Any]] = {name: [] for name in FRAME_SCHEMA}
    for i, f in enumerate(facts):
        cols["row"].append(i)
        for name in FRAME_SCHEMA:
            if name != "row":
                cols[name].append(getattr(f, name))
    return pl.DataFrame(cols, schema=FRAME_SCHEMA)


@dataclass
class BatchResult:
    """`statuses` (row, status, vkey), `findings` (row, tid, mtext, deadline, priority,
    vulnerable, exposed) with `templates[tid]`, `notes` (row, note); a finding's reasons add
    `maker_text[mtext]` (what its maker means under the policy) and `vuln_text[vkey]`."""

    statuses: pl.DataFrame
    findings: pl.DataFrame
    templates: list[FindingTemplate]
    notes: pl.DataFrame
    vuln_text: list[tuple[str, ...]]
    maker_text: list[tuple[str, ...]]
    profiles: int


def _codes(df: pl.DataFrame, col: str) -> tuple[pl.Expr, list[Any]]:
    """A dense integer code for each distinct value of `col` (0 = null), and the values."""
    distinct = [v for v in df[col].unique().to_list() if v is not None]
    if not distinct:
        return pl.lit(0, pl.Int64), [None]
    return (pl.col(col).replace_strict(distinct, list(range(1, len(distinct) + 1)),
                                       return_dtype=pl.Int64).fill_null(0), [None, *distinct])


def _pack(exprs: Sequence[pl.Expr], radices: Sequence[int]) -> pl.Expr:
    """Mixed-radix packing of small codes into one integer (the first code is the top digit)."""
    comp = exprs[0]
    for r, e in zip(radices[1:], exprs[1:], strict=True):
        comp = comp * r + e
    return comp


def _unpack(code: int, radices: Sequence[int]) -> list[int]:
    digits = []
    for r in reversed(radices):
        code, digit = divmod(code, r)
        digits.append(digit)
    return digits[::-1]


def _vuln_keys(df: pl.DataFrame, ctx: AssessContext) -> tuple[pl.DataFrame, list[VulnKey]]:
    """A `vkey` per row: the index of its VulnKey (0 = nothing applies)."""
    keys: list[VulnKey] = [()]
    index: dict[VulnKey, int] = {(): 0}
    relevant = pl.col("manufacturer_id").is_in(sorted(ctx.vulns.makers)).fill_null(False)
    sub = df.filter(relevant).select("manufacturer_id", "device_type", "model", "firmware")
    if sub.is_empty():
        return df.with_columns(pl.lit(0, pl.Int32).alias("vkey")), keys
    exprs, values = zip(*(_codes(sub, c) for c in sub.columns), strict=True)
    radices = [len(v) for v in values]
    comp = _pack(exprs, radices)
    combos = sub.select(comp.alias("c")).unique()["c"].to_list()
    ids = []
    for code in combos:
        maker, dtype, model, fw = (vals[d] for vals, d in zip(values, _unpack(code, radices),
                                                               strict=True))
        key = ctx.vulns.match(maker, dtype, model, fw)
        if key not in index:
            index[key] = len(keys)
            keys.append(key)
        ids.append(index[key])
    sub_keys = sub.select(comp.replace_strict(combos, ids, return_dtype=pl.Int32))
    full = pl.Series("vkey", [0] * df.height, dtype=pl.Int32)
    full.scatter(df.select(pl.arg_where(relevant)).to_series(), sub_keys.to_series())
    return df.with_columns(full), keys


def _waiver_column(ctx: AssessContext) -> pl.Expr:
    parts = []
    for s in ctx.selectors:
        mask = pl.lit(False)
        for col, values in (("asset_id", s.asset_ids), ("site_id", s.site_ids),
                            ("department", s.departments), ("region", s.regions)):
            if values:
                mask = mask | pl.col(col).is_in(sorted(values)).fill_null(False)
        parts.append(pl.when(mask).then(pl.lit(s.key)))
    if not parts:
        return pl.lit("").alias("wkey")
    return pl.concat_list(parts).list.drop_nulls().list.join("|").alias("wkey")


GLOBAL_CODED = ("sensitivity", "organisation_type", "device_type", "bom", "wkey")


def _global_codes(df: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, list[Any]]]:
    """Small integer codes for the low-cardinality columns keys read (`g_<col>`), and the
    value each code stands for (code 0 = null)."""
    values: dict[str, list[Any]] = {}
    exprs = []
    for col in GLOBAL_CODED:
        distinct = [v for v in df[col].unique().to_list() if v is not None]
        values[col] = [None, *distinct]
        exprs.append(pl.col(col).replace_strict(distinct, list(range(1, len(distinct) + 1)),
                                                return_dtype=pl.Int32).fill_null(0)
                     .alias(f"g_{col}") if distinct else pl.lit(0, pl.Int32).alias(f"g_{col}"))
    return df.with_columns(exprs), values


def _mapped(values: dict[str, list[Any]], col: str, code: Any) -> tuple[pl.Expr, int]:
    """The global code of `col` replaced by `code(value)`, and the largest code it can take."""
    vals = values[col]
    codes = [code(v) for v in vals]
    return (pl.col(f"g_{col}").replace_strict(list(range(len(vals))), codes,
                                              return_dtype=pl.Int64), max(codes, default=0))


def _tri(col: str) -> pl.Expr:
    c = pl.col(col)
    return pl.when(c.is_null()).then(1).when(c).then(2).otherwise(3).cast(pl.Int64)


@dataclass
class _Groups:
    """Raw low-cardinality columns packed once per frame, so that each policy maps a few
    hundred packed values to its classes instead of re-coding every column."""

    site: list[tuple[Any, Any, Any]]  # g_site -> (sensitivity, organisation type, type)
    flags: list[tuple[bool | None, bool | None, bool | None, str | None]]  # g_flags -> flags,
    # worst firmware status
    inst: list[int | None]  # g_inst -> global install bucket
    extra: list[tuple[Any, Any]]  # g_extra -> (bom, waiver keys)
    codes: dict[str, list[int]]  # the distinct packed codes present, per group


TRI_VALUES: tuple[bool | None, ...] = (None, None, True, False)  # tri code -> value
WORST = ("affected", "check", "firmware_unknown")  # worst firmware status, coded 1..3
FLAG_RADICES = (4, 4, 4, 4)


def _groups(df: pl.DataFrame, values: dict[str, list[Any]]) -> tuple[pl.DataFrame, _Groups]:
    sot = [len(values[c]) for c in ("sensitivity", "organisation_type", "device_type")]
    bw = [len(values[c]) for c in ("bom", "wkey")]
    worst = pl.col("worst").replace_strict(list(WORST), list(range(1, len(WORST) + 1)),
                                           default=0, return_dtype=pl.Int64).fill_null(0)
    inst = pl.col("install_bucket")
    df = df.with_columns(
        _pack([pl.col("g_sensitivity").cast(pl.Int64), pl.col("g_organisation_type"),
               pl.col("g_device_type")], sot).alias("g_site"),
        _pack([_tri("calls_home"), _tri("internet_exposed"), _tri("on_core_network"),
               worst], FLAG_RADICES).alias("g_flags"),
        pl.when(inst.is_null()).then(0).otherwise(inst + 1).cast(pl.Int64).alias("g_inst"),
        _pack([pl.col("g_bom").cast(pl.Int64), pl.col("g_wkey")], bw).alias("g_extra"),
    )
    codes = {g: sorted(df[f"g_{g}"].unique().to_list()) for g in ("site", "flags", "inst",
                                                                 "extra")}
    max_inst = max(codes["inst"], default=0)
    site: list[tuple[Any, Any, Any]] = [(None, None, None)] * (max(codes["site"], default=0) + 1)
    for c in codes["site"]:
        a, b, t = _unpack(c, sot)
        site[c] = (values["sensitivity"][a], values["organisation_type"][b],
                   values["device_type"][t])
    flags: list[tuple[bool | None, bool | None, bool | None, str | None]] = [
        (None, None, None, None)] * (4 * 4 * 4 * 4)
    for c in codes["flags"]:
        ch, ie, core, vuln = _unpack(c, FLAG_RADICES)
        flags[c] = (TRI_VALUES[ch], TRI_VALUES[ie], TRI_VALUES[core],
                    WORST[vuln - 1] if vuln else None)
    extra: list[tuple[Any, Any]] = [(None, None)] * (max(codes["extra"], default=0) + 1)
    for c in codes["extra"]:
        b, w = _unpack(c, bw)
        extra[c] = (values["bom"][b], values["wkey"][w])
    return df, _Groups(site, flags, [None, *range(max_inst)], extra, codes)


def _lookup(col: str, codes: list[int], sub: Any) -> tuple[pl.Expr, int]:
    """`col` (a packed group code) replaced by `sub(code)`, and the largest value."""
    mapped = [sub(c) for c in codes]
    return (pl.col(col).replace_strict(codes, mapped, return_dtype=pl.Int64),
            max(mapped, default=0))


def _key_columns(g: _Groups, k: PolicyKeyer) -> list[tuple[pl.Expr, int]]:
    """The keyer's codes (packed per group) with their largest value: their concatenation
    in `PolicyKeyer.key` order is what the key holds."""
    # Codes are handed out lazily, so a radix must exceed any code the mapping can create.
    grown = max(len(k._codes[t]) for t in ("sens", "org", "type")) + len(g.codes["site"]) + 2
    sot = [grown] * 3
    wradix = len(k._codes["waivers"]) + len(g.codes["extra"]) + 2
    bradix = len(k._codes["bom"]) + len(g.codes["extra"]) + 2

    def site(c: int) -> int:
        sens, org, dtype = g.site[c]
        return int(_py_pack([k.sens_code(sens), k.org_code(org), k.type_code(dtype)], sot))

    def flags(c: int) -> int:
        calls, internet, core, worst = g.flags[c]
        parts = [PolicyKeyer.tri_code(calls) if k.uses_calls else k.NULL,
                 PolicyKeyer.tri_code(internet) if k.uses_internet else k.NULL,
                 PolicyKeyer.tri_code(core) if k.uses_core else k.NULL,
                 (2 if worst == "affected" else 1) if k.uses_vuln else k.NULL]
        return int(_py_pack(parts, [4, 4, 4, 3]))

    def extra(c: int) -> int:
        bom, wkey = g.extra[c]
        waivers = tuple(wkey.split("|")) if wkey else ()
        return int(_py_pack([k._code("bom", bom) if k.uses_bom else k.NULL,
                             k.waiver_code(waivers)], [bradix, wradix]))

    return [
        _lookup("g_site", g.codes["site"], site),
        _lookup("g_inst", g.codes["inst"], lambda c: k.install_code(g.inst[c])),
        _lookup("g_flags", g.codes["flags"], flags),
        _lookup("g_extra", g.codes["extra"], extra),
    ]


def _py_pack(digits: Sequence[int], radices: Sequence[int]) -> int:
    code = 0
    for d, r in zip(digits, radices, strict=True):
        code = code * r + d
    return code


def _profile(row: dict[str, Any], vkeys: list[VulnKey]) -> Profile:
    return Profile(
        manufacturer_id=row["manufacturer_id"], oem_of=row["oem_of"],
        restricted=row["restricted"], conf_bucket=row["conf_bucket"],
        device_type=row["device_type"], sensitivity=row["sensitivity"],
        organisation_type=row["organisation_type"], install_bucket=row["install_bucket"],
        calls_home=row["calls_home"], on_core_network=row["on_core_network"],
        internet_exposed=row["internet_exposed"], vulns=vkeys[row["vkey"]], bom=row["bom"],
        waivers=tuple(row["wkey"].split("|")) if row["wkey"] else (),
    )


def _points(k: PolicyKeyer, g: _Groups) -> pl.Expr:
    """`engine.device_points` for every row, with this policy's weights."""
    w = k.cp.weights
    vuln = {"affected": w.vulnerability.affected, "check": w.vulnerability.check,
            "firmware_unknown": w.vulnerability.firmware_unknown}

    def site(c: int) -> int:
        sens, _org, dtype = g.site[c]
        return w.sensitivity.get(sens or "", 0) + w.device_type.get(dtype or "", 0)

    def flags(c: int) -> int:
        calls, internet, core, worst = g.flags[c]
        return ((w.exposure.calls_home if calls else 0)
                + (w.exposure.internet_exposed if internet else 0)
                + (w.exposure.on_core_network if core else 0)
                + (vuln[worst] if worst else 0))

    return (_lookup("g_site", g.codes["site"], site)[0]
            + _lookup("g_flags", g.codes["flags"], flags)[0])


def _policy_pass(df: pl.DataFrame, groups: _Groups, k: PolicyKeyer,
                 ctx: AssessContext, vkeys: list[VulnKey], outcomes: list[PolicyOutcome]
                 ) -> pl.Series:
    """Evaluate one policy's distinct keys; return each row's outcome id."""
    maker_col = f"maker_{k.index}"
    cols = _key_columns(groups, k)
    radices = [r + 1 for _e, r in cols]
    product = len(k._codes["maker"]) + 1
    for r in radices:
        product *= r
    if product >= MAX_COMPOSITE:
        raise OverflowError(f"policy {k.cp.id}: too many classes to pack into one key")
    rest = _pack([pl.lit(0, pl.Int64), *(e for e, _top in cols)], [1, *radices])
    span = product // (len(k._codes["maker"]) + 1)
    maker = pl.col(maker_col)
    comp = maker * span + pl.when(maker.is_in(sorted(k.quiet))).then(0).otherwise(rest)
    composite = df.select(comp.alias("comp"))["comp"]
    firsts = composite.to_frame().with_row_index("_i").unique(subset="comp", keep="first",
                                                               maintain_order=True)
    reps = df.select(*FRAME_SCHEMA, "conf_bucket", "install_bucket", "vkey", "wkey")[
        firsts["_i"].to_list()]
    oids: list[int] = []
    for rep in reps.iter_rows(named=True):
        p = _profile(rep, vkeys)
        key = (k.index, k.key(p, ctx))
        outcome = ctx.outcomes.get(key)
        if outcome is None:
            outcome = ctx.outcomes[key] = policy_outcome(k.cp, p, ctx)
        oids.append(len(outcomes))
        outcomes.append(outcome)
    return composite.replace_strict(firsts["comp"], oids, return_dtype=pl.Int64).alias(
        f"oid_{k.index}")


def evaluate_frame(frame: pl.DataFrame, ctx: AssessContext,
                   stages: dict[str, float] | None = None) -> BatchResult:
    """Assess every row of `frame` (columns as FRAME_SCHEMA). `stages`, if given, receives
    the wall time of each stage (for benchmarks)."""
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        if stages is not None:
            stages[name] = stages.get(name, 0.0) + now - clock[0]
        clock[0] = now

    df = frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                       for c, t in FRAME_SCHEMA.items()])
    conf = pl.col("confidence")
    conf_bucket = (pl.sum_horizontal([(conf >= t).fill_null(False).cast(pl.Int32)
                                      for t in ctx.thresholds]) if ctx.thresholds else pl.lit(0))
    install = pl.col("install_date")
    bucket = (pl.sum_horizontal([(install >= pl.lit(bp)).cast(pl.Int32)
                                 for bp in ctx.breakpoints]) if ctx.breakpoints else pl.lit(0))
    df = df.with_columns(
        pl.col("organisation_type").fill_null(pl.lit(ctx.default_organisation_type, pl.String)),
        conf_bucket.cast(pl.Int32).alias("conf_bucket"),
        pl.when(install.is_null()).then(None).otherwise(bucket).cast(pl.Int32)
        .alias("install_bucket"),
        pl.when(pl.col("bom").is_in(sorted(ctx.boms))).then(pl.col("bom")).otherwise(None),
        _waiver_column(ctx),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_pos"),
    )
    lap("prepare columns")
    df, vkeys = _vuln_keys(df, ctx)
    lap("firmware vs KEV ranges")
    df, values = _global_codes(df)
    worst = [ctx.vulns.worst(key) for key in vkeys]
    df = df.with_columns(pl.col("vkey").replace_strict(
        list(range(len(vkeys))), worst, return_dtype=pl.String).alias("worst"))

    # Maker states per policy: a handful of (maker, OEM, flag, confidence class) combinations.
    maker_cols = ["manufacturer_id", "oem_of", "restricted", "conf_bucket"]
    exprs, mvalues = zip(*(_codes(df, c) for c in maker_cols), strict=True)
    radices = [len(v) for v in mvalues]
    df = df.with_columns(_pack(exprs, radices).alias("_mcomp"))
    combos = df["_mcomp"].unique().to_list()
    codes: dict[str, list[int]] = {f"{name}_{k.index}": [] for k in ctx.keyers
                                   for name in ("maker", "mtext")}
    # maker_<i> is needed for every row (keys); mtext_<i> only for rows with findings
    maker_text: list[tuple[str, ...]] = []
    text_id: dict[tuple[str, ...], int] = {}
    for code in combos:
        man, oem, restricted, conf_b = (vals[d] for vals, d in zip(mvalues,
                                                                   _unpack(code, radices),
                                                                   strict=True))
        stub = Profile(man, oem, restricted, conf_b or 0, None, None, None, None, None, None,
                       None, (), None, ())
        for k in ctx.keyers:
            codes[f"maker_{k.index}"].append(k.maker_code(stub, ctx))
            words = maker_state(k.cp, stub, ctx)[1]
            if words not in text_id:
                text_id[words] = len(maker_text)
                maker_text.append(words)
            codes[f"mtext_{k.index}"].append(text_id[words])
    df = df.with_columns(*(pl.col("_mcomp").replace_strict(combos, v, return_dtype=pl.Int64)
                           .alias(n) for n, v in codes.items() if n.startswith("maker_")))
    lap("codes and maker states")
    outcomes: list[PolicyOutcome] = []
    df, groups = _groups(df, values)
    df = df.with_columns(*(_policy_pass(df, groups, k, ctx, vkeys, outcomes)
                           for k in ctx.keyers),
                         *(_points(k, groups).alias(f"pts_{k.index}") for k in ctx.keyers))

    lap("policy keys and outcomes")
    levels = [o.level for o in outcomes]
    oid_range = list(range(len(outcomes)))
    level = pl.max_horizontal([pl.col(f"oid_{k.index}").replace_strict(
        oid_range, levels, return_dtype=pl.Int64) for k in ctx.keyers]) if ctx.keyers \
        else pl.lit(LEVEL_NONE)
    statuses = df.select("row", level.replace_strict(
        list(STATUS_OF_LEVEL), list(STATUS_OF_LEVEL.values()), return_dtype=pl.String)
        .alias("status"), "vkey")

    templates: list[FindingTemplate] = []
    tid_of: dict[FindingTemplate, int] = {}
    parts: list[pl.DataFrame] = []
    note_parts: list[pl.DataFrame] = []
    def tid_for(t: FindingTemplate) -> int:
        tid = tid_of.get(t)
        if tid is None:
            tid = tid_of[t] = len(templates)
            templates.append(t)
        return tid

    for k in ctx.keyers:
        present = sorted(df[f"oid_{k.index}"].unique().to_list())
        pairs = [(oid, tid_for(t)) for oid in present for t in outcomes[oid].findings]
        notes = [(oid, n) for oid in present for n in outcomes[oid].notes]
        view = df.select("row", "install_date", "recorded_date", "worst", "internet_exposed",
                         "_mcomp", pl.col(f"oid_{k.index}").alias("oid"),
                         pl.col(f"pts_{k.index}").alias("pts"))
        if pairs:
            pf = pl.DataFrame(pairs, schema={"oid": pl.Int64, "tid": pl.Int32}, orient="row")
            part = view.join(pf, on="oid", how="inner", maintain_order="left_right")
            parts.append(part.with_columns(pl.col("_mcomp").replace_strict(
                combos, codes[f"mtext_{k.index}"], return_dtype=pl.Int64).alias("mtext"))
                .drop("_mcomp"))
        if notes:
            nf = pl.DataFrame(notes, schema={"oid": pl.Int64, "note": pl.String}, orient="row")
            note_parts.append(view.join(nf, on="oid", how="inner",
                                        maintain_order="left_right").select("row", "note"))
    lap("statuses and findings")
    found = _deadlines_and_priorities(parts, templates, ctx)
    lap("deadlines and priorities")
    notes_frame = (pl.concat(note_parts) if note_parts
                   else pl.DataFrame(schema={"row": pl.Int64, "note": pl.String}))
    return BatchResult(
        statuses=statuses, findings=found, templates=templates, notes=notes_frame,
        vuln_text=[ctx.vuln_reasons(key) for key in vkeys], maker_text=maker_text,
        profiles=len(ctx.outcomes),
    )


def _deadlines_and_priorities(parts: list[pl.DataFrame], templates: list[FindingTemplate],
                              ctx: AssessContext) -> pl.DataFrame:
    """Each finding's deadline (the earliest term of its plan) and priority (priority-v1)."""
    schema = {"row": pl.Int64, "tid": pl.Int32, "mtext": pl.Int64, "deadline": pl.Date,
              "priority": pl.Int32, "vulnerable": pl.Boolean, "exposed": pl.Boolean}
    if not parts:
        return pl.DataFrame(schema=schema)
    found = pl.concat(parts)
    tids = list(range(len(templates)))
    tid = pl.col("tid")

    def per_template(values: list[Any], dtype: Any) -> pl.Expr:
        return tid.replace_strict(tids, pl.Series(values, dtype=dtype), return_dtype=dtype)

    terms: dict[Any, list[int]] = {}
    for i, t in enumerate(templates):
        for term in t.plan.terms:
            if term.event is not None:
                terms.setdefault(term, []).append(i)
    relative = []
    starts: dict[str, list[Any]] = {}
    for term, users in terms.items():
        col = "install_date" if term.event == "install" else "recorded_date"
        if col not in starts:
            starts[col] = [d for d in found[col].unique().to_list() if d is not None]
        dates = starts[col]
        if not dates:
            continue
        resolved = pl.Series([term.resolve(d, d) for d in dates], dtype=pl.Date)
        relative.append(pl.when(tid.is_in(users)).then(
            pl.col(col).replace_strict(pl.Series(dates, dtype=pl.Date), resolved, default=None,
                                       return_dtype=pl.Date)))
    deadline = pl.min_horizontal(per_template([t.plan.fixed for t in templates], pl.Date),
                                 *relative)
    found = found.with_columns(
        deadline.alias("deadline"),
        per_template([t.base for t in templates], pl.Int64).alias("base"),
        per_template([t.pct for t in templates], pl.Int64).alias("pct"),
        per_template([t.overdue for t in templates], pl.Int64).alias("overdue_pts"),
    )
    overdue = (pl.col("deadline") < pl.lit(ctx.as_of)).fill_null(False)
    score = (((pl.col("base") + pl.col("pts")) * pl.col("pct") + 50) // 100).clip(0, 100)
    bonus = (pl.col("overdue_pts") * pl.col("pct") + 50) // 100
    return found.select(
        "row", "tid", "mtext", "deadline",
        pl.when(overdue).then(pl.min_horizontal(score + bonus, pl.lit(100))).otherwise(score)
        .cast(pl.Int32).alias("priority"),
        (pl.col("worst") == "affected").fill_null(False).alias("vulnerable"),
        pl.col("internet_exposed").fill_null(False).alias("exposed"),
    )

"""Files an assessment writes: the design.md JSON and a findings CSV for spreadsheets."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from camsweep.assess.runner import AssessmentResult
from camsweep.errors import CamsweepError

CSV_COLUMNS = ("asset_id", "site_id", "department", "region", "sensitivity", "device_type",
               "manufacturer_id", "status", "policy", "policy_version", "rule", "action",
               "mandatory", "deadline", "priority", "reasons")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CamsweepError(f"cannot write {path}: {exc.strerror}") from exc


def write_json(result: AssessmentResult, path: Path, include_advisory: bool = False) -> None:
    _write(path, json.dumps(result.contract(include_advisory), indent=2, ensure_ascii=False)
           + "\n")


def findings_table(result: AssessmentResult, include_advisory: bool = False) -> pl.DataFrame:
    """One row per finding with the device's status; reasons joined with ' | '."""
    found = result.findings if include_advisory else result.findings.filter(pl.col("mandatory"))
    status = result.devices.select("row", "status")
    return found.join(status, on="row", how="left", maintain_order="left").with_columns(
        pl.col("reasons").list.join(" | ")).select(CSV_COLUMNS)


def write_csv(result: AssessmentResult, path: Path, include_advisory: bool = False) -> None:
    try:
        findings_table(result, include_advisory).write_csv(path)
    except OSError as exc:
        raise CamsweepError(f"cannot write {path}: {exc.strerror}") from exc

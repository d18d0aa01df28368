"""Accuracy on our own labelled corpus of public device answers, registry entries and documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from camsweep.domain import Evidence
from camsweep.identify import identify
from camsweep.kb import load_kb

CORPUS = Path(__file__).parents[1] / "data" / "identify" / "corpus.jsonl"


def _cases() -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


CASES = _cases()


def test_every_case_cites_a_source() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    assert all(c.get("source") for c in CASES)
    assert sum(1 for c in CASES if c.get("kind") in ("negative", "hard_negative")) >= 30


def test_corpus_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    kb = load_kb()
    maker_ok = restricted_ok = 0
    missed: list[str] = []
    false_alarms: list[str] = []
    wrong: list[str] = []
    for case in CASES:
        verdict = identify(Evidence.model_validate(case["evidence"]), kb)
        expected = case["expected"]
        maker_ok += verdict.manufacturer_id == expected["manufacturer_id"]
        restricted_ok += verdict.restricted == expected["restricted"]
        if expected["restricted"] is True and verdict.restricted is not True:
            missed.append(case["id"])
        if expected["restricted"] is not True and verdict.restricted is True:
            false_alarms.append(case["id"])
        if "oem_of" in expected and verdict.oem_of != expected["oem_of"]:
            wrong.append(f"{case['id']}: oem_of {verdict.oem_of} != {expected['oem_of']}")
    total = len(CASES)
    with capsys.disabled():
        print(
            f"\ncorpus: {total} cases; maker accuracy {maker_ok / total:.1%}; "
            f"restricted accuracy {restricted_ok / total:.1%}; missed {len(missed)}; "
            f"false alarms {len(false_alarms)}"
        )
    assert not missed, f"restricted devices missed: {missed}"
    assert not false_alarms, f"false alarms: {false_alarms}"
    assert not wrong, wrong
    assert maker_ok / total >= 0.95

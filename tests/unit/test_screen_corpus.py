"""Precision and recall of the screener on the labelled corpus (tests/data/screening).

A positive counts as found only when it matches AND links to an expected entity; a negative
must not match at all. Reported with -s; asserted: recall >= 0.98 at precision >= 0.98.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from camsweep.screen import Screener

CORPUS = Path(__file__).parents[1] / "data" / "screening" / "corpus.yaml"


def _cases() -> list[tuple[str, str, str | None, tuple[str, ...], str]]:
    data = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    out = []
    for polarity in ("positives", "negatives"):
        for group, items in data[polarity].items():
            for item in items:
                if isinstance(item, dict):
                    name, expect, source, country = (item["name"], item.get("expect"),
                                                     item["source"], item.get("country"))
                else:
                    name, expect, source = item
                    country = None
                ids: Any = expect if isinstance(expect, list) else [expect] if expect else []
                assert source, f"{name}: every case needs a source"
                out.append((f"{polarity}/{group}", str(name), country, tuple(ids), str(source)))
    return out


CASES = _cases()


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener.bundled()


def test_corpus_is_big_and_balanced() -> None:
    positives = [c for c in CASES if c[3]]
    negatives = [c for c in CASES if not c[3]]
    assert len(positives) >= 200
    assert len(negatives) >= 80
    assert len({c[1] for c in CASES}) == len(CASES), "duplicate names in the corpus"


def test_precision_and_recall(screener: Screener) -> None:
    tp = fp = fn = tn = 0
    misses: list[str] = []
    by_group: dict[str, list[int]] = {}
    for group, name, country, expected, _source in CASES:
        result = screener.screen(name, country=country)
        stats = by_group.setdefault(group, [0, 0])
        stats[1] += 1
        if expected:
            if result.match and result.entity_id in expected:
                tp += 1
                stats[0] += 1
            else:
                fn += 1
                if result.match:
                    fp += 1  # matched, but to the wrong entity: wrong on both counts
                misses.append(f"MISS {group}: {name!r} -> {result.entity_id} "
                              f"({result.score:.2f}) {result.explanation[:1]}")
        elif result.match:
            fp += 1
            misses.append(f"FALSE {group}: {name!r} -> {result.entity_id} ({result.score:.2f}) "
                          f"{result.explanation[:2]}")
        else:
            tn += 1
            stats[0] += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"\nscreening corpus: {len(CASES)} cases; precision {precision:.3f}, recall "
          f"{recall:.3f} (tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    for group, (ok, total) in sorted(by_group.items()):
        print(f"  {group:<36} {ok}/{total}")
    for line in misses:
        print("  " + line)
    assert recall >= 0.98, misses
    assert precision >= 0.98, misses

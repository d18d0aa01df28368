"""The knowledge base: sourced YAML facts about makers, brands, OUIs, models and fingerprints.

Load it with `load_kb()` (cached) and pass it to `camsweep.identify`; check it with
`validate_kb()`; rebuild the generated OUI table with `build_oui()`.
"""

from __future__ import annotations

from pathlib import Path

from camsweep.kb.loader import data_dir, load_from, load_kb
from camsweep.kb.model import KnowledgeBase, MakerInfo
from camsweep.kb.oui import GENERATED_NAME, build_table
from camsweep.kb.schema import OuiRegistrantsFile
from camsweep.kb.validate import ExampleFailure, validate_kb


def build_oui(root: Path | None = None) -> tuple[Path, int]:
    """Rewrite `generated/oui.tsv` from netaddr's IEEE registry; returns (path, rows)."""
    from camsweep.kb.loader import read_yaml

    folder = root or data_dir()
    rules = read_yaml(folder / "oui_registrants.yaml", OuiRegistrantsFile)
    text = build_table(rules)
    target = folder / GENERATED_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    load_kb.cache_clear()
    rows = sum(1 for line in text.splitlines() if line and not line.startswith(("#", "prefix\t")))
    return target, rows


__all__ = [
    "ExampleFailure",
    "KnowledgeBase",
    "MakerInfo",
    "build_oui",
    "data_dir",
    "load_from",
    "load_kb",
    "validate_kb",
]

"""The end-to-end demo on a bundled sample estate; each finished capability adds a step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from camsweep.inventory.importer import ImportResult, import_file
from camsweep.sample import write_sample
from camsweep.store import Store, open_store
from camsweep.store.queries import EstateSummary, estate_summary

DEMO_SEED = 2023
DEMO_SITES = 50
DEMO_DEVICES = 3000


@dataclass
class DemoResult:
    out_dir: Path
    db_url: str
    imports: list[ImportResult] = field(default_factory=list)
    summary: EstateSummary | None = None
    outputs: dict[str, Path] = field(default_factory=dict)


def run_demo(out_dir: Path, db_url: str | None = None, *,
             say: Callable[[str], None] = lambda _m: None) -> DemoResult:
    """Generate the sample estate, import it into a fresh store and summarise it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if db_url is None:
        db_file = out_dir / "camsweep.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"
    result = DemoResult(out_dir=out_dir, db_url=db_url)
    say(f"1. sample estate: {DEMO_SITES} sites, {DEMO_DEVICES} devices (seed {DEMO_SEED})")
    write_sample(out_dir, sites=DEMO_SITES, devices=DEMO_DEVICES, seed=DEMO_SEED, truth=True)
    for name in ("sites.csv", "assets.csv", "resources.yaml", "truth.csv"):
        result.outputs[name] = out_dir / name
    store: Store = open_store(db_url)
    try:
        say("2. import the site list and the asset register")
        result.imports.append(import_file(store, out_dir / "sites.csv", "sites"))
        result.imports.append(import_file(store, out_dir / "assets.csv", "assets"))
        result.summary = estate_summary(store)
    finally:
        store.dispose()
    return result

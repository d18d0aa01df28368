"""Draw the README's pictures from the sample estate: `docs/img/timeline.png`.

    .venv/bin/python scripts/readme_images.py [--out docs/img]

Runs the demo pipeline (sample estate, import, identify, assess, plan) in a temporary folder
and draws the stored plan's timeline exactly as the timeline report prints it, so the
picture in the README is what a user gets from `camsweep demo`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from camsweep.demo import run_demo
from camsweep.report import make_report
from camsweep.report.charts import chart_png
from camsweep.report.model import GanttChart
from camsweep.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def timeline_png(work: Path) -> bytes:
    result = run_demo(work, say=print)
    store = open_store(result.db_url)
    try:
        report = make_report(store, "timeline")
    finally:
        store.dispose()
    chart = next(b for b in report.blocks() if isinstance(b, GanttChart))
    return chart_png(chart)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="camsweep-readme-") as work:
        png = timeline_png(Path(work))
    target = args.out / "timeline.png"
    target.write_bytes(png)
    print(f"wrote {target} ({len(png):,} bytes)")


if __name__ == "__main__":
    main()

"""Static assets: the app's own CSS/JS, and Plotly's bundle from the installed package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

def _plotly_js() -> Path:
    """The bundle inside the installed plotly package (found without importing it)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the plotly package is not installed")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


PLOTLY_JS = _plotly_js()
LONG_CACHE = {"cache-control": "public, max-age=86400"}


def mount_static(app: FastAPI) -> None:
    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=LONG_CACHE)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

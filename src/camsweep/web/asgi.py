"""The ASGI entry point uvicorn imports (one app per worker process), configured from the
environment that `camsweep serve` sets: CAMSWEEP_DB and the CAMSWEEP_* web settings."""

from __future__ import annotations

from fastapi import FastAPI

from camsweep.config import load_settings
from camsweep.store import open_store
from camsweep.web.app import create_app
from camsweep.web.config import WebConfig


def app_from_env() -> FastAPI:
    store = open_store(load_settings().db)
    return create_app(store, WebConfig.from_env())

"""The application factory: one FastAPI app over one open store.

    app = create_app(open_store("sqlite:///camsweep.db"))

`camsweep serve` runs it under uvicorn. Nothing here reaches beyond the store and the local
disk: every script, style sheet and chart library is served by the app itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI

from camsweep import __version__
from camsweep.store import Store
from camsweep.web import errors
from camsweep.web.config import WebConfig
from camsweep.web.headers import SecurityHeaders
from camsweep.web.queries.dashboard import DashboardCache

HERE = Path(__file__).parent

API_DESCRIPTION = """The camsweep JSON API. Sign in with `POST /api/token` (OAuth2 password
form: `username`, `password`) or create a long-lived token with `camsweep user token create`;
then send `Authorization: Bearer TOKEN`. Every answer is scoped to what the caller may see:
another department's object is a 404, exactly as if it did not exist."""


def create_app(store: Store, config: WebConfig | None = None, *,
               extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The web application. `extra_routers` lets later features (reports) add pages."""
    from camsweep.web.api import routers as api_routers
    from camsweep.web.assets import mount_static
    from camsweep.web.pages import routers as page_routers
    from camsweep.web.render import make_templates

    cfg = config or WebConfig()
    app = FastAPI(title="camsweep", version=__version__, description=API_DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
                  swagger_ui_oauth2_redirect_url=None)
    app.state.store = store
    app.state.config = cfg
    app.state.templates = make_templates()
    app.state.dashboard_cache = DashboardCache(cfg.cache_seconds)
    app.state.screener = None
    errors.install(app)
    for router in (*api_routers(), *page_routers(), *extra_routers):
        app.include_router(router)
    mount_static(app)
    app.add_middleware(SecurityHeaders)
    return app

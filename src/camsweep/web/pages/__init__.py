"""Server-rendered pages."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from camsweep.web.pages import (
        account,
        admin,
        docs,
        estate,
        imports,
        login,
        reports,
        screening,
        work,
    )

    return [login.router, account.router, estate.router, work.router, imports.router,
            admin.router, screening.router, reports.router, docs.router]

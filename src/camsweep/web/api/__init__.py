"""JSON API routers (design.md "Accounts and API")."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from camsweep.web.api.accounts import router as accounts
    from camsweep.web.api.audit import router as audit
    from camsweep.web.api.estate import router as estate
    from camsweep.web.api.plan import router as plan
    from camsweep.web.api.screening import router as screening
    from camsweep.web.api.workorders import router as workorders

    return [accounts, estate, plan, workorders, screening, audit]

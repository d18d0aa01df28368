"""The stored removal plan, as the caller's department sees it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from camsweep.web.api.models import SECURED, ErrorOut
from camsweep.web.deps import ApiUser, get_store
from camsweep.web.queries.plan import plan_for

router = APIRouter(prefix="/api", tags=["plan"], responses=SECURED)


@router.get("/plan", responses={404: {"model": ErrorOut}})
def plan(request: Request, principal: ApiUser) -> dict[str, Any]:
    """The newest plan in plan.json shape (design.md), plus `id`, `created_at`, `start`,
    `horizon_weeks` and `resources`; only the caller's sites' rows. A department sees a
    summary of its own rows, not the organisation-wide one."""
    found = plan_for(get_store(request), principal)
    if found is None:
        raise HTTPException(404, "no plan is stored yet (`camsweep plan`)")
    return found

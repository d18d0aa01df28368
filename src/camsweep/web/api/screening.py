"""Supplier screening (any signed-in user: screening a name reveals no department's data)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from camsweep.web.api.models import SECURED, ScreenOut
from camsweep.web.api.params import Text
from camsweep.web.deps import ApiUser, get_store
from camsweep.web.screening import screener_for

router = APIRouter(prefix="/api", tags=["screening"], responses=SECURED)


@router.get("/screen", response_model=ScreenOut)
def screen(request: Request, principal: ApiUser,
           name: Annotated[Text, Query(min_length=1, max_length=500)],
           country: Annotated[Text | None, Query(min_length=2, max_length=2,
                                                 description="ISO 3166 alpha-2")] = None,
           kind: Annotated[Literal["company", "brand", "person"] | None, Query()] = None
           ) -> Any:
    """Screen a supplier name against the restricted-entity graph, with the reasons."""
    screener = screener_for(request.app.state, get_store(request))
    return screener.screen(name, country, kind).as_contract()

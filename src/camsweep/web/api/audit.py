"""The audit log's integrity check (central admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from camsweep.track.audit import head, verify_audit
from camsweep.web.api.models import SECURED, AuditVerifyOut
from camsweep.web.deps import api_cap, get_store
from camsweep.web.roles import Cap, Principal

router = APIRouter(prefix="/api", tags=["audit"], responses=SECURED)


@router.get("/audit/verify", response_model=AuditVerifyOut)
def verify(request: Request, principal: Annotated[Principal, Depends(api_cap(Cap.AUDIT))]
           ) -> AuditVerifyOut:
    """Recompute every hash and link of the audit chain."""
    store = get_store(request)
    problems = verify_audit(store)
    last = head(store)
    return AuditVerifyOut(ok=not problems, entries=last.seq if last else 0,
                          head=last.hash if last else None, problems=problems)

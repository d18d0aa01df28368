"""Work orders through the web: the tracking functions, with the web's access rules.

The tracking module decides what a move needs; this decides who may ask for it: anyone
who may record work, on work orders of sites they can see. Another department's work order
is not found, exactly as one that does not exist.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from fastapi import HTTPException, Request

from camsweep.errors import TransitionError
from camsweep.track.attachments import Attachment, EvidenceStore
from camsweep.track.workorders import (
    WorkOrderDetail,
    WorkOrderView,
    get_work_order,
    read_attachment,
    transition,
)
from camsweep.web.config import WebConfig
from camsweep.web.deps import get_config, get_store
from camsweep.web.queries.scope import site_pks
from camsweep.web.roles import Principal


def evidence_store(config: WebConfig) -> EvidenceStore:
    return EvidenceStore.configured(config.evidence_dir, config.max_evidence_bytes)


def visible_work_order(request: Request, principal: Principal, wo_id: int) -> WorkOrderDetail:
    store = get_store(request)
    found = get_work_order(store, wo_id, site_pks=site_pks(store, principal))
    if found is None:
        raise HTTPException(404, f"no work order {wo_id}")
    return found


def parse_day(text: str | None) -> date | None:
    """A form's YYYY-MM-DD, or None when blank; a refusal (not a crash) otherwise."""
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise TransitionError(f"'{text}' is not a date (YYYY-MM-DD)") from exc


def record(request: Request, principal: Principal, wo_id: int, to_state: str, *,
           note: str | None, attachment: Attachment | None, certificate_ref: str | None,
           disposal_method: str | None, happened: date | None = None) -> WorkOrderView:
    """Ask the tracking module for a move. A move recorded for an earlier day (a surveyor
    catching up) is placed at noon UTC of that day; today's is placed now."""
    visible_work_order(request, principal, wo_id)
    store = get_store(request)
    at = (datetime.combine(happened, time(12), tzinfo=UTC)
          if happened is not None and happened != datetime.now(UTC).date() else None)
    view = transition(store, principal.username, wo_id, to_state, note=note,
                      attachment=attachment, certificate_ref=certificate_ref,
                      disposal_method=disposal_method, at=at,
                      site_pks=site_pks(store, principal),
                      evidence=evidence_store(get_config(request)))
    request.app.state.dashboard_cache.clear()
    return view


def attachment_bytes(request: Request, principal: Principal, wo_id: int, sha256: str
                     ) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of one of this work order's attachments."""
    detail = visible_work_order(request, principal, wo_id)
    event = next((e for e in detail.events if e.attachment_sha256 == sha256.lower()), None)
    if event is None:
        raise HTTPException(404, "no such attachment on this work order")
    store = get_store(request)
    media_type, data = read_attachment(store, event.attachment_sha256 or "",
                                       site_pks=site_pks(store, principal),
                                       evidence=evidence_store(get_config(request)))
    return event.attachment_name or "attachment", media_type, data

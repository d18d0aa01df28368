"""Response models: the API's contract as OpenAPI publishes it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict


def _utc(value: datetime) -> datetime:
    """Stored times are naive UTC; the API says so (RFC 3339 needs an offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
T = TypeVar("T")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(Out, Generic[T]):
    """One page of a list: design.md's {"items", "total", "page"} (+ per_page, pages)."""

    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int


class TokenOut(Out):
    access_token: str
    token_type: str = "bearer"
    expires_at: UtcDateTime | None = None


class MeOut(Out):
    username: str
    role: str
    department: str | None
    procurement: bool
    capabilities: list[str]


class ClaimOut(Out):
    signal: str
    value: Any = None
    points_to: Any = None
    weight: float | None = None
    source: str | None = None


class DeviceDetailOut(Out):
    fields: dict[str, Any]
    site: dict[str, Any] | None
    status: str
    status_notes: list[Any]
    verdict: dict[str, Any] | None
    claims: list[ClaimOut]
    origins: list[dict[str, Any]]
    history: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    seen: dict[str, Any]


class WorkOrderOut(Out):
    id: int
    asset_id: str | None
    site_id: str | None
    region: str | None
    planned_week: date | None
    deadline: date | None
    state: str
    reason: str | None
    updated_at: UtcDateTime
    device_type: str | None = None
    policy: str | None = None
    removed_at: UtcDateTime | None = None


class WorkOrderEventOut(Out):
    kind: str
    at: UtcDateTime
    recorded_at: UtcDateTime
    actor: str
    from_state: str | None
    to_state: str
    note: str | None
    attachment_name: str | None
    attachment_type: str | None
    attachment_size: int | None
    attachment_sha256: str | None
    certificate_ref: str | None
    disposal_method: str | None


class WorkOrderDetailOut(WorkOrderOut):
    events: list[WorkOrderEventOut]
    next_states: list[str]
    brand: str | None = None
    model: str | None = None
    manufacturer_id: str | None = None


class GeneratedOut(Out):
    changed: int


class AuditVerifyOut(Out):
    ok: bool
    entries: int
    head: str | None
    problems: list[str]


class ScreenOut(Out):
    id: str | None = None
    match: bool
    entity_id: str | None
    entity: str | None
    relation: str | None
    score: float
    explanation: list[str]
    matched_id: str | None = None
    matched_name: str | None = None
    algorithm: str
    data_version: str | None = None


class ErrorOut(Out):
    detail: Any


# Every route behind a bearer token may answer these.
SECURED: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A body that cannot be parsed at all"},
    401: {"model": ErrorOut, "description": "No token, or an unknown, expired or revoked one"},
    403: {"model": ErrorOut, "description": "The caller's role may not do this"},
}

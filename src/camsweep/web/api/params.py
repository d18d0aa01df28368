"""Parameter types shared by API routes: bounded and NUL-free, so no input reaches the store
in a form it would choke on (PostgreSQL rejects NUL in text; SQLite, huge integers). The
limits are in the OpenAPI document, so clients see them before they send anything."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import StringConstraints

MAX_ID = 2**31 - 1
NO_NUL = r"^[^\x00]*$"

Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PerPage = Annotated[int, Query(ge=1, le=200, description="Rows per page (at most 200).")]
SiteKey = Annotated[str, Path(min_length=1, max_length=100, pattern=NO_NUL)]
AssetKey = Annotated[str, Path(min_length=1, max_length=100, pattern=NO_NUL)]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]

DeviceStatus = Literal["non_compliant", "needs_survey", "compliant", "exempt", "unassessed"]
WorkOrderState = Literal["identified", "scheduled", "removed", "disposed", "verified",
                         "cancelled"]

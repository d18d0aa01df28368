"""Tables. Ids: an integer surrogate `id` plus the external ids users know (site_id, asset_id).

Provenance is kept without a per-field column explosion: a row remembers the source that
created it, and `field_history` records every later change with the source that made it,
so the source of any field is the newest history row for it, else the creating source.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """One import or scan run: where a batch of facts came from."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # sites | assets | scan | nmap | ...
    name: Mapped[str] = mapped_column(Text)  # file path or scan label
    sha256: Mapped[str | None] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(300))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    region: Mapped[str] = mapped_column(String(100), index=True)
    sensitivity: Mapped[str] = mapped_column(String(40), index=True)
    postcode: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Device(Base):
    """One physical device, merged from registers and scans."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    site_pk: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    device_type: Mapped[str | None] = mapped_column(String(30))
    brand: Mapped[str | None] = mapped_column(String(300))
    model: Mapped[str | None] = mapped_column(String(300))
    serial: Mapped[str | None] = mapped_column(String(200))
    mac: Mapped[str | None] = mapped_column(String(17), index=True)
    ip: Mapped[str | None] = mapped_column(String(45), index=True)
    firmware: Mapped[str | None] = mapped_column(String(200))
    install_date: Mapped[date | None] = mapped_column(Date)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Current identification, denormalised from the newest verdict for fast filtering.
    manufacturer_id: Mapped[str | None] = mapped_column(String(60), index=True)
    restricted: Mapped[bool | None] = mapped_column(Boolean)
    confidence: Mapped[float | None] = mapped_column(Float)
    # Discovery (migration 0002): when a scan or passive source last saw the device, and when a
    # scan of its address last found it silent (cleared when it is seen again).
    first_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    not_seen_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_devices_serial", "serial"),)


class FieldHistory(Base):
    """Every change to a site or device field after creation, and who made it."""

    __tablename__ = "field_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # site | device
    entity_pk: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_field_history_entity", "entity", "entity_pk"),)


class Observation(Base):
    """Raw evidence as a source reported it (payload capped by the writer)."""

    __tablename__ = "observations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_pk: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    probe: Mapped[str | None] = mapped_column(String(40))
    observed_at: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(45), index=True)
    mac: Mapped[str | None] = mapped_column(String(17), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class Verdict(Base):
    """An identification result with its evidence and the KB version that produced it."""

    __tablename__ = "verdicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    manufacturer_id: Mapped[str | None] = mapped_column(String(60))
    brand: Mapped[str | None] = mapped_column(String(300))
    oem_of: Mapped[str | None] = mapped_column(String(60))
    device_type: Mapped[str | None] = mapped_column(String(30))
    model: Mapped[str | None] = mapped_column(String(300))
    restricted: Mapped[bool | None] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    kb_version: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ScanHost(Base):
    """One target host of one scan run (a `Source` of kind `scan`): what `--resume` skips."""

    __tablename__ = "scan_hosts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    ip: Mapped[str] = mapped_column(String(45))
    state: Mapped[str] = mapped_column(String(12))  # pending | done
    answers: Mapped[int] = mapped_column(Integer, default=0)
    device_pk: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("source_id", "ip"),)


class AssessmentRun(Base):
    """One `assess` run: which policies (id, version, file hash), KB version, date, parameters."""

    __tablename__ = "assessment_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    as_of: Mapped[date] = mapped_column(Date)
    kb_version: Mapped[str | None] = mapped_column(String(80))
    policies: Mapped[list[Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    devices: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    status_counts: Mapped[dict[str, Any]] = mapped_column(JSON)


class Finding(Base):
    """What one policy rule requires of one device; open until a later run no longer finds it.

    A finding keeps its row while it stays the same: `last_run_id` moves on, `changed_run_id`
    and `previous` record the last change of deadline, priority, policy version or reasons.
    """

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    site_pk: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    asset_id: Mapped[str | None] = mapped_column(String(100))
    policy_id: Mapped[str] = mapped_column(String(60))
    policy_version: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(30))
    mandatory: Mapped[bool] = mapped_column(Boolean)
    deadline: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer)
    vulnerable: Mapped[bool] = mapped_column(Boolean)
    exposed: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10))  # open | closed
    first_run_id: Mapped[int] = mapped_column(ForeignKey("assessment_runs.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("assessment_runs.id"))
    closed_run_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_runs.id"))
    changed_run_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_runs.id"))
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_findings_status_action", "status", "action"),
        Index("ix_findings_policy_status", "policy_id", "status"),
    )


class DeviceStatus(Base):
    """Each device's status in the newest assessment run that covered it."""

    __tablename__ = "device_status"
    device_pk: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assessment_runs.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    notes: Mapped[list[Any] | None] = mapped_column(JSON)


class Waiver(Base):
    """A waiver granted by a named authority, for listed assets, sites or departments."""

    __tablename__ = "waivers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    policy_id: Mapped[str | None] = mapped_column(String(60))
    rules: Mapped[list[Any] | None] = mapped_column(JSON)
    asset_ids: Mapped[list[Any]] = mapped_column(JSON)
    site_ids: Mapped[list[Any]] = mapped_column(JSON)
    departments: Mapped[list[Any]] = mapped_column(JSON)
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_on: Mapped[date | None] = mapped_column(Date)
    expires: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


# --- removal plans (migration 0005) ---------------------------------------------------


class PlanRun(Base):
    """One stored planning run: the plan.json document's header, its inputs and its public
    (redacted) timeline, so the web app, work orders and reports read the same plan."""

    __tablename__ = "plan_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    start: Mapped[date] = mapped_column(Date)
    horizon_weeks: Mapped[int] = mapped_column(Integer)
    feasible: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    solve_seconds: Mapped[float] = mapped_column(Float)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    shortfall: Mapped[list[Any]] = mapped_column(JSON)
    resources: Mapped[dict[str, Any]] = mapped_column(JSON)
    public: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PlanAssignment(Base):
    """One finding of a plan run: its week, or (week null) why it could not be scheduled."""

    __tablename__ = "plan_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_runs.id"), index=True)
    device_pk: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    site_pk: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    asset_id: Mapped[str | None] = mapped_column(String(100))
    site_id: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    week_start: Mapped[date | None] = mapped_column(Date)
    cost: Mapped[float | None] = mapped_column(Float)
    deadline: Mapped[date | None] = mapped_column(Date)
    policy: Mapped[str | None] = mapped_column(String(60))
    done: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)


# --- screening, cases, exclusions, audit (migration 0004) ------------------------------


class AuditLog(Base):
    """Append-only, hash-chained: each entry stores the previous entry's hash, and its own
    hash is sha256 over a canonical JSON of the entry. `prev_hash` is unique, so two
    writers can never fork the chain (the loser retries on the new head)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)


class ScreenImport(Base):
    """One `camsweep screen data import` run."""

    __tablename__ = "screen_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(10))  # extend | replace
    entities: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(DateTime)


class ScreenEntity(Base):
    """An imported FollowTheMoney entity, kept as its JSON."""

    __tablename__ = "screen_entities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(255), unique=True)
    schema: Mapped[str] = mapped_column(String(60))
    caption: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    import_id: Mapped[int] = mapped_column(ForeignKey("screen_imports.id"), index=True)


class Case(Base):
    """An investigation into a supplier, usually opened from a screening hit."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(500))
    subject_country: Mapped[str | None] = mapped_column(String(2))
    entity_id: Mapped[str | None] = mapped_column(String(255))
    entity: Mapped[str | None] = mapped_column(Text)
    relation: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | decided | closed
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    screening: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CaseEvidence(Base):
    """A document (stored by sha256 under the evidence folder), a screening result or a note."""

    __tablename__ = "case_evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # document | screening | note
    filename: Mapped[str | None] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    stored_path: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime)


class CaseDecision(Base):
    """exclude | do_not_exclude | monitor, with reasons, dates and who decided."""

    __tablename__ = "case_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_on: Mapped[date] = mapped_column(Date)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class Exclusion(Base):
    """The exclusion register: who is excluded, on which decision, for which period."""

    __tablename__ = "exclusions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("case_decisions.id"))
    supplier: Mapped[str] = mapped_column(String(500))
    supplier_country: Mapped[str | None] = mapped_column(String(2))
    entity_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    ended_by_decision_id: Mapped[int | None] = mapped_column(ForeignKey("case_decisions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


# --- accounts: users, API tokens, sessions, login throttling (migration 0006) -------------


class User(Base):
    """A local account. `department_id` is null only for central admins, who see everything;
    `procurement` is a capability on top of the role (screening cases), not a role itself."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    procurement: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    """A bearer token for automation: only its sha256 is kept, so a leaked table grants nothing."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A browser session, server-side so that logout, disabling or a password reset ends it."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginThrottle(Base):
    """Failed logins per key (`user:NAME` or `client:ADDRESS`) in the current window."""

    __tablename__ = "login_throttle"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


# The web dashboard's breakdowns (true maker x restricted, per site) read this index alone,
# in order: no table rows, no sort, even with hundreds of thousands of devices.
Index("ix_devices_site_maker", Device.site_pk, Device.manufacturer_id, Device.restricted)


# --- removal tracking: work orders and their events (migration 0007) ----------------------


class WorkOrder(Base):
    """One device's removal, from the plan to a verified absence (`camsweep.track.lifecycle`).

    One per device: re-planning moves its week, it never duplicates it. Site, region and
    asset id are read through the device, so a department's view follows the device's site.
    `removed_at` is when the removal happened (from its event), kept here for alerts.
    """

    __tablename__ = "work_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("devices.id"), unique=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan_runs.id"))
    state: Mapped[str] = mapped_column(String(20))
    planned_week: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    policy: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(Text)  # why unscheduled or cancelled
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_work_orders_state_week", "state", "planned_week"),)


class WorkOrderEvent(Base):
    """Everything that happened to a work order: created, re-planned, or a transition with
    who, when (`at`: when it happened; `recorded_at`: when it was entered), the note and the
    evidence. `audit_seq` is the audit-log entry that committed to it."""

    __tablename__ = "work_order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # created | replanned | transition
    at: Mapped[datetime] = mapped_column(DateTime)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    attachment_size: Mapped[int | None] = mapped_column(Integer)
    attachment_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    certificate_ref: Mapped[str | None] = mapped_column(String(200))
    disposal_method: Mapped[str | None] = mapped_column(String(30))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    audit_seq: Mapped[int | None] = mapped_column(Integer)

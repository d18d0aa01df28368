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

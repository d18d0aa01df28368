"""tracking: work orders and their events

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("planned_week", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("policy", sa.String(length=60), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["device_pk"], ["devices.id"],
                                name=op.f("fk_work_orders_device_pk_devices")),
        sa.ForeignKeyConstraint(["plan_id"], ["plan_runs.id"],
                                name=op.f("fk_work_orders_plan_id_plan_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("device_pk", name=op.f("uq_work_orders_device_pk")),
    )
    op.create_index("ix_work_orders_state_week", "work_orders", ["state", "planned_week"])
    op.create_table(
        "work_order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("attachment_name", sa.String(length=255), nullable=True),
        sa.Column("attachment_type", sa.String(length=100), nullable=True),
        sa.Column("attachment_size", sa.Integer(), nullable=True),
        sa.Column("attachment_sha256", sa.String(length=64), nullable=True),
        sa.Column("certificate_ref", sa.String(length=200), nullable=True),
        sa.Column("disposal_method", sa.String(length=30), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_orders.id"],
                                name=op.f("fk_work_order_events_work_order_id_work_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_events")),
    )
    op.create_index(op.f("ix_work_order_events_work_order_id"), "work_order_events",
                    ["work_order_id"])
    op.create_index(op.f("ix_work_order_events_attachment_sha256"), "work_order_events",
                    ["attachment_sha256"])


def downgrade() -> None:
    op.drop_table("work_order_events")
    op.drop_table("work_orders")

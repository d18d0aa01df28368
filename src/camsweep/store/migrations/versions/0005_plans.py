"""plans: stored planning runs and their assignments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("horizon_weeks", sa.Integer(), nullable=False),
        sa.Column("feasible", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("solve_seconds", sa.Float(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("shortfall", sa.JSON(), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("public", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_runs")),
    )
    op.create_index(op.f("ix_plan_runs_created_at"), "plan_runs", ["created_at"])
    op.create_table(
        "plan_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=True),
        sa.Column("site_pk", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.String(length=100), nullable=True),
        sa.Column("site_id", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("week_start", sa.Date(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("policy", sa.String(length=60), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plan_runs.id"],
                                name=op.f("fk_plan_assignments_plan_id_plan_runs")),
        sa.ForeignKeyConstraint(["device_pk"], ["devices.id"],
                                name=op.f("fk_plan_assignments_device_pk_devices")),
        sa.ForeignKeyConstraint(["site_pk"], ["sites.id"],
                                name=op.f("fk_plan_assignments_site_pk_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_assignments")),
    )
    op.create_index(op.f("ix_plan_assignments_plan_id"), "plan_assignments", ["plan_id"])
    op.create_index(op.f("ix_plan_assignments_device_pk"), "plan_assignments", ["device_pk"])
    op.create_index(op.f("ix_plan_assignments_site_pk"), "plan_assignments", ["site_pk"])


def downgrade() -> None:
    op.drop_table("plan_assignments")
    op.drop_table("plan_runs")

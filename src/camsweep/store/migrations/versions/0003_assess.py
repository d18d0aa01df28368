"""assess: assessment runs, findings, device statuses, waivers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("kb_version", sa.String(length=80), nullable=True),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("status_counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_runs")),
    )
    op.create_table(
        "waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("policy_id", sa.String(length=60), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=True),
        sa.Column("asset_ids", sa.JSON(), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=True),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waivers")),
        sa.UniqueConstraint("reference", name=op.f("uq_waivers_reference")),
    )
    op.create_table(
        "device_status",
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["devices.id"], name=op.f("fk_device_status_device_pk_devices")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["assessment_runs.id"],
            name=op.f("fk_device_status_run_id_assessment_runs"),
        ),
        sa.PrimaryKeyConstraint("device_pk", name=op.f("pk_device_status")),
    )
    with op.batch_alter_table("device_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_status_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_device_status_status"), ["status"], unique=False)

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("site_pk", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.String(length=100), nullable=True),
        sa.Column("policy_id", sa.String(length=60), nullable=False),
        sa.Column("policy_version", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("vulnerable", sa.Boolean(), nullable=False),
        sa.Column("exposed", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("closed_run_id", sa.Integer(), nullable=True),
        sa.Column("changed_run_id", sa.Integer(), nullable=True),
        sa.Column("previous", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_run_id"], ["assessment_runs.id"],
            name=op.f("fk_findings_changed_run_id_assessment_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_run_id"], ["assessment_runs.id"],
            name=op.f("fk_findings_closed_run_id_assessment_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["devices.id"], name=op.f("fk_findings_device_pk_devices")
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["assessment_runs.id"],
            name=op.f("fk_findings_first_run_id_assessment_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["assessment_runs.id"],
            name=op.f("fk_findings_last_run_id_assessment_runs"),
        ),
        sa.ForeignKeyConstraint(["site_pk"], ["sites.id"], name=op.f("fk_findings_site_pk_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_device_pk"), ["device_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_site_pk"), ["site_pk"], unique=False)
        batch_op.create_index("ix_findings_status_action", ["status", "action"], unique=False)
        batch_op.create_index("ix_findings_policy_status", ["policy_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_policy_status")
        batch_op.drop_index("ix_findings_status_action")
        batch_op.drop_index(batch_op.f("ix_findings_site_pk"))
        batch_op.drop_index(batch_op.f("ix_findings_device_pk"))

    op.drop_table("findings")
    with op.batch_alter_table("device_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_status_status"))
        batch_op.drop_index(batch_op.f("ix_device_status_run_id"))

    op.drop_table("device_status")
    op.drop_table("waivers")
    op.drop_table("assessment_runs")

"""discovery: device sighting times, serial index, scan host state for --resume

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_seen_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("not_seen_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_devices_serial", ["serial"], unique=False)

    op.create_table(
        "scan_hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["devices.id"], name=op.f("fk_scan_hosts_device_pk_devices")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_scan_hosts_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_hosts")),
        sa.UniqueConstraint("source_id", "ip", name=op.f("uq_scan_hosts_source_id")),
    )
    with op.batch_alter_table("scan_hosts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_hosts_source_id"), ["source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scan_hosts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_hosts_source_id"))

    op.drop_table("scan_hosts")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_serial")
        batch_op.drop_column("not_seen_at")
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("first_seen_at")

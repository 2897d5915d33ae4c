"""The ``schedules`` table: network-scheduling jobs and their plans.

Written by hand to match ``groundlink.adapters.db.models.ScheduleRow`` (a
test compares the migrated schema with the models on SQLite and PostgreSQL).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from groundlink.adapters.db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.String(40),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("api_key_id", sa.String(40), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("commit_result", sa.JSON(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _time("committed_at", nullable=True),
    )
    op.create_index("ix_schedules_tenant_id_created_at", "schedules", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_table("schedules")

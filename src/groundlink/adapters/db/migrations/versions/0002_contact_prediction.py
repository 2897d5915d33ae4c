"""Contacts gain ``prediction``: how the booked pass fits the spacecraft's newest ephemeris.

A nullable JSON column, written by ``groundlink.services.reprediction`` when
an uploaded ephemeris becomes the one in use: ``{"ephemeris_id",
"checked_at", "fit": "fits" | "shifted" | "lost", "predicted_aos",
"predicted_tca", "predicted_los"}`` (times ISO-8601 UTC with ``Z``, null when
the pass is lost). Existing contacts get null: not checked since booking.

Written by hand to match ``groundlink.adapters.db.models`` (a test compares
the migrated schema with the models on SQLite and PostgreSQL). Adding a
nullable column is a plain ``ALTER TABLE ... ADD COLUMN`` on both databases:
no table rewrite, no lock beyond the statement itself.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("prediction", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column by copying the table (render_as_batch in env.py): batch mode.
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("prediction")

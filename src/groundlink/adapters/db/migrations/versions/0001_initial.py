"""The first schema: tenants, keys, spacecraft, the network, profiles, contacts, audit, idempotency.

Written by hand to match ``groundlink.adapters.db.models`` (a test compares
the migrated schema with the models on SQLite and PostgreSQL). On PostgreSQL
it also adds what the models cannot say: the ``btree_gist`` extension and
the exclusion constraint that makes double booking impossible.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from groundlink.adapters.db.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Statuses in which a contact holds its antenna, frozen as of this revision.
ACTIVE_STATUSES = ("SCHEDULING", "SCHEDULED", "PREPASS", "PASS", "POSTPASS", "CANCELLING")

#: Name of the PostgreSQL constraint that forbids overlapping active contacts on an antenna.
NO_DOUBLE_BOOKING = "contacts_no_double_booking"


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(40), primary_key=True)


def _owner(name: str, table: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(
        name, sa.String(40), sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=nullable
    )


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _serial() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        _time("created_at"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "api_keys",
        _id(),
        _owner("tenant_id", "tenants"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        sa.UniqueConstraint("prefix"),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_table(
        "spacecraft",
        _id(),
        _owner("tenant_id", "tenants"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("norad_id", sa.Integer(), nullable=True),
        sa.Column("max_simultaneous_contacts", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
    )
    op.create_index("ix_spacecraft_tenant_id", "spacecraft", ["tenant_id"])
    op.create_table(
        "rf_links",
        _id(),
        _owner("spacecraft_id", "spacecraft"),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("center_frequency_hz", sa.BigInteger(), nullable=False),
        sa.Column("bandwidth_hz", sa.BigInteger(), nullable=False),
        sa.Column("polarization", sa.String(12), nullable=False),
        sa.Column("eirp_dbw", sa.Float(), nullable=True),
        sa.Column("data_rate_bps", sa.Float(), nullable=True),
    )
    op.create_index("ix_rf_links_spacecraft_id", "rf_links", ["spacecraft_id"])
    op.create_table(
        "ephemerides",
        _id(),
        _owner("spacecraft_id", "spacecraft"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_format", sa.String(8), nullable=False),
        sa.Column("omm", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _time("expires_at", nullable=True),
        _time("created_at"),
        sa.UniqueConstraint("spacecraft_id", "version"),
    )
    op.create_table(
        "ground_stations",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("latitude_deg", sa.Float(), nullable=False),
        sa.Column("longitude_deg", sa.Float(), nullable=False),
        sa.Column("altitude_m", sa.Float(), nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "antennas",
        _id(),
        _owner("station_id", "ground_stations"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("min_elevation_deg", sa.Float(), nullable=False),
        sa.Column("g_over_t_db_k", sa.Float(), nullable=True),
        sa.Column("bands", sa.JSON(), nullable=False),
        sa.Column("horizon_mask", sa.JSON(), nullable=True),
        sa.Column("max_slew_azimuth_deg_s", sa.Float(), nullable=False),
        sa.Column("max_slew_elevation_deg_s", sa.Float(), nullable=False),
        sa.Column("turnaround_s", sa.Float(), nullable=False),
        sa.UniqueConstraint("station_id", "name"),
    )
    op.create_table(
        "maintenance_windows",
        _id(),
        _owner("antenna_id", "antennas"),
        _time("start"),
        _time("end"),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_maintenance_windows_antenna_id_start", "maintenance_windows", ["antenna_id", "start"]
    )
    op.create_table(
        "mission_profiles",
        _id(),
        _owner("tenant_id", "tenants"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("min_elevation_deg", sa.Float(), nullable=False),
        sa.Column("min_viable_contact_duration_s", sa.Float(), nullable=False),
        sa.Column("prepass_s", sa.Integer(), nullable=False),
        sa.Column("postpass_s", sa.Integer(), nullable=False),
        sa.Column("tracking_config", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("dataflow_endpoint", sa.JSON(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.UniqueConstraint("tenant_id", "name"),
    )
    op.create_table(
        "contacts",
        _id(),
        _owner("tenant_id", "tenants"),
        _owner("spacecraft_id", "spacecraft"),
        _owner("antenna_id", "antennas"),
        sa.Column(
            "mission_profile_id",
            sa.String(40),
            sa.ForeignKey("mission_profiles.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("profile_snapshot", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        _time("aos"),
        _time("tca", nullable=True),
        _time("los"),
        _time("reserved_start"),
        _time("reserved_end"),
        _time("blocked_end"),
        sa.Column("max_elevation_deg", sa.Float(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_contacts_antenna_id_reserved_start", "contacts", ["antenna_id", "reserved_start"]
    )
    op.create_index("ix_contacts_spacecraft_id_aos", "contacts", ["spacecraft_id", "aos"])
    op.create_index("ix_contacts_tenant_id_aos_id", "contacts", ["tenant_id", "aos", "id"])
    op.create_table(
        "audit_log",
        _serial(),
        _time("at"),
        sa.Column("tenant_id", sa.String(40), nullable=True),
        sa.Column("api_key_id", sa.String(40), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_object_id", "audit_log", ["object_id"])
    op.create_table(
        "idempotency_keys",
        _serial(),
        _owner("tenant_id", "tenants"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_fingerprint", sa.String(64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        _time("created_at"),
        sa.UniqueConstraint("tenant_id", "key"),
    )

    if op.get_bind().dialect.name == "postgresql":
        statuses = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            f"ALTER TABLE contacts ADD CONSTRAINT {NO_DOUBLE_BOOKING} "
            "EXCLUDE USING gist (antenna_id WITH =, "
            "tstzrange(reserved_start, blocked_end, '[)') WITH &&) "
            f"WHERE (status IN ({statuses}))"
        )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "audit_log",
        "contacts",
        "mission_profiles",
        "maintenance_windows",
        "antennas",
        "ground_stations",
        "ephemerides",
        "rf_links",
        "spacecraft",
        "api_keys",
        "tenants",
    ):
        op.drop_table(table)

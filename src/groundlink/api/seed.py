"""The demo data ``groundlink up`` starts with: a network, a tenant, a fleet, a profile.

:func:`seed_demo` is idempotent: it creates what is missing and leaves
everything else as it is, so re-running ``groundlink up`` keeps the data
(and the bookings) of the last run. What it creates:

* the **demo network**: the 30 stations of ``groundlink/data/stations.csv``
  (:func:`~groundlink.stations.io.demo_stations`), each with its antenna,
  an S-band (2200-2300 MHz) and an X-band (8025-8400 MHz) downlink band and
  a G/T of :data:`DEMO_G_OVER_T_DB_K` (a typical 7 m X-band dish);
* the **demo tenant** ``demo`` with one API key holding every scope
  (``read``, ``book``, ``admin``). The key's plaintext exists only when the
  tenant is created: it is returned then, and never again;
* the demo fleet's nine **Earth-observation spacecraft** (``EO-*`` of
  :func:`~groundlink.orbits.ingest.demo_fleet`): name, NORAD id, an X-band
  downlink RF link and one ephemeris (the shipped TLE, as OMM);
* a **mission profile** ``default`` (5° minimum elevation, 2-minute minimum
  contact, 120 s pre-pass, 60 s post-pass, X-band downlink).

Objects are found again by name (stations, tenant, spacecraft, profile).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import (
    AntennaRow,
    Ephemeris,
    GroundStationRow,
    MissionProfile,
    RfLink,
    Spacecraft,
    Tenant,
)
from groundlink.api.auth import SCOPES, issue_key
from groundlink.orbits.ingest import demo_fleet
from groundlink.stations.io import demo_stations

#: The demo tenant's name.
DEMO_TENANT = "demo"
#: Name of the demo tenant's API keys.
DEMO_KEY_NAME = "demo"
#: The demo antennas' figure of merit, dB/K.
DEMO_G_OVER_T_DB_K = 31.0
#: The demo antennas' setup time between contacts, seconds.
DEMO_TURNAROUND_S = 60.0
#: The demo antennas' downlink bands.
DEMO_BANDS: tuple[dict[str, Any], ...] = (
    {"name": "S", "min_hz": 2_200_000_000, "max_hz": 2_300_000_000, "direction": "downlink"},
    {"name": "X", "min_hz": 8_025_000_000, "max_hz": 8_400_000_000, "direction": "downlink"},
)
#: The demo spacecraft's X-band downlink.
DEMO_DOWNLINK: dict[str, Any] = {
    "direction": "downlink",
    "center_frequency_hz": 8_212_500_000,
    "bandwidth_hz": 150_000_000,
    "polarization": "RIGHT_HAND",
    "eirp_dbw": 12.0,
    "data_rate_bps": 150e6,
}
#: The demo tenant's default mission profile (the stored columns).
DEMO_PROFILE: dict[str, Any] = {
    "name": "default",
    "min_elevation_deg": 5.0,
    "min_viable_contact_duration_s": 120.0,
    "prepass_s": 120,
    "postpass_s": 60,
    "tracking_config": {"autotrack": "PREFERRED"},
    "links": [{"direction": "downlink", "band_name": "X"}],
    "dataflow_endpoint": {"name": "demo-archive", "url": None},
}


@dataclass(frozen=True, slots=True)
class DemoTenant:
    """The demo tenant; ``api_key`` is its new key's plaintext, or None if it existed already."""

    tenant_id: str
    api_key: str | None


def seed_demo(session: Session, now: datetime) -> DemoTenant:
    """Create whatever of the demo data is missing, in one transaction; see the module.

    ``session`` must not be in a transaction. ``now`` (timezone-aware UTC)
    stamps what is created.
    """
    with write_transaction(session):
        _seed_network(session)
        tenant = session.scalars(select(Tenant).where(Tenant.name == DEMO_TENANT)).one_or_none()
        api_key = None
        if tenant is None:
            tenant = Tenant(name=DEMO_TENANT, created_at=now)
            session.add(tenant)
            session.flush()
            _row, api_key = issue_key(session, tenant.id, DEMO_KEY_NAME, SCOPES, now)
        _seed_fleet(session, tenant.id, now)
        _seed_profile(session, tenant.id, now)
        return DemoTenant(tenant.id, api_key)


def issue_demo_key(session: Session, now: datetime) -> str:
    """A new key (every scope) for the existing demo tenant; returns its plaintext.

    Older keys stay valid until revoked (``DELETE /v1/keys/{id}``).

    Raises:
        LookupError: there is no demo tenant (run :func:`seed_demo` first).
    """
    with write_transaction(session):
        tenant = session.scalars(select(Tenant).where(Tenant.name == DEMO_TENANT)).one_or_none()
        if tenant is None:
            raise LookupError("no demo tenant: run seed_demo first")
        _row, api_key = issue_key(session, tenant.id, DEMO_KEY_NAME, SCOPES, now)
        return api_key


def _seed_network(session: Session) -> None:
    existing = set(session.scalars(select(GroundStationRow.name)))
    for station in demo_stations():
        if station.name in existing:
            continue
        row = GroundStationRow(
            name=station.name,
            latitude_deg=station.latitude_deg,
            longitude_deg=station.longitude_deg,
            altitude_m=station.altitude_m,
        )
        session.add(row)
        session.flush()
        for antenna in station.antennas:
            mask = antenna.horizon_mask
            session.add(
                AntennaRow(
                    station_id=row.id,
                    name=antenna.id,
                    min_elevation_deg=antenna.min_elevation_deg,
                    g_over_t_db_k=DEMO_G_OVER_T_DB_K,
                    bands=[dict(band) for band in DEMO_BANDS],
                    horizon_mask=(
                        None
                        if mask is None
                        else {
                            "azimuth_deg": list(mask.azimuth_deg),
                            "elevation_deg": list(mask.elevation_deg),
                        }
                    ),
                    max_slew_azimuth_deg_s=antenna.max_slew_azimuth_deg_s,
                    max_slew_elevation_deg_s=antenna.max_slew_elevation_deg_s,
                    turnaround_s=DEMO_TURNAROUND_S,
                )
            )
    session.flush()


def _seed_fleet(session: Session, tenant_id: str, now: datetime) -> None:
    existing = set(
        session.scalars(select(Spacecraft.name).where(Spacecraft.tenant_id == tenant_id))
    )
    for elements in demo_fleet():
        if not elements.object_name.startswith("EO-") or elements.object_name in existing:
            continue
        craft = Spacecraft(
            tenant_id=tenant_id,
            name=elements.object_name,
            norad_id=elements.norad_cat_id,
            max_simultaneous_contacts=1,
            created_at=now,
            updated_at=now,
        )
        session.add(craft)
        session.flush()
        session.add(RfLink(spacecraft_id=craft.id, **DEMO_DOWNLINK))
        session.add(
            Ephemeris(
                spacecraft_id=craft.id,
                version=1,
                source_format="tle",
                omm=elements.to_omm(),
                priority=1,
                enabled=True,
                expires_at=None,
                created_at=now,
            )
        )
    session.flush()


def _seed_profile(session: Session, tenant_id: str, now: datetime) -> None:
    found = session.scalars(
        select(MissionProfile.id).where(
            MissionProfile.tenant_id == tenant_id, MissionProfile.name == DEMO_PROFILE["name"]
        )
    ).first()
    if found is None:
        session.add(
            MissionProfile(tenant_id=tenant_id, created_at=now, updated_at=now, **DEMO_PROFILE)
        )
        session.flush()


__all__ = ["DEMO_TENANT", "DemoTenant", "issue_demo_key", "seed_demo"]

"""The catalog as the core sees it: stations and antennas as domain objects, the ephemeris in use.

The available-contacts listing and the re-prediction of booked contacts both
turn database rows into :class:`~groundlink.stations.model.GroundStation` and
:class:`~groundlink.stations.model.Antenna` for the pass engine, and both
choose which of a spacecraft's ephemerides to predict with. They do it here,
once, so that a contact listed as available and the same contact checked
after a new upload are predicted from the same elements over the same
antenna.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from groundlink.adapters.db.models import AntennaRow, Ephemeris, GroundStationRow
from groundlink.stations.model import Antenna, FrequencyBand, GroundStation, HorizonMask


def ephemerides_in_use(
    session: Session, spacecraft_ids: Sequence[str], now: datetime
) -> dict[str, Ephemeris]:
    """Per spacecraft id, the ephemeris used to predict its passes at ``now``.

    AWS's rule: among the spacecraft's ephemerides that are enabled and
    unexpired (no ``expires_at``, or one after ``now``), the one of highest
    ``priority``, and of those the newest (highest ``version``). A
    spacecraft with none is absent from the result.
    """
    if not spacecraft_ids:
        return {}
    query = (
        select(Ephemeris)
        .where(
            Ephemeris.spacecraft_id.in_(list(spacecraft_ids)),
            Ephemeris.enabled.is_(True),
            or_(Ephemeris.expires_at.is_(None), Ephemeris.expires_at > now),
        )
        .order_by(Ephemeris.priority.desc(), Ephemeris.version.desc())
    )
    chosen: dict[str, Ephemeris] = {}
    for ephemeris in session.scalars(query):
        chosen.setdefault(ephemeris.spacecraft_id, ephemeris)
    return chosen


def antenna_from_row(row: AntennaRow) -> Antenna:
    """The stored antenna as the pass engine's :class:`Antenna` (its id is the row's id)."""
    mask = row.horizon_mask
    return Antenna(
        id=row.id,
        min_elevation_deg=row.min_elevation_deg,
        bands=tuple(FrequencyBand(**band) for band in row.bands),
        horizon_mask=(
            HorizonMask(tuple(mask["azimuth_deg"]), tuple(mask["elevation_deg"])) if mask else None
        ),
        max_slew_azimuth_deg_s=row.max_slew_azimuth_deg_s,
        max_slew_elevation_deg_s=row.max_slew_elevation_deg_s,
    )


def station_from_rows(row: GroundStationRow, antennas: Iterable[AntennaRow]) -> GroundStation:
    """The stored station with the given antennas of it, as a :class:`GroundStation`."""
    return GroundStation(
        id=row.id,
        name=row.name,
        latitude_deg=row.latitude_deg,
        longitude_deg=row.longitude_deg,
        altitude_m=row.altitude_m,
        antennas=tuple(antenna_from_row(antenna) for antenna in antennas),
    )


__all__ = ["antenna_from_row", "ephemerides_in_use", "station_from_rows"]

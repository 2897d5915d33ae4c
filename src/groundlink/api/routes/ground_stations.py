"""``/v1/ground-stations``: the shared network. Everyone reads it; only ``admin`` adds to it."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import AntennaRow, GroundStationRow
from groundlink.api.auth import Admin, NowDep, Reader, SessionDep
from groundlink.api.errors import ApiError
from groundlink.api.routes._common import audit
from groundlink.api.schemas import AntennaOut, BandIn, GroundStationCreate, GroundStationOut
from groundlink.errors import InvalidInput
from groundlink.services.errors import NotFound

router = APIRouter(prefix="/ground-stations", tags=["ground stations"])


def _antenna_out(row: AntennaRow) -> AntennaOut:
    return AntennaOut(
        id=row.id,
        name=row.name,
        min_elevation_deg=row.min_elevation_deg,
        g_over_t_db_k=row.g_over_t_db_k,
        bands=[BandIn(**band) for band in row.bands],
        max_slew_azimuth_deg_s=row.max_slew_azimuth_deg_s,
        max_slew_elevation_deg_s=row.max_slew_elevation_deg_s,
        turnaround_s=row.turnaround_s,
    )


def _out(row: GroundStationRow, antennas: list[AntennaRow]) -> GroundStationOut:
    return GroundStationOut(
        id=row.id,
        name=row.name,
        latitude_deg=row.latitude_deg,
        longitude_deg=row.longitude_deg,
        altitude_m=row.altitude_m,
        antennas=[_antenna_out(a) for a in antennas],
    )


def _antennas(session: Session, station_ids: list[str]) -> dict[str, list[AntennaRow]]:
    found: dict[str, list[AntennaRow]] = {station_id: [] for station_id in station_ids}
    if station_ids:
        query = (
            select(AntennaRow)
            .where(AntennaRow.station_id.in_(station_ids))
            .order_by(AntennaRow.name, AntennaRow.id)
        )
        for antenna in session.scalars(query):
            found[antenna.station_id].append(antenna)
    return found


@router.get("")
def list_ground_stations(_principal: Reader, session: SessionDep) -> list[GroundStationOut]:
    """Every station of the network with its antennas, by name."""
    with session.begin():
        rows = list(session.scalars(select(GroundStationRow).order_by(GroundStationRow.name)))
        antennas = _antennas(session, [row.id for row in rows])
        return [_out(row, antennas[row.id]) for row in rows]


@router.get("/{station_id}")
def get_ground_station(
    station_id: str, _principal: Reader, session: SessionDep
) -> GroundStationOut:
    """One station with its antennas."""
    with session.begin():
        row = session.get(GroundStationRow, station_id)
        if row is None:
            raise NotFound("ground_station", station_id)
        return _out(row, _antennas(session, [row.id])[row.id])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_ground_station(
    body: GroundStationCreate, principal: Admin, session: SessionDep, now: NowDep
) -> GroundStationOut:
    """Add a station and its antennas to the network (``admin`` scope)."""
    names = [antenna.name for antenna in body.antennas]
    if len(set(names)) != len(names):
        raise InvalidInput("antennas.name", names, "a different name for every antenna")
    for i, antenna in enumerate(body.antennas):
        for band in antenna.bands:
            if band.max_hz <= band.min_hz:
                raise InvalidInput(
                    f"antennas.{i}.bands.max_hz", band.max_hz, f"more than min_hz ({band.min_hz})"
                )
    try:
        with write_transaction(session):
            row = GroundStationRow(
                name=body.name,
                latitude_deg=body.latitude_deg,
                longitude_deg=body.longitude_deg,
                altitude_m=body.altitude_m,
            )
            session.add(row)
            session.flush()
            antennas = [
                AntennaRow(
                    station_id=row.id,
                    horizon_mask=None,
                    **antenna.model_dump(exclude={"bands"}),
                    bands=[band.model_dump() for band in antenna.bands],
                )
                for antenna in body.antennas
            ]
            session.add_all(antennas)
            session.flush()
            audit(session, now, principal, "ground_station.created", "ground_station", row.id)
    except IntegrityError as error:
        raise ApiError(
            409, "name_taken", f"a ground station named {body.name!r} exists already"
        ) from error
    return _out(row, antennas)

"""``/v1/ground-stations``: the shared network. Everyone reads it; only ``admin`` changes it.

Routes, in the order below:

* stations: list, show, create (with antennas);
* antennas: add one to a station, show one;
* maintenance windows: create, list, delete.

Reads need the ``read`` scope (operators see the network read-only), writes
``admin``; a key without it gets 403 ``forbidden`` naming the scope. Every
write adds an audit-log row in its own transaction, and the creates take an
``Idempotency-Key``.

A maintenance window is a time ``[start, end)`` in which one antenna takes no
contacts (the booking service refuses them with 409 ``antenna_unavailable``,
and available contacts are cut around it). Created without an
``antenna_id``, it is stored as one window per antenna of the station. A
new window does **not** cancel the active contacts it overlaps: the answer
lists them in ``affected_contacts`` (of every tenant: the admin runs the
network), and the admin decides. So that none slips past that list, the
creation locks the station's antenna rows (PostgreSQL) as a booking does, so
a reservation on those antennas either commits before the window (and is
listed) or waits and then sees the window (and is refused).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import (
    ACTIVE_STATUSES,
    AntennaRow,
    Contact,
    GroundStationRow,
    MaintenanceWindow,
)
from groundlink.api.auth import Admin, NowDep, Reader, SessionDep
from groundlink.api.errors import ApiError
from groundlink.api.idempotency import IdempotencyHeader, create_once, fingerprint, remember
from groundlink.api.routes._common import audit
from groundlink.api.schemas import (
    AffectedContactOut,
    AntennaIn,
    AntennaOut,
    BandIn,
    GroundStationCreate,
    GroundStationOut,
    HorizonMaskIn,
    MaintenanceCreatedOut,
    MaintenanceWindowCreate,
    MaintenanceWindowOut,
    UTCTime,
)
from groundlink.contacts.conflicts import iso_z
from groundlink.contacts.states import ContactStatus
from groundlink.errors import InvalidInput
from groundlink.services.errors import NotFound
from groundlink.stations.model import HorizonMask

router = APIRouter(prefix="/ground-stations", tags=["ground stations"])

_ACTIVE = [status.value for status in ACTIVE_STATUSES]


# --- rows as the API shows them ------------------------------------------------------------------


def _antenna_out(row: AntennaRow) -> AntennaOut:
    return AntennaOut(
        id=row.id,
        name=row.name,
        min_elevation_deg=row.min_elevation_deg,
        g_over_t_db_k=row.g_over_t_db_k,
        bands=[BandIn(**band) for band in row.bands],
        horizon_mask=None if row.horizon_mask is None else HorizonMaskIn(**row.horizon_mask),
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


def _window_out(row: MaintenanceWindow, station_id: str) -> MaintenanceWindowOut:
    return MaintenanceWindowOut(
        id=row.id,
        station_id=station_id,
        antenna_id=row.antenna_id,
        start=row.start,
        end=row.end,
        reason=row.reason,
    )


def _affected_out(row: Contact) -> AffectedContactOut:
    return AffectedContactOut(
        id=row.id,
        tenant_id=row.tenant_id,
        spacecraft_id=row.spacecraft_id,
        antenna_id=row.antenna_id,
        status=ContactStatus(row.status),
        aos=row.aos,
        los=row.los,
        reserved_start=row.reserved_start,
        reserved_end=row.reserved_end,
    )


# --- lookups -------------------------------------------------------------------------------------


def _station(session: Session, station_id: str) -> GroundStationRow:
    row = session.get(GroundStationRow, station_id)
    if row is None:
        raise NotFound("ground_station", station_id)
    return row


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


def _station_antenna(session: Session, station_id: str, antenna_id: str) -> AntennaRow:
    """Antenna ``antenna_id`` of station ``station_id`` (404 for either, or a mismatch)."""
    _station(session, station_id)
    row = session.get(AntennaRow, antenna_id)
    if row is None or row.station_id != station_id:
        raise NotFound("antenna", antenna_id)
    return row


# --- checks the schema cannot make ---------------------------------------------------------------


def _checked_antenna(antenna: AntennaIn, prefix: str) -> dict[str, Any]:
    """The antenna's :class:`AntennaRow` columns, after the checks across its fields.

    ``prefix`` is where the antenna sits in the request body (``"antennas.0."``
    or ``""``), so that a 422 names the field as the client sent it.
    """
    for i, band in enumerate(antenna.bands):
        if band.max_hz <= band.min_hz:
            raise InvalidInput(
                f"{prefix}bands.{i}.max_hz", band.max_hz, f"more than min_hz ({band.min_hz})"
            )
    mask = antenna.horizon_mask
    if mask is not None:
        try:
            HorizonMask(tuple(mask.azimuth_deg), tuple(mask.elevation_deg))
        except InvalidInput as error:
            raise InvalidInput(prefix + error.field, error.value, error.expected) from None
    return {
        **antenna.model_dump(exclude={"bands", "horizon_mask"}),
        "bands": [band.model_dump() for band in antenna.bands],
        "horizon_mask": None if mask is None else mask.model_dump(),
    }


def _name_taken(what: str, name: str) -> ApiError:
    return ApiError(409, "name_taken", f"{what} named {name!r} exists already", name=name)


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and not end > start:
        raise InvalidInput("end", iso_z(end), f"a time after start ({iso_z(start)})")


# --- stations ------------------------------------------------------------------------------------


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
        row = _station(session, station_id)
        return _out(row, _antennas(session, [row.id])[row.id])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_ground_station(
    body: GroundStationCreate,
    principal: Admin,
    session: SessionDep,
    now: NowDep,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> GroundStationOut:
    """Add a station and its antennas to the network (``admin`` scope).

    409 ``name_taken`` if a station has the name already.
    """
    names = [antenna.name for antenna in body.antennas]
    if len(set(names)) != len(names):
        raise InvalidInput("antennas.name", names, "a different name for every antenna")
    columns = [
        _checked_antenna(antenna, f"antennas.{i}.") for i, antenna in enumerate(body.antennas)
    ]
    print_ = fingerprint("POST", request.url.path, body)

    def create() -> GroundStationOut:
        with write_transaction(session):
            row = GroundStationRow(
                name=body.name,
                latitude_deg=body.latitude_deg,
                longitude_deg=body.longitude_deg,
                altitude_m=body.altitude_m,
            )
            session.add(row)
            session.flush()
            antennas = [AntennaRow(station_id=row.id, **fields) for fields in columns]
            session.add_all(antennas)
            session.flush()
            audit(session, now, principal, "ground_station.created", "ground_station", row.id)
            result = _out(row, sorted(antennas, key=lambda a: (a.name, a.id)))
            remember(session, principal.tenant_id, idempotency_key, print_, now, result)
            return result

    return create_once(
        session,
        principal.tenant_id,
        idempotency_key,
        print_,
        GroundStationOut,
        create,
        lambda _error: _name_taken("a ground station", body.name),
    )


# --- antennas ------------------------------------------------------------------------------------


@router.post("/{station_id}/antennas", status_code=status.HTTP_201_CREATED)
def add_antenna(
    station_id: str,
    body: AntennaIn,
    principal: Admin,
    session: SessionDep,
    now: NowDep,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> AntennaOut:
    """Add an antenna to a station (``admin`` scope); 409 ``name_taken`` if the station has one
    of that name."""
    columns = _checked_antenna(body, "")
    print_ = fingerprint("POST", request.url.path, body)

    def create() -> AntennaOut:
        with write_transaction(session):
            _station(session, station_id)
            row = AntennaRow(station_id=station_id, **columns)
            session.add(row)
            session.flush()
            audit(
                session,
                now,
                principal,
                "antenna.created",
                "antenna",
                row.id,
                {"station_id": station_id, "name": row.name},
            )
            result = _antenna_out(row)
            remember(session, principal.tenant_id, idempotency_key, print_, now, result)
            return result

    return create_once(
        session,
        principal.tenant_id,
        idempotency_key,
        print_,
        AntennaOut,
        create,
        lambda _error: _name_taken(f"an antenna of {station_id}", body.name),
    )


@router.get("/{station_id}/antennas/{antenna_id}")
def get_antenna(
    station_id: str, antenna_id: str, _principal: Reader, session: SessionDep
) -> AntennaOut:
    """One antenna of a station."""
    with session.begin():
        return _antenna_out(_station_antenna(session, station_id, antenna_id))


# --- maintenance windows -------------------------------------------------------------------------


def _locked_antennas(session: Session, station_id: str, antenna_id: str | None) -> list[AntennaRow]:
    """The antennas a window applies to, locked until commit on PostgreSQL (as booking does).

    Locked in id order, so that two windows on one station cannot deadlock.
    """
    _station(session, station_id)
    query = select(AntennaRow).where(AntennaRow.station_id == station_id)
    if antenna_id is not None:
        query = query.where(AntennaRow.id == antenna_id)
    rows = list(session.scalars(query.order_by(AntennaRow.id).with_for_update(key_share=True)))
    if antenna_id is not None and not rows:
        raise NotFound("antenna", antenna_id)
    return rows


def _overlapping_contacts(
    session: Session, antenna_ids: Iterable[str], start: datetime, end: datetime
) -> list[Contact]:
    """Active contacts on the antennas whose reserved span overlaps ``[start, end)``.

    The same test as the booking service's maintenance check: both spans half-open.
    """
    query = (
        select(Contact)
        .where(
            Contact.antenna_id.in_(list(antenna_ids)),
            Contact.status.in_(_ACTIVE),
            Contact.reserved_start < end,
            Contact.reserved_end > start,
        )
        .order_by(Contact.reserved_start, Contact.id)
    )
    return list(session.scalars(query))


@router.post("/{station_id}/maintenance", status_code=status.HTTP_201_CREATED)
def create_maintenance(
    station_id: str,
    body: MaintenanceWindowCreate,
    principal: Admin,
    session: SessionDep,
    now: NowDep,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> MaintenanceCreatedOut:
    """Take one antenna (``antenna_id``) or every antenna of the station out of service over
    ``[start, end)`` (``admin`` scope).

    Booked contacts that overlap the window are **not** cancelled: they are
    listed in ``affected_contacts`` (every tenant's) for the admin to act on.
    New reservations and changes inside the window are refused (409
    ``antenna_unavailable``) and available contacts are cut around it.
    """
    _check_window(body.start, body.end)
    print_ = fingerprint("POST", request.url.path, body)

    def create() -> MaintenanceCreatedOut:
        with write_transaction(session):
            antennas = _locked_antennas(session, station_id, body.antenna_id)
            windows = [
                MaintenanceWindow(
                    antenna_id=antenna.id, start=body.start, end=body.end, reason=body.reason
                )
                for antenna in antennas
            ]
            session.add_all(windows)
            session.flush()
            affected = _overlapping_contacts(
                session, [a.id for a in antennas], body.start, body.end
            )
            for window in windows:
                on_antenna = [c.id for c in affected if c.antenna_id == window.antenna_id]
                audit(
                    session,
                    now,
                    principal,
                    "maintenance_window.created",
                    "maintenance_window",
                    window.id,
                    {
                        "station_id": station_id,
                        "antenna_id": window.antenna_id,
                        "start": iso_z(window.start),
                        "end": iso_z(window.end),
                        "reason": window.reason,
                        "affected_contact_ids": on_antenna,
                    },
                )
            result = MaintenanceCreatedOut(
                windows=[_window_out(window, station_id) for window in windows],
                affected_contacts=[_affected_out(contact) for contact in affected],
            )
            remember(session, principal.tenant_id, idempotency_key, print_, now, result)
            return result

    return create_once(
        session, principal.tenant_id, idempotency_key, print_, MaintenanceCreatedOut, create
    )


@router.get("/{station_id}/maintenance")
def list_maintenance(
    station_id: str,
    _principal: Reader,
    session: SessionDep,
    start: Annotated[UTCTime | None, Query(description="keep windows ending after")] = None,
    end: Annotated[UTCTime | None, Query(description="keep windows starting before")] = None,
    antenna_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
) -> list[MaintenanceWindowOut]:
    """The station's maintenance windows that overlap ``[start, end)``, by start time."""
    _check_window(start, end)
    query = (
        select(MaintenanceWindow)
        .join(AntennaRow, AntennaRow.id == MaintenanceWindow.antenna_id)
        .where(AntennaRow.station_id == station_id)
    )
    if start is not None:
        query = query.where(MaintenanceWindow.end > start)
    if end is not None:
        query = query.where(MaintenanceWindow.start < end)
    if antenna_id is not None:
        query = query.where(MaintenanceWindow.antenna_id == antenna_id)
    query = query.order_by(
        MaintenanceWindow.start, MaintenanceWindow.antenna_id, MaintenanceWindow.id
    )
    with session.begin():
        if antenna_id is None:
            _station(session, station_id)
        else:
            _station_antenna(session, station_id, antenna_id)
        return [_window_out(row, station_id) for row in session.scalars(query)]


@router.delete("/{station_id}/maintenance/{window_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_maintenance(
    station_id: str, window_id: str, principal: Admin, session: SessionDep, now: NowDep
) -> Response:
    """Delete a maintenance window (``admin`` scope): its antenna takes contacts again."""
    with write_transaction(session):
        _station(session, station_id)
        row = session.get(MaintenanceWindow, window_id)
        antenna = None if row is None else session.get(AntennaRow, row.antenna_id)
        if row is None or antenna is None or antenna.station_id != station_id:
            raise NotFound("maintenance_window", window_id)
        detail = {
            "station_id": station_id,
            "antenna_id": row.antenna_id,
            "start": iso_z(row.start),
            "end": iso_z(row.end),
            "reason": row.reason,
        }
        session.delete(row)
        audit(
            session,
            now,
            principal,
            "maintenance_window.deleted",
            "maintenance_window",
            window_id,
            detail,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)

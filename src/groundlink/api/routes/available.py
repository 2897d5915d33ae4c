"""``GET /v1/contacts/available``: the contacts the network can offer a tenant's fleet.

The answer is :func:`groundlink.services.availability.available_contacts`
on what the database holds, so the API, the CLI and the benchmarks agree:

* **Spacecraft**: the ones named by ``spacecraft_id`` (repeatable), or the
  tenant's whole fleet when none is named. Another tenant's id is a 404.
* **Elements**: per spacecraft, AWS's rule
  (:func:`groundlink.services.catalog.ephemerides_in_use`): among its
  ephemerides that are enabled and unexpired (no ``expires_at``, or one
  after now), the one of highest ``priority``, and of those the newest
  (highest ``version``).
* **Downlink**: the spacecraft's first downlink RF link (by link id) with
  both an EIRP and a data rate: the link budget needs both.
* **Antennas**: every antenna of the network (or of the stations named by
  ``station_id``) that has a G/T; its bands, minimum elevation, horizon mask
  and turnaround are used as stored.
* **Profile**: the tenant's ``mission_profile_id`` (its minimum elevation,
  minimum viable duration, pre/post-pass, and the band of its first
  downlink link with a ``band_name``), or the service's default
  (:class:`~groundlink.services.availability.MissionProfile`: 0° minimum
  elevation, 60 s minimum contact, 120 s pre-pass, 60 s post-pass, any band).
* **Busy**: maintenance windows and every tenant's active contacts (their
  reserved span; the antenna's turnaround is added) cut or drop passes.
  A spacecraft's own limit on simultaneous contacts is checked at
  reservation, not here.

``available_contact_id`` is ``spacecraft:station:antenna:AOS`` (AOS in
ISO-8601 UTC, milliseconds), stable for the same pass while nothing around
it changes. ``POST /v1/contacts`` takes it instead of an antenna and times:
:func:`resolve_available_contact` computes that spacecraft's contacts on
that antenna again, from an hour before the AOS to a day after, and books
the one with that id: 409 ``contact_conflict`` if it was booked meanwhile,
409 ``contact_no_longer_available`` if the pass is not there any more (a new
ephemeris, a profile or maintenance that rules it out). A pass that was cut at the
listing's window start has an AOS that the recomputation does not
reproduce: list with a window that starts before it.

Spacecraft left out (no usable ephemeris, no complete downlink, SGP4 could
not propagate them) are listed in ``skipped`` with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundlink.adapters.db.models import (
    ACTIVE_STATUSES,
    AntennaRow,
    Contact,
    GroundStationRow,
    MaintenanceWindow,
    RfLink,
)
from groundlink.adapters.db.models import MissionProfile as ProfileRow
from groundlink.adapters.db.models import Spacecraft as SpacecraftRow
from groundlink.api.auth import NowDep, Reader, SessionDep
from groundlink.api.errors import ApiError
from groundlink.api.routes.mission_profiles import owned_profile
from groundlink.api.schemas import (
    AvailableContactOut,
    AvailableContactPageOut,
    SkippedSpacecraft,
    UTCTime,
)
from groundlink.errors import InvalidInput
from groundlink.orbits.elements import parse_utc
from groundlink.orbits.omm import elements_from_omm
from groundlink.services import availability, catalog
from groundlink.services.errors import NotFound
from groundlink.stations.model import GroundStation

router = APIRouter(prefix="/contacts", tags=["contacts"])

#: Most ids one query may name per repeatable parameter.
MAX_IDS = 1000
#: How far outside the window busy intervals are loaded (the longest pre/post-pass and more).
_MARGIN = timedelta(hours=7)


def _fleet(
    session: Session, tenant_id: str, ids: list[str], now: datetime
) -> tuple[list[availability.Spacecraft], list[SkippedSpacecraft]]:
    query = select(SpacecraftRow).where(SpacecraftRow.tenant_id == tenant_id)
    if ids:
        query = query.where(SpacecraftRow.id.in_(ids))
    rows = list(session.scalars(query.order_by(SpacecraftRow.created_at, SpacecraftRow.id)))
    found = {row.id for row in rows}
    for wanted in ids:
        if wanted not in found:
            raise NotFound("spacecraft", wanted)
    row_ids = [row.id for row in rows]
    chosen = catalog.ephemerides_in_use(session, row_ids, now)
    links: dict[str, RfLink] = {}
    if rows:
        downlinks = select(RfLink).where(
            RfLink.spacecraft_id.in_(row_ids),
            RfLink.direction == "downlink",
            RfLink.eirp_dbw.is_not(None),
            RfLink.data_rate_bps.is_not(None),
        )
        for found_link in session.scalars(downlinks.order_by(RfLink.id)):
            links.setdefault(found_link.spacecraft_id, found_link)
    fleet: list[availability.Spacecraft] = []
    skipped: list[SkippedSpacecraft] = []
    for row in rows:
        ephemeris, link = chosen.get(row.id), links.get(row.id)
        if ephemeris is None:
            skipped.append(_skip(row.id, "no enabled, unexpired ephemeris"))
            continue
        if link is None or link.eirp_dbw is None or link.data_rate_bps is None:
            skipped.append(_skip(row.id, "no downlink RF link with eirp_dbw and data_rate_bps"))
            continue
        try:
            downlink = availability.DownlinkLink(
                center_frequency_hz=link.center_frequency_hz,
                bandwidth_hz=link.bandwidth_hz,
                eirp_dbw=link.eirp_dbw,
                data_rate_bps=link.data_rate_bps,
                polarization=link.polarization,  # type: ignore[arg-type]
            )
            elements = elements_from_omm(ephemeris.omm).with_name(row.id)
        except InvalidInput as error:
            skipped.append(_skip(row.id, str(error)))
            continue
        fleet.append(availability.Spacecraft(row.id, elements, downlink))
    return fleet, skipped


def _skip(spacecraft_id: str, reason: str) -> SkippedSpacecraft:
    return SkippedSpacecraft(spacecraft_id=spacecraft_id, reason=reason)


def _network(
    session: Session, ids: list[str]
) -> tuple[
    list[GroundStation],
    dict[availability.AntennaKey, availability.AntennaReceiver],
    dict[str, str],
]:
    """The network's stations (with antennas that have a G/T), receivers, and names by id."""
    query = select(GroundStationRow)
    if ids:
        query = query.where(GroundStationRow.id.in_(ids))
    rows = list(session.scalars(query.order_by(GroundStationRow.name)))
    found = {row.id for row in rows}
    for wanted in ids:
        if wanted not in found:
            raise NotFound("ground_station", wanted)
    antennas: dict[str, list[AntennaRow]] = defaultdict(list)
    if rows:
        antenna_query = (
            select(AntennaRow)
            .where(
                AntennaRow.station_id.in_([row.id for row in rows]),
                AntennaRow.g_over_t_db_k.is_not(None),
            )
            .order_by(AntennaRow.name, AntennaRow.id)
        )
        for antenna in session.scalars(antenna_query):
            antennas[antenna.station_id].append(antenna)
    stations: list[GroundStation] = []
    receivers: dict[availability.AntennaKey, availability.AntennaReceiver] = {}
    names: dict[str, str] = {}
    for row in rows:
        if not antennas[row.id]:
            continue
        stations.append(catalog.station_from_rows(row, antennas[row.id]))
        names[row.id] = row.name
        for antenna in antennas[row.id]:
            names[antenna.id] = antenna.name
            assert antenna.g_over_t_db_k is not None
            receivers[(row.id, antenna.id)] = availability.AntennaReceiver(
                g_over_t_db_k=antenna.g_over_t_db_k, turnaround_s=antenna.turnaround_s
            )
    return stations, receivers, names


def _profile(row: ProfileRow | None) -> availability.MissionProfile:
    if row is None:
        return availability.MissionProfile()
    band = next(
        (
            link.get("band_name")
            for link in row.links
            if link.get("direction") == "downlink" and link.get("band_name")
        ),
        None,
    )
    return availability.MissionProfile(
        min_elevation_deg=row.min_elevation_deg,
        min_viable_contact_duration_s=row.min_viable_contact_duration_s,
        prepass_s=row.prepass_s,
        postpass_s=row.postpass_s,
        band_name=band,
    )


def _blocked(
    session: Session,
    stations: list[GroundStation],
    start: datetime,
    end: datetime,
    ignoring: Collection[str] = (),
) -> tuple[
    dict[availability.AntennaKey, list[availability.Interval]],
    dict[availability.AntennaKey, list[availability.Interval]],
]:
    """Maintenance and busy intervals per antenna; contacts whose id is in ``ignoring`` are free."""
    station_of = {antenna.id: station.id for station in stations for antenna in station.antennas}
    maintenance: dict[availability.AntennaKey, list[availability.Interval]] = defaultdict(list)
    busy: dict[availability.AntennaKey, list[availability.Interval]] = defaultdict(list)
    if not station_of:
        return maintenance, busy
    windows = select(MaintenanceWindow).where(
        MaintenanceWindow.antenna_id.in_(list(station_of)),
        MaintenanceWindow.end > start - _MARGIN,
        MaintenanceWindow.start < end + _MARGIN,
    )
    for window in session.scalars(windows):
        if window.end > window.start:
            key = (station_of[window.antenna_id], window.antenna_id)
            maintenance[key].append((window.start, window.end))
    contacts = select(Contact).where(
        Contact.antenna_id.in_(list(station_of)),
        Contact.status.in_([status.value for status in ACTIVE_STATUSES]),
        Contact.reserved_end > start - _MARGIN,
        Contact.reserved_start < end + _MARGIN,
    )
    if ignoring:
        contacts = contacts.where(Contact.id.not_in(list(ignoring)))
    for contact in session.scalars(contacts):
        key = (station_of[contact.antenna_id], contact.antenna_id)
        busy[key].append((contact.reserved_start, contact.reserved_end))
    return maintenance, busy


def _check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput("end", end.isoformat(), f"a time after start ({start.isoformat()})")
    if end - start > availability.MAX_WINDOW:
        raise InvalidInput("end", end.isoformat(), "at most 7 days after start")


def _check_ids(name: str, ids: list[str]) -> list[str]:
    if len(ids) > MAX_IDS:
        raise InvalidInput(name, f"{len(ids)} ids", f"at most {MAX_IDS}")
    return list(dict.fromkeys(ids))


@router.get("/available")
def list_available_contacts(
    principal: Reader,
    session: SessionDep,
    now: NowDep,
    start: Annotated[UTCTime, Query(description="window start, ISO-8601 with offset")],
    end: Annotated[UTCTime, Query(description="window end, at most 7 days after start")],
    spacecraft_id: Annotated[
        list[str] | None,
        Query(description="repeatable; none means the whole fleet", max_length=MAX_IDS),
    ] = None,
    station_id: Annotated[
        list[str] | None,
        Query(description="repeatable; none means every station", max_length=MAX_IDS),
    ] = None,
    mission_profile_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    sort_by: availability.SortField = "aos",
    descending: bool = False,
    max_results: Annotated[int, Query(ge=1, le=availability.MAX_PAGE_SIZE)] = 50,
    next_token: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
) -> AvailableContactPageOut:
    """Contacts the fleet could have over the window, a page at a time (``next_token``).

    Each has its station, antenna, AOS/TCA/LOS, maximum elevation, azimuths,
    the span the antenna would be reserved for, and the bytes the link budget
    expects it to deliver. Reserve one with ``POST /v1/contacts`` and its
    ``available_contact_id`` (or its antenna and times).
    """
    _check_window(start, end)
    craft_ids = _check_ids("spacecraft_id", spacecraft_id or [])
    station_ids = _check_ids("station_id", station_id or [])
    with session.begin():
        fleet, skipped = _fleet(session, principal.tenant_id, craft_ids, now)
        profile_row = (
            None
            if mission_profile_id is None
            else owned_profile(session, principal.tenant_id, mission_profile_id)
        )
        profile = _profile(profile_row)
        stations, receivers, names = _network(session, station_ids)
        maintenance, busy = _blocked(session, stations, start, end)
    if not fleet or not stations:
        return AvailableContactPageOut(items=[], next_token=None, skipped=skipped)
    contacts = availability.available_contacts(
        fleet, stations, receivers, profile, start, end, maintenance=maintenance, busy=busy
    )
    known = {craft.id for craft in fleet}
    for problem in contacts.problems:
        craft = problem.split(" ", 1)[0]
        skipped.append(_skip(craft if craft in known else "", problem))
    page = availability.page_contacts(
        contacts, sort_by=sort_by, descending=descending, cursor=next_token, limit=max_results
    )
    return AvailableContactPageOut(
        items=[_out(row, names) for row in page.contacts.rows()],
        next_token=page.next_cursor,
        skipped=skipped,
    )


def _out(row: availability.AvailableContact, names: dict[str, str]) -> AvailableContactOut:
    return AvailableContactOut(
        available_contact_id=row.contact_id,
        spacecraft_id=row.spacecraft_id,
        station_id=row.station_id,
        station_name=names[row.station_id],
        antenna_id=row.antenna_id,
        antenna_name=names[row.antenna_id],
        aos=row.aos,
        tca=row.tca,
        los=row.los,
        max_elevation_deg=row.max_elevation_deg,
        aos_azimuth_deg=row.aos_azimuth_deg,
        tca_azimuth_deg=row.tca_azimuth_deg,
        los_azimuth_deg=row.los_azimuth_deg,
        reserved_start=row.reserved_start,
        reserved_end=row.reserved_end,
        volume_bytes=row.volume_bytes,
        trimmed=row.trimmed,
    )


#: How far before and after its AOS an available contact is computed again to reserve it.
_RESOLVE_BEFORE = timedelta(hours=1)
_RESOLVE_AFTER = timedelta(days=1)
#: Largest AOS difference, seconds, between a listed contact and its recomputation.
_AOS_TOLERANCE_S = 1.0


def _parse_contact_id(value: str) -> tuple[str, str, str, datetime]:
    expected = "spacecraft:station:antenna:AOS, an available_contact_id from a listing"
    parts = value.split(":", 3)
    if len(parts) != 4 or not all(parts):
        raise InvalidInput("available_contact_id", value, expected)
    try:
        aos = parse_utc(parts[3], "available_contact_id")
    except InvalidInput:
        raise InvalidInput("available_contact_id", value, expected) from None
    return parts[0], parts[1], parts[2], aos


def _gone(contact_id: str) -> ApiError:
    return ApiError(
        409,
        "contact_no_longer_available",
        f"available contact {contact_id} is not available any more: list them again",
        available_contact_id=contact_id,
    )


def resolve_available_contact(
    session: Session,
    tenant_id: str,
    contact_id: str,
    spacecraft_id: str,
    mission_profile_id: str | None,
    now: datetime,
) -> availability.AvailableContact:
    """The available contact ``contact_id`` of ``spacecraft_id``, computed again now.

    ``session`` must not be in a transaction.

    Raises:
        InvalidInput: a malformed id, or one of another spacecraft.
        NotFound: the spacecraft, profile or station does not exist for this tenant.
        ApiError: 409 ``contact_no_longer_available`` if the pass is not available now.
    """
    craft_id, station_id, antenna_id, aos = _parse_contact_id(contact_id)
    if craft_id != spacecraft_id:
        raise InvalidInput(
            "available_contact_id", contact_id, f"an available contact of {spacecraft_id}"
        )
    start, end = aos - _RESOLVE_BEFORE, aos + _RESOLVE_AFTER
    with session.begin():
        fleet, _skipped = _fleet(session, tenant_id, [craft_id], now)
        profile_row = (
            None
            if mission_profile_id is None
            else owned_profile(session, tenant_id, mission_profile_id)
        )
        network, receivers, _names = _network(session, [station_id])
        stations = [
            replace(station, antennas=tuple(a for a in station.antennas if a.id == antenna_id))
            for station in network
            if any(a.id == antenna_id for a in station.antennas)
        ]
        receivers = {key: value for key, value in receivers.items() if key[1] == antenna_id}
        maintenance, busy = _blocked(session, stations, start, end)
    if not fleet or not stations:
        raise _gone(contact_id)
    # With the booked contacts first (a trimmed pass's id depends on them); then without,
    # so that a pass someone booked meanwhile is reserved and refused with the contact in
    # the way (409 contact_conflict), like a reservation by times.
    for blocked in (busy, None):
        contacts = availability.available_contacts(
            fleet,
            stations,
            receivers,
            _profile(profile_row),
            start,
            end,
            maintenance=maintenance,
            busy=blocked,
        )
        # The pass search's roots depend slightly on the window: match the AOS within
        # _AOS_TOLERANCE_S, not by the id's exact millisecond.
        offset = np.abs(contacts.aos_unix_s - aos.timestamp())
        rows = np.flatnonzero(offset <= _AOS_TOLERANCE_S)
        if rows.size:
            return contacts.row(int(rows[np.argmin(offset[rows])]))
    raise _gone(contact_id)


@dataclass(frozen=True)
class NetworkOffer:
    """What the network can offer a fleet over a window, and what was left out.

    ``contacts`` is None when there is nothing to offer (no usable spacecraft
    or no station); ``turnaround_s`` is each antenna's setup time by antenna id.
    """

    contacts: availability.AvailableContacts | None
    profile: availability.MissionProfile
    turnaround_s: dict[str, float]
    skipped: list[SkippedSpacecraft]


def network_offer(
    session: Session,
    fleet_by_tenant: dict[str, list[str]],
    station_ids: list[str],
    profile_row: ProfileRow | None,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    ignoring: Collection[str] = (),
) -> NetworkOffer:
    """The available contacts of the spacecraft in ``fleet_by_tenant`` (ids per owner tenant).

    The same computation as the listing above, for spacecraft of one or
    several tenants (a network plan). Booked contacts whose id is in
    ``ignoring`` do not take their antenna (a repair re-places them).
    ``session`` must not be in a transaction.
    """
    with session.begin():
        fleet: list[availability.Spacecraft] = []
        skipped: list[SkippedSpacecraft] = []
        for tenant_id, ids in fleet_by_tenant.items():
            tenant_fleet, tenant_skipped = _fleet(session, tenant_id, ids, now)
            fleet += tenant_fleet
            skipped += tenant_skipped
        profile = _profile(profile_row)
        stations, receivers, _names = _network(session, station_ids)
        maintenance, busy = _blocked(session, stations, start, end, ignoring)
    turnaround_s = {antenna_id: r.turnaround_s for (_s, antenna_id), r in receivers.items()}
    if not fleet or not stations:
        return NetworkOffer(None, profile, turnaround_s, skipped)
    contacts = availability.available_contacts(
        fleet, stations, receivers, profile, start, end, maintenance=maintenance, busy=busy
    )
    for problem in contacts.problems:
        skipped.append(_skip(problem.split(" ", 1)[0], problem))
    return NetworkOffer(contacts, profile, turnaround_s, skipped)

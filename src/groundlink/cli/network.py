"""``groundlink ground-stations``: the shared network over the API.

::

    groundlink ground-stations list
    groundlink ground-stations show STATION
    groundlink ground-stations add --file STATIONS.(json|yaml|csv)
                                   [--g-over-t-db-k G] [--turnaround-s S]
    groundlink ground-stations maintenance add STATION --start T --end T
                                               [--antenna-id ID] [--reason TEXT]
    groundlink ground-stations maintenance list STATION [--start T] [--end T] [--antenna-id ID]
    groundlink ground-stations maintenance remove STATION WINDOW

Reading needs a key with the ``read`` scope; ``add`` and ``maintenance
add|remove`` need ``admin``. The options shared with the other API commands
(``--api-url``, ``--api-key``, ``--output``) and their helpers come from
:mod:`groundlink.cli.resources`.

``add`` reads a station file with :func:`groundlink.stations.io.read_stations_file`
(the whole file is checked before anything is sent) and creates each station
through the API. Station files carry no G/T and no turnaround, so
``--g-over-t-db-k`` and ``--turnaround-s`` give them to every antenna; a band
whose direction is ``both`` becomes an uplink and a downlink band of the
same name. Each station goes with an ``Idempotency-Key`` made from its
request body, so running the same file again after a failure creates only
what is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from groundlink.api.schemas import (
    AffectedContactOut,
    AntennaOut,
    GroundStationOut,
    MaintenanceWindowOut,
)
from groundlink.cli.edge import count, fail, rejects_bad_input, say, stdout_console
from groundlink.cli.resources import (
    ApiKey,
    ApiUrl,
    Output,
    OutputOption,
    api_client,
    emit,
    optional_time,
    print_table,
    required_time,
    table_of,
    write_json,
)
from groundlink.client import DEFAULT_API_URL
from groundlink.contacts.conflicts import iso_z
from groundlink.errors import GroundlinkError, InvalidInput
from groundlink.stations.io import read_stations_file
from groundlink.stations.model import Antenna, GroundStation

ground_stations_app = typer.Typer(
    name="ground-stations",
    help="The shared ground-station network (over the API).",
    no_args_is_help=True,
)
maintenance_app = typer.Typer(
    name="maintenance",
    help="Maintenance windows: times in which antennas take no contacts.",
    no_args_is_help=True,
)
ground_stations_app.add_typer(maintenance_app)


@ground_stations_app.command("list")
@rejects_bad_input
def ground_stations_list(
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """List the network's stations and their antennas."""
    with api_client(api_url, api_key) as api:
        stations = api.list_ground_stations()
    if output is Output.json:
        write_json(stations)
        return
    rows = [
        (
            station.id,
            station.name,
            f"{station.latitude_deg:.3f}",
            f"{station.longitude_deg:.3f}",
            f"{station.altitude_m:.0f}",
            ", ".join(f"{a.name} ({a.id})" for a in station.antennas) or "none",
        )
        for station in stations
    ]
    columns = ("id", "name", "lat (deg)", "lon (deg)", "alt (m)", "antennas")
    antennas = sum(len(station.antennas) for station in stations)
    print_table(
        table_of(columns, rows), f"{count(len(stations), 'station')}, {count(antennas, 'antenna')}"
    )


StationArgument = Annotated[str, typer.Argument(metavar="STATION", help="Ground station id.")]


# --- station files to API bodies -----------------------------------------------------------------


def _antenna_body(
    antenna: Antenna, g_over_t_db_k: float | None, turnaround_s: float
) -> dict[str, Any]:
    bands = []
    for band in antenna.bands:
        directions = ("uplink", "downlink") if band.direction == "both" else (band.direction,)
        bands += [
            {"name": band.name, "min_hz": band.min_hz, "max_hz": band.max_hz, "direction": d}
            for d in directions
        ]
    mask = antenna.horizon_mask
    return {
        "name": antenna.id,
        "min_elevation_deg": antenna.min_elevation_deg,
        "g_over_t_db_k": g_over_t_db_k,
        "bands": bands,
        "horizon_mask": (
            None
            if mask is None
            else {"azimuth_deg": list(mask.azimuth_deg), "elevation_deg": list(mask.elevation_deg)}
        ),
        "max_slew_azimuth_deg_s": antenna.max_slew_azimuth_deg_s,
        "max_slew_elevation_deg_s": antenna.max_slew_elevation_deg_s,
        "turnaround_s": turnaround_s,
    }


def station_body(
    station: GroundStation, *, g_over_t_db_k: float | None = None, turnaround_s: float = 0.0
) -> dict[str, Any]:
    """The ``POST /v1/ground-stations`` body for a station read from a file.

    Antennas are named by their id in the file; ``g_over_t_db_k`` (dB/K) and
    ``turnaround_s`` (seconds) apply to every antenna.
    """
    return {
        "name": station.name,
        "latitude_deg": station.latitude_deg,
        "longitude_deg": station.longitude_deg,
        "altitude_m": station.altitude_m,
        "antennas": [_antenna_body(a, g_over_t_db_k, turnaround_s) for a in station.antennas],
    }


def _idempotency_key(body: dict[str, Any]) -> str:
    """The same key for the same station body: a re-run replays, and creates nothing twice."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "ground-station-" + hashlib.sha256(canonical.encode()).hexdigest()


# --- tables --------------------------------------------------------------------------------------

_STATION_COLUMNS = ("id", "name", "lat (deg)", "lon (deg)", "alt (m)", "antennas")


def _station_rows(stations: Iterable[GroundStationOut]) -> Iterator[tuple[object, ...]]:
    for station in stations:
        yield (
            station.id,
            station.name,
            f"{station.latitude_deg:.3f}",
            f"{station.longitude_deg:.3f}",
            f"{station.altitude_m:.0f}",
            ", ".join(f"{a.name} ({a.id})" for a in station.antennas) or "none",
        )


_ANTENNA_COLUMNS = (
    "id",
    "name",
    "min el (deg)",
    "G/T (dB/K)",
    "bands",
    "horizon mask",
    "slew az/el (deg/s)",
    "turnaround (s)",
)


def _mask_text(antenna: AntennaOut) -> str:
    mask = antenna.horizon_mask
    if mask is None:
        return "none"
    points = count(len(mask.azimuth_deg), "point")
    return f"{points}, {min(mask.elevation_deg):g}-{max(mask.elevation_deg):g} deg"


def _antenna_rows(antennas: Iterable[AntennaOut]) -> Iterator[tuple[object, ...]]:
    for antenna in antennas:
        bands = ", ".join(
            f"{b.name} {b.direction} {b.min_hz / 1e6:g}-{b.max_hz / 1e6:g} MHz"
            for b in antenna.bands
        )
        yield (
            antenna.id,
            antenna.name,
            f"{antenna.min_elevation_deg:g}",
            "" if antenna.g_over_t_db_k is None else f"{antenna.g_over_t_db_k:g}",
            bands or "none",
            _mask_text(antenna),
            f"{antenna.max_slew_azimuth_deg_s:g}/{antenna.max_slew_elevation_deg_s:g}",
            f"{antenna.turnaround_s:g}",
        )


_WINDOW_COLUMNS = ("id", "antenna", "start (UTC)", "end (UTC)", "reason")


def _window_rows(windows: Iterable[MaintenanceWindowOut]) -> Iterator[tuple[object, ...]]:
    for window in windows:
        yield (window.id, window.antenna_id, iso_z(window.start), iso_z(window.end), window.reason)


_AFFECTED_COLUMNS = (
    "contact",
    "tenant",
    "antenna",
    "status",
    "reserved from (UTC)",
    "reserved to (UTC)",
)


def _affected_rows(contacts: Iterable[AffectedContactOut]) -> Iterator[tuple[object, ...]]:
    for contact in contacts:
        yield (
            contact.id,
            contact.tenant_id,
            contact.antenna_id,
            contact.status.value,
            iso_z(contact.reserved_start),
            iso_z(contact.reserved_end),
        )


# --- stations ------------------------------------------------------------------------------------


@ground_stations_app.command("show")
@rejects_bad_input
def ground_stations_show(
    station_id: StationArgument,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one station and its antennas."""
    with api_client(api_url, api_key) as api:
        station = api.get_ground_station(station_id)
    if output is Output.json:
        write_json(station)
        return
    say(
        stdout_console(),
        f"{station.name} ({station.id}): latitude {station.latitude_deg:.4f} deg, "
        f"longitude {station.longitude_deg:.4f} deg, altitude {station.altitude_m:g} m",
    )
    print_table(
        table_of(_ANTENNA_COLUMNS, _antenna_rows(station.antennas)),
        count(len(station.antennas), "antenna"),
    )


@ground_stations_app.command("add")
@rejects_bad_input
def ground_stations_add(
    file: Annotated[
        Path, typer.Option("--file", help="Stations to add: .json, .yaml/.yml or .csv.")
    ],
    g_over_t_db_k: Annotated[
        float | None,
        typer.Option("--g-over-t-db-k", help="G/T of every antenna, dB/K (needed for contacts)."),
    ] = None,
    turnaround_s: Annotated[
        float,
        typer.Option("--turnaround-s", help="Setup time of every antenna between contacts, s."),
    ] = 0.0,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Add the stations of a station file to the network (admin key)."""
    stations = read_stations_file(file)
    if not stations:
        raise InvalidInput("--file", str(file), "a station file with at least one station")
    bodies = [
        station_body(s, g_over_t_db_k=g_over_t_db_k, turnaround_s=turnaround_s) for s in stations
    ]
    created: list[GroundStationOut] = []
    with api_client(api_url, api_key) as api:
        for number, body in enumerate(bodies, start=1):
            try:
                created.append(
                    api.create_ground_station(body, idempotency_key=_idempotency_key(body))
                )
            except GroundlinkError as error:
                fail(
                    f"station {number} of {len(bodies)} ({body['name']}): {error}; "
                    f"{count(len(created), 'station')} added before it (running the same "
                    "file again adds only the missing ones)"
                )
    if output is Output.json:
        write_json(created)
        return
    antennas = sum(len(station.antennas) for station in created)
    print_table(
        table_of(_STATION_COLUMNS, _station_rows(created)),
        f"added {count(len(created), 'station')}, {count(antennas, 'antenna')}",
    )


# --- maintenance ---------------------------------------------------------------------------------


@maintenance_app.command("add")
@rejects_bad_input
def maintenance_add(
    station_id: StationArgument,
    start: Annotated[str, typer.Option("--start", help="Window start, ISO-8601 (UTC).")],
    end: Annotated[str, typer.Option("--end", help="Window end, ISO-8601 (UTC), excluded.")],
    antenna_id: Annotated[
        str | None,
        typer.Option("--antenna-id", help="Only this antenna (default: every antenna)."),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why the antenna is down.")] = "",
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Makes retries safe.")
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Take a station's antennas out of service over [start, end) (admin key).

    Booked contacts in the window are listed, not cancelled.
    """
    with api_client(api_url, api_key) as api:
        created = api.add_maintenance(
            station_id,
            required_time(start, "--start"),
            required_time(end, "--end"),
            antenna_id=antenna_id,
            reason=reason,
            idempotency_key=idempotency_key,
        )
    if output is Output.json:
        write_json(created)
        return
    print_table(
        table_of(_WINDOW_COLUMNS, _window_rows(created.windows)),
        f"added {count(len(created.windows), 'maintenance window')}",
    )
    affected = created.affected_contacts
    if affected:
        one = len(affected) == 1
        verb = "overlaps the window; it was" if one else "overlap the window; they were"
        print_table(
            table_of(_AFFECTED_COLUMNS, _affected_rows(affected)),
            f"{count(len(affected), 'booked contact')} {verb} NOT cancelled: decide what to do",
        )
    else:
        say(stdout_console(), "no booked contact overlaps the window")


@maintenance_app.command("list")
@rejects_bad_input
def maintenance_list(
    station_id: StationArgument,
    start: Annotated[
        str | None, typer.Option("--start", help="Windows ending after (UTC).")
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="Windows starting before (UTC).")] = None,
    antenna_id: Annotated[
        str | None, typer.Option("--antenna-id", help="Only this antenna.")
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """List a station's maintenance windows by start time."""
    with api_client(api_url, api_key) as api:
        windows = api.list_maintenance(
            station_id,
            start=optional_time(start, "--start"),
            end=optional_time(end, "--end"),
            antenna_id=antenna_id,
        )
    emit(
        output,
        windows,
        table_of(_WINDOW_COLUMNS, _window_rows(windows)),
        count(len(windows), "maintenance window"),
    )


@maintenance_app.command("remove")
@rejects_bad_input
def maintenance_remove(
    station_id: StationArgument,
    window_id: Annotated[str, typer.Argument(metavar="WINDOW", help="Maintenance window id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a maintenance window (admin key): the antenna takes contacts again."""
    with api_client(api_url, api_key) as api:
        api.delete_maintenance(station_id, window_id)
    if output is Output.json:
        write_json({"id": window_id, "deleted": True})
    else:
        say(stdout_console(), f"removed maintenance window {window_id}")


__all__ = ["ground_stations_app", "maintenance_app", "station_body"]

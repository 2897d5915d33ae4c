"""``groundlink stations list``: the ground stations of a file, or of the demo network."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from groundlink.cli.edge import count, rejects_bad_input, say, stdout_console
from groundlink.stations.io import demo_stations, read_stations_file, station_to_dict
from groundlink.stations.model import GroundStation

app = typer.Typer(
    name="stations",
    help="Ground stations: sites with antennas.",
    no_args_is_help=True,
)


class StationsOutput(StrEnum):
    """What ``stations list --output`` writes."""

    table = "table"
    json = "json"


@app.command("list")
@rejects_bad_input
def list_stations(
    stations: Annotated[
        Path | None,
        typer.Option(
            "--stations",
            help="Station file (.json, .yaml/.yml or .csv). Default: the demo network.",
            envvar="GROUNDLINK_STATIONS",
        ),
    ] = None,
    output: Annotated[
        StationsOutput, typer.Option("--output", "-o", help="table or json.")
    ] = StationsOutput.table,
) -> None:
    """List the stations and their antennas (exit code 2 for a bad station file)."""
    network = demo_stations() if stations is None else read_stations_file(stations)
    if output is StationsOutput.json:
        sys.stdout.write(json.dumps([station_to_dict(s) for s in network], indent=2) + "\n")
        return
    console = stdout_console()
    console.print(stations_table(network))
    antennas = sum(len(station.antennas) for station in network)
    source = "the demo network" if stations is None else str(stations)
    say(console, f"{count(len(network), 'station')}, {count(antennas, 'antenna')} ({source})")


def stations_table(network: list[GroundStation]) -> Table:
    """A Rich table: id, name, position (degrees, metres), antennas and their lowest elevation."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("id")
    table.add_column("name")
    table.add_column("lat (deg)", justify="right")
    table.add_column("lon (deg)", justify="right")
    table.add_column("alt (m)", justify="right")
    table.add_column("antennas (lowest elevation)")
    for station in network:
        antennas = ", ".join(
            f"{antenna.id} ≥{antenna.lowest_elevation_deg:g}°"
            + (" (horizon mask)" if antenna.has_azimuth_mask else "")
            for antenna in station.antennas
        )
        table.add_row(
            station.id,
            station.name,
            f"{station.latitude_deg:.3f}",
            f"{station.longitude_deg:.3f}",
            f"{station.altitude_m:.0f}",
            antennas or "none",
        )
    return table

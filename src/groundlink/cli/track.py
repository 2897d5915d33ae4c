"""``groundlink track``: what an antenna points along during one pass.

Samples the look angles (azimuth, elevation), slant range and range rate of
one satellite from one station every ``--step`` seconds with SGP4 directly:
over ``--start``/``--hours`` when given, else over the satellite's next pass
above the station's first antenna after now. Writes CSV (the default: it is
meant for pointing and Doppler tools) or a table.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from groundlink.cli.edge import (
    fail,
    iso_z,
    rejects_bad_input,
    say,
    stderr_console,
    stdout_console,
    utc_now,
    window_length,
    window_start,
)
from groundlink.cli.passes import select_satellites
from groundlink.errors import InvalidInput
from groundlink.orbits.ingest import read_elements_file
from groundlink.passes.engine import find_passes
from groundlink.passes.track import Track, sample_track, track_times
from groundlink.stations.io import read_stations_file
from groundlink.stations.model import GroundStation

#: How far ahead ``track`` looks for the next pass when no window is given.
NEXT_PASS_SEARCH = timedelta(days=7)


class TrackOutput(StrEnum):
    """What ``--output`` writes."""

    csv = "csv"
    table = "table"


@rejects_bad_input
def track(
    elements: Annotated[
        Path, typer.Option("--elements", help="Element file.", envvar="GROUNDLINK_ELEMENTS")
    ],
    stations: Annotated[
        Path, typer.Option("--stations", help="Station file.", envvar="GROUNDLINK_STATIONS")
    ],
    satellite: Annotated[str, typer.Option("--satellite", help="NORAD id or exact name.")],
    station: Annotated[str, typer.Option("--station", help="Station id or exact name.")],
    start: Annotated[
        str | None,
        typer.Option(help="Window start, ISO-8601. Default: the next pass from now."),
    ] = None,
    hours: Annotated[
        float | None, typer.Option(help="Window length in hours (with --start).")
    ] = None,
    step: Annotated[float, typer.Option("--step", help="Seconds between samples.")] = 1.0,
    output: Annotated[
        TrackOutput, typer.Option("--output", "-o", help="csv or table.")
    ] = TrackOutput.csv,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Sample azimuth, elevation, range and range rate of one satellite from one station."""
    report = read_elements_file(elements)
    chosen = select_satellites(report.elements, [satellite], elements)[0]
    site = _select_station(read_stations_file(stations), station, stations)
    if start is not None:
        begin = window_start(start, utc_now())
        end = begin + window_length(24.0 if hours is None else hours)
    else:
        now = window_start(None, utc_now())
        table = find_passes([chosen], [site], now, now + NEXT_PASS_SEARCH, workers=1)
        if len(table) == 0:
            fail(f"{chosen.name} has no pass over {site.name} in the next 7 days")
        first = table.row(0)
        begin, end = first.aos, first.los
    samples = sample_track(chosen, site, track_times(begin, end, step))
    notes = stderr_console() if output is TrackOutput.csv and out is None else stdout_console()
    if output is TrackOutput.csv:
        text = samples.to_csv()
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
    else:
        notes.print(_track_table(samples))
    say(
        notes,
        f"{chosen.name} from {site.name}: {len(samples.unix_s):,} samples every {step:g} s "
        f"from {iso_z(begin)} to {iso_z(end)}, "
        f"highest elevation {samples.elevation_deg.max():.2f}°",
    )


def _select_station(network: list[GroundStation], key: str, source: Path) -> GroundStation:
    for candidate in network:
        if key in (candidate.id, candidate.name):
            return candidate
    raise InvalidInput("--station", key, f"the id or exact name of a station in {source}")


def _track_table(samples: Track) -> Table:
    table = Table("time (UTC)", "azimuth °", "elevation °", "range km", "range rate km/s", box=None)
    for line in samples.to_csv().splitlines()[1:]:
        table.add_row(*line.split(","))
    return table

"""``groundlink passes``: every pass of a fleet over a network, as a table, CSV or JSON.

Reads an element file and a station file, predicts the passes in a UTC
window, and writes them: a Rich table of the first passes (``--output
table``, the default) or every pass as CSV or JSON with the columns of
:data:`groundlink.passes.table.COLUMNS`. A summary follows: on stdout after
a table, on stderr when stdout carries CSV or JSON, so that it stays
machine-readable.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from groundlink.cli.edge import (
    PIPE_WIDTH,
    fail,
    no_elements_message,
    rejects_bad_input,
    say,
    stderr_console,
    stdout_console,
    utc_now,
    window_length,
    window_start,
)
from groundlink.cli.prediction import Prediction, passes_table, predict, print_summary
from groundlink.errors import InvalidInput
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.ingest import ElementsReport, read_elements_file
from groundlink.plots import plot_passes, require_matplotlib
from groundlink.stations.io import read_stations_file


class PassesOutput(StrEnum):
    """What ``--output`` writes."""

    table = "table"
    csv = "csv"
    json = "json"


@rejects_bad_input
def passes(
    elements: Annotated[
        Path,
        typer.Option(
            "--elements",
            help="Element file: TLE/3LE, or OMM as JSON, CSV, XML or KVN (format detected).",
            envvar="GROUNDLINK_ELEMENTS",
        ),
    ],
    stations: Annotated[
        Path,
        typer.Option(
            "--stations",
            help="Station file: .json, .yaml/.yml or .csv (see docs/stations.md).",
            envvar="GROUNDLINK_STATIONS",
        ),
    ],
    start: Annotated[
        str | None,
        typer.Option(
            help="Window start, ISO-8601 (Z, offset, or no zone = UTC). Default: now, "
            "rounded down to the minute."
        ),
    ] = None,
    hours: Annotated[float, typer.Option(help="Window length in hours, (0, 744].")] = 24.0,
    min_elevation: Annotated[
        float | None,
        typer.Option(
            "--min-elevation",
            help="Raise every antenna's minimum elevation to at least this many degrees.",
        ),
    ] = None,
    satellite: Annotated[
        list[str] | None,
        typer.Option(
            "--satellite",
            help="Only this satellite: NORAD id or exact name. Repeat for more.",
        ),
    ] = None,
    output: Annotated[
        PassesOutput, typer.Option("--output", "-o", help="table, csv or json.")
    ] = PassesOutput.table,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the output to this file, not stdout.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Also draw a timeline PNG here (needs matplotlib: groundlink\\[plot])."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="Passes shown by --output table (CSV and JSON have all).")
    ] = 50,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Processes to use (default: all cores).", envvar="GROUNDLINK_WORKERS"
        ),
    ] = None,
) -> None:
    """Predict every pass of the satellites over every antenna of the stations."""
    begin = window_start(start, utc_now())
    end = begin + window_length(hours)
    if plot is not None:
        require_matplotlib()
    report = read_elements_file(elements)
    if not report.elements:
        fail(no_elements_message(report, elements))
    satellites = select_satellites(report.elements, satellite or [], elements)
    network = read_stations_file(stations)
    if not any(station.antennas for station in network):
        fail(f"{stations}: no stations with antennas found")

    prediction = predict(
        satellites, network, begin, end, min_elevation_deg=min_elevation, workers=workers
    )
    notes = write_output(prediction, report, output, out, limit)
    if plot is not None:
        plot_passes(prediction.table, plot)
        say(notes, f"wrote the timeline to {plot}")


def select_satellites(
    elements: Sequence[OrbitalElements], wanted: Sequence[str], source: Path
) -> list[OrbitalElements]:
    """The element sets named in ``wanted`` (NORAD ids or exact names), in file order.

    An empty ``wanted`` selects all of them.

    Raises:
        InvalidInput: naming ``--satellite`` for a value that matches no satellite.
    """
    if not wanted:
        return list(elements)
    chosen: set[int] = set()
    for key in wanted:
        matches = {
            item.norad_cat_id
            for item in elements
            if item.object_name == key or (key.isdigit() and item.norad_cat_id == int(key))
        }
        if not matches:
            raise InvalidInput(
                "--satellite", key, f"the NORAD id or exact name of a satellite in {source}"
            )
        chosen |= matches
    return [item for item in elements if item.norad_cat_id in chosen]


def write_output(
    prediction: Prediction,
    elements: ElementsReport,
    output: PassesOutput,
    out: Path | None,
    limit: int,
) -> Console:
    """Write the passes (to ``out``, or stdout), then the summary; return the notes console.

    The summary and other notes go to stdout unless stdout carries CSV or JSON.
    """
    table = prediction.table
    machine_output_on_stdout = output is not PassesOutput.table and out is None
    notes = stderr_console() if machine_output_on_stdout else stdout_console()
    if output is PassesOutput.table:
        rendered = passes_table(table, limit)
        if out is None:
            notes.print(rendered)
        else:
            with out.open("w", encoding="utf-8") as handle:
                Console(file=handle, width=PIPE_WIDTH, no_color=True).print(rendered)
    else:
        text = table.to_csv() if output is PassesOutput.csv else table.to_json() + "\n"
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            out.write_text(text, encoding="utf-8")
    if out is not None:
        say(notes, f"wrote {len(table):,} passes to {out}")
    print_summary(notes, prediction, elements)
    return notes

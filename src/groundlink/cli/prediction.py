"""A pass prediction as the CLI runs and shows it (shared by ``passes`` and ``up``).

:func:`predict` runs :func:`~groundlink.passes.engine.find_passes` with a Rich
progress bar on stderr (only for long runs on a terminal) and times it;
:func:`passes_table` shows the first passes as a Rich table in UTC;
:func:`summary_lines` says what was computed and what deserves a look.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from groundlink.cli.edge import count, iso_z, say, stderr_console
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.ingest import ElementsReport, epoch_age_warnings
from groundlink.passes.engine import find_passes
from groundlink.passes.table import PassTable
from groundlink.stations.model import Antenna, GroundStation

#: Below this much work (satellites x antennas x hours) a run takes about a second: no progress bar.
PROGRESS_MIN_WORK = 1_000_000
#: Warnings of one kind shown in a summary before "... and N more".
WARNINGS_SHOWN = 5


@dataclass(frozen=True)
class Prediction:
    """The passes of one run and its window.

    Attributes:
        table: the passes, sorted by AOS (with SGP4 problems in ``table.problems``).
        start, end: the UTC window.
        wall_s: wall-clock time of the prediction, seconds.
    """

    table: PassTable
    start: datetime
    end: datetime
    wall_s: float


def predict(
    satellites: Sequence[OrbitalElements],
    stations: Sequence[GroundStation],
    start: datetime,
    end: datetime,
    *,
    min_elevation_deg: float | None = None,
    workers: int | None = None,
) -> Prediction:
    """Predict every pass in [start, end], with a progress bar on stderr for long runs.

    The bar shows only when stderr is a terminal and the run is big enough
    (:data:`PROGRESS_MIN_WORK` satellite-antenna-hours) to be worth watching.

    Raises:
        InvalidInput: as :func:`~groundlink.passes.engine.find_passes`.
    """
    console = stderr_console()
    antennas = sum(len(station.antennas) for station in stations)
    hours = (end - start).total_seconds() / 3600.0
    show = console.is_terminal and len(satellites) * antennas * hours >= PROGRESS_MIN_WORK
    columns = (
        TextColumn("predicting passes"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("satellites"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=not show) as bar:
        task = bar.add_task("passes", total=len(satellites))

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        began = time.perf_counter()
        table = find_passes(
            satellites,
            stations,
            start,
            end,
            min_elevation_deg=min_elevation_deg,
            workers=workers,
            progress=advance,
        )
        wall_s = time.perf_counter() - began
    return Prediction(table, start, end, wall_s)


def passes_table(table: PassTable, limit: int, *, title: str | None = None) -> Table:
    """A Rich table of the first ``limit`` passes: times in UTC, angles in degrees.

    AOS shows as ``MM-DD HH:MM:SS`` and LOS as ``HH:MM:SS`` (the year is in the
    summary's window line), so that the table fits 80 columns.

    A ``*`` marks an AOS or LOS cut at the window's edge (the pass was already
    under way at the start, or still under way at the end). The station column
    names the antenna too (``station/antenna``) where a station has several.
    """
    shown = min(limit, len(table))
    out = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True
    )
    out.add_column("satellite", min_width=10)
    out.add_column("station", min_width=8)
    out.add_column("AOS (UTC)", no_wrap=True)
    out.add_column("LOS (UTC)", no_wrap=True)
    out.add_column("duration", justify="right", no_wrap=True)
    out.add_column("max el", justify="right", no_wrap=True)
    out.add_column("azimuth", justify="right", no_wrap=True)
    clipped = False
    for i in range(shown):
        p = table.row(i)
        clipped = clipped or p.aos_clipped or p.los_clipped
        aos, los = _to_second(p.aos), _to_second(p.los)
        minutes, seconds = divmod(round((los - aos).total_seconds()), 60)
        out.add_row(
            p.satellite.name,
            _antenna_label(p.station, p.antenna),
            aos.strftime("%m-%d %H:%M:%S") + ("*" if p.aos_clipped else ""),
            los.strftime("%H:%M:%S") + ("*" if p.los_clipped else ""),
            f"{minutes}m{seconds:02d}s",
            f"{p.max_elevation_deg:.1f}°",
            f"{p.aos_azimuth_deg:.0f}→{p.los_azimuth_deg:.0f}",
        )
    notes = [f"first {shown:,} of {len(table):,} passes"] if shown < len(table) else []
    if clipped:
        notes.append("* cut at the window edge")
    out.caption = "; ".join(notes) or None
    return out


def summary_lines(prediction: Prediction, elements: ElementsReport | None = None) -> list[str]:
    """What was computed (passes, satellites, antennas, window, wall time) and the warnings.

    Warnings come in four kinds, each capped at :data:`WARNINGS_SHOWN` lines:
    records of the element file that were skipped and its notes (duplicates),
    both from ``elements``; element sets far from their epoch
    (:func:`~groundlink.orbits.ingest.epoch_age_warnings`); and satellites SGP4
    could not propagate through the window (``table.problems``).
    """
    elements = elements or ElementsReport()
    table = prediction.table
    hours = (prediction.end - prediction.start).total_seconds() / 3600.0
    lines = [
        f"{count(len(table), 'pass', 'passes')} of {count(len(table.satellites), 'satellite')} "
        f"over {count(len(table.antennas), 'antenna')}",
        f"window {iso_z(prediction.start)} → {iso_z(prediction.end)} ({hours:g} h)",
        f"computed in {_duration(prediction.wall_s)}",
    ]
    kinds = [
        ("element records skipped", [problem.message for problem in elements.problems]),
        ("element file notes", elements.warnings),
        ("old element sets", epoch_age_warnings(table.satellites, prediction.start)),
        ("SGP4 failures", list(table.problems)),
    ]
    warnings = sum(len(items) for _, items in kinds)
    lines.append(f"warnings: {warnings:,}" if warnings else "warnings: none")
    for kind, items in kinds:
        if not items:
            continue
        lines.append(f"  {kind} ({len(items):,}):")
        lines.extend(f"    {item}" for item in items[:WARNINGS_SHOWN])
        if len(items) > WARNINGS_SHOWN:
            lines.append(f"    ... and {len(items) - WARNINGS_SHOWN:,} more")
    return lines


def print_summary(
    console: Console, prediction: Prediction, elements: ElementsReport | None = None
) -> None:
    """Print :func:`summary_lines`, the first line bold."""
    for number, line in enumerate(summary_lines(prediction, elements)):
        say(console, line, "bold" if number == 0 else None)


def _duration(seconds: float) -> str:
    """``"42 ms"`` below a second, ``"3.21 s"`` above."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _antenna_label(station: GroundStation, antenna: Antenna) -> str:
    """``"Svalbard"`` for a one-antenna station, ``"Svalbard/sg2"`` where there are several."""
    return station.name if len(station.antennas) == 1 else f"{station.name}/{antenna.id}"


def _to_second(moment: datetime) -> datetime:
    """``moment`` rounded to the nearest whole second (for display; CSV and JSON keep ms)."""
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)

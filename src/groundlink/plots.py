"""Pictures of pass predictions, drawn with matplotlib (an optional dependency).

matplotlib is imported inside the functions that draw, so that groundlink
works without it; install it with ``pip install 'groundlink[plot]'``. Figures
are drawn on matplotlib's Agg canvas directly (no pyplot, no global backend
switch), so drawing is safe on a server without a display.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from groundlink.errors import GroundlinkError
from groundlink.passes.table import PassTable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.cm import ScalarMappable

#: How to get the optional plotting dependency.
INSTALL_HINT = "pip install 'groundlink[plot]'"

_SECONDS_PER_DAY = 86_400.0


def matplotlib_available() -> bool:
    """True when matplotlib can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def require_matplotlib() -> None:
    """Raise a :class:`GroundlinkError` saying how to install matplotlib, if it is missing."""
    if not matplotlib_available():
        raise GroundlinkError(f"plots need matplotlib, which is not installed: {INSTALL_HINT}")


def plot_passes(table: PassTable, path: str | os.PathLike[str], *, max_rows: int = 40) -> Path:
    """Draw the passes as a timeline PNG: one row per antenna, one bar per pass.

    Each bar runs from AOS to LOS on a UTC time axis and is coloured by the
    pass's maximum elevation (0-90 degrees, colour bar on the right). Rows are
    the antennas that have passes, in the order of the station file, labelled
    ``station/antenna``; past ``max_rows`` the rest are left out and the title
    says how many.

    Args:
        table: the passes, as :func:`~groundlink.passes.engine.find_passes` returns them.
        path: the PNG file to write (its folder must exist).
        max_rows: the most antenna rows to draw.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        GroundlinkError: when matplotlib is not installed.
    """
    require_matplotlib()
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    used = np.unique(table.antenna_index)  # antennas with passes, in station-file order
    rows = used[:max_rows]
    figure = Figure(figsize=(11.0, 1.6 + 0.3 * max(len(rows), 3)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    colours = ScalarMappable(norm=Normalize(vmin=0.0, vmax=90.0), cmap=colormaps["viridis"])
    _draw_bars(axes, table, rows, colours)
    _label_axes(axes, table, rows)
    axes.set_title(_title(table, len(rows), len(used)), fontsize=10)
    figure.colorbar(colours, ax=axes, label="max elevation (deg)", pad=0.01, fraction=0.03)
    target = Path(path)
    figure.savefig(target, format="png", dpi=110)
    return target


def _draw_bars(
    axes: Axes, table: PassTable, rows: npt.NDArray[np.int64], colours: ScalarMappable
) -> None:
    """One bar per pass from AOS to LOS, on the row of its antenna, coloured by max elevation."""
    for row, antenna in enumerate(rows):
        picked = table.antenna_index == antenna
        aos_days = _matplotlib_days(table.aos_unix_s[picked])
        length_days = table.duration_s[picked] / _SECONDS_PER_DAY
        axes.broken_barh(
            list(zip(aos_days.tolist(), length_days.tolist(), strict=True)),
            (row - 0.38, 0.76),
            facecolors=colours.to_rgba(table.max_elevation_deg[picked]),
            edgecolor="black",
            linewidth=0.2,
        )


def _label_axes(axes: Axes, table: PassTable, rows: npt.NDArray[np.int64]) -> None:
    """``station/antenna`` on the rows (first at the top), UTC dates and times along the bottom."""
    from matplotlib import dates

    axes.set_xlabel("time (UTC)")
    if not len(table):
        axes.text(0.5, 0.5, "no passes", transform=axes.transAxes, ha="center", va="center")
        axes.set_xticks([])
        axes.set_yticks([])
        return
    labels = [f"{station.name}/{antenna.id}" for station, antenna in table.antennas]
    axes.set_yticks(range(len(rows)), [labels[int(a)] for a in rows], fontsize=8)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.grid(axis="x", linewidth=0.3, alpha=0.6)
    # matplotlib.dates has no type annotations yet, hence the ignores.
    locator = dates.AutoDateLocator(tz=UTC)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = dates.ConciseDateFormatter(locator, tz=UTC)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    first = _matplotlib_days(table.aos_unix_s.min())
    last = _matplotlib_days(table.los_unix_s.max())
    axes.set_xlim(float(first), float(last))


def _matplotlib_days(unix_s: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """POSIX seconds as matplotlib date numbers (days since matplotlib's epoch)."""
    from matplotlib import dates

    unix_epoch = datetime(1970, 1, 1, tzinfo=UTC)
    epoch_days = float(dates.date2num(unix_epoch))  # type: ignore[no-untyped-call]
    return np.asarray(unix_s, dtype=np.float64) / _SECONDS_PER_DAY + epoch_days


def _title(table: PassTable, shown: int, with_passes: int) -> str:
    """``"1,806 passes of 12 satellites over 30 antennas, 2026-11-24 01:32 to ... UTC"``."""
    satellites, antennas = len(table.satellites), len(table.antennas)
    text = f"{len(table):,} passes of {satellites:,} satellites over {antennas:,} antennas"
    if len(table):
        first = datetime.fromtimestamp(float(table.aos_unix_s.min()), tz=UTC)
        last = datetime.fromtimestamp(float(table.los_unix_s.max()), tz=UTC)
        text += f", {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
    if shown < with_passes:
        text += f" (first {shown} of {with_passes} antennas with passes shown)"
    return text

"""A schedule as a picture: a Gantt chart of the plan, one row per antenna (matplotlib, optional).

Like :mod:`groundlink.plots`, matplotlib is imported inside the function
that draws (install it with ``pip install 'groundlink[plot]'``) and the
figure is drawn on the Agg canvas directly, so this works on a server.

What the chart shows, per antenna row on a UTC time axis:

* each contact as a bar from its start to its end, coloured by tenant (or
  by priority), with its setup and teardown as paler bars either side;
  a contact on several antennas at once (a DSN array) is drawn on each;
* maintenance as grey hatched spans;
* fixed contacts (already booked, kept by the solver) with a thick black
  outline; fixed time held by something outside the instance in dark grey.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from groundlink.plots import require_matplotlib
from groundlink.scheduling.model import Instance, Request, ScheduledContact

if TYPE_CHECKING:
    from matplotlib.axes import Axes

ColourBy = Literal["tenant", "priority"]

_SECONDS_PER_DAY = 86_400.0
_BAR = (-0.36, 0.72)  # a row's bar, relative to the row's centre: offset and height
_PALE_ALPHA = 0.35
#: Turns a span in instance seconds into matplotlib's (start day number, length in days).
_Span = Callable[[float, float], tuple[float, float]]


def plot_schedule(
    instance: Instance,
    contacts: Sequence[ScheduledContact],
    path: str | os.PathLike[str],
    *,
    title: str = "",
    colour_by: ColourBy = "tenant",
    max_rows: int = 60,
) -> Path:
    """Draw ``contacts`` of ``instance`` as a Gantt chart PNG, one row per antenna.

    Rows are the instance's resources in its order (the first ``max_rows``;
    the title says when some are left out). Colours: one per tenant (a
    legend for up to 20) or one per priority 1-5.

    Args:
        instance: the problem (resources, maintenance, fixed contacts, requests).
        contacts: the plan, in the instance's seconds.
        path: the PNG to write (its folder must exist).
        title: first line of the title (default: the instance's name).
        colour_by: ``"tenant"`` or ``"priority"``.
        max_rows: the most antenna rows to draw.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        GroundlinkError: when matplotlib is not installed.
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    resources = [resource.id for resource in instance.resources][:max_rows]
    row_of = {resource: row for row, resource in enumerate(resources)}
    requests = {request.id: request for request in instance.requests}
    colours = _colours(instance, colour_by)

    figure = Figure(figsize=(13.0, 1.8 + 0.32 * max(len(resources), 3)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    day0 = _days(instance.epoch)

    def span(start_s: float, end_s: float) -> tuple[float, float]:
        return day0 + start_s / _SECONDS_PER_DAY, (end_s - start_s) / _SECONDS_PER_DAY

    for resource in instance.resources:
        if resource.id in row_of and resource.maintenance:
            axes.broken_barh(
                [span(m.start_s, m.end_s) for m in resource.maintenance],
                (row_of[resource.id] + _BAR[0], _BAR[1]),
                facecolors="none",
                edgecolor="0.45",
                hatch="////",
                linewidth=0.4,
            )
    for fixed in instance.fixed:
        if fixed.request:
            continue
        for resource_id in fixed.resources:
            if resource_id in row_of:
                axes.broken_barh(
                    [span(fixed.start_s, fixed.end_s)],
                    (row_of[resource_id] + _BAR[0], _BAR[1]),
                    facecolors="0.3",
                    edgecolor="black",
                    linewidth=1.2,
                )
    _draw_contacts(axes, contacts, requests, row_of, colours, colour_by, span)
    _label(axes, instance, resources, title, len(contacts))
    _legend(axes, colours, colour_by)
    target = Path(path)
    figure.savefig(target, format="png", dpi=110)
    return target


def _draw_contacts(
    axes: Axes,
    contacts: Sequence[ScheduledContact],
    requests: dict[str, Request],
    row_of: dict[str, int],
    colours: dict[str, tuple[float, float, float, float]],
    colour_by: ColourBy,
    span: _Span,
) -> None:
    """Bars grouped per (row, colour, kind) so matplotlib draws thousands of contacts quickly."""
    groups: dict[tuple[int, str, str], list[tuple[float, float]]] = defaultdict(list)
    for contact in contacts:
        request = requests.get(contact.request)
        key = _colour_key(request, colour_by)
        setup_s = request.setup_s if request else 0.0
        teardown_s = request.teardown_s if request else 0.0
        kind = "fixed" if contact.fixed else "track"
        for resource_id in contact.resources:
            row = row_of.get(resource_id)
            if row is None:
                continue
            groups[(row, key, kind)].append(span(contact.start_s, contact.end_s))
            if setup_s > 0:
                groups[(row, key, "pale")].append(span(contact.start_s - setup_s, contact.start_s))
            if teardown_s > 0:
                groups[(row, key, "pale")].append(span(contact.end_s, contact.end_s + teardown_s))
    for (row, key, kind), bars in groups.items():
        colour = colours.get(key, (0.5, 0.5, 0.5, 1.0))
        axes.broken_barh(
            bars,
            (row + _BAR[0], _BAR[1]),
            facecolors=[(*colour[:3], _PALE_ALPHA if kind == "pale" else 1.0)],
            edgecolor="black" if kind == "fixed" else "none",
            linewidth=1.4 if kind == "fixed" else 0.0,
        )


def _colour_key(request: Request | None, colour_by: ColourBy) -> str:
    if request is None:
        return ""
    return request.tenant if colour_by == "tenant" else f"priority {request.priority}"


def _colours(
    instance: Instance, colour_by: ColourBy
) -> dict[str, tuple[float, float, float, float]]:
    from matplotlib import colormaps

    if colour_by == "priority":
        ramp = colormaps["plasma"]
        return {f"priority {p}": ramp((p - 1) / 4.6) for p in range(1, 6)}
    tenants = sorted({request.tenant for request in instance.requests})
    palette = colormaps["tab20" if len(tenants) > 10 else "tab10"]
    return {tenant: palette(i % palette.N) for i, tenant in enumerate(tenants)}


def _label(
    axes: Axes, instance: Instance, resources: list[str], title: str, contact_count: int
) -> None:
    from matplotlib import dates

    axes.set_yticks(range(len(resources)), resources, fontsize=8)
    axes.set_ylim(len(resources) - 0.5, -0.5)
    axes.set_xlabel("time (UTC)")
    axes.grid(axis="x", linewidth=0.3, alpha=0.6)
    # matplotlib.dates has no type annotations yet, hence the ignores.
    locator = dates.AutoDateLocator(tz=UTC)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = dates.ConciseDateFormatter(locator, tz=UTC)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    start = _days(instance.epoch)
    axes.set_xlim(start, start + instance.horizon_s / _SECONDS_PER_DAY)
    end = instance.epoch + timedelta(seconds=instance.horizon_s)
    heading = title or instance.name or "schedule"
    detail = (
        f"{contact_count:,} contacts on {len(instance.resources):,} antennas, "
        f"{instance.epoch:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    )
    if len(resources) < len(instance.resources):
        detail += f" (first {len(resources)} antennas shown)"
    axes.set_title(f"{heading}\n{detail}", fontsize=10)


def _legend(
    axes: Axes, colours: dict[str, tuple[float, float, float, float]], colour_by: ColourBy
) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, label=k) for k, c in colours.items()][:20]
    if len(colours) > 20:
        handles.append(Patch(facecolor="white", label=f"... {len(colours) - 20} more tenants"))
    handles.append(Patch(facecolor="none", edgecolor="0.45", hatch="////", label="maintenance"))
    handles.append(Patch(facecolor="white", edgecolor="black", linewidth=1.4, label="fixed"))
    axes.legend(
        handles=handles,
        title=colour_by,
        loc="upper left",
        bbox_to_anchor=(1.005, 1.0),
        fontsize=7,
        title_fontsize=8,
        frameon=False,
    )


def _days(moment: datetime) -> float:
    """A datetime as a matplotlib date number (days since matplotlib's epoch)."""
    from matplotlib import dates

    return float(dates.date2num(moment))  # type: ignore[no-untyped-call]

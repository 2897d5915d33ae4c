"""``groundlink schedule solve|plot``: the network scheduler on an instance file or a SatNet week.

::

    groundlink schedule solve --instance problem.json --time-limit 10 --output json
    groundlink schedule solve --satnet W10_2018.json --maintenance W10_2018_maintenance.csv \\
        --time-limit 60
    groundlink schedule plot --instance problem.json --schedule result.json --out plan.png

``solve`` reads the problem (the JSON instance format of
:mod:`groundlink.scheduling.instance_io`, or a SatNet week with its
maintenance file), runs :func:`groundlink.scheduling.solve.solve` with a
progress bar on stderr, and prints a summary (value, bound, gap, contacts,
each tenant's share, why requests were not fully served) or the result
object as JSON (``--output json``), to stdout or ``--out``. For a SatNet
week the contacts are the tracks SatNet accepts and the SatNet metrics are
added (hours allocated, requests satisfied, U_max, U_rms).

``plot`` draws a result as a Gantt chart per antenna
(:func:`groundlink.schedule_plots.plot_schedule`).

Bad input (a missing file, an invalid instance, a bad option) is one line
``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from groundlink.cli.edge import (
    PIPE_WIDTH,
    count,
    rejects_bad_input,
    say,
    stderr_console,
    stdout_console,
)
from groundlink.errors import InvalidInput
from groundlink.schedule_plots import plot_schedule
from groundlink.scheduling.instance_io import (
    loads_instance,
    loads_schedule_contacts,
    schedule_to_json,
)
from groundlink.scheduling.model import Instance, Schedule
from groundlink.scheduling.satnet import (
    SatNetMetrics,
    parse_maintenance_csv,
    parse_satnet_week,
    satnet_metrics,
    satnet_tracks,
)

app = typer.Typer(
    name="schedule",
    help="Network scheduling: plan contacts for many requests over shared antennas.",
    no_args_is_help=True,
)

#: Rows shown in the tenant and unserved tables (the JSON output has all).
TABLE_ROWS = 20


class Method(StrEnum):
    """Which solver ``--method`` asks for."""

    auto = "auto"
    greedy = "greedy"
    cpsat = "cpsat"


class SolveOutput(StrEnum):
    """What ``solve --output`` writes."""

    table = "table"
    json = "json"


class ColourBy(StrEnum):
    """What ``plot --colour-by`` colours contacts by."""

    tenant = "tenant"
    priority = "priority"


InstanceOption = Annotated[
    Path | None,
    typer.Option(
        "--instance", help="Instance file in the JSON instance format (docs/scheduling.md)."
    ),
]
SatNetOption = Annotated[
    Path | None,
    typer.Option("--satnet", help="A SatNet week (JSON), instead of --instance."),
]
MaintenanceOption = Annotated[
    Path | None,
    typer.Option("--maintenance", help="The SatNet week's maintenance CSV (with --satnet)."),
]
WeekOption = Annotated[
    str | None,
    typer.Option("--week", help="Which week of a SatNet file holding several (e.g. W10_2018)."),
]


@dataclass(frozen=True)
class Problem:
    """An instance and where it came from (``satnet``: a SatNet week, with its rules)."""

    instance: Instance
    source: str
    satnet: bool


def load_problem(
    instance: Path | None, satnet: Path | None, maintenance: Path | None, week: str | None
) -> Problem:
    """The instance named by ``--instance``, or by ``--satnet`` (and ``--maintenance``).

    Raises:
        InvalidInput: for both or neither of ``--instance`` and ``--satnet``,
            ``--maintenance``/``--week`` without ``--satnet``, or a bad file.
        OSError: for a file that cannot be read.
    """
    if (instance is None) == (satnet is None):
        raise InvalidInput(
            "--instance/--satnet",
            "both" if instance is not None else "neither",
            "exactly one of --instance FILE or --satnet WEEK.json",
        )
    if instance is not None:
        for name, value in (("--maintenance", maintenance), ("--week", week)):
            if value is not None:
                raise InvalidInput(name, str(value), "this option only with --satnet")
        return Problem(
            loads_instance(instance.read_bytes(), source=str(instance)), str(instance), False
        )
    assert satnet is not None
    windows = (
        parse_maintenance_csv(maintenance.read_text(encoding="utf-8"), source=str(maintenance))
        if maintenance is not None
        else ()
    )
    week_instance = parse_satnet_week(
        satnet.read_bytes(), maintenance=windows, week=week, source=str(satnet)
    )
    return Problem(week_instance, str(satnet), True)


@app.command("solve")
@rejects_bad_input
def solve_command(
    instance: InstanceOption = None,
    satnet: SatNetOption = None,
    maintenance: MaintenanceOption = None,
    week: WeekOption = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds the solver may run (> 0).")
    ] = 10.0,
    method: Annotated[
        Method, typer.Option("--method", help="auto (greedy, then CP-SAT), greedy or cpsat.")
    ] = Method.auto,
    fairness: Annotated[
        bool,
        typer.Option("--fairness/--no-fairness", help="Apply the fairness rule between tenants."),
    ] = True,
    output: Annotated[
        SolveOutput, typer.Option("--output", "-o", help="table or json.")
    ] = SolveOutput.table,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the output to this file, not stdout.")
    ] = None,
) -> None:
    """Solve a scheduling instance: value, bound, gap and the chosen contacts."""
    if not (math.isfinite(time_limit) and time_limit > 0):
        raise InvalidInput("--time-limit", time_limit, "seconds > 0")
    problem = load_problem(instance, satnet, maintenance, week)
    schedule = _solve(problem.instance, time_limit, method, fairness)
    metrics = None
    if problem.satnet:
        schedule = replace(schedule, contacts=satnet_tracks(problem.instance, schedule.contacts))
        metrics = satnet_metrics(problem.instance, schedule.contacts)
    document = schedule_to_json(problem.instance, schedule)
    if metrics is not None:
        document["satnet"] = metrics.to_json()

    machine_output_on_stdout = output is SolveOutput.json and out is None
    notes = stderr_console() if machine_output_on_stdout else stdout_console()
    if output is SolveOutput.json:
        text = json.dumps(document, indent=1) + "\n"
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            out.write_text(text, encoding="utf-8")
            print_summary(notes, problem, schedule, metrics)
            say(notes, f"wrote the result to {out}")
        return
    if out is None:
        print_summary(notes, problem, schedule, metrics)
        return
    with out.open("w", encoding="utf-8") as handle:
        print_summary(
            Console(file=handle, width=PIPE_WIDTH, no_color=True), problem, schedule, metrics
        )
    say(notes, f"wrote the summary to {out}")


def _solve(instance: Instance, time_limit_s: float, method: Method, fairness: bool) -> Schedule:
    """Run the solver with a progress bar on stderr (shown only on a terminal)."""
    from groundlink.scheduling.solve import solve

    console = stderr_console()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("solving", total=1.0)

        def progress(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=min(max(fraction, 0.0), 1.0))

        return solve(
            instance,
            time_limit_s=time_limit_s,
            method=method.value,
            fairness=fairness,
            progress=progress,
        )


def print_summary(
    console: Console, problem: Problem, schedule: Schedule, metrics: SatNetMetrics | None
) -> None:
    """The summary tables: the result, the SatNet metrics, tenant shares, unserved requests."""
    console.print(result_table(problem, schedule), "")
    if metrics is not None:
        console.print(satnet_table(metrics), "")
    if schedule.shares:
        console.print(shares_table(schedule), "")
    if schedule.unserved:
        console.print(unserved_table(schedule), "")
        reasons = Counter(u.reason for u in schedule.unserved)
        say(
            console,
            f"{count(len(schedule.unserved), 'request')} not fully served: "
            + ", ".join(f"{reason} {n}" for reason, n in reasons.most_common()),
        )
    else:
        say(console, "every request is fully served")


def _number(value: float, unit: str) -> str:
    return f"{value:,.1f}{unit}" if abs(value) < 1e5 else f"{value:,.0f}{unit}"


def _key_value_table(title: str) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, title=title, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    return table


def result_table(problem: Problem, schedule: Schedule) -> Table:
    """Instance, solver, value, bound, gap, contacts and time as a two-column table."""
    instance = problem.instance
    unit = " h" if problem.satnet else ""
    table = _key_value_table("schedule")
    table.add_row(
        "instance",
        f"{instance.name or problem.source}: {count(len(instance.requests), 'request')}, "
        f"{count(len(instance.resources), 'antenna')}, "
        f"{count(len(instance.opportunities), 'opportunity', 'opportunities')}",
    )
    table.add_row("solver", schedule.solver)
    table.add_row("status", schedule.status)
    table.add_row("value", _number(schedule.value, unit))
    table.add_row("bound", f"{_number(schedule.bound, unit)} ({schedule.bound_method})")
    table.add_row("gap", f"{schedule.gap:.1%}")
    table.add_row("contacts", f"{len(schedule.contacts):,}")
    if schedule.fairness_loss is not None:
        table.add_row("fairness cost", f"{schedule.fairness_loss:.1%} of value")
    table.add_row("time", f"{schedule.solve_s:.2f} s")
    return table


def satnet_table(metrics: SatNetMetrics) -> Table:
    """The SatNet paper's measures: hours, requests satisfied, U_max and U_rms."""
    table = _key_value_table("SatNet")
    table.add_row(
        "hours allocated",
        f"{metrics.hours_allocated:,.1f} of {metrics.hours_requested:,.1f} h requested",
    )
    table.add_row("requests satisfied", f"{metrics.requests_satisfied} of {metrics.requests}")
    table.add_row("missions", str(metrics.missions))
    table.add_row("U_max", f"{metrics.u_max:.3f} (mission {metrics.worst_mission})")
    table.add_row("U_rms", f"{metrics.u_rms:.3f}")
    return table


def shares_table(schedule: Schedule) -> Table:
    """Each tenant's value, what it asked for, its share and fair share, worst-served first."""
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="tenants", title_justify="left"
    )
    for name in ("tenant", "value", "asked", "share", "fair share", "ratio"):
        table.add_column(name, justify="left" if name == "tenant" else "right")
    ordered = sorted(schedule.shares, key=lambda s: (s.ratio, s.tenant))
    for share in ordered[:TABLE_ROWS]:
        table.add_row(
            share.tenant,
            f"{share.value:,.2f}",
            f"{share.requested_value:,.2f}",
            f"{share.share:.1%}",
            f"{share.fair_share:.1%}",
            f"{share.ratio:.2f}",
        )
    if len(ordered) > TABLE_ROWS:
        table.caption = f"{len(ordered) - TABLE_ROWS} more tenants in --output json"
    return table


def unserved_table(schedule: Schedule) -> Table:
    """Requests not fully served: how much, of how much, and why."""
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title="not fully served",
        title_justify="left",
    )
    for name in ("request", "served", "asked", "why"):
        table.add_column(name, justify="right" if name in ("served", "asked") else "left")
    for unserved in schedule.unserved[:TABLE_ROWS]:
        table.add_row(
            unserved.request,
            f"{unserved.served:,.6g}",
            f"{unserved.demand:,.6g}",
            f"{unserved.reason}: {unserved.detail}",
        )
    if len(schedule.unserved) > TABLE_ROWS:
        table.caption = f"{len(schedule.unserved) - TABLE_ROWS} more in --output json"
    return table


@app.command("plot")
@rejects_bad_input
def plot_command(
    schedule: Annotated[
        Path, typer.Option("--schedule", help="Result of 'schedule solve --output json'.")
    ],
    out: Annotated[Path, typer.Option("--out", help="The PNG to write.")],
    instance: InstanceOption = None,
    satnet: SatNetOption = None,
    maintenance: MaintenanceOption = None,
    week: WeekOption = None,
    colour_by: Annotated[
        ColourBy, typer.Option("--colour-by", help="Colour contacts by tenant or priority.")
    ] = ColourBy.tenant,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Antenna rows drawn.")] = 60,
) -> None:
    """Draw a schedule as a Gantt chart PNG, one row per antenna (needs matplotlib)."""
    problem = load_problem(instance, satnet, maintenance, week)
    text = schedule.read_bytes()
    contacts = loads_schedule_contacts(text, problem.instance, source=str(schedule))
    summary = _headline(text)
    plot_schedule(
        problem.instance,
        contacts,
        out,
        title=f"{problem.instance.name or problem.source}{summary}",
        colour_by=colour_by.value,
        max_rows=max_rows,
    )
    say(stdout_console(), f"wrote the plan of {count(len(contacts), 'contact')} to {out}")


def _headline(text: bytes) -> str:
    """``": value 8,642, bound 9,494, gap 9.0%"`` from a result object, or "" without them."""
    try:
        document: Any = json.loads(text)
        value, bound, gap = (
            float(document["value"]),
            float(document["bound"]),
            float(document["gap"]),
        )
    except (ValueError, KeyError, TypeError):
        return ""
    return f": value {value:,.1f}, bound {bound:,.1f}, gap {gap:.1%}"

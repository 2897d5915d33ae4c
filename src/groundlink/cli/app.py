"""The ``groundlink`` command: a Typer application, noun-verb style.

Commands::

    groundlink passes ...            predict passes (table, CSV or JSON)
    groundlink track ...             look angles, range, range rate along a pass
    groundlink elements check FILE   bad records, warnings, SGP4 failures
    groundlink elements convert FILE --to FORMAT
    groundlink stations list         the stations of a file or the demo network
    groundlink doctor                versions, SGP4 core, services
    groundlink up                    serve the API with a demo network, tenant and fleet
    groundlink spacecraft ...        add|list|show|update|delete, ephemeris add (over the API)
    groundlink mission-profiles ...  add|list|show|delete (over the API)
    groundlink contacts ...          available|book|list|show|update|events|cancel (over the API)
    groundlink usage [--month M]     your contact minutes in a month (over the API)
    groundlink keys ...              create|list|revoke (over the API)
    groundlink ground-stations ...   list|show|add, maintenance add|list|remove (over the API)
    groundlink schedule solve|plot   solve an instance file or a SatNet week; Gantt chart
    groundlink schedule plan|show|explain|commit  the network scheduler (over the API)

Exit codes: 0 success, 1 problems found (``elements check``/``convert``),
2 bad input (one line ``error: ...`` on stderr). Settings come from options
or ``GROUNDLINK_*`` environment variables (see docs/cli.md).
"""

from __future__ import annotations

from typing import Annotated

import typer

from groundlink import __version__
from groundlink.cli import (
    doctor,
    elements,
    mission_profiles,
    network,
    passes,
    planning,
    resources,
    schedule,
    stations,
    track,
    up,
    usage,
)

app = typer.Typer(
    name="groundlink",
    help="groundlink: open ground-station-as-a-service. Passes, elements, stations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("passes")(passes.passes)
app.command("track")(track.track)
app.add_typer(elements.app)
app.add_typer(stations.app)
app.command("doctor")(doctor.doctor)
app.command("up")(up.up)
app.add_typer(resources.spacecraft_app)
app.add_typer(mission_profiles.mission_profiles_app)
app.add_typer(resources.contacts_app)
app.add_typer(resources.keys_app)
app.add_typer(network.ground_stations_app)
app.command("usage")(usage.usage)
app.add_typer(schedule.app)
planning.register(schedule.app)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"groundlink {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """groundlink: open ground-station-as-a-service. Passes, elements, stations."""


def main() -> None:
    """Entry point of the ``groundlink`` console script."""
    app()

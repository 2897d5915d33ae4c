"""``groundlink up``: start groundlink on its embedded defaults.

Until the platform service exists (API server, database, simulated stations),
``up`` runs the demo: the demo fleet (12 synthetic Earth-observation and
Walker-shell satellites, ``groundlink/data/demo_fleet.tle``) over the demo
network (30 stations, ``groundlink/data/stations.csv``) for the next hours,
shown as a table and a summary and written to ``passes.csv`` (and
``passes.png`` when matplotlib is installed) in the data folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from groundlink.cli.edge import (
    rejects_bad_input,
    say,
    stdout_console,
    utc_now,
    window_length,
    window_start,
)
from groundlink.cli.prediction import passes_table, predict, print_summary
from groundlink.orbits.ingest import demo_fleet
from groundlink.plots import INSTALL_HINT, matplotlib_available, plot_passes
from groundlink.stations.io import demo_stations

#: Where ``up`` keeps its files unless ``--data-dir`` or ``GROUNDLINK_DATA_DIR`` says otherwise.
DEFAULT_DATA_DIR = Path("groundlink-data")
#: Passes shown in the table.
SHOWN_PASSES = 20


@rejects_bad_input
def up(
    hours: Annotated[float, typer.Option(help="Hours to predict from now, (0, 744].")] = 24.0,
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            help="Folder for passes.csv and passes.png (created if missing).",
            envvar="GROUNDLINK_DATA_DIR",
        ),
    ] = DEFAULT_DATA_DIR,
) -> None:
    """Start groundlink on its embedded defaults (for now: the pass-prediction demo)."""
    start = window_start(None, utc_now())
    end = start + window_length(hours)
    fleet = demo_fleet()
    network = demo_stations()
    console = stdout_console()
    say(
        console,
        f"groundlink demo: {len(fleet)} satellites (demo fleet) over {len(network)} "
        "stations (demo network)",
        "bold",
    )
    say(
        console,
        "The demo fleet's elements are synthetic, with epochs near 2024-06-01: fine for a "
        "demo, far too old for planning real contacts.",
    )
    prediction = predict(fleet, network, start, end)
    console.print(passes_table(prediction.table, SHOWN_PASSES, title="next passes"))
    print_summary(console, prediction)

    data_dir.mkdir(parents=True, exist_ok=True)
    csv_path = data_dir / "passes.csv"
    csv_path.write_text(prediction.table.to_csv(), encoding="utf-8")
    say(console, f"wrote {csv_path}")
    if matplotlib_available():
        say(console, f"wrote {plot_passes(prediction.table, data_dir / 'passes.png')}")
    else:
        say(console, f"no timeline picture: matplotlib is not installed ({INSTALL_HINT})")
    say(
        console,
        "The API server (REST API, web dashboard, simulated stations) arrives with the "
        "platform issue; until then `groundlink up` runs this demo.",
    )

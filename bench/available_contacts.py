"""Available-contacts benchmark: a 100-spacecraft fleet over the 30 reference stations for 7 days.

    python bench/available_contacts.py [--repeat 3] [--eirp-dbw 10]

Workload: 100 satellites of ``../shared/data/population.tle`` taken evenly
through the file (so every shell and the sun-synchronous satellites are in
it), the 30 stations of ``../shared/data/stations.csv`` (each antenna given
an X-band downlink band and G/T 31 dB/K), 7 days from 2024-06-01T00:00Z, an
X-band downlink of 50 Mbit/s. Prints the wall time of one
``available_contacts`` call returning every contact with its volume (best of
``--repeat``), how much of it is the pass search, and the time of the first
page of 100 sorted by volume, largest first. ``--eirp-dbw`` sets the link:
at 10 dBW it closes over every pass; at -6 dBW most passes close only part
of the time, which is the slower path. Results go in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from _timing import best_of
from groundlink.orbits.ingest import read_elements_file
from groundlink.passes.engine import find_passes
from groundlink.services.availability import (
    AntennaReceiver,
    DownlinkLink,
    MissionProfile,
    Spacecraft,
    available_contacts,
    page_contacts,
)
from groundlink.stations.io import read_stations_file
from groundlink.stations.model import FrequencyBand

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
START = datetime(2024, 6, 1, tzinfo=UTC)
END = START + timedelta(days=7)
X_BAND = FrequencyBand("X", 8_025_000_000, 8_400_000_000)
PROFILE = MissionProfile(
    min_elevation_deg=0.0, min_viable_contact_duration_s=60.0, prepass_s=120.0, postpass_s=60.0
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--eirp-dbw", type=float, default=10.0)
    args = parser.parse_args()

    population = read_elements_file(DATA / "population.tle").elements
    chosen = population[:: len(population) // 100][:100]
    stations = [
        replace(s, antennas=tuple(replace(a, bands=(X_BAND,)) for a in s.antennas))
        for s in read_stations_file(DATA / "stations.csv")
    ]
    link = DownlinkLink(8_200_000_000, 20_000_000, eirp_dbw=args.eirp_dbw, data_rate_bps=50e6)
    fleet = [Spacecraft(e.name, e, link) for e in chosen]
    receivers = {(s.id, a.id): AntennaReceiver(31.0) for s in stations for a in s.antennas}

    best, runs, result = best_of(
        args.repeat,
        lambda: available_contacts(fleet, stations, receivers, PROFILE, START, END),
    )
    passes_best, _, _ = best_of(
        args.repeat, lambda: find_passes([s.elements for s in fleet], stations, START, END)
    )
    page_best, _, page = best_of(
        max(args.repeat, 5),
        lambda: page_contacts(result, sort_by="volume_bytes", descending=True, limit=100),
    )
    full = result.duration_s * link.data_rate_bps / 8
    partial = float(np.mean(result.volume_bytes < full - 1.0))

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"workload: {len(fleet)} spacecraft x {len(receivers)} antennas x 7 days, "
        f"EIRP {args.eirp_dbw:g} dBW"
    )
    print(f"available contacts: {len(result):,} ({partial:.0%} closing only part of the pass)")
    print(f"available_contacts: {best:.3f} s (runs: {', '.join(f'{t:.3f}' for t in runs)})")
    print(f"  of which find_passes alone: {passes_best:.3f} s")
    print(f"first page of 100 by volume, descending: {page_best * 1000:.1f} ms")
    assert len(page.contacts) == min(100, len(result))


if __name__ == "__main__":
    main()

"""Pass-engine benchmark on the reference workload, with Skyfield in the same run.

    python bench/passes.py [--workers N] [--repeat R] [--skyfield-pairs P]

Workload: all satellites of ``../shared/data/population.tle`` (6,048) over the
30 stations of ``../shared/data/stations.csv`` (elevation mask from the file),
24 h from 2024-06-01T00:00Z. Prints what a fresh process pays before its first
search (importing the engine, then the first call: numba's import and the
compiled kernels, loaded from their cache or compiled), the wall time of
``find_passes`` (best of ``--repeat`` runs), passes found, peak resident
memory (this process and the largest worker), the time to write the result as
CSV and JSON, and the time Skyfield's ``EarthSatellite.find_events`` takes for
a random sample of satellite-station pairs, extrapolated to the same work,
with the ratio. Results go in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from groundlink.orbits.ingest import read_elements_file
from groundlink.orbits.tle import format_tle
from groundlink.passes.engine import find_passes
from groundlink.stations.io import read_stations_file

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
START = datetime(2024, 6, 1, tzinfo=UTC)
END = START + timedelta(hours=24)


def _peak_rss_mib() -> tuple[float, float]:
    """Peak resident set size of this process and of its largest child, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


_FIRST_CALL = """
import time
started = time.perf_counter()
from datetime import UTC, datetime, timedelta
from groundlink.orbits.elements import OrbitalElements
from groundlink.passes.engine import find_passes
from groundlink.stations.model import Antenna, GroundStation
imported = time.perf_counter()
start = datetime(2024, 6, 1, tzinfo=UTC)
satellite = OrbitalElements(
    object_name="SAT", object_id="2024-001A", epoch=start, mean_motion=15.0,
    eccentricity=0.001, inclination=53.0, ra_of_asc_node=0.0, arg_of_pericenter=0.0,
    mean_anomaly=0.0, norad_cat_id=99999,
)
station = GroundStation("gs", "GS", 45.0, 10.0, 0.0, (Antenna("a", 5.0),))
find_passes([satellite], [station], start, start + timedelta(hours=1), workers=1)
print(imported - started, time.perf_counter() - imported)
"""


def _first_call_seconds() -> tuple[float, float]:
    """In a fresh interpreter: seconds to import the engine, then for the first small search."""
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_CALL], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def _skyfield_seconds_per_pair(
    satellites: list, stations: list, pairs: int, seed: int = 1
) -> float:
    """Mean wall time of Skyfield's find_events for one satellite-station pair over 24 h."""
    from skyfield.api import EarthSatellite, load, wgs84

    timescale = load.timescale(builtin=True)
    t0, t1 = timescale.from_datetime(START), timescale.from_datetime(END)
    rng = random.Random(seed)
    chosen = [(rng.choice(satellites), rng.choice(stations)) for _ in range(pairs)]
    prepared = []
    for elements, station in chosen:
        line1, line2 = format_tle(elements)
        satellite = EarthSatellite(line1, line2, elements.name, timescale)
        site = wgs84.latlon(station.latitude_deg, station.longitude_deg, station.altitude_m)
        prepared.append((satellite, site, station.antennas[0].min_elevation_deg))
    started = time.perf_counter()
    for satellite, site, mask in prepared:
        satellite.find_events(site, t0, t1, altitude_degrees=mask)
    return (time.perf_counter() - started) / pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skyfield-pairs", type=int, default=60, help="0 skips Skyfield")
    args = parser.parse_args()

    report = read_elements_file(DATA / "population.tle")
    satellites = report.elements
    stations = read_stations_file(DATA / "stations.csv")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"workload: {len(satellites)} satellites x {len(stations)} stations x 24 h")
    import_s, first_call_s = _first_call_seconds()
    print(f"fresh process: import {import_s:.2f} s, first find_passes call {first_call_s:.2f} s")

    times = []
    table = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        table = find_passes(satellites, stations, START, END, workers=args.workers)
        times.append(time.perf_counter() - started)
    assert table is not None
    best = min(times)
    own_mib, child_mib = _peak_rss_mib()
    print(f"passes found: {len(table):,}")
    print(f"find_passes wall time, {args.workers} workers: best {best:.2f} s of {times}")
    print(f"peak RSS: main process {own_mib:.0f} MiB, largest worker {child_mib:.0f} MiB")

    started = time.perf_counter()
    csv_text = table.to_csv()
    csv_s = time.perf_counter() - started
    started = time.perf_counter()
    json_text = table.to_json()
    json_s = time.perf_counter() - started
    print(
        f"CSV: {csv_s:.2f} s ({len(csv_text) / 1e6:.0f} MB); "
        f"JSON: {json_s:.2f} s ({len(json_text) / 1e6:.0f} MB)"
    )

    if args.skyfield_pairs <= 0:
        return
    per_pair_s = _skyfield_seconds_per_pair(satellites, stations, args.skyfield_pairs)
    skyfield_total_s = per_pair_s * len(satellites) * len(stations)
    print(
        f"Skyfield find_events: {per_pair_s * 1e3:.2f} ms per satellite-station-day "
        f"({args.skyfield_pairs} pairs sampled), extrapolated {skyfield_total_s:.0f} s"
    )
    print(f"speed-up over Skyfield: {skyfield_total_s / best:.0f}x")


if __name__ == "__main__":
    main()

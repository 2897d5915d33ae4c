"""Predict a day of passes of the demo fleet over the demo network, from Python.

Run it with ``python docs/examples/predict_passes.py``; ``tests/test_examples.py``
runs it too, so it cannot go stale.
"""

from datetime import UTC, datetime, timedelta

from groundlink.orbits.ingest import demo_fleet
from groundlink.passes.engine import find_passes
from groundlink.stations.io import demo_stations

start = datetime(2024, 6, 1, tzinfo=UTC)
table = find_passes(demo_fleet(), demo_stations(), start, start + timedelta(days=1))

print(f"{len(table)} passes")
best = table.row(int(table.max_elevation_deg.argmax()))
print(
    f"highest: {best.satellite.name} over {best.station.name} "
    f"at {best.tca:%H:%M:%S} UTC, {best.max_elevation_deg:.1f} deg"
)
with open("passes.csv", "w", encoding="utf-8") as handle:
    handle.write(table.to_csv())

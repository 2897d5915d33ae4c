"""Passes predicted by Skyfield (``find_events``): the outside reference for re-prediction tests.

Skyfield propagates the same SGP4 elements with its own frames and its own
event search, so a pass it finds is independent of groundlink's pass engine
(which agrees with it to about 0.1 s; see ``bench/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.propagation import satrec_from_elements


@dataclass(frozen=True)
class ReferencePass:
    """One pass above the elevation asked for: rise, culmination and set, UTC."""

    aos: datetime
    tca: datetime
    los: datetime


def skyfield_passes(
    timescale: Any,
    elements: OrbitalElements,
    site: tuple[float, float, float],
    start: datetime,
    end: datetime,
    min_elevation_deg: float,
) -> list[ReferencePass]:
    """Whole passes of ``elements`` above ``min_elevation_deg`` between ``start`` and ``end``.

    ``site`` is (latitude, longitude in degrees, height in m); passes cut by
    the window are left out.
    """
    from skyfield.api import EarthSatellite, wgs84

    satellite = EarthSatellite.from_satrec(satrec_from_elements(elements), timescale)
    observer = wgs84.latlon(site[0], site[1], elevation_m=site[2])
    times, events = satellite.find_events(
        observer,
        timescale.from_datetime(start),
        timescale.from_datetime(end),
        altitude_degrees=min_elevation_deg,
    )
    found: list[ReferencePass] = []
    rise: datetime | None = None
    peak: datetime | None = None
    for time, event in zip(times, events, strict=True):
        moment = time.utc_datetime()
        if event == 0:
            rise, peak = moment, None
        elif event == 1 and rise is not None and peak is None:
            peak = moment
        elif event == 2 and rise is not None and peak is not None:
            found.append(ReferencePass(rise, peak, moment))
            rise = None
    return found


def expected_fit(
    aos: datetime, los: datetime, passes: list[ReferencePass], tolerance_s: float
) -> tuple[str, ReferencePass | None]:
    """The fit that the definition gives for a booking over ``passes`` (the longest overlap)."""
    best: ReferencePass | None = None
    best_overlap_s = 0.0
    for candidate in passes:
        overlap_s = (min(candidate.los, los) - max(candidate.aos, aos)).total_seconds()
        if overlap_s > best_overlap_s:
            best, best_overlap_s = candidate, overlap_s
    if best is None:
        return "lost", None
    covers = (best.aos - aos).total_seconds() <= tolerance_s and (
        los - best.los
    ).total_seconds() <= tolerance_s
    return ("fits" if covers else "shifted"), best

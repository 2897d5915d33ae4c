"""The sampled track of a satellite seen from a station: what an antenna points along.

:func:`sample_track` evaluates SGP4 directly (no interpolation) at every
sample time, so a track is as exact as the propagator, and returns azimuth,
elevation, slant range and range rate: the inputs of antenna pointing and
Doppler correction. Use :func:`track_times` for an evenly stepped pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from groundlink.errors import InvalidInput
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.frames import (
    dot,
    east_north_up,
    geodetic_to_ecef_km,
    gmst82_rad,
    look_angles,
    teme_to_ecef,
)
from groundlink.orbits.propagation import SGP4_ERRORS, satrec_from_elements, split_julian_date
from groundlink.passes.table import iso_utc_ms, unix_seconds
from groundlink.stations.model import GroundStation

FloatArray = npt.NDArray[np.float64]

#: Most samples one track may hold (a day at 0.1 s).
MAX_TRACK_SAMPLES = 864_000


@dataclass(frozen=True)
class Track:
    """Look angles of one satellite from one station at T sample times.

    ``unix_s`` are POSIX seconds (UTC); angles in degrees (azimuth clockwise
    from true north, elevation above the geodetic horizon); ``range_km`` the
    slant range; ``range_rate_km_s`` its rate (positive when receding).
    """

    unix_s: FloatArray
    azimuth_deg: FloatArray
    elevation_deg: FloatArray
    range_km: FloatArray
    range_rate_km_s: FloatArray

    def to_csv(self) -> str:
        """The track as CSV: time (ISO-8601 UTC, ms, Z), azimuth, elevation, range, range rate."""
        header = "time,azimuth_deg,elevation_deg,range_km,range_rate_km_s"
        rows = zip(
            iso_utc_ms(self.unix_s),
            (f"{v:.4f}" for v in self.azimuth_deg.tolist()),
            (f"{v:.4f}" for v in self.elevation_deg.tolist()),
            (f"{v:.3f}" for v in self.range_km.tolist()),
            (f"{v:.6f}" for v in self.range_rate_km_s.tolist()),
            strict=True,
        )
        return "\n".join([header, *map(",".join, rows)]) + "\n"


def track_times(start: datetime, end: datetime, step_s: float) -> list[datetime]:
    """Times from ``start`` to ``end`` (both included) every ``step_s`` seconds.

    Raises:
        InvalidInput: for a non-positive step, a reversed window or more
            than :data:`MAX_TRACK_SAMPLES` samples.
    """
    if not (math.isfinite(step_s) and step_s > 0):
        raise InvalidInput("step_s", step_s, "a positive number of seconds")
    span_s = (end - start).total_seconds()
    if span_s < 0:
        raise InvalidInput(
            "end", end.isoformat(), f"a time at or after start ({start.isoformat()})"
        )
    count = math.floor(span_s / step_s + 1e-9) + 1
    if count > MAX_TRACK_SAMPLES:
        raise InvalidInput("step_s", step_s, f"a step giving at most {MAX_TRACK_SAMPLES:,} samples")
    times = [start + timedelta(seconds=i * step_s) for i in range(count)]
    if times[-1] < end:
        times.append(end)
    return times


def sample_track(
    satellite: OrbitalElements,
    station: GroundStation,
    times: list[datetime],
    *,
    ut1_minus_utc_s: float = 0.0,
) -> Track:
    """Azimuth, elevation, range and range rate of ``satellite`` from ``station``.

    Raises:
        InvalidInput: if SGP4 cannot propagate the satellite at one of the
            times (naming the error code and the first such time).
    """
    start = times[0]
    jd_whole, jd_fraction = split_julian_date(start)
    offsets_s = np.array([(t - start).total_seconds() for t in times])
    fraction = jd_fraction + offsets_s / 86400.0
    whole = np.full_like(fraction, jd_whole)
    error, position, velocity = satrec_from_elements(satellite).sgp4_array(whole, fraction)
    if error.any():
        first = int(np.argmax(error != 0))
        code = int(error[first])
        raise InvalidInput(
            "satellite",
            f"{satellite.name} ({satellite.norad_cat_id})",
            f"elements SGP4 can propagate at {times[first].isoformat()} "
            f"(error {code}: {SGP4_ERRORS.get(code, 'unknown')})",
        )
    gmst = gmst82_rad(whole, fraction, ut1_minus_utc_s)
    ecef, ecef_velocity = teme_to_ecef(position.T, velocity.T, gmst)
    site = geodetic_to_ecef_km(station.latitude_deg, station.longitude_deg, station.altitude_m)
    east, north, up = east_north_up(station.latitude_deg, station.longitude_deg)
    relative = ecef - site[:, None]
    azimuth, elevation, slant = look_angles(relative, east[:, None], north[:, None], up[:, None])
    return Track(
        unix_s=unix_seconds(start) + offsets_s,
        azimuth_deg=azimuth,
        elevation_deg=elevation,
        range_km=slant,
        range_rate_km_s=dot(relative, ecef_velocity) / slant,
    )

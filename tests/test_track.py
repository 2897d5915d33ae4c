"""The sampled track against Skyfield: look angles, range and range rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from skyfield.api import EarthSatellite, load, wgs84

from groundlink.errors import InvalidInput
from groundlink.orbits.tle import parse_tle
from groundlink.passes.track import sample_track, track_times
from groundlink.stations.model import Antenna, GroundStation

LINE1 = "1 60001U 24001A   24152.23226756  .00002581  00000-0  14491-3 0  9999"
LINE2 = "2 60001  53.0018   0.0066 0001558 112.2593  46.9635 15.05411635 34865"
STATION = GroundStation("svalbard", "Svalbard", 78.23, 15.39, 500.0, (Antenna("ant1", 5.0),))
START = datetime(2024, 6, 1, tzinfo=UTC)


def test_track_matches_skyfield_look_angles_range_and_range_rate() -> None:
    timescale = load.timescale(builtin=True)
    times = track_times(START, START + timedelta(hours=3), 30.0)
    t = timescale.from_datetimes(times)
    dut1 = float(np.mean(t.dut1))
    track = sample_track(parse_tle(LINE1, LINE2), STATION, times, ut1_minus_utc_s=dut1)

    satellite = EarthSatellite(LINE1, LINE2, "S", timescale)
    site = wgs84.latlon(STATION.latitude_deg, STATION.longitude_deg, STATION.altitude_m)
    topocentric = (satellite - site).at(t)
    elevation, azimuth, distance, _, _, range_rate = topocentric.frame_latlon_and_rates(site)

    assert np.abs(track.elevation_deg - elevation.degrees).max() < 1e-4
    azimuth_error = (track.azimuth_deg - azimuth.degrees + 180.0) % 360.0 - 180.0
    assert np.abs(azimuth_error).max() < 1e-3
    assert np.abs(track.range_km - distance.km).max() < 0.01
    assert np.abs(track.range_rate_km_s - range_rate.km_per_s).max() < 1e-4


def test_track_csv_has_one_row_per_sample() -> None:
    times = track_times(START, START + timedelta(minutes=10), 60.0)
    text = sample_track(parse_tle(LINE1, LINE2), STATION, times).to_csv()
    lines = text.strip().splitlines()
    assert lines[0] == "time,azimuth_deg,elevation_deg,range_km,range_rate_km_s"
    assert len(lines) == 1 + 11
    assert lines[1].startswith("2024-06-01T00:00:00.000Z,")


def test_track_times_include_both_ends() -> None:
    times = track_times(START, START + timedelta(seconds=25), 10.0)
    assert [(t - START).total_seconds() for t in times] == [0.0, 10.0, 20.0, 25.0]


@pytest.mark.parametrize(("step", "field"), [(0.0, "step_s"), (-1.0, "step_s"), (1e-6, "step_s")])
def test_track_times_reject_bad_steps(step: float, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        track_times(START, START + timedelta(hours=1), step)
    assert error.value.field == field


def test_track_times_reject_reversed_window() -> None:
    with pytest.raises(InvalidInput) as error:
        track_times(START, START - timedelta(hours=1), 1.0)
    assert error.value.field == "end"

"""Tests of groundlink.orbits.sun against Skyfield with the JPL DE421 ephemeris (offline).

skyfield-data ships de421.bsp, and Skyfield's built-in timescale needs no
download, so these tests never touch the network.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sgp4.api import WGS72, Satrec, jday
from skyfield.api import EarthSatellite, Loader, load, wgs84
from skyfield.framelib import itrs
from skyfield.sgp4lib import TEME

from groundlink.orbits.sun import (
    AU_KM,
    DAYLIGHT_SUN_ELEVATION_DEG,
    EARTH_SHADOW_RADIUS_KM,
    is_sunlit,
    sun_elevation_deg,
    sun_position_teme_km,
)
from groundlink.stations.io import demo_stations

FloatArray = npt.NDArray[np.float64]


@pytest.fixture(scope="module")
def timescale() -> Any:
    return load.timescale(builtin=True)


@pytest.fixture(scope="module")
def ephemeris() -> Iterator[Any]:
    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        # skyfield-data warns that its finals2000A.all has expired; we only use de421.bsp.
        warnings.filterwarnings("ignore", message=".*has expired", category=RuntimeWarning)
        path = get_skyfield_data_path()
    kernel = Loader(path, verbose=False)("de421.bsp")
    yield kernel
    kernel.close()


def _random_utc_dates(
    rng: np.random.Generator, count: int, first_year: int, last_year: int
) -> tuple[tuple[npt.NDArray[np.int64], ...], FloatArray, FloatArray]:
    """Random UTC dates: ((year, month, day, hour, minute, second), jd_whole, jd_fraction)."""
    years = rng.integers(first_year, last_year + 1, count)
    months = rng.integers(1, 13, count)
    days = rng.integers(1, 29, count)
    hours = rng.integers(0, 24, count)
    minutes = rng.integers(0, 60, count)
    seconds = rng.integers(0, 60, count)
    parts = (years, months, days, hours, minutes, seconds)
    two_part = [jday(*(int(p[i]) for p in parts)) for i in range(count)]
    jd_whole = np.array([w for w, _ in two_part])
    jd_fraction = np.array([f for _, f in two_part])
    return parts, jd_whole, jd_fraction


def _angle_deg(a: FloatArray, b: FloatArray) -> FloatArray:
    """Angle between the vectors of two (n, 3) arrays, degrees (atan2: exact at small angles)."""
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.degrees(np.arctan2(cross, np.einsum("ni,ni->n", a, b)))


def _teme_to_itrs(t: Any, teme_km: FloatArray) -> FloatArray:
    """Rotate (n, 3) TEME vectors at Skyfield times t into ITRS with Skyfield's own frames."""
    gcrs_to_teme = TEME.rotation_at(t)  # (3, 3, n)
    gcrs_to_itrs = itrs.rotation_at(t)
    return np.einsum("ijn,kjn,nk->ni", gcrs_to_itrs, gcrs_to_teme, teme_km)


# --- the Sun's position ---------------------------------------------------------------------------


def test_sun_direction_matches_de421_within_0_02_deg_1990_to_2050(timescale: Any, ephemeris: Any):
    parts, jd_whole, jd_fraction = _random_utc_dates(np.random.default_rng(29), 2000, 1990, 2050)
    t = timescale.utc(*parts)
    earth, sun = ephemeris["earth"], ephemeris["sun"]
    expected_km = earth.at(t).observe(sun).apparent().frame_xyz(TEME).km.T

    ours_km = sun_position_teme_km(jd_whole, jd_fraction).T

    assert ours_km.shape == (2000, 3)
    assert _angle_deg(ours_km, expected_km).max() < 0.02
    distance_ratio = np.linalg.norm(ours_km, axis=-1) / np.linalg.norm(expected_km, axis=-1)
    assert np.abs(distance_ratio - 1.0).max() < 2e-4


def test_sun_position_broadcasts_and_keeps_shape():
    whole = np.full((4, 1), 2460000.5)
    fraction = np.linspace(0.0, 0.75, 5)
    assert sun_position_teme_km(whole, fraction).shape == (3, 4, 5)
    assert sun_position_teme_km(2460000.5, 0.25).shape == (3,)


def test_sun_at_the_march_equinox_lies_on_the_x_axis():
    # The 2024 March equinox was 2024-03-20 03:06 UTC: the Sun crosses the equator
    # heading for +x (the vernal equinox direction).
    whole, fraction = jday(2024, 3, 20, 3, 6, 0)
    sun = sun_position_teme_km(whole, fraction)
    direction = sun / np.linalg.norm(sun)
    assert direction[0] > 0.99999
    assert abs(math.degrees(math.asin(direction[2]))) < 0.01


# --- Earth's shadow -------------------------------------------------------------------------------


def _satellites(epoch_jd: float) -> list[Satrec]:
    """A few orbits through the range the pass engine sees: ISS-like, SSO, polar, MEO, eccentric."""
    epoch_days = epoch_jd - 2433281.5  # sgp4init counts days from 1949 December 31 00:00 UT
    specs = [  # (inclination deg, mean motion rev/day, eccentricity, RAAN deg)
        (51.64, 15.50, 0.0005, 10.0),
        (97.40, 15.20, 0.0010, 100.0),
        (89.90, 14.30, 0.0020, 200.0),
        (55.00, 2.0056, 0.0050, 300.0),
        (63.40, 2.0060, 0.7000, 45.0),
    ]
    satellites = []
    for number, (inclination, rev_per_day, eccentricity, raan) in enumerate(specs, start=1):
        satrec = Satrec()
        satrec.sgp4init(
            WGS72,
            "i",
            number,
            epoch_days,
            0.0,  # bstar
            0.0,  # ndot
            0.0,  # nddot
            eccentricity,
            math.radians(270.0),  # argument of perigee
            math.radians(inclination),
            math.radians(number * 70.0),  # mean anomaly
            rev_per_day * 2.0 * math.pi / 1440.0,  # rad/min
            math.radians(raan),
        )
        satellites.append(satrec)
    return satellites


# Where ours and Skyfield's is_sunlit can differ: our Sun direction differs from the
# geometric de421 Sun that Skyfield's is_sunlit uses by up to ~0.015° (0.01° of model
# error plus ~0.006° of annual aberration, which our apparent Sun includes). The
# shadow edge moves by that angle; a LEO satellite sweeps 0.06°/s of its orbit, so
# the edge crossing shifts by a fraction of a second (measured: ≤ 0.25 s), more when
# the satellite crosses the edge obliquely or slowly (measured: ≤ 1 s for the
# eccentric orbit near apogee). Elsewhere the two must agree exactly.
_START = (2025, 11, 3)


def _sunlit_ours_and_skyfield(
    satrec: Satrec, seconds: FloatArray, timescale: Any, ephemeris: Any
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """is_sunlit at ``seconds`` after _START (UTC), from us and from Skyfield."""
    jd_whole, jd_start = jday(*_START, 0, 0, 0)
    jd_fraction = jd_start + seconds / 86400.0
    errors, position_km, _ = satrec.sgp4_array(np.full_like(jd_fraction, jd_whole), jd_fraction)
    assert not errors.any()
    ours = is_sunlit(position_km.T, sun_position_teme_km(jd_whole, jd_fraction))

    t = timescale.utc(*_START, 0, 0, seconds)
    satellite = EarthSatellite.from_satrec(satrec, timescale)
    return ours, np.asarray(satellite.at(t).is_sunlit(ephemeris))


def _epoch_jd() -> float:
    whole, fraction = jday(*_START, 0, 0, 0)
    return whole + fraction


def test_is_sunlit_agrees_with_skyfield_for_hundreds_of_positions(timescale: Any, ephemeris: Any):
    seconds = np.sort(np.random.default_rng(7).uniform(0.0, 3 * 86400.0, 80))
    shadowed = 0
    for satrec in _satellites(_epoch_jd()):  # 5 x 80 positions
        ours, expected = _sunlit_ours_and_skyfield(satrec, seconds, timescale, ephemeris)
        _, before = _sunlit_ours_and_skyfield(satrec, seconds - 1.0, timescale, ephemeris)
        _, after = _sunlit_ours_and_skyfield(satrec, seconds + 1.0, timescale, ephemeris)
        near_edge = (before != expected) | (after != expected)

        assert np.array_equal(ours[~near_edge], expected[~near_edge])
        shadowed += int((~expected).sum())
    assert shadowed > 40  # the sample does exercise the shadow


def test_is_sunlit_differs_from_skyfield_only_within_1_s_of_shadow_edges(
    timescale: Any, ephemeris: Any
):
    seconds = np.arange(0.0, 3 * 3600.0, 0.5)  # two LEO orbits at 0.5 s
    for satrec in _satellites(_epoch_jd())[:2]:
        ours, expected = _sunlit_ours_and_skyfield(satrec, seconds, timescale, ephemeris)

        edges_s = seconds[1:][expected[1:] != expected[:-1]]
        assert len(edges_s) >= 3  # into the shadow, out, and in again (at least)
        differ_s = seconds[ours != expected]
        if differ_s.size:
            distance_to_edge_s = np.abs(differ_s[:, np.newaxis] - edges_s).min(axis=1)
            assert distance_to_edge_s.max() <= 1.0


def test_is_sunlit_geometry():
    sun = np.array([AU_KM, 0.0, 0.0])
    r = EARTH_SHADOW_RADIUS_KM
    positions = np.array(
        [
            [7000.0, 0.0, 0.0],  # between Earth and Sun
            [-7000.0, 0.0, 0.0],  # straight behind the Earth
            [-7000.0, 0.0, r - 1.0],  # just inside the shadow cylinder
            [-7000.0, 0.0, r + 1.0],  # just outside it
            [0.0, 7000.0, 0.0],  # beside the Earth
            [-1000.0, 0.0, 0.0],  # inside the Earth (decayed)
        ]
    )
    assert is_sunlit(positions.T, sun[:, None]).tolist() == [True, False, False, True, True, False]


def test_is_sunlit_broadcasts_over_satellites_and_times():
    whole, fraction = jday(2025, 6, 21, 12, 0, 0)
    sun = sun_position_teme_km(whole, fraction + np.array([0.0, 0.5]))  # (3, 2)
    satellites = np.zeros((3, 4, 1)) + np.array([7000.0, 0.0, 0.0])[:, None, None]  # (3, 4, 1)
    assert is_sunlit(satellites, sun[:, None, :]).shape == (4, 2)


# --- the Sun seen from a station ------------------------------------------------------------------


def _up(latitude_deg: float, longitude_deg: float) -> FloatArray:
    lat, lon = math.radians(latitude_deg), math.radians(longitude_deg)
    return np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])


def test_sun_elevation_at_demo_stations_matches_skyfield_within_0_05_deg(
    timescale: Any, ephemeris: Any
):
    parts, jd_whole, jd_fraction = _random_utc_dates(np.random.default_rng(5), 40, 2020, 2035)
    t = timescale.utc(*parts)
    earth, sun = ephemeris["earth"], ephemeris["sun"]
    sun_itrs_km = _teme_to_itrs(t, sun_position_teme_km(jd_whole, jd_fraction).T).T

    stations = demo_stations()
    assert len(stations) == 30
    for station in stations:
        site = wgs84.latlon(
            station.latitude_deg, station.longitude_deg, elevation_m=station.altitude_m
        )
        expected_deg = (earth + site).at(t).observe(sun).apparent().altaz()[0].degrees

        ours_deg = sun_elevation_deg(
            sun_itrs_km,
            site.itrs_xyz.km[:, None],
            _up(station.latitude_deg, station.longitude_deg)[:, None],
        )

        assert ours_deg.shape == (40,)
        assert np.abs(ours_deg - expected_deg).max() < 0.05, station.id


def test_sun_elevation_geometry_alone_matches_skyfield_altaz(timescale: Any, ephemeris: Any):
    # Fed Skyfield's own Sun, the horizon geometry must agree to a few arcseconds.
    t = timescale.utc(2026, 1, 15, np.arange(0, 24, 0.5))
    earth, sun = ephemeris["earth"], ephemeris["sun"]
    sun_itrs_km = earth.at(t).observe(sun).apparent().frame_xyz(itrs).km
    for latitude_deg, longitude_deg, altitude_m in [(78.23, 15.39, 500.0), (-33.15, -70.67, 720.0)]:
        site = wgs84.latlon(latitude_deg, longitude_deg, elevation_m=altitude_m)
        expected_deg = (earth + site).at(t).observe(sun).apparent().altaz()[0].degrees
        ours_deg = sun_elevation_deg(
            sun_itrs_km, site.itrs_xyz.km[:, None], _up(latitude_deg, longitude_deg)[:, None]
        )
        assert np.abs(ours_deg - expected_deg).max() < 0.001


def test_sun_elevation_simple_cases():
    up = np.array([0.0, 0.0, 1.0])
    station = np.array([0.0, 0.0, 6357.0])
    overhead = np.array([0.0, 0.0, 1.5e8])
    on_horizon = np.array([1.5e8, 0.0, 6357.0])
    below = np.array([0.0, 0.0, -1.5e8])
    suns = np.stack([overhead, on_horizon, below], axis=1)
    elevation = sun_elevation_deg(suns, station[:, None], up[:, None])
    np.testing.assert_allclose(elevation, [90.0, 0.0, -90.0], atol=1e-9)


def test_daylight_threshold_is_standard_sunrise():
    assert pytest.approx(-0.833) == DAYLIGHT_SUN_ELEVATION_DEG

"""Tests of groundlink.orbits.frames against Skyfield (offline: built-in timescale).

Skyfield is the outside authority here: its ``theta_GMST1982`` and
``TEME_to_ITRF`` implement AIAA 2006-6753 Appendix C, its ``wgs84`` model
the WGS-84 geodetic position, and ``(satellite - site).at(t).altaz()`` the
whole chain from SGP4 to horizon coordinates (through GCRS and back, with
DUT1 from its own tables).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sgp4.api import jday
from skyfield.api import EarthSatellite, wgs84
from skyfield.sgp4lib import TEME_to_ITRF, theta_GMST1982

from groundlink.orbits.frames import (
    east_north_up,
    ecef_to_teme,
    geodetic_to_ecef_km,
    gmst82_rad,
    look_angles,
    teme_to_ecef,
)

FloatArray = npt.NDArray[np.float64]

#: Satellites (indices into the population: several shells and the SSO group) and sites.
SATELLITE_SAMPLE = (0, 1500, 2900, 3500, 4700, 5900)
SITES = (
    (78.23, 15.39, 500.0),  # Svalbard
    (-72.01, 2.53, 1270.0),  # Troll
    (1.40, 103.84, 30.0),  # Singapore
    (40.0, -105.0, 1600.0),
    (-33.15, -70.67, 720.0),
    (64.86, -147.85, 200.0),
)


def _angle_difference_rad(a: FloatArray, b: FloatArray) -> FloatArray:
    """|a - b| for angles, wrapped into [0, π]."""
    return np.abs((np.asarray(a) - b + np.pi) % (2 * np.pi) - np.pi)


def _day_times(timescale: Any, count: int, seed: int) -> tuple[Any, FloatArray, FloatArray]:
    """Random times on 2024-06-01: Skyfield Time, and our two-part UTC Julian date."""
    seconds = np.sort(np.random.default_rng(seed).uniform(0.0, 86400.0, count))
    jd_whole, jd_start = jday(2024, 6, 1, 0, 0, 0)
    return (
        timescale.utc(2024, 6, 1, 0, 0, seconds),
        np.full(count, jd_whole),
        jd_start + seconds / 86400.0,
    )


def _skyfield_satellite(population_tle: Any, index: int, timescale: Any) -> Any:
    record = population_tle[index]
    return EarthSatellite(record.line1, record.line2, record.name, timescale)


# --- sidereal time -------------------------------------------------------------------------------


def test_gmst82_equals_skyfield_theta_gmst1982_over_a_century():
    """Same formula, same two-part Julian date: agreement to 1e-12 rad for 1950-2050."""
    rng = np.random.default_rng(3)
    whole = np.floor(rng.uniform(2433282.5, 2469807.5, 5000)) + 0.5
    fraction = rng.uniform(0.0, 1.0, 5000)
    expected, _ = theta_GMST1982(whole, fraction)
    assert _angle_difference_rad(gmst82_rad(whole, fraction), expected).max() < 1e-12


def test_gmst82_applies_dut1_as_skyfield_does(timescale: Any):
    """Given Skyfield's DUT1, GMST from UTC equals Skyfield's GMST from its own UT1."""
    t, jd_whole, jd_fraction = _day_times(timescale, 500, seed=4)
    expected, _ = theta_GMST1982(t.whole, t.ut1_fraction)
    ours = np.array(
        [gmst82_rad(w, f, dut1) for w, f, dut1 in zip(jd_whole, jd_fraction, t.dut1, strict=True)]
    )
    assert np.abs(t.dut1).max() > 0.01  # DUT1 matters in this test
    assert _angle_difference_rad(ours, expected).max() < 1e-12
    assert (ours >= 0).all() and (ours < 2 * np.pi).all()


# --- TEME to Earth-fixed -------------------------------------------------------------------------


def _teme_states_and_skyfield_itrs(
    population_tle: Any, timescale: Any, seed: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """SGP4 TEME states of population samples, our GMST, and Skyfield's TEME→ITRS of them."""
    t, jd_whole, jd_fraction = _day_times(timescale, 100, seed)
    positions, velocities, gmst, expected_r, expected_v = [], [], [], [], []
    for index in SATELLITE_SAMPLE:
        satellite = _skyfield_satellite(population_tle, index, timescale)
        r, v, _ = satellite._position_and_velocity_TEME_km(t)
        r_itrs, v_itrs_per_day = TEME_to_ITRF(t.whole, r, v * 86400.0, 0.0, 0.0, t.ut1_fraction)
        positions.append(r)
        velocities.append(v)
        gmst.append(gmst82_rad(jd_whole, jd_fraction + t.dut1 / 86400.0))
        expected_r.append(r_itrs)
        expected_v.append(v_itrs_per_day / 86400.0)
    return (
        np.concatenate(positions, axis=1),
        np.concatenate(velocities, axis=1),
        np.concatenate(gmst),
        np.concatenate(expected_r, axis=1),
        np.concatenate(expected_v, axis=1),
    )


def test_teme_to_ecef_matches_skyfield_within_1_mm_and_1e9_km_s(
    population_tle: Any, timescale: Any
):
    """Earth-fixed states equal Skyfield's TEME→ITRS (no polar motion): positions to far
    below 1 mm, velocities (ω × r removed at the rate of GMST82) to 1e-9 km/s."""
    r, v, gmst, expected_r, expected_v = _teme_states_and_skyfield_itrs(
        population_tle, timescale, seed=5
    )
    position, velocity = teme_to_ecef(r, v, gmst)
    assert position.shape == velocity.shape == r.shape == (3, 600)
    assert np.abs(position - expected_r).max() < 1e-6
    assert np.abs(velocity - expected_v).max() < 1e-9


def test_ecef_to_teme_inverts_the_rotation():
    """Rotating to Earth-fixed and back returns the vectors (to round-off)."""
    rng = np.random.default_rng(8)
    vectors = rng.normal(0.0, 7000.0, (3, 50))
    gmst = rng.uniform(0.0, 2 * np.pi, 50)
    there, _ = teme_to_ecef(vectors, np.zeros_like(vectors), gmst)
    np.testing.assert_allclose(ecef_to_teme(there, gmst), vectors, rtol=0, atol=1e-9)


# --- WGS-84 ground geometry ----------------------------------------------------------------------


def _site_grid() -> tuple[FloatArray, FloatArray, FloatArray]:
    rng = np.random.default_rng(9)
    latitude = np.concatenate([[-90.0, -45.0, 0.0, 45.0, 90.0], rng.uniform(-90, 90, 200)])
    longitude = np.concatenate([[-180.0, -90.0, 0.0, 90.0, 180.0], rng.uniform(-180, 180, 200)])
    altitude = np.concatenate([[0.0, -400.0, 0.0, 8000.0, 2000.0], rng.uniform(-500, 10_000, 200)])
    return latitude, longitude, altitude


def test_geodetic_to_ecef_matches_skyfield_wgs84_within_1_mm():
    """Station positions are Skyfield's wgs84.latlon(...).itrs_xyz, poles and antimeridian too."""
    latitude, longitude, altitude = _site_grid()
    ours = geodetic_to_ecef_km(latitude, longitude, altitude)
    expected = wgs84.latlon(latitude, longitude, elevation_m=altitude).itrs_xyz.km
    assert ours.shape == (3, latitude.size)
    assert np.abs(ours - expected).max() < 1e-6


def test_east_north_up_are_skyfields_local_directions():
    """up is the ellipsoid normal, north and east the directions of growing latitude/longitude.

    From Skyfield's positions: up = the step from height h to h + 1 km;
    north and east = central differences in latitude and longitude (1e-6
    rad, truncation error 1e-12). Agreement to 1e-10 is 0.6 mm at the surface.
    """
    latitude, longitude, altitude = _site_grid()
    inner = np.abs(latitude) < 89.9  # east and north are undefined at the poles
    latitude, longitude, altitude = latitude[inner], longitude[inner], altitude[inner]
    east, north, up = east_north_up(latitude, longitude)

    def skyfield_km(lat: FloatArray, lon: FloatArray, alt: FloatArray) -> FloatArray:
        return np.asarray(wgs84.latlon(lat, lon, elevation_m=alt).itrs_xyz.km)

    def unit(vectors: FloatArray) -> FloatArray:
        return vectors / np.linalg.norm(vectors, axis=0)

    step = np.degrees(1e-6)
    expected_up = skyfield_km(latitude, longitude, altitude + 1000.0) - skyfield_km(
        latitude, longitude, altitude
    )
    expected_north = unit(
        skyfield_km(latitude + step, longitude, altitude)
        - skyfield_km(latitude - step, longitude, altitude)
    )
    expected_east = unit(
        skyfield_km(latitude, longitude + step, altitude)
        - skyfield_km(latitude, longitude - step, altitude)
    )
    assert np.abs(up - expected_up).max() < 1e-10
    assert np.abs(north - expected_north).max() < 1e-8
    assert np.abs(east - expected_east).max() < 1e-8
    np.testing.assert_allclose(np.einsum("in,in->n", east, north), 0.0, atol=1e-15)


# --- the whole chain: horizon coordinates --------------------------------------------------------


def test_look_angles_match_skyfield_altaz_within_1e6_deg(population_tle: Any, timescale: Any):
    """SGP4 → TEME→Earth-fixed (with Skyfield's DUT1) → look_angles equals Skyfield's altaz.

    36 satellite-station pairs, 150 times each over 2024-06-01; Skyfield goes
    TEME → GCRS → ITRS with its full precession-nutation, we rotate by GMST82
    alone: the two must agree. Azimuth is compared below 89.9° elevation.
    """
    t, jd_whole, jd_fraction = _day_times(timescale, 150, seed=10)
    gmst = gmst82_rad(jd_whole, jd_fraction + t.dut1 / 86400.0)
    for index in SATELLITE_SAMPLE:
        satellite = _skyfield_satellite(population_tle, index, timescale)
        r, v, _ = satellite._position_and_velocity_TEME_km(t)
        position, _ = teme_to_ecef(r, v, gmst)
        for latitude, longitude, altitude in SITES:
            site = wgs84.latlon(latitude, longitude, elevation_m=altitude)
            alt, az, distance = (satellite - site).at(t).altaz()
            east, north, up = east_north_up(latitude, longitude)
            station = geodetic_to_ecef_km(latitude, longitude, altitude)
            azimuth, elevation, slant_km = look_angles(
                position - station[:, None], east[:, None], north[:, None], up[:, None]
            )
            assert np.abs(elevation - alt.degrees).max() < 1e-6
            open_sky = elevation < 89.9
            az_error = np.degrees(
                _angle_difference_rad(np.radians(azimuth), np.radians(az.degrees))
            )
            assert az_error[open_sky].max() < 1e-6
            assert np.abs(slant_km - distance.km).max() < 1e-6
            assert ((azimuth >= 0) & (azimuth < 360)).all()


def test_look_angles_without_dut1_are_off_by_earth_rotation(population_tle: Any, timescale: Any):
    """Leaving DUT1 out (−0.02 s here: 9 m of Earth rotation) moves elevations by over 1e-5°."""
    t, jd_whole, jd_fraction = _day_times(timescale, 150, seed=11)
    satellite = _skyfield_satellite(population_tle, 0, timescale)
    r, v, _ = satellite._position_and_velocity_TEME_km(t)
    position, _ = teme_to_ecef(r, v, gmst82_rad(jd_whole, jd_fraction))
    site = wgs84.latlon(1.40, 103.84, elevation_m=30.0)
    alt, _, _ = (satellite - site).at(t).altaz()
    east, north, up = east_north_up(1.40, 103.84)
    station = geodetic_to_ecef_km(1.40, 103.84, 30.0)
    _, elevation, _ = look_angles(
        position - station[:, None], east[:, None], north[:, None], up[:, None]
    )
    assert np.abs(elevation - alt.degrees).max() > 1e-5


def test_look_angles_of_simple_geometry():
    """Straight up is 90° elevation; due north/east on the horizon is azimuth 0°/90°."""
    east, north, up = east_north_up(0.0, 0.0)  # on the equator at Greenwich: up = +x
    offsets = np.array([[500.0, 0.0, 0.0], [0.0, 0.0, 500.0], [0.0, 500.0, 0.0]]).T
    azimuth, elevation, slant_km = look_angles(offsets, east[:, None], north[:, None], up[:, None])
    np.testing.assert_allclose(elevation, [90.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(azimuth[1:], [0.0, 90.0], atol=1e-12)
    np.testing.assert_allclose(slant_km, 500.0)

"""The Sun: where it is, whether a satellite is in Earth's shadow, how high it stands at a station.

The pass engine asks two questions about the Sun at every time sample of
every satellite: is the satellite sunlit (optical passes, power budgets), and
is it day or night at the station. That is millions of evaluations, so these
are vectorised numpy functions.

Why hand-written: Skyfield computes the Sun from a JPL ephemeris file
(de421.bsp, 17 MB, downloaded on first use or shipped by skyfield-data), and
Astropy (which can use ERFA's built-in series instead) is a heavy dependency
for the core; no light-weight library computes the Sun vectorised without an
ephemeris file. The low-precision analytic model of the Astronomical Almanac
(Vallado, *Fundamentals of Astrodynamics and Applications*, algorithm 29
"SUN") is accurate to about 0.01° in direction between 1950 and 2050, needs
no data and is a dozen lines. Skyfield with de421 is the test oracle.

Precision choices, each far below what sunlit/daylight decisions need (0.01°
of Sun direction moves a LEO shadow entry by about 0.2 s):

- Time is a two-part UTC Julian date. The model is defined in UT1 and TDB;
  UT1 − UTC < 0.9 s and TT − UTC ≈ 69 s, while the Sun moves 0.04° per hour
  along the ecliptic, so using UTC for both costs less than 0.001°.
- The model gives the Sun on the mean equator and equinox of date, with
  annual aberration folded in (it is the *apparent* Sun). TEME (SGP4's frame),
  true-of-date and mean-of-date differ by nutation and the equation of the
  equinoxes, at most about 0.005°; we call the result TEME so that it can be
  combined directly with SGP4 positions.

Units: km and degrees at the interface, radians inside. Vectors are (3, ...)
arrays, x/y/z first, as in :mod:`groundlink.orbits.frames`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from groundlink.orbits.frames import WGS84_A_KM, dot

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DAYLIGHT_SUN_ELEVATION_DEG = -0.833
"""Sun elevation in degrees at standard sunrise and sunset.

The Sun's upper limb touches a sea-level horizon when its centre is 0.833°
below the geometric horizon: 0.267° of solar semi-diameter plus 0.566° of
standard atmospheric refraction. It is daylight at a station while
``sun_elevation_deg(...) > DAYLIGHT_SUN_ELEVATION_DEG``.
"""

#: Radius of the sphere that casts Earth's shadow, km (the WGS-84 equatorial radius).
EARTH_SHADOW_RADIUS_KM = WGS84_A_KM

#: The astronomical unit, km (IAU 2012).
AU_KM = 149_597_870.7

_JD_J2000 = 2451545.0
_DAYS_PER_CENTURY = 36525.0


def sun_position_teme_km(jd_whole: npt.ArrayLike, jd_fraction: npt.ArrayLike) -> FloatArray:
    """Geocentric position of the Sun in TEME, km.

    Args:
        jd_whole, jd_fraction: two-part UTC Julian date (any broadcastable shapes),
            as ``sgp4``'s ``jday`` returns it.

    Returns:
        Array of shape ``(3,) + broadcast(jd_whole, jd_fraction).shape``: the
        apparent Sun's x, y, z in km, accurate to about 0.01° in direction
        and 1e-4 in relative distance for 1950-2050 (see the module docstring).
    """
    t = _julian_centuries_since_j2000(jd_whole, jd_fraction)

    mean_longitude_deg = 280.460 + 36000.771 * t
    mean_anomaly = np.radians(357.5291092 + 35999.05034 * t)
    ecliptic_longitude = np.radians(
        mean_longitude_deg
        + 1.914666471 * np.sin(mean_anomaly)
        + 0.019994643 * np.sin(2.0 * mean_anomaly)
    )
    distance_au = (
        1.000140612 - 0.016708617 * np.cos(mean_anomaly) - 0.000139589 * np.cos(2.0 * mean_anomaly)
    )
    obliquity = np.radians(23.439291 - 0.0130042 * t)

    # The Sun lies on the ecliptic (latitude < 0.0003°, neglected): rotate
    # its ecliptic direction about the x axis (the equinox) into the equator.
    direction = np.stack(
        [
            np.cos(ecliptic_longitude),
            np.cos(obliquity) * np.sin(ecliptic_longitude),
            np.sin(obliquity) * np.sin(ecliptic_longitude),
        ]
    )
    position_km: FloatArray = direction * (distance_au * AU_KM)
    return position_km


def is_sunlit(
    sat_position_teme_km: npt.ArrayLike, sun_position_teme_km: npt.ArrayLike
) -> BoolArray:
    """Whether each satellite is outside Earth's shadow.

    The geometry Skyfield's ``is_sunlit`` uses: the satellite is in shadow when
    the ray from it toward the Sun's centre passes through a sphere of radius
    :data:`EARTH_SHADOW_RADIUS_KM` centred on the Earth. The Sun is a point
    (no penumbra) and the Earth a sphere (no oblateness, no atmosphere), so
    "sunlit" means "the centre of the Sun is visible". A position below the
    sphere's surface (a decayed satellite) is reported as not sunlit.

    Args:
        sat_position_teme_km: satellite positions, shape (3, ...), km.
        sun_position_teme_km: the Sun's geocentric position in the same frame,
            shape broadcastable to the satellite's (for example (3, 1) or
            (3, n) against (3, m, n)), km.

    Returns:
        Boolean array of the broadcast trailing shape (...): True where sunlit.
    """
    sat = np.asarray(sat_position_teme_km, dtype=np.float64)
    sun = np.asarray(sun_position_teme_km, dtype=np.float64)

    # Walk from the satellite toward the Sun: points sat + s * toward_sun, s >= 0.
    toward_sun = _unit(sun - sat)
    earth_centre = -sat  # the Earth's centre seen from the satellite

    # Closest approach of the ray's line to the Earth's centre, at distance s_closest.
    s_closest = dot(earth_centre, toward_sun)
    miss_distance_sq = dot(earth_centre, earth_centre) - s_closest**2
    half_chord_sq = EARTH_SHADOW_RADIUS_KM**2 - miss_distance_sq

    # The line meets the sphere where half_chord_sq >= 0, between
    # s_closest ± sqrt(half_chord_sq); it is shadowed when the far meeting
    # point lies ahead of the satellite (s > 0), toward the Sun.
    meets_sphere = half_chord_sq >= 0.0
    far_meeting = s_closest + np.sqrt(np.maximum(half_chord_sq, 0.0))
    shadowed = meets_sphere & (far_meeting > 0.0)
    return np.logical_not(shadowed)


def sun_elevation_deg(
    sun_ecef_km: npt.ArrayLike, station_ecef_km: npt.ArrayLike, station_up: npt.ArrayLike
) -> FloatArray:
    """Elevation of the Sun's centre above a station's geodetic horizon, degrees.

    Geometric elevation (no refraction): the angle between the station→Sun
    direction and the plane perpendicular to the station's "up". Compare with
    :data:`DAYLIGHT_SUN_ELEVATION_DEG` to decide day or night.

    Args:
        sun_ecef_km: geocentric Sun position in the Earth-fixed frame, shape (3, ...), km.
        station_ecef_km: station position in the same frame, shape broadcastable, km.
        station_up: unit vector of the geodetic vertical (the ellipsoid normal)
            at the station, shape broadcastable.

    Returns:
        Array of the broadcast trailing shape (...), degrees in [-90, 90].
    """
    sun = np.asarray(sun_ecef_km, dtype=np.float64)
    station = np.asarray(station_ecef_km, dtype=np.float64)
    up = np.asarray(station_up, dtype=np.float64)
    sine = dot(_unit(sun - station), up)
    return np.degrees(np.arcsin(np.clip(sine, -1.0, 1.0)))


def _julian_centuries_since_j2000(
    jd_whole: npt.ArrayLike, jd_fraction: npt.ArrayLike
) -> FloatArray:
    """Julian centuries from J2000.0 to the two-part date; the small parts are added first."""
    whole = np.asarray(jd_whole, dtype=np.float64)
    fraction = np.asarray(jd_fraction, dtype=np.float64)
    return ((whole - _JD_J2000) + fraction) / _DAYS_PER_CENTURY


def _unit(vectors: FloatArray) -> FloatArray:
    """The vectors (3, ...) scaled to length 1."""
    units: FloatArray = vectors / np.sqrt(dot(vectors, vectors))
    return units

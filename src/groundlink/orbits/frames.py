"""Reference frames: TEME (SGP4's output) to Earth-fixed, and WGS-84 ground geometry.

TEME → ITRS is a rotation about the pole by the Greenwich Mean Sidereal Time
of the IAU-82 model (the one SGP4 is defined with, AIAA 2006-6753 Appendix C);
polar motion (≤ 15 m at the surface) is neglected. GMST needs UT1; callers
pass ``ut1_minus_utc_s`` (|DUT1| < 0.9 s) or accept a rotation error of at
most 0.9 s × 465 m/s ≈ 420 m at the equator.

Hand-written because these few lines must run vectorised over millions of
samples inside the pass search; Skyfield implements the same transforms for
single objects and is the test oracle for this module.

Units: km, km/s, radians inside, degrees at the interface. Vectors follow
Skyfield's convention: the x, y, z axis comes first, shape (3, ...), so that
each component is one contiguous array in the vectorised hot paths.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: WGS-84 ellipsoid.
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

#: Earth's rotation rate, rad/s: the rate of IAU-82 GMST (the derivative of
#: :func:`gmst82_rad` at J2000), so that velocities agree with the rotation.
EARTH_ROTATION_RAD_S = (1.0 + 8640184.812866 / (86400.0 * 36525.0)) * 2.0 * np.pi / 86400.0

_JD_J2000 = 2451545.0
_SECONDS_PER_DAY = 86400.0


def gmst82_rad(
    jd_whole: npt.ArrayLike, jd_fraction: npt.ArrayLike, ut1_minus_utc_s: float = 0.0
) -> FloatArray:
    """Greenwich Mean Sidereal Time (IAU-82) in radians, in [0, 2π).

    Args:
        jd_whole, jd_fraction: two-part UTC Julian date (any broadcastable shapes).
        ut1_minus_utc_s: DUT1 in seconds.
    """
    whole = np.asarray(jd_whole, dtype=np.float64)
    fraction = np.asarray(jd_fraction, dtype=np.float64) + ut1_minus_utc_s / _SECONDS_PER_DAY
    t = (whole - _JD_J2000 + fraction) / 36525.0
    g = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * t) * t) * t
    turns = (whole % 1.0 + fraction + (g / _SECONDS_PER_DAY) % 1.0) % 1.0
    return turns * (2.0 * np.pi)


def rotate_teme_to_ecef(position_km: FloatArray, gmst_rad: npt.ArrayLike) -> FloatArray:
    """Rotate TEME vectors (3, ...) into the Earth-fixed frame; ``gmst_rad`` broadcasts."""
    c = np.cos(gmst_rad)
    s = np.sin(gmst_rad)
    x, y, z = position_km
    out = np.empty((3, *np.broadcast_shapes(x.shape, np.shape(c))))
    np.multiply(c, x, out=out[0])
    out[0] += s * y
    np.multiply(c, y, out=out[1])
    out[1] -= s * x
    out[2] = z
    return out


def teme_to_ecef(
    position_km: FloatArray, velocity_km_s: FloatArray, gmst_rad: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Rotate TEME states (3, ...) into the Earth-fixed frame (ITRS without polar motion).

    ``gmst_rad`` broadcasts against the trailing dimensions. The velocity
    returned is relative to the rotating Earth (ω × r removed). Returns
    (position_km, velocity_km_s), each (3, ...).
    """
    position = rotate_teme_to_ecef(position_km, gmst_rad)
    velocity = rotate_teme_to_ecef(velocity_km_s, gmst_rad)
    velocity[0] += EARTH_ROTATION_RAD_S * position[1]
    velocity[1] -= EARTH_ROTATION_RAD_S * position[0]
    return position, velocity


def ecef_to_teme(position_km: FloatArray, gmst_rad: npt.ArrayLike) -> FloatArray:
    """Rotate Earth-fixed vectors (3, ...) into TEME (the inverse rotation)."""
    return rotate_teme_to_ecef(position_km, -np.asarray(gmst_rad))


def geodetic_to_ecef_km(
    latitude_deg: npt.ArrayLike, longitude_deg: npt.ArrayLike, altitude_m: npt.ArrayLike
) -> FloatArray:
    """WGS-84 geodetic coordinates to Earth-fixed Cartesian position, km, shape (3, ...)."""
    lat = np.radians(np.asarray(latitude_deg, dtype=np.float64))
    lon = np.radians(np.asarray(longitude_deg, dtype=np.float64))
    h = np.asarray(altitude_m, dtype=np.float64) / 1000.0
    sin_lat = np.sin(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    return np.stack(
        [
            (n + h) * np.cos(lat) * np.cos(lon),
            (n + h) * np.cos(lat) * np.sin(lon),
            (n * (1.0 - WGS84_E2) + h) * sin_lat,
        ]
    )


def east_north_up(
    latitude_deg: npt.ArrayLike, longitude_deg: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unit vectors east, north and up (geodetic normal) in Earth-fixed axes, each (3, ...)."""
    lat = np.radians(np.asarray(latitude_deg, dtype=np.float64))
    lon = np.radians(np.asarray(longitude_deg, dtype=np.float64))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    east = np.stack([-so, co, np.zeros_like(so)])
    north = np.stack([-sl * co, -sl * so, cl])
    up = np.stack([cl * co, cl * so, sl])
    return east, north, up


def dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """Dot product over the first axis of broadcastable (3, ...) arrays."""
    result: FloatArray = a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    return result


def cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """Cross product over the first axis of (3, ...) arrays."""
    return np.stack(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


def look_angles(
    relative_position_km: FloatArray,
    east: FloatArray,
    north: FloatArray,
    up: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Azimuth and elevation (degrees) and slant range (km) of Earth-fixed offsets.

    ``relative_position_km`` is satellite minus station, shape (3, ...); the
    basis vectors broadcast against it. Azimuth is clockwise from true north in
    [0, 360); elevation above the geodetic horizon.
    """
    e = dot(relative_position_km, east)
    n = dot(relative_position_km, north)
    u = dot(relative_position_km, up)
    slant_range = np.sqrt(e * e + n * n + u * u)
    azimuth = np.degrees(np.arctan2(e, n)) % 360.0
    elevation = np.degrees(np.arcsin(np.clip(u / slant_range, -1.0, 1.0)))
    return azimuth, elevation, slant_range

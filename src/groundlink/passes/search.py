"""The pass search: every interval in which a satellite is above an antenna's limit.

Why hand-written: Skyfield's ``find_events`` handles one satellite and one
site at a time (about 2 ms per satellite-station-day); a ground network needs
millions of pairs per day. This module works on whole arrays of satellites,
antennas and times at once and never loops in Python over passes.

The method, for one chunk of satellites that share a grid (steps 1-3 are
functions of this module; steps 2-6 run compiled, in
:mod:`groundlink.passes.kernels`):

1. **SGP4 on a coarse grid** through ``SatrecArray``: step H = 600 s for
   near-circular orbits, 300 s for the others (the engine groups satellites
   by step; see ``SearchSettings``). Each state gets a two-body + J2
   acceleration and jerk, and a velocity re-derived from the positions
   (SGP4's own velocity is up to 3 cm/s off its position's derivative, see
   :func:`coarse_states`); all are turned into Earth-fixed states (with the
   Coriolis, centrifugal and higher rotation terms) so that the Earth-fixed
   track itself can be interpolated.
2. **A proven prefilter.** A satellite never farther than ``r_max`` from the
   Earth's centre is above elevation ε of a station only if the angle θ
   between their geocentric directions is at most λ = arccos(R cos ε / r_max)
   − ε (ε lowered by 0.25° for the geodetic-versus-geocentric vertical). A
   first test keeps the coarse intervals with θ ≤ λ + ω·H/2 at an end, ω
   bounding the satellite's angular rate (Kepler at perigee plus Earth's
   rotation). A second test keeps those where the great-circle arc between
   the two end directions comes within λ + δ of the station, δ bounding how
   far the true track strays from that arc over H (Coriolis curvature plus
   0.1° for the orbit plane's motion). What is dropped provably holds no
   visibility (``tests/test_search.py`` checks it against SGP4 every 10 s at
   both steps).
3. **The fine track.** Septic Hermite interpolation (position, velocity,
   acceleration and jerk at both ends) puts the surviving intervals on a
   fine grid (60 s). Against SGP4 the interpolation error on the reference
   population is 0.7 m p99, 1.3 m at most at H = 600 s, and 0.27 m at most
   at 300 s (``tests/test_search.py``).
4. **sin(elevation) and its rate** at those fine points, from the Earth-fixed
   states and the antenna's geodetic up vector (the sine has the same
   crossings and maximum as the elevation, needs no arcsine and stays smooth
   through the zenith).
5. **Crossings** where the margin f = sin(elevation) − sin(limit) changes
   sign between fine points; **grazing passes** that rise and set between two
   fine points are found where f' turns from + to − with both ends below the limit (a
   satellite's elevation has a single maximum within one fine interval,
   which is far shorter than any orbit), and kept when the refined maximum is
   above the limit.
6. **Refinement** by safeguarded Newton iterations on a cubic Hermite model of
   the track inside each fine interval (no further SGP4 calls): crossings to
   0.1 ms, maxima to 1 ms. Rises and sets of each satellite-antenna pair are
   paired as they come, in time order.

Vectors are (3, ...) arrays, x/y/z first (Skyfield's convention). Times
inside this module are seconds from the grid start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from groundlink.orbits.frames import (
    EARTH_ROTATION_RAD_S,
    dot,
    gmst82_rad,
    look_angles,
    rotate_teme_to_ecef,
    teme_to_ecef,
)
from groundlink.orbits.propagation import (
    EARTH_RADIUS_KM,
    J2,
    MU_KM3_S2,
    SatelliteBatch,
    gravity_acceleration_km_s2,
)

# _KERNELS_NOTE: the compiled kernels (groundlink.passes.kernels) are imported
# where they are used, not here: importing numba takes about 0.3 s, which
# every program that merely imports the engine (the CLI, the API) would pay.

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Derivatives matched at each end of a coarse interval (position, velocity,
#: acceleration, jerk): a septic Hermite curve.
_HERMITE_DERIVATIVES = 4

#: Bound on the angle between the geodetic normal and the geocentric radial, plus slack.
_GEODETIC_MARGIN_RAD = np.radians(0.25)
#: Slack for the orbit plane's motion over one coarse step (J2 precession and short-period terms).
_PLANE_MARGIN_RAD = np.radians(0.1)


@dataclass(frozen=True)
class TimeGrid:
    """The search grid: a start (two-part UTC Julian date) and its steps.

    ``coarse_step_s`` must be a whole multiple of ``fine_step_s``. The grid
    covers ``n_coarse`` coarse steps from the start.
    """

    jd_whole: float
    jd_fraction: float
    n_coarse: int
    coarse_step_s: float = 600.0
    fine_step_s: float = 60.0
    ut1_minus_utc_s: float = 0.0

    @property
    def substeps(self) -> int:
        """Fine steps per coarse step."""
        return round(self.coarse_step_s / self.fine_step_s)

    @property
    def span_s(self) -> float:
        """Seconds from the first to the last grid point."""
        return self.n_coarse * self.coarse_step_s

    def julian(self, offsets_s: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Two-part UTC Julian dates of offsets in seconds from the start."""
        fraction = self.jd_fraction + np.asarray(offsets_s, dtype=np.float64) / 86400.0
        return np.full_like(fraction, self.jd_whole), fraction

    def gmst_rad(self, offsets_s: npt.ArrayLike) -> FloatArray:
        """Greenwich mean sidereal time (rad) at offsets in seconds from the start."""
        return gmst82_rad(*self.julian(offsets_s), self.ut1_minus_utc_s)


@dataclass(frozen=True)
class ObserverArrays:
    """Antennas as arrays for the search: vectors (3, M), limits (M,).

    ``limit_deg`` is the elevation the search looks for: the antenna's
    lowest usable elevation anywhere (an azimuth-dependent mask is applied
    afterwards by :mod:`groundlink.passes.masks`).
    """

    position_km: FloatArray
    east: FloatArray
    north: FloatArray
    up: FloatArray
    limit_deg: FloatArray

    def __len__(self) -> int:
        return int(self.limit_deg.shape[0])


@dataclass(frozen=True)
class RawPasses:
    """Passes found in one chunk, as columns of equal length P.

    Times are seconds from the grid start; ``satellite`` indexes the chunk's
    batch, ``observer`` the :class:`ObserverArrays`. ``aos_clipped`` and
    ``los_clipped`` flag a pass in progress at the start or end of the grid.
    ``tca_position_km`` is the satellite's Earth-fixed position at TCA, (3, P).
    ``errors`` lists (satellite, first failing coarse index, SGP4 code).
    """

    satellite: IntArray
    observer: IntArray
    aos_s: FloatArray
    tca_s: FloatArray
    los_s: FloatArray
    max_elevation_deg: FloatArray
    aos_azimuth_deg: FloatArray
    tca_azimuth_deg: FloatArray
    los_azimuth_deg: FloatArray
    tca_position_km: FloatArray
    aos_clipped: BoolArray
    los_clipped: BoolArray
    errors: list[tuple[int, int, int]]

    def take(self, rows: IntArray) -> RawPasses:
        """The passes at ``rows``, with the same errors."""
        values = {
            f.name: getattr(self, f.name)[..., rows] for f in fields(self) if f.name != "errors"
        }
        return RawPasses(**values, errors=self.errors)

    @staticmethod
    def empty() -> RawPasses:
        """No passes."""
        none_f, none_i, none_b = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, bool)
        return RawPasses(
            none_i,
            none_i,
            none_f,
            none_f,
            none_f,
            none_f,
            none_f,
            none_f,
            none_f,
            np.zeros((3, 0)),
            none_b,
            none_b,
            [],
        )

    @staticmethod
    def concatenate(parts: Sequence[RawPasses]) -> RawPasses:
        """All passes of ``parts`` (at least one), and all their errors."""
        values = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts], axis=-1)
            for f in fields(RawPasses)
            if f.name != "errors"
        }
        return RawPasses(**values, errors=[e for p in parts for e in p.errors])


# --------------------------------------------------------------------------
# Steps 1-3: SGP4 on the coarse grid, the prefilter, the fine track.


@dataclass(frozen=True)
class CoarseStates:
    """SGP4 states of a chunk on the coarse grid, Earth-fixed, shapes (3, n, K+1).

    Position, velocity, acceleration and jerk relative to the rotating Earth
    (with the rotating frame's Coriolis and centrifugal terms), so that the
    Earth-fixed track can be interpolated directly. Position is NaN where
    SGP4 failed, so nothing is ever found there. ``errors`` lists
    (satellite, first failing coarse index, SGP4 code).
    """

    position_km: FloatArray
    velocity_km_s: FloatArray
    acceleration_km_s2: FloatArray
    jerk_km_s3: FloatArray
    errors: list[tuple[int, int, int]]


def coarse_states(batch: SatelliteBatch, grid: TimeGrid) -> CoarseStates:
    """Propagate ``batch`` with SGP4 at every coarse grid point; Earth-fixed states.

    The acceleration and jerk are those of two-body + J2 gravity at SGP4's
    state (SGP4 itself gives neither). The velocity is not SGP4's: SGP4's
    velocity is not exactly the derivative of its position (10 to 28 mm/s
    apart over the reference population: its short-period terms are left out
    of the velocity), which over a 600 s step would put the interpolated
    track 3.6 m off; instead it is the derivative of the polynomial that
    matches position, acceleration and jerk at the grid point and its two
    neighbours (:func:`_grid_velocity`), for which one more grid point is
    propagated at each end. Then into the rotating frame, with Ω the Earth's
    rotation: v_E = R v − Ω×r_E, a_E = R a − 2Ω×v_E − Ω×(Ω×r_E) and
    j_E = R j − 3Ω×a_E − 3Ω×(Ω×v_E) − Ω×(Ω×(Ω×r_E)).
    """
    h = grid.coarse_step_s
    offsets = np.arange(-1, grid.n_coarse + 2) * h
    prop = batch.propagate(*grid.julian(offsets))
    position = np.moveaxis(prop.position_km, -1, 0)
    sgp4_velocity = np.moveaxis(prop.velocity_km_s, -1, 0)
    failed = prop.error != 0
    errors: list[tuple[int, int, int]] = []
    if failed.any():
        position = position.copy()
        position[:, failed] = np.nan
        inside = failed[:, 1:-1]
        for sat in np.flatnonzero(inside.any(axis=1)):
            first = int(np.argmax(inside[sat]))
            errors.append((int(sat), first, int(prop.error[sat, first + 1])))
    acceleration = gravity_acceleration_km_s2(position)
    jerk = _gravity_jerk_km_s3(position, sgp4_velocity)
    velocity = _grid_velocity(position, sgp4_velocity, acceleration, jerk, h)

    inner = slice(1, -1)
    gmst = grid.gmst_rad(offsets[inner])
    position, velocity = teme_to_ecef(position[..., inner], velocity, gmst)
    acceleration = rotate_teme_to_ecef(acceleration[..., inner], gmst)
    jerk = rotate_teme_to_ecef(jerk[..., inner], gmst)
    w = EARTH_ROTATION_RAD_S
    acceleration[0] += 2 * w * velocity[1] + w * w * position[0]
    acceleration[1] += -2 * w * velocity[0] + w * w * position[1]
    jerk[0] += 3 * w * acceleration[1] + 3 * w * w * velocity[0] - w**3 * position[1]
    jerk[1] += -3 * w * acceleration[0] + 3 * w * w * velocity[1] + w**3 * position[0]
    return CoarseStates(position, velocity, acceleration, jerk, errors)


def _grid_velocity(
    position_km: FloatArray,
    sgp4_velocity_km_s: FloatArray,
    acceleration_km_s2: FloatArray,
    jerk_km_s3: FloatArray,
    step_s: float,
) -> FloatArray:
    """Velocity at the inner grid points (3, n, T−2) consistent with the positions, km/s.

    The derivative at t_k of the degree-8 polynomial through position,
    acceleration and jerk at t_{k−1}, t_k, t_{k+1} (h apart):
    (p₊ − p₋)/2h − 5h (a₊ − a₋)/112 + h² (11 j₋ − 152 j₀ + 11 j₊)/1680.
    Where a neighbour is missing (SGP4 failed there), SGP4's own velocity.
    """
    h = step_s
    p, a, j = position_km, acceleration_km_s2, jerk_km_s3
    velocity = (
        (p[..., 2:] - p[..., :-2]) / (2 * h)
        - (5 * h / 112) * (a[..., 2:] - a[..., :-2])
        + (h * h / 1680) * (11 * j[..., :-2] - 152 * j[..., 1:-1] + 11 * j[..., 2:])
    )
    missing = np.isnan(velocity)
    if missing.any():
        velocity[missing] = sgp4_velocity_km_s[..., 1:-1][missing]
    return velocity


def _gravity_jerk_km_s3(position_km: FloatArray, velocity_km_s: FloatArray) -> FloatArray:
    """Time derivative of :func:`gravity_acceleration_km_s2` along the motion, km/s³ (3, ...).

    With q = r² and w = z², the acceleration is (x F, y F, z G) where
    F = −μ(q^-3/2 + c q^-5/2 − 5 c w q^-7/2), G = −μ(q^-3/2 + 3c q^-5/2 − 5 c w q^-7/2)
    and c = 1.5 J2 Re²; its derivative follows from dq/dt = 2 r·v, dw/dt = 2 z vz.
    """
    x, y, z = position_km
    vx, vy, vz = velocity_km_s
    q = x * x + y * y + z * z
    w = z * z
    c = 1.5 * J2 * EARTH_RADIUS_KM**2
    q_32 = 1.0 / (q * np.sqrt(q))  # q^-3/2
    q_52 = q_32 / q
    q_72 = q_52 / q
    q_92 = q_72 / q
    f = -MU_KM3_S2 * (q_32 + c * q_52 - 5 * c * w * q_72)
    g = -MU_KM3_S2 * (q_32 + 3 * c * q_52 - 5 * c * w * q_72)
    df_dq = MU_KM3_S2 * (1.5 * q_52 + 2.5 * c * q_72 - 17.5 * c * w * q_92)
    dg_dq = MU_KM3_S2 * (1.5 * q_52 + 7.5 * c * q_72 - 17.5 * c * w * q_92)
    d_dw = 5 * MU_KM3_S2 * c * q_72  # the same for F and G
    dq = 2 * (x * vx + y * vy + z * vz)
    dw = 2 * z * vz
    df = df_dq * dq + d_dw * dw
    dg = dg_dq * dq + d_dw * dw
    return np.stack([vx * f + x * df, vy * f + y * df, vz * g + z * dg])


def candidate_intervals(
    coarse: CoarseStates, batch: SatelliteBatch, observers: ObserverArrays, grid: TimeGrid
) -> tuple[IntArray, IntArray, IntArray]:
    """Coarse intervals (satellite, k, observer) that may hold visibility.

    Two tests, the second on what passes the first (module docstring, step 2):

    * cheap, on every satellite, coarse point and antenna: the satellite is
      within λ + ω·H/2 of the station at either end;
    * tight: the great-circle arc between the two end directions comes
      within λ of the station, allowing for the arc's deviation from the
      true Earth-fixed track (Coriolis curvature, ≤ (2 ω_E ω + ω_E²) H²/8,
      plus 0.1° for perturbations of the orbit plane).

    Returned ordered by antenna, then satellite, then k (as the scan needs them).
    """
    from groundlink.passes import kernels  # see _KERNELS_NOTE

    station_radius = np.sqrt(dot(observers.position_km, observers.position_km))
    station_dir = observers.position_km / station_radius
    elevation = np.radians(observers.limit_deg) - _GEODETIC_MARGIN_RAD
    r_max = batch.radius_bound_km(coarse.position_km)
    ratio = np.clip(station_radius[None, :] * np.cos(elevation)[None, :] / r_max[:, None], -1, 1)
    reach = np.arccos(ratio) - elevation[None, :]  # λ, (n, M)
    rate = batch.angular_rate_bound_rad_s()
    h = grid.coarse_step_s

    omega_e = EARTH_ROTATION_RAD_S
    deviation = (2 * omega_e * rate + omega_e**2) * h * h / 8 + _PLANE_MARGIN_RAD
    position = coarse.position_km
    direction = position / np.sqrt(dot(position, position))
    return kernels.close_intervals(
        np.ascontiguousarray(direction),
        np.ascontiguousarray(station_dir),
        _cos_of(reach + rate[:, None] * h / 2.0),
        _cos_of(reach + deviation[:, None]),
    )


def _cos_of(angle_rad: FloatArray) -> FloatArray:
    """cos of angles, with angles of π or more (the whole sphere) mapped below -1."""
    return np.where(angle_rad >= np.pi, -2.0, np.cos(np.minimum(angle_rad, np.pi)))


def fine_track(
    coarse: CoarseStates, sat: IntArray, k: IntArray, grid: TimeGrid
) -> tuple[FloatArray, FloatArray]:
    """Earth-fixed states at the fine points of coarse intervals (sat, k).

    Hermite interpolation of the coarse Earth-fixed states (module docstring,
    step 3). Returns (position_km, velocity_km_s), each (3, m+1, R): fine
    point j of interval i, both interval ends included.
    """
    position, velocity = _fine_track_rows(coarse, sat, k, grid)
    return np.transpose(position, (1, 2, 0)), np.transpose(velocity, (1, 2, 0))


def _fine_track_rows(
    coarse: CoarseStates, sat: IntArray, k: IntArray, grid: TimeGrid
) -> tuple[FloatArray, FloatArray]:
    """:func:`fine_track` laid out for the scan: (R, 3, m+1), one interval's points together."""
    from groundlink.passes import kernels  # see _KERNELS_NOTE

    m = grid.substeps
    value, slope = _hermite_weights(np.arange(m + 1) / m, _HERMITE_DERIVATIVES)
    derivatives = (
        coarse.position_km,
        coarse.velocity_km_s,
        coarse.acceleration_km_s2,
        coarse.jerk_km_s3,
    )
    states = np.stack(derivatives[:_HERMITE_DERIVATIVES])
    return kernels.hermite_track(states, sat, k, value, slope, grid.coarse_step_s)


def _hermite_weights(fractions: FloatArray, derivatives: int) -> tuple[FloatArray, FloatArray]:
    """Hermite basis at ``fractions`` of an interval, and its derivative (both d/ds).

    The polynomial of degree 2·``derivatives`` − 1 in s ∈ [0, 1] that takes
    the value and the first ``derivatives`` − 1 derivatives given at both
    ends (order: value, d/ds, d²/ds², … at s = 0, then the same at s = 1).
    Returns two (len(fractions), 2·derivatives) weight matrices.
    """
    n = 2 * derivatives
    powers = np.arange(n)
    conditions = np.zeros((n, n))  # d-th derivative of s**i at s = 0 and s = 1
    for d in range(derivatives):
        conditions[d, d] = math.factorial(d)
        conditions[derivatives + d] = [math.perm(int(i), d) for i in powers]
    to_monomials = np.linalg.inv(conditions)
    s = np.asarray(fractions, dtype=np.float64)[:, None]
    value = s**powers @ to_monomials
    slope = (powers * s ** np.maximum(powers - 1, 0)) @ to_monomials
    return value, slope


def search_chunk(batch: SatelliteBatch, observers: ObserverArrays, grid: TimeGrid) -> RawPasses:
    """Find every pass of the satellites of ``batch`` over ``observers`` on ``grid``.

    Returns the passes as columns (times in seconds from the grid start), in
    no particular order.
    """
    from groundlink.passes import kernels  # see _KERNELS_NOTE

    coarse = coarse_states(batch, grid)
    cand_sat, cand_k, cand_obs = candidate_intervals(coarse, batch, observers, grid)
    # The fine track of each distinct candidate interval, shared by its antennas.
    interval_id = cand_sat * grid.n_coarse + cand_k
    unique_id, row = np.unique(interval_id, return_inverse=True)
    track_position, track_velocity = _fine_track_rows(
        coarse, unique_id // grid.n_coarse, unique_id % grid.n_coarse, grid
    )
    floats, ints = kernels.scan_candidates(
        track_position,
        track_velocity,
        row.astype(np.int64),
        cand_sat,
        cand_obs,
        cand_k,
        np.ascontiguousarray(observers.position_km),
        np.ascontiguousarray(observers.up),
        np.sin(np.radians(observers.limit_deg)),
        grid.fine_step_s,
        grid.n_coarse,
    )
    obs = np.ascontiguousarray(ints[:, kernels.OBSERVER])
    tca_position = np.ascontiguousarray(floats[:, kernels.TCA_KM].T)
    station, east, north, up = (
        np.take(vectors, obs, axis=1)
        for vectors in (observers.position_km, observers.east, observers.north, observers.up)
    )
    tca_azimuth, max_elevation, _ = look_angles(tca_position - station, east, north, up)
    aos_azimuth = _azimuth_deg(floats[:, kernels.AOS_KM].T - station, east, north)
    los_azimuth = _azimuth_deg(floats[:, kernels.LOS_KM].T - station, east, north)
    return RawPasses(
        satellite=np.ascontiguousarray(ints[:, kernels.SATELLITE]),
        observer=obs,
        aos_s=np.ascontiguousarray(floats[:, kernels.AOS_S]),
        tca_s=np.ascontiguousarray(floats[:, kernels.TCA_S]),
        los_s=np.ascontiguousarray(floats[:, kernels.LOS_S]),
        max_elevation_deg=max_elevation,
        aos_azimuth_deg=aos_azimuth,
        tca_azimuth_deg=tca_azimuth,
        los_azimuth_deg=los_azimuth,
        tca_position_km=tca_position,
        aos_clipped=ints[:, kernels.AOS_CLIPPED] != 0,
        los_clipped=ints[:, kernels.LOS_CLIPPED] != 0,
        errors=coarse.errors,
    )


def _azimuth_deg(relative_km: FloatArray, east: FloatArray, north: FloatArray) -> FloatArray:
    """Azimuth in [0, 360) of Earth-fixed offsets (3, P), as :func:`look_angles` gives it."""
    azimuth: FloatArray = np.degrees(np.arctan2(dot(relative_km, east), dot(relative_km, north)))
    return azimuth % 360.0

"""The pass search: every interval in which a satellite is above an antenna's limit.

Why hand-written: Skyfield's ``find_events`` handles one satellite and one
site at a time (about 2 ms per satellite-station-day); a ground network needs
millions of pairs per day. This module works on whole arrays of satellites,
antennas and times at once and never loops in Python over passes.

The method, for one chunk of satellites (steps 1-6 below are functions of
this module, in this order):

1. **SGP4 on a coarse grid** (step H, default 300 s) through ``SatrecArray``,
   plus a two-body + J2 acceleration; the states are turned into Earth-fixed
   position, velocity and acceleration (with the Coriolis and centrifugal
   terms) so that the Earth-fixed track itself can be interpolated.
2. **A proven prefilter.** A satellite never farther than ``r_max`` from the
   Earth's centre is above elevation ε of a station only if the angle θ
   between their geocentric directions is at most λ = arccos(R cos ε / r_max)
   − ε (ε lowered by 0.25° for the geodetic-versus-geocentric vertical). A
   first test keeps the coarse intervals with θ ≤ λ + ω·H/2 at an end, ω
   bounding the satellite's angular rate (Kepler at perigee plus Earth's
   rotation): one matrix product for all satellites, times and antennas. A
   second test keeps those where the great-circle arc between the two end
   directions comes within λ + δ of the station, δ bounding how far the true
   track strays from that arc over H (Coriolis curvature plus 0.1° for the
   orbit plane's motion). What is dropped provably holds no visibility.
3. **The fine track.** Quintic Hermite interpolation (position, velocity and
   acceleration at both ends) puts the surviving intervals on a fine grid
   (H/5). Against SGP4 the interpolation error on the reference population is
   about 1.5 m at H = 300 s and 15 m at H = 600 s (``tests/test_search.py``).
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
   0.1 ms, maxima to 1 ms.

Vectors are (3, ...) arrays, x/y/z first (Skyfield's convention). Times
inside this module are seconds from the grid start.
"""

from __future__ import annotations

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
from groundlink.orbits.propagation import SatelliteBatch, gravity_acceleration_km_s2

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Bound on the angle between the geodetic normal and the geocentric radial, plus slack.
_GEODETIC_MARGIN_RAD = np.radians(0.25)
#: Convergence of crossing times, seconds.
_ROOT_TOLERANCE_S = 1e-4
#: A Newton step this small is the last: the error after it is below 1e-4 s.
_ROOT_STEP_S = 2e-3
#: Convergence at a maximum, seconds: sin(elevation) is flat there, so 1 ms
#: moves the maximum elevation by less than 1e-3° even through the zenith.
_PEAK_STEP_S = 1e-3
_NEWTON_ITERATIONS = 16
#: Maxima that a cubic model puts this far below the limit (in sin(elevation),
#: about 0.06°) are not refined.
_GRAZING_TOLERANCE = 1e-3
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
    coarse_step_s: float = 300.0
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


def _quintic_basis(s: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Quintic Hermite weights and their s-derivatives at s in [0, 1].

    Order: p0, v0, a0, a1, v1, p1 (velocities scaled by h, accelerations by h²).
    """
    s2, s3, s4, s5 = s * s, s**3, s**4, s**5
    weights = (
        1 - 10 * s3 + 15 * s4 - 6 * s5,
        s - 6 * s3 + 8 * s4 - 3 * s5,
        0.5 * s2 - 1.5 * s3 + 1.5 * s4 - 0.5 * s5,
        0.5 * s3 - s4 + 0.5 * s5,
        -4 * s3 + 7 * s4 - 3 * s5,
        10 * s3 - 15 * s4 + 6 * s5,
    )
    derivatives = (
        -30 * s2 + 60 * s3 - 30 * s4,
        1 - 18 * s2 + 32 * s3 - 15 * s4,
        s - 4.5 * s2 + 6 * s3 - 2.5 * s4,
        1.5 * s2 - 4 * s3 + 2.5 * s4,
        -12 * s2 + 28 * s3 - 15 * s4,
        30 * s2 - 60 * s3 + 30 * s4,
    )
    return weights, derivatives


@dataclass(frozen=True)
class CoarseStates:
    """SGP4 states of a chunk on the coarse grid, Earth-fixed, shapes (3, n, K+1).

    Position, velocity and acceleration relative to the rotating Earth (the
    acceleration includes the Coriolis and centrifugal terms), so that the
    Earth-fixed track can be interpolated directly. Position is NaN where
    SGP4 failed, so nothing is ever found there. ``errors`` lists
    (satellite, first failing coarse index, SGP4 code).
    """

    position_km: FloatArray
    velocity_km_s: FloatArray
    acceleration_km_s2: FloatArray
    errors: list[tuple[int, int, int]]


def coarse_states(batch: SatelliteBatch, grid: TimeGrid) -> CoarseStates:
    """Propagate ``batch`` with SGP4 at every coarse grid point; Earth-fixed states."""
    offsets = np.arange(grid.n_coarse + 1) * grid.coarse_step_s
    prop = batch.propagate(*grid.julian(offsets))
    position = np.moveaxis(prop.position_km, -1, 0)
    failed = prop.error != 0
    errors: list[tuple[int, int, int]] = []
    if failed.any():
        position = position.copy()
        position[:, failed] = np.nan
        for sat in np.flatnonzero(failed.any(axis=1)):
            first = int(np.argmax(failed[sat]))
            errors.append((int(sat), first, int(prop.error[sat, first])))
    acceleration = gravity_acceleration_km_s2(position)
    gmst = grid.gmst_rad(offsets)
    position, velocity = teme_to_ecef(position, np.moveaxis(prop.velocity_km_s, -1, 0), gmst)
    acceleration = rotate_teme_to_ecef(acceleration, gmst)
    w = EARTH_ROTATION_RAD_S
    acceleration[0] += 2 * w * velocity[1] + w * w * position[0]
    acceleration[1] += -2 * w * velocity[0] + w * w * position[1]
    return CoarseStates(position, velocity, acceleration, errors)


def candidate_intervals(
    coarse: CoarseStates, batch: SatelliteBatch, observers: ObserverArrays, grid: TimeGrid
) -> tuple[IntArray, IntArray, IntArray]:
    """Coarse intervals (satellite, k, observer) that may hold visibility.

    Two tests, the second on what passes the first (module docstring, step 3):

    * cheap, on every satellite, coarse point and antenna (one matrix product):
      the satellite is within λ + ω·H/2 of the station at either end;
    * tight: the great-circle arc between the two end directions comes
      within λ of the station, allowing for the arc's deviation from the
      true Earth-fixed track (Coriolis curvature, ≤ (2 ω_E ω + ω_E²) H²/8,
      plus 0.1° for perturbations of the orbit plane).

    Returned in no particular order.
    """
    station_radius = np.sqrt(dot(observers.position_km, observers.position_km))
    station_dir = observers.position_km / station_radius
    elevation = np.radians(observers.limit_deg) - _GEODETIC_MARGIN_RAD
    r_max = batch.radius_bound_km(coarse.position_km)
    ratio = np.clip(station_radius[None, :] * np.cos(elevation)[None, :] / r_max[:, None], -1, 1)
    reach = np.arccos(ratio) - elevation[None, :]  # λ, (n, M)
    rate = batch.angular_rate_bound_rad_s()
    h = grid.coarse_step_s

    position = coarse.position_km
    _, n, k1 = position.shape
    direction = (position / np.sqrt(dot(position, position))).reshape(3, -1)
    n_obs = station_dir.shape[1]
    loose = _cos_of(reach + rate[:, None] * h / 2.0).T.astype(np.float32)  # (M, n)
    cosine = station_dir.T.astype(np.float32) @ direction.astype(np.float32)
    near = cosine.reshape(n_obs, n, k1) >= loose[:, :, None]
    touched = np.flatnonzero(near[:, :, :-1] | near[:, :, 1:])  # (obs, sat, k) flattened
    obs_sat, k = np.divmod(touched, k1 - 1)
    obs, sat = np.divmod(obs_sat, n)

    # Closest approach of the great-circle arc u0 → u1 to the station t: with
    # c = u0·u1, the foot of t on the arc's plane lies between the ends when
    # t·u1 ≥ c t·u0 and t·u0 ≥ c t·u1; its cosine distance is then the norm
    # of t projected on the plane, sqrt((a² + b² - 2abc) / (1 - c²)).
    u0 = np.take(direction, sat * k1 + k, axis=1)
    u1 = np.take(direction, sat * k1 + k + 1, axis=1)
    toward = np.take(station_dir, obs, axis=1)
    cos0, cos1, c = dot(toward, u0), dot(toward, u1), dot(u0, u1)
    sin2_arc = 1.0 - c * c
    inside = (cos1 >= c * cos0) & (cos0 >= c * cos1) & (sin2_arc > 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        projected = (cos0 * cos0 + cos1 * cos1 - 2 * c * cos0 * cos1) / sin2_arc
    cos_arc = np.where(inside, np.sqrt(np.clip(projected, 0, 1)), np.maximum(cos0, cos1))
    omega_e = EARTH_ROTATION_RAD_S
    deviation = (2 * omega_e * rate[sat] + omega_e**2) * h * h / 8 + _PLANE_MARGIN_RAD
    close = cos_arc >= _cos_of(reach[sat, obs] + deviation)
    return sat[close], k[close], obs[close]


def _cos_of(angle_rad: FloatArray) -> FloatArray:
    """cos of angles, with angles of π or more (the whole sphere) mapped below -1."""
    return np.where(angle_rad >= np.pi, -2.0, np.cos(np.minimum(angle_rad, np.pi)))


def fine_track(
    coarse: CoarseStates, sat: IntArray, k: IntArray, grid: TimeGrid
) -> tuple[FloatArray, FloatArray]:
    """Earth-fixed states at the fine points of coarse intervals (sat, k).

    Quintic Hermite interpolation of the coarse Earth-fixed states. Returns
    (position_km, velocity_km_s), each (3, m+1, R): fine point j of interval
    i, both interval ends included.
    """
    h = grid.coarse_step_s
    m = grid.substeps
    r, v, a = coarse.position_km, coarse.velocity_km_s, coarse.acceleration_km_s2
    k1 = r.shape[2]
    now, later = sat * k1 + k, sat * k1 + k + 1

    def at(array: FloatArray, index: IntArray) -> FloatArray:
        picked: FloatArray = np.take(array.reshape(3, -1), index, axis=1)
        return picked

    ends = (
        at(r, now),
        at(v, now) * h,
        at(a, now) * (h * h),
        at(a, later) * (h * h),
        at(v, later) * h,
        at(r, later),
    )
    position = np.empty((3, m + 1, sat.size))
    velocity = np.empty((3, m + 1, sat.size))
    position[:, 0], velocity[:, 0] = ends[0], ends[1] / h
    position[:, m], velocity[:, m] = ends[5], ends[4] / h
    for j in range(1, m):
        weights, derivatives = _quintic_basis(j / m)
        position[:, j] = sum(w * x for w, x in zip(weights, ends, strict=True))
        velocity[:, j] = sum(d * x for d, x in zip(derivatives, ends, strict=True)) / h
    return position, velocity


# --------------------------------------------------------------------------
# Step 4: elevation and its rate.


def sine_elevation_and_rate(
    relative_km: FloatArray, relative_velocity_km_s: FloatArray, up: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """sin(elevation) and its time derivative (1/s) of relative states (3, ...).

    The search works on sin(elevation) rather than the elevation: it rises
    and falls with it (same crossings, same maximum), costs no arcsine, and
    stays smooth through the zenith, where the elevation itself has a kink.
    """
    inverse_range = 1.0 / np.sqrt(dot(relative_km, relative_km))
    sine = dot(relative_km, up) * inverse_range
    range_rate_per_range = dot(relative_velocity_km_s, relative_km) * inverse_range**2
    rate = dot(relative_velocity_km_s, up) * inverse_range - sine * range_rate_per_range
    return sine, rate


@dataclass(frozen=True)
class _Segments:
    """The fine track of every candidate interval, with its antenna.

    Inside a fine interval the Earth-fixed track is the cubic Hermite curve
    through the states at its two ends (within 0.3 m of the quintic track
    over 60 s). :meth:`rows` gathers chosen fine intervals for evaluation.
    """

    position_km: FloatArray  # (3, m+1, C)
    velocity_km_s: FloatArray  # (3, m+1, C)
    station_km: FloatArray  # (3, C)
    up: FloatArray  # (3, C)
    limit_sine: FloatArray  # (C,): sin(limit elevation)
    first_fine_index: IntArray  # (C,)
    step_s: float

    def t0(self, c: IntArray, j: IntArray) -> FloatArray:
        """Start of fine interval j of candidates c, seconds from the grid start."""
        start = (self.first_fine_index[c] + j) * self.step_s
        return start.astype(np.float64)

    def rows(self, c: IntArray, j: IntArray) -> _Rows:
        """Fine interval ``j[i]`` of candidate ``c[i]`` for each i, gathered."""
        count = self.position_km.shape[2]
        flat = j * count + c
        position = self.position_km.reshape(3, -1)
        velocity = self.velocity_km_s.reshape(3, -1)
        p0 = np.take(position, flat, axis=1)
        return _Rows(
            t0=self.t0(c, j),
            p0=p0,
            dp=np.take(position, flat + count, axis=1) - p0,
            v0=np.take(velocity, flat, axis=1),
            v1=np.take(velocity, flat + count, axis=1),
            station_km=np.take(self.station_km, c, axis=1),
            up=np.take(self.up, c, axis=1),
            limit_sine=self.limit_sine[c],
            step_s=self.step_s,
        )


@dataclass(frozen=True)
class _Rows:
    """Gathered fine intervals, one per row: the cubic Hermite model and the antenna."""

    t0: FloatArray
    p0: FloatArray
    dp: FloatArray
    v0: FloatArray
    v1: FloatArray
    station_km: FloatArray
    up: FloatArray
    limit_sine: FloatArray
    step_s: float

    def take(self, keep: IntArray) -> _Rows:
        """The subset ``keep`` of the rows."""
        return _Rows(
            self.t0[keep],
            self.p0[:, keep],
            self.dp[:, keep],
            self.v0[:, keep],
            self.v1[:, keep],
            self.station_km[:, keep],
            self.up[:, keep],
            self.limit_sine[keep],
            self.step_s,
        )

    def state(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Earth-fixed position (km) and velocity (km/s), (3, rows), at times ``t``."""
        h = self.step_s
        s = (t - self.t0) / h
        s2 = s * s
        s3 = s2 * s
        position = (self.p0 + (3 * s2 - 2 * s3) * self.dp + (s3 - 2 * s2 + s) * h * self.v0) + (
            s3 - s2
        ) * h * self.v1
        velocity = (
            (6 * s - 6 * s2) / h * self.dp
            + (3 * s2 - 4 * s + 1) * self.v0
            + (3 * s2 - 2 * s) * self.v1
        )
        return position, velocity

    def margin(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """sin(elevation) − sin(limit) and its rate (1/s) at times ``t`` (one per row)."""
        return self.margin_of(*self.state(t))

    def margin_of(
        self, position_km: FloatArray, velocity_km_s: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """sin(elevation) − sin(limit) and its rate (1/s) of Earth-fixed states (3, rows)."""
        sine, rate = sine_elevation_and_rate(position_km - self.station_km, velocity_km_s, self.up)
        return sine - self.limit_sine, rate


# --------------------------------------------------------------------------
# Steps 5-6: crossings, maxima, refinement.


def _cubic_coefficients(
    f0: FloatArray, d0: FloatArray, f1: FloatArray, d1: FloatArray, h: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Coefficients c0..c3 in s ∈ [0, 1] of the cubic through (f0, f0'), (f1, f1')."""
    c1 = h * d0
    c2 = -3 * f0 - 2 * h * d0 + 3 * f1 - h * d1
    c3 = 2 * f0 + h * d0 - 2 * f1 + h * d1
    return f0, c1, c2, c3


def _cubic_value(
    coefficients: tuple[FloatArray, FloatArray, FloatArray, FloatArray], s: FloatArray
) -> FloatArray:
    c0, c1, c2, c3 = coefficients
    value: FloatArray = ((c3 * s + c2) * s + c1) * s + c0
    return value


def _cubic_root_guess(
    coefficients: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
) -> FloatArray:
    """A root in [0, 1] of a cubic that changes sign there (Newton from the chord), as s."""
    c0, c1, c2, c3 = coefficients
    total = c0 + c1 + c2 + c3
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.clip(np.nan_to_num(c0 / (c0 - total), nan=0.5), 0.0, 1.0)
        for _ in range(3):
            slope = (3 * c3 * s + 2 * c2) * s + c1
            step = np.nan_to_num(_cubic_value(coefficients, s) / slope)
            s = np.clip(s - step, 0.0, 1.0)
    return s


def _cubic_peak_guess(
    coefficients: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
) -> FloatArray:
    """Where a cubic rising at s=0 and falling at s=1 peaks in [0, 1], as s."""
    _, c1, c2, c3 = coefficients
    a, b, c = 3 * c3, 2 * c2, c1  # derivative a s² + b s + c, positive at 0, not at 1
    disc = np.sqrt(np.maximum(b * b - 4 * a * c, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = -0.5 * (b + np.copysign(disc, b))
        roots = np.stack([c / q, q / a, -c / b])
    # The peak is the root in [0, 1] where the derivative turns negative.
    ok = (roots >= 0) & (roots <= 1) & (2 * a * roots + b <= 0)
    pick = np.where(ok, roots, np.inf).min(axis=0)
    return np.where(np.isfinite(pick), pick, 0.5)


def _refine_root(
    rows: _Rows,
    low: FloatArray,
    high: FloatArray,
    f_low: FloatArray,
    f_high: FloatArray,
    guess: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Where f = 0 inside [low, high], f(low) and f(high) of opposite signs.

    Newton steps from ``guess``, falling back to Illinois regula falsi on the
    bracket when a step would leave it. Newton converges quadratically here
    (the error after a step is about f''/(2f') times the step squared), so a
    step below 2 ms is taken as the last. Returns the crossing times
    (seconds from the grid start) and the satellite's Earth-fixed position at
    the last evaluation, (3, rows) km.
    """
    t = guess.copy()
    position = np.empty((3, t.size))
    index = np.arange(t.size)
    low, high, f_low, f_high = low.copy(), high.copy(), f_low.copy(), f_high.copy()
    kept_low = np.zeros(t.size, bool)
    kept_high = np.zeros(t.size, bool)
    # Rows that converged stay frozen even while still in ``index`` (it is
    # compacted only when that pays), so that each row's result never depends
    # on the other rows, nor on how the fleet was split into chunks.
    alive = np.ones(t.size, bool)
    for _ in range(_NEWTON_ITERATIONS):
        here, velocity = rows.state(t[index])
        position[:, index[alive]] = here[:, alive]
        f, rate = rows.margin_of(here, velocity)
        same_as_low = (f < 0) == (f_low < 0)
        f_high = np.where(same_as_low & kept_high, 0.5 * f_high, f_high)
        f_low = np.where(~same_as_low & kept_low, 0.5 * f_low, f_low)
        kept_high, kept_low = same_as_low, ~same_as_low
        low = np.where(same_as_low, t[index], low)
        f_low = np.where(same_as_low, f, f_low)
        high = np.where(same_as_low, high, t[index])
        f_high = np.where(same_as_low, f_high, f)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = t[index] - f / rate
            falsi = (low * f_high - high * f_low) / (f_high - f_low)
        falsi = np.where(np.isfinite(falsi), falsi, 0.5 * (low + high))
        inside = np.isfinite(newton) & (newton > low) & (newton < high)
        step = np.where(inside, newton, np.clip(falsi, low, high)) - t[index]
        t[index] += np.where(alive, step, 0.0)
        alive &= ((np.abs(step) >= _ROOT_STEP_S) | ~inside) & (high - low >= _ROOT_TOLERANCE_S)
        if not alive.any():
            return t, position
        if alive.mean() < 0.5:  # compact only when it pays
            keep = np.flatnonzero(alive)
            index, rows, alive = index[keep], rows.take(keep), alive[keep]
            low, high, f_low, f_high = low[keep], high[keep], f_low[keep], f_high[keep]
            kept_low, kept_high = kept_low[keep], kept_high[keep]
    here, _ = rows.state(t[index])
    position[:, index[alive]] = here[:, alive]
    return t, position


def _refine_peak(
    rows: _Rows,
    low: FloatArray,
    high: FloatArray,
    guess: FloatArray,
    curvature: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Where f' = 0 (a maximum) inside [low, high], with f'(low) > 0 >= f'(high).

    Newton steps on f' from ``guess``: the second derivative comes from
    ``curvature`` (the cubic model's, rad/s²) at first, then from the secant
    through the last two evaluations; a step leaving the bracket is replaced
    by bisection. Returns the times of maximum elevation (seconds from the
    grid start), the elevation margin there (rad) and the satellite's
    Earth-fixed position (3, rows) km, all at the last evaluation.
    """
    t = guess.copy()
    position = np.empty((3, t.size))
    margin = np.empty(t.size)
    index = np.arange(t.size)
    low, high, curvature = low.copy(), high.copy(), curvature.copy()
    previous_t = np.full(t.size, np.nan)
    previous_rate = np.full(t.size, np.nan)
    alive = np.ones(t.size, bool)  # converged rows stay frozen (see _refine_root)
    for _ in range(_NEWTON_ITERATIONS):
        here, velocity = rows.state(t[index])
        f, rate = rows.margin_of(here, velocity)
        position[:, index[alive]] = here[:, alive]
        margin[index[alive]] = f[alive]
        rising = rate > 0
        low = np.where(rising, t[index], low)
        high = np.where(rising, high, t[index])
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = (rate - previous_rate) / (t[index] - previous_t)
            curvature = np.where(np.isfinite(secant) & (secant < 0), secant, curvature)
            newton = t[index] - rate / curvature
        inside = np.isfinite(newton) & (newton > low) & (newton < high)
        step = np.where(inside, newton, 0.5 * (low + high)) - t[index]
        previous_t, previous_rate = t[index], rate
        alive &= np.abs(step) >= _PEAK_STEP_S
        t[index] += np.where(alive, step, 0.0)  # keep t where position and margin were taken
        if not alive.any():
            return t, margin, position
        if alive.mean() < 0.5:
            keep = np.flatnonzero(alive)
            index, rows, alive = index[keep], rows.take(keep), alive[keep]
            low, high = low[keep], high[keep]
            curvature, previous_t, previous_rate = (
                curvature[keep],
                previous_t[keep],
                previous_rate[keep],
            )
    # Out of iterations (a maximum near the zenith converges slowly): take
    # position and margin where the search stopped.
    here, velocity = rows.state(t[index])
    f, _ = rows.margin_of(here, velocity)
    position[:, index[alive]] = here[:, alive]
    margin[index[alive]] = f[alive]
    return t, margin, position


def search_chunk(batch: SatelliteBatch, observers: ObserverArrays, grid: TimeGrid) -> RawPasses:
    """Find every pass of the satellites of ``batch`` over ``observers`` on ``grid``.

    Returns the passes as columns (times in seconds from the grid start), in
    no particular order.
    """
    coarse = coarse_states(batch, grid)
    cand_sat, cand_k, cand_obs = candidate_intervals(coarse, batch, observers, grid)
    n_obs = len(observers)
    m = grid.substeps
    h = grid.fine_step_s

    # Step 4: the fine track of every candidate interval, and the elevation margin on it.
    interval_id = cand_sat * grid.n_coarse + cand_k
    unique_id, row = np.unique(interval_id, return_inverse=True)
    track_position, track_velocity = fine_track(
        coarse, unique_id // grid.n_coarse, unique_id % grid.n_coarse, grid
    )
    limit_sine = np.sin(np.radians(observers.limit_deg))
    segments = _Segments(
        position_km=np.take(track_position, row, axis=2),
        velocity_km_s=np.take(track_velocity, row, axis=2),
        station_km=np.take(observers.position_km, cand_obs, axis=1),
        up=np.take(observers.up, cand_obs, axis=1),
        limit_sine=limit_sine[cand_obs],
        first_fine_index=cand_k * m,
        step_s=h,
    )
    sine, rate = sine_elevation_and_rate(
        segments.position_km - segments.station_km[:, None, :],
        segments.velocity_km_s,
        segments.up[:, None, :],
    )
    margin = sine - segments.limit_sine[None, :]  # (m+1, C), in sine units
    margin[np.isnan(margin)] = -np.inf  # SGP4 failures are never visible

    # Step 5: sign changes and maxima between fine points.
    f0, f1 = margin[:-1], margin[1:]
    d0, d1 = rate[:-1], rate[1:]
    rise_j, rise_c = np.nonzero((f0 < 0) & (f1 >= 0))
    set_j, set_c = np.nonzero((f0 >= 0) & (f1 < 0))
    peak_j, peak_c = np.nonzero((d0 > 0) & (d1 <= 0) & np.isfinite(f0) & np.isfinite(f1))
    peak_cubic = _cubic_coefficients(
        f0[peak_j, peak_c], d0[peak_j, peak_c], f1[peak_j, peak_c], d1[peak_j, peak_c], h
    )
    peak_s = _cubic_peak_guess(peak_cubic)
    grazing = (peak_cubic[0] < 0) & (f1[peak_j, peak_c] < 0)
    near = ~grazing | (_cubic_value(peak_cubic, peak_s) > -_GRAZING_TOLERANCE)
    peak_c, peak_j, peak_s, grazing = peak_c[near], peak_j[near], peak_s[near], grazing[near]

    # Step 6: refine maxima; keep grazing maxima that reach above the limit.
    peaks = segments.rows(peak_c, peak_j)
    peak_low = peaks.t0
    _, _, c2, c3 = peak_cubic
    cubic_curvature = (2 * c2[near] + 6 * c3[near] * peak_s) / (h * h)
    peak_t, peak_f, peak_position = _refine_peak(
        peaks, peak_low, peak_low + h, peak_low + peak_s * h, cubic_curvature
    )
    keep = ~grazing | (peak_f >= 0)
    peak_c, peak_j, grazing = peak_c[keep], peak_j[keep], grazing[keep]
    peak_t, peak_f, peak_position = peak_t[keep], peak_f[keep], peak_position[:, keep]
    graze_c, graze_j, graze_t = peak_c[grazing], peak_j[grazing], peak_t[grazing]

    # Step 6: refine crossings, both sides of each grazing maximum included.
    root_c = np.concatenate([rise_c, set_c, graze_c, graze_c])
    root_j = np.concatenate([rise_j, set_j, graze_j, graze_j])
    n_rise, n_set, n_graze = rise_c.size, set_c.size, graze_c.size
    rising = np.repeat([True, False, True, False], [n_rise, n_set, n_graze, n_graze])
    roots = segments.rows(root_c, root_j)
    low = roots.t0.copy()
    high = low + h
    high[n_rise + n_set : n_rise + n_set + n_graze] = graze_t
    low[n_rise + n_set + n_graze :] = graze_t
    cubic = _cubic_coefficients(
        margin[root_j, root_c],
        rate[root_j, root_c],
        margin[root_j + 1, root_c],
        rate[root_j + 1, root_c],
        h,
    )
    guess = np.clip(roots.t0 + _cubic_root_guess(cubic) * h, low, high)
    f_low = np.concatenate(
        [f0[rise_j, rise_c], f0[set_j, set_c], f0[graze_j, graze_c], peak_f[grazing]]
    )
    f_high = np.concatenate(
        [f1[rise_j, rise_c], f1[set_j, set_c], peak_f[grazing], f1[graze_j, graze_c]]
    )
    root_t, root_position = _refine_root(roots, low, high, f_low, f_high, guess)

    # Passes in progress at the grid's ends: their clipped ends are fine points.
    start_c = np.flatnonzero((cand_k == 0) & (margin[0] >= 0))
    end_c = np.flatnonzero((cand_k == grid.n_coarse - 1) & (margin[-1] >= 0))
    start_position = segments.position_km[:, 0, start_c]
    end_position = segments.position_km[:, -1, end_c]

    # Pair rises with sets per (satellite, antenna).
    cand_key = cand_sat * n_obs + cand_obs
    event_key = cand_key[np.concatenate([root_c, start_c, end_c])]
    event_t = np.concatenate([root_t, np.zeros(start_c.size), np.full(end_c.size, grid.span_s)])
    event_rising = np.concatenate([rising, np.ones(start_c.size, bool), np.zeros(end_c.size, bool)])
    event_clipped = np.concatenate(
        [np.zeros(root_t.size, bool), np.ones(start_c.size + end_c.size, bool)]
    )
    event_position = np.concatenate([root_position, start_position, end_position], axis=1)
    scale = grid.span_s + 1.0
    order = np.argsort(event_key * scale + event_t, kind="stable")
    aos_i, los_i = _pair_events(event_key[order], event_rising[order])
    aos_i, los_i = order[aos_i], order[los_i]
    key = event_key[aos_i]
    obs = key % n_obs
    aos_t, los_t = event_t[aos_i], event_t[los_i]
    aos_position, los_position = event_position[:, aos_i], event_position[:, los_i]

    # The maximum of each pass: its highest refined peak inside [AOS, LOS]; a
    # clipped pass with none rises or sets monotonically, so it peaks at an end.
    peak_row = _assign_peaks(key, aos_t, los_t, cand_key[peak_c], peak_t, peak_f, scale)
    has_peak = peak_row >= 0
    tca_t, tca_position = aos_t.copy(), aos_position.copy()
    tca_t[has_peak] = peak_t[peak_row[has_peak]]
    tca_position[:, has_peak] = peak_position[:, peak_row[has_peak]]
    no_peak = np.flatnonzero(~has_peak)
    if no_peak.size:
        _, el_aos, _ = _look(aos_position[:, no_peak], observers, obs[no_peak])
        _, el_los, _ = _look(los_position[:, no_peak], observers, obs[no_peak])
        use_los = el_los > el_aos
        tca_t[no_peak] = np.where(use_los, los_t[no_peak], aos_t[no_peak])
        tca_position[:, no_peak] = np.where(
            use_los, los_position[:, no_peak], aos_position[:, no_peak]
        )

    aos_az, _, _ = _look(aos_position, observers, obs)
    tca_az, tca_el, _ = _look(tca_position, observers, obs)
    los_az, _, _ = _look(los_position, observers, obs)
    return RawPasses(
        satellite=key // n_obs,
        observer=obs,
        aos_s=aos_t,
        tca_s=tca_t,
        los_s=los_t,
        max_elevation_deg=tca_el,
        aos_azimuth_deg=aos_az,
        tca_azimuth_deg=tca_az,
        los_azimuth_deg=los_az,
        tca_position_km=tca_position,
        aos_clipped=event_clipped[aos_i],
        los_clipped=event_clipped[los_i],
        errors=coarse.errors,
    )


def _look(
    position_km: FloatArray, observers: ObserverArrays, obs: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Azimuth, elevation (degrees) and slant range (km) of Earth-fixed positions (3, P)."""
    return look_angles(
        position_km - np.take(observers.position_km, obs, axis=1),
        np.take(observers.east, obs, axis=1),
        np.take(observers.north, obs, axis=1),
        np.take(observers.up, obs, axis=1),
    )


def _pair_events(key: IntArray, rising: BoolArray) -> tuple[IntArray, IntArray]:
    """Positions of matching rise and set events in (key, time)-sorted event arrays.

    By construction the events of one key alternate rise, set, rise, set; an
    event that breaks the alternation (possible only through round-off at a
    fine point) is dropped rather than allowed to corrupt its neighbours.
    """
    pairs = rising[:-1] & ~rising[1:] & (key[:-1] == key[1:])
    aos = np.flatnonzero(pairs)
    return aos, aos + 1


def _assign_peaks(
    key: IntArray,
    aos: FloatArray,
    los: FloatArray,
    peak_key: IntArray,
    peak_t: FloatArray,
    peak_f: FloatArray,
    scale: float,
) -> IntArray:
    """For each pass, the index of its highest peak within [AOS, LOS], or -1 if none.

    Passes and peaks are ordered on one axis, key × ``scale`` + time.
    """
    peak_pos = peak_key * scale + peak_t
    order = np.argsort(peak_pos)
    first = np.searchsorted(peak_pos[order], key * scale + aos, side="left")
    last = np.searchsorted(peak_pos[order], key * scale + los, side="right")
    best = np.full(key.size, -1, np.int64)
    single = (last - first) == 1
    best[single] = order[first[single]]
    for i in np.flatnonzero((last - first) > 1):  # several maxima: odd geometry, rare
        window = order[first[i] : last[i]]
        best[i] = window[int(np.argmax(peak_f[window]))]
    return best

"""The compiled inner loops of the pass search (:mod:`groundlink.passes.search`).

* :func:`close_intervals`: the prefilter (step 2), every satellite, coarse
  interval and antenna;
* :func:`hermite_track`: the fine track of the surviving intervals (step 3);
* :func:`scan_candidates`: steps 4-6 for every candidate interval, in order
  of antenna, satellite and time: sin(elevation) − sin(limit) and its rate
  at the fine points, rises and sets where the margin changes sign, maxima
  where its rate turns from + to −, each refined by safeguarded Newton
  iterations on the cubic Hermite model of the track inside its fine
  interval, and rises paired with sets as they come (the events of one
  satellite-antenna pair arrive in time order).

The method and its proofs are in :mod:`groundlink.passes.search`; this
module only computes.

Why compiled (numba): the work is a few dozen floating-point operations per
coarse point, fine point and Newton step, on tens of millions of them. As
numpy array operations every one of those is a pass over memory with a
temporary array (on the reference workload the search spent 3.3 of its 3.9
single-threaded seconds so); compiled, each is one loop that stays in
registers. Each row is computed on its own, so results never depend on how
the fleet is split into chunks. ``cache=True`` keeps the machine code beside
this file: the first call in a fresh checkout compiles it (about 7 s of
CPU), later processes load it (about 0.15 s, plus 0.13 s to import numba);
:func:`compile_kernels` does that ahead of a process pool.

Times are seconds from the grid start; antennas are (3, M) arrays; fine
tracks are (U, 3, m+1), one interval's points together.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

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

#: Columns of the float output of :func:`scan_candidates`: times (s), then
#: Earth-fixed positions (km) at AOS, TCA and LOS.
AOS_S, TCA_S, LOS_S = 0, 1, 2
_AOS_X, _TCA_X, _LOS_X = 3, 6, 9
AOS_KM, TCA_KM, LOS_KM = slice(_AOS_X, 6), slice(_TCA_X, 9), slice(_LOS_X, 12)
_FLOAT_COLUMNS = 12
#: Columns of the integer output of :func:`scan_candidates`.
SATELLITE, OBSERVER, AOS_CLIPPED, LOS_CLIPPED = range(4)
_INT_COLUMNS = 4

# Event kinds, in the order they are taken at equal times (a maximum at the
# very instant of AOS or LOS still belongs to the pass).
_RISE, _PEAK, _SET = 0, 1, 2

#: Floating-point freedoms the compiler may take: fused multiply-add,
#: reciprocals and reassociation, never ignoring NaN or infinity (SGP4
#: failures are NaN, margins there −∞). Results stay the same from run to
#: run and do not depend on chunking; they differ from strict IEEE order by
#: a few ulps.
_FASTMATH = {"contract", "arcp", "nsz", "reassoc"}
_jit = njit(cache=True, error_model="numpy", nogil=True, fastmath=_FASTMATH)
#: For helpers called with constant arguments: inlined, so that numba does not
#: compile a specialisation for each combination of constants.
_jit_inline = njit(cache=True, error_model="numpy", nogil=True, fastmath=_FASTMATH, inline="always")


@_jit
def close_intervals(
    direction: FloatArray,
    station_dir: FloatArray,
    loose_cos: FloatArray,
    tight_cos: FloatArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """The coarse intervals that pass both prefilter tests, as (satellite, k, antenna).

    Args:
        direction: the satellites' geocentric unit vectors on the coarse
            grid, (3, n, K+1).
        station_dir: the antennas' geocentric unit vectors, (3, M).
        loose_cos: (n, M) cosine of the angle within which a satellite at
            either end of an interval keeps it for the tight test.
        tight_cos: (n, M) cosine of the angle within which the great-circle
            arc between the interval's end directions must pass.

    Returns:
        Index arrays, ordered by antenna, then satellite, then k.
    """
    _, n, k1 = direction.shape
    n_obs = station_dir.shape[1]
    keep = np.zeros((n_obs, n, k1 - 1), np.bool_)
    count = 0
    cosine = np.empty(k1)
    for obs in range(n_obs):
        tx, ty, tz = station_dir[0, obs], station_dir[1, obs], station_dir[2, obs]
        for sat in range(n):
            loose = loose_cos[sat, obs]
            tight = tight_cos[sat, obs]
            for k in range(k1):
                cosine[k] = (
                    tx * direction[0, sat, k]
                    + ty * direction[1, sat, k]
                    + tz * direction[2, sat, k]
                )
            for k in range(k1 - 1):
                cos0, cos1 = cosine[k], cosine[k + 1]
                if cos0 < loose and cos1 < loose:
                    continue
                # Closest approach of the great-circle arc u0 → u1 to the
                # station t: with c = u0·u1, the foot of t on the arc's plane
                # lies between the ends when t·u1 ≥ c t·u0 and t·u0 ≥ c t·u1;
                # its cosine distance is then the norm of t projected on the
                # plane, sqrt((a² + b² − 2abc) / (1 − c²)).
                c = (
                    direction[0, sat, k] * direction[0, sat, k + 1]
                    + direction[1, sat, k] * direction[1, sat, k + 1]
                    + direction[2, sat, k] * direction[2, sat, k + 1]
                )
                sin2_arc = 1.0 - c * c
                if cos1 >= c * cos0 and cos0 >= c * cos1 and sin2_arc > 1e-12:
                    projected = (cos0 * cos0 + cos1 * cos1 - 2 * c * cos0 * cos1) / sin2_arc
                    cos_arc = math.sqrt(min(max(projected, 0.0), 1.0))
                else:
                    cos_arc = max(cos0, cos1)
                if cos_arc >= tight:
                    keep[obs, sat, k] = True
                    count += 1
    sat_out = np.empty(count, np.int64)
    k_out = np.empty(count, np.int64)
    obs_out = np.empty(count, np.int64)
    i = 0
    for obs in range(n_obs):
        for sat in range(n):
            for k in range(k1 - 1):
                if keep[obs, sat, k]:
                    sat_out[i], k_out[i], obs_out[i] = sat, k, obs
                    i += 1
    return sat_out, k_out, obs_out


@_jit
def hermite_track(
    states: FloatArray,
    sat: IntArray,
    k: IntArray,
    value_weights: FloatArray,
    slope_weights: FloatArray,
    step_s: float,
) -> tuple[FloatArray, FloatArray]:
    """Hermite interpolation between coarse states, at the fine points of intervals (sat, k).

    Args:
        states: (D, 3, n, K+1): position, velocity, … (the first D derivatives).
        sat, k: the intervals (R,).
        value_weights, slope_weights: (m+1, 2D) basis weights and their
            s-derivatives at the fine points, on data ordered as the
            derivatives at s = 0, then at s = 1, derivative d scaled by h**d.
        step_s: the coarse step h.

    Returns:
        Position and velocity (R, 3, m+1); the ends are the coarse states.
    """
    derivatives = states.shape[0]
    m1 = value_weights.shape[0]
    position = np.empty((sat.size, 3, m1))
    velocity = np.empty((sat.size, 3, m1))
    ends = np.empty(2 * derivatives)
    for r in range(sat.size):
        for axis in range(3):
            scale = 1.0
            for d in range(derivatives):
                ends[d] = states[d, axis, sat[r], k[r]] * scale
                ends[derivatives + d] = states[d, axis, sat[r], k[r] + 1] * scale
                scale *= step_s
            for j in range(m1):
                p = v = 0.0
                for i in range(2 * derivatives):
                    p += value_weights[j, i] * ends[i]
                    v += slope_weights[j, i] * ends[i]
                position[r, axis, j] = p
                velocity[r, axis, j] = v / step_s
            position[r, axis, 0] = ends[0]
            position[r, axis, m1 - 1] = ends[derivatives]
            velocity[r, axis, 0] = states[1, axis, sat[r], k[r]]
            velocity[r, axis, m1 - 1] = states[1, axis, sat[r], k[r] + 1]
    return position, velocity


@_jit
def _margin(
    x: float,
    y: float,
    z: float,
    vx: float,
    vy: float,
    vz: float,
    site: tuple[float, float, float, float, float, float, float],
) -> tuple[float, float]:
    """sin(elevation) − sin(limit) and its rate (1/s) of one Earth-fixed state.

    ``site`` is the antenna: position (km), geodetic up, sin(limit).
    """
    sx, sy, sz, ux, uy, uz, limit_sine = site
    rx, ry, rz = x - sx, y - sy, z - sz
    inverse_range = 1.0 / math.sqrt(rx * rx + ry * ry + rz * rz)
    sine = (rx * ux + ry * uy + rz * uz) * inverse_range
    range_rate_per_range = (vx * rx + vy * ry + vz * rz) * inverse_range * inverse_range
    rate = (vx * ux + vy * uy + vz * uz) * inverse_range - sine * range_rate_per_range
    return sine - limit_sine, rate


@_jit
def _cubic_state(
    position: FloatArray, velocity: FloatArray, row: int, j: int, t0: float, h: float, t: float
) -> tuple[float, float, float, float, float, float]:
    """Position and velocity at ``t`` on the cubic Hermite curve of fine interval ``j``.

    The curve through the states at fine points j and j+1 (times t0, t0 + h)
    of track ``row``: within 0.3 m of the septic track over 60 s.
    """
    s = (t - t0) / h
    s2 = s * s
    s3 = s2 * s
    w_dp, w_v0, w_v1 = 3 * s2 - 2 * s3, (s3 - 2 * s2 + s) * h, (s3 - s2) * h
    d_dp, d_v0, d_v1 = (6 * s - 6 * s2) / h, 3 * s2 - 4 * s + 1, 3 * s2 - 2 * s
    p0x, p0y, p0z = position[row, 0, j], position[row, 1, j], position[row, 2, j]
    dpx = position[row, 0, j + 1] - p0x
    dpy = position[row, 1, j + 1] - p0y
    dpz = position[row, 2, j + 1] - p0z
    v0x, v0y, v0z = velocity[row, 0, j], velocity[row, 1, j], velocity[row, 2, j]
    v1x, v1y, v1z = velocity[row, 0, j + 1], velocity[row, 1, j + 1], velocity[row, 2, j + 1]
    return (
        p0x + w_dp * dpx + w_v0 * v0x + w_v1 * v1x,
        p0y + w_dp * dpy + w_v0 * v0y + w_v1 * v1y,
        p0z + w_dp * dpz + w_v0 * v0z + w_v1 * v1z,
        d_dp * dpx + d_v0 * v0x + d_v1 * v1x,
        d_dp * dpy + d_v0 * v0y + d_v1 * v1y,
        d_dp * dpz + d_v0 * v0z + d_v1 * v1z,
    )


@_jit
def _cubic_root_guess(c0: float, c1: float, c2: float, c3: float) -> float:
    """A root in [0, 1] of a cubic that changes sign there (Newton from the chord), as s."""
    total = c0 + c1 + c2 + c3
    s = _finite(c0 / (c0 - total), 0.5)
    s = min(max(s, 0.0), 1.0)
    for _ in range(3):
        slope = (3 * c3 * s + 2 * c2) * s + c1
        value = ((c3 * s + c2) * s + c1) * s + c0
        s = min(max(s - _finite(value / slope, 0.0), 0.0), 1.0)
    return s


@_jit
def _finite(value: float, if_nan: float) -> float:
    """``value`` with NaN replaced and infinities clamped to the largest floats."""
    if math.isnan(value):
        return if_nan
    return min(max(value, -1.7976931348623157e308), 1.7976931348623157e308)


@_jit
def _cubic_peak_guess(c1: float, c2: float, c3: float) -> float:
    """Where a cubic rising at s=0 and falling at s=1 peaks in [0, 1], as s."""
    a, b, c = 3 * c3, 2 * c2, c1  # derivative a s² + b s + c, positive at 0, not at 1
    disc = math.sqrt(max(b * b - 4 * a * c, 0.0))
    q = -0.5 * (b + math.copysign(disc, b))
    best = math.inf
    for root in (c / q, q / a, -c / b):
        # The peak is the root in [0, 1] where the derivative turns negative.
        if 0.0 <= root <= 1.0 and 2 * a * root + b <= 0 and root < best:
            best = root
    return best if math.isfinite(best) else 0.5


@_jit
def _refine_root(
    position: FloatArray,
    velocity: FloatArray,
    row: int,
    j: int,
    t0: float,
    h: float,
    site: tuple[float, float, float, float, float, float, float],
    low: float,
    high: float,
    f_low: float,
    f_high: float,
    guess: float,
) -> tuple[float, float, float, float]:
    """Where the margin is 0 inside [low, high], f(low) and f(high) of opposite signs.

    Newton steps from ``guess``, falling back to Illinois regula falsi on the
    bracket when a step would leave it. Newton converges quadratically here
    (the error after a step is about f''/(2f') times the step squared), so a
    step below 2 ms is taken as the last. Returns the crossing time and the
    satellite's Earth-fixed position (km) at the last evaluation.
    """
    t = guess
    kept_low = kept_high = False
    x = y = z = math.nan
    for _ in range(_NEWTON_ITERATIONS):
        x, y, z, vx, vy, vz = _cubic_state(position, velocity, row, j, t0, h, t)
        f, rate = _margin(x, y, z, vx, vy, vz, site)
        same_as_low = (f < 0) == (f_low < 0)
        if same_as_low and kept_high:
            f_high *= 0.5
        if not same_as_low and kept_low:
            f_low *= 0.5
        kept_high, kept_low = same_as_low, not same_as_low
        if same_as_low:
            low, f_low = t, f
        else:
            high, f_high = t, f
        newton = t - f / rate
        falsi = (low * f_high - high * f_low) / (f_high - f_low)
        if not math.isfinite(falsi):
            falsi = 0.5 * (low + high)
        inside = math.isfinite(newton) and low < newton < high
        step = (newton if inside else min(max(falsi, low), high)) - t
        t += step
        if (abs(step) < _ROOT_STEP_S and inside) or high - low < _ROOT_TOLERANCE_S:
            return t, x, y, z
    x, y, z, _, _, _ = _cubic_state(position, velocity, row, j, t0, h, t)
    return t, x, y, z


@_jit
def _refine_peak(
    position: FloatArray,
    velocity: FloatArray,
    row: int,
    j: int,
    t0: float,
    h: float,
    site: tuple[float, float, float, float, float, float, float],
    guess: float,
    curvature: float,
) -> tuple[float, float, float, float, float]:
    """Where the margin's rate is 0 (a maximum) inside fine interval j, rising at its start.

    Newton steps on the rate from ``guess``: the second derivative comes from
    ``curvature`` (the cubic model's, 1/s²) at first, then from the secant
    through the last two evaluations; a step leaving the bracket is replaced
    by bisection. Returns the time of maximum elevation, the margin there and
    the satellite's Earth-fixed position (km), all at the last evaluation.
    """
    low, high = t0, t0 + h
    t = guess
    previous_t = previous_rate = math.nan
    for _ in range(_NEWTON_ITERATIONS):
        x, y, z, vx, vy, vz = _cubic_state(position, velocity, row, j, t0, h, t)
        f, rate = _margin(x, y, z, vx, vy, vz, site)
        if rate > 0:
            low = t
        else:
            high = t
        secant = (rate - previous_rate) / (t - previous_t)
        if math.isfinite(secant) and secant < 0:
            curvature = secant
        newton = t - rate / curvature
        inside = math.isfinite(newton) and low < newton < high
        step = (newton if inside else 0.5 * (low + high)) - t
        previous_t, previous_rate = t, rate
        if abs(step) < _PEAK_STEP_S:  # t stays where position and margin were taken
            return t, f, x, y, z
        t += step
    # Out of iterations (a maximum near the zenith converges slowly).
    x, y, z, vx, vy, vz = _cubic_state(position, velocity, row, j, t0, h, t)
    f, _ = _margin(x, y, z, vx, vy, vz, site)
    return t, f, x, y, z


@_jit
def scan_candidates(
    track_position_km: FloatArray,
    track_velocity_km_s: FloatArray,
    cand_row: IntArray,
    cand_sat: IntArray,
    cand_obs: IntArray,
    cand_k: IntArray,
    station_km: FloatArray,
    up: FloatArray,
    limit_sine: FloatArray,
    fine_step_s: float,
    n_coarse: int,
) -> tuple[FloatArray, IntArray]:
    """The passes inside the candidate intervals.

    Args:
        track_position_km, track_velocity_km_s: Earth-fixed fine track of
            each distinct coarse interval, (U, 3, m+1): fine point j of
            interval u is [u, :, j], both ends included.
        cand_row: the track of each candidate interval; cand_sat, cand_obs,
            cand_k: its satellite, antenna and coarse index. Candidates must
            come grouped by (antenna, satellite), coarse index ascending.
        station_km, up: antenna positions and geodetic up vectors (3, M).
        limit_sine: sin(the elevation the search looks for), (M,).
        fine_step_s: seconds between fine points; n_coarse: coarse intervals
            in the grid (passes in progress at its ends are clipped there).

    Returns:
        Float rows (columns ``AOS_S`` … ``LOS_KM``) and integer rows (columns
        ``SATELLITE`` … ``LOS_CLIPPED``), one row per pass, in the order the
        passes end.
    """
    m = track_position_km.shape[2] - 1
    h = fine_step_s
    capacity = cand_row.size + 16
    floats = np.empty((capacity, _FLOAT_COLUMNS))
    ints = np.empty((capacity, _INT_COLUMNS), np.int64)
    count = 0
    margin = np.empty(m + 1)
    rate = np.empty(m + 1)
    # Up to three events per fine interval: kind, time, margin, position.
    event_kind = np.empty(3, np.int64)
    event = np.empty((3, 5))
    # The pass of the current (satellite, antenna) that has risen and not yet set.
    rising = False
    aos = np.empty(5)  # time, x, y, z, clipped
    peak = np.empty(5)  # time, margin, x, y, z
    los = np.empty(4)  # time, x, y, z of the set being paired
    has_peak = False
    last_sat = last_obs = -1

    for c in range(cand_row.size):
        sat, obs, k, row = cand_sat[c], cand_obs[c], cand_k[c], cand_row[c]
        if sat != last_sat or obs != last_obs:
            rising = False  # a rise left without its set is dropped
            last_sat, last_obs = sat, obs
        site = (
            station_km[0, obs],
            station_km[1, obs],
            station_km[2, obs],
            up[0, obs],
            up[1, obs],
            up[2, obs],
            limit_sine[obs],
        )
        for j in range(m + 1):
            f, d = _margin(
                track_position_km[row, 0, j],
                track_position_km[row, 1, j],
                track_position_km[row, 2, j],
                track_velocity_km_s[row, 0, j],
                track_velocity_km_s[row, 1, j],
                track_velocity_km_s[row, 2, j],
                site,
            )
            margin[j] = -math.inf if math.isnan(f) else f  # SGP4 failures are never visible
            rate[j] = d

        if k == 0 and margin[0] >= 0:  # in progress at the grid's start: rises there
            rising, has_peak = True, False
            aos[0], aos[4] = 0.0, 1.0
            for axis in range(3):
                aos[1 + axis] = track_position_km[row, axis, 0]

        for j in range(m):
            f0, f1, d0, d1 = margin[j], margin[j + 1], rate[j], rate[j + 1]
            t0 = (k * m + j) * h
            n_events = 0
            # Cubic model of the margin over the fine interval, in s ∈ [0, 1].
            c1 = h * d0
            c2 = -3 * f0 - 2 * h * d0 + 3 * f1 - h * d1
            c3 = 2 * f0 + h * d0 - 2 * f1 + h * d1
            if (f0 < 0) != (f1 < 0):
                guess = t0 + _cubic_root_guess(f0, c1, c2, c3) * h
                t, x, y, z = _refine_root(
                    track_position_km, track_velocity_km_s, row, j, t0, h, site,
                    t0, t0 + h, f0, f1, min(max(guess, t0), t0 + h),
                )  # fmt: skip
                event_kind[n_events] = _RISE if f0 < 0 else _SET
                _put(event, n_events, t, math.nan, x, y, z)
                n_events += 1
            if d0 > 0 and d1 <= 0 and math.isfinite(f0) and math.isfinite(f1):
                s = _cubic_peak_guess(c1, c2, c3)
                # A maximum between two fine points below the limit: a grazing
                # pass if the maximum itself reaches above the limit.
                grazing = f0 < 0 and f1 < 0
                if not grazing or ((c3 * s + c2) * s + c1) * s + f0 > -_GRAZING_TOLERANCE:
                    tp, fp, x, y, z = _refine_peak(
                        track_position_km, track_velocity_km_s, row, j, t0, h, site,
                        t0 + s * h, (2 * c2 + 6 * c3 * s) / (h * h),
                    )  # fmt: skip
                    if not grazing or fp >= 0:
                        event_kind[n_events] = _PEAK
                        _put(event, n_events, tp, fp, x, y, z)
                        n_events += 1
                    if grazing and fp >= 0:
                        guess = t0 + _cubic_root_guess(f0, c1, c2, c3) * h
                        t, x, y, z = _refine_root(
                            track_position_km, track_velocity_km_s, row, j, t0, h, site,
                            t0, tp, f0, fp, min(max(guess, t0), tp),
                        )  # fmt: skip
                        event_kind[n_events] = _RISE
                        _put(event, n_events, t, math.nan, x, y, z)
                        n_events += 1
                        t, x, y, z = _refine_root(
                            track_position_km, track_velocity_km_s, row, j, t0, h, site,
                            tp, t0 + h, fp, f1, min(max(guess, tp), t0 + h),
                        )  # fmt: skip
                        event_kind[n_events] = _SET
                        _put(event, n_events, t, math.nan, x, y, z)
                        n_events += 1

            # Take the events in time order (kind order at equal times).
            for _ in range(n_events):
                best = -1
                for e in range(n_events):
                    if event_kind[e] >= 0 and (
                        best < 0
                        or event[e, 0] < event[best, 0]
                        or (event[e, 0] == event[best, 0] and event_kind[e] < event_kind[best])
                    ):
                        best = e
                kind = event_kind[best]
                event_kind[best] = -1
                if kind == _RISE:  # a second rise drops the first, as a set without a rise is
                    rising, has_peak = True, False
                    aos[0], aos[1], aos[2], aos[3] = (
                        event[best, 0],
                        event[best, 2],
                        event[best, 3],
                        event[best, 4],
                    )
                    aos[4] = 0.0
                elif kind == _PEAK:
                    if rising and (not has_peak or event[best, 1] > peak[1]):
                        has_peak = True
                        peak[:] = event[best]
                elif rising:
                    los[0], los[1], los[2], los[3] = (
                        event[best, 0], event[best, 2], event[best, 3], event[best, 4]
                    )  # fmt: skip
                    floats, ints, count = _emit(
                        floats, ints, count, sat, obs, site, aos, has_peak, peak, los, 0
                    )
                    rising = False

        if k == n_coarse - 1 and margin[m] >= 0 and rising:  # in progress at the end
            los[0] = n_coarse * m * h
            for axis in range(3):
                los[1 + axis] = track_position_km[row, axis, m]
            floats, ints, count = _emit(
                floats, ints, count, sat, obs, site, aos, has_peak, peak, los, 1
            )
            rising = False
    return floats[:count], ints[:count]


@_jit_inline
def _put(event: FloatArray, e: int, t: float, f: float, x: float, y: float, z: float) -> None:
    """Store event ``e``: time, margin (peaks only), Earth-fixed position."""
    event[e, 0], event[e, 1], event[e, 2], event[e, 3], event[e, 4] = t, f, x, y, z


@_jit_inline
def _emit(
    floats: FloatArray,
    ints: IntArray,
    count: int,
    sat: int,
    obs: int,
    site: tuple[float, float, float, float, float, float, float],
    aos: FloatArray,
    has_peak: bool,
    peak: FloatArray,
    los: FloatArray,
    los_clipped: int,
) -> tuple[FloatArray, IntArray, int]:
    """Append one pass (growing the outputs when full); returns them and the new count.

    ``aos`` is (time, x, y, z, clipped), ``peak`` (time, margin, x, y, z),
    ``los`` (time, x, y, z). The maximum is the pass's highest refined peak;
    a pass with none (clipped at the grid's ends, rising or setting
    throughout) peaks at its higher end.
    """
    if count == floats.shape[0]:
        grown_floats = np.empty((2 * count, _FLOAT_COLUMNS))
        grown_ints = np.empty((2 * count, _INT_COLUMNS), np.int64)
        grown_floats[:count] = floats
        grown_ints[:count] = ints
        floats, ints = grown_floats, grown_ints
    row = floats[count]
    row[AOS_S], row[LOS_S] = aos[0], los[0]
    for axis in range(3):
        row[_AOS_X + axis] = aos[1 + axis]
        row[_LOS_X + axis] = los[1 + axis]
    if has_peak:
        row[TCA_S] = peak[0]
        for axis in range(3):
            row[_TCA_X + axis] = peak[2 + axis]
    else:
        aos_sine, _ = _margin(aos[1], aos[2], aos[3], 0.0, 0.0, 0.0, site)
        los_sine, _ = _margin(los[1], los[2], los[3], 0.0, 0.0, 0.0, site)
        use_los = los_sine > aos_sine
        row[TCA_S] = row[LOS_S] if use_los else row[AOS_S]
        end = _LOS_X if use_los else _AOS_X
        for axis in range(3):
            row[_TCA_X + axis] = row[end + axis]
    ints[count, SATELLITE], ints[count, OBSERVER] = sat, obs
    ints[count, AOS_CLIPPED] = 1 if aos[4] > 0 else 0
    ints[count, LOS_CLIPPED] = los_clipped
    return floats, ints, count + 1


def compile_kernels() -> None:
    """Compile every kernel (or load it from the cache) for the types the search passes.

    Called before a process pool forks, so that the workers inherit the
    machine code instead of each loading or compiling it.
    """
    no_int = np.zeros(0, np.int64)
    close_intervals(np.zeros((3, 0, 2)), np.zeros((3, 0)), np.zeros((0, 0)), np.zeros((0, 0)))
    hermite_track(np.zeros((1, 3, 0, 2)), no_int, no_int, np.zeros((2, 2)), np.zeros((2, 2)), 1.0)
    no_track = np.zeros((0, 3, 2))
    scan_candidates(
        no_track, no_track, no_int, no_int, no_int, no_int,
        np.zeros((3, 0)), np.zeros((3, 0)), np.zeros(0), 1.0, 1,
    )  # fmt: skip

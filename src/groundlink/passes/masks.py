"""Azimuth-dependent horizon masks: cut passes where terrain or buildings block the view.

The search (:mod:`groundlink.passes.search`) finds passes above each
antenna's *lowest* usable elevation. For an antenna whose mask rises with
azimuth, this module samples each such pass every second with SGP4, compares
the elevation with the mask at the satellite's azimuth, and replaces the pass
by the parts above the mask (none, one or several). Crossings are located by
linear interpolation between the 1 s samples (error well below 10 ms for
elevation rates above 0.01°/s); the maximum by a parabola through the three
highest samples.

Only passes over masked antennas come here, so the 1 s sampling is cheap;
everything is vectorised over passes, with one SGP4 call per satellite.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.frames import look_angles, rotate_teme_to_ecef
from groundlink.orbits.propagation import satrec_from_elements
from groundlink.passes.search import ObserverArrays, RawPasses, TimeGrid
from groundlink.stations.model import Antenna, GroundStation

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Sampling step along masked passes, seconds.
MASK_SAMPLE_STEP_S = 1.0


def apply_horizon_masks(
    raw: RawPasses,
    satellites: Sequence[OrbitalElements],
    antennas: Sequence[tuple[GroundStation, Antenna]],
    observers: ObserverArrays,
    grid: TimeGrid,
    floor_deg: float,
) -> RawPasses:
    """Replace passes over antennas with an azimuth mask by their parts above the mask."""
    masked_antennas = np.array([a.has_azimuth_mask for _, a in antennas], dtype=bool)
    if raw.observer.size == 0 or not masked_antennas[raw.observer].any():
        return raw
    masked = masked_antennas[raw.observer]
    kept = raw.take(np.flatnonzero(~masked))
    cut = _cut_passes(
        raw.take(np.flatnonzero(masked)), satellites, antennas, observers, grid, floor_deg
    )
    return RawPasses.concatenate([kept, cut])


def _cut_passes(
    raw: RawPasses,
    satellites: Sequence[OrbitalElements],
    antennas: Sequence[tuple[GroundStation, Antenna]],
    observers: ObserverArrays,
    grid: TimeGrid,
    floor_deg: float,
) -> RawPasses:
    # Sample times: AOS, every second, LOS, per pass; ``owner`` maps samples to passes.
    counts = np.ceil((raw.los_s - raw.aos_s) / MASK_SAMPLE_STEP_S).astype(np.int64) + 1
    owner = np.repeat(np.arange(counts.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    step_in_pass = np.arange(owner.size) - first[owner]
    t = np.minimum(raw.aos_s[owner] + step_in_pass * MASK_SAMPLE_STEP_S, raw.los_s[owner])

    position = np.empty((3, t.size))
    sat_of_sample = raw.satellite[owner]
    for sat in np.unique(sat_of_sample):
        rows = np.flatnonzero(sat_of_sample == sat)
        jd_whole, jd_fraction = grid.julian(t[rows])
        _, r, _ = satrec_from_elements(satellites[int(sat)]).sgp4_array(jd_whole, jd_fraction)
        position[:, rows] = r.T
    ecef = rotate_teme_to_ecef(position, grid.gmst_rad(t))
    obs = raw.observer[owner]
    azimuth, elevation, _ = look_angles(
        ecef - observers.position_km[:, obs],
        observers.east[:, obs],
        observers.north[:, obs],
        observers.up[:, obs],
    )
    limit = np.full(t.size, floor_deg)
    for index in np.unique(obs):
        rows = np.flatnonzero(obs == index)
        antenna = antennas[int(index)][1]
        limit[rows] = np.maximum(floor_deg, antenna.elevation_limit_deg(azimuth[rows]))
    margin = elevation - limit

    # Runs of samples above the mask, each a sub-pass.
    above = margin >= 0
    same_pass_next = np.append(owner[1:] == owner[:-1], False)
    starts = above & ~np.insert(above[:-1] & same_pass_next[:-1], 0, False)
    ends = above & ~(np.append(above[1:], False) & same_pass_next)
    start_i, end_i = np.flatnonzero(starts), np.flatnonzero(ends)

    def crossing(i: IntArray, toward: IntArray) -> FloatArray:
        """Time where the margin reaches 0 between sample i (above) and ``toward`` (below)."""
        f_in, f_out = margin[i], margin[toward]
        share = f_in / np.where(f_in - f_out == 0, 1.0, f_in - f_out)
        time: FloatArray = t[i] + share * (t[toward] - t[i])
        return time

    pass_of = owner[start_i]
    opens_inside = start_i > first[pass_of]
    aos = np.where(opens_inside, crossing(start_i, np.maximum(start_i - 1, 0)), t[start_i])
    closes_inside = end_i < first[pass_of] + counts[pass_of] - 1
    los = np.where(closes_inside, crossing(end_i, np.minimum(end_i + 1, t.size - 1)), t[end_i])

    # The highest sample of each run, refined by a parabola.
    members = np.flatnonzero(above)
    run = np.cumsum(starts)[members] - 1
    order = np.lexsort((elevation[members], run))
    last_of_run = np.append(run[order][1:] != run[order][:-1], True)
    best = np.empty(start_i.size, np.int64)
    best[run[order][last_of_run]] = members[order][last_of_run]
    tca, max_el = _parabola_peak(t, elevation, best, start_i, end_i)
    return RawPasses(
        satellite=raw.satellite[pass_of],
        observer=raw.observer[pass_of],
        aos_s=aos,
        tca_s=tca,
        los_s=los,
        max_elevation_deg=max_el,
        aos_azimuth_deg=azimuth[start_i],
        tca_azimuth_deg=azimuth[best],
        los_azimuth_deg=azimuth[end_i],
        tca_position_km=ecef[:, best],
        aos_clipped=raw.aos_clipped[pass_of] & ~opens_inside,
        los_clipped=raw.los_clipped[pass_of] & ~closes_inside,
        errors=[],
    )


def _parabola_peak(
    t: FloatArray, value: FloatArray, best: IntArray, low: IntArray, high: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Vertex of the parabola through the best sample and its neighbours within [low, high]."""
    has_both = (best > low) & (best < high)
    left = np.where(has_both, best - 1, best)
    right = np.where(has_both, best + 1, best)
    y0, y1, y2 = value[left], value[best], value[right]
    curvature = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(has_both & (curvature < 0), 0.5 * (y0 - y2) / curvature, 0.0)
    offset = np.clip(offset, -1.0, 1.0)
    step = np.where(has_both, t[right] - t[best], 0.0)
    peak_t = t[best] + offset * step
    peak_value = y1 - 0.25 * (y0 - y2) * offset
    return peak_t, np.where(has_both, peak_value, y1)

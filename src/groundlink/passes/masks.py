"""Azimuth-dependent horizon masks: cut passes where terrain or buildings block the view.

The search (:mod:`groundlink.passes.search`) finds passes above each
antenna's *lowest* usable elevation. For an antenna whose mask rises with
azimuth, this module samples each such pass every second with SGP4, compares
the elevation with the mask at the satellite's azimuth, and replaces the pass
by the parts above the mask (none, one or several). Crossings are bisected
with SGP4 inside their 1 s bracket to 1 ms (a steep mask edge makes the
margin far from linear in time); the maximum comes from a parabola through
the three highest samples.

Only passes over masked antennas come here, so the 1 s sampling is cheap;
everything is vectorised over passes, with one SGP4 call per satellite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
#: Halvings of the 1 s bracket around a mask crossing: 2**-10 s, about 1 ms.
_BISECTIONS = 10


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
    geometry = _MaskGeometry(satellites, antennas, observers, grid, floor_deg)
    cut = _cut_passes(raw.take(np.flatnonzero(masked)), geometry)
    return RawPasses.concatenate([kept, cut])


@dataclass(frozen=True)
class _MaskGeometry:
    """Everything needed to evaluate elevation above the mask for rows of (satellite, antenna)."""

    satellites: Sequence[OrbitalElements]
    antennas: Sequence[tuple[GroundStation, Antenna]]
    observers: ObserverArrays
    grid: TimeGrid
    floor_deg: float

    def look(
        self, t: FloatArray, sat: IntArray, obs: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Margin above the mask, azimuth, elevation (degrees) and Earth-fixed position (km).

        One SGP4 call per satellite present in ``sat``; ``t`` in seconds from the grid start.
        """
        position = np.empty((3, t.size))
        for satellite in np.unique(sat):
            rows = np.flatnonzero(sat == satellite)
            jd_whole, jd_fraction = self.grid.julian(t[rows])
            satrec = satrec_from_elements(self.satellites[int(satellite)])
            _, r, _ = satrec.sgp4_array(jd_whole, jd_fraction)
            position[:, rows] = r.T
        ecef = rotate_teme_to_ecef(position, self.grid.gmst_rad(t))
        o = self.observers
        azimuth, elevation, _ = look_angles(
            ecef - o.position_km[:, obs], o.east[:, obs], o.north[:, obs], o.up[:, obs]
        )
        limit = np.full(t.size, self.floor_deg)
        for index in np.unique(obs):
            rows = np.flatnonzero(obs == index)
            antenna = self.antennas[int(index)][1]
            limit[rows] = np.maximum(self.floor_deg, antenna.elevation_limit_deg(azimuth[rows]))
        return elevation - limit, azimuth, elevation, ecef

    def crossing(
        self, inside_t: FloatArray, outside_t: FloatArray, sat: IntArray, obs: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        """Bisect between a time above the mask and one below it, to 1 ms.

        Returns the crossing times and the azimuth there (degrees).
        """
        above, below = inside_t.copy(), outside_t.copy()
        for _ in range(_BISECTIONS):
            middle = 0.5 * (above + below)
            margin, _, _, _ = self.look(middle, sat, obs)
            up = margin >= 0
            above = np.where(up, middle, above)
            below = np.where(up, below, middle)
        _, azimuth, _, _ = self.look(above, sat, obs)
        return above, azimuth


def _cut_passes(raw: RawPasses, geometry: _MaskGeometry) -> RawPasses:
    # Sample times: AOS, every second, LOS, per pass; ``owner`` maps samples to passes.
    counts = np.ceil((raw.los_s - raw.aos_s) / MASK_SAMPLE_STEP_S).astype(np.int64) + 1
    owner = np.repeat(np.arange(counts.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    step_in_pass = np.arange(owner.size) - first[owner]
    t = np.minimum(raw.aos_s[owner] + step_in_pass * MASK_SAMPLE_STEP_S, raw.los_s[owner])
    sat, obs = raw.satellite[owner], raw.observer[owner]
    margin, azimuth, elevation, ecef = geometry.look(t, sat, obs)

    # Runs of samples above the mask, each a sub-pass.
    above = margin >= 0
    same_pass_next = np.append(owner[1:] == owner[:-1], False)
    starts = above & ~np.insert(above[:-1] & same_pass_next[:-1], 0, False)
    ends = above & ~(np.append(above[1:], False) & same_pass_next)
    start_i, end_i = np.flatnonzero(starts), np.flatnonzero(ends)

    pass_of = owner[start_i]
    opens_inside = start_i > first[pass_of]
    closes_inside = end_i < first[pass_of] + counts[pass_of] - 1
    aos, los = t[start_i].copy(), t[end_i].copy()
    aos_azimuth, los_azimuth = azimuth[start_i].copy(), azimuth[end_i].copy()
    for inside, edge, neighbour, times, azimuths in (
        (opens_inside, start_i, start_i - 1, aos, aos_azimuth),
        (closes_inside, end_i, end_i + 1, los, los_azimuth),
    ):
        rows = np.flatnonzero(inside)
        here, other = edge[rows], neighbour[rows]
        times[rows], azimuths[rows] = geometry.crossing(t[here], t[other], sat[here], obs[here])

    # The highest sample of each run, refined by a parabola.
    members = np.flatnonzero(above)
    run = np.cumsum(starts)[members] - 1
    order = np.lexsort((elevation[members], run))
    last_of_run = np.append(run[order][1:] != run[order][:-1], True)
    best = np.empty(start_i.size, np.int64)
    best[run[order][last_of_run]] = members[order][last_of_run]
    tca, max_el = _parabola_peak(t, elevation, best, start_i, end_i)
    tca_azimuth, tca_position = azimuth[best], ecef[:, best]
    # Where the pass's own refined maximum lies inside the part above the mask, it stands.
    own = (raw.tca_s[pass_of] >= aos) & (raw.tca_s[pass_of] <= los)
    tca[own] = raw.tca_s[pass_of][own]
    max_el[own] = raw.max_elevation_deg[pass_of][own]
    tca_azimuth[own] = raw.tca_azimuth_deg[pass_of][own]
    tca_position[:, own] = raw.tca_position_km[:, pass_of][:, own]
    return RawPasses(
        satellite=raw.satellite[pass_of],
        observer=raw.observer[pass_of],
        aos_s=aos,
        tca_s=tca,
        los_s=los,
        max_elevation_deg=max_el,
        aos_azimuth_deg=aos_azimuth,
        tca_azimuth_deg=tca_azimuth,
        los_azimuth_deg=los_azimuth,
        tca_position_km=tca_position,
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

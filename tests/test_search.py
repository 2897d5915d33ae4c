"""Tests of groundlink.passes.search's building blocks against direct SGP4.

The search never evaluates SGP4 between coarse grid points: it interpolates
(quintic Hermite) and it skips whole intervals (the prefilter). Both are
checked here against SGP4 evaluated at every time, on a sample of the
reference population over the reference day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from groundlink.orbits.frames import gmst82_rad, teme_to_ecef
from groundlink.orbits.propagation import SatelliteBatch, split_julian_date
from groundlink.passes.search import (
    ObserverArrays,
    TimeGrid,
    candidate_intervals,
    coarse_states,
    fine_track,
)

FloatArray = npt.NDArray[np.float64]

DAY_S = 86400.0
DEFAULT_COARSE_STEP_S = 300.0  # SearchSettings().coarse_step_s


def _day_grid(reference_start: Any, fine_step_s: float) -> TimeGrid:
    jd_whole, jd_fraction = split_julian_date(reference_start)
    return TimeGrid(
        jd_whole,
        jd_fraction,
        n_coarse=round(DAY_S / DEFAULT_COARSE_STEP_S),
        coarse_step_s=DEFAULT_COARSE_STEP_S,
        fine_step_s=fine_step_s,
    )


def _sgp4_ecef(batch: SatelliteBatch, grid: TimeGrid, offsets_s: FloatArray) -> FloatArray:
    """Earth-fixed positions straight from SGP4, (3, N, T) km."""
    jd_whole, jd_fraction = grid.julian(offsets_s)
    result = batch.propagate(jd_whole, jd_fraction)
    assert not result.error.any()
    velocity = np.moveaxis(result.velocity_km_s, -1, 0)
    position, velocity = teme_to_ecef(
        np.moveaxis(result.position_km, -1, 0), velocity, gmst82_rad(jd_whole, jd_fraction)
    )
    return np.stack([position, velocity])


def test_quintic_hermite_reproduces_sgp4_within_2_m(population, reference_start):
    """Between SGP4 states 300 s apart, the interpolated track is SGP4's to 2 m (and 0.1 m/s).

    Every 10th satellite of the population (all shells and the SSO group),
    every interval of the day, nine interior points per interval (every 30 s).
    """
    batch = SatelliteBatch(population[::10])
    grid = _day_grid(reference_start, fine_step_s=30.0)
    coarse = coarse_states(batch, grid)
    assert not coarse.errors
    n = len(batch)
    sat, k = np.divmod(np.arange(n * grid.n_coarse), grid.n_coarse)

    position, velocity = fine_track(coarse, sat, k, grid)  # (3, m+1, n*K)

    m = grid.substeps
    offsets = np.arange(grid.n_coarse * m + 1) * grid.fine_step_s
    direct = _sgp4_ecef(batch, grid, offsets)  # (2, 3, n, K*m+1)
    fine_index = k[None, :] * m + np.arange(m + 1)[:, None]  # (m+1, n*K)
    expected_position = direct[0][:, sat[None, :], fine_index]
    expected_velocity = direct[1][:, sat[None, :], fine_index]

    position_error_km = np.linalg.norm(position - expected_position, axis=0)
    velocity_error_km_s = np.linalg.norm(velocity - expected_velocity, axis=0)
    print(
        f"\nHermite vs SGP4 over {n} satellites: position p99 "
        f"{np.percentile(position_error_km[1:-1], 99) * 1e3:.3f} m, max "
        f"{position_error_km.max() * 1e3:.3f} m; velocity max "
        f"{velocity_error_km_s.max() * 1e6:.3f} mm/s"
    )
    assert position_error_km[[0, -1]].max() < 1e-9  # the ends are SGP4's own states
    assert position_error_km.max() < 2e-3
    assert velocity_error_km_s.max() < 1e-4


def _visible_samples(
    batch: SatelliteBatch,
    grid: TimeGrid,
    observers: ObserverArrays,
    step_s: float,
) -> tuple[npt.NDArray[np.int64], ...]:
    """(satellite, time offset s, observer) of every sample above the observer's limit."""
    offsets = np.arange(0.0, grid.span_s + step_s / 2, step_s)
    direct = _sgp4_ecef(batch, grid, offsets)[0]  # (3, N, T)
    sin_limit = np.sin(np.radians(observers.limit_deg))[:, None]
    sats, times, obs = [], [], []
    for sat in range(len(batch)):
        relative = direct[:, sat, None, :] - observers.position_km[:, :, None]  # (3, M, T)
        height = np.einsum("im,imt->mt", observers.up, relative)
        above = height >= sin_limit * np.linalg.norm(relative, axis=0)
        o, t = np.nonzero(above)
        sats.append(np.full(o.size, sat))
        times.append(offsets[t])
        obs.append(o)
    return np.concatenate(sats), np.concatenate(times), np.concatenate(obs)


@pytest.mark.parametrize("limit", ["station masks", "0 deg"])
def test_prefilter_keeps_every_visible_sample(
    population, stations, sites_of: Callable[..., Any], reference_start, limit: str
):
    """No sample above the limit (SGP4 every 10 s, all 30 stations) falls outside a candidate.

    The prefilter is a proof, not a heuristic: a miss here is a lost pass.
    It must also filter: far fewer candidates than satellite-interval-antenna
    triples.
    """
    batch = SatelliteBatch(population[::20])
    grid = _day_grid(reference_start, fine_step_s=60.0)
    sites = sites_of(stations)
    limits = np.array([s.antennas[0].lowest_elevation_deg for s in stations])
    if limit == "0 deg":
        limits = np.zeros_like(limits)
    observers = ObserverArrays(sites.position_km, sites.east, sites.north, sites.up, limits)

    coarse = coarse_states(batch, grid)
    cand_sat, cand_k, cand_obs = candidate_intervals(coarse, batch, observers, grid)

    n_obs = len(observers)
    kept = np.unique((cand_sat * grid.n_coarse + cand_k) * n_obs + cand_obs)
    sat, t, obs = _visible_samples(batch, grid, observers, step_s=10.0)
    assert sat.size > 10_000
    interval = np.minimum(np.floor(t / grid.coarse_step_s).astype(np.int64), grid.n_coarse - 1)
    inside = np.isin((sat * grid.n_coarse + interval) * n_obs + obs, kept)
    # A sample on a grid point belongs to the interval before it as well.
    on_grid = (t % grid.coarse_step_s == 0) & (interval > 0)
    before = np.isin((sat * grid.n_coarse + interval - 1) * n_obs + obs, kept)
    inside |= on_grid & before

    missed = np.flatnonzero(~inside)
    assert missed.size == 0, (
        f"{missed.size} visible samples outside every candidate, e.g. satellite "
        f"{sat[missed[0]]} at {t[missed[0]]} s from antenna {obs[missed[0]]}"
    )
    all_triples = len(batch) * grid.n_coarse * n_obs
    print(f"\nprefilter ({limit}): {kept.size / all_triples:.2%} of intervals kept")
    assert kept.size < 0.25 * all_triples

"""Tests of groundlink.passes.search's building blocks against direct SGP4.

The search never evaluates SGP4 between coarse grid points: it interpolates
(septic Hermite) and it skips whole intervals (the prefilter). Both are
checked here against SGP4 evaluated at every time, on a sample of the
reference population over the reference day, at both SGP4 steps the engine
uses (600 s for near-circular orbits, 300 s for the others).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from groundlink.orbits.frames import gmst82_rad, teme_to_ecef
from groundlink.orbits.propagation import (
    SatelliteBatch,
    gravity_acceleration_km_s2,
    split_julian_date,
)
from groundlink.passes.engine import SearchSettings
from groundlink.passes.search import (
    ObserverArrays,
    TimeGrid,
    _gravity_jerk_km_s3,
    _grid_velocity,
    candidate_intervals,
    coarse_states,
    fine_track,
)

FloatArray = npt.NDArray[np.float64]

DAY_S = 86400.0
#: The engine's SGP4 steps: near-circular orbits, and the others.
STEPS_S = (SearchSettings().coarse_step_s, SearchSettings().coarse_step_s / 2)


def _day_grid(reference_start: Any, coarse_step_s: float, fine_step_s: float) -> TimeGrid:
    jd_whole, jd_fraction = split_julian_date(reference_start)
    return TimeGrid(
        jd_whole,
        jd_fraction,
        n_coarse=round(DAY_S / coarse_step_s),
        coarse_step_s=coarse_step_s,
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


@pytest.mark.parametrize("coarse_step_s", STEPS_S)
def test_hermite_track_reproduces_sgp4_within_2_m(population, reference_start, coarse_step_s):
    """Between SGP4 states 600 s (300 s) apart, the interpolated track is SGP4's to 2 m.

    Every 10th satellite of the population (all shells and the SSO group),
    every interval of the day, a point every 30 s. The velocity is the
    derivative of SGP4's position, which SGP4's own velocity is not exactly:
    within 0.1 m/s of it.
    """
    batch = SatelliteBatch(population[::10])
    grid = _day_grid(reference_start, coarse_step_s, fine_step_s=30.0)
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


@pytest.mark.parametrize(
    ("limit", "coarse_step_s"),
    [("station masks", STEPS_S[0]), ("0 deg", STEPS_S[0]), ("0 deg", STEPS_S[1])],
)
def test_prefilter_keeps_every_visible_sample(
    population,
    stations,
    sites_of: Callable[..., Any],
    reference_start,
    limit: str,
    coarse_step_s: float,
):
    """No sample above the limit (SGP4 every 10 s, all 30 stations) falls outside a candidate.

    The prefilter is a proof, not a heuristic: a miss here is a lost pass.
    It must also filter: far fewer candidates than satellite-interval-antenna
    triples.
    """
    batch = SatelliteBatch(population[::20])
    grid = _day_grid(reference_start, coarse_step_s, fine_step_s=60.0)
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
    print(
        f"\nprefilter ({limit}, {coarse_step_s:g} s): "
        f"{kept.size / all_triples:.2%} of intervals kept"
    )
    assert kept.size < 0.25 * all_triples


def test_gravity_jerk_is_the_derivative_of_the_acceleration_along_the_motion(population):
    """The analytic jerk (two-body + J2) equals the acceleration's directional derivative.

    Central differences of the acceleration along the velocity, 0.1 s either
    way (truncation ~2e-8 relative), at SGP4 states of every 50th satellite.
    """
    batch = SatelliteBatch(population[::50])
    jd_whole, jd_fraction = split_julian_date(population[0].epoch)
    fraction = jd_fraction + np.linspace(0.0, 1.0, 50)
    state = batch.propagate(np.full(fraction.size, jd_whole), fraction)
    position = np.moveaxis(state.position_km, -1, 0)
    velocity = np.moveaxis(state.velocity_km_s, -1, 0)
    step_s = 0.1
    numerical = (
        gravity_acceleration_km_s2(position + velocity * step_s)
        - gravity_acceleration_km_s2(position - velocity * step_s)
    ) / (2 * step_s)

    analytic = _gravity_jerk_km_s3(position, velocity)

    relative = np.linalg.norm(analytic - numerical, axis=0) / np.linalg.norm(numerical, axis=0)
    assert relative.max() < 1e-7
    assert analytic.shape == position.shape


def test_grid_velocity_is_the_derivative_of_sgp4_position(population, reference_start):
    """The grid velocity matches d/dt of SGP4's position to 10 mm/s, SGP4's own velocity
    only to about 30 mm/s (the reason the search does not use it).

    The reference derivative: fourth-order central differences of SGP4
    positions 0.5 s apart (truncation far below 1 mm/s), every 25th satellite,
    every 600 s grid point of the day.
    """
    batch = SatelliteBatch(population[::25])
    step_s = SearchSettings().coarse_step_s
    jd_whole, jd_fraction = split_julian_date(reference_start)
    offsets = np.arange(-1, round(DAY_S / step_s) + 2) * step_s

    def at(shift_s: float) -> Any:
        fraction = jd_fraction + (offsets + shift_s) / DAY_S
        return batch.propagate(np.full(offsets.size, jd_whole), fraction)

    state = at(0.0)
    position = np.moveaxis(state.position_km, -1, 0)
    sgp4_velocity = np.moveaxis(state.velocity_km_s, -1, 0)
    velocity = _grid_velocity(
        position,
        sgp4_velocity,
        gravity_acceleration_km_s2(position),
        _gravity_jerk_km_s3(position, sgp4_velocity),
        step_s,
    )
    d = 0.5
    difference = (
        8 * (at(d).position_km - at(-d).position_km)
        - (at(2 * d).position_km - at(-2 * d).position_km)
    ) / (12 * d)
    derivative = np.moveaxis(difference, -1, 0)[..., 1:-1]

    error_mm_s = np.linalg.norm(velocity - derivative, axis=0) * 1e6
    sgp4_error_mm_s = np.linalg.norm(sgp4_velocity[..., 1:-1] - derivative, axis=0) * 1e6
    print(
        f"\ngrid velocity vs d/dt SGP4 position: max {error_mm_s.max():.2f} mm/s "
        f"(SGP4's own velocity: max {sgp4_error_mm_s.max():.2f} mm/s)"
    )
    assert error_mm_s.max() < 10.0
    assert sgp4_error_mm_s.max() > 3 * error_mm_s.max()

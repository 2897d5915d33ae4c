"""Pass prediction for a whole fleet over a whole network: :func:`find_passes`.

This is the public entry point of the pass engine. It checks its inputs,
splits the fleet into chunks and, for each (on several processes when there
is enough work: SGP4 holds the GIL), runs
:func:`groundlink.passes.search.search_chunk`, applies azimuth-dependent
horizon masks and adds Sun geometry at TCA; then it joins the chunks into one
:class:`~groundlink.passes.table.PassTable` sorted by AOS.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from groundlink.errors import InvalidInput
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.frames import east_north_up, geodetic_to_ecef_km, rotate_teme_to_ecef
from groundlink.orbits.propagation import SGP4_ERRORS, SatelliteBatch, split_julian_date
from groundlink.orbits.sun import is_sunlit, sun_elevation_deg, sun_position_teme_km
from groundlink.passes.masks import apply_horizon_masks
from groundlink.passes.search import ObserverArrays, RawPasses, TimeGrid, search_chunk
from groundlink.passes.table import PassTable, iso_utc_ms, unix_seconds
from groundlink.stations.model import Antenna, GroundStation

FloatArray = npt.NDArray[np.float64]

#: Longest window one call accepts.
MAX_WINDOW = timedelta(days=31)
#: Satellite-days per chunk (384 satellites over one day, fewer over longer
#: windows): bounds memory to about 350 MB per worker and sets the progress grain.
CHUNK_SATELLITE_DAYS = 384.0
#: Below this many satellite-antenna-days a single process is faster than a pool.
_PARALLEL_MIN_PAIR_DAYS = 5_000.0

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class SearchSettings:
    """Tuning of the search; the defaults meet the documented accuracy.

    ``coarse_step_s``: SGP4 step (quintic Hermite in between);
    ``substeps``: fine points per coarse step (where crossings are bracketed).
    """

    coarse_step_s: float = 300.0
    substeps: int = 5


def find_passes(
    satellites: Sequence[OrbitalElements],
    stations: Sequence[GroundStation],
    start: datetime,
    end: datetime,
    *,
    min_elevation_deg: float | None = None,
    ut1_minus_utc_s: float = 0.0,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    settings: SearchSettings = SearchSettings(),
) -> PassTable:
    """Every pass of ``satellites`` over every antenna of ``stations`` in [start, end].

    Args:
        satellites: element sets; a satellite appears once per element set.
        stations: ground stations; passes are predicted for each antenna,
            above its minimum elevation and horizon mask.
        start, end: the UTC window (timezone-aware); passes in progress at
            either end are cut there and flagged as clipped.
        min_elevation_deg: if given, raises every antenna's minimum elevation
            to at least this.
        ut1_minus_utc_s: DUT1 in seconds for Earth rotation (|DUT1| < 0.9 s).
        workers: processes to use (default: all cores; 1 runs in-process).
        progress: called as ``progress(satellites_done, satellites_total)``.
        settings: search tuning (see :class:`SearchSettings`).

    Returns:
        A :class:`PassTable` sorted by AOS, with problems (SGP4 failures)
        listed in ``problems``.

    Raises:
        InvalidInput: for a naive or reversed window, one longer than
            :data:`MAX_WINDOW`, or an out-of-range minimum elevation.
    """
    _check_window(start, end)
    if min_elevation_deg is not None and not (
        math.isfinite(min_elevation_deg) and 0 <= min_elevation_deg <= 90
    ):
        raise InvalidInput("min_elevation_deg", min_elevation_deg, "degrees in [0, 90]")
    satellites = tuple(satellites)
    antennas = tuple((station, antenna) for station in stations for antenna in station.antennas)
    floor = 0.0 if min_elevation_deg is None else min_elevation_deg
    observers = _observer_arrays(antennas, floor)
    grid = _time_grid(start, end, settings, ut1_minus_utc_s)

    chunk = _Chunk((), observers, antennas, grid, floor)
    found = _FoundPasses(RawPasses.empty(), np.zeros(0, bool), np.zeros(0))
    if satellites and antennas:
        found = _concatenate(_run_chunks(satellites, chunk, workers, progress))
    return _assemble(found, satellites, antennas, grid, start)


def _check_window(start: datetime, end: datetime) -> None:
    for name, moment in (("start", start), ("end", end)):
        if moment.tzinfo is None:
            raise InvalidInput(name, moment.isoformat(), "a timezone-aware UTC time")
    if end <= start:
        raise InvalidInput("end", end.isoformat(), f"a time after start ({start.isoformat()})")
    if end - start > MAX_WINDOW:
        raise InvalidInput(
            "end", end.isoformat(), f"a window of at most {MAX_WINDOW.days} days from start"
        )


def _observer_arrays(
    antennas: Sequence[tuple[GroundStation, Antenna]], floor_deg: float
) -> ObserverArrays:
    lat = np.array([s.latitude_deg for s, _ in antennas], dtype=np.float64)
    lon = np.array([s.longitude_deg for s, _ in antennas], dtype=np.float64)
    alt = np.array([s.altitude_m for s, _ in antennas], dtype=np.float64)
    limit = np.array([max(a.lowest_elevation_deg, floor_deg) for _, a in antennas])
    east, north, up = east_north_up(lat, lon)
    return ObserverArrays(
        geodetic_to_ecef_km(lat, lon, alt).reshape(3, -1),
        east.reshape(3, -1),
        north.reshape(3, -1),
        up.reshape(3, -1),
        limit.astype(np.float64),
    )


def _time_grid(
    start: datetime, end: datetime, settings: SearchSettings, ut1_minus_utc_s: float
) -> TimeGrid:
    """A grid ending exactly at ``end``: the coarse step shrinks to divide the window."""
    span_s = (end - start).total_seconds()
    n_coarse = max(1, math.ceil(span_s / settings.coarse_step_s))
    coarse_step_s = span_s / n_coarse
    jd_whole, jd_fraction = split_julian_date(start)
    return TimeGrid(
        jd_whole,
        jd_fraction,
        n_coarse,
        coarse_step_s=coarse_step_s,
        fine_step_s=coarse_step_s / settings.substeps,
        ut1_minus_utc_s=ut1_minus_utc_s,
    )


@dataclass(frozen=True)
class _Chunk:
    """One worker's task: some satellites, and everything shared by all tasks."""

    satellites: tuple[OrbitalElements, ...]
    observers: ObserverArrays
    antennas: tuple[tuple[GroundStation, Antenna], ...]
    grid: TimeGrid
    floor_deg: float


@dataclass(frozen=True)
class _FoundPasses:
    """A chunk's passes, cut by the horizon masks, with the Sun at TCA."""

    raw: RawPasses
    sunlit: npt.NDArray[np.bool_]
    sun_elevation_deg: FloatArray


def _search(chunk: _Chunk) -> _FoundPasses:
    """Worker body: search the chunk's satellites, apply the masks, add the Sun at TCA."""
    grid, observers = chunk.grid, chunk.observers
    raw = search_chunk(SatelliteBatch(chunk.satellites), observers, grid)
    raw = apply_horizon_masks(
        raw, chunk.satellites, chunk.antennas, observers, grid, chunk.floor_deg
    )
    # The Sun moves slowly: evaluate it on the coarse grid and interpolate to each TCA.
    grid_s = np.arange(grid.n_coarse + 1) * grid.coarse_step_s
    sun_on_grid = sun_position_teme_km(*grid.julian(grid_s))
    sun_teme = np.stack([np.interp(raw.tca_s, grid_s, axis) for axis in sun_on_grid])
    sun_ecef = rotate_teme_to_ecef(sun_teme, grid.gmst_rad(raw.tca_s))
    sun_el = sun_elevation_deg(
        sun_ecef,
        np.take(observers.position_km, raw.observer, axis=1),
        np.take(observers.up, raw.observer, axis=1),
    )
    return _FoundPasses(raw, is_sunlit(raw.tca_position_km, sun_ecef), sun_el)


def _run_chunks(
    satellites: Sequence[OrbitalElements],
    shared: _Chunk,
    workers: int | None,
    progress: ProgressCallback | None,
) -> list[tuple[int, _FoundPasses]]:
    """Search every chunk of the fleet; returns (first satellite index, passes) per chunk."""
    total = len(satellites)
    if workers is None:
        workers = os.cpu_count() or 1
    days = shared.grid.span_s / 86400.0
    parallel = workers > 1 and total * len(shared.observers) * days >= _PARALLEL_MIN_PAIR_DAYS
    size = max(1, min(round(CHUNK_SATELLITE_DAYS / days), total))
    if parallel:  # at least one chunk per worker
        size = min(size, math.ceil(total / workers))
    chunks = {
        first: replace(shared, satellites=tuple(satellites[first : first + size]))
        for first in range(0, total, size)
    }
    if progress:
        progress(0, total)
    results: list[tuple[int, _FoundPasses]] = []
    if not parallel or len(chunks) <= 1:
        for first, chunk in chunks.items():
            results.append((first, _search(chunk)))
            if progress:
                progress(min(first + size, total), total)
        return results
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: dict[Future[_FoundPasses], int] = {
            pool.submit(_search, chunk): first for first, chunk in chunks.items()
        }
        done = 0
        for future in as_completed(futures):
            first = futures[future]
            results.append((first, future.result()))
            done += min(size, total - first)
            if progress:
                progress(done, total)
    return results


def _concatenate(parts: list[tuple[int, _FoundPasses]]) -> _FoundPasses:
    """Join chunk results, turning chunk-local satellite indices into fleet indices."""
    ordered = sorted(parts, key=lambda part: part[0])
    raw = RawPasses.concatenate(
        [
            replace(
                found.raw,
                satellite=found.raw.satellite + first,
                errors=[(first + sat, k, code) for sat, k, code in found.raw.errors],
            )
            for first, found in ordered
        ]
    )
    return _FoundPasses(
        raw,
        np.concatenate([found.sunlit for _, found in ordered]),
        np.concatenate([found.sun_elevation_deg for _, found in ordered]),
    )


def _assemble(
    found: _FoundPasses,
    satellites: tuple[OrbitalElements, ...],
    antennas: tuple[tuple[GroundStation, Antenna], ...],
    grid: TimeGrid,
    start: datetime,
) -> PassTable:
    """Absolute times, AOS order, and the problem list."""
    raw = found.raw
    t0 = unix_seconds(start)
    order = np.argsort(raw.aos_s, kind="stable")
    problems = tuple(
        _describe_error(satellites[sat], grid, k, code) for sat, k, code in sorted(raw.errors)
    )
    return PassTable(
        satellites=satellites,
        antennas=antennas,
        satellite_index=raw.satellite[order],
        antenna_index=raw.observer[order],
        aos_unix_s=t0 + raw.aos_s[order],
        tca_unix_s=t0 + raw.tca_s[order],
        los_unix_s=t0 + raw.los_s[order],
        max_elevation_deg=raw.max_elevation_deg[order],
        aos_azimuth_deg=raw.aos_azimuth_deg[order],
        tca_azimuth_deg=raw.tca_azimuth_deg[order],
        los_azimuth_deg=raw.los_azimuth_deg[order],
        aos_clipped=raw.aos_clipped[order],
        los_clipped=raw.los_clipped[order],
        sunlit=found.sunlit[order],
        sun_elevation_deg=found.sun_elevation_deg[order],
        problems=problems,
    )


def _describe_error(satellite: OrbitalElements, grid: TimeGrid, k: int, code: int) -> str:
    """One line: which satellite, which SGP4 code and meaning, from what time."""
    jd_whole, jd_fraction = grid.julian(np.array([k * grid.coarse_step_s]))
    unix = (jd_whole[0] - 2440587.5 + jd_fraction[0]) * 86400.0
    when = str(iso_utc_ms(np.array([unix]))[0])
    meaning = SGP4_ERRORS.get(code, "unknown error")
    return (
        f"{satellite.name} ({satellite.norad_cat_id}): SGP4 error {code} ({meaning}) "
        f"at {when} (the first failing {grid.coarse_step_s:g} s grid point); "
        "no passes from then on"
    )

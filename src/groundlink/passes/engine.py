"""Pass prediction for a whole fleet over a whole network: :func:`find_passes`.

This is the public entry point of the pass engine. It checks its inputs,
groups the fleet by SGP4 step (near-circular orbits take the long one),
splits each group into chunks and, for each (on several processes when there
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
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from groundlink.errors import InvalidInput
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.frames import east_north_up, geodetic_to_ecef_km, rotate_teme_to_ecef
from groundlink.orbits.propagation import SGP4_ERRORS, SatelliteBatch, split_julian_date
from groundlink.orbits.sun import is_sunlit, sun_elevation_deg, sun_position_teme_km
from groundlink.passes.masks import apply_horizon_masks
from groundlink.passes.search import ObserverArrays, TimeGrid, search_chunk
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

    ``coarse_step_s``: SGP4 step for near-circular orbits (eccentricity at
    most ``circular_eccentricity``), septic Hermite in between; other orbits
    get half of it. ``fine_step_s``: spacing of the fine points where
    crossings are bracketed (the coarse step is a whole multiple of it).
    """

    coarse_step_s: float = 600.0
    fine_step_s: float = 60.0
    circular_eccentricity: float = 0.05

    def step_for(self, satellite: OrbitalElements) -> float:
        """The SGP4 step for one satellite's orbit, seconds (before fitting the window)."""
        if satellite.eccentricity <= self.circular_eccentricity:
            return self.coarse_step_s
        return self.coarse_step_s / 2


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

    found: list[_FoundPasses] = []
    if satellites and antennas:
        # Satellites that share an SGP4 step share a grid.
        groups: dict[float, list[int]] = {}
        for index, satellite in enumerate(satellites):
            groups.setdefault(settings.step_for(satellite), []).append(index)
        plan = [
            (np.array(members), _time_grid(start, end, step_s, settings, ut1_minus_utc_s))
            for step_s, members in sorted(groups.items(), reverse=True)
        ]
        shared = _Chunk(np.zeros(0, np.int64), (), observers, antennas, plan[0][1], floor)
        found = _run_chunks(satellites, plan, shared, workers, progress)
    return _assemble(found, satellites, antennas, start)


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
    start: datetime,
    end: datetime,
    step_s: float,
    settings: SearchSettings,
    ut1_minus_utc_s: float,
) -> TimeGrid:
    """A grid ending exactly at ``end``: the coarse step shrinks to divide the window."""
    span_s = (end - start).total_seconds()
    n_coarse = max(1, math.ceil(span_s / step_s))
    coarse_step_s = span_s / n_coarse
    substeps = max(1, round(coarse_step_s / settings.fine_step_s))
    jd_whole, jd_fraction = split_julian_date(start)
    return TimeGrid(
        jd_whole,
        jd_fraction,
        n_coarse,
        coarse_step_s=coarse_step_s,
        fine_step_s=coarse_step_s / substeps,
        ut1_minus_utc_s=ut1_minus_utc_s,
    )


@dataclass(frozen=True)
class _Chunk:
    """One worker's task: some satellites (and their indices in the fleet), their grid,
    and the network."""

    satellite_index: npt.NDArray[np.int64]
    satellites: tuple[OrbitalElements, ...]
    observers: ObserverArrays
    antennas: tuple[tuple[GroundStation, Antenna], ...]
    grid: TimeGrid
    floor_deg: float


@dataclass(frozen=True)
class _FoundPasses:
    """A chunk's passes, cut by the horizon masks, with the Sun at TCA, sorted by AOS.

    ``columns`` are the :class:`PassTable` columns by name (fleet satellite
    indices, times in seconds from the window's start): only what the table
    needs travels back from a worker. ``problems`` are the chunk's SGP4
    failures as (satellite, message).
    """

    columns: dict[str, npt.NDArray[Any]]
    problems: list[tuple[int, str]]

    def __len__(self) -> int:
        return len(self.columns["aos_unix_s"])


def _search(chunk: _Chunk) -> _FoundPasses:
    """Worker body: search the chunk's satellites, apply the masks, add the Sun at TCA."""
    grid, observers = chunk.grid, chunk.observers
    raw = search_chunk(SatelliteBatch(chunk.satellites), observers, grid)
    raw = apply_horizon_masks(
        raw, chunk.satellites, chunk.antennas, observers, grid, chunk.floor_deg
    )
    # The Sun moves slowly (0.04° an hour): evaluated on the coarse grid, linear in between.
    grid_s = np.arange(grid.n_coarse + 1) * grid.coarse_step_s
    sun_on_grid = sun_position_teme_km(*grid.julian(grid_s))
    steps = raw.tca_s / grid.coarse_step_s
    before = np.clip(steps.astype(np.int64), 0, grid.n_coarse - 1)
    after = before + 1
    sun_teme = sun_on_grid[:, before] + (steps - before) * (
        sun_on_grid[:, after] - sun_on_grid[:, before]
    )
    sun_ecef = rotate_teme_to_ecef(sun_teme, grid.gmst_rad(raw.tca_s))
    sun_el = sun_elevation_deg(
        sun_ecef,
        np.take(observers.position_km, raw.observer, axis=1),
        np.take(observers.up, raw.observer, axis=1),
    )
    problems = [
        (int(chunk.satellite_index[sat]), _describe_error(chunk.satellites[sat], grid, k, code))
        for sat, k, code in raw.errors
    ]
    # Sorted here, in parallel, so that the final sort merges sorted runs.
    order = np.argsort(raw.aos_s, kind="stable")
    columns: dict[str, npt.NDArray[Any]] = {
        "satellite_index": chunk.satellite_index[raw.satellite[order]],
        "antenna_index": raw.observer[order],
        "aos_unix_s": raw.aos_s[order],
        "tca_unix_s": raw.tca_s[order],
        "los_unix_s": raw.los_s[order],
        "max_elevation_deg": raw.max_elevation_deg[order],
        "aos_azimuth_deg": raw.aos_azimuth_deg[order],
        "tca_azimuth_deg": raw.tca_azimuth_deg[order],
        "los_azimuth_deg": raw.los_azimuth_deg[order],
        "aos_clipped": raw.aos_clipped[order],
        "los_clipped": raw.los_clipped[order],
        "sunlit": is_sunlit(raw.tca_position_km, sun_ecef)[order],
        "sun_elevation_deg": sun_el[order],
    }
    return _FoundPasses(columns, problems)


def _run_chunks(
    satellites: Sequence[OrbitalElements],
    plan: list[tuple[npt.NDArray[np.int64], TimeGrid]],
    shared: _Chunk,
    workers: int | None,
    progress: ProgressCallback | None,
) -> list[_FoundPasses]:
    """Search every chunk of every (satellites, grid) group of ``plan``."""
    total = len(satellites)
    if workers is None:
        workers = os.cpu_count() or 1
    days = shared.grid.span_s / 86400.0
    parallel = workers > 1 and total * len(shared.observers) * days >= _PARALLEL_MIN_PAIR_DAYS
    size = max(1, min(round(CHUNK_SATELLITE_DAYS / days), total))
    if parallel:  # at least one chunk per worker
        size = min(size, math.ceil(total / workers))
    chunks = [
        replace(
            shared,
            satellite_index=members[first : first + size],
            satellites=tuple(satellites[i] for i in members[first : first + size]),
            grid=grid,
        )
        for members, grid in plan
        for first in range(0, members.size, size)
    ]
    if progress:
        progress(0, total)
    results: list[_FoundPasses] = []
    done = 0
    if not parallel or len(chunks) <= 1:
        for chunk in chunks:
            results.append(_search(chunk))
            done += len(chunk.satellites)
            if progress:
                progress(done, total)
        return results
    from groundlink.passes.kernels import compile_kernels  # see search._KERNELS_NOTE

    compile_kernels()
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: dict[Future[_FoundPasses], int] = {
            pool.submit(_search, chunk): len(chunk.satellites) for chunk in chunks
        }
        for future in as_completed(futures):
            results.append(future.result())
            done += futures[future]
            if progress:
                progress(done, total)
    return results


def _assemble(
    parts: list[_FoundPasses],
    satellites: tuple[OrbitalElements, ...],
    antennas: tuple[tuple[GroundStation, Antenna], ...],
    start: datetime,
) -> PassTable:
    """The chunks' passes in one table sorted by AOS, with absolute times and the problems.

    Each column is written once, straight from the chunks to its place in
    AOS order, without a joined copy first: this runs in the parent process
    alone, after the workers, over hundreds of thousands of passes.
    """
    problems = tuple(message for _, message in sorted(p for part in parts for p in part.problems))
    parts = [part for part in parts if len(part)] or [_FoundPasses(_empty_columns(), [])]
    aos, satellite, antenna = (
        np.concatenate([part.columns[name] for part in parts])
        for name in ("aos_unix_s", "satellite_index", "antenna_index")
    )
    order = _aos_order(aos, satellite, antenna)
    place = np.empty_like(order)
    place[order] = np.arange(order.size)
    columns: dict[str, npt.NDArray[Any]] = {}
    for name, empty in _empty_columns().items():
        column = np.empty(order.size, empty.dtype)
        first = 0
        for part in parts:
            column[place[first : first + len(part)]] = part.columns[name]
            first += len(part)
        columns[name] = column
    t0 = unix_seconds(start)
    for name in ("aos_unix_s", "tca_unix_s", "los_unix_s"):
        columns[name] += t0
    return PassTable(satellites=satellites, antennas=antennas, problems=problems, **columns)


def _empty_columns() -> dict[str, npt.NDArray[Any]]:
    """The :class:`PassTable` columns, empty, with their types."""
    integer = ("satellite_index", "antenna_index")
    boolean = ("aos_clipped", "los_clipped", "sunlit")
    context = ("satellites", "antennas", "problems")
    return {
        f.name: np.zeros(0, np.int64 if f.name in integer else bool if f.name in boolean else float)
        for f in fields(PassTable)
        if f.name not in context
    }


def _aos_order(
    aos_s: FloatArray, satellite: npt.NDArray[np.int64], antenna: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """Row order by AOS, equal AOS (passes clipped at the start) by satellite and antenna.

    The ties are ordered explicitly so that the table does not depend on how
    the fleet was split into chunks; only they need the slower three-key sort.
    """
    order = np.argsort(aos_s, kind="stable")  # a merge of the chunks' sorted runs
    tied = np.zeros(order.size, bool)
    equal = np.flatnonzero(aos_s[order][1:] == aos_s[order][:-1])
    tied[equal] = tied[equal + 1] = True
    rows = np.flatnonzero(tied)
    if rows.size:
        runs = order[rows]  # whole runs of equal AOS, in AOS order
        order[rows] = runs[np.lexsort((antenna[runs], satellite[runs], aos_s[runs]))]
    return order


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

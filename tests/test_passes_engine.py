"""Behaviour of find_passes: windows and clipping, limits and masks, failures, parallelism, Sun.

Every geometric claim is checked against SGP4 evaluated directly (the
``direct`` fixture: sgp4 plus frames verified against Skyfield), the Sun
against Skyfield with JPL DE421.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import groundlink.passes.engine as engine_module
from groundlink.errors import InvalidInput
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.frames import gmst82_rad
from groundlink.orbits.propagation import satrec_from_elements, split_julian_date
from groundlink.passes.engine import SearchSettings, find_passes
from groundlink.passes.table import PassTable, unix_seconds
from groundlink.stations.model import Antenna, GroundStation, HorizonMask

FloatArray = npt.NDArray[np.float64]

DAY = timedelta(days=1)


def _seconds(table: PassTable, column: str, start: datetime) -> FloatArray:
    """A time column as seconds from ``start``."""
    values: FloatArray = getattr(table, column) - unix_seconds(start)
    return values


def _station(
    name: str, latitude_deg: float, longitude_deg: float, antenna: Antenna | None = None
) -> GroundStation:
    return GroundStation(
        name.lower(),
        name,
        latitude_deg,
        longitude_deg,
        100.0,
        (antenna or Antenna("ant1", 10.0),),
    )


# --- clipping at the window's ends ---------------------------------------------------------------


@pytest.fixture(scope="module")
def long_pass(population, stations, reference_start) -> tuple[OrbitalElements, GroundStation, Any]:
    """A satellite, a station and one of its unclipped passes of over 6 minutes on 2024-06-01."""
    satellites = population[:30]
    table = find_passes(satellites, stations, reference_start, reference_start + DAY)
    long = np.flatnonzero((table.duration_s > 360) & ~table.aos_clipped & ~table.los_clipped)
    chosen = table.row(int(long[0]))
    return chosen.satellite, chosen.station, chosen


def test_pass_in_progress_at_start_is_cut_there_and_flagged(long_pass, sites_of, direct):
    """Starting a window a minute after TCA: the pass begins at the window start, is flagged,
    keeps its LOS, and peaks at the start (it only descends from there)."""
    satellite, station, full = long_pass
    start = full.tca + timedelta(seconds=60)
    table = find_passes([satellite], [station], start, start + timedelta(hours=6))

    first = table.row(int(np.argmin(table.aos_unix_s)))
    assert first.aos == start and first.aos_clipped and not first.los_clipped
    assert abs((first.los - full.los).total_seconds()) < 0.01
    assert first.duration_s == pytest.approx((full.los - start).total_seconds(), abs=0.01)
    assert table.duration_s[0] == table.los_unix_s[0] - table.aos_unix_s[0]
    assert first.tca == start
    _, elevation = direct.look(satellite, sites_of([station]), start, [0.0])
    assert first.max_elevation_deg == pytest.approx(elevation[0, 0], abs=1e-3)
    assert not table.aos_clipped[1:].any()


def test_pass_in_progress_at_end_is_cut_there_and_flagged(long_pass, sites_of, direct):
    """Ending a window a minute before TCA: the last pass ends at the window end, is flagged,
    keeps its AOS, and peaks at the end (it was still rising)."""
    satellite, station, full = long_pass
    end = full.tca - timedelta(seconds=60)
    start = end - timedelta(hours=6)
    table = find_passes([satellite], [station], start, end)

    last = table.row(int(np.argmax(table.los_unix_s)))
    assert last.los == end and last.los_clipped and not last.aos_clipped
    assert abs((last.aos - full.aos).total_seconds()) < 0.01
    assert last.duration_s == pytest.approx((end - full.aos).total_seconds(), abs=0.01)
    assert last.tca == end
    _, elevation = direct.look(satellite, sites_of([station]), end, [0.0])
    assert last.max_elevation_deg == pytest.approx(elevation[0, 0], abs=1e-3)
    assert table.los_clipped.sum() == 1


# --- a satellite that never sets -----------------------------------------------------------------


def _geostationary_over(longitude_deg: float, epoch: datetime) -> OrbitalElements:
    """A GEO-like element set (1.0027 rev/day, e = 0, i = 0) over ``longitude_deg`` at its epoch."""
    gmst_deg = math.degrees(float(gmst82_rad(*split_julian_date(epoch))))
    return OrbitalElements(
        object_name="GEO-TEST",
        object_id="2024-999A",
        epoch=epoch,
        mean_motion=1.0027,
        eccentricity=0.0,
        inclination=0.0,
        ra_of_asc_node=0.0,
        arg_of_pericenter=0.0,
        mean_anomaly=(gmst_deg + longitude_deg) % 360.0,
        norad_cat_id=99002,
    )


#: The satellite sits 15° east of this site's longitude, so that the drift and the daily
#: wobble of SGP4's GEO orbit move the elevation (right overhead in longitude, the maximum
#: would be flat and ill-defined).
GEO_SITE = _station("GEO site", 30.0, 20.0)
GEO_LONGITUDE_DEG = 35.0


def test_geostationary_satellite_is_one_pass_clipped_at_both_ends(
    reference_start, sites_of, direct
):
    """Visible all day: one pass from window start to window end, both ends flagged, and its
    maximum is SGP4's highest elevation of the day (a slow daily wobble of 0.03°)."""
    geo = _geostationary_over(GEO_LONGITUDE_DEG, reference_start)
    table = find_passes([geo], [GEO_SITE], reference_start, reference_start + DAY)

    assert len(table) == 1
    only = table.row(0)
    assert (only.aos, only.los) == (reference_start, reference_start + DAY)
    assert only.aos_clipped and only.los_clipped
    assert only.duration_s == DAY.total_seconds()
    _, elevation = direct.look(
        geo, sites_of([GEO_SITE]), reference_start, np.arange(0, 86401.0, 60)
    )
    assert elevation.min() > 40.0
    assert only.max_elevation_deg == pytest.approx(elevation.max(), abs=1e-4)
    assert only.aos <= only.tca <= only.los


def test_geostationary_pass_peaks_at_its_higher_end(reference_start, sites_of, direct):
    """Over three hours in which SGP4's elevation only rises, TCA is the window end and the
    maximum is the elevation there."""
    geo = _geostationary_over(GEO_LONGITUDE_DEG, reference_start)
    sites = sites_of([GEO_SITE])
    minutes = np.arange(0, 86401.0, 60)
    _, elevation = direct.look(geo, sites, reference_start, minutes)
    steepest = minutes[int(np.argmax(np.abs(np.diff(elevation[0]))))]
    start = reference_start + timedelta(seconds=float(steepest) - 5400)
    end = start + timedelta(hours=3)
    inside = direct.look(geo, sites, start, np.arange(0, 10801.0, 60))[1][0]
    rising = np.diff(inside)
    assert (rising > 0).all() or (rising < 0).all(), "the setup needs a monotonic window"

    table = find_passes([geo], [GEO_SITE], start, end)

    assert len(table) == 1
    only = table.row(0)
    assert only.aos_clipped and only.los_clipped
    higher_end = end if inside[-1] > inside[0] else start
    assert only.tca == higher_end
    assert only.max_elevation_deg == pytest.approx(max(inside[0], inside[-1]), abs=1e-4)


def test_window_inside_one_pass_gives_it_clipped_at_both_ends(long_pass, sites_of, direct):
    """A one-minute window while a LEO satellite descends: one pass, both ends flagged, TCA at
    the window start with SGP4's elevation there."""
    satellite, station, full = long_pass
    start = full.tca + timedelta(seconds=30)
    end = start + timedelta(seconds=60)
    table = find_passes([satellite], [station], start, end)

    assert len(table) == 1
    only = table.row(0)
    assert (only.aos, only.los, only.tca) == (start, end, start)
    assert only.aos_clipped and only.los_clipped
    _, elevation = direct.look(satellite, sites_of([station]), start, [0.0])
    assert only.max_elevation_deg == pytest.approx(elevation[0, 0], abs=1e-3)


# --- elevation limits and horizon masks ----------------------------------------------------------


def test_min_elevation_raises_every_limit(population, stations, reference_start, sites_of, direct):
    """min_elevation_deg=20 keeps fewer, shorter passes, each inside a default pass, starting and
    ending at 20° (SGP4, ±1 mdeg) and peaking above it; a floor below the masks changes nothing."""
    satellites = population[::200]
    end = reference_start + DAY
    default = find_passes(satellites, stations, reference_start, end)
    raised = find_passes(satellites, stations, reference_start, end, min_elevation_deg=20.0)
    lowered = find_passes(satellites, stations, reference_start, end, min_elevation_deg=2.0)

    assert 0 < len(raised) < len(default)
    assert (raised.max_elevation_deg >= 20.0).all()
    reaching = default.max_elevation_deg
    assert (reaching >= 20.001).sum() <= len(raised) <= (reaching >= 19.999).sum()
    for i in range(len(raised)):
        same = np.flatnonzero(
            (default.satellite_index == raised.satellite_index[i])
            & (default.antenna_index == raised.antenna_index[i])
            & (default.aos_unix_s <= raised.aos_unix_s[i])
            & (default.los_unix_s >= raised.los_unix_s[i])
        )
        assert same.size == 1
        assert raised.duration_s[i] < default.duration_s[same[0]]

    sites = sites_of(stations)
    satrecs = [satrec_from_elements(s) for s in satellites]
    for column, clipped in (("aos_unix_s", raised.aos_clipped), ("los_unix_s", raised.los_clipped)):
        rows = np.flatnonzero(~clipped)
        _, elevation = direct.look_pairs(
            satrecs,
            sites,
            reference_start,
            raised.satellite_index[rows],
            raised.antenna_index[rows],
            _seconds(raised, column, reference_start)[rows],
        )
        assert np.abs(elevation - 20.0).max() < 1e-3

    for f in fields(PassTable):
        if isinstance(getattr(default, f.name), np.ndarray):
            np.testing.assert_array_equal(getattr(lowered, f.name), getattr(default, f.name))


#: 30° over the northern half of the sky, 5° over the southern, with 2° ramps at east and west.
WALL_MASK = HorizonMask((0.0, 89.0, 91.0, 269.0, 271.0), (30.0, 30.0, 5.0, 5.0, 30.0))
MASKED_SITE = _station("Masked", 45.0, 10.0, Antenna("dish", 5.0, horizon_mask=WALL_MASK))


@dataclass(frozen=True)
class MaskedCase:
    """Passes over MASKED_SITE, and the truth from SGP4 at every second and by bisection."""

    satellites: list[OrbitalElements]
    table: PassTable
    runs: list[tuple[int, float, float]]  # (satellite, first s, last s) of 1 s samples above
    crossing_error_s: FloatArray  # engine minus bisected truth, AOS and LOS not clipped


@pytest.fixture(scope="module")
def masked_case(population, reference_start, sites_of, direct) -> MaskedCase:
    satellites = list(population[::60])
    table = find_passes(satellites, [MASKED_SITE], reference_start, reference_start + DAY)
    sites = sites_of([MASKED_SITE])
    antenna = MASKED_SITE.antennas[0]
    satrecs = [satrec_from_elements(s) for s in satellites]

    def margin(sat: npt.NDArray[np.int64], t: FloatArray) -> FloatArray:
        azimuth, elevation = direct.look_pairs(
            satrecs, sites, reference_start, sat, np.zeros_like(sat), t
        )
        return elevation - antenna.elevation_limit_deg(azimuth)

    seconds = np.arange(0.0, 86401.0)
    runs = []
    for index, satellite in enumerate(satellites):
        azimuth, elevation = direct.look(satellite, sites, reference_start, seconds)
        above = elevation[0] >= antenna.elevation_limit_deg(azimuth[0])
        padded = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
        for first, last in zip(
            np.flatnonzero(padded == 1), np.flatnonzero(padded == -1) - 1, strict=True
        ):
            runs.append((index, float(first), float(last)))

    # Bisect every reported unclipped end against the truth, inside its 1 s bracket.
    aos = _seconds(table, "aos_unix_s", reference_start)
    los = _seconds(table, "los_unix_s", reference_start)
    sat = table.satellite_index.astype(np.int64)
    ends = np.concatenate([aos[~table.aos_clipped], los[~table.los_clipped]])
    owner = np.concatenate([sat[~table.aos_clipped], sat[~table.los_clipped]])
    rising = np.repeat([True, False], [(~table.aos_clipped).sum(), (~table.los_clipped).sum()])
    truth = np.full(ends.size, np.nan)
    run_array = np.array(runs)
    for i in range(ends.size):  # the run this end belongs to
        mine = run_array[run_array[:, 0] == owner[i]]
        edge = mine[:, 1] if rising[i] else mine[:, 2]
        truth[i] = edge[np.argmin(np.abs(edge - ends[i]))]
    below = np.where(rising, truth - 1.0, truth + 1.0)
    above_t = truth.copy()
    for _ in range(12):
        middle = 0.5 * (below + above_t)
        up = margin(owner, middle) >= 0
        above_t = np.where(up, middle, above_t)
        below = np.where(up, below, middle)
    return MaskedCase(satellites, table, runs, ends - 0.5 * (below + above_t))


def test_horizon_mask_cuts_passes_where_it_blocks(masked_case: MaskedCase, reference_start):
    """The mask shapes the passes: some open at 30° in the north, some at 5° in the south,
    and no pass is longer than the satellite stays above the mask."""
    table = masked_case.table
    north = (table.aos_azimuth_deg > 271) | (table.aos_azimuth_deg < 89)
    south = (table.aos_azimuth_deg > 91) & (table.aos_azimuth_deg < 269)
    assert north.sum() > 20 and south.sum() > 20
    unmasked = find_passes(
        masked_case.satellites,
        [replace(MASKED_SITE, antennas=(Antenna("dish", 5.0),))],
        reference_start,
        reference_start + DAY,
    )
    assert table.duration_s.sum() < 0.8 * unmasked.duration_s.sum()


def test_horizon_mask_misses_no_interval_and_reports_none_below_it(
    masked_case: MaskedCase, reference_start, sites_of, direct
):
    """Against SGP4 every second: each run of 10 s or more above the mask is one reported pass,
    its ends within 1 s of the truth; inside each pass (1 s from the ends) SGP4 is above the mask.
    """
    table = masked_case.table
    aos = _seconds(table, "aos_unix_s", reference_start)
    los = _seconds(table, "los_unix_s", reference_start)
    for satellite, first, last in masked_case.runs:
        if last - first < 10:
            continue
        hit = np.flatnonzero((table.satellite_index == satellite) & (aos <= last) & (los >= first))
        assert hit.size == 1, (satellite, first, last)
    assert np.abs(masked_case.crossing_error_s).max() <= 1.0

    sites = sites_of([MASKED_SITE])
    antenna = MASKED_SITE.antennas[0]
    for i in range(len(table)):
        inside = np.arange(np.ceil(aos[i] + 1.0), los[i] - 1.0)
        if inside.size == 0:
            continue
        azimuth, elevation = direct.look(
            masked_case.satellites[int(table.satellite_index[i])], sites, reference_start, inside
        )
        assert (elevation[0] >= antenna.elevation_limit_deg(azimuth[0])).all(), i


def test_horizon_mask_crossings_meet_the_engine_accuracy(masked_case: MaskedCase):
    """Masked AOS/LOS meet the engine's crossing accuracy: p99 ≤ 0.1 s (unmasked: < 1 ms)."""
    error = np.abs(masked_case.crossing_error_s)
    print(
        f"\nmasked crossings: n={error.size} median {np.median(error):.2e} "
        f"p99 {np.percentile(error, 99):.2e} max {error.max():.2e} s"
    )
    assert np.percentile(error, 99) <= 0.1


def test_window_of_any_length_gives_the_same_passes(population, stations, reference_start):
    """A window that is no multiple of the coarse step, starting at an odd microsecond, finds
    the passes of the whole-day run that lie inside it, to 10 ms."""
    satellites = population[::300]
    day = find_passes(satellites, stations, reference_start, reference_start + DAY)
    start = reference_start + timedelta(seconds=4321, microseconds=123457)
    end = start + timedelta(seconds=12345.678)
    part = find_passes(satellites, stations, start, end)

    inside = (day.aos_unix_s > unix_seconds(start)) & (day.los_unix_s < unix_seconds(end))
    inner = ~part.aos_clipped & ~part.los_clipped
    assert inner.sum() == inside.sum() > 20
    for column in ("satellite_index", "antenna_index"):
        np.testing.assert_array_equal(getattr(part, column)[inner], getattr(day, column)[inside])
    for column in ("aos_unix_s", "los_unix_s"):
        np.testing.assert_allclose(
            getattr(part, column)[inner], getattr(day, column)[inside], atol=0.01
        )
    np.testing.assert_allclose(
        part.max_elevation_deg[inner], day.max_elevation_deg[inside], atol=1e-3
    )
    assert (np.diff(part.aos_unix_s) >= 0).all()  # sorted by AOS


def test_dut1_turns_the_earth_under_the_passes(
    population, stations, reference_start, sites_of, direct
):
    """With ut1_minus_utc_s = 0.8 s, SGP4 evaluated with that DUT1 puts every unclipped AOS and
    LOS on the mask (±1 mdeg); ignoring it would be off by up to 0.01°."""
    satellites = population[::500]
    dut1 = 0.8
    table = find_passes(
        satellites, stations, reference_start, reference_start + DAY, ut1_minus_utc_s=dut1
    )
    sites = sites_of(stations)
    satrecs = [satrec_from_elements(s) for s in satellites]
    limits = np.array([s.antennas[0].lowest_elevation_deg for s in stations])
    rows = np.flatnonzero(~table.aos_clipped)
    aos = _seconds(table, "aos_unix_s", reference_start)[rows]
    sat, ant = table.satellite_index[rows], table.antenna_index[rows]

    _, with_dut1 = direct.look_pairs(satrecs, sites, reference_start, sat, ant, aos, dut1)
    _, without = direct.look_pairs(satrecs, sites, reference_start, sat, ant, aos)

    assert np.abs(with_dut1 - limits[ant]).max() < 1e-3
    assert np.abs(without - limits[ant]).max() > 3e-3


# --- eccentric orbits (the shorter SGP4 step) ---------------------------------------------------


def test_eccentric_orbits_get_every_pass_with_crossings_on_the_mask(
    population, stations, reference_start, sites_of, direct, true_runs
):
    """Molniya, GTO, an eccentric LEO and a MEO (the engine's 300 s and 600 s steps): every run
    of 1 s SGP4 samples above the mask is one pass, and each AOS/LOS lies on the mask (±2 mdeg)."""
    orbits = {  # name: mean motion (rev/day), eccentricity, inclination (deg)
        "MOLNIYA": (2.006, 0.72, 63.4),
        "GTO": (2.25, 0.73, 27.0),
        "ECCENTRIC-LEO": (13.5, 0.08, 80.0),
        "MEO": (2.0056, 0.01, 55.0),
    }
    satellites = [
        replace(
            population[0],
            object_name=name,
            norad_cat_id=99200 + i,
            epoch=reference_start,
            mean_motion=motion,
            eccentricity=eccentricity,
            inclination=inclination,
            arg_of_pericenter=270.0,
            bstar=0.0,
        )
        for i, (name, (motion, eccentricity, inclination)) in enumerate(orbits.items())
    ]
    settings = SearchSettings()
    assert {settings.step_for(s) for s in satellites} == {
        settings.coarse_step_s,
        settings.coarse_step_s / 2,
    }
    table = find_passes(satellites, stations, reference_start, reference_start + DAY, workers=1)

    sites = sites_of(stations)
    limits = np.array([s.antennas[0].lowest_elevation_deg for s in stations])
    seconds = np.arange(0.0, 86401.0)
    for index, satellite in enumerate(satellites):
        _, elevation = direct.look(satellite, sites, reference_start, seconds)
        for site in range(len(stations)):
            starts, _ = true_runs(elevation[site] >= limits[site])
            ours = (table.satellite_index == index) & (table.antenna_index == site)
            assert ours.sum() == starts.size, (satellite.name, stations[site].name)
            aos = _seconds(table, "aos_unix_s", reference_start)[ours]
            np.testing.assert_allclose(aos[~table.aos_clipped[ours]], starts[starts > 0], atol=1.0)
    satrecs = [satrec_from_elements(s) for s in satellites]
    for column, clipped in (("aos_unix_s", table.aos_clipped), ("los_unix_s", table.los_clipped)):
        rows = np.flatnonzero(~clipped)
        _, elevation = direct.look_pairs(
            satrecs,
            sites,
            reference_start,
            table.satellite_index[rows],
            table.antenna_index[rows],
            _seconds(table, column, reference_start)[rows],
        )
        assert np.abs(elevation - limits[table.antenna_index[rows]]).max() < 2e-3


# --- SGP4 failures -------------------------------------------------------------------------------


def test_decayed_satellite_is_reported_and_does_not_stop_others(
    population, stations, reference_start, direct
):
    """A satellite that decays mid-window is named in ``problems`` with code 6 and the time;
    the others get exactly the passes they get without it."""
    healthy = list(population[:2])
    decaying = replace(
        population[0],
        object_name="DECAYING",
        norad_cat_id=99001,
        epoch=reference_start,
        mean_motion=16.0,
        eccentricity=0.0005,
        bstar=0.05,
    )
    seconds = np.arange(0.0, 86401.0)
    errors, _ = direct.ecef(decaying, reference_start, seconds)
    failing = np.flatnonzero(errors)
    assert failing.size and errors[failing[0]] == 6, (
        "the setup needs a decay (code 6) in the window"
    )
    decay_s = seconds[failing[0]]

    end = reference_start + DAY
    table = find_passes([healthy[0], decaying, healthy[1]], stations, reference_start, end)
    alone = find_passes(healthy, stations, reference_start, end)

    assert len(table.problems) == 1
    problem = table.problems[0]
    assert "DECAYING" in problem and "99001" in problem
    assert re.search(r"\b6\b", problem)
    stamp = re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", problem)
    assert stamp, problem
    reported = datetime.fromisoformat(stamp.group(0).replace("Z", "+00:00"))
    reported_s = (reported - reference_start).total_seconds()
    coarse_step_s = SearchSettings().coarse_step_s
    assert decay_s - 1.0 <= reported_s <= decay_s + coarse_step_s

    others = table.satellite_index != 1
    np.testing.assert_array_equal(
        np.where(table.satellite_index[others] == 2, 1, 0), alone.satellite_index
    )
    for column in ("aos_unix_s", "los_unix_s", "max_elevation_deg", "antenna_index"):
        np.testing.assert_array_equal(getattr(table, column)[others], getattr(alone, column))
    assert not alone.problems
    dead = table.satellite_index == 1
    assert (_seconds(table, "aos_unix_s", reference_start)[dead] < decay_s).all()


#: A synthetic ISS-like satellite, for tests that do not need the reference population.
ISS_LIKE = OrbitalElements(
    object_name="ISS-LIKE",
    object_id="1998-067A",
    epoch=datetime(2024, 6, 1, tzinfo=UTC),
    mean_motion=15.5,
    eccentricity=0.0005,
    inclination=51.64,
    ra_of_asc_node=120.0,
    arg_of_pericenter=90.0,
    mean_anomaly=10.0,
    norad_cat_id=99003,
    bstar=2e-5,
)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "min_elevation", "field"),
    [
        (datetime(2024, 6, 1), datetime(2024, 6, 2, tzinfo=UTC), None, "start"),
        (datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 2), None, "end"),
        (datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC), None, "end"),
        (datetime(2024, 6, 2, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC), None, "end"),
        (datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 7, 2, 0, 0, 1, tzinfo=UTC), None, "end"),
        (
            datetime(2024, 6, 1, tzinfo=UTC),
            datetime(2024, 6, 2, tzinfo=UTC),
            95.0,
            "min_elevation_deg",
        ),
        (
            datetime(2024, 6, 1, tzinfo=UTC),
            datetime(2024, 6, 2, tzinfo=UTC),
            -1.0,
            "min_elevation_deg",
        ),
        (
            datetime(2024, 6, 1, tzinfo=UTC),
            datetime(2024, 6, 2, tzinfo=UTC),
            math.nan,
            "min_elevation_deg",
        ),
    ],
    ids=[
        "naive start",
        "naive end",
        "empty window",
        "reversed",
        "over 31 days",
        "95 deg",
        "-1 deg",
        "NaN",
    ],
)
def test_bad_input_raises_invalid_input_naming_the_field(
    stations, start, end, min_elevation, field
):
    """Bad windows and limits are rejected at the edge, naming the field."""
    with pytest.raises(InvalidInput) as caught:
        find_passes([ISS_LIKE], stations, start, end, min_elevation_deg=min_elevation)
    assert caught.value.field == field


def test_a_31_day_window_is_accepted(stations):
    """The longest window, exactly 31 days, is fine."""
    start = datetime(2024, 6, 1, tzinfo=UTC)
    table = find_passes([ISS_LIKE], stations, start, start + timedelta(days=31))
    assert len(table) > 0
    assert table.los_unix_s.max() > unix_seconds(start + timedelta(days=30))


# --- parallelism, empty inputs -------------------------------------------------------------------


def test_two_workers_give_the_same_table_as_one(population, stations, reference_start, monkeypatch):
    """Chunks run in two processes give a table identical, value for value, to one process,
    and progress reaches (total, total)."""
    satellites = population[::7]  # 864 satellites: three chunks, enough pairs for a pool
    end = reference_start + timedelta(hours=8)  # 8,640 satellite-antenna-days
    pools: list[Any] = []

    class RecordingPool(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    one = find_passes(satellites, stations, reference_start, end, workers=1)
    monkeypatch.setattr(engine_module, "ProcessPoolExecutor", RecordingPool)
    progress: list[tuple[int, int]] = []
    two = find_passes(
        satellites,
        stations,
        reference_start,
        end,
        workers=2,
        progress=lambda done, total: progress.append((done, total)),
    )

    assert pools == [2], "workers=2 must run a process pool"
    assert len(one) == len(two) > 1000
    for f in fields(PassTable):
        a, b = getattr(one, f.name), getattr(two, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
        else:
            assert a == b, f.name
    assert progress[-1] == (len(satellites), len(satellites))
    done = [d for d, _ in progress]
    assert done == sorted(done)


def test_empty_fleet_or_network_gives_an_empty_table(stations, reference_start):
    """No satellites, no stations, or stations without antennas: an empty table, no error."""
    end = reference_start + DAY
    bare = GroundStation("bare", "Bare", 10.0, 10.0)
    for satellites, network in (
        ([], stations),
        ([ISS_LIKE], []),
        ([ISS_LIKE], [bare]),
    ):
        table = find_passes(satellites, network, reference_start, end)
        assert len(table) == 0
        assert table.problems == ()
        assert table.to_json() == "[]"
        assert table.to_csv().count("\n") == 1


# --- the Sun at TCA ------------------------------------------------------------------------------


def test_sun_fields_agree_with_skyfield_de421(
    population, population_tle, stations, reference_start, timescale, ephemeris
):
    """At TCA of 400 passes: ``sunlit`` is Skyfield's is_sunlit (except within 1 s of a shadow
    edge) and ``sun_elevation_deg`` Skyfield's apparent Sun altitude within 0.1°."""
    from skyfield.api import EarthSatellite, wgs84

    indices = list(range(3, len(population), 97))
    table = find_passes(
        [population[i] for i in indices], stations, reference_start, reference_start + DAY
    )
    rows = np.sort(np.random.default_rng(21).choice(len(table), size=400, replace=False))
    earth, sun = ephemeris["earth"], ephemeris["sun"]
    tca_s = _seconds(table, "tca_unix_s", reference_start)

    compared = shadowed = 0
    for k in np.unique(table.satellite_index[rows]):
        mine = rows[table.satellite_index[rows] == k]
        record = population_tle[indices[int(k)]]
        satellite = EarthSatellite(record.line1, record.line2, record.name, timescale)
        lit = {
            shift: np.atleast_1d(
                satellite.at(timescale.utc(2024, 6, 1, 0, 0, tca_s[mine] + shift)).is_sunlit(
                    ephemeris
                )
            )
            for shift in (-1.0, 0.0, 1.0)
        }
        clear = (lit[-1.0] == lit[0.0]) & (lit[1.0] == lit[0.0])
        np.testing.assert_array_equal(table.sunlit[mine][clear], lit[0.0][clear])
        compared += int(clear.sum())
        shadowed += int((~lit[0.0]).sum())

        t = timescale.utc(2024, 6, 1, 0, 0, tca_s[mine])
        for i, row in enumerate(mine):
            station, _ = table.antennas[int(table.antenna_index[row])]
            site = wgs84.latlon(
                station.latitude_deg, station.longitude_deg, elevation_m=station.altitude_m
            )
            altitude = (earth + site).at(t[i]).observe(sun).apparent().altaz()[0].degrees
            assert table.sun_elevation_deg[row] == pytest.approx(altitude, abs=0.1)
    assert compared > 390
    assert shadowed > 20  # the sample exercises the shadow

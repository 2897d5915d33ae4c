"""Re-prediction on plain domain objects: the fit rule, and real elements against Skyfield.

The booked contacts are placed on passes that Skyfield predicts from a
demo-fleet satellite's elements; the new elements are the same (the fit must
be ``fits``), the same orbit a few degrees of mean anomaly behind (the pass
comes about a minute later: ``shifted``, with Skyfield's new times), or an
orbit that never reaches the station's latitude (``lost``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.ingest import demo_fleet
from groundlink.services.reprediction import (
    FIT_TOLERANCE_S,
    MAX_SEARCH_SPAN,
    BookedPass,
    check_booked_passes,
    classify_fit,
)
from groundlink.stations.model import Antenna, GroundStation
from skyfield_passes import ReferencePass, expected_fit, skyfield_passes

START = datetime(2030, 1, 2, tzinfo=UTC)
SITE = (78.23, 15.39, 500.0)  # Svalbard: a polar orbit passes many times a day
MIN_ELEVATION_DEG = 5.0
#: How close the predicted times must be to Skyfield's (the engine agrees to about 0.1 s).
REFERENCE_TOLERANCE_S = 0.5


def _elements(epoch: datetime = START - timedelta(hours=6), **changes: Any) -> OrbitalElements:
    """EO-SSO-036 of the demo fleet (sun-synchronous, 15.14 rev/day), moved to ``epoch``."""
    return replace(demo_fleet()[0], epoch=epoch, **changes)


def _station(*antennas: Antenna) -> GroundStation:
    return GroundStation(
        id="gs-svalbard",
        name="Svalbard",
        latitude_deg=SITE[0],
        longitude_deg=SITE[1],
        altitude_m=SITE[2],
        antennas=antennas or (Antenna(id="ant-1", min_elevation_deg=MIN_ELEVATION_DEG),),
    )


def _reference(
    timescale: Any, elements: OrbitalElements, start: datetime = START, min_el: float = 5.0
) -> list[ReferencePass]:
    return skyfield_passes(timescale, elements, SITE, start, start + timedelta(days=1), min_el)


def _booked(passes: list[ReferencePass], antenna_id: str = "ant-1") -> list[BookedPass]:
    return [BookedPass(f"ct-{i}", antenna_id, p.aos, p.los) for i, p in enumerate(passes)]


def _seconds(a: datetime | None, b: datetime) -> float:
    assert a is not None
    return abs((a - b).total_seconds())


# --- the rule ------------------------------------------------------------------------------------


def _classify(aos: float, los: float, passes: list[tuple[float, float]]) -> tuple[str, int | None]:
    starts = np.array([p[0] for p in passes], dtype=np.float64)
    ends = np.array([p[1] for p in passes], dtype=np.float64)
    return classify_fit(aos, los, starts, ends, tolerance_s=1.0)


@pytest.mark.parametrize(
    "passes, expected",
    [
        ([(100.0, 700.0)], ("fits", 0)),  # the pass covers the booking with room to spare
        ([(200.0, 600.0)], ("fits", 0)),  # exactly the booking
        ([(201.0, 599.0)], ("fits", 0)),  # inside by the tolerance at both ends
        ([(201.5, 600.0)], ("shifted", 0)),  # AOS later than booked by more than the tolerance
        ([(200.0, 598.5)], ("shifted", 0)),  # LOS earlier than booked
        ([(260.0, 660.0)], ("shifted", 0)),  # the whole pass a minute later
        ([(600.0, 900.0)], ("lost", None)),  # touches the booking's end: no overlap
        ([(0.0, 200.0), (1000.0, 1400.0)], ("lost", None)),
        ([], ("lost", None)),
        # Two overlap: the one overlapping longest is the booking's pass.
        ([(0.0, 250.0), (300.0, 640.0)], ("shifted", 1)),
    ],
)
def test_the_fit_rule(passes: list[tuple[float, float]], expected: tuple[str, int | None]) -> None:
    assert _classify(200.0, 600.0, passes) == expected


# --- real elements against Skyfield --------------------------------------------------------------


def test_unchanged_elements_fit_bookings_made_from_skyfields_passes(timescale: Any) -> None:
    elements = _elements()
    reference = _reference(timescale, elements)
    assert len(reference) >= 8
    results = check_booked_passes(_booked(reference), elements, [_station()])
    assert [r.contact_id for r in results] == [f"ct-{i}" for i in range(len(reference))]
    assert {r.fit for r in results} == {"fits"}
    for result, ref in zip(results, reference, strict=True):
        assert _seconds(result.predicted_aos, ref.aos) < REFERENCE_TOLERANCE_S
        assert _seconds(result.predicted_tca, ref.tca) < REFERENCE_TOLERANCE_S
        assert _seconds(result.predicted_los, ref.los) < REFERENCE_TOLERANCE_S


def test_a_pass_a_minute_late_is_shifted_to_skyfields_new_times(timescale: Any) -> None:
    old = _elements()
    new = replace(old, mean_anomaly=old.mean_anomaly - 4.0)  # about 64 s behind
    booked = _booked(_reference(timescale, old))
    moved = _reference(timescale, new)
    results = check_booked_passes(booked, new, [_station()])
    fits = [r.fit for r in results]
    assert fits.count("shifted") >= 8
    for booking, result in zip(booked, results, strict=True):
        fit, ref = expected_fit(booking.aos, booking.los, moved, FIT_TOLERANCE_S)
        assert result.fit == fit, booking
        if ref is not None:
            assert _seconds(result.predicted_aos, ref.aos) < REFERENCE_TOLERANCE_S
            assert _seconds(result.predicted_tca, ref.tca) < REFERENCE_TOLERANCE_S
            assert _seconds(result.predicted_los, ref.los) < REFERENCE_TOLERANCE_S
            assert (result.predicted_aos - booking.aos).total_seconds() > 30  # type: ignore[operator]


def test_an_orbit_that_never_reaches_the_station_loses_every_booking(timescale: Any) -> None:
    old = _elements()
    equatorial = replace(old, inclination=10.0)
    assert _reference(timescale, equatorial) == []
    results = check_booked_passes(_booked(_reference(timescale, old)), equatorial, [_station()])
    assert results and {r.fit for r in results} == {"lost"}
    assert all(r.predicted_aos is r.predicted_tca is r.predicted_los is None for r in results)


def test_half_an_orbit_away_is_lost(timescale: Any) -> None:
    old = _elements()
    opposite = replace(old, mean_anomaly=(old.mean_anomaly + 180.0) % 360.0)
    booked = _booked(_reference(timescale, old))
    results = check_booked_passes(booked, opposite, [_station()])
    moved = _reference(timescale, opposite)
    expected = [expected_fit(b.aos, b.los, moved, FIT_TOLERANCE_S)[0] for b in booked]
    assert [r.fit for r in results] == expected
    assert expected.count("lost") >= len(expected) - 1


def test_the_mission_profiles_minimum_elevation_applies(timescale: Any) -> None:
    elements = _elements()
    low = _reference(timescale, elements)
    high = _reference(timescale, elements, min_el=30.0)
    assert high and len(high) < len(low)
    booked = [replace(b, min_elevation_deg=30.0) for b in _booked(low)]
    results = check_booked_passes(booked, elements, [_station()])
    for booking, result in zip(booked, results, strict=True):
        fit, ref = expected_fit(booking.aos, booking.los, high, FIT_TOLERANCE_S)
        assert result.fit == fit
        if ref is not None:  # above 30° the pass is shorter than the booking made at 5°
            assert fit == "shifted"
            assert _seconds(result.predicted_aos, ref.aos) < REFERENCE_TOLERANCE_S
            assert _seconds(result.predicted_los, ref.los) < REFERENCE_TOLERANCE_S
    assert {r.fit for r in results} == {"shifted", "lost"}


def test_the_antennas_own_minimum_elevation_applies(timescale: Any) -> None:
    elements = _elements()
    booked = _booked(_reference(timescale, elements), antenna_id="ant-high")
    high = _reference(timescale, elements, min_el=30.0)
    station = _station(Antenna(id="ant-high", min_elevation_deg=30.0))
    results = check_booked_passes(booked, elements, [station])
    expected = [expected_fit(b.aos, b.los, high, FIT_TOLERANCE_S)[0] for b in booked]
    assert [r.fit for r in results] == expected
    assert "fits" not in expected


def test_bookings_weeks_apart_on_several_stations_are_each_checked(timescale: Any) -> None:
    # Bookings over three weeks (several searches) on three antennas of two stations, made
    # from each week's fresh elements, then checked against the first week's elements.
    troll = (-72.01, 2.53, 1270.0)
    sites = {"ant-1": SITE, "ant-2": SITE, "ant-troll": troll}
    north = _station(
        Antenna(id="ant-1", min_elevation_deg=MIN_ELEVATION_DEG),
        Antenna(id="ant-2", min_elevation_deg=MIN_ELEVATION_DEG),
    )
    south = GroundStation(
        id="gs-troll",
        name="Troll",
        latitude_deg=troll[0],
        longitude_deg=troll[1],
        altitude_m=troll[2],
        antennas=(Antenna(id="ant-troll", min_elevation_deg=MIN_ELEVATION_DEG),),
    )
    booked: list[BookedPass] = []
    for week in range(3):
        day = START + week * (MAX_SEARCH_SPAN + timedelta(days=1))
        fresh = _elements(epoch=day - timedelta(hours=6))
        for antenna, site in sites.items():
            ref = skyfield_passes(timescale, fresh, site, day, day + timedelta(hours=6), 5.0)[0]
            booked.append(BookedPass(f"ct-{week}-{antenna}", antenna, ref.aos, ref.los))
    elements = _elements()
    results = check_booked_passes(booked, elements, [north, south])
    assert [r.contact_id for r in results] == [b.contact_id for b in booked]
    for booking, result in zip(booked, results, strict=True):
        around = skyfield_passes(
            timescale,
            elements,
            sites[booking.antenna_id],
            booking.aos - timedelta(hours=2),
            booking.los + timedelta(hours=2),
            MIN_ELEVATION_DEG,
        )
        fit, ref = expected_fit(booking.aos, booking.los, around, FIT_TOLERANCE_S)
        assert result.fit == fit, booking
        if ref is not None:
            assert _seconds(result.predicted_aos, ref.aos) < REFERENCE_TOLERANCE_S
            assert _seconds(result.predicted_los, ref.los) < REFERENCE_TOLERANCE_S
    assert [r.fit for r in results[:3]] == ["fits"] * 3  # the first week's own elements
    assert {r.fit for r in results[3:]} != {"fits"}  # weeks later, the same elements differ


def test_an_antenna_missing_from_the_stations_is_an_error() -> None:
    booked = [BookedPass("ct-1", "ant-nowhere", START, START + timedelta(minutes=5))]
    with pytest.raises(KeyError):
        check_booked_passes(booked, _elements(), [_station()])

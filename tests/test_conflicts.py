"""The conflict rule: reserved spans, turnaround, slew, k simultaneous; the array finder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundlink.contacts.conflicts import (
    Conflict,
    ContactWindow,
    antenna_conflict,
    antenna_conflicts,
    find_antenna_conflicts,
    slew_time_s,
    spacecraft_conflicts,
)
from groundlink.errors import InvalidInput

T0 = datetime(2024, 6, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=150, deadline=None, database=None)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def window(
    start_s: float,
    end_s: float,
    antenna: str = "ant1",
    spacecraft: str = "sat-1",
    *,
    pre: float = 0,
    post: float = 0,
    cid: str = "",
    **pointing: float | None,
) -> ContactWindow:
    return ContactWindow(at(start_s), at(end_s), pre, post, antenna, spacecraft, cid, **pointing)


# --- the window ------------------------------------------------------------------------------


def test_reserved_span_adds_prepass_and_postpass() -> None:
    w = window(1000, 1600, pre=120, post=60)
    assert w.reserved_start == at(880)
    assert w.reserved_end == at(1660)
    assert w.duration_s == 600


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": datetime(2024, 6, 1)}, "start"),
        ({"end": T0}, "end"),
        ({"end": at(-5)}, "end"),
        ({"prepass_s": -1}, "prepass_s"),
        ({"postpass_s": float("nan")}, "postpass_s"),
        ({"antenna_id": ""}, "antenna_id"),
        ({"spacecraft_id": ""}, "spacecraft_id"),
        ({"start_azimuth_deg": 360.0}, "start_azimuth_deg"),
        ({"end_elevation_deg": 91.0}, "end_elevation_deg"),
    ],
)
def test_window_rejects_bad_fields(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "start": T0,
        "end": at(600),
        "prepass_s": 0,
        "postpass_s": 0,
        "antenna_id": "ant1",
        "spacecraft_id": "sat-1",
    }
    values.update(kwargs)
    with pytest.raises(InvalidInput) as error:
        ContactWindow(**values)  # type: ignore[arg-type]
    assert error.value.field == field


# --- slew ------------------------------------------------------------------------------------


def test_slew_takes_the_short_way_round_and_the_slower_axis() -> None:
    assert float(slew_time_s(350, 10, 10, 10, 2.0, 1.0)) == pytest.approx(10.0)  # 20° across N
    assert float(slew_time_s(10, 10, 350, 10, 2.0, 1.0)) == pytest.approx(10.0)
    assert float(slew_time_s(0, 0, 180, 0, 3.0, 3.0)) == pytest.approx(60.0)
    assert float(slew_time_s(90, 5, 100, 65, 2.0, 1.5)) == pytest.approx(40.0)  # el: 60°/1.5
    assert float(slew_time_s(123, 45, 123, 45, 1.0, 1.0)) == 0.0


def test_slew_broadcasts_and_agrees_with_a_scalar_loop() -> None:
    rng = np.random.default_rng(1)
    from_az, to_az = rng.uniform(0, 360, 50), rng.uniform(0, 360, (3, 1))
    from_el, to_el = rng.uniform(0, 90, 50), rng.uniform(0, 90, (3, 1))
    result = slew_time_s(from_az, from_el, to_az, to_el, 4.0, 2.0)
    assert result.shape == (3, 50)
    for i in range(3):
        for j in range(50):
            d = abs(float(to_az[i, 0]) - float(from_az[j])) % 360
            expected = max(min(d, 360 - d) / 4.0, abs(float(to_el[i, 0] - from_el[j])) / 2.0)
            assert result[i, j] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("az", "el", "field"), [(0.0, 1.0, "max_az_rate_deg_s"), (1.0, -2.0, "max_el_rate_deg_s")]
)
def test_slew_rejects_non_positive_rates(az: float, el: float, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        slew_time_s(0, 0, 10, 10, az, el)
    assert error.value.field == field


# --- antenna conflicts between two contacts --------------------------------------------------


def test_overlapping_reservations_conflict_and_touching_ones_do_not() -> None:
    a = window(0, 600, post=60, cid="A")  # reserved [0, 660)
    b = window(700, 1200, pre=40, cid="B")  # reserved [660, 1200): touches a
    assert antenna_conflict(a, b) is None
    c = window(700, 1200, pre=40.000001, cid="C")  # reserved from 659.999999
    found = antenna_conflict(a, c)
    assert found is not None
    assert (found.first, found.second) == (a, c)
    assert (found.start, found.end) == (c.reserved_start, a.reserved_end)


def test_different_antennas_never_conflict_on_antenna_grounds() -> None:
    assert antenna_conflict(window(0, 600), window(0, 600, "ant2"), turnaround_s=600) is None


def test_turnaround_is_required_between_reservations() -> None:
    a, b = window(0, 600, cid="A"), window(660, 900, cid="B")  # 60 s apart
    assert antenna_conflict(a, b, turnaround_s=60) is None  # exactly enough
    found = antenna_conflict(b, a, turnaround_s=90)  # order of the arguments does not matter
    assert found is not None
    assert (found.first, found.second) == (a, b)
    assert (found.start, found.end) == (at(660), at(690))
    assert found.required_gap_s == 90
    assert found.describe(b) == (
        "conflicts with contact A on antenna ant1 from 2024-06-01T00:11:00Z to "
        "2024-06-01T00:11:30Z (the antenna needs 90 s between contacts: "
        "90 s turnaround + 0 s slew)"
    )


def test_slew_from_los_to_the_next_aos_pointing_is_added_to_the_gap() -> None:
    a = window(0, 600, cid="A", end_azimuth_deg=350.0, end_elevation_deg=5.0)
    b = window(640, 900, cid="B", start_azimuth_deg=50.0, start_elevation_deg=5.0)
    # 60° of azimuth at 2°/s = 30 s; with 10 s turnaround the antenna needs 40 s: it has 40 s.
    rates = {"max_az_rate_deg_s": 2.0, "max_el_rate_deg_s": 1.0}
    assert antenna_conflict(a, b, turnaround_s=10, **rates) is None
    found = antenna_conflict(a, b, turnaround_s=10.5, **rates)
    assert found is not None and found.slew_s == pytest.approx(30.0)
    assert found.end == at(640.5)
    # Without rates, slew is not counted.
    assert antenna_conflict(a, b, turnaround_s=39) is None


def test_unknown_pointing_counts_as_a_half_turn_of_azimuth() -> None:
    a = window(0, 600, end_elevation_deg=5.0)  # no azimuth at LOS
    b = window(689, 900, start_azimuth_deg=10.0, start_elevation_deg=5.0)
    rates = {"max_az_rate_deg_s": 2.0, "max_el_rate_deg_s": 2.0}
    found = antenna_conflict(a, b, **rates)
    assert found is not None and found.slew_s == 90.0  # 180° / 2°/s > 89 s available
    assert antenna_conflict(a, window(690, 900), **rates) is None


def test_both_or_neither_slew_rate() -> None:
    with pytest.raises(InvalidInput):
        antenna_conflict(window(0, 10), window(5, 20), max_az_rate_deg_s=1.0)
    with pytest.raises(InvalidInput):
        antenna_conflict(window(0, 10), window(5, 20), turnaround_s=-1)


def test_conflict_message_without_a_subject_and_other() -> None:
    a, b = window(0, 600, cid="A"), window(300, 900, cid="B")
    found = antenna_conflict(a, b)
    assert found is not None
    assert found.describe() == (
        "contact A conflicts with contact B on antenna ant1 "
        "from 2024-06-01T00:05:00Z to 2024-06-01T00:10:00Z"
    )
    assert found.other(a) == b and found.other(b) == a
    with pytest.raises(InvalidInput):
        found.other(window(0, 5))


# --- spacecraft ------------------------------------------------------------------------------


def test_spacecraft_may_hand_over_between_stations_but_not_overlap() -> None:
    first = window(0, 600, "ant1", post=120, cid="A")
    handover = window(600, 1200, "ant2", pre=120, cid="B")  # passes touch; prepass overlaps
    overlap = window(1100, 1500, "ant3", cid="C")
    other = window(1100, 1500, "ant4", "sat-2", cid="D")
    conflicts = spacecraft_conflicts([first, handover, overlap, other])
    assert len(conflicts) == 1
    (found,) = conflicts
    assert (found.kind, found.first, found.second) == ("spacecraft", handover, overlap)
    assert (found.start, found.end) == (at(1100), at(1200))
    assert found.describe(overlap) == (
        "conflicts with contact B of spacecraft sat-1 from 2024-06-01T00:18:20Z to "
        "2024-06-01T00:20:00Z (at most 1 simultaneous contact)"
    )


def test_k_simultaneous_contacts_are_allowed() -> None:
    a, b, c = (
        window(0, 100, "x", cid="A"),
        window(10, 50, "y", cid="B"),
        window(20, 40, "z", cid="C"),
    )
    assert spacecraft_conflicts([a, b, c], 3) == []
    conflicts = spacecraft_conflicts([a, b, c], 2)
    assert [(f.first.contact_id, f.second.contact_id) for f in conflicts] == [
        ("A", "C"),
        ("B", "C"),
    ]
    assert {(f.start, f.end) for f in conflicts} == {(at(20), at(40))}
    assert spacecraft_conflicts([a, b, c], {"sat-1": 3}) == []
    with pytest.raises(InvalidInput):
        spacecraft_conflicts([a], {"sat-2": 1})
    with pytest.raises(InvalidInput):
        spacecraft_conflicts([a], 0)


# --- the array finder ------------------------------------------------------------------------


def test_find_antenna_conflicts_on_a_hand_made_schedule() -> None:
    starts = np.array([0.0, 100.0, 650.0, 0.0, 700.0, 660.0])
    ends = np.array([600.0, 200.0, 900.0, 600.0, 800.0, 700.0])
    antennas = np.array(["a", "a", "a", "b", "a", "b"])
    # a: 0 overlaps 1; 2 starts 50 s after 0 ends; 4 overlaps 2. b: 3 and 5 are 60 s apart.
    assert find_antenna_conflicts(starts, ends, antennas).tolist() == [[0, 1], [2, 4]]
    assert find_antenna_conflicts(starts, ends, antennas, 50.0).tolist() == [[0, 1], [2, 4]]
    assert find_antenna_conflicts(starts, ends, antennas, 60.0).tolist() == [[0, 1], [0, 2], [2, 4]]
    assert find_antenna_conflicts(starts, ends, antennas, 61.0).tolist() == [
        [0, 1],
        [0, 2],
        [2, 4],
        [3, 5],
    ]
    assert find_antenna_conflicts([], [], []).shape == (0, 2)


def test_find_antenna_conflicts_rejects_bad_arrays() -> None:
    with pytest.raises(InvalidInput):
        find_antenna_conflicts([0.0, 1.0], [1.0], ["a", "a"])
    with pytest.raises(InvalidInput):
        find_antenna_conflicts([0.0, 1.0], [1.0, 1.0], ["a", "a"])
    with pytest.raises(InvalidInput):
        find_antenna_conflicts([0.0, 1.0], [1.0, 2.0], ["a", "a"], -1.0)
    with pytest.raises(InvalidInput):
        find_antenna_conflicts([0.0, 1.0], [1.0, 2.0], ["a", "a"], max_el_rate_deg_s=1.0)


def _brute_force_pairs(
    windows: list[ContactWindow], turnaround: dict[str, float], rates: tuple[float, float] | None
) -> list[list[int]]:
    """The O(n²) reference: every pair asked of antenna_conflict."""
    pairs = []
    for i in range(len(windows)):
        for j in range(i + 1, len(windows)):
            kwargs: dict[str, float] = {"turnaround_s": turnaround[windows[i].antenna_id]}
            if rates is not None:
                kwargs |= {"max_az_rate_deg_s": rates[0], "max_el_rate_deg_s": rates[1]}
            if antenna_conflict(windows[i], windows[j], **kwargs) is not None:
                pairs.append([i, j])
    return pairs


angles = st.one_of(st.none(), st.integers(0, 359).map(float))
elevations = st.one_of(st.none(), st.integers(0, 90).map(float))


@st.composite
def schedules(draw: st.DrawFn) -> list[ContactWindow]:
    n = draw(st.integers(0, 40))
    result = []
    for k in range(n):
        start = draw(st.integers(0, 3000))
        result.append(
            window(
                start,
                start + draw(st.integers(1, 400)),
                draw(st.sampled_from(["a", "b", "c"])),
                draw(st.sampled_from(["s1", "s2"])),
                pre=draw(st.integers(0, 60)),
                post=draw(st.integers(0, 60)),
                cid=f"c{k}",
                start_azimuth_deg=draw(angles),
                start_elevation_deg=draw(elevations),
                end_azimuth_deg=draw(angles),
                end_elevation_deg=draw(elevations),
            )
        )
    return result


def _columns(windows: list[ContactWindow]) -> dict[str, np.ndarray]:
    def col(name: str) -> np.ndarray:
        return np.array([np.nan if getattr(w, name) is None else getattr(w, name) for w in windows])

    return {
        name: col(name)
        for name in (
            "start_azimuth_deg",
            "start_elevation_deg",
            "end_azimuth_deg",
            "end_elevation_deg",
        )
    }


@SETTINGS
@given(
    schedules(),
    st.fixed_dictionaries({k: st.sampled_from([0.0, 30.0, 45.5, 120.0]) for k in "abc"}),
    st.one_of(
        st.none(), st.tuples(st.sampled_from([1.0, 2.0, 6.0]), st.sampled_from([0.5, 1.0, 3.0]))
    ),
)
def test_vectorised_finder_matches_the_brute_force_reference(
    windows: list[ContactWindow],
    turnaround: dict[str, float],
    rates: tuple[float, float] | None,
) -> None:
    slew: dict[str, object] = {}
    if rates is not None:
        slew = {"max_az_rate_deg_s": rates[0], "max_el_rate_deg_s": rates[1], **_columns(windows)}
    pairs = find_antenna_conflicts(
        np.array([w.reserved_start.timestamp() for w in windows]),
        np.array([w.reserved_end.timestamp() for w in windows]),
        np.array([w.antenna_id for w in windows]),
        np.array([turnaround[w.antenna_id] for w in windows]),
        **slew,  # type: ignore[arg-type]
    )
    assert pairs.tolist() == _brute_force_pairs(windows, turnaround, rates)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10_000_000),  # start, µs
            st.integers(1, 3_000_000),  # duration, µs
            st.sampled_from(["a", "b"]),
            st.integers(0, 500_000),  # prepass, µs
        ),
        max_size=25,
    ),
    st.sampled_from([0.0, 0.25, 1.0]),
)
def test_antenna_conflicts_on_windows_match_pairwise_checks_to_the_microsecond(
    rows: list[tuple[int, int, str, int]], turnaround: float
) -> None:
    windows = [
        ContactWindow(
            T0 + timedelta(microseconds=s),
            T0 + timedelta(microseconds=s + d),
            p / 1e6,
            0,
            ant,
            "s",
            f"c{k}",
        )
        for k, (s, d, ant, p) in enumerate(rows)
    ]
    found = antenna_conflicts(windows, turnaround_s={"a": turnaround, "b": turnaround})
    expected = [
        antenna_conflict(windows[i], windows[j], turnaround_s=turnaround)
        for i in range(len(windows))
        for j in range(i + 1, len(windows))
    ]
    assert found == [c for c in expected if c is not None]


def _brute_force_spacecraft(
    windows: list[ContactWindow], k: int
) -> list[tuple[int, int, datetime, datetime]]:
    """The definition, literally: contacts already in progress when each one starts."""
    result = []
    for j, w in enumerate(windows):
        active = [
            i
            for i, a in enumerate(windows)
            if a.spacecraft_id == w.spacecraft_id
            and (a.start, i) < (w.start, j)
            and a.end > w.start
        ]
        if len(active) >= k:
            until = min([w.end] + [windows[i].end for i in active])
            result += [(i, j, w.start, until) for i in active]
    return result


@SETTINGS
@given(schedules(), st.integers(1, 3))
def test_spacecraft_sweep_matches_the_definition(windows: list[ContactWindow], k: int) -> None:
    index = {id(w): i for i, w in enumerate(windows)}
    found = spacecraft_conflicts(windows, k)
    got = sorted((index[id(c.first)], index[id(c.second)], c.start, c.end) for c in found)
    assert got == sorted(_brute_force_spacecraft(windows, k))
    if k == 1:  # exactly the overlapping pairs of passes
        overlapping = {
            (i, j)
            for i, a in enumerate(windows)
            for j, b in enumerate(windows)
            if i < j and a.spacecraft_id == b.spacecraft_id and a.start < b.end and b.start < a.end
        }
        assert {tuple(sorted(p[:2])) for p in got} == overlapping


def test_finder_scales_to_a_network_day_and_matches_a_numpy_brute_force() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    antennas = rng.integers(0, 60, n)
    starts = rng.uniform(0, 86_400.0, n).round(3)
    ends = starts + rng.uniform(120.0, 900.0, n).round(3)
    turnaround = 60.0
    pairs = find_antenna_conflicts(starts, ends, antennas, turnaround)
    expected = []
    for antenna in range(60):  # O(m²) per antenna, vectorised: the reference, not the method
        idx = np.flatnonzero(antennas == antenna)
        s, e = starts[idx], ends[idx]
        first_is_i = (s[:, None] < s[None, :]) | (
            (s[:, None] == s[None, :]) & (idx[:, None] < idx[None, :])
        )
        gap = np.where(first_is_i, s[None, :] - e[:, None], s[:, None] - e[None, :])
        hit = (gap < turnaround) & (idx[:, None] < idx[None, :])
        i, j = np.nonzero(hit)
        expected += list(zip(idx[i].tolist(), idx[j].tolist(), strict=True))
    assert len(pairs) > 1000
    assert sorted(map(tuple, pairs.tolist())) == sorted(expected)


def test_conflict_is_a_frozen_record() -> None:
    found = antenna_conflict(window(0, 10), window(5, 20))
    assert isinstance(found, Conflict)
    with pytest.raises(AttributeError):
        found.start = T0  # type: ignore[misc]

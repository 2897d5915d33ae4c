"""Available contacts: against the pass engine, the link budget and the conflict rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from groundlink.contacts.conflicts import find_antenna_conflicts
from groundlink.errors import InvalidInput
from groundlink.linkbudget import expected_volume_bytes
from groundlink.orbits.elements import OrbitalElements
from groundlink.passes.engine import find_passes
from groundlink.passes.track import sample_track, track_times
from groundlink.services.availability import (
    MAX_PAGE_SIZE,
    SORT_FIELDS,
    VOLUME_TOLERANCE_S,
    AntennaKey,
    AntennaReceiver,
    AvailableContacts,
    DownlinkLink,
    Interval,
    MissionProfile,
    Spacecraft,
    available_contacts,
    page_contacts,
)
from groundlink.stations.model import FrequencyBand, GroundStation

X_BAND = FrequencyBand("X", 8_025_000_000, 8_400_000_000)
S_BAND = FrequencyBand("S", 2_200_000_000, 2_290_000_000)
LINK = DownlinkLink(8_200_000_000, 20_000_000, eirp_dbw=10.0, data_rate_bps=50e6)
G_OVER_T_DB_K = 31.0
#: No pre/post-pass, no minimum duration: contacts are exactly the engine's passes.
PLAIN = MissionProfile(min_viable_contact_duration_s=0.0, prepass_s=0.0, postpass_s=0.0)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def fleet(population: tuple[OrbitalElements, ...]) -> tuple[Spacecraft, ...]:
    """Eight satellites spread over every shell of the population."""
    picked = population[:: len(population) // 8][:8]
    return tuple(Spacecraft(f"sc-{e.norad_cat_id}", e, LINK) for e in picked)


@pytest.fixture(scope="module")
def network(stations: tuple[GroundStation, ...]) -> tuple[GroundStation, ...]:
    """Six reference stations whose antennas receive X band."""
    return tuple(_with_bands(station, (X_BAND,)) for station in stations[:6])


def _with_bands(station: GroundStation, bands: tuple[FrequencyBand, ...]) -> GroundStation:
    return replace(station, antennas=tuple(replace(a, bands=bands) for a in station.antennas))


def _receivers(
    stations: Sequence[GroundStation], **settings: float
) -> dict[AntennaKey, AntennaReceiver]:
    g_over_t = settings.pop("g_over_t_db_k", G_OVER_T_DB_K)
    return {
        (s.id, a.id): AntennaReceiver(g_over_t, **settings)  # type: ignore[arg-type]
        for s in stations
        for a in s.antennas
    }


def _contacts(
    fleet: Sequence[Spacecraft],
    network: Sequence[GroundStation],
    start: datetime,
    profile: MissionProfile = PLAIN,
    *,
    maintenance: dict[AntennaKey, list[Interval]] | None = None,
    busy: dict[AntennaKey, list[Interval]] | None = None,
) -> AvailableContacts:
    return available_contacts(
        fleet,
        network,
        _receivers(network),
        profile,
        start,
        start + DAY,
        maintenance=maintenance,
        busy=busy,
        workers=1,
    )


@pytest.fixture(scope="module")
def plain(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> AvailableContacts:
    return _contacts(fleet, network, reference_start)


# --- the passes ------------------------------------------------------------------------------


def test_contacts_are_the_pass_engines_passes(
    plain: AvailableContacts,
    fleet: tuple[Spacecraft, ...],
    network: tuple[GroundStation, ...],
    reference_start: datetime,
) -> None:
    passes = find_passes(
        [s.elements for s in fleet], network, reference_start, reference_start + DAY, workers=1
    )
    assert len(plain) == len(passes) > 50

    def key(sat: np.ndarray, ant: np.ndarray, aos: np.ndarray) -> np.ndarray:
        return np.lexsort((aos, ant, sat))

    ours, theirs = (
        key(plain.spacecraft_index, plain.antenna_index, plain.aos_unix_s),
        key(passes.satellite_index, passes.antenna_index, passes.aos_unix_s),
    )
    np.testing.assert_array_equal(plain.spacecraft_index[ours], passes.satellite_index[theirs])
    np.testing.assert_array_equal(plain.antenna_index[ours], passes.antenna_index[theirs])
    for ours_column, theirs_column in (
        (plain.aos_unix_s, passes.aos_unix_s),
        (plain.tca_unix_s, passes.tca_unix_s),
        (plain.los_unix_s, passes.los_unix_s),
        (plain.max_elevation_deg, passes.max_elevation_deg),
        (plain.aos_azimuth_deg, passes.aos_azimuth_deg),
        (plain.los_azimuth_deg, passes.los_azimuth_deg),
    ):
        np.testing.assert_array_equal(ours_column[ours], theirs_column[theirs])
    assert np.all(np.diff(plain.aos_unix_s) >= 0)
    assert len(set(plain.contact_id.tolist())) == len(plain)
    assert not plain.trimmed.any()


def test_reserved_span_adds_prepass_and_postpass(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    profile = replace(PLAIN, prepass_s=120.0, postpass_s=45.0)
    contacts = _contacts(fleet[:2], network, reference_start, profile)
    np.testing.assert_allclose(contacts.aos_unix_s - contacts.reserved_start_unix_s, 120.0)
    np.testing.assert_allclose(contacts.reserved_end_unix_s - contacts.los_unix_s, 45.0)
    row = contacts.row(0)
    assert row.reserved_start == row.aos - timedelta(seconds=120)


def test_profile_elevation_raises_the_antenna_minimum(
    plain: AvailableContacts,
    fleet: tuple[Spacecraft, ...],
    network: tuple[GroundStation, ...],
    reference_start: datetime,
) -> None:
    high = _contacts(fleet, network, reference_start, replace(PLAIN, min_elevation_deg=30.0))
    assert 0 < len(high) < len(plain)
    assert high.max_elevation_deg.min() >= 30.0


def test_minimum_viable_duration(
    plain: AvailableContacts,
    fleet: tuple[Spacecraft, ...],
    network: tuple[GroundStation, ...],
    reference_start: datetime,
) -> None:
    profile = replace(PLAIN, min_viable_contact_duration_s=300.0)
    long = _contacts(fleet, network, reference_start, profile)
    assert long.duration_s.min() >= 300.0
    assert len(long) == int(np.sum(plain.duration_s >= 300.0)) > 0


# --- bands -----------------------------------------------------------------------------------


def test_only_antennas_whose_band_holds_the_channel(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    s_band_only = (_with_bands(network[0], (S_BAND,)), *network[1:])
    contacts = _contacts(fleet, s_band_only, reference_start)
    assert len(contacts) > 0
    assert network[0].id not in {contacts.antennas[i][0].id for i in contacts.antenna_index}

    # A channel reaching past the band's top edge is not received anywhere.
    edge = replace(LINK, center_frequency_hz=8_395_000_000, bandwidth_hz=20_000_000)
    off_band = [replace(s, downlink=edge) for s in fleet]
    assert len(_contacts(off_band, network, reference_start)) == 0


def test_profile_band_name_and_polarization(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    assert len(_contacts(fleet[:2], network, reference_start, replace(PLAIN, band_name="S"))) == 0
    receivers = {
        key: replace(r, polarizations=frozenset({"LEFT_HAND"}))
        for key, r in _receivers(network).items()
    }
    none = available_contacts(
        fleet[:2], network, receivers, PLAIN, reference_start, reference_start + DAY, workers=1
    )
    assert len(none) == 0


# --- maintenance and busy intervals ----------------------------------------------------------


def _key(contacts: AvailableContacts, i: int) -> AntennaKey:
    station, antenna = contacts.antennas[int(contacts.antenna_index[i])]
    return station.id, antenna.id


def test_blocked_intervals_trim_or_drop_and_never_conflict(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    profile = replace(PLAIN, prepass_s=60.0, postpass_s=30.0, min_viable_contact_duration_s=60.0)
    before = _contacts(fleet, network, reference_start, profile)
    longest = int(np.argmax(before.duration_s))
    key = _key(before, longest)
    aos, los = before.row(longest).aos, before.row(longest).los
    # Busy until 2 minutes after AOS: the pass must start after that plus its pre-pass.
    busy = {key: [(aos - timedelta(minutes=30), aos + timedelta(minutes=2))]}
    after = _contacts(fleet, network, reference_start, profile, busy=busy)
    same = np.flatnonzero(np.abs(after.los_unix_s - before.los_unix_s[longest]) < 1e-3)
    assert same.size == 1 and after.trimmed[same[0]]
    expected_aos = (aos + timedelta(minutes=2)).timestamp() + 60.0
    assert after.aos_unix_s[same[0]] == pytest.approx(expected_aos, abs=0.01)
    assert 0 < after.max_elevation_deg[same[0]] <= before.max_elevation_deg[longest] + 1e-4

    # Maintenance over the whole pass drops it.
    maintenance = {key: [(aos - timedelta(minutes=1), los + timedelta(minutes=1))]}
    dropped = _contacts(fleet, network, reference_start, profile, maintenance=maintenance)
    assert before.contact_id[longest] not in set(dropped.contact_id.tolist())
    assert len(dropped) < len(before)

    # Whatever is left never conflicts with a blocked interval, by the conflict rule itself.
    both = _contacts(fleet, network, reference_start, profile, busy=busy, maintenance=maintenance)
    _assert_clear(both, [*busy[key], *maintenance[key]], key)


def _assert_clear(contacts: AvailableContacts, blocked: list[Interval], key: AntennaKey) -> None:
    on_antenna = np.flatnonzero([_key(contacts, i) == key for i in range(len(contacts))])
    n = on_antenna.size
    pairs = find_antenna_conflicts(
        np.concatenate(
            [contacts.reserved_start_unix_s[on_antenna], [b[0].timestamp() for b in blocked]]
        ),
        np.concatenate(
            [contacts.reserved_end_unix_s[on_antenna], [b[1].timestamp() for b in blocked]]
        ),
        np.zeros(n + len(blocked), dtype=np.int64),
    )
    assert not np.any((pairs[:, 0] < n) & (pairs[:, 1] >= n))


# --- volume ----------------------------------------------------------------------------------


def test_volume_is_rate_times_duration_when_the_link_always_closes(
    plain: AvailableContacts,
) -> None:
    np.testing.assert_allclose(plain.volume_bytes, plain.duration_s * LINK.data_rate_bps / 8)


def test_volume_grows_with_eirp(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    volumes = []
    for eirp_dbw in (-12.0, -9.0, -6.0, -3.0, 0.0):
        link = replace(LINK, eirp_dbw=eirp_dbw)
        contacts = _contacts(
            [replace(s, downlink=link) for s in fleet[:3]], network, reference_start
        )
        volumes.append(contacts.volume_bytes)
    stacked = np.stack(volumes)
    assert np.all(np.diff(stacked, axis=0) >= 0)
    assert stacked[0].sum() < stacked[-1].sum()


def test_volume_matches_the_budget_integral_on_a_one_second_track(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    """A link that closes over only part of most passes, against sample_track at 1 s."""
    link = replace(LINK, eirp_dbw=-6.0)
    craft = [replace(s, downlink=link) for s in fleet]
    contacts = _contacts(craft, network, reference_start)
    receivers = _receivers(network)
    full = contacts.duration_s * link.data_rate_bps / 8
    partial = np.flatnonzero((contacts.volume_bytes > 0) & (contacts.volume_bytes < full))
    assert partial.size >= 20
    worst_s = 0.0
    for i in partial[:: max(1, partial.size // 40)].tolist():
        row = contacts.row(i)
        elements = craft[int(contacts.spacecraft_index[i])].elements
        station, _ = contacts.antennas[int(contacts.antenna_index[i])]
        track = sample_track(elements, station, track_times(row.aos, row.los, 1.0))
        reference = expected_volume_bytes(
            track.range_km,
            None,
            link.center_frequency_hz,
            link.transmitter,
            receivers[_key(contacts, i)].ground_receiver,
            times_s=track.unix_s,
        )
        worst_s = max(worst_s, abs(row.volume_bytes - reference) * 8 / link.data_rate_bps)
    print(f"volume vs 1 s budget integral: worst {worst_s:.3f} s of closing time")
    assert worst_s <= VOLUME_TOLERANCE_S


# --- pagination ------------------------------------------------------------------------------


@pytest.mark.parametrize("sort_by", SORT_FIELDS)
@pytest.mark.parametrize("descending", [False, True])
def test_paging_through_yields_every_contact_once_in_order(
    plain: AvailableContacts, sort_by: str, descending: bool
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = page_contacts(plain, sort_by=sort_by, descending=descending, cursor=cursor, limit=17)
        assert len(page.contacts) <= 17
        seen += page.contacts.contact_id.tolist()
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(plain.contact_id.tolist())
    key = {
        "aos": plain.aos_unix_s,
        "volume_bytes": plain.volume_bytes,
        "max_elevation_deg": plain.max_elevation_deg,
    }[sort_by]
    expected = np.lexsort((plain.contact_id, -key if descending else key))
    assert seen == plain.contact_id[expected].tolist()


def test_cursor_survives_contacts_disappearing(plain: AvailableContacts) -> None:
    first = page_contacts(plain, sort_by="max_elevation_deg", descending=True, limit=10)
    second = page_contacts(
        plain, sort_by="max_elevation_deg", descending=True, cursor=first.next_cursor, limit=10
    )
    # Contacts of the first page get booked: the listing without them continues alike.
    remaining = plain.select(~np.isin(plain.contact_id, first.contacts.contact_id))
    again = page_contacts(
        remaining, sort_by="max_elevation_deg", descending=True, cursor=first.next_cursor, limit=10
    )
    assert again.contacts.contact_id.tolist() == second.contacts.contact_id.tolist()


def test_a_short_listing_has_no_next_page(plain: AvailableContacts) -> None:
    page = page_contacts(plain.select(np.arange(5)), limit=MAX_PAGE_SIZE)
    assert len(page.contacts) == 5 and page.next_cursor is None


# --- bad input -------------------------------------------------------------------------------


def test_windows_longer_than_a_week_or_reversed_are_rejected(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    receivers = _receivers(network)
    with pytest.raises(InvalidInput) as long:
        available_contacts(
            fleet, network, receivers, PLAIN, reference_start, reference_start + timedelta(days=8)
        )
    assert long.value.field == "end" and "7 days" in long.value.expected
    with pytest.raises(InvalidInput) as reversed_window:
        available_contacts(fleet, network, receivers, PLAIN, reference_start, reference_start - DAY)
    assert reversed_window.value.field == "end" and "after start" in reversed_window.value.expected


def test_bad_requests_name_the_field(
    plain: AvailableContacts,
    fleet: tuple[Spacecraft, ...],
    network: tuple[GroundStation, ...],
    reference_start: datetime,
) -> None:
    with pytest.raises(InvalidInput) as unknown_sort:
        page_contacts(plain, sort_by="elevation")
    assert unknown_sort.value.field == "sort_by"
    assert unknown_sort.value.value == "elevation"
    assert "volume_bytes" in unknown_sort.value.expected
    for limit in (0, MAX_PAGE_SIZE + 1):
        with pytest.raises(InvalidInput, match="limit"):
            page_contacts(plain, limit=limit)
    with pytest.raises(InvalidInput, match="cursor"):
        page_contacts(plain, cursor="not a cursor!")
    other = page_contacts(plain, sort_by="aos", limit=3).next_cursor
    with pytest.raises(InvalidInput, match="sorted by volume_bytes"):
        page_contacts(plain, sort_by="volume_bytes", cursor=other)
    with pytest.raises(InvalidInput, match="receivers"):
        available_contacts(fleet, network, {}, PLAIN, reference_start, reference_start + DAY)
    with pytest.raises(InvalidInput, match="busy"):
        _contacts(fleet, network, reference_start, busy={("nowhere", "ant1"): []})
    with pytest.raises(InvalidInput, match="bandwidth_hz"):
        DownlinkLink(8_200_000_000, -1, 10.0, 1e6)
    with pytest.raises(InvalidInput, match="prepass_s"):
        MissionProfile(prepass_s=-5.0)

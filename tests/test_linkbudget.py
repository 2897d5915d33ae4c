"""The downlink budget against hand computations and a published budget; data volume of a pass."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from groundlink.errors import InvalidInput
from groundlink.linkbudget import (
    BOLTZMANN_DBW_K_HZ,
    DEFAULT_REQUIRED_EBN0_DB,
    GroundReceiver,
    Modcod,
    SpacecraftTransmitter,
    achievable_rate_bps,
    carrier_to_noise_density_dbhz,
    downlink_budget,
    ebn0_db,
    expected_volume_bytes,
    free_space_path_loss_db,
    link_margin_db,
)
from groundlink.orbits.tle import parse_tle
from groundlink.passes.track import sample_track, track_times
from groundlink.stations.model import Antenna, GroundStation

NO_LOSSES = {"atmospheric_loss_db": 0.0, "polarization_loss_db": 0.0, "pointing_loss_db": 0.0}


def test_free_space_path_loss_at_2_ghz_over_1000_km() -> None:
    # The textbook form: 20 log10(d_km) + 20 log10(f_MHz) + 32.45 = 60 + 66.02 + 32.45.
    hand = 20 * math.log10(1000) + 20 * math.log10(2000) + 32.45
    assert hand == pytest.approx(158.47, abs=0.005)
    loss = float(free_space_path_loss_db(1000.0, 2e9))
    assert loss == pytest.approx(hand, abs=0.01)  # 32.45 is 32.4478 rounded
    assert loss == pytest.approx(20 * math.log10(4 * math.pi * 1e6 * 2e9 / 299_792_458), rel=1e-12)


def test_boltzmann_in_decibels_is_minus_228_6() -> None:
    assert abs(BOLTZMANN_DBW_K_HZ - (-228.6)) < 0.001


def test_path_loss_grows_6_db_per_doubling_of_range_or_frequency_and_broadcasts() -> None:
    ranges = np.array([500.0, 1000.0, 2000.0])
    freqs = np.array([[2.2e9], [8.2e9], [16.4e9]])
    loss = free_space_path_loss_db(ranges, freqs)
    assert loss.shape == (3, 3)
    assert np.diff(loss, axis=1) == pytest.approx(20 * math.log10(2), abs=1e-9)
    assert loss[2] - loss[1] == pytest.approx(20 * math.log10(2), abs=1e-9)


def test_published_s_band_budget() -> None:
    """EURASIP J. Wireless Commun. Netw. (2020) 2020:60, Table 1: primary user link budget.

    2200 MHz, EIRP 38.3 dBm, free-space loss 162.2 dB, depointing loss 10 dB, ground
    antenna 38.2 dBi with 130 K system noise; 3.4 Mbit/s QPSK, R = 1/2; demodulation
    losses 6 dB and 7 dB required Eb/N0 (BER 1e-5) -> C/N0 81.8 dB-Hz, Eb/N0 16.5 dB,
    margin 3.5 dB. The table rounds to 0.1 dB.
    """
    frequency_hz = 2200e6
    # The range at which free-space loss is 162.2 dB, from the textbook form in km and MHz.
    range_km = 10 ** ((162.2 - 32.4478 - 20 * math.log10(2200)) / 20)
    transmitter = SpacecraftTransmitter(38.3 - 30.0, 3.4e6, required_ebn0_db=7.0 + 6.0)
    receiver = GroundReceiver(
        38.2 - 10 * math.log10(130.0),
        pointing_loss_db=10.0,
        atmospheric_loss_db=0.0,
        polarization_loss_db=0.0,
    )
    budget = downlink_budget(range_km, frequency_hz, transmitter, receiver)
    assert float(budget.path_loss_db) == pytest.approx(162.2, abs=0.001)
    assert float(budget.cn0_dbhz) == pytest.approx(81.8, abs=0.05)
    assert float(budget.ebn0_db) == pytest.approx(16.5, abs=0.06)
    assert float(budget.margin_db) == pytest.approx(3.5, abs=0.06)


def _slant_range_km(altitude_km: float, elevation_deg: float) -> float:
    """Spherical Earth (6378.137 km): the range to a satellite seen at an elevation."""
    earth, el = 6378.137, math.radians(elevation_deg)
    return math.sqrt((earth + altitude_km) ** 2 - (earth * math.cos(el)) ** 2) - earth * math.sin(
        el
    )


def test_x_band_leo_downlink_budget_by_hand() -> None:
    """A 600 km LEO satellite, X band 8.2 GHz, 10 dBW EIRP, 150 Mbit/s to a 30 dB/K station."""
    eirp_dbw, g_over_t, rate_bps, losses = 10.0, 30.0, 150e6, 0.5 + 0.3 + 0.3
    transmitter = SpacecraftTransmitter(eirp_dbw, rate_bps)
    receiver = GroundReceiver(g_over_t)  # the documented default losses: 0.5 + 0.3 + 0.3 dB
    assert receiver.losses_db == pytest.approx(losses)
    for elevation_deg, range_km in ((5.0, 2329.03), (90.0, 600.0)):
        assert _slant_range_km(600.0, elevation_deg) == pytest.approx(range_km, abs=0.01)
        fspl = 92.45 + 20 * math.log10(range_km) + 20 * math.log10(8.2)  # km, GHz form
        cn0 = eirp_dbw - fspl - losses + g_over_t + 228.6
        ebn0 = cn0 - 10 * math.log10(rate_bps)
        margin = ebn0 - 4.4
        budget = downlink_budget(range_km, 8.2e9, transmitter, receiver)
        assert float(budget.path_loss_db) == pytest.approx(fspl, abs=0.01)
        assert float(budget.cn0_dbhz) == pytest.approx(cn0, abs=0.01)
        assert float(budget.ebn0_db) == pytest.approx(ebn0, abs=0.01)
        assert float(budget.margin_db) == pytest.approx(margin, abs=0.01)
    # At 5°: FSPL 178.07 dB, C/N0 89.43 dB-Hz, Eb/N0 7.67 dB, margin 3.27 dB.
    assert float(link_margin_db(2329.03, 8.2e9, transmitter, receiver)) == pytest.approx(
        3.27, abs=0.01
    )
    assert DEFAULT_REQUIRED_EBN0_DB == 4.4


def test_lower_level_functions_agree_with_the_budget() -> None:
    ranges = np.linspace(500, 3000, 7)
    cn0 = carrier_to_noise_density_dbhz(
        ranges, 2.25e9, eirp_dbw=3.0, g_over_t_db_k=20.0, losses_db=1.5
    )
    budget = downlink_budget(
        ranges,
        2.25e9,
        SpacecraftTransmitter(3.0, 2e6, 2.5),
        GroundReceiver(20.0, 1.0, 0.25, 0.25),
    )
    assert cn0 == pytest.approx(budget.cn0_dbhz, abs=1e-12)
    assert ebn0_db(cn0, 2e6) == pytest.approx(budget.ebn0_db, abs=1e-12)
    assert budget.margin_db == pytest.approx(budget.ebn0_db - 2.5, abs=1e-12)


def test_margin_falls_with_range_frequency_and_rate_and_rises_with_power() -> None:
    receiver = GroundReceiver(25.0)
    transmitter = SpacecraftTransmitter(5.0, 10e6)
    ranges = np.linspace(400.0, 3500.0, 200)
    margin = link_margin_db(ranges, 8.1e9, transmitter, receiver)
    assert (np.diff(margin) < 0).all()
    assert (link_margin_db(ranges, 8.4e9, transmitter, receiver) < margin).all()
    assert link_margin_db(
        ranges, 8.1e9, SpacecraftTransmitter(5.0, 20e6), receiver
    ) == pytest.approx(margin - 10 * math.log10(2))
    assert link_margin_db(
        ranges, 8.1e9, SpacecraftTransmitter(8.0, 10e6), receiver
    ) == pytest.approx(margin + 3.0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: free_space_path_loss_db(0.0, 2e9), "range_km"),
        (lambda: free_space_path_loss_db([100.0, np.nan], 2e9), "range_km"),
        (lambda: free_space_path_loss_db(100.0, -1.0), "frequency_hz"),
        (lambda: SpacecraftTransmitter(10.0, 0.0), "data_rate_bps"),
        (lambda: SpacecraftTransmitter(float("inf"), 1e6), "eirp_dbw"),
        (lambda: GroundReceiver(20.0, atmospheric_loss_db=-0.5), "atmospheric_loss_db"),
        (lambda: Modcod("x", -1.0, 3.0), "data_rate_bps"),
    ],
)
def test_bad_link_inputs_name_the_field(call: object, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


# --- data volume -----------------------------------------------------------------------------

TX = SpacecraftTransmitter(eirp_dbw=4.0, data_rate_bps=100e6)
RX = GroundReceiver(g_over_t_db_k=31.0)
FREQ = 8.2e9


def test_margin_closes_near_and_not_far() -> None:
    # Hand check of the two ranges used below.
    for range_km, closes in ((1000.0, True), (3000.0, False)):
        margin = (
            4.0
            - (92.45 + 20 * math.log10(range_km) + 20 * math.log10(8.2))
            - 1.1
            + 31.0
            + 228.6
            - 80.0
            - 4.4
        )
        assert (margin >= 0) == closes
        assert float(link_margin_db(range_km, FREQ, TX, RX)) == pytest.approx(margin, abs=0.01)


def test_volume_of_a_synthetic_pass_by_hand() -> None:
    step_s = 5.0
    ranges = np.array([3000.0] * 10 + [1000.0] * 20 + [3000.0] * 10)
    # 20 closing samples, 5 s apart, switching half-way to the neighbours: 20 × 5 s at 100 Mbit/s.
    assert expected_volume_bytes(ranges, step_s, FREQ, TX, RX) == pytest.approx(100e6 * 100 / 8)
    # A pass that closes throughout delivers rate × its duration ((40 - 1) × 5 s).
    assert expected_volume_bytes(np.full(40, 1000.0), step_s, FREQ, TX, RX) == pytest.approx(
        100e6 * 195 / 8
    )
    assert expected_volume_bytes(np.full(40, 3000.0), step_s, FREQ, TX, RX) == 0.0
    assert expected_volume_bytes(np.array([1000.0]), step_s, FREQ, TX, RX) == 0.0
    # A demanded margin of 30 dB is never met.
    assert expected_volume_bytes(ranges, step_s, FREQ, TX, RX, min_margin_db=30.0) == 0.0


def test_volume_with_uneven_sample_times() -> None:
    ranges = np.array([3000.0, 1000.0, 1000.0, 1000.0, 3000.0])
    times = np.array([0.0, 10.0, 12.0, 20.0, 21.0])
    # Trapezoids: (10 × ½) + 2 + 8 + (1 × ½) = 15.5 s at 100 Mbit/s.
    assert expected_volume_bytes(ranges, None, FREQ, TX, RX, times_s=times) == pytest.approx(
        100e6 * 15.5 / 8
    )
    with pytest.raises(InvalidInput):
        expected_volume_bytes(ranges, 1.0, FREQ, TX, RX, times_s=times)
    with pytest.raises(InvalidInput):
        expected_volume_bytes(ranges, None, FREQ, TX, RX, times_s=times[::-1])
    with pytest.raises(InvalidInput):
        expected_volume_bytes(ranges, 0.0, FREQ, TX, RX)


def test_adaptive_volume_picks_the_fastest_modcod_that_closes() -> None:
    modcods = [
        Modcod("QPSK 1/2", 50e6, 1.0),
        Modcod("8PSK 3/4", 150e6, 6.0),
        Modcod("16APSK 5/6", 300e6, 9.0),
    ]

    def closes(range_km: float, m: Modcod) -> bool:
        cn0 = 7.0 - (92.45 + 20 * math.log10(range_km) + 20 * math.log10(8.2)) - 1.1 + 31.0 + 228.6
        return cn0 - 10 * math.log10(m.data_rate_bps) - m.required_ebn0_db >= 0

    ranges = np.array([9000.0, 3500.0, 1500.0, 800.0, 1500.0, 3500.0, 9000.0])
    hand = np.array(
        [max([m.data_rate_bps for m in modcods if closes(r, m)], default=0.0) for r in ranges]
    )
    assert len(set(hand.tolist())) >= 3, "the synthetic pass should exercise several modcods"
    tx = SpacecraftTransmitter(7.0, 1e6)  # rate and required Eb/N0 unused when adaptive
    rates = achievable_rate_bps(ranges, FREQ, tx, RX, modcods=modcods)
    assert rates.tolist() == hand.tolist()
    step = 10.0
    trapezoids = sum(step * (hand[i] + hand[i + 1]) / 2 for i in range(len(hand) - 1))
    adaptive = expected_volume_bytes(ranges, step, FREQ, tx, RX, modcods=modcods)
    assert adaptive == pytest.approx(trapezoids / 8)
    fixed = expected_volume_bytes(ranges, step, FREQ, SpacecraftTransmitter(7.0, 50e6, 1.0), RX)
    assert fixed == pytest.approx(50e6 * 5 * step / 8)  # closes at the 5 inner samples
    assert adaptive > fixed


def test_volume_of_a_real_pass_matches_the_time_inside_the_closing_range() -> None:
    line1 = "1 60001U 24001A   24152.23226756  .00002581  00000-0  14491-3 0  9999"
    line2 = "2 60001  53.0018   0.0066 0001558 112.2593  46.9635 15.05411635 34865"
    station = GroundStation("gs", "GS", 40.0, -3.7, 650.0, (Antenna("ant1", 5.0),))
    start = datetime(2024, 6, 1, tzinfo=UTC)
    times = track_times(start, start + timedelta(hours=12), 2.0)
    track = sample_track(parse_tle(line1, line2), station, times)
    # The highest pass of the 12 h: the run of samples above 5° around the smallest range.
    above = track.elevation_deg >= 5.0
    best = int(np.argmin(np.where(above, track.range_km, np.inf)))
    first = best - int(np.argmin(above[best::-1])) + 1
    last = best + int(np.argmin(above[best:]))
    ranges, unix_s = track.range_km[first:last], track.unix_s[first:last]
    assert above[first:last].all() and not above[first - 1] and not above[last]
    transmitter = SpacecraftTransmitter(4.0, 300e6)
    # Hand: the range at which the margin is 0, from the budget solved for d (km, GHz form).
    budget_db = 4.0 - 1.1 + 31.0 + 228.6 - 10 * math.log10(300e6) - 4.4
    closing_km = 10 ** ((budget_db - 92.45 - 20 * math.log10(8.2)) / 20)
    assert ranges.min() < closing_km < ranges.max(), "the pass should close only part of the time"
    inside_s = 2.0 * np.count_nonzero(ranges <= closing_km)
    volume = expected_volume_bytes(ranges, None, FREQ, transmitter, RX, times_s=unix_s)
    assert volume == pytest.approx(300e6 * inside_s / 8, abs=300e6 * 2.0 / 8)
    assert volume > 0.2 * 300e6 * (unix_s[-1] - unix_s[0]) / 8

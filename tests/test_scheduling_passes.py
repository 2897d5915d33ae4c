"""Instances from the pass engine: opportunities are its passes, bytes are the link budget's."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from groundlink.errors import InvalidInput
from groundlink.linkbudget import expected_volume_bytes
from groundlink.orbits.elements import OrbitalElements
from groundlink.passes.engine import find_passes
from groundlink.passes.track import sample_track, track_times
from groundlink.scheduling.from_available import PlanRequest
from groundlink.scheduling.model import DemandKind, Instance
from groundlink.scheduling.passes_to_instance import instance_from_passes
from groundlink.services.availability import (
    VOLUME_TOLERANCE_S,
    AntennaReceiver,
    DownlinkLink,
    Spacecraft,
)
from groundlink.stations.model import FrequencyBand, GroundStation

X_BAND = FrequencyBand("X", 8_025_000_000, 8_400_000_000)
S_BAND = FrequencyBand("S", 2_200_000_000, 2_290_000_000)
X_LINK = DownlinkLink(8_200_000_000, 20_000_000, eirp_dbw=10.0, data_rate_bps=50e6)
S_LINK = DownlinkLink(2_250_000_000, 2_000_000, eirp_dbw=0.0, data_rate_bps=2e6)
HOURS = 12.0
MIN_DURATION_S = 60.0


@pytest.fixture(scope="module")
def network(stations: tuple[GroundStation, ...]) -> tuple[GroundStation, ...]:
    """Four reference stations, antennas renamed unique; two take X only, two S and X."""
    picked = []
    for i, station in enumerate(stations[:4]):
        bands = (X_BAND,) if i < 2 else (S_BAND, X_BAND)
        antennas = tuple(
            replace(a, id=f"{station.id}-{k + 1}", bands=bands)
            for k, a in enumerate(station.antennas)
        )
        picked.append(replace(station, antennas=antennas))
    return tuple(picked)


@pytest.fixture(scope="module")
def fleet(population: tuple[OrbitalElements, ...]) -> tuple[Spacecraft, ...]:
    """Eight satellites across the shells; the last two downlink in S band."""
    chosen = population[:: len(population) // 8][:8]
    return tuple(
        Spacecraft(f"sc-{e.norad_cat_id}", e, X_LINK if i < 6 else S_LINK)
        for i, e in enumerate(chosen)
    )


def _receivers(network: tuple[GroundStation, ...]) -> dict[tuple[str, str], AntennaReceiver]:
    return {
        (s.id, a.id): AntennaReceiver(31.0, turnaround_s=30.0) for s in network for a in s.antennas
    }


def _requests(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...]
) -> list[PlanRequest]:
    requests = [
        PlanRequest(f"r-{c.id}", f"t{i % 3}", c.id, 4.0, min_duration_s=MIN_DURATION_S)
        for i, c in enumerate(fleet)
    ]
    requests[0] = replace(requests[0], stations=(network[0].id,), demand_kind=DemandKind.BYTES,
                          amount_per_day=2e10)  # fmt: skip
    requests[1] = replace(requests[1], excluded_stations=(network[1].id,), prepass_s=120.0)
    return requests


@pytest.fixture(scope="module")
def built(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> Instance:
    start = reference_start
    return instance_from_passes(
        fleet,
        network,
        _receivers(network),
        _requests(fleet, network),
        start,
        start + timedelta(hours=HOURS),
        maintenance={
            network[2].antennas[0].id: [(start + timedelta(hours=1), start + timedelta(hours=2))]
        },
        tenant_weights={"t0": 2.0},
        workers=1,
        name="test",
    )


def test_opportunities_are_the_pass_engines_compatible_passes(
    built: Instance,
    fleet: tuple[Spacecraft, ...],
    network: tuple[GroundStation, ...],
    reference_start: datetime,
) -> None:
    table = find_passes(
        [c.elements for c in fleet],
        network,
        reference_start,
        reference_start + timedelta(hours=HOURS),
        workers=1,
    )
    requests = {r.spacecraft_id: r for r in _requests(fleet, network)}
    epoch = reference_start.timestamp()
    expected = set()
    for i in range(len(table)):
        craft = fleet[int(table.satellite_index[i])]
        station, antenna = table.antennas[int(table.antenna_index[i])]
        request = requests[craft.id]
        s_band = craft.downlink is S_LINK
        if s_band and S_BAND not in antenna.bands:
            continue  # the antenna cannot receive the channel
        if request.stations and station.id not in request.stations:
            continue
        if station.id in request.excluded_stations:
            continue
        if table.duration_s[i] < MIN_DURATION_S:
            continue
        expected.add(
            (
                request.id,
                antenna.id,
                round(float(table.aos_unix_s[i]) - epoch, 3),
                round(float(table.los_unix_s[i]) - epoch, 3),
                round(float(table.aos_azimuth_deg[i]), 6),
                round(float(table.los_azimuth_deg[i]), 6),
            )
        )
    got = {
        (
            o.request,
            o.resources[0],
            round(o.start_s, 3),
            round(o.end_s, 3),
            round(o.start_azimuth_deg, 6),
            round(o.end_azimuth_deg, 6),
        )
        for o in built.opportunities
        if o.start_s > 0 and o.end_s < built.horizon_s  # passes cut by the window: azimuth too
    }
    cut = [o for o in built.opportunities if o.start_s == 0 or o.end_s == built.horizon_s]
    assert len(got) >= 20
    assert got == {e for e in expected if e[2] > 0 and e[3] < HOURS * 3600}
    assert len(built.opportunities) == len(expected)
    assert all(math.isnan(o.start_elevation_deg) for o in cut if o.start_s == 0)
    s_band_requests = {r.id for r in built.requests if r.bands == ("S",)}
    s_band_antennas = {a.id for s in network for a in s.antennas if S_BAND in a.bands}
    assert len(s_band_requests) == 2
    assert {o.resources[0] for o in built.opportunities if o.request in s_band_requests} <= (
        s_band_antennas
    )


def test_edge_pointing_matches_direct_sgp4(
    built: Instance,
    fleet: tuple[Spacecraft, ...],
    network: tuple[GroundStation, ...],
    direct: Any,
    sites_of: Any,
) -> None:
    """Azimuth and elevation at AOS and LOS: SGP4 evaluated there, and the antenna's limit."""
    craft_of = {f"r-{c.id}": c for c in fleet}
    site = {a.id: (s, a) for s in network for a in s.antennas}
    checked = 0
    for opportunity in built.opportunities:
        if math.isnan(opportunity.start_elevation_deg) or math.isnan(opportunity.end_elevation_deg):
            continue
        station, antenna = site[opportunity.resources[0]]
        azimuth, elevation = direct.look(
            craft_of[opportunity.request].elements,
            sites_of([station]),
            built.epoch,
            np.array([opportunity.start_s, opportunity.end_s]),
        )
        assert elevation[0] == pytest.approx(
            [opportunity.start_elevation_deg, opportunity.end_elevation_deg], abs=0.01
        )
        assert opportunity.start_elevation_deg == antenna.min_elevation_deg
        for got, want in zip(
            (opportunity.start_azimuth_deg, opportunity.end_azimuth_deg), azimuth[0], strict=True
        ):
            assert abs((got - want + 180.0) % 360.0 - 180.0) < 0.05
        checked += 1
    assert checked >= 10


def test_bytes_match_the_link_budget_on_a_one_second_track(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    """A weak link that closes over part of most passes: rate x duration = the budget's volume."""
    weak = replace(X_LINK, eirp_dbw=-6.0)
    craft = tuple(replace(c, downlink=weak) for c in fleet[:6])
    receivers = _receivers(network)
    instance = instance_from_passes(
        craft,
        network,
        receivers,
        [PlanRequest(f"r-{c.id}", "t", c.id, 1e10, DemandKind.BYTES) for c in craft],
        reference_start,
        reference_start + timedelta(hours=HOURS),
        workers=1,
    )
    full = [o.duration_s * weak.data_rate_bps / 8 for o in instance.opportunities]
    partial = [
        o
        for o, whole in zip(instance.opportunities, full, strict=True)
        if 0 < o.rate_bytes_s * o.duration_s < whole - 1.0
    ]
    assert len(partial) >= 10
    site = {a.id: s for s in network for a in s.antennas}
    craft_of = {f"r-{c.id}": c for c in craft}
    worst_s = 0.0
    for opportunity in partial[:: max(1, len(partial) // 25)]:
        aos = instance.at(opportunity.start_s)
        los = instance.at(opportunity.end_s)
        station = site[opportunity.resources[0]]
        track = sample_track(
            craft_of[opportunity.request].elements, station, track_times(aos, los, 1.0)
        )
        reference = expected_volume_bytes(
            track.range_km,
            None,
            weak.center_frequency_hz,
            weak.transmitter,
            receivers[(station.id, opportunity.resources[0])].ground_receiver,
            times_s=track.unix_s,
        )
        volume = opportunity.rate_bytes_s * opportunity.duration_s
        worst_s = max(worst_s, abs(volume - reference) * 8 / weak.data_rate_bps)
    assert worst_s <= VOLUME_TOLERANCE_S


def test_resources_requests_and_maintenance(
    built: Instance, network: tuple[GroundStation, ...]
) -> None:
    antennas = [a for s in network for a in s.antennas]
    assert [r.id for r in built.resources] == [a.id for a in antennas]
    first = built.resources[0]
    assert (first.turnaround_s, first.bands, first.max_az_rate_deg_s) == (30.0, ("X",), 3.0)
    down = next(r for r in built.resources if r.id == network[2].antennas[0].id)
    assert [(m.start_s, m.end_s) for m in down.maintenance] == [(3600.0, 7200.0)]
    assert sum(len(r.maintenance) for r in built.resources) == 1
    by_id = {r.id: r for r in built.requests}
    bytes_request = next(r for r in built.requests if r.demand_kind is DemandKind.BYTES)
    assert bytes_request.demand == pytest.approx(2e10 * HOURS / 24)
    assert all(
        r.demand == pytest.approx(4.0 * HOURS / 24)
        for r in by_id.values()
        if r is not bytes_request
    )
    assert sum(1 for r in built.requests if r.setup_s == 120.0) == 1
    assert dict(built.tenant_weights) == {"t0": 2.0}
    assert all(o.rate_bytes_s > 0 for o in built.opportunities)


def test_bad_input_is_named(
    fleet: tuple[Spacecraft, ...], network: tuple[GroundStation, ...], reference_start: datetime
) -> None:
    end = reference_start + timedelta(hours=1)
    receivers = _receivers(network)
    same_ids = tuple(
        replace(s, antennas=tuple(replace(a, id="ant1") for a in s.antennas)) for s in network
    )
    with pytest.raises(InvalidInput) as caught:
        instance_from_passes(fleet, same_ids, receivers, [], reference_start, end)
    assert (caught.value.field, caught.value.value) == ("stations[].antennas[].id", "ant1")
    with pytest.raises(InvalidInput) as caught:
        instance_from_passes(
            fleet, network, receivers, [PlanRequest("r", "t", "nobody", 1.0)], reference_start, end
        )
    assert caught.value.field == "requests[0].spacecraft_id"
    with pytest.raises(InvalidInput) as caught:
        instance_from_passes(
            fleet,
            network,
            receivers,
            [PlanRequest("r", "t", fleet[0].id, 1.0)],
            reference_start,
            end,
            maintenance={"nowhere-1": [(reference_start, end)]},
            workers=1,
        )
    assert (caught.value.field, caught.value.value) == ("maintenance", "nowhere-1")

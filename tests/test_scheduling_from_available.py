"""Available contacts become opportunities: stations, time limits, durations, rates."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from groundlink.scheduling.from_available import PlanRequest, instance_from_available
from groundlink.scheduling.model import DemandKind
from groundlink.services.availability import AvailableContacts
from groundlink.stations.model import Antenna, GroundStation

START = datetime(2026, 12, 1, tzinfo=UTC)
END = START + timedelta(days=2)


def _contacts() -> AvailableContacts:
    north = GroundStation("gs-n", "North", 78.2, 15.4, 500.0, (Antenna("ant-n1"),))
    south = GroundStation(
        "gs-s", "South", -72.0, 2.5, 1300.0, (Antenna("ant-s1", max_slew_azimuth_deg_s=5.0),)
    )
    t0 = START.timestamp()
    aos = np.array([t0 + 3600, t0 + 7200, t0 + 90000, t0 + 10000])
    los = aos + np.array([600.0, 300.0, 480.0, 50.0])
    n = aos.size
    return AvailableContacts(
        spacecraft_ids=("sc-a", "sc-b"),
        antennas=((north, north.antennas[0]), (south, south.antennas[0])),
        spacecraft_index=np.array([0, 0, 0, 1]),
        antenna_index=np.array([0, 1, 0, 0]),
        contact_id=np.array([f"c{i}" for i in range(n)], dtype=object),
        aos_unix_s=aos,
        tca_unix_s=(aos + los) / 2,
        los_unix_s=los,
        max_elevation_deg=np.full(n, 40.0),
        aos_azimuth_deg=np.array([10.0, 20.0, 30.0, 40.0]),
        tca_azimuth_deg=np.full(n, 90.0),
        los_azimuth_deg=np.array([170.0, 160.0, 150.0, 140.0]),
        reserved_start_unix_s=aos - 120,
        reserved_end_unix_s=los + 60,
        volume_bytes=np.array([6e9, 3e9, 4.8e9, 1e8]),
        trimmed=np.zeros(n, bool),
    )


def test_each_contact_of_the_requests_spacecraft_becomes_an_opportunity() -> None:
    request = PlanRequest("r0", "t1", "sc-a", 2, prepass_s=120, postpass_s=60)
    instance, rows = instance_from_available(_contacts(), [request], START, END, {"ant-n1": 30})
    assert [o.resources for o in instance.opportunities] == [("ant-n1",), ("ant-s1",), ("ant-n1",)]
    assert list(rows) == [0, 1, 2]
    first = instance.opportunities[0]
    assert (first.start_s, first.end_s) == (3600.0, 4200.0)
    assert first.rate_bytes_s == pytest.approx(6e9 / 600)
    assert (first.start_azimuth_deg, first.end_azimuth_deg) == (10.0, 170.0)
    (req,) = instance.requests
    assert req.demand == pytest.approx(4.0)  # 2 a day over 2 days
    assert (req.setup_s, req.teardown_s) == (120, 60)
    by_id = {r.id: r for r in instance.resources}
    assert by_id["ant-n1"].turnaround_s == 30 and by_id["ant-s1"].turnaround_s == 0
    assert by_id["ant-s1"].max_az_rate_deg_s == 5.0 and by_id["ant-s1"].station == "gs-s"


def test_stations_time_limits_and_minimum_duration_filter_and_clip() -> None:
    only_north = PlanRequest("r0", "t1", "sc-a", 1, stations=("gs-n",))
    not_north = PlanRequest("r1", "t1", "sc-a", 1, excluded_stations=("gs-n",))
    clipped = PlanRequest(
        "r2",
        "t1",
        "sc-a",
        1,
        demand_kind=DemandKind.SECONDS,
        min_duration_s=200,
        earliest=START + timedelta(seconds=3900),
        latest=START + timedelta(hours=20),
    )
    too_long = PlanRequest("r3", "t2", "sc-b", 1, min_duration_s=60)
    instance, rows = instance_from_available(
        _contacts(), [only_north, not_north, clipped, too_long], START, END, {}
    )
    by_request: dict[str, list[int]] = {}
    for opportunity, row in zip(instance.opportunities, rows, strict=True):
        by_request.setdefault(opportunity.request, []).append(int(row))
    assert by_request == {"r0": [0, 2], "r1": [1], "r2": [0, 1]}  # sc-b's 50 s pass is too short
    cut = next(o for o in instance.opportunities if o.request == "r2")
    assert (cut.start_s, cut.end_s) == (3900.0, 4200.0)
    assert math.isnan(cut.start_azimuth_deg) and cut.end_azimuth_deg == 170.0

"""The typed Python client against the real app in-process (SQLite): every method, every error."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from client_fixtures import ISS, InProcess, in_process
from db_fixtures import NOW
from groundlink.api.schemas import AvailableContactOut, MissionProfileOut
from groundlink.client import ApiError, ApiUnreachable, GroundlinkClient
from groundlink.contacts.states import ContactStatus
from groundlink.errors import GroundlinkError
from groundlink.orbits.ingest import demo_fleet
from skyfield_passes import skyfield_passes
from test_api_available import XBAND, XBAND_LINK

DAY = NOW + timedelta(days=1)
#: Svalbard: latitude, longitude (degrees), height (m).
SITE = (78.23, 15.39, 500.0)
#: How far a pass's AOS, TCA and LOS may be from Skyfield's (the engine agrees to about 0.1 s).
PASS_TOLERANCE_S = 1.0


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("client")) as found:
        yield found


def test_spacecraft_round_trip(app: InProcess) -> None:
    with app.client() as api:
        link = {
            "direction": "downlink",
            "center_frequency_hz": 8_200_000_000,
            "bandwidth_hz": 20_000_000,
            "polarization": "RIGHT_HAND",
        }
        sat = api.create_spacecraft("ISS", norad_id=25544, rf_links=[link])
        assert sat.name == "ISS" and sat.norad_id == 25544
        assert sat.rf_links[0].center_frequency_hz == 8_200_000_000
        assert sat.id in [s.id for s in api.list_spacecraft()]
        assert api.get_spacecraft(sat.id) == sat
        renamed = api.update_spacecraft(sat.id, name="ZARYA")
        assert renamed.name == "ZARYA"

        ephemeris = api.add_ephemeris(sat.id, "\n".join(ISS), priority=3)
        assert (ephemeris.version, ephemeris.source_format, ephemeris.priority) == (1, "tle", 3)
        assert [e.id for e in api.list_ephemerides(sat.id)] == [ephemeris.id]

        api.delete_spacecraft(sat.id)
        with pytest.raises(ApiError) as caught:
            api.get_spacecraft(sat.id)
    assert caught.value.status == 404
    assert caught.value.code == "not_found"
    assert sat.id in caught.value.message
    assert isinstance(caught.value, GroundlinkError)


def test_an_idempotent_create_returns_the_first_result(app: InProcess) -> None:
    with app.client() as api:
        first = api.create_spacecraft("twin", idempotency_key="same-key-1")
        again = api.create_spacecraft("twin", idempotency_key="same-key-1")
    assert again.id == first.id


def test_ground_stations(app: InProcess) -> None:
    station = app.station()
    with app.client() as api:
        stations = api.list_ground_stations()
        assert station["id"] in [s.id for s in stations]
        found = api.get_ground_station(station["id"])
    assert [a.id for a in found.antennas] == [station["antenna"], station["antenna2"]]


def test_contacts_reserve_list_pages_get_cancel(app: InProcess) -> None:
    station = app.station()
    with app.client() as api:
        sat = api.create_spacecraft("pager")
        booked = [
            api.reserve_contact(
                sat.id,
                station["antenna"],
                DAY + timedelta(hours=hour),
                DAY + timedelta(hours=hour, minutes=10),
                prepass_s=60,
                postpass_s=60,
            )
            for hour in range(5)
        ]
        assert booked[0].status is ContactStatus.SCHEDULED
        page = api.list_contacts_page(spacecraft_id=sat.id, max_results=2)
        assert len(page.items) == 2 and page.next_token
        listed = list(api.list_contacts(spacecraft_id=sat.id, max_results=2))
        assert [c.id for c in listed] == [c.id for c in booked]
        assert api.get_contact(booked[1].id) == booked[1]

        cancelled = api.cancel_contact(booked[1].id)
        assert cancelled.status is ContactStatus.CANCELLED
        scheduled = list(api.list_contacts(spacecraft_id=sat.id, status=["SCHEDULED"]))
        assert booked[1].id not in [c.id for c in scheduled] and len(scheduled) == 4


def test_a_conflict_is_a_409_api_error_with_the_envelope(app: InProcess) -> None:
    station = app.station()
    with app.client() as api:
        sat = api.create_spacecraft("busy")
        first = api.reserve_contact(
            sat.id, station["antenna"], DAY + timedelta(hours=9), DAY + timedelta(hours=9.2)
        )
        with pytest.raises(ApiError) as caught:
            api.reserve_contact(
                sat.id, station["antenna"], DAY + timedelta(hours=9.1), DAY + timedelta(hours=9.3)
            )
    error = caught.value
    assert (error.status, error.code) == (409, "contact_conflict")
    assert error.body["error"]["conflicting_contact_id"] == first.id
    assert str(error).startswith("409 contact_conflict: ")


def test_validation_errors_are_422_naming_the_field(app: InProcess) -> None:
    with app.client() as api, pytest.raises(ApiError) as caught:
        api.create_spacecraft("x", max_simultaneous_contacts=0)
    assert (caught.value.status, caught.value.code) == (422, "invalid_input")
    assert "max_simultaneous_contacts" in caught.value.message


def test_keys_create_list_revoke(app: InProcess) -> None:
    with app.client() as api:
        created = api.create_key("ci", ["read"])
        assert created.key and created.scopes == ["read"]
        assert created.id in [k.id for k in api.list_keys()]
        with app.client(created.key) as reader:
            assert reader.list_spacecraft() is not None
            revoked = api.revoke_key(created.id)
            assert revoked.revoked_at is not None
            with pytest.raises(ApiError) as caught:
                reader.list_spacecraft()
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")


def test_another_tenants_object_is_404(app: InProcess) -> None:
    with app.client() as mine, app.client(app.other_key) as theirs:
        sat = mine.create_spacecraft("private")
        with pytest.raises(ApiError) as caught:
            theirs.get_spacecraft(sat.id)
    assert caught.value.status == 404


def test_an_unreachable_server_is_one_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = GroundlinkClient("http://127.0.0.1:9", "key", transport=httpx.MockTransport(refuse))
    with client, pytest.raises(ApiUnreachable, match="cannot reach the groundlink API"):
        client.list_keys()


def test_a_non_json_error_keeps_its_text() -> None:
    def bad_gateway(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="upstream down")

    client = GroundlinkClient("http://x", "key", transport=httpx.MockTransport(bad_gateway))
    with client, pytest.raises(ApiError) as caught:
        client.list_spacecraft()
    assert (caught.value.status, caught.value.message) == (502, "upstream down")


def test_mission_profiles_and_available_contacts(app: InProcess, timescale: Any) -> None:
    """The client lists the passes that Skyfield finds for the same elements, site and window."""
    with app.client(app.admin_key) as admin:
        station = admin.create_ground_station(
            {
                "name": f"client-{secrets.token_hex(4)}",
                "latitude_deg": SITE[0],
                "longitude_deg": SITE[1],
                "altitude_m": SITE[2],
                "antennas": [{"name": "dish-1", "g_over_t_db_k": 31.0, "bands": [XBAND]}],
            }
        )
    elements = replace(demo_fleet()[0], epoch=DAY - timedelta(hours=6))
    start, end = DAY, DAY + timedelta(days=1)
    with app.client() as api:
        profile = api.create_mission_profile({"name": "x-band", "min_elevation_deg": 10})
        assert isinstance(profile, MissionProfileOut)
        assert profile.min_elevation_deg == 10
        assert profile.id in [p.id for p in api.list_mission_profiles()]
        assert api.get_mission_profile(profile.id).name == "x-band"

        sat = api.create_spacecraft("avail", rf_links=[XBAND_LINK])
        api.add_ephemeris(sat.id, json.dumps(elements.to_omm()), format="json")
        listing = {"spacecraft_id": sat.id, "station_id": station.id}
        page = api.available_contacts_page(
            start, end, mission_profile_id=profile.id, max_results=1, **listing
        )
        assert page.skipped == [] and len(page.items) == 1 and page.next_token
        every = list(
            api.available_contacts(
                start, end, mission_profile_id=profile.id, max_results=2, **listing
            )
        )
        newest_first = list(
            api.available_contacts(start, end, sort_by="aos", descending=True, **listing)
        )

        api.delete_mission_profile(profile.id)
        with pytest.raises(ApiError) as caught:
            api.get_mission_profile(profile.id)
    assert caught.value.status == 404

    reference = [
        found
        for found in skyfield_passes(timescale, elements, SITE, start, end, 10.0)
        if (found.los - found.aos).total_seconds() >= profile.min_viable_contact_duration_s
    ]
    assert len(reference) >= 3  # a polar orbit over Svalbard: several passes a day
    assert page.items[0] == every[0]
    assert all(isinstance(item, AvailableContactOut) for item in every)
    assert {(i.spacecraft_id, i.antenna_id) for i in every} == {(sat.id, station.antennas[0].id)}
    # Passes cut by the window's edges are listed (trimmed to it); Skyfield leaves them out.
    whole = [i for i in every if start < i.aos and i.los < end]
    assert len(whole) == len(reference)
    for item, found in zip(whole, reference, strict=True):
        for ours, theirs in ((item.aos, found.aos), (item.tca, found.tca), (item.los, found.los)):
            assert abs((ours - theirs).total_seconds()) < PASS_TOLERANCE_S
        assert item.max_elevation_deg > 10 and item.volume_bytes > 0
    # Without a profile the minimum is 0°: each pass above 10° lies within one above 0°.
    assert [i.aos for i in newest_first] == sorted((i.aos for i in newest_first), reverse=True)
    for item in every:
        assert any(low.aos < item.aos and item.los < low.los for low in newest_first)

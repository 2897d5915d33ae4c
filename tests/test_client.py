"""The typed Python client against the real app in-process (SQLite): every method, every error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from client_fixtures import ISS, InProcess, in_process
from db_fixtures import NOW
from groundlink.api.schemas import AvailableContactOut, MissionProfileOut
from groundlink.client import ApiError, ApiUnreachable, GroundlinkClient
from groundlink.contacts.states import ContactStatus
from groundlink.errors import GroundlinkError

DAY = NOW + timedelta(days=1)


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


def test_mission_profiles_and_available_contacts(app: InProcess) -> None:
    app.station()
    with app.client() as api:
        profile = api.create_mission_profile({"name": "x-band", "min_elevation_deg": 10})
        assert isinstance(profile, MissionProfileOut)
        assert profile.min_elevation_deg == 10
        assert profile.id in [p.id for p in api.list_mission_profiles()]
        assert api.get_mission_profile(profile.id).name == "x-band"

        sat = api.create_spacecraft("avail")
        api.add_ephemeris(sat.id, "\n".join(ISS))
        start, end = DAY, DAY + timedelta(days=1)
        page = api.available_contacts_page(
            start, end, spacecraft_id=sat.id, mission_profile_id=profile.id, max_results=1
        )
        assert isinstance(page.items, list) and isinstance(page.skipped, list)
        every = list(
            api.available_contacts(
                start, end, spacecraft_id=[sat.id], sort_by="aos", descending=True, max_results=2
            )
        )
        assert all(isinstance(item, AvailableContactOut) for item in every)
        assert all(item.spacecraft_id == sat.id for item in every)
        assert [item.aos for item in every] == sorted((i.aos for i in every), reverse=True)

        api.delete_mission_profile(profile.id)
        with pytest.raises(ApiError) as caught:
            api.get_mission_profile(profile.id)
    assert caught.value.status == 404

"""The shared network as API resources: antennas, horizon masks, maintenance windows, limits.

Every test runs on SQLite and on PostgreSQL (``database_url``). Maintenance
windows are checked where they matter: a booking inside one is refused, the
available contacts are cut around it, and the booked contacts it overlaps are
listed (not cancelled).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api_fixtures import Api, api_for
from db_fixtures import NOW
from groundlink.adapters.db.models import AuditRecord
from groundlink.contacts.conflicts import iso_z
from groundlink.orbits.ingest import demo_fleet

XBAND = {"name": "X", "min_hz": 8_025_000_000, "max_hz": 8_400_000_000, "direction": "downlink"}
XBAND_LINK = {
    "direction": "downlink",
    "center_frequency_hz": 8_212_500_000,
    "bandwidth_hz": 15_000_000,
    "polarization": "RIGHT_HAND",
    "eirp_dbw": 12.5,
    "data_rate_bps": 150e6,
}
MASK = {"azimuth_deg": [0.0, 90.0, 180.0, 270.0], "elevation_deg": [5.0, 3.0, 8.5, 4.0]}
#: A day after the tests' clock: far enough for every booking's lock time.
DAY = NOW + timedelta(days=1)


def at(minutes: float) -> datetime:
    return DAY + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def _audit_actions(api: Api, object_id: str) -> list[tuple[str, str | None]]:
    with api.sessions() as session:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.object_id == object_id).order_by(AuditRecord.id)
        )
        return [(row.action, row.api_key_id) for row in rows]


def _book(api: Api, headers: dict[str, str], antenna_id: str, **fields: Any) -> Any:
    craft = api.spacecraft(headers)
    body = {"spacecraft_id": craft["id"], "antenna_id": antenna_id, **fields}
    return api.client.post("/v1/contacts", json=body, headers=headers)


def _maintenance(api: Api, station_id: str, **fields: Any) -> Any:
    body = {key: iso_z(v) if isinstance(v, datetime) else v for key, v in fields.items()}
    return api.client.post(
        f"/v1/ground-stations/{station_id}/maintenance", json=body, headers=api.admin
    )


# --- scopes --------------------------------------------------------------------------------------


def test_operators_read_the_network_but_only_admins_change_it(api: Api) -> None:
    station = api.station()
    antenna = station["antennas"][0]
    base = f"/v1/ground-stations/{station['id']}"
    operator = api.tenant(("read", "book"))

    writes = [
        ("POST", f"{base}/antennas", {"name": "dish-9"}),
        ("POST", f"{base}/maintenance", {"start": iso_z(at(0)), "end": iso_z(at(60))}),
        ("DELETE", f"{base}/maintenance/mw-whatever", None),
    ]
    for method, path, body in writes:
        response = api.client.request(method, path, json=body, headers=operator)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["required_scope"] == "admin"

    for path in (base, f"{base}/antennas/{antenna['id']}", f"{base}/maintenance"):
        assert api.client.get(path, headers=operator).status_code == 200, path
        # reading needs `read`: a key that may only book is refused
        refused = api.client.get(path, headers=api.tenant(("book",)))
        assert refused.status_code == 403
        assert refused.json()["error"]["required_scope"] == "read"


# --- antennas and horizon masks ------------------------------------------------------------------


def test_a_horizon_mask_and_g_over_t_round_trip(api: Api) -> None:
    station = api.station(
        antennas=[{"name": "dish", "horizon_mask": MASK, "g_over_t_db_k": 31.5, "bands": [XBAND]}]
    )
    [antenna] = station["antennas"]
    assert antenna["horizon_mask"] == MASK
    assert antenna["g_over_t_db_k"] == 31.5
    shown = api.client.get(f"/v1/ground-stations/{station['id']}", headers=api.tenant())
    assert shown.json() == station
    one = api.client.get(
        f"/v1/ground-stations/{station['id']}/antennas/{antenna['id']}", headers=api.tenant()
    )
    assert one.status_code == 200
    assert one.json() == antenna
    plain = api.station()["antennas"][0]
    assert plain["horizon_mask"] is None and plain["g_over_t_db_k"] is None


@pytest.mark.parametrize(
    ("mask", "field", "expected"),
    [
        ({**MASK, "elevation_deg": [5, 3, 95, 4]}, "horizon_mask.elevation_deg", "[0, 90]"),
        ({**MASK, "elevation_deg": [5, -0.5, 8, 4]}, "horizon_mask.elevation_deg", "[0, 90]"),
        ({**MASK, "azimuth_deg": [0, 90, 180, 360]}, "horizon_mask.azimuth_deg", "[0, 360)"),
        ({**MASK, "azimuth_deg": [0, 180, 90, 270]}, "horizon_mask.azimuth_deg", "increasing"),
        ({**MASK, "elevation_deg": [5, 3, 8]}, "horizon_mask", "as many elevations"),
    ],
)
def test_invalid_masks_are_422_naming_the_field(
    api: Api, mask: dict[str, Any], field: str, expected: str
) -> None:
    body = {"name": "masked", "latitude_deg": 10, "longitude_deg": 10}
    body["antennas"] = [{"name": "ok"}, {"name": "bad", "horizon_mask": mask}]
    response = api.client.post("/v1/ground-stations", json=body, headers=api.admin)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == f"antennas.1.{field}"
    assert expected in error["expected"]
    assert error["message"].startswith(f"antennas.1.{field}: got ")

    # the same mask on an antenna added later is named from the antenna's own body
    station = api.station()
    added = api.client.post(
        f"/v1/ground-stations/{station['id']}/antennas",
        json={"name": "bad", "horizon_mask": mask},
        headers=api.admin,
    )
    assert added.status_code == 422
    assert added.json()["error"]["field"] == field
    # nothing was written
    shown = api.client.get(f"/v1/ground-stations/{station['id']}", headers=api.admin).json()
    assert [a["name"] for a in shown["antennas"]] == ["dish-1", "dish-2"]


def test_an_empty_mask_is_a_validation_error(api: Api) -> None:
    station = api.station()
    response = api.client.post(
        f"/v1/ground-stations/{station['id']}/antennas",
        json={"name": "bad", "horizon_mask": {"azimuth_deg": [], "elevation_deg": []}},
        headers=api.admin,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "horizon_mask", "azimuth_deg"]


def test_admins_add_antennas_once(api: Api) -> None:
    station = api.station()
    url = f"/v1/ground-stations/{station['id']}/antennas"
    body = {"name": "dish-3", "g_over_t_db_k": 28.0, "bands": [XBAND], "horizon_mask": MASK}
    key = {"Idempotency-Key": "antenna-dish-3", **api.admin}
    first = api.client.post(url, json=body, headers=key)
    assert first.status_code == 201, first.text
    antenna = first.json()
    assert antenna["id"].startswith("ant-")
    assert {k: antenna[k] for k in body} == body
    again = api.client.post(url, json=body, headers=key)
    assert again.status_code == 201 and again.json() == antenna

    reader = api.tenant(("read",))
    assert api.client.get(f"{url}/{antenna['id']}", headers=reader).json() == antenna
    shown = api.client.get(f"/v1/ground-stations/{station['id']}", headers=reader).json()
    assert [a["name"] for a in shown["antennas"]] == ["dish-1", "dish-2", "dish-3"]
    assert _audit_actions(api, antenna["id"]) == [("antenna.created", _key_id(api))]

    taken = api.client.post(url, json={"name": "dish-1"}, headers=api.admin)
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "name_taken"
    missing = api.client.post(
        "/v1/ground-stations/gs-nope/antennas", json={"name": "x"}, headers=api.admin
    )
    assert missing.status_code == 404
    other = api.station()
    wrong_station = api.client.get(
        f"/v1/ground-stations/{other['id']}/antennas/{antenna['id']}", headers=reader
    )
    assert wrong_station.status_code == 404
    assert wrong_station.json()["error"]["object_id"] == antenna["id"]


def _key_id(api: Api) -> str:
    keys = api.client.get("/v1/keys", headers=api.admin).json()
    key_id: str = keys[0]["id"]
    return key_id


def test_station_creation_is_idempotent_and_audited(api: Api) -> None:
    body = {
        "name": "idempotent-station",
        "latitude_deg": -72.012,
        "longitude_deg": 2.535,
        "altitude_m": 1270,
        "antennas": [{"name": "a"}],
    }
    headers = {"Idempotency-Key": "station-once", **api.admin}
    first = api.client.post("/v1/ground-stations", json=body, headers=headers)
    again = api.client.post("/v1/ground-stations", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert _audit_actions(api, first.json()["id"]) == [("ground_station.created", _key_id(api))]
    other_body = api.client.post(
        "/v1/ground-stations", json={**body, "name": "another"}, headers=headers
    )
    assert other_body.status_code == 422
    assert other_body.json()["error"]["field"] == "Idempotency-Key"


# --- maintenance windows -------------------------------------------------------------------------


def test_maintenance_windows_are_created_listed_and_deleted(api: Api) -> None:
    station = api.station()
    dish1, dish2 = (a["id"] for a in station["antennas"])
    base = f"/v1/ground-stations/{station['id']}/maintenance"

    one = _maintenance(api, station["id"], antenna_id=dish1, start=at(0), end=at(60), reason="feed")
    assert one.status_code == 201, one.text
    [window] = one.json()["windows"]
    assert window["id"].startswith("mw-")
    assert window == {
        "id": window["id"],
        "station_id": station["id"],
        "antenna_id": dish1,
        "start": iso_z(at(0)),
        "end": iso_z(at(60)),
        "reason": "feed",
    }
    everywhere = _maintenance(api, station["id"], start=at(120), end=at(180))
    assert everywhere.status_code == 201
    wide = everywhere.json()["windows"]
    assert sorted(w["antenna_id"] for w in wide) == sorted([dish1, dish2])

    reader = api.tenant(("read",))

    def listed(**params: Any) -> list[str]:
        query = {k: iso_z(v) if isinstance(v, datetime) else v for k, v in params.items()}
        response = api.client.get(base, params=query, headers=reader)
        assert response.status_code == 200, response.text
        return [w["id"] for w in response.json()]

    assert listed()[0] == window["id"] and len(listed()) == 3
    # half-open windows: touching is not overlapping
    assert listed(end=at(0)) == []
    assert listed(start=at(60), end=at(120)) == []
    assert listed(start=at(59), end=at(121)) == [window["id"], *sorted_by_antenna(wide)]
    assert listed(antenna_id=dish2) == [w["id"] for w in wide if w["antenna_id"] == dish2]

    deleted = api.client.delete(f"{base}/{window['id']}", headers=api.admin)
    assert deleted.status_code == 204
    assert window["id"] not in listed()
    assert api.client.delete(f"{base}/{window['id']}", headers=api.admin).status_code == 404
    other = api.station()
    foreign = api.client.delete(
        f"/v1/ground-stations/{other['id']}/maintenance/{wide[0]['id']}", headers=api.admin
    )
    assert foreign.status_code == 404
    assert wide[0]["id"] in listed()
    assert [a for a, _ in _audit_actions(api, window["id"])] == [
        "maintenance_window.created",
        "maintenance_window.deleted",
    ]


def sorted_by_antenna(windows: list[dict[str, Any]]) -> list[str]:
    return [w["id"] for w in sorted(windows, key=lambda w: (w["antenna_id"], w["id"]))]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"start": at(60), "end": at(0)}, "end"),
        ({"start": at(60), "end": at(60)}, "end"),
    ],
)
def test_reversed_and_empty_windows_are_422(api: Api, fields: dict[str, Any], field: str) -> None:
    station = api.station()
    response = _maintenance(api, station["id"], **fields)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field and error["value"] == iso_z(fields["end"])
    assert iso_z(fields["start"]) in error["expected"]
    listed = api.client.get(
        f"/v1/ground-stations/{station['id']}/maintenance",
        params={"start": iso_z(at(60)), "end": iso_z(at(0))},
        headers=api.admin,
    )
    assert listed.status_code == 422 and listed.json()["error"]["field"] == "end"


def test_unknown_stations_and_antennas_are_404(api: Api) -> None:
    station = api.station()
    other = api.station()
    window = {"start": at(0), "end": at(10)}
    assert _maintenance(api, "gs-nope", **window).status_code == 404
    foreign = _maintenance(api, station["id"], antenna_id=other["antennas"][0]["id"], **window)
    assert foreign.status_code == 404
    assert foreign.json()["error"]["object_type"] == "antenna"
    listed = api.client.get("/v1/ground-stations/gs-nope/maintenance", headers=api.admin)
    assert listed.status_code == 404


def test_a_new_window_lists_the_contacts_it_overlaps_and_cancels_none(api: Api) -> None:
    station = api.station(turnaround_s=0)
    dish1, dish2 = (a["id"] for a in station["antennas"])
    operator = api.tenant()

    def book(antenna: str, aos: float, los: float, **extra: Any) -> dict[str, Any]:
        response = _book(api, operator, antenna, aos=iso_z(at(aos)), los=iso_z(at(los)), **extra)
        assert response.status_code == 201, response.text
        booked: dict[str, Any] = response.json()
        return booked

    # the window will be [at(0), at(60)) on dish 1
    inside = book(dish1, 10, 20, prepass_s=120)
    before = book(dish1, -30, -20, postpass_s=60)
    touching = book(dish1, -10, 0)  # its reservation ends as the window starts: half-open
    pre_pass_only = book(dish1, 62, 70, prepass_s=180)  # the pass is after, its pre-pass inside
    elsewhere = book(dish2, 10, 20)
    cancelled = book(dish1, 30, 40)
    api.client.delete(f"/v1/contacts/{cancelled['id']}", headers=operator)

    created = _maintenance(api, station["id"], antenna_id=dish1, start=at(0), end=at(60))
    assert created.status_code == 201, created.text
    affected = created.json()["affected_contacts"]
    assert [c["id"] for c in affected] == [inside["id"], pre_pass_only["id"]]
    first = affected[0]
    assert first["antenna_id"] == dish1
    assert first["spacecraft_id"] == inside["spacecraft_id"]
    assert first["status"] == "SCHEDULED"
    assert (first["aos"], first["los"]) == (inside["aos"], inside["los"])
    assert first["reserved_start"] == iso_z(at(10) - timedelta(seconds=120))
    assert first["tenant_id"]
    for contact in (inside, before, touching, pre_pass_only, elsewhere):
        shown = api.client.get(f"/v1/contacts/{contact['id']}", headers=operator).json()
        assert shown["status"] == "SCHEDULED" and shown["version"] == contact["version"]

    # a window over the whole station takes the other antenna's contact in as well
    wide = _maintenance(api, station["id"], start=at(0), end=at(60)).json()
    assert {c["id"] for c in wide["affected_contacts"]} == {
        inside["id"],
        pre_pass_only["id"],
        elsewhere["id"],
    }
    [record] = [
        detail
        for detail in _audit_details(api, created.json()["windows"][0]["id"])
        if detail["antenna_id"] == dish1
    ]
    assert record["affected_contact_ids"] == [inside["id"], pre_pass_only["id"]]


def _audit_details(api: Api, object_id: str) -> list[dict[str, Any]]:
    with api.sessions() as session:
        rows = session.scalars(select(AuditRecord).where(AuditRecord.object_id == object_id))
        return [row.detail for row in rows]


def test_booking_inside_a_window_is_refused_until_it_is_deleted(api: Api) -> None:
    station = api.station(turnaround_s=0)
    dish1, dish2 = (a["id"] for a in station["antennas"])
    operator = api.tenant()
    created = _maintenance(api, station["id"], antenna_id=dish1, start=at(0), end=at(60))
    window = created.json()["windows"][0]

    refused = _book(api, operator, dish1, aos=iso_z(at(50)), los=iso_z(at(70)))
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "antenna_unavailable"
    assert error["antenna_id"] == dish1
    assert error["maintenance"] == {"start": iso_z(at(0)), "end": iso_z(at(60))}
    # the pre-pass counts: a pass after the window whose pre-pass reaches into it is refused
    prepass = _book(api, operator, dish1, aos=iso_z(at(61)), los=iso_z(at(70)), prepass_s=120)
    assert prepass.status_code == 409
    # touching the window is fine (half-open), and so is the other antenna
    after = _book(api, operator, dish1, aos=iso_z(at(60)), los=iso_z(at(70)))
    assert after.status_code == 201, after.text
    other = _book(api, operator, dish2, aos=iso_z(at(10)), los=iso_z(at(20)))
    assert other.status_code == 201

    url = f"/v1/ground-stations/{station['id']}/maintenance/{window['id']}"
    assert api.client.delete(url, headers=api.admin).status_code == 204
    again = _book(api, operator, dish1, aos=iso_z(at(10)), los=iso_z(at(20)))
    assert again.status_code == 201, again.text


# --- available contacts around a window ----------------------------------------------------------


def _omm(index: int) -> str:
    elements = demo_fleet()[index]
    return json.dumps(replace(elements, epoch=DAY - timedelta(hours=6)).to_omm())


def _available(api: Api, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    query = {"start": iso_z(DAY), "end": iso_z(DAY + timedelta(days=1)), "max_results": 100}
    response = api.client.get("/v1/contacts/available", params={**query, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_available_contacts_are_cut_around_a_window_and_masks_apply(api: Api) -> None:
    turnaround_s = 60
    flat_20 = {"azimuth_deg": [0], "elevation_deg": [20]}
    receiver = {"g_over_t_db_k": 31.0, "bands": [XBAND], "turnaround_s": turnaround_s}
    station = api.station(
        antennas=[
            {"name": "open", **receiver},
            {"name": "masked", "horizon_mask": flat_20, **receiver},
        ]
    )
    by_name = {a["name"]: a["id"] for a in station["antennas"]}
    open_dish, masked_dish = by_name["open"], by_name["masked"]
    operator = api.tenant()
    craft = api.spacecraft(operator, rf_links=[XBAND_LINK])
    uploaded = api.client.post(
        f"/v1/spacecraft/{craft['id']}/ephemerides",
        json={"text": _omm(0), "format": "json"},
        headers=operator,
    )
    assert uploaded.status_code == 201, uploaded.text
    params = {"station_id": station["id"], "spacecraft_id": craft["id"]}
    before = _available(api, operator, **params)
    open_passes = [i for i in before if i["antenna_id"] == open_dish]
    masked_passes = [i for i in before if i["antenna_id"] == masked_dish]
    # the stored mask reaches the pass engine: fewer passes, none that stays below 20 deg
    assert 0 < len(masked_passes) < len(open_passes)
    assert all(i["max_elevation_deg"] >= 20 for i in masked_passes)

    chosen = max(open_passes, key=_span_s)  # the longest: it still has a part to offer
    cut_at = datetime.fromisoformat(chosen["tca"])
    window = _maintenance(
        api, station["id"], antenna_id=open_dish, start=cut_at, end=cut_at + timedelta(hours=1)
    )
    assert window.status_code == 201
    after = _available(api, operator, **params)
    [trimmed] = [i for i in after if i["antenna_id"] == open_dish and i["aos"] == chosen["aos"]]
    assert trimmed["trimmed"] is True
    assert trimmed["los"] < chosen["los"]
    # the antenna is free again (after its turnaround) before the window starts
    freed = datetime.fromisoformat(trimmed["reserved_end"]) + timedelta(seconds=turnaround_s)
    assert freed <= cut_at
    window_end = cut_at + timedelta(hours=1)
    for item in after:
        if item["antenna_id"] == open_dish:
            start = datetime.fromisoformat(item["reserved_start"])
            end = datetime.fromisoformat(item["reserved_end"]) + timedelta(seconds=turnaround_s)
            assert end <= cut_at or start >= window_end, item
    # the other antenna is untouched
    assert [i for i in after if i["antenna_id"] == masked_dish] == masked_passes

    # a booking of the listed times, inside the window, is refused
    refused = api.client.post(
        "/v1/contacts",
        json={
            "spacecraft_id": craft["id"],
            "antenna_id": open_dish,
            "aos": chosen["aos"],
            "los": chosen["los"],
        },
        headers=operator,
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "antenna_unavailable"

    window_id = window.json()["windows"][0]["id"]
    url = f"/v1/ground-stations/{station['id']}/maintenance/{window_id}"
    assert api.client.delete(url, headers=api.admin).status_code == 204
    assert _available(api, operator, **params) == before


def _span_s(item: dict[str, Any]) -> float:
    return (
        datetime.fromisoformat(item["los"]) - datetime.fromisoformat(item["aos"])
    ).total_seconds()


# --- limits --------------------------------------------------------------------------------------


def test_the_contacts_list_refuses_windows_over_31_days(api: Api) -> None:
    operator = api.tenant()
    start = DAY
    ok = {"start": iso_z(start), "end": iso_z(start + timedelta(days=31))}
    assert api.client.get("/v1/contacts", params=ok, headers=operator).status_code == 200
    too_long = start + timedelta(days=31, seconds=1)
    response = api.client.get(
        "/v1/contacts",
        params={"start": iso_z(start), "end": iso_z(too_long)},
        headers=operator,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "window_end"
    assert error["value"] == iso_z(too_long)
    assert "at most 31 days" in error["expected"]
    reversed_ = api.client.get(
        "/v1/contacts",
        params={"start": iso_z(start), "end": iso_z(start - timedelta(hours=1))},
        headers=operator,
    )
    assert reversed_.status_code == 422
    assert reversed_.json()["error"]["field"] == "window_end"
    # one side alone is not a window: paging bounds the answer
    one_sided = api.client.get("/v1/contacts", params={"start": iso_z(start)}, headers=operator)
    assert one_sided.status_code == 200


def test_openapi_documents_413_and_429_on_every_operation(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    operations = [(path, method, op) for path, item in paths.items() for method, op in item.items()]
    assert len(operations) > 10
    for path, method, operation in operations:
        responses = operation["responses"]
        assert {"413", "429"} <= set(responses), (method, path)
        header = responses["429"]["headers"]["Retry-After"]
        assert header["schema"]["type"] == "integer"
    network = paths["/v1/ground-stations/{station_id}/maintenance"]
    assert set(network) == {"get", "post"}
    assert "/v1/ground-stations/{station_id}/maintenance/{window_id}" in paths
    assert "/v1/ground-stations/{station_id}/antennas/{antenna_id}" in paths


def test_the_documented_429_and_413_are_what_the_api_sends(api: Api) -> None:
    limits = api.client.app.state.limits  # type: ignore[attr-defined]
    saved = (limits.rate_per_s, limits.burst, limits.max_body_bytes)
    station = api.station()
    url = f"/v1/ground-stations/{station['id']}/maintenance"
    try:
        limits.max_body_bytes = 64
        big = {"start": iso_z(at(0)), "end": iso_z(at(1)), "reason": "x" * 100}
        too_large = api.client.post(url, json=big, headers=api.admin)
        assert too_large.status_code == 413
        assert too_large.json()["error"]["code"] == "payload_too_large"
        limits.rate_per_s, limits.burst = 0.5, 1.0
        limits.reset()
        reader = api.tenant(("read",))
        assert api.client.get(url, headers=reader).status_code == 200
        limited = api.client.get(url, headers=reader)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
    finally:
        limits.rate_per_s, limits.burst, limits.max_body_bytes = saved
        limits.reset()


def test_a_window_racing_bookings_lists_every_contact_that_got_in(api: Api) -> None:
    """Bookings and a window at once: each booking either lands before the window (and is
    listed) or after it (and is refused); none is booked inside the window unlisted."""
    station = api.station(turnaround_s=0)
    dish = station["antennas"][0]["id"]
    operator = api.tenant()
    crafts = [api.spacecraft(operator)["id"] for _ in range(12)]
    limits = api.client.app.state.limits  # type: ignore[attr-defined]
    saved = (limits.rate_per_s, limits.burst)
    limits.rate_per_s = limits.burst = 1e9
    barrier = threading.Barrier(len(crafts) + 1)

    def book(slot: int) -> Any:
        body = {
            "spacecraft_id": crafts[slot],
            "antenna_id": dish,
            "aos": iso_z(at(5 * slot)),
            "los": iso_z(at(5 * slot + 4)),
        }
        barrier.wait()
        return api.client.post("/v1/contacts", json=body, headers=operator)

    def close_antenna() -> Any:
        barrier.wait()
        return _maintenance(api, station["id"], antenna_id=dish, start=at(0), end=at(60))

    try:
        with ThreadPoolExecutor(max_workers=len(crafts) + 1) as pool:
            bookings = [pool.submit(book, slot) for slot in range(len(crafts))]
            window = pool.submit(close_antenna).result()
            answers = [future.result() for future in bookings]
    finally:
        limits.rate_per_s, limits.burst = saved
    assert window.status_code == 201, window.text
    assert {answer.status_code for answer in answers} <= {201, 409}
    booked = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    refused = [answer.json()["error"]["code"] for answer in answers if answer.status_code == 409]
    assert set(refused) <= {"antenna_unavailable"}
    assert {c["id"] for c in window.json()["affected_contacts"]} == booked

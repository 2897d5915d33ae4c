"""``POST /v1/spacecraft/{id}/ephemerides`` re-predicts booked contacts, on SQLite and PostgreSQL.

Contacts are booked on the passes Skyfield predicts from the first element
set; later uploads keep them (``fits``), delay the satellite by about a
minute (``shifted``, with Skyfield's new times) or put it on an orbit that
never reaches the station (``lost``). Only the uploading spacecraft's
SCHEDULED contacts that have not begun are checked, and only when the
upload becomes the ephemeris in use; nothing about the bookings changes but
their ``prediction``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api_fixtures import Api, api_for
from db_fixtures import NOW
from groundlink.adapters.db.models import AuditRecord, Contact, Spacecraft
from groundlink.contacts.conflicts import iso_z
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.ingest import demo_fleet
from groundlink.services.lifecycle import StatusAdvancer
from groundlink.services.reprediction import FIT_TOLERANCE_S
from skyfield_passes import ReferencePass, expected_fit, skyfield_passes

START = NOW + timedelta(days=1)
SITE = (78.23, 15.39, 500.0)  # the fixtures' station (Svalbard)
MIN_ELEVATION_DEG = 5.0
REFERENCE_TOLERANCE_S = 0.5
BOOKED = 3


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def _elements(**changes: Any) -> OrbitalElements:
    """EO-SSO-036 of the demo fleet, with its epoch just before the test day."""
    return replace(demo_fleet()[0], epoch=START - timedelta(hours=6), **changes)


OLD = _elements()
LATE = replace(OLD, mean_anomaly=OLD.mean_anomaly - 4.0)  # passes about 64 s later
EQUATORIAL = replace(OLD, inclination=10.0)  # never above Svalbard's horizon


def _reference(timescale: Any, elements: OrbitalElements) -> list[ReferencePass]:
    end = START + timedelta(days=1)
    return skyfield_passes(timescale, elements, SITE, START, end, MIN_ELEVATION_DEG)


class Fleet:
    """A tenant's spacecraft with ``OLD`` elements and contacts on Skyfield's first passes.

    ``uploads`` are the ephemerides uploaded before the contacts are booked,
    as (elements, extra fields), each becoming the one in use; the last must
    be ``OLD``'s.
    """

    def __init__(
        self,
        api: Api,
        timescale: Any,
        headers: dict[str, str] | None = None,
        uploads: Sequence[tuple[OrbitalElements, dict[str, Any]]] = ((OLD, {}),),
    ) -> None:
        self.api = api
        self.headers = headers or api.tenant()
        self.station = api.station(
            antennas=[
                {"name": "dish-1", "min_elevation_deg": MIN_ELEVATION_DEG},
                {"name": "dish-2", "min_elevation_deg": MIN_ELEVATION_DEG},
            ]
        )
        self.antenna = self.station["antennas"][0]["id"]
        self.craft = api.spacecraft(self.headers)["id"]
        self.ephemeris_ids = []
        for elements, fields in uploads:
            uploaded = self.upload(elements, **fields)
            assert uploaded["in_use"] is True and uploaded["affected_contacts"] == []
            self.ephemeris_ids.append(uploaded["id"])
        assert uploads[-1][0] == OLD
        self.passes = _reference(timescale, OLD)[:BOOKED]
        self.contacts = [self.book(p.aos, p.los) for p in self.passes]

    def upload(self, elements: OrbitalElements, **fields: Any) -> Any:
        body = {"text": json.dumps(elements.to_omm()), "format": "json", **fields}
        path = f"/v1/spacecraft/{self.craft}/ephemerides"
        response = self.api.client.post(path, json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def book(self, aos: datetime, los: datetime, antenna: str | None = None) -> Any:
        body = {
            "spacecraft_id": self.craft,
            "antenna_id": antenna or self.antenna,
            "aos": iso_z(aos),
            "los": iso_z(los),
        }
        response = self.api.client.post("/v1/contacts", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def contact(self, contact_id: str) -> Any:
        response = self.api.client.get(f"/v1/contacts/{contact_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


def _seconds(a: str | None, b: datetime) -> float:
    assert a is not None
    return abs((datetime.fromisoformat(a) - b).total_seconds())


def _audited(api: Api, contact_ids: list[str]) -> list[AuditRecord]:
    with api.sessions() as session:
        query = select(AuditRecord).where(
            AuditRecord.action == "contact.prediction_changed",
            AuditRecord.object_id.in_(contact_ids),
        )
        return list(session.scalars(query.order_by(AuditRecord.id)))


def test_the_same_elements_again_keep_every_contact_fitting(api: Api, timescale: Any) -> None:
    fleet = Fleet(api, timescale)
    ids = [c["id"] for c in fleet.contacts]
    uploaded = fleet.upload(OLD)
    assert uploaded["in_use"] is True and uploaded["version"] == 2
    affected = uploaded["affected_contacts"]
    assert [a["id"] for a in affected] == ids
    for item, ref, booked in zip(affected, fleet.passes, fleet.contacts, strict=True):
        assert item["fit"] == "fits"
        assert (item["aos"], item["los"], item["antenna_id"]) == (
            booked["aos"],
            booked["los"],
            fleet.antenna,
        )
        assert _seconds(item["predicted_aos"], ref.aos) < REFERENCE_TOLERANCE_S
        assert _seconds(item["predicted_tca"], ref.tca) < REFERENCE_TOLERANCE_S
        assert _seconds(item["predicted_los"], ref.los) < REFERENCE_TOLERANCE_S
        assert item["predicted_aos"].endswith("Z")

    for booked, item in zip(fleet.contacts, affected, strict=True):
        shown = fleet.contact(booked["id"])
        assert shown["prediction"] == {
            "ephemeris_id": uploaded["id"],
            "checked_at": "2030-01-01T00:00:00Z",
            "fit": "fits",
            "predicted_aos": item["predicted_aos"],
            "predicted_tca": item["predicted_tca"],
            "predicted_los": item["predicted_los"],
        }
        # A flag, not a change: status, times, version and updated_at stay.
        assert {k: v for k, v in shown.items() if k != "prediction"} == {
            k: v for k, v in booked.items() if k != "prediction"
        }
    listed = api.client.get(
        "/v1/contacts", params={"spacecraft_id": fleet.craft}, headers=fleet.headers
    ).json()["items"]
    assert [c["prediction"]["fit"] for c in listed] == ["fits"] * BOOKED

    audits = _audited(api, ids)
    assert [a.object_id for a in audits] == ids
    assert all(a.detail["fit"] == "fits" and a.detail["previous_fit"] is None for a in audits)
    assert all(a.detail["ephemeris_id"] == uploaded["id"] for a in audits)
    events = api.client.get(f"/v1/contacts/{ids[0]}/events", headers=fleet.headers).json()
    assert [e["action"] for e in events["items"]] == [
        "contact.reserved",
        "contact.prediction_changed",
    ]


def test_late_elements_shift_and_a_new_orbit_loses_the_contacts(api: Api, timescale: Any) -> None:
    fleet = Fleet(api, timescale)
    moved = _reference(timescale, LATE)
    shifted = fleet.upload(LATE)["affected_contacts"]
    assert [a["fit"] for a in shifted] == ["shifted"] * BOOKED
    for item, booked in zip(shifted, fleet.contacts, strict=True):
        aos, los = datetime.fromisoformat(booked["aos"]), datetime.fromisoformat(booked["los"])
        fit, ref = expected_fit(aos, los, moved, FIT_TOLERANCE_S)
        assert fit == "shifted" and ref is not None
        assert _seconds(item["predicted_aos"], ref.aos) < REFERENCE_TOLERANCE_S
        assert _seconds(item["predicted_tca"], ref.tca) < REFERENCE_TOLERANCE_S
        assert _seconds(item["predicted_los"], ref.los) < REFERENCE_TOLERANCE_S
        assert 30 < (ref.aos - aos).total_seconds() < 120

    # The operator moves the first contact to the predicted pass, as the flag suggests;
    # the same elements then find it fitting, and the others still shifted.
    first = fleet.contacts[0]
    patch = {"version": first["version"]}
    patch |= {k: shifted[0][f"predicted_{k}"] for k in ("aos", "tca", "los")}
    response = api.client.patch(f"/v1/contacts/{first['id']}", json=patch, headers=fleet.headers)
    assert response.status_code == 200, response.text
    assert response.json()["prediction"] is None  # it spoke of the old times
    again = fleet.upload(LATE)["affected_contacts"]
    assert [a["fit"] for a in again] == ["fits"] + ["shifted"] * (BOOKED - 1)

    assert _reference(timescale, EQUATORIAL) == []
    lost = fleet.upload(EQUATORIAL)["affected_contacts"]
    assert [a["fit"] for a in lost] == ["lost"] * BOOKED
    assert all(a["predicted_aos"] is a["predicted_tca"] is a["predicted_los"] is None for a in lost)
    for booked in fleet.contacts:
        shown = fleet.contact(booked["id"])
        assert shown["status"] == "SCHEDULED"
        assert shown["prediction"]["fit"] == "lost"
    audits = _audited(api, [fleet.contacts[1]["id"]])
    assert [(a.detail["previous_fit"], a.detail["fit"]) for a in audits] == [
        (None, "shifted"),
        ("shifted", "shifted"),
        ("shifted", "lost"),
    ]


def test_an_upload_that_is_not_in_use_checks_nothing(api: Api, timescale: Any) -> None:
    fleet = Fleet(api, timescale)
    checked = fleet.upload(OLD)
    assert {a["fit"] for a in checked["affected_contacts"]} == {"fits"}
    for fields in ({"priority": 0}, {"enabled": False}):
        ignored = fleet.upload(EQUATORIAL, **fields)
        assert (ignored["in_use"], ignored["affected_contacts"]) == (False, [])
    for booked in fleet.contacts:
        assert fleet.contact(booked["id"])["prediction"]["ephemeris_id"] == checked["id"]
    # A higher priority wins even though it is older than the ignored uploads above.
    winner = fleet.upload(EQUATORIAL, priority=5)
    assert winner["in_use"] is True
    assert {a["fit"] for a in winner["affected_contacts"]} == {"lost"}


def test_only_this_spacecrafts_future_scheduled_contacts_are_checked(
    api: Api, timescale: Any
) -> None:
    fleet = Fleet(api, timescale)
    # The same tenant's other spacecraft and another tenant, with the same orbit and passes.
    sibling = Fleet(api, timescale, headers=fleet.headers)
    stranger = Fleet(api, timescale)
    # A cancelled contact, and one whose pre-pass has begun (its status not yet advanced).
    later = _reference(timescale, OLD)[BOOKED]
    cancelled = fleet.book(later.aos, later.los)
    response = api.client.delete(f"/v1/contacts/{cancelled['id']}", headers=fleet.headers)
    assert response.status_code == 200, response.text
    with api.sessions.begin() as session:
        tenant_id = session.get(Spacecraft, fleet.craft).tenant_id  # type: ignore[union-attr]
        begun = Contact(
            tenant_id=tenant_id,
            spacecraft_id=fleet.craft,
            antenna_id=fleet.station["antennas"][1]["id"],
            profile_snapshot={"prepass_s": 600, "postpass_s": 0},
            status="SCHEDULED",
            aos=NOW + timedelta(minutes=5),
            los=NOW + timedelta(minutes=12),
            reserved_start=NOW - timedelta(minutes=5),
            reserved_end=NOW + timedelta(minutes=12),
            blocked_end=NOW + timedelta(minutes=12),
            created_at=NOW,
            updated_at=NOW,
            version=1,
        )
        session.add(begun)

    affected = fleet.upload(EQUATORIAL)["affected_contacts"]
    assert [a["id"] for a in affected] == [c["id"] for c in fleet.contacts]
    assert {a["fit"] for a in affected} == {"lost"}
    for owner, contact_id in [
        (fleet, cancelled["id"]),
        (fleet, begun.id),
        *[(sibling, c["id"]) for c in sibling.contacts],
        *[(stranger, c["id"]) for c in stranger.contacts],
    ]:
        assert owner.contact(contact_id)["prediction"] is None
    others = [cancelled["id"], begun.id, *(c["id"] for c in sibling.contacts + stranger.contacts)]
    assert _audited(api, others) == []


def test_a_replayed_upload_returns_the_first_answer(api: Api, timescale: Any) -> None:
    fleet = Fleet(api, timescale)
    headers = {**fleet.headers, "Idempotency-Key": f"upload-{fleet.craft}"}
    body = {"text": json.dumps(LATE.to_omm()), "format": "json"}
    path = f"/v1/spacecraft/{fleet.craft}/ephemerides"
    first = api.client.post(path, json=body, headers=headers)
    again = api.client.post(path, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert [a["fit"] for a in first.json()["affected_contacts"]] == ["shifted"] * BOOKED
    versions = api.client.get(path, headers=fleet.headers).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert len(_audited(api, [fleet.contacts[0]["id"]])) == 1


# --- an expiry changes the ephemeris in use ------------------------------------------------------

#: When the expiring ephemerides of the tests below expire: before any booked contact begins.
EXPIRY = NOW + timedelta(hours=1)


class Clock:
    """A clock the test moves: ``now`` until told otherwise."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _predictions(fleet: Fleet) -> list[Any]:
    return [fleet.contact(c["id"])["prediction"] for c in fleet.contacts]


def test_when_the_ephemeris_in_use_expires_the_next_one_rechecks_the_contacts(
    api: Api, timescale: Any
) -> None:
    # LATE is the fallback; OLD takes over until EXPIRY, and the contacts are booked on it.
    expiring = {"priority": 2, "expires_at": iso_z(EXPIRY)}
    fleet = Fleet(api, timescale, uploads=[(LATE, {}), (OLD, expiring)])
    fallback_id = fleet.ephemeris_ids[0]
    later = _reference(timescale, OLD)[BOOKED]
    cancelled = fleet.book(later.aos, later.los)
    assert api.client.delete(f"/v1/contacts/{cancelled['id']}", headers=fleet.headers).is_success
    ids = [c["id"] for c in fleet.contacts]
    clock = Clock()
    advancer = StatusAdvancer(api.sessions, clock, interval_s=60)

    clock.now = EXPIRY - timedelta(minutes=1)
    advancer.run_once()
    assert _predictions(fleet) == [None] * BOOKED  # OLD still in use: nothing to re-check

    clock.now = EXPIRY + timedelta(minutes=1)
    advancer.run_once()
    moved = _reference(timescale, LATE)
    for booked, prediction in zip(fleet.contacts, _predictions(fleet), strict=True):
        aos, los = datetime.fromisoformat(booked["aos"]), datetime.fromisoformat(booked["los"])
        fit, ref = expected_fit(aos, los, moved, FIT_TOLERANCE_S)
        assert ref is not None and prediction["fit"] == fit == "shifted"
        assert prediction["ephemeris_id"] == fallback_id
        assert prediction["checked_at"] == iso_z(clock.now)
        assert _seconds(prediction["predicted_aos"], ref.aos) < REFERENCE_TOLERANCE_S
        assert _seconds(prediction["predicted_tca"], ref.tca) < REFERENCE_TOLERANCE_S
        assert _seconds(prediction["predicted_los"], ref.los) < REFERENCE_TOLERANCE_S
        assert fleet.contact(booked["id"])["version"] == booked["version"]  # a flag only
    assert fleet.contact(cancelled["id"])["prediction"] is None
    audits = _audited(api, [*ids, cancelled["id"]])
    assert [a.object_id for a in audits] == ids
    assert all(a.api_key_id is None and a.detail["previous_fit"] is None for a in audits)

    # Another run, and a restarted advancer (no memory of its last run), find nothing to do.
    clock.now += timedelta(minutes=1)
    advancer.run_once()
    StatusAdvancer(api.sessions, clock, interval_s=60).run_once()
    assert len(_audited(api, ids)) == BOOKED


def test_when_the_last_ephemeris_expires_the_contacts_are_lost_without_one(
    api: Api, timescale: Any
) -> None:
    fleet = Fleet(api, timescale, uploads=[(OLD, {"expires_at": iso_z(EXPIRY)})])
    # A newer upload takes over (and checks the contacts) until an hour after OLD expires.
    last_expiry = EXPIRY + timedelta(hours=1)
    newer = fleet.upload(LATE, expires_at=iso_z(last_expiry))
    assert {a["fit"] for a in newer["affected_contacts"]} == {"shifted"}
    ids = [c["id"] for c in fleet.contacts]
    clock = Clock()
    clock.now = EXPIRY + timedelta(minutes=1)
    # A first run after the expiry (as after a restart): OLD was not in use, nothing changes.
    StatusAdvancer(api.sessions, clock, interval_s=60).run_once()
    assert [p["ephemeris_id"] for p in _predictions(fleet)] == [newer["id"]] * BOOKED
    assert len(_audited(api, ids)) == BOOKED

    clock.now = last_expiry + timedelta(minutes=1)
    StatusAdvancer(api.sessions, clock, interval_s=60).run_once()
    for prediction in _predictions(fleet):
        assert prediction == {
            "ephemeris_id": None,
            "checked_at": iso_z(clock.now),
            "fit": "lost",
            "predicted_aos": None,
            "predicted_tca": None,
            "predicted_los": None,
        }
    audits = _audited(api, ids)
    assert [(a.detail["previous_fit"], a.detail["fit"]) for a in audits[BOOKED:]] == [
        ("shifted", "lost")
    ] * BOOKED
    StatusAdvancer(api.sessions, clock, interval_s=60).run_once()
    assert len(_audited(api, ids)) == 2 * BOOKED

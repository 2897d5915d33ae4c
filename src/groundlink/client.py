"""A small typed client for the groundlink REST API (sync, over httpx).

::

    from groundlink.client import GroundlinkClient

    with GroundlinkClient("http://127.0.0.1:8000", api_key) as api:
        sat = api.create_spacecraft("SENTINEL-2A", norad_id=40697)
        api.add_ephemeris(sat.id, tle_text)
        for contact in api.list_contacts(spacecraft_id=sat.id):
            print(contact.id, contact.status)

Responses are the API's own pydantic models (:mod:`groundlink.api.schemas`),
mission profiles and available contacts included. Every error response
becomes one :class:`ApiError` carrying the status, the envelope's ``code``
and ``message`` (for a 422 in FastAPI's ``detail[]`` shape: the messages of
its items); a server that cannot be reached is an :class:`ApiUnreachable`.
Both are :class:`~groundlink.errors.GroundlinkError`.

Listing contacts iterates every page (``next_token``) for the caller;
``*_page`` methods return one page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from groundlink import __version__
from groundlink.api.schemas import (
    AntennaOut,
    AvailableContactOut,
    AvailableContactPageOut,
    ContactEventsOut,
    ContactOut,
    ContactPageOut,
    EphemerisOut,
    EphemerisUploadOut,
    GroundStationOut,
    KeyCreated,
    KeyOut,
    MaintenanceCreatedOut,
    MaintenanceWindowOut,
    MissionProfileOut,
    ScheduleOut,
    SpacecraftOut,
    UsageOut,
)
from groundlink.contacts.conflicts import iso_z
from groundlink.errors import GroundlinkError

#: Where ``groundlink up`` serves the API.
DEFAULT_API_URL = "http://127.0.0.1:8000"
#: Seconds to wait for the server (connect, read, write) before giving up.
DEFAULT_TIMEOUT = 30.0

_M = TypeVar("_M", bound=BaseModel)
JsonObject = dict[str, Any]


class ApiError(GroundlinkError):
    """An error response of the API: ``status``, ``code``, ``message`` and the whole body.

    ``code`` is the envelope's (``not_found``, ``contact_conflict``, ...), or
    ``invalid_input`` for a 422 in FastAPI's ``detail[]`` shape.
    """

    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """The error that ``response`` (a 4xx or 5xx) describes."""
        try:
            body: Any = response.json()
        except ValueError:
            text = response.text.strip() or response.reason_phrase
            return cls(response.status_code, "error", text[:500], None)
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict) and "message" in error:
                return cls(
                    response.status_code,
                    str(error.get("code", "error")),
                    str(error["message"]),
                    body,
                )
            detail = body.get("detail")
            if isinstance(detail, list) and detail:
                messages = [
                    str(item.get("msg", item)) if isinstance(item, dict) else str(item)
                    for item in detail
                ]
                return cls(response.status_code, "invalid_input", "; ".join(messages), body)
            if isinstance(detail, str):
                return cls(response.status_code, "error", detail, body)
        return cls(response.status_code, "error", str(body)[:500], body)


class ApiUnreachable(GroundlinkError):
    """The API could not be reached (refused, timed out, bad URL)."""


#: One page of available contacts (``items``, ``next_token``, ``skipped``): the API's model.
AvailablePage = AvailableContactPageOut


def _time(value: datetime | str) -> str:
    return iso_z(value) if isinstance(value, datetime) else value


def _without_none(values: Mapping[str, Any]) -> JsonObject:
    return {key: value for key, value in values.items() if value is not None}


class GroundlinkClient:
    """The groundlink API at ``base_url`` with ``api_key`` (``Authorization: Bearer``).

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:8000`` (``/v1`` is added here).
        api_key: the key; ``None`` sends none (every route but the docs then answers 401).
        transport: an httpx transport, for tests (e.g. an in-process app).
        timeout: seconds before a request is given up.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        api_key: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        headers = {"User-Agent": f"groundlink-client/{__version__}"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url + "/v1",
            headers=headers,
            transport=transport,
            timeout=timeout,
        )

    # --- plumbing --------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> GroundlinkClient:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one request; raise :class:`ApiError` for an error status."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        query = None if params is None else _without_none(params)
        try:
            response = self._http.request(method, path, json=json, params=query, headers=headers)
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise ApiUnreachable(
                f"cannot reach the groundlink API at {self.base_url}: {reason}"
            ) from error
        if response.is_error:
            raise ApiError.from_response(response)
        return response

    def _one(self, model: type[_M], method: str, path: str, **kwargs: Any) -> _M:
        return model.model_validate(self.request(method, path, **kwargs).json())

    def _many(self, model: type[_M], path: str, **kwargs: Any) -> list[_M]:
        adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
        items: list[_M] = adapter.validate_python(self.request("GET", path, **kwargs).json())
        return items

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return None if response.status_code == 204 or not response.content else response.json()

    # --- keys ------------------------------------------------------------------------------------

    def create_key(self, name: str, scopes: Sequence[str] = ("read",)) -> KeyCreated:
        """A new key of the caller's tenant; ``.key`` holds the whole key, shown this once."""
        return self._one(KeyCreated, "POST", "/keys", json={"name": name, "scopes": list(scopes)})

    def list_keys(self) -> list[KeyOut]:
        """The tenant's keys, revoked ones included (no secrets)."""
        return self._many(KeyOut, "/keys")

    def revoke_key(self, key_id: str) -> KeyOut:
        """Revoke a key; it is refused from now on."""
        return self._one(KeyOut, "DELETE", f"/keys/{key_id}")

    # --- spacecraft ------------------------------------------------------------------------------

    def create_spacecraft(
        self,
        name: str,
        *,
        norad_id: int | None = None,
        max_simultaneous_contacts: int = 1,
        rf_links: Iterable[Mapping[str, Any]] = (),
        idempotency_key: str | None = None,
    ) -> SpacecraftOut:
        """Register a spacecraft (with RF links as the API's ``rf_links`` objects)."""
        body = {
            "name": name,
            "norad_id": norad_id,
            "max_simultaneous_contacts": max_simultaneous_contacts,
            "rf_links": [dict(link) for link in rf_links],
        }
        return self._one(
            SpacecraftOut, "POST", "/spacecraft", json=body, idempotency_key=idempotency_key
        )

    def list_spacecraft(self) -> list[SpacecraftOut]:
        """The tenant's spacecraft, oldest first."""
        return self._many(SpacecraftOut, "/spacecraft")

    def get_spacecraft(self, spacecraft_id: str) -> SpacecraftOut:
        """One spacecraft."""
        return self._one(SpacecraftOut, "GET", f"/spacecraft/{spacecraft_id}")

    def update_spacecraft(self, spacecraft_id: str, **changes: Any) -> SpacecraftOut:
        """Change the fields given (``name``, ``norad_id``, ``max_simultaneous_contacts``, ...)."""
        return self._one(SpacecraftOut, "PATCH", f"/spacecraft/{spacecraft_id}", json=changes)

    def delete_spacecraft(self, spacecraft_id: str) -> None:
        """Delete a spacecraft without active contacts (409 otherwise)."""
        self.request("DELETE", f"/spacecraft/{spacecraft_id}")

    def add_ephemeris(
        self,
        spacecraft_id: str,
        text: str,
        *,
        format: str | None = None,
        priority: int = 1,
        enabled: bool = True,
        expires_at: datetime | str | None = None,
        idempotency_key: str | None = None,
    ) -> EphemerisUploadOut:
        """Upload one element set (TLE or OMM text) as the spacecraft's next ephemeris.

        If it becomes the ephemeris in use, ``affected_contacts`` says how each
        booked contact of the spacecraft fits its passes (``fits``,
        ``shifted`` with the predicted times, or ``lost``).
        """
        body = _without_none(
            {
                "text": text,
                "format": format,
                "priority": priority,
                "enabled": enabled,
                "expires_at": None if expires_at is None else _time(expires_at),
            }
        )
        return self._one(
            EphemerisUploadOut,
            "POST",
            f"/spacecraft/{spacecraft_id}/ephemerides",
            json=body,
            idempotency_key=idempotency_key,
        )

    def list_ephemerides(self, spacecraft_id: str) -> list[EphemerisOut]:
        """Every ephemeris version of the spacecraft, newest first."""
        return self._many(EphemerisOut, f"/spacecraft/{spacecraft_id}/ephemerides")

    # --- ground stations -------------------------------------------------------------------------

    def list_ground_stations(self) -> list[GroundStationOut]:
        """Every station of the network with its antennas."""
        return self._many(GroundStationOut, "/ground-stations")

    def create_ground_station(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> GroundStationOut:
        """Add a station with its antennas (``admin`` scope), from its API fields."""
        return self._one(
            GroundStationOut,
            "POST",
            "/ground-stations",
            json=dict(body),
            idempotency_key=idempotency_key,
        )

    def get_ground_station(self, station_id: str) -> GroundStationOut:
        """One station with its antennas."""
        return self._one(GroundStationOut, "GET", f"/ground-stations/{station_id}")

    def add_antenna(
        self, station_id: str, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> AntennaOut:
        """Add an antenna to a station (``admin`` scope), from its API fields."""
        return self._one(
            AntennaOut,
            "POST",
            f"/ground-stations/{station_id}/antennas",
            json=dict(body),
            idempotency_key=idempotency_key,
        )

    def get_antenna(self, station_id: str, antenna_id: str) -> AntennaOut:
        """One antenna of a station."""
        return self._one(AntennaOut, "GET", f"/ground-stations/{station_id}/antennas/{antenna_id}")

    def add_maintenance(
        self,
        station_id: str,
        start: datetime | str,
        end: datetime | str,
        *,
        antenna_id: str | None = None,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> MaintenanceCreatedOut:
        """Take an antenna (or, without ``antenna_id``, every antenna of the station) out of
        service over ``[start, end)`` (``admin`` scope).

        Booked contacts in the way are not cancelled: they come back in
        ``affected_contacts``.
        """
        body = _without_none(
            {"antenna_id": antenna_id, "start": _time(start), "end": _time(end), "reason": reason}
        )
        return self._one(
            MaintenanceCreatedOut,
            "POST",
            f"/ground-stations/{station_id}/maintenance",
            json=body,
            idempotency_key=idempotency_key,
        )

    def list_maintenance(
        self,
        station_id: str,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        antenna_id: str | None = None,
    ) -> list[MaintenanceWindowOut]:
        """The station's maintenance windows overlapping ``[start, end)``, by start time."""
        params = {
            "start": None if start is None else _time(start),
            "end": None if end is None else _time(end),
            "antenna_id": antenna_id,
        }
        return self._many(
            MaintenanceWindowOut, f"/ground-stations/{station_id}/maintenance", params=params
        )

    def delete_maintenance(self, station_id: str, window_id: str) -> None:
        """Delete a maintenance window (``admin`` scope)."""
        self.request("DELETE", f"/ground-stations/{station_id}/maintenance/{window_id}")

    # --- mission profiles ------------------------------------------------------------------------

    def create_mission_profile(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> MissionProfileOut:
        """Create a mission profile from its API fields (``MissionProfileCreate``)."""
        return self._one(
            MissionProfileOut,
            "POST",
            "/mission-profiles",
            json=dict(body),
            idempotency_key=idempotency_key,
        )

    def list_mission_profiles(self) -> list[MissionProfileOut]:
        """The tenant's mission profiles, oldest first."""
        return self._many(MissionProfileOut, "/mission-profiles")

    def get_mission_profile(self, profile_id: str) -> MissionProfileOut:
        """One mission profile."""
        return self._one(MissionProfileOut, "GET", f"/mission-profiles/{profile_id}")

    def delete_mission_profile(self, profile_id: str) -> None:
        """Delete a mission profile."""
        self.request("DELETE", f"/mission-profiles/{profile_id}")

    # --- available contacts ----------------------------------------------------------------------

    def available_contacts_page(
        self,
        start: datetime | str,
        end: datetime | str,
        *,
        spacecraft_id: str | Sequence[str] | None = None,
        mission_profile_id: str | None = None,
        station_id: str | Sequence[str] | None = None,
        sort_by: str | None = None,
        descending: bool | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> AvailableContactPageOut:
        """One page of the contacts that could be booked in ``[start, end)``."""
        params = {
            "start": _time(start),
            "end": _time(end),
            "spacecraft_id": _many_values(spacecraft_id),
            "mission_profile_id": mission_profile_id,
            "station_id": _many_values(station_id),
            "sort_by": sort_by,
            "descending": None if descending is None else str(descending).lower(),
            "max_results": max_results,
            "next_token": next_token,
        }
        return self._one(AvailableContactPageOut, "GET", "/contacts/available", params=params)

    def available_contacts(
        self,
        start: datetime | str,
        end: datetime | str,
        *,
        spacecraft_id: str | Sequence[str] | None = None,
        mission_profile_id: str | None = None,
        station_id: str | Sequence[str] | None = None,
        sort_by: str | None = None,
        descending: bool | None = None,
        max_results: int | None = None,
    ) -> Iterator[AvailableContactOut]:
        """Every available contact in ``[start, end)``, page after page."""
        token: str | None = None
        while True:
            page = self.available_contacts_page(
                start,
                end,
                spacecraft_id=spacecraft_id,
                mission_profile_id=mission_profile_id,
                station_id=station_id,
                sort_by=sort_by,
                descending=descending,
                max_results=max_results,
                next_token=token,
            )
            yield from page.items
            if not page.next_token:
                return
            token = page.next_token

    # --- contacts --------------------------------------------------------------------------------

    def reserve_contact(
        self,
        spacecraft_id: str,
        antenna_id: str,
        aos: datetime | str,
        los: datetime | str,
        *,
        tca: datetime | str | None = None,
        max_elevation_deg: float | None = None,
        mission_profile_id: str | None = None,
        prepass_s: int | None = None,
        postpass_s: int | None = None,
        idempotency_key: str | None = None,
    ) -> ContactOut:
        """Reserve a pass of a spacecraft on an antenna (409 :class:`ApiError` if taken)."""
        body = _without_none(
            {
                "spacecraft_id": spacecraft_id,
                "antenna_id": antenna_id,
                "aos": _time(aos),
                "los": _time(los),
                "tca": None if tca is None else _time(tca),
                "max_elevation_deg": max_elevation_deg,
                "mission_profile_id": mission_profile_id,
                "prepass_s": prepass_s,
                "postpass_s": postpass_s,
            }
        )
        return self._one(
            ContactOut, "POST", "/contacts", json=body, idempotency_key=idempotency_key
        )

    def list_contacts_page(
        self,
        *,
        status: str | Sequence[str] | None = None,
        spacecraft_id: str | None = None,
        station_id: str | None = None,
        antenna_id: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> ContactPageOut:
        """One page of the tenant's contacts by AOS."""
        params = {
            "status": _many_values(status),
            "spacecraft_id": spacecraft_id,
            "station_id": station_id,
            "antenna_id": antenna_id,
            "start": None if start is None else _time(start),
            "end": None if end is None else _time(end),
            "max_results": max_results,
            "next_token": next_token,
        }
        return self._one(ContactPageOut, "GET", "/contacts", params=params)

    def list_contacts(
        self,
        *,
        status: str | Sequence[str] | None = None,
        spacecraft_id: str | None = None,
        station_id: str | None = None,
        antenna_id: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        max_results: int | None = None,
    ) -> Iterator[ContactOut]:
        """Every contact matching the filters, page after page (``max_results`` a page)."""
        token: str | None = None
        while True:
            page = self.list_contacts_page(
                status=status,
                spacecraft_id=spacecraft_id,
                station_id=station_id,
                antenna_id=antenna_id,
                start=start,
                end=end,
                max_results=max_results,
                next_token=token,
            )
            yield from page.items
            if not page.next_token:
                return
            token = page.next_token

    def get_contact(self, contact_id: str) -> ContactOut:
        """One contact."""
        return self._one(ContactOut, "GET", f"/contacts/{contact_id}")

    def cancel_contact(self, contact_id: str) -> ContactOut:
        """Cancel a contact that has not begun; returns it, CANCELLED."""
        return self._one(ContactOut, "DELETE", f"/contacts/{contact_id}")

    def update_contact(
        self,
        contact_id: str,
        *,
        version: int,
        aos: datetime | str | None = None,
        los: datetime | str | None = None,
        tca: datetime | str | None = None,
        max_elevation_deg: float | None = None,
    ) -> ContactOut:
        """Move a SCHEDULED contact to new times (those left ``None`` are kept).

        ``version`` is the contact's version as you read it: a 409
        ``stale_version`` :class:`ApiError` if it has changed since, 409
        ``locked_for_changes`` past its lock time, 409 ``contact_conflict``
        if the new times are taken.
        """
        body = _without_none(
            {
                "version": version,
                "aos": None if aos is None else _time(aos),
                "los": None if los is None else _time(los),
                "tca": None if tca is None else _time(tca),
                "max_elevation_deg": max_elevation_deg,
            }
        )
        return self._one(ContactOut, "PATCH", f"/contacts/{contact_id}", json=body)

    def contact_events(self, contact_id: str) -> ContactEventsOut:
        """The contact's history (reserved, updated, status changes, cancelled), oldest first."""
        return self._one(ContactEventsOut, "GET", f"/contacts/{contact_id}/events")

    # --- usage -----------------------------------------------------------------------------------

    def usage(self, month: str | None = None) -> UsageOut:
        """The tenant's contact minutes in ``month`` (``YYYY-MM``, UTC; default: this month)."""
        return self._one(UsageOut, "GET", "/usage", params={"month": month})

    # --- network schedules -------------------------------------------------------------------

    def create_schedule(self, spec: Mapping[str, Any]) -> ScheduleOut:
        """Start a planning job (``ScheduleCreate`` as a mapping); returns it, ``queued``."""
        return self._one(ScheduleOut, "POST", "/schedules", json=dict(spec))

    def get_schedule(self, schedule_id: str) -> ScheduleOut:
        """A planning job: status, stage, progress, and its plan once it succeeded."""
        return self._one(ScheduleOut, "GET", f"/schedules/{schedule_id}")

    def wait_schedule(
        self,
        schedule_id: str,
        *,
        poll_s: float = 0.5,
        on_progress: Callable[[ScheduleOut], None] | None = None,
    ) -> ScheduleOut:
        """Poll a planning job until it succeeded or failed; ``on_progress`` sees each poll."""
        while True:
            job = self.get_schedule(schedule_id)
            if on_progress is not None:
                on_progress(job)
            if job.status in ("succeeded", "failed"):
                return job
            time.sleep(poll_s)

    def commit_schedule(self, schedule_id: str) -> ScheduleOut:
        """Book a finished plan; the job with ``commit`` (booked ids, refused contacts)."""
        return self._one(ScheduleOut, "POST", f"/schedules/{schedule_id}/commit")


def _many_values(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    return values or None


__all__ = [
    "DEFAULT_API_URL",
    "ApiError",
    "ApiUnreachable",
    "AvailablePage",
    "GroundlinkClient",
    "JsonObject",
]

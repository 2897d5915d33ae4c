"""``groundlink mission-profiles``: your mission profiles over the API.

::

    groundlink mission-profiles add NAME [--min-elevation-deg E] [--min-viable-contact-duration-s S]
                                    [--prepass-s S] [--postpass-s S] [--autotrack MODE]
                                    [--link DIRECTION[:BAND] ...] [--dataflow-endpoint NAME]
                                    [--dataflow-endpoint-url URL] [--idempotency-key K]
    groundlink mission-profiles list
    groundlink mission-profiles show PROFILE
    groundlink mission-profiles delete PROFILE

A mission profile (AWS's word; Azure: contact profile) says what a contact
must satisfy (minimum elevation, minimum viable duration), how long the
antenna is held around it (pre-pass and post-pass, 0-21600 s), how it tracks
and which links and bands it uses. Options left out take the API's defaults
(0°, 60 s, 120 s, 60 s, ``PREFERRED``). Reading needs the ``read`` scope,
``add`` and ``delete`` the ``book`` scope. The options shared with the other
API commands (``--api-url``, ``--api-key``, ``--output``) and their helpers
come from :mod:`groundlink.cli.resources`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated, Any

import typer

from groundlink.cli.edge import count, rejects_bad_input, say, stdout_console
from groundlink.cli.resources import (
    ApiKey,
    ApiUrl,
    Output,
    OutputOption,
    api_client,
    emit,
    table_of,
    write_json,
)
from groundlink.client import DEFAULT_API_URL
from groundlink.contacts.conflicts import iso_z
from groundlink.errors import InvalidInput

mission_profiles_app = typer.Typer(
    name="mission-profiles",
    help="Your mission profiles: elevation, durations, links (over the API).",
    no_args_is_help=True,
)


class Autotrack(StrEnum):
    """``--autotrack``: AWS's tracking modes."""

    REQUIRED = "REQUIRED"
    PREFERRED = "PREFERRED"
    REMOVED = "REMOVED"


_COLUMNS = (
    "id",
    "name",
    "min el (deg)",
    "min duration (s)",
    "prepass (s)",
    "postpass (s)",
    "autotrack",
    "links",
    "endpoint",
    "created (UTC)",
)
_DIRECTIONS = ("uplink", "downlink")


def _rows(items: Iterable[Any]) -> Iterator[tuple[object, ...]]:
    for profile in items:
        links = ", ".join(
            link.direction + (f" {link.band_name}" if link.band_name else "")
            for link in profile.links
        )
        endpoint = profile.dataflow_endpoint
        where = "" if endpoint is None else endpoint.name
        if endpoint is not None and endpoint.url:
            where += f" ({endpoint.url})"
        yield (
            profile.id,
            profile.name,
            f"{profile.min_elevation_deg:g}",
            f"{profile.min_viable_contact_duration_s:g}",
            profile.prepass_s,
            profile.postpass_s,
            profile.tracking_config.autotrack,
            links or "none",
            where,
            iso_z(profile.created_at),
        )


def parse_link(text: str) -> dict[str, str]:
    """``--link downlink:X`` as the API's link object ``{"direction", "band_name"}``.

    Raises:
        InvalidInput: naming ``--link`` for a direction other than uplink or
            downlink, or an empty band name.
    """
    direction, colon, band = text.partition(":")
    expected = "DIRECTION[:BAND], DIRECTION uplink or downlink, e.g. downlink:X"
    if direction not in _DIRECTIONS or (colon and not band):
        raise InvalidInput("--link", text, expected)
    return {"direction": direction, "band_name": band} if band else {"direction": direction}


@mission_profiles_app.command("add")
@rejects_bad_input
def mission_profiles_add(
    name: Annotated[str, typer.Argument(help="The profile's name (unique among yours).")],
    min_elevation_deg: Annotated[
        float | None,
        typer.Option("--min-elevation-deg", help="Lowest elevation for a contact, degrees."),
    ] = None,
    min_viable_contact_duration_s: Annotated[
        float | None,
        typer.Option("--min-viable-contact-duration-s", help="Shortest useful contact, seconds."),
    ] = None,
    prepass_s: Annotated[
        int | None, typer.Option("--prepass-s", help="Seconds held before AOS (0-21600).")
    ] = None,
    postpass_s: Annotated[
        int | None, typer.Option("--postpass-s", help="Seconds held after LOS (0-21600).")
    ] = None,
    autotrack: Annotated[
        Autotrack | None, typer.Option("--autotrack", help="REQUIRED, PREFERRED or REMOVED.")
    ] = None,
    link: Annotated[
        list[str] | None,
        typer.Option("--link", help="DIRECTION[:BAND], e.g. downlink:X; repeat."),
    ] = None,
    dataflow_endpoint: Annotated[
        str | None, typer.Option("--dataflow-endpoint", help="Where the data goes: a name.")
    ] = None,
    dataflow_endpoint_url: Annotated[
        str | None,
        typer.Option("--dataflow-endpoint-url", help="The endpoint's URL (with its name)."),
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Makes retries safe.")
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Create a mission profile."""
    links = [parse_link(text) for text in link or []]
    if dataflow_endpoint_url is not None and dataflow_endpoint is None:
        raise InvalidInput(
            "--dataflow-endpoint-url", dataflow_endpoint_url, "--dataflow-endpoint NAME with it"
        )
    body: dict[str, Any] = {
        "name": name,
        "min_elevation_deg": min_elevation_deg,
        "min_viable_contact_duration_s": min_viable_contact_duration_s,
        "prepass_s": prepass_s,
        "postpass_s": postpass_s,
    }
    body = {key: value for key, value in body.items() if value is not None}
    if autotrack is not None:
        body["tracking_config"] = {"autotrack": autotrack.value}
    if links:
        body["links"] = links
    if dataflow_endpoint is not None:
        endpoint = {"name": dataflow_endpoint, "url": dataflow_endpoint_url}
        body["dataflow_endpoint"] = {k: v for k, v in endpoint.items() if v is not None}
    with api_client(api_url, api_key) as api:
        profile = api.create_mission_profile(body, idempotency_key=idempotency_key)
    emit(
        output,
        profile,
        table_of(_COLUMNS, _rows([profile])),
        f"created mission profile {profile.id}",
    )


@mission_profiles_app.command("list")
@rejects_bad_input
def mission_profiles_list(
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """List your mission profiles, oldest first."""
    with api_client(api_url, api_key) as api:
        profiles = api.list_mission_profiles()
    emit(
        output,
        profiles,
        table_of(_COLUMNS, _rows(profiles)),
        count(len(profiles), "mission profile"),
    )


@mission_profiles_app.command("show")
@rejects_bad_input
def mission_profiles_show(
    profile_id: Annotated[str, typer.Argument(metavar="PROFILE", help="Mission profile id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one mission profile."""
    with api_client(api_url, api_key) as api:
        profile = api.get_mission_profile(profile_id)
    emit(output, profile, table_of(_COLUMNS, _rows([profile])))


@mission_profiles_app.command("delete")
@rejects_bad_input
def mission_profiles_delete(
    profile_id: Annotated[str, typer.Argument(metavar="PROFILE", help="Mission profile id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a mission profile (contacts booked with it keep their copy of it)."""
    with api_client(api_url, api_key) as api:
        api.delete_mission_profile(profile_id)
    if output is Output.json:
        write_json({"id": profile_id, "deleted": True})
    else:
        say(stdout_console(), f"deleted mission profile {profile_id}")


__all__ = ["mission_profiles_app", "parse_link"]

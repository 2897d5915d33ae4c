"""The API's resources on the command line: spacecraft, contacts and keys.

Every command here talks to a running API over HTTP through
:class:`groundlink.client.GroundlinkClient`::

    groundlink spacecraft add|list|show|update|delete
    groundlink spacecraft ephemeris add SPACECRAFT FILE
    groundlink contacts available|book|list|show|update|events|cancel
    groundlink keys create|list|revoke

Each takes ``--api-url`` (``GROUNDLINK_API_URL``, default
``http://127.0.0.1:8000``), ``--api-key`` (``GROUNDLINK_API_KEY``) and
``--output table|json`` (a Rich table by default; JSON is the API's own
objects). An API error (401, 403, 404, 409, 422) or an unreachable server is
one line ``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich import box
from rich.table import Table

from groundlink.api.schemas import EphemerisUploadOut
from groundlink.cli.edge import count, fail, rejects_bad_input, say, stdout_console
from groundlink.client import DEFAULT_API_URL, GroundlinkClient
from groundlink.contacts.conflicts import iso_z
from groundlink.orbits.elements import parse_utc


class Output(StrEnum):
    """What ``--output`` writes."""

    table = "table"
    json = "json"


ApiUrl = Annotated[
    str,
    typer.Option("--api-url", envvar="GROUNDLINK_API_URL", help="The groundlink API."),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="GROUNDLINK_API_KEY",
        help="API key (GROUNDLINK_API_KEY).",
        show_default=False,
    ),
]
OutputOption = Annotated[Output, typer.Option("--output", "-o", help="table or json.")]


def make_client(api_url: str, api_key: str | None) -> GroundlinkClient:
    """The client the commands use (tests replace this function to reach an in-process app)."""
    return GroundlinkClient(api_url, api_key)


def api_client(api_url: str, api_key: str | None) -> GroundlinkClient:
    if not api_key:
        fail("no API key: pass --api-key or set GROUNDLINK_API_KEY (groundlink up prints one)")
    return make_client(api_url, api_key)


def write_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def table_of(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, column in enumerate(columns):
        # The id (first column) stays whole, on one line; the rest fold rather than lose text.
        table.add_column(column, overflow="fold", no_wrap=i == 0)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    return table


def print_table(table: Table, summary: str | None = None) -> None:
    console = stdout_console()
    console.print(table)
    if summary:
        say(console, summary)


def emit(output: Output, value: Any, table: Table, summary: str | None = None) -> None:
    """A command's result: the API's JSON with ``--output json``, else ``table`` and ``summary``."""
    if output is Output.json:
        write_json(value)
    else:
        print_table(table, summary)


def optional_time(text: str | None, option: str) -> str | None:
    return None if text is None else required_time(text, option)


def required_time(text: str, option: str) -> str:
    return iso_z(parse_utc(text, field=option))


# --- spacecraft ----------------------------------------------------------------------------------

spacecraft_app = typer.Typer(
    name="spacecraft",
    help="Your spacecraft and their ephemerides (over the API).",
    no_args_is_help=True,
)
ephemeris_app = typer.Typer(
    name="ephemeris", help="A spacecraft's ephemerides (TLE or OMM uploads).", no_args_is_help=True
)
spacecraft_app.add_typer(ephemeris_app)

_SPACECRAFT_COLUMNS = ("id", "name", "norad id", "max contacts", "rf links", "created (UTC)")


def _spacecraft_rows(items: Iterable[Any]) -> Iterator[tuple[object, ...]]:
    for sat in items:
        links = ", ".join(
            f"{link.direction} {link.center_frequency_hz / 1e6:g} MHz" for link in sat.rf_links
        )
        yield (
            sat.id,
            sat.name,
            sat.norad_id,
            sat.max_simultaneous_contacts,
            links or "none",
            iso_z(sat.created_at),
        )


@spacecraft_app.command("add")
@rejects_bad_input
def spacecraft_add(
    name: Annotated[str, typer.Argument(help="The spacecraft's name.")],
    norad_id: Annotated[
        int | None, typer.Option("--norad-id", help="NORAD catalog number.")
    ] = None,
    max_simultaneous_contacts: Annotated[
        int, typer.Option("--max-simultaneous-contacts", help="Contacts it can hold at once.")
    ] = 1,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Register a spacecraft."""
    with api_client(api_url, api_key) as api:
        sat = api.create_spacecraft(
            name, norad_id=norad_id, max_simultaneous_contacts=max_simultaneous_contacts
        )
    emit(
        output,
        sat,
        table_of(_SPACECRAFT_COLUMNS, _spacecraft_rows([sat])),
        f"created spacecraft {sat.id}",
    )


@spacecraft_app.command("list")
@rejects_bad_input
def spacecraft_list(
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """List your spacecraft, oldest first."""
    with api_client(api_url, api_key) as api:
        items = api.list_spacecraft()
    emit(
        output,
        items,
        table_of(_SPACECRAFT_COLUMNS, _spacecraft_rows(items)),
        count(len(items), "spacecraft", "spacecraft"),
    )


@spacecraft_app.command("show")
@rejects_bad_input
def spacecraft_show(
    spacecraft_id: Annotated[str, typer.Argument(metavar="SPACECRAFT", help="Spacecraft id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one spacecraft."""
    with api_client(api_url, api_key) as api:
        sat = api.get_spacecraft(spacecraft_id)
    emit(output, sat, table_of(_SPACECRAFT_COLUMNS, _spacecraft_rows([sat])))


@spacecraft_app.command("update")
@rejects_bad_input
def spacecraft_update(
    spacecraft_id: Annotated[str, typer.Argument(metavar="SPACECRAFT", help="Spacecraft id.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    norad_id: Annotated[
        int | None, typer.Option("--norad-id", help="NORAD catalog number.")
    ] = None,
    max_simultaneous_contacts: Annotated[
        int | None,
        typer.Option("--max-simultaneous-contacts", help="Contacts it can hold at once."),
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Change a spacecraft's name, NORAD id or contact limit (the options given)."""
    changes = {
        "name": name,
        "norad_id": norad_id,
        "max_simultaneous_contacts": max_simultaneous_contacts,
    }
    changes = {key: value for key, value in changes.items() if value is not None}
    if not changes:
        fail("nothing to change: give --name, --norad-id or --max-simultaneous-contacts")
    with api_client(api_url, api_key) as api:
        sat = api.update_spacecraft(spacecraft_id, **changes)
    emit(
        output,
        sat,
        table_of(_SPACECRAFT_COLUMNS, _spacecraft_rows([sat])),
        f"updated spacecraft {sat.id}",
    )


@spacecraft_app.command("delete")
@rejects_bad_input
def spacecraft_delete(
    spacecraft_id: Annotated[str, typer.Argument(metavar="SPACECRAFT", help="Spacecraft id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Delete a spacecraft without active contacts (exit code 2 otherwise)."""
    with api_client(api_url, api_key) as api:
        api.delete_spacecraft(spacecraft_id)
    if output is Output.json:
        write_json({"id": spacecraft_id, "deleted": True})
    else:
        say(stdout_console(), f"deleted spacecraft {spacecraft_id}")


_EPHEMERIS_COLUMNS = (
    "id",
    "version",
    "format",
    "epoch (UTC)",
    "priority",
    "enabled",
    "expires (UTC)",
)


@ephemeris_app.command("add")
@rejects_bad_input
def ephemeris_add(
    spacecraft_id: Annotated[str, typer.Argument(metavar="SPACECRAFT", help="Spacecraft id.")],
    file: Annotated[Path, typer.Argument(help="One element set: TLE (2 or 3 lines) or OMM.")],
    format: Annotated[
        str | None,
        typer.Option("--format", help="tle, json, csv, xml or kvn (detected when left out)."),
    ] = None,
    priority: Annotated[int, typer.Option("--priority", help="Higher wins.")] = 1,
    enabled: Annotated[bool, typer.Option("--enabled/--disabled", help="Use it.")] = True,
    expires_at: Annotated[
        str | None, typer.Option("--expires-at", help="ISO-8601 time after which it is unused.")
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Upload the element set in FILE as the spacecraft's next ephemeris."""
    text = file.read_text(encoding="utf-8")
    expires = optional_time(expires_at, "--expires-at")
    with api_client(api_url, api_key) as api:
        ephemeris = api.add_ephemeris(
            spacecraft_id,
            text,
            format=format,
            priority=priority,
            enabled=enabled,
            expires_at=expires,
        )
    if output is Output.json:
        write_json(ephemeris)
        return
    row = (
        ephemeris.id,
        ephemeris.version,
        ephemeris.source_format,
        iso_z(ephemeris.epoch),
        ephemeris.priority,
        "yes" if ephemeris.enabled else "no",
        "" if ephemeris.expires_at is None else iso_z(ephemeris.expires_at),
    )
    print_table(
        table_of(_EPHEMERIS_COLUMNS, [row]),
        f"uploaded version {ephemeris.version} for {spacecraft_id}",
    )
    _print_fits(ephemeris)


_FIT_COLUMNS = (
    "contact",
    "antenna",
    "AOS (UTC)",
    "LOS (UTC)",
    "fit",
    "predicted AOS (UTC)",
    "predicted LOS (UTC)",
)


def _print_fits(ephemeris: EphemerisUploadOut) -> None:
    """How the booked contacts fit the uploaded ephemeris, if it is the one in use."""
    if not ephemeris.in_use:
        say(stdout_console(), "not the ephemeris in use (disabled, or a higher priority one is)")
        return
    affected = ephemeris.affected_contacts
    if not affected:
        say(stdout_console(), "in use; no booked contacts to re-predict")
        return
    rows = [
        (
            a.id,
            a.antenna_id,
            iso_z(a.aos),
            iso_z(a.los),
            a.fit,
            "" if a.predicted_aos is None else iso_z(a.predicted_aos),
            "" if a.predicted_los is None else iso_z(a.predicted_los),
        )
        for a in affected
    ]
    tally = {fit: sum(a.fit == fit for a in affected) for fit in ("fits", "shifted", "lost")}
    print_table(
        table_of(_FIT_COLUMNS, rows),
        f"re-predicted {count(len(affected), 'contact')}: {tally['fits']} fit, "
        f"{tally['shifted']} shifted, {tally['lost']} lost (flagged only: nothing was moved)",
    )


# --- contacts ------------------------------------------------------------------------------------

contacts_app = typer.Typer(
    name="contacts",
    help="Available contacts and your bookings (over the API).",
    no_args_is_help=True,
)

_CONTACT_COLUMNS = (
    "id",
    "status",
    "spacecraft",
    "antenna",
    "AOS (UTC)",
    "LOS (UTC)",
    "max el (deg)",
    "fit",
)


def _contact_rows(items: Iterable[Any]) -> Iterator[tuple[object, ...]]:
    for contact in items:
        yield (
            contact.id,
            contact.status.value,
            contact.spacecraft_id,
            contact.antenna_id,
            iso_z(contact.aos),
            iso_z(contact.los),
            "" if contact.max_elevation_deg is None else f"{contact.max_elevation_deg:.1f}",
            "" if contact.prediction is None else contact.prediction.fit,
        )


_AVAILABLE_COLUMNS = (
    "spacecraft",
    "station",
    "antenna",
    "AOS (UTC)",
    "TCA (UTC)",
    "LOS (UTC)",
    "max el (deg)",
    "volume (GB)",
)


def _available_rows(items: Iterable[Any]) -> Iterator[tuple[object, ...]]:
    for offer in items:
        yield (
            offer.spacecraft_id,
            offer.station_name,
            offer.antenna_name,
            iso_z(offer.aos),
            iso_z(offer.tca),
            iso_z(offer.los),
            f"{offer.max_elevation_deg:.1f}",
            f"{offer.volume_bytes / 1e9:.2f}",
        )


@contacts_app.command("available")
@rejects_bad_input
def contacts_available(
    start: Annotated[str, typer.Option("--start", help="Window start, ISO-8601 (UTC).")],
    end: Annotated[str, typer.Option("--end", help="Window end, ISO-8601 (UTC); ≤ 7 days on.")],
    spacecraft_id: Annotated[
        list[str] | None, typer.Option("--spacecraft-id", help="Only this spacecraft; repeat.")
    ] = None,
    mission_profile_id: Annotated[
        str | None, typer.Option("--mission-profile-id", help="Mission profile to apply.")
    ] = None,
    station_id: Annotated[
        list[str] | None, typer.Option("--station-id", help="Only this station; repeat.")
    ] = None,
    sort_by: Annotated[str | None, typer.Option("--sort-by", help="Field to sort by.")] = None,
    descending: Annotated[bool, typer.Option("--descending", help="Largest first.")] = False,
    max_results: Annotated[
        int | None, typer.Option("--max-results", min=1, help="Page size asked of the API.")
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """List the contacts you could book in a window (every page)."""
    begin = required_time(start, "--start")
    finish = required_time(end, "--end")
    with api_client(api_url, api_key) as api:
        items = list(
            api.available_contacts(
                begin,
                finish,
                spacecraft_id=spacecraft_id or None,
                mission_profile_id=mission_profile_id,
                station_id=station_id or None,
                sort_by=sort_by,
                descending=descending or None,
                max_results=max_results,
            )
        )
    if output is Output.json:
        write_json(items)
        return
    print_table(
        table_of(_AVAILABLE_COLUMNS, _available_rows(items)), count(len(items), "available contact")
    )


@contacts_app.command("book")
@rejects_bad_input
def contacts_book(
    spacecraft_id: Annotated[str, typer.Option("--spacecraft-id", help="Spacecraft id.")],
    antenna_id: Annotated[str, typer.Option("--antenna-id", help="Antenna id.")],
    aos: Annotated[str, typer.Option("--aos", help="Acquisition of signal, ISO-8601 (UTC).")],
    los: Annotated[str, typer.Option("--los", help="Loss of signal, ISO-8601 (UTC).")],
    tca: Annotated[str | None, typer.Option("--tca", help="Closest approach (UTC).")] = None,
    max_elevation_deg: Annotated[
        float | None, typer.Option("--max-elevation-deg", help="Highest elevation, degrees.")
    ] = None,
    mission_profile_id: Annotated[
        str | None, typer.Option("--mission-profile-id", help="Mission profile to snapshot.")
    ] = None,
    prepass_s: Annotated[
        int | None, typer.Option("--prepass-s", help="Seconds before AOS.")
    ] = None,
    postpass_s: Annotated[
        int | None, typer.Option("--postpass-s", help="Seconds after LOS.")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Makes retries safe.")
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Reserve a contact (exit code 2 with the conflict when it is taken)."""
    with api_client(api_url, api_key) as api:
        contact = api.reserve_contact(
            spacecraft_id,
            antenna_id,
            required_time(aos, "--aos"),
            required_time(los, "--los"),
            tca=optional_time(tca, "--tca"),
            max_elevation_deg=max_elevation_deg,
            mission_profile_id=mission_profile_id,
            prepass_s=prepass_s,
            postpass_s=postpass_s,
            idempotency_key=idempotency_key,
        )
    emit(
        output,
        contact,
        table_of(_CONTACT_COLUMNS, _contact_rows([contact])),
        f"booked contact {contact.id}",
    )


@contacts_app.command("list")
@rejects_bad_input
def contacts_list(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only this status; repeat.")
    ] = None,
    spacecraft_id: Annotated[
        str | None, typer.Option("--spacecraft-id", help="Only this spacecraft.")
    ] = None,
    station_id: Annotated[
        str | None, typer.Option("--station-id", help="Only this station.")
    ] = None,
    antenna_id: Annotated[
        str | None, typer.Option("--antenna-id", help="Only this antenna.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="Passes ending after (UTC).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Passes starting before (UTC).")] = None,
    max_results: Annotated[
        int | None,
        typer.Option("--max-results", min=1, max=100, help="Page size asked of the API."),
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """List your contacts by AOS (every page)."""
    with api_client(api_url, api_key) as api:
        items = list(
            api.list_contacts(
                status=status or None,
                spacecraft_id=spacecraft_id,
                station_id=station_id,
                antenna_id=antenna_id,
                start=optional_time(start, "--start"),
                end=optional_time(end, "--end"),
                max_results=max_results,
            )
        )
    emit(
        output,
        items,
        table_of(_CONTACT_COLUMNS, _contact_rows(items)),
        count(len(items), "contact"),
    )


@contacts_app.command("show")
@rejects_bad_input
def contacts_show(
    contact_id: Annotated[str, typer.Argument(metavar="CONTACT", help="Contact id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one contact."""
    with api_client(api_url, api_key) as api:
        contact = api.get_contact(contact_id)
    emit(output, contact, table_of(_CONTACT_COLUMNS, _contact_rows([contact])))


@contacts_app.command("cancel")
@rejects_bad_input
def contacts_cancel(
    contact_id: Annotated[str, typer.Argument(metavar="CONTACT", help="Contact id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Cancel a contact that has not begun."""
    with api_client(api_url, api_key) as api:
        contact = api.cancel_contact(contact_id)
    emit(
        output,
        contact,
        table_of(_CONTACT_COLUMNS, _contact_rows([contact])),
        f"cancelled contact {contact.id}",
    )


@contacts_app.command("update")
@rejects_bad_input
def contacts_update(
    contact_id: Annotated[str, typer.Argument(metavar="CONTACT", help="Contact id.")],
    aos: Annotated[str | None, typer.Option("--aos", help="New AOS, ISO-8601 (UTC).")] = None,
    los: Annotated[str | None, typer.Option("--los", help="New LOS, ISO-8601 (UTC).")] = None,
    tca: Annotated[str | None, typer.Option("--tca", help="New closest approach (UTC).")] = None,
    max_elevation_deg: Annotated[
        float | None, typer.Option("--max-elevation-deg", help="Highest elevation, degrees.")
    ] = None,
    version: Annotated[
        int | None,
        typer.Option("--version", help="The version you read (default: the current one)."),
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Move a SCHEDULED contact to new times, until its lock time (15 min before start)."""
    new_aos, new_los, new_tca = (
        optional_time(aos, "--aos"),
        optional_time(los, "--los"),
        optional_time(tca, "--tca"),
    )
    with api_client(api_url, api_key) as api:
        expected = api.get_contact(contact_id).version if version is None else version
        contact = api.update_contact(
            contact_id,
            version=expected,
            aos=new_aos,
            los=new_los,
            tca=new_tca,
            max_elevation_deg=max_elevation_deg,
        )
    emit(
        output,
        contact,
        table_of(_CONTACT_COLUMNS, _contact_rows([contact])),
        f"updated contact {contact.id} (version {contact.version})",
    )


def _event_note(detail: dict[str, object]) -> str:
    """What a history line adds: when a phase began, or which times an update moved."""
    if "effective_at" in detail:
        return f"since {detail['effective_at']}"
    before, after = detail.get("before"), detail.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        moved = [f"{k} → {after[k]}" for k in ("aos", "los") if before[k] != after[k]]
        return ", ".join(moved)
    return ""


@contacts_app.command("events")
@rejects_bad_input
def contacts_events(
    contact_id: Annotated[str, typer.Argument(metavar="CONTACT", help="Contact id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Show a contact's history: reserved, updated, status changes, cancelled (oldest first)."""
    with api_client(api_url, api_key) as api:
        events = api.contact_events(contact_id)
    if output is Output.json:
        write_json(events.model_dump(mode="json", by_alias=True)["items"])
        return
    rows = [
        (
            iso_z(event.at),
            event.action.removeprefix("contact.").replace("_", " "),
            "" if event.from_status is None else event.from_status.value,
            "" if event.to_status is None else event.to_status.value,
            event.api_key_id or "(system)",
            _event_note(event.detail),
        )
        for event in events.items
    ]
    columns = ("at (UTC)", "event", "from", "to", "api key", "note")
    print_table(table_of(columns, rows), f"{count(len(rows), 'event')} of contact {contact_id}")


# --- keys ----------------------------------------------------------------------------------------

keys_app = typer.Typer(
    name="keys", help="Your tenant's API keys (over the API).", no_args_is_help=True
)

_KEY_COLUMNS = ("id", "name", "prefix", "scopes", "created (UTC)", "revoked (UTC)")


def _key_rows(items: Iterable[Any]) -> Iterator[tuple[object, ...]]:
    for key in items:
        yield (
            key.id,
            key.name,
            key.prefix,
            ",".join(key.scopes),
            iso_z(key.created_at),
            "" if key.revoked_at is None else iso_z(key.revoked_at),
        )


@keys_app.command("create")
@rejects_bad_input
def keys_create(
    name: Annotated[str, typer.Argument(help="A name for the key.")],
    scopes: Annotated[
        list[str] | None,
        typer.Option("--scopes", "--scope", help="read, book or admin; repeat. Default: read."),
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Create a key; the whole key is printed once: store it now."""
    with api_client(api_url, api_key) as api:
        created = api.create_key(name, scopes or ["read"])
    if output is Output.json:
        write_json(created)
        return
    print_table(table_of(_KEY_COLUMNS, _key_rows([created])))
    say(stdout_console(), f"key (shown once, store it now): {created.key}")


@keys_app.command("list")
@rejects_bad_input
def keys_list(
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """List your tenant's keys, revoked ones included (no secrets)."""
    with api_client(api_url, api_key) as api:
        keys = api.list_keys()
    emit(output, keys, table_of(_KEY_COLUMNS, _key_rows(keys)), count(len(keys), "key"))


@keys_app.command("revoke")
@rejects_bad_input
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY", help="Key id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Revoke a key: it is refused from now on."""
    with api_client(api_url, api_key) as api:
        key = api.revoke_key(key_id)
    emit(output, key, table_of(_KEY_COLUMNS, _key_rows([key])), f"revoked key {key.id}")


__all__ = ["contacts_app", "keys_app", "make_client", "spacecraft_app"]

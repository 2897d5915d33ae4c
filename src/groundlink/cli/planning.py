"""``groundlink schedule plan|repair|show|explain|commit``: the network scheduler of a running API.

::

    groundlink schedule plan --requests needs.yaml --hours 48 --time-limit 20
    groundlink schedule explain sch-…
    groundlink schedule commit sch-…
    groundlink schedule repair --requests needs.yaml --hours 48

``--requests`` is a YAML or JSON file: either a list of requests, or a
mapping with ``requests`` and any other field of ``POST /v1/schedules``
(``mission_profile_id``, ``station_ids``, ``fairness``, ...). Each request
names a spacecraft and exactly one of ``contacts_per_day``,
``seconds_per_day`` or ``bytes_per_day``, e.g.::

    requests:
      - {spacecraft_id: sc-…, contacts_per_day: 4, min_duration_s: 360, priority: 3}
      - {spacecraft_id: sc-…, bytes_per_day: 2.0e11, priority: 1}

The window, time limit, method and ``--commit`` come from the options.
While the job runs a progress bar on stderr shows its stage; the summary
gives value, bound and gap, each tenant's share and the unserved requests.

``repair`` re-plans the contacts booked in the window for the same requests
(after a maintenance window or an ephemeris update), changing as few as
possible: the summary lists each contact moved, dropped or added, and those
left as they are with why; ``commit`` then applies the changes and says
which were done and which refused. Explanations name spacecraft and
antennas by their names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from groundlink.api.schemas import BookedContactOut, PlannedContactOut, ScheduleOut
from groundlink.cli.edge import (
    count,
    fail,
    rejects_bad_input,
    say,
    stderr_console,
    stdout_console,
    utc_now,
    window_length,
    window_start,
)
from groundlink.cli.resources import (
    ApiKey,
    ApiUrl,
    Output,
    OutputOption,
    api_client,
    print_table,
    table_of,
    write_json,
)
from groundlink.client import DEFAULT_API_URL, GroundlinkClient
from groundlink.contacts.conflicts import iso_z
from groundlink.errors import InvalidInput

#: Planned contacts the table shows; ``--output json`` has them all.
CONTACTS_SHOWN = 12
_CONTACT_COLUMNS = ("#", "request", "spacecraft", "antenna", "AOS (UTC)", "LOS (UTC)", "min")
_SHARE_COLUMNS = ("tenant", "value", "asked", "share", "fair share", "ratio")
_UNSERVED_COLUMNS = ("request", "spacecraft", "served", "asked", "why")
_CHANGE_COLUMNS = ("change", "contact", "spacecraft", "antenna", "AOS (UTC)", "LOS (UTC)", "was")
#: A platform id in a sentence, e.g. ``sc-16ce…`` or ``ant-3362…``.
_PLATFORM_ID = re.compile(r"\b[a-z]+-[0-9a-f]{8,}\b")


RequestsOption = Annotated[
    Path, typer.Option("--requests", help="YAML/JSON file of requests (see docs).")
]
StartOption = Annotated[
    str | None, typer.Option("--start", help="Window start, UTC (default: now).")
]
HoursOption = Annotated[float, typer.Option("--hours", help="Window length, at most 168.")]
TimeLimitOption = Annotated[
    float, typer.Option("--time-limit", help="Solver seconds, at most 600.")
]


def read_requests(path: Path) -> dict[str, Any]:
    """The body fields in a requests file (YAML or JSON): ``{"requests": [...], ...}``.

    Raises:
        InvalidInput: naming the file when it is neither a list nor a mapping with ``requests``.
    """
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InvalidInput(
            str(path), "unreadable YAML/JSON", f"a requests file ({error})"
        ) from None
    if isinstance(loaded, list):
        return {"requests": loaded}
    if isinstance(loaded, dict) and isinstance(loaded.get("requests"), list):
        return loaded
    raise InvalidInput(
        str(path), type(loaded).__name__, "a list of requests, or a mapping with 'requests'"
    )


def _wait(api: GroundlinkClient, job: ScheduleOut) -> ScheduleOut:
    console = stderr_console()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("queued", total=1.0)

        def show(polled: ScheduleOut) -> None:
            bar.update(task, completed=polled.progress, description=polled.stage or polled.status)

        return api.wait_schedule(job.id, poll_s=0.25, on_progress=show)


def _names(api: GroundlinkClient) -> dict[str, str]:
    """Names by id: the caller's spacecraft, stations, and antennas as station/antenna."""
    names = {craft.id: craft.name for craft in api.list_spacecraft()}
    for station in api.list_ground_stations():
        names[station.id] = station.name
        names |= {antenna.id: f"{station.name}/{antenna.name}" for antenna in station.antennas}
    return names


def named(text: str, names: dict[str, str]) -> str:
    """``text`` with every platform id that ``names`` knows replaced by its name."""
    return _PLATFORM_ID.sub(lambda found: names.get(found.group(), found.group()), text)


def _summary(job: ScheduleOut, names: dict[str, str]) -> None:
    if job.status == "failed":
        fail(f"schedule {job.id} failed: {job.error}")
    plan = job.plan
    if plan is None:
        print_table(
            table_of(
                ("id", "status", "stage", "progress"),
                [(job.id, job.status, job.stage, f"{job.progress:.0%}")],
            )
        )
        return
    if plan.repair is None:
        _contacts(job, names)
    else:
        _repair(job, names)
    shares = [
        (
            s.tenant_id,
            f"{s.value:,.2f}",
            f"{s.requested_value:,.2f}",
            f"{s.share:.1%}",
            f"{s.fair_share:.1%}",
            f"{s.ratio:.2f}",
        )
        for s in plan.shares
    ]
    print_table(table_of(_SHARE_COLUMNS, shares))
    _explain(job, names)
    line = f"schedule {job.id}: "
    if plan.repair is not None:
        repair = plan.repair
        line += (
            f"{len(repair.kept)} kept, {len(repair.moved)} moved, {len(repair.dropped)} dropped, "
            f"{len(repair.added)} added ({count(repair.changed, 'change')}, "
            f"{repair.changed_fraction:.0%} of the contacts re-planned), "
        )
    line += (
        f"{count(len(plan.contacts), 'contact')}, value {plan.value:,.2f}, "
        f"bound {plan.bound:,.2f} ({plan.bound_method}), gap {plan.gap:.1%}, "
        f"{plan.solver} in {plan.solve_s:.1f} s"
    )
    if job.commit is not None:
        line += "; committed: " + _committed(job)
    say(stdout_console(), line)


def _committed(job: ScheduleOut) -> str:
    assert job.commit is not None
    if job.commit.changes:
        done = sum(change.done for change in job.commit.changes)
        return f"{count(done, 'change')} done, {len(job.commit.changes) - done} refused"
    return f"{len(job.commit.booked)} booked, {len(job.commit.refused)} refused"


def _contacts(job: ScheduleOut, names: dict[str, str]) -> None:
    assert job.plan is not None
    plan = job.plan
    contacts = [
        (
            i,
            c.request_index,
            names.get(c.spacecraft_id, c.spacecraft_id),
            names.get(c.antenna_id, c.antenna_id),
            iso_z(c.aos),
            iso_z(c.los),
            f"{(c.los - c.aos).total_seconds() / 60:.1f}",
        )
        for i, c in enumerate(plan.contacts[:CONTACTS_SHOWN])
    ]
    more = len(plan.contacts) - len(contacts)
    print_table(
        table_of(_CONTACT_COLUMNS, contacts),
        f"... and {more:,} more (--output json lists them all)" if more > 0 else None,
    )


def _repair(job: ScheduleOut, names: dict[str, str]) -> None:
    """What a repair changes, one row per contact moved, dropped or added; then the untouched."""
    assert job.plan is not None and job.plan.repair is not None
    repair = job.plan.repair

    def row(
        change: str, contact: str, now: BookedContactOut | PlannedContactOut, was: str = ""
    ) -> tuple[str, ...]:
        return (
            change,
            contact,
            names.get(now.spacecraft_id, now.spacecraft_id),
            names.get(now.antenna_id, now.antenna_id),
            iso_z(now.aos),
            iso_z(now.los),
            was,
        )

    rows = [
        row(
            "moved",
            m.before.contact_id,
            m.after,
            f"{names.get(m.before.antenna_id, m.before.antenna_id)} {iso_z(m.before.aos)}",
        )
        for m in repair.moved
    ]
    rows += [row("dropped", c.contact_id, c) for c in repair.dropped]
    rows += [row("added", "(new)", c) for c in repair.added]
    if rows:
        print_table(table_of(_CHANGE_COLUMNS, rows))
    if repair.untouched:
        untouched = [
            (
                u.contact.contact_id,
                names.get(u.contact.spacecraft_id, u.contact.spacecraft_id),
                u.reason,
            )
            for u in repair.untouched
        ]
        print_table(
            table_of(("left as it is", "spacecraft", "why"), untouched),
            count(len(untouched), "contact") + " the repair leaves as booked",
        )


def _amount(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 1e9:,.1f} GB"
    if unit == "seconds":
        return f"{value / 60:,.1f} min"
    return f"{value:,.3g} contacts"


def _explain(job: ScheduleOut, names: dict[str, str]) -> None:
    assert job.plan is not None
    rows = [
        (
            u.request_index,
            names.get(u.spacecraft_id, u.spacecraft_id),
            _amount(u.served, u.unit),
            _amount(u.demand, u.unit),
            f"{u.reason}: {named(u.detail, names)}",
        )
        for u in job.plan.unserved
    ]
    if rows:
        print_table(
            table_of(_UNSERVED_COLUMNS, rows), count(len(rows), "request") + " not fully served"
        )


def register(app: typer.Typer) -> None:
    """Add ``plan``, ``repair``, ``show``, ``explain`` and ``commit`` to ``schedule``."""

    @app.command("plan")
    @rejects_bad_input
    def plan(
        requests: RequestsOption,
        start: StartOption = None,
        hours: HoursOption = 24.0,
        time_limit_s: TimeLimitOption = 10.0,
        method: Annotated[str, typer.Option("--method", help="auto, greedy or cpsat.")] = "auto",
        commit: Annotated[bool, typer.Option("--commit", help="Book the plan when ready.")] = False,
        api_url: ApiUrl = DEFAULT_API_URL,
        api_key: ApiKey = None,
        output: OutputOption = Output.table,
    ) -> None:
        """Plan contacts for your requests over the network (a dry run unless --commit)."""
        body = _body(requests, start, hours, time_limit_s, commit) | {"method": method}
        with api_client(api_url, api_key) as api:
            _show(api, _wait(api, api.create_schedule(body)), output)

    @app.command("repair")
    @rejects_bad_input
    def repair(
        requests: RequestsOption,
        start: StartOption = None,
        hours: HoursOption = 24.0,
        time_limit_s: TimeLimitOption = 10.0,
        commit: Annotated[
            bool, typer.Option("--commit", help="Apply the changes when ready.")
        ] = False,
        api_url: ApiUrl = DEFAULT_API_URL,
        api_key: ApiKey = None,
        output: OutputOption = Output.table,
    ) -> None:
        """Re-plan your booked contacts after an outage, changing as few as possible (a dry run).

        The contacts booked in the window for the requests' spacecraft are the
        previous plan; --commit applies the moves, drops and adds.
        """
        body = _body(requests, start, hours, time_limit_s, commit) | {"mode": "repair"}
        with api_client(api_url, api_key) as api:
            _show(api, _wait(api, api.create_schedule(body)), output)

    @app.command("show")
    @rejects_bad_input
    def show(
        schedule_id: Annotated[str, typer.Argument(metavar="SCHEDULE", help="Schedule id.")],
        api_url: ApiUrl = DEFAULT_API_URL,
        api_key: ApiKey = None,
        output: OutputOption = Output.table,
    ) -> None:
        """Show a planning job: its progress, or its plan."""
        with api_client(api_url, api_key) as api:
            _show(api, api.get_schedule(schedule_id), output)

    @app.command("explain")
    @rejects_bad_input
    def explain(
        schedule_id: Annotated[str, typer.Argument(metavar="SCHEDULE", help="Schedule id.")],
        api_url: ApiUrl = DEFAULT_API_URL,
        api_key: ApiKey = None,
        output: OutputOption = Output.table,
    ) -> None:
        """Why each request of a plan was not fully served."""
        with api_client(api_url, api_key) as api:
            job = api.get_schedule(schedule_id)
            names = _names(api) if output is Output.table else {}
        if job.plan is None:
            fail(f"schedule {job.id} has no plan yet ({job.status})")
        if output is Output.json:
            write_json([u.model_dump(mode="json") for u in job.plan.unserved])
        elif job.plan.unserved:
            _explain(job, names)
        else:
            say(stdout_console(), "every request is fully served")

    @app.command("commit")
    @rejects_bad_input
    def commit_(
        schedule_id: Annotated[str, typer.Argument(metavar="SCHEDULE", help="Schedule id.")],
        api_url: ApiUrl = DEFAULT_API_URL,
        api_key: ApiKey = None,
        output: OutputOption = Output.table,
    ) -> None:
        """Book a plan: every contact through the booking service; refusals are listed."""
        with api_client(api_url, api_key) as api:
            job = api.commit_schedule(schedule_id)
        if output is Output.json:
            write_json(job)
            return
        assert job.commit is not None
        if job.commit.changes:
            rows = [
                (
                    change.action,
                    change.contact_id or "",
                    change.new_contact_id or "",
                    "done" if change.done else f"refused: {change.code}: {change.message}",
                )
                for change in job.commit.changes
            ]
            print_table(table_of(("change", "contact", "new contact", "result"), rows))
            say(stdout_console(), _committed(job))
            return
        refused = [(r.index, r.code, r.message) for r in job.commit.refused]
        if refused:
            print_table(table_of(("#", "code", "why"), refused))
        print_table(
            table_of(("booked contact",), [(contact_id,) for contact_id in job.commit.booked]),
            _committed(job),
        )


def _body(
    requests: Path, start: str | None, hours: float, time_limit_s: float, commit: bool
) -> dict[str, Any]:
    """The body of ``POST /v1/schedules``: the requests file, the window and the options."""
    body = read_requests(requests)
    begin = window_start(start, utc_now())
    return body | {
        "start": iso_z(begin),
        "end": iso_z(begin + window_length(hours)),
        "time_limit_s": time_limit_s,
        "commit": commit,
    }


def _show(api: GroundlinkClient, job: ScheduleOut, output: Output) -> None:
    if output is Output.json:
        write_json(job)
    else:
        _summary(job, _names(api))


__all__ = ["named", "read_requests", "register"]
